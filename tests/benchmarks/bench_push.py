"""Fan-out server time: one event concerning all of 500 sessions vs one of 500; naive per-session reload."""

from __future__ import annotations

import asyncio
import logging
import os
import time

from sqlmodel import Session

from tests.benchmarks.common import Results, bulk_work_orders, median, sqlite_database
from work_dispatch.db import make_engine
from work_dispatch.realtime.bus import BusEvent
from work_dispatch.realtime.registry import OPERATOR_VIEW, Watcher

SESSIONS = 500


def _seed(url: str) -> dict:
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from tests.benchmarks.common import shop
    from work_dispatch.models import Task
    from work_dispatch.services.task_rows import new_task_row

    ids = shop(url, departments=10, operators_per_department=SESSIONS // 10, processes=10)
    bulk_work_orders(url, ids, 50, ids["processes"])
    engine = make_engine(url)
    now = datetime.now(UTC)
    with Session(engine) as db:
        wops = db.exec(
            __import__("sqlmodel").select(
                __import__("work_dispatch.models", fromlist=["WorkOrderProcess"]).WorkOrderProcess
            )
        ).all()
        rows = []
        for i, wop in enumerate(wops):
            queued = i % 2 == 0
            rows.append(
                new_task_row(
                    work_order_process_id=wop.id,
                    work_order_id=wop.work_order_id,
                    process_id=wop.process_id,
                    sequence=wop.sequence,
                    generation_key=f"push:{i}",
                    is_draft=False,
                    status="queued" if queued else "assigned",
                    assigned_department_id=ids["departments"][i % 10],
                    assigned_operator_id=None if queued else ids["operators"][i % SESSIONS],
                    production_quantity=10,
                    created_at=now,
                    updated_at=now,
                )
            )
        db.execute(insert(Task), rows)
        db.commit()
    engine.dispose()
    return ids


def run(results: Results, tmp) -> None:
    """Server time of one flush to 500 operator sessions, and to one of them."""
    logging.getLogger("reflex").setLevel(logging.ERROR)
    with sqlite_database(tmp) as url:
        ids = _seed(url)
        os.environ["WD_DATABASE_URL"] = url
        from work_dispatch import db as db_module
        from work_dispatch import settings as settings_module

        settings_module.settings = settings_module.load_settings()
        db_module.settings = settings_module.settings
        db_module.get_engine.cache_clear()
        from work_dispatch.realtime.fanout import LiveFanout
        from work_dispatch.realtime.registry import REGISTRY
        from work_dispatch.services import runner, task_center
        from work_dispatch.states.task_center import TaskCenterState
        from work_dispatch.work_dispatch import app

        departments = {}
        with Session(make_engine(url)) as db:
            from sqlmodel import select

            from work_dispatch.models import UserDepartment

            for user_id, department_id in db.exec(
                select(UserDepartment.user_id, UserDepartment.department_id)
            ):
                departments[user_id] = frozenset({department_id})
        for index, operator_id in enumerate(ids["operators"][:SESSIONS]):
            REGISTRY.register(Watcher(f"bench-{index}", OPERATOR_VIEW, operator_id, departments[operator_id]))
        from work_dispatch.services.auth import active_actors

        async def check(watchers):
            # The bench's watchers have no browser session: re-check their users in one query instead.
            actors = await runner.run(active_actors, [w.user_id for w in watchers])
            return {w.token: actors.get(w.user_id) for w in watchers}

        fanout = LiveFanout(app, check=check, sweep_interval_s=0)
        fanout.connected_tokens = lambda: None
        # Naming every operator makes each flush push to all of them (unnamed, unchanged ones are skipped).
        everyone = BusEvent(
            "tasks_dispatched",
            task_ids=(1,),
            operator_ids=tuple(ids["operators"][:SESSIONS]),
            department_ids=tuple(ids["departments"]),
        )
        one = BusEvent(
            "tasks_dispatched", task_ids=(2,), operator_ids=(ids["operators"][3],), department_ids=()
        )

        async def measure(event: BusEvent, rounds: int) -> list[float]:
            timings = []
            for _ in range(rounds):
                started = time.perf_counter()
                await fanout.flush(event)
                timings.append((time.perf_counter() - started) * 1000)
            return timings

        async def naive(watchers) -> float:
            started = time.perf_counter()
            for watcher in watchers:
                key = (watcher.user_id, watcher.locale)
                data = await runner.run(task_center.overviews_for, [key])

                def apply(state, overview=data[key]) -> None:
                    state._apply(overview, set())

                await fanout.push_state(watcher.token, TaskCenterState, apply)
            return (time.perf_counter() - started) * 1000

        async def scenario():
            await measure(everyone, 1)
            all_times = await measure(everyone, 5)
            one_times = await measure(one, 20)
            naive_ms = await naive(REGISTRY.audience(everyone))
            return all_times, one_times, naive_ms

        all_times, one_times, naive_ms = asyncio.run(scenario())
        manager = type(app.state_manager).__name__
        results.add(
            "push.fanout_all_500_ms",
            median(all_times),
            "ms",
            f"{SESSIONS} operator sessions reloaded in bulk + pushed ({manager}; no socket I/O); "
            f"naive one reload per session {naive_ms:.0f} ms",
            "≤ 250 ms",
        )
        results.add(
            "push.fanout_one_of_500_ms",
            median(one_times),
            "ms",
            f"1 of {SESSIONS} registered sessions concerned",
            "≤ 10 ms",
        )
