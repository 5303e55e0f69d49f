"""Board exports on PostgreSQL: XLSX and CSV of 100,000 tasks through the ticketed HTTP route.

Figures: rows per second end to end (ticket checked, keyset pages read, file written and streamed),
the Python memory peak of one XLSX export (tracemalloc; flat whatever the row count), and the naive
baseline: the same rows written cell by cell through openpyxl's write-only worksheet.

Run alone: ``python -m tests.benchmarks.bench_export`` (``SCALE=small``: 20,000 rows).
"""

from __future__ import annotations

import io
import os
import time
import tracemalloc
import warnings

from sqlmodel import Session

from tests.benchmarks.bench_dispatch import copy_tasks
from tests.benchmarks.common import Results, bulk_work_orders, pg_database, scaled, shop
from work_dispatch.db import make_engine
from work_dispatch.models import utc_now
from work_dispatch.services import auth, exports

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette would rather have httpx2
    from starlette.testclient import TestClient

from work_dispatch.downloads import make_app

FILTERS = {"kind": "formal", "sort": "due"}


def _naive_xlsx_rate(db, actor, rows: int) -> float:
    """Rows/s of openpyxl's own write-only cell path on the same rows (the straightforward way)."""
    from openpyxl import Workbook

    args = exports._board_args(FILTERS)
    source = exports.board_rows(db, actor, args, utc_now())
    started = time.perf_counter()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Board")
    sheet.append(exports.headers(exports.BOARD_COLUMNS, actor.locale))
    converters = [exports._converter(c, actor.locale, "UTC") for c in exports.BOARD_COLUMNS]
    for count, row in enumerate(source):
        if count >= rows:
            break
        sheet.append([convert(value) for convert, value in zip(converters, row, strict=True)])
    workbook.save(io.BytesIO())
    return rows / (time.perf_counter() - started)


def run(results: Results, tmp) -> None:
    """XLSX and CSV export rates and memory on ``EXPORT_TASKS`` (100,000; small: 20,000) tasks."""
    size = int(os.environ.get("EXPORT_TASKS", 0)) or scaled(100_000, 20_000)
    with pg_database() as url:
        ids = shop(url, departments=10, operators_per_department=10, processes=10)
        bulk_work_orders(url, ids, max(size // 20, 1), ids["processes"][:5])
        operators = ids["operators"]
        copy_tasks(
            url,
            size,
            "assigned",
            department_of=lambda i: ids["departments"][i % 10],
            operator_of=lambda i: operators[i % len(operators)],
        )
        engine = make_engine(url)
        with Session(engine) as db:
            token, actor = auth.login(db, "bench_sup", "bench")
            db.commit()
        client = TestClient(make_app(lambda: engine))
        rates = {}
        for fmt in ("xlsx", "csv"):
            with Session(engine) as db:
                link = exports.export_link(db, actor, token, "board", fmt, FILTERS)
                db.commit()
            started, cpu = time.perf_counter(), time.process_time()
            response = client.get(link.url)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            assert response.status_code == 200, response.text[:200]
            rates[fmt] = (size / seconds, seconds, len(response.content), size / cpu)
            print(
                f"    {fmt}: {size:,} rows in {seconds:.2f} s, {len(response.content) / 1e6:.1f} MB",
                flush=True,
            )
        with Session(engine) as db:
            tracemalloc.start()
            rows = exports.board_rows(db, actor, exports._board_args(FILTERS), utc_now())
            with exports.xlsx_spool(exports.BOARD_COLUMNS, rows, actor.locale) as spool:
                spool.seek(0, 2)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            baseline_rows = min(size, 20_000)
            naive = _naive_xlsx_rate(db, actor, baseline_rows)
        engine.dispose()
    xlsx_rate, xlsx_seconds, xlsx_bytes, xlsx_cpu_rate = rates["xlsx"]
    results.add(
        "export.pg.rows_per_s",
        xlsx_rate,
        "rows/s",
        f"XLSX of {size:,} board rows through the HTTP route in {xlsx_seconds:.1f} s "
        f"({xlsx_bytes / 1e6:.1f} MB; {xlsx_cpu_rate:,.0f} rows per CPU second of this process, "
        f"load {os.getloadavg()[0]:.1f}); naive openpyxl cell path {naive:,.0f} rows/s "
        f"(on {baseline_rows:,} rows)",
        "≥ 20,000 rows/s, bounded memory",
    )
    results.add(
        "export.pg.xlsx_peak_mb",
        peak / 1e6,
        "MB",
        f"Python memory peak of one XLSX export of {size:,} rows (tracemalloc)",
    )
    results.add(
        "export.pg.csv_rows_per_s",
        rates["csv"][0],
        "rows/s",
        f"CSV of {size:,} board rows through the HTTP route in {rates['csv'][1]:.1f} s "
        f"({rates['csv'][3]:,.0f} rows per CPU second)",
    )


if __name__ == "__main__":
    from pathlib import Path

    collected = Results()
    run(collected, Path("/tmp"))
    print(collected.table())
