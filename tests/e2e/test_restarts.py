"""Real restarts: our own PostgreSQL cluster and Redis server, the app on 2 workers, tablets connected.

Each test breaks one piece for real (a PostgreSQL restart, Redis killed with SIGKILL and started
again, the dispatcher worker killed with SIGKILL) and then checks that nothing was lost or doubled,
that the connected tablets show new work by themselves, without a reload, within seconds, and that
dispatch resumes. The machine's shared PostgreSQL and Redis are never touched: both services here are
private to this module, on ports of their own, and ended by their PIDs.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlmodel import Session

from tests.conftest import actor_for
from tests.e2e.conftest import TABLET, PrivatePostgres, PrivateRedis, ServedApp, login, screenshot, serve_app
from tests.e2e.seed import approved_order, engine_for, one_person_department, redis_bus_for, tasks_of
from work_dispatch.models import User
from work_dispatch.services import drafts

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

RECOVERY_S = 20
"""How long a tablet may take to show new work after a service is back ("within seconds", loaded CI)."""


@dataclass
class Shop:
    """The served app on private services, with two operator tablets open."""

    app: ServedApp
    url: str
    postgres: PrivatePostgres
    redis: PrivateRedis
    operators: list[dict]
    tablets: list
    orders: list[int]


@pytest.fixture(scope="module")
def own_postgres():
    """A PostgreSQL cluster of this module only."""
    postgres = PrivatePostgres()
    try:
        postgres.start()
        yield postgres
    finally:
        postgres.destroy()


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory):
    """A Redis server of this module only."""
    redis = PrivateRedis(tmp_path_factory.mktemp("own-redis"))
    try:
        redis.start()
        yield redis
    finally:
        redis.stop()


@pytest.fixture(scope="module")
def shop(own_postgres, own_redis, browser, tmp_path_factory):
    """The app with 2 workers on the private services, and one tablet per operator."""
    url = own_postgres.create_database("work_dispatch")
    env = {"REFLEX_REDIS_URL": own_redis.url, "GRANIAN_WORKERS": "2", "WD_DISPATCH_INTERVAL_S": "1"}
    app = serve_app(tmp_path_factory.mktemp("restarts"), url, env)
    contexts = []
    try:
        operators = [one_person_department(url, code) for code in ("RA", "RB")]
        engine = engine_for(url)
        with Session(engine) as db:  # room for every task these tests hand out
            for ids in operators:
                db.get(User, ids["operator"]).wip_limit = 50
            db.commit()
        engine.dispose()
        tablets = []
        for ids in operators:
            contexts.append(browser.new_context(viewport=TABLET, has_touch=True))
            tablet = contexts[-1].new_page()
            login(tablet, app.base_url, ids["username"])
            tablet.wait_for_selector("#my-tasks-empty")
            tablets.append(tablet)
        yield Shop(app, url, own_postgres, own_redis, operators, tablets, [])
    finally:
        for context in contexts:
            context.close()
        app.stop()


def _wait(check, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception:  # a service on its way back
            result = None
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(message)


def _new_work(shop: Shop) -> list[int]:
    """Publish one single-step work order per operator; the ids of their tasks, in operator order."""
    task_ids = []
    for ids in shop.operators:
        order_id, _ = approved_order(shop.url, [ids["process"]])
        with redis_bus_for(shop.url, shop.redis.url):
            engine = engine_for(shop.url)
            with Session(engine, expire_on_commit=False) as db:
                drafts.publish_drafts(db, actor_for(db, "super1"), work_order_id=order_id)
            engine.dispose()
        shop.orders.append(order_id)
        task_ids.append(tasks_of(shop.url, order_id)[0].id)
    return task_ids


def _tablets_show(shop: Shop, task_ids: list[int], timeout: float = RECOVERY_S) -> float:
    """Wait until each operator's tablet shows its task, with no reload; seconds it took."""
    started = time.monotonic()
    for tablet, task_id in zip(shop.tablets, task_ids, strict=True):
        remaining = max(1.0, timeout - (time.monotonic() - started))
        tablet.wait_for_selector(f'.my-task[data-task-id="{task_id}"]', timeout=remaining * 1000)
    return time.monotonic() - started


def _dispatcher(app: ServedApp, timeout: float = RECOVERY_S) -> dict:
    """The worker that holds the dispatcher lease, asked through /health with the monitoring token."""
    return _wait(
        lambda: (worker := app.health()["worker"])["dispatcher"] and worker,
        timeout,
        "no worker took the dispatcher lease",
    )


def _start_from_tablet(shop: Shop, operator: int, task_id: int) -> None:
    """The operator starts a task on the tablet; the database says it started."""
    tablet = shop.tablets[operator]
    tablet.click(f'.my-task[data-task-id="{task_id}"] .start-button')
    _wait(
        lambda: _status(shop.url, task_id) == "in_progress",
        RECOVERY_S,
        f"the tablet's Start on task {task_id} did not reach the database",
    )


def _status(url: str, task_id: int) -> str:
    engine = engine_for(url)
    with engine.connect() as connection:
        status = connection.execute(text("SELECT status FROM task WHERE id = :id"), {"id": task_id}).scalar()
    engine.dispose()
    return status


def _assert_whole(shop: Shop, started: set[int]) -> None:
    """Nothing lost or doubled: every task of this module's orders exactly once through each step."""
    engine = engine_for(shop.url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT t.id, t.status, t.assigned_operator_id,"
                " (SELECT count(*) FROM task_event e WHERE e.task_id = t.id AND e.kind = 'published'),"
                " (SELECT count(*) FROM task_event e WHERE e.task_id = t.id AND e.kind = 'dispatched'),"
                " (SELECT count(*) FROM task_event e WHERE e.task_id = t.id AND e.kind = 'started'),"
                " (SELECT count(*) FROM notification n WHERE n.task_id = t.id AND n.kind = 'task_assigned')"
                " FROM task t WHERE t.work_order_id = ANY(:orders) ORDER BY t.id"
            ),
            {"orders": shop.orders},
        ).all()
        doubled = connection.execute(
            text(
                "SELECT task_id, kind, count(*) FROM task_event"
                " WHERE kind IN ('published', 'dispatched', 'started')"
                " GROUP BY task_id, kind HAVING count(*) > 1"
            )
        ).all()
    engine.dispose()
    assert len(rows) == len(shop.orders), rows  # one task per order, none lost, none extra
    operators = {ids["operator"] for ids in shop.operators}
    for task_id, status, operator, published, dispatched, starts, notices in rows:
        expected = "in_progress" if task_id in started else "assigned"
        assert (status, published, dispatched, notices) == (expected, 1, 1, 1), (task_id, rows)
        assert starts == (1 if task_id in started else 0), (task_id, rows)
        assert operator in operators
    assert doubled == []


STARTED: set[int] = set()
"""Tasks this module's tests started from a tablet (the tests run in order on one shop)."""


def test_postgres_restart(shop):
    before = _new_work(shop)
    _tablets_show(shop, before)

    shop.postgres.stop("fast")  # every connection of both workers is cut
    _wait(lambda: shop.app.health(token=None) == {"status": "degraded"}, 10, "/health did not say degraded")
    time.sleep(2)  # a few failing dispatch cycles and pushes
    shop.postgres.start()
    _wait(lambda: shop.app.health(token=None) == {"status": "ok"}, RECOVERY_S, "/health did not recover")

    after = _new_work(shop)
    took = _tablets_show(shop, after)
    print(f"\nPostgreSQL restart: tablets showed new work {took:.1f} s after publishing")
    _dispatcher(shop.app)
    _start_from_tablet(shop, 0, before[0])
    STARTED.add(before[0])
    _assert_whole(shop, STARTED)


def test_redis_killed_and_started_again(shop):
    before = _new_work(shop)
    _tablets_show(shop, before)

    shop.redis.kill()
    # The pages say so instead of looking live while nothing works (redis_watch.py).
    for tablet in shop.tablets:
        tablet.wait_for_selector('#live-indicator[data-live="false"]', timeout=10_000)
    screenshot(shop.tablets[0], "restarts-tablet-while-redis-is-down")
    _wait(
        lambda: not shop.app.health()["worker"]["dispatcher"], 15, "a worker kept dispatching without Redis"
    )
    during = _new_work(shop)  # published while Redis is away: waits, not lost, dispatched once later
    time.sleep(2)
    assert {_status(shop.url, task_id) for task_id in during} == {"pending"}

    shop.redis.start()  # same port, empty: every page's server-side state is gone
    came_back = time.monotonic()
    for tablet in shop.tablets:
        tablet.wait_for_selector('#live-indicator[data-live="true"]', timeout=RECOVERY_S * 1000)
    _tablets_show(shop, during)
    shown_s = time.monotonic() - came_back
    print(f"\nRedis restart: the backlog was dispatched and shown {shown_s:.1f} s after Redis was back")
    _dispatcher(shop.app)
    after = _new_work(shop)
    _tablets_show(shop, after)
    # The page reloaded its session from the browser: the operator is still logged in and can act.
    _start_from_tablet(shop, 1, during[1])
    STARTED.add(during[1])
    assert all("/operator" in tablet.url for tablet in shop.tablets)
    _assert_whole(shop, STARTED)


def test_dispatcher_worker_killed(shop):
    before = _new_work(shop)
    _tablets_show(shop, before)

    leader = _dispatcher(shop.app)
    pid = leader["pid"]
    # Only ever a worker of the server this test started: same process group as its `reflex run`.
    assert os.getpgid(pid) == shop.app.process.pid and pid != shop.app.process.pid
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()

    successor = _dispatcher(shop.app)
    takeover_s = time.monotonic() - killed
    assert successor["pid"] != pid
    assert shop.app.process.poll() is None, "the server went down with its worker"
    after = _new_work(shop)
    took = _tablets_show(shop, after)
    print(f"\nDispatcher killed: lease taken over in {takeover_s:.1f} s; new work shown in {took:.1f} s")
    pids = {shop.app.health()["worker"]["pid"] for _ in range(20)}
    assert pid not in pids and len(pids) == 2, pids  # a replacement worker serves beside the survivor
    _start_from_tablet(shop, 0, after[0])
    STARTED.add(after[0])
    _assert_whole(shop, STARTED)
