"""What an operator sees: their tasks and their departments' pool."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case
from sqlmodel import Session, func, select

from work_dispatch.domain.enums import OPERATOR_LOAD_STATUSES, TaskStatus
from work_dispatch.models import Department, Process, Task, WorkOrder
from work_dispatch.services.actor import Actor, require_operator

LIST_LIMIT = 50


@dataclass
class TaskCard:
    """A task as a tablet card shows it."""

    id: int
    order_number: str
    process: str
    department: str
    status: str
    priority: str
    production_quantity: int
    quantity_completed: int
    due_at: str
    work_content: str


@dataclass
class OperatorOverview:
    """An operator's departments, tasks and pool."""

    departments: list[str] = field(default_factory=list)
    wip_limit: int = 0
    my_tasks: list[TaskCard] = field(default_factory=list)
    pool: list[TaskCard] = field(default_factory=list)
    pool_count: int = 0


_STATUS_ORDER = case(
    (Task.status == TaskStatus.IN_PROGRESS, 0),
    (Task.status == TaskStatus.PAUSED, 1),
    else_=2,
)


def _cards(db: Session, statement) -> list[TaskCard]:
    rows = db.exec(
        statement.add_columns(WorkOrder.order_number, Process.name, Department.name)
        .join(WorkOrder, WorkOrder.id == Task.work_order_id)
        .join(Process, Process.id == Task.process_id)
        .outerjoin(Department, Department.id == Task.assigned_department_id)
    ).all()
    return [
        TaskCard(
            id=task.id,
            order_number=order_number,
            process=process_name,
            department=department_name or "",
            status=task.status,
            priority=task.priority,
            production_quantity=task.production_quantity,
            quantity_completed=task.quantity_completed,
            due_at=task.due_at.strftime("%Y-%m-%d %H:%M") if task.due_at else "",
            work_content=task.work_content,
        )
        for task, order_number, process_name, department_name in rows
    ]


def overview(db: Session, actor: Actor | None) -> OperatorOverview:
    """The operator's open tasks (in progress first) and the first tasks of their pool.

    Args:
        db: Open session (read only).
        actor: The acting operator.

    Returns:
        The overview; lists are capped at 50 rows.
    """
    actor = require_operator(actor)
    departments = db.exec(
        select(Department.name).where(Department.id.in_(actor.department_ids)).order_by(Department.sort_order)
    ).all()
    mine = _cards(
        db,
        select(Task)
        .where(Task.assigned_operator_id == actor.user_id, Task.status.in_(OPERATOR_LOAD_STATUSES))
        .order_by(_STATUS_ORDER, Task.priority_rank.desc(), Task.due_at, Task.id)
        .limit(LIST_LIMIT),
    )
    pool_filter = (Task.assigned_department_id.in_(actor.department_ids), Task.status == TaskStatus.QUEUED)
    pool = _cards(
        db,
        select(Task)
        .where(*pool_filter)
        .order_by(Task.priority_rank.desc(), Task.due_at, Task.id)
        .limit(LIST_LIMIT),
    )
    pool_count = db.exec(select(func.count()).select_from(Task).where(*pool_filter)).one()
    return OperatorOverview(
        departments=list(departments),
        wip_limit=actor.wip_limit,
        my_tasks=mine,
        pool=pool,
        pool_count=pool_count,
    )
