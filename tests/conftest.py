"""Shared fixtures: real SQLite and PostgreSQL databases, Redis, and the demo shop.

PostgreSQL and Redis tests skip with a reason on a laptop without them, but fail in CI
(``CI=true``), where every service must answer.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, SQLModel

from work_dispatch import models  # noqa: F401
from work_dispatch.__main__ import migrate
from work_dispatch.db import make_engine
from work_dispatch.services.actor import Actor
from work_dispatch.services.demo import load_reference_data

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get("WD_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_TEST_URL = os.environ.get("WD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def pytest_collection_modifyitems(config, items):
    """Run browser tests last: Playwright's sync API keeps an event loop running in the main thread."""
    items.sort(key=lambda item: "/e2e/" in str(item.fspath))


def unavailable(reason: str) -> None:
    """Skip on a developer machine, fail in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: services must be running)")
    pytest.skip(reason)


def _postgres_answers() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run, dropped afterwards."""
    if not _postgres_answers():
        unavailable("PostgreSQL is not answering at " + PG_ADMIN_URL.split("@")[-1])
    name = f"wd_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    """A fresh, migrated SQLite database file for this test run."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    migrate(url)
    return url


_ENGINES: dict[str, object] = {}


def _clean(engine) -> None:
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
            )
        else:
            for table in tables:
                connection.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request):
    """An engine on a clean database, once per backend."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    if url not in _ENGINES:
        _ENGINES[url] = make_engine(url)
    engine = _ENGINES[url]
    _clean(engine)
    return engine


@pytest.fixture
def pg_engine(pg_url):
    """An engine on a clean PostgreSQL database (for PostgreSQL-only tests)."""
    if pg_url not in _ENGINES:
        _ENGINES[pg_url] = make_engine(pg_url)
    engine = _ENGINES[pg_url]
    _clean(engine)
    return engine


@pytest.fixture
def db(engine) -> Iterator[Session]:
    """A session on the clean database."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def shop(db) -> dict[str, dict[str, int]]:
    """The demo shop's reference data (no work orders)."""
    return load_reference_data(db)


def actor_for(db: Session, username: str) -> Actor:
    """Resolve a user of the demo shop into an actor, as login would."""
    from sqlmodel import select

    from work_dispatch.services.auth import actor_for_user

    user = db.exec(select(models.User).where(models.User.username == username)).one()
    return actor_for_user(db, user)


@pytest.fixture
def supervisor(db, shop) -> Actor:
    """The demo supervisor ``super1``."""
    return actor_for(db, "super1")


@pytest.fixture
def redis_url() -> str:
    """The Redis test database URL; skips (or fails in CI) when Redis is down."""
    import redis

    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2).ping()
    except Exception:
        unavailable("Redis is not answering at " + REDIS_TEST_URL)
    return REDIS_TEST_URL


@pytest.fixture
def make_order(db, shop, supervisor):
    """Create (and by default approve) a work order of a demo product."""
    from work_dispatch.services import work_orders

    def make(product="POSTER", quantity=1000, priority="normal", approve=True, batch=None, customer=None):
        route = work_orders.default_route(db, shop["product"][product])
        if batch:
            for step in route:
                step["batch_size"] = batch.get(step["process_id"], None) if isinstance(batch, dict) else batch
        order = work_orders.create_work_order(
            db,
            supervisor,
            {
                "customer_id": customer or next(iter(shop["customer"].values())),
                "product_id": shop["product"][product],
                "quantity": quantity,
                "unit": "pcs",
                "priority": priority,
                "delivery_date": "2030-01-15",
                "notes": "",
                "route": route,
            },
        )
        if approve:
            work_orders.approve_work_order(db, supervisor, order.id)
        return order

    return make


def backend_waiting_on_a_lock(engine, timeout_s: float = 20.0) -> int:
    """Wait until some backend of the engine's PostgreSQL database waits on a lock; its pid.

    Args:
        engine: Engine on the database to watch.
        timeout_s: How long to wait before failing the test.

    Returns:
        The backend's process id.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            pid = connection.execute(
                text(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock' LIMIT 1"
                )
            ).scalar()
        if pid:
            return pid
        time.sleep(0.05)
    raise AssertionError("no backend waited on a lock")


def hold_first_planned_key(rival: Session, work_order_id: int) -> list[models.WorkOrderProcess]:
    """Insert, without committing, a draft holding the first generation key of a work order's route.

    A generation running meanwhile cannot see it, plans that key as new, and blocks on the
    unique index until the rival commits or rolls back.

    Args:
        rival: The session of the competing transaction (left open).
        work_order_id: The (not yet generated) work order.

    Returns:
        The work order's route, in sequence.
    """
    from sqlalchemy import insert
    from sqlmodel import select

    from work_dispatch.domain.generation import generation_key
    from work_dispatch.services.task_rows import new_task_row

    route = rival.exec(
        select(models.WorkOrderProcess)
        .where(models.WorkOrderProcess.work_order_id == work_order_id)
        .order_by(models.WorkOrderProcess.sequence)
    ).all()
    first = route[0]
    rival.execute(
        insert(models.Task).values(
            new_task_row(
                work_order_process_id=first.id,
                work_order_id=work_order_id,
                process_id=first.process_id,
                sequence=first.sequence,
                generation_key=generation_key(work_order_id, first.sequence, first.process_id, 1),
                production_quantity=1,
            )
        )
    )
    return list(route)
