"""Flow production in real browsers: printing hands over 2,000 sheets, die-cutting may start at once.

Two tablets: the printer reports 2,000 good sheets of a 5,000-sheet run on theirs; the die-cutter's
tablet, with no reload, turns its task startable and shows "Available to work: 2,000 of 5,000"
within a second or two of the report.

Screenshot ``flow-handover-diecut-tablet`` lands in artifacts/screenshots/.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from tests.conftest import actor_for
from tests.e2e.conftest import TABLET, login, screenshot
from tests.e2e.seed import approved_order, engine_for, one_person_department, tasks_of
from work_dispatch.models import DefectReason, Task, TaskEvent, WorkOrderProcess
from work_dispatch.services import drafts

pytestmark = pytest.mark.e2e


def _with_transfer_batch(url: str, work_order_process_id: int, batch: int) -> None:
    engine = engine_for(url)
    with Session(engine) as db:
        db.exec(
            update(WorkOrderProcess)
            .where(WorkOrderProcess.id == work_order_process_id)
            .values(transfer_batch=batch)
        )
        db.commit()
    engine.dispose()


def _publish(url: str, order_id: int) -> None:
    engine = engine_for(url)
    with Session(engine) as db:
        drafts.publish_drafts(db, actor_for(db, "super1"), work_order_id=order_id)
    engine.dispose()


def test_die_cutting_can_start_as_soon_as_printing_hands_over_a_batch(served_app, browser):
    url, base = served_app.database_url, served_app.base_url
    printing = one_person_department(url, "FP")
    cutting = one_person_department(url, "FC")
    order_id, _ = approved_order(url, [printing["process"], cutting["process"]], quantity=5000)
    printed, cut = tasks_of(url, order_id)
    _with_transfer_batch(url, cut.work_order_process_id, 2000)
    _publish(url, order_id)

    printer = browser.new_context(viewport=TABLET, has_touch=True, locale="en-US").new_page()
    login(printer, base, printing["username"])
    cutter = browser.new_context(viewport=TABLET, has_touch=True, locale="en-US").new_page()
    login(cutter, base, cutting["username"])
    printer.wait_for_selector(f'.my-task[data-task-id="{printed.id}"]', timeout=20_000)
    cutter.wait_for_selector(f'.my-task[data-task-id="{cut.id}"]', timeout=20_000)
    cut_card = cutter.locator(f'.my-task[data-task-id="{cut.id}"]')
    assert cut_card.locator(".start-button").is_disabled()

    print_card = printer.locator(f'.my-task[data-task-id="{printed.id}"]')
    print_card.locator(".start-button").click()
    print_card.locator(".report-button").wait_for()
    print_card.locator(".report-button").click()
    printer.fill("#report-completed", "1500")
    printer.click("#submit-report")
    card_text = f"""document.querySelector('.my-task[data-task-id="{printed.id}"]')?.innerText"""
    printer.wait_for_function(f"() => {card_text}?.includes('1,500')")
    time.sleep(1.5)
    assert cut_card.locator(".start-button").is_disabled()  # 1,500 < one batch of 2,000

    print_card.locator(".report-button").click()
    printer.fill("#report-completed", "500")
    reported = time.perf_counter()
    printer.click("#submit-report")
    cutter.wait_for_function(
        f"""() => !document.querySelector('.my-task[data-task-id="{cut.id}"] .start-button')?.disabled""",
        timeout=10_000,
    )
    unlocked_s = time.perf_counter() - reported
    assert "Available to work: 2,000 of 5,000" in cut_card.inner_text()
    screenshot(cutter, "flow-handover-diecut-tablet")
    assert unlocked_s < 5.0, f"die-cutting's tablet turned startable {unlocked_s:.2f} s after the report"
    cut_card.locator(".start-button").click()
    cutter.wait_for_function(
        f"""() => document.querySelector('.my-task[data-task-id="{cut.id}"] .report-button') !== null"""
    )


def test_a_report_with_scrap_and_rework_names_its_reasons_on_the_tablet(served_app, browser):
    url, base = served_app.database_url, served_app.base_url
    ids = one_person_department(url, "QS")
    engine = engine_for(url)
    with Session(engine) as db:
        db.add_all(
            [
                DefectReason(process_id=ids["process"], kind="scrap", code="SMUDGE", name="Smudge"),
                DefectReason(process_id=ids["process"], kind="rework", code="SORT", name="Sort out"),
            ]
        )
        db.commit()
    engine.dispose()
    order_id, _ = approved_order(url, [ids["process"]], quantity=100)
    (task,) = tasks_of(url, order_id)
    _publish(url, order_id)
    tablet = browser.new_context(viewport=TABLET, has_touch=True, locale="en-US").new_page()
    login(tablet, base, ids["username"])
    card = tablet.locator(f'.my-task[data-task-id="{task.id}"]')
    card.wait_for(timeout=20_000)
    card.locator(".start-button").click()
    card.locator(".report-button").wait_for()
    card.locator(".report-button").click()
    tablet.fill("#report-completed", "60")
    tablet.fill("#report-defective", "5")
    tablet.click("#submit-report")
    tablet.wait_for_selector("#report-error")
    assert "scrapped" in tablet.inner_text("#report-error")  # scrap without a reason: refused
    tablet.click("#report-scrap-reason")
    tablet.get_by_role("option", name="Smudge").click()
    tablet.fill("#report-rework", "3")
    tablet.click("#report-rework-reason")
    tablet.get_by_role("option", name="Sort out").click()
    screenshot(tablet, "tablet-report-scrap-rework")
    tablet.click("#submit-report")
    card_text = f"""document.querySelector('.my-task[data-task-id="{task.id}"]')?.innerText"""
    tablet.wait_for_function(f"() => {card_text}?.includes('60 / 100')", timeout=10_000)
    engine = engine_for(url)
    with Session(engine) as db:
        reported = db.exec(
            select(TaskEvent).where(TaskEvent.task_id == task.id, TaskEvent.kind == "reported")
        ).one()
        rework = db.exec(select(Task).where(Task.rework_of_task_id == task.id)).one()
    engine.dispose()
    assert (reported.data["defective"], reported.data["scrap_reason"]) == (5, "SMUDGE")
    assert (reported.data["rework"], rework.production_quantity) == (3, 3)
    assert rework.status in ("pending", "assigned")  # published, and dispatched like any task
