"""The supervisor's "On the floor" page: who works now, and the calendar behind it.

- :func:`floor_snapshot`: per active department, its active operators as dispatch sees them
  right now (checked in since when, on shift or off shift with the next shift, absent, open
  tasks and remaining minutes) and a summary (checked in / members, total load, shift minutes
  left today). A few rows per department, read with a handful of queries; the same pure
  calendar code as dispatch (:mod:`work_dispatch.domain.scheduling`) decides who is on shift.
- Shift templates, closures and absences: list, create, edit, delete. Input is validated by
  the domain's own types (:class:`~work_dispatch.domain.scheduling.ShiftTemplate`,
  :class:`~work_dispatch.domain.scheduling.Closure`, :class:`~work_dispatch.domain.scheduling.Absence`,
  :func:`~work_dispatch.domain.scheduling.validate_absences`), so the page refuses exactly what
  the calendar could not use, with the same messages.
- Department shift settings (check-in required, what happens at shift end, check-out grace) and
  a supervisor's check-out of an operator.

Every function is for supervisors (and admins) only. Bad input raises a
:class:`~work_dispatch.domain.errors.ValidationError` naming the form field, before anything is
written. Each change publishes a bus event after its commit, so open floor pages (and the
named operators' tablets) refresh.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import Session, select

from work_dispatch.domain import scheduling
from work_dispatch.domain.enums import Role
from work_dispatch.domain.errors import NotFoundError, ValidationError
from work_dispatch.i18n import localized_name
from work_dispatch.i18n import msg as _label
from work_dispatch.models import (
    REASON_LENGTH,
    Absence,
    Closure,
    Department,
    Presence,
    ShiftTemplate,
    User,
    utc_now,
)
from work_dispatch.realtime.bus import BusEvent, publish
from work_dispatch.services.actor import Actor, require_supervisor
from work_dispatch.services.presence import SUPERVISOR
from work_dispatch.services.shifts import (
    absences_by_operator,
    checked_in_since,
    department_times,
    mask_of,
    members_by_department,
    shop_timezone,
    weekdays_of,
)
from work_dispatch.services.sql import lock_for_write
from work_dispatch.services.validation import as_date, as_flag, as_form, as_int, as_text
from work_dispatch.services.workload import Load, operator_loads

SHIFT_NAME_LENGTH = 64
GRACE_MAX_MINUTES = 240
ABSENCE_MAX_DAYS = 400
"""Longest absence accepted in one entry (a long leave is entered in parts)."""
CLOSURE_MAX_DAYS = 400
TEMPLATES_MAX = 500
"""Most shift templates listed (a shop has a few per department)."""
CLOSURES_MAX = 100
"""Most current and upcoming closures listed."""
PAGE_SIZE_MAX = 100
CALENDAR_CHANGED = "calendar_changed"
"""Bus event kind of a change to shifts, closures, absences or department shift settings."""
PRESENCE_CHANGED = "presence_changed"

_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


# -- the live floor -------------------------------------------------------------------------------


class Standing:
    """Where an operator stands right now, from the floor's point of view (stored values)."""

    WORKING = "working"
    """On shift, not absent, and checked in (or the department does not ask for it): gets work."""
    NOT_CHECKED_IN = "not_checked_in"
    """On shift, but the department requires check-in and they are not checked in."""
    OFF_SHIFT = "off_shift"
    ABSENT = "absent"


@dataclass
class FloorMember:
    """An active operator of a department, as the floor shows them now.

    Attributes:
        operator_id: The user.
        name: Display name.
        standing: One of :class:`Standing`.
        checked_in_at: When they checked in (None: not checked in).
        shift_name: The name of the department's shift running now ("" off shift or without shifts).
        shift_ends_at: When that shift ends (None: off shift or no shifts).
        next_shift_at: When they next work (off shift or absent; None when nothing is planned).
        absent_until: When their current absence ends (None: not absent).
        open_tasks: Tasks they hold (assigned, in progress, paused).
        wip_limit: Most tasks they may hold.
        load_minutes: Remaining planned minutes of those tasks.
    """

    operator_id: int
    name: str
    standing: str
    checked_in_at: datetime | None = None
    shift_name: str = ""
    shift_ends_at: datetime | None = None
    next_shift_at: datetime | None = None
    absent_until: datetime | None = None
    open_tasks: int = 0
    wip_limit: int = 0
    load_minutes: float = 0.0


@dataclass
class FloorDepartment:
    """One department's card: its people now and a summary.

    Attributes:
        department_id: The department.
        name: Its name in the reader's locale.
        has_shifts: Whether shift templates limit when its operators work.
        requires_check_in: Operators must be checked in to get work.
        closed_today: A closure covers today (shop-wide or the department's).
        running_shifts: Names of the shifts running now.
        shift_minutes_left: Working minutes of the department left today (until local midnight).
        members: Its active operators.
        checked_in: How many of them are checked in.
        working: How many of them would get work now (see :attr:`Standing.WORKING`).
        load_minutes: Their remaining planned minutes, together.
    """

    department_id: int
    name: str
    has_shifts: bool
    requires_check_in: bool
    closed_today: bool
    running_shifts: list[str]
    shift_minutes_left: float
    members: list[FloorMember] = field(default_factory=list)
    checked_in: int = 0
    working: int = 0
    load_minutes: float = 0.0


@dataclass
class FloorSnapshot:
    """The whole floor at one instant."""

    at: datetime
    departments: list[FloorDepartment]


def _running_shifts(
    shifts: Iterable[scheduling.ShiftTemplate],
    closures: Iterable[scheduling.Closure],
    now: datetime,
) -> list[tuple[str, datetime]]:
    """(name, end) of every shift occurrence running at ``now``, earliest end first.

    A shift belongs to the day it starts on; a closure on that day cancels it (as the calendar does).
    """
    tz = shop_timezone()
    today = now.astimezone(tz).date()
    closures = list(closures)
    running = []
    for shift in shifts:
        for day in (today - timedelta(days=1), today):
            if any(closure.covers(day) for closure in closures):
                continue
            occurrence = shift.occurrence(day, tz)
            if occurrence is not None and occurrence[0] <= now < occurrence[1]:
                running.append((shift.name, occurrence[1]))
    return sorted(running, key=lambda item: (item[1], item[0]))


def _absence_end(absences: Iterable[scheduling.Absence], now: datetime) -> datetime | None:
    ends = [a.end for a in absences if a.start <= now < a.end]
    return max(ends) if ends else None


def floor_snapshot(db: Session, actor: Actor | None, now: datetime | None = None) -> FloorSnapshot:
    """Who is on the floor now, per active department.

    Args:
        db: Open session (read only).
        actor: The acting supervisor (their locale names the departments).
        now: The time (default: now).

    Returns:
        The departments in board order, each with its active operators in id order.
    """
    actor = require_supervisor(actor)
    now = now or utc_now()
    departments = db.exec(
        select(Department).where(Department.is_active).order_by(Department.sort_order, Department.id)
    ).all()
    ids = [d.id for d in departments]
    times = department_times(db, ids)
    members = members_by_department(db, ids)
    operator_ids = sorted({m.operator_id for team in members.values() for m in team})
    loads = operator_loads(db, operator_ids)
    absences = absences_by_operator(db, now, operator_ids)
    present = checked_in_since(db, operator_ids)
    tz = shop_timezone()
    midnight = datetime.combine(now.astimezone(tz).date() + timedelta(days=1), time(), tzinfo=tz)
    cards = []
    for department in departments:
        time_of = times[department.id]
        running = _running_shifts(time_of.shifts, time_of.closures, now)
        shared = time_of.calendar()
        card = FloorDepartment(
            department_id=department.id,
            name=localized_name(department.name, department.names, actor.locale),
            has_shifts=time_of.has_shifts,
            requires_check_in=time_of.requires_check_in,
            closed_today=any(c.covers(now.astimezone(tz).date()) for c in time_of.closures),
            running_shifts=list(dict.fromkeys(name for name, _ in running)),
            shift_minutes_left=shared.working_minutes_between(now, midnight),
        )
        for member in members.get(department.id, []):
            own = absences.get(member.operator_id, [])
            calendar = time_of.calendar(own) if own else shared
            load = loads.get(member.operator_id, Load())
            since = present.get(member.operator_id)
            candidate = scheduling.Candidate(
                member.operator_id,
                member.name,
                member.wip_limit,
                load.open_tasks,
                load.minutes,
                calendar,
                checked_in=since is not None,
            )
            requirement = scheduling.Requirement(0, 0, time_of.requires_check_in)
            excluded = scheduling.exclusion_of(candidate, requirement, now, check_wip=False)
            standing = {
                None: Standing.WORKING,
                scheduling.Exclusion.ABSENT: Standing.ABSENT,
                scheduling.Exclusion.OFF_SHIFT: Standing.OFF_SHIFT,
                scheduling.Exclusion.NOT_CHECKED_IN: Standing.NOT_CHECKED_IN,
            }[excluded.reason if excluded else None]
            row = FloorMember(
                operator_id=member.operator_id,
                name=member.name,
                standing=standing,
                checked_in_at=since,
                open_tasks=load.open_tasks,
                wip_limit=member.wip_limit,
                load_minutes=round(load.minutes, 1),
            )
            if standing == Standing.ABSENT:
                row.absent_until = _absence_end(own, now)
            if standing in (Standing.ABSENT, Standing.OFF_SHIFT):
                row.next_shift_at = calendar.next_shift_start(now)
            elif running:
                row.shift_name, row.shift_ends_at = running[-1][0], running[-1][1]
            card.members.append(row)
            card.checked_in += since is not None
            card.working += standing == Standing.WORKING
            card.load_minutes += load.minutes
        card.load_minutes = round(card.load_minutes, 1)
        cards.append(card)
    return FloorSnapshot(at=now, departments=cards)


def floor_snapshots(db: Session, readers: Iterable[Actor]) -> dict[str, FloorSnapshot]:
    """The floor once per locale among ``readers`` (the fan-out's shared read).

    Args:
        db: Open session (read only).
        readers: Re-validated supervisors about to be pushed.

    Returns:
        Locale → the snapshot read as the first reader of that locale.
    """
    by_locale: dict[str, Actor] = {}
    for reader in readers:
        by_locale.setdefault(reader.locale, reader)
    now = utc_now()
    return {locale: floor_snapshot(db, reader, now) for locale, reader in by_locale.items()}


def check_out_operator(
    db: Session, actor: Actor | None, operator_id: Any, now: datetime | None = None
) -> str:
    """A supervisor checks an operator out (``checkout_kind`` "supervisor").

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        operator_id: The operator.
        now: The time (default: now).

    Returns:
        The operator's display name.

    Raises:
        ValidationError: If the id is malformed or the operator is not checked in.
        NotFoundError: If there is no such operator.
    """
    actor = require_supervisor(actor)
    operator_id = as_int(operator_id, "operator_id", "calendar.field.operator", minimum=1)
    now = now or utc_now()
    user = db.get(User, operator_id)
    if user is None or user.role != Role.OPERATOR:
        raise NotFoundError("floor.error.operator_unknown")
    closed = db.execute(
        update(Presence)
        .where(Presence.operator_id == operator_id, Presence.checked_out_at.is_(None))
        .values(checked_out_at=now, checkout_kind=SUPERVISOR)
    ).rowcount
    if not closed:
        db.rollback()
        raise ValidationError("floor.error.not_checked_in", operator=user.display_name)
    db.commit()
    publish(BusEvent(kind=PRESENCE_CHANGED, operator_ids=(operator_id,)))
    return user.display_name


# -- shift templates ------------------------------------------------------------------------------


@dataclass
class TemplateRow:
    """A shift template as the calendar lists it (times as ``HH:MM``)."""

    id: int
    department_id: int
    department: str
    name: str
    start: str
    end: str
    weekdays: list[int]
    overnight: bool
    is_active: bool
    minutes: int


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def _length_minutes(start: time, end: time, overnight: bool) -> int:
    minutes = (end.hour - start.hour) * 60 + end.minute - start.minute
    return minutes + (24 * 60 if overnight or minutes <= 0 else 0)


def _department_names(db: Session, locale: str, active_only: bool = True) -> dict[int, str]:
    statement = select(Department).order_by(Department.sort_order, Department.id)
    if active_only:
        statement = statement.where(Department.is_active)
    return {d.id: localized_name(d.name, d.names, locale) for d in db.exec(statement).all()}


def list_templates(db: Session, actor: Actor | None) -> list[TemplateRow]:
    """Shift templates of the active departments, by department (board order) and start time.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.

    Returns:
        At most :data:`TEMPLATES_MAX` rows.
    """
    actor = require_supervisor(actor)
    names = _department_names(db, actor.locale)
    order = {department_id: index for index, department_id in enumerate(names)}
    rows = db.exec(
        select(ShiftTemplate)
        .where(ShiftTemplate.department_id.in_(list(names) or [0]))
        .order_by(ShiftTemplate.department_id, ShiftTemplate.start_time, ShiftTemplate.id)
        .limit(TEMPLATES_MAX)
    ).all()
    result = [
        TemplateRow(
            id=row.id,
            department_id=row.department_id,
            department=names[row.department_id],
            name=row.name,
            start=_hhmm(row.start_time),
            end=_hhmm(row.end_time),
            weekdays=sorted(weekdays_of(row.weekdays)),
            overnight=row.overnight,
            is_active=row.is_active,
            minutes=_length_minutes(row.start_time, row.end_time, row.overnight),
        )
        for row in rows
    ]
    return sorted(result, key=lambda r: (order[r.department_id], r.start, r.id))


def _time_of(value: Any, field_name: str, label: str) -> time:
    if isinstance(value, time):
        return value
    text = value.strip() if isinstance(value, str) else None
    if not text:
        raise ValidationError("error.required", field_name, label=_label(label))
    found = _TIME.fullmatch(text[:8])
    if found is None or int(found.group(1)) > 23 or int(found.group(2)) > 59:
        raise ValidationError("calendar.error.time_format", field_name, label=_label(label))
    return time(int(found.group(1)), int(found.group(2)))


def _weekdays(value: Any) -> frozenset[int]:
    if not isinstance(value, list | tuple) or len(value) > 7:
        raise ValidationError("scheduling.error.weekdays_invalid", field="weekdays")
    days = set()
    for day in value:
        if isinstance(day, str) and day.strip().isdigit() and len(day.strip()) == 1:
            day = int(day.strip())
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
            raise ValidationError("scheduling.error.weekdays_invalid", field="weekdays")
        days.add(day)
    return frozenset(days)


def _active_department(db: Session, value: Any) -> Department:
    department_id = as_int(value, "department_id", "calendar.field.department", minimum=1)
    department = db.get(Department, department_id)
    if department is None or not department.is_active:
        raise ValidationError("calendar.error.department_unknown", "department_id")
    return department


def save_template(db: Session, actor: Actor | None, template_id: Any, raw: Any) -> int:
    """Create (``template_id`` 0) or change a shift template.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        template_id: The template to change, 0 for a new one.
        raw: Form fields: department_id, name, start and end (``HH:MM``), weekdays (0 = Monday
            … 6), overnight and is_active (booleans).

    Returns:
        The template's id.

    Raises:
        ValidationError: For a missing or too long name, malformed times, no weekdays, an end
            before the start of a day shift, an overnight shift that does not cross midnight,
            or an unknown department; nothing is written.
        NotFoundError: If the template to change does not exist.
    """
    actor = require_supervisor(actor)
    template_id = as_int(template_id, "template_id", "calendar.field.shift", minimum=0)
    raw = as_form(raw)
    department = _active_department(db, raw.get("department_id"))
    name = as_text(
        raw.get("name"),
        "name",
        _label("calendar.field.shift_name"),
        max_length=SHIFT_NAME_LENGTH,
        required=True,
    )
    start = _time_of(raw.get("start"), "start", "calendar.field.start")
    end = _time_of(raw.get("end"), "end", "calendar.field.end")
    weekdays = _weekdays(raw.get("weekdays"))
    overnight = as_flag(raw.get("overnight", False), "overnight", _label("calendar.field.overnight"))
    is_active = as_flag(raw.get("is_active", True), "is_active", _label("calendar.field.active"))
    scheduling.ShiftTemplate(name, start, end, weekdays, overnight)  # the calendar's own rules
    if template_id:
        row = db.get(ShiftTemplate, template_id)
        if row is None:
            raise NotFoundError("calendar.error.shift_not_found")
    else:
        row = ShiftTemplate(department_id=department.id, name=name, start_time=start, end_time=end)
    row.department_id, row.name, row.start_time, row.end_time = department.id, name, start, end
    row.weekdays, row.overnight, row.is_active = mask_of(weekdays), overnight, is_active
    db.add(row)
    db.commit()
    publish(BusEvent(kind=CALENDAR_CHANGED))
    return row.id


def delete_template(db: Session, actor: Actor | None, template_id: Any) -> str:
    """Delete a shift template.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        template_id: The template.

    Returns:
        Its name.

    Raises:
        NotFoundError: If it does not exist.
    """
    actor = require_supervisor(actor)
    template_id = as_int(template_id, "template_id", "calendar.field.shift", minimum=1)
    row = db.get(ShiftTemplate, template_id)
    if row is None:
        raise NotFoundError("calendar.error.shift_not_found")
    name = row.name
    db.delete(row)
    db.commit()
    publish(BusEvent(kind=CALENDAR_CHANGED))
    return name


# -- closures -------------------------------------------------------------------------------------


@dataclass
class ClosureRow:
    """A closure as the calendar lists it (``department_id`` 0: the whole shop)."""

    id: int
    department_id: int
    department: str
    first_day: date
    last_day: date
    reason: str


def list_closures(db: Session, actor: Actor | None, today: date | None = None) -> list[ClosureRow]:
    """Closures that have not ended yet (today's and later), earliest first.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.
        today: The shop's today (default: today in the shop timezone).

    Returns:
        At most :data:`CLOSURES_MAX` rows.
    """
    actor = require_supervisor(actor)
    today = today or utc_now().astimezone(shop_timezone()).date()
    names = _department_names(db, actor.locale, active_only=False)
    rows = db.exec(
        select(Closure)
        .where(Closure.last_day >= today)
        .order_by(Closure.first_day, Closure.id)
        .limit(CLOSURES_MAX)
    ).all()
    return [
        ClosureRow(
            id=row.id,
            department_id=row.department_id or 0,
            department=names.get(row.department_id, "") if row.department_id else "",
            first_day=row.first_day,
            last_day=row.last_day,
            reason=row.reason,
        )
        for row in rows
    ]


def save_closure(db: Session, actor: Actor | None, closure_id: Any, raw: Any) -> int:
    """Create (``closure_id`` 0) or change a closure of the shop or of one department.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        closure_id: The closure to change, 0 for a new one.
        raw: Form fields: department_id ("" or 0 for the whole shop), first_day and last_day
            (``YYYY-MM-DD``), reason.

    Returns:
        The closure's id.

    Raises:
        ValidationError: For malformed days, a last day before the first, a closure longer
            than :data:`CLOSURE_MAX_DAYS`, an unknown department or a too long reason.
        NotFoundError: If the closure to change does not exist.
    """
    actor = require_supervisor(actor)
    closure_id = as_int(closure_id, "closure_id", "calendar.field.closure", minimum=0)
    raw = as_form(raw)
    department_value = raw.get("department_id")
    department_id = None
    if department_value not in (None, "", "0", 0, "shop"):
        department_id = _active_department(db, department_value).id
    first = as_date(raw.get("first_day"), "first_day", _label("calendar.field.first_day"), optional=False)
    last = as_date(raw.get("last_day"), "last_day", _label("calendar.field.last_day"), optional=False)
    reason = as_text(raw.get("reason"), "reason", _label("calendar.field.reason"), max_length=REASON_LENGTH)
    scheduling.Closure(first, last, department_id, reason)
    if (last - first).days + 1 > CLOSURE_MAX_DAYS:
        raise ValidationError("calendar.error.closure_too_long", "last_day", maximum=CLOSURE_MAX_DAYS)
    if closure_id:
        row = db.get(Closure, closure_id)
        if row is None:
            raise NotFoundError("calendar.error.closure_not_found")
    else:
        row = Closure(first_day=first, last_day=last)
    row.department_id, row.first_day, row.last_day, row.reason = department_id, first, last, reason
    db.add(row)
    db.commit()
    publish(BusEvent(kind=CALENDAR_CHANGED))
    return row.id


def delete_closure(db: Session, actor: Actor | None, closure_id: Any) -> None:
    """Delete a closure.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        closure_id: The closure.

    Raises:
        NotFoundError: If it does not exist.
    """
    actor = require_supervisor(actor)
    closure_id = as_int(closure_id, "closure_id", "calendar.field.closure", minimum=1)
    row = db.get(Closure, closure_id)
    if row is None:
        raise NotFoundError("calendar.error.closure_not_found")
    db.delete(row)
    db.commit()
    publish(BusEvent(kind=CALENDAR_CHANGED))


# -- absences -------------------------------------------------------------------------------------


@dataclass
class AbsenceRow:
    """An absence as the list shows it."""

    id: int
    operator_id: int
    operator: str
    start_at: datetime
    end_at: datetime
    reason: str
    created_by: str
    current: bool
    """It covers the moment the list was read."""


@dataclass
class AbsencePage:
    """One keyset page of absences; ``next_cursor`` is "" on the last page."""

    rows: list[AbsenceRow]
    next_cursor: str


def _cursor_of(row: Absence) -> str:
    return f"{row.start_at.isoformat()}|{row.id}"


def _parse_cursor(cursor: Any) -> tuple[datetime, int] | None:
    if cursor in (None, "", 0):
        return None
    if not isinstance(cursor, str) or len(cursor) > 64 or cursor.count("|") != 1:
        raise ValidationError("calendar.error.page_unknown", "cursor")
    moment, _, row_id = cursor.partition("|")
    try:
        at = datetime.fromisoformat(moment)
    except ValueError as error:
        raise ValidationError("calendar.error.page_unknown", "cursor") from error
    if at.tzinfo is None or not row_id.isdigit() or len(row_id) > 12:
        raise ValidationError("calendar.error.page_unknown", "cursor")
    return at, int(row_id)


def list_absences(
    db: Session,
    actor: Actor | None,
    operator_id: Any = 0,
    cursor: Any = "",
    page_size: Any = 25,
    now: datetime | None = None,
) -> AbsencePage:
    """A page of absences, the latest start first (upcoming, then current, then past).

    Args:
        db: Open session (read only).
        actor: The acting supervisor.
        operator_id: Only this operator's (0 for everyone's).
        cursor: Where the page starts ("" for the first page; ``next_cursor`` of the previous one).
        page_size: Rows per page, 1..100.
        now: The time that decides which absences are current (default: now).

    Returns:
        The rows and where the next page starts.
    """
    actor = require_supervisor(actor)
    operator_id = as_int(operator_id, "operator_id", "calendar.field.operator", minimum=0, optional=True) or 0
    size = as_int(page_size, "page_size", "calendar.field.page_size", minimum=1, maximum=PAGE_SIZE_MAX)
    after = _parse_cursor(cursor)
    now = now or utc_now()
    statement = select(Absence, User.display_name).join(User, User.id == Absence.operator_id)
    if operator_id:
        statement = statement.where(Absence.operator_id == operator_id)
    if after is not None:
        start, row_id = after
        statement = statement.where(
            or_(Absence.start_at < start, and_(Absence.start_at == start, Absence.id < row_id))
        )
    found = db.exec(statement.order_by(Absence.start_at.desc(), Absence.id.desc()).limit(size + 1)).all()
    more = len(found) > size
    found = found[:size]
    creators = {}
    creator_ids = sorted({row.created_by_id for row, _ in found if row.created_by_id})
    if creator_ids:
        creators = dict(db.exec(select(User.id, User.display_name).where(User.id.in_(creator_ids))).all())
    rows = [
        AbsenceRow(
            id=row.id,
            operator_id=row.operator_id,
            operator=name,
            start_at=row.start_at,
            end_at=row.end_at,
            reason=row.reason,
            created_by=creators.get(row.created_by_id, ""),
            current=row.start_at <= now < row.end_at,
        )
        for row, name in found
    ]
    return AbsencePage(rows=rows, next_cursor=_cursor_of(found[-1][0]) if more and found else "")


def _local_datetime(value: Any, field_name: str, label: str) -> datetime:
    """A ``datetime-local`` value (wall clock in the shop's timezone), or an aware ISO date-time."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = value.strip() if isinstance(value, str) else None
        if not text:
            raise ValidationError("error.required", field_name, label=_label(label))
        if len(text) > 32:
            raise ValidationError("error.datetime_format", field_name, label=_label(label))
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as error:
            raise ValidationError("error.datetime_format", field_name, label=_label(label)) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=shop_timezone())
    return moment.astimezone(shop_timezone())


def _active_operator(db: Session, value: Any) -> User:
    operator_id = as_int(value, "operator_id", "calendar.field.operator", minimum=1)
    user = db.get(User, operator_id)
    if user is None or user.role != Role.OPERATOR or not user.is_active:
        raise ValidationError("calendar.error.operator_unknown", "operator_id")
    return user


def save_absence(db: Session, actor: Actor | None, absence_id: Any, raw: Any) -> int:
    """Create (``absence_id`` 0) or change an operator's absence.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor (recorded as the creator of a new absence).
        absence_id: The absence to change, 0 for a new one.
        raw: Form fields: operator_id (an active operator), start and end (``YYYY-MM-DDTHH:MM``
            on the shop's clock, or aware ISO date-times), reason.

    Returns:
        The absence's id.

    Raises:
        ValidationError: For an unknown or inactive operator, malformed times, an end not
            after the start, an absence longer than :data:`ABSENCE_MAX_DAYS`, one that overlaps
            another absence of the same operator, or a too long reason; nothing is written.
        NotFoundError: If the absence to change does not exist.
    """
    actor = require_supervisor(actor)
    absence_id = as_int(absence_id, "absence_id", "calendar.field.absence", minimum=0)
    raw = as_form(raw)
    operator = _active_operator(db, raw.get("operator_id"))
    start = _local_datetime(raw.get("start"), "start", "calendar.field.absence_start")
    end = _local_datetime(raw.get("end"), "end", "calendar.field.absence_end")
    reason = as_text(raw.get("reason"), "reason", _label("calendar.field.reason"), max_length=REASON_LENGTH)
    wanted = scheduling.Absence(operator.id, start, end, reason)
    if end - start > timedelta(days=ABSENCE_MAX_DAYS):
        raise ValidationError("calendar.error.absence_too_long", "end", maximum=ABSENCE_MAX_DAYS)
    # One writer per operator at a time: two supervisors cannot both add overlapping absences.
    lock_for_write(db)
    db.exec(select(User.id).where(User.id == operator.id).with_for_update()).all()
    row = None
    if absence_id:
        row = db.get(Absence, absence_id)
        if row is None:
            db.rollback()
            raise NotFoundError("calendar.error.absence_not_found")
    neighbours = db.exec(
        select(Absence).where(
            Absence.operator_id == operator.id,
            Absence.start_at < end,
            Absence.end_at > start,
            Absence.id != absence_id,
        )
    ).all()
    tz = shop_timezone()
    try:
        scheduling.validate_absences(
            [
                wanted,
                *(
                    scheduling.Absence(n.operator_id, n.start_at.astimezone(tz), n.end_at.astimezone(tz))
                    for n in neighbours
                ),
            ]
        )
    except ValidationError:
        db.rollback()
        raise
    previous_operator = row.operator_id if row is not None else operator.id
    if row is None:
        row = Absence(operator_id=operator.id, start_at=start, end_at=end, created_by_id=actor.user_id)
    row.operator_id, row.start_at, row.end_at, row.reason = operator.id, start, end, reason
    db.add(row)
    db.commit()
    publish(BusEvent(kind=CALENDAR_CHANGED, operator_ids=tuple(sorted({operator.id, previous_operator}))))
    return row.id


def delete_absence(db: Session, actor: Actor | None, absence_id: Any) -> None:
    """Delete an absence.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        absence_id: The absence.

    Raises:
        NotFoundError: If it does not exist.
    """
    actor = require_supervisor(actor)
    absence_id = as_int(absence_id, "absence_id", "calendar.field.absence", minimum=1)
    row = db.get(Absence, absence_id)
    if row is None:
        raise NotFoundError("calendar.error.absence_not_found")
    operator_id = row.operator_id
    db.delete(row)
    db.commit()
    publish(BusEvent(kind=CALENDAR_CHANGED, operator_ids=(operator_id,)))


# -- department shift settings --------------------------------------------------------------------


@dataclass
class DepartmentSettings:
    """A department's shift settings as the calendar shows them."""

    id: int
    name: str
    requires_check_in: bool
    shift_end_returns_tasks: bool
    shift_end_pauses_tasks: bool
    checkout_grace_minutes: int


def department_settings(db: Session, actor: Actor | None) -> list[DepartmentSettings]:
    """Shift settings of every active department, in board order.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.

    Returns:
        One row per active department.
    """
    actor = require_supervisor(actor)
    return [
        DepartmentSettings(
            id=d.id,
            name=localized_name(d.name, d.names, actor.locale),
            requires_check_in=d.requires_check_in,
            shift_end_returns_tasks=d.shift_end_returns_tasks,
            shift_end_pauses_tasks=d.shift_end_pauses_tasks,
            checkout_grace_minutes=d.checkout_grace_minutes,
        )
        for d in db.exec(
            select(Department).where(Department.is_active).order_by(Department.sort_order, Department.id)
        ).all()
    ]


def save_department_settings(db: Session, actor: Actor | None, department_id: Any, raw: Any) -> str:
    """Change a department's shift settings.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        department_id: The (active) department.
        raw: Form fields: requires_check_in, shift_end_returns_tasks, shift_end_pauses_tasks
            (booleans) and checkout_grace_minutes (0–240).

    Returns:
        The department's name in the actor's locale.

    Raises:
        ValidationError: For an unknown department, a flag that is not a boolean or a grace
            outside 0–240 minutes; nothing is written.
    """
    actor = require_supervisor(actor)
    department = _active_department(db, department_id)
    raw = as_form(raw)
    flags = {
        name: as_flag(raw.get(name), name, _label(f"calendar.field.{name}"))
        for name in ("requires_check_in", "shift_end_returns_tasks", "shift_end_pauses_tasks")
    }
    grace = as_int(
        raw.get("checkout_grace_minutes"),
        "checkout_grace_minutes",
        "calendar.field.checkout_grace_minutes",
        minimum=0,
        maximum=GRACE_MAX_MINUTES,
    )
    department.requires_check_in = flags["requires_check_in"]
    department.shift_end_returns_tasks = flags["shift_end_returns_tasks"]
    department.shift_end_pauses_tasks = flags["shift_end_pauses_tasks"]
    department.checkout_grace_minutes = grace
    db.add(department)
    db.commit()
    publish(BusEvent(kind=CALENDAR_CHANGED))
    return localized_name(department.name, department.names, actor.locale)


# -- pickers --------------------------------------------------------------------------------------

OPERATOR_OPTIONS_MAX = 1000


def operator_options(db: Session, actor: Actor | None) -> list[tuple[int, str]]:
    """Active operators by name, for the absence form and filter.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.

    Returns:
        (id, display name) pairs, at most :data:`OPERATOR_OPTIONS_MAX`.
    """
    require_supervisor(actor)
    return [
        (user_id, name)
        for user_id, name in db.exec(
            select(User.id, User.display_name)
            .where(User.is_active, User.role == Role.OPERATOR)
            .order_by(User.display_name, User.id)
            .limit(OPERATOR_OPTIONS_MAX)
        ).all()
    ]
