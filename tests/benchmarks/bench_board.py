"""Board queries with 100,000 tasks on PostgreSQL: first page under each filter, with EXPLAIN."""

from __future__ import annotations

import json
import os
import time

from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, select

from tests.benchmarks.bench_dispatch import copy_tasks
from tests.benchmarks.common import Results, bulk_work_orders, median, percentile, pg_database, scaled, shop
from work_dispatch.db import make_engine
from work_dispatch.models import Task, WorkOrder
from work_dispatch.services import board
from work_dispatch.services.auth import active_actors

STATUSES = ["queued", "assigned", "in_progress", "paused", "completed", "pending"]


def _filters(ids: dict, order_number: str) -> dict[str, dict]:
    return {
        "all": {},
        "status": {"status": "in_progress"},
        "department": {"department_id": ids["departments"][3]},
        "operator": {"operator_id": ids["operators"][7]},
        "work_order": {"order_number": order_number},
        "drafts": {"kind": "draft"},
        "overdue": {"overdue": True},
        "search": {"search": "Process 4"},
        "sort_updated": {"sort": "updated"},
        "sort_due": {"sort": "due"},
        "sort_priority": {"sort": "priority"},
        "department_status": {"department_id": ids["departments"][5], "status": "assigned"},
    }


def _plan(db: Session, statement) -> dict:
    compiled = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    return db.exec(text(f"EXPLAIN (FORMAT JSON) {compiled}")).one()[0][0]["Plan"]


def _nodes(plan: dict) -> list[str]:
    found = [plan["Node Type"]]
    for child in plan.get("Plans", []):
        found += _nodes(child)
    return found


def run(results: Results, tmp) -> None:
    """First-page latency per filter, next-page latency, and the OFFSET baseline."""
    size = int(os.environ.get("BOARD_TASKS", 0)) or scaled(100_000, 20_000)
    departments = 20
    with pg_database() as url:
        ids = shop(url, departments=departments, operators_per_department=10, processes=20)
        bulk_work_orders(url, ids, size // 20, ids["processes"])
        operators = ids["operators"]
        copy_tasks(
            url,
            size,
            "assigned",
            department_of=lambda i: ids["departments"][i % departments],
            operator_of=lambda i: operators[i % len(operators)],
        )
        engine = make_engine(url)
        with engine.begin() as connection:
            for index, status in enumerate(STATUSES):
                connection.execute(
                    text("UPDATE task SET status=:s WHERE id % 6 = :k"), {"s": status, "k": index}
                )
            connection.execute(text("UPDATE task SET is_draft=true, status='draft' WHERE id % 50 = 0"))
            connection.execute(text("ANALYZE"))
        with Session(engine) as db:
            actor = next(iter(active_actors(db, [ids["supervisor"]]).values()))
            order_number = db.exec(select(WorkOrder.order_number).limit(1).offset(37)).one()
            worst_p95 = 0.0
            scans: dict[str, str] = {}
            worst_service = 0.0
            for name, filters in _filters(ids, order_number).items():
                timings, service = [], []
                statement = board.page_statement(db, board.parse_filters(filters), None, 50)
                for _ in range(scaled(30, 10)):
                    started = time.perf_counter()
                    db.exec(statement).all()
                    timings.append((time.perf_counter() - started) * 1000)
                    started = time.perf_counter()
                    board.query_page(db, actor, filters, None, 50)
                    service.append((time.perf_counter() - started) * 1000)
                worst_service = max(worst_service, percentile(service, 95))
                plan = _plan(db, statement)
                nodes = _nodes(plan)
                scans[name] = next((n for n in nodes if "Scan" in n), nodes[0])
                worst_p95 = max(worst_p95, percentile(timings, 95))
                print(
                    f"    {name:18} query p50 {median(timings):6.2f} ms  p95 {percentile(timings, 95):6.2f} ms  "
                    f"service p95 {percentile(service, 95):6.2f} ms  {' > '.join(nodes)}",
                    flush=True,
                )
            page = board.query_page(db, actor, {}, None, 50)
            for _ in range(20):
                page = board.query_page(db, actor, {}, page.next_cursor, 50)
            deep_cursor = page.next_cursor
            keyset, offset = [], []
            for _ in range(scaled(30, 10)):
                started = time.perf_counter()
                board.query_page(db, actor, {}, deep_cursor, 50)
                keyset.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                db.exec(
                    select(Task)
                    .where(Task.is_draft.is_(False))
                    .order_by(Task.id.desc())
                    .offset(size // 2)
                    .limit(50)
                ).all()
                offset.append((time.perf_counter() - started) * 1000)
        not_indexed = [n for n, s in scans.items() if s == "Seq Scan"]
        results.add(
            "board.query_pg_p95_ms",
            worst_p95,
            "ms",
            f"worst first page of {len(scans)} filters/sorts on {size:,} tasks; scans: "
            + json.dumps(scans).replace('"', "")
            + (f"; SEQ SCAN: {not_indexed}" if not_indexed else "")
            + f"; whole service call incl. names p95 {worst_service:.2f} ms",
            "≤ 10 ms, index scans",
        )
        results.add(
            "board.keyset_deep_page_ms",
            median(keyset),
            "ms",
            f"page 21 by keyset; naive OFFSET {size // 2:,} p50 {median(offset):.2f} ms",
        )
        engine.dispose()
