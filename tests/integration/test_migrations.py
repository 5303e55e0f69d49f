"""Migrations build the schema on an empty database and agree with the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

EXPECTED_TASK_INDEXES = {
    "ix_task_assigned_department",
    "ix_task_assigned_operator",
    "ix_task_status",
    "ix_task_department_status",
    "ix_task_wop_status",
    "ix_task_created_at",
    "ix_task_updated_at",
    "ix_task_is_draft_status",
    "ix_task_operator_status_updated",
}


def test_models_and_migrations_agree(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_reference_indexes_exist(engine):
    inspector = inspect(engine)
    names = {index["name"] for index in inspector.get_indexes("task")}
    assert names >= EXPECTED_TASK_INDEXES
    notification = {index["name"] for index in inspector.get_indexes("notification")}
    assert "ix_notification_recipient_read_created" in notification
    uniques = {tuple(c["column_names"]) for c in inspector.get_unique_constraints("assignment_rule")}
    assert ("process_id", "department_id") in uniques


def test_sqlite_runs_with_foreign_keys_and_wal(sqlite_url):
    from sqlalchemy import text

    from work_dispatch.db import make_engine

    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()
