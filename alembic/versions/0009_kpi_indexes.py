"""KPI indexes: completed tasks by time, events by kind and time

The dashboard's KPI charts read tasks completed in a range of days (throughput, standard
against actual, on-time work orders) and events of one kind in a range (good units
reported, pauses, scrap); see ``work_dispatch/services/kpi.py`` and
``tests/benchmarks/bench_kpi.py`` for the queries and their plans.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    # Tasks completed in a range, with what the charts read of them: index-only scans.
    "ix_task_completed_kpi": (
        "task",
        [
            "completed_at",
            "assigned_department_id",
            "process_id",
            "work_order_id",
            "id",
            "started_at",
            "planned_minutes",
            "quantity_defective",
        ],
    ),
    # Events of some kinds in a range, and their tasks.
    "ix_task_event_kind_created": ("task_event", ["kind", "created_at", "task_id"]),
}


def upgrade() -> None:
    """Apply this revision."""
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    """Revert this revision."""
    for name, (table, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
