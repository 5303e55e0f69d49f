"""Dispatch decisions: which rule routes a task and which operator gets it.

Everything here is pure and deterministic: given the same tasks, rules, operators,
loads, round-robin cursors and random seed, it returns the same decisions. The service
layer loads these inputs in a handful of queries and applies the decisions in bulk.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from work_dispatch.domain.enums import Strategy
from work_dispatch.i18n import DEFAULT_LOCALE, Message, msg, translate


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
    min_level: int = 0


@dataclass(frozen=True)
class Operator:
    """An active operator who is a member of a department."""

    operator_id: int
    name: str
    wip_limit: int


@dataclass
class Decision:
    """What dispatch does with one task, and why.

    ``explanation["reason"]`` is a message as JSON (key + params), rendered for each reader.
    """

    task_id: int
    outcome: str  # "assigned" | "queued" | "unroutable"
    department_id: int | None = None
    operator_id: int | None = None
    explanation: dict[str, Any] = field(default_factory=dict)


def order_rules(rules: Iterable[Rule]) -> list[Rule]:
    """Rules in the order they are tried: higher priority first, then older rule first."""
    return sorted(rules, key=lambda rule: (-rule.priority, rule.rule_id))


Picker = Callable[[Sequence[Operator], Mapping[int, int], int | None, random.Random], Operator]
"""``(available, loads, round-robin cursor, rng) -> chosen``; ``available`` is never empty."""


def _fewest_open_tasks(available, loads, cursor, rng) -> Operator:
    return min(available, key=lambda op: (loads.get(op.operator_id, 0), op.operator_id))


def _next_in_rotation(available, loads, cursor, rng) -> Operator:
    after = [op for op in available if cursor is None or op.operator_id > cursor]
    return (after or available)[0]


def _drawn_at_random(available, loads, cursor, rng) -> Operator:
    return rng.choice(available)


def _first_under_limit(available, loads, cursor, rng) -> Operator:
    return available[0]


@dataclass(frozen=True)
class StrategySpec:
    """Everything the system knows about one strategy, in one place.

    Attributes:
        label_key: Catalog key of the strategy's name on screen (``enum.strategy.<value>``).
        pick: Chooses among operators under their WIP limit; None for strategies that
            leave the task in the department pool for operators to claim.
        explain: The reason recorded with a decision, as a message (key + params):
            ``(chosen, chosen's load) -> Message`` (chosen is None for pool strategies).
        rotates: Whether a pick moves the department's round-robin cursor.
        planned: A time-aware strategy: a department's waiting tasks are ranked and given out
            in one planning pass (:data:`work_dispatch.domain.policies.STRATEGY_POLICIES`
            holds its task order and operator choice); ``pick`` is None.
    """

    label_key: str
    pick: Picker | None
    explain: Callable[[Operator | None, int], Message]
    rotates: bool = False
    planned: bool = False

    @property
    def pools(self) -> bool:
        """Whether the strategy leaves tasks in the department pool for operators to claim."""
        return self.pick is None and not self.planned

    def label(self, locale: str = DEFAULT_LOCALE) -> str:
        """The strategy's name in ``locale``."""
        return translate(self.label_key, locale)


STRATEGIES: dict[Strategy, StrategySpec] = {
    Strategy.LEAST_TASKS: StrategySpec(
        "enum.strategy.least_tasks",
        _fewest_open_tasks,
        lambda chosen, load: msg("dispatch.reason.least_tasks", operator=chosen.name, load=load),
    ),
    Strategy.ROUND_ROBIN: StrategySpec(
        "enum.strategy.round_robin",
        _next_in_rotation,
        lambda chosen, load: msg("dispatch.reason.round_robin", operator=chosen.name),
        rotates=True,
    ),
    Strategy.RANDOM: StrategySpec(
        "enum.strategy.random",
        _drawn_at_random,
        lambda chosen, load: msg("dispatch.reason.random", operator=chosen.name),
    ),
    Strategy.FIRST_AVAILABLE: StrategySpec(
        "enum.strategy.first_available",
        _first_under_limit,
        lambda chosen, load: msg("dispatch.reason.first_available", operator=chosen.name),
    ),
    Strategy.POOL: StrategySpec(
        "enum.strategy.pool",
        None,
        lambda chosen, load: msg("dispatch.reason.pool"),
    ),
    Strategy.LEAST_WORK: StrategySpec(
        "enum.strategy.least_work",
        None,
        lambda chosen, load: msg("dispatch.reason.planned"),
        planned=True,
    ),
    Strategy.DUE_DATE: StrategySpec(
        "enum.strategy.due_date",
        None,
        lambda chosen, load: msg("dispatch.reason.planned"),
        planned=True,
    ),
}
"""Strategy → (label key, pick, explain): the one table every use of a strategy reads."""


def strategy_choices(locale: str = DEFAULT_LOCALE) -> list[tuple[str, str]]:
    """(value, label in ``locale``) pairs of every strategy, in declaration order, for pickers."""
    return [(strategy.value, STRATEGIES[strategy].label(locale)) for strategy in Strategy]


def _reason(key: str) -> dict[str, Any]:
    return msg(key).to_json()


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

    Raises:
        ValueError: For a value that is not a :class:`Strategy`.
    """
    spec = STRATEGIES[Strategy(strategy)]
    available = [op for op in candidates if loads.get(op.operator_id, 0) < op.wip_limit]
    if spec.pick is None or not available:
        return None
    return spec.pick(available, loads, last_operator_id, rng)


@dataclass
class Routed:
    """A task its rule sends to a department whose strategy must choose an operator."""

    task: PendingTask
    rule: Rule
    explanation: dict[str, Any]


def route_tasks(
    tasks: Sequence[PendingTask], rules: Iterable[Rule], staffed: Callable[[int], bool]
) -> tuple[list[Decision], list[Routed]]:
    """Find each task's rule: decide the tasks that need no operator choice, route the others.

    Decided here: a preset department without a rule of its own (its pool), no rule at all,
    no staffed department, and pool strategies. Routed: the rest, in the order given.

    Args:
        tasks: Pending tasks, in priority and due order.
        rules: Active rules.
        staffed: Whether a department has active operators.

    Returns:
        The decisions taken, and the routed tasks.
    """
    rules_by_process: dict[int, list[Rule]] = {}
    for rule in order_rules(rules):
        rules_by_process.setdefault(rule.process_id, []).append(rule)
    decisions: list[Decision] = []
    routed: list[Routed] = []
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
                            "reason": _reason("dispatch.reason.preset_department"),
                            "strategy": Strategy.POOL.value,
                        },
                    )
                )
                continue
        if not candidates_rules:
            decisions.append(
                Decision(
                    task.task_id, "unroutable", explanation={"reason": _reason("dispatch.reason.no_rule")}
                )
            )
            continue
        staffed_rules = [r for r in candidates_rules if staffed(r.department_id)]
        skipped = [r.rule_id for r in candidates_rules if not staffed(r.department_id)]
        if not staffed_rules:
            decisions.append(
                Decision(
                    task.task_id,
                    "unroutable",
                    explanation={
                        "reason": _reason("dispatch.reason.no_operators"),
                        "skipped_rules": skipped,
                    },
                )
            )
            continue
        rule = staffed_rules[0]
        explanation: dict[str, Any] = {
            "rule_id": rule.rule_id,
            "rule_priority": rule.priority,
            "strategy": rule.strategy,
            "department_id": rule.department_id,
        }
        if skipped:
            explanation["skipped_rules"] = skipped
        spec = STRATEGIES[Strategy(rule.strategy)]
        if spec.pools:
            explanation["reason"] = spec.explain(None, 0).to_json()
            decisions.append(
                Decision(task.task_id, "queued", department_id=rule.department_id, explanation=explanation)
            )
            continue
        routed.append(Routed(task, rule, explanation))
    return decisions, routed


def plan_dispatch(
    tasks: Sequence[PendingTask],
    rules: Iterable[Rule],
    members: Mapping[int, Sequence[Operator]],
    loads: Mapping[int, int],
    cursors: Mapping[int, int | None],
    seed: int = 0,
) -> tuple[list[Decision], dict[int, int | None]]:
    """Decide the fate of every pending task with count-based strategies, in the order given.

    Loads and round-robin cursors advance as tasks are assigned, so one cycle spreads
    work exactly as consecutive single dispatches would. (The service runs
    :func:`work_dispatch.domain.policies.plan_cycle`, which adds shifts, presence, skills
    and the time-aware strategies; this is the same routing without them.)

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
    current_loads = dict(loads)
    current_cursors = dict(cursors)
    decisions, routed = route_tasks(tasks, rules, lambda department_id: bool(members.get(department_id)))
    for item in routed:
        task, rule, explanation = item.task, item.rule, item.explanation
        team = members[rule.department_id]
        explanation["candidates"] = [
            {
                "operator_id": op.operator_id,
                "name": op.name,
                "load": current_loads.get(op.operator_id, 0),
                "wip_limit": op.wip_limit,
            }
            for op in team
        ]
        spec = STRATEGIES[Strategy(rule.strategy)]
        chosen = select_operator(
            rule.strategy, team, current_loads, current_cursors.get(rule.department_id), rng
        )
        if chosen is None:
            explanation["reason"] = _reason("dispatch.reason.all_at_limit")
            decisions.append(
                Decision(
                    task.task_id, "unroutable", department_id=rule.department_id, explanation=explanation
                )
            )
            continue
        explanation["reason"] = spec.explain(chosen, current_loads.get(chosen.operator_id, 0)).to_json()
        explanation["chosen_operator_id"] = chosen.operator_id
        current_loads[chosen.operator_id] = current_loads.get(chosen.operator_id, 0) + 1
        if spec.rotates:
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
    order = {task.task_id: position for position, task in enumerate(tasks)}
    decisions.sort(key=lambda d: order[d.task_id])
    return decisions, current_cursors
