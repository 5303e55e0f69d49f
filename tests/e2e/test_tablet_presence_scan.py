"""Check-in on the tablet, and scan to open, in a real browser.

- An operator of a department that requires check-in gets no work until they tap Check in;
  then dispatch gives them the waiting task and it appears on the tablet. A second tablet of
  the same operator follows the check-in live (a push). After Check out, new work stays away.
- A traveler code typed into the scan box the way a keyboard-wedge scanner types it (fast
  keys, then Enter) opens the right card with its next action: start, report, claim; codes
  of other people's tasks and hand-typed references get a clear message and change nothing.
- Forged events: a supervisor and an anonymous client calling the new handlers change nothing.

Screenshots (``tablet-presence-*``, ``tablet-scan-*``) land in artifacts/screenshots/.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text, update
from sqlmodel import Session, select

from tests.conftest import actor_for
from tests.e2e.conftest import TABLET, login, screenshot
from tests.e2e.seed import approved_order, engine_for, one_person_department, tasks_of
from tests.e2e.test_forged_events import _forge, _open_proxied, _snapshot
from work_dispatch.models import AssignmentRule, Department, Presence, ShiftTemplate, Task, User
from work_dispatch.services import drafts, travelers
from work_dispatch.services.shifts import shop_timezone
from work_dispatch.states.task_center import TaskCenterState

pytestmark = pytest.mark.e2e

DESKTOP_WIDE = {"width": 1440, "height": 900}


def _require_check_in(url: str, department_id: int) -> None:
    engine = engine_for(url)
    with Session(engine) as db:
        db.exec(update(Department).where(Department.id == department_id).values(requires_check_in=True))
        db.commit()
    engine.dispose()


def _publish(url: str, order_id: int) -> None:
    engine = engine_for(url)
    with Session(engine) as db:
        drafts.publish_drafts(db, actor_for(db, "super1"), work_order_id=order_id)
    engine.dispose()


def _task(url: str, task_id: int) -> Task:
    engine = engine_for(url)
    with Session(engine, expire_on_commit=False) as db:
        task = db.get(Task, task_id)
    engine.dispose()
    return task


def _presences(url: str, operator_id: int) -> list[tuple]:
    engine = engine_for(url)
    with Session(engine) as db:
        rows = db.exec(
            select(Presence.checked_out_at.is_(None), Presence.checkout_kind)
            .where(Presence.operator_id == operator_id)
            .order_by(Presence.id)
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def _reference(url: str, task_id: int) -> str:
    engine = engine_for(url)
    with Session(engine) as db:
        reference = travelers.task_reference(db, task_id)
        db.commit()
    engine.dispose()
    return reference


def _scan(page, code: str) -> None:
    """Type ``code`` into the scan box as a keyboard-wedge scanner does: fast keys, then Enter."""
    page.click("#scan-input")
    page.locator("#scan-input").press_sequentially(code, delay=8)
    page.keyboard.press("Enter")


def test_check_in_brings_work_and_check_out_stops_it(served_app, browser):
    url, base = served_app.database_url, served_app.base_url
    ids = one_person_department(url, "CI")
    _require_check_in(url, ids["department"])
    first_order, _ = approved_order(url, [ids["process"]])
    (first,) = tasks_of(url, first_order)

    context = browser.new_context(viewport=TABLET, has_touch=True, locale="en-US")
    tablet = context.new_page()
    login(tablet, base, ids["username"])
    tablet.wait_for_selector('#presence[data-checked-in="false"]', timeout=30_000)
    assert "no work until you check in" in tablet.inner_text("#presence-needs-check-in")
    # A second tablet of the same operator: it must follow the check-in without a reload.
    other = context.new_page()
    other.goto(f"{base}/operator")
    other.wait_for_selector('#presence[data-checked-in="false"]', timeout=30_000)

    _publish(url, first_order)
    time.sleep(4)  # several dispatch cycles (WD_DISPATCH_INTERVAL_S=1): nobody eligible
    assert _task(url, first.id).assigned_operator_id is None
    assert tablet.locator(f'.my-task[data-task-id="{first.id}"]').count() == 0
    screenshot(tablet, "tablet-presence-not-checked-in-en")

    tablet.tap("#check-in")
    tablet.wait_for_selector('#presence[data-checked-in="true"]')
    assert "On shift since" in tablet.inner_text("#presence-since")
    tablet.wait_for_selector(f'.my-task[data-task-id="{first.id}"]', timeout=20_000)
    assert _task(url, first.id).assigned_operator_id == ids["operator"]
    other.wait_for_selector('#presence[data-checked-in="true"]', timeout=10_000)
    other.wait_for_selector(f'.my-task[data-task-id="{first.id}"]', timeout=10_000)
    screenshot(tablet, "tablet-presence-checked-in-en")

    tablet.tap("#check-out")
    tablet.wait_for_selector('#presence[data-checked-in="false"]')
    other.wait_for_selector('#presence[data-checked-in="false"]', timeout=10_000)
    assert _presences(url, ids["operator"]) == [(False, "manual")]
    second_order, _ = approved_order(url, [ids["process"]])
    (second,) = tasks_of(url, second_order)
    _publish(url, second_order)
    time.sleep(4)
    assert _task(url, second.id).assigned_operator_id is None
    assert tablet.locator(f'.my-task[data-task-id="{second.id}"]').count() == 0

    # Checking in again brings the waiting task too.
    tablet.tap("#check-in")
    tablet.wait_for_selector(f'.my-task[data-task-id="{second.id}"]', timeout=20_000)

    # The department gets a shift that is not running now: the scheduler's shift-end job (every
    # minute) checks the operator out and returns their unstarted work; the tablet follows live.
    _shift_later_today(url, ids["department"])
    tablet.wait_for_selector('#presence[data-checked-in="false"]', timeout=90_000)
    assert _presences(url, ids["operator"])[-1] == (False, "shift_end")
    tablet.wait_for_selector("#my-tasks-empty", timeout=10_000)
    assert tablet.locator("#new-task-banner").count() == 0  # it announced a task that went back
    assert "Your next shift starts" in tablet.inner_text("#presence-next-shift")
    screenshot(tablet, "tablet-presence-off-shift-en")
    tablet.click("#locale-switcher .locale-zh-CN")
    tablet.wait_for_function("() => document.querySelector('#check-in').innerText.includes('签到')")
    screenshot(tablet, "tablet-presence-off-shift-zh")
    tablet.tap("#check-in")  # allowed off shift: the header says so
    tablet.wait_for_selector('#presence[data-checked-in="true"]')
    assert "已签到" in tablet.inner_text("#presence-since")
    screenshot(tablet, "tablet-presence-checked-in-off-shift-zh")
    tablet.click("#locale-switcher .locale-en")
    context.close()


def _shift_later_today(url: str, department_id: int) -> None:
    """A one-hour shift every day, starting six hours from now (shop time): off shift now."""
    start = (datetime.now(shop_timezone()) + timedelta(hours=6)).replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=1)
    engine = engine_for(url)
    with Session(engine) as db:
        db.add(
            ShiftTemplate(
                department_id=department_id,
                name="Later",
                start_time=start.time(),
                end_time=end.time(),
                weekdays=0b1111111,
                overnight=end.time() < start.time(),
            )
        )
        db.commit()
    engine.dispose()


def test_a_scan_opens_the_right_card_with_its_next_action(served_app, browser):
    url, base = served_app.database_url, served_app.base_url
    ids = one_person_department(url, "SC")
    mine_order, _ = approved_order(url, [ids["process"]])
    (mine,) = tasks_of(url, mine_order)
    _publish(url, mine_order)
    engine = engine_for(url)
    with Session(engine) as db:
        db.exec(
            update(AssignmentRule)
            .where(AssignmentRule.process_id == ids["second_process"])
            .values(strategy="pool")
        )
        db.commit()
        someone_else = db.exec(
            select(Task.id)
            .join(User, User.id == Task.assigned_operator_id)
            .where(User.username != ids["username"], Task.status.in_(["assigned", "in_progress"]))
        ).first()
    engine.dispose()
    pool_order, _ = approved_order(url, [ids["second_process"]])
    (pooled,) = tasks_of(url, pool_order)
    _publish(url, pool_order)

    context = browser.new_context(viewport=TABLET, has_touch=True, locale="en-US")
    tablet = context.new_page()
    login(tablet, base, ids["username"])
    tablet.wait_for_selector(f'.my-task[data-task-id="{mine.id}"]', timeout=30_000)
    tablet.wait_for_selector(f'.pool-task[data-task-id="{pooled.id}"]', timeout=30_000)

    # My assigned task: the card opens with Start.
    _scan(tablet, _reference(url, mine.id))
    tablet.wait_for_selector(f'#scan-dialog .scanned-task[data-task-id="{mine.id}"]', timeout=10_000)
    assert tablet.get_attribute("#scan-next", "data-action") == "start"
    assert tablet.input_value("#scan-input") == ""  # emptied for the next scan
    screenshot(tablet, "tablet-scan-start-en")
    tablet.tap("#scan-next")
    tablet.wait_for_selector("#scan-dialog", state="detached")
    deadline = time.monotonic() + 10
    while _task(url, mine.id).status != "in_progress" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _task(url, mine.id).status == "in_progress"

    # In progress now: the scan offers Report, which opens the quantity dialog.
    _scan(tablet, _reference(url, mine.id))
    tablet.wait_for_selector('#scan-next[data-action="report"]', timeout=10_000)
    tablet.tap("#scan-next")
    tablet.wait_for_selector("#report-completed")
    tablet.get_by_role("button", name="Cancel").click()
    tablet.wait_for_selector("#report-completed", state="detached")

    # A task in my department's pool: Claim, and then the same card offers Start.
    _scan(tablet, _reference(url, pooled.id))
    tablet.wait_for_selector(f'#scan-dialog .scanned-task[data-task-id="{pooled.id}"]', timeout=10_000)
    assert tablet.get_attribute("#scan-next", "data-action") == "claim"
    screenshot(tablet, "tablet-scan-claim-en")
    tablet.tap("#scan-next")
    tablet.wait_for_selector('#scan-next[data-action="start"]', timeout=10_000)
    assert _task(url, pooled.id).assigned_operator_id == ids["operator"]
    tablet.tap("#scan-close")
    tablet.wait_for_selector("#scan-dialog", state="detached")

    # Someone else's task, and a reference typed by hand: a clear message, nothing changes.
    before = _task(url, someone_else)
    _scan(tablet, _reference(url, someone_else))
    tablet.wait_for_selector("#scan-error")
    assert f"Task #{someone_else} is not yours" in tablet.inner_text("#scan-error")
    assert tablet.locator("#scan-dialog").count() == 0
    after = _task(url, someone_else)
    assert (after.status, after.assigned_operator_id, after.version) == (
        before.status,
        before.assigned_operator_id,
        before.version,
    )
    _scan(tablet, f"T-{mine.id}")
    tablet.wait_for_function(
        "() => document.querySelector('#scan-error').innerText.includes('not a task code')"
    )
    screenshot(tablet, "tablet-scan-refused-en")

    # The same in Chinese, and on a wide desktop screen.
    tablet.click("#locale-switcher .locale-zh-CN")
    _scan(tablet, _reference(url, pooled.id))
    tablet.wait_for_selector('#scan-next[data-action="start"]', timeout=10_000)
    assert "你的任务" in tablet.inner_text("#scan-dialog")
    screenshot(tablet, "tablet-scan-start-zh")
    tablet.tap("#scan-close")
    tablet.wait_for_selector("#scan-dialog", state="detached")
    screenshot(tablet, "tablet-presence-zh")
    tablet.set_viewport_size(DESKTOP_WIDE)
    screenshot(tablet, "desktop-presence-scan-zh")
    tablet.click("#locale-switcher .locale-en")
    tablet.wait_for_function("() => document.querySelector('#scan-submit').innerText.includes('Open')")
    screenshot(tablet, "desktop-presence-scan-en")
    context.close()


def _with_presence(snapshot: dict, url: str) -> dict:
    engine = engine_for(url)
    with engine.connect() as connection:
        snapshot["presence"] = [
            tuple(map(str, row))
            for row in connection.execute(
                text("SELECT id, operator_id, checked_out_at, checkout_kind FROM presence ORDER BY id")
            )
        ]
    engine.dispose()
    return snapshot


def test_forged_presence_and_scan_events_from_a_supervisor_or_nobody_change_nothing(served_app, browser):
    url, base = served_app.database_url, served_app.base_url
    ids = one_person_department(url, "FG")
    order_id, _ = approved_order(url, [ids["process"]])
    (task,) = tasks_of(url, order_id)
    _publish(url, order_id)
    reference = _reference(url, task.id)
    center = TaskCenterState.get_full_name()
    events = [
        (f"{center}.check_in", {}),
        (f"{center}.check_out", {}),
        (f"{center}.scan", {"form_data": {"code": reference}}),
        (f"{center}.scan_next", {}),
        (f"{center}.scan", {"form_data": {"code": "x" * 200_000}}),
        (f"{center}.scan", {"form_data": {"code": ["WD1"], "other": {"$ne": ""}}}),
        (f"{center}.scan", {"form_data": "WD1:1:AAAA"}),
        (f"{center}.scan_next", {}),
        (f"{center}.scan_dialog_changed", {"is_open": {"$gt": 0}}),
        (f"{center}.close_scan", {}),
        (f"{center}._show_scan", {"code": reference, "result": {}}),
    ]

    supervisor, holder = _open_proxied(browser, base)
    login(supervisor, base, "super1")
    supervisor.wait_for_url("**/supervisor")
    supervisor.wait_for_selector("#page-title")
    before = _with_presence(_snapshot(url), url)
    _forge(supervisor, holder["server"], events, "/operator")
    assert _with_presence(_snapshot(url), url) == before

    anonymous, anon_holder = _open_proxied(browser, base)
    anonymous.goto(f"{base}/login")
    anonymous.wait_for_selector("#login-submit")
    _forge(anonymous, anon_holder["server"], events, "/login")
    assert _with_presence(_snapshot(url), url) == before

    # Control: the operator's own tablet sends the same frames and they do act.
    operator, op_holder = _open_proxied(browser, base)
    login(operator, base, ids["username"])
    operator.wait_for_selector(f'.my-task[data-task-id="{task.id}"]', timeout=30_000)
    _forge(operator, op_holder["server"], events[:4], "/operator")
    after = _with_presence(_snapshot(url), url)
    assert after["presence"] != before["presence"]  # checked in and out
    assert _task(url, task.id).status == "in_progress"  # scanned, then Start
