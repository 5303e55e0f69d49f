"""Dispatch cycle, concurrent claims and single transitions on PostgreSQL."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session, func, select

from tests.benchmarks.common import (
    Results,
    Timer,
    bulk_work_orders,
    median,
    percentile,
    pg_database,
    scaled,
    shop,
)
from work_dispatch.db import make_engine
from work_dispatch.domain.enums import TaskEventKind
from work_dispatch.domain.errors import DomainError
from work_dispatch.models import Task, TaskEvent, WorkOrderProcess
from work_dispatch.services import dispatch, task_flow
from work_dispatch.services.auth import active_actors
from work_dispatch.services.task_rows import TASK_ROWS


def copy_tasks(
    url: str, count: int, status: str, *, department_of=None, operator_of=None, work_orders: int = 1000
) -> None:
    """Bulk-load ``count`` published tasks over ``work_orders`` work orders (setup, not measured)."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    now = datetime.now(UTC)
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        wops = cursor.execute(
            "SELECT id, work_order_id, process_id, sequence FROM work_order_process ORDER BY id"
        ).fetchall()
        layout = TASK_ROWS.batch(
            is_draft=False,
            status=status,
            production_quantity=100,
            planned_minutes=21.0,  # 15 min setup + 100 units at 1,000 an hour
            setup_minutes=15.0,
            created_at=now,
            updated_at=now,
            published_at=now,
        ).layout(
            (
                "work_order_process_id",
                "work_order_id",
                "process_id",
                "sequence",
                "generation_key",
                "assigned_department_id",
                "assigned_operator_id",
                "priority_rank",
                "due_at",
            )
        )
        with cursor.copy(f"COPY task ({', '.join(layout.columns)}) FROM STDIN") as copy:
            for i in range(count):
                wop_id, wo_id, process_id, sequence = wops[i % len(wops)]
                copy.write_row(
                    (
                        wop_id,
                        wo_id,
                        process_id,
                        sequence,
                        f"bench:{i}",
                        department_of(i) if department_of else None,
                        operator_of(i) if operator_of else None,
                        i % 4,
                        now + timedelta(hours=i % 500),
                        *layout.rest,
                    )
                )
        connection.commit()
        cursor.execute("ANALYZE task")
        connection.commit()


def _time_aware_shop(url: str, ids: dict) -> None:
    """Shifts round the clock, skills, check-in in half the departments, absences and time-aware rules."""
    from work_dispatch.models import (
        Absence,
        AssignmentRule,
        Department,
        Presence,
        Qualification,
        ShiftTemplate,
    )

    engine = make_engine(url)
    now = datetime.now(UTC)
    with Session(engine) as db:
        for index, department_id in enumerate(ids["departments"]):
            for name, start, end, overnight in (
                ("Early", "06:00", "14:00", False),
                ("Late", "14:00", "22:00", False),
                ("Night", "22:00", "06:00", True),
            ):
                db.add(
                    ShiftTemplate(
                        department_id=department_id,
                        name=name,
                        start_time=datetime.strptime(start, "%H:%M").time(),
                        end_time=datetime.strptime(end, "%H:%M").time(),
                        weekdays=0b1111111,
                        overnight=overnight,
                    )
                )
            department = db.get(Department, department_id)
            department.requires_check_in = index % 2 == 0
            db.add(department)
        rng = random.Random(7)
        for position, operator_id in enumerate(ids["operators"]):
            for process_id in ids["processes"]:
                db.add(Qualification(operator_id=operator_id, process_id=process_id, level=rng.randint(0, 3)))
            if position % 10 != 9:
                db.add(Presence(operator_id=operator_id, checked_in_at=now - timedelta(hours=1)))
            if position % 25 == 0:
                db.add(
                    Absence(
                        operator_id=operator_id,
                        start_at=now - timedelta(hours=2),
                        end_at=now + timedelta(hours=6),
                        reason="bench",
                    )
                )
        for index, rule in enumerate(db.exec(select(AssignmentRule)).all()):
            rule.strategy = ("due_date", "least_work")[index % 2]
            rule.min_level = 1
            db.add(rule)
        db.commit()
    engine.dispose()


def _dispatch(results: Results) -> None:
    pending = scaled(10_000, 1_000)
    with pg_database() as url:
        ids = shop(url, departments=20, operators_per_department=10, processes=20)
        bulk_work_orders(url, ids, max(pending // 20, 10), ids["processes"])
        copy_tasks(url, pending, "pending")
        engine = make_engine(url)
        with Session(engine) as db, Timer() as count_timer:
            count_report = dispatch.run_cycle(db, limit=pending, seed=1)
        assert count_report.assigned + count_report.queued == pending, count_report.summary()
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE task SET status='pending', assigned_operator_id=NULL, assigned_department_id=NULL"
                )
            )
        _time_aware_shop(url, ids)
        with Session(engine) as db, Timer() as timer:
            report = dispatch.run_cycle(db, limit=pending, seed=1)
        assert report.assigned + report.queued + report.unroutable == pending, report.summary()
        assert report.assigned > 0, report.summary()
        naive_count = scaled(300, 100)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE task SET status='pending', assigned_operator_id=NULL, assigned_department_id=NULL"
                )
            )
        with Timer() as naive_timer:
            for _ in range(naive_count):
                with Session(engine) as db:
                    dispatch.run_cycle(db, limit=1, seed=1)
        naive_rate = naive_count / naive_timer.seconds
        results.add(
            "dispatch.pg.cycle_s",
            timer.seconds,
            "s",
            f"{pending} pending tasks, 20 departments, 200 operators on three shifts with skills, check-in "
            f"in half the departments, absences; due_date and least_work rules ({report.summary()}; "
            f"count-based strategies on the same tasks without shifts: {count_timer.seconds:.2f} s)",
            "≤ 2 s",
        )
        results.add(
            "dispatch.pg.tasks_per_s",
            pending / timer.seconds,
            "tasks/s",
            f"naive one-task-per-transaction: {naive_rate:,.0f} tasks/s",
        )
        engine.dispose()


THINK_TIME_S = 1.0
"""Each claimer pauses up to this long between claims, like an operator tapping a tablet."""


def _claimer_process(url: str, actor, per_claimer: int, claimers: int, barrier, queue) -> None:
    """One claimer in its own process (no GIL sharing): claims ``per_claimer`` tasks from the pool."""
    engine = make_engine(url, pool_size=1)
    rng = random.Random(actor.user_id)
    latencies: list[float] = []
    refused = 0
    mine = 0
    with Session(engine) as db:
        db.exec(select(Task.id).limit(1)).all()
        db.rollback()
        barrier.wait()
        while mine < per_claimer:
            time.sleep(rng.uniform(0.0, THINK_TIME_S))
            candidates = list(
                db.exec(select(Task.id).where(Task.status == "queued").order_by(Task.id).limit(claimers))
            )
            db.rollback()
            if not candidates:
                break
            rng.shuffle(candidates)
            for task_id in candidates:
                started = time.perf_counter()
                try:
                    task_flow.claim(db, actor, task_id)
                    ok = True
                except DomainError:
                    db.rollback()
                    ok = False
                latencies.append((time.perf_counter() - started) * 1000)
                if ok:
                    mine += 1
                    break
                refused += 1
    engine.dispose()
    queue.put((latencies, refused))


def _claims(results: Results) -> None:
    import multiprocessing

    claimers = 50
    per_claimer = scaled(20, 6)
    with pg_database() as url:
        ids = shop(url, departments=1, operators_per_department=claimers, processes=1)
        bulk_work_orders(url, ids, 100, ids["processes"])
        copy_tasks(url, claimers * per_claimer * 2, "queued", department_of=lambda i: ids["departments"][0])
        engine = make_engine(url)
        with Session(engine) as db:
            actors = list(active_actors(db, ids["operators"]).values())
        engine.dispose()
        context = multiprocessing.get_context("fork")
        barrier, queue = context.Barrier(claimers), context.Queue()
        processes = [
            context.Process(target=_claimer_process, args=(url, a, per_claimer, claimers, barrier, queue))
            for a in actors
        ]
        for process in processes:
            process.start()
        outcomes = [queue.get(timeout=600) for _ in processes]
        for process in processes:
            process.join(timeout=60)
        latencies = [x for lat, _ in outcomes for x in lat]
        refused = sum(r for _, r in outcomes)
        engine = make_engine(url)
        with Session(engine) as db:
            claimed = db.exec(select(Task.id).where(Task.status == "assigned")).all()
            events = db.exec(select(TaskEvent.task_id).where(TaskEvent.kind == "claimed")).all()
        engine.dispose()
        assert len(claimed) == len(events) == len(set(events)), "a task was claimed twice"
        results.add(
            "claim.pg.p50_ms",
            median(latencies),
            "ms",
            f"{claimers} concurrent claimer processes (0–{THINK_TIME_S * 1000:.0f} ms think time) picking from the "
            f"first {claimers} pool tasks; "
            f"{len(claimed)} won, {refused} told 'already taken'",
        )
        results.add("claim.pg.p95_ms", percentile(latencies, 95), "ms", "0 double claims", "≤ 20 ms")


def _transitions(results: Results) -> None:
    size = scaled(1_000_000, 50_000)
    samples = scaled(300, 100)
    with pg_database() as url:
        ids = shop(url, departments=20, operators_per_department=10, processes=20)
        bulk_work_orders(url, ids, 5_000 if size > 100_000 else 500, ids["processes"])
        operators = ids["operators"]
        copy_tasks(url, size, "completed")
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE task SET status='assigned', assigned_operator_id=:op, assigned_department_id=:dep, "
                    "sequence=0 WHERE id IN (SELECT id FROM task ORDER BY id DESC LIMIT :n)"
                ),
                {"op": operators[0], "dep": ids["departments"][0], "n": samples * 2},
            )
            connection.execute(
                text("UPDATE user_department SET department_id=:dep WHERE user_id=:op"),
                {"dep": ids["departments"][0], "op": operators[0]},
            )
            # Keep one other task of each sampled process open: the common case, where completing a task
            # does not complete its whole process.
            connection.execute(
                text(
                    "UPDATE task SET status='queued' WHERE id IN (SELECT DISTINCT ON (t.work_order_process_id) t.id "
                    "FROM task t JOIN task s ON s.work_order_process_id = t.work_order_process_id "
                    "AND s.status = 'assigned' WHERE t.status = 'completed' ORDER BY t.work_order_process_id, t.id)"
                )
            )
        with Session(engine) as db:
            actor = active_actors(db, [operators[0]])[operators[0]]
            task_ids = db.exec(select(Task.id).where(Task.status == "assigned").order_by(Task.id)).all()
        ours: list[float] = []
        with Session(engine) as db:
            for task_id in task_ids[:samples]:
                for action in (task_flow.start, task_flow.complete):
                    started = time.perf_counter()
                    action(db, actor, task_id)
                    ours.append((time.perf_counter() - started) * 1000)
        naive: list[float] = []
        with Session(engine) as db:
            for task_id in task_ids[samples : samples * 2]:
                for target in ("in_progress", "completed"):
                    started = time.perf_counter()
                    task = db.get(Task, task_id)
                    task.status = target
                    db.add(task)
                    kind = TaskEventKind.STARTED if target == "in_progress" else TaskEventKind.COMPLETED
                    db.add(TaskEvent(task_id=task_id, actor_id=actor.user_id, kind=kind))
                    if target == "completed":
                        db.exec(
                            select(WorkOrderProcess).where(WorkOrderProcess.id == task.work_order_process_id)
                        ).one()
                    db.commit()
                    naive.append((time.perf_counter() - started) * 1000)
        handover = _handover_reports(engine, actor, ids, samples)
        results.add(
            "transition.pg.report_handover_p95_ms",
            percentile(handover, 95),
            "ms",
            f"a report that hands a transfer batch to the next process (cap check, compare-and-set on the "
            f"next step, notification) on {size:,} tasks; p50 {median(handover):.2f} ms",
            "≤ 5 ms",
        )
        results.add(
            "transition.pg.p95_ms",
            percentile(ours, 95),
            "ms",
            f"start/complete with CAS, event, notification checks on {size:,} tasks; "
            f"p50 {median(ours):.2f} ms; naive ORM read-modify-write p95 {percentile(naive, 95):.2f} ms",
            "≤ 5 ms",
        )
        engine.dispose()


def _handover_reports(engine, actor, ids: dict, samples: int) -> list[float]:
    """Latency of reports that unlock the next process: one first-step task per work order, batches set."""
    with engine.begin() as connection:
        connection.execute(text("UPDATE work_order_process SET transfer_batch = 50"))
        connection.execute(
            text(
                "UPDATE task SET status='in_progress', assigned_operator_id=:op, assigned_department_id=:dep, "
                "quantity_completed=0 WHERE id IN (SELECT DISTINCT ON (work_order_id) id FROM task "
                "WHERE sequence = 10 AND status = 'completed' ORDER BY work_order_id, id LIMIT :n)"
            ),
            {"op": actor.user_id, "dep": ids["departments"][0], "n": samples},
        )
    with Session(engine) as db:
        task_ids = db.exec(
            select(Task.id).where(Task.status == "in_progress", Task.sequence == 10).order_by(Task.id)
        ).all()
    latencies: list[float] = []
    with Session(engine) as db:
        for task_id in task_ids:
            started = time.perf_counter()
            task_flow.report_quantity(db, actor, task_id, 60)
            latencies.append((time.perf_counter() - started) * 1000)
    with Session(engine) as db:
        unlocked = db.exec(
            select(func.count())
            .select_from(WorkOrderProcess)
            .where(WorkOrderProcess.material_available_at.is_not(None))
        ).one()
    assert unlocked == len(task_ids), (unlocked, len(task_ids))
    return latencies


def run(results: Results, tmp) -> None:
    """Dispatch, claims, transitions."""
    print("dispatch cycle", flush=True)
    _dispatch(results)
    print("claims", flush=True)
    _claims(results)
    print("transitions", flush=True)
    _transitions(results)
