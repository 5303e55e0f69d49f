"""The one builder of new task rows: every column covered, and a new column needs no other change."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    insert,
    select,
    text,
)
from sqlmodel import Session, SQLModel

from tests.conftest import PG_ADMIN_URL, actor_for
from work_dispatch.db import make_engine
from work_dispatch.domain.generation import generation_key
from work_dispatch.models import Task, WorkOrderProcess, utc_now
from work_dispatch.services import drafts, generation, task_rows, work_orders
from work_dispatch.services.demo import load_reference_data
from work_dispatch.services.task_rows import TASK_ROWS, RowBuilder, new_task_row

REQUIRED = {
    "work_order_process_id": 1,
    "work_order_id": 2,
    "process_id": 3,
    "sequence": 10,
    "generation_key": "wo2:s10:p3:b1",
    "production_quantity": 500,
}


def test_a_new_row_has_every_task_column_with_the_models_default():
    table_columns = [column.name for column in Task.__table__.columns]
    assert TASK_ROWS.table is Task.__table__
    assert TASK_ROWS.assigned_by_database == ("id",)
    assert TASK_ROWS.columns == tuple(name for name in table_columns if name != "id")
    assert TASK_ROWS.required == set(REQUIRED)

    before = datetime.now(UTC)
    row = new_task_row(**REQUIRED)
    after = datetime.now(UTC)

    assert set(row) == set(TASK_ROWS.columns)
    model = Task(**REQUIRED)
    for name in TASK_ROWS.columns:
        if name not in ("created_at", "updated_at"):
            assert row[name] == getattr(model, name), name
    assert before <= row["created_at"] == row["updated_at"] <= after
    assert row["created_at"].tzinfo is not None


def test_given_values_win_and_a_batch_evaluates_its_defaults_once():
    row = new_task_row(**REQUIRED, id=7, status="pending", is_draft=False)
    assert (row["id"], row["status"], row["is_draft"], row["version"]) == (7, "pending", False, 1)

    batch = TASK_ROWS.batch(production_quantity=9)
    first = batch.row(**{**REQUIRED, "generation_key": "a"})
    second = batch.row(**{**REQUIRED, "generation_key": "b", "production_quantity": 3})
    assert first["created_at"] is second["created_at"]
    assert (first["production_quantity"], second["production_quantity"]) == (500, 3)
    assert (
        TASK_ROWS.batch(**{k: v for k, v in REQUIRED.items() if k != "sequence"}).row(sequence=1)["sequence"]
        == 1
    )


def test_a_layout_puts_the_given_columns_first_and_fixes_the_rest():
    batch = TASK_ROWS.batch(status="pending", production_quantity=9)
    layout = batch.layout(
        ("id", "generation_key", "work_order_process_id", "work_order_id", "process_id", "sequence")
    )
    assert layout.columns[:6] == (
        "id",
        "generation_key",
        "work_order_process_id",
        "work_order_id",
        "process_id",
        "sequence",
    )
    assert sorted(layout.columns) == sorted(("id", *TASK_ROWS.columns))
    copied = dict(zip(layout.columns, (7, "k", 1, 2, 3, 10, *layout.rest), strict=True))
    built = batch.row(
        id=7, generation_key="k", work_order_process_id=1, work_order_id=2, process_id=3, sequence=10
    )
    assert copied == built
    with pytest.raises(TypeError, match="sequence"):
        batch.layout(("generation_key", "work_order_process_id", "work_order_id", "process_id"))
    with pytest.raises(TypeError, match="Repeated"):
        batch.layout(
            ("id", "id", "generation_key", "work_order_process_id", "work_order_id", "process_id", "sequence")
        )


def test_a_typo_or_a_missing_column_raises():
    with pytest.raises(TypeError, match="prodution_quantity"):
        new_task_row(**REQUIRED, prodution_quantity=5)
    with pytest.raises(TypeError, match="production_quantity"):
        new_task_row(**{k: v for k, v in REQUIRED.items() if k != "production_quantity"})
    with pytest.raises(TypeError, match="is_drafts"):
        TASK_ROWS.batch(is_drafts=True)
    with pytest.raises(TypeError, match="stauts"):
        TASK_ROWS.batch(**REQUIRED).layout(("id", "stauts"))


def test_database_defaults_are_left_to_the_database_and_sql_defaults_refused():
    metadata = MetaData()
    table = Table(
        "scratch",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("label", String(10), nullable=False),
        Column("stamp", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("note", String(10)),
    )
    builder = RowBuilder(table)
    assert builder.columns == ("label", "note")
    assert builder.assigned_by_database == ("id", "stamp")
    assert builder.row(label="x") == {"label": "x", "note": None}
    assert builder.row(label="x", stamp="given")["stamp"] == "given"

    for default in (func.now(), lambda context: context.get_current_parameters()["label"]):
        refused = Table(
            "refused",
            MetaData(),
            Column("id", Integer, primary_key=True),
            Column("v", Integer, default=default),
        )
        with pytest.raises(TypeError, match="refused.v"):
            RowBuilder(refused)


@pytest.fixture(params=["sqlite", "postgresql"])
def wider_database(request, tmp_path):
    """A fresh database whose task table has two more columns with defaults; its task table."""
    metadata = MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(metadata)
    wider = metadata.tables["task"]
    wider.append_column(Column("ink_minutes", Integer, nullable=False, default=15))
    wider.append_column(Column("planned_at", DateTime(timezone=True), nullable=False, default=utc_now))
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path / 'wider.db'}", None
    else:
        request.getfixturevalue("pg_url")  # skips (or fails in CI) without PostgreSQL
        name = f"wd_wider_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

        def drop():
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    engine = make_engine(url)
    metadata.create_all(engine)
    yield engine, wider
    engine.dispose()
    if drop:
        drop()


def test_every_writer_fills_a_new_column_with_a_default(wider_database, monkeypatch):
    engine, wider = wider_database
    monkeypatch.setattr(task_rows, "TASK_ROWS", RowBuilder(wider))
    copies: list[bool] = []
    real_copy = generation.copy_unless_duplicate

    def watched_copy(*args, **kwargs):
        copies.append(real_copy(*args, **kwargs))
        return copies[-1]

    monkeypatch.setattr(generation, "copy_unless_duplicate", watched_copy)

    with Session(engine, expire_on_commit=False) as db:
        shop = load_reference_data(db)
        supervisor = actor_for(db, "super1")

        def approved_order():
            order = work_orders.create_work_order(
                db,
                supervisor,
                {
                    "customer_id": next(iter(shop["customer"].values())),
                    "product_id": shop["product"]["POSTER"],
                    "quantity": 1000,
                    "route": work_orders.default_route(db, shop["product"]["POSTER"]),
                },
            )
            work_orders.approve_work_order(db, supervisor, order.id)
            return order

        first = approved_order()
        drafts_of_first = (
            db.execute(select(wider.c.id).where(wider.c.work_order_id == first.id).order_by(wider.c.sequence))
            .scalars()
            .all()
        )
        split_id = drafts.split_draft(db, supervisor, drafts_of_first[0], 400)
        assert drafts.merge_drafts(db, supervisor, [drafts_of_first[0], split_id]) == drafts_of_first[0]

        # A row another transaction wrote under a key the next order will plan (on another
        # work order, so generation does not see it): PostgreSQL's COPY then hits the unique
        # index and generation falls back to INSERT ... ON CONFLICT.
        second_order_id = first.id + 1
        wop = db.scalars(
            select(WorkOrderProcess)
            .where(WorkOrderProcess.work_order_id == first.id)
            .order_by(WorkOrderProcess.sequence)
        ).first()
        db.execute(
            insert(wider).values(
                task_rows.new_task_row(
                    work_order_process_id=wop.id,
                    work_order_id=first.id,
                    process_id=wop.process_id,
                    sequence=wop.sequence,
                    generation_key=generation_key(second_order_id, wop.sequence, wop.process_id, 1),
                    production_quantity=1,
                )
            )
        )
        db.commit()
        second = approved_order()
        assert second.id == second_order_id

        rows = db.execute(select(wider.c.work_order_id, wider.c.ink_minutes, wider.c.planned_at)).all()
    route_length = len(drafts_of_first)
    # First order: its drafts plus the split one; the planted row; second order: all but the taken key.
    assert len(rows) == route_length + 1 + 1 + (route_length - 1)
    assert {row.ink_minutes for row in rows} == {15}
    assert all(row.planned_at is not None for row in rows)
    if engine.dialect.name == "postgresql":
        assert copies == [True, False]
