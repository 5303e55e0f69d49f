"""An admin onboards an operator, who logs in on a tablet; the admin then ends that session."""

import time

import pytest
from sqlmodel import Session, select

from tests.e2e.conftest import DESKTOP, TABLET, login, screenshot
from tests.e2e.seed import engine_for
from work_dispatch.models import User, UserDepartment, UserSession

pytestmark = pytest.mark.e2e


def _wait_until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def _open_sessions(url: str, username: str) -> int:
    engine = engine_for(url)
    with Session(engine) as db:
        rows = db.exec(
            select(UserSession.id)
            .join(User, User.id == UserSession.user_id)
            .where(User.username == username, UserSession.revoked_at.is_(None))
        ).all()
    engine.dispose()
    return len(rows)


def test_admin_onboards_an_operator_and_ends_their_session(served_app, browser):
    supervisor = browser.new_context(viewport=DESKTOP).new_page()
    login(supervisor, served_app.base_url, "super1")
    supervisor.wait_for_url("**/supervisor")
    assert supervisor.locator('a[href="/supervisor/people"]').count() == 0
    supervisor.goto(f"{served_app.base_url}/supervisor/people")
    supervisor.wait_for_url("**/supervisor")

    page = browser.new_context(viewport=DESKTOP).new_page()
    login(page, served_app.base_url, "admin")
    page.wait_for_url("**/supervisor")
    page.click('a[href="/supervisor/people"]')
    page.wait_for_selector(".person-row")

    page.click("#new-person")
    page.fill("#person-username", "newop")
    page.fill("#person-name", "Nora Newcomer")
    page.fill("#person-password", "short")
    page.click("#save-person")
    page.wait_for_function(
        "() => document.querySelector('.field-error')?.innerText.includes('at least one department')"
    )
    page.get_by_role("checkbox", name="Printing").click()
    page.click("#save-person")
    page.wait_for_function("() => document.querySelector('.field-error')?.innerText.includes('at least 8')")
    page.fill("#person-password", "welcome-2026")
    page.click("#save-person")
    page.wait_for_selector("text=Created newop.")

    engine = engine_for(served_app.database_url)
    with Session(engine) as db:
        user = db.exec(select(User).where(User.username == "newop")).one()
        assert user.role == "operator" and user.is_active and user.display_name == "Nora Newcomer"
        assert len(db.exec(select(UserDepartment).where(UserDepartment.user_id == user.id)).all()) == 1
    engine.dispose()

    tablet = browser.new_context(viewport=TABLET).new_page()
    login(tablet, served_app.base_url, "newop", "welcome-2026")
    tablet.wait_for_url("**/operator")
    tablet.wait_for_selector("#page-title")
    assert "Printing" in tablet.inner_text("body")

    page.fill("#people-search", "newop")
    page.keyboard.press("Enter")
    row = page.locator('.person-row[data-username="newop"]')
    row.wait_for()
    _wait_until(lambda: row.locator("td").nth(4).inner_text().strip().startswith("1"))
    screenshot(page, "people-desktop")
    row.locator(".end-sessions").click()
    page.wait_for_selector("text=1 open session(s) ended.")
    assert _open_sessions(served_app.database_url, "newop") == 0
    # The ended session's tablet is wiped at once, then asks for a login.
    tablet.wait_for_function("() => !document.body.innerText.includes('Nora Newcomer')", timeout=10_000)
    tablet.reload()
    tablet.wait_for_url("**/login")

    # New departments and deactivation reach an open tablet at once, without a reload.
    login(tablet, served_app.base_url, "newop", "welcome-2026")
    tablet.wait_for_function("() => document.body.innerText.includes('Nora Newcomer')")
    row.locator(".edit-person").click()
    page.wait_for_function("() => document.querySelector('#person-username')?.value === 'newop'")
    page.get_by_role("checkbox", name="Printing").click()
    page.get_by_role("checkbox", name="Packing").click()
    page.click("#save-person")
    page.wait_for_selector("text=Saved newop.")
    tablet.wait_for_function(
        "() => document.body.innerText.includes('Packing') && !document.body.innerText.includes('Printing')",
        timeout=10_000,
    )
    row.locator(".edit-person").click()
    page.wait_for_function("() => document.querySelector('#person-username')?.value === 'newop'")
    page.click("#person-active")
    page.click("#save-person")
    page.wait_for_selector("text=Saved newop. 1 open session(s) ended.")
    tablet.wait_for_function("() => !document.body.innerText.includes('Nora Newcomer')", timeout=10_000)
    tablet.reload()
    tablet.wait_for_url("**/login")

    admin_tablet = browser.new_context(viewport=TABLET).new_page()
    login(admin_tablet, served_app.base_url, "admin")
    admin_tablet.wait_for_url("**/supervisor")
    admin_tablet.goto(f"{served_app.base_url}/supervisor/people")
    admin_tablet.wait_for_selector(".person-row")
    screenshot(admin_tablet, "people-tablet")
