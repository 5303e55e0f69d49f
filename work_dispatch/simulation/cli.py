"""Command line of the shop simulator: ``python -m work_dispatch.simulation [options]``.

Stable flags: ``--utilization U --due-factor F --seeds N --first-seed S --json PATH``
(``--utilization`` and ``--due-factor`` take one or more values; the default is the grid
0.85, 0.95 × 1.5, 2, 4). Prints a table per setting, writes the JSON and PNG charts.
``--tune`` runs ``due_date`` with a grid of parameters instead, against EDD and ATC.
``--hindsight N`` searches, knowing the whole week, order priorities that lower the default
policy's weighted tardiness (N weeks simulated per seed; see
:mod:`~work_dispatch.simulation.hindsight`) and reports both against EDD and ATC.

Handover: each (setting, seed) also runs the default policy with transfer batches (each
process's default, or ``--transfer-batch N`` for every batching step) and the ETA taken
at release, reported as ``sim.handover_flow_time_gain``, ``sim.handover_wt_gain`` and
``eta.mae_ratio``; ``--no-handover`` skips those runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from work_dispatch.domain.errors import DomainError
from work_dispatch.domain.flow import validate_transfer_batch
from work_dispatch.domain.policies import DUE_DATE_PARAMS, DueDateParams
from work_dispatch.simulation.engine import simulate
from work_dispatch.simulation.hindsight import MAX_ITERATIONS, run_hindsight
from work_dispatch.simulation.metrics import mean_ci
from work_dispatch.simulation.policies import DEFAULT_POLICY, all_policies
from work_dispatch.simulation.runner import (
    GRID_DUE_FACTOR,
    GRID_UTILIZATION,
    REFERENCES,
    CellResult,
    Handover,
    figure_name,
    handover_figures,
    run_grid,
    sim_figures,
    summary,
    variant_name,
)
from work_dispatch.simulation.shop import Settings, build_scenario

TABLE_METRICS = (
    ("weighted_tardiness", "WT", 1),
    ("pct_tardy", "% tardy", 1),
    ("max_lateness", "max late", 0),
    ("mean_flow_time", "flow", 0),
    ("max_flow_time", "max flow", 0),
    ("makespan", "makespan", 0),
    ("utilization", "util", 3),
    ("idle_with_backlog_minutes", "idle+backlog", 0),
    ("jain_busy_minutes", "Jain", 3),
    ("violations", "viol", 0),
)
TUNE_GRID = {
    "k": (0.5, 1.0, 1.5, 2.0, 3.0),
    "lead_factor": (0.0, 0.5, 1.0, 1.5),
    "commit_minutes": (0.0,),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m work_dispatch simulate",
        description="Replay seeded shop weeks through the real dispatch code and compare policies.",
    )
    parser.add_argument("--utilization", type=float, nargs="+", default=list(GRID_UTILIZATION))
    parser.add_argument("--due-factor", type=float, nargs="+", default=list(GRID_DUE_FACTOR))
    parser.add_argument("--seeds", type=int, default=30, help="seeds per setting (default 30)")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="write the summary here")
    parser.add_argument("--days", type=int, default=5, help="days of order arrivals (default 5)")
    parser.add_argument("--wip-limit", type=int, default=2)
    parser.add_argument("--policies", default="", help="comma-separated policy names (default: all)")
    parser.add_argument("--plots", type=Path, default=Path("artifacts/simulation"), help="folder for PNGs")
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--processes", type=int, default=0, help="worker processes (default: up to 2)")
    parser.add_argument("--k", type=float, default=DUE_DATE_PARAMS.k, help="due_date look-ahead k")
    parser.add_argument("--lead-factor", type=float, default=DUE_DATE_PARAMS.lead_factor)
    parser.add_argument("--commit-minutes", type=float, default=DUE_DATE_PARAMS.commit_minutes)
    parser.add_argument("--tune", action="store_true", help="compare due_date parameter variants")
    parser.add_argument(
        "--hindsight",
        type=int,
        default=0,
        metavar="N",
        help="search order priorities knowing the week, N simulated weeks per seed (default: off)",
    )
    parser.add_argument(
        "--handover",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the default policy with transfer batches and measure the ETA (default: on)",
    )
    parser.add_argument(
        "--transfer-batch",
        default=None,
        help="one transfer batch (units) for every batching step (default: each process's own)",
    )
    return parser


def _check(args: argparse.Namespace) -> list[Settings]:
    if not 1 <= args.seeds <= 10_000:
        raise DomainError(
            "simulation.error.parameter_out_of_range",
            name="seeds",
            value=args.seeds,
            minimum=1,
            maximum=10_000,
        )
    if not 0 <= args.first_seed <= 10**9:
        raise DomainError(
            "simulation.error.parameter_out_of_range",
            name="first-seed",
            value=args.first_seed,
            minimum=0,
            maximum=10**9,
        )
    if not 0 <= args.processes <= 64:
        raise DomainError(
            "simulation.error.parameter_out_of_range",
            name="processes",
            value=args.processes,
            minimum=0,
            maximum=64,
        )
    if not 0 <= args.hindsight <= MAX_ITERATIONS:
        raise DomainError(
            "simulation.error.parameter_out_of_range",
            name="hindsight",
            value=args.hindsight,
            minimum=0,
            maximum=MAX_ITERATIONS,
        )
    return [
        Settings(utilization, factor, args.days, args.wip_limit)
        for utilization in args.utilization
        for factor in args.due_factor
    ]


def _policies(args: argparse.Namespace):
    available = all_policies()
    if not args.policies:
        return list(available.values())
    names = [name.strip() for name in args.policies.split(",") if name.strip()]
    unknown = [name for name in names if name not in available]
    if unknown:
        raise DomainError(
            "simulation.error.unknown_policy", name=", ".join(unknown), known=", ".join(available)
        )
    return [available[name] for name in names]


def format_table(cell: CellResult) -> str:
    """A Markdown table of one setting: mean ± 95 % CI per policy and metric."""
    seeds = len(next(iter(cell.values.values()))["weighted_tardiness"])
    header = ["policy", *[label for _, label, _ in TABLE_METRICS], "WT ÷ best(EDD, ATC)"]
    lines = [
        f"utilization {cell.settings.utilization:g}, due factor {cell.settings.due_factor:g}, "
        f"{seeds} seeds (mean ± 95 % CI; times in shop working minutes)",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    with_ratio = all(name in cell.values for name in REFERENCES)
    for name in cell.values:
        row = [f"**{name}**" if name == DEFAULT_POLICY else name]
        for metric, _, digits in TABLE_METRICS:
            mean, half = mean_ci(cell.values[name][metric])
            row.append(f"{mean:,.{digits}f} ± {half:,.{digits}f}")
        row.append(f"{cell.wt_ratio(name):.3f}" if with_ratio else "")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _plots(args, results: list[CellResult], policies) -> list[Path]:
    from work_dispatch.simulation import plots

    args.plots.mkdir(parents=True, exist_ok=True)
    ours = [p.name for p in policies if p.ours]
    paths = [plots.tardiness_chart(results, args.plots / "tardiness_by_policy.png", ours)]
    names = {p.name: p for p in policies}
    policy = names.get(DEFAULT_POLICY) or policies[0]
    scenario = build_scenario(args.first_seed, results[0].settings)
    run = simulate(scenario, policy)
    paths.append(plots.load_chart(scenario, run, args.plots / "load_per_operator.png"))
    paths.append(plots.gantt_chart(scenario, run, 2, args.plots / "gantt_one_day.png"))
    return paths


def _tune(args, cells: list[Settings], seeds: range) -> int:
    variants = [
        DueDateParams(k=k, lead_factor=lead, commit_minutes=commit)
        for k in TUNE_GRID["k"]
        for lead in TUNE_GRID["lead_factor"]
        for commit in TUNE_GRID["commit_minutes"]
    ]
    available = all_policies()
    policies = [available["due_date"], *(available[name] for name in REFERENCES)]
    started = time.perf_counter()
    results = run_grid(cells, seeds, policies, variants, args.processes or None, handover=None)
    print(f"{len(cells)} settings × {len(seeds)} seeds in {time.perf_counter() - started:.0f} s\n")
    header = ["parameters", *[f"U{c.utilization:g}/F{c.due_factor:g}" for c in cells], "mean", "max"]
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    rows = []
    for params in variants:
        name = variant_name(params)
        ratios = [cell.wt_ratio(name) for cell in results]
        rows.append((sum(ratios) / len(ratios), max(ratios), params, ratios))
    for mean, worst, params, ratios in sorted(rows, key=lambda r: r[0]):
        cells_text = " | ".join(f"{r:.3f}" for r in ratios)
        print(f"| {variant_name(params)} | {cells_text} | {mean:.3f} | {worst:.3f} |")
    return 0


def _hindsight(args, cells: list[Settings], seeds: range) -> int:
    started = time.perf_counter()
    results = run_hindsight(cells, seeds, args.hindsight, DEFAULT_POLICY, args.processes or None)
    elapsed = time.perf_counter() - started
    print(
        f"{len(cells)} settings × {len(seeds)} seeds × {args.hindsight} hindsight steps in {elapsed:.0f} s\n"
    )
    reference = " and ".join(name.upper() for name in REFERENCES)
    print(f"Weighted tardiness ÷ the better of {reference}:\n")
    print(f"| setting | {DEFAULT_POLICY} | {DEFAULT_POLICY} with hindsight priorities |\n|---|---:|---:|")
    rows = []
    for cell in results:
        row = {
            "utilization": cell.settings.utilization,
            "due_factor": cell.settings.due_factor,
            "policy_ratio": cell.ratio(DEFAULT_POLICY),
            "hindsight_ratio": cell.ratio("hindsight"),
            "means": {name: sum(values) / len(values) for name, values in cell.values.items()},
        }
        rows.append(row)
        print(
            f"| U{row['utilization']:g}/F{row['due_factor']:g} | {_ratio_text(row['policy_ratio'])} "
            f"| {_ratio_text(row['hindsight_ratio'])} |"
        )
    # A setting where neither reference is ever late has no ratio; the mean is over the others.
    rated = [row for row in rows if math.isfinite(row["policy_ratio"])] or rows
    document = {
        "policy": DEFAULT_POLICY,
        "iterations": args.hindsight,
        "seeds": [seeds.start, seeds.stop - 1],
        "policy_ratio": sum(r["policy_ratio"] for r in rated) / len(rated),
        "hindsight_ratio": sum(r["hindsight_ratio"] for r in rated) / len(rated),
        "settings_rated": len(rated),
        "settings": rows,
        "elapsed_seconds": round(elapsed, 1),
    }
    print(
        f"| mean of {len(rated)} | {document['policy_ratio']:.3f} | {document['hindsight_ratio']:.3f} |\n\n"
        f"sim.hindsight_wt_ratio = {document['hindsight_ratio']:.3f}"
    )
    if args.json:
        _write_json(args.json, {"hindsight": document})
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator from the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        cells = _check(args)
        policies = _policies(args)
        batch = validate_transfer_batch(args.transfer_batch, field_name="transfer-batch")
        params = DueDateParams(
            k=args.k,
            lead_factor=args.lead_factor,
            commit_minutes=args.commit_minutes,
        )
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    if args.tune:
        return _tune(args, cells, seeds)
    if args.hindsight:
        return _hindsight(args, cells, seeds)
    started = time.perf_counter()
    handover = Handover(batch) if args.handover else None
    results = run_grid(cells, seeds, policies, (params,), args.processes or None, handover)
    elapsed = time.perf_counter() - started
    print(f"{len(cells)} settings × {args.seeds} seeds × {len(policies)} policies in {elapsed:.0f} s\n")
    for cell in results:
        print(format_table(cell) + "\n")
    names = set(results[0].values)
    if DEFAULT_POLICY in names and all(name in names for name in REFERENCES):
        for cell in results:
            differences = ", ".join(
                "{} {:+.1f} ± {:.1f}".format(name, *cell.paired_difference(DEFAULT_POLICY, name))
                for name in REFERENCES
            )
            print(
                f"U{cell.settings.utilization:g}/F{cell.settings.due_factor:g}: {DEFAULT_POLICY} WT minus "
                f"(paired by seed, 95 % CI): {differences}"
            )
        figures = sim_figures(results)
        print(f"\nsim figures (default policy: {DEFAULT_POLICY})")
        for key, value in figures.items():
            print(
                f"  {figure_name(key)} = {value:.3f}"
                if math.isfinite(value)
                else f"  {figure_name(key)} = n/a"
            )
    elif handover:
        print(f"\nhandover figures (default policy: {DEFAULT_POLICY})")
        for key, value in handover_figures(results).items():
            print(
                f"  {figure_name(key)} = {value:.3f}"
                if math.isfinite(value)
                else f"  {figure_name(key)} = n/a"
            )
    document = summary(results)
    document["due_date_params"] = dataclasses.asdict(params)
    document["elapsed_seconds"] = round(elapsed, 1)
    if args.json:
        _write_json(args.json, document)
    if not args.no_plots:
        for path in _plots(args, results, policies):
            print(f"wrote {path}")
    return 0


def _write_json(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_finite(document), indent=2, allow_nan=False))
    print(f"\nwrote {path}")


def _ratio_text(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else "n/a (no tardiness under EDD or ATC)"


def _finite(value):
    """JSON has no NaN or infinity: they become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
