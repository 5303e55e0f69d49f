"""The bell: a user's notifications, read marks, and due-soon reminders.

:func:`send_notices` is the one writer of notification rows; every service that tells
someone something goes through it (or through :func:`notify`, built on it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, insert, update
from sqlmodel import Session, select

from work_dispatch.domain.enums import OPEN_TASK_STATUSES, NotificationKind
from work_dispatch.i18n import Message, format_datetime, literal, msg
from work_dispatch.models import Notification, Task, WorkOrder, utc_now
from work_dispatch.services.actor import Actor, require_actor
from work_dispatch.services.audit import COPY_THRESHOLD
from work_dispatch.services.sql import copy_rows, is_postgres, json_text
from work_dispatch.services.validation import as_int
from work_dispatch.settings import settings

LIST_LIMIT = 30
_COLUMNS = ("recipient_id", "kind", "message", "task_id", "work_order_id", "is_read", "created_at")


@dataclass(frozen=True)
class Notice:
    """One notification to write: a title and an optional body, as messages (key + params)."""

    recipient_id: int
    kind: NotificationKind
    title: Message
    body: Message | None = None
    task_id: int | None = None
    work_order_id: int | None = None


def stored_message(title: Message, body: Message | None = None) -> dict[str, Any]:
    """The JSON a notification row stores: ``{"title": ..., "body": ...}``."""
    return {"title": title.to_json(), "body": body.to_json() if body is not None else None}


def render_stored(message: Any, locale: str) -> tuple[str, str]:
    """A stored notification message as (title, body) in ``locale``; malformed data never raises.

    Args:
        message: The row's ``message`` JSON.
        locale: The reader's locale.

    Returns:
        The title and the body ("" when there is none).
    """
    if not isinstance(message, dict):
        return Message.from_json(None).render(locale), ""
    body = message.get("body")
    return Message.from_json(message.get("title")).render(locale), (
        Message.from_json(body).render(locale) if body else ""
    )


def reason_or(reason: str, default_key: str) -> Message:
    """A person's typed reason as it is, or a standard message when they gave none."""
    return literal(reason) if reason else msg(default_key)


def send_notices(db: Session, notices: Iterable[Notice], now: datetime | None = None) -> int:
    """Write notifications, unread, in one statement (a COPY on PostgreSQL for many rows).

    Args:
        db: Open session (not committed here).
        notices: What to tell whom.
        now: Their creation time (default: now).

    Returns:
        How many notifications were written.

    Raises:
        ValueError: If a kind is not a :class:`NotificationKind`; nothing is written.
    """
    now = now or utc_now()
    rows = [
        (n.recipient_id, NotificationKind(n.kind).value, stored_message(n.title, n.body))
        + (n.task_id, n.work_order_id, False, now)
        for n in notices
    ]
    if len(rows) >= COPY_THRESHOLD and is_postgres(db):
        copy_rows(db, "notification", _COLUMNS, (row[:2] + (json_text(row[2]),) + row[3:] for row in rows))
    elif rows:
        db.execute(insert(Notification), [dict(zip(_COLUMNS, row, strict=True)) for row in rows])
    return len(rows)


def notify(
    db: Session,
    recipients: Iterable[int | None],
    kind: NotificationKind,
    title: Message,
    body: Message | None = None,
    *,
    task_id: int | None = None,
    work_order_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Send the same notification to several people (each once; None is skipped).

    Args:
        db: Open session (not committed here).
        recipients: User ids.
        kind: What kind of news it is.
        title: The headline.
        body: More detail.
        task_id: The task it is about.
        work_order_id: The work order it is about.
        now: Creation time (default: now).

    Returns:
        How many notifications were written.
    """
    return send_notices(
        db,
        [
            Notice(recipient, kind, title, body, task_id, work_order_id)
            for recipient in dict.fromkeys(recipients)
            if recipient is not None
        ],
        now,
    )


@dataclass
class NotificationRow:
    """A notification as the bell shows it, in the reader's locale."""

    id: int
    kind: str
    title: str
    body: str
    task_id: int
    is_read: bool
    created_at: str


def unread_count(db: Session, actor: Actor | None) -> int:
    """How many unread notifications the actor has."""
    actor = require_actor(actor)
    return db.exec(
        select(func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == actor.user_id, Notification.is_read.is_(False))
    ).one()


def recent(db: Session, actor: Actor | None, limit: int = LIST_LIMIT) -> list[NotificationRow]:
    """The actor's latest notifications, newest first (at most 30), in ``actor.locale``."""
    actor = require_actor(actor)
    rows = db.exec(
        select(Notification)
        .where(Notification.recipient_id == actor.user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(min(max(limit, 1), LIST_LIMIT))
    ).all()
    result = []
    for n in rows:
        title, body = render_stored(n.message, actor.locale)
        created = format_datetime(n.created_at, actor.locale, settings.timezone, short=True)
        result.append(NotificationRow(n.id, n.kind, title, body, n.task_id or 0, n.is_read, created))
    return result


def mark_read(db: Session, actor: Actor | None, notification_id: Any) -> int:
    """Mark one of the actor's notifications read (others' ids change nothing).

    Returns:
        1 when a notification was marked, else 0.
    """
    actor = require_actor(actor)
    notification_id = as_int(notification_id, "notification_id", "field.notification", minimum=1)
    changed = db.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.recipient_id == actor.user_id,
            Notification.is_read.is_(False),
        )
        .values(is_read=True, read_at=utc_now())
    ).rowcount
    db.commit()
    return changed


def mark_all_read(db: Session, actor: Actor | None) -> int:
    """Mark every unread notification of the actor read.

    Returns:
        How many were marked.
    """
    actor = require_actor(actor)
    changed = db.execute(
        update(Notification)
        .where(Notification.recipient_id == actor.user_id, Notification.is_read.is_(False))
        .values(is_read=True, read_at=utc_now())
    ).rowcount
    db.commit()
    return changed


def create_due_soon(
    db: Session, now: datetime | None = None, window_minutes: int = 60
) -> list[tuple[int, int]]:
    """Remind operators of their open tasks due within the window, once per task.

    Args:
        db: Open session; committed here.
        now: The current time (injected for tests).
        window_minutes: How far ahead counts as "soon".

    Returns:
        (task id, operator id) pairs that got a reminder.
    """
    now = now or utc_now()
    already = exists().where(
        and_(Notification.task_id == Task.id, Notification.kind == NotificationKind.TASK_DUE_SOON)
    )
    rows = db.exec(
        select(Task.id, Task.assigned_operator_id, Task.due_at, WorkOrder.order_number, Task.work_order_id)
        .join(WorkOrder, WorkOrder.id == Task.work_order_id)
        .where(
            Task.status.in_(OPEN_TASK_STATUSES),
            Task.assigned_operator_id.is_not(None),
            Task.due_at.is_not(None),
            Task.due_at <= now + timedelta(minutes=window_minutes),
            ~already,
        )
        .limit(1000)
    ).all()
    send_notices(
        db,
        (
            Notice(
                recipient_id=operator_id,
                kind=NotificationKind.TASK_DUE_SOON,
                title=(
                    msg("notification.due_now.title", task_id=task_id)
                    if due_at <= now
                    else msg("notification.due_at.title", task_id=task_id, time=_shop_time(due_at))
                ),
                body=msg("notification.due.body", order_number=order_number),
                task_id=task_id,
                work_order_id=wo_id,
            )
            for task_id, operator_id, due_at, order_number, wo_id in rows
        ),
        now,
    )
    db.commit()
    return [(r[0], r[1]) for r in rows]


def _shop_time(moment: datetime) -> str:
    """``HH:MM`` in the shop's timezone (the same in every locale)."""
    return moment.astimezone(ZoneInfo(settings.timezone)).strftime("%H:%M")
