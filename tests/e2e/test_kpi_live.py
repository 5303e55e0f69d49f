"""The dashboard's KPI charts in a real browser: a task completed on a tablet moves the throughput chart."""

import pytest

from tests.e2e.conftest import DESKTOP, TABLET, login, screenshot
from tests.e2e.seed import approved_order, one_person_department, publish_and_dispatch, tasks_of

pytestmark = pytest.mark.e2e

CARD = "#kpi-throughput-tasks"


def _figure(page, attribute: str) -> int:
    return int(page.get_attribute(CARD, f"data-{attribute}") or 0)


def test_a_completed_task_moves_the_throughput_chart_without_a_reload(served_app, browser):
    url = served_app.database_url
    ids = one_person_department(url, "KP")
    order_id, _ = approved_order(url, [ids["process"]])
    publish_and_dispatch(url, order_id)
    (task,) = tasks_of(url, order_id)
    assert task.assigned_operator_id == ids["operator"]

    desk = browser.new_context(viewport=DESKTOP).new_page()
    login(desk, served_app.base_url, "super1")
    desk.wait_for_url("**/supervisor")
    desk.wait_for_selector(f"{CARD} .recharts-wrapper")
    desk.evaluate("window.__sameDocument = true")
    before, pushes = _figure(desk, "today"), _figure(desk, "pushes")
    bars_before = desk.locator(f"{CARD} .recharts-bar-rectangle").count()

    tablet = browser.new_context(viewport=TABLET, has_touch=True).new_page()
    login(tablet, served_app.base_url, ids["username"])
    card = tablet.locator(f'.my-task[data-task-id="{task.id}"]')
    card.wait_for()
    card.locator(".start-button").click()
    card.locator(".report-button").click()
    tablet.fill("#report-completed", "100")
    tablet.click("#submit-report")
    card_selector = f'.my-task[data-task-id="{task.id}"]'
    tablet.wait_for_function(
        f"""() => document.querySelector('{card_selector}')?.innerText.includes('100 / 100')"""
    )
    card.locator(".complete-button").click()

    desk.wait_for_function(
        f"""() => Number(document.querySelector('{CARD}')?.dataset.today) === {before + 1}""", timeout=15_000
    )
    assert desk.evaluate("window.__sameDocument") is True, "the page was not reloaded"
    assert _figure(desk, "pushes") > pushes
    # The chart itself redrew from the pushed points: this hour's bar is there, and the totals line says so.
    assert desk.locator(f"{CARD} .recharts-bar-rectangle").count() >= max(bars_before, 1)
    assert str(before + 1) in desk.inner_text(f"{CARD} .kpi-subtitle")
    units = desk.locator("#kpi-throughput-units")
    desk.wait_for_function(
        """() => Number(document.querySelector('#kpi-throughput-units')?.dataset.today) >= 100"""
    )
    assert units.locator(".recharts-wrapper").count() == 1
    # The task's completing operator has a bar of standard against actual minutes.
    desk.wait_for_selector("#kpi-standard-actual-operators .recharts-bar-rectangle")
    assert "Tess KP" in desk.inner_text("#kpi-standard-actual-operators")
    screenshot(desk, "kpi-dashboard-desktop")
    narrow = browser.new_context(viewport=TABLET).new_page()
    login(narrow, served_app.base_url, "super1")
    narrow.wait_for_url("**/supervisor")
    narrow.wait_for_selector("#kpi-standard-actual-operators .recharts-wrapper")
    screenshot(narrow, "kpi-dashboard-tablet")


def test_a_reversed_range_is_refused_next_to_the_field_and_the_charts_stay(served_app, browser):
    page = browser.new_context(viewport=DESKTOP).new_page()
    login(page, served_app.base_url, "super1")
    page.wait_for_url("**/supervisor")
    page.wait_for_selector("#kpi-first-day")
    first_day = page.input_value("#kpi-first-day")
    page.fill("#kpi-last-day", "2020-01-01")
    error = page.locator("#kpi-filters .field-error")
    error.wait_for()
    assert "2020-01-01" in error.inner_text()
    assert page.input_value("#kpi-first-day") == first_day
    page.click("#kpi-reset")
    page.wait_for_function("() => !document.querySelector('#kpi-filters .field-error')")
    assert page.input_value("#kpi-last-day") != "2020-01-01"
