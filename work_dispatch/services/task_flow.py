"""The shop-floor life of a published task.

Operators claim, start, pause, resume, report and complete; supervisors reassign,
unassign and cancel.

Every transition is a compare-and-set (``UPDATE ... WHERE id = :id AND status = :seen AND
version = :seen_version``): when two people act on one task at once exactly one wins and
the other is told what happened. Each transition writes a TaskEvent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, bindparam, func, insert, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from work_dispatch.domain.enums import (
    OPERATOR_LOAD_STATUSES,
    NotificationKind,
    ProcessStatus,
    Role,
    TaskStatus,
    WorkOrderStatus,
)
from work_dispatch.domain.errors import (
    ConflictError,
    IllegalTransitionError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from work_dispatch.domain.task_machine import TaskAction, next_status
from work_dispatch.models import (
    Notification,
    Process,
    Task,
    User,
    UserDepartment,
    WorkOrder,
    WorkOrderProcess,
    utc_now,
)
from work_dispatch.realtime.bus import BusEvent, publish
from work_dispatch.services.actor import Actor, require_operator, require_supervisor
from work_dispatch.services.audit import record_events
from work_dispatch.services.sql import is_postgres
from work_dispatch.services.validation import as_int, as_text

MAX_REPORT = 100_000_000
PAUSE_REASONS = (
    "Material shortage",
    "Machine breakdown",
    "Setup / changeover",
    "Quality check",
    "Break",
    "Waiting for approval",
    "Other",
)


@dataclass
class TransitionResult:
    """The task after a transition, plus what else changed."""

    task_id: int
    status: str
    process_completed: bool = False
    work_order_completed: bool = False


def _load(db: Session, task_id: Any) -> Task:
    task_id = as_int(task_id, "task_id", "Task", minimum=1)
    task = db.get(Task, task_id, populate_existing=True)
    if task is None or task.is_draft:
        raise NotFoundError(f"Task #{task_id} does not exist.")
    return task


def blocking_reason(db: Session, task: Task) -> str | None:
    """Why a task cannot start yet: an earlier process of its work order is unfinished.

    Args:
        db: Open session.
        task: The task.

    Returns:
        A sentence naming the unfinished process, or None when the task is startable.
    """
    row = db.exec(
        select(Task.sequence, Process.name)
        .join(Process, Process.id == Task.process_id)
        .where(
            Task.work_order_id == task.work_order_id,
            Task.sequence < task.sequence,
            Task.status.not_in([TaskStatus.COMPLETED, TaskStatus.CANCELLED]),
        )
        .order_by(Task.sequence)
        .limit(1)
    ).first()
    return f"Waiting for {row[1]} to finish." if row else None


def _cas(db: Session, task: Task, target: TaskStatus, **values: Any) -> None:
    changed = db.execute(
        update(Task)
        .where(Task.id == task.id, Task.status == task.status, Task.version == task.version)
        .values(status=target, version=Task.version + 1, updated_at=utc_now(), **values)
    ).rowcount
    if changed != 1:
        db.rollback()
        current = db.get(Task, task.id)
        if current is not None and current.status == TaskStatus.ASSIGNED and target == TaskStatus.ASSIGNED:
            raise ConflictError("Already taken: someone else claimed this task first.")
        raise ConflictError(f"Task #{task.id} was changed meanwhile; the screen has been refreshed.")


def _own_task(actor: Actor, task: Task) -> None:
    if task.assigned_operator_id != actor.user_id:
        raise PermissionDeniedError(f"Task #{task.id} is not assigned to you.")


def _announce(
    task: Task | TaskRef, *, operator_ids=(), extra_task_ids=(), kind: str = "task_changed"
) -> None:
    operators = {task.assigned_operator_id, *operator_ids} - {None}
    publish(
        BusEvent(
            kind=kind,
            task_ids=(task.id, *extra_task_ids),
            operator_ids=tuple(operators),
            department_ids=tuple({task.assigned_department_id} - {None}),
            work_order_ids=(task.work_order_id,),
        )
    )


def operator_load(db: Session, operator_id: int) -> int:
    """Open tasks (assigned, in progress, paused) held by an operator."""
    return db.exec(
        select(func.count())
        .select_from(Task)
        .where(Task.assigned_operator_id == operator_id, Task.status.in_(OPERATOR_LOAD_STATUSES))
    ).one()


@dataclass(frozen=True)
class TaskRef:
    """The columns of a task that follow-up steps need, as returned by a fast update."""

    id: int
    work_order_process_id: int
    work_order_id: int
    sequence: int
    assigned_operator_id: int | None
    assigned_department_id: int | None
    quantity_completed: int
    quantity_defective: int


_REF_COLUMNS = (
    Task.id,
    Task.work_order_process_id,
    Task.work_order_id,
    Task.sequence,
    Task.assigned_operator_id,
    Task.assigned_department_id,
    Task.quantity_completed,
    Task.quantity_defective,
)


_RETURNED = (
    "id, work_order_process_id, work_order_id, sequence, assigned_operator_id, assigned_department_id, "
    "quantity_completed, quantity_defective"
)
_EVENT = (
    "ev AS (INSERT INTO task_event (task_id, actor_id, kind, data, created_at) "
    "SELECT id, :actor, {kind}, {data}, :now FROM upd)"
)
_PG_TRANSITIONS = {
    "claimed": text(
        "WITH upd AS (UPDATE task SET status = 'assigned', assigned_operator_id = :actor, "
        "version = version + 1, updated_at = :now WHERE id = :id AND status = 'queued' "
        "AND assigned_department_id = ANY(:departments) "
        f"RETURNING {_RETURNED}), "
        + _EVENT.format(kind="'claimed'", data="'{}'::json")
        + f" SELECT {_RETURNED} FROM upd"
    ).bindparams(bindparam("departments", type_=ARRAY(Integer))),
    "started": text(
        "WITH upd AS (UPDATE task SET status = 'in_progress', started_at = coalesce(started_at, :now), "
        "version = version + 1, updated_at = :now WHERE id = :id AND status = 'assigned' "
        "AND assigned_operator_id = :actor AND NOT EXISTS (SELECT 1 FROM task AS p WHERE "
        "p.work_order_id = task.work_order_id AND p.sequence < task.sequence "
        f"AND p.status NOT IN ('completed', 'cancelled')) RETURNING {_RETURNED}), "
        + _EVENT.format(kind="'started'", data="'{}'::json")
        + ", wop AS (UPDATE work_order_process SET status = 'in_progress' WHERE id IN "
        "(SELECT work_order_process_id FROM upd) AND status = 'pending') "
        f"SELECT {_RETURNED} FROM upd"
    ),
    "completed": text(
        "WITH upd AS (UPDATE task SET status = 'completed', completed_at = :now, version = version + 1, "
        "updated_at = :now WHERE id = :id AND status = 'in_progress' AND assigned_operator_id = :actor "
        f"RETURNING {_RETURNED}), "
        + _EVENT.format(
            kind="'completed'",
            data="json_build_object('quantity_completed', quantity_completed, "
            "'quantity_defective', quantity_defective)",
        )
        + f" SELECT {_RETURNED} FROM upd"
    ),
}
"""The hot transitions on PostgreSQL: compare-and-set, event (and process status) in one statement."""


def _pg_transition(db: Session, kind: str, task_id: int, actor: Actor) -> TaskRef | None:
    params = {"id": task_id, "actor": actor.user_id, "now": utc_now()}
    if kind == "claimed":
        params["departments"] = sorted(actor.department_ids) or [-1]
    row = db.execute(_PG_TRANSITIONS[kind], params).first()
    if row is None:
        return None
    cached = db.identity_map.get(db.identity_key(Task, row[0]))
    if cached is not None:
        db.expire(cached)
    return TaskRef(*row)


def _fast_update(
    db: Session,
    conditions: tuple,
    event: tuple[int | None, str],
    *,
    event_columns: tuple[str, ...] = (),
    start_process: bool = False,
    **values: Any,
) -> TaskRef | None:
    """Portable compare-and-set UPDATE ... RETURNING plus its event; None when the conditions fail.

    PostgreSQL uses :func:`_pg_transition` instead (one statement for all of it).

    Args:
        db: Open session (the caller commits).
        conditions: The compare-and-set conditions.
        event: (actor id, event kind).
        event_columns: Columns of the updated row copied into the event's data.
        start_process: Also mark the task's process as in progress.
        **values: Column values to set.

    Returns:
        The updated task's columns, or None.
    """
    now = utc_now()
    statement = (
        update(Task)
        .where(*conditions)
        .values(version=Task.version + 1, updated_at=now, **values)
        .returning(*_REF_COLUMNS)
    )
    actor_id, kind = event
    row = db.execute(statement).first()
    if row is None:
        return None
    ref = TaskRef(*row)
    record_events(db, actor_id, kind, [ref.id], {c: getattr(ref, c) for c in event_columns})
    if start_process:
        _mark_process_started(db, ref)
    return ref


def _lock_operator_load(db: Session, operator_id: int) -> tuple[int, int]:
    """Lock the operator's row (PostgreSQL) and return (WIP limit, open tasks) in one round trip."""
    load = (
        select(func.count())
        .select_from(Task)
        .where(Task.assigned_operator_id == operator_id, Task.status.in_(OPERATOR_LOAD_STATUSES))
        .scalar_subquery()
    )
    statement = select(User.wip_limit, load).where(User.id == operator_id)
    if is_postgres(db):
        statement = statement.with_for_update(of=User)
    return tuple(db.execute(statement).one())


def _lock_operator(db: Session, operator_id: int) -> User:
    """Lock an operator's row so WIP checks and assignments to them are serialized."""
    statement = select(User).where(User.id == operator_id)
    if is_postgres(db):
        statement = statement.with_for_update()
    return db.exec(statement).one()


def claim(db: Session, actor: Actor | None, task_id: Any) -> TransitionResult:
    """Take a queued task from one of the operator's department pools.

    Args:
        db: Open session; committed here.
        actor: The acting operator.
        task_id: The queued task.

    Returns:
        The task, now assigned to the operator.

    Raises:
        ConflictError: "Already taken" when another operator won the race.
        ValidationError: When the operator is at their WIP limit.
    """
    actor = require_operator(actor)
    task_id = as_int(task_id, "task_id", "Task", minimum=1)
    wip_limit, load = _lock_operator_load(db, actor.user_id)
    if load >= wip_limit:
        db.rollback()
        raise ValidationError(
            f"You already have {wip_limit} open tasks (your WIP limit). Finish one before claiming more."
        )
    ref = (
        _pg_transition(db, "claimed", task_id, actor)
        if is_postgres(db)
        else _fast_update(
            db,
            (
                Task.id == task_id,
                Task.status == TaskStatus.QUEUED,
                Task.assigned_department_id.in_(actor.department_ids or [-1]),
            ),
            (actor.user_id, "claimed"),
            status=TaskStatus.ASSIGNED,
            assigned_operator_id=actor.user_id,
        )
    )
    if ref is None:
        task = _load(db, task_id)
        db.rollback()
        if task.assigned_department_id not in actor.department_ids:
            raise PermissionDeniedError("This task belongs to another department's pool.")
        if task.status == TaskStatus.ASSIGNED:
            raise ConflictError("Already taken: someone else claimed this task first.")
        next_status(TaskAction.CLAIM, task.status)
        raise ConflictError(f"Task #{task_id} was changed meanwhile; the screen has been refreshed.")
    db.commit()
    _announce(ref, operator_ids=(actor.user_id,))
    return TransitionResult(ref.id, TaskStatus.ASSIGNED)


def start(db: Session, actor: Actor | None, task_id: Any) -> TransitionResult:
    """Start an assigned task of one's own whose earlier processes are done.

    Args:
        db: Open session; committed here.
        actor: The acting operator.
        task_id: The task.

    Returns:
        The task, now in progress.
    """
    actor = require_operator(actor)
    task_id = as_int(task_id, "task_id", "Task", minimum=1)
    if is_postgres(db):
        ref = _pg_transition(db, "started", task_id, actor)
    else:
        predecessor = aliased(Task)
        unfinished_before = (
            select(predecessor.id)
            .where(
                predecessor.work_order_id == Task.work_order_id,
                predecessor.sequence < Task.sequence,
                predecessor.status.not_in([TaskStatus.COMPLETED, TaskStatus.CANCELLED]),
            )
            .exists()
        )
        ref = _fast_update(
            db,
            (
                Task.id == task_id,
                Task.status == TaskStatus.ASSIGNED,
                Task.assigned_operator_id == actor.user_id,
                ~unfinished_before,
            ),
            (actor.user_id, "started"),
            start_process=True,
            status=TaskStatus.IN_PROGRESS,
            started_at=func.coalesce(Task.started_at, utc_now()),
        )
    if ref is None:
        task = _load(db, task_id)
        db.rollback()
        _own_task(actor, task)
        next_status(TaskAction.START, task.status)
        reason = blocking_reason(db, task)
        if reason:
            raise IllegalTransitionError(f"Task #{task.id} is blocked. {reason}")
        raise ConflictError(f"Task #{task_id} was changed meanwhile; the screen has been refreshed.")
    db.commit()
    _announce(ref)
    return TransitionResult(ref.id, TaskStatus.IN_PROGRESS)


def _mark_process_started(db: Session, task: TaskRef) -> None:
    db.execute(
        update(WorkOrderProcess)
        .where(
            WorkOrderProcess.id == task.work_order_process_id,
            WorkOrderProcess.status == ProcessStatus.PENDING,
        )
        .values(status=ProcessStatus.IN_PROGRESS)
    )


def pause(db: Session, actor: Actor | None, task_id: Any, reason: Any) -> TransitionResult:
    """Pause one's task in progress, with a reason.

    Args:
        db: Open session; committed here.
        actor: The acting operator.
        task_id: The task.
        reason: Why (one of the offered reasons, or free text up to 500 characters).

    Returns:
        The task, now paused.
    """
    actor = require_operator(actor)
    reason = as_text(reason, "reason", "Pause reason", max_length=500, required=True)
    task = _load(db, task_id)
    _own_task(actor, task)
    target = next_status(TaskAction.PAUSE, task.status)
    _cas(db, task, target, pause_reason=reason)
    record_events(db, actor.user_id, "paused", [task.id], {"reason": reason})
    db.commit()
    _announce(task)
    return TransitionResult(task.id, target)


def resume(db: Session, actor: Actor | None, task_id: Any) -> TransitionResult:
    """Resume one's paused task.

    Args:
        db: Open session; committed here.
        actor: The acting operator.
        task_id: The task.

    Returns:
        The task, in progress again.
    """
    actor = require_operator(actor)
    task = _load(db, task_id)
    _own_task(actor, task)
    target = next_status(TaskAction.RESUME, task.status)
    _cas(db, task, target, pause_reason="")
    record_events(db, actor.user_id, "resumed", [task.id])
    db.commit()
    _announce(task)
    return TransitionResult(task.id, target)


def report_quantity(
    db: Session,
    actor: Actor | None,
    task_id: Any,
    completed: Any,
    defective: Any = 0,
    over_production: Any = False,
) -> TransitionResult:
    """Add produced and defective quantities to one's task (partial reports add up).

    Args:
        db: Open session; committed here.
        actor: The acting operator.
        task_id: The task (in progress or paused).
        completed: Good units made since the last report (>= 0).
        defective: Scrapped units since the last report (>= 0).
        over_production: Must be True to go past the planned quantity.

    Returns:
        The task.

    Raises:
        ValidationError: On negative numbers, nothing reported, or exceeding the plan unflagged.
    """
    actor = require_operator(actor)
    good = as_int(completed, "completed", "Completed quantity", minimum=0, maximum=MAX_REPORT) or 0
    bad = (
        as_int(defective, "defective", "Defective quantity", minimum=0, maximum=MAX_REPORT, optional=True)
        or 0
    )
    if not isinstance(over_production, bool):
        raise ValidationError("Over-production must be yes or no.")
    if good == 0 and bad == 0:
        raise ValidationError("Enter a quantity to report.", "completed")
    task = _load(db, task_id)
    _own_task(actor, task)
    if task.status not in (TaskStatus.IN_PROGRESS, TaskStatus.PAUSED):
        raise IllegalTransitionError("Quantities can be reported only on a task in progress or paused.")
    total = task.quantity_completed + good
    if total > task.production_quantity and not (over_production or task.allow_over_production):
        raise ValidationError(
            f"That makes {total} of {task.production_quantity} planned. Tick over-production to report more.",
            "completed",
        )
    changed = db.execute(
        update(Task)
        .where(Task.id == task.id, Task.version == task.version)
        .values(
            quantity_completed=Task.quantity_completed + good,
            quantity_defective=Task.quantity_defective + bad,
            allow_over_production=task.allow_over_production or bool(over_production),
            version=Task.version + 1,
            updated_at=utc_now(),
        )
    ).rowcount
    if changed != 1:
        db.rollback()
        raise ConflictError(f"Task #{task.id} was changed meanwhile; try again.")
    record_events(
        db,
        actor.user_id,
        "reported",
        [task.id],
        {
            "completed": good,
            "defective": bad,
            "over_production": bool(over_production),
            "total_completed": total,
        },
    )
    db.commit()
    _announce(task)
    return TransitionResult(task.id, task.status)


def complete(db: Session, actor: Actor | None, task_id: Any) -> TransitionResult:
    """Complete one's task in progress; may complete its process and work order.

    Completing the last open task of a process completes that process (supervisors get a
    ``process_completed`` notification) and unblocks the next process's tasks; completing
    the last process completes the work order (``work_order_completed``).

    Args:
        db: Open session; committed here.
        actor: The acting operator.
        task_id: The task.

    Returns:
        The task and whether its process and work order completed.
    """
    actor = require_operator(actor)
    task_id = as_int(task_id, "task_id", "Task", minimum=1)
    ref = (
        _pg_transition(db, "completed", task_id, actor)
        if is_postgres(db)
        else _fast_update(
            db,
            (
                Task.id == task_id,
                Task.status == TaskStatus.IN_PROGRESS,
                Task.assigned_operator_id == actor.user_id,
            ),
            (actor.user_id, "completed"),
            event_columns=("quantity_completed", "quantity_defective"),
            status=TaskStatus.COMPLETED,
            completed_at=utc_now(),
        )
    )
    if ref is None:
        task = _load(db, task_id)
        db.rollback()
        _own_task(actor, task)
        next_status(TaskAction.COMPLETE, task.status)
        raise ConflictError(f"Task #{task_id} was changed meanwhile; the screen has been refreshed.")
    result = TransitionResult(ref.id, TaskStatus.COMPLETED)
    next_operators = _close_process_if_done(db, ref, result)
    db.commit()
    _announce(ref, operator_ids=next_operators)
    return result


def _close_process_if_done(db: Session, task: Task | TaskRef, result: TransitionResult) -> set[int]:
    # Lock first, count in a second statement: after waiting for the lock, the count gets a fresh
    # snapshot and sees a concurrent completer's commit. One combined statement would not.
    lock = select(WorkOrderProcess).where(WorkOrderProcess.id == task.work_order_process_id)
    if is_postgres(db):
        lock = lock.with_for_update()
    process_row = db.exec(lock).one()
    open_left = db.exec(
        select(func.count())
        .select_from(Task)
        .where(
            Task.work_order_process_id == process_row.id,
            Task.status.not_in([TaskStatus.COMPLETED, TaskStatus.CANCELLED]),
        )
    ).one()
    if open_left or process_row.status == ProcessStatus.COMPLETED:
        return set()
    done, bad = db.exec(
        select(
            func.coalesce(func.sum(Task.quantity_completed), 0),
            func.coalesce(func.sum(Task.quantity_defective), 0),
        ).where(Task.work_order_process_id == process_row.id, Task.status == TaskStatus.COMPLETED)
    ).one()
    now = utc_now()
    db.execute(
        update(WorkOrderProcess)
        .where(WorkOrderProcess.id == process_row.id)
        .values(
            status=ProcessStatus.COMPLETED, quantity_completed=done, quantity_defective=bad, completed_at=now
        )
    )
    result.process_completed = True
    work_order = db.get(WorkOrder, task.work_order_id)
    process_name = db.get(Process, process_row.process_id).name
    supervisors = db.exec(
        select(User.id).where(User.is_active, User.role.in_([Role.SUPERVISOR, Role.ADMIN]))
    ).all()
    notices = [
        {
            "recipient_id": sid,
            "kind": NotificationKind.PROCESS_COMPLETED,
            "title": f"{process_name} done · {work_order.order_number}",
            "body": f"{done} good, {bad} defective.",
            "work_order_id": work_order.id,
            "is_read": False,
            "created_at": now,
        }
        for sid in supervisors
    ]
    remaining = db.exec(
        select(func.count())
        .select_from(WorkOrderProcess)
        .where(
            WorkOrderProcess.work_order_id == work_order.id,
            WorkOrderProcess.status.not_in([ProcessStatus.COMPLETED, ProcessStatus.CANCELLED]),
        )
    ).one()
    if remaining == 0:
        db.execute(
            update(WorkOrder)
            .where(WorkOrder.id == work_order.id)
            .values(status=WorkOrderStatus.COMPLETED, updated_at=now, version=WorkOrder.version + 1)
        )
        result.work_order_completed = True
        notices += [
            {
                "recipient_id": sid,
                "kind": NotificationKind.WORK_ORDER_COMPLETED,
                "title": f"Work order {work_order.order_number} completed",
                "body": "",
                "work_order_id": work_order.id,
                "is_read": False,
                "created_at": now,
            }
            for sid in supervisors
        ]
    if notices:
        db.execute(insert(Notification), notices)
    next_operators = db.exec(
        select(Task.assigned_operator_id).where(
            Task.work_order_id == work_order.id,
            Task.sequence > task.sequence,
            Task.assigned_operator_id.is_not(None),
            Task.status.in_(OPERATOR_LOAD_STATUSES),
        )
    ).all()
    return set(next_operators)


def _notify(db: Session, recipient_id: int, kind: str, title: str, body: str, task: Task) -> None:
    db.add(
        Notification(
            recipient_id=recipient_id,
            kind=kind,
            title=title,
            body=body,
            task_id=task.id,
            work_order_id=task.work_order_id,
        )
    )


def reassign(
    db: Session, actor: Actor | None, task_id: Any, operator_id: Any, reason: Any = ""
) -> TransitionResult:
    """Give an open task to another operator of its department (supervisor).

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        task_id: The task.
        operator_id: The new operator (must be an active member of the task's department).
        reason: Why, kept in the event.

    Returns:
        The task, assigned to the new operator (who starts it again).
    """
    actor = require_supervisor(actor)
    reason = as_text(reason, "reason", "Reason", max_length=500)
    new_operator_id = as_int(operator_id, "operator_id", "Operator", minimum=1)
    task = _load(db, task_id)
    operator = db.get(User, new_operator_id)
    if operator is None or not operator.is_active or operator.role != Role.OPERATOR:
        raise NotFoundError("Unknown operator.", "operator_id")
    departments = set(
        db.exec(select(UserDepartment.department_id).where(UserDepartment.user_id == operator.id)).all()
    )
    department_id = task.assigned_department_id
    if department_id is None:
        if not departments:
            raise ValidationError(f"{operator.display_name} is in no department.", "operator_id")
        department_id = min(departments)
    elif department_id not in departments:
        raise ValidationError(f"{operator.display_name} is not in the task's department.", "operator_id")
    if task.assigned_operator_id == operator.id:
        raise ValidationError(f"The task is already assigned to {operator.display_name}.", "operator_id")
    target = next_status(TaskAction.REASSIGN, task.status)
    _lock_operator(db, operator.id)
    if operator_load(db, operator.id) >= operator.wip_limit:
        db.rollback()
        raise ValidationError(
            f"{operator.display_name} is at their WIP limit ({operator.wip_limit}).", "operator_id"
        )
    previous = task.assigned_operator_id
    _cas(
        db,
        task,
        target,
        assigned_operator_id=operator.id,
        assigned_department_id=department_id,
        pause_reason="",
    )
    record_events(
        db,
        actor.user_id,
        "reassigned",
        [task.id],
        {"from_operator_id": previous, "to_operator_id": operator.id, "reason": reason},
    )
    _notify(
        db,
        operator.id,
        NotificationKind.TASK_ASSIGNED,
        f"Task #{task.id} assigned to you",
        reason or "Reassigned by a supervisor.",
        task,
    )
    if previous:
        _notify(
            db,
            previous,
            NotificationKind.TASK_UNASSIGNED,
            f"Task #{task.id} reassigned",
            reason or "A supervisor gave it to someone else.",
            task,
        )
    db.commit()
    _announce(task, operator_ids=(operator.id, previous))
    return TransitionResult(task.id, target)


def unassign(db: Session, actor: Actor | None, task_id: Any, reason: Any = "") -> TransitionResult:
    """Take a task away from its operator and put it back in its department pool (supervisor).

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        task_id: The task.
        reason: Why, kept in the event.

    Returns:
        The task, queued in its department pool.
    """
    actor = require_supervisor(actor)
    reason = as_text(reason, "reason", "Reason", max_length=500)
    task = _load(db, task_id)
    if task.assigned_department_id is None:
        raise ValidationError("The task has no department pool to return to.")
    target = next_status(TaskAction.UNASSIGN, task.status)
    previous = task.assigned_operator_id
    _cas(db, task, target, assigned_operator_id=None, pause_reason="")
    record_events(
        db, actor.user_id, "unassigned", [task.id], {"from_operator_id": previous, "reason": reason}
    )
    if previous:
        _notify(
            db,
            previous,
            NotificationKind.TASK_UNASSIGNED,
            f"Task #{task.id} taken off your list",
            reason or "A supervisor put it back in the pool.",
            task,
        )
    db.commit()
    _announce(task, operator_ids=(previous,))
    return TransitionResult(task.id, target)


def cancel(db: Session, actor: Actor | None, task_id: Any, reason: Any) -> TransitionResult:
    """Cancel an open published task (supervisor).

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        task_id: The task.
        reason: Why (required).

    Returns:
        The cancelled task.
    """
    actor = require_supervisor(actor)
    reason = as_text(reason, "reason", "Reason", max_length=500, required=True)
    task = _load(db, task_id)
    target = next_status(TaskAction.CANCEL, task.status)
    _cas(db, task, target)
    record_events(db, actor.user_id, "cancelled", [task.id], {"reason": reason})
    if task.assigned_operator_id:
        _notify(
            db,
            task.assigned_operator_id,
            NotificationKind.TASK_CANCELLED,
            f"Task #{task.id} cancelled",
            reason,
            task,
        )
    result = TransitionResult(task.id, target)
    _close_process_if_done(db, task, result)
    db.commit()
    _announce(task)
    return result
