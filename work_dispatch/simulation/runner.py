"""Runs over a grid of settings and many seeds, in parallel, summarized as means with CIs.

Every policy of a (setting, seed) pair runs on the same scenario (common random numbers),
so differences between policies are differences of dispatch, not of luck.

With handover on, each (setting, seed) also runs the default policy on the same scenario
with transfer batches (:func:`~work_dispatch.simulation.shop.with_transfer_batches`),
taking the domain's ETA of each order at its release; :data:`HANDOVER_METRICS` are
recorded per seed and summarized as ``sim.handover_flow_time_gain``,
``sim.handover_wt_gain`` and ``eta.mae_ratio``.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from work_dispatch.domain.policies import DUE_DATE_PARAMS, DueDateParams
from work_dispatch.simulation.engine import simulate
from work_dispatch.simulation.metrics import (
    METRICS,
    ShopClock,
    eta_errors,
    lower_bounds,
    mean_ci,
    run_metrics,
)
from work_dispatch.simulation.policies import DEFAULT_POLICY, SimPolicy, all_policies
from work_dispatch.simulation.shop import Settings, build_scenario, with_transfer_batches

J = TypeVar("J")
R = TypeVar("R")

GRID_UTILIZATION = (0.85, 0.95)
GRID_DUE_FACTOR = (1.5, 2.0, 4.0)
JSON_METRICS = (
    "weighted_tardiness",
    "pct_tardy",
    "mean_flow_time",
    "makespan",
    "makespan_lower_bound",
    "jain_busy_minutes",
    "violations",
    "idle_with_backlog_minutes",
)
"""The per-policy figures of the JSON output (means over seeds), as the command line promises."""
REFERENCES = ("edd", "atc")
"""The baselines our default is measured against: the better of the two, per setting."""
HANDOVER_METRICS = (
    "flow_whole",
    "flow_batches",
    "wt_whole",
    "wt_batches",
    "eta_mae",
    "eta_bias",
    "violations_batches",
    "unfinished_batches",
    "batched_steps",
    "handover_notices",
    "starved",
)
"""Per seed, default policy: mean flow time and weighted tardiness with every step handed
over whole and with transfer batches; the ETA's mean absolute error and mean signed error
(ETA − completion, negative = too early; transfer batches on);
violations (WIP, skill, shift, absence, overrun, and material used before it was handed
over) and unfinished orders of the transfer-batch run; steps with a batch, "material
available" notices (one per such step when all goes well) and pauses for want of material."""


@dataclass(frozen=True)
class Handover:
    """Whether and how runs model handover: ``batch`` None uses each process's default."""

    batch: int | None = None


@dataclass
class CellResult:
    """Every seed's figures for one setting: policy → metric → values (seed order)."""

    settings: Settings
    values: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    handover: dict[str, list[float]] = field(default_factory=dict)

    def mean(self, policy: str, metric: str) -> float:
        """Mean over seeds."""
        return statistics.fmean(self.values[policy][metric])

    def ci(self, policy: str, metric: str) -> tuple[float, float]:
        """Mean and 95 % CI half-width over seeds."""
        return mean_ci(self.values[policy][metric])

    def paired_difference(
        self, policy: str, other: str, metric: str = "weighted_tardiness"
    ) -> tuple[float, float]:
        """Mean and 95 % CI half-width of ``policy − other``, seed by seed (same scenarios)."""
        pairs = zip(self.values[policy][metric], self.values[other][metric], strict=True)
        return mean_ci([a - b for a, b in pairs])

    def wt_ratio(self, policy: str) -> float:
        """Mean weighted tardiness of ``policy`` ÷ that of the better of EDD and ATC."""
        best = min(self.mean(name, "weighted_tardiness") for name in REFERENCES)
        return self.mean(policy, "weighted_tardiness") / best if best > 0 else float("nan")


def _one(job: tuple[Settings, int, tuple[SimPolicy, ...], tuple[DueDateParams, ...], Handover | None]):
    settings, seed, policies, variants, handover = job
    scenario = build_scenario(seed, settings)
    clock = ShopClock(scenario)
    bounds = lower_bounds(scenario, clock)
    figures: dict[str, dict[str, float]] = {}
    for policy in policies:
        for params in variants if policy.name == "due_date" else (DUE_DATE_PARAMS,):
            name = policy.name if len(variants) == 1 or policy.name != "due_date" else variant_name(params)
            figures[name] = run_metrics(scenario, simulate(scenario, policy, params), clock, bounds)
    extra = _handover(scenario, clock, bounds, figures, variants, handover) if handover else {}
    return settings, seed, figures, extra


def _handover(scenario, clock, bounds, figures, variants, handover: Handover) -> dict[str, float]:
    """The default policy on the same scenario with transfer batches, against it without."""
    policy = all_policies()[DEFAULT_POLICY]
    params = variants[0] if len(variants) == 1 else DUE_DATE_PARAMS
    whole = figures.get(DEFAULT_POLICY) if len(variants) == 1 else None
    if whole is None:
        whole = run_metrics(scenario, simulate(scenario, policy, params), clock, bounds)
    batched = with_transfer_batches(scenario, handover.batch)
    run = simulate(batched, policy, params, eta=True)
    with_batches = run_metrics(batched, run, clock, bounds)
    errors = eta_errors(batched, run, clock)
    return {
        "flow_whole": whole["mean_flow_time"],
        "flow_batches": with_batches["mean_flow_time"],
        "wt_whole": whole["weighted_tardiness"],
        "wt_batches": with_batches["weighted_tardiness"],
        "eta_mae": statistics.fmean(abs(e) for e in errors) if errors else 0.0,
        "eta_bias": statistics.fmean(errors) if errors else 0.0,
        "violations_batches": with_batches["violations"] + run.material_violations,
        "unfinished_batches": with_batches["unfinished_orders"],
        "batched_steps": float(
            sum(step.transfer_batch is not None for order in batched.orders for step in order.steps)
        ),
        "handover_notices": float(run.handover_notices),
        "starved": float(run.starved),
    }


def variant_name(params: DueDateParams) -> str:
    """How a ``due_date`` parameter variant is named in tuning tables."""
    return f"due_date(k={params.k:g},lead={params.lead_factor:g},commit={params.commit_minutes:g})"


def map_jobs(function: Callable[[J], R], jobs: Sequence[J], processes: int | None = None) -> list[R]:
    """``function`` over ``jobs`` on worker processes, results in job order.

    Args:
        function: A module-level function (it runs in forked workers).
        jobs: Its arguments, one per call.
        processes: Worker processes (default: up to 2, never more than the CPUs).

    Returns:
        One result per job, in the order of ``jobs``.
    """
    processes = processes or min(2, os.cpu_count() or 1)
    if processes > 1 and len(jobs) > 1:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            return pool.map(function, jobs, chunksize=1)
    return [function(job) for job in jobs]


def run_grid(
    cells: Sequence[Settings],
    seeds: Iterable[int],
    policies: Sequence[SimPolicy] | None = None,
    params: Sequence[DueDateParams] = (DUE_DATE_PARAMS,),
    processes: int | None = None,
    handover: Handover | None = Handover(),
) -> list[CellResult]:
    """Run every policy on every (setting, seed).

    Args:
        cells: The settings to run.
        seeds: The seeds (the same seeds in every setting).
        policies: The policies (default: all).
        params: ``due_date`` parameter variants; with more than one, ``due_date`` is run
            once per variant and reported under a name showing the parameters.
        processes: Worker processes (default: up to 2, never more than the CPUs).
        handover: Also run the default policy with transfer batches and the ETA (None: don't).

    Returns:
        One result per setting, in the order given.
    """
    policies = tuple(policies or all_policies().values())
    seeds = list(seeds)
    jobs = [(cell, seed, policies, tuple(params), handover) for cell in cells for seed in seeds]
    results = {cell: CellResult(cell) for cell in cells}
    outputs = map_jobs(_one, jobs, processes)
    for settings, _, figures, extra in outputs:  # map keeps the job order: seeds stay in order
        cell = results[settings]
        for name, metrics in figures.items():
            for metric, value in metrics.items():
                cell.values.setdefault(name, {}).setdefault(metric, []).append(value)
        for metric, value in extra.items():
            cell.handover.setdefault(metric, []).append(value)
    return [results[cell] for cell in cells]


def summary(results: Sequence[CellResult], default_policy: str = DEFAULT_POLICY) -> dict[str, Any]:
    """The JSON document: means over seeds (and over settings, at the top level), CIs and ratios.

    Top level: ``default_policy`` and ``policies`` ({name: {metric: mean}}, over every seed
    of every setting), then ``settings`` (per setting: the same with 95 % CIs, and the
    weighted-tardiness ratios to the better of EDD and ATC) and ``ratios``.
    """
    names = list(results[0].values)
    pooled: dict[str, dict[str, float]] = {}
    for name in names:
        pooled[name] = {
            metric: statistics.fmean(v for cell in results for v in cell.values[name][metric])
            for metric in JSON_METRICS
        }
    cells = []
    for cell in results:
        cells.append(
            {
                "utilization": cell.settings.utilization,
                "due_factor": cell.settings.due_factor,
                "days": cell.settings.days,
                "wip_limit": cell.settings.wip_limit,
                "seeds": len(next(iter(cell.values.values()))["weighted_tardiness"]),
                "policies": {
                    name: {
                        metric: {"mean": mean, "ci95": half}
                        for metric in METRICS
                        for mean, half in [cell.ci(name, metric)]
                    }
                    for name in names
                },
                "weighted_tardiness_ratio": {name: cell.wt_ratio(name) for name in names}
                if all(r in names for r in REFERENCES)
                else {},
                "paired_wt_difference": {
                    reference: dict(
                        zip(("mean", "ci95"), cell.paired_difference(default_policy, reference), strict=True)
                    )
                    for reference in REFERENCES
                    if reference in names and default_policy in names
                },
            }
        )
    document: dict[str, Any] = {"default_policy": default_policy, "policies": pooled, "settings": cells}
    if all(r in names for r in REFERENCES) and default_policy in names:
        document["ratios"] = sim_figures(results, default_policy)
    if all(cell.handover for cell in results):
        document["handover"] = handover_summary(results)
    return document


def handover_figures(results: Sequence[CellResult]) -> dict[str, float]:
    """The handover and ETA figures over every seed of every setting (needs handover runs).

    - ``handover_flow_time_gain``: mean work-order flow time with every step handed over
      whole ÷ with transfer batches (same seeds, default policy; above 1 = batches help).
    - ``handover_wt_gain``: the same for weighted tardiness.
    - ``eta_mae_ratio``: mean absolute error of the ETA taken at release ÷ mean flow time
      (transfer batches on).
    """

    def pooled(metric: str) -> float:
        return statistics.fmean(v for cell in results for v in cell.handover[metric])

    def ratio(a: float, b: float) -> float:
        return a / b if b > 0 else float("nan")

    return {
        "handover_flow_time_gain": ratio(pooled("flow_whole"), pooled("flow_batches")),
        "handover_wt_gain": ratio(pooled("wt_whole"), pooled("wt_batches")),
        "eta_mae_ratio": ratio(pooled("eta_mae"), pooled("flow_batches")),
    }


def figure_name(key: str) -> str:
    """The printed name of a figure: ``eta.*`` for the ETA's, ``sim.*`` for the others."""
    return "eta." + key.removeprefix("eta_") if key.startswith("eta_") else f"sim.{key}"


def handover_summary(results: Sequence[CellResult]) -> dict[str, Any]:
    """The JSON section of the handover runs: the figures, then per-setting means with CIs."""
    figures = handover_figures(results)
    return {
        "policy": DEFAULT_POLICY,
        **{figure_name(key): value for key, value in figures.items()},
        "settings": [
            {
                "utilization": cell.settings.utilization,
                "due_factor": cell.settings.due_factor,
                **{
                    metric: dict(zip(("mean", "ci95"), mean_ci(cell.handover[metric]), strict=True))
                    for metric in HANDOVER_METRICS
                },
                "flow_time_gain": statistics.fmean(cell.handover["flow_whole"])
                / max(statistics.fmean(cell.handover["flow_batches"]), 1e-9),
            }
            for cell in results
        ],
    }


def sim_figures(results: Sequence[CellResult], default_policy: str = DEFAULT_POLICY) -> dict[str, float]:
    """The benchmark's ``sim.*`` figures from a grid run.

    - ``weighted_tardiness_ratio``: the default's WT ÷ the better of EDD and ATC, per
      setting, averaged over the settings (``..._max``: the worst setting).
    - ``least_tasks_wt_ratio``: the same for today's ``least_tasks``.
    - ``makespan_over_lb``: the default's mean makespan ÷ mean lower bound at utilization
      0.85 (all settings when none has 0.85).
    - ``jain_busy_minutes``, ``violations``: the default's, means over every run
      (``violations_all``: every policy's violations, summed over the means).
    - With handover runs, :func:`handover_figures` too.
    """
    ratios = [cell.wt_ratio(default_policy) for cell in results]
    least = [cell.wt_ratio("least_tasks") for cell in results if "least_tasks" in cell.values]
    calm = [cell for cell in results if abs(cell.settings.utilization - 0.85) < 1e-9] or list(results)
    makespan = statistics.fmean(
        cell.mean(default_policy, "makespan") / cell.mean(default_policy, "makespan_lower_bound")
        for cell in calm
    )
    return {
        "weighted_tardiness_ratio": statistics.fmean(ratios),
        "weighted_tardiness_ratio_max": max(ratios),
        "least_tasks_wt_ratio": statistics.fmean(least) if least else float("nan"),
        "makespan_over_lb": makespan,
        "jain_busy_minutes": statistics.fmean(
            cell.mean(default_policy, "jain_busy_minutes") for cell in results
        ),
        "violations": sum(cell.mean(default_policy, "violations") for cell in results),
        "violations_all": sum(cell.mean(name, "violations") for cell in results for name in cell.values),
        **(handover_figures(results) if all(cell.handover for cell in results) else {}),
    }
