"""Generation: N work orders × 6 processes by our service vs a naive ORM loop vs raw COPY."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from sqlalchemy import text
from sqlmodel import Session, select

from tests.benchmarks.common import (
    Results,
    Timer,
    bulk_work_orders,
    pg_database,
    scaled,
    shop,
    sqlite_database,
)
from work_dispatch.db import make_engine
from work_dispatch.domain.enums import TaskEventKind
from work_dispatch.models import Task, TaskEvent, WorkOrderProcess
from work_dispatch.services import generation
from work_dispatch.services.actor import Actor
from work_dispatch.services.task_rows import TASK_ROWS, new_task_row


def _reset(engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM task_event"))
        connection.execute(text("DELETE FROM task"))


def _naive(engine, actor_id: int, limit: int) -> tuple[int, float]:
    with Session(engine) as db:
        wops = db.exec(select(WorkOrderProcess).order_by(WorkOrderProcess.id).limit(limit)).all()
        with Timer() as timer:
            for wop in wops:
                task = Task(
                    **new_task_row(
                        work_order_process_id=wop.id,
                        work_order_id=wop.work_order_id,
                        process_id=wop.process_id,
                        sequence=wop.sequence,
                        generation_key=f"naive:{wop.id}",
                        production_quantity=1000,
                    )
                )
                db.add(task)
                db.flush()
                db.add(TaskEvent(task_id=task.id, actor_id=actor_id, kind=TaskEventKind.GENERATED))
                db.flush()
            db.commit()
    return len(wops), timer.seconds


def _copy(url: str, actor_id: int) -> tuple[int, float]:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        wops = cursor.execute(
            "SELECT id, work_order_id, process_id, sequence FROM work_order_process"
        ).fetchall()
        now = datetime.now(UTC)
        # Every column from the task row builder, the varying ones first: the loop stays raw.
        layout = TASK_ROWS.batch(production_quantity=1000, created_at=now, updated_at=now).layout(
            ("work_order_process_id", "work_order_id", "process_id", "sequence", "generation_key")
        )
        with Timer() as timer:
            with cursor.copy(f"COPY task ({', '.join(layout.columns)}) FROM STDIN") as copy:
                for wop_id, wo_id, process_id, sequence in wops:
                    copy.write_row((wop_id, wo_id, process_id, sequence, f"copy:{wop_id}", *layout.rest))
            task_ids = [
                r[0] for r in cursor.execute("SELECT id FROM task WHERE generation_key LIKE 'copy:%'")
            ]
            buffer = io.StringIO()
            data = json.dumps({})
            for task_id in task_ids:
                buffer.write(f"{task_id}\t{actor_id}\t{TaskEventKind.GENERATED}\t{data}\t{now.isoformat()}\n")
            buffer.seek(0)
            with cursor.copy(
                "COPY task_event (task_id, actor_id, kind, data, created_at) FROM STDIN"
            ) as copy:
                copy.write(buffer.read())
            connection.commit()
    return len(wops), timer.seconds


def run(results: Results, tmp) -> None:
    """Generate drafts for N work orders on PostgreSQL and SQLite, with baselines."""
    orders = scaled(10_000, 500)
    naive_limit = scaled(12_000, 600)
    print(f"generation: {orders} work orders × 6 processes", flush=True)
    for backend in ("pg", "sqlite"):
        context = pg_database() if backend == "pg" else sqlite_database(tmp)
        with context as url:
            ids = shop(url, departments=6, operators_per_department=2, processes=6)
            order_ids = bulk_work_orders(url, ids, orders, ids["processes"])
            engine = make_engine(url)
            actor = Actor(
                user_id=ids["supervisor"], username="bench_sup", display_name="Bench", role="supervisor"
            )
            with Session(engine) as db, Timer() as timer:
                reports = generation.generate_for_work_orders(db, actor, order_ids)
            created = sum(len(r.created) for r in reports.values())
            assert created == orders * 6, created
            ours = created / timer.seconds
            _reset(engine)
            naive_rows, naive_s = _naive(engine, ids["supervisor"], naive_limit)
            naive = naive_rows / naive_s
            results.add(
                f"generation.{backend}.tasks_per_s",
                ours,
                "tasks/s",
                f"{created} tasks + events in {timer.seconds:.2f} s; {ours / naive:.0f}× naive",
                "≥ 20,000/s on PG; ≥ 20× naive" if backend == "pg" else "",
            )
            results.add(
                f"generation.{backend}.naive_tasks_per_s",
                naive,
                "tasks/s",
                f"ORM add+flush per task (+ event), {naive_rows} tasks",
            )
            if backend == "pg":
                _reset(engine)
                copy_rows, copy_s = _copy(url, ids["supervisor"])
                copy_rate = copy_rows / copy_s
                results.add(
                    "generation.pg.copy_tasks_per_s",
                    copy_rate,
                    "tasks/s",
                    f"raw COPY of tasks + events; ours = {ours / copy_rate:.0%} of COPY",
                    "ours ≥ 40%",
                )
            engine.dispose()
