"""Writing the task audit trail in bulk."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from work_dispatch.models import TaskEvent, utc_now
from work_dispatch.services.sql import copy_rows, is_postgres, json_text

COPY_THRESHOLD = 200
"""From this many rows on, PostgreSQL gets a COPY instead of a multi-row INSERT."""


def record_events(
    db: Session,
    actor_id: int | None,
    kind: str,
    task_ids: Iterable[int],
    data: dict[str, Any] | None = None,
    per_task_data: dict[int, dict[str, Any]] | None = None,
) -> int:
    """Insert one TaskEvent per task in a single statement.

    Args:
        db: Open session (not committed here).
        actor_id: Who acted; None for the system.
        kind: Event kind (generated, published, assigned, ...).
        task_ids: Tasks the event is about.
        data: Data shared by every event.
        per_task_data: Extra data per task id, merged over ``data``.

    Returns:
        How many events were written.
    """
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
            ("task_id", "actor_id", "kind", "data", "created_at"),
            ((r["task_id"], r["actor_id"], r["kind"], json_text(r["data"]), r["created_at"]) for r in rows),
        )
    elif rows:
        db.execute(insert(TaskEvent), rows)
    return len(rows)
