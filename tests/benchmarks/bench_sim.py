"""Dispatch quality on the shop simulator: our default policy against textbook baselines.

Runs the settings grid (utilization 0.85/0.95 × due factor 1.5/2/4) over seeds 1…N (30 at
full scale) through the real domain code; ``due_date``'s parameters were picked on other
seeds (1001…), so these figures are not tuned to the seeds they are measured on.

At ``SCALE=small`` (10 seeds) the ratios are a smoke test: with loose due dates (factor 4)
the baselines' weighted tardiness is close to zero, so one late rush order on one seed
moves the ratio a lot. Judge dispatch quality on the full scale.
"""

from __future__ import annotations

import statistics

from tests.benchmarks.common import Results, Timer, scaled
from work_dispatch.simulation.policies import DEFAULT_POLICY
from work_dispatch.simulation.runner import GRID_DUE_FACTOR, GRID_UTILIZATION, run_grid, sim_figures
from work_dispatch.simulation.shop import Settings


def run(results: Results, tmp) -> None:
    """Run the grid and report the ``sim.*`` figures."""
    seeds = scaled(30, 10)
    cells = [Settings(u, f) for u in GRID_UTILIZATION for f in GRID_DUE_FACTOR]
    print(f"simulation: {len(cells)} settings × {seeds} seeds, every policy", flush=True)
    with Timer() as timer:
        grid = run_grid(cells, range(1, seeds + 1))
    figures = sim_figures(grid)
    per_setting = ", ".join(
        f"U{c.settings.utilization:g}/F{c.settings.due_factor:g} {c.wt_ratio(DEFAULT_POLICY):.2f}"
        for c in grid
    )
    results.add(
        "sim.weighted_tardiness_ratio",
        figures["weighted_tardiness_ratio"],
        "×",
        f"{DEFAULT_POLICY} WT ÷ better of EDD and ATC, per setting: {per_setting}",
        "≤ 0.9 mean, ≤ 1.0 each",
    )
    least = ", ".join(f"{c.wt_ratio('least_tasks'):.2f}" for c in grid)
    results.add(
        "sim.least_tasks_wt_ratio",
        figures["least_tasks_wt_ratio"],
        "×",
        f"today's count-based least_tasks, same ratio, per setting: {least}",
    )
    results.add(
        "sim.makespan_over_lb",
        figures["makespan_over_lb"],
        "×",
        f"{DEFAULT_POLICY} makespan ÷ lower bound at utilization 0.85",
        "≤ 1.10",
    )
    results.add(
        "sim.jain_busy_minutes",
        figures["jain_busy_minutes"],
        "",
        f"{DEFAULT_POLICY}: busy ÷ available minutes, within each department",
        "≥ 0.9",
    )
    results.add(
        "sim.violations",
        figures["violations_all"],
        "",
        "WIP, skill, shift, absence violations, every policy, mean per run summed over settings",
        "= 0",
    )
    runs = len(cells) * seeds * len(grid[0].values)
    results.add(
        "sim.grid_s",
        timer.seconds,
        "s",
        f"{runs} simulated shop weeks on up to 2 processes "
        f"(mean utilization of {DEFAULT_POLICY}: "
        f"{statistics.fmean(c.mean(DEFAULT_POLICY, 'utilization') for c in grid):.2f})",
        "a few minutes",
    )
