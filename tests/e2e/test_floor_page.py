"""The supervisor's "On the floor" page in a real browser.

- The page renders the department cards and is in the navigation; an operator checking in on
  their tablet shows up on the supervisor's open page by a live push (well before the page's
  own minute tick could have noticed).
- An absence is entered through the dialog on the shop's clock; an overlapping one is refused
  with the calendar's message and nothing is written.
- Forged events: an operator and an anonymous client calling the page's handlers change nothing,
  while the same injection from a supervisor's session does reach them.

Screenshots (``floor-*``) land in artifacts/screenshots/.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from tests.e2e.conftest import TABLET, login, screenshot
from tests.e2e.seed import engine_for
from tests.e2e.test_forged_events import _forge, _open_proxied
from work_dispatch.models import Absence, User
from work_dispatch.services.shifts import shop_timezone
from work_dispatch.states.floor import AbsenceState, CalendarState, FloorState

pytestmark = pytest.mark.e2e

DESKTOP_WIDE = {"width": 1440, "height": 900}
LIVE_TIMEOUT_MS = 15_000
"""A push arrives within a second or two; the page's own refresh comes only every 60 s."""

SNAPSHOT_SQL = {
    "shifts": "SELECT id, department_id, name, start_time, end_time, weekdays, overnight, is_active "
    "FROM shift_template ORDER BY id",
    "closures": "SELECT id, department_id, first_day, last_day, reason FROM closure ORDER BY id",
    "absences": "SELECT id, operator_id, start_at, end_at, reason FROM absence ORDER BY id",
    "presence": "SELECT id, operator_id, checked_out_at, checkout_kind FROM presence ORDER BY id",
    "departments": "SELECT id, requires_check_in, shift_end_returns_tasks, shift_end_pauses_tasks, "
    "checkout_grace_minutes FROM department ORDER BY id",
}


def _calendar_snapshot(url: str) -> dict:
    engine = engine_for(url)
    with engine.connect() as connection:
        snapshot = {
            name: [tuple(map(str, row)) for row in connection.execute(text(sql))]
            for name, sql in SNAPSHOT_SQL.items()
        }
    engine.dispose()
    return snapshot


def _user_id(url: str, username: str) -> int:
    engine = engine_for(url)
    with Session(engine) as db:
        user_id = db.exec(select(User.id).where(User.username == username)).one()
    engine.dispose()
    return user_id


def _absences(url: str, operator_id: int) -> list[Absence]:
    engine = engine_for(url)
    with Session(engine, expire_on_commit=False) as db:
        rows = db.exec(select(Absence).where(Absence.operator_id == operator_id)).all()
    engine.dispose()
    return list(rows)


def _open_floor(browser, base_url: str, viewport=DESKTOP_WIDE):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    login(page, base_url, "super1")
    page.wait_for_url("**/supervisor")
    page.click('a[href="/supervisor/floor"]')
    page.wait_for_selector("#floor-departments .floor-department", timeout=30_000)
    return context, page


def test_check_in_shows_up_live_and_absences_are_entered(served_app, browser):
    url, base = served_app.database_url, served_app.base_url
    print1 = _user_id(url, "print1")
    supervisor_context, page = _open_floor(browser, base)
    assert page.inner_text("#page-title") == "On the floor"
    assert page.locator(".floor-department").count() >= 6
    member = f'.floor-member[data-operator="{print1}"]'
    page.wait_for_selector(f'{member}[data-checked-in="no"]')
    checked_in_before = page.locator(".presence-in").count()

    tablet_context = browser.new_context(viewport=TABLET, has_touch=True)
    tablet = tablet_context.new_page()
    login(tablet, base, "print1")
    tablet.wait_for_selector("#check-in", timeout=30_000)
    tablet.click("#check-in")
    tablet.wait_for_selector('#presence[data-checked-in="true"]')

    page.wait_for_selector(f'{member}[data-checked-in="yes"]', timeout=LIVE_TIMEOUT_MS)
    assert "Checked in" in page.inner_text(member)
    assert page.locator(".presence-in").count() == checked_in_before + 1
    screenshot(page, "floor-live-en")

    # An absence through the dialog, on the shop's clock.
    print2 = _user_id(url, "print2")
    page.click("#tab-absences")
    page.click("#add-absence")
    page.click("#absence-operator")
    page.get_by_role("option", name="Olga Ivanova").click()
    page.fill("#absence-start", "2031-05-05T08:00")
    page.fill("#absence-end", "2031-05-06T17:00")
    page.fill("#absence-reason", "Dentist")
    page.click("#save-absence")
    page.wait_for_selector(f'.absence-row[data-operator="{print2}"]')
    rows = _absences(url, print2)
    assert len(rows) == 1 and rows[0].reason == "Dentist"
    zone = shop_timezone()
    assert rows[0].start_at == datetime(2031, 5, 5, 8, tzinfo=zone)
    assert rows[0].end_at == datetime(2031, 5, 6, 17, tzinfo=zone)
    screenshot(page, "floor-absences-en")

    # An overlapping one is refused in the dialog, and nothing is written.
    before = _calendar_snapshot(url)
    page.click("#add-absence")
    page.click("#absence-operator")
    page.get_by_role("option", name="Olga Ivanova").click()
    page.fill("#absence-start", "2031-05-06T12:00")
    page.fill("#absence-end", "2031-05-07T12:00")
    page.click("#save-absence")
    page.wait_for_selector("text=overlaps another one of the same operator")
    assert _calendar_snapshot(url) == before
    page.keyboard.press("Escape")

    # Checked out by the supervisor: the tablet follows.
    page.click("#tab-live")
    page.click(f"{member} .check-out")
    page.wait_for_selector(f'{member}[data-checked-in="no"]', timeout=LIVE_TIMEOUT_MS)
    tablet.wait_for_selector('#presence[data-checked-in="false"]', timeout=LIVE_TIMEOUT_MS)
    tablet_context.close()
    supervisor_context.close()


def _floor_events(print1: int) -> list[tuple[str, dict]]:
    floor_, calendar, absences = (
        FloorState.get_full_name(),
        CalendarState.get_full_name(),
        AbsenceState.get_full_name(),
    )
    return [
        (f"{floor_}.load", {}),
        (f"{floor_}.refresh", {}),
        (f"{floor_}.check_out", {"operator_id": print1}),
        (f"{floor_}.check_out", {"operator_id": "1 OR 1=1"}),
        (f"{calendar}.load", {}),
        (f"{calendar}.set_shift_field", {"field": "department_id", "value": "1"}),
        (f"{calendar}.set_shift_field", {"field": "name", "value": "Forged"}),
        (f"{calendar}.set_shift_field", {"field": "start", "value": "00:00"}),
        (f"{calendar}.set_shift_field", {"field": "end", "value": "01:00"}),
        (f"{calendar}.toggle_weekday", {"day": 0, "on": True}),
        (f"{calendar}.save_shift", {}),
        (f"{calendar}.delete_shift", {}),
        (f"{calendar}.edit_settings", {"department_id": 1}),
        (f"{calendar}.set_flag", {"name": "requires_check_in", "on": True}),
        (f"{calendar}.set_settings_field", {"field": "checkout_grace_minutes", "value": "0"}),
        (f"{calendar}.save_settings", {}),
        (f"{calendar}.new_closure", {}),
        (f"{calendar}.set_closure_field", {"field": "first_day", "value": "2031-01-01"}),
        (f"{calendar}.set_closure_field", {"field": "last_day", "value": "2031-01-02"}),
        (f"{calendar}.save_closure", {}),
        (f"{calendar}.delete_closure", {}),
        (f"{absences}.load", {}),
        (f"{absences}.new_absence", {}),
        (f"{absences}.set_field", {"field": "operator_id", "value": str(print1)}),
        (f"{absences}.set_field", {"field": "start", "value": "2031-01-01T00:00"}),
        (f"{absences}.set_field", {"field": "end", "value": "2031-01-02T00:00"}),
        (f"{absences}.set_field", {"field": "reason", "value": "x" * 100_000}),
        (f"{absences}.save", {}),
        (f"{absences}.delete", {}),
        (f"{absences}.filter_operator", {"value": "' OR 1=1 --"}),
        (f"{absences}.next_page", {}),
    ]


def test_forged_floor_events_from_an_operator_and_from_nobody_change_nothing(served_app, browser):
    url, base = served_app.database_url, served_app.base_url
    print1 = _user_id(url, "print1")

    page, holder = _open_proxied(browser, base)
    login(page, base, "print1")
    page.wait_for_selector("#check-in, #check-out", timeout=30_000)
    if page.locator("#check-in").count():
        page.click("#check-in")  # a presence for the forged check-outs to aim at
    page.wait_for_selector('#presence[data-checked-in="true"]')
    before = _calendar_snapshot(url)
    _forge(page, holder["server"], _floor_events(print1), "/supervisor/floor")
    assert _calendar_snapshot(url) == before

    anonymous, anonymous_holder = _open_proxied(browser, base)
    anonymous.goto(f"{base}/login")
    anonymous.wait_for_selector("#login-submit")
    _forge(anonymous, anonymous_holder["server"], _floor_events(print1), "/login")
    assert _calendar_snapshot(url) == before

    # Control: the same injection from a supervisor's session reaches the handler.
    boss, boss_holder = _open_proxied(browser, base)
    login(boss, base, "super1")
    boss.wait_for_url("**/supervisor")
    _forge(
        boss,
        boss_holder["server"],
        [(f"{FloorState.get_full_name()}.check_out", {"operator_id": print1})],
        "/supervisor",
    )
    after = _calendar_snapshot(url)
    assert after["presence"] != before["presence"] and after["presence"][-1][-1] == "supervisor"
    assert {k: v for k, v in after.items() if k != "presence"} == {
        k: v for k, v in before.items() if k != "presence"
    }
    for opened in (page, anonymous, boss):
        opened.context.close()


def test_the_page_reads_in_chinese_on_a_tablet(served_app, browser):
    context, page = _open_floor(browser, served_app.base_url, TABLET)
    page.click("#locale-switcher .locale-zh-CN")
    page.wait_for_selector("#page-title:has-text('现场在岗')")
    page.wait_for_selector("#tab-live:has-text('在岗情况')")
    assert "已签到" in page.inner_text("#floor-departments")
    page.click("#tab-shifts")
    page.wait_for_selector(".calendar-department")
    assert "添加班次" in page.inner_text(".calendar-department >> nth=0")
    screenshot(page, "floor-shifts-zh-CN-tablet")
    page.click("#locale-switcher .locale-en")
    page.wait_for_selector("#page-title:has-text('On the floor')")
    context.close()
