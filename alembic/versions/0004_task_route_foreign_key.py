"""One composite foreign key from a task to its work order process

The task's work_order_id and process_id are denormalized copies of its work order
process's. Three single-column foreign keys (work_order_process, work_order, process)
become one on (work_order_process_id, work_order_id, process_id) referencing a new unique
key of work_order_process: the copies can no longer disagree with the route, and every
task insert checks one key instead of three.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROUTE_KEY = "uq_wop_id_order_process"
ROUTE_KEY_COLUMNS = ["id", "work_order_id", "process_id"]
TASK_KEY = "fk_task_work_order_process"
TASK_KEY_COLUMNS = ["work_order_process_id", "work_order_id", "process_id"]
# Single-column keys of 0001: column -> (referred table, on delete).
SINGLE_KEYS = {
    "work_order_process_id": ("work_order_process", "CASCADE"),
    "work_order_id": ("work_order", "CASCADE"),
    "process_id": ("process", None),
}
# Names for the keys 0001 left unnamed: PostgreSQL's defaults, which SQLite reflection gets too.
NAMING = {"fk": "%(table_name)s_%(column_0_name)s_fkey"}


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("work_order_process") as batch:
        batch.create_unique_constraint(ROUTE_KEY, ROUTE_KEY_COLUMNS)
    with op.batch_alter_table("task", naming_convention=NAMING) as batch:
        for column in SINGLE_KEYS:
            batch.drop_constraint(f"task_{column}_fkey", type_="foreignkey")
        batch.create_foreign_key(
            TASK_KEY, "work_order_process", TASK_KEY_COLUMNS, ROUTE_KEY_COLUMNS, ondelete="CASCADE"
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("task", naming_convention=NAMING) as batch:
        batch.drop_constraint(TASK_KEY, type_="foreignkey")
        for column, (table, ondelete) in SINGLE_KEYS.items():
            batch.create_foreign_key(f"task_{column}_fkey", table, [column], ["id"], ondelete=ondelete)
    with op.batch_alter_table("work_order_process") as batch:
        batch.drop_constraint(ROUTE_KEY, type_="unique")
