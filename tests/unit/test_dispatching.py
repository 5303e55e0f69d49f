"""Operator selection and rule matching, for every strategy."""

import random
from datetime import UTC, datetime

import pytest

from work_dispatch.domain.dispatching import (
    STRATEGIES,
    Operator,
    PendingTask,
    Rule,
    plan_dispatch,
    select_operator,
    strategy_choices,
)
from work_dispatch.domain.enums import Strategy
from work_dispatch.domain.policies import TaskView, plan_cycle
from work_dispatch.domain.scheduling import Candidate, WorkCalendar
from work_dispatch.i18n import Message

TEAM = [Operator(1, "Ann", 2), Operator(2, "Bob", 2), Operator(3, "Cid", 1)]
ALWAYS = WorkCalendar([], unlimited=True)


def pick(strategy, loads=None, cursor=None, team=TEAM, seed=0):
    chosen = select_operator(strategy, team, loads or {}, cursor, random.Random(seed))
    return chosen.operator_id if chosen else None


def test_least_tasks_picks_the_lightest_and_breaks_ties_by_id():
    assert pick("least_tasks", {1: 1, 2: 0, 3: 0}) == 2
    assert pick("least_tasks", {}) == 1


def test_round_robin_moves_past_the_cursor_and_wraps():
    assert pick("round_robin", cursor=None) == 1
    assert pick("round_robin", cursor=1) == 2
    assert pick("round_robin", cursor=3) == 1
    assert pick("round_robin", {2: 2}, cursor=1) == 3


def test_first_available_skips_operators_at_their_limit():
    assert pick("first_available", {1: 2}) == 2
    assert pick("first_available", {1: 2, 2: 2, 3: 1}) is None


def test_random_is_deterministic_for_a_seed_and_respects_limits():
    draws = {pick("random", {1: 2}, seed=s) for s in range(30)}
    assert draws == {2, 3}
    assert pick("random", seed=7) == pick("random", seed=7)


def test_pool_and_empty_departments_pick_nobody():
    assert pick("pool") is None
    assert pick("least_tasks", team=[]) is None


def test_unknown_strategy_is_an_error():
    with pytest.raises(ValueError):
        pick("alphabetical")


def _reason(decision, locale: str = "en") -> str:
    """The stored explanation's reason (a message as JSON) rendered for a reader."""
    return Message.from_json(decision.explanation["reason"]).render(locale)


@pytest.mark.parametrize("strategy", list(Strategy))
def test_every_strategy_has_one_table_entry_that_decides_and_explains(strategy):
    spec = STRATEGIES[strategy]
    assert spec.label() and (strategy.value, spec.label()) in strategy_choices()
    assert (strategy.value, spec.label("zh-CN")) in strategy_choices("zh-CN")
    assert spec.label("zh-CN") != spec.label("en")
    loads = {1: 2}  # Ann is at her limit: nobody may pick her
    rule = Rule(1, process_id=10, department_id=100, priority=50, strategy=strategy.value)
    at = datetime(2030, 1, 7, 9, tzinfo=UTC)
    team = [
        Candidate(op.operator_id, op.name, op.wip_limit, loads.get(op.operator_id, 0), 0.0, ALWAYS)
        for op in TEAM
    ]
    view = TaskView(7, 10, "normal", 30.0, None, at)
    decisions, cursors = plan_cycle(
        [PendingTask(7, 10)], [rule], {100: team}, {7: view}, at, cursors={100: None}, seed=3
    )
    [decision] = decisions
    assert decision.explanation["strategy"] == strategy.value
    assert _reason(decision) and _reason(decision, "zh-CN") != _reason(decision)
    if spec.planned:
        assert decision.outcome == "assigned" and decision.operator_id != 1
        assert [e["operator_id"] for e in decision.explanation["excluded"]] == [1]
        return
    if spec.pick is None:
        assert (decision.outcome, decision.operator_id) == ("queued", None)
        assert cursors == {100: None}
        return
    chosen = select_operator(strategy, TEAM, loads, None, random.Random(3))
    assert decision.outcome == "assigned"
    assert decision.operator_id == chosen.operator_id != 1
    assert chosen.name in _reason(decision) and chosen.name in _reason(decision, "zh-CN")
    assert cursors[100] == (chosen.operator_id if spec.rotates else None)


def test_the_table_covers_exactly_the_strategies():
    assert set(STRATEGIES) == set(Strategy)
    assert [value for value, _ in strategy_choices()] == [s.value for s in Strategy]


RULES = [
    Rule(1, process_id=10, department_id=100, priority=50, strategy="least_tasks"),
    Rule(2, process_id=10, department_id=200, priority=90, strategy="round_robin"),
    Rule(3, process_id=20, department_id=300, priority=50, strategy="pool"),
]


def test_highest_priority_staffed_rule_wins_and_the_choice_is_explained():
    members = {100: [Operator(1, "Ann", 3)], 200: [Operator(5, "Eve", 3), Operator(6, "Fay", 3)]}
    decisions, cursors = plan_dispatch([PendingTask(1, 10), PendingTask(2, 10)], RULES, members, {}, {})
    assert [(d.outcome, d.department_id, d.operator_id) for d in decisions] == [
        ("assigned", 200, 5),
        ("assigned", 200, 6),
    ]
    assert decisions[0].explanation["rule_id"] == 2
    assert decisions[0].explanation["strategy"] == "round_robin"
    assert [c["operator_id"] for c in decisions[0].explanation["candidates"]] == [5, 6]
    assert cursors[200] == 6


def test_rule_of_an_empty_department_is_skipped():
    members = {100: [Operator(1, "Ann", 3)]}
    decisions, _ = plan_dispatch([PendingTask(1, 10)], RULES, members, {}, {})
    assert (decisions[0].department_id, decisions[0].operator_id) == (100, 1)
    assert decisions[0].explanation["skipped_rules"] == [2]


def test_unroutable_tasks_say_why():
    decisions, _ = plan_dispatch(
        [PendingTask(1, 99), PendingTask(2, 10), PendingTask(3, 20)],
        RULES,
        {300: [Operator(1, "A", 1)]},
        {},
        {},
    )
    assert decisions[0].outcome == "unroutable" and "no active rule" in _reason(decisions[0])
    assert decisions[1].outcome == "unroutable" and "no active operators" in _reason(decisions[1])
    assert _reason(decisions[0], "zh-CN") == "该工序没有启用的派工规则"
    assert decisions[2].outcome == "queued" and decisions[2].department_id == 300


def test_loads_grow_within_a_cycle_until_the_wip_limit():
    members = {100: [Operator(1, "Ann", 2)]}
    rules = [RULES[0]]
    tasks = [PendingTask(i, 10) for i in range(1, 4)]
    decisions, _ = plan_dispatch(tasks, rules, members, {1: 0}, {})
    assert [d.outcome for d in decisions] == ["assigned", "assigned", "unroutable"]
    assert "WIP limit" in _reason(decisions[2])


def test_preset_department_restricts_rules_or_queues():
    members = {100: [Operator(1, "Ann", 3)], 200: [Operator(5, "Eve", 3)]}
    decisions, _ = plan_dispatch(
        [PendingTask(1, 10, preset_department_id=100), PendingTask(2, 10, preset_department_id=400)],
        RULES,
        members,
        {},
        {},
    )
    assert (decisions[0].department_id, decisions[0].operator_id) == (100, 1)
    assert (decisions[1].outcome, decisions[1].department_id) == ("queued", 400)


def test_an_operator_of_two_departments_is_filled_once_up_to_the_limit():
    at = datetime(2030, 1, 7, 9, tzinfo=UTC)
    both = Candidate(5, "Pat", 2, 0, 0.0, ALWAYS)
    rules = [
        Rule(1, process_id=10, department_id=100, priority=50, strategy="least_tasks"),
        Rule(2, process_id=20, department_id=200, priority=50, strategy="least_work"),
    ]
    tasks = [PendingTask(i, 10 if i % 2 else 20) for i in range(1, 7)]
    views = {t.task_id: TaskView(t.task_id, t.process_id, "normal", 30.0, None, at) for t in tasks}
    decisions, _ = plan_cycle(tasks, rules, {100: [both], 200: [both]}, views, at)
    assert sum(d.operator_id == 5 for d in decisions) == 2
