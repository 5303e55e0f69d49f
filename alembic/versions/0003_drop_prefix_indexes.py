"""Drop task indexes that are left prefixes of other task indexes

Each dropped index's columns lead a composite index that serves the same lookups:
assigned_department -> (assigned_department, status, id); assigned_operator ->
(assigned_operator, status, updated_at); status -> (status, id); (assigned_department,
status) -> (assigned_department, status, id); updated_at -> (updated_at, id). Fewer indexes
make every task insert and status change cheaper.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = {
    "ix_task_assigned_department": ["assigned_department_id"],
    "ix_task_assigned_operator": ["assigned_operator_id"],
    "ix_task_status": ["status"],
    "ix_task_department_status": ["assigned_department_id", "status"],
    "ix_task_updated_at": ["updated_at"],
}


def upgrade() -> None:
    """Apply this revision."""
    for name in DROPPED:
        op.drop_index(name, table_name="task")


def downgrade() -> None:
    """Revert this revision."""
    for name, columns in DROPPED.items():
        op.create_index(name, "task", columns, unique=False)
