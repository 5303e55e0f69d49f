"""Work measured in minutes: planned minutes of tasks and the load of operators.

A task's planned minutes are its rate's setup plus quantity ÷ units per hour × 60 (see
:func:`work_dispatch.domain.scheduling.planned_minutes`); the rate is the work-order
step's override, else the process's. They are stored on the task (with the setup part)
when drafts are made or their quantity changes, by :func:`refresh_planned_minutes`, the
one writer. Remaining minutes shrink with reported good quantity
(:func:`remaining_minutes_sql`, the same arithmetic as
:func:`work_dispatch.domain.scheduling.remaining_minutes`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Float, and_, case, cast, func, select, update
from sqlmodel import Session

from work_dispatch.domain.enums import OPERATOR_LOAD_STATUSES
from work_dispatch.models import Process, Task, WorkOrderProcess
from work_dispatch.services.sql import id_in

_task = Task.__table__


def _rate_of_step():
    """(setup minutes, units per hour) of each work-order step: its overrides, else its process's."""
    return (
        select(
            WorkOrderProcess.id.label("step_id"),
            func.coalesce(WorkOrderProcess.setup_minutes, Process.setup_minutes).label("setup"),
            func.coalesce(WorkOrderProcess.units_per_hour, Process.units_per_hour).label("rate"),
        )
        .join(Process, Process.id == WorkOrderProcess.process_id)
        .subquery("rate")
    )


def refresh_planned_minutes(
    db: Session,
    *,
    work_order_ids: Sequence[int] = (),
    task_ids: Sequence[int] = (),
    process_ids: Sequence[int] = (),
    drafts_only: bool = False,
) -> None:
    """Recompute the planned and setup minutes of unfinished tasks from their step's rate.

    Args:
        db: Open session (not committed here).
        work_order_ids: Every draft or open task of these work orders.
        task_ids: These tasks.
        process_ids: Every draft or open task of these processes (a process's rate changed).
        drafts_only: Only draft tasks: published tasks keep the plan they were published with.
    """
    conditions = []
    if work_order_ids:
        conditions.append(id_in(db, _task.c.work_order_id, list(work_order_ids)))
    if task_ids:
        conditions.append(id_in(db, _task.c.id, list(task_ids)))
    if process_ids:
        conditions.append(id_in(db, _task.c.process_id, list(process_ids)))
    if not conditions:
        return
    if drafts_only:
        conditions = [and_(condition, _task.c.is_draft.is_(True)) for condition in conditions]
    rate = _rate_of_step()
    setup = select(cast(rate.c.setup, Float)).where(rate.c.step_id == _task.c.work_order_process_id)
    run = select(
        cast(rate.c.setup, Float) + _task.c.production_quantity * 60.0 / cast(rate.c.rate, Float)
    ).where(rate.c.step_id == _task.c.work_order_process_id)
    for condition in conditions:
        db.execute(
            update(_task)
            .where(condition, _task.c.completed_at.is_(None))
            .values(setup_minutes=setup.scalar_subquery(), planned_minutes=run.scalar_subquery())
        )


def remaining_minutes_sql(table=_task):
    """SQL for a task's remaining planned minutes: setup until the first good unit, then the run left."""
    run = table.c.planned_minutes - table.c.setup_minutes
    left = case(
        (
            table.c.production_quantity > table.c.quantity_completed,
            run * (table.c.production_quantity - table.c.quantity_completed) / table.c.production_quantity,
        ),
        else_=0.0,
    )
    return case((table.c.quantity_completed > 0, 0.0), else_=table.c.setup_minutes) + left


@dataclass(frozen=True)
class Load:
    """An operator's open work: how many tasks and how many remaining planned minutes."""

    open_tasks: int = 0
    minutes: float = 0.0


def operator_loads(db: Session, operator_ids: Iterable[int] | None = None) -> dict[int, Load]:
    """Open tasks and remaining minutes per operator (assigned, in progress, paused).

    Args:
        db: Open session.
        operator_ids: Only these operators (None: everyone holding work).

    Returns:
        Operator id → load; operators without open work are missing.
    """
    condition = and_(
        _task.c.assigned_operator_id.is_not(None), _task.c.status.in_(sorted(OPERATOR_LOAD_STATUSES))
    )
    if operator_ids is not None:
        ids = list(operator_ids)
        if not ids:
            return {}
        condition = and_(condition, id_in(db, _task.c.assigned_operator_id, ids))
    rows = db.execute(
        select(_task.c.assigned_operator_id, func.count(), func.sum(remaining_minutes_sql()))
        .where(condition)
        .group_by(_task.c.assigned_operator_id)
    ).all()
    return {operator_id: Load(count, float(minutes or 0.0)) for operator_id, count, minutes in rows}
