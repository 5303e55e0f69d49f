"""Shared tablets in a real browser: mark a device, switch operator by PIN, idle lock.

The app is served with ``WD_TABLET_IDLE_MINUTES=0.1`` (6 seconds) so that the lock fires
during the test.
"""

import pytest
from sqlmodel import Session, select

from tests.conftest import actor_for
from tests.e2e.conftest import login, screenshot, serve_app
from tests.e2e.seed import engine_for
from work_dispatch.models import AuthEvent, ShopFloorDevice, User, UserSession
from work_dispatch.services import people

pytestmark = pytest.mark.e2e

IDLE_MINUTES = "0.1"


@pytest.fixture(scope="module")
def idle_app(tmp_path_factory):
    tmp_dir = tmp_path_factory.mktemp("idle")
    app = serve_app(tmp_dir, f"sqlite:///{tmp_dir / 'idle.db'}", {"WD_TABLET_IDLE_MINUTES": IDLE_MINUTES})
    yield app
    app.stop()


def _click_until(page, button: str, shown: str) -> None:
    """Click until ``shown`` appears (a click before the page's websocket is live is lost)."""
    for _ in range(20):
        page.click(button)
        try:
            page.wait_for_selector(shown, timeout=1_500)
            return
        except Exception:  # noqa: BLE001 - Playwright's timeout: click again
            continue
    raise AssertionError(f"{shown} never appeared after clicking {button}")


def _set_pin(url: str, username: str, pin: str) -> None:
    engine = engine_for(url)
    with Session(engine) as db:
        user_id = db.exec(select(User.id).where(User.username == username)).one()
        people.set_pin(db, actor_for(db, "admin"), user_id, pin)
    engine.dispose()


def _sessions(url: str, username: str) -> list[tuple]:
    engine = engine_for(url)
    with Session(engine) as db:
        rows = db.exec(
            select(UserSession.revoked_at, UserSession.device_id)
            .join(User, User.id == UserSession.user_id)
            .where(User.username == username)
        ).all()
        logouts = db.exec(
            select(AuthEvent.reason).where(AuthEvent.kind == "logout", AuthEvent.username == username)
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows], logouts


def test_mark_switch_by_pin_and_the_idle_lock(idle_app, browser):
    base, url = idle_app.base_url, idle_app.database_url
    _set_pin(url, "print1", "2468")
    tablet = browser.new_context(viewport={"width": 768, "height": 1024}).new_page()

    # An ordinary browser offers no PIN form; a supervisor marks it from the login page.
    tablet.goto(f"{base}/login")
    tablet.wait_for_selector("#login-submit")
    assert tablet.locator("#login-mode-pin").count() == 0
    _click_until(tablet, "#login-mode-mark", "#device-name")
    tablet.fill("#device-name", "Press hall 2")
    tablet.fill("#mark-username", "super1")
    tablet.fill("#mark-password", "demo1234")
    tablet.click("#mark-submit")
    tablet.wait_for_selector("#device-badge")
    assert "Press hall 2" in tablet.locator("#device-badge").inner_text()

    # Switch operator: username + PIN.
    tablet.fill("#pin-username", "print1")
    tablet.fill("#pin", "2468")
    tablet.click("#pin-submit")
    tablet.wait_for_url(f"{base}/operator", timeout=30_000)
    tablet.wait_for_selector("#my-tasks")
    ((revoked, device_id),) = _sessions(url, "print1")[0]
    assert revoked is None and device_id is not None

    # Taps keep it open; 6 quiet seconds lock it: the login page says why and offers the PIN form.
    for _ in range(4):
        tablet.wait_for_timeout(2_000)
        tablet.mouse.click(5, 300)
    assert tablet.url == f"{base}/operator"
    tablet.wait_for_selector("#idle-locked", timeout=20_000)
    assert "locked=1" in tablet.url
    tablet.wait_for_selector("#pin-submit")
    screenshot(tablet, "tablet_idle_locked")
    ((revoked, _),) = _sessions(url, "print1")[0]
    assert revoked is not None and _sessions(url, "print1")[1] == ["idle lock"]

    # The server enforces the timeout by itself: a page whose lock never fires is ended anyway.
    desk = browser.new_context().new_page()
    login(desk, base, "print2")
    desk.wait_for_url(f"{base}/operator", timeout=30_000)
    desk.wait_for_selector("#my-tasks")
    desk.evaluate("() => clearInterval(window.__wdIdleTimer)")
    desk.wait_for_timeout(8_000)
    desk.reload()
    desk.wait_for_url(f"{base}/login", timeout=30_000)
    ((revoked, device_id),) = _sessions(url, "print2")[0]
    assert revoked is not None and device_id is None
    assert _sessions(url, "print2")[1] == ["idle timeout"]

    engine = engine_for(url)
    with Session(engine) as db:
        assert db.exec(select(ShopFloorDevice.name)).all() == ["Press hall 2"]
    engine.dispose()
