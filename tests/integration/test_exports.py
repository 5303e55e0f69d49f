"""Exports (CSV with BOM, typed XLSX) and their ticketed HTTP route, on both databases."""

from __future__ import annotations

import csv
import io
import time
import warnings
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, update
from sqlmodel import select
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette would rather have httpx2; the installed httpx drives its TestClient just as well.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from work_dispatch.domain.errors import PermissionDeniedError, ValidationError
from work_dispatch.downloads import make_app
from work_dispatch.i18n import translate
from work_dispatch.models import (
    AppSetting,
    Customer,
    Task,
    User,
    UserSession,
    WorkOrder,
    WorkOrderProcess,
    utc_now,
)
from work_dispatch.services import auth, board, download_tickets, drafts, exports, work_orders
from work_dispatch.services.demo import DEMO_PASSWORD
from work_dispatch.services.task_rows import new_task_row

NOW = datetime(2030, 1, 10, 8, 0, tzinfo=utc_now().tzinfo)


def clock_at(moment: datetime):
    return lambda: moment


def _login(db, username: str) -> tuple[str, object]:
    token, actor = auth.login(db, username, DEMO_PASSWORD, "10.0.0.7")
    db.commit()
    return token, actor


def _link(db, actor, token, name, fmt, filters=None, clock=utc_now) -> exports.ExportLink:
    link = exports.export_link(db, actor, token, name, fmt, filters, clock=clock)
    db.commit()  # the unit of work commits the signing secret the route will read
    return link


@pytest.fixture
def client(engine):
    """The download routes on this test's database, with the real clock."""
    return TestClient(make_app(lambda: engine))


def _board_ids(db, actor, filters) -> list[int]:
    """Every row id the board pages through, first page to last."""
    ids, cursor = [], None
    while True:
        page = board.query_page(db, actor, filters, cursor, 100)
        ids += [row.id for row in page.rows]
        if not page.next_cursor:
            return ids
        cursor = page.next_cursor


def _csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "CSV must start with the UTF-8 BOM"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize(
    "filters",
    [
        {"kind": "all", "sort": "newest"},
        {"kind": "all", "sort": "due"},
        {"kind": "formal", "sort": "priority"},
        {"kind": "all", "sort": "updated", "status": "pending"},
    ],
    ids=["newest", "due", "priority", "updated-pending"],
)
def test_board_csv_has_the_bom_the_header_and_exactly_the_boards_rows_in_its_order(
    db, shop, supervisor, make_order, client, filters
):
    orders = [make_order("POSTER", 5000, batch=1000), make_order("BOX-FOLD", 3000, priority="urgent")]
    drafts.publish_drafts(db, supervisor, work_order_id=orders[1].id)
    undated = db.exec(select(Task.id).order_by(Task.id).limit(40)).all()[::3]  # "due" puts them last
    db.execute(update(Task).where(Task.id.in_(undated)).values(due_at=None))
    db.commit()
    token, actor = _login(db, "super1")
    expected = _board_ids(db, actor, filters)
    assert len(expected) > 3

    # Small keyset pages, so that the export crosses several pages like a big one does.
    rows = list(exports.board_rows(db, actor, exports._board_args(filters), utc_now(), batch=3))
    assert [row[0] for row in rows] == expected

    link = _link(db, actor, token, "board", "csv", filters)
    response = client.get(link.url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["cache-control"] == "no-store"
    assert f'filename="{link.filename}"' in response.headers["content-disposition"]
    table = _csv_rows(response.content)
    assert table[0][:3] == ["Task", "Work order", "Customer"] and len(table[0]) == len(exports.BOARD_COLUMNS)
    assert [int(line[0]) for line in table[1:]] == expected
    by_id = {int(line[0]): line for line in table[1:]}
    task = db.get(Task, expected[0])
    line = by_id[task.id]
    assert line[1] == db.get(WorkOrder, task.work_order_id).order_number
    assert int(line[9]) == task.production_quantity
    assert line[7] in ("Draft", "Pending", "Queued", "Assigned")


def test_xlsx_reads_back_with_typed_cells_a_bold_header_and_a_frozen_pane_in_chinese(
    db, shop, supervisor, make_order, client, tmp_path
):
    order = make_order("POSTER", 4000, batch=1000)
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    started = datetime(2030, 1, 9, 6, 30, tzinfo=NOW.tzinfo)
    first = db.exec(select(Task).where(Task.work_order_id == order.id).order_by(Task.id)).first()
    db.execute(update(Task).where(Task.id == first.id).values(started_at=started, quantity_completed=250))
    db.execute(update(User).where(User.username == "super1").values(locale="zh-CN"))
    db.commit()
    token, actor = _login(db, "super1")
    assert actor.locale == "zh-CN"

    link = _link(db, actor, token, "board", "xlsx", {"kind": "formal"})
    response = client.get(link.url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == exports.MEDIA_TYPES["xlsx"]
    path = tmp_path / "board.xlsx"
    path.write_bytes(response.content)
    sheet = load_workbook(path).active
    assert sheet.title == "任务看板"
    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    assert header[:5] == ["任务", "工单", "客户", "产品", "工序"]
    assert all(cell.font.b for cell in sheet[1])
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    expected = _board_ids(db, actor, {"kind": "formal"})
    assert [row[0] for row in rows] == expected and len(rows) == 4 * 4  # 4 batches x 4 steps
    row = next(r for r in rows if r[0] == first.id)
    assert isinstance(row[0], int) and isinstance(row[9], int) and row[10] == 250
    db.refresh(first)
    assert row[7] == translate(f"enum.task_status.{first.status}", "zh-CN") and row[7] != first.status
    assert row[8] == translate(f"enum.priority.{first.priority}", "zh-CN")
    assert row[13] in ("是", "否")
    # Dates are real dates, in the shop's timezone (naive, as spreadsheets want them).
    assert isinstance(row[14], datetime)
    assert row[14] == exports._local(started, exports.settings.timezone)
    started_cell = next(c for c in sheet[rows.index(row) + 2] if c.column == 15)
    assert started_cell.is_date and started_cell.number_format == "yyyy-mm-dd hh:mm"
    assert row[12] is None or isinstance(row[12], datetime)


def test_work_order_list_exports_its_filter_with_dates_as_dates(
    db, shop, supervisor, make_order, client, tmp_path
):
    customers = list(shop["customer"].values())
    made = [make_order("POSTER", 1000 + i, customer=customers[i % 2], approve=i % 3 == 0) for i in range(7)]
    work_orders.cancel_work_order(db, supervisor, made[1].id)
    token, actor = _login(db, "super2")
    filters = {"customer_id": str(customers[0]), "status": ""}
    expected = [
        row.order_number for row in work_orders.list_work_orders(db, actor, customer_id=customers[0]).rows
    ]
    assert len(expected) == 4

    rows = list(exports.work_order_rows(db, actor, exports._work_order_args(filters), utc_now(), batch=2))
    assert [row[0] for row in rows] == expected

    link = _link(db, actor, token, "work_orders", "xlsx", filters)
    response = client.get(link.url)
    assert response.status_code == 200
    path = tmp_path / "orders.xlsx"
    path.write_bytes(response.content)
    sheet = load_workbook(path).active
    assert sheet.freeze_panes == "A2"
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in values] == expected
    newest = values[0]
    order = db.exec(select(WorkOrder).where(WorkOrder.order_number == newest[0])).one()
    assert newest[3] == order.quantity and isinstance(newest[3], int)
    assert newest[7] == datetime(2030, 1, 15)  # a date cell (openpyxl reads dates back as datetimes)
    assert newest[6] in ("Draft", "Approved")
    assert isinstance(newest[11], datetime)

    link = _link(db, actor, token, "work_orders", "csv", {"status": "cancelled"})
    table = _csv_rows(client.get(link.url).content)
    assert [line[0] for line in table[1:]] == [made[1].order_number]
    assert table[1][6] == "Cancelled" and table[1][7] == "2030-01-15"


def test_text_that_looks_like_a_formula_stays_text(db, shop, supervisor, make_order, client, tmp_path):
    first_customer = next(iter(shop["customer"].values()))  # the one make_order uses
    db.execute(
        update(Customer)
        .where(Customer.id == first_customer)
        .values(name='=HYPERLINK("http://evil.example","click")')
    )
    db.commit()
    make_order("POSTER", 1000, approve=False)
    token, actor = _login(db, "super1")
    table = _csv_rows(client.get(_link(db, actor, token, "work_orders", "csv").url).content)
    assert table[1][1] == '\'=HYPERLINK("http://evil.example","click")'
    path = tmp_path / "f.xlsx"
    path.write_bytes(client.get(_link(db, actor, token, "work_orders", "xlsx").url).content)
    cell = load_workbook(path).active["B2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_the_generic_helper_writes_any_table_both_ways(tmp_path):
    columns = (
        exports.ExportColumn("export.column.department"),
        exports.ExportColumn("export.column.quantity", "int"),
        exports.ExportColumn("export.column.due", "datetime"),
        exports.ExportColumn("export.column.delivery_date", "date"),
        exports.ExportColumn("export.column.status", "enum", "task_status"),
        exports.ExportColumn("export.column.overdue", "bool"),
        exports.ExportColumn("export.column.planned_quantity", "float"),
    )
    rows = [
        ("印刷", 3, datetime(2030, 1, 2, 3, 4, tzinfo=NOW.tzinfo), date(2030, 1, 5), "completed", True, 1.5),
        ("Pack\x07ing", None, None, None, None, None, None),
    ]
    body = b"".join(exports.export(columns, iter(rows), "csv", "zh-CN", timezone="Asia/Shanghai"))
    table = _csv_rows(body)
    assert table[0] == ["部门", "数量", "截止时间", "交货日期", "状态", "已逾期", "计划数量"]
    assert table[1] == ["印刷", "3", "2030-01-02 11:04", "2030-01-05", "已完成", "是", "1.5"]
    assert table[2] == ["Packing", "", "", "", "", "", ""]  # control characters dropped
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"".join(exports.export(columns, iter(rows), "xlsx", "en", timezone="Asia/Shanghai")))
    sheet = load_workbook(path).active
    assert [c.value for c in sheet[1]][:2] == ["Department", "Quantity"]
    assert list(sheet.iter_rows(min_row=2, values_only=True)) == [
        ("印刷", 3, datetime(2030, 1, 2, 11, 4), datetime(2030, 1, 5), "Completed", "Yes", 1.5),
        ("Packing", None, None, None, None, None, None),
    ]
    assert sheet.auto_filter.ref == "A1:G3"
    with pytest.raises(ValueError):
        exports.export(columns, iter(rows), "pdf", "en")
    with pytest.raises(ValueError):
        exports.ExportColumn("x", "enum")


# --- who may download: every refusal is the same 403 and carries no data ------------------------------


def _forbidden(response, secret_texts=()) -> None:
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "content-disposition" not in response.headers
    assert "expired or is not valid" in response.text
    for text in secret_texts:
        assert text not in response.text


def test_a_refused_ticket_gets_403_and_nothing_else(db, shop, supervisor, make_order, engine):
    order = make_order("POSTER", 1000)
    token, actor = _login(db, "super1")
    base = utc_now()  # sessions last hours: the clock moves from now
    good = _link(db, actor, token, "board", "csv", {"kind": "all"}, clock=clock_at(base))
    ticket = good.url.split("ticket=")[1]
    at = {"now": base + timedelta(seconds=30)}
    client = TestClient(make_app(lambda: engine, clock=lambda: at["now"]))
    assert client.get(good.url).status_code == 200
    secret = [order.order_number]

    _forbidden(client.get("/api/export/board.csv"), secret)
    _forbidden(client.get("/api/export/board.csv?ticket=garbage"), secret)
    _forbidden(client.get("/api/export/board.csv?ticket=" + "x" * 5000), secret)
    version, body, mac = ticket.split(".")
    forged = f"{version}.{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{mac}"
    _forbidden(client.get(f"/api/export/board.csv?ticket={forged}"), secret)
    # Single purpose: the same ticket opens neither the other format, nor another report, nor a traveler.
    _forbidden(client.get(f"/api/export/board.xlsx?ticket={ticket}"), secret)
    _forbidden(client.get(f"/api/export/work_orders.csv?ticket={ticket}"), secret)
    _forbidden(client.get(f"/api/export/nothing.csv?ticket={ticket}"), secret)
    assert client.get(f"/api/traveler?ticket={ticket}").status_code == 403

    at["now"] = base + timedelta(seconds=download_tickets.TICKET_TTL_S + 1)  # expired
    _forbidden(client.get(good.url), secret)


def test_a_ticket_dies_with_its_session_and_with_the_users_right(db, shop, make_order, client):
    order = make_order("POSTER", 1000)
    secret = [order.order_number]
    for end in ("logout", "demote", "deactivate"):
        token, actor = _login(db, "super2")
        link = _link(db, actor, token, "work_orders", "csv")
        assert client.get(link.url).status_code == 200
        if end == "logout":
            auth.logout(db, token)
        else:
            values = {"role": "operator"} if end == "demote" else {"is_active": False}
            db.execute(update(User).where(User.id == actor.user_id).values(**values))
        db.commit()
        _forbidden(client.get(link.url), secret)
        db.execute(update(User).where(User.id == actor.user_id).values(role="supervisor", is_active=True))
        db.commit()


def test_a_ticket_signed_by_another_installation_is_refused(db, shop, make_order, client):
    make_order("POSTER", 1000)
    token, actor = _login(db, "super1")
    link = _link(db, actor, token, "board", "csv", {"kind": "all"})
    db.execute(
        update(AppSetting)
        .where(AppSetting.key == download_tickets.SECRET_SETTING)
        .values(value={"hex": "ab" * 32})
    )
    db.commit()
    _forbidden(client.get(link.url))


def test_an_operator_can_neither_mint_nor_use_a_ticket(db, shop, make_order, client):
    make_order("POSTER", 1000)
    token, operator = _login(db, "print1")
    with pytest.raises(PermissionDeniedError):
        exports.export_link(db, operator, token, "board", "csv", {})
    # A correctly signed ticket for the operator's own session (as a bug elsewhere might mint one)
    # is still refused at download time: the route checks the right again.
    session_id = db.exec(select(UserSession.id).where(UserSession.user_id == operator.user_id)).one()
    ticket = download_tickets.issue(db, session_id, operator.user_id, exports.purpose("board", "csv"), {})
    db.commit()
    _forbidden(client.get(f"/api/export/board.csv?ticket={ticket}"))


def test_minting_checks_the_token_the_report_the_format_and_the_filters(db, shop, supervisor):
    token, actor = _login(db, "super1")
    other_token, _ = _login(db, "super2")
    with pytest.raises(PermissionDeniedError):
        exports.export_link(db, actor, other_token, "board", "csv")  # someone else's session
    for bad_token in (None, "", "x" * 500, 42):
        with pytest.raises(PermissionDeniedError):
            exports.export_link(db, actor, bad_token, "board", "csv")
    with pytest.raises(ValidationError, match="Unknown file format"):
        exports.export_link(db, actor, token, "board", "pdf")
    with pytest.raises(ValidationError, match="no such report"):
        exports.export_link(db, actor, token, "users", "csv")
    with pytest.raises(ValidationError):
        exports.export_link(db, actor, token, "board", "csv", {"status": "bogus"})
    with pytest.raises(ValidationError):
        exports.export_link(db, actor, token, "work_orders", "csv", {"search": "abc"})
    with pytest.raises(ValidationError):
        exports.export_link(db, actor, token, "work_orders", "csv", "not a dict")
    auth.logout(db, token)
    with pytest.raises(PermissionDeniedError):
        exports.export_link(db, actor, token, "board", "csv")


def test_the_signing_secret_is_made_once_and_shared(db, engine, shop):
    first = download_tickets.signing_key(db, "download-ticket")
    db.commit()
    from sqlmodel import Session

    with Session(engine) as other:  # another worker
        assert download_tickets.signing_key(other, "download-ticket") == first
        assert download_tickets.signing_key(other, "traveler") != first
    assert (
        len(db.exec(select(AppSetting).where(AppSetting.key == download_tickets.SECRET_SETTING)).all()) == 1
    )


def test_twenty_thousand_rows_stream_in_board_order(db, shop, supervisor, make_order, client, tmp_path):
    order = make_order("POSTER", 1000)
    step = db.exec(select(WorkOrderProcess).where(WorkOrderProcess.work_order_id == order.id)).first()
    now = utc_now()
    db.execute(
        insert(Task),
        [
            new_task_row(
                work_order_process_id=step.id,
                work_order_id=order.id,
                process_id=step.process_id,
                sequence=step.sequence,
                generation_key=f"bulk:{i}",
                production_quantity=10 + i % 7,
                is_draft=False,
                status="queued",
                assigned_department_id=shop["department"]["PRINT"],
                due_at=now + timedelta(minutes=i % 977),
                created_at=now,
                updated_at=now,
            )
            for i in range(20_000)
        ],
    )
    db.commit()
    token, actor = _login(db, "super1")
    filters = {"kind": "formal", "status": "queued", "sort": "due"}
    started = time.perf_counter()
    response = client.get(_link(db, actor, token, "board", "xlsx", filters).url)
    seconds = time.perf_counter() - started
    assert response.status_code == 200
    path = tmp_path / "big.xlsx"
    path.write_bytes(response.content)
    sheet = load_workbook(path, read_only=True).active
    ids = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(ids) == 20_000 and len(set(ids)) == 20_000
    due = db.exec(select(Task.id).where(Task.status == "queued").order_by(Task.due_at, Task.id)).all()
    assert ids == list(due)
    csv_started = time.perf_counter()
    table = _csv_rows(client.get(_link(db, actor, token, "board", "csv", filters).url).content)
    csv_seconds = time.perf_counter() - csv_started
    assert [int(line[0]) for line in table[1:]] == list(due)
    print(
        f"\n20,000-row board export: xlsx {seconds:.2f} s, csv {csv_seconds:.2f} s ({db.bind.dialect.name})"
    )
