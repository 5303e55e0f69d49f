"""A supervisor keeps a process's scrap and rework reasons in the catalog, in English and Chinese."""

import pytest
from sqlmodel import Session, select

from tests.e2e.conftest import DESKTOP, TABLET, login, screenshot
from tests.e2e.seed import engine_for
from work_dispatch.models import DefectReason, Process

pytestmark = pytest.mark.e2e


def _open_reasons(browser, base_url: str, viewport: dict, locale: str):
    page = browser.new_context(viewport=viewport, locale="en-US").new_page()
    page.goto(f"{base_url}/login?lang={locale}")  # the device reads this language from now on
    submit = "登录" if locale == "zh-CN" else "Log in"
    page.wait_for_function(f"() => document.querySelector('#login-submit')?.innerText === {submit!r}")
    login(page, base_url, "super1")
    page.wait_for_url("**/supervisor")
    page.goto(f"{base_url}/supervisor/catalog")
    page.wait_for_selector("#defect-reasons .reason-row")
    return page


def _pick_process(page, name: str) -> None:
    page.click("#reason-process")
    page.get_by_role("option", name=name, exact=True).click()
    page.wait_for_function(f"() => document.querySelector('#reason-process')?.innerText.includes({name!r})")


def _shot(page, name: str) -> None:
    """The whole page, and the reasons section alone (passing toasts hidden)."""
    path = screenshot(page, name).with_name(f"{name}-section.png")
    hide_toasts = page.add_style_tag(content="[data-sonner-toaster] { visibility: hidden !important; }")
    page.locator("#defect-reasons").screenshot(path=str(path))
    hide_toasts.evaluate("node => node.remove()")


def test_supervisor_adds_renames_and_retires_a_reason(served_app, browser):
    page = _open_reasons(browser, served_app.base_url, DESKTOP, "en")
    _pick_process(page, "Offset printing")
    page.wait_for_selector('#defect-reasons .reason-row:has-text("Smudge / set-off")')
    assert page.locator("#defect-reasons .reason-row").count() == 6

    page.fill("#reason-code", "colour_off")
    page.fill("#reason-name", "Colour again")
    page.click("#save-reason")
    page.wait_for_function(
        "() => document.querySelector('#defect-reasons .field-error')?.innerText.includes('already has')"
    )
    page.click("#reason-kind")
    page.get_by_role("option", name="Rework", exact=True).click()
    page.fill("#reason-code", "ink-spots")
    page.fill("#reason-name", "Ink spots")
    page.fill("#reason-name_zh", "墨点")
    page.click("#save-reason")
    page.wait_for_selector("text=Saved reason Ink spots.")
    row = '#defect-reasons .reason-row:has-text("INK-SPOTS")'
    page.wait_for_selector(row)
    assert "Rework" in page.inner_text(row)

    page.locator(f"{row} .edit-reason").click()
    page.wait_for_function("() => document.querySelector('#reason-code')?.value === 'INK-SPOTS'")
    assert page.locator("#reason-code").is_disabled()
    page.fill("#reason-name", "Ink spots, touch up")
    page.click("#save-reason")
    page.wait_for_selector('#defect-reasons .reason-row:has-text("Ink spots, touch up")')
    page.locator(f"{row} .toggle-reason").click()
    page.wait_for_selector(f'{row}:has-text("inactive")')
    _shot(page, "h7-reasons-en-desktop")

    engine = engine_for(served_app.database_url)
    with Session(engine) as db:
        offset = db.exec(select(Process.id).where(Process.code == "OFFSET")).one()
        reason = db.exec(
            select(DefectReason).where(DefectReason.process_id == offset, DefectReason.code == "INK-SPOTS")
        ).one()
        assert (reason.kind, reason.name, reason.names, reason.is_active) == (
            "rework",
            "Ink spots, touch up",
            {"zh-CN": "墨点"},
            False,
        )
        assert len(db.exec(select(DefectReason).where(DefectReason.code == "COLOUR_OFF")).all()) == 2
    engine.dispose()

    _pick_process(page, "Die-cutting")
    page.wait_for_selector('#defect-reasons .reason-row:has-text("Misaligned cut")')
    assert page.locator("#defect-reasons .reason-row:has-text('INK-SPOTS')").count() == 0


@pytest.mark.parametrize(
    ("locale", "viewport", "process", "shown"),
    [
        ("en", TABLET, "Die-cutting", "Misaligned cut"),
        ("zh-CN", DESKTOP, "胶印", "套印不准"),
        ("zh-CN", TABLET, "模切", "模切偏位"),
    ],
)
def test_the_reasons_editor_reads_in_each_language_and_size(
    served_app, browser, locale, viewport, process, shown
):
    page = _open_reasons(browser, served_app.base_url, viewport, locale)
    _pick_process(page, process)
    page.wait_for_selector(f'#defect-reasons .reason-row:has-text("{shown}")')
    heading = "报废与返工原因" if locale == "zh-CN" else "Scrap & rework reasons"
    assert heading in page.inner_text("#defect-reasons")
    size = "desktop" if viewport is DESKTOP else "tablet"
    _shot(page, f"h7-reasons-{locale}-{size}")
