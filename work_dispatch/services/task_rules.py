"""The task state machine's rules as SQL, shared by every service that changes or shows tasks.

- :func:`may`: "a task in this status may undergo this action", from the machine's table.
- "An earlier process is unfinished": :func:`is_blocked` guards ``start``'s compare-and-set,
  :func:`waiting_for` finds the process a task waits for (``blocking_reason`` and the
  tablet's blocked marker), :func:`waiting_message` says it. One definition for all three.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import Exists, Select, String, and_, exists, literal, select
from sqlalchemy.sql.elements import ColumnElement

from work_dispatch.domain.enums import CLOSED_TASK_STATUSES
from work_dispatch.domain.task_machine import TaskAction, allowed_from
from work_dispatch.i18n import Message, msg, named
from work_dispatch.models import Task

_task = Task.__table__


def _statuses(statuses: Iterable[str]) -> list:
    """Statuses as one bound parameter each: no "expanding" IN, so ``executemany`` works."""
    return [literal(str(status), String) for status in sorted(statuses)]


def may(action: TaskAction, status: ColumnElement | None = None) -> ColumnElement[bool]:
    """SQL for "the task's status is one ``action`` is legal from".

    Args:
        action: The action.
        status: The status column to test (default ``task.status``).

    Returns:
        A SQL condition.
    """
    column = _task.c.status if status is None else status
    return column.in_(_statuses(allowed_from(action)))


def _unfinished_earlier(earlier, work_order_id: ColumnElement | int, sequence: ColumnElement | int):
    return and_(
        earlier.c.work_order_id == work_order_id,
        earlier.c.sequence < sequence,
        earlier.c.status.not_in(_statuses(CLOSED_TASK_STATUSES)),
    )


def is_blocked(work_order_id: ColumnElement | int, sequence: ColumnElement | int) -> Exists:
    """SQL: an earlier process of the work order still has an unfinished task.

    Args:
        work_order_id: The task's work order (a column to correlate with, or a value).
        sequence: The task's process sequence (a column or a value).

    Returns:
        An EXISTS condition.
    """
    earlier = _task.alias("earlier")
    return exists().where(_unfinished_earlier(earlier, work_order_id, sequence))


def waiting_for(work_order_id: ColumnElement | int, sequence: ColumnElement | int) -> Select:
    """SQL: the id of the first unfinished earlier process (no row when the task is free).

    Args:
        work_order_id: The task's work order (a column to correlate with, or a value).
        sequence: The task's process sequence (a column or a value).

    Returns:
        A one-column, at-most-one-row select.
    """
    earlier = _task.alias("earlier")
    return (
        select(earlier.c.process_id)
        .where(_unfinished_earlier(earlier, work_order_id, sequence))
        .order_by(earlier.c.sequence)
        .limit(1)
    )


def waiting_message(process_name: str, names: Mapping[str, str] | None = None) -> Message:
    """What a blocked task tells its operator (the process named in the reader's locale).

    Args:
        process_name: The unfinished process's name.
        names: Its names per locale.

    Returns:
        The message.
    """
    return msg("task.waiting_for", process=named(process_name, names))
