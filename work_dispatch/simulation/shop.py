"""The simulated print shop: departments, processes, routes, people and a week of orders.

Everything is drawn from a seeded random source, so one seed is one reproducible shop
week. The shop itself (headcount, rates, routes) is fixed; a seed draws the operators'
skills and absences, the work orders (arrival times, routes, quantities, priorities, rush
orders) and how long each step really takes.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta

from work_dispatch.domain.enums import Priority
from work_dispatch.domain.errors import ValidationError
from work_dispatch.domain.flow import resolve_transfer_batch
from work_dispatch.domain.scheduling import (
    Absence,
    Rate,
    ShiftTemplate,
    WorkCalendar,
    planned_minutes,
    validate_level,
)

START = datetime(2030, 1, 7, tzinfo=UTC)
"""Monday 00:00 of the simulated week (the shop runs in UTC)."""

EARLY = ShiftTemplate("Early", time(6), time(14))
LATE = ShiftTemplate("Late", time(14), time(22))
SHOP_SHIFTS = (EARLY, LATE)


@dataclass(frozen=True)
class ProcessSpec:
    """A process of the shop: its department, default rate and the rule's minimum level."""

    process_id: int
    code: str
    department_id: int
    rate: Rate
    min_level: int


@dataclass(frozen=True)
class DepartmentSpec:
    """A department: headcount per shift and whether operators must check in."""

    department_id: int
    code: str
    early: int
    late: int
    requires_check_in: bool = False


DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    DepartmentSpec(1, "prepress", 2, 1),
    DepartmentSpec(2, "ctp", 1, 1),
    DepartmentSpec(3, "printing", 3, 3, requires_check_in=True),
    DepartmentSpec(4, "finishing", 3, 3),
    DepartmentSpec(5, "gluing", 1, 1),
    DepartmentSpec(6, "packing", 2, 2),
)

PROCESSES: tuple[ProcessSpec, ...] = (
    ProcessSpec(1, "prepress", 1, Rate(25, 40_000), 1),
    ProcessSpec(2, "ctp", 2, Rate(15, 60_000), 1),
    ProcessSpec(3, "printing", 3, Rate(40, 6_000), 1),
    ProcessSpec(4, "die_cutting", 4, Rate(30, 3_500), 1),
    ProcessSpec(5, "folding", 4, Rate(15, 7_000), 1),
    ProcessSpec(6, "gluing", 5, Rate(15, 7_000), 1),
    ProcessSpec(7, "packing", 6, Rate(10, 8_000), 1),
)
PROCESS = {p.process_id: p for p in PROCESSES}
DEPARTMENT = {d.department_id: d for d in DEPARTMENTS}

TRANSFER_BATCH: dict[int, int | None] = {
    1: None,  # prepress: files are handed over whole
    2: None,  # CTP: every plate is needed before printing
    3: None,  # printing: needs the plates, all of them
    4: 1_000,  # die cutting starts once a pallet of 1,000 printed sheets is off the press
    5: 1_000,  # folding
    6: 1_000,  # gluing
    7: 1_000,  # packing
}
"""Each process's default transfer batch (units), used when a run models handover."""

ROUTES: tuple[tuple[str, float, tuple[int, ...]], ...] = (
    ("folding carton", 0.40, (1, 2, 3, 4, 6, 7)),
    ("leaflet", 0.30, (1, 2, 3, 5, 7)),
    ("label", 0.20, (1, 2, 3, 4, 7)),
    ("poster", 0.10, (1, 2, 3, 7)),
)
"""(product, share of orders, process ids in route order)."""

PRIORITY_MIX = ((Priority.LOW, 0.20), (Priority.NORMAL, 0.55), (Priority.HIGH, 0.20), (Priority.URGENT, 0.05))
QUANTITY_MEDIAN, QUANTITY_SIGMA, QUANTITY_MIN, QUANTITY_MAX = 4_000, 0.8, 200, 20_000
LEVEL_MIX = ((0, 0.1), (1, 0.3), (2, 0.4), (3, 0.2))
"""Qualification levels of operators in a department with several processes."""
RUSH_PER_DAY, RUSH_QUANTITY_MEDIAN = 0.8, 1_500
RUSH_WINDOW = (10 * 60, 14 * 60)
"""Rush orders arrive between 10:00 and 14:00."""
DURATION_SIGMA = 0.3
"""Spread of actual ÷ planned minutes (log-normal, mean 1)."""
ABSENCE_PROBABILITY, ABSENCE_DAYS = 0.2, (1, 2)
OPEN_MINUTES = (6 * 60, 22 * 60)
"""Orders are released while the shop is open."""


@dataclass(frozen=True)
class Settings:
    """One cell of the settings grid, plus the shop's size of run.

    Attributes:
        utilization: Offered load of the busiest department ÷ its capacity.
        due_factor: Due = release + factor × the order's planned minutes (shop working time).
        days: Working days during which orders arrive (from Monday).
        wip_limit: Open tasks an operator may hold.

    Raises:
        ValidationError: For a value out of range.
    """

    utilization: float = 0.85
    due_factor: float = 2.0
    days: int = 5
    wip_limit: int = 2

    def __post_init__(self) -> None:
        _check_range("utilization", self.utilization, 0.05, 1.2)
        _check_range("due_factor", self.due_factor, 1.0, 50.0)
        _check_range("days", self.days, 1, 20, integer=True)
        _check_range("wip_limit", self.wip_limit, 1, 50, integer=True)


def _check_range(name: str, value, low: float, high: float, integer: bool = False) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok and integer:
        ok = float(value).is_integer()
    if not ok or not low <= value <= high:
        raise ValidationError(
            "simulation.error.parameter_out_of_range",
            field=name,
            name=name,
            value=str(value)[:20],
            minimum=low,
            maximum=high,
        )


@dataclass(frozen=True)
class SimOperator:
    """A simulated operator with their shift, skills and absences."""

    operator_id: int
    name: str
    department_id: int
    shift: ShiftTemplate
    levels: dict[int, int]
    absences: tuple[Absence, ...]
    calendar: WorkCalendar = field(compare=False, repr=False)


@dataclass(frozen=True)
class Step:
    """One route step of a work order: planned and real minutes, and its transfer batch.

    ``transfer_batch``: good units the previous step must hand over before this one may
    start (None: the whole quantity, i.e. the previous step must be complete).
    """

    process_id: int
    quantity: int
    planned: float
    actual: float
    transfer_batch: int | None = None


@dataclass(frozen=True)
class Order:
    """A simulated work order."""

    order_id: int
    product: str
    priority: str
    release: float
    due: float
    steps: tuple[Step, ...]
    rush: bool = False

    @property
    def planned_minutes(self) -> float:
        """Planned minutes of the whole route."""
        return sum(step.planned for step in self.steps)

    @property
    def route_minutes(self) -> float:
        """Real minutes of the whole route (the flow-time lower bound)."""
        return sum(step.actual for step in self.steps)


@dataclass
class Scenario:
    """One seeded shop week: operators and orders. Times are minutes from :data:`START`."""

    seed: int
    settings: Settings
    operators: list[SimOperator]
    orders: list[Order]
    shop_calendar: WorkCalendar


def with_transfer_batches(scenario: Scenario, batch: int | None = None) -> Scenario:
    """The same scenario (same orders, people and durations) with transfer batches on.

    Each route step after the first takes its batch through
    :func:`~work_dispatch.domain.flow.resolve_transfer_batch`: ``batch`` (a uniform
    override for every step whose process hands over in batches), else the process's
    :data:`TRANSFER_BATCH` default; a batch at or above the order's quantity is the whole
    quantity.

    Args:
        scenario: The scenario.
        batch: A batch size for every batching step (None: the process defaults).

    Returns:
        A new scenario; ``scenario`` is not changed.
    """
    orders = []
    for order in scenario.orders:
        steps = []
        for index, step in enumerate(order.steps):
            default = TRANSFER_BATCH.get(step.process_id)
            value = None
            if index > 0 and default is not None:
                value = resolve_transfer_batch(batch, None, default, quantity=step.quantity)
            steps.append(replace(step, transfer_batch=value))
        orders.append(replace(order, steps=tuple(steps)))
    return replace(scenario, orders=orders)


def without_transfer_batches(scenario: Scenario) -> Scenario:
    """The same scenario with every step handed over whole (the product before transfer batches)."""
    orders = [
        replace(order, steps=tuple(replace(step, transfer_batch=None) for step in order.steps))
        for order in scenario.orders
    ]
    return replace(scenario, orders=orders)


def lanes() -> dict[int, list[WorkCalendar]]:
    """Each department's lanes for the ETA: one calendar per workstation.

    Workstation ``i`` runs the early shift when the department has more than ``i`` early
    operators, and the late shift likewise; a job left at shift end is carried on by the
    next shift at the same station, as the run does. Absences are not known ahead.
    """
    result: dict[int, list[WorkCalendar]] = {}
    for department in DEPARTMENTS:
        stations = []
        for index in range(max(department.early, department.late)):
            shifts = [
                shift
                for shift, count in ((EARLY, department.early), (LATE, department.late))
                if count > index
            ]
            stations.append(WorkCalendar(shifts))
        result[department.department_id] = stations
    return result


def minute_of(at: datetime) -> float:
    """Minutes from :data:`START`."""
    return (at - START).total_seconds() / 60


def at_minute(minute: float) -> datetime:
    """The instant ``minute`` minutes after :data:`START`."""
    return START + timedelta(minutes=minute)


def _expected_minutes(process: ProcessSpec, quantity_mean: float) -> float:
    return planned_minutes(process.rate, quantity_mean)


def _normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def mean_quantity(median: float) -> float:
    """Mean of the clipped log-normal order quantity with this median."""
    mu, sigma = math.log(median), QUANTITY_SIGMA
    low, high = math.log(QUANTITY_MIN), math.log(QUANTITY_MAX)
    inside = math.exp(mu + sigma**2 / 2) * (
        _normal_cdf((high - mu - sigma**2) / sigma) - _normal_cdf((low - mu - sigma**2) / sigma)
    )
    below = QUANTITY_MIN * _normal_cdf((low - mu) / sigma)
    above = QUANTITY_MAX * (1 - _normal_cdf((high - mu) / sigma))
    return below + inside + above


def offered_minutes_per_order(median: float = QUANTITY_MEDIAN) -> dict[int, float]:
    """Expected planned minutes per order in each department, for orders of this median quantity."""
    quantity = mean_quantity(median)
    load: dict[int, float] = {d.department_id: 0.0 for d in DEPARTMENTS}
    for _, share, route in ROUTES:
        for process_id in route:
            process = PROCESS[process_id]
            load[process.department_id] += share * _expected_minutes(process, quantity)
    return load


def orders_per_day(settings: Settings) -> float:
    """Regular orders per day that load the busiest department to ``settings.utilization``."""
    regular, rush = offered_minutes_per_order(), offered_minutes_per_order(RUSH_QUANTITY_MEDIAN)
    expected_absent = ABSENCE_PROBABILITY * sum(ABSENCE_DAYS) / 2 / max(settings.days, 1)
    rate = math.inf
    for department in DEPARTMENTS:
        capacity = (department.early * EARLY.minutes + department.late * LATE.minutes) * (
            1 - min(expected_absent, 0.5)
        )
        wanted = settings.utilization * capacity - RUSH_PER_DAY * rush[department.department_id]
        rate = min(rate, max(wanted, 0.0) / regular[department.department_id])
    return rate


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: small means only.
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def _weighted(rng: random.Random, pairs):
    roll, total = rng.random(), 0.0
    for value, share in pairs:
        total += share
        if roll < total:
            return value
    return pairs[-1][0]


def _levels(rng: random.Random, department_id: int) -> dict[int, int]:
    processes = [p for p in PROCESSES if p.department_id == department_id]
    if len(processes) == 1:
        return {processes[0].process_id: validate_level(rng.choice((1, 2, 2, 3)))}
    return {p.process_id: validate_level(_weighted(rng, LEVEL_MIX)) for p in processes}


def _operators(rng: random.Random, settings: Settings) -> list[SimOperator]:
    operators: list[SimOperator] = []
    next_id = 1
    for department in DEPARTMENTS:
        for shift, count in ((EARLY, department.early), (LATE, department.late)):
            processes = [p for p in PROCESSES if p.department_id == department.department_id]
            while True:  # every process has a qualified operator on every shift
                crew = [_levels(rng, department.department_id) for _ in range(count)]
                if all(any(levels[p.process_id] >= p.min_level for levels in crew) for p in processes):
                    break
            for levels in crew:
                absences: tuple[Absence, ...] = ()
                if rng.random() < ABSENCE_PROBABILITY:
                    first = rng.randrange(settings.days)
                    length = rng.randint(*ABSENCE_DAYS)
                    absences = (
                        Absence(
                            next_id,
                            START + timedelta(days=first),
                            START + timedelta(days=first + length),
                            "sick",
                        ),
                    )
                operators.append(
                    SimOperator(
                        next_id,
                        f"{department.code}-{shift.name.lower()}-{next_id}",
                        department.department_id,
                        shift,
                        levels,
                        absences,
                        WorkCalendar([shift], absences=absences),
                    )
                )
                next_id += 1
    return operators


def _order(
    rng: random.Random,
    order_id: int,
    release: float,
    priority: str,
    median: float,
    due_factor: float,
    shop: WorkCalendar,
    rush: bool,
) -> Order:
    product, _, route = _weighted(rng, [((name, share, route), share) for name, share, route in ROUTES])
    quantity = min(
        QUANTITY_MAX, max(QUANTITY_MIN, round(median * math.exp(rng.gauss(0.0, QUANTITY_SIGMA)), -2))
    )
    steps = []
    for process_id in route:
        planned = planned_minutes(PROCESS[process_id].rate, quantity)
        noise = math.exp(rng.gauss(-(DURATION_SIGMA**2) / 2, DURATION_SIGMA))
        steps.append(Step(process_id, int(quantity), planned, planned * noise))
    total = sum(step.planned for step in steps)
    due = shop.add_working_minutes(at_minute(release), due_factor * total)
    return Order(order_id, product, priority, release, minute_of(due), tuple(steps), rush)


def build_scenario(seed: int, settings: Settings) -> Scenario:
    """The shop week of ``seed``: operators (skills, absences) and orders (arrivals, routes, durations).

    Regular orders arrive as a Poisson process while the shop is open on the first
    ``settings.days`` weekdays; about :data:`RUSH_PER_DAY` urgent rush orders a day arrive
    mid-day with a tighter due time (half the due factor, at least 1.2).

    Args:
        seed: The seed.
        settings: The grid cell.

    Returns:
        The scenario.
    """
    people = random.Random(seed * 7919 + 1)
    work = random.Random(seed * 7919 + 2)
    shop = WorkCalendar(SHOP_SHIFTS)
    operators = _operators(people, settings)
    per_minute = orders_per_day(settings) / (OPEN_MINUTES[1] - OPEN_MINUTES[0])
    arrivals: list[tuple[float, bool]] = []
    for day in range(settings.days):
        minute = OPEN_MINUTES[0]
        while True:
            minute += work.expovariate(per_minute) if per_minute > 0 else math.inf
            if minute >= OPEN_MINUTES[1]:
                break
            arrivals.append((day * 1440 + minute, False))
        for _ in range(_poisson(work, RUSH_PER_DAY)):
            arrivals.append((day * 1440 + work.uniform(*RUSH_WINDOW), True))
    arrivals.sort()
    orders = []
    for order_id, (release, rush) in enumerate(arrivals, start=1):
        if rush:
            factor = max(1.2, settings.due_factor / 2)
            orders.append(
                _order(work, order_id, release, Priority.URGENT, RUSH_QUANTITY_MEDIAN, factor, shop, True)
            )
        else:
            priority = _weighted(work, PRIORITY_MIX)
            orders.append(
                _order(work, order_id, release, priority, QUANTITY_MEDIAN, settings.due_factor, shop, False)
            )
    return Scenario(seed, settings, operators, orders, shop)
