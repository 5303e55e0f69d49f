"""Screens added in round 2 that nobody had looked at, on a desktop and on a tablet (768x1024).

Each screenshot is taken in a test that first asserts the thing it shows is there, so a missing
column or line fails the test instead of producing a blank picture. The PNGs land in
artifacts/screenshots/ as ``r2-*-desktop.png`` and ``r2-*-tablet.png``:

- the live board's ETA line and operator load, and the task drawer's planned / left / worked line;
- the rules page's dispatch preview with its explanation lines (candidates, operators left out);
- the catalog's product-route transfer-batch inputs and the process form's rate inputs;
- the tablet's report dialog with scrap and rework reasons.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from tests.conftest import actor_for
from tests.e2e.conftest import DESKTOP, TABLET, login, screenshot
from tests.e2e.seed import approved_order, engine_for, one_person_department, tasks_of
from work_dispatch.models import AssignmentRule, DefectReason, Qualification, User, UserDepartment
from work_dispatch.services import auth, dispatch, drafts, eta
from work_dispatch.services.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

SIZES = [("desktop", DESKTOP), ("tablet", TABLET)]


def _supervisor(browser, base_url: str, viewport: dict, path: str):
    page = browser.new_context(viewport=viewport, locale="en-US").new_page()
    login(page, base_url, "super1")
    page.wait_for_url("**/supervisor")
    page.goto(f"{base_url}{path}")
    return page


def _element_shot(page, selector: str, name: str) -> None:
    """One part of the page alone (passing toasts hidden), beside the full-page shot."""
    path = screenshot(page, name).with_name(f"{name}-part.png")
    hide_toasts = page.add_style_tag(content="[data-sonner-toaster] { visibility: hidden !important; }")
    page.locator(selector).first.screenshot(path=str(path))
    hide_toasts.evaluate("node => node.remove()")


WIDEST_JS = """() => {
    const limit = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= limit + 1) return "";
    const right = e => Math.round(e.getBoundingClientRect().right);
    const wide = [...document.querySelectorAll("body *")].filter(e => right(e) > limit + 1);
    return wide.slice(0, 4).map(e => e.tagName + "." + e.className + " " + right(e)).join(" | ");
}"""


def _fits_the_window(page) -> None:
    """The page itself does not scroll sideways (wide tables scroll inside their own box)."""
    culprits = page.evaluate(WIDEST_JS)
    assert not culprits, f"the page is wider than the window: {culprits}"


def _no_raw_keys(page) -> None:
    """No catalog key shows instead of its text (``ui.x.y`` or ``field.x``)."""
    text = page.inner_text("body")
    for prefix in ("ui.", "field.", "error.", "board.event.", "enum."):
        words = [w for w in text.split() if w.startswith(prefix) and w.count(".") >= 1 and w[-1] != "."]
        assert not words, f"untranslated keys on screen: {words[:5]}"


@pytest.mark.parametrize(("size", "viewport"), SIZES, ids=[s for s, _ in SIZES])
def test_the_board_shows_eta_and_operator_load_and_the_drawer_its_minutes(
    served_app, browser, size, viewport
):
    # The served app recomputes ETAs once a minute: do it now rather than wait.
    engine = engine_for(served_app.database_url)
    with Session(engine) as db:
        eta.refresh(db)
    engine.dispose()
    page = _supervisor(browser, served_app.base_url, viewport, "/supervisor/board")
    page.wait_for_selector("#board-table .board-row")
    eta_line = page.locator("#board-table .eta").first
    load = page.locator("#board-table .operator-load").first
    eta_line.wait_for()
    load.wait_for()
    assert eta_line.inner_text().startswith("ETA ")
    assert load.inner_text().endswith("min of work")
    _no_raw_keys(page)
    _fits_the_window(page)
    screenshot(page, f"r2-board-{size}")

    row = page.locator("#board-table .board-row", has=page.locator(".operator-load")).first
    row.locator("a").first.click()
    minutes = page.locator("#drawer-minutes")
    minutes.wait_for()
    text = minutes.inner_text()
    assert "Planned" in text and "left" in text and "worked" in text, text
    # The drawer slides in from the right: once it has landed, the line must lie inside the window.
    page.wait_for_function(
        "() => { const r = document.querySelector('#drawer-minutes').getBoundingClientRect();"
        " return r.left >= 0 && r.right <= window.innerWidth + 1; }",
        timeout=5_000,
    )
    _no_raw_keys(page)
    screenshot(page, f"r2-board-drawer-{size}")


def _preview_scene(url: str) -> int:
    """A department of three: one qualified operator, one below the rule's level, one at their WIP limit.

    Returns:
        The process whose work the preview explains.
    """
    ids = one_person_department(url, "PV")
    engine = engine_for(url)
    with Session(engine) as db:
        rule = db.exec(select(AssignmentRule).where(AssignmentRule.process_id == ids["process"])).one()
        rule.min_level = 1
        db.add(rule)
        db.add(Qualification(operator_id=ids["operator"], process_id=ids["process"], level=2))
        for username, name, wip_limit, level in (
            ("pvnovice", "Nico Novice", 5, 0),
            ("pvbusy", "Bea Busy", 0, 3),
        ):
            user = User(
                username=username,
                display_name=name,
                password_hash=auth.hash_password(DEMO_PASSWORD),
                role="operator",
                wip_limit=wip_limit,
            )
            db.add(user)
            db.flush()
            db.add(UserDepartment(user_id=user.id, department_id=ids["department"]))
            db.add(Qualification(operator_id=user.id, process_id=ids["process"], level=level))
        db.commit()
    engine.dispose()
    return ids["process"]


def test_the_rules_preview_explains_candidates_and_operators_left_out(served_app, browser):
    url = served_app.database_url
    process = _preview_scene(url)
    engine = engine_for(url)
    with Session(engine) as db:
        dispatch.set_auto_dispatch(db, actor_for(db, "super1"), False)
    engine.dispose()
    try:
        order_id, _ = approved_order(url, [process], quantity=2500)
        engine = engine_for(url)
        with Session(engine) as db:
            drafts.publish_drafts(db, actor_for(db, "super1"), work_order_id=order_id)
        engine.dispose()

        page = _supervisor(browser, served_app.base_url, DESKTOP, "/supervisor/rules")
        page.wait_for_selector("#run-preview")
        page.click("#run-preview")
        page.wait_for_selector("#preview-counts")
        details = page.locator(".preview-details", has_text="Candidates:").filter(has_text="Left out:").first
        details.wait_for()
        text = details.inner_text()
        assert "Tess PV" in text and "Nico Novice" in text and "Bea Busy" in text, text
        _no_raw_keys(page)
        for size, viewport in SIZES:
            page.set_viewport_size(viewport)
            page.wait_for_timeout(300)
            assert details.is_visible()
            for part in (details, page.locator(".preview-reason", has_text="Tess PV had").first):
                box = part.bounding_box()
                assert box is not None and box["x"] + box["width"] <= viewport["width"], (
                    "explanation off screen"
                )
            _fits_the_window(page)
            _element_shot(page, "#preview-table", f"r2-rules-preview-{size}")
    finally:
        engine = engine_for(url)
        with Session(engine) as db:
            dispatch.set_auto_dispatch(db, actor_for(db, "super1"), True)
        engine.dispose()


@pytest.mark.parametrize(("size", "viewport"), SIZES, ids=[s for s, _ in SIZES])
def test_the_catalog_shows_route_batches_and_process_rates(served_app, browser, size, viewport):
    page = _supervisor(browser, served_app.base_url, viewport, "/supervisor/catalog")
    page.wait_for_selector(".product-row")
    page.locator(".edit-product").first.click()
    batches = page.locator(".route-transfer-batch input")
    batches.first.wait_for()
    assert batches.count() >= 2
    batches.nth(1).fill("500")
    page.wait_for_function(
        "() => document.querySelectorAll('.route-transfer-batch input')[1]?.value === '500'"
    )
    for i in range(batches.count()):
        box = batches.nth(i).bounding_box()
        assert box is not None and box["width"] >= 60, f"transfer batch input {i} squeezed: {box}"
    _no_raw_keys(page)
    _element_shot(page, "#product-form", f"r2-catalog-route-{size}")

    page.locator(".edit-process").first.click()
    page.wait_for_function("() => document.querySelector('#process-code')?.disabled === true")
    for key in ("setup_minutes", "units_per_hour", "transfer_batch", "standard_minutes"):
        field = page.locator(f"#process-{key}")
        assert field.is_visible(), key
        box = field.bounding_box()
        assert box is not None and box["width"] >= 120, f"{key} input squeezed: {box}"
    assert "Setup minutes" in page.inner_text("body") and "Units per hour" in page.inner_text("body")
    page.locator("#process-setup_minutes").scroll_into_view_if_needed()
    _element_shot(page, "#process-form", f"r2-catalog-process-{size}")


def test_the_tablet_report_dialog_names_scrap_and_rework_reasons(served_app, browser):
    url, base = served_app.database_url, served_app.base_url
    ids = one_person_department(url, "RD")
    engine = engine_for(url)
    with Session(engine) as db:
        db.add_all(
            [
                DefectReason(
                    process_id=ids["process"], kind="scrap", code="SMEAR", name="Ink smear on sheet edge"
                ),
                DefectReason(process_id=ids["process"], kind="scrap", code="TORN", name="Torn"),
                DefectReason(
                    process_id=ids["process"],
                    kind="rework",
                    code="RECUT",
                    name="Cut again to size after a misaligned first pass",
                ),
            ]
        )
        db.commit()
    engine.dispose()
    order_id, _ = approved_order(url, [ids["process"]], quantity=400)
    (task,) = tasks_of(url, order_id)
    engine = engine_for(url)
    with Session(engine) as db:
        drafts.publish_drafts(db, actor_for(db, "super1"), work_order_id=order_id)
    engine.dispose()

    tablet = browser.new_context(viewport=TABLET, has_touch=True, locale="en-US").new_page()
    login(tablet, base, ids["username"])
    card = tablet.locator(f'.my-task[data-task-id="{task.id}"]')
    card.wait_for(timeout=20_000)
    card.locator(".start-button").click()
    card.locator(".report-button").wait_for()
    card.locator(".report-button").click()
    tablet.fill("#report-completed", "300")
    tablet.fill("#report-defective", "12")
    tablet.click("#report-scrap-reason")
    tablet.get_by_role("option", name="Ink smear on sheet edge").click()
    tablet.fill("#report-rework", "4")
    tablet.click("#report-rework-reason")
    tablet.get_by_role("option", name="Cut again to size after a misaligned first pass").click()
    for kind, shown in (("scrap", "Ink smear"), ("rework", "Cut again")):
        select_box = tablet.locator(f"#report-{kind}-reason")
        expect(select_box).to_contain_text(shown)  # the choice comes back from the server: wait for it
        box = select_box.bounding_box()
        assert box is not None and box["x"] + box["width"] <= TABLET["width"], f"{kind} reason overflows"
        assert box["height"] >= 36, f"{kind} reason is no touch target: {box}"
    completed, scrap = (
        tablet.locator("#report-completed").bounding_box(),
        tablet.locator("#report-scrap-reason").bounding_box(),
    )
    assert abs(completed["width"] - scrap["width"]) < 4, f"inputs and selects misaligned: {completed} {scrap}"
    _no_raw_keys(tablet)
    screenshot(tablet, "r2-report-dialog-tablet")
    tablet.set_viewport_size(DESKTOP)
    tablet.wait_for_timeout(300)
    assert tablet.locator("#submit-report").is_visible()
    screenshot(tablet, "r2-report-dialog-desktop")


def test_the_new_lines_read_in_chinese_on_a_tablet(served_app, browser):
    base = served_app.base_url
    engine = engine_for(served_app.database_url)
    with Session(engine) as db:
        eta.refresh(db)
    engine.dispose()
    page = browser.new_context(viewport=TABLET, locale="en-US").new_page()
    page.goto(f"{base}/login?lang=zh-CN")  # the device reads Chinese from now on
    page.wait_for_function("() => document.querySelector('#login-submit')?.innerText === '登录'")
    login(page, base, "super1")
    page.wait_for_url("**/supervisor")

    page.goto(f"{base}/supervisor/board")
    load = page.locator("#board-table .operator-load").first
    load.wait_for()
    assert load.inner_text().startswith("在手"), load.inner_text()
    assert page.locator("#board-table .eta").first.inner_text().startswith("预计")
    _no_raw_keys(page)
    _fits_the_window(page)
    screenshot(page, "r2-board-zh-tablet")

    page.goto(f"{base}/supervisor/catalog")
    page.wait_for_selector(".product-row")
    page.locator(".edit-product").first.click()
    page.locator(".route-transfer-batch input").first.wait_for()
    assert page.locator(".route-transfer-batch input").first.get_attribute("placeholder") == "转序批量"
    page.locator(".edit-process").first.click()
    page.wait_for_function("() => document.querySelector('#process-code')?.disabled === true")
    assert "准备时间" in page.inner_text("#process-form")
    _no_raw_keys(page)
    _fits_the_window(page)
    _element_shot(page, "#product-form", "r2-catalog-route-zh-tablet")
    page.locator("#process-form").screenshot(path=str(screenshot(page, "r2-catalog-process-zh-tablet")))
