"""The policies the simulator compares: every strategy of ours plus textbook baselines.

A policy is a task order and an operator choice (see :mod:`work_dispatch.domain.policies`).
Our strategies are read from the product's own tables, so a strategy added to
:class:`~work_dispatch.domain.enums.Strategy` (or to
:data:`~work_dispatch.domain.policies.STRATEGY_POLICIES`) is simulated without a change
here: count-based strategies run through
:func:`~work_dispatch.domain.dispatching.select_operator`, the pool strategy leaves tasks
for operators to claim in tablet order, and the time-aware ones use their own chooser.
The baselines rank tasks by FIFO, EDD, SPT, CR or ATC (k = 3) and, as textbook dispatching
rules do, give the best task to an operator when they become free, choosing the one with
the least remaining work. Today's strategies fill every operator up to the WIP limit as
the product does; ``due_date`` hands out work when someone is free
(:attr:`~work_dispatch.domain.policies.DueDateParams.commit_minutes`).
"""

from __future__ import annotations

from dataclasses import dataclass

from work_dispatch.domain.dispatching import STRATEGIES
from work_dispatch.domain.enums import Strategy
from work_dispatch.domain.policies import STRATEGY_POLICIES, TaskOrder

DEFAULT_POLICY = "due_date"
"""The policy we recommend as the default (the simulator's verdict, see the README)."""

BASELINE_ORDERS = (TaskOrder.FIFO, TaskOrder.EDD, TaskOrder.SPT, TaskOrder.CR, TaskOrder.ATC)


@dataclass(frozen=True)
class SimPolicy:
    """How one policy dispatches in the simulator.

    Attributes:
        name: The policy's name in tables and JSON.
        order: How waiting tasks are ranked.
        chooser: ``least_work`` or ``due_date`` (choosers of
            :data:`~work_dispatch.domain.policies.STRATEGY_POLICIES`), ``pool``, or a
            count-based :class:`~work_dispatch.domain.enums.Strategy` value.
        ours: A strategy of the product (as opposed to a baseline).
        commit_minutes: Offer tasks only to operators with at most this many planned
            minutes left (None: fill everyone up to the WIP limit, as today's strategies do;
            0: only free operators, as textbook dispatching rules do).
    """

    name: str
    order: TaskOrder
    chooser: str
    ours: bool
    commit_minutes: float | None = None


def all_policies() -> dict[str, SimPolicy]:
    """Every policy: the product's strategies in their declared order, then the baselines."""
    policies: dict[str, SimPolicy] = {}
    for strategy in Strategy:
        if strategy.value in STRATEGY_POLICIES:
            order, _ = STRATEGY_POLICIES[strategy.value]
            policies[strategy.value] = SimPolicy(strategy.value, order, strategy.value, True)
        elif STRATEGIES[strategy].pick is None:
            policies[strategy.value] = SimPolicy(strategy.value, TaskOrder.PRIORITY_DUE, "pool", True)
        else:
            policies[strategy.value] = SimPolicy(strategy.value, TaskOrder.PRIORITY_DUE, strategy.value, True)
    for name, (order, _) in STRATEGY_POLICIES.items():
        policies.setdefault(name, SimPolicy(name, order, name, True))
    for order in BASELINE_ORDERS:
        policies[order.value] = SimPolicy(order.value, order, "least_work", False, commit_minutes=0.0)
    return policies
