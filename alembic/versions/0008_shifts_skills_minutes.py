"""Shifts, presence, skills and work in minutes

- ``shift_template``: recurring shifts per department (local start/end, weekday bit mask,
  overnight); ``closure``: shop or department closed days; ``absence``: operators away.
- ``presence``: check-ins on the tablet (open while ``checked_out_at`` is null).
- ``qualification``: level 0–3 per operator and process; ``assignment_rule.min_level``.
- ``department``: ``requires_check_in``, what happens at shift end
  (``shift_end_returns_tasks``, ``shift_end_pauses_tasks``) and the automatic check-out
  grace (``checkout_grace_minutes``).
- ``process.setup_minutes`` / ``units_per_hour`` with per-step overrides on
  ``work_order_process``; ``task.planned_minutes`` and ``task.setup_minutes`` (filled in for
  existing tasks from their process).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_text = sqlmodel.sql.sqltypes.AutoString
_when = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "shift_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("name", _text(length=64), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("weekdays", sa.Integer(), nullable=False),
        sa.Column("overnight", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_shift_template_department_id", "shift_template", ["department_id"])
    op.create_table(
        "closure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("reason", _text(length=500), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_closure_first_day", "closure", ["first_day"])
    op.create_table(
        "absence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("start_at", _when(), nullable=False),
        sa.Column("end_at", _when(), nullable=False),
        sa.Column("reason", _text(length=500), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["user.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_absence_operator_end", "absence", ["operator_id", "end_at"])
    op.create_table(
        "presence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("checked_in_at", _when(), nullable=False),
        sa.Column("checked_out_at", _when(), nullable=True),
        sa.Column("checkout_kind", _text(length=16), nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_presence_operator_out", "presence", ["operator_id", "checked_out_at"])
    op.create_table(
        "qualification",
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["user.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["process_id"], ["process.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("operator_id", "process_id"),
    )
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requires_check_in", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(
            sa.Column("shift_end_returns_tasks", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("shift_end_pauses_tasks", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("checkout_grace_minutes", sa.Integer(), nullable=False, server_default="15")
        )
    with op.batch_alter_table("process", schema=None) as batch_op:
        batch_op.add_column(sa.Column("setup_minutes", sa.Integer(), nullable=False, server_default="15"))
        batch_op.add_column(sa.Column("units_per_hour", sa.Integer(), nullable=False, server_default="1000"))
    with op.batch_alter_table("work_order_process", schema=None) as batch_op:
        batch_op.add_column(sa.Column("setup_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("units_per_hour", sa.Integer(), nullable=True))
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("planned_minutes", sa.Float(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("setup_minutes", sa.Float(), nullable=False, server_default="0"))
    with op.batch_alter_table("assignment_rule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("min_level", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE task SET setup_minutes = (SELECT p.setup_minutes FROM process p WHERE p.id = task.process_id), "
        "planned_minutes = (SELECT p.setup_minutes + task.production_quantity * 60.0 / p.units_per_hour "
        "FROM process p WHERE p.id = task.process_id)"
    )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("assignment_rule", schema=None) as batch_op:
        batch_op.drop_column("min_level")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("setup_minutes")
        batch_op.drop_column("planned_minutes")
    with op.batch_alter_table("work_order_process", schema=None) as batch_op:
        batch_op.drop_column("units_per_hour")
        batch_op.drop_column("setup_minutes")
    with op.batch_alter_table("process", schema=None) as batch_op:
        batch_op.drop_column("units_per_hour")
        batch_op.drop_column("setup_minutes")
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.drop_column("checkout_grace_minutes")
        batch_op.drop_column("shift_end_pauses_tasks")
        batch_op.drop_column("shift_end_returns_tasks")
        batch_op.drop_column("requires_check_in")
    op.drop_table("qualification")
    op.drop_index("ix_presence_operator_out", table_name="presence")
    op.drop_table("presence")
    op.drop_index("ix_absence_operator_end", table_name="absence")
    op.drop_table("absence")
    op.drop_index("ix_closure_first_day", table_name="closure")
    op.drop_table("closure")
    op.drop_index("ix_shift_template_department_id", table_name="shift_template")
    op.drop_table("shift_template")
