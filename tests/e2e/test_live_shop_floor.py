"""Supervisor and operator side by side: publish → auto-dispatch → push; work → board updates; reconnect."""

import time

import pytest

from tests.e2e.conftest import DESKTOP, TABLET, login, screenshot
from tests.e2e.seed import approved_order, one_person_department, publish_and_dispatch, tasks_of

pytestmark = pytest.mark.e2e


def _row_status(page, task_id):
    return page.locator(f'.board-row[data-task-id="{task_id}"] .row-status').inner_text().strip()


def _count(page, status):
    return int(page.locator(f'.status-count[data-status="{status}"] .rt-Badge').inner_text())


def test_publish_dispatch_work_and_reconnect(served_app, browser):
    url = served_app.database_url
    ids = one_person_department(url, "QA")
    order_id, order_number = approved_order(url, [ids["process"], ids["second_process"]])
    first, second = tasks_of(url, order_id)

    tablet = browser.new_context(viewport=TABLET, has_touch=True).new_page()
    login(tablet, served_app.base_url, ids["username"])
    tablet.wait_for_selector("#my-tasks-empty")
    assert tablet.locator("#bell-count").count() == 0

    desk = browser.new_context(viewport=DESKTOP)
    supervisor = desk.new_page()
    login(supervisor, served_app.base_url, "super1")
    supervisor.wait_for_url("**/supervisor")
    supervisor.goto(f"{served_app.base_url}/supervisor/drafts?work_order={order_id}")
    supervisor.wait_for_selector(".publish-order")
    board = desk.new_page()
    board.goto(f"{served_app.base_url}/supervisor/board")
    board.wait_for_selector("#board-table")
    completed_before = _count(board, "completed")
    dashboard = desk.new_page()
    dashboard.goto(f"{served_app.base_url}/supervisor")
    dashboard.wait_for_selector("#task-counts")
    tile = '#task-counts .stat-tile[data-status="completed"] .stat-value'
    completed_tile_before = int(dashboard.inner_text(tile))

    started = time.perf_counter()
    supervisor.click(".publish-order")
    tablet.wait_for_selector(f'.my-task[data-task-id="{first.id}"]', timeout=15_000)
    publish_to_tablet_ms = (time.perf_counter() - started) * 1000
    tablet.wait_for_selector("#bell-count")
    assert "New task" in tablet.inner_text("#new-task-banner")
    screenshot(tablet, "live-operator-assigned-tablet")
    board.wait_for_selector(f'.board-row[data-task-id="{first.id}"]')

    first_card = tablet.locator(f'.my-task[data-task-id="{first.id}"]')
    second_card = tablet.locator(f'.my-task[data-task-id="{second.id}"]')
    assert second_card.locator(".start-button").is_disabled()
    assert "Waiting for" in second_card.inner_text()

    started = time.perf_counter()
    first_card.locator(".start-button").click()
    board.wait_for_function(
        f"""() => document.querySelector('.board-row[data-task-id="{first.id}"] .row-status')
                  ?.innerText.toLowerCase().includes('in progress')""",
        timeout=10_000,
    )
    start_to_board_ms = (time.perf_counter() - started) * 1000

    first_card.locator(".report-button").click()
    tablet.fill("#report-completed", "100")
    tablet.click("#submit-report")
    tablet.wait_for_function(
        f"""() => document.querySelector('.my-task[data-task-id="{first.id}"]')
                  ?.innerText.includes('100 / 100')"""
    )
    started = time.perf_counter()
    first_card.locator(".complete-button").click()
    board.wait_for_function(
        f"""() => Number(document.querySelector(
                  '.status-count[data-status="completed"] .rt-Badge')?.innerText)
                  === {completed_before + 1}""",
        timeout=10_000,
    )
    complete_to_counts_ms = (time.perf_counter() - started) * 1000
    assert "completed" in _row_status(board, first.id).lower()
    dashboard.wait_for_function(
        f"""() => Number(document.querySelector('{tile}')?.innerText) === {completed_tile_before + 1}""",
        timeout=10_000,
    )
    tablet.wait_for_function(
        f"""() => !document.querySelector('.my-task[data-task-id="{second.id}"] .start-button')?.disabled"""
    )
    screenshot(board, "live-board-desktop")

    # Drop the tablet's connection, assign new work while it is away, and come back.
    tablet.context.set_offline(True)
    tablet.wait_for_selector('#live-indicator[data-live="false"]', timeout=15_000)
    late_id, _ = approved_order(url, [ids["process"]])
    publish_and_dispatch(url, late_id)
    late_task = tasks_of(url, late_id)[0]
    started = time.perf_counter()
    tablet.context.set_offline(False)
    tablet.wait_for_selector(f'.my-task[data-task-id="{late_task.id}"]', timeout=20_000)
    reconnect_ms = (time.perf_counter() - started) * 1000
    tablet.wait_for_selector('#live-indicator[data-live="true"]')
    screenshot(tablet, "live-operator-after-reconnect-tablet")
    tablet.set_viewport_size({"width": 1280, "height": 800})
    screenshot(tablet, "live-operator-desktop")
    board.set_viewport_size(TABLET)
    board.click(f'.board-row[data-task-id="{first.id}"]')
    board.wait_for_selector("#task-history .history-entry")
    assert "Assigned to" in board.inner_text("#task-history")
    screenshot(board, "live-board-drawer-tablet")

    print(f"\nlatency publish→tablet DOM (incl. dispatch): {publish_to_tablet_ms:.0f} ms")
    print(f"latency start→board row: {start_to_board_ms:.0f} ms")
    print(f"latency complete→board counts: {complete_to_counts_ms:.0f} ms")
    print(f"reconnect→task visible: {reconnect_ms:.0f} ms")
    assert order_number
