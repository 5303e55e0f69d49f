"""What an operator sees: their tasks and their departments' pool, loaded in bulk.

The same loader serves one operator opening the page and the fan-out refreshing many
operators after a change: a fixed number of queries however many operators it serves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import case
from sqlmodel import Session, func, select

from work_dispatch.domain.enums import OPERATOR_LOAD_STATUSES, Role, TaskStatus
from work_dispatch.models import Department, Notification, Process, Task, User, UserDepartment, WorkOrder
from work_dispatch.services.actor import Actor, require_operator
from work_dispatch.services.sql import id_in
from work_dispatch.services.task_rules import waiting_for, waiting_message

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
    quantity_defective: int
    due_at: str
    work_content: str
    requirements: str
    pause_reason: str
    blocked_reason: str = ""


@dataclass
class OperatorOverview:
    """An operator's departments, tasks, pool and unread notifications."""

    departments: list[str] = field(default_factory=list)
    department_ids: list[int] = field(default_factory=list)
    wip_limit: int = 0
    my_tasks: list[TaskCard] = field(default_factory=list)
    pool: list[TaskCard] = field(default_factory=list)
    pool_count: int = 0
    unread: int = 0


_STATUS_ORDER = case(
    (Task.status == TaskStatus.IN_PROGRESS, 0),
    (Task.status == TaskStatus.PAUSED, 1),
    else_=2,
)
_ORDER = (Task.priority_rank.desc(), Task.due_at.asc().nulls_last(), Task.id)


def _cards(db: Session, statement) -> list[tuple[Task, TaskCard]]:
    rows = db.execute(
        statement.add_columns(WorkOrder.order_number, Process.name, Department.name)
        .join(WorkOrder, WorkOrder.id == Task.work_order_id)
        .join(Process, Process.id == Task.process_id)
        .outerjoin(Department, Department.id == Task.assigned_department_id)
    ).all()
    return [
        (
            task,
            TaskCard(
                id=task.id,
                order_number=order_number,
                process=process_name,
                department=department_name or "",
                status=task.status,
                priority=task.priority,
                production_quantity=task.production_quantity,
                quantity_completed=task.quantity_completed,
                quantity_defective=task.quantity_defective,
                due_at=task.due_at.strftime("%b %d, %H:%M") if task.due_at else "",
                work_content=task.work_content,
                requirements=task.requirements,
                pause_reason=task.pause_reason,
            ),
        )
        for task, order_number, process_name, department_name in rows
    ]


def _mark_blocked(db: Session, pairs: list[tuple[Task, TaskCard]]) -> None:
    """Say on each card which earlier process it waits for (the rule ``start`` enforces)."""
    cards: dict[int, list[TaskCard]] = defaultdict(list)
    for task, card in pairs:
        cards[task.id].append(card)
    if not cards:
        return
    for task_id, name in db.execute(
        select(Task.id, waiting_for(Task.work_order_id, Task.sequence).scalar_subquery()).where(
            id_in(db, Task.id, list(cards))
        )
    ).all():
        if name is not None:
            for card in cards[task_id]:
                card.blocked_reason = waiting_message(name)


def overviews_for(db: Session, operator_ids: Iterable[int]) -> dict[int, OperatorOverview | None]:
    """Overviews of many operators at once, with their departments as they are now.

    Args:
        db: Open session (read only).
        operator_ids: The operators.

    Returns:
        Operator id → overview, or None for a user who is no longer an active operator.
    """
    operator_ids = list(dict.fromkeys(operator_ids))
    if not operator_ids:
        return {}
    users = {
        u.id: u
        for u in db.exec(
            select(User).where(User.id.in_(operator_ids), User.is_active, User.role == Role.OPERATOR)
        )
    }
    operators: dict[int, set[int]] = {operator_id: set() for operator_id in operator_ids}
    for user_id, department_id in db.exec(
        select(UserDepartment.user_id, UserDepartment.department_id).where(UserDepartment.user_id.in_(users))
    ).all():
        operators[user_id].add(department_id)
    departments = {d.id: d for d in db.exec(select(Department).order_by(Department.sort_order))}
    mine_pairs = _cards(
        db,
        select(Task)
        .where(Task.assigned_operator_id.in_(users), Task.status.in_(OPERATOR_LOAD_STATUSES))
        .order_by(_STATUS_ORDER, *_ORDER),
    )
    watched = {d for uid in users for d in operators[uid]}
    pool_pairs: dict[int, list[tuple[Task, TaskCard]]] = {}
    for department_id in watched:
        pool_pairs[department_id] = _cards(
            db,
            select(Task)
            .where(Task.assigned_department_id == department_id, Task.status == TaskStatus.QUEUED)
            .order_by(*_ORDER)
            .limit(LIST_LIMIT),
        )
    _mark_blocked(db, mine_pairs + [p for pairs in pool_pairs.values() for p in pairs])
    pool_counts = (
        dict(
            db.exec(
                select(Task.assigned_department_id, func.count())
                .where(Task.assigned_department_id.in_(watched), Task.status == TaskStatus.QUEUED)
                .group_by(Task.assigned_department_id)
            ).all()
        )
        if watched
        else {}
    )
    unread = dict(
        db.exec(
            select(Notification.recipient_id, func.count())
            .where(Notification.recipient_id.in_(users), Notification.is_read.is_(False))
            .group_by(Notification.recipient_id)
        ).all()
    )
    mine_by_user: dict[int, list[TaskCard]] = defaultdict(list)
    for task, card in mine_pairs:
        if len(mine_by_user[task.assigned_operator_id]) < LIST_LIMIT:
            mine_by_user[task.assigned_operator_id].append(card)
    result: dict[int, OperatorOverview | None] = {}
    for operator_id, department_ids in operators.items():
        user = users.get(operator_id)
        if user is None:
            result[operator_id] = None
            continue
        ordered = [d for d in departments if d in department_ids]
        pool = sorted(
            (pair for d in ordered for pair in pool_pairs.get(d, [])),
            key=lambda pair: (-pair[0].priority_rank, pair[0].due_at is None, pair[0].due_at, pair[0].id),
        )[:LIST_LIMIT]
        result[operator_id] = OperatorOverview(
            departments=[departments[d].name for d in ordered],
            department_ids=ordered,
            wip_limit=user.wip_limit,
            my_tasks=mine_by_user.get(operator_id, []),
            pool=[card for _, card in pool],
            pool_count=sum(pool_counts.get(d, 0) for d in ordered),
            unread=unread.get(operator_id, 0),
        )
    return result


def overview(db: Session, actor: Actor | None) -> OperatorOverview:
    """The acting operator's overview.

    Args:
        db: Open session (read only).
        actor: The acting operator.

    Returns:
        Their tasks (in progress first, then by priority and due time) and their pool.
    """
    actor = require_operator(actor)
    return overviews_for(db, [actor.user_id])[actor.user_id] or OperatorOverview()
