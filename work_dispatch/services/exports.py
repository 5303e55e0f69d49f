"""Reports as files: CSV (UTF-8 with BOM) and XLSX, streamed from keyset queries.

Two layers:

1. **The generic writer** — :func:`export` (and :func:`csv_chunks` / :func:`write_xlsx` under it)
   takes a list of :class:`ExportColumn` (a catalog key for the header, a kind for the cell type)
   and any iterator of row tuples, and writes the file in the reader's locale: headers, enum labels
   and yes/no translated, numbers as numbers, dates and times as real spreadsheet dates in the shop's
   timezone, text that a spreadsheet would run as a formula neutralized. It holds one row at a time:
   CSV chunks are yielded as rows arrive; an XLSX workbook is built by openpyxl (write-only mode:
   sheet, styles, bold frozen header, widths, auto-filter) with its data rows streamed into the
   package (see :func:`write_xlsx`), spooled to an anonymous temporary file, then streamed out.
   Any other report (KPI tables) can plug in here, or register a whole :class:`ExportSource` with
   :func:`register_source` to get the ticketed HTTP route, ``/api/export/<name>.<csv|xlsx>``.
2. **Sources** — the live board's current filter (:data:`BOARD`) and the work-order list
   (:data:`WORK_ORDERS`): validate the page's filters exactly as the page does, then read the rows
   by keyset pages of :data:`BATCH_ROWS`, so 100,000 rows never sit in memory.

The page never carries the file: a handler calls :func:`export_link` (authorization and filter
validation here, then a :mod:`download_tickets` ticket) and sends the browser to the link it returns.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, case, func, tuple_, type_coerce
from sqlmodel import Session, select

from work_dispatch.domain.enums import OPEN_TASK_STATUSES, TaskStatus
from work_dispatch.domain.errors import ValidationError
from work_dispatch.i18n import localized_name, translate
from work_dispatch.models import Customer, Department, Process, Product, Task, User, WorkOrder, utc_now
from work_dispatch.services import board, download_tickets, work_orders
from work_dispatch.services.actor import Actor, require_supervisor
from work_dispatch.settings import settings

BATCH_ROWS = 2000
"""Rows per keyset query of an export."""
MAX_ROWS = 1_048_575
"""Most data rows of one file: a spreadsheet's last row (1,048,576) less the header."""
FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
KINDS = ("text", "int", "float", "date", "datetime", "enum", "bool")
"""Cell kinds: how a value is typed in XLSX and written in CSV."""
BOM = "\ufeff"
"""UTF-8 byte order mark: Excel reads a CSV as UTF-8 (Chinese included) only with it."""
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CHUNK = 64 * 1024
_CONTROL_CHARACTERS = dict.fromkeys(code for code in range(32) if chr(code) not in "\t\n\r")
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_EXCEL_EPOCH = datetime(1899, 12, 30)
_DAY = timedelta(days=1)
_TEXT_CACHE = 4096
"""Distinct texts per column whose XML is kept while writing a sheet."""
_DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class ExportColumn:
    """One column of an export.

    Attributes:
        header: Catalog key of the header (rendered in the reader's locale).
        kind: One of :data:`KINDS`: ``text``; ``int`` / ``float`` (numbers); ``date``; ``datetime``
            (aware datetimes, or naive UTC, shown in the shop's timezone); ``enum`` (a stored value
            whose label is ``enum.<enum>.<value>``); ``bool`` (yes / no).
        enum: For ``enum`` columns, the catalog group, e.g. ``task_status``.
        width: Column width in XLSX (characters).
    """

    header: str
    kind: str = "text"
    enum: str = ""
    width: float = 14

    def __post_init__(self) -> None:
        """Refuse unknown kinds at definition time."""
        if self.kind not in KINDS or (self.kind == "enum") != bool(self.enum):
            raise ValueError(f"bad export column {self!r}")


def _local(value: datetime, timezone: str) -> datetime:
    """A naive datetime in the shop's timezone (spreadsheets have no timezones)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def _clean_text(value: Any) -> str:
    """Text without the control characters XML (hence XLSX) cannot hold."""
    return (value if isinstance(value, str) else str(value)).translate(_CONTROL_CHARACTERS)


def _neutralized(text: str) -> str:
    """Text a spreadsheet would run as a formula, made inert with a leading apostrophe (CSV only)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _converter(column: ExportColumn, locale: str, timezone: str) -> Callable[[Any], Any]:
    """Value → typed cell value for XLSX (None stays empty)."""
    if column.kind == "enum":
        labels: dict[str, str] = {}

        def label(value: Any) -> Any:
            if value is None or value == "":
                return None
            if value not in labels:
                labels[value] = translate(f"enum.{column.enum}.{value}", locale)
            return labels[value]

        return label
    if column.kind == "bool":
        yes, no = translate("export.value.yes", locale), translate("export.value.no", locale)
        return lambda value: None if value is None else (yes if value else no)
    if column.kind == "datetime":
        zone = ZoneInfo(timezone)

        def local(value: Any) -> datetime | None:
            if not isinstance(value, datetime):
                return None
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value.astimezone(zone).replace(tzinfo=None)

        return local
    if column.kind == "date":
        return lambda value: (
            value.date() if isinstance(value, datetime) else value if isinstance(value, date) else None
        )
    if column.kind == "int":
        return lambda value: None if value is None else int(value)
    if column.kind == "float":
        return lambda value: None if value is None else float(value)
    return lambda value: None if value is None else _clean_text(value)


def _csv_text(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "datetime":
        return value.strftime("%Y-%m-%d %H:%M")
    if kind == "date":
        return value.isoformat()
    if kind == "text":
        return _neutralized(value)
    return str(value)


def headers(columns: Iterable[ExportColumn], locale: str) -> list[str]:
    """The header row in ``locale``.

    Args:
        columns: The export's columns.
        locale: The reader's locale.

    Returns:
        One text per column.
    """
    return [translate(column.header, locale) for column in columns]


def csv_chunks(
    columns: list[ExportColumn] | tuple[ExportColumn, ...],
    rows: Iterable[tuple],
    locale: str,
    *,
    timezone: str | None = None,
    max_rows: int = MAX_ROWS,
) -> Iterator[bytes]:
    """A CSV file as UTF-8 chunks, BOM first, header row second, written as rows arrive.

    Numbers are plain digits (no grouping: every spreadsheet parses them), dates ``YYYY-MM-DD``
    and times ``YYYY-MM-DD HH:MM`` in the shop's timezone; text starting like a formula gets a
    leading apostrophe.

    Args:
        columns: The columns.
        rows: Row tuples, one value per column.
        locale: The reader's locale (headers, enum labels, yes/no).
        timezone: Shown timezone (default: the shop's).
        max_rows: Rows after which the file ends.

    Yields:
        Encoded chunks of about 64 KB.
    """
    timezone = timezone or settings.timezone
    converters = [_converter(column, locale, timezone) for column in columns]
    kinds = [column.kind for column in columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(_neutralized(text) for text in headers(columns, locale))
    for count, row in enumerate(rows):
        if count >= max_rows:
            break
        writer.writerow(
            _csv_text(convert(value), kind)
            for convert, kind, value in zip(converters, kinds, row, strict=False)
        )
        if buffer.tell() >= _CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _sheet_title(text: str) -> str:
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in text).strip("'")
    return cleaned[:31] or "Sheet1"


def write_xlsx(
    columns: list[ExportColumn] | tuple[ExportColumn, ...],
    rows: Iterable[tuple],
    locale: str,
    target: BinaryIO,
    *,
    title: str = "export.sheet.default",
    timezone: str | None = None,
    max_rows: int = MAX_ROWS,
) -> int:
    """Write an XLSX workbook: openpyxl's write-only workbook, with the data rows streamed in fast.

    One sheet: a bold header row, frozen below it, with an auto-filter and column widths; typed cells
    (numbers as numbers, dates and times as dates in the shop's timezone); text is always text, never
    a formula. Memory stays flat whatever the number of rows.

    How: openpyxl (write-only mode) builds the whole package (sheet name, styles, widths, frozen pane,
    header) with one *template* row whose typed cells fix each column's style. The package is then
    copied to ``target``, and in the worksheet the template row is replaced by the data rows, written
    the way openpyxl's write-only writer writes them (inline strings, numbers, date serials with the
    template's style) but without building a cell object per value: for a 17-column board row,
    openpyxl's own cell path manages about 3,000 rows per CPU second, this one about 40,000
    (``tests/benchmarks/bench_export.py``). Inline strings are never formulas, whatever they start with.

    Args:
        columns: The columns.
        rows: Row tuples, one value per column.
        locale: The reader's locale.
        target: A binary file object to write the workbook to (a file or a spooled temporary file).
        title: Catalog key of the sheet's name.
        timezone: Shown timezone (default: the shop's).
        max_rows: Rows after which the sheet ends.

    Returns:
        How many data rows were written.
    """
    timezone = timezone or settings.timezone
    with tempfile.TemporaryFile() as skeleton:
        styles = _skeleton(columns, locale, title, skeleton)
        skeleton.seek(0)
        with (
            zipfile.ZipFile(skeleton) as source,
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as package,
        ):
            for info in source.infolist():
                if not info.filename.startswith("xl/worksheets/sheet"):
                    package.writestr(info, source.read(info.filename))
                    continue
                head, _, tail = source.read(info.filename).decode("utf-8").partition(_TEMPLATE_ROW_START)
                tail = tail[tail.index("</row>") + len("</row>") :]
                entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                entry.compress_type = zipfile.ZIP_DEFLATED
                with package.open(entry, "w", force_zip64=True) as sheet:
                    sheet.write(head.encode("utf-8"))
                    count = 0
                    for chunk in _row_chunks(columns, rows, locale, timezone, styles, max_rows):
                        sheet.write(chunk[0])
                        count = chunk[1]
                    last = _column_letter(max(len(columns), 1))
                    # The filter covered the template row; now it covers every data row. (openpyxl
                    # writes "<autoFilter ... />" with or without lxml's spacing: match the attribute.)
                    tail = tail.replace(
                        f'<autoFilter ref="A1:{last}2"', f'<autoFilter ref="A1:{last}{count + 1}"'
                    )
                    sheet.write(tail.encode("utf-8"))
    return count


_TEMPLATE_ROW_START = '<row r="2">'
_TEMPLATE_SAMPLES = {
    "int": 0,
    "float": 0.5,
    "date": date(2000, 1, 1),
    "datetime": datetime(2000, 1, 1),
}


def _skeleton(columns, locale: str, title: str, target: BinaryIO) -> list[str]:
    """The openpyxl package with the header and one template row; each column's style attribute."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(translate(title, locale)))
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[_column_letter(index)].width = column.width
    bold = Font(bold=True)
    header_cells = []
    for text in headers(columns, locale):
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    template = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=_TEMPLATE_SAMPLES.get(column.kind, "x"))
        if column.kind in ("date", "datetime"):
            cell.number_format = _DATE_FORMAT if column.kind == "date" else _DATETIME_FORMAT
        template.append(cell)
    sheet.append(template)
    sheet.auto_filter.ref = f"A1:{_column_letter(max(len(columns), 1))}2"
    workbook.save(target)
    target.seek(0)
    with zipfile.ZipFile(target) as package:
        name = next(n for n in package.namelist() if n.startswith("xl/worksheets/sheet"))
        xml = package.read(name).decode("utf-8")
    row = xml[xml.index(_TEMPLATE_ROW_START) : xml.index("</row>", xml.index(_TEMPLATE_ROW_START))]
    found = dict(re.findall(r'<c r="([A-Z]+)2"(?: s="(\d+)")?', row))
    return [
        f' s="{found[_column_letter(i)]}"' if found.get(_column_letter(i)) else ""
        for i in range(1, len(columns) + 1)
    ]


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _excel_serial(value: date) -> float | int:
    """A date or naive datetime as a spreadsheet serial (days since 1899-12-30; 1900 and later)."""
    if isinstance(value, datetime):
        return (value - _EXCEL_EPOCH) / _DAY
    return (value - _EXCEL_EPOCH.date()).days


def _cell_writer(column: ExportColumn, letter: str, style: str, locale: str, timezone: str):
    """``(raw value, row number) → <c>`` XML for one column; "" for an empty value."""
    convert = _converter(column, locale, timezone)
    if column.kind == "int":
        return lambda value, row: (
            "" if value is None else f'<c r="{letter}{row}"{style} t="n"><v>{int(value)}</v></c>'
        )
    if column.kind == "float":
        return lambda value, row: (
            "" if value is None else f'<c r="{letter}{row}"{style} t="n"><v>{float(value)!r}</v></c>'
        )
    if column.kind in ("date", "datetime"):

        def serial(value: Any, row: int) -> str:
            value = convert(value)
            if value is None:
                return ""
            return f'<c r="{letter}{row}"{style} t="n"><v>{_excel_serial(value)!r}</v></c>'

        return serial

    bodies: dict[Any, str] = {}  # names, labels and numbers repeat: each is escaped once

    def body_of(value: Any) -> str:
        text = convert(value)
        if text is None:
            return ""
        space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
        return f"<is><t{space}>{_xml_text(text)}</t></is>"

    def text(value: Any, row: int) -> str:
        if value is None:
            return ""
        body = bodies.get(value)
        if body is None:
            body = body_of(value)
            if len(bodies) < _TEXT_CACHE:
                bodies[value] = body
        return f'<c r="{letter}{row}"{style} t="inlineStr">{body}</c>' if body else ""

    return text


def _row_chunks(columns, rows, locale: str, timezone: str, styles: list[str], max_rows: int):
    """``<row>`` XML of the data rows, in encoded chunks of about 64 KB, with the row count so far."""
    writers = [
        _cell_writer(column, _column_letter(index + 1), styles[index], locale, timezone)
        for index, column in enumerate(columns)
    ]
    parts: list[str] = []
    size = 0
    count = 0
    for row in rows:
        if count >= max_rows:
            break
        number = count + 2
        cells = "".join([write(value, number) for write, value in zip(writers, row, strict=False)])
        line = f'<row r="{number}">{cells}</row>'
        parts.append(line)
        size += len(line)
        count += 1
        if size >= _CHUNK:
            yield "".join(parts).encode("utf-8"), count
            parts, size = [], 0
    yield "".join(parts).encode("utf-8"), count


def export(
    columns: list[ExportColumn] | tuple[ExportColumn, ...],
    rows: Iterable[tuple],
    fmt: str,
    locale: str,
    *,
    title: str = "export.sheet.default",
    timezone: str | None = None,
    max_rows: int = MAX_ROWS,
) -> Iterator[bytes]:
    """Any table as a CSV or XLSX file, as a stream of bytes: the helper other reports plug into.

    Example (a KPI table)::

        columns = (ExportColumn("kpi.column.department"), ExportColumn("kpi.column.minutes", "float"))
        body = b"".join(export(columns, ((name, minutes) for name, minutes in table), "xlsx", locale))

    For a file too big for a websocket message (over ~1 MB), serve it from the ticketed HTTP
    route instead: see :func:`register_source`.

    Args:
        columns: The columns (header keys and kinds).
        rows: Row tuples, one value per column; consumed once, lazily.
        fmt: ``csv`` or ``xlsx``.
        locale: The reader's locale.
        title: Catalog key of the XLSX sheet name.
        timezone: Shown timezone (default: the shop's).
        max_rows: Rows after which the file ends.

    Returns:
        The file's bytes in chunks. CSV chunks come as rows are read; an XLSX workbook is spooled
        to a temporary file (bounded memory) and then read out in chunks.

    Raises:
        ValueError: On an unknown format.
    """
    if fmt == "csv":
        return csv_chunks(columns, rows, locale, timezone=timezone, max_rows=max_rows)
    if fmt == "xlsx":
        return _xlsx_chunks(columns, rows, locale, title, timezone, max_rows)
    raise ValueError(f"unknown export format {fmt!r}")


def _xlsx_chunks(columns, rows, locale, title, timezone, max_rows) -> Iterator[bytes]:
    with xlsx_spool(columns, rows, locale, title=title, timezone=timezone, max_rows=max_rows) as spool:
        while chunk := spool.read(_CHUNK):
            yield chunk


def xlsx_spool(
    columns: list[ExportColumn] | tuple[ExportColumn, ...],
    rows: Iterable[tuple],
    locale: str,
    *,
    title: str = "export.sheet.default",
    timezone: str | None = None,
    max_rows: int = MAX_ROWS,
) -> BinaryIO:
    """Write an XLSX workbook to an anonymous temporary file, rewound, for streaming out.

    The file has no name on disk (it disappears when closed, or when the process ends), so nothing
    is left behind by a download that is interrupted.

    Args:
        columns: The columns.
        rows: Row tuples.
        locale: The reader's locale.
        title: Catalog key of the sheet name.
        timezone: Shown timezone (default: the shop's).
        max_rows: Rows after which the sheet ends.

    Returns:
        The open file, at its start; the caller closes it.
    """
    spool = tempfile.TemporaryFile(prefix="wd-export-", suffix=".xlsx")  # noqa: SIM115 (returned open)
    try:
        write_xlsx(columns, rows, locale, spool, title=title, timezone=timezone, max_rows=max_rows)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


# --- sources: what can be exported through the ticketed route --------------------------------------

RowsFunction = Callable[[Session, Actor, dict[str, Any], datetime], Iterator[tuple]]


@dataclass(frozen=True)
class ExportSource:
    """A report the HTTP route can serve.

    Attributes:
        columns: Its columns.
        title: Catalog key of its sheet name.
        file_stem: ASCII start of the downloaded file's name (a timestamp and the format follow).
        parse: Validates the page's filters into JSON-ready arguments (raises ValidationError).
        rows: ``(db, actor, args, now)`` → row tuples, read lazily in keyset pages.
        authorize: The role check, at minting and again at download time.
    """

    columns: tuple[ExportColumn, ...]
    title: str
    file_stem: str
    parse: Callable[[Any], dict[str, Any]]
    rows: RowsFunction
    authorize: Callable[[Actor | None], Actor] = field(default=require_supervisor)


SOURCES: dict[str, ExportSource] = {}
"""Export name → source; the route serves ``/api/export/<name>.<fmt>`` for each."""


def register_source(name: str, source: ExportSource) -> None:
    """Make a report downloadable through the ticketed route as ``/api/export/<name>.<csv|xlsx>``.

    Args:
        name: Lower-case name (letters, digits, ``_``), unique.
        source: The report.

    Raises:
        ValueError: On a malformed or taken name.
    """
    if not name.replace("_", "").isalnum() or not name.islower() or name in SOURCES:
        raise ValueError(f"bad or taken export name {name!r}")
    SOURCES[name] = source


@dataclass(frozen=True)
class ExportLink:
    """Where the browser fetches an export: a ticketed URL (valid for a minute) and a file name."""

    url: str
    filename: str


def purpose(name: str, fmt: str) -> str:
    """The ticket purpose of one export file, e.g. ``export:board:xlsx``."""
    return f"export:{name}:{fmt}"


def filename(name: str, fmt: str, now: datetime) -> str:
    """The downloaded file's name: ``<stem>-YYYYMMDD-HHMM.<fmt>`` in the shop's time.

    Args:
        name: The export's name.
        fmt: ``csv`` or ``xlsx``.
        now: When.

    Returns:
        The ASCII file name.
    """
    stem = SOURCES[name].file_stem if name in SOURCES else name
    return f"{stem}-{_local(now, settings.timezone):%Y%m%d-%H%M}.{fmt}"


def source_of(name: Any, fmt: Any) -> ExportSource:
    """The source of an export name and format sent by a client.

    Args:
        name: The export's name.
        fmt: ``csv`` or ``xlsx``.

    Returns:
        The source.

    Raises:
        ValidationError: On an unknown name or format.
    """
    if not isinstance(fmt, str) or fmt not in FORMATS:
        raise ValidationError("export.error.unknown_format", "format", formats=", ".join(FORMATS))
    if not isinstance(name, str) or name not in SOURCES:
        raise ValidationError("export.error.unknown_report", "report")
    return SOURCES[name]


def export_link(
    db: Session,
    actor: Actor | None,
    session_token: Any,
    name: Any,
    fmt: Any,
    filters: Any = None,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> ExportLink:
    """Authorize an export and mint its download ticket; the page then sends the browser to the link.

    Args:
        db: Open session (may create the signing secret: committed by the unit of work).
        actor: The acting user.
        session_token: The browser's session token (the ticket is bound to that session).
        name: The report (``board``, ``work_orders``, or a registered one).
        fmt: ``csv`` or ``xlsx``.
        filters: The page's current filters, as the page holds them.
        clock: The current time (injected by tests).

    Returns:
        The ticketed URL and the file name.

    Raises:
        PermissionDeniedError: If the actor may not export this report.
        ValidationError: On an unknown report or format, or filters the page would refuse too.
    """
    source = source_of(name, fmt)
    source.authorize(actor)
    args = source.parse(filters)
    ticket = download_tickets.mint(
        db, actor, session_token, purpose(name, fmt), args, clock=clock, authorize=source.authorize
    )
    return ExportLink(url=f"/api/export/{name}.{fmt}?ticket={ticket}", filename=filename(name, fmt, clock()))


# --- the live board ---------------------------------------------------------------------------------

BOARD_COLUMNS = (
    ExportColumn("export.column.task", "int", width=9),
    ExportColumn("export.column.work_order", width=13),
    ExportColumn("export.column.customer", width=22),
    ExportColumn("export.column.product", width=22),
    ExportColumn("export.column.process", width=16),
    ExportColumn("export.column.department", width=16),
    ExportColumn("export.column.operator", width=16),
    ExportColumn("export.column.status", "enum", "task_status", width=13),
    ExportColumn("export.column.priority", "enum", "priority", width=10),
    ExportColumn("export.column.planned_quantity", "int", width=11),
    ExportColumn("export.column.good_quantity", "int", width=11),
    ExportColumn("export.column.defective_quantity", "int", width=11),
    ExportColumn("export.column.due", "datetime", width=17),
    ExportColumn("export.column.overdue", "bool", width=9),
    ExportColumn("export.column.started", "datetime", width=17),
    ExportColumn("export.column.completed", "datetime", width=17),
    ExportColumn("export.column.updated", "datetime", width=17),
)


def _board_args(raw: Any) -> dict[str, Any]:
    filters = board.parse_filters(raw)
    return {
        "status": filters.status,
        "department_id": str(filters.department_id or ""),
        "operator_id": str(filters.operator_id or ""),
        "order_number": filters.order_number,
        "kind": filters.kind,
        "overdue": "true" if filters.overdue else "",
        "search": filters.search,
        "sort": filters.sort,
    }


def _names(db: Session, model: type[Process | Department], locale: str) -> dict[int, str]:
    rows = db.exec(select(model.id, model.name, model.names)).all()
    return {row_id: localized_name(name, names, locale) for row_id, name, names in rows}


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _raw(column):
    """A timestamp read as the driver gives it, without SQLModel's per-value conversion to UTC.

    The export converts each timestamp once, to the shop's time (naive values, from SQLite, are UTC).
    """
    return type_coerce(column, DateTime(timezone=True)).label(column.key)


_BOARD_FIELDS = (
    Task.id,
    Task.work_order_id,
    Task.process_id,
    Task.assigned_department_id,
    Task.assigned_operator_id,
    Task.status,
    Task.priority,
    Task.production_quantity,
    Task.quantity_completed,
    Task.quantity_defective,
    _raw(Task.due_at),
    _raw(Task.started_at),
    _raw(Task.completed_at),
    _raw(Task.updated_at),
    Task.priority_rank,
)


def board_rows(
    db: Session, actor: Actor, args: dict[str, Any], now: datetime, *, batch: int = BATCH_ROWS
) -> Iterator[tuple]:
    """The board's rows under its filters and sort, in the board's order, by keyset pages.

    The filters are the board's own (``services/board.py``) and the order is the board's, so the file
    holds exactly the rows the board pages through, from the first to the last page; the keyset
    conditions are index range scans (:func:`_board_keysets`), so each page costs the same.

    Args:
        db: Open session (read only).
        actor: The acting supervisor (their locale names processes and departments).
        args: Filters as :func:`_board_args` validated them.
        now: The moment "overdue" is judged against.
        batch: Rows per query.

    Yields:
        One tuple per task, in :data:`BOARD_COLUMNS` order.
    """
    require_supervisor(actor)
    filters = board.parse_filters(args)
    conditions = board._conditions(db, filters, now)  # the board's own filter semantics
    processes, departments = _names(db, Process, actor.locale), _names(db, Department, actor.locale)
    customers = dict(db.exec(select(Customer.id, Customer.name)).all())
    products = {
        row_id: localized_name(name, names, actor.locale)
        for row_id, name, names in db.exec(select(Product.id, Product.name, Product.names)).all()
    }
    operators: dict[int, str] = {}
    # Core execution of plain columns: no ORM row processing on 100,000 rows.
    connection = db.connection()
    for order, after_where, phase in _board_keysets(filters.sort):
        after: tuple[Any, int] | None = None
        while True:
            page = connection.execute(
                select(*_BOARD_FIELDS, WorkOrder.order_number, WorkOrder.customer_id, WorkOrder.product_id)
                .join(WorkOrder, WorkOrder.id == Task.work_order_id)
                .where(*conditions, *phase, *(after_where(*after) if after else ()))
                .order_by(*order)
                .limit(batch)
            ).all()
            missing = {
                row.assigned_operator_id for row in page if row.assigned_operator_id
            } - operators.keys()
            if missing:
                operators |= dict(
                    db.exec(select(User.id, User.display_name).where(User.id.in_(missing))).all()
                )
            # Plain tuples, unpacked: the cheapest way through 100,000 rows in Python.
            for (
                task_id,
                _work_order_id,
                process_id,
                department_id,
                operator_id,
                status,
                priority,
                planned,
                good,
                scrap,
                due,
                started,
                completed,
                updated,
                _rank,
                number,
                customer_id,
                product_id,
            ) in map(tuple, page):
                if due is not None and due.tzinfo is None:
                    due = due.replace(tzinfo=UTC)
                yield (
                    task_id,
                    number,
                    customers.get(customer_id, ""),
                    products.get(product_id, ""),
                    processes.get(process_id, ""),
                    departments.get(department_id, ""),
                    operators.get(operator_id, ""),
                    status,
                    priority,
                    planned,
                    good,
                    scrap,
                    due,
                    due is not None and due < now and status in OPEN_TASK_STATUSES,
                    started,
                    completed,
                    updated,
                )
            if len(page) < batch:
                break
            last = page[-1]
            value = getattr(last, _SORT_COLUMN[filters.sort])
            after = (_aware(value) if isinstance(value, datetime) else value, last.id)


_SORT_COLUMN = {"newest": "id", "updated": "updated_at", "priority": "priority_rank", "due": "due_at"}


def _board_keysets(sort: str) -> list[tuple[list, Callable[[Any, int], list], list]]:
    """The board's orders as keyset scans an index can serve from end to end: (order, after, phase).

    The board's own page conditions (``services/board.py``) spell "after this row" with ``OR``s,
    which is right for one page but makes PostgreSQL read and sort everything left for every page
    of a bulk read. Here each condition is a row comparison on the sort's index (``(due_at, id) >
    (x, y)``), and the ``due`` sort (nulls last) is read in two phases: dated tasks, then undated.
    The rows and their order are the board's (the tests compare both, page by page).
    """
    if sort == "newest":
        return [([Task.id.desc()], lambda _value, last_id: [Task.id < last_id], [])]
    if sort in ("updated", "priority"):
        column = Task.updated_at if sort == "updated" else Task.priority_rank
        return [
            (
                [column.desc(), Task.id.desc()],
                lambda value, last_id: [tuple_(column, Task.id) < tuple_(value, last_id)],
                [],
            )
        ]
    return [
        (
            [Task.due_at.asc(), Task.id.asc()],
            lambda value, last_id: [tuple_(Task.due_at, Task.id) > tuple_(value, last_id)],
            [Task.due_at.is_not(None)],
        ),
        ([Task.id.asc()], lambda _value, last_id: [Task.id > last_id], [Task.due_at.is_(None)]),
    ]


# --- the work-order list ----------------------------------------------------------------------------

WORK_ORDER_COLUMNS = (
    ExportColumn("export.column.work_order", width=13),
    ExportColumn("export.column.customer", width=24),
    ExportColumn("export.column.product", width=24),
    ExportColumn("export.column.quantity", "int", width=11),
    ExportColumn("export.column.unit", width=8),
    ExportColumn("export.column.priority", "enum", "priority", width=10),
    ExportColumn("export.column.status", "enum", "work_order_status", width=13),
    ExportColumn("export.column.delivery_date", "date", width=13),
    ExportColumn("export.column.tasks", "int", width=8),
    ExportColumn("export.column.drafts", "int", width=8),
    ExportColumn("export.column.completed_tasks", "int", width=10),
    ExportColumn("export.column.created", "datetime", width=17),
    ExportColumn("export.column.notes", width=40),
)
_WORK_ORDER_FIELDS = (
    WorkOrder.id,
    WorkOrder.order_number,
    WorkOrder.quantity,
    WorkOrder.unit,
    WorkOrder.priority,
    WorkOrder.status,
    WorkOrder.delivery_date,
    WorkOrder.created_at,
    WorkOrder.notes,
)


def _work_order_args(raw: Any) -> dict[str, Any]:
    """The work-order list's filters, validated by the list's own rules (`work_orders.parse_filters`)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationError("error.filters_malformed")
    known = {name: raw.get(name) for name in work_orders.FILTER_NAMES if raw.get(name) not in (None, "")}
    return work_orders.parse_filters(**known).to_json()


def work_order_rows(
    db: Session, actor: Actor, args: dict[str, Any], now: datetime, *, batch: int = BATCH_ROWS
) -> Iterator[tuple]:
    """The work-order list's rows under its filters, newest first, by keyset pages on id.

    Args:
        db: Open session (read only).
        actor: The acting supervisor (their locale names products).
        args: Filters as :func:`_work_order_args` validated them.
        now: Unused (the list has no time-relative column).
        batch: Rows per query.

    Yields:
        One tuple per work order, in :data:`WORK_ORDER_COLUMNS` order.
    """
    require_supervisor(actor)
    args = _work_order_args(args)
    conditions = work_orders.filter_conditions(
        work_orders.parse_filters(**{name: value for name, value in args.items() if value not in (None, "")})
    )
    after: int | None = None
    while True:
        statement = (
            select(*_WORK_ORDER_FIELDS, Customer.name, Product.name, Product.names)
            .join(Customer, Customer.id == WorkOrder.customer_id)
            .join(Product, Product.id == WorkOrder.product_id)
            .where(*conditions, *([WorkOrder.id < after] if after else []))
            .order_by(WorkOrder.id.desc())
            .limit(batch)
        )
        page = db.execute(statement).all()
        if not page:
            return
        counts = {
            order_id: (total, int(drafts or 0), int(done or 0))
            for order_id, total, drafts, done in db.execute(
                select(
                    Task.work_order_id,
                    func.count(),
                    func.sum(case((Task.is_draft.is_(True), 1), else_=0)),
                    func.sum(case((Task.status == TaskStatus.COMPLETED, 1), else_=0)),
                )
                .where(Task.work_order_id.in_([row[0] for row in page]))
                .group_by(Task.work_order_id)
            ).all()
        }
        for (
            order_id,
            number,
            quantity,
            unit,
            priority,
            status,
            delivery,
            created,
            notes,
            customer,
            product,
            product_names,
        ) in page:
            total, drafts, done = counts.get(order_id, (0, 0, 0))
            yield (
                number,
                customer,
                localized_name(product, product_names, actor.locale),
                quantity,
                unit,
                priority,
                status,
                delivery,
                total,
                drafts,
                done,
                created,
                notes,
            )
        if len(page) < batch:
            return
        after = page[-1][0]


BOARD = ExportSource(BOARD_COLUMNS, "export.sheet.board", "board", _board_args, board_rows)
WORK_ORDERS = ExportSource(
    WORK_ORDER_COLUMNS, "export.sheet.work_orders", "work-orders", _work_order_args, work_order_rows
)
register_source("board", BOARD)
register_source("work_orders", WORK_ORDERS)
