"""Migrations build the schema on an empty database and agree with the models."""

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

from tests.conftest import PG_ADMIN_URL
from work_dispatch.__main__ import migrate
from work_dispatch.db import make_engine
from work_dispatch.i18n import LOCALES
from work_dispatch.models import AssignmentRule, Notification, Process, TaskEvent
from work_dispatch.services.demo import load_demo, load_reference_data
from work_dispatch.services.notifications import render_stored

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


def _downgrade(url: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from work_dispatch.settings import PROJECT_ROOT

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.downgrade(config, revision)


def test_upgrade_keeps_every_task_event_and_notification(blank_url):
    # The demo is written by today's code into today's schema, then the schema goes back to 0003
    # and forward again: rows must survive both ways, and no test here names today's columns.
    migrate(blank_url)
    engine = make_engine(blank_url)
    with Session(engine) as db:
        load_demo(db)
    before = _row_counts(engine)
    assert before["task"] > 0 and before["task_event"] > 0 and before["notification"] > 0
    engine.dispose()

    _downgrade(blank_url, "0003")
    engine = make_engine(blank_url)
    assert _row_counts(engine) == before
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


def _rendered_notifications(engine) -> dict[int, dict[str, tuple[str, str]]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(Notification.id, Notification.message).order_by(Notification.id)
        ).all()
    return {
        row_id: {locale: render_stored(message, locale) for locale in LOCALES} for row_id, message in rows
    }


def _dispatch_reasons(engine) -> dict[int, Any]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(TaskEvent.id, TaskEvent.data).where(TaskEvent.kind == "dispatched").order_by(TaskEvent.id)
        ).all()
    return {event_id: data.get("reason") for event_id, data in rows}


def test_notifications_and_reasons_written_as_english_sentences_become_messages(blank_url):
    # Today's demo, rendered in both locales, is taken back to 0005, where the rows hold the English
    # sentences the code of that time wrote; upgrading parses them back into keys and parameters.
    migrate(blank_url)
    engine = make_engine(blank_url)
    with Session(engine) as db:
        load_reference_data(db)
        db.execute(update(Process).values(names={}))  # the code of 0005 knew one name per process
        # ... and only the count-based strategies (time-aware ones explain in sentences it never wrote).
        db.execute(
            update(AssignmentRule)
            .where(AssignmentRule.strategy.in_(["due_date", "least_work"]))
            .values(strategy="least_tasks")
        )
        db.commit()
        load_demo(db)
    before, reasons = _rendered_notifications(engine), _dispatch_reasons(engine)
    assert before and reasons and all(isinstance(r, dict) for r in reasons.values())
    engine.dispose()

    _downgrade(blank_url, "0005")
    engine = make_engine(blank_url)
    with engine.begin() as connection:
        sentences = connection.execute(text("SELECT id, title, body FROM notification ORDER BY id")).all()
        assert [(t, b) for _, t, b in sentences] == [before[i]["en"] for i, _, _ in sentences]
        assert any(t.startswith("New task #") for _, t, _ in sentences)
        recipient, kind = connection.execute(
            text("SELECT recipient_id, kind FROM notification LIMIT 1")
        ).one()
        connection.execute(
            text(
                "INSERT INTO notification (recipient_id, kind, title, body, is_read, created_at) "
                "VALUES (:r, :k, :t, :b, false, :now)"
            ),
            [
                {
                    "r": recipient,
                    "k": kind,
                    "t": "A note the old code never wrote",
                    "b": "",
                    "now": datetime.now(UTC),
                },
                {
                    "r": recipient,
                    "k": kind,
                    "t": "Task #7 cancelled",
                    "b": "油墨不够了",
                    "now": datetime.now(UTC),
                },
            ],
        )
        odd_event = min(reasons)
        connection.execute(
            text("UPDATE task_event SET data = :data WHERE id = :id"),
            {"id": odd_event, "data": json.dumps({"outcome": "queued", "reason": "an older sentence"})},
        )
    engine.dispose()

    migrate(blank_url)
    engine = make_engine(blank_url)
    after = _rendered_notifications(engine)
    added = sorted(set(after) - set(before))
    assert {i: after[i] for i in before} == before  # every known sentence reads in both locales again
    assert [after[i] for i in added] == [
        {"en": ("A note the old code never wrote", ""), "zh-CN": ("A note the old code never wrote", "")},
        {"en": ("Task #7 cancelled", "油墨不够了"), "zh-CN": ("任务 #7 已取消", "油墨不够了")},
    ]
    upgraded = _dispatch_reasons(engine)
    assert upgraded.pop(odd_event) == "an older sentence"  # unknown: kept, shown as it is
    assert upgraded == {i: r for i, r in reasons.items() if i != odd_event}
    engine.dispose()


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        (
            "New task #12 · 202612003",
            "Olga Ivanova had the fewest open tasks (2)",
            {
                "title": {
                    "key": "notification.new_task.title",
                    "params": {"task_id": 12, "order_number": "202612003"},
                },
                "body": {
                    "key": "dispatch.reason.least_tasks",
                    "params": {"operator": "Olga Ivanova", "load": 2},
                },
            },
        ),
        (
            "Task #3 due 17:30",
            "Work order 202612001",
            {
                "title": {"key": "notification.due_at.title", "params": {"task_id": 3, "time": "17:30"}},
                "body": {"key": "notification.due.body", "params": {"order_number": "202612001"}},
            },
        ),
        (
            "Die-cutting done · 202612001",
            "500 good, 3 defective.",
            {
                "title": {
                    "key": "notification.process_done.title",
                    "params": {"process": "Die-cutting", "order_number": "202612001"},
                },
                "body": {"key": "notification.process_done.body", "params": {"good": 500, "defective": 3}},
            },
        ),
        (
            "Task #9 cancelled",
            "Work order 202612002 was cancelled. Customer withdrew the order.",
            {
                "title": {"key": "notification.task_cancelled.title", "params": {"task_id": 9}},
                "body": {
                    "key": "notification.work_order_cancelled_reason.body",
                    "params": {
                        "order_number": "202612002",
                        "reason": {"key": "text.literal", "params": {"text": "Customer withdrew the order."}},
                    },
                },
            },
        ),
        (
            "Task #9 taken off your list",
            "A supervisor put it back in the pool.",
            {
                "title": {"key": "notification.unassigned.title", "params": {"task_id": 9}},
                "body": {"key": "notification.unassigned.body", "params": {}},
            },
        ),
    ],
)
def test_the_old_sentences_parse_into_the_messages_the_code_writes_now(title, body, expected):
    revision = _migration_module("0006_locales")
    assert revision.message_of(title, body) == expected
    for locale in LOCALES:
        assert render_stored(expected, locale)[0]
    assert render_stored(expected, "en") == (title, body)


def _migration_module(name: str):
    import importlib.util

    from work_dispatch.settings import PROJECT_ROOT

    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / "alembic" / "versions" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
