"""Time-aware dispatch policies: which task goes first, and who gets it, with the reasons.

A policy is two choices made at a decision time ``at``:

1. **Task order** (:class:`TaskOrder`): how the waiting tasks of a department are ranked.
   Ours is :attr:`TaskOrder.DUE_DATE`, an apparent-tardiness-cost index; the textbook
   baselines FIFO, EDD, SPT, CR and ATC (k = 3) are here too, implemented as published, so
   the shop simulator can compare against them honestly. :attr:`TaskOrder.PRIORITY_DUE`
   is today's queue order (priority, then due time).
2. **Operator choice** (a :data:`Chooser`): :func:`least_work` (fewest remaining planned
   minutes) or :func:`earliest_finish` (who would finish the task first, counting the
   time left in their shift), always among operators that
   :func:`~work_dispatch.domain.scheduling.exclusion_of` does not exclude.

The strategies ``least_work`` and ``due_date`` are the pairs
(:attr:`TaskOrder.PRIORITY_DUE`, :func:`least_work`) and (:attr:`TaskOrder.DUE_DATE`,
:func:`earliest_finish`); see :data:`STRATEGY_POLICIES`. Every result carries its
explanation as plain JSON-ready data: each candidate's score parts, and every excluded
operator with the reason.

Times are measured by an injected ``clock(a, b) -> minutes`` (default: wall-clock minutes);
services and the simulator pass the shop calendar's working minutes, so a weekend does not
count as slack.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from work_dispatch.domain.dispatching import (
    STRATEGIES,
    Decision,
    Operator,
    PendingTask,
    Rule,
    route_tasks,
    select_operator,
)
from work_dispatch.domain.enums import Priority, Strategy
from work_dispatch.domain.errors import ValidationError
from work_dispatch.domain.scheduling import (
    Candidate,
    Excluded,
    Requirement,
    exclusion_of,
    split_eligible,
    wip_exclusion,
)
from work_dispatch.i18n import when

PRIORITY_WEIGHT: dict[str, float] = {
    Priority.LOW: 1.0,
    Priority.NORMAL: 2.0,
    Priority.HIGH: 4.0,
    Priority.URGENT: 8.0,
}
"""Weight of a minute of lateness per priority: the tardiness-cost weights."""

MAX_LISTED = 20
"""At most this many busy operators are named in one explanation."""

ATC_K = 3.0
"""The look-ahead of the textbook ATC baseline."""

Clock = Callable[[datetime, datetime], float]
"""``clock(a, b)``: minutes from ``a`` to ``b`` (negative when ``b`` is earlier)."""


def wall_minutes(start: datetime, end: datetime) -> float:
    """Wall-clock minutes from ``start`` to ``end``."""
    return (end - start).total_seconds() / 60


class TaskOrder(StrEnum):
    """How the waiting tasks of a department are ranked."""

    PRIORITY_DUE = "priority_due"
    FIFO = "fifo"
    EDD = "edd"
    SPT = "spt"
    CR = "cr"
    ATC = "atc"
    DUE_DATE = "due_date"


@dataclass(frozen=True)
class TaskView:
    """A waiting task as a policy sees it.

    Attributes:
        task_id: The task.
        process_id: Its process.
        priority: A :class:`~work_dispatch.domain.enums.Priority` value.
        minutes: Its remaining planned minutes.
        due_at: When its work order is due (None: no due time).
        ready_at: When it joined the queue (FIFO's order).
        downstream_minutes: Planned minutes of the work order's later route steps.
    """

    task_id: int
    process_id: int
    priority: str
    minutes: float
    due_at: datetime | None
    ready_at: datetime
    downstream_minutes: float = 0.0

    @property
    def weight(self) -> float:
        """The tardiness weight of its priority."""
        return PRIORITY_WEIGHT.get(self.priority, PRIORITY_WEIGHT[Priority.NORMAL])


@dataclass(frozen=True)
class DueDateParams:
    """Parameters of the ``due_date`` index (picked with the shop simulator).

    Attributes:
        k: Look-ahead: how many average task lengths of slack still count as urgent.
        lead_factor: Minutes of lead time allowed per planned minute of later route steps
            (waiting included), taken off the slack.
        commit_minutes: Hand a task only to operators with at most this many planned
            minutes left (0: only to operators who are free), so the most urgent work at
            the moment someone frees up goes first instead of waiting behind commitments.

    Raises:
        ValidationError: For a k that is not positive, or a negative lead factor or
            commitment horizon.
    """

    k: float = 1.5
    lead_factor: float = 1.0
    commit_minutes: float = 0.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.k) or self.k <= 0:
            raise ValidationError(
                "scheduling.error.parameter_out_of_range", field="k", name="k", value=self.k
            )
        if not math.isfinite(self.lead_factor) or self.lead_factor < 0:
            raise ValidationError(
                "scheduling.error.parameter_out_of_range",
                field="lead_factor",
                name="lead_factor",
                value=self.lead_factor,
            )
        if not math.isfinite(self.commit_minutes) or self.commit_minutes < 0:
            raise ValidationError(
                "scheduling.error.parameter_out_of_range",
                field="commit_minutes",
                name="commit_minutes",
                value=self.commit_minutes,
            )


DUE_DATE_PARAMS = DueDateParams()
"""The parameters ``due_date`` runs with.

Picked with the shop simulator (``python -m work_dispatch.simulation --tune``): k in
{0.5, 1, 1.5, 2, 3} × lead factor in {0, 0.5, 1, 1.5}, every setting of the grid
(utilization 0.85/0.95 × due factor 1.5/2/4), 30 seeds each (1001–1030, not the seeds the
benchmark reports on); k = 1.5 with lead factor 1 had the lowest mean ratio to the better
of EDD and ATC (0.958) and was below 1 in every setting.
"""


@dataclass(frozen=True)
class Ranked:
    """A task with its rank key and the score parts that explain it."""

    task: TaskView
    key: tuple
    parts: dict[str, Any]


ORDER_KEYS: dict[TaskOrder, str] = {order: f"scheduling.order.{order.value}" for order in TaskOrder}
"""The message key that names each task order's rule in explanations."""


def _atc_index(weight: float, minutes: float, slack: float, k: float, mean_minutes: float) -> float:
    return weight / max(minutes, 1e-6) * math.exp(-max(slack, 0.0) / (k * max(mean_minutes, 1e-6)))


def rank_tasks(
    order: TaskOrder,
    tasks: Iterable[TaskView],
    at: datetime,
    *,
    params: DueDateParams = DUE_DATE_PARAMS,
    clock: Clock = wall_minutes,
) -> list[Ranked]:
    """Rank waiting tasks, first to be served first, each with its score parts.

    Formulas (``p`` = the task's planned minutes, ``d`` = due, ``t`` = ``at``, ``w`` = priority
    weight, ``p̄`` = mean ``p`` of the ranked tasks, ``D`` = later route steps' minutes;
    times via ``clock``; ties go to the lower task id):

    - PRIORITY_DUE: priority descending, then due ascending (no due last).
    - FIFO: ``ready_at`` ascending.  EDD: ``d`` ascending.  SPT: ``p`` ascending.
    - CR: ``(d − t) / (p + D)`` ascending.
    - ATC: ``w / p · exp(−max(d − t − p, 0) / (3 p̄))`` descending.
    - DUE_DATE: ``w / p · exp(−max(d − t − p − lead_factor·D, 0) / (k p̄))`` descending.

    Args:
        order: The ranking rule.
        tasks: The waiting tasks (one department's queue).
        at: The decision time.
        params: ``due_date``'s parameters.
        clock: Minutes between two instants.

    Returns:
        The tasks in service order.
    """
    tasks = list(tasks)
    if not tasks:
        return []
    mean_minutes = sum(t.minutes for t in tasks) / len(tasks)
    ranked: list[Ranked] = []
    for task in tasks:
        to_due = None if task.due_at is None else clock(at, task.due_at)
        parts: dict[str, Any] = {"order": order.value, "minutes": round(task.minutes, 1)}
        if order is TaskOrder.PRIORITY_DUE:
            due_ts = math.inf if task.due_at is None else task.due_at.timestamp()
            key: tuple = (-task.weight, due_ts, task.task_id)
            parts["priority"] = task.priority
        elif order is TaskOrder.FIFO:
            key = (task.ready_at.timestamp(), task.task_id)
            parts["ready_at"] = task.ready_at.isoformat()
        elif order is TaskOrder.EDD:
            key = (math.inf if to_due is None else to_due, task.task_id)
        elif order is TaskOrder.SPT:
            key = (task.minutes, task.task_id)
        elif order is TaskOrder.CR:
            work = max(task.minutes + task.downstream_minutes, 1e-6)
            ratio = math.inf if to_due is None else to_due / work
            key = (ratio, task.task_id)
            parts.update(remaining_route_minutes=round(work, 1), critical_ratio=_round(ratio, 3))
        else:
            if order is TaskOrder.ATC:
                task_k = ATC_K
                slack = math.inf if to_due is None else to_due - task.minutes
            else:
                task_k = params.k
                slack = math.inf if to_due is None else _due_date_slack(task, to_due, params)
            index = (
                0.0 if to_due is None else _atc_index(task.weight, task.minutes, slack, task_k, mean_minutes)
            )
            key = (-index, task.task_id)
            parts.update(
                weight=task.weight,
                slack_minutes=_round(slack, 1),
                mean_minutes=round(mean_minutes, 1),
                k=round(task_k, 3),
                index=index,
            )
            if order is TaskOrder.DUE_DATE:
                parts.update(
                    downstream_minutes=round(task.downstream_minutes, 1),
                    lead_factor=params.lead_factor,
                )
        if to_due is not None:
            parts["minutes_to_due"] = round(to_due, 1)
        parts["rule"] = {"key": ORDER_KEYS[order], "params": {}}
        ranked.append(Ranked(task, key, parts))
    ranked.sort(key=lambda r: r.key)
    for position, item in enumerate(ranked, start=1):
        item.parts["rank"] = position
    return ranked


def _due_date_slack(task: TaskView, to_due: float, params: DueDateParams) -> float:
    """Minutes to due less this task and the lead time of the route after it."""
    return to_due - task.minutes - params.lead_factor * task.downstream_minutes


def _round(value: float, digits: int) -> float | None:
    return None if not math.isfinite(value) else round(value, digits)


# -- operator choice -----------------------------------------------------------------------------


@dataclass
class Choice:
    """Who gets a task (None: nobody eligible, the task waits), and why."""

    operator_id: int | None
    explanation: dict[str, Any] = field(default_factory=dict)


Chooser = Callable[[TaskView, Sequence[Candidate], Sequence[Excluded], Requirement, datetime], Choice]
"""``(task, eligible, excluded, requirement, at) -> Choice``.

``eligible`` are the operators :func:`~work_dispatch.domain.scheduling.exclusion_of` lets
take the task (WIP limit included), in operator-id order; ``excluded`` the others with
their reasons, which the chooser copies into its explanation.
"""


def _explanation(
    strategy: str, requirement: Requirement, excluded: Sequence[Excluded], candidates: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "strategy": strategy,
        "process_id": requirement.process_id,
        "min_level": requirement.min_level,
        "candidates": candidates,
        "excluded": [e.to_json() for e in excluded],
    }


def _nobody(explanation: dict[str, Any]) -> Choice:
    explanation["reason"] = {"key": "scheduling.reason.nobody_eligible", "params": {}}
    return Choice(None, explanation)


def least_work(
    task: TaskView,
    eligible: Sequence[Candidate],
    excluded: Sequence[Excluded],
    requirement: Requirement,
    at: datetime,
) -> Choice:
    """The eligible operator with the fewest remaining planned minutes (then fewest tasks, lowest id).

    Args:
        task: The task to give.
        eligible: Operators who may take it.
        excluded: Operators who may not, with reasons.
        requirement: What the task needs.
        at: The decision time.

    Returns:
        The choice with each candidate's load and every exclusion.
    """
    rows = [
        {
            "operator_id": c.operator_id,
            "name": c.name,
            "load_minutes": round(c.load_minutes, 1),
            "open_tasks": c.open_tasks,
        }
        for c in eligible
    ]
    explanation = _explanation("least_work", requirement, excluded, rows)
    if not eligible:
        return _nobody(explanation)
    chosen = min(eligible, key=lambda c: (c.load_minutes, c.open_tasks, c.operator_id))
    explanation["chosen_operator_id"] = chosen.operator_id
    explanation["reason"] = {
        "key": "scheduling.reason.least_work",
        "params": {"operator": chosen.name, "minutes": round(chosen.load_minutes)},
    }
    return Choice(chosen.operator_id, explanation)


def earliest_finish(
    task: TaskView,
    eligible: Sequence[Candidate],
    excluded: Sequence[Excluded],
    requirement: Requirement,
    at: datetime,
) -> Choice:
    """The eligible operator who would finish the task first, working through their load.

    Finish = ``at`` + (their remaining minutes + the task's minutes) of *their* working
    time, so a shift ending before the work is done pushes the finish to their next shift.
    Ties go to the smaller load, then the lower id.

    Args:
        task: The task to give.
        eligible: Operators who may take it.
        excluded: Operators who may not, with reasons.
        requirement: What the task needs.
        at: The decision time.

    Returns:
        The choice with each candidate's load, shift time left and finish estimate, and
        every exclusion.
    """
    scored: list[tuple[float, Candidate, dict[str, Any]]] = []
    finishes: dict[int, datetime | None] = {}
    for candidate in eligible:
        need = candidate.load_minutes + task.minutes
        finish = finishes[candidate.operator_id] = candidate.calendar.add_working_minutes(at, need)
        finish_in = math.inf if finish is None else wall_minutes(at, finish)
        left = candidate.calendar.working_remaining_minutes(at)
        scored.append(
            (
                finish_in,
                candidate,
                {
                    "operator_id": candidate.operator_id,
                    "name": candidate.name,
                    "load_minutes": round(candidate.load_minutes, 1),
                    "open_tasks": candidate.open_tasks,
                    # None: no shifts limit this operator, so no shift time is left or running out.
                    "shift_remaining_minutes": None if candidate.calendar.unlimited else round(left, 1),
                    "fits_in_shift": need <= left,
                    "finish_at": None if finish is None else finish.isoformat(),
                    "finish_in_minutes": _round(finish_in, 1),
                },
            )
        )
    explanation = _explanation("due_date", requirement, excluded, [row for _, _, row in scored])
    if not scored:
        return _nobody(explanation)
    _, chosen, row = min(scored, key=lambda s: (s[0], s[1].load_minutes, s[1].operator_id))
    explanation["chosen_operator_id"] = chosen.operator_id
    finish = finishes[chosen.operator_id]
    params: dict[str, Any] = {
        "operator": chosen.name,
        "finish_at": None if finish is None else when(finish, chosen.calendar.tz).to_json(),
    }
    if row["shift_remaining_minutes"] is None:
        key = "scheduling.reason.earliest_finish_no_shift"
    else:
        key = "scheduling.reason.earliest_finish"
        params["shift_remaining_minutes"] = round(row["shift_remaining_minutes"])
    explanation["reason"] = {"key": key, "params": params}
    return Choice(chosen.operator_id, explanation)


def count_based(
    strategy: Strategy, rng: random.Random, cursors: dict[Any, int | None], cursor_key: Any = None
) -> Chooser:
    """A :data:`Chooser` running one of today's count-based strategies through ``select_operator``.

    Eligibility (shift, presence, skill, WIP limit) filters the candidates first; the pick
    is :func:`~work_dispatch.domain.dispatching.select_operator`'s, unchanged, on open-task
    counts.

    Args:
        strategy: A strategy of :data:`~work_dispatch.domain.dispatching.STRATEGIES` with a pick.
        rng: The random source of the ``random`` strategy.
        cursors: Round-robin cursors, updated in place under ``cursor_key``.
        cursor_key: Which cursor this chooser moves (the department).

    Returns:
        The chooser.
    """

    def choose(task, eligible, excluded, requirement, at) -> Choice:
        team = [Operator(c.operator_id, c.name, c.wip_limit) for c in eligible]
        loads = {c.operator_id: c.open_tasks for c in eligible}
        chosen = select_operator(strategy, team, loads, cursors.get(cursor_key), rng)
        rows = [{"operator_id": c.operator_id, "name": c.name, "open_tasks": c.open_tasks} for c in eligible]
        explanation = _explanation(strategy.value, requirement, excluded, rows)
        if chosen is None:
            return _nobody(explanation)
        spec = STRATEGIES[strategy]
        if spec.rotates:
            cursors[cursor_key] = chosen.operator_id
        explanation["chosen_operator_id"] = chosen.operator_id
        explanation["reason"] = spec.explain(chosen, loads[chosen.operator_id]).to_json()
        return Choice(chosen.operator_id, explanation)

    return choose


def choose(
    chooser: Chooser, task: TaskView, team: Sequence[Candidate], requirement: Requirement, at: datetime
) -> Choice:
    """Decide one task: check every operator's eligibility, then let ``chooser`` pick.

    Args:
        chooser: The operator choice.
        task: The task.
        team: The operators of its department, eligible or not.
        requirement: What the task needs.
        at: The decision time.

    Returns:
        The choice with its explanation.
    """
    eligible, excluded = split_eligible(team, requirement, at)
    return chooser(task, eligible, excluded, requirement, at)


# -- one planning pass ---------------------------------------------------------------------------


@dataclass
class Assignment:
    """A task given to an operator in a planning pass, with the whole explanation."""

    task_id: int
    operator_id: int
    explanation: dict[str, Any]


def plan_department(
    ranked: Sequence[Ranked],
    team: Sequence[Candidate],
    requirements: Mapping[int, Requirement],
    chooser: Chooser,
    at: datetime,
    *,
    commit_minutes: float | None = None,
) -> list[Assignment]:
    """Give a department's ranked tasks to its operators, best task first.

    Presence, check-in and skill are checked once per operator and requirement (``at`` is
    the same for the whole pass); the WIP limit before each task. Each assignment adds
    the task's minutes and one open task to the chosen operator before the next task is
    placed, so one pass spreads work as consecutive single decisions would. A task nobody
    may take stays waiting; the pass ends early when every operator is at their limit.

    Args:
        ranked: The department's waiting tasks from :func:`rank_tasks`.
        team: The department's operators (eligible or not), in operator-id order.
        requirements: Requirement per process id.
        chooser: The operator choice.
        at: The decision time.
        commit_minutes: Offer a task only to operators with at most this many planned
            minutes left (None: anyone under their WIP limit). The others are listed in
            the explanation as ``deferred``.

    Returns:
        The assignments, in decision order.
    """
    members = {c.operator_id: c for c in team}

    def has_room(candidate: Candidate) -> bool:
        if candidate.open_tasks >= candidate.wip_limit:
            return False
        return commit_minutes is None or candidate.load_minutes <= commit_minutes

    gates: dict[Requirement, tuple[list[int], list[Excluded]]] = {}
    assignments: list[Assignment] = []
    for item in ranked:
        if not any(has_room(c) for c in members.values()):
            break
        requirement = requirements[item.task.process_id]
        gate = gates.get(requirement)
        if gate is None:
            allowed: list[int] = []
            refused: list[Excluded] = []
            for candidate in team:
                reason = exclusion_of(candidate, requirement, at, check_wip=False)
                if reason is None:
                    allowed.append(candidate.operator_id)
                else:
                    refused.append(reason)
            gate = gates[requirement] = (allowed, refused)
        eligible: list[Candidate] = []
        excluded = list(gate[1])
        deferred: list[dict[str, Any]] = []
        for operator_id in gate[0]:
            candidate = members[operator_id]
            full = wip_exclusion(candidate)
            if full is not None:
                excluded.append(full)
            elif has_room(candidate):
                eligible.append(candidate)
            else:
                deferred.append(
                    {
                        "operator_id": candidate.operator_id,
                        "name": candidate.name,
                        "load_minutes": round(candidate.load_minutes, 1),
                        "commit_minutes": commit_minutes,
                    }
                )
        if not eligible:
            continue
        choice = chooser(item.task, eligible, excluded, requirement, at)
        if choice.operator_id is None:
            continue
        if deferred:
            choice.explanation["deferred"] = deferred
        chosen = members[choice.operator_id]
        members[chosen.operator_id] = replace(
            chosen, open_tasks=chosen.open_tasks + 1, load_minutes=chosen.load_minutes + item.task.minutes
        )
        assignments.append(
            Assignment(
                item.task.task_id, chosen.operator_id, {"task_order": item.parts, **choice.explanation}
            )
        )
    return assignments


STRATEGY_POLICIES: dict[str, tuple[TaskOrder, Chooser]] = {
    "least_work": (TaskOrder.PRIORITY_DUE, least_work),
    "due_date": (TaskOrder.DUE_DATE, earliest_finish),
}
"""The new strategies as (task order, operator choice): one entry each in the strategy table."""


def commit_minutes_of(strategy: str, params: DueDateParams = DUE_DATE_PARAMS) -> float | None:
    """How much planned work an operator may hold to be offered more under ``strategy``.

    ``due_date`` gives work to operators as they free up (the simulator's verdict, see
    :class:`DueDateParams`); every other strategy fills operators up to their WIP limit.
    """
    return params.commit_minutes if strategy == Strategy.DUE_DATE else None


def _why_waiting(
    team: Sequence[Candidate], requirement: Requirement, at: datetime, full: bool
) -> dict[str, Any]:
    """Why a task of ``requirement`` got nobody this cycle: the reason, who was left out, who is busy."""
    busy, excluded = split_eligible(team, requirement, at)
    if full:
        key = "dispatch.reason.all_at_limit"
    elif busy:
        # Eligible and with room, but the strategy keeps new work for operators who are free.
        key = "scheduling.reason.all_busy"
    else:
        key = "scheduling.reason.nobody_eligible"
    why: dict[str, Any] = {"reason": {"key": key, "params": {}}, "excluded": [e.to_json() for e in excluded]}
    if busy and not full:
        why["deferred"] = [
            {"operator_id": c.operator_id, "name": c.name, "load_minutes": round(c.load_minutes, 1)}
            for c in busy[:MAX_LISTED]
        ]
    return why


def plan_cycle(
    tasks: Sequence[PendingTask],
    rules: Iterable[Rule],
    teams: Mapping[int, Sequence[Candidate]],
    views: Mapping[int, TaskView],
    at: datetime,
    *,
    requires_check_in: Mapping[int, bool] | None = None,
    cursors: Mapping[int, int | None] | None = None,
    clocks: Mapping[int, Clock] | None = None,
    seed: int = 0,
    params: DueDateParams = DUE_DATE_PARAMS,
) -> tuple[list[Decision], dict[int, int | None]]:
    """One dispatch cycle: route every pending task, then let each department's strategy plan.

    Routing is :func:`~work_dispatch.domain.dispatching.route_tasks` (rules, preset
    departments, pools). Each department's routed tasks are grouped by strategy; count-based
    strategies serve them in priority/due order through :func:`count_based`, time-aware ones
    with their own task order and chooser (:data:`STRATEGY_POLICIES`). Every choice is among
    operators that :func:`~work_dispatch.domain.scheduling.exclusion_of` lets take the task
    (shift, absence, check-in, skill, WIP limit), and loads carry over between groups.

    Args:
        tasks: Pending tasks, in priority and due order.
        rules: Active rules (with their minimum levels).
        teams: Candidates per department id, eligible or not, in operator-id order.
        views: Each task as a policy sees it (minutes, due, priority), by task id.
        at: The decision time.
        requires_check_in: Departments whose operators must be checked in.
        cursors: Round-robin cursor per department id.
        clocks: Minutes between two instants per department (its working time); wall clock
            when missing.
        seed: Seed of the random strategy.
        params: ``due_date``'s parameters.

    Returns:
        Decisions in the order of ``tasks``, and the cursors after the cycle.
    """
    rng = random.Random(seed)
    current_cursors: dict[int, int | None] = dict(cursors or {})
    check_in = requires_check_in or {}
    decisions, routed = route_tasks(tasks, rules, lambda department_id: bool(teams.get(department_id)))
    groups: dict[tuple[int, str], list] = {}
    for item in routed:
        groups.setdefault((item.rule.department_id, item.rule.strategy), []).append(item)
    # Work given in this cycle per operator (open tasks, minutes): an operator of two departments
    # carries what one gave them into the other's decisions.
    given_work: dict[int, tuple[int, float]] = {}

    def current(candidate: Candidate) -> Candidate:
        extra = given_work.get(candidate.operator_id)
        if extra is None:
            return candidate
        return replace(
            candidate,
            open_tasks=candidate.open_tasks + extra[0],
            load_minutes=candidate.load_minutes + extra[1],
        )

    for (department_id, strategy), items in groups.items():
        team = [current(c) for c in teams[department_id]]
        spec = STRATEGIES[Strategy(strategy)]
        if spec.planned:
            order, chooser = STRATEGY_POLICIES[strategy]
        else:
            order, chooser = (
                TaskOrder.PRIORITY_DUE,
                count_based(Strategy(strategy), rng, current_cursors, department_id),
            )
        requirements = {
            item.rule.process_id: Requirement(
                item.rule.process_id, item.rule.min_level, check_in.get(department_id, False)
            )
            for item in items
        }
        by_task = {item.task.task_id: item for item in items}
        clock = (clocks or {}).get(department_id, wall_minutes)
        ranked = rank_tasks(order, [views[task_id] for task_id in by_task], at, params=params, clock=clock)
        assignments = plan_department(
            ranked, team, requirements, chooser, at, commit_minutes=commit_minutes_of(strategy, params)
        )
        given = {}
        for assignment in assignments:
            given[assignment.task_id] = assignment
            tasks_given, minutes_given = given_work.get(assignment.operator_id, (0, 0.0))
            given_work[assignment.operator_id] = (
                tasks_given + 1,
                minutes_given + views[assignment.task_id].minutes,
            )
        team = [current(c) for c in teams[department_id]]
        full = all(c.open_tasks >= c.wip_limit for c in team)
        refusals: dict[Requirement, dict[str, Any]] = {}
        for task_id, item in by_task.items():
            assignment = given.get(task_id)
            if assignment is None:
                requirement = requirements[item.rule.process_id]
                if requirement not in refusals:
                    refusals[requirement] = _why_waiting(team, requirement, at, full)
                decisions.append(
                    Decision(
                        task_id,
                        "unroutable",
                        department_id=department_id,
                        explanation={**item.explanation, **refusals[requirement]},
                    )
                )
                continue
            decisions.append(
                Decision(
                    task_id,
                    "assigned",
                    department_id=department_id,
                    operator_id=assignment.operator_id,
                    explanation={**item.explanation, **assignment.explanation},
                )
            )
    order_of = {task.task_id: position for position, task in enumerate(tasks)}
    decisions.sort(key=lambda d: order_of[d.task_id])
    return decisions, current_cursors
