"""A supervisor exports the work-order list and the board, and prints a job traveler with QR codes."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from tests.e2e.conftest import TABLET, login
from tests.e2e.seed import engine_for
from work_dispatch.models import Task, WorkOrder
from work_dispatch.services import travelers

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/shots/h2")
DESKTOP = {"width": 1440, "height": 900}
A4_AT_96_DPI = {"width": 794, "height": 1123}


def _shot(page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def _orders_newest_first(url: str) -> list[str]:
    engine = engine_for(url)
    with Session(engine) as db:
        numbers = list(db.exec(select(WorkOrder.order_number).order_by(WorkOrder.id.desc())).all())
    engine.dispose()
    return numbers


def test_exports_download_the_filtered_rows_and_travelers_print_with_codes(served_app, browser):
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    login(page, served_app.base_url, "super1")
    page.wait_for_url("**/supervisor")

    # The work-order list, as XLSX: every work order (not just the page shown), newest first.
    page.goto(f"{served_app.base_url}/supervisor/work-orders")
    page.wait_for_selector(".work-order-row")
    _shot(page, "work-orders-desktop")
    with page.expect_download() as download_info:
        page.click("#wo-export-xlsx")
    download = download_info.value
    assert download.failure() is None, download.failure()
    assert download.suggested_filename.startswith("work-orders-") and download.suggested_filename.endswith(
        ".xlsx"
    )
    sheet = load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    assert sheet.freeze_panes == "A2" and sheet["A1"].value == "Work order"
    numbers = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    expected = _orders_newest_first(served_app.database_url)
    assert numbers == expected and len(numbers) >= 5
    assert all(isinstance(row[3], int) for row in sheet.iter_rows(min_row=2, values_only=True))

    # Filtered by the search box, as CSV: only the matching order.
    page.fill("#wo-search", expected[-1])
    page.locator("#wo-search").press("Enter")
    page.wait_for_function("() => document.querySelectorAll('.work-order-row').length === 1")
    with page.expect_download() as download_info:
        page.click("#wo-export-csv")
    body = Path(download_info.value.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert [line[0] for line in table[1:]] == [expected[-1]]

    # The board's current filter (published tasks), as CSV.
    page.goto(f"{served_app.base_url}/supervisor/board")
    page.wait_for_selector("#board-export-csv")
    _shot(page, "board-desktop")
    with page.expect_download() as download_info:
        page.click("#board-export-csv")
    table = list(csv.reader(io.StringIO(Path(download_info.value.path()).read_text(encoding="utf-8-sig"))))
    engine = engine_for(served_app.database_url)
    with Session(engine) as db:
        published = list(
            db.exec(select(Task.id).where(Task.is_draft.is_(False)).order_by(Task.id.desc())).all()
        )
        order = db.exec(
            select(WorkOrder).where(WorkOrder.status == "approved").order_by(WorkOrder.id)
        ).first()
        tasks = db.exec(select(Task).where(Task.work_order_id == order.id, Task.status != "cancelled")).all()
    assert [int(line[0]) for line in table[1:]] == published

    # A traveler from the work-order page: a new tab with one QR code per task.
    page.goto(f"{served_app.base_url}/supervisor/work-orders/edit?id={order.id}")
    page.wait_for_selector("#print-traveler")
    _shot(page, "work-order-form-desktop")
    with context.expect_page() as new_page:
        page.click("#print-traveler")
    traveler = new_page.value
    traveler.wait_for_selector("svg.qr")
    assert "/api/traveler?ticket=" in traveler.url
    assert traveler.inner_text("#order-number") == order.order_number
    codes = traveler.locator(".traveler-task")
    assert codes.count() == len(tasks) and traveler.locator("svg.qr").count() == len(tasks)
    for index in range(codes.count()):
        row = codes.nth(index)
        task_id = int(row.get_attribute("data-task-id"))
        reference = row.get_attribute("data-reference")
        assert reference.startswith(f"WD1:{task_id}:")
        # The symbol drawn is the symbol of that reference (segno is deterministic).
        title = row.locator("svg.qr title").text_content()
        assert title == reference
    with Session(engine) as db:
        some = codes.nth(0).get_attribute("data-reference")
        assert travelers.resolve_scan(db, some) == int(codes.nth(0).get_attribute("data-task-id"))
    engine.dispose()
    traveler.set_viewport_size(DESKTOP)
    _shot(traveler, "traveler")
    traveler.emulate_media(media="print")
    traveler.set_viewport_size(A4_AT_96_DPI)
    _shot(traveler, "traveler-print")
    traveler.pdf(path=str(SHOTS / "traveler.pdf"), format="A4", print_background=True)
    traveler.close()

    # The same from the draft review.
    page.goto(f"{served_app.base_url}/supervisor/drafts")
    page.wait_for_selector(".print-traveler")
    _shot(page, "drafts-desktop")
    with context.expect_page() as new_page:
        page.locator(".print-traveler").first.click()
    new_page.value.wait_for_selector("svg.qr")
    new_page.value.close()

    # Tablet layouts of the pages with the new buttons.
    tablet = browser.new_context(viewport=TABLET).new_page()
    login(tablet, served_app.base_url, "super2")
    tablet.wait_for_url("**/supervisor")
    for path, ready, name in (
        ("/supervisor/work-orders", "#wo-export-xlsx", "work-orders-tablet"),
        ("/supervisor/board", "#board-export-xlsx", "board-tablet"),
        (f"/supervisor/work-orders/edit?id={order.id}", "#print-traveler", "work-order-form-tablet"),
        ("/supervisor/drafts", ".print-traveler", "drafts-tablet"),
    ):
        tablet.goto(f"{served_app.base_url}{path}")
        tablet.wait_for_selector(ready)
        _shot(tablet, name)
    tablet.context.close()

    # A fresh ticket opens the page until its session ends: logging out ends every ticket (403).
    page.goto(f"{served_app.base_url}/supervisor/work-orders/edit?id={order.id}")
    page.wait_for_selector("#print-traveler")
    with context.expect_page() as new_page:
        page.click("#print-traveler")
    new_page.value.wait_for_selector("svg.qr")
    traveler_url = new_page.value.url
    new_page.value.close()
    assert context.request.get(traveler_url).status == 200
    page.click("#logout-button")
    page.wait_for_url("**/login")
    response = context.request.get(traveler_url)
    assert response.status == 403 and order.order_number not in response.text()
    context.close()
