"""Time and people: shift calendars, eligibility for a task, and work measured in minutes.

Pure and deterministic: the clock is always an argument (``at``, aware datetimes), and
nothing here reads the database or the system time. Services, dispatch and the shop
simulator call the very same functions.

- A :class:`ShiftTemplate` says when a shift runs (local wall-clock start and end on some
  weekdays; an overnight shift ends on the next day). :class:`Closure` days cancel the
  shifts that start on them; :class:`Absence` periods take an operator off work.
- A :class:`WorkCalendar` turns templates, closures and absences into intervals of
  working time and answers "on shift now?", "how long until the shift ends?", "when is
  the next shift?", "how many working minutes between two instants?" and "when are N
  working minutes done?".
- :func:`exclusion_of` says why an operator may not take a task (off shift, not checked
  in where the department requires it, absent, not qualified, at the WIP limit), as an
  :class:`Exclusion` plus data, or None when they may.
- :func:`planned_minutes` and :func:`remaining_minutes` measure a task's work:
  setup + quantity ÷ units per hour × 60, shrinking as good quantity is reported.

Bad input raises :class:`~work_dispatch.domain.errors.ValidationError` with a message key
(``scheduling.error.*``) and parameters.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import cached_property
from typing import Any

from work_dispatch.domain.errors import ValidationError
from work_dispatch.i18n import when

MIN_LEVEL, MAX_LEVEL = 0, 3
"""Qualification levels: 0 = not trained … 3 = expert."""

SEARCH_DAYS = 400
"""How far ahead (in days) a calendar looks for working time before giving up."""

_CHUNK_DAYS = 35


def _require_aware(at: datetime) -> float:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("scheduling needs timezone-aware datetimes")
    return at.timestamp()


def _from_ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def validate_level(level: Any, field_name: str = "level") -> int:
    """A qualification level checked to be an integer from 0 to 3.

    Args:
        level: The value given (anything a client may send).
        field_name: The form field to blame.

    Returns:
        The level as an int.

    Raises:
        ValidationError: If it is not an integer in 0–3.
    """
    if isinstance(level, bool) or not isinstance(level, int) or not MIN_LEVEL <= level <= MAX_LEVEL:
        raise ValidationError(
            "scheduling.error.level_out_of_range",
            field=field_name,
            value=str(level)[:20],
            minimum=MIN_LEVEL,
            maximum=MAX_LEVEL,
        )
    return level


@dataclass(frozen=True)
class ShiftTemplate:
    """A recurring shift: local start and end times on some weekdays.

    Attributes:
        name: What the shift is called ("Early", "Night").
        start: Local wall-clock start.
        end: Local wall-clock end; on the next day when ``overnight``.
        weekdays: Days the shift *starts* on, Monday = 0 … Sunday = 6.
        overnight: The shift crosses midnight (end earlier than start).

    Raises:
        ValidationError: For an end not after the start (unless overnight), an overnight
            shift that does not cross midnight, or weekdays outside 0–6 or none at all.
    """

    name: str
    start: time
    end: time
    weekdays: frozenset[int] = frozenset(range(5))
    overnight: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "weekdays", frozenset(self.weekdays))
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise ValidationError("scheduling.error.weekdays_invalid", field="weekdays")
        if self.overnight:
            if self.end >= self.start:
                raise ValidationError(
                    "scheduling.error.overnight_shift_must_cross_midnight",
                    field="end",
                    start=_hhmm(self.start),
                    end=_hhmm(self.end),
                )
        elif self.end <= self.start:
            raise ValidationError(
                "scheduling.error.shift_ends_before_start",
                field="end",
                start=_hhmm(self.start),
                end=_hhmm(self.end),
            )

    @property
    def minutes(self) -> float:
        """Length of one occurrence in minutes (wall clock, ignoring daylight-saving jumps)."""
        start = self.start.hour * 60 + self.start.minute + self.start.second / 60
        end = self.end.hour * 60 + self.end.minute + self.end.second / 60
        return end - start + (24 * 60 if self.overnight else 0)

    def occurrence(self, day: date, tz: tzinfo) -> tuple[datetime, datetime] | None:
        """The shift that starts on ``day``, as aware datetimes, or None if it does not run that weekday."""
        if day.weekday() not in self.weekdays:
            return None
        start = datetime.combine(day, self.start, tzinfo=tz)
        end_day = day + timedelta(days=1) if self.overnight else day
        return start, datetime.combine(end_day, self.end, tzinfo=tz)


@dataclass(frozen=True)
class Closure:
    """Days the shop (``department_id`` None) or one department does not work.

    A closure cancels every shift that *starts* on one of its days; a night shift that
    began the evening before runs to its end.

    Raises:
        ValidationError: If the last day is before the first.
    """

    first_day: date
    last_day: date
    department_id: int | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValidationError(
                "scheduling.error.closure_ends_before_start",
                field="last_day",
                first=self.first_day.isoformat(),
                last=self.last_day.isoformat(),
            )

    def covers(self, day: date) -> bool:
        """Whether ``day`` is closed."""
        return self.first_day <= day <= self.last_day


@dataclass(frozen=True)
class Absence:
    """An operator away from ``start`` to ``end`` (aware datetimes, end excluded).

    Raises:
        ValidationError: If the absence does not end after it starts.
    """

    operator_id: int
    start: datetime
    end: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        _require_aware(self.start)
        _require_aware(self.end)
        if self.end <= self.start:
            raise ValidationError(
                "scheduling.error.absence_ends_before_start",
                field="end",
                start=self.start.isoformat(),
                end=self.end.isoformat(),
            )


def validate_absences(absences: Iterable[Absence]) -> list[Absence]:
    """Absences sorted by operator and start, refusing overlaps for the same operator.

    Args:
        absences: The absences, for one or several operators.

    Returns:
        The absences sorted by (operator, start).

    Raises:
        ValidationError: If two absences of one operator overlap.
    """
    ordered = sorted(absences, key=lambda a: (a.operator_id, a.start, a.end))
    for previous, current in zip(ordered, ordered[1:], strict=False):
        if previous.operator_id == current.operator_id and current.start < previous.end:
            raise ValidationError(
                "scheduling.error.absences_overlap",
                field="start",
                start=current.start.isoformat(),
                other_start=previous.start.isoformat(),
                other_end=previous.end.isoformat(),
            )
    return ordered


def _merge(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _subtract(intervals: list[tuple[float, float]], holes: list[tuple[float, float]]):
    result: list[tuple[float, float]] = []
    for start, end in intervals:
        pieces = [(start, end)]
        for hole_start, hole_end in holes:
            if hole_end <= start or hole_start >= end:
                continue
            next_pieces = []
            for a, b in pieces:
                if hole_end <= a or hole_start >= b:
                    next_pieces.append((a, b))
                    continue
                if a < hole_start:
                    next_pieces.append((a, hole_start))
                if hole_end < b:
                    next_pieces.append((hole_end, b))
            pieces = next_pieces
        result.extend(pieces)
    return result


class _Timeline:
    """Sorted disjoint intervals (POSIX seconds) with cumulative lengths, for bisection."""

    def __init__(self, intervals: list[tuple[float, float]]) -> None:
        self.starts = [a for a, _ in intervals]
        self.ends = [b for _, b in intervals]
        self.cumulative = [0.0]
        for a, b in intervals:
            self.cumulative.append(self.cumulative[-1] + (b - a))

    def containing(self, ts: float) -> int | None:
        index = bisect.bisect_right(self.starts, ts) - 1
        if index >= 0 and ts < self.ends[index]:
            return index
        return None

    def before(self, ts: float) -> float:
        """Seconds of the timeline before ``ts`` (from the timeline's first interval)."""
        index = bisect.bisect_right(self.starts, ts) - 1
        if index < 0:
            return 0.0
        return self.cumulative[index] + min(ts, self.ends[index]) - self.starts[index]


class WorkCalendar:
    """When one operator (or a department, or the shop) works.

    Working time = shift occurrences (templates, minus shifts starting on closed days),
    merged where they touch, minus absences. Answers are computed from intervals built
    lazily a few weeks at a time and cached, so a dispatch cycle or a simulated week asks
    thousands of questions cheaply.

    Args:
        shifts: The shift templates that apply (an operator's own, or a department's).
        closures: Closures that apply (the shop's and the department's).
        absences: The operator's absences (validated: no overlaps).
        tz: The shop timezone in which shift times are wall-clock times.
        unlimited: No shift limits (a department without shift templates): always on
            shift, except for closures and absences.
    """

    def __init__(
        self,
        shifts: Sequence[ShiftTemplate],
        closures: Sequence[Closure] = (),
        absences: Sequence[Absence] = (),
        tz: tzinfo = UTC,
        *,
        unlimited: bool = False,
    ) -> None:
        self.unlimited = unlimited
        self.shifts = tuple(shifts)
        self.closures = tuple(closures)
        self.absences = tuple(validate_absences(absences))
        self.tz = tz
        self._absence_spans = _merge([(a.start.timestamp(), a.end.timestamp()) for a in self.absences])
        self._first_day: date | None = None
        self._last_day: date | None = None
        self._low = self._high = 0.0
        self._shift_line = _Timeline([])
        self._work_line = _Timeline([])
        self._absence_line = _Timeline(self._absence_spans)

    # -- building --------------------------------------------------------------------------
    def _closed(self, day: date) -> bool:
        return any(closure.covers(day) for closure in self.closures)

    def _ensure(self, ts: float) -> None:
        if self._first_day is not None and self._low + 86400 * 2 < ts < self._high - 86400 * 2:
            return
        day = datetime.fromtimestamp(ts, self.tz).date()
        if self._first_day is not None and self._first_day < day < self._last_day:
            return
        first = day - timedelta(days=_CHUNK_DAYS) if self._first_day is None else self._first_day
        last = day + timedelta(days=_CHUNK_DAYS) if self._last_day is None else self._last_day
        if day <= first:
            first = day - timedelta(days=_CHUNK_DAYS)
        if day >= last:
            last = day + timedelta(days=_CHUNK_DAYS)
        self._build(first, last)

    def _build(self, first: date, last: date) -> None:
        spans: list[tuple[float, float]] = []
        day = first - timedelta(days=1)
        while day <= last:
            if not self._closed(day) and self.unlimited:
                start = datetime.combine(day, time(), tzinfo=self.tz)
                spans.append((start.timestamp(), (start + timedelta(days=1)).timestamp()))
            elif not self._closed(day):
                for shift in self.shifts:
                    occurrence = shift.occurrence(day, self.tz)
                    if occurrence is not None:
                        spans.append((occurrence[0].timestamp(), occurrence[1].timestamp()))
            day += timedelta(days=1)
        # Only times from `first` 00:00 to `last` 24:00 are answered from this build.
        low = datetime.combine(first, time(), tzinfo=self.tz).timestamp()
        high = datetime.combine(last + timedelta(days=1), time(), tzinfo=self.tz).timestamp()
        shifts = [(max(a, low), min(b, high)) for a, b in _merge(spans) if b > low and a < high]
        self._first_day, self._last_day = first, last
        self._low, self._high = low, high
        self._shift_line = _Timeline(shifts)
        self._work_line = _Timeline(_subtract(shifts, self._absence_spans))

    # -- questions about one instant ---------------------------------------------------------
    def is_on_shift(self, at: datetime) -> bool:
        """Whether a shift of this calendar runs at ``at`` (closures applied, absences not)."""
        ts = _require_aware(at)
        self._ensure(ts)
        return self._shift_line.containing(ts) is not None

    def is_absent(self, at: datetime) -> bool:
        """Whether an absence covers ``at``."""
        ts = _require_aware(at)
        return self._absence_line.containing(ts) is not None

    def is_working(self, at: datetime) -> bool:
        """On shift and not absent."""
        ts = _require_aware(at)
        self._ensure(ts)
        return self._work_line.containing(ts) is not None

    def shift_remaining_minutes(self, at: datetime) -> float:
        """Minutes until the shift running at ``at`` ends (0 when off shift).

        Touching shifts (an early shift ending when the late one starts, in a department
        calendar) count as one. An absence does not shorten the shift; see
        :meth:`working_remaining_minutes` for that.
        """
        ts = _require_aware(at)
        self._ensure(ts)
        index = self._shift_line.containing(ts)
        if index is None:
            return 0.0
        end = self._shift_line.ends[index]
        if end >= self._high:  # the shift runs past the built range: look further
            self._build(self._first_day, self._last_day + timedelta(days=_CHUNK_DAYS))
            end = self._shift_line.ends[self._shift_line.containing(ts)]
        return (end - ts) / 60

    def working_remaining_minutes(self, at: datetime) -> float:
        """Minutes of uninterrupted working time left from ``at`` (0 when not working)."""
        ts = _require_aware(at)
        self._ensure(ts)
        index = self._work_line.containing(ts)
        return 0.0 if index is None else (self._work_line.ends[index] - ts) / 60

    def next_shift_start(self, at: datetime) -> datetime | None:
        """When the operator next starts work after ``at``: the first working interval beginning after it.

        Skips closed days and absences; None when there is no work within :data:`SEARCH_DAYS`.
        """
        ts = _require_aware(at)
        self._ensure(ts)
        horizon = ts + SEARCH_DAYS * 86400
        while True:
            index = bisect.bisect_right(self._work_line.starts, ts)
            if index < len(self._work_line.starts):
                return _from_ts(self._work_line.starts[index])
            if self._high >= horizon:
                return None
            self._build(self._first_day, self._last_day + timedelta(days=_CHUNK_DAYS))

    # -- spans of time -----------------------------------------------------------------------
    def working_minutes_between(self, start: datetime, end: datetime) -> float:
        """Working minutes from ``start`` to ``end`` (negative when ``end`` is earlier)."""
        a, b = _require_aware(start), _require_aware(end)
        if b < a:
            return -self.working_minutes_between(end, start)
        self._ensure(a)
        while b >= self._high:
            self._build(self._first_day, self._last_day + timedelta(days=_CHUNK_DAYS))
        return (self._work_line.before(b) - self._work_line.before(a)) / 60

    def add_working_minutes(self, start: datetime, minutes: float) -> datetime | None:
        """The instant at which ``minutes`` of working time from ``start`` are done.

        Args:
            start: When the work could begin.
            minutes: Working minutes needed (≥ 0).

        Returns:
            The finish instant; ``start`` itself for 0 minutes when working; None when the
            calendar has too little working time within :data:`SEARCH_DAYS`.
        """
        ts = _require_aware(start)
        self._ensure(ts)
        horizon = ts + SEARCH_DAYS * 86400
        while True:
            line = self._work_line
            target = line.before(ts) + max(minutes, 0.0) * 60
            if line.starts and line.cumulative[-1] >= target:
                # The interval in which the cumulative working time reaches the target.
                index = max(bisect.bisect_left(line.cumulative, target, 1) - 1, 0)
                finish = line.starts[index] + (target - line.cumulative[index])
                return _from_ts(max(finish, ts))
            if self._high >= horizon:
                return None
            self._build(self._first_day, self._last_day + timedelta(days=_CHUNK_DAYS))

    def working_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The working intervals overlapping ``[start, end)``, clipped to it."""
        a, b = _require_aware(start), _require_aware(end)
        self._ensure(a)
        while b >= self._high:
            self._build(self._first_day, self._last_day + timedelta(days=_CHUNK_DAYS))
        line = self._work_line
        index = max(bisect.bisect_right(line.starts, a) - 1, 0)
        result = []
        while index < len(line.starts) and line.starts[index] < b:
            lo, hi = max(line.starts[index], a), min(line.ends[index], b)
            if hi > lo:
                result.append((_from_ts(lo), _from_ts(hi)))
            index += 1
        return result


# -- eligibility --------------------------------------------------------------------------------


class Exclusion(StrEnum):
    """Why an operator may not take a task, in the order they are checked."""

    ABSENT = "absent"
    OFF_SHIFT = "off_shift"
    NOT_CHECKED_IN = "not_checked_in"
    NOT_QUALIFIED = "not_qualified"
    AT_WIP_LIMIT = "at_wip_limit"


EXCLUSION_KEYS: dict[Exclusion, str] = {
    reason: f"scheduling.exclusion.{reason.value}" for reason in Exclusion
}
"""The message key that says each exclusion reason to a person."""


@dataclass(frozen=True)
class Candidate:
    """An operator as eligibility and the time-aware strategies see them.

    Attributes:
        operator_id: The user id.
        name: Display name (for explanations).
        wip_limit: Most open tasks they may hold.
        open_tasks: Open tasks they hold now (assigned, in progress, paused).
        load_minutes: Remaining planned minutes of those tasks.
        calendar: Their working time.
        checked_in: Whether they are checked in on a tablet now.
        levels: Qualification level per process id (missing = 0).
    """

    operator_id: int
    name: str
    wip_limit: int
    open_tasks: int
    load_minutes: float
    calendar: WorkCalendar
    checked_in: bool = False
    levels: Mapping[int, int] = field(default_factory=dict)

    def level(self, process_id: int) -> int:
        """Their qualification level for a process (0 when none is recorded)."""
        return self.levels.get(process_id, 0)


@dataclass(frozen=True)
class Requirement:
    """What a task asks of whoever takes it.

    Attributes:
        process_id: The task's process.
        min_level: The rule's minimum qualification level (0 = anyone).
        requires_check_in: The department requires operators to be checked in.
    """

    process_id: int
    min_level: int = 0
    requires_check_in: bool = False


@dataclass(frozen=True)
class Excluded:
    """An operator left out of a decision, with the reason and its data."""

    operator_id: int
    name: str
    reason: Exclusion
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Plain data for an explanation: ids, reason code, and the message (key + params).

        Built once per exclusion (a planning pass shares one exclusion among many tasks);
        treat the result as read-only.
        """
        return self._json

    @cached_property
    def _json(self) -> dict[str, Any]:
        key = EXCLUSION_KEYS[self.reason]
        if self.reason is Exclusion.OFF_SHIFT and not self.params.get("next_shift_start"):
            key = "scheduling.exclusion.off_shift_no_next"
        return {
            "operator_id": self.operator_id,
            "name": self.name,
            "reason": self.reason.value,
            "params": dict(self.params),
            "message": {"key": key, "params": {"operator": self.name, **self.params}},
        }


def exclusion_of(
    candidate: Candidate, requirement: Requirement, at: datetime, *, check_wip: bool = True
) -> Excluded | None:
    """Why ``candidate`` may not take a task needing ``requirement`` at ``at``; None if they may.

    Reasons are checked in :class:`Exclusion` order and the first that applies is given.

    Args:
        candidate: The operator.
        requirement: What the task needs.
        at: The decision time.
        check_wip: Also check the WIP limit (a planning pass that tracks open tasks
            itself checks everything else once per pass).

    Returns:
        The exclusion with its data, or None for an eligible operator.
    """
    calendar = candidate.calendar

    def excluded(reason: Exclusion, **params: Any) -> Excluded:
        return Excluded(candidate.operator_id, candidate.name, reason, params)

    if calendar.is_absent(at):
        return excluded(Exclusion.ABSENT)
    if not calendar.is_on_shift(at):
        upcoming = calendar.next_shift_start(at)
        return excluded(
            Exclusion.OFF_SHIFT, next_shift_start=when(upcoming, calendar.tz).to_json() if upcoming else None
        )
    if requirement.requires_check_in and not candidate.checked_in:
        return excluded(Exclusion.NOT_CHECKED_IN)
    level = candidate.level(requirement.process_id)
    if level < requirement.min_level:
        return excluded(Exclusion.NOT_QUALIFIED, level=level, required=requirement.min_level)
    if check_wip and candidate.open_tasks >= candidate.wip_limit:
        return wip_exclusion(candidate)
    return None


def wip_exclusion(candidate: Candidate) -> Excluded | None:
    """The "at WIP limit" exclusion of ``candidate``, or None when they have room."""
    if candidate.open_tasks >= candidate.wip_limit:
        return Excluded(
            candidate.operator_id,
            candidate.name,
            Exclusion.AT_WIP_LIMIT,
            {"open_tasks": candidate.open_tasks, "wip_limit": candidate.wip_limit},
        )
    return None


def split_eligible(
    candidates: Iterable[Candidate], requirement: Requirement, at: datetime
) -> tuple[list[Candidate], list[Excluded]]:
    """Candidates who may take the task, and the others with their reasons, both in input order."""
    eligible: list[Candidate] = []
    excluded: list[Excluded] = []
    for candidate in candidates:
        reason = exclusion_of(candidate, requirement, at)
        if reason is None:
            eligible.append(candidate)
        else:
            excluded.append(reason)
    return eligible, excluded


# -- work in minutes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """How long a process takes: fixed setup plus a run rate.

    Raises:
        ValidationError: For a negative setup or a rate that is not a positive number.
    """

    setup_minutes: float
    units_per_hour: float

    def __post_init__(self) -> None:
        if not _finite(self.setup_minutes) or self.setup_minutes < 0:
            raise ValidationError(
                "scheduling.error.setup_negative", field="setup_minutes", value=str(self.setup_minutes)[:20]
            )
        if not _finite(self.units_per_hour) or self.units_per_hour <= 0:
            raise ValidationError(
                "scheduling.error.rate_not_positive",
                field="units_per_hour",
                value=str(self.units_per_hour)[:20],
            )

    def override(self, setup_minutes: float | None = None, units_per_hour: float | None = None) -> Rate:
        """The rate with a route step's overrides applied (None keeps the process default)."""
        return Rate(
            self.setup_minutes if setup_minutes is None else setup_minutes,
            self.units_per_hour if units_per_hour is None else units_per_hour,
        )


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _quantity(value: Any, field_name: str) -> float:
    if not _finite(value) or value < 0:
        raise ValidationError("scheduling.error.quantity_negative", field=field_name, value=str(value)[:20])
    return float(value)


def planned_minutes(rate: Rate, quantity: float) -> float:
    """Setup + quantity ÷ units per hour × 60.

    Raises:
        ValidationError: For a negative quantity.
    """
    return rate.setup_minutes + _quantity(quantity, "quantity") / rate.units_per_hour * 60


def remaining_minutes(rate: Rate, quantity: float, good_quantity: float = 0) -> float:
    """Planned minutes still to go once ``good_quantity`` has been reported.

    The setup counts until the first good unit is reported; the run shrinks with each
    good unit and is never negative.

    Raises:
        ValidationError: For a negative quantity or good quantity.
    """
    quantity = _quantity(quantity, "quantity")
    good = _quantity(good_quantity, "quantity_completed")
    setup = rate.setup_minutes if good <= 0 else 0.0
    return setup + max(quantity - good, 0.0) / rate.units_per_hour * 60


def load_minutes(remaining: Iterable[float]) -> float:
    """An operator's load: the sum of their open tasks' remaining minutes."""
    return float(sum(remaining))


def remaining_of_plan(planned: float, setup: float, quantity: float, good_quantity: float) -> float:
    """Remaining minutes of a task from its stored plan (the same arithmetic as :func:`remaining_minutes`).

    Args:
        planned: Its planned minutes (setup + run).
        setup: The setup part.
        quantity: Its production quantity.
        good_quantity: Good quantity reported so far.

    Returns:
        Setup until the first good unit, plus the run still to do (never negative).
    """
    run = max(planned - setup, 0.0)
    left = run * max(quantity - good_quantity, 0) / quantity if quantity > 0 else 0.0
    return (setup if good_quantity <= 0 else 0.0) + left
