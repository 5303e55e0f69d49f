"""KPI chart queries on PostgreSQL with three years of history (1,000,000 tasks), with EXPLAIN.

The shop: 10 departments × 10 operators, 12 processes (with shift templates), work orders
of 6 route steps arriving evenly over three years (about 900 tasks a day). Each task waits, runs for one to three hours
(one in ten is paused once with a reason, then resumed), reports good and scrapped units and
completes; what would finish after "now" is still open (queued, assigned, in progress,
paused). Every task has the events the services write (published, dispatched, started,
reported, completed, ...), in time order, so ``task_event`` holds about five rows per task.
Rows go in with ``COPY``, built by ``TASK_ROWS`` like every other writer of tasks.

Measured: each chart's query (``services.kpi.CHARTS``) on the dashboard's default filters
(the last seven days, every department) and filtered to one department, p50/p95 over
repeated runs, with the scan nodes of its plan. Side by side, the naive way: the same charts
computed by loading the rows each one needs into Python and grouping there.
"""

from __future__ import annotations

import heapq
import json
import os
import random
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

from sqlmodel import Session, select

from tests.benchmarks.common import Results, Timer, median, percentile, pg_database, scaled, shop
from work_dispatch.db import make_engine
from work_dispatch.domain import flow
from work_dispatch.domain.enums import PauseReason, TaskEventKind
from work_dispatch.models import Task, TaskEvent
from work_dispatch.services import kpi
from work_dispatch.services.kpi import KpiFilters
from work_dispatch.services.task_rows import TASK_ROWS

ROUTE_LENGTH = 6
DEPARTMENTS = 10
OPERATORS_PER_DEPARTMENT = 10
PROCESSES = 12
HISTORY_DAYS = 3 * 365
PAUSE_REASONS = [reason.value for reason in PauseReason if reason != PauseReason.SHIFT_END]
NULL = "\\N"
"""COPY's text format for NULL."""
SCRAP_REASONS = ["MISREG", "COLOUR", "TORN"]
"""Scrap reason codes of every process (``defect_reason``); one report in four with scrap names none."""


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _seed(url: str, ids: dict, tasks: int, now: datetime, seed: int = 7) -> dict[str, int]:
    """Work orders, route steps, tasks and events over :data:`HISTORY_DAYS`, loaded with COPY."""
    import psycopg

    rng = random.Random(seed)
    orders = tasks // ROUTE_LENGTH
    start = now - timedelta(days=HISTORY_DAYS)
    step = (now - start) / orders
    departments, processes = ids["departments"], ids["processes"]
    operators_of = defaultdict(list)
    for index, operator in enumerate(ids["operators"]):
        operators_of[departments[index // OPERATORS_PER_DEPARTMENT]].append(operator)
    supervisor = ids["supervisor"]
    counts: Counter = Counter()
    layout = TASK_ROWS.batch(is_draft=False, allow_over_production=False).layout(
        (
            "id",
            "work_order_process_id",
            "work_order_id",
            "process_id",
            "sequence",
            "generation_key",
            "status",
            "assigned_department_id",
            "assigned_operator_id",
            "priority",
            "priority_rank",
            "due_at",
            "production_quantity",
            "quantity_completed",
            "quantity_defective",
            "pause_reason",
            "planned_minutes",
            "setup_minutes",
            "version",
            "created_at",
            "updated_at",
            "published_at",
            "started_at",
            "completed_at",
        )
    )
    pending_events: list[tuple] = []  # heap of (created_at, sequence, row)
    event_sequence = 0

    def event(at: datetime, task_id: int, actor: int | None, kind: str, data: dict) -> None:
        nonlocal event_sequence
        event_sequence += 1
        heapq.heappush(pending_events, (at, event_sequence, (task_id, actor, kind, json.dumps(data), at)))

    with psycopg.connect(_dsn(url)) as connection, connection.cursor() as cursor:
        reason_ids = {}
        for process in processes:
            for code in SCRAP_REASONS:
                reason_ids[(process, code)] = cursor.execute(
                    "INSERT INTO defect_reason (process_id, kind, code, name, names, is_active, sort_order) "
                    "VALUES (%s, 'scrap', %s, %s, '{}', true, 0) RETURNING id",
                    (process, code, code.title()),
                ).fetchone()[0]
        with (
            cursor.copy(
                "COPY work_order (id, order_number, customer_id, product_id, quantity, unit, priority, "
                "delivery_date, status, notes, created_by_id, created_at, updated_at, version) FROM STDIN"
            ) as copy_orders,
        ):
            order_rows = []
            for order in range(1, orders + 1):
                created = start + step * (order - 1)
                order_rows.append((order, created))
                copy_orders.write_row(
                    (
                        order,
                        f"K{order:09d}",
                        ids["customer"],
                        ids["product"],
                        1000 + order % 9000,
                        "pcs",
                        "normal",
                        (created + timedelta(days=2 + rng.random() * 2)).date(),
                        "in_progress",
                        "",
                        supervisor,
                        created,
                        created,
                        1,
                    )
                )
        wop_id = 0
        task_id = 0
        with (
            cursor.copy(
                "COPY work_order_process (id, work_order_id, process_id, sequence, department_id, status, "
                "quantity_completed, quantity_defective) FROM STDIN"
            ) as copy_steps,
        ):
            for order, _created in order_rows:
                for position in range(ROUTE_LENGTH):
                    wop_id += 1
                    process = processes[(order + position) % len(processes)]
                    copy_steps.write_row(
                        (
                            wop_id,
                            order,
                            process,
                            (position + 1) * 10,
                            departments[processes.index(process) % DEPARTMENTS],
                            "pending",
                            0,
                            0,
                        )
                    )
        completed_orders: list[int] = []
        spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (closed after its COPY)

        def spill(upto: datetime | None) -> None:
            while pending_events and (upto is None or pending_events[0][0] <= upto):
                task, actor, kind, data, at = heapq.heappop(pending_events)[2]
                who = NULL if actor is None else actor
                spool.write(f"{task}\t{who}\t{kind}\t{data}\t{at.isoformat()}\n")
                counts["events"] += 1

        with cursor.copy(f"COPY task ({', '.join(layout.columns)}) FROM STDIN") as copy_tasks:
            wop_id = 0
            for order, created in order_rows:
                ready = created + timedelta(minutes=30 + rng.random() * 120)
                order_done = True
                for position in range(ROUTE_LENGTH):
                    wop_id += 1
                    task_id += 1
                    process = processes[(order + position) % len(processes)]
                    department = departments[processes.index(process) % DEPARTMENTS]
                    operator = rng.choice(operators_of[department])
                    quantity = 1000 + order % 9000
                    setup = 15.0
                    planned = setup + quantity / 1000 * 60
                    started = ready + timedelta(minutes=rng.random() * 8 * 60)
                    worked = timedelta(minutes=planned * (0.7 + rng.random() * 0.8))
                    paused = rng.random() < 0.1
                    pause_at = started + worked / 2
                    pause_for = timedelta(minutes=5 + rng.random() * 90) if paused else timedelta()
                    finished = started + worked + pause_for
                    cancelled = rng.random() < 0.005
                    defective = rng.randrange(0, 30) if rng.random() < 0.3 else 0
                    published = created + timedelta(minutes=10)
                    quantity_completed = 0
                    started_at = completed_at = None
                    reason = ""
                    if cancelled:
                        status, updated = "cancelled", published + timedelta(hours=1)
                    elif finished <= now:
                        status, updated = "completed", finished
                        quantity_completed, started_at, completed_at = quantity, started, finished
                    elif started <= now:
                        status = "paused" if paused and pause_at <= now else "in_progress"
                        updated, started_at = started, started
                        reason = PAUSE_REASONS[order % len(PAUSE_REASONS)] if status == "paused" else ""
                    else:
                        status = ("queued", "assigned", "pending")[order % 3]
                        updated = published
                    order_done = order_done and status in ("completed", "cancelled")
                    counts[status] += 1
                    holder = (
                        operator if status in ("assigned", "in_progress", "paused", "completed") else None
                    )
                    copy_tasks.write_row(
                        (
                            task_id,
                            wop_id,
                            order,
                            process,
                            (position + 1) * 10,
                            f"kpi:{task_id}",
                            status,
                            None if status == "pending" else department,
                            holder,
                            "normal",
                            1,
                            created + timedelta(days=2),
                            quantity,
                            quantity_completed,
                            defective if status == "completed" else 0,
                            reason,
                            planned,
                            setup,
                            3,
                            created,
                            updated,
                            published,
                            started_at,
                            completed_at,
                            *layout.rest,
                        )
                    )
                    event(published, task_id, supervisor, TaskEventKind.PUBLISHED, {})
                    event(published, task_id, None, TaskEventKind.DISPATCHED, {"outcome": "assigned"})
                    if cancelled:
                        event(updated, task_id, supervisor, TaskEventKind.CANCELLED, {"reason": "bench"})
                    if started_at is not None:
                        event(started, task_id, operator, TaskEventKind.STARTED, {})
                        if paused and pause_at <= now:
                            why = PAUSE_REASONS[order % len(PAUSE_REASONS)]
                            event(pause_at, task_id, operator, TaskEventKind.PAUSED, {"reason": why})
                            if pause_at + pause_for <= now:
                                event(pause_at + pause_for, task_id, operator, TaskEventKind.RESUMED, {})
                    if completed_at is not None:
                        data = {"completed": quantity, "defective": defective, "over_production": False}
                        if defective and order % 4:
                            code = SCRAP_REASONS[order % len(SCRAP_REASONS)]
                            data |= {"scrap_reason": code, "scrap_reason_id": reason_ids[(process, code)]}
                        event(
                            completed_at - timedelta(minutes=1),
                            task_id,
                            operator,
                            TaskEventKind.REPORTED,
                            data,
                        )
                        event(completed_at, task_id, operator, TaskEventKind.COMPLETED, {})
                    ready = finished + timedelta(minutes=rng.random() * 60)
                if order_done:
                    completed_orders.append(order)
                spill(created)
        spill(None)
        spool.seek(0)
        with cursor.copy(
            "COPY task_event (task_id, actor_id, kind, data, created_at) FROM STDIN"
        ) as copy_events:
            while chunk := spool.read(1 << 20):
                copy_events.write(chunk)
        spool.close()
        cursor.execute("UPDATE work_order SET status = 'completed' WHERE id = ANY(%s)", (completed_orders,))
        for table in ("work_order", "work_order_process", "task"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        # Day and night shifts on most departments; the last one runs without shift templates.
        for department in departments[:-1]:
            cursor.execute(
                "INSERT INTO shift_template (department_id, name, start_time, end_time, weekdays, overnight, "
                "is_active) VALUES (%s, 'Day', '06:00', '14:00', 127, false, true), "
                "(%s, 'Late', '14:00', '22:00', 127, false, true)",
                (department, department),
            )
        connection.commit()
        connection.autocommit = True
        cursor.execute("VACUUM ANALYZE")
    counts["completed_orders"] = len(completed_orders)
    return dict(counts)


def _plan_nodes(db: Session, chart: str, filters: KpiFilters, now: datetime) -> list[str]:
    """The node types of the plans of one chart's statements (captured while it runs)."""
    from sqlalchemy import event

    statements: list[tuple[str, object]] = []

    def capture(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") or statement.lstrip().upper().startswith("WITH"):
            statements.append((statement, parameters))

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        kpi.CHARTS[chart](db, filters, "en", now)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    nodes: list[str] = []
    for statement, parameters in statements:
        if "FROM task" not in statement and "FROM task_event" not in statement:
            continue
        plan = db.connection().exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).scalar()
        nodes += _scans(plan[0]["Plan"])
    return nodes


def _scans(plan: dict) -> list[str]:
    found = []
    if "Scan" in plan["Node Type"]:
        found.append(f"{plan['Node Type']}({plan.get('Index Name') or plan.get('Relation Name')})")
    for child in plan.get("Plans", []):
        found += _scans(child)
    return found


def _naive(db: Session, chart: str, filters: KpiFilters, now: datetime) -> None:
    """The same chart the naive way: load the rows it needs and group them in Python."""
    zone = kpi.shop_zone()
    start, end = kpi._span(filters, zone)
    if chart == "throughput":
        since = kpi._midnight(now.astimezone(zone).date() - timedelta(days=1), zone)
        per_hour = Counter()
        for done in db.exec(select(Task.completed_at).where(Task.completed_at >= since)).all():
            per_hour[done.astimezone(zone).replace(minute=0, second=0, microsecond=0)] += 1
        for created, data in db.exec(
            select(TaskEvent.created_at, TaskEvent.data).where(
                TaskEvent.created_at >= since, TaskEvent.kind == TaskEventKind.REPORTED
            )
        ).all():
            per_hour[created.astimezone(zone).replace(minute=0, second=0, microsecond=0)] += data["completed"]
    elif chart in ("wip", "load"):
        totals = defaultdict(float)
        for task in db.exec(
            select(Task).where(Task.status.in_(["pending", "queued", "assigned", "in_progress", "paused"]))
        ).all():
            totals[(task.assigned_department_id, task.status)] += task.planned_minutes
    elif chart == "standard_actual":
        _domain_elapsed(db, start, end)
    elif chart == "on_time":
        done = db.exec(select(Task.work_order_id, Task.completed_at).where(Task.completed_at >= start)).all()
        latest = defaultdict(lambda: datetime.min.replace(tzinfo=UTC))
        for order, finished in done:
            latest[order] = max(latest[order], finished)
    elif chart == "downtime":
        db.exec(
            select(TaskEvent).where(TaskEvent.created_at >= start, TaskEvent.kind == TaskEventKind.PAUSED)
        ).all()
    elif chart == "scrap":
        db.exec(
            select(TaskEvent, Task.process_id)
            .join(Task, Task.id == TaskEvent.task_id)
            .where(TaskEvent.created_at >= start, TaskEvent.kind == TaskEventKind.REPORTED)
        ).all()


def _domain_elapsed(db: Session, start: datetime, end: datetime) -> tuple[dict, dict]:
    """Actual minutes per process and per completing operator in Python (``flow.elapsed_minutes``)."""
    done = db.exec(select(Task).where(Task.completed_at >= start, Task.completed_at < end)).all()
    by_task = defaultdict(list)
    for event in db.exec(
        select(TaskEvent)
        .where(TaskEvent.task_id.in_([t.id for t in done]))
        .order_by(TaskEvent.created_at, TaskEvent.id)
    ).all():
        by_task[event.task_id].append((event.kind, event.created_at, event.data, event.actor_id))
    per_process, per_operator = defaultdict(float), defaultdict(float)
    for task in done:
        minutes = flow.elapsed_minutes(by_task.get(task.id, ()))
        per_process[task.process_id] += minutes
        if task.assigned_operator_id is not None:
            per_operator[task.assigned_operator_id] += minutes
    return per_process, per_operator


def _time(function, repeats: int) -> list[float]:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def run(results: Results, tmp) -> None:
    """Each chart query on 1M tasks (50k with SCALE=small): p95 against the naive Python grouping."""
    size = int(os.environ.get("KPI_TASKS", 0)) or scaled(1_000_000, 50_000)
    repeats = scaled(30, 10)
    now = datetime.combine(date.today(), clock_time(15, 30), tzinfo=kpi.shop_zone()).astimezone(UTC)
    with pg_database("wd_bench_kpi") as url:
        ids = shop(
            url,
            departments=DEPARTMENTS,
            operators_per_department=OPERATORS_PER_DEPARTMENT,
            processes=PROCESSES,
        )
        with Timer() as seeding:
            counts = _seed(url, ids, size, now)
        print(
            f"    seeded {size:,} tasks, {counts['events']:,} events in {seeding.seconds:.0f} s: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()) if k != "events"),
            flush=True,
        )
        engine = make_engine(url)
        today = now.astimezone(kpi.shop_zone()).date()
        default = kpi.default_filters(today)
        one_department = KpiFilters(default.first_day, default.last_day, ids["departments"][2])
        worst = ("", 0.0)
        naive_worst = 0.0
        table = []
        with Session(engine) as db:
            for chart, query in kpi.CHARTS.items():
                row = [chart]
                for filters in (default, one_department):
                    query(db, filters, "en", now)  # warm the cache, as a live dashboard does
                    timings = _time(lambda q=query, f=filters: q(db, f, "en", now), repeats)
                    p95 = percentile(timings, 95)
                    if p95 > worst[1]:
                        worst = (f"{chart}{'' if filters is default else ' (one department)'}", p95)
                    row += [median(timings), p95]
                naive = _time(lambda c=chart: _naive(db, c, default, now), max(3, repeats // 5))
                naive_worst = max(naive_worst, percentile(naive, 95))
                row.append(percentile(naive, 95))
                row.append(" ".join(dict.fromkeys(_plan_nodes(db, chart, default, now))))
                table.append(row)
                print(
                    f"    {chart:16} p50 {row[1]:7.2f} ms  p95 {row[2]:7.2f} ms | one dept p50 {row[3]:7.2f} "
                    f"p95 {row[4]:7.2f} ms | naive p95 {row[5]:9.2f} ms | {row[6]}",
                    flush=True,
                )
            start, end = kpi._span(default, kpi.shop_zone())
            per_process, per_operator = _domain_elapsed(db, start, end)
            split = kpi.standard_actual(db, default, "en", now)
            off_by = max(
                [abs(r["actual"] - per_process[r["id"]]) for r in split.processes]
                + [abs(r["actual"] - per_operator[r["id"]]) for r in split.operators]
            )
            year = KpiFilters(today - timedelta(days=364), today)
            year_worst = max(
                (percentile(_time(lambda q=query: q(db, year, "en", now), scaled(5, 3)), 95), chart)
                for chart, query in kpi.CHARTS.items()
            )
            whole = _time(
                lambda: kpi.board(db, _bench_actor(db, ids), default, clock=lambda: now), scaled(10, 5)
            )
        seq_scans = [row[0] for row in table if "Seq Scan(task" in row[6]]
        results.add(
            "kpi.pg.p95_ms",
            worst[1],
            "ms",
            f"slowest chart query: {worst[0]}, {size:,} tasks / {counts['events']:,} events, "
            f"last {kpi.DEFAULT_RANGE_DAYS} days; naive (rows into Python) worst p95 {naive_worst:,.0f} ms"
            + (f"; SEQ SCAN on task: {seq_scans}" if seq_scans else "; index scans only"),
            "≤ 50 ms, index scans",
        )
        results.add(
            "kpi.standard_actual.off_by_min",
            off_by,
            "min",
            "largest gap between the SQL actual minutes (per process and operator, rounded) and "
            "domain/flow.elapsed_minutes over the same events (rounding only: ≤ 0.5)",
        )
        results.add(
            "kpi.pg.board_p95_ms",
            percentile(whole, 95),
            "ms",
            "every chart of one dashboard refresh (what one live push per locale and filter costs)",
        )
        results.add(
            "kpi.pg.year_range_p95_ms",
            year_worst[0],
            "ms",
            f"slowest chart over a whole year ({year_worst[1]}): the longest range the filters accept",
        )
        engine.dispose()


def _bench_actor(db: Session, ids: dict):
    from work_dispatch.services.auth import active_actors

    return next(iter(active_actors(db, [ids["supervisor"]]).values()))
