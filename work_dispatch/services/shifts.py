"""Who may get work now: shift calendars, presence, absences and skills read from the database.

Dispatch, claims and reassignment all ask the same question through this module, and the
answer comes from the pure :func:`work_dispatch.domain.scheduling.exclusion_of`:

- a department's calendar is its active shift templates (none: no shift limits) minus
  the shop's and its own closures, in the shop timezone (``WD_TIMEZONE``);
- an operator's calendar in a department is that calendar minus their absences;
- check-in counts where the department requires it; the rule's minimum qualification level
  for the process counts everywhere.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, cached_property
from zoneinfo import ZoneInfo

from sqlalchemy import or_
from sqlmodel import Session, select

from work_dispatch.domain import scheduling
from work_dispatch.domain.enums import Role
from work_dispatch.domain.errors import ConflictError
from work_dispatch.models import (
    Absence,
    AssignmentRule,
    Closure,
    Department,
    Presence,
    Qualification,
    ShiftTemplate,
    User,
    UserDepartment,
)
from work_dispatch.services.sql import id_in
from work_dispatch.services.workload import Load, operator_loads
from work_dispatch.settings import settings

ABSENCE_LOOKBACK = timedelta(days=2)
"""Absences that ended longer ago than this cannot matter to a decision now."""


@cache
def shop_timezone() -> ZoneInfo:
    """The shop's timezone, in which shift start and end times are wall-clock times."""
    return ZoneInfo(settings.timezone)


def weekdays_of(mask: int) -> frozenset[int]:
    """The weekdays (Monday = 0) set in a stored bit mask."""
    return frozenset(day for day in range(7) if mask >> day & 1)


def mask_of(weekdays: Iterable[int]) -> int:
    """The stored bit mask of some weekdays (Monday = 0)."""
    return sum(1 << day for day in set(weekdays))


def to_template(row: ShiftTemplate) -> scheduling.ShiftTemplate:
    """The domain shift of a stored template."""
    return scheduling.ShiftTemplate(
        row.name, row.start_time, row.end_time, weekdays_of(row.weekdays), row.overnight
    )


def to_absence(row: Absence) -> scheduling.Absence:
    """The domain absence of a stored one."""
    return scheduling.Absence(row.operator_id, row.start_at, row.end_at, row.reason)


@dataclass(frozen=True)
class DepartmentTime:
    """A department's working time and its shift settings.

    Attributes:
        department_id: The department.
        shifts: Its active shift templates (empty: no shift limits).
        closures: Closures that apply to it (the shop's and its own).
        requires_check_in: Operators must be checked in to get work.
        returns_tasks_at_shift_end: Assigned, unstarted tasks go back to dispatch at shift end.
        pauses_tasks_at_shift_end: Tasks in progress are paused at shift end.
        checkout_grace_minutes: Automatic check-out this long after the shift ends.
    """

    department_id: int
    shifts: tuple[scheduling.ShiftTemplate, ...]
    closures: tuple[scheduling.Closure, ...]
    requires_check_in: bool = False
    returns_tasks_at_shift_end: bool = True
    pauses_tasks_at_shift_end: bool = True
    checkout_grace_minutes: int = 15

    @property
    def has_shifts(self) -> bool:
        """Whether shifts limit when its operators work."""
        return bool(self.shifts)

    @cached_property
    def shared_calendar(self) -> scheduling.WorkCalendar:
        """The department's working time, shared by all its operators without absences (built once)."""
        return self.calendar()

    def calendar(self, absences: Iterable[scheduling.Absence] = ()) -> scheduling.WorkCalendar:
        """The working time of an operator of this department with these absences."""
        return scheduling.WorkCalendar(
            self.shifts,
            self.closures,
            tuple(absences),
            shop_timezone(),
            unlimited=not self.shifts,
        )


def department_times(db: Session, department_ids: Iterable[int] | None = None) -> dict[int, DepartmentTime]:
    """Shift settings and calendars of departments (all active ones when None).

    Args:
        db: Open session.
        department_ids: Which departments.

    Returns:
        Department id → its time.
    """
    statement = select(Department)
    if department_ids is not None:
        ids = sorted(set(department_ids))
        if not ids:
            return {}
        statement = statement.where(id_in(db, Department.id, ids))
    departments = db.exec(statement).all()
    shift_rows = select(ShiftTemplate).where(ShiftTemplate.is_active)
    closure_rows = select(Closure)
    if department_ids is not None:
        shift_rows = shift_rows.where(id_in(db, ShiftTemplate.department_id, ids))
        closure_rows = closure_rows.where(
            or_(Closure.department_id.is_(None), id_in(db, Closure.department_id, ids))
        )
    shifts: dict[int, list[scheduling.ShiftTemplate]] = defaultdict(list)
    for row in db.exec(
        shift_rows.order_by(ShiftTemplate.department_id, ShiftTemplate.start_time, ShiftTemplate.id)
    ).all():
        shifts[row.department_id].append(to_template(row))
    closures = [
        scheduling.Closure(c.first_day, c.last_day, c.department_id, c.reason)
        for c in db.exec(closure_rows).all()
    ]
    return {
        d.id: DepartmentTime(
            d.id,
            tuple(shifts.get(d.id, ())),
            tuple(c for c in closures if c.department_id in (None, d.id)),
            d.requires_check_in,
            d.shift_end_returns_tasks,
            d.shift_end_pauses_tasks,
            d.checkout_grace_minutes,
        )
        for d in departments
    }


def absences_by_operator(
    db: Session, at: datetime, operator_ids: Iterable[int] | None = None
) -> dict[int, list[scheduling.Absence]]:
    """Absences that may matter at ``at`` (not ended two days before), per operator."""
    statement = select(Absence).where(Absence.end_at > at - ABSENCE_LOOKBACK)
    if operator_ids is not None:
        ids = sorted(set(operator_ids))
        if not ids:
            return {}
        statement = statement.where(id_in(db, Absence.operator_id, ids))
    found: dict[int, list[scheduling.Absence]] = defaultdict(list)
    for row in db.exec(statement.order_by(Absence.operator_id, Absence.start_at)).all():
        found[row.operator_id].append(to_absence(row))
    return found


def checked_in_since(db: Session, operator_ids: Iterable[int] | None = None) -> dict[int, datetime]:
    """When each operator who is checked in now checked in."""
    statement = select(Presence.operator_id, Presence.checked_in_at).where(Presence.checked_out_at.is_(None))
    if operator_ids is not None:
        ids = sorted(set(operator_ids))
        if not ids:
            return {}
        statement = statement.where(id_in(db, Presence.operator_id, ids))
    return dict(db.exec(statement).all())


def levels_by_operator(db: Session, operator_ids: Iterable[int] | None = None) -> dict[int, dict[int, int]]:
    """Qualification level per process, per operator."""
    statement = select(Qualification.operator_id, Qualification.process_id, Qualification.level)
    if operator_ids is not None:
        ids = sorted(set(operator_ids))
        if not ids:
            return {}
        statement = statement.where(id_in(db, Qualification.operator_id, ids))
    levels: dict[int, dict[int, int]] = defaultdict(dict)
    for operator_id, process_id, level in db.exec(statement).all():
        levels[operator_id][process_id] = level
    return levels


@dataclass(frozen=True)
class Member:
    """An active operator of a department."""

    operator_id: int
    name: str
    wip_limit: int


def members_by_department(
    db: Session, department_ids: Iterable[int] | None = None
) -> dict[int, list[Member]]:
    """Active operators per department, in operator-id order."""
    statement = (
        select(UserDepartment.department_id, User.id, User.display_name, User.wip_limit)
        .join(User, User.id == UserDepartment.user_id)
        .where(User.is_active, User.role == Role.OPERATOR)
        .order_by(UserDepartment.department_id, User.id)
    )
    if department_ids is not None:
        ids = sorted(set(department_ids))
        if not ids:
            return {}
        statement = statement.where(id_in(db, UserDepartment.department_id, ids))
    members: dict[int, list[Member]] = defaultdict(list)
    for department_id, user_id, name, wip in db.exec(statement).all():
        members[department_id].append(Member(user_id, name, wip))
    return members


def build_teams(
    db: Session,
    at: datetime,
    members: dict[int, list[Member]],
    *,
    times: dict[int, DepartmentTime] | None = None,
    loads: dict[int, Load] | None = None,
) -> dict[int, list[scheduling.Candidate]]:
    """The candidates of each department at ``at``: calendar, presence, skills and load.

    Args:
        db: Open session.
        at: The decision time.
        members: Active operators per department (:func:`members_by_department`).
        times: Department times already loaded (else loaded here).
        loads: Operator loads already loaded (else loaded here).

    Returns:
        Department id → candidates in operator-id order.
    """
    operator_ids = {m.operator_id for team in members.values() for m in team}
    times = times if times is not None else department_times(db, members.keys())
    loads = loads if loads is not None else operator_loads(db, operator_ids)
    absences = absences_by_operator(db, at, operator_ids)
    present = checked_in_since(db, operator_ids)
    levels = levels_by_operator(db, operator_ids)
    teams: dict[int, list[scheduling.Candidate]] = {}
    for department_id, team in members.items():
        time_of = times.get(department_id)
        if time_of is None:
            continue
        teams[department_id] = [
            scheduling.Candidate(
                operator_id=m.operator_id,
                name=m.name,
                wip_limit=m.wip_limit,
                open_tasks=loads.get(m.operator_id, Load()).open_tasks,
                load_minutes=loads.get(m.operator_id, Load()).minutes,
                calendar=(
                    time_of.calendar(absences[m.operator_id])
                    if m.operator_id in absences
                    else time_of.shared_calendar
                ),
                checked_in=m.operator_id in present,
                levels=levels.get(m.operator_id, {}),
            )
            for m in team
        ]
    return teams


def min_level_for(db: Session, process_id: int, department_id: int) -> int:
    """The minimum qualification level the routing rule of (process, department) asks for.

    The highest-priority active rule of the pair decides (as dispatch routes); 0 without one.
    """
    row = db.exec(
        select(AssignmentRule.min_level)
        .where(
            AssignmentRule.process_id == process_id,
            AssignmentRule.department_id == department_id,
            AssignmentRule.is_active,
        )
        .order_by(AssignmentRule.priority.desc(), AssignmentRule.id)
        .limit(1)
    ).first()
    return int(row or 0)


def exclusion_for(
    db: Session, operator_id: int, department_id: int | None, process_id: int, at: datetime
) -> scheduling.Excluded | None:
    """Why an operator may not take a task of ``process_id`` in ``department_id`` now (None: they may).

    The WIP limit is not checked here: claims and reassignment count it under their own lock.
    A task without a department is judged against every department the operator belongs to
    (any one that lets them in will do).
    """
    user = db.get(User, operator_id)
    if user is None:
        return None
    if department_id is None:
        department_ids = list(
            db.exec(select(UserDepartment.department_id).where(UserDepartment.user_id == operator_id)).all()
        )
    else:
        department_ids = [department_id]
    if not department_ids:
        return None
    if not _anything_limits(db, operator_id, department_ids, process_id, at):
        return None
    times = department_times(db, department_ids)
    absences = absences_by_operator(db, at, [operator_id]).get(operator_id, [])
    checked_in = operator_id in checked_in_since(db, [operator_id])
    levels = levels_by_operator(db, [operator_id]).get(operator_id, {})
    first: scheduling.Excluded | None = None
    for dept_id in department_ids:
        time_of = times.get(dept_id)
        if time_of is None:
            continue
        candidate = scheduling.Candidate(
            operator_id,
            user.display_name,
            user.wip_limit,
            0,
            0.0,
            time_of.calendar(absences),
            checked_in,
            levels,
        )
        requirement = scheduling.Requirement(
            process_id, min_level_for(db, process_id, dept_id), time_of.requires_check_in
        )
        reason = scheduling.exclusion_of(candidate, requirement, at, check_wip=False)
        if reason is None:
            return None
        first = first or reason
    return first


def _anything_limits(
    db: Session, operator_id: int, department_ids: list[int], process_id: int, at: datetime
) -> bool:
    """Whether any shift, closure, check-in, absence or skill rule could exclude the operator.

    One round trip; when nothing applies, :func:`exclusion_for` needs no calendar at all
    (claims in a shop that has not set up shifts stay as fast as before them).
    """
    recent_day = (at - ABSENCE_LOOKBACK).date()
    facts = db.exec(
        select(
            select(ShiftTemplate.id)
            .where(ShiftTemplate.is_active, id_in(db, ShiftTemplate.department_id, department_ids))
            .exists(),
            select(Department.id)
            .where(Department.requires_check_in, id_in(db, Department.id, department_ids))
            .exists(),
            select(Closure.id)
            .where(
                Closure.last_day >= recent_day,
                or_(Closure.department_id.is_(None), id_in(db, Closure.department_id, department_ids)),
            )
            .exists(),
            select(Absence.id)
            .where(Absence.operator_id == operator_id, Absence.end_at > at - ABSENCE_LOOKBACK)
            .exists(),
            select(AssignmentRule.id)
            .where(
                AssignmentRule.process_id == process_id,
                id_in(db, AssignmentRule.department_id, department_ids),
                AssignmentRule.is_active,
                AssignmentRule.min_level > 0,
            )
            .exists(),
        )
    ).one()
    return any(facts)


def require_eligible(
    db: Session, operator_id: int, department_id: int | None, process_id: int, at: datetime
) -> None:
    """Refuse work to an operator who is off shift, absent, not checked in or not qualified.

    Raises:
        ConflictError: With the reason's message (``scheduling.exclusion.*``).
    """
    reason = exclusion_for(db, operator_id, department_id, process_id, at)
    if reason is not None:
        message = reason.to_json()["message"]
        raise ConflictError(message["key"], **message["params"])


def time_limited_department_ids(db: Session) -> set[int]:
    """Departments whose operators are limited by shifts or check-in (the others never are)."""
    with_shifts = set(db.exec(select(ShiftTemplate.department_id).where(ShiftTemplate.is_active)).all())
    with_check_in = set(db.exec(select(Department.id).where(Department.requires_check_in)).all())
    closed = {
        d for d in db.exec(select(Closure.department_id).where(or_(Closure.department_id.is_not(None)))).all()
    }
    return with_shifts | with_check_in | closed
