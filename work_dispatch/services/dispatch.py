"""Auto-dispatch: route pending published tasks to departments and operators.

A cycle loads its inputs in a few queries (pending tasks locked with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, active rules, active department members, operator loads and
round-robin cursors), lets :func:`work_dispatch.domain.dispatching.plan_dispatch` decide,
and applies every decision in one transaction with compare-and-set updates (the state
machine's ``assign`` and ``queue``), events that explain each choice, and ``task_assigned``
notifications.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Update, bindparam, cast, func, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, select

from work_dispatch.domain.dispatching import Decision, PendingTask, Rule
from work_dispatch.domain.enums import OPEN_TASK_STATUSES, NotificationKind, Role, TaskEventKind
from work_dispatch.domain.errors import ConflictError, ValidationError
from work_dispatch.domain.policies import TaskView, plan_cycle
from work_dispatch.domain.scheduling import Candidate
from work_dispatch.domain.task_machine import TaskAction, allowed_from, target_of
from work_dispatch.i18n import DEFAULT_LOCALE, as_message, msg, translate
from work_dispatch.models import (
    AppSetting,
    AssignmentRule,
    Department,
    DispatchCursor,
    Process,
    Task,
    User,
    WorkOrder,
    utc_now,
)
from work_dispatch.realtime.bus import BusEvent, publish
from work_dispatch.services.actor import Actor, require_supervisor
from work_dispatch.services.audit import record_events
from work_dispatch.services.notifications import Notice, send_notices
from work_dispatch.services.shifts import DepartmentTime, build_teams, department_times, members_by_department
from work_dispatch.services.sql import id_in, is_postgres
from work_dispatch.services.task_rules import may
from work_dispatch.services.workload import remaining_minutes_sql

AUTO_DISPATCH_KEY = "auto_dispatch"
DEFAULT_BATCH = 10_000
_ACTIONS = {"assigned": TaskAction.ASSIGN, "queued": TaskAction.QUEUE}
"""The state machine's action for each dispatch outcome."""
_DISPATCHABLE = [s.value for s in allowed_from(TaskAction.QUEUE) if s in allowed_from(TaskAction.ASSIGN)]
"""Statuses a cycle picks tasks in: every outcome (a pool or an operator) must be legal from them."""
_task = Task.__table__


@dataclass
class DispatchReport:
    """What one dispatch cycle did."""

    assigned: int = 0
    queued: int = 0
    unroutable: int = 0
    skipped: bool = False
    decisions: list[Decision] = field(default_factory=list)

    def summary(self, locale: str = DEFAULT_LOCALE) -> str:
        """One line for a toast (in the reader's locale) or the log (English)."""
        if self.skipped:
            return translate("dispatch.summary.switched_off", locale)
        return translate(
            "dispatch.summary", locale, assigned=self.assigned, queued=self.queued, unroutable=self.unroutable
        )


def auto_dispatch_enabled(db: Session) -> bool:
    """Whether the global auto-dispatch switch is on (default on)."""
    setting = db.get(AppSetting, AUTO_DISPATCH_KEY)
    return True if setting is None else bool(setting.value)


@dataclass
class CycleInputs:
    """Everything one dispatch cycle decides from, loaded in a handful of queries."""

    at: datetime
    tasks: list[PendingTask]
    views: dict[int, TaskView]
    rules: list[Rule]
    teams: dict[int, list[Candidate]]
    times: dict[int, DepartmentTime]
    cursors: dict[int, int | None]

    def plan(self, seed: int) -> tuple[list[Decision], dict[int, int | None]]:
        """The cycle's decisions (see :func:`work_dispatch.domain.policies.plan_cycle`)."""
        return plan_cycle(
            self.tasks,
            self.rules,
            self.teams,
            self.views,
            self.at,
            requires_check_in={d: t.requires_check_in for d, t in self.times.items()},
            cursors=self.cursors,
            clocks={d: _clock_of(t) for d, t in self.times.items() if t.has_shifts},
            seed=seed,
        )


def _clock_of(time_of: DepartmentTime):
    """Working minutes of a department between two instants (slack over a weekend is no slack)."""
    return time_of.shared_calendar.working_minutes_between


def _downstream_minutes(db: Session, work_order_ids: list[int]) -> dict[tuple[int, int], float]:
    """Planned minutes of each work order's open tasks after each route step: (order, sequence) → minutes."""
    if not work_order_ids:
        return {}
    per_step: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for work_order_id, sequence, minutes in db.exec(
        select(Task.work_order_id, Task.sequence, func.sum(Task.planned_minutes))
        .where(
            id_in(db, Task.work_order_id, work_order_ids),
            Task.is_draft.is_(False),
            Task.status.in_(sorted(OPEN_TASK_STATUSES)),
        )
        .group_by(Task.work_order_id, Task.sequence)
        .order_by(Task.work_order_id, Task.sequence.desc())
    ).all():
        per_step[work_order_id].append((sequence, float(minutes or 0.0)))
    after: dict[tuple[int, int], float] = {}
    for work_order_id, steps in per_step.items():
        total = 0.0
        for sequence, minutes in steps:  # last step first
            after[(work_order_id, sequence)] = total
            total += minutes
    return after


def _load_inputs(db: Session, limit: int, lock: bool, at: datetime) -> CycleInputs:
    pg = db.get_bind().dialect.name == "postgresql"
    statement = (
        select(
            Task.id,
            Task.process_id,
            Task.assigned_department_id,
            Task.priority,
            Task.due_at,
            func.coalesce(Task.published_at, Task.created_at),
            remaining_minutes_sql(),
            Task.work_order_id,
            Task.sequence,
        )
        .where(Task.status.in_(_DISPATCHABLE), Task.is_draft.is_(False))
        .order_by(Task.priority_rank.desc(), Task.due_at.asc().nulls_last(), Task.id)
        .limit(limit)
    )
    if lock and pg:
        # Operators first, then tasks: claims and reassignments lock in the same order.
        db.exec(select(User.id).where(User.role == Role.OPERATOR).order_by(User.id).with_for_update()).all()
        statement = statement.with_for_update(skip_locked=True, of=Task)
    rows = db.exec(statement).all()
    tasks = [PendingTask(r[0], r[1], r[2]) for r in rows]
    downstream = _downstream_minutes(db, sorted({r[7] for r in rows}))
    views = {
        r[0]: TaskView(r[0], r[1], r[3], float(r[6] or 0.0), r[4], r[5], downstream.get((r[7], r[8]), 0.0))
        for r in rows
    }
    rules = [
        Rule(r.id, r.process_id, r.department_id, r.priority, r.strategy, r.min_level)
        for r in db.exec(
            select(AssignmentRule)
            .join(Department, Department.id == AssignmentRule.department_id)
            .join(Process, Process.id == AssignmentRule.process_id)
            .where(AssignmentRule.is_active, Department.is_active, Process.is_active)
        ).all()
    ]
    members = members_by_department(db)
    times = department_times(db, members.keys())
    teams = build_teams(db, at, members, times=times)
    cursors = dict(db.exec(select(DispatchCursor.department_id, DispatchCursor.last_operator_id)).all())
    return CycleInputs(at, tasks, views, rules, teams, times, cursors)


def preview(
    db: Session, actor: Actor | None, limit: int = 200, seed: int = 0, now: datetime | None = None
) -> DispatchReport:
    """What a dispatch would do now, without changing anything.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.
        limit: How many pending tasks to consider.
        seed: Seed of the random strategy.
        now: The decision time (default: now).

    Returns:
        The decisions a cycle would take.
    """
    require_supervisor(actor)
    inputs = _load_inputs(db, min(max(int(limit), 1), 1000), lock=False, at=now or utc_now())
    decisions, _ = inputs.plan(seed)
    db.rollback()
    return _report(decisions)


def _report(decisions: list[Decision]) -> DispatchReport:
    report = DispatchReport(decisions=decisions)
    for decision in decisions:
        if decision.outcome == "assigned":
            report.assigned += 1
        elif decision.outcome == "queued":
            report.queued += 1
        else:
            report.unroutable += 1
    return report


def run_cycle(
    db: Session,
    *,
    limit: int = DEFAULT_BATCH,
    seed: int | None = None,
    respect_switch: bool = True,
    actor_id: int | None = None,
    now: datetime | None = None,
) -> DispatchReport:
    """Dispatch up to ``limit`` pending tasks in one transaction.

    Args:
        db: Open session; committed here (rolled back entirely on any failure).
        limit: Most tasks to dispatch in this cycle.
        seed: Seed of the random strategy (default: fresh randomness).
        respect_switch: Skip when auto-dispatch is switched off (the scheduled job).
        actor_id: The supervisor who asked for it, or None for the scheduler.
        now: The decision time (default: now): shifts, presence and absences are judged at it.

    Returns:
        What the cycle did.
    """
    if respect_switch and not auto_dispatch_enabled(db):
        db.rollback()
        return DispatchReport(skipped=True)
    inputs = _load_inputs(db, limit, lock=True, at=now or utc_now())
    if not inputs.tasks:
        db.rollback()
        return DispatchReport()
    seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
    decisions, new_cursors = inputs.plan(seed)
    report = _report(decisions)
    _apply(db, decisions, new_cursors, inputs.cursors, actor_id)
    db.commit()
    moved = [d for d in decisions if d.outcome != "unroutable"]
    if moved:
        publish(
            BusEvent(
                kind="tasks_dispatched",
                task_ids=tuple(d.task_id for d in moved),
                operator_ids=tuple({d.operator_id for d in moved if d.operator_id}),
                department_ids=tuple({d.department_id for d in moved if d.department_id}),
            )
        )
    return report


def _apply(
    db: Session,
    decisions: list[Decision],
    new_cursors: dict[int, int | None],
    old_cursors: dict[int, int | None],
    actor_id: int | None,
) -> None:
    now = utc_now()
    assigned = [d for d in decisions if d.outcome == "assigned"]
    queued = [d for d in decisions if d.outcome == "queued"]
    moved = assigned + queued
    if moved:
        _assign_in_bulk(db, moved, now)
        record_events(
            db,
            actor_id,
            TaskEventKind.DISPATCHED,
            [d.task_id for d in moved],
            per_task_data={d.task_id: {"outcome": d.outcome, **d.explanation} for d in moved},
        )
    if assigned:
        orders = {
            task_id: (order_number, work_order_id)
            for task_id, order_number, work_order_id in db.exec(
                select(Task.id, WorkOrder.order_number, Task.work_order_id)
                .join(WorkOrder, WorkOrder.id == Task.work_order_id)
                .where(id_in(db, Task.id, [d.task_id for d in assigned]))
            ).all()
        }
        send_notices(
            db,
            (
                Notice(
                    d.operator_id,
                    NotificationKind.TASK_ASSIGNED,
                    msg(
                        "notification.new_task.title",
                        task_id=d.task_id,
                        order_number=orders.get(d.task_id, ("", None))[0],
                    ),
                    as_message(d.explanation.get("reason")),
                    task_id=d.task_id,
                    work_order_id=orders.get(d.task_id, ("", None))[1],
                )
                for d in assigned
            ),
            now,
        )
    for department_id, operator_id in new_cursors.items():
        if old_cursors.get(department_id, "missing") == operator_id:
            continue
        if department_id in old_cursors:
            db.execute(
                update(DispatchCursor)
                .where(DispatchCursor.department_id == department_id)
                .values(last_operator_id=operator_id)
            )
        else:
            db.add(DispatchCursor(department_id=department_id, last_operator_id=operator_id))
    db.flush()


def _bulk_cas_pg(action: TaskAction) -> Update:
    """PostgreSQL: ``action`` on many tasks in one statement, each with its department and operator."""
    rows = (
        func.unnest(
            cast(bindparam("ids"), ARRAY(Integer)),
            cast(bindparam("departments"), ARRAY(Integer)),
            cast(bindparam("operators"), ARRAY(Integer)),
        )
        .table_valued("id", "department_id", "operator_id")
        .render_derived(name="v")
    )
    return (
        update(_task)
        .where(_task.c.id == rows.c.id, may(action))
        .values(
            status=target_of(action).value,
            assigned_department_id=rows.c.department_id,
            assigned_operator_id=rows.c.operator_id,
            updated_at=bindparam("now"),
            version=_task.c.version + 1,
        )
    )


def _bulk_cas_sqlite(action: TaskAction) -> Update:
    """SQLite: ``action`` on one task, for ``executemany``."""
    return (
        update(_task)
        .where(_task.c.id == bindparam("b_id"), may(action))
        .values(
            status=target_of(action).value,
            assigned_department_id=bindparam("b_department"),
            assigned_operator_id=bindparam("b_operator"),
            updated_at=bindparam("now"),
            version=_task.c.version + 1,
        )
    )


_BULK_CAS = {
    action: {"postgresql": _bulk_cas_pg(action), "sqlite": _bulk_cas_sqlite(action)}
    for action in _ACTIONS.values()
}


def _assign_in_bulk(db: Session, decisions: list[Decision], now) -> None:
    """Compare-and-set every decided task, one statement per action (assign, queue); all or nothing."""
    by_action: dict[TaskAction, list[Decision]] = defaultdict(list)
    for decision in decisions:
        by_action[_ACTIONS[decision.outcome]].append(decision)
    for action, group in by_action.items():
        if is_postgres(db):
            changed = db.execute(
                _BULK_CAS[action]["postgresql"],
                {
                    "ids": [d.task_id for d in group],
                    "departments": [d.department_id for d in group],
                    "operators": [d.operator_id for d in group],
                    "now": now,
                },
            ).rowcount
        else:
            changed = (
                db.connection()
                .execute(
                    _BULK_CAS[action]["sqlite"],
                    [
                        {
                            "b_id": d.task_id,
                            "b_department": d.department_id,
                            "b_operator": d.operator_id,
                            "now": now,
                        }
                        for d in group
                    ],
                )
                .rowcount
            )
        if changed not in (len(group), -1):
            raise ConflictError("error.dispatch_conflict")


def set_auto_dispatch(db: Session, actor: Actor | None, enabled: Any) -> bool:
    """Switch auto-dispatch on or off.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        enabled: The new value (must be a boolean).

    Returns:
        The new value.
    """
    require_supervisor(actor)
    if not isinstance(enabled, bool):
        raise ValidationError("error.auto_dispatch_flag")
    setting = db.get(AppSetting, AUTO_DISPATCH_KEY) or AppSetting(key=AUTO_DISPATCH_KEY)
    setting.value = enabled
    setting.updated_at = utc_now()
    db.add(setting)
    db.commit()
    return enabled


def dispatch_now(db: Session, actor: Actor | None) -> DispatchReport:
    """A supervisor's "dispatch now": one cycle regardless of the switch.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.

    Returns:
        What the cycle did.
    """
    actor = require_supervisor(actor)
    return run_cycle(db, respect_switch=False, actor_id=actor.user_id)
