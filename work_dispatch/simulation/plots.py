"""PNG charts of a simulator run (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from work_dispatch.domain.enums import Priority
from work_dispatch.simulation.engine import RunResult
from work_dispatch.simulation.policies import DEFAULT_POLICY
from work_dispatch.simulation.runner import CellResult
from work_dispatch.simulation.shop import DEPARTMENT, Scenario

_PRIORITY_COLOURS = {
    Priority.LOW: "#9ecae1",
    Priority.NORMAL: "#4292c6",
    Priority.HIGH: "#fd8d3c",
    Priority.URGENT: "#d7301f",
}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def tardiness_chart(results: Sequence[CellResult], path: Path, ours: Sequence[str] = ()) -> Path:
    """Mean weighted tardiness per policy with 95 % CIs, one panel per setting."""
    plt = _pyplot()
    columns = min(3, len(results))
    rows = (len(results) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(5.2 * columns, 4.2 * rows), squeeze=False)
    for index, cell in enumerate(results):
        axis = axes[index // columns][index % columns]
        names = list(cell.values)
        means, halves = zip(*(cell.ci(name, "weighted_tardiness") for name in names), strict=True)
        colours = [
            "#d7301f" if name == DEFAULT_POLICY else "#4292c6" if name in ours else "#969696"
            for name in names
        ]
        axis.barh(range(len(names)), means, xerr=halves, color=colours, capsize=3)
        axis.set_yticks(range(len(names)), names, fontsize=8)
        axis.invert_yaxis()
        axis.set_title(f"utilization {cell.settings.utilization:g}, due factor {cell.settings.due_factor:g}")
        axis.set_xlabel("weighted tardiness per order (weighted working minutes)")
    for index in range(len(results), rows * columns):
        axes[index // columns][index % columns].axis("off")
    seeds = len(next(iter(results[0].values.values()))["weighted_tardiness"])
    figure.suptitle(f"Weighted tardiness by policy, mean ± 95 % CI over {seeds} seeds (red: default)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def load_chart(scenario: Scenario, run: RunResult, path: Path) -> Path:
    """Busy and available minutes per operator in one run, grouped by department."""
    plt = _pyplot()
    operators = sorted(run.operators, key=lambda op: (op.department_id, op.operator_id))
    available = [
        sum(
            max(0.0, min(b, run.end) - a)
            for a, b in zip(op.work_starts, op.work_ends, strict=True)
            if a < run.end
        )
        for op in operators
    ]
    figure, axis = plt.subplots(figsize=(11, 4.5))
    positions = range(len(operators))
    axis.bar(positions, [a / 60 for a in available], color="#deebf7", label="at work (h)")
    axis.bar(positions, [op.busy / 60 for op in operators], color="#2171b5", label="busy (h)")
    axis.set_xticks(list(positions), [op.name for op in operators], rotation=70, fontsize=7)
    axis.set_ylabel("hours")
    axis.set_title(
        f"Load per operator: {run.policy}, seed {scenario.seed}, utilization "
        f"{scenario.settings.utilization:g}, due factor {scenario.settings.due_factor:g}"
    )
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def gantt_chart(scenario: Scenario, run: RunResult, day: int, path: Path) -> Path:
    """Who worked on what during one shop day (06:00–22:00), coloured by priority."""
    plt = _pyplot()
    start, end = day * 1440 + 6 * 60, day * 1440 + 22 * 60
    operators = sorted(run.operators, key=lambda op: (op.department_id, op.operator_id))
    figure, axis = plt.subplots(figsize=(12, 0.32 * len(operators) + 1.5))
    for row, op in enumerate(operators):
        for a, b in zip(op.work_starts, op.work_ends, strict=True):
            if a < end and b > start:
                left, right = max(a, start), min(b, end)
                axis.barh(
                    row, (right - left) / 60, left=(left - day * 1440) / 60, color="#f0f0f0", height=0.9
                )
        for a, b, task_id in op.intervals:
            if b <= start or a >= end:
                continue
            task = run.tasks[task_id - 1]
            left, right = max(a, start), min(b, end)
            axis.barh(
                row,
                (right - left) / 60,
                left=(left - day * 1440) / 60,
                color=_PRIORITY_COLOURS.get(task.priority, "#888888"),
                edgecolor="white",
                linewidth=0.5,
            )
    axis.set_yticks(range(len(operators)), [op.name for op in operators], fontsize=7)
    axis.invert_yaxis()
    axis.set_xlim(6, 22)
    axis.set_xlabel("hour of the day")
    weekday = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[day % 7]
    axis.set_title(f"{weekday}: {run.policy}, seed {scenario.seed} (colour: priority; grey: at work, idle)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in _PRIORITY_COLOURS.values()]
    axis.legend(handles, [p.value for p in _PRIORITY_COLOURS], loc="upper right", fontsize=7)
    for row, op in enumerate(operators):
        if row and DEPARTMENT[op.department_id] is not DEPARTMENT[operators[row - 1].department_id]:
            axis.axhline(row - 0.5, color="#bbbbbb", linewidth=0.6)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
