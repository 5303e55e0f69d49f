"""Flow production: transfer batches, good / scrap / rework reports, labour time and ETA.

Pure and deterministic: no database, no clock reads (instants are arguments, aware
datetimes). The services and the shop simulator call the very same functions.

**Transfer batches.** A route step may set a *transfer batch*: how many good units its
upstream step (the previous route step) must hand over before the step's tasks may start.
``None`` means the whole quantity: the step waits for its upstream step to complete, as
before transfer batches existed. The rules (ERPNext's "job card" rule, made physical):

- A step's *good* output is the sum of its tasks' good quantity (rework tasks included). In
  this product a task's ``quantity_completed`` is its good quantity and
  ``quantity_defective`` its scrap.
- A step *consumes* its upstream's good output: every unit it reports, good, scrap or sent
  to rework, was one upstream unit. Rework tasks work on units their origin task already
  consumed, so they consume nothing more (:attr:`StepOutput.consumed`).
- **Available to work** = upstream good − consumed (never negative). A report may not use
  more than that: downstream good (and scrap and rework) never exceeds what upstream has
  produced so far (:func:`report_cap`, :func:`validate_report`).
- A downstream task is **startable** once its upstream step is complete, or once the
  material available covers one transfer batch or what the task still needs, whichever is
  less (:func:`startable`). With no transfer batch only completion unlocks it.
- The step's operators are told once, when upstream's good output first reaches the
  handover threshold (:func:`first_handover`); upstream good never decreases, so in a
  serial history exactly one report crosses it (the service's set-once column settles
  concurrent reports).

**Reports.** A report carries good, scrap and rework quantities: the three outcomes of the
units processed since the last report. Scrap and rework each need a reason (from the
process's list when one is given). Rework units go to a rework task on the same process,
linked to its origin; a rework task processes at most the units it was given. Units of a
task's earlier good output can also be sent back to rework (:func:`validate_rework`), at
most what the task produced good and that has not been handed on yet.

**Labour time** comes from task events (:func:`work_intervals`): ``started`` and
``resumed`` open an interval; ``paused`` (shift-end pauses included), ``completed``,
``returned``, ``unassigned``, ``reassigned`` and ``cancelled`` close it. **Rule for an
operator with two tasks in progress at once:** their time is *split equally* between the
tasks running at each moment (:func:`split_concurrent`), so the minutes booked on an
operator's tasks add up to the time they actually worked, never more. Downtime per pause
category comes from paused → resumed gaps (:func:`downtime_minutes`); a shift-end pause is
off-shift time, not downtime.

**ETA** (:func:`estimate`): a list-scheduling estimate of when each open task and work
order finishes, from the remaining planned minutes, each department's queue in dispatch
order and its lanes (one working calendar per operator position), honouring route order
(and transfer batches). A work order is *at risk* when its ETA is after its delivery.

Bad input raises :class:`~work_dispatch.domain.errors.ValidationError` with a message key
(``flow.error.*``) and parameters.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from work_dispatch.domain.errors import ValidationError
from work_dispatch.domain.scheduling import WorkCalendar
from work_dispatch.i18n import msg

MAX_QUANTITY = 100_000_000
"""Largest quantity a report or a batch may name (a typo guard, far above any real order)."""


def _whole(value: Any, field_name: str, label: str) -> int:
    """``value`` as a non-negative int (an integral float is accepted), else a refusal."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_QUANTITY:
        raise ValidationError(
            "flow.error.quantity_invalid", field=field_name, label=msg(label), value=str(value)[:20]
        )
    return value


# -- transfer batches -------------------------------------------------------------------------------


def validate_transfer_batch(
    value: Any, quantity: int | None = None, field_name: str = "transfer_batch"
) -> int | None:
    """A transfer batch checked: empty (whole quantity) or a whole number from 1 to the quantity.

    Args:
        value: What was entered (None or "" for the whole quantity).
        quantity: The step's quantity, when known (a route or process default has none).
        field_name: The form field to blame.

    Returns:
        The batch, or None for the whole quantity.

    Raises:
        ValidationError: For a batch that is not a whole number above zero, or is larger
            than the quantity.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ValidationError(
                "flow.error.batch_not_positive", field=field_name, value=value.strip()[:20]
            ) from None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_QUANTITY:
        raise ValidationError("flow.error.batch_not_positive", field=field_name, value=str(value)[:20])
    if quantity is not None and value > quantity:
        raise ValidationError(
            "flow.error.batch_exceeds_quantity", field=field_name, batch=value, quantity=quantity
        )
    return value


def resolve_transfer_batch(
    step: int | None = None,
    route: int | None = None,
    process: int | None = None,
    quantity: int | None = None,
) -> int | None:
    """The transfer batch a work order's step runs with.

    The step's own value, else its product route step's default, else its process's
    default, else None (the whole quantity). A default larger than the step's quantity
    means the whole quantity.

    Args:
        step: The work order step's value.
        route: The product route step's default.
        process: The process's default.
        quantity: The step's quantity, to clip a default to.

    Returns:
        The batch (1 … quantity), or None for the whole quantity.
    """
    for value in (step, route, process):
        if value is not None and value > 0:
            if quantity is not None and value >= quantity:
                return None
            return int(value)
    return None


@dataclass(frozen=True)
class TaskOutput:
    """What one task of a step has reported so far.

    Attributes:
        task_id: The task.
        quantity: Its production quantity (good units to make; for a rework task, the
            units it was given to rework).
        good: Good units reported (``quantity_completed``).
        scrap: Scrapped units reported (``quantity_defective``).
        rework: Units it sent to rework (to rework tasks on the same process).
        rework_of: For a rework task, the task whose units it reworks.
        closed: Completed or cancelled.
    """

    task_id: int
    quantity: int
    good: int = 0
    scrap: int = 0
    rework: int = 0
    rework_of: int | None = None
    closed: bool = False

    @property
    def is_rework(self) -> bool:
        """Whether this is a rework task."""
        return self.rework_of is not None

    @property
    def processed(self) -> int:
        """Units it has reported on: good + scrap + rework."""
        return self.good + self.scrap + self.rework

    @property
    def remaining(self) -> int:
        """Units still to process.

        A rework task's units not yet reported on; another task's good units still to make
        (units it sent to rework come back through the rework task).
        """
        if self.closed:
            return 0
        if self.is_rework:
            return max(self.quantity - self.processed, 0)
        return max(self.quantity - self.good - self.rework, 0)


@dataclass(frozen=True)
class StepOutput:
    """One route step of a work order with its tasks' reports.

    Attributes:
        sequence: Its position in the route.
        quantity: The step's quantity.
        transfer_batch: Its transfer batch (None: the whole quantity).
        tasks: Its tasks (rework tasks included).
        complete: The step is complete.
    """

    sequence: int
    quantity: int
    transfer_batch: int | None = None
    tasks: tuple[TaskOutput, ...] = ()
    complete: bool = False

    @property
    def good(self) -> int:
        """Good units of the step: every task's good quantity, rework tasks included."""
        return sum(task.good for task in self.tasks)

    @property
    def consumed(self) -> int:
        """Upstream units the step has used: good + scrap + rework of its non-rework tasks."""
        return sum(task.processed for task in self.tasks if not task.is_rework)

    def task(self, task_id: int) -> TaskOutput | None:
        """The task ``task_id`` of this step, if it is one."""
        return next((task for task in self.tasks if task.task_id == task_id), None)


def upstream_of(steps: Iterable[StepOutput], sequence: int) -> StepOutput | None:
    """The step right before ``sequence`` in the route (None for the first step)."""
    before = [step for step in steps if step.sequence < sequence]
    return max(before, key=lambda step: step.sequence) if before else None


def available(upstream_good: int, consumed: int) -> int:
    """Units available to work downstream: upstream good − downstream consumed, never negative.

    Args:
        upstream_good: Good units the upstream step has produced so far (all its tasks).
        consumed: Units the downstream step has reported on (see :attr:`StepOutput.consumed`).

    Returns:
        The units downstream may still use.
    """
    return max(int(upstream_good) - int(consumed), 0)


def startable(
    *, upstream_complete: bool, available: int | None, transfer_batch: int | None, remaining: int
) -> bool:
    """Whether a downstream task may start (or resume) as far as material goes.

    Args:
        upstream_complete: The upstream step is complete (or there is none).
        available: Units available to the step (None: no upstream step, no limit).
        transfer_batch: The step's transfer batch (None: the whole quantity, so only
            completion of the upstream step unlocks it).
        remaining: Units the task still has to process.

    Returns:
        True once upstream is complete, or once the available units cover one transfer
        batch or the task's remaining units, whichever is less.
    """
    if upstream_complete or available is None:
        return True
    if transfer_batch is None:
        return False
    return available >= max(min(transfer_batch, remaining), 1)


def handover_threshold(
    transfer_batch: int | None, quantity: int, remaining: Iterable[int] = ()
) -> int | None:
    """Upstream good units at which a step's material first becomes available.

    Args:
        transfer_batch: The step's transfer batch (None: whole quantity, no early handover).
        quantity: The step's quantity.
        remaining: Remaining units of the step's open tasks (a task needing less than a
            batch may start on less).

    Returns:
        ``min(batch, quantity, smallest remaining)`` (at least 1), or None without a batch.
    """
    if transfer_batch is None:
        return None
    needs = [r for r in remaining if r > 0]
    return max(min(transfer_batch, quantity, *needs), 1)


def first_handover(upstream_good_before: int, upstream_good_after: int, threshold: int | None) -> bool:
    """Whether a report moving upstream good from ``before`` to ``after`` first unlocks the step.

    Upstream good never decreases, so exactly one report of a serial history crosses the
    threshold: notify the step's operators when this is True (and record it, so concurrent
    reports that both believe they crossed it notify once).

    Args:
        upstream_good_before: Upstream good units before the report.
        upstream_good_after: Upstream good units after it.
        threshold: :func:`handover_threshold` (None: the step has no transfer batch).

    Returns:
        True when ``before < threshold <= after``.
    """
    if threshold is None:
        return False
    return upstream_good_before < threshold <= upstream_good_after


def report_cap(upstream: StepOutput | None, step: StepOutput, task: TaskOutput) -> int | None:
    """The most units (good + scrap + rework) a report on ``task`` may carry.

    Args:
        upstream: The upstream step (None: the first step of the route).
        step: The task's step.
        task: The task.

    Returns:
        For a rework task, the units it was given and has not reported on; for a task of
        the first step, None (no limit); otherwise the units available from upstream.
    """
    if task.is_rework:
        return max(task.quantity - task.processed, 0)
    if upstream is None:
        return None
    return available(upstream.good, step.consumed)


@dataclass(frozen=True)
class Handover:
    """What a downstream step's tablet shows: material available, and which tasks may start.

    Attributes:
        available: Units available to the step (None: first step, no limit).
        upstream_good: Upstream good units so far (None: first step).
        threshold: Upstream good at which the step first unlocks (None: no transfer batch).
        startable: Task id → may start (or resume) as far as material goes.
    """

    available: int | None
    upstream_good: int | None
    threshold: int | None
    startable: dict[int, bool]


def handover(upstream: StepOutput | None, step: StepOutput) -> Handover:
    """The handover state of ``step`` given its upstream step.

    Rework tasks have their material in hand and are always startable.

    Args:
        upstream: The upstream step (None: the first step of the route).
        step: The step.

    Returns:
        Availability, threshold and per-task startability.
    """
    open_tasks = [task for task in step.tasks if not task.closed]
    if upstream is None:
        return Handover(None, None, None, {task.task_id: True for task in open_tasks})
    units = available(upstream.good, step.consumed)
    threshold = handover_threshold(
        step.transfer_batch, step.quantity, [t.remaining for t in open_tasks if not t.is_rework]
    )
    return Handover(
        units,
        upstream.good,
        threshold,
        {
            task.task_id: task.is_rework
            or startable(
                upstream_complete=upstream.complete,
                available=units,
                transfer_batch=step.transfer_batch,
                remaining=task.remaining,
            )
            for task in open_tasks
        },
    )


# -- reports ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """A checked report: good, scrap and rework units with the reasons."""

    good: int
    scrap: int
    rework: int
    scrap_reason: str | None = None
    rework_reason: str | None = None

    @property
    def processed(self) -> int:
        """Units the report covers."""
        return self.good + self.scrap + self.rework


def _reason(value: Any, quantity: int, kind: str, allowed: Collection[str] | None) -> str | None:
    if quantity == 0:
        return None
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationError(f"flow.error.{kind}_reason_required", field=f"{kind}_reason")
    if allowed is not None and text not in allowed:
        raise ValidationError("flow.error.reason_unknown", field=f"{kind}_reason", reason=text[:60])
    return text


def validate_report(
    good: Any,
    scrap: Any = 0,
    rework: Any = 0,
    reasons: Mapping[str, Any] | None = None,
    *,
    cap: int | None = None,
    rework_task: bool = False,
    scrap_reasons: Collection[str] | None = None,
    rework_reasons: Collection[str] | None = None,
) -> Report:
    """Check a report before anything changes.

    Args:
        good: Good units since the last report.
        scrap: Scrapped units.
        rework: Units to rework (they go to a rework task on the same process).
        reasons: ``{"scrap": reason, "rework": reason}``; each is required when its
            quantity is above zero.
        cap: :func:`report_cap` (None: no limit).
        rework_task: The report is on a rework task (the cap is then the units it was given).
        scrap_reasons: The process's scrap reasons (None: any non-empty reason).
        rework_reasons: The process's rework reasons (None: any non-empty reason).

    Returns:
        The report.

    Raises:
        ValidationError: For a quantity that is not a whole number ≥ 0, an empty report,
            scrap or rework without a (known) reason, or more units than the cap.
    """
    good = _whole(good, "good", "flow.field.good")
    scrap = _whole(0 if scrap is None else scrap, "scrap", "flow.field.scrap")
    rework = _whole(0 if rework is None else rework, "rework", "flow.field.rework")
    if good + scrap + rework == 0:
        raise ValidationError("flow.error.report_nothing", field="good")
    reasons = reasons or {}
    scrap_reason = _reason(reasons.get("scrap"), scrap, "scrap", scrap_reasons)
    rework_reason = _reason(reasons.get("rework"), rework, "rework", rework_reasons)
    requested = good + scrap + rework
    if cap is not None and requested > cap:
        key = "flow.error.report_exceeds_rework" if rework_task else "flow.error.report_exceeds_available"
        raise ValidationError(key, field="good", cap=cap, requested=requested)
    return Report(good, scrap, rework, scrap_reason, rework_reason)


def rework_cap(task_good: int, downstream_available: int | None = None) -> int:
    """How many of a task's good units may still be sent back to rework.

    Args:
        task_good: The task's good units so far.
        downstream_available: Units of the step's output the next step has not used yet
            (None: last step, nothing handed on).

    Returns:
        The task's good units, but no more than what downstream has not consumed.
    """
    cap = max(int(task_good), 0)
    return cap if downstream_available is None else min(cap, max(int(downstream_available), 0))


def validate_rework(
    quantity: Any, reason: Any, *, produced: int, reasons: Collection[str] | None = None
) -> int:
    """Check sending ``quantity`` of a task's good output back to rework.

    The caller then moves the units from the task's good count to its rework count (so
    what the step consumed does not change) and creates the rework task.

    Args:
        quantity: Units to rework.
        reason: Why (required).
        produced: :func:`rework_cap` of the task.
        reasons: The process's rework reasons (None: any non-empty reason).

    Returns:
        The quantity.

    Raises:
        ValidationError: For a quantity that is not a whole number above zero, more than
            was produced, or no (known) reason.
    """
    quantity = _whole(quantity, "rework", "flow.field.rework")
    if quantity == 0:
        raise ValidationError("flow.error.report_nothing", field="rework")
    if quantity > produced:
        raise ValidationError(
            "flow.error.rework_exceeds_produced", field="rework", rework=quantity, produced=produced
        )
    _reason(reason, quantity, "rework", reasons)
    return quantity


# -- labour time ------------------------------------------------------------------------------------

OPENING_KINDS = frozenset({"started", "resumed"})
"""Task event kinds that start a stretch of work."""
CLOSING_KINDS = frozenset({"paused", "completed", "returned", "unassigned", "reassigned", "cancelled"})
"""Task event kinds that end a stretch of work (a shift-end pause is a ``paused`` event)."""

DOWNTIME_CATEGORIES = ("breakdown", "waiting_for_material", "setup", "break", "quality_hold", "other")
"""Pause categories whose time is downtime."""
SHIFT_END = "shift_end"
"""The pause reason of a shift-end pause: off-shift time, not downtime."""
_LEGACY_CATEGORY = {
    "machine_breakdown": "breakdown",
    "material_shortage": "waiting_for_material",
    "setup_changeover": "setup",
    "quality_check": "quality_hold",
    "waiting_for_approval": "other",
}


@dataclass(frozen=True)
class FlowEvent:
    """A task event as labour time reads it.

    Attributes:
        kind: A :class:`~work_dispatch.domain.enums.TaskEventKind` value.
        at: When (aware).
        data: The event's data (a pause's ``reason`` or ``category``).
        actor_id: Who did it (None: the system, e.g. a shift-end pause).
    """

    kind: str
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)
    actor_id: int | None = None


def _event(value: FlowEvent | Sequence[Any]) -> FlowEvent:
    if isinstance(value, FlowEvent):
        return value
    kind, at, data, *rest = value
    return FlowEvent(str(kind), at, data or {}, rest[0] if rest else None)


def _ordered(events: Iterable[FlowEvent | Sequence[Any]]) -> list[FlowEvent]:
    return sorted((_event(e) for e in events), key=lambda e: e.at)  # stable: same instant keeps order


@dataclass(frozen=True)
class WorkInterval:
    """A stretch of work on one task, and who opened it."""

    start: datetime
    end: datetime
    operator_id: int | None = None

    @property
    def minutes(self) -> float:
        """Its length in minutes."""
        return (self.end - self.start).total_seconds() / 60


def work_intervals(
    events: Iterable[FlowEvent | Sequence[Any]], until: datetime | None = None
) -> list[WorkInterval]:
    """The stretches of work of one task, from its events.

    A second opening event while open is ignored; a closing event while closed is ignored.

    Args:
        events: The task's events (:class:`FlowEvent` or ``(kind, at, data[, actor_id])``).
        until: Close a stretch still open at this instant (None: leave it out).

    Returns:
        The intervals in time order.
    """
    intervals: list[WorkInterval] = []
    opened: FlowEvent | None = None
    for event in _ordered(events):
        kind = str(event.kind)
        if kind in OPENING_KINDS and opened is None:
            opened = event
        elif kind in CLOSING_KINDS and opened is not None:
            if event.at > opened.at:
                intervals.append(WorkInterval(opened.at, event.at, opened.actor_id))
            opened = None
    if opened is not None and until is not None and until > opened.at:
        intervals.append(WorkInterval(opened.at, until, opened.actor_id))
    return intervals


def elapsed_minutes(events: Iterable[FlowEvent | Sequence[Any]], until: datetime | None = None) -> float:
    """Minutes a task was being worked on, from its events (concurrent work not split).

    Args:
        events: The task's events.
        until: Count a stretch still open up to this instant.

    Returns:
        The sum of its work intervals.
    """
    return sum(interval.minutes for interval in work_intervals(events, until))


def split_concurrent(intervals: Mapping[int, Sequence[tuple[datetime, datetime]]]) -> dict[int, float]:
    """One operator's minutes per task, time worked on several tasks at once split equally.

    Sweeps the operator's intervals: each stretch in which ``n`` of their tasks are open
    counts ``1/n`` of its length to each, so the result adds up to the time they worked.

    Args:
        intervals: Task id → that task's work intervals by this operator.

    Returns:
        Task id → minutes (every task given, 0 when it has no time).
    """
    points: list[tuple[datetime, int, int]] = []
    for task_id, spans in intervals.items():
        for start, end in spans:
            if end > start:
                points.append((start, 1, task_id))
                points.append((end, -1, task_id))
    points.sort(key=lambda p: (p[0], p[1]))  # at one instant, closings before openings
    minutes = dict.fromkeys(intervals, 0.0)
    open_count: dict[int, int] = {}
    previous: datetime | None = None
    for at, change, task_id in points:
        if previous is not None and open_count and at > previous:
            share = (at - previous).total_seconds() / 60 / len(open_count)
            for running in open_count:
                minutes[running] += share
        count = open_count.get(task_id, 0) + change
        if count > 0:
            open_count[task_id] = count
        else:
            open_count.pop(task_id, None)
        previous = at
    return minutes


@dataclass(frozen=True)
class Labour:
    """Labour minutes (concurrent work split equally), by task, by operator and by both."""

    by_task: dict[int, float]
    by_operator: dict[int | None, float]
    by_task_operator: dict[tuple[int, int | None], float]


def labour_minutes(
    events_by_task: Mapping[int, Iterable[FlowEvent | Sequence[Any]]], until: datetime | None = None
) -> Labour:
    """Labour time of tasks from their events, split where an operator ran several at once.

    Each work interval belongs to the operator whose event opened it (a task started by
    one operator and resumed by another books each stretch to its own operator).

    Args:
        events_by_task: Task id → its events. To split concurrent work correctly, give
            every task each operator worked on in the period.
        until: Count stretches still open up to this instant.

    Returns:
        Minutes by task, by operator and by (task, operator).
    """
    per_operator: dict[int | None, dict[int, list[tuple[datetime, datetime]]]] = {}
    for task_id, events in events_by_task.items():
        for interval in work_intervals(events, until):
            spans = per_operator.setdefault(interval.operator_id, {}).setdefault(task_id, [])
            spans.append((interval.start, interval.end))
    by_task: dict[int, float] = dict.fromkeys(events_by_task, 0.0)
    by_operator: dict[int | None, float] = {}
    by_both: dict[tuple[int, int | None], float] = {}
    for operator_id, tasks in per_operator.items():
        if operator_id is None:  # nobody to share with: count as worked
            split = {task_id: sum((b - a).total_seconds() / 60 for a, b in s) for task_id, s in tasks.items()}
        else:
            split = split_concurrent(tasks)
        for task_id, value in split.items():
            by_task[task_id] += value
            by_operator[operator_id] = by_operator.get(operator_id, 0.0) + value
            by_both[(task_id, operator_id)] = value
    return Labour(by_task, by_operator, by_both)


def pause_category(reason: Any) -> str | None:
    """The downtime category of a pause reason (None: a shift-end pause, not downtime).

    Args:
        reason: A category (:data:`DOWNTIME_CATEGORIES`), a
            :class:`~work_dispatch.domain.enums.PauseReason` value, or free text.

    Returns:
        The category; free text and unknown values are ``other``.
    """
    text = str(reason or "").strip()
    if text == SHIFT_END:
        return None
    if text in DOWNTIME_CATEGORIES:
        return text
    return _LEGACY_CATEGORY.get(text, "other")


def downtime_minutes(
    events: Iterable[FlowEvent | Sequence[Any]],
    until: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> dict[str, float]:
    """Minutes a task stood paused, per downtime category.

    A pause runs from a ``paused`` event to the next ``resumed`` (or another event that
    takes the task out of the pause: completed, unassigned, reassigned, returned,
    cancelled). Its category is the event's ``category``, else :func:`pause_category` of
    its ``reason``; shift-end pauses are not downtime.

    Args:
        events: The task's events.
        until: Count a pause still open up to this instant.
        calendar: Count only working time of this calendar (None: wall-clock minutes), so a
            breakdown left over the night is not ten hours of downtime.

    Returns:
        Category → minutes, only categories with time.
    """
    totals: dict[str, float] = {}

    def add(category: str | None, start: datetime, end: datetime) -> None:
        if category is None or end <= start:
            return
        if calendar is None:
            span = (end - start).total_seconds() / 60
        else:
            span = calendar.working_minutes_between(start, end)
        if span > 0:
            totals[category] = totals.get(category, 0.0) + span

    paused: tuple[str | None, datetime] | None = None
    for event in _ordered(events):
        kind = str(event.kind)
        if kind == "paused" and paused is None:
            data = event.data or {}
            category = data.get("category")
            paused = (
                category if category in DOWNTIME_CATEGORIES else pause_category(data.get("reason")),
                event.at,
            )
        elif paused is not None and (kind in OPENING_KINDS or kind in CLOSING_KINDS):
            add(paused[0], paused[1], event.at)
            paused = None
    if paused is not None and until is not None:
        add(paused[0], paused[1], until)
    return totals


# -- ETA --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EtaTask:
    """An open task as the ETA sees it.

    Attributes:
        task_id: The task.
        work_order_id: Its work order.
        sequence: Its route step's sequence.
        department_id: The department that will do it.
        minutes: Remaining planned minutes.
        units: Remaining units (0: unknown; batches then wait for the whole upstream step).
        setup_minutes: The part of ``minutes`` that is setup (0 once work has begun).
        rank: Its position in the department's dispatch order (lower goes first).
        in_progress: Being worked on now (it holds a lane from now on).
        transfer_batch: Units its step needs from upstream before starting (None: the
            whole quantity, i.e. upstream must finish).
        available_units: Units upstream has handed over that it has not used yet.
        after_upstream: Waits for the previous route step (False for rework tasks, whose
            material is in hand).
    """

    task_id: int
    work_order_id: int
    sequence: int
    department_id: int
    minutes: float
    units: int = 0
    setup_minutes: float = 0.0
    rank: Any = 0
    in_progress: bool = False
    transfer_batch: int | None = None
    available_units: int = 0
    after_upstream: bool = True

    @property
    def unit_minutes(self) -> float | None:
        """Run minutes per unit (None when units are unknown)."""
        if self.units <= 0:
            return None
        return max(self.minutes - self.setup_minutes, 0.0) / self.units


@dataclass(frozen=True)
class TaskEta:
    """When a task is expected to start and finish (None: not within the calendars' horizon)."""

    task_id: int
    work_order_id: int
    start: datetime | None
    finish: datetime | None


@dataclass(frozen=True)
class OrderEta:
    """When a work order is expected to finish, against its due time."""

    work_order_id: int
    finish: datetime | None
    due: datetime | None
    at_risk: bool


@dataclass(frozen=True)
class Eta:
    """ETAs of open tasks and of the work orders they belong to."""

    tasks: dict[int, TaskEta]
    orders: dict[int, OrderEta]


def department_lanes(calendar: WorkCalendar, operators: int) -> list[WorkCalendar]:
    """Lanes of a department whose ``operators`` all work ``calendar``: N lanes, N-parallel."""
    return [calendar] * max(int(operators), 0)


@dataclass
class _Lane:
    calendar: WorkCalendar
    free_at: datetime
    index: int
    opens_at: datetime | None = None  # the first working instant from free_at (None: never)

    def free(self, at: datetime) -> None:
        self.free_at = at
        if self.calendar.is_working(at):
            self.opens_at = at
        else:
            self.opens_at = self.calendar.next_shift_start(at)


@dataclass
class _Placed:
    task: EtaTask
    start: datetime | None
    work_end: datetime | None
    finish: datetime | None
    lane: _Lane | None


def estimate(
    tasks: Iterable[EtaTask],
    lanes: Mapping[int, Sequence[WorkCalendar]],
    at: datetime,
    due: Mapping[int, datetime | None] | None = None,
) -> Eta:
    """Estimated completion of every open task and work order (list scheduling).

    Each department works its queue with its lanes in parallel: whenever a lane frees up
    it takes the first task of the queue (in-progress tasks first, then ``rank``) whose
    material is ready, or, when none is, the task ready soonest; a task takes its
    remaining minutes of the lane's working time. Route order is honoured: a task waits
    for its previous route step to finish, or, with a transfer batch, until upstream has
    produced one batch (counting units already handed over), and then finishes no earlier
    than the upstream step's ETA plus the minutes of its own last batch.

    Args:
        tasks: The open tasks (of every work order, so that queues are complete).
        lanes: Department id → one working calendar per operator position (see
            :func:`department_lanes`); a department without lanes gets no ETA.
        at: Now.
        due: Work order id → when it is due (delivery), for the at-risk flag.

    Returns:
        Per task and per work order: the ETA, and for work orders whether it is after due.
    """
    due = due or {}
    tasks = list(tasks)
    placed: dict[int, _Placed] = {}
    by_step: dict[tuple[int, int], list[EtaTask]] = {}
    for task in tasks:
        by_step.setdefault((task.work_order_id, task.sequence), []).append(task)
    sequences: dict[int, list[int]] = {}
    for work_order_id, sequence in by_step:
        sequences.setdefault(work_order_id, []).append(sequence)
    for values in sequences.values():
        values.sort()

    def upstream(task: EtaTask) -> list[EtaTask]:
        if not task.after_upstream:
            return []
        values = sequences[task.work_order_id]
        index = bisect.bisect_left(values, task.sequence)
        return by_step[(task.work_order_id, values[index - 1])] if index > 0 else []

    waiting_on: dict[tuple[int, int], list[EtaTask]] = {}
    queues: dict[int, list[EtaTask]] = {}
    for task in tasks:
        ups = upstream(task)
        if ups:
            waiting_on.setdefault((task.work_order_id, ups[0].sequence), []).append(task)
        queues.setdefault(task.department_id, []).append(task)
    position: dict[int, int] = {}
    for queue in queues.values():
        queue.sort(key=lambda t: (not t.in_progress, t.rank, t.task_id))
        for index, task in enumerate(queue):
            position[task.task_id] = index
    lane_sets: dict[int, list[_Lane]] = {}
    for department_id in queues:
        pool = [_Lane(calendar, at, i) for i, calendar in enumerate(lanes.get(department_id, ()))]
        for lane in pool:
            lane.free(at)
        lane_sets[department_id] = [lane for lane in pool if lane.opens_at is not None]
    ready: dict[int, datetime | None] = {}
    known: dict[int, list[tuple[int, EtaTask]]] = {d: [] for d in queues}  # queue position order

    def make_known(task: EtaTask, when: datetime | None) -> None:
        ready[task.task_id] = when
        if when is None:
            placed[task.task_id] = _Placed(task, None, None, None, None)
            done_step(task)
            return
        bisect.insort(known[task.department_id], (position[task.task_id], task), key=lambda p: p[0])

    def step_placed(work_order_id: int, sequence: int) -> list[_Placed] | None:
        group = by_step[(work_order_id, sequence)]
        if all(t.task_id in placed for t in group):
            return [placed[t.task_id] for t in group]
        return None

    def done_step(task: EtaTask) -> None:
        ups = step_placed(task.work_order_id, task.sequence)
        if ups is None:
            return
        for follower in waiting_on.pop((task.work_order_id, task.sequence), []):
            make_known(follower, _ready_after(follower, ups, at))

    for task in tasks:
        if not upstream(task):
            make_known(task, at)

    while True:
        for department_id, candidates in known.items():
            if candidates and not lane_sets[department_id]:  # nobody to do it: no ETA
                for _, task in list(candidates):
                    candidates.remove((position[task.task_id], task))
                    placed[task.task_id] = _Placed(task, None, None, None, None)
                    done_step(task)
        best: tuple[datetime, int, int, _Lane, EtaTask] | None = None
        for department_id, candidates in known.items():
            if not candidates or not lane_sets[department_id]:
                continue
            lane = min(lane_sets[department_id], key=lambda lane: (lane.opens_at, lane.index))
            choice = next(((p, t) for p, t in candidates if ready[t.task_id] <= lane.opens_at), None)
            if choice is None:
                choice = min(candidates, key=lambda pt: (ready[pt[1].task_id], pt[0]))
            start = max(lane.opens_at, ready[choice[1].task_id])
            if best is None or (start, department_id, choice[0]) < best[:3]:
                best = (start, department_id, choice[0], lane, choice[1])
        if best is None:
            break
        start, department_id, pos, lane, task = best
        known[department_id].remove((pos, task))
        work_end = lane.calendar.add_working_minutes(start, max(task.minutes, 0.0))
        finish = work_end
        ups = upstream(task)
        if finish is not None and ups and task.transfer_batch is not None:
            up_finish = _latest([placed[u.task_id].finish for u in ups])
            unit = task.unit_minutes
            tail = unit * min(task.transfer_batch, task.units) if unit is not None else 0.0
            after = None if up_finish is None else lane.calendar.add_working_minutes(up_finish, tail)
            finish = None if after is None else max(finish, after)
        if work_end is not None:
            lane.free(work_end)
        if work_end is None or lane.opens_at is None:  # no working time left: it takes nothing more
            lane_sets[department_id].remove(lane)
        placed[task.task_id] = _Placed(task, start, work_end, finish, lane)
        done_step(task)
    for task in tasks:
        if task.task_id not in placed:  # upstream never placed (no lanes, no horizon)
            placed[task.task_id] = _Placed(task, None, None, None, None)
    task_etas = {
        task_id: TaskEta(task_id, p.task.work_order_id, p.start, p.finish) for task_id, p in placed.items()
    }
    finishes: dict[int, list[datetime | None]] = {}
    for task_eta in task_etas.values():
        finishes.setdefault(task_eta.work_order_id, []).append(task_eta.finish)
    orders: dict[int, OrderEta] = {}
    for work_order_id in sequences:
        finish = _latest(finishes[work_order_id])
        deadline = due.get(work_order_id)
        at_risk = deadline is not None and (finish is None or finish > deadline)
        orders[work_order_id] = OrderEta(work_order_id, finish, deadline, at_risk)
    return Eta(task_etas, orders)


def _latest(values: Iterable[datetime | None]) -> datetime | None:
    values = list(values)
    if any(v is None for v in values):
        return None
    return max(values) if values else None


def _ready_after(task: EtaTask, ups: list[_Placed], at: datetime) -> datetime | None:
    """When ``task`` may start, given its upstream step's placed tasks."""
    step_finish = _latest([p.finish for p in ups])
    if task.transfer_batch is None:
        return step_finish
    need = min(task.transfer_batch, task.units or task.transfer_batch) - max(task.available_units, 0)
    if need <= 0:
        return at
    times: list[datetime] = []
    for p in ups:
        unit = p.task.unit_minutes
        if p.start is None or p.lane is None or unit is None or p.task.units < need:
            continue
        produced = p.lane.calendar.add_working_minutes(p.start, p.task.setup_minutes + need * unit)
        if produced is not None:
            times.append(produced)
    if times:
        return min(times)
    return step_finish
