"""Board keyset indexes: (sort column, id) and (department, status, id)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_task_board_updated": ["updated_at", "id"],
    "ix_task_board_due": ["due_at", "id"],
    "ix_task_board_priority": ["priority_rank", "id"],
    "ix_task_board_department_status": ["assigned_department_id", "status", "id"],
}


def upgrade() -> None:
    """Apply this revision."""
    for name, columns in INDEXES.items():
        op.create_index(name, "task", columns, unique=False)


def downgrade() -> None:
    """Revert this revision."""
    for name in INDEXES:
        op.drop_index(name, table_name="task")
