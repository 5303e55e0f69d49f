"""Dispatch decisions: which rule routes a task and which operator gets it.

Everything here is pure and deterministic: given the same tasks, rules, operators,
loads, round-robin cursors and random seed, it returns the same decisions. The service
layer loads these inputs in a handful of queries and applies the decisions in bulk.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from work_dispatch.domain.enums import Strategy


@dataclass(frozen=True)
class PendingTask:
    """A published task waiting for dispatch."""

    task_id: int
    process_id: int
    preset_department_id: int | None = None


@dataclass(frozen=True)
class Rule:
    """An active assignment rule."""

    rule_id: int
    process_id: int
    department_id: int
    priority: int
    strategy: str


@dataclass(frozen=True)
class Operator:
    """An active operator who is a member of a department."""

    operator_id: int
    name: str
    wip_limit: int


@dataclass
class Decision:
    """What dispatch does with one task, and why."""

    task_id: int
    outcome: str  # "assigned" | "queued" | "unroutable"
    department_id: int | None = None
    operator_id: int | None = None
    explanation: dict[str, Any] = field(default_factory=dict)


def order_rules(rules: Iterable[Rule]) -> list[Rule]:
    """Rules in the order they are tried: higher priority first, then older rule first."""
    return sorted(rules, key=lambda rule: (-rule.priority, rule.rule_id))


def select_operator(
    strategy: str,
    candidates: Sequence[Operator],
    loads: Mapping[int, int],
    last_operator_id: int | None,
    rng: random.Random,
) -> Operator | None:
    """Pick an operator among candidates that are under their WIP limit.

    Args:
        strategy: One of :class:`Strategy` (``pool`` never picks anyone).
        candidates: Active members of the department, in operator-id order.
        loads: Open tasks per operator id.
        last_operator_id: The department's round-robin cursor.
        rng: Seeded random source for the ``random`` strategy.

    Returns:
        The chosen operator, or None when nobody is available (or the strategy is pool).
    """
    available = [op for op in candidates if loads.get(op.operator_id, 0) < op.wip_limit]
    if strategy == Strategy.POOL or not available:
        return None
    if strategy == Strategy.LEAST_TASKS:
        return min(available, key=lambda op: (loads.get(op.operator_id, 0), op.operator_id))
    if strategy == Strategy.ROUND_ROBIN:
        after = [op for op in available if last_operator_id is None or op.operator_id > last_operator_id]
        return (after or available)[0]
    if strategy == Strategy.RANDOM:
        return rng.choice(available)
    if strategy == Strategy.FIRST_AVAILABLE:
        return available[0]
    raise ValueError(f"unknown strategy {strategy!r}")


def plan_dispatch(
    tasks: Sequence[PendingTask],
    rules: Iterable[Rule],
    members: Mapping[int, Sequence[Operator]],
    loads: Mapping[int, int],
    cursors: Mapping[int, int | None],
    seed: int = 0,
) -> tuple[list[Decision], dict[int, int | None]]:
    """Decide the fate of every pending task, in the order given.

    Loads and round-robin cursors advance as tasks are assigned, so one cycle spreads
    work exactly as consecutive single dispatches would.

    Args:
        tasks: Pending tasks, already in priority and due order.
        rules: Active rules.
        members: Active operators per department id, sorted by operator id.
        loads: Open tasks per operator id before this cycle.
        cursors: Round-robin cursor per department id.
        seed: Seed of the random strategy.

    Returns:
        The decisions, and the cursors after the cycle.
    """
    rng = random.Random(seed)
    rules_by_process: dict[int, list[Rule]] = {}
    for rule in order_rules(rules):
        rules_by_process.setdefault(rule.process_id, []).append(rule)
    current_loads = dict(loads)
    current_cursors = dict(cursors)
    decisions: list[Decision] = []
    for task in tasks:
        candidates_rules = rules_by_process.get(task.process_id, [])
        if task.preset_department_id is not None:
            candidates_rules = [r for r in candidates_rules if r.department_id == task.preset_department_id]
            if not candidates_rules:
                decisions.append(
                    Decision(
                        task.task_id,
                        "queued",
                        department_id=task.preset_department_id,
                        explanation={
                            "reason": "department preset on the draft; no rule for it, queued in its pool",
                            "strategy": Strategy.POOL.value,
                        },
                    )
                )
                continue
        if not candidates_rules:
            decisions.append(
                Decision(
                    task.task_id, "unroutable", explanation={"reason": "no active rule for this process"}
                )
            )
            continue
        staffed = [r for r in candidates_rules if members.get(r.department_id)]
        skipped = [r.rule_id for r in candidates_rules if not members.get(r.department_id)]
        if not staffed:
            decisions.append(
                Decision(
                    task.task_id,
                    "unroutable",
                    explanation={
                        "reason": "no active operators in the rule's department",
                        "skipped_rules": skipped,
                    },
                )
            )
            continue
        rule = staffed[0]
        team = members[rule.department_id]
        candidate_view = [
            {
                "operator_id": op.operator_id,
                "name": op.name,
                "load": current_loads.get(op.operator_id, 0),
                "wip_limit": op.wip_limit,
            }
            for op in team
        ]
        explanation: dict[str, Any] = {
            "rule_id": rule.rule_id,
            "rule_priority": rule.priority,
            "strategy": rule.strategy,
            "department_id": rule.department_id,
            "candidates": candidate_view,
        }
        if skipped:
            explanation["skipped_rules"] = skipped
        if rule.strategy == Strategy.POOL:
            explanation["reason"] = "pool strategy: queued for operators to claim"
            decisions.append(
                Decision(task.task_id, "queued", department_id=rule.department_id, explanation=explanation)
            )
            continue
        chosen = select_operator(
            rule.strategy, team, current_loads, current_cursors.get(rule.department_id), rng
        )
        if chosen is None:
            explanation["reason"] = "every operator of the department is at their WIP limit"
            decisions.append(
                Decision(
                    task.task_id, "unroutable", department_id=rule.department_id, explanation=explanation
                )
            )
            continue
        explanation["reason"] = _reason(rule.strategy, chosen, current_loads)
        explanation["chosen_operator_id"] = chosen.operator_id
        current_loads[chosen.operator_id] = current_loads.get(chosen.operator_id, 0) + 1
        if rule.strategy == Strategy.ROUND_ROBIN:
            current_cursors[rule.department_id] = chosen.operator_id
        decisions.append(
            Decision(
                task.task_id,
                "assigned",
                department_id=rule.department_id,
                operator_id=chosen.operator_id,
                explanation=explanation,
            )
        )
    return decisions, current_cursors


def _reason(strategy: str, chosen: Operator, loads: Mapping[int, int]) -> str:
    load = loads.get(chosen.operator_id, 0)
    return {
        Strategy.LEAST_TASKS: f"{chosen.name} had the fewest open tasks ({load})",
        Strategy.ROUND_ROBIN: f"{chosen.name} is next in the department's rotation",
        Strategy.RANDOM: f"{chosen.name} was drawn at random among available operators",
        Strategy.FIRST_AVAILABLE: f"{chosen.name} is the first operator under their WIP limit",
    }[Strategy(strategy)]
