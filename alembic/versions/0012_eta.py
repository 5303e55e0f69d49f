"""Live ETA: estimated completion of open tasks and work orders

- ``task.eta_at``: when the task is expected to finish (null: closed, or no estimate).
- ``work_order.eta_at`` and ``work_order.eta_at_risk``: when the work order is expected to
  finish, and whether that is after its delivery date. Written by ``services/eta.py`` after
  dispatch cycles and reports.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("eta_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("eta_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("eta_at_risk", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.drop_column("eta_at_risk")
        batch_op.drop_column("eta_at")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("eta_at")
