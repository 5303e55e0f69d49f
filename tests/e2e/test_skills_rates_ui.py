"""A supervisor sets a process's rate and a rule's minimum level; an admin sets an operator's skills."""

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from tests.e2e.conftest import DESKTOP, TABLET, login, screenshot
from tests.e2e.seed import engine_for
from work_dispatch.models import AssignmentRule, Process, Qualification, User

pytestmark = pytest.mark.e2e


def _rate_and_rule(url: str) -> tuple[tuple[int, int], int]:
    engine = engine_for(url)
    with Session(engine) as db:
        offset = db.exec(select(Process).where(Process.code == "OFFSET")).one()
        rule = db.exec(select(AssignmentRule).where(AssignmentRule.process_id == offset.id)).one()
        result = (offset.setup_minutes, offset.units_per_hour), rule.min_level
    engine.dispose()
    return result


def _level(url: str, username: str, process_code: str) -> int | None:
    engine = engine_for(url)
    with Session(engine) as db:
        level = db.exec(
            select(Qualification.level)
            .join(User, User.id == Qualification.operator_id)
            .join(Process, Process.id == Qualification.process_id)
            .where(User.username == username, Process.code == process_code)
        ).first()
    engine.dispose()
    return level


def _restore(url: str, rate: tuple[int, int], min_level: int, level: int | None) -> None:
    """Put back what the test changed: later tests of the session dispatch on the demo shop."""
    engine = engine_for(url)
    with engine.begin() as connection:
        offset = connection.execute(text("SELECT id FROM process WHERE code = 'OFFSET'")).scalar_one()
        print1 = connection.execute(text("SELECT id FROM \"user\" WHERE username = 'print1'")).scalar_one()
        connection.execute(
            text("UPDATE process SET setup_minutes = :s, units_per_hour = :r WHERE id = :p"),
            {"s": rate[0], "r": rate[1], "p": offset},
        )
        connection.execute(
            text("UPDATE assignment_rule SET min_level = :m WHERE process_id = :p"),
            {"m": min_level, "p": offset},
        )
        connection.execute(
            text("DELETE FROM qualification WHERE operator_id = :o AND process_id = :p"),
            {"o": print1, "p": offset},
        )
        if level:
            connection.execute(
                text("INSERT INTO qualification (operator_id, process_id, level) VALUES (:o, :p, :l)"),
                {"o": print1, "p": offset, "l": level},
            )
    engine.dispose()


def test_rates_minimum_levels_and_skills_are_edited_in_the_browser(served_app, browser):
    url = served_app.database_url
    (rate, min_level), level = _rate_and_rule(url), _level(url, "print1", "OFFSET")
    try:
        _edit_everything(served_app, browser)
    finally:
        _restore(url, rate, min_level, level)


def _edit_everything(served_app, browser) -> None:
    from playwright.sync_api import expect

    url = served_app.database_url
    page = browser.new_context(viewport=DESKTOP).new_page()
    login(page, served_app.base_url, "super1")
    page.wait_for_url("**/supervisor")

    # A process's rate: a bad value is refused next to its field, then a good one is listed.
    page.goto(f"{served_app.base_url}/supervisor/catalog")
    page.wait_for_selector(".process-row")
    page.locator('.process-row:has-text("Offset printing") .edit-process').click()
    page.wait_for_function("() => document.querySelector('#process-code')?.value === 'OFFSET'")
    before = _rate_and_rule(url)
    page.fill("#process-setup_minutes", "-5")
    page.click("#save-process")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.field-error')]"
        ".some(e => e.innerText.includes('cannot be negative'))"
    )
    assert _rate_and_rule(url) == before
    page.fill("#process-setup_minutes", "40")
    page.fill("#process-units_per_hour", "2500")
    page.click("#save-process")
    page.wait_for_selector(
        '.process-row:has-text("Offset printing") .process-rate:has-text("2,500/h"):has-text("40 min setup")'
    )
    assert _rate_and_rule(url)[0] == (40, 2500)
    screenshot(page, "skills-catalog-desktop")

    # A rule's minimum level; the strategy picker offers the time-aware strategies.
    page.goto(f"{served_app.base_url}/supervisor/rules")
    page.wait_for_selector("#rule-min-level")
    page.locator("tr", has_text="Offset printing").get_by_role("button", name="Edit").click()
    page.wait_for_function(
        "() => document.querySelector('#rule-process')?.innerText.includes('Offset printing')"
    )
    page.click("#rule-strategy")
    for name in ("Least work (minutes, shifts and skills)", "Due date (most urgent first, earliest finish)"):
        assert page.get_by_role("option", name=name, exact=True).count() == 1
    page.keyboard.press("Escape")
    page.click("#rule-min-level")
    page.get_by_role("option", name="Qualified or better (2)", exact=True).click()
    page.click("#save-rule")
    page.wait_for_selector(
        'tr:has-text("Offset printing") .rule-min-level:has-text("Qualified or better (2)")'
    )
    assert _rate_and_rule(url)[1] == 2
    screenshot(page, "skills-rules-desktop")

    # An admin on a tablet sets print1's level for offset printing on the People page.
    tablet = browser.new_context(viewport=TABLET).new_page()
    login(tablet, served_app.base_url, "admin")
    tablet.wait_for_url("**/supervisor")
    tablet.goto(f"{served_app.base_url}/supervisor/people")
    tablet.wait_for_selector(".person-row")
    tablet.locator('.person-row[data-username="super1"] .edit-person').click()
    tablet.wait_for_function("() => document.querySelector('#person-username')?.value === 'super1'")
    assert tablet.locator("#save-skills").count() == 0  # supervisors have no skills
    tablet.locator('.person-row[data-username="print1"] .edit-person').click()
    tablet.wait_for_selector("#save-skills")
    cell = tablet.locator('.skill-cell[data-process="OFFSET"]')
    current = _level(url, "print1", "OFFSET") or 0
    target = 1 if current == 3 else 3
    assert cell.get_by_role("radio", name=str(current)).get_attribute("aria-checked") == "true"
    cell.get_by_role("radio", name=str(target)).click()
    expect(cell.get_by_role("radio", name=str(target))).to_have_attribute("aria-checked", "true")
    assert (_level(url, "print1", "OFFSET") or 0) == current
    tablet.click("#save-skills")
    tablet.wait_for_selector("text=Saved skills of")
    assert _level(url, "print1", "OFFSET") == target
    tablet.locator("#save-skills").scroll_into_view_if_needed()
    screenshot(tablet, "skills-people-tablet")
