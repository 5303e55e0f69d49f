"""Writing the task audit trail: the one writer of ``task_event`` rows.

:func:`record_events` inserts events for tasks already changed; :func:`events_from` builds
the insert that a single statement changing tasks on PostgreSQL embeds as a CTE. Both take
a :class:`~work_dispatch.domain.enums.TaskEventKind` and refuse any other kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import JSON, Insert, String, insert, literal, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from work_dispatch.domain.enums import TaskEventKind
from work_dispatch.models import TaskEvent, utc_now
from work_dispatch.services.sql import copy_rows, is_postgres, json_text

COPY_THRESHOLD = 200
"""From this many rows on, PostgreSQL gets a COPY instead of a multi-row INSERT."""

EVENT_COLUMNS = ("task_id", "actor_id", "kind", "data", "created_at")
"""The columns every writer of ``task_event`` fills, in COPY order."""


def event_kind(kind: TaskEventKind | str) -> TaskEventKind:
    """The event kind as the enum member, refusing anything that is not one.

    Args:
        kind: A member of :class:`TaskEventKind` (or its value).

    Returns:
        The member.

    Raises:
        ValueError: For a kind the enum does not know.
    """
    return TaskEventKind(kind)


def record_events(
    db: Session,
    actor_id: int | None,
    kind: TaskEventKind,
    task_ids: Iterable[int],
    data: dict[str, Any] | None = None,
    per_task_data: dict[int, dict[str, Any]] | None = None,
) -> int:
    """Insert one TaskEvent per task in a single statement.

    Args:
        db: Open session (not committed here).
        actor_id: Who acted; None for the system.
        kind: What happened.
        task_ids: Tasks the event is about.
        data: Data shared by every event.
        per_task_data: Extra data per task id, merged over ``data``.

    Returns:
        How many events were written.

    Raises:
        ValueError: If ``kind`` is not a :class:`TaskEventKind`; nothing is written.
    """
    kind = event_kind(kind).value
    now = utc_now()
    base = data or {}
    rows = [
        {
            "task_id": task_id,
            "actor_id": actor_id,
            "kind": kind,
            "data": {**base, **(per_task_data or {}).get(task_id, {})},
            "created_at": now,
        }
        for task_id in task_ids
    ]
    if len(rows) >= COPY_THRESHOLD and is_postgres(db):
        copy_rows(
            db,
            "task_event",
            EVENT_COLUMNS,
            ((r["task_id"], r["actor_id"], r["kind"], json_text(r["data"]), r["created_at"]) for r in rows),
        )
    elif rows:
        db.execute(insert(TaskEvent), rows)
    return len(rows)


def events_from(
    task_id: ColumnElement,
    actor_id: ColumnElement,
    kind: TaskEventKind,
    created_at: ColumnElement,
    data: ColumnElement | None = None,
) -> Insert:
    """``INSERT INTO task_event ... SELECT``: one event per row that ``task_id`` comes from.

    Made for statements that change tasks and write their events in one round trip, e.g. a
    data-modifying CTE reading the ``RETURNING`` rows of an ``UPDATE`` (PostgreSQL).

    Args:
        task_id: The task id column of the changed rows (e.g. ``cte.c.id``).
        actor_id: Who acted (a bound parameter, or NULL for the system).
        kind: What happened.
        created_at: When (usually a bound parameter).
        data: The event data as a JSON expression; an empty object when None.

    Returns:
        The insert statement (to be used as a CTE or executed).

    Raises:
        ValueError: If ``kind`` is not a :class:`TaskEventKind`.
    """
    rows = select(
        task_id,
        actor_id,
        literal(event_kind(kind).value, String),
        data if data is not None else literal({}, JSON),
        created_at,
    )
    return insert(TaskEvent.__table__).from_select(list(EVENT_COLUMNS), rows)
