"""The task state machine's rules as SQL, shared by every service that changes or shows tasks.

- :func:`may`: "a task in this status may undergo this action", from the machine's table.
- "An earlier process is unfinished": :func:`is_blocked` guards ``start``'s compare-and-set,
  :func:`waiting_for` finds the process a task waits for (``blocking_reason`` and the
  tablet's blocked marker), :func:`waiting_message` says it. One definition for all three.
- Flow production: a step with a transfer batch may start before its upstream step is done,
  once upstream has handed over enough good units (:func:`batch_ready`, :class:`Handover`);
  both functions above take the task's :class:`Handover` columns to apply it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from sqlalchemy import Exists, Select, String, and_, case, exists, func, literal, not_, select
from sqlalchemy.sql.elements import ColumnElement

from work_dispatch.domain.enums import CLOSED_TASK_STATUSES, TaskStatus
from work_dispatch.domain.task_machine import TaskAction, allowed_from
from work_dispatch.i18n import Message, msg, named
from work_dispatch.models import Process, Task, WorkOrderProcess

_task = Task.__table__
# Aliases are built once: building one proxies every column, which costs more than running
# the small queries they appear in. Each use sits in its own subquery, so sharing is safe.
_BATCH_STEP = WorkOrderProcess.__table__.alias("batch_step")
_BATCH_PROCESS = Process.__table__.alias("batch_process")
_PREVIOUS_STEP = _task.alias("previous_step")
_UPSTREAM = _task.alias("upstream")
_STEP = _task.alias("step")
_EARLIER = _task.alias("earlier")


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


class Handover(NamedTuple):
    """A task's columns (or values) that flow production needs: its step, quantity and good so far."""

    work_order_process_id: Any
    production_quantity: Any
    quantity_completed: Any


def handover_of(table=_task) -> Handover:
    """The :class:`Handover` columns of the task table (or an alias of it)."""
    return Handover(table.c.work_order_process_id, table.c.production_quantity, table.c.quantity_completed)


def transfer_batch_of(work_order_process_id: ColumnElement | int):
    """SQL: the step's transfer batch (its own, else its process's; null: the whole quantity)."""
    step, process = _BATCH_STEP, _BATCH_PROCESS
    return (
        select(func.coalesce(step.c.transfer_batch, process.c.transfer_batch))
        .select_from(step.join(process, process.c.id == step.c.process_id))
        .where(step.c.id == work_order_process_id)
        .correlate_except(step, process)
        .scalar_subquery()
    )


def _good_of(tasks, *conditions):
    return (
        select(func.coalesce(func.sum(tasks.c.quantity_completed), 0))
        .where(*conditions, tasks.c.status != TaskStatus.CANCELLED.value)
        .correlate_except(tasks)
        .scalar_subquery()
    )


def upstream_good(work_order_id: ColumnElement | int, sequence: ColumnElement | int):
    """SQL: good units the step just before ``sequence`` has reported so far (0 for the first step)."""
    previous = _PREVIOUS_STEP
    before = (
        select(func.max(previous.c.sequence))
        .where(previous.c.work_order_id == work_order_id, previous.c.sequence < sequence)
        .correlate_except(previous)
        .scalar_subquery()
    )
    upstream = _UPSTREAM
    return _good_of(upstream, upstream.c.work_order_id == work_order_id, upstream.c.sequence == before)


def step_used(work_order_process_id: ColumnElement | int):
    """SQL: units of the step before's output this step has used so far.

    Good and scrap of the step's own tasks, plus the units it sent to rework (its rework tasks
    work those same units again, so their output uses nothing more) — the domain's
    ``StepOutput.consumed`` (:mod:`work_dispatch.domain.flow`).
    """
    step = _STEP
    used = case(
        (step.c.rework_of_task_id.is_(None), step.c.quantity_completed + step.c.quantity_defective),
        else_=step.c.production_quantity,
    )
    return (
        select(func.coalesce(func.sum(used), 0))
        .where(
            step.c.work_order_process_id == work_order_process_id,
            step.c.status != TaskStatus.CANCELLED.value,
        )
        .correlate_except(step)
        .scalar_subquery()
    )


def batch_ready(
    work_order_id: ColumnElement | int, sequence: ColumnElement | int, handover: Handover
) -> ColumnElement[bool]:
    """SQL: the task's step has a transfer batch and upstream has handed over enough to start it.

    Available = upstream good − what the step has used (:func:`step_used`); enough = one transfer
    batch, or what the task still has to make when that is less.
    """
    batch = transfer_batch_of(handover.work_order_process_id)
    still_to_make = handover.production_quantity - handover.quantity_completed
    needed = case((batch < still_to_make, batch), else_=still_to_make)
    available = upstream_good(work_order_id, sequence) - step_used(handover.work_order_process_id)
    return and_(batch.is_not(None), available >= needed)


def is_blocked(
    work_order_id: ColumnElement | int, sequence: ColumnElement | int, handover: Handover | None = None
) -> ColumnElement[bool]:
    """SQL: an earlier process of the work order is unfinished, and no transfer batch is ready.

    Without ``handover`` only the first half counts (today's whole-quantity handover).

    Args:
        work_order_id: The task's work order (a column to correlate with, or a value).
        sequence: The task's process sequence (a column or a value).
        handover: The task's step, quantity and good (columns or values) for flow production.

    Returns:
        A SQL condition.
    """
    earlier = _EARLIER
    unfinished: Exists = exists().where(_unfinished_earlier(earlier, work_order_id, sequence))
    if handover is None:
        return unfinished
    return and_(unfinished, not_(batch_ready(work_order_id, sequence, handover)))


def waiting_for(
    work_order_id: ColumnElement | int, sequence: ColumnElement | int, handover: Handover | None = None
) -> Select:
    """SQL: the id of the first unfinished earlier process (no row when the task is free).

    Args:
        work_order_id: The task's work order (a column to correlate with, or a value).
        sequence: The task's process sequence (a column or a value).
        handover: The task's step, quantity and good, to count a ready transfer batch as free.

    Returns:
        A one-column, at-most-one-row select.
    """
    earlier = _EARLIER
    statement = select(earlier.c.process_id).where(_unfinished_earlier(earlier, work_order_id, sequence))
    if handover is not None:
        statement = statement.where(not_(batch_ready(work_order_id, sequence, handover)))
    return statement.order_by(earlier.c.sequence).limit(1)


def waiting_message(process_name: str, names: Mapping[str, str] | None = None) -> Message:
    """What a blocked task tells its operator (the process named in the reader's locale).

    Args:
        process_name: The unfinished process's name.
        names: Its names per locale.

    Returns:
        The message.
    """
    return msg("task.waiting_for", process=named(process_name, names))
