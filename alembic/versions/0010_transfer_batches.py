"""Transfer batches: downstream work may start once upstream has produced one batch

- ``process.transfer_batch``, ``product_route_step.transfer_batch`` and
  ``work_order_process.transfer_batch``: how many good units upstream must hand over before
  the step's tasks may start (null: the whole quantity, as before). A work order's step takes
  its product route's value, else its process's.
- ``work_order_process.material_available_at``: when the step's first batch became available
  (set once, so its operators are told once).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    for table in ("process", "product_route_step", "work_order_process"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("transfer_batch", sa.Integer(), nullable=True))
    with op.batch_alter_table("work_order_process", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("material_available_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("work_order_process", schema=None) as batch_op:
        batch_op.drop_column("material_available_at")
    for table in ("work_order_process", "product_route_step", "process"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("transfer_batch")
