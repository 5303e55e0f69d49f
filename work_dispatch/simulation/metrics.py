"""Figures of one run, their lower bounds, and means with 95 % confidence intervals.

Time figures are in shop working minutes (the shop calendar's open time, 06:00–22:00 on
weekdays), so a night or a weekend between release and completion does not count as
lateness or flow time. Per run:

- ``weighted_tardiness``: mean over work orders of priority weight × minutes late.
- ``pct_tardy``: percentage of work orders finished after their due time.
- ``max_lateness``: largest completion − due (negative when every order is early).
- ``mean_flow_time`` / ``max_flow_time``: completion − release per work order.
- ``makespan``: completion of the last order, from Monday 00:00.
- ``makespan_lower_bound``: max(release + real route minutes of any order, the time by
  which a department's operators could have done all its real minutes at full speed).
- ``flow_lower_bound``: mean real route minutes (flow time can never be shorter).
- ``utilization``: busy ÷ working minutes of all operators until the makespan.
- ``idle_with_backlog_minutes``: minutes operators at work sat idle while a ready task of
  their department that they are qualified for waited (summed over operators).
- ``jain_busy_minutes``: Jain's index of busy minutes per available minute among the
  operators of each department, averaged over departments (1 = perfectly even).
- ``violations``: WIP, skill, shift, absence (and work running past a shift end).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import timedelta

from work_dispatch.domain.policies import PRIORITY_WEIGHT
from work_dispatch.simulation.engine import HORIZON_DAYS, RunResult
from work_dispatch.simulation.shop import PROCESS, START, Scenario, at_minute, minute_of

METRICS = (
    "weighted_tardiness",
    "pct_tardy",
    "max_lateness",
    "mean_flow_time",
    "max_flow_time",
    "makespan",
    "makespan_lower_bound",
    "flow_lower_bound",
    "utilization",
    "idle_with_backlog_minutes",
    "jain_busy_minutes",
    "violations",
    "unfinished_orders",
)


class ShopClock:
    """Shop working minutes since :data:`START`, for any simulated minute (cached)."""

    def __init__(self, scenario: Scenario) -> None:
        self.calendar = scenario.shop_calendar
        self.cache: dict[float, float] = {}

    def __call__(self, minute: float) -> float:
        """Shop working minutes from :data:`START` to ``minute``."""
        value = self.cache.get(minute)
        if value is None:
            value = self.calendar.working_minutes_between(START, at_minute(minute))
            self.cache[minute] = value
        return value


def jain(values: Sequence[float]) -> float:
    """Jain's fairness index: (Σx)² ÷ (n · Σx²); 1 when all equal, 1/n when one takes all."""
    values = list(values)
    squares = sum(v * v for v in values)
    if not values or squares == 0:
        return 1.0
    return sum(values) ** 2 / (len(values) * squares)


def _available(operator, end: float) -> float:
    return sum(
        max(0.0, min(b, end) - a)
        for a, b in zip(operator.work_starts, operator.work_ends, strict=True)
        if a < end
    )


def _capacity_reached(crew, spans, needed: float) -> float:
    """The first minute by which ``crew`` could have worked ``needed`` minutes between them."""
    changes: dict[float, int] = {}
    for operator in crew:
        for a, b in spans[operator.operator_id]:
            changes[minute_of(a)] = changes.get(minute_of(a), 0) + 1
            changes[minute_of(b)] = changes.get(minute_of(b), 0) - 1
    done, at_work, previous = 0.0, 0, 0.0
    for point in sorted(changes):
        if at_work and done + at_work * (point - previous) >= needed:
            return previous + (needed - done) / at_work
        done += at_work * (point - previous)
        at_work += changes[point]
        previous = point
    return math.inf


def _shop_time(clock: ShopClock, minute: float) -> float:
    return clock(minute) if math.isfinite(minute) else math.inf


def lower_bounds(scenario: Scenario, clock: ShopClock) -> dict[str, float]:
    """The cheap lower bounds of a scenario (the same for every policy).

    Returns:
        ``makespan_lower_bound`` (shop working minutes from :data:`START`) and
        ``flow_lower_bound`` (mean real route minutes per order).
    """
    job_bound = max((clock(o.release) + o.route_minutes for o in scenario.orders), default=0.0)
    work: dict[int, float] = {}
    for order in scenario.orders:
        for step in order.steps:
            department_id = PROCESS[step.process_id].department_id
            work[department_id] = work.get(department_id, 0.0) + step.actual
    process_work: dict[int, float] = {}
    for order in scenario.orders:
        for step in order.steps:
            process_work[step.process_id] = process_work.get(step.process_id, 0.0) + step.actual
    horizon = START + timedelta(days=HORIZON_DAYS)
    spans = {op.operator_id: op.calendar.working_intervals(START, horizon) for op in scenario.operators}
    capacity_bound = 0.0
    # Each department's work needs its operators' time; each process's, its qualified operators' time.
    for department_id, needed in work.items():
        crew = [op for op in scenario.operators if op.department_id == department_id]
        capacity_bound = max(capacity_bound, _shop_time(clock, _capacity_reached(crew, spans, needed)))
    for process_id, needed in process_work.items():
        process = PROCESS[process_id]
        crew = [
            op
            for op in scenario.operators
            if op.department_id == process.department_id and op.levels.get(process_id, 0) >= process.min_level
        ]
        capacity_bound = max(capacity_bound, _shop_time(clock, _capacity_reached(crew, spans, needed)))
    return {
        "makespan_lower_bound": max(job_bound, capacity_bound),
        "flow_lower_bound": statistics.fmean(o.route_minutes for o in scenario.orders)
        if scenario.orders
        else 0.0,
    }


def run_metrics(
    scenario: Scenario,
    result: RunResult,
    clock: ShopClock | None = None,
    bounds: dict[str, float] | None = None,
) -> dict[str, float]:
    """The figures of one run (see the module docstring).

    Args:
        scenario: The scenario that was run.
        result: The run.
        clock: A shop clock shared by the runs of the scenario (optional cache).
        bounds: The scenario's :func:`lower_bounds`, when already computed.

    Returns:
        Metric name → value.
    """
    clock = clock or ShopClock(scenario)
    bounds = bounds or lower_bounds(scenario, clock)
    horizon = result.end if result.end > 0 else 0.0
    weighted, tardy, lateness, flows = 0.0, 0, -math.inf, []
    unfinished = 0
    last = 0.0
    for order, completed in zip(scenario.orders, result.completed_at, strict=True):
        if completed is None:
            unfinished += 1
            completed = max(horizon, order.release)
        finish = clock(completed)
        late = finish - clock(order.due)
        lateness = max(lateness, late)
        if late > 1e-6:
            tardy += 1
            weighted += PRIORITY_WEIGHT[order.priority] * late
        flows.append(finish - clock(order.release))
        last = max(last, finish)
    count = max(len(scenario.orders), 1)
    end = result.end
    busy = sum(op.busy for op in result.operators)
    available = sum(_available(op, end) for op in result.operators)
    departments: dict[int, list[float]] = {}
    for op in result.operators:
        share = op.busy / max(_available(op, end), 1e-9)
        departments.setdefault(op.department_id, []).append(share)
    return {
        "weighted_tardiness": weighted / count,
        "pct_tardy": 100.0 * tardy / count,
        "max_lateness": lateness if math.isfinite(lateness) else 0.0,
        "mean_flow_time": statistics.fmean(flows) if flows else 0.0,
        "max_flow_time": max(flows, default=0.0),
        "makespan": last,
        **bounds,
        "utilization": busy / available if available else 0.0,
        "idle_with_backlog_minutes": sum(op.idle_with_backlog for op in result.operators),
        "jain_busy_minutes": statistics.fmean(jain(v) for v in departments.values()) if departments else 1.0,
        "violations": float(sum(result.violations.values())),
        "unfinished_orders": float(unfinished),
    }


def eta_errors(scenario: Scenario, result: RunResult, clock: ShopClock | None = None) -> list[float]:
    """ETA taken at each order's release minus its completion, in shop working minutes.

    Needs a run made with ``eta=True``. An order left unfinished counts as completed at
    the end of the run (as in :func:`run_metrics`); an order with no ETA (no capacity
    within the calendars' horizon) is left out. Negative = the ETA was too early.

    Args:
        scenario: The scenario that was run.
        result: The run.
        clock: A shop clock shared by the runs of the scenario (optional cache).

    Returns:
        One signed error per order with an ETA.
    """
    clock = clock or ShopClock(scenario)
    horizon = result.end if result.end > 0 else 0.0
    errors = []
    for order, eta, completed in zip(
        scenario.orders, result.eta_at_release, result.completed_at, strict=True
    ):
        if eta is None:
            continue
        finish = completed if completed is not None else max(horizon, order.release)
        errors.append(clock(eta) - clock(finish))
    return errors


def eta_mae(scenario: Scenario, result: RunResult, clock: ShopClock | None = None) -> float:
    """Mean absolute :func:`eta_errors` (0 when there is no ETA at all)."""
    errors = eta_errors(scenario, result, clock)
    return statistics.fmean(abs(e) for e in errors) if errors else 0.0


_T_TABLE = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_quantile(df: int) -> float:
    """Two-sided 95 % Student t quantile: a table to 30 degrees of freedom, then Cornish–Fisher."""
    if df <= 0:
        return math.inf
    if df <= len(_T_TABLE):
        return _T_TABLE[df - 1]
    z = 1.959963984540054
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    return z + g1 / df + g2 / df**2 + g3 / df**3


def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """Mean and half-width of its 95 % confidence interval."""
    values = list(values)
    if not values:
        return 0.0, 0.0
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, t_quantile(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
