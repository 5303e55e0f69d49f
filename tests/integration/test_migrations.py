"""Migrations build the schema on an empty database and agree with the models."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

from tests.conftest import PG_ADMIN_URL
from work_dispatch.__main__ import migrate
from work_dispatch.db import make_engine
from work_dispatch.services.demo import load_demo

# Lookups the reference design indexes; each must lead some index (its columns a left prefix).
REFERENCE_TASK_LOOKUPS = [
    ("assigned_department_id",),
    ("assigned_operator_id",),
    ("status",),
    ("assigned_department_id", "status"),
    ("work_order_process_id", "status"),
    ("created_at",),
    ("updated_at",),
    ("is_draft", "status"),
    ("assigned_operator_id", "status", "updated_at"),
]


def test_models_and_migrations_agree(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_reference_indexes_exist(engine):
    inspector = inspect(engine)
    indexes = [tuple(index["column_names"]) for index in inspector.get_indexes("task")]
    for lookup in REFERENCE_TASK_LOOKUPS:
        assert any(columns[: len(lookup)] == lookup for columns in indexes), lookup
    prefixes = [a for a in indexes for b in indexes if a != b and b[: len(a)] == a]
    assert prefixes == [], f"indexes that only repeat the start of another: {prefixes}"
    notification = {index["name"] for index in inspector.get_indexes("notification")}
    assert "ix_notification_recipient_read_created" in notification
    uniques = {tuple(c["column_names"]) for c in inspector.get_unique_constraints("assignment_rule")}
    assert ("process_id", "department_id") in uniques


def test_sqlite_runs_with_foreign_keys_and_wal(sqlite_url):
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request, tmp_path) -> Iterator[str]:
    """An empty database (not migrated), once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'upgrade.db'}"
        return
    request.getfixturevalue("pg_url")  # skips, or fails in CI, without PostgreSQL
    name = f"wd_upgrade_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _row_counts(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar()
            for table in ("work_order_process", "task", "task_event", "notification")
        }


def test_upgrade_keeps_every_task_event_and_notification(blank_url):
    migrate(blank_url, "0003")
    engine = make_engine(blank_url)
    with Session(engine) as db:
        load_demo(db)
    before = _row_counts(engine)
    assert before["task"] > 0 and before["task_event"] > 0 and before["notification"] > 0
    engine.dispose()

    migrate(blank_url)

    engine = make_engine(blank_url)
    assert _row_counts(engine) == before
    with engine.connect() as connection:
        wop_id, work_order_id, process_id = connection.execute(
            text("SELECT id, work_order_id, process_id FROM work_order_process ORDER BY id LIMIT 1")
        ).one()
        other_order = connection.execute(
            text("SELECT id FROM work_order WHERE id <> :id LIMIT 1"), {"id": work_order_id}
        ).scalar()
    insert = text(
        "INSERT INTO task (work_order_process_id, work_order_id, process_id, sequence, "
        "generation_key, is_draft, status, priority, priority_rank, production_quantity, "
        "quantity_completed, quantity_defective, allow_over_production, work_content, requirements, "
        "pause_reason, version, created_at, updated_at) VALUES (:wop, :wo, :p, 1, :key, true, "
        "'draft', 'normal', 1, 10, 0, 0, false, '', '', '', 1, :now, :now)"
    )
    row = {"wop": wop_id, "wo": work_order_id, "p": process_id, "now": datetime.now(UTC)}
    with engine.begin() as connection:
        connection.execute(insert, {**row, "key": "matches its route"})
    with pytest.raises(IntegrityError, match="(?i)foreign key"), engine.begin() as connection:
        connection.execute(insert, {**row, "wo": other_order, "key": "another order's route"})
    engine.dispose()
