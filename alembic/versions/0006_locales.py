"""Locales: each user's preferred locale, catalog names per locale, notifications as messages

- ``user.locale``: the user's preferred locale (``en`` for everyone until they choose).
- ``department.names``, ``process.names``, ``product.names``: optional names per locale.
- ``notification.message`` replaces ``title`` and ``body``: a message key plus parameters
  for each, rendered in the reader's locale. Rows written before are converted: the
  sentences the old code wrote are parsed back into keys and parameters; any other text is
  kept as it is (a ``text.literal`` message).
- ``task_event.data.reason`` of dispatch decisions: the sentences the old code wrote become
  messages too; unknown ones stay strings, which readers show as they are.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATALOG_TABLES = ("department", "process", "product")
BATCH = 500

_TASK = r"Task #(?P<task_id>\d+)"
# (pattern, message key, integer parameters): what the code before this revision wrote.
REASONS: list[tuple[str, str, tuple[str, ...]]] = [
    (
        r"(?P<operator>.+) had the fewest open tasks \((?P<load>\d+)\)",
        "dispatch.reason.least_tasks",
        ("load",),
    ),
    (r"(?P<operator>.+) is next in the department's rotation", "dispatch.reason.round_robin", ()),
    (r"(?P<operator>.+) was drawn at random among available operators", "dispatch.reason.random", ()),
    (r"(?P<operator>.+) is the first operator under their WIP limit", "dispatch.reason.first_available", ()),
    (r"pool strategy: queued for operators to claim", "dispatch.reason.pool", ()),
    (
        r"department preset on the draft; no rule for it, queued in its pool",
        "dispatch.reason.preset_department",
        (),
    ),
    (r"no active rule for this process", "dispatch.reason.no_rule", ()),
    (r"no active operators in the rule's department", "dispatch.reason.no_operators", ()),
    (r"every operator of the department is at their WIP limit", "dispatch.reason.all_at_limit", ()),
]
TITLES: list[tuple[str, str, tuple[str, ...]]] = [
    (r"New task #(?P<task_id>\d+) · (?P<order_number>.*)", "notification.new_task.title", ("task_id",)),
    (r"New task #(?P<task_id>\d+)", "notification.published_to_you.title", ("task_id",)),
    (_TASK + r" due now", "notification.due_now.title", ("task_id",)),
    (_TASK + r" due (?P<time>\d\d:\d\d)", "notification.due_at.title", ("task_id",)),
    (_TASK + r" assigned to you", "notification.reassigned_to_you.title", ("task_id",)),
    (_TASK + r" reassigned", "notification.reassigned_away.title", ("task_id",)),
    (_TASK + r" taken off your list", "notification.unassigned.title", ("task_id",)),
    (_TASK + r" cancelled", "notification.task_cancelled.title", ("task_id",)),
    (r"Work order (?P<order_number>\S+) completed", "notification.work_order_completed.title", ()),
    (r"(?P<process>.+) done · (?P<order_number>.*)", "notification.process_done.title", ()),
]
BODIES: list[tuple[str, str, tuple[str, ...]]] = [
    (r"Work order (?P<order_number>\S+)", "notification.due.body", ()),
    (r"Assigned to you when it was published\.", "notification.published_to_you.body", ()),
    (
        r"(?P<good>\d+) good, (?P<defective>\d+) defective\.",
        "notification.process_done.body",
        ("good", "defective"),
    ),
    (r"Reassigned by a supervisor\.", "notification.reassigned_to_you.body", ()),
    (r"A supervisor gave it to someone else\.", "notification.reassigned_away.body", ()),
    (r"A supervisor put it back in the pool\.", "notification.unassigned.body", ()),
    (r"Work order (?P<order_number>\S+) was cancelled\.", "notification.work_order_cancelled.body", ()),
    (
        r"Work order (?P<order_number>\S+) was cancelled\. (?P<reason>.+)",
        "notification.work_order_cancelled_reason.body",
        (),
    ),
    *REASONS,
]
LITERALS = {"reason"}  # parameters that were free text typed by a person


def _literal(text: str) -> dict[str, Any]:
    return {"key": "text.literal", "params": {"text": text}}


def _parse(text: str, patterns: list[tuple[str, str, tuple[str, ...]]]) -> dict[str, Any] | None:
    for pattern, key, integers in patterns:
        match = re.fullmatch(pattern, text, flags=re.DOTALL)
        if match:
            params: dict[str, Any] = {}
            for name, value in match.groupdict().items():
                if name in integers:
                    params[name] = int(value)
                elif name in LITERALS:
                    params[name] = _literal(value)
                else:
                    params[name] = value
            return {"key": key, "params": params}
    return None


def message_of(title: str | None, body: str | None) -> dict[str, Any]:
    """The stored message of a notification row written before this revision."""
    title, body = title or "", body or ""
    return {
        "title": _parse(title, TITLES) or _literal(title),
        "body": (_parse(body, BODIES) or _literal(body)) if body else None,
    }


def reason_of(reason: Any) -> Any:
    """A dispatch explanation's reason as a message, or unchanged when it is not a known sentence."""
    if isinstance(reason, str):
        return _parse(reason, REASONS) or reason
    return reason


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "locale", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False, server_default="en"
            )
        )
    for table in CATALOG_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("names", sa.JSON(), nullable=True))
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message", sa.JSON(), nullable=True))
    _convert_notifications()
    _convert_dispatch_reasons()
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("body")
        batch_op.drop_column("title")


def _convert_notifications() -> None:
    connection = op.get_bind()
    old = sa.table("notification", sa.column("id", sa.Integer), sa.column("title"), sa.column("body"))
    new = sa.table("notification", sa.column("id", sa.Integer), sa.column("message", sa.JSON))
    update = new.update().where(new.c.id == sa.bindparam("b_id")).values(message=sa.bindparam("b_message"))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(old.c.id, old.c.title, old.c.body)
            .where(old.c.id > last)
            .order_by(old.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(update, [{"b_id": i, "b_message": message_of(t, b)} for i, t, b in rows])
        last = rows[-1][0]


def _convert_dispatch_reasons() -> None:
    connection = op.get_bind()
    events = sa.table(
        "task_event", sa.column("id", sa.Integer), sa.column("kind"), sa.column("data", sa.JSON)
    )
    update = events.update().where(events.c.id == sa.bindparam("b_id")).values(data=sa.bindparam("b_data"))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(events.c.id, events.c.data)
            .where(events.c.id > last, events.c.kind == "dispatched")
            .order_by(events.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        changed = [
            {"b_id": event_id, "b_data": {**data, "reason": reason_of(data["reason"])}}
            for event_id, data in rows
            if isinstance(data, dict)
            and isinstance(data.get("reason"), str)
            and reason_of(data["reason"]) != data["reason"]
        ]
        if changed:
            connection.execute(update, changed)
        last = rows[-1][0]


def downgrade() -> None:
    """Revert this revision (notifications and reasons go back to English sentences)."""
    from work_dispatch.i18n import Message

    connection = op.get_bind()
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=""
            )
        )
        batch_op.add_column(
            sa.Column(
                "body", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False, server_default=""
            )
        )
    table = sa.table(
        "notification",
        sa.column("id", sa.Integer),
        sa.column("message", sa.JSON),
        sa.column("title"),
        sa.column("body"),
    )
    update = (
        table.update()
        .where(table.c.id == sa.bindparam("b_id"))
        .values(title=sa.bindparam("b_title"), body=sa.bindparam("b_body"))
    )
    rows = connection.execute(sa.select(table.c.id, table.c.message)).all()
    english = [
        {
            "b_id": row_id,
            "b_title": Message.from_json((message or {}).get("title")).render("en")[:200],
            "b_body": Message.from_json(body).render("en")[:2000]
            if (body := (message or {}).get("body"))
            else "",
        }
        for row_id, message in rows
    ]
    if english:
        connection.execute(update, english)
    events = sa.table(
        "task_event", sa.column("id", sa.Integer), sa.column("kind"), sa.column("data", sa.JSON)
    )
    reasons = [
        {"b_id": event_id, "b_data": {**data, "reason": Message.from_json(data["reason"]).render("en")}}
        for event_id, data in connection.execute(
            sa.select(events.c.id, events.c.data).where(events.c.kind == "dispatched")
        ).all()
        if isinstance(data, dict) and isinstance(data.get("reason"), dict)
    ]
    if reasons:
        connection.execute(
            events.update().where(events.c.id == sa.bindparam("b_id")).values(data=sa.bindparam("b_data")),
            reasons,
        )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("message")
    for table_name in CATALOG_TABLES:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.drop_column("names")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("locale")
