"""Task orders and operator choices of the time-aware strategies (domain/policies.py)."""

import math
import random
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest

from work_dispatch.domain.enums import Strategy
from work_dispatch.domain.errors import ValidationError
from work_dispatch.domain.policies import (
    PRIORITY_WEIGHT,
    STRATEGY_POLICIES,
    DueDateParams,
    TaskOrder,
    TaskView,
    choose,
    count_based,
    earliest_finish,
    least_work,
    plan_department,
    rank_tasks,
)
from work_dispatch.domain.scheduling import Candidate, Requirement, ShiftTemplate, WorkCalendar
from work_dispatch.i18n import translate
from work_dispatch.services.explanations import explanation_lines

NOW = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)  # Monday 08:00
EARLY = ShiftTemplate("Early", time(6), time(14))
LATE = ShiftTemplate("Late", time(14), time(22))
DAY = ShiftTemplate("Day", time(8), time(16))


def task(task_id, minutes, due_in=None, priority="normal", ready_ago=0.0, downstream=0.0) -> TaskView:
    return TaskView(
        task_id=task_id,
        process_id=10,
        priority=priority,
        minutes=minutes,
        due_at=None if due_in is None else NOW + timedelta(minutes=due_in),
        ready_at=NOW - timedelta(minutes=ready_ago),
        downstream_minutes=downstream,
    )


def person(operator_id, load=0.0, open_tasks=0, shift=EARLY, level=2, wip=2, name=None) -> Candidate:
    return Candidate(
        operator_id=operator_id,
        name=name or f"op{operator_id}",
        wip_limit=wip,
        open_tasks=open_tasks,
        load_minutes=load,
        calendar=WorkCalendar([shift]),
        checked_in=True,
        levels={10: level},
    )


def order_of(order, tasks, **kwargs) -> list[int]:
    return [r.task.task_id for r in rank_tasks(order, tasks, NOW, **kwargs)]


# -- task orders, computed by hand -------------------------------------------------------------------

# Three waiting tasks at 08:00 (minutes, minutes to due, priority weight, waiting since):
#   1: 60 min, due in 200, normal (w 2), ready 30 min ago
#   2: 30 min, due in 100, low    (w 1), ready 10 min ago
#   3: 90 min, due in 120, high   (w 4), ready 20 min ago
THREE = [
    task(1, 60, 200, "normal", ready_ago=30),
    task(2, 30, 100, "low", ready_ago=10),
    task(3, 90, 120, "high", ready_ago=20),
]


def test_fifo_edd_spt_and_priority_due():
    assert order_of(TaskOrder.FIFO, THREE) == [1, 3, 2]  # ready 30, 20, 10 minutes ago
    assert order_of(TaskOrder.EDD, THREE) == [2, 3, 1]  # due 100, 120, 200
    assert order_of(TaskOrder.SPT, THREE) == [2, 1, 3]  # 30, 60, 90 minutes
    assert order_of(TaskOrder.PRIORITY_DUE, THREE) == [3, 1, 2]  # high, normal, low


def test_critical_ratio():
    # (due - now) / remaining route minutes: 1: 200/60 = 3.33, 2: 100/30 = 3.33 (tie -> id), 3: 120/90 = 1.33
    assert order_of(TaskOrder.CR, THREE) == [3, 1, 2]
    # With 150 minutes of later steps, task 1's ratio is 200/210 = 0.95: it goes first.
    with_route = [task(1, 60, 200, downstream=150), *THREE[1:]]
    assert order_of(TaskOrder.CR, with_route) == [1, 3, 2]


def test_atc_index_by_hand():
    ranked = rank_tasks(TaskOrder.ATC, THREE, NOW)
    p_mean = (60 + 30 + 90) / 3  # 60
    expected = {
        1: 2 / 60 * math.exp(-(200 - 60) / (3 * p_mean)),  # 0.01533
        2: 1 / 30 * math.exp(-(100 - 30) / (3 * p_mean)),  # 0.02259
        3: 4 / 90 * math.exp(-(120 - 90) / (3 * p_mean)),  # 0.03762
    }
    assert [r.task.task_id for r in ranked] == [3, 2, 1]
    for r in ranked:
        assert r.parts["index"] == pytest.approx(expected[r.task.task_id])
        assert r.parts["k"] == 3.0 and r.parts["mean_minutes"] == p_mean
    assert ranked[0].parts["slack_minutes"] == 30 and ranked[0].parts["rank"] == 1


def test_late_tasks_are_ranked_by_weight_per_minute():
    late = [task(1, 60, -100, "high"), task(2, 20, -10, "normal")]
    # Both late: index = w / p: 4/60 = 0.067 < 2/20 = 0.1.
    assert order_of(TaskOrder.ATC, late) == [2, 1]
    assert order_of(TaskOrder.DUE_DATE, late) == [2, 1]


def test_due_date_counts_the_rest_of_the_route_against_the_slack():
    # Same task length and due time; task 1 still has 300 minutes of later steps.
    pair = [task(1, 60, 400, downstream=300), task(2, 60, 400)]
    assert order_of(TaskOrder.ATC, pair) == [1, 2]  # a tie for ATC: lower id
    params = DueDateParams(k=1.0, lead_factor=1.0)
    ranked = rank_tasks(TaskOrder.DUE_DATE, list(reversed(pair)), NOW, params=params)
    assert [r.task.task_id for r in ranked] == [1, 2]
    assert ranked[0].parts["slack_minutes"] == 400 - 60 - 300
    assert ranked[1].parts["slack_minutes"] == 400 - 60
    assert ranked[0].parts["lead_factor"] == 1.0 and ranked[0].parts["downstream_minutes"] == 300


def test_a_working_time_clock_turns_a_weekend_into_no_slack():
    friday = datetime(2030, 1, 11, 20, 0, tzinfo=UTC)
    shop = WorkCalendar([EARLY, LATE])
    monday_due = TaskView(1, 10, "normal", 60, datetime(2030, 1, 14, 8, 0, tzinfo=UTC), friday)
    tuesday_due = TaskView(2, 10, "normal", 60, datetime(2030, 1, 15, 6, 0, tzinfo=UTC), friday)
    wall = rank_tasks(TaskOrder.ATC, [monday_due, tuesday_due], friday)
    work = rank_tasks(TaskOrder.ATC, [monday_due, tuesday_due], friday, clock=shop.working_minutes_between)
    assert wall[0].parts["minutes_to_due"] == 60 * 60  # 60 wall-clock hours
    assert work[0].parts["minutes_to_due"] == 120 + 120  # Friday 20-22 + Monday 06-08
    assert work[0].parts["index"] > wall[0].parts["index"]


def test_tasks_without_due_time_go_last():
    tasks = [task(1, 10), task(2, 50, 500)]
    for order in (TaskOrder.EDD, TaskOrder.CR, TaskOrder.ATC, TaskOrder.DUE_DATE, TaskOrder.PRIORITY_DUE):
        assert order_of(order, tasks) == [2, 1], order


def test_every_order_ranks_and_explains():
    for order in TaskOrder:
        ranked = rank_tasks(order, THREE, NOW)
        assert sorted(r.task.task_id for r in ranked) == [1, 2, 3]
        assert all(r.parts["order"] == order.value for r in ranked)
        rule = ranked[0].parts["rule"]
        assert translate(rule["key"], "en") != rule["key"]
    assert rank_tasks(TaskOrder.ATC, [], NOW) == []


@pytest.mark.parametrize(
    "bad", [{"k": 0}, {"k": -1}, {"k": float("nan")}, {"lead_factor": -0.1}, {"commit_minutes": -1}]
)
def test_bad_due_date_parameters_are_refused(bad):
    with pytest.raises(ValidationError) as refused:
        DueDateParams(**bad)
    assert refused.value.detail.key == "scheduling.error.parameter_out_of_range"


# -- operator choices ------------------------------------------------------------------------------


def test_least_work_counts_minutes_not_tasks():
    # Ann has one 300-minute task, Bob two 20-minute tasks: minutes say Bob.
    ann, bob = person(1, load=300, open_tasks=1, wip=3), person(2, load=40, open_tasks=2, wip=3)
    off = person(3, shift=LATE)
    unqualified = person(4, level=0)
    choice = choose(least_work, task(9, 30), [ann, bob, off, unqualified], Requirement(10, min_level=1), NOW)
    assert choice.operator_id == 2
    explanation = choice.explanation
    assert explanation["strategy"] == "least_work"
    assert [(c["operator_id"], c["load_minutes"]) for c in explanation["candidates"]] == [(1, 300), (2, 40)]
    assert [(e["operator_id"], e["reason"]) for e in explanation["excluded"]] == [
        (3, "off_shift"),
        (4, "not_qualified"),
    ]
    assert explanation["reason"]["key"] == "scheduling.reason.least_work"
    assert "op2" in translate(explanation["reason"]["key"], "en", **explanation["reason"]["params"])
    # And today's count-based least_tasks, through select_operator, says Ann.
    counted = choose(
        count_based(Strategy.LEAST_TASKS, random.Random(0), {}),
        task(9, 30),
        [ann, bob, off, unqualified],
        Requirement(10, min_level=1),
        NOW,
    )
    assert counted.operator_id == 1


def test_earliest_finish_avoids_the_colleague_who_leaves_in_ten_minutes():
    at = datetime(2030, 1, 7, 13, 50, tzinfo=UTC)
    leaving = person(1, load=0, shift=EARLY, name="Ann")  # off at 14:00
    staying = person(2, load=30, open_tasks=1, shift=DAY, name="Bob")  # until 16:00, 30 min of work
    choice = choose(earliest_finish, task(9, 60), [leaving, staying], Requirement(10), at)
    assert choice.operator_id == 2
    rows = {row["operator_id"]: row for row in choice.explanation["candidates"]}
    # Ann: 10 minutes today, 50 tomorrow from 06:00 -> Tuesday 06:50. Bob: 30 + 60 -> 15:20 today.
    assert rows[1]["finish_at"] == datetime(2030, 1, 8, 6, 50, tzinfo=UTC).isoformat()
    assert rows[1]["shift_remaining_minutes"] == 10 and rows[1]["fits_in_shift"] is False
    assert rows[2]["finish_at"] == datetime(2030, 1, 7, 15, 20, tzinfo=UTC).isoformat()
    assert rows[2]["finish_in_minutes"] == 90 and rows[2]["fits_in_shift"] is True
    assert choice.explanation["reason"]["key"] == "scheduling.reason.earliest_finish"
    # least_work would have given it to Ann, who has nothing to do but is about to leave.
    assert choose(least_work, task(9, 60), [leaving, staying], Requirement(10), at).operator_id == 1
    # A short task fits in Ann's last ten minutes: she finishes first.
    assert choose(earliest_finish, task(9, 5), [leaving, staying], Requirement(10), at).operator_id == 1


def test_earliest_finish_explains_itself_in_the_readers_words():
    at = datetime(2030, 1, 7, 13, 50, tzinfo=UTC)
    staying = person(2, load=30, open_tasks=1, shift=DAY, name="Bob")
    reason = choose(earliest_finish, task(9, 60), [staying], Requirement(10), at).explanation["reason"]
    text = translate(reason["key"], "en", **reason["params"])
    assert "2030-01-07T" not in text and "15:20" in text and "130 min left in the shift" in text
    # Without shifts nobody runs out of shift time, and the explanation does not pretend otherwise.
    anytime = replace(staying, calendar=WorkCalendar([], unlimited=True))
    choice = choose(earliest_finish, task(9, 60), [anytime], Requirement(10), at)
    assert choice.explanation["candidates"][0]["shift_remaining_minutes"] is None
    reason = choice.explanation["reason"]
    assert reason["key"] == "scheduling.reason.earliest_finish_no_shift"
    assert translate(reason["key"], "en", **reason["params"]).startswith("Bob would finish it first (by ")
    lines = explanation_lines({"candidates": choice.explanation["candidates"]}, "en")
    assert "no shift limit" in lines[0] and "min left in the shift" not in lines[0]
    busy = explanation_lines({"deferred": [{"name": "Dana", "load_minutes": 2550}]}, "en")
    assert busy == ["Busy, offered work once they free up: Dana (2,550 min of work)"]


def test_nobody_eligible_is_a_choice_with_reasons():
    choice = choose(least_work, task(9, 30), [person(1, shift=LATE)], Requirement(10), NOW)
    assert choice.operator_id is None
    assert choice.explanation["reason"]["key"] == "scheduling.reason.nobody_eligible"
    assert choice.explanation["excluded"][0]["reason"] == "off_shift"
    assert choose(earliest_finish, task(9, 30), [], Requirement(10), NOW).operator_id is None


def test_round_robin_through_select_operator_moves_its_cursor():
    cursors: dict = {}
    chooser = count_based(Strategy.ROUND_ROBIN, random.Random(0), cursors, cursor_key=5)
    team = [person(1), person(2), person(3)]
    picks = [choose(chooser, task(9, 10), team, Requirement(10), NOW).operator_id for _ in range(4)]
    assert picks == [1, 2, 3, 1]
    assert cursors[5] == 1


# -- a planning pass ------------------------------------------------------------------------------


def test_plan_department_spreads_minutes_respects_limits_and_explains():
    ranked = rank_tasks(TaskOrder.SPT, [task(1, 10), task(2, 20), task(3, 30), task(4, 40)], NOW)
    team = [person(1, wip=1), person(2, wip=2)]
    plan = plan_department(ranked, team, {10: Requirement(10)}, least_work, NOW)
    # 1 (10 min) -> op1 (both empty, lower id); 2 -> op2 (op1 is full); 3 -> op2 (its second slot).
    assert [(a.task_id, a.operator_id) for a in plan] == [(1, 1), (2, 2), (3, 2)]
    last = plan[-1].explanation
    assert last["task_order"]["order"] == "spt" and last["task_order"]["rank"] == 3
    assert last["candidates"] == [{"operator_id": 2, "name": "op2", "load_minutes": 20.0, "open_tasks": 1}]
    assert last["excluded"][0]["reason"] == "at_wip_limit"


def test_plan_department_skips_tasks_nobody_may_take():
    ranked = rank_tasks(TaskOrder.FIFO, [task(1, 10), task(2, 10)], NOW)
    needs = {10: Requirement(10, min_level=3)}
    assert plan_department(ranked, [person(1, level=2)], needs, least_work, NOW) == []


def test_commit_minutes_keeps_tasks_for_operators_about_to_be_free():
    ranked = rank_tasks(TaskOrder.EDD, [task(1, 30, 100), task(2, 30, 200)], NOW)
    team = [person(1, load=45, open_tasks=1), person(2)]
    plan = plan_department(ranked, team, {10: Requirement(10)}, least_work, NOW, commit_minutes=0)
    # Only the free operator 2 gets one task; operator 1 (45 min left) is deferred, not loaded up.
    assert [(a.task_id, a.operator_id) for a in plan] == [(1, 2)]
    assert plan[0].explanation["deferred"][0]["operator_id"] == 1
    eager = plan_department(ranked, team, {10: Requirement(10)}, least_work, NOW)
    assert [(a.task_id, a.operator_id) for a in eager] == [(1, 2), (2, 2)]


def test_the_new_strategies_are_one_entry_each():
    assert STRATEGY_POLICIES["least_work"] == (TaskOrder.PRIORITY_DUE, least_work)
    assert STRATEGY_POLICIES["due_date"] == (TaskOrder.DUE_DATE, earliest_finish)
    assert (
        PRIORITY_WEIGHT["urgent"]
        > PRIORITY_WEIGHT["high"]
        > PRIORITY_WEIGHT["normal"]
        > PRIORITY_WEIGHT["low"]
    )
