"""Shop-floor devices, operator PINs and idle sessions

- ``shop_floor_device``: browsers a supervisor marked as shared shop-floor tablets (the
  browser keeps a random token, the row its SHA-256 hash); PIN logins are accepted there only.
- ``user.pin_hash``: the argon2 hash of an operator's quick-switch PIN (None: no PIN).
- ``user_session.last_seen_at``: the browser's last handler call; an idle session's
  ``expires_at`` slides with it (``WD_TABLET_IDLE_MINUTES``).
- ``user_session.device_id``: the shop-floor device the session was opened on.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "shop_floor_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pin_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True)
        )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("device_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_user_session_device_id_shop_floor_device",
            "shop_floor_device",
            ["device_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_constraint("fk_user_session_device_id_shop_floor_device", type_="foreignkey")
        batch_op.drop_column("device_id")
        batch_op.drop_column("last_seen_at")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("pin_hash")
    op.drop_table("shop_floor_device")
