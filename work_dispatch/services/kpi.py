"""KPI charts of the supervisor dashboard, aggregated in the database.

Every chart is one grouped query (two for throughput) that
returns a few dozen rows at most; no task or event row ever leaves the database, let alone
reaches a browser. Each query is served by an index (``alembic/versions/0009_kpi_indexes.py``;
the figures and plans are in ``tests/benchmarks/bench_kpi.py``):

- **throughput**: tasks completed and good units reported per local hour, today against
  yesterday (``ix_task_completed_at``, ``ix_task_event_kind_created``);
- **WIP** and the department side of **load**: open tasks by department and status, with the
  remaining planned minutes (``ix_task_status_department``);
- **load against capacity**: remaining planned minutes per department and operator against the
  minutes of shift left today (shift templates × operators, closures and absences applied);
- **standard against actual**: planned minutes against the in-progress time measured from the
  events (started / resumed → paused / completed / returned / unassigned / reassigned /
  cancelled) of the tasks completed in the range, per process and per completing operator;
- **on time**: work orders whose last task completed in the range, on time or late against
  their delivery date, per week, and how late;
- **downtime** (pauses by reason, with their minutes) and **scrap** (defective units reported,
  per process and reason).

Only completing a task sets ``task.completed_at``, so a completion time in the range is a
completed task (and the index alone finds them). Days are the shop's days (``WD_TIMEZONE``):
a range covers its first day's local midnight to the local midnight after its last day.
Filters come from the client and are validated here: a reversed range, a range longer than
:data:`MAX_RANGE_DAYS` or an unknown department is refused with a message for its field.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from sqlalchemy import Integer, bindparam, case, cast, exists, literal, or_, text, union_all
from sqlalchemy.orm import aliased
from sqlmodel import Session, func, select

from work_dispatch.domain.enums import (
    OPEN_TASK_STATUSES,
    OPERATOR_LOAD_STATUSES,
    PauseReason,
    TaskEventKind,
    TaskStatus,
    WorkOrderStatus,
)
from work_dispatch.domain.errors import ValidationError
from work_dispatch.i18n import localized_name, normalize_locale, translate
from work_dispatch.models import (
    DefectReason,
    Department,
    Process,
    Task,
    TaskEvent,
    User,
    WorkOrder,
    utc_now,
)
from work_dispatch.services import exports, shifts, workload
from work_dispatch.services.actor import Actor, require_supervisor
from work_dispatch.services.sql import is_postgres
from work_dispatch.services.task_flow import pause_category, pause_reason_text
from work_dispatch.services.validation import as_date, as_int

MAX_RANGE_DAYS = 366
"""Longest date range (days, both ends included): a year, leap day included."""
DEFAULT_RANGE_DAYS = 7
"""The range a dashboard opens with: the last seven days, today included."""
EVENT_WINDOW = timedelta(days=2)
"""How long before a range its completed tasks' events are looked for by time (older starts: by task)."""
TOP_N = 8
"""Bars of the "top" charts (downtime reasons, scrap)."""
MAX_OPERATORS = 30
"""Operators shown in the load chart (most loaded first)."""

WIP_STATUSES: tuple[TaskStatus, ...] = tuple(s for s in TaskStatus if s in OPEN_TASK_STATUSES)
"""Open statuses, in life order: the stacks of the WIP chart."""

OPENS_WORK = (TaskEventKind.STARTED, TaskEventKind.RESUMED)
"""Events after which a task is in progress."""
ENDS_WORK = (
    TaskEventKind.PAUSED,
    TaskEventKind.COMPLETED,
    TaskEventKind.RETURNED,
    TaskEventKind.CANCELLED,
    TaskEventKind.UNASSIGNED,
    TaskEventKind.REASSIGNED,
)
"""Events that end an in-progress interval (the machine allows no other way out of it)."""
ENDS_PAUSE = (
    TaskEventKind.RESUMED,
    TaskEventKind.COMPLETED,
    TaskEventKind.CANCELLED,
    TaskEventKind.UNASSIGNED,
    TaskEventKind.REASSIGNED,
)
"""Events that end a pause (downtime)."""

GOOD_KEY = "completed"
"""``reported`` event data: good units of that report."""
SCRAP_KEY = "defective"
"""``reported`` event data: scrapped units of that report."""
SCRAP_REASON_KEY = "scrap_reason"
"""``reported`` event data: the code of the scrap reason (``defect_reason``), when there was scrap."""
SCRAP_REASON_ID_KEY = "scrap_reason_id"
"""``reported`` event data: the id of that reason (its name per locale is read from the catalog)."""
PAUSE_REASON_KEY = "reason"
"""``paused`` event data: the pause reason (a ``PauseReason`` value, or older free text)."""

LATENESS_BUCKETS: tuple[tuple[str, int | None, int | None], ...] = (
    ("early", None, -1),
    ("on_day", 0, 0),
    ("late_1", 1, 1),
    ("late_2_3", 2, 3),
    ("late_4_7", 4, 7),
    ("late_8_14", 8, 14),
    ("late_15", 15, None),
)
"""(name, fewest days late, most days late) of each bar of the lateness chart; labels ``kpi.lateness.*``."""


# -- filters -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiFilters:
    """Validated filters: a range of shop days (both included) and maybe one department."""

    first_day: date
    last_day: date
    department_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The filters as form values (ISO dates, department id or "")."""
        return {
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "department_id": "" if self.department_id is None else str(self.department_id),
        }


def shop_zone() -> ZoneInfo:
    """The shop's timezone (``WD_TIMEZONE``), as shift calendars read it."""
    return shifts.shop_timezone()


def shop_today(clock: Callable[[], datetime] = utc_now) -> date:
    """Today in the shop's timezone."""
    return clock().astimezone(shop_zone()).date()


def default_filters(today: date) -> KpiFilters:
    """The filters a dashboard opens with: the last :data:`DEFAULT_RANGE_DAYS` days, every department."""
    return KpiFilters(today - timedelta(days=DEFAULT_RANGE_DAYS - 1), today)


def parse_filters(db: Session | None, raw: Any, today: date) -> KpiFilters:
    """Validate filters sent by a client.

    Args:
        db: Open session (to check that the department exists), or None to check the form only.
        raw: ``{"first_day": "YYYY-MM-DD", "last_day": ..., "department_id": id or ""}``;
            missing days default to :func:`default_filters`.
        today: Today in the shop (the default range ends on it).

    Returns:
        The filters.

    Raises:
        ValidationError: For a malformed date, a last day before the first, a range of more
            than :data:`MAX_RANGE_DAYS` days or an unknown department, naming its field.
    """
    raw = raw if isinstance(raw, Mapping) else {}
    defaults = default_filters(today)
    first = as_date(raw.get("first_day"), "first_day", "kpi.field.first_day") or defaults.first_day
    last = as_date(raw.get("last_day"), "last_day", "kpi.field.last_day") or defaults.last_day
    if last < first:
        raise ValidationError(
            "kpi.error.range_reversed", field="last_day", first=first.isoformat(), last=last.isoformat()
        )
    days = (last - first).days + 1
    if days > MAX_RANGE_DAYS:
        raise ValidationError("kpi.error.range_too_long", field="last_day", days=days, maximum=MAX_RANGE_DAYS)
    department_id = as_int(
        raw.get("department_id"), "department_id", "kpi.field.department", minimum=1, optional=True
    )
    if department_id is not None and db is not None and db.get(Department, department_id) is None:
        raise ValidationError(
            "kpi.error.unknown_department", field="department_id", department_id=department_id
        )
    return KpiFilters(first, last, department_id)


# -- SQL helpers ---------------------------------------------------------------------------------


def _plan_for_these_values(db: Session) -> None:
    """Plan each chart query for its own range, and skip JIT compilation (PostgreSQL, this transaction).

    The driver prepares statements it runs often; PostgreSQL may then switch to a generic plan
    made without knowing the range, and for these joins such a plan can be thousands of times
    slower (a nested loop over every event of the range). JIT compilation, triggered by cost
    estimates, takes longer than these queries run. Both settings end with the transaction.
    """
    if not is_postgres(db):
        return
    transaction = db.connection().get_transaction()
    if db.info.get("kpi_planned_in") is not transaction:
        db.execute(text("SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL jit = off"))
        db.info["kpi_planned_in"] = transaction


_UNIX_EPOCH_JULIAN_DAY = 2440587.5


def _seconds(db: Session, column: Any) -> Any:
    """Seconds since the epoch of a timestamp column, in SQL, to the millisecond on both databases.

    SQLite keeps julian days as whole milliseconds, so rounding to three decimals gives back the
    exact instant (``strftime('%s')`` would drop the fraction: a task worked for half a second
    would count as not worked at all).
    """
    if is_postgres(db):
        return func.date_part("epoch", column)  # double precision: cheaper than EXTRACT's numeric
    return func.round((func.julianday(column) - _UNIX_EPOCH_JULIAN_DAY) * 86400.0, 3)


def _bucket(db: Session, column: Any, base: datetime, width_s: int) -> Any:
    """Which ``width_s``-long slot after ``base`` a timestamp falls in (0, 1, ...), in SQL."""
    offset = _seconds(db, column) - base.timestamp()
    if is_postgres(db):
        return cast(func.floor(offset / width_s), Integer)
    return cast(offset / width_s, Integer)  # rows are never before ``base``: truncation is floor


def _at(value: datetime, name: str) -> Any:
    """A timestamp parameter typed like the task columns (so SQLite compares it as stored)."""
    return bindparam(name, value, type_=Task.__table__.c.completed_at.type, unique=True)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant the shop day ``day`` starts, in UTC."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _span(filters: KpiFilters, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants the filter's range starts and ends (end excluded)."""
    return _midnight(filters.first_day, zone), _midnight(filters.last_day + timedelta(days=1), zone)


def _in_department(column: Any, filters: KpiFilters) -> Any:
    return literal(True) if filters.department_id is None else column == filters.department_id


def _of_task(column: Any, task_id: Any) -> Any:
    """A column of an event's task, looked up by primary key for each event (a scalar subquery).

    The events of a range are few next to the tasks of a department; a lookup per event keeps
    the cost in proportion to them, whatever plan a join would get.
    """
    return select(column).where(Task.id == task_id).scalar_subquery()


def _earliest(db: Session, value: Any, cap: Any) -> Any:
    """The earlier of a timestamp (None: not yet) and ``cap``, in SQL."""
    if is_postgres(db):
        return func.least(value, cap)  # LEAST ignores NULL
    return func.min(func.coalesce(value, cap), cap)  # SQLite's scalar min()


def _names(db: Session, model: type, locale: str) -> dict[int, str]:
    """Id → name in ``locale`` of every department or process (small catalog tables)."""
    rows = db.exec(select(model.id, model.name, model.names)).all()
    return {row_id: localized_name(name, names, locale) for row_id, name, names in rows}


# -- results ---------------------------------------------------------------------------------------


@dataclass
class Throughput:
    """Per local hour of today and yesterday: completed tasks and good units.

    ``hours`` has 24 points ``{"hour", "today_tasks", "yesterday_tasks", "today_units",
    "yesterday_units"}``; today's values are None after the current hour (the line stops).
    The totals compare today so far with yesterday up to the same time of day.
    """

    hours: list[dict[str, Any]] = field(default_factory=list)
    today_tasks: int = 0
    yesterday_tasks: int = 0
    today_units: int = 0
    yesterday_units: int = 0


@dataclass
class LoadCapacity:
    """Remaining planned minutes against minutes of shift left today.

    ``departments`` and ``operators`` are ``{"id", "name", "load", "capacity"}`` (minutes,
    rounded); ``capacity`` is None where no shift template applies (load only).
    ``more_operators`` counts operators left out of the chart (least loaded).
    """

    departments: list[dict[str, Any]] = field(default_factory=list)
    operators: list[dict[str, Any]] = field(default_factory=list)
    more_operators: int = 0


@dataclass
class OnTime:
    """Work orders completed in the range against their delivery date.

    ``weeks``: ``{"week", "start", "on_time", "late", "rate"}`` per week (Monday first; rate in % with
    one decimal, None for a week without orders); ``lateness``: ``{"key", "name", "orders"}``
    per bucket of :data:`LATENESS_BUCKETS`.
    """

    weeks: list[dict[str, Any]] = field(default_factory=list)
    lateness: list[dict[str, Any]] = field(default_factory=list)
    orders: int = 0
    on_time: int = 0

    @property
    def rate(self) -> float | None:
        """On-time rate over the whole range, in %, or None without orders."""
        return round(100 * self.on_time / self.orders, 1) if self.orders else None


@dataclass
class StandardActual:
    """Planned against actual minutes of the tasks completed in the range.

    ``processes`` and ``operators`` are ``{"id", "name", "tasks", "standard", "actual"}``
    (minutes, rounded), largest standard first; ``more_operators`` counts operators left out
    of the chart (smallest standard).
    """

    processes: list[dict[str, Any]] = field(default_factory=list)
    operators: list[dict[str, Any]] = field(default_factory=list)
    more_operators: int = 0


@dataclass
class KpiBoard:
    """Everything the KPI charts show for one set of filters, labelled in one locale."""

    filters: KpiFilters
    throughput: Throughput
    wip: list[dict[str, Any]]
    load: LoadCapacity
    standard_actual: StandardActual
    on_time: OnTime
    downtime: list[dict[str, Any]]
    scrap: list[dict[str, Any]]


# -- a. throughput -------------------------------------------------------------------------------


def throughput(db: Session, filters: KpiFilters, locale: str, now: datetime) -> Throughput:
    """Completed tasks and good units per local hour, today against yesterday.

    Args:
        db: Open session (read only).
        filters: Only the department applies (the chart is always today and yesterday).
        locale: Unused (hours need no words); kept for the uniform chart signature.
        now: The current time.

    Returns:
        The 24 hours and the totals so far.
    """
    _plan_for_these_values(db)
    zone = shop_zone()
    local_now = now.astimezone(zone)
    today = local_now.date()
    yesterday_start = _midnight(today - timedelta(days=1), zone)
    today_start = _midnight(today, zone)
    # Yesterday at the same time of day; clamped into yesterday around daylight-saving jumps.
    same_time = min(datetime.combine(today - timedelta(days=1), local_now.time(), tzinfo=zone), today_start)
    shift_hours = round((today_start - yesterday_start).total_seconds() / 3600)

    def per_hour(moment: Any, amount: Any, *where: Any) -> dict[int, tuple[int, int]]:
        bucket = _bucket(db, moment, yesterday_start, 3600).label("bucket")
        statement = select(
            bucket,
            func.coalesce(func.sum(amount), 0),
            func.coalesce(func.sum(case((moment < _at(same_time, "same_time"), amount), else_=0)), 0),
        )
        statement = statement.where(
            moment >= _at(yesterday_start, "start"), moment < _at(now, "now"), *where
        ).group_by(bucket)
        return {int(row[0]): (int(row[1]), int(row[2])) for row in db.exec(statement).all()}

    tasks = per_hour(
        Task.completed_at,
        literal(1),
        _in_department(Task.assigned_department_id, filters),
    )
    units = per_hour(
        TaskEvent.created_at,
        TaskEvent.data[GOOD_KEY].as_integer(),
        TaskEvent.kind == TaskEventKind.REPORTED,
        _in_department(_of_task(Task.assigned_department_id, TaskEvent.task_id), filters),
    )
    result = Throughput()
    current_hour = int((now - today_start).total_seconds() // 3600)
    for hour in range(24):
        today_bucket, yesterday_bucket = shift_hours + hour, hour
        label = (today_start + timedelta(hours=hour)).astimezone(zone).strftime("%H:%M")
        shown = hour <= current_hour
        result.hours.append(
            {
                "hour": label,
                "today_tasks": tasks.get(today_bucket, (0, 0))[0] if shown else None,
                "yesterday_tasks": tasks.get(yesterday_bucket, (0, 0))[0],
                "today_units": units.get(today_bucket, (0, 0))[0] if shown else None,
                "yesterday_units": units.get(yesterday_bucket, (0, 0))[0],
            }
        )
    result.today_tasks = sum(v[0] for k, v in tasks.items() if k >= shift_hours)
    result.yesterday_tasks = sum(v[1] for k, v in tasks.items() if k < shift_hours)
    result.today_units = sum(v[0] for k, v in units.items() if k >= shift_hours)
    result.yesterday_units = sum(v[1] for k, v in units.items() if k < shift_hours)
    return result


# -- b. WIP (and the department load) ----------------------------------------------------------


def _open_by_department(db: Session, filters: KpiFilters) -> list[tuple[int | None, str, int, float]]:
    """(department, status, tasks, remaining minutes) of open tasks: one grouped query."""
    statement = (
        select(
            Task.assigned_department_id,
            Task.status,
            func.count(),
            func.coalesce(func.sum(workload.remaining_minutes_sql()), 0.0),
        )
        .where(
            Task.status.in_([s.value for s in WIP_STATUSES]),
            _in_department(Task.assigned_department_id, filters),
        )
        .group_by(Task.assigned_department_id, Task.status)
    )
    return [(row[0], row[1], int(row[2]), float(row[3])) for row in db.exec(statement).all()]


def wip(db: Session, filters: KpiFilters, locale: str, now: datetime) -> list[dict[str, Any]]:
    """Open tasks by department and status (stacked bars).

    Args:
        db: Open session (read only).
        filters: The department applies (the chart is now, whatever the range).
        locale: Labels' locale.
        now: Unused (WIP is the current state).

    Returns:
        ``{"id", "name", <status>: count ...}`` per department in the shop's order (active
        departments, and any other that holds open tasks), then tasks not dispatched yet.
    """
    _plan_for_these_values(db)
    return _wip_rows(db, filters, locale, _open_by_department(db, filters))


def _wip_rows(
    db: Session, filters: KpiFilters, locale: str, grouped: Iterable[tuple]
) -> list[dict[str, Any]]:
    counts: dict[int | None, dict[str, int]] = defaultdict(dict)
    for department_id, status, count, _minutes in grouped:
        counts[department_id][status] = count
    rows = []
    for department in _departments(db, filters):
        if department.is_active or department.id in counts:
            rows.append(
                _wip_row(department.id, localized_name(department.name, department.names, locale), counts)
            )
    if None in counts:
        rows.append(_wip_row(None, translate("kpi.not_dispatched", locale), counts))
    return rows


def _wip_row(
    department_id: int | None, name: str, counts: Mapping[int | None, dict[str, int]]
) -> dict[str, Any]:
    own = counts.get(department_id, {})
    return {
        "id": department_id or 0,
        "name": name,
        **{status.value: own.get(status.value, 0) for status in WIP_STATUSES},
    }


def _departments(db: Session, filters: KpiFilters) -> list[Department]:
    statement = select(Department).order_by(Department.sort_order, Department.id)
    if filters.department_id is not None:
        statement = statement.where(Department.id == filters.department_id)
    return list(db.exec(statement).all())


# -- c. load against capacity --------------------------------------------------------------------


def _union(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Disjoint, sorted (start, end) spans covering the same time as ``spans``."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _seconds_outside(spans: list[tuple[float, float]], holes: list[tuple[float, float]]) -> float:
    """Seconds of disjoint ``spans`` not covered by disjoint ``holes``."""
    total = 0.0
    for start, end in spans:
        covered = sum(max(0.0, min(end, b) - max(start, a)) for a, b in holes)
        total += max(0.0, end - start - covered)
    return total


def shift_left_today(
    time_of: shifts.DepartmentTime, now: datetime, zone: ZoneInfo
) -> list[tuple[float, float]]:
    """A department's shift time from ``now`` to the shop's next midnight, as POSIX-second spans.

    The same rules as :class:`~work_dispatch.domain.scheduling.WorkCalendar` (a closure
    cancels the shifts that start on its days; a night shift that began yesterday runs into
    today), from the domain's own occurrences, for this one window only: a calendar builds
    weeks of intervals, which a chart refreshed on every change cannot afford per department.

    Args:
        time_of: The department's shifts and closures.
        now: The current time.
        zone: The shop's timezone.

    Returns:
        Disjoint spans (empty when the department works no more today).
    """
    today = now.astimezone(zone).date()
    low, high = now.timestamp(), _midnight(today + timedelta(days=1), zone).timestamp()
    spans = []
    for day in (today - timedelta(days=1), today):
        if any(closure.covers(day) for closure in time_of.closures):
            continue
        for shift in time_of.shifts:
            occurrence = shift.occurrence(day, zone)
            if occurrence is not None:
                start, end = max(occurrence[0].timestamp(), low), min(occurrence[1].timestamp(), high)
                if end > start:
                    spans.append((start, end))
    return _union(spans)


def load_capacity(db: Session, filters: KpiFilters, locale: str, now: datetime) -> LoadCapacity:
    """Remaining planned minutes of open work against the minutes of shift left today.

    A department's load is the remaining planned minutes of its open tasks; an operator's,
    of the tasks they hold (assigned, in progress, paused). A department's capacity is the
    working time left today (until local midnight) on its active shift templates, summed
    over its active operators, closures and each operator's absences taken off; an
    operator's capacity is the same over the templates of all their departments. Where no
    template applies, capacity is None (the chart shows the load only).

    Args:
        db: Open session (read only).
        filters: The department applies.
        locale: Labels' locale.
        now: The current time.

    Returns:
        Departments and the most loaded operators.
    """
    _plan_for_these_values(db)
    return _load_capacity(db, filters, locale, now, _open_by_department(db, filters))


def _load_capacity(
    db: Session, filters: KpiFilters, locale: str, now: datetime, grouped: Iterable[tuple]
) -> LoadCapacity:
    zone = shop_zone()
    department_load: dict[int, float] = defaultdict(float)
    for department_id, _status, _count, minutes in grouped:
        if department_id is not None:
            department_load[department_id] += minutes
    operator_load = dict(
        db.exec(
            select(Task.assigned_operator_id, func.coalesce(func.sum(workload.remaining_minutes_sql()), 0.0))
            .where(
                Task.assigned_operator_id.is_not(None),
                Task.status.in_(sorted(OPERATOR_LOAD_STATUSES)),
                _in_department(Task.assigned_department_id, filters),
            )
            .group_by(Task.assigned_operator_id)
        ).all()
    )
    departments = [d for d in _departments(db, filters) if d.is_active or d.id in department_load]
    shown = [d.id for d in departments]
    times = shifts.department_times(db, shown)
    members = shifts.members_by_department(db, shown)
    departments_of: dict[int, set[int]] = defaultdict(set)
    names: dict[int, str] = {}
    for department_id, people in members.items():
        for member in people:
            departments_of[member.operator_id].add(department_id)
            names[member.operator_id] = member.name
    missing = set(operator_load) - set(names)  # holding work here, no longer a member
    if missing:
        names.update(db.exec(select(User.id, User.display_name).where(User.id.in_(sorted(missing)))).all())
    absences = {
        operator_id: _union((a.start.timestamp(), a.end.timestamp()) for a in found)
        for operator_id, found in shifts.absences_by_operator(db, now, list(names)).items()
    }
    left = {d: shift_left_today(t, now, zone) for d, t in times.items() if t.has_shifts}

    def capacity_of(operator_id: int, department_ids: Iterable[int]) -> float | None:
        limited = [d for d in department_ids if d in left]
        if not limited:
            return None
        spans = _union(span for d in limited for span in left[d])
        return _seconds_outside(spans, absences.get(operator_id, [])) / 60

    result = LoadCapacity()
    for department in departments:
        capacity = None
        if department.id in left:
            capacity = sum(
                capacity_of(m.operator_id, [department.id]) or 0.0 for m in members.get(department.id, [])
            )
        result.departments.append(
            {
                "id": department.id,
                "name": localized_name(department.name, department.names, locale),
                "load": round(department_load.get(department.id, 0.0)),
                "capacity": None if capacity is None else round(capacity),
            }
        )
    operators = []
    for operator_id, name in names.items():
        capacity = capacity_of(operator_id, departments_of.get(operator_id, ()))
        operators.append(
            {
                "id": operator_id,
                "name": name,
                "load": round(float(operator_load.get(operator_id, 0.0))),
                "capacity": None if capacity is None else round(capacity),
            }
        )
    operators.sort(key=lambda row: (-row["load"], -(row["capacity"] or 0), row["name"], row["id"]))
    result.operators = operators[:MAX_OPERATORS]
    result.more_operators = max(0, len(operators) - MAX_OPERATORS)
    return result


# -- d. standard against actual ------------------------------------------------------------------


def standard_actual(db: Session, filters: KpiFilters, locale: str, now: datetime) -> StandardActual:
    """Planned against actual minutes per process and per operator, for the tasks completed in the range.

    Actual minutes are each task's own in-progress intervals, from its events: each ``started``
    or ``resumed`` event to the next event that ends work (paused, completed, returned,
    unassigned, reassigned, cancelled). Time an operator spent on two tasks at once counts for
    both here (the drawer splits it, see :mod:`work_dispatch.services.labour`; splitting it for
    a whole range in SQL cost 50-120 ms on 1,000,000 tasks, over this chart's budget). Only
    tasks with measured time count, on both sides. A task counts for the operator who
    completed it (``assigned_operator_id``), whoever else worked on it.

    Args:
        db: Open session (read only).
        filters: Range and department.
        locale: Labels' locale.
        now: Unused.

    Returns:
        ``{"id", "name", "tasks", "standard", "actual"}`` per process and per operator (minutes,
        rounded), largest standard first; at most :data:`MAX_OPERATORS` operators.
    """
    _plan_for_these_values(db)
    start, end = _span(filters, shop_zone())
    # Work events of a task lie between its first start and its completion: for the tasks that
    # started at most EVENT_WINDOW before the range, the events are read by kind and time
    # (ix_task_event_kind_created, index only); the few older ones by task.
    horizon = start - EVENT_WINDOW
    done = (
        select(
            Task.id,
            Task.process_id,
            Task.assigned_operator_id.label("operator_id"),
            Task.planned_minutes,
            Task.started_at,
        )
        .where(
            Task.completed_at >= _at(start, "start"),
            Task.completed_at < _at(end, "end"),
            _in_department(Task.assigned_department_id, filters),
        )
        .cte("done")
    )
    kinds = [k.value for k in (*OPENS_WORK, *ENDS_WORK)]
    recent = (
        select(TaskEvent.task_id, TaskEvent.kind, TaskEvent.created_at)
        .join(done, done.c.id == TaskEvent.task_id)
        .where(
            TaskEvent.kind.in_(kinds),
            TaskEvent.created_at >= _at(horizon, "horizon"),
            TaskEvent.created_at < _at(end, "end"),
            done.c.started_at >= _at(horizon, "horizon"),
        )
    )
    older = (
        select(TaskEvent.task_id, TaskEvent.kind, TaskEvent.created_at)
        .join(done, done.c.id == TaskEvent.task_id)
        .where(
            TaskEvent.kind.in_(kinds),
            or_(done.c.started_at < _at(horizon, "horizon"), done.c.started_at.is_(None)),
        )
    )
    work = union_all(recent, older).subquery("work")
    order = (work.c.created_at, work.c.kind)
    events = select(
        work.c.task_id,
        work.c.kind,
        work.c.created_at,
        func.lead(work.c.created_at).over(partition_by=work.c.task_id, order_by=order).label("next_at"),
        func.lead(work.c.kind).over(partition_by=work.c.task_id, order_by=order).label("next_kind"),
    ).subquery("ev")
    worked = (
        select(
            events.c.task_id,
            func.sum(_seconds(db, events.c.next_at) - _seconds(db, events.c.created_at)).label("seconds"),
        )
        .where(
            events.c.kind.in_([k.value for k in OPENS_WORK]),
            events.c.next_kind.in_([k.value for k in ENDS_WORK]),
        )
        .group_by(events.c.task_id)
        .subquery("worked")
    )
    measured = (
        select(done.c.process_id, done.c.operator_id, done.c.planned_minutes, worked.c.seconds)
        .join(worked, worked.c.task_id == done.c.id)
        .where(worked.c.seconds > 0)
        .cte("measured")
    )

    def per(column: Any, group: str) -> Any:
        return (
            select(
                literal(group).label("per"),
                column.label("id"),
                func.count().label("tasks"),
                func.sum(measured.c.planned_minutes).label("planned"),
                func.sum(measured.c.seconds).label("seconds"),
            )
            .where(column.is_not(None))
            .group_by(column)
        )

    found = db.exec(
        union_all(per(measured.c.process_id, "process"), per(measured.c.operator_id, "operator"))
    ).all()

    def row(row_id: int, name: str, tasks: int, planned: Any, seconds: Any) -> dict[str, Any]:
        return {
            "id": row_id,
            "name": name,
            "tasks": int(tasks),
            "standard": round(float(planned or 0)),
            "actual": round(float(seconds or 0) / 60),
        }

    result = StandardActual()
    processes = _names(db, Process, locale)
    operator_ids = sorted(r[1] for r in found if r[0] == "operator")
    people = dict(db.exec(select(User.id, User.display_name).where(User.id.in_(operator_ids))).all())
    for per_what, row_id, tasks, planned, seconds in found:
        if per_what == "process":
            result.processes.append(row(row_id, processes.get(row_id, str(row_id)), tasks, planned, seconds))
        else:
            result.operators.append(row(row_id, people.get(row_id, str(row_id)), tasks, planned, seconds))
    result.processes.sort(key=lambda r: (-r["standard"], r["name"]))
    result.operators.sort(key=lambda r: (-r["standard"], r["name"], r["id"]))
    result.more_operators = max(0, len(result.operators) - MAX_OPERATORS)
    del result.operators[MAX_OPERATORS:]
    return result


# -- e. on time ------------------------------------------------------------------------------------


def _week_label(monday: date, locale: str) -> str:
    babel_locale = normalize_locale(locale).replace("-", "_")
    return format_skeleton("MMMd", monday, locale=babel_locale)


def on_time(db: Session, filters: KpiFilters, locale: str, now: datetime) -> OnTime:
    """On-time rate per week and lateness of the work orders completed in the range (whole shop).

    A work order completes when its last task does; it is on time when that happens on or
    before its delivery date (shop days). Orders without a delivery date are left out. The
    department filter does not apply: a work order belongs to every department of its route.

    Args:
        db: Open session (read only).
        filters: The range applies.
        locale: Labels' locale.
        now: The current time.

    Returns:
        Weeks (Monday first) of the range and the lateness buckets.
    """
    _plan_for_these_values(db)
    zone = shop_zone()
    start, end = _span(filters, zone)
    # An order's tasks completed in the range; its last one is its completion, unless another
    # completed after the range (possible only for a range that ended before now).
    finished = func.max(Task.completed_at)
    per_order = (
        select(Task.work_order_id.label("work_order_id"), finished.label("done_at"))
        .where(Task.completed_at >= _at(start, "start"), Task.completed_at < _at(end, "end"))
        .group_by(Task.work_order_id)
    )
    if end <= now:
        later = aliased(Task, name="later")
        per_order = per_order.having(
            ~exists().where(later.work_order_id == Task.work_order_id, later.completed_at >= _at(end, "end"))
        )
    per_order = per_order.subquery("per_order")
    # The order's delivery date if it is completed, looked up by primary key per order.
    delivery = (
        select(WorkOrder.delivery_date)
        .where(WorkOrder.id == per_order.c.work_order_id, WorkOrder.status == WorkOrderStatus.COMPLETED)
        .scalar_subquery()
    )
    orders = select(
        delivery.label("delivery"), _bucket(db, per_order.c.done_at, start, 3600).label("hour")
    ).subquery("orders")
    # Orders not completed or without a delivery date come back with None and are skipped
    # (filtering in SQL would run the lookup twice).
    statement = select(orders.c.delivery, orders.c.hour, func.count()).group_by(
        orders.c.delivery, orders.c.hour
    )
    result = OnTime()
    first_monday = filters.first_day - timedelta(days=filters.first_day.weekday())
    weeks: dict[date, list[int]] = {}
    monday = first_monday
    while monday <= filters.last_day:
        weeks[monday] = [0, 0]
        monday += timedelta(days=7)
    buckets = dict.fromkeys((name for name, _, _ in LATENESS_BUCKETS), 0)
    for delivery, hour_index, count in db.exec(statement).all():
        if delivery is None:
            continue
        if isinstance(delivery, str):  # SQLite may hand a date back as text in an aggregate
            delivery = date.fromisoformat(delivery)
        done_day = (start + timedelta(hours=int(hour_index))).astimezone(zone).date()
        late_days = (done_day - delivery).days
        week = weeks.setdefault(done_day - timedelta(days=done_day.weekday()), [0, 0])
        week[0 if late_days <= 0 else 1] += count
        result.orders += count
        result.on_time += count if late_days <= 0 else 0
        for name, low, high in LATENESS_BUCKETS:
            if (low is None or late_days >= low) and (high is None or late_days <= high):
                buckets[name] += count
                break
    result.weeks = [
        {
            "week": _week_label(monday, locale),
            "start": monday.isoformat(),
            "on_time": on_time_count,
            "late": late,
            "rate": round(100 * on_time_count / (on_time_count + late), 1) if on_time_count + late else None,
        }
        for monday, (on_time_count, late) in sorted(weeks.items())
    ]
    result.lateness = [
        {"key": name, "name": translate(f"kpi.lateness.{name}", locale), "orders": count}
        for name, count in buckets.items()
    ]
    return result


# -- f. downtime and scrap -----------------------------------------------------------------------


def downtime(db: Session, filters: KpiFilters, locale: str, now: datetime) -> list[dict[str, Any]]:
    """The downtime categories (pause reasons) that cost the most minutes in the range.

    A pause lasts from its ``paused`` event to the task's next event that ends it (resumed,
    completed, unassigned, reassigned, cancelled), or until now while it goes on; time after
    the range's end is not counted. Pauses at shift end are off-shift time, not downtime, and
    are left out; reasons stored before the categories existed count in their category.

    Args:
        db: Open session (read only).
        filters: Range and department.
        locale: Labels' locale.
        now: The current time (for pauses still going on).

    Returns:
        ``{"key", "name", "pauses", "minutes"}`` of the :data:`TOP_N` reasons with most minutes.
    """
    _plan_for_these_values(db)
    start, end = _span(filters, shop_zone())
    cap = min(end, now)
    pause = aliased(TaskEvent, name="pause")
    after = aliased(TaskEvent, name="after")
    ended = (
        select(func.min(after.created_at))
        .where(
            after.task_id == pause.task_id,
            after.created_at > pause.created_at,
            after.kind.in_([k.value for k in ENDS_PAUSE]),
        )
        .scalar_subquery()
    )
    reason = pause.data[PAUSE_REASON_KEY].as_string()
    pauses = select(
        reason.label("reason"),
        pause.created_at.label("paused_at"),
        ended.label("ended_at"),
    ).where(
        pause.kind == TaskEventKind.PAUSED,
        pause.created_at >= _at(start, "start"),
        pause.created_at < _at(end, "end"),
        func.coalesce(reason, "") != PauseReason.SHIFT_END.value,
    )
    if filters.department_id is not None:
        pauses = pauses.where(_of_task(Task.assigned_department_id, pause.task_id) == filters.department_id)
    pauses = pauses.subquery("pauses")
    until = _earliest(db, pauses.c.ended_at, _at(cap, "cap"))
    statement = select(
        pauses.c.reason,
        func.count(),
        func.coalesce(func.sum(_seconds(db, until) - _seconds(db, pauses.c.paused_at)), 0),
    ).group_by(pauses.c.reason)
    merged: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for stored, pauses, seconds in db.exec(statement).all():
        key = (pause_category(stored) or stored) if stored else ""  # older reasons join their category
        merged[key][0] += int(pauses)
        merged[key][1] += max(float(seconds or 0), 0.0)
    rows = [
        {
            "key": key,
            "name": pause_reason_text(key, locale) if key else translate("kpi.no_reason", locale),
            "pauses": pauses,
            "minutes": round(seconds / 60),
        }
        for key, (pauses, seconds) in merged.items()
    ]
    rows.sort(key=lambda row: (-row["minutes"], -row["pauses"], row["name"]))
    return rows[:TOP_N]


def scrap(db: Session, filters: KpiFilters, locale: str, now: datetime) -> list[dict[str, Any]]:
    """The processes and scrap reasons with the most units scrapped in the range.

    Reasons are the process's defect reasons (``defect_reason``, named in the reader's
    locale); reports without one (made before reasons existed) count for the process alone.

    Args:
        db: Open session (read only).
        filters: Range and department.
        locale: Labels' locale.
        now: Unused.

    Returns:
        ``{"id", "name", "process", "reason", "units"}`` of the :data:`TOP_N` largest, most units first;
        ``name`` is the process, with the reason after it when there is one.
    """
    _plan_for_these_values(db)
    start, end = _span(filters, shop_zone())
    units = TaskEvent.data[SCRAP_KEY].as_integer()
    reason_id = TaskEvent.data[SCRAP_REASON_ID_KEY].as_integer().label("reason_id")
    reason_code = TaskEvent.data[SCRAP_REASON_KEY].as_string().label("reason_code")
    process = _of_task(Task.process_id, TaskEvent.task_id).label("process_id")
    statement = (
        select(process, reason_id, reason_code, func.sum(units))
        .where(
            TaskEvent.kind == TaskEventKind.REPORTED,
            TaskEvent.created_at >= _at(start, "start"),
            TaskEvent.created_at < _at(end, "end"),
            units > 0,
            _in_department(_of_task(Task.assigned_department_id, TaskEvent.task_id), filters),
        )
        .group_by(process, reason_id, reason_code)
    )
    found = db.exec(statement).all()
    processes = _names(db, Process, locale)
    reason_ids = sorted({row[1] for row in found if row[1] is not None})
    reasons = {
        row_id: localized_name(name, names, locale)
        for row_id, name, names in db.exec(
            select(DefectReason.id, DefectReason.name, DefectReason.names).where(
                DefectReason.id.in_(reason_ids)
            )
        ).all()
    }
    merged: dict[tuple[int, str], int] = defaultdict(int)
    for process_id, why_id, why_code, total in found:
        merged[(process_id, reasons.get(why_id) or why_code or "")] += int(total or 0)
    rows = []
    for (process_id, why), total in merged.items():
        name = processes.get(process_id, str(process_id))
        rows.append(
            {
                "id": process_id,
                "name": translate("kpi.scrap_with_reason", locale, process=name, reason=why) if why else name,
                "process": name,
                "reason": why,
                "units": total,
            }
        )
    rows.sort(key=lambda row: (-row["units"], row["name"]))
    return rows[:TOP_N]


# -- everything --------------------------------------------------------------------------------------

ChartQuery = Callable[[Session, KpiFilters, str, datetime], Any]

CHARTS: dict[str, ChartQuery] = {
    "throughput": throughput,
    "wip": wip,
    "load": load_capacity,
    "standard_actual": standard_actual,
    "on_time": on_time,
    "downtime": downtime,
    "scrap": scrap,
}
"""Chart → its query (``(db, filters, locale, now) → data``): the benchmark times each one."""


def board(
    db: Session,
    actor: Actor | None,
    filters: KpiFilters | Mapping[str, Any] | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> KpiBoard:
    """Every KPI chart for the filters, labelled in the actor's locale.

    Args:
        db: Open session (read only).
        actor: The acting user (supervisor or admin).
        filters: Validated filters, or raw ones from a client (validated here), or None for
            the default range.
        clock: The current time.

    Returns:
        The charts' data.

    Raises:
        PermissionDeniedError: For anyone but a supervisor or admin.
        ValidationError: For bad filters (see :func:`parse_filters`).
    """
    _plan_for_these_values(db)
    actor = require_supervisor(actor)
    now = clock()
    if not isinstance(filters, KpiFilters):
        filters = parse_filters(db, filters, shop_today(lambda: now))
    locale = actor.locale
    grouped = _open_by_department(db, filters)
    return KpiBoard(
        filters=filters,
        throughput=throughput(db, filters, locale, now),
        wip=_wip_rows(db, filters, locale, grouped),
        load=_load_capacity(db, filters, locale, now, grouped),
        standard_actual=standard_actual(db, filters, locale, now),
        on_time=on_time(db, filters, locale, now),
        downtime=downtime(db, filters, locale, now),
        scrap=scrap(db, filters, locale, now),
    )


# -- tables to download ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiTable:
    """A chart's points as a table: what to query and which columns to write."""

    chart: str
    columns: tuple[exports.ExportColumn, ...]
    rows: Callable[[Any], Iterable[tuple]]


def _text(key: str) -> exports.ExportColumn:
    return exports.ExportColumn(key, "text", width=26)


def _count(key: str) -> exports.ExportColumn:
    return exports.ExportColumn(key, "int", width=14)


TABLES: dict[str, KpiTable] = {
    "throughput": KpiTable(
        "throughput",
        (
            exports.ExportColumn("kpi.column.hour", "text", width=8),
            _count("kpi.column.today_tasks"),
            _count("kpi.column.yesterday_tasks"),
            _count("kpi.column.today_units"),
            _count("kpi.column.yesterday_units"),
        ),
        lambda data: (
            (p["hour"], p["today_tasks"], p["yesterday_tasks"], p["today_units"], p["yesterday_units"])
            for p in data.hours
        ),
    ),
    "wip": KpiTable(
        "wip",
        (_text("kpi.column.department"), *(_count(f"enum.task_status.{s.value}") for s in WIP_STATUSES)),
        lambda rows: ((row["name"], *(row[s.value] for s in WIP_STATUSES)) for row in rows),
    ),
    "load_departments": KpiTable(
        "load",
        (_text("kpi.column.department"), _count("kpi.column.load"), _count("kpi.column.capacity")),
        lambda data: ((row["name"], row["load"], row["capacity"]) for row in data.departments),
    ),
    "load_operators": KpiTable(
        "load",
        (_text("kpi.column.operator"), _count("kpi.column.load"), _count("kpi.column.capacity")),
        lambda data: ((row["name"], row["load"], row["capacity"]) for row in data.operators),
    ),
    "standard_actual": KpiTable(
        "standard_actual",
        (
            _text("kpi.column.process"),
            _count("kpi.column.tasks"),
            _count("kpi.column.standard"),
            _count("kpi.column.actual"),
        ),
        lambda data: ((row["name"], row["tasks"], row["standard"], row["actual"]) for row in data.processes),
    ),
    "standard_actual_operators": KpiTable(
        "standard_actual",
        (
            _text("kpi.column.operator"),
            _count("kpi.column.tasks"),
            _count("kpi.column.standard"),
            _count("kpi.column.actual"),
        ),
        lambda data: ((row["name"], row["tasks"], row["standard"], row["actual"]) for row in data.operators),
    ),
    "on_time": KpiTable(
        "on_time",
        (
            exports.ExportColumn("kpi.column.week", "date", width=12),
            _count("kpi.column.on_time"),
            _count("kpi.column.late"),
            exports.ExportColumn("kpi.column.rate", "float", width=14),
        ),
        lambda data: (
            (date.fromisoformat(w["start"]), w["on_time"], w["late"], w["rate"]) for w in data.weeks
        ),
    ),
    "lateness": KpiTable(
        "on_time",
        (_text("kpi.column.lateness"), _count("kpi.column.orders")),
        lambda data: ((row["name"], row["orders"]) for row in data.lateness),
    ),
    "downtime": KpiTable(
        "downtime",
        (_text("kpi.column.reason"), _count("kpi.column.pauses"), _count("kpi.column.minutes")),
        lambda rows: ((row["name"], row["pauses"], row["minutes"]) for row in rows),
    ),
    "scrap": KpiTable(
        "scrap",
        (_text("kpi.column.process"), _text("kpi.column.scrap_reason"), _count("kpi.column.scrap")),
        lambda rows: ((row["process"], row["reason"], row["units"]) for row in rows),
    ),
}
"""Table name → how it is read; each is downloadable as ``/api/export/kpi_<name>.<csv|xlsx>``."""


def _export_filters(raw: Any) -> dict[str, str]:
    """A page's filters checked for an export (the department's existence is checked at download)."""
    return parse_filters(None, raw, shop_today()).to_json()


def _table_rows(table: KpiTable) -> exports.RowsFunction:
    def rows(db: Session, actor: Actor, args: dict[str, Any], now: datetime) -> Iterator[tuple]:
        actor = require_supervisor(actor)
        filters = parse_filters(db, args, now.astimezone(shop_zone()).date())
        yield from table.rows(CHARTS[table.chart](db, filters, actor.locale, now))

    return rows


for _name, _table in TABLES.items():
    exports.register_source(
        f"kpi_{_name}",
        exports.ExportSource(
            _table.columns,
            f"kpi.sheet.{_name}",
            f"kpi-{_name.replace('_', '-')}",
            _export_filters,
            _table_rows(_table),
        ),
    )
