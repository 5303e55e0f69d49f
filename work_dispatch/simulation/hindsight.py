"""Hindsight: how far re-weighting work orders could take a policy, knowing the whole week.

A dispatching rule decides with what it knows now. Here the search knows everything a
rule cannot: every future arrival, every real duration. It looks for one priority offset
per work order (each task's rank index × e^offset, see ``order_bias`` in
:func:`~work_dispatch.simulation.engine.simulate`) that lowers the policy's simulated
weighted tardiness, with a (1+1) evolution strategy: change the offsets of a few random
orders, run the whole week again through the real dispatch code, keep the change when
the week is no worse. Seeded by the scenario, so a seed always gives the same answer.

What the figure means: every schedule it reports was run by the simulator (shifts,
skills, WIP limits and all), so its weighted tardiness is achievable; no rule that only
re-orders work by priority is likely to get much below it without knowing the future.
It is a ceiling estimate for better rules, not a proof of the optimum (the search is
finite, and it keeps the policy's operator choice and its hand-out-when-free rhythm).
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from work_dispatch.domain.policies import DUE_DATE_PARAMS
from work_dispatch.simulation.engine import INDEX_ORDERS, simulate
from work_dispatch.simulation.metrics import ShopClock, lower_bounds, run_metrics
from work_dispatch.simulation.policies import DEFAULT_POLICY, SimPolicy, all_policies
from work_dispatch.simulation.runner import REFERENCES, map_jobs
from work_dispatch.simulation.shop import Scenario, Settings, build_scenario

MUTATED_SHARE = 0.1
"""Share of the orders whose offset one step changes (at least one)."""
STEP_SIGMA = 1.0
"""Standard deviation of one offset change (an index × e^±1 is a large nudge)."""
MAX_ITERATIONS = 10_000


@dataclass(frozen=True)
class HindsightResult:
    """One scenario's search.

    Attributes:
        start: Mean weighted tardiness per order of the policy as it is.
        best: The same with the best offsets found (≤ ``start``).
        offsets: The best offset per work order (scenario order).
        improvements: How many steps were kept because they lowered the tardiness.
    """

    start: float
    best: float
    offsets: tuple[float, ...]
    improvements: int


def weighted_tardiness(
    scenario: Scenario,
    policy: SimPolicy,
    order_bias: Sequence[float] | None = None,
    clock: ShopClock | None = None,
    bounds: dict[str, float] | None = None,
) -> float:
    """Mean weighted tardiness per order of one simulated week (the metric the grid reports)."""
    result = simulate(scenario, policy, DUE_DATE_PARAMS, order_bias=order_bias)
    return run_metrics(scenario, result, clock, bounds)["weighted_tardiness"]


def search(scenario: Scenario, policy: SimPolicy, iterations: int) -> HindsightResult:
    """Search order offsets that lower ``policy``'s weighted tardiness on ``scenario``.

    Args:
        scenario: The week, fully known to the search.
        policy: An index-ranked policy (:data:`~work_dispatch.simulation.engine.INDEX_ORDERS`).
        iterations: Weeks simulated after the first (each tries one change).

    Returns:
        The start, the best found and its offsets.

    Raises:
        ValueError: For a policy without an index or iterations out of range.
    """
    if policy.order not in INDEX_ORDERS:
        raise ValueError(f"hindsight needs an index-ranked policy, not {policy.name}")
    if not 0 <= iterations <= MAX_ITERATIONS:
        raise ValueError(f"iterations must be within 0..{MAX_ITERATIONS}")
    clock = ShopClock(scenario)
    bounds = lower_bounds(scenario, clock)
    count = len(scenario.orders)
    offsets = [0.0] * count
    start = best = weighted_tardiness(scenario, policy, offsets, clock, bounds)
    rng = random.Random(f"hindsight-{scenario.seed}")
    improvements = 0
    for _ in range(iterations if count else 0):
        trial = list(offsets)
        for index in rng.sample(range(count), max(1, round(count * MUTATED_SHARE))):
            trial[index] += rng.gauss(0.0, STEP_SIGMA)
        value = weighted_tardiness(scenario, policy, trial, clock, bounds)
        if value <= best:  # equal is kept too: a neutral step may open the way to a better one
            improvements += value < best
            best, offsets = value, trial
    return HindsightResult(start, best, tuple(offsets), improvements)


@dataclass
class HindsightCell:
    """One setting: per seed (in seed order), the references', the policy's and hindsight's tardiness."""

    settings: Settings
    values: dict[str, list[float]] = field(default_factory=dict)

    def ratio(self, name: str) -> float:
        """Mean weighted tardiness of ``name`` ÷ that of the better of EDD and ATC."""
        best = min(statistics.fmean(self.values[reference]) for reference in REFERENCES)
        return statistics.fmean(self.values[name]) / best if best > 0 else float("nan")


def _one(job: tuple[Settings, int, str, int]) -> tuple[Settings, dict[str, float]]:
    settings, seed, policy_name, iterations = job
    scenario = build_scenario(seed, settings)
    policies = all_policies()
    clock = ShopClock(scenario)
    bounds = lower_bounds(scenario, clock)
    figures = {name: weighted_tardiness(scenario, policies[name], None, clock, bounds) for name in REFERENCES}
    found = search(scenario, policies[policy_name], iterations)
    figures[policy_name] = found.start
    figures["hindsight"] = found.best
    return settings, figures


def run_hindsight(
    cells: Sequence[Settings],
    seeds: Iterable[int],
    iterations: int,
    policy_name: str = DEFAULT_POLICY,
    processes: int | None = None,
) -> list[HindsightCell]:
    """Search every (setting, seed) and collect the tardiness of the references, the policy and hindsight.

    Args:
        cells: The settings.
        seeds: The seeds (the same in every setting).
        iterations: Search steps per (setting, seed).
        policy_name: The index-ranked policy to re-weight (default: ours).
        processes: Worker processes (default: up to 2, never more than the CPUs).

    Returns:
        One cell per setting, in the order given.
    """
    jobs = [(cell, seed, policy_name, iterations) for cell in cells for seed in seeds]
    outputs = map_jobs(_one, jobs, processes)
    results = {cell: HindsightCell(cell) for cell in cells}
    for settings, figures in outputs:  # map keeps the job order: seeds stay in order
        for name, value in figures.items():
            results[settings].values.setdefault(name, []).append(value)
    return [results[cell] for cell in cells]
