"""Labour time read from task events, with the rule for concurrent work applied.

The rule (``domain/flow.labour_minutes``): each stretch of work belongs to the operator
whose event opened it, and while an operator has several tasks in progress at once, the
overlapping time is split equally between them, so an operator's minutes add up to the
time they actually worked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, select

from work_dispatch.domain.flow import CLOSING_KINDS, OPENING_KINDS, FlowEvent, labour_minutes, work_intervals
from work_dispatch.models import TaskEvent
from work_dispatch.services.sql import id_in

LONGEST_STRETCH = timedelta(days=2)
"""A stretch of work longer than this is not looked for (shift ends pause running work)."""

_WORK_KINDS = sorted(OPENING_KINDS | CLOSING_KINDS)


def flow_events(events: Sequence[TaskEvent]) -> list[FlowEvent]:
    """Task events as labour time reads them (other kinds are left out)."""
    return [
        FlowEvent(e.kind, e.created_at, e.data or {}, e.actor_id) for e in events if e.kind in _WORK_KINDS
    ]


def task_minutes(db: Session, task_id: int, events: Sequence[TaskEvent], now: datetime) -> float:
    """Minutes worked on one task, overlaps with its operators' other tasks split equally.

    Args:
        db: Open session (read only).
        task_id: The task.
        events: The task's events (any kinds; at least its work events).
        now: Stretches still open count up to here.

    Returns:
        The task's share of its operators' working time.
    """
    own = flow_events(events)
    intervals = work_intervals(own, now)
    operators = sorted({i.operator_id for i in intervals} - {None})
    if not operators:
        return sum(i.minutes for i in intervals)
    first = min(i.start for i in intervals)
    last = max(i.end for i in intervals)
    others = (
        select(TaskEvent.task_id)
        .where(
            TaskEvent.kind.in_(sorted(OPENING_KINDS)),
            TaskEvent.created_at >= first - LONGEST_STRETCH,
            TaskEvent.created_at < last,
            id_in(db, TaskEvent.actor_id, operators),
            TaskEvent.task_id != task_id,
        )
        .distinct()
    )
    by_task: dict[int, list[FlowEvent]] = defaultdict(list)
    by_task[task_id] = own
    for other_id, kind, at, data, actor_id in db.exec(
        select(TaskEvent.task_id, TaskEvent.kind, TaskEvent.created_at, TaskEvent.data, TaskEvent.actor_id)
        .where(TaskEvent.task_id.in_(others), TaskEvent.kind.in_(_WORK_KINDS))
        .order_by(TaskEvent.task_id, TaskEvent.created_at, TaskEvent.id)
    ).all():
        by_task[other_id].append(FlowEvent(kind, at, data or {}, actor_id))
    return labour_minutes(by_task, now).by_task[task_id]
