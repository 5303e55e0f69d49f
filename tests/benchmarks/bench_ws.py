"""Real websocket fan-out: N operator tablets as real socket.io clients, production configuration.

The app is served for real (``reflex run --env prod``) on PostgreSQL with Redis and two workers.
Five departments, N operators, each logged in through ``auth.login`` with a session of their own.
Every tablet is a python-socketio client that opens the task center exactly as Chromium does
(captured with Playwright's ``route_web_socket``): the websocket URL carries the tab's client token,
the ``Sec-WebSocket-Protocol`` is the Reflex version, and the socket.io CONNECT packet of namespace
``/_event`` carries ``{"event": hydrate_and_load with the session token under SessionState's full var
name, the compiled state hashes and router_data.pathname "/operator/", "state_schema": ...}``.

This process commits through the services (``drafts.publish_drafts`` of drafts with a preset
operator), whose events reach the workers over Redis, and times each commit until the tablet's
delta that carries the task arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import insert
from sqlmodel import Session, select

from tests.benchmarks.common import Results, bulk_work_orders, median, percentile, pg_database, scaled, shop
from tests.conftest import REDIS_TEST_URL
from tests.e2e.conftest import serve_app
from tests.e2e.seed import redis_bus_for
from work_dispatch.db import make_engine

DEPARTMENTS = 5
PATHNAME = "/operator/"
CONNECT_CONCURRENCY = 20
ROUND_GAP_S = 1.0
"""Quiet time after each one-operator commit: every delta it causes arrives well within it."""


@dataclass
class Tablet:
    """One operator's tablet: a socket.io client and what it received."""

    operator_id: int
    department_id: int
    session_token: str
    client_token: str = field(default_factory=lambda: str(uuid.uuid4()))
    client: Any = None
    loaded: asyncio.Event = field(default_factory=asyncio.Event)
    deltas: list[float] = field(default_factory=list)
    """Arrival times (epoch seconds) of every state delta."""
    seen: dict[int, float] = field(default_factory=dict)
    """Task id → when a delta first listed it among the tablet's own tasks."""


class Browserlike:
    """What Chromium sends when it opens a page of this app (computed from the app itself)."""

    def __init__(self) -> None:
        from reflex.compiler.utils import compile_state
        from reflex.state import State, state_snapshot_hashes
        from reflex_base.constants.state import FIELD_MARKER

        from work_dispatch.states.session import SessionState
        from work_dispatch.states.task_center import TaskCenterState
        from work_dispatch.work_dispatch import app  # noqa: F401  (registers every state)

        self.hashes = state_snapshot_hashes(compile_state(State))
        self.schema = State._to_frontend_schema()
        self.hydrate = f"{State.get_full_name()}.hydrate_and_load"
        self.token_var = f"{SessionState.get_full_name()}.session_token{FIELD_MARKER}"
        self.center = TaskCenterState.get_full_name()
        self.my_tasks = f"my_tasks{FIELD_MARKER}"
        self.loaded = f"loaded{FIELD_MARKER}"

    def auth(self, session_token: str) -> dict:
        """The CONNECT packet's payload of a first page load with a stored session."""
        return {
            "event": {
                "name": self.hydrate,
                "payload": {"vars": {self.token_var: session_token}, "hashes": self.hashes},
                "router_data": {"pathname": PATHNAME, "asPath": PATHNAME},
            },
            "state_schema": self.schema,
        }


def _seed(url: str, operators_per_department: int, drafts_each: int, pool_each: int) -> dict:
    """Shop, one work order whose route visits every department, drafts preset to each operator."""
    from work_dispatch.models import Task, WorkOrderProcess
    from work_dispatch.services.task_rows import new_task_row

    ids = shop(url, departments=DEPARTMENTS, operators_per_department=operators_per_department, processes=5)
    (order_id,) = bulk_work_orders(url, ids, 1, ids["processes"])
    engine = make_engine(url)
    now = datetime.now(UTC)
    with Session(engine) as db:
        steps = {w.process_id: w for w in db.exec(select(WorkOrderProcess)).all()}
        rows = []

        def row(key: str, index: int, **values) -> dict:
            step = steps[ids["processes"][index]]
            return new_task_row(
                work_order_process_id=step.id,
                work_order_id=order_id,
                process_id=step.process_id,
                sequence=step.sequence,
                generation_key=key,
                assigned_department_id=ids["departments"][index],
                production_quantity=100,
                created_at=now,
                updated_at=now,
                **values,
            )

        for position, operator_id in enumerate(ids["operators"]):
            index = position // operators_per_department
            for k in range(drafts_each):
                rows.append(
                    row(
                        f"ws:{operator_id}:{k}",
                        index,
                        is_draft=True,
                        status="draft",
                        assigned_operator_id=operator_id,
                    )
                )
        for index in range(DEPARTMENTS):
            for k in range(pool_each):
                rows.append(row(f"ws:pool:{index}:{k}", index, is_draft=False, status="queued"))
        db.execute(insert(Task), rows)
        db.commit()
        drafts: dict[int, list[int]] = {}
        for task_id, operator_id in db.exec(
            select(Task.id, Task.assigned_operator_id).where(Task.is_draft.is_(True)).order_by(Task.id)
        ).all():
            drafts.setdefault(operator_id, []).append(task_id)
    engine.dispose()
    ids["drafts"] = drafts
    return ids


def _sessions(url: str, operator_ids: list[int]) -> dict[int, str]:
    """One session per operator, opened through the login service (argon2 and all)."""
    from work_dispatch.models import User
    from work_dispatch.services import auth

    engine = make_engine(url)
    with Session(engine) as db:
        names = dict(db.exec(select(User.id, User.username).where(User.id.in_(operator_ids))).all())

    def login(operator_id: int) -> tuple[int, str]:
        with Session(engine) as db:
            token, _actor = auth.login(db, names[operator_id], "bench", "127.0.0.1")
        return operator_id, token

    with ThreadPoolExecutor(max_workers=4) as pool:
        tokens = dict(pool.map(login, operator_ids))
    engine.dispose()
    return tokens


def _workers(app) -> list:
    """The backend workers: the server's child processes running Reflex (not the frontend tools)."""
    import psutil

    found = []
    for process in psutil.Process(app.process.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            command = " ".join(process.cmdline())
            if "reflex" in command and "node" not in process.name():
                found.append(process)
    return found


def _rss_kib(processes) -> int:
    """Resident memory of the processes (VmRSS from /proc), in KiB."""
    total = 0
    for process in processes:
        with contextlib.suppress(OSError):
            for line in open(f"/proc/{process.pid}/status"):  # noqa: SIM115
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def _redis_connections(processes) -> int:
    """TCP connections from these processes to the Redis server."""
    import psutil

    port = urlparse(REDIS_TEST_URL).port or 6379
    count = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            count += sum(
                1
                for c in process.net_connections(kind="tcp")
                if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
            )
    return count


def _redis_keys_per_tablet(tablets: list[Tablet]) -> float:
    """Mean number of Redis keys that name a tablet's client token (one tablet's keys are printed)."""
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        sample = tablets[:: max(1, len(tablets) // 10)]
        keys = {
            t.client_token: [k.decode() for k in client.scan_iter(match=f"*{t.client_token}*")]
            for t in sample
        }
        first = sample[0].client_token
        names = sorted(key.replace(first, "<token>").rsplit(".", 1)[-1] for key in keys[first])
        print(f"  Redis keys of one tablet: {names}", flush=True)
        return statistics.mean(len(found) for found in keys.values())
    finally:
        client.close()


def _redis_info_clients() -> int:
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        return int(client.info("clients")["connected_clients"])
    finally:
        client.close()


async def _open(tablet: Tablet, base_url: str, page: Browserlike, http) -> None:
    """Open the task center the way the browser does and wait until the lists are loaded."""
    import socketio
    from reflex_base.constants import Reflex

    client = socketio.AsyncClient(
        reconnection=False,
        http_session=http,
        timestamp_requests=False,
        websocket_extra_options={"protocols": (Reflex.VERSION,)},
    )

    async def on_event(update: Any) -> None:
        now = time.time()
        delta = update.get("delta") if isinstance(update, dict) else None
        if not delta:
            return
        tablet.deltas.append(now)
        center = delta.get(page.center)
        if center is None:
            return
        for card in center.get(page.my_tasks) or ():
            tablet.seen.setdefault(card["id"], now)
        if center.get(page.loaded):
            tablet.loaded.set()

    client.on("event", on_event, namespace="/_event")
    tablet.client = client
    await client.connect(
        f"{base_url}?token={tablet.client_token}",
        headers={"Origin": base_url, "User-Agent": "bench_ws tablet"},
        auth=page.auth(tablet.session_token),
        transports=["websocket"],
        namespaces=["/_event"],
        socketio_path="/_event",
        wait_timeout=30,
    )
    await asyncio.wait_for(tablet.loaded.wait(), timeout=120)


@contextlib.contextmanager
def _service_session(url: str) -> Iterator[Session]:
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as db:
            yield db
    finally:
        engine.dispose()


def run(results: Results, tmp) -> None:
    """Serve the app on PostgreSQL + Redis (2 workers) and drive N real socket.io tablets."""
    import logging

    logging.getLogger("reflex").setLevel(logging.ERROR)
    tablets_total = scaled(500, 100)
    per_department = tablets_total // DEPARTMENTS
    rounds = scaled(40, 15)
    bursts = scaled(3, 2)
    with pg_database("wd_bench_ws") as url:
        ids = _seed(url, per_department, drafts_each=bursts + 2, pool_each=10)
        tokens = _sessions(url, ids["operators"])
        page = Browserlike()
        app = serve_app(
            tmp,
            url,
            {"REFLEX_REDIS_URL": REDIS_TEST_URL, "GRANIAN_WORKERS": "2", "WD_DISPATCH_INTERVAL_S": "600"},
            load_demo=False,
        )
        try:
            figures = asyncio.run(_scenario(app, url, ids, tokens, page, rounds, bursts))
        finally:
            app.stop()
    n = tablets_total
    note = (
        f"{n} socket.io tablets ({DEPARTMENTS} departments × {per_department}), PostgreSQL, Redis, 2 workers"
    )
    results.add(
        "push.ws_one_of_500_p50_ms",
        median(figures["one"]),
        "ms",
        f"commit of one task for one operator → that tablet's delta carrying it ({len(figures['one'])} rounds; {note})",
    )
    results.add("push.ws_one_of_500_p95_ms", percentile(figures["one"], 95), "ms", f"N={n}", "≤ 50 ms")
    results.add(
        "push.ws_all_500_last_ms",
        median(figures["last"]),
        "ms",
        f"N={n}: commit of one task for every operator → last tablet (median of {bursts} bursts; "
        f"first tablet {median(figures['first']):.0f} ms; missed {figures['missed']})",
        "≤ 250 ms",
    )
    results.add(
        "push.ws_sessions_pushed_per_event",
        statistics.mean(figures["pushed"]),
        "sessions",
        f"N={n}: tablets that received any delta after a one-operator change "
        f"(max {max(figures['pushed'])}); wrong-tablet deliveries {figures['leaks']}",
        "≤ 2",
    )
    results.add(
        "push.ws_kib_per_session",
        figures["kib_per_session"],
        "KiB",
        f"N={n}: workers' VmRSS growth from idle to all tablets loaded ÷ tablets "
        f"({figures['kib_after_bursts']:.0f} KiB after the bursts); "
        f"{figures['keys_per_tablet']:.1f} Redis keys per tablet",
        "≤ 100 KiB",
    )
    results.add(
        "push.ws_redis_connections_after_burst",
        figures["redis_connections"],
        "connections",
        f"N={n}: the workers' TCP connections to Redis after the bursts "
        f"(INFO clients on the shared Redis: {figures['redis_info_clients']})",
    )
    if figures.get("live_after_leave") is not None:
        results.add(
            "push.ws_live_sessions_after_leave",
            figures["live_after_leave"],
            "sessions",
            "registered live sessions (both workers' /health) a few seconds after every tablet left",
        )


async def _scenario(
    app, url: str, ids: dict, tokens: dict[int, str], page: Browserlike, rounds: int, bursts: int
):
    import aiohttp

    from work_dispatch.services import drafts
    from work_dispatch.services.auth import active_actors

    per_department = len(ids["operators"]) // DEPARTMENTS
    tablets = [
        Tablet(operator_id, ids["departments"][position // per_department], tokens[operator_id])
        for position, operator_id in enumerate(ids["operators"])
    ]
    workers = _workers(app)
    await asyncio.sleep(2.0)
    idle_kib = _rss_kib(workers)
    figures: dict[str, Any] = {}
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def open_one(tablet: Tablet) -> None:
        async with limit:
            await _open(tablet, app.base_url, page, http)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(open_one(t) for t in tablets))
        print(
            f"  {len(tablets)} tablets connected and loaded in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        await asyncio.sleep(3.0)
        workers = _workers(app)
        figures["kib_per_session"] = (_rss_kib(workers) - idle_kib) / len(tablets)
        figures["keys_per_tablet"] = _redis_keys_per_tablet(tablets)
        drafts_left = {operator_id: list(task_ids) for operator_id, task_ids in ids["drafts"].items()}
        by_operator = {t.operator_id: t for t in tablets}

        with redis_bus_for(url, REDIS_TEST_URL), _service_session(url) as db:
            supervisor = (await asyncio.to_thread(active_actors, db, [ids["supervisor"]]))[ids["supervisor"]]

            def publish_now(task_ids: list[int]) -> float:
                report = drafts.publish_drafts(db, supervisor, task_ids)
                # Committed, and published on the bus: a tablet may hear of it before this thread's
                # result reaches the event loop, so the time is taken here.
                committed = time.time()
                assert report.published == sorted(task_ids), report
                return committed

            async def publish(task_ids: list[int]) -> tuple[float, float]:
                asked = time.time()
                return asked, await asyncio.to_thread(publish_now, task_ids)

            one, pushed, leaks = [], [], 0
            chosen = random.Random(7).sample(tablets, min(rounds, len(tablets)))
            for tablet in chosen:
                for other in tablets:
                    other.deltas.clear()
                task_id = drafts_left[tablet.operator_id].pop()
                asked, committed = await publish([task_id])
                deadline = time.monotonic() + 10
                while task_id not in tablet.seen and time.monotonic() < deadline:
                    await asyncio.sleep(0.002)
                if task_id in tablet.seen:
                    one.append((tablet.seen[task_id] - committed) * 1000)
                await asyncio.sleep(ROUND_GAP_S)
                pushed.append(sum(1 for t in tablets if any(at >= asked for at in t.deltas)))
                leaks += sum(1 for t in tablets if t is not tablet and task_id in t.seen)
            figures.update(one=one, pushed=pushed, leaks=leaks)

            last, first, missed = [], [], 0
            for _ in range(bursts):
                batch = {t.operator_id: drafts_left[t.operator_id].pop() for t in tablets}
                _, committed = await publish(list(batch.values()))
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and any(
                    task_id not in by_operator[op].seen for op, task_id in batch.items()
                ):
                    await asyncio.sleep(0.005)
                arrivals = [by_operator[op].seen.get(task_id) for op, task_id in batch.items()]
                missed += sum(1 for a in arrivals if a is None)
                arrived = [a for a in arrivals if a is not None]
                last.append((max(arrived) - committed) * 1000)
                first.append((min(arrived) - committed) * 1000)
                await asyncio.sleep(2.0)
            figures.update(last=last, first=first, missed=missed)
        figures["redis_connections"] = _redis_connections(_workers(app))
        figures["redis_info_clients"] = _redis_info_clients()
        figures["kib_after_bursts"] = (_rss_kib(_workers(app)) - idle_kib) / len(tablets)
    finally:
        await asyncio.gather(*(t.client.disconnect() for t in tablets if t.client), return_exceptions=True)
        await http.close()
    figures["live_after_leave"] = await asyncio.to_thread(_live_sessions_after_leave, app)
    return figures


def _live_sessions_after_leave(app) -> int | None:
    """Sessions both workers still register a few seconds after every tablet left (None if unknown)."""
    health = getattr(app, "health", None)
    if health is None:
        return None
    time.sleep(float(os.environ.get("WS_LEAVE_WAIT_S", "12")))
    per_worker: dict[int, int] = {}
    for _ in range(20):
        with contextlib.suppress(Exception):
            worker = health().get("worker") or {}
            if "pid" in worker:
                per_worker[worker["pid"]] = worker.get("live_sessions", 0)
        if len(per_worker) >= 2:
            break
    return sum(per_worker.values()) if per_worker else None
