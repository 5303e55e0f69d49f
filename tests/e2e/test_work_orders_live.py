"""The work-order list is live: an order's ETA and at-risk flag change on an open list without a reload.

The served app recomputes the ETAs itself (its ETA job runs a moment after a report) and announces
the work orders whose estimate moved; the list re-reads the page it shows and the row changes in
place. The test only moves the order's due time in the database and works the task on a tablet.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from tests.e2e.conftest import DESKTOP, TABLET, login, screenshot
from tests.e2e.seed import approved_order, engine_for, one_person_department, publish_and_dispatch, tasks_of
from tests.e2e.test_forged_events import _forge, _open_proxied
from work_dispatch.models import Task, WorkOrder
from work_dispatch.states.work_orders import WorkOrdersState

pytestmark = pytest.mark.e2e

LIST = "/supervisor/work-orders"
LIVE_TIMEOUT_MS = 30_000
"""The ETA job runs 2 s after a report; its own interval is 60 s, so a push well before that is live."""


def _set_due(url: str, order_id: int, due: datetime) -> None:
    """Move when the order's tasks are due (what the at-risk flag compares the ETA with); no event."""
    engine = engine_for(url)
    with Session(engine) as db:
        db.exec(update(Task).where(Task.work_order_id == order_id).values(due_at=due))
        db.commit()
    engine.dispose()


def _row(page, order_id: int) -> str:
    return f'.work-order-row[data-work-order-id="{order_id}"]'


def _wait_for_risk(page, order_id: int, flag: str) -> None:
    selector = _row(page, order_id)
    page.wait_for_function(
        f"""() => {{
            const row = document.querySelector('{selector}');
            return row && row.dataset.atRisk === '{flag}' && row.querySelector('.eta')?.innerText.trim();
        }}""",
        timeout=LIVE_TIMEOUT_MS,
    )


def _open_list(browser, base_url: str, viewport: dict):
    page = browser.new_context(viewport=viewport).new_page()
    login(page, base_url, "super1")
    page.wait_for_url("**/supervisor")
    page.goto(f"{base_url}{LIST}")
    page.wait_for_selector("#work-orders-table")
    return page


def test_an_orders_eta_and_at_risk_flag_change_on_the_open_list_without_a_reload(served_app, browser):
    url, base = served_app.database_url, served_app.base_url
    ids = one_person_department(url, "WL")
    order_id, number = approved_order(url, [ids["process"]])
    publish_and_dispatch(url, order_id)
    (task,) = tasks_of(url, order_id)
    assert task.assigned_operator_id == ids["operator"]

    desk = _open_list(browser, base, DESKTOP)
    row = desk.locator(_row(desk, order_id))
    row.wait_for()
    assert number in row.inner_text()
    assert row.get_attribute("data-at-risk") == "no"  # no due time yet: never at risk
    desk.evaluate("window.__sameDocument = true")

    # Due yesterday: once the served app estimates the order, it is late.
    _set_due(url, order_id, datetime.now(UTC) - timedelta(days=1))
    tablet = browser.new_context(viewport=TABLET, has_touch=True).new_page()
    login(tablet, base, ids["username"])
    card = tablet.locator(f'.my-task[data-task-id="{task.id}"]')
    card.wait_for()
    card.locator(".start-button").click()
    card.locator(".report-button").wait_for()

    _wait_for_risk(desk, order_id, "yes")
    assert desk.evaluate("window.__sameDocument") is True, "the list was reloaded"
    assert int(desk.get_attribute("#work-orders-table", "data-pushes") or 0) >= 1
    assert row.locator(".eta.at-risk").count() == 1 and row.locator(".at-risk-flag").count() == 1
    late_eta = row.locator(".eta").inner_text()

    # "At risk only": the late order stays listed, and every listed order is at risk.
    desk.click("#wo-at-risk")
    desk.wait_for_function("() => document.querySelector('#wo-at-risk')?.dataset.state === 'checked'")
    desk.wait_for_function(
        """() => [...document.querySelectorAll('.work-order-row')].every(r => r.dataset.atRisk === 'yes')"""
    )
    row.wait_for()
    screenshot(desk, "work-orders-live-at-risk-desktop")
    wide = _open_list(browser, base, TABLET)
    wide.click("#wo-at-risk")
    wide.wait_for_function("() => document.querySelector('#wo-at-risk')?.dataset.state === 'checked'")
    wide.locator(_row(wide, order_id)).wait_for()
    screenshot(wide, "work-orders-live-at-risk-tablet")
    wide.context.close()

    # Due next year, and 60 of 100 reported: the estimate moves and the order is not late any
    # more, so it leaves the filtered list live.
    _set_due(url, order_id, datetime.now(UTC) + timedelta(days=365))
    card.locator(".report-button").click()
    tablet.fill("#report-completed", "60")
    tablet.click("#submit-report")
    card_selector = f'.my-task[data-task-id="{task.id}"]'
    tablet.wait_for_function(
        f"""() => document.querySelector('{card_selector}')?.innerText.includes('60 / 100')"""
    )
    desk.wait_for_selector(_row(desk, order_id), state="detached", timeout=LIVE_TIMEOUT_MS)
    assert desk.evaluate("window.__sameDocument") is True, "the list was reloaded"

    # Every order again: the row is back, on time, with its moved estimate.
    desk.click("#wo-at-risk")
    _wait_for_risk(desk, order_id, "no")
    assert row.locator(".eta.at-risk").count() == 0 and row.locator(".at-risk-flag").count() == 0
    # 60 % done: the estimate moves earlier (the report's recompute may land a moment after the flag).
    desk.wait_for_function(
        "([selector, late]) => document.querySelector(selector)?.querySelector('.eta')?.innerText !== late",
        arg=[_row(desk, order_id), late_eta],
        timeout=LIVE_TIMEOUT_MS,
    )
    assert desk.evaluate("window.__sameDocument") is True
    desk.context.close()
    tablet.context.close()


def test_a_forged_at_risk_switch_changes_nothing_and_is_refused_cleanly(served_app, browser):
    base = served_app.base_url
    page, holder = _open_proxied(browser, base)
    page.set_viewport_size(DESKTOP)
    login(page, base, "super1")
    page.wait_for_url("**/supervisor")
    page.goto(f"{base}{LIST}")
    page.wait_for_selector(".work-order-row")
    page.evaluate("window.__sameDocument = true")
    shown = page.locator(".work-order-row").evaluate_all("rows => rows.map(r => r.dataset.workOrderId)")
    handler = f"{WorkOrdersState.get_full_name()}.set_at_risk_only"
    junk = ["true", "yes", 1, None, {"$ne": False}, [True] * 50_000, "x" * 100_000]
    _forge(page, holder["server"], [(handler, {"checked": value}) for value in junk], LIST)

    # Each one refused with a message; the switch is off and the same rows are shown.
    page.wait_for_selector("[data-sonner-toast]")
    assert page.locator("#wo-at-risk").get_attribute("data-state") == "unchecked"
    after = page.locator(".work-order-row").evaluate_all("rows => rows.map(r => r.dataset.workOrderId)")
    assert after == shown
    assert page.evaluate("window.__sameDocument") is True

    # Control: the same path with a real boolean does switch the filter.
    _forge(page, holder["server"], [(handler, {"checked": True})], LIST)
    page.wait_for_function("() => document.querySelector('#wo-at-risk')?.dataset.state === 'checked'")
    assert page.evaluate("window.__sameDocument") is True
    page.context.close()


def test_the_work_order_form_shows_transfer_batches_on_the_route(served_app, browser):
    url, base = served_app.database_url, served_app.base_url
    engine = engine_for(url)
    with Session(engine) as db:
        drafts = select(WorkOrder.id).where(WorkOrder.status == "draft").order_by(WorkOrder.id)
        draft = db.exec(drafts).first()
    engine.dispose()
    assert draft is not None, "the demo shop has a draft work order"
    for name, viewport in (("desktop", DESKTOP), ("tablet", TABLET)):
        page = browser.new_context(viewport=viewport).new_page()
        login(page, base, "super1")
        page.wait_for_url("**/supervisor")
        page.goto(f"{base}/supervisor/work-orders/edit?id={draft}")
        page.wait_for_selector(".route-step .transfer-batch")
        batch = page.locator(".route-step .transfer-batch input").first
        batch.fill("25")
        page.wait_for_function(
            "() => document.querySelector('.route-step .transfer-batch input')?.value === '25'"
        )
        screenshot(page, f"work-order-form-transfer-batch-{name}")
        page.context.close()
