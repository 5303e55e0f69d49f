"""Scrap and rework with reasons; pause reasons become downtime categories

- ``defect_reason``: per process, why units were scrapped or sent to rework (``kind``
  ``scrap`` | ``rework``, a code unique per process and kind, names per locale, active,
  board order). Supervisors keep the list in the catalog.
- ``task.rework_of_task_id``: a rework task's origin (null for every other task), with a
  partial index (only rework tasks are in it).
- Pause reasons become categories: ``task.pause_reason`` and the ``reason`` of ``paused``
  task events move from the old reasons (their values, or the English labels stored before
  values were) to the categories (breakdown, waiting_for_material, setup, break,
  quality_hold, other; shift_end stays). Free text typed long ago is left as it is. The
  downgrade maps each category back to the old reason closest to it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000
NAMING = {"fk": "%(table_name)s_%(column_0_name)s_fkey"}
REWORK_KEY = "task_rework_of_task_id_fkey"
REWORK_INDEX = "ix_task_rework_of"
ONLY_REWORK = "rework_of_task_id IS NOT NULL"

# Old reason (its stored value, or its English label as stored before values were) → category.
TO_CATEGORY = {
    "machine_breakdown": "breakdown",
    "Machine breakdown": "breakdown",
    "material_shortage": "waiting_for_material",
    "Material shortage": "waiting_for_material",
    "setup_changeover": "setup",
    "Setup / changeover": "setup",
    "quality_check": "quality_hold",
    "Quality check": "quality_hold",
    "waiting_for_approval": "other",
    "Waiting for approval": "other",
    "Break": "break",
    "Other": "other",
}
# Category → the old reason (value) closest to it.
FROM_CATEGORY = {
    "breakdown": "machine_breakdown",
    "waiting_for_material": "material_shortage",
    "setup": "setup_changeover",
    "quality_hold": "quality_check",
}

_text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "defect_reason",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.Column("kind", _text(length=16), nullable=False),
        sa.Column("code", _text(length=32), nullable=False),
        sa.Column("name", _text(length=120), nullable=False),
        sa.Column("names", sa.JSON(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["process_id"], ["process.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("process_id", "kind", "code", name="uq_defect_reason_process_kind_code"),
    )
    with op.batch_alter_table("task", naming_convention=NAMING) as batch:
        batch.add_column(sa.Column("rework_of_task_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(REWORK_KEY, "task", ["rework_of_task_id"], ["id"], ondelete="SET NULL")
    op.create_index(
        REWORK_INDEX,
        "task",
        ["rework_of_task_id"],
        postgresql_where=sa.text(ONLY_REWORK),
        sqlite_where=sa.text(ONLY_REWORK),
    )
    _move_pause_reasons(TO_CATEGORY)


def downgrade() -> None:
    """Revert this revision (categories go back to the old reasons)."""
    _move_pause_reasons(FROM_CATEGORY)
    op.drop_index(REWORK_INDEX, table_name="task")
    with op.batch_alter_table("task", naming_convention=NAMING) as batch:
        batch.drop_constraint(REWORK_KEY, type_="foreignkey")
        batch.drop_column("rework_of_task_id")
    op.drop_table("defect_reason")


def _move_pause_reasons(mapping: dict[str, str]) -> None:
    """Rewrite ``task.pause_reason`` and the ``reason`` of ``paused`` events by ``mapping``."""
    connection = op.get_bind()
    task = sa.table("task", sa.column("pause_reason", sa.String))
    for old, new in mapping.items():
        connection.execute(task.update().where(task.c.pause_reason == old).values(pause_reason=new))
    events = sa.table(
        "task_event", sa.column("id", sa.Integer), sa.column("kind"), sa.column("data", sa.JSON)
    )
    update = events.update().where(events.c.id == sa.bindparam("b_id")).values(data=sa.bindparam("b_data"))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(events.c.id, events.c.data)
            .where(events.c.id > last, events.c.kind == "paused")
            .order_by(events.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        changed = [
            {"b_id": event_id, "b_data": {**data, "reason": mapping[_reason(data)]}}
            for event_id, data in rows
            if _reason(data) in mapping
        ]
        if changed:
            connection.execute(update, changed)
        last = rows[-1][0]


def _reason(data: Any) -> str | None:
    reason = data.get("reason") if isinstance(data, dict) else None
    return reason if isinstance(reason, str) else None
