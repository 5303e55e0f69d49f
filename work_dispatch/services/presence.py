"""Check-in and check-out on the tablet, and what happens when a shift ends.

- :func:`check_in` / :func:`check_out`: an operator's presence (one open ``Presence`` row
  at most; checking in twice is harmless).
- :func:`presence_of`: what the tablet shows ("on shift since 07:58", the shift's end).
- :func:`end_shifts`: the scheduler's job, every minute. For each operator whose shift in a
  department has ended (or whose absence began): their assigned, unstarted tasks of that
  department go back to dispatch, their tasks in progress are paused with the reason
  "shift end" (each configurable per department, both are task events), and operators
  still checked in past the end plus the department's grace are checked out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from work_dispatch.domain.enums import NotificationKind, PauseReason, TaskEventKind, TaskStatus
from work_dispatch.domain.errors import ValidationError
from work_dispatch.domain.task_machine import TaskAction, target_of
from work_dispatch.i18n import msg
from work_dispatch.models import Presence, Task, User, UserDepartment, utc_now
from work_dispatch.realtime.bus import BusEvent, publish
from work_dispatch.services.actor import Actor, require_operator
from work_dispatch.services.audit import record_events
from work_dispatch.services.notifications import Notice, send_notices
from work_dispatch.services.shifts import absences_by_operator, checked_in_since, department_times
from work_dispatch.services.sql import id_in, lock_for_write
from work_dispatch.services.task_rules import may

MANUAL, SHIFT_END, SUPERVISOR = "manual", "shift_end", "supervisor"
"""How a check-in ended (``Presence.checkout_kind``)."""


@dataclass(frozen=True)
class PresenceView:
    """An operator's presence as their tablet shows it.

    Attributes:
        checked_in: Whether they are checked in now.
        since: When they checked in (None when not checked in).
        on_shift: Whether one of their departments' shifts runs now (always true without shifts).
        shift_ends_at: When the running shift ends (None: off shift, or no shifts).
        next_shift_at: When their next shift starts (None: on shift, or none planned).
        requires_check_in: Whether one of their departments needs them checked in to get work.
    """

    checked_in: bool
    since: datetime | None
    on_shift: bool
    shift_ends_at: datetime | None
    next_shift_at: datetime | None
    requires_check_in: bool


def _open_presence(db: Session, operator_id: int) -> Presence | None:
    return db.exec(
        select(Presence)
        .where(Presence.operator_id == operator_id, Presence.checked_out_at.is_(None))
        .order_by(Presence.id.desc())
    ).first()


def presence_of(db: Session, actor: Actor | None, now: datetime | None = None) -> PresenceView:
    """The acting operator's presence and shift.

    Args:
        db: Open session.
        actor: The acting operator.
        now: The time (default: now).

    Returns:
        What the tablet shows.
    """
    actor = require_operator(actor)
    return _view(db, actor.user_id, now or utc_now())


def _view(db: Session, operator_id: int, now: datetime) -> PresenceView:
    department_ids = set(
        db.exec(select(UserDepartment.department_id).where(UserDepartment.user_id == operator_id)).all()
    )
    return presence_views(db, {operator_id: department_ids}, now)[operator_id]


def presence_views(
    db: Session, memberships: dict[int, set[int]], now: datetime | None = None
) -> dict[int, PresenceView]:
    """The presence of many operators at once, as :func:`presence_of` tells it of one.

    A fixed number of queries however many operators; a department's calendar is built once for
    all its members without absences.

    Args:
        db: Open session (read only).
        memberships: Operator id → their department ids.
        now: The time (default: now).

    Returns:
        Operator id → their presence.
    """
    if not memberships:
        return {}
    now = now or utc_now()
    operator_ids = sorted(memberships)
    since = checked_in_since(db, operator_ids)
    times = department_times(db, {d for ids in memberships.values() for d in ids})
    absences = absences_by_operator(db, now, operator_ids)
    shared: dict[int, tuple[bool, datetime | None, datetime | None]] = {}

    def at_work(operator_id: int, department_id: int) -> tuple[bool, datetime | None, datetime | None]:
        """(working now, when the stretch of work ends, when work next starts) in one department."""
        own = absences.get(operator_id, ())
        if not own and department_id in shared:
            return shared[department_id]
        time_of = times[department_id]
        calendar = time_of.calendar(own)
        if calendar.is_working(now):
            ends = (
                now + timedelta(minutes=calendar.working_remaining_minutes(now))
                if time_of.has_shifts
                else None
            )
            answer = (True, ends, None)
        else:
            answer = (False, None, calendar.next_shift_start(now))
        if not own:
            shared[department_id] = answer
        return answer

    views = {}
    for operator_id in operator_ids:
        mine = [d for d in sorted(memberships[operator_id]) if d in times]
        on_shift, ends, upcoming = not mine, None, None
        for department_id in mine:
            working, end, following = at_work(operator_id, department_id)
            if working:
                on_shift = True
                if end is not None:
                    ends = max(ends, end) if ends else end
            elif following is not None:
                upcoming = min(upcoming, following) if upcoming else following
        views[operator_id] = PresenceView(
            checked_in=operator_id in since,
            since=since.get(operator_id),
            on_shift=on_shift,
            shift_ends_at=ends,
            next_shift_at=None if on_shift else upcoming,
            requires_check_in=any(times[d].requires_check_in for d in mine),
        )
    return views


def check_in(db: Session, actor: Actor | None, now: datetime | None = None) -> PresenceView:
    """Check the acting operator in (no change when already checked in).

    Args:
        db: Open session; committed here.
        actor: The acting operator.
        now: The time (default: now).

    Returns:
        Their presence after checking in.
    """
    actor = require_operator(actor)
    now = now or utc_now()
    lock_for_write(db)
    db.exec(select(User.id).where(User.id == actor.user_id).with_for_update()).all()
    if _open_presence(db, actor.user_id) is None:
        db.add(Presence(operator_id=actor.user_id, checked_in_at=now))
    db.commit()
    _announce_presence([actor.user_id])
    return _view(db, actor.user_id, now)


def check_out(db: Session, actor: Actor | None, now: datetime | None = None) -> PresenceView:
    """Check the acting operator out.

    Args:
        db: Open session; committed here.
        actor: The acting operator.
        now: The time (default: now).

    Returns:
        Their presence after checking out.

    Raises:
        ValidationError: If they are not checked in.
    """
    actor = require_operator(actor)
    now = now or utc_now()
    closed = _close(db, [actor.user_id], now, MANUAL)
    if not closed:
        db.rollback()
        raise ValidationError("presence.error.not_checked_in")
    db.commit()
    _announce_presence([actor.user_id])
    return _view(db, actor.user_id, now)


def _close(db: Session, operator_ids: list[int], now: datetime, kind: str) -> int:
    if not operator_ids:
        return 0
    return db.execute(
        update(Presence)
        .where(id_in(db, Presence.operator_id, operator_ids), Presence.checked_out_at.is_(None))
        .values(checked_out_at=now, checkout_kind=kind)
    ).rowcount


def _announce_presence(operator_ids: list[int]) -> None:
    publish(BusEvent(kind="presence_changed", operator_ids=tuple(operator_ids)))


@dataclass
class ShiftEndReport:
    """What one run of :func:`end_shifts` did."""

    returned: int = 0
    paused: int = 0
    checked_out: int = 0


def end_shifts(db: Session, now: datetime | None = None) -> ShiftEndReport:
    """Return, pause and check out the work of operators whose shift has ended.

    Only departments with shifts are looked at. A task counts for the department it is
    assigned to; a check-in closes when the operator is off shift in every department of
    theirs that has shifts, for longer than that department's grace.

    Args:
        db: Open session; committed here.
        now: The time (default: now).

    Returns:
        How many tasks were returned and paused, and check-ins closed.
    """
    now = now or utc_now()
    report = ShiftEndReport()
    times = {d: t for d, t in department_times(db).items() if t.has_shifts}
    if not times:
        db.rollback()
        return report
    rows = db.exec(
        select(Task.id, Task.assigned_operator_id, Task.assigned_department_id, Task.status)
        .where(
            Task.assigned_operator_id.is_not(None),
            id_in(db, Task.assigned_department_id, sorted(times)),
            Task.status.in_([TaskStatus.ASSIGNED.value, TaskStatus.IN_PROGRESS.value]),
        )
        .order_by(Task.id)
    ).all()
    present = dict(
        db.exec(select(Presence.operator_id, Presence.id).where(Presence.checked_out_at.is_(None))).all()
    )
    memberships: dict[int, list[int]] = defaultdict(list)
    if present:
        for user_id, department_id in db.exec(
            select(UserDepartment.user_id, UserDepartment.department_id).where(
                id_in(db, UserDepartment.user_id, sorted(present))
            )
        ).all():
            memberships[user_id].append(department_id)
    operator_ids = {r[1] for r in rows} | set(present)
    absences = absences_by_operator(db, now, operator_ids)
    calendars: dict[tuple[int, int], object] = {}

    def working(operator_id: int, department_id: int, at: datetime) -> bool:
        key = (operator_id, department_id)
        if key not in calendars:
            calendars[key] = times[department_id].calendar(absences.get(operator_id, ()))
        return calendars[key].is_working(at)

    to_return: dict[int, list[int]] = defaultdict(list)
    to_pause: dict[int, list[int]] = defaultdict(list)
    for task_id, operator_id, department_id, status in rows:
        if working(operator_id, department_id, now):
            continue
        time_of = times[department_id]
        if status == TaskStatus.ASSIGNED and time_of.returns_tasks_at_shift_end:
            to_return[operator_id].append(task_id)
        elif status == TaskStatus.IN_PROGRESS and time_of.pauses_tasks_at_shift_end:
            to_pause[operator_id].append(task_id)
    leaving = []
    for operator_id in present:
        limited = [d for d in memberships.get(operator_id, []) if d in times]
        if limited and not any(
            working(operator_id, d, now - timedelta(minutes=times[d].checkout_grace_minutes))
            or working(operator_id, d, now)
            for d in limited
        ):
            leaving.append(operator_id)
    returned = _apply(db, TaskAction.RETURN, to_return, now, assigned_operator_id=None)
    paused = _apply(db, TaskAction.PAUSE, to_pause, now, pause_reason=PauseReason.SHIFT_END.value)
    report.returned, report.paused = len(returned), len(paused)
    report.checked_out = _close(db, sorted(leaving), now, SHIFT_END)
    if returned or paused:
        send_notices(
            db,
            (
                Notice(
                    operator_id,
                    NotificationKind.TASK_UNASSIGNED,
                    msg("notification.shift_end.title"),
                    msg(
                        "notification.shift_end.body",
                        returned=sum(1 for t in returned if t[1] == operator_id),
                        paused=sum(1 for t in paused if t[1] == operator_id),
                    ),
                )
                for operator_id in sorted({t[1] for t in returned + paused})
            ),
            now,
        )
    db.commit()
    moved = returned + paused
    if moved:
        publish(
            BusEvent(
                kind="shift_end",
                task_ids=tuple(t[0] for t in moved),
                operator_ids=tuple({t[1] for t in moved}),
                department_ids=tuple({t[2] for t in moved}),
            )
        )
    if leaving:
        _announce_presence(leaving)
    return report


def _apply(
    db: Session, action: TaskAction, by_operator: dict[int, list[int]], now: datetime, **values
) -> list[tuple[int, int, int]]:
    """Compare-and-set ``action`` on the tasks; (task, operator, department) of those that changed."""
    ids = sorted(task_id for task_ids in by_operator.values() for task_id in task_ids)
    if not ids:
        return []
    table = Task.__table__
    changed = db.execute(
        update(table)
        .where(id_in(db, table.c.id, ids), may(action))
        .values(status=target_of(action).value, version=table.c.version + 1, updated_at=now, **values)
        .returning(table.c.id, table.c.assigned_department_id)
    ).all()
    owner = {task_id: operator_id for operator_id, task_ids in by_operator.items() for task_id in task_ids}
    done = [(task_id, owner[task_id], department_id) for task_id, department_id in changed]
    record_events(
        db,
        None,
        TaskEventKind.RETURNED if action is TaskAction.RETURN else TaskEventKind.PAUSED,
        [t[0] for t in done],
        per_task_data={t[0]: {"reason": PauseReason.SHIFT_END.value, "from_operator_id": t[1]} for t in done},
    )
    return done
