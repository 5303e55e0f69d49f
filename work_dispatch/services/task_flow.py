"""The shop-floor life of a published task.

Operators claim, start, pause, resume, report and complete; supervisors reassign,
unassign and cancel.

Every transition is a compare-and-set whose "from" statuses and new status come from the
state machine (``UPDATE ... WHERE id = :id AND status IN (<allowed from>) AND version =
:seen_version``, or the operator's own task for the hot ones): when two people act on one
task at once exactly one wins and the other is told what happened. Each transition writes
a TaskEvent. On PostgreSQL, claim, start and complete are one statement each.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Select, String, Update, bindparam, func, insert, literal, not_, update
from sqlmodel import Session, select

from work_dispatch.domain.enums import (
    CLOSED_TASK_STATUSES,
    OPEN_TASK_STATUSES,
    OPERATOR_LOAD_STATUSES,
    NotificationKind,
    PauseReason,
    ProcessStatus,
    Role,
    TaskEventKind,
    TaskStatus,
    WorkOrderStatus,
)
from work_dispatch.domain.errors import (
    ConflictError,
    DomainError,
    IllegalTransitionError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from work_dispatch.domain.task_machine import TRANSITION_EVENTS, TaskAction, next_status, target_of
from work_dispatch.i18n import Message, enum_key, enum_label, localized_name, msg, named, translate
from work_dispatch.i18n import literal as literal_text
from work_dispatch.models import (
    CODE_LENGTH,
    DefectReason,
    Process,
    Task,
    User,
    UserDepartment,
    WorkOrder,
    WorkOrderProcess,
    utc_now,
)
from work_dispatch.realtime.bus import BusEvent, publish
from work_dispatch.services import task_rows
from work_dispatch.services.actor import Actor, require_operator, require_supervisor
from work_dispatch.services.audit import events_from, record_events
from work_dispatch.services.catalog import DEFECT_KINDS, MAX_REASONS_PER_PROCESS, REWORK, SCRAP
from work_dispatch.services.notifications import Notice, notify, reason_or, send_notices
from work_dispatch.services.shifts import require_eligible
from work_dispatch.services.sql import is_postgres, lock_for_write
from work_dispatch.services.task_rules import (
    Handover,
    handover_of,
    is_blocked,
    may,
    step_used,
    transfer_batch_of,
    upstream_good,
    waiting_for,
    waiting_message,
)
from work_dispatch.services.validation import as_int, as_text
from work_dispatch.services.workload import refresh_planned_minutes

MAX_REPORT = 100_000_000
PAUSE_REASONS: tuple[str, ...] = tuple(
    reason.value for reason in PauseReason if reason is not PauseReason.SHIFT_END
)
"""The downtime categories offered when pausing (values of :class:`PauseReason` but shift end,
which is the system's; labels via ``enum.pause_reason.*``)."""
LEGACY_PAUSE_REASONS: dict[str, str] = {
    "machine_breakdown": PauseReason.BREAKDOWN.value,
    "material_shortage": PauseReason.WAITING_FOR_MATERIAL.value,
    "setup_changeover": PauseReason.SETUP.value,
    "quality_check": PauseReason.QUALITY_HOLD.value,
    "waiting_for_approval": PauseReason.OTHER.value,
    "Machine breakdown": PauseReason.BREAKDOWN.value,
    "Material shortage": PauseReason.WAITING_FOR_MATERIAL.value,
    "Setup / changeover": PauseReason.SETUP.value,
    "Quality check": PauseReason.QUALITY_HOLD.value,
    "Waiting for approval": PauseReason.OTHER.value,
}
"""Pause reasons before they were categories (values and the English labels once stored) →
their category. Migration 0011 moved stored ones; callers written before still send them."""
_STORED_REASONS = frozenset(reason.value for reason in PauseReason)
_PAUSE_REASON_BY_ENGLISH = {
    **LEGACY_PAUSE_REASONS,
    **{translate(enum_key(reason), "en"): reason.value for reason in PauseReason},
}


def pause_reason_choices(locale: str) -> list[tuple[str, str]]:
    """(value, label in ``locale``) of every offered pause reason, for the pause dialog."""
    return [(reason, enum_label(PauseReason(reason), locale)) for reason in PAUSE_REASONS]


def pause_category(reason: str) -> str | None:
    """The :class:`PauseReason` value a pause reason stands for, or None for anything else.

    Args:
        reason: A category value, its English label, or an older reason (value or label).

    Returns:
        The category's value.
    """
    if reason in _STORED_REASONS:
        return reason
    return _PAUSE_REASON_BY_ENGLISH.get(reason)


def pause_reason_text(stored: str, locale: str) -> str:
    """A task's stored pause reason for a reader: its category in their locale, else as typed.

    Args:
        stored: ``Task.pause_reason``: a :class:`PauseReason` value, an older reason or
            English label, or free text typed long ago.
        locale: The reader's locale.

    Returns:
        The text to show.
    """
    value = pause_category(stored)
    return enum_label(PauseReason(value), locale) if value else stored


@dataclass
class TransitionResult:
    """The task after a transition, plus what else changed."""

    task_id: int
    status: str
    process_completed: bool = False
    work_order_completed: bool = False


def _load(db: Session, task_id: Any) -> Task:
    task_id = as_int(task_id, "task_id", "field.task", minimum=1)
    task = db.get(Task, task_id, populate_existing=True)
    if task is None or task.is_draft:
        raise NotFoundError("error.task_not_found", task_id=task_id)
    return task


def blocking_reason(db: Session, task: Task) -> Message | None:
    """Why a task cannot start yet: an earlier process of its work order is unfinished.

    Args:
        db: Open session.
        task: The task.

    Returns:
        A message naming the unfinished process, or None when the task is startable.
    """
    process_id = db.execute(
        waiting_for(
            task.work_order_id,
            task.sequence,
            Handover(task.work_order_process_id, task.production_quantity, task.quantity_completed),
        )
    ).scalar()
    if process_id is None:
        return None
    process = db.get(Process, process_id)
    return waiting_message(process.name, process.names)


def _cas(
    db: Session,
    task: Task,
    action: TaskAction,
    actor_id: int,
    event_data: dict[str, Any] | None = None,
    **values: Any,
) -> TaskStatus:
    """Compare-and-set ``action`` on a loaded task (the version it was read at) and write its event.

    Returns:
        The task's new status.
    """
    target = target_of(action)
    changed = db.execute(
        update(Task)
        .where(Task.id == task.id, Task.version == task.version, may(action, Task.status))
        .values(status=target, version=Task.version + 1, updated_at=utc_now(), **values)
    ).rowcount
    if changed != 1:
        db.rollback()
        current = db.get(Task, task.id)
        if current is not None and current.status == TaskStatus.ASSIGNED and target == TaskStatus.ASSIGNED:
            raise ConflictError("error.already_taken")
        raise ConflictError("error.task_changed_refreshed", task_id=task.id)
    record_events(db, actor_id, TRANSITION_EVENTS[action], [task.id], event_data)
    return target


def _own_task(actor: Actor, task: Task) -> None:
    if task.assigned_operator_id != actor.user_id:
        raise PermissionDeniedError("error.task_not_yours", task_id=task.id)


def _announce(
    task: Task | TaskRef, *, operator_ids=(), extra_task_ids=(), department_ids=(), kind: str = "task_changed"
) -> None:
    operators = {task.assigned_operator_id, *operator_ids} - {None}
    publish(
        BusEvent(
            kind=kind,
            task_ids=(task.id, *extra_task_ids),
            operator_ids=tuple(operators),
            department_ids=tuple({task.assigned_department_id, *department_ids} - {None}),
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


def _ref_of(task: Task) -> TaskRef:
    """The :class:`TaskRef` of a loaded task (no query)."""
    return TaskRef(*(getattr(task, name) for name in TaskRef.__dataclass_fields__))


_task = Task.__table__
_process = WorkOrderProcess.__table__
_NEXT_STEP = _process.alias("next_step")
_REF_COLUMNS = tuple(_task.c[name] for name in TaskRef.__dataclass_fields__)


def _transition(action: TaskAction, *conditions: Any, **values: Any) -> Update:
    """The compare-and-set UPDATE of ``action`` on task ``:task_id``, returning its :class:`TaskRef`.

    The machine says from which statuses (``may``) and to which; ``conditions`` add who may
    act. Parameters: ``task_id``, ``now`` and whatever ``conditions`` and ``values`` bind.
    """
    return (
        update(_task)
        .where(_task.c.id == bindparam("task_id"), may(action), *conditions)
        .values(
            status=target_of(action).value,
            version=_task.c.version + 1,
            updated_at=bindparam("now"),
            **values,
        )
        .returning(*_REF_COLUMNS)
    )


def _process_started(work_order_process_ids: Any) -> Update:
    """Mark pending processes as in progress (their first task started)."""
    return (
        update(_process)
        .where(_process.c.id.in_(work_order_process_ids), _process.c.status == ProcessStatus.PENDING.value)
        .values(status=ProcessStatus.IN_PROGRESS.value)
    )


@dataclass(frozen=True)
class _HotTransition:
    """A transition an operator does all day: one compare-and-set, its event, maybe its process."""

    action: TaskAction
    cas: Update
    event_columns: tuple[str, ...] = ()
    starts_process: bool = False

    @cached_property
    def one_statement(self) -> Select:
        """PostgreSQL: the compare-and-set, its event (and the process start) in one statement."""
        upd = self.cas.cte("upd")
        data = None
        if self.event_columns:
            data = func.json_build_object(
                *(part for name in self.event_columns for part in (literal(name, String), upd.c[name]))
            )
        event = events_from(
            upd.c.id, bindparam("actor"), TRANSITION_EVENTS[self.action], bindparam("now"), data
        )
        statement = select(*upd.c).add_cte(event.cte("ev"))
        if self.starts_process:
            statement = statement.add_cte(_process_started(select(upd.c.work_order_process_id)).cte("wop"))
        return statement


_OWN = _task.c.assigned_operator_id == bindparam("actor")
_CLAIM = _HotTransition(
    TaskAction.CLAIM,
    _transition(
        TaskAction.CLAIM,
        _task.c.assigned_department_id.in_(bindparam("departments", expanding=True)),
        assigned_operator_id=bindparam("actor"),
    ),
)
_START = _HotTransition(
    TaskAction.START,
    _transition(
        TaskAction.START,
        _OWN,
        not_(is_blocked(_task.c.work_order_id, _task.c.sequence, handover_of())),
        started_at=func.coalesce(_task.c.started_at, bindparam("now")),
    ),
    starts_process=True,
)
_COMPLETE = _HotTransition(
    TaskAction.COMPLETE,
    _transition(TaskAction.COMPLETE, _OWN, completed_at=bindparam("now")),
    event_columns=("quantity_completed", "quantity_defective"),
)


def _run_hot(db: Session, hot: _HotTransition, task_id: int, actor: Actor, **params: Any) -> TaskRef | None:
    """Run a hot transition and write its event; None when its compare-and-set fails.

    PostgreSQL runs :attr:`_HotTransition.one_statement`; SQLite (no data-modifying CTEs)
    runs the same compare-and-set, then the event and process statements.
    """
    params = {"task_id": task_id, "actor": actor.user_id, "now": utc_now(), **params}
    if is_postgres(db):
        row = db.execute(hot.one_statement, params).first()
        ref = TaskRef(*row) if row is not None else None
    else:
        row = db.execute(hot.cas, params).first()
        ref = TaskRef(*row) if row is not None else None
        if ref is not None:
            record_events(
                db,
                actor.user_id,
                TRANSITION_EVENTS[hot.action],
                [ref.id],
                {name: getattr(ref, name) for name in hot.event_columns},
            )
            if hot.starts_process:
                db.execute(_process_started([ref.work_order_process_id]))
    if ref is not None:
        cached = db.identity_map.get(db.identity_key(Task, ref.id))
        if cached is not None:
            db.expire(cached)
    return ref


def _lock_operator_load(db: Session, operator_id: int) -> tuple[int, int]:
    """Lock the operator, then return (WIP limit, open tasks): no concurrent assignment slips past.

    The count is a second statement on purpose: after waiting for the lock it reads a fresh
    snapshot and sees what the previous holder committed; a subquery of the locking statement
    would count from before the wait.
    """
    return _lock_operator(db, operator_id).wip_limit, operator_load(db, operator_id)


def _lock_operator(db: Session, operator_id: int) -> User:
    """Lock an operator's row (SQLite: the write lock) so WIP checks and assignments are serialized."""
    lock_for_write(db)
    statement = select(User).where(User.id == operator_id)
    if is_postgres(db):
        statement = statement.with_for_update()
    return db.exec(statement).one()


def _refuse_ineligible(db: Session, operator_id: int, department_id: int | None, process_id: int) -> None:
    """Refuse work to someone off shift, absent, not checked in or not qualified; nothing changes."""
    try:
        require_eligible(db, operator_id, department_id, process_id, utc_now())
    except DomainError:
        db.rollback()
        raise


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
    task_id = as_int(task_id, "task_id", "field.task", minimum=1)
    # Eligibility first: it does not depend on the load, so the operator's lock stays short.
    pool = db.exec(select(Task.assigned_department_id, Task.process_id).where(Task.id == task_id)).first()
    if pool is not None and pool[0] in actor.department_ids:
        _refuse_ineligible(db, actor.user_id, pool[0], pool[1])
    wip_limit, load = _lock_operator_load(db, actor.user_id)
    if load >= wip_limit:
        db.rollback()
        raise ValidationError("error.wip_limit_reached", count=wip_limit)
    ref = _run_hot(db, _CLAIM, task_id, actor, departments=sorted(actor.department_ids) or [-1])
    if ref is None:
        task = _load(db, task_id)
        db.rollback()
        if task.assigned_department_id not in actor.department_ids:
            raise PermissionDeniedError("error.other_department_pool")
        if task.status == TaskStatus.ASSIGNED:
            raise ConflictError("error.already_taken")
        next_status(TaskAction.CLAIM, task.status)
        raise ConflictError("error.task_changed_refreshed", task_id=task_id)
    db.commit()
    _announce(ref, operator_ids=(actor.user_id,))
    return TransitionResult(ref.id, target_of(TaskAction.CLAIM))


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
    task_id = as_int(task_id, "task_id", "field.task", minimum=1)
    ref = _run_hot(db, _START, task_id, actor)
    if ref is None:
        task = _load(db, task_id)
        db.rollback()
        _own_task(actor, task)
        next_status(TaskAction.START, task.status)
        reason = blocking_reason(db, task)
        if reason:
            raise IllegalTransitionError("error.task_blocked", task_id=task.id, reason=reason)
        raise ConflictError("error.task_changed_refreshed", task_id=task_id)
    db.commit()
    _announce(ref)
    return TransitionResult(ref.id, target_of(TaskAction.START))


def pause(db: Session, actor: Actor | None, task_id: Any, reason: Any) -> TransitionResult:
    """Pause one's task in progress, with a reason.

    Args:
        db: Open session; committed here.
        actor: The acting operator.
        task_id: The task.
        reason: Why: one of the downtime categories :data:`PAUSE_REASONS` (its value or
            English label; older reasons are mapped to their category), stored as its value
            and shown in each reader's locale.

    Returns:
        The task, now paused.
    """
    actor = require_operator(actor)
    text = as_text(reason, "reason", "field.pause_reason", max_length=500, required=True)
    reason = pause_category(text)
    if reason is None or reason == PauseReason.SHIFT_END:
        raise ValidationError("quality.error.pause_reason_unknown", "reason")
    task = _load(db, task_id)
    _own_task(actor, task)
    next_status(TaskAction.PAUSE, task.status)
    target = _cas(db, task, TaskAction.PAUSE, actor.user_id, {"reason": reason}, pause_reason=reason)
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
    next_status(TaskAction.RESUME, task.status)
    target = _cas(db, task, TaskAction.RESUME, actor.user_id, pause_reason="")
    db.commit()
    _announce(task)
    return TransitionResult(task.id, target)


@dataclass(frozen=True)
class _Reason:
    """A defect reason a report names: its id and code (kept in the report's event)."""

    id: int
    code: str


def _reason_of(db: Session, task: Task, kind: str, value: Any, quantity: int) -> _Reason | None:
    """The active reason of ``kind`` of the task's process that ``value`` names (id or code).

    Returns:
        None when ``quantity`` is 0 (no reason needed, any given is ignored).

    Raises:
        ValidationError: No reason, one that is not a ``kind`` reason of the task's process,
            or one no longer in use (field ``<kind>_reason``).
    """
    if quantity == 0:
        return None
    field = f"{kind}_reason"
    if value is None or isinstance(value, bool) or (isinstance(value, str) and not value.strip()):
        raise ValidationError(f"quality.error.{kind}_reason_required", field)
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        reason_id = as_int(value, field, f"quality.field.{kind}_reason", minimum=1)
        condition = DefectReason.id == reason_id
    elif isinstance(value, str) and len(value.strip()) <= CODE_LENGTH:
        condition = DefectReason.code == value.strip().upper()
    else:
        raise ValidationError("quality.error.reason_not_of_process", field)
    row = db.exec(
        select(DefectReason.id, DefectReason.code, DefectReason.is_active).where(
            condition, DefectReason.process_id == task.process_id, DefectReason.kind == kind
        )
    ).first()
    if row is None:
        raise ValidationError("quality.error.reason_not_of_process", field)
    if not row.is_active:
        raise ValidationError("quality.error.reason_inactive", field)
    return _Reason(row.id, row.code)


def report_reasons(db: Session, actor: Actor | None, task_id: Any) -> dict[str, list[tuple[int, str]]]:
    """The scrap and rework reasons a report on one's task may name, for the report dialog.

    Args:
        db: Open session (read only).
        actor: The acting operator (names come in their locale).
        task_id: The task.

    Returns:
        ``{"scrap": [(id, label)], "rework": [(id, label)]}``: the active reasons of the
        task's process, in the order supervisors gave them.
    """
    actor = require_operator(actor)
    task = _load(db, task_id)
    _own_task(actor, task)
    reasons: dict[str, list[tuple[int, str]]] = {kind: [] for kind in DEFECT_KINDS}
    for reason_id, kind, name, names in db.exec(
        select(DefectReason.id, DefectReason.kind, DefectReason.name, DefectReason.names)
        .where(DefectReason.process_id == task.process_id, DefectReason.is_active)
        .order_by(DefectReason.sort_order, DefectReason.id)
        .limit(MAX_REASONS_PER_PROCESS)
    ).all():
        if kind in reasons:
            reasons[kind].append((reason_id, localized_name(name, names, actor.locale)))
    return reasons


def report_quantity(
    db: Session,
    actor: Actor | None,
    task_id: Any,
    completed: Any,
    defective: Any = 0,
    over_production: Any = False,
    *,
    scrap_reason: Any = None,
    rework: Any = 0,
    rework_reason: Any = None,
) -> TransitionResult:
    """Report good, scrap and rework units of one's task since the last report (reports add up).

    Good units add to ``quantity_completed``, scrap to ``quantity_defective``. Rework units
    go to a new rework task on the same process (linked by ``rework_of_task_id``), published
    for dispatch like any task. Everything is checked before anything changes.

    Args:
        db: Open session; committed here.
        actor: The acting operator.
        task_id: The task (in progress or paused).
        completed: Good units (>= 0; empty means 0).
        defective: Scrapped units (>= 0).
        over_production: Must be True to go past the planned quantity.
        scrap_reason: With scrap: an active scrap reason of the task's process (id or code).
        rework: Units to rework (>= 0), at most the good units the task has produced,
            this report's included.
        rework_reason: With rework: an active rework reason of the task's process (id or code).

    Returns:
        The task.

    Raises:
        ValidationError: On negative numbers, nothing reported, exceeding the plan unflagged,
            scrap or rework without a reason of the task's process, rework beyond what was
            produced, or good beyond what the previous step handed over. The error's
            field is ``completed``, ``scrap``, ``rework``, ``scrap_reason`` or ``rework_reason``.
    """
    actor = require_operator(actor)
    good = _report_number(completed, "completed", "field.completed_quantity")
    scrap = _report_number(defective, "scrap", "quality.field.scrap")
    again = _report_number(rework, "rework", "quality.field.rework")
    if not isinstance(over_production, bool):
        raise ValidationError("error.yes_or_no", label=msg("field.over_production"))
    if good == 0 and scrap == 0 and again == 0:
        raise ValidationError("error.report_nothing", "completed")
    task = _load(db, task_id)
    _own_task(actor, task)
    if task.status not in (TaskStatus.IN_PROGRESS, TaskStatus.PAUSED):
        raise IllegalTransitionError("error.report_not_running")
    scrap_why = _reason_of(db, task, SCRAP, scrap_reason, scrap)
    rework_why = _reason_of(db, task, REWORK, rework_reason, again)
    total = task.quantity_completed + good
    if total > task.production_quantity and not (over_production or task.allow_over_production):
        raise ValidationError(
            "error.report_over_plan", "completed", total=total, planned=task.production_quantity
        )
    if again > total:
        raise ValidationError("quality.error.rework_over_produced", "rework", rework=again, produced=total)
    _check_handover_cap(db, task, good + scrap + again)
    changed = db.execute(
        update(Task)
        .where(Task.id == task.id, Task.version == task.version)
        .values(
            quantity_completed=Task.quantity_completed + good,
            quantity_defective=Task.quantity_defective + scrap,
            allow_over_production=task.allow_over_production or bool(over_production),
            version=Task.version + 1,
            updated_at=utc_now(),
        )
    ).rowcount
    if changed != 1:
        db.rollback()
        raise ConflictError("error.task_changed_retry", task_id=task.id)
    data: dict[str, Any] = {
        "completed": good,
        "defective": scrap,
        "rework": again,
        "over_production": bool(over_production),
        "total_completed": total,
    }
    if scrap_why is not None:
        data |= {"scrap_reason": scrap_why.code, "scrap_reason_id": scrap_why.id}
    rework_task_id = None
    if rework_why is not None:
        rework_task_id = _create_rework_task(db, actor, task, again, rework_why)
        data |= {
            "rework_reason": rework_why.code,
            "rework_reason_id": rework_why.id,
            "rework_task_id": rework_task_id,
        }
    record_events(db, actor.user_id, TaskEventKind.REPORTED, [task.id], data)
    downstream = _hand_over(db, task) if good else _Downstream()
    # Read before the commit expires the task: announcing must not cost another query.
    ref, status = _ref_of(task), task.status
    db.commit()
    extra = downstream.task_ids if rework_task_id is None else (*downstream.task_ids, rework_task_id)
    _announce(
        ref,
        operator_ids=downstream.operator_ids,
        extra_task_ids=extra,
        department_ids=downstream.department_ids,
        kind="task_changed" if rework_task_id is None else "tasks_published",
    )
    return TransitionResult(ref.id, status)


def _report_number(value: Any, field: str, label: str) -> int:
    """A reported quantity: a whole number from 0 to :data:`MAX_REPORT` (empty means 0)."""
    return as_int(value, field, label, minimum=0, maximum=MAX_REPORT, optional=True) or 0


def _create_rework_task(db: Session, actor: Actor, origin: Task, quantity: int, reason: _Reason) -> int:
    """Publish a rework task of ``quantity`` units on the origin's process, for dispatch.

    It is built like every new task (``task_rows.TASK_ROWS``), pending (dispatched like any
    task, to the route step's department), with the origin's priority, due time and
    instructions and its own planned minutes; both tasks get an event.

    Returns:
        The new task's id.
    """
    now = utc_now()
    department_id = db.exec(
        select(WorkOrderProcess.department_id).where(WorkOrderProcess.id == origin.work_order_process_id)
    ).one()
    root_key = origin.generation_key.split("|", 1)[0]
    builder = task_rows.TASK_ROWS
    new_id = db.execute(
        insert(builder.table)
        .values(
            builder.row(
                work_order_process_id=origin.work_order_process_id,
                work_order_id=origin.work_order_id,
                process_id=origin.process_id,
                sequence=origin.sequence,
                generation_key=f"{root_key}|rework-{uuid.uuid4().hex[:12]}",
                is_draft=False,
                status=target_of(TaskAction.PUBLISH).value,
                assigned_department_id=department_id,
                priority=origin.priority,
                priority_rank=origin.priority_rank,
                due_at=origin.due_at,
                production_quantity=quantity,
                work_content=origin.work_content,
                requirements=origin.requirements,
                rework_of_task_id=origin.id,
                created_at=now,
                updated_at=now,
                published_at=now,
            )
        )
        .returning(builder.table.c.id)
    ).scalar_one()
    refresh_planned_minutes(db, task_ids=[new_id])
    record_events(
        db,
        actor.user_id,
        TaskEventKind.PUBLISHED,
        [new_id],
        {
            "status": target_of(TaskAction.PUBLISH).value,
            "rework_of_task_id": origin.id,
            "rework": quantity,
            "rework_reason": reason.code,
            "rework_reason_id": reason.id,
        },
    )
    return new_id


def _check_handover_cap(db: Session, task: Task, units: int) -> None:
    """Flow production: a step with a transfer batch never uses more than upstream made.

    ``units`` = good + scrap + rework of this report. The step's row is locked first, so two
    operators of the step cannot both slip past the cap.
    """
    if not units:
        return
    params = {
        "step_id": task.work_order_process_id,
        "work_order_id": task.work_order_id,
        "sequence": task.sequence,
    }
    batch, upstream = db.execute(_CAP_APPLIES, params).one()
    if batch is None or upstream is None:
        return
    lock_for_write(db)
    if is_postgres(db):
        db.execute(_LOCK_STEP, params).all()
    made, used = db.execute(_CAP_COUNTS, params).one()
    if used + units > made:
        db.rollback()
        raise ValidationError(
            "handover.error.over_upstream", "completed", available=max(made - used, 0), good=units
        )


# The statements of a report's hand-over, built once (a report that hands over runs all of them).
_CAP_APPLIES = select(
    transfer_batch_of(bindparam("step_id")),
    select(func.max(_task.c.sequence))
    .where(_task.c.work_order_id == bindparam("work_order_id"), _task.c.sequence < bindparam("sequence"))
    .scalar_subquery(),
)
_LOCK_STEP = select(_process.c.id).where(_process.c.id == bindparam("step_id")).with_for_update()
_CAP_COUNTS = select(
    upstream_good(bindparam("work_order_id"), bindparam("sequence")), step_used(bindparam("step_id"))
)
_NEXT_STEPS = select(_process.c.id, transfer_batch_of(_process.c.id), _process.c.material_available_at).where(
    _process.c.work_order_id == bindparam("work_order_id"),
    _process.c.sequence
    == select(func.min(_NEXT_STEP.c.sequence))
    .where(
        _NEXT_STEP.c.work_order_id == bindparam("work_order_id"),
        _NEXT_STEP.c.sequence > bindparam("sequence"),
    )
    .scalar_subquery(),
)
_NEXT_OPEN_TASKS = select(
    _task.c.id,
    _task.c.assigned_operator_id,
    _task.c.assigned_department_id,
    _task.c.work_order_process_id,
    _task.c.status,
).where(
    _task.c.work_order_process_id.in_(bindparam("ready", expanding=True)),
    _task.c.status.in_(sorted(OPEN_TASK_STATUSES)),
)
_LOCK_NEXT_STEPS = (
    select(_process.c.id).where(_process.c.id.in_(bindparam("ready", expanding=True))).with_for_update()
)
_STEP_GOOD = select(func.coalesce(func.sum(_task.c.quantity_completed), 0)).where(
    _task.c.work_order_id == bindparam("work_order_id"),
    _task.c.sequence == bindparam("sequence"),
    _task.c.status != TaskStatus.CANCELLED.value,
)
_MARK_AVAILABLE = (
    update(_process)
    .where(_process.c.id == bindparam("step_id"), _process.c.material_available_at.is_(None))
    .values(material_available_at=bindparam("now"))
)


@dataclass
class _Downstream:
    """The next step's open tasks, their operators and departments (their screens show availability)."""

    task_ids: tuple[int, ...] = ()
    operator_ids: tuple[int, ...] = ()
    department_ids: tuple[int, ...] = ()


def _hand_over(db: Session, task: Task) -> _Downstream:
    """Tell the next step's operators, once, that its first transfer batch is ready.

    Each next step whose transfer batch upstream good now covers is marked (compare-and-set on
    ``material_available_at``, so concurrent reports mark it once) and its assigned operators
    notified. Returns the next batch steps' open tasks, whose "available to work" changed.
    """
    at = {"work_order_id": task.work_order_id, "sequence": task.sequence}
    next_steps = db.execute(_NEXT_STEPS, at).all()
    ready = [step_id for step_id, batch, _ in next_steps if batch is not None]
    if not ready:
        return _Downstream()
    open_tasks = db.execute(_NEXT_OPEN_TASKS, {"ready": ready}).all()
    downstream = _Downstream(
        tuple(t[0] for t in open_tasks),
        tuple({t[1] for t in open_tasks} - {None}),
        tuple({t[2] for t in open_tasks} - {None}),
    )
    if is_postgres(db):
        # Reports of this step that run at the same time take turns here, so the last one to
        # arrive counts every committed report and the hand-over is never missed (or doubled).
        db.execute(_LOCK_NEXT_STEPS, {"ready": ready}).all()
    made = db.execute(_STEP_GOOD, at).scalar()
    now = utc_now()
    for step_id, batch, available_at in next_steps:
        if batch is None or made < batch or available_at is not None:
            continue
        marked = db.execute(_MARK_AVAILABLE, {"step_id": step_id, "now": now}).rowcount
        if marked != 1:
            continue
        waiting = [
            (task_id, operator_id)
            for task_id, operator_id, _, task_step, status in open_tasks
            if task_step == step_id and operator_id is not None and status in OPERATOR_LOAD_STATUSES
        ]
        for task_id, operator_id in waiting:
            notify(
                db,
                [operator_id],
                NotificationKind.MATERIAL_AVAILABLE,
                msg("notification.material_available.title", task_id=task_id),
                msg("notification.material_available.body", quantity=made, batch=batch),
                task_id=task_id,
                work_order_id=task.work_order_id,
                now=now,
            )
    return downstream


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
    task_id = as_int(task_id, "task_id", "field.task", minimum=1)
    ref = _run_hot(db, _COMPLETE, task_id, actor)
    if ref is None:
        task = _load(db, task_id)
        db.rollback()
        _own_task(actor, task)
        next_status(TaskAction.COMPLETE, task.status)
        raise ConflictError("error.task_changed_refreshed", task_id=task_id)
    result = TransitionResult(ref.id, target_of(TaskAction.COMPLETE))
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
            Task.status.not_in(sorted(CLOSED_TASK_STATUSES)),
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
    process = db.get(Process, process_row.process_id)
    supervisors = db.exec(
        select(User.id).where(User.is_active, User.role.in_([Role.SUPERVISOR, Role.ADMIN]))
    ).all()
    notices = [
        Notice(
            sid,
            NotificationKind.PROCESS_COMPLETED,
            msg(
                "notification.process_done.title",
                process=named(process.name, process.names),
                order_number=work_order.order_number,
            ),
            msg("notification.process_done.body", good=done, defective=bad),
            work_order_id=work_order.id,
        )
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
            Notice(
                sid,
                NotificationKind.WORK_ORDER_COMPLETED,
                msg("notification.work_order_completed.title", order_number=work_order.order_number),
                work_order_id=work_order.id,
            )
            for sid in supervisors
        ]
    send_notices(db, notices, now)
    next_operators = db.exec(
        select(Task.assigned_operator_id).where(
            Task.work_order_id == work_order.id,
            Task.sequence > task.sequence,
            Task.assigned_operator_id.is_not(None),
            Task.status.in_(OPERATOR_LOAD_STATUSES),
        )
    ).all()
    return set(next_operators)


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
    reason = as_text(reason, "reason", "field.reason", max_length=500)
    new_operator_id = as_int(operator_id, "operator_id", "field.operator", minimum=1)
    task = _load(db, task_id)
    operator = db.get(User, new_operator_id)
    if operator is None or not operator.is_active or operator.role != Role.OPERATOR:
        raise NotFoundError("error.operator_unknown", "operator_id")
    departments = set(
        db.exec(select(UserDepartment.department_id).where(UserDepartment.user_id == operator.id)).all()
    )
    department_id = task.assigned_department_id
    if department_id is None:
        if not departments:
            raise ValidationError(
                "error.operator_no_department", "operator_id", operator=operator.display_name
            )
        department_id = min(departments)
    elif department_id not in departments:
        raise ValidationError(
            "error.operator_other_department", "operator_id", operator=operator.display_name
        )
    if task.assigned_operator_id == operator.id:
        raise ValidationError("error.already_assigned_to", "operator_id", operator=operator.display_name)
    target = next_status(TaskAction.REASSIGN, task.status)
    _refuse_ineligible(db, operator.id, department_id, task.process_id)
    _lock_operator(db, operator.id)
    if operator_load(db, operator.id) >= operator.wip_limit:
        db.rollback()
        raise ValidationError(
            "error.operator_at_wip_limit",
            "operator_id",
            operator=operator.display_name,
            limit=operator.wip_limit,
        )
    previous = task.assigned_operator_id
    _cas(
        db,
        task,
        TaskAction.REASSIGN,
        actor.user_id,
        {"from_operator_id": previous, "to_operator_id": operator.id, "reason": reason},
        assigned_operator_id=operator.id,
        assigned_department_id=department_id,
        pause_reason="",
    )
    about = {"task_id": task.id, "work_order_id": task.work_order_id}
    notify(
        db,
        [operator.id],
        NotificationKind.TASK_ASSIGNED,
        msg("notification.reassigned_to_you.title", task_id=task.id),
        reason_or(reason, "notification.reassigned_to_you.body"),
        **about,
    )
    notify(
        db,
        [previous],
        NotificationKind.TASK_UNASSIGNED,
        msg("notification.reassigned_away.title", task_id=task.id),
        reason_or(reason, "notification.reassigned_away.body"),
        **about,
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
    reason = as_text(reason, "reason", "field.reason", max_length=500)
    task = _load(db, task_id)
    if task.assigned_department_id is None:
        raise ValidationError("error.no_pool_to_return")
    target = next_status(TaskAction.UNASSIGN, task.status)
    previous = task.assigned_operator_id
    _cas(
        db,
        task,
        TaskAction.UNASSIGN,
        actor.user_id,
        {"from_operator_id": previous, "reason": reason},
        assigned_operator_id=None,
        pause_reason="",
    )
    notify(
        db,
        [previous],
        NotificationKind.TASK_UNASSIGNED,
        msg("notification.unassigned.title", task_id=task.id),
        reason_or(reason, "notification.unassigned.body"),
        task_id=task.id,
        work_order_id=task.work_order_id,
    )
    db.commit()
    _announce(task, operator_ids=(previous,))
    return TransitionResult(task.id, target)


def return_to_dispatch(db: Session, actor: Actor | None, task_id: Any, reason: Any = "") -> TransitionResult:
    """Send an assigned, unstarted task back to dispatch, which decides again (supervisor).

    The shift-end job does the same to many tasks at once
    (:func:`work_dispatch.services.presence.end_shifts`).

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        task_id: The task.
        reason: Why, kept in the event.

    Returns:
        The task, pending dispatch again.
    """
    actor = require_supervisor(actor)
    reason = as_text(reason, "reason", "field.reason", max_length=500)
    task = _load(db, task_id)
    target = next_status(TaskAction.RETURN, task.status)
    previous = task.assigned_operator_id
    _cas(
        db,
        task,
        TaskAction.RETURN,
        actor.user_id,
        {"from_operator_id": previous, "reason": reason},
        assigned_operator_id=None,
    )
    notify(
        db,
        [previous],
        NotificationKind.TASK_UNASSIGNED,
        msg("notification.unassigned.title", task_id=task.id),
        reason_or(reason, "notification.unassigned.body"),
        task_id=task.id,
        work_order_id=task.work_order_id,
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
    reason = as_text(reason, "reason", "field.reason", max_length=500, required=True)
    task = _load(db, task_id)
    next_status(TaskAction.CANCEL, task.status)
    target = _cas(db, task, TaskAction.CANCEL, actor.user_id, {"reason": reason})
    notify(
        db,
        [task.assigned_operator_id],
        NotificationKind.TASK_CANCELLED,
        msg("notification.task_cancelled.title", task_id=task.id),
        literal_text(reason),
        task_id=task.id,
        work_order_id=task.work_order_id,
    )
    result = TransitionResult(task.id, target)
    _close_process_if_done(db, task, result)
    db.commit()
    _announce(task)
    return result
