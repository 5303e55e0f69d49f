"""The shop simulator: determinism, hand-computed schedules, bounds, violations, command line."""

import json

import pytest

from work_dispatch.domain.enums import TaskStatus
from work_dispatch.domain.errors import ValidationError
from work_dispatch.domain.scheduling import WorkCalendar, planned_minutes
from work_dispatch.simulation import cli
from work_dispatch.simulation.engine import simulate
from work_dispatch.simulation.metrics import ShopClock, jain, lower_bounds, mean_ci, run_metrics, t_quantile
from work_dispatch.simulation.policies import DEFAULT_POLICY, all_policies
from work_dispatch.simulation.shop import (
    EARLY,
    PROCESS,
    SHOP_SHIFTS,
    Order,
    Scenario,
    Settings,
    SimOperator,
    Step,
    build_scenario,
)

POLICIES = all_policies()
PACKING = 7  # process 7 (packing): setup 10 min, 8,000 units an hour -> 10 + 0.0075 min a unit
MONDAY_6 = 6 * 60  # minutes from Monday 00:00


def tiny(operators: int, dues: dict[int, float]) -> Scenario:
    """Three one-step orders released at Monday 06:00, real minutes = planned minutes.

    1: 6,000 units -> 55 min, normal (weight 2)
    2: 2,000 units -> 25 min, low (weight 1)
    3: 10,000 units -> 85 min, high (weight 4)
    """
    jobs = {1: (6000, "normal"), 2: (2000, "low"), 3: (10000, "high")}
    orders = []
    for order_id, (quantity, priority) in jobs.items():
        minutes = planned_minutes(PROCESS[PACKING].rate, quantity)
        step = Step(PACKING, quantity, minutes, minutes)
        orders.append(Order(order_id, "box", priority, MONDAY_6, MONDAY_6 + dues[order_id], (step,)))
    people = [
        SimOperator(i, f"packer-{i}", 6, EARLY, {PACKING: 2}, (), WorkCalendar([EARLY]))
        for i in range(1, operators + 1)
    ]
    return Scenario(1, Settings(), people, orders, WorkCalendar(SHOP_SHIFTS))


def finish_times(scenario: Scenario, policy: str) -> dict[int, float]:
    run = simulate(scenario, POLICIES[policy])
    assert all(task.status is TaskStatus.COMPLETED for task in run.tasks)
    return {
        order.order_id: done - MONDAY_6 for order, done in zip(scenario.orders, run.completed_at, strict=True)
    }


def weighted_tardiness_sum(scenario: Scenario, policy: str) -> float:
    run = simulate(scenario, POLICIES[policy])
    return run_metrics(scenario, run)["weighted_tardiness"] * len(scenario.orders)


def test_one_operator_baselines_reproduce_hand_computed_schedules():
    # Due 150, 100, 120 minutes after release; minutes 55, 25, 85; weights 2, 1, 4.
    scenario = tiny(1, {1: 150, 2: 100, 3: 120})
    # FIFO (all ready at once -> task order): 1 [0-55], 2 [55-80], 3 [80-165]; 3 late 45 x 4 = 180.
    assert finish_times(scenario, "fifo") == {1: 55, 2: 80, 3: 165}
    assert weighted_tardiness_sum(scenario, "fifo") == pytest.approx(180)
    # EDD (due 100, 120, 150): 2 [0-25], 3 [25-110], 1 [110-165]; 1 late 15 x 2 = 30.
    assert finish_times(scenario, "edd") == {2: 25, 3: 110, 1: 165}
    assert weighted_tardiness_sum(scenario, "edd") == pytest.approx(30)
    # SPT (25, 55, 85): 2 [0-25], 1 [25-80], 3 [80-165]; 3 late 45 x 4 = 180.
    assert finish_times(scenario, "spt") == {2: 25, 1: 80, 3: 165}
    assert weighted_tardiness_sum(scenario, "spt") == pytest.approx(180)
    # CR at 0: 150/55 = 2.73, 100/25 = 4.0, 120/85 = 1.41 -> 3 [0-85];
    # at 85: (150-85)/55 = 1.18, (100-85)/25 = 0.6 -> 2 [85-110], 1 [110-165];
    # 2 late 10 x 1, 1 late 15 x 2 = 40.
    assert finish_times(scenario, "cr") == {3: 85, 2: 110, 1: 165}
    assert weighted_tardiness_sum(scenario, "cr") == pytest.approx(40)
    # ATC (k = 3) at 0, mean 55 min: slack 95, 75, 35 ->
    #   1: 2/55 e^(-95/165) = 0.0204, 2: 1/25 e^(-75/165) = 0.0254, 3: 4/85 e^(-35/165) = 0.0381 -> 3 first;
    # at 85, mean 40: 1: slack 10 -> 2/55 e^(-10/120) = 0.0335, 2: slack -15 -> 1/25 = 0.04 -> 2, then 1.
    assert finish_times(scenario, "atc") == {3: 85, 2: 110, 1: 165}
    assert weighted_tardiness_sum(scenario, "atc") == pytest.approx(40)


def test_two_operators_baselines_reproduce_hand_computed_schedules():
    # Due 60, 50, 90 minutes after release. Each free operator takes the best task; least work, then id.
    scenario = tiny(2, {1: 60, 2: 50, 3: 90})
    # EDD (50, 60, 90): op1 <- 2 [0-25], op2 <- 1 [0-55]; op1 <- 3 [25-110]: 3 late 20 x 4 = 80.
    assert finish_times(scenario, "edd") == {2: 25, 1: 55, 3: 110}
    assert weighted_tardiness_sum(scenario, "edd") == pytest.approx(80)
    # SPT (25, 55, 85) gives the same schedule.
    assert finish_times(scenario, "spt") == {2: 25, 1: 55, 3: 110}
    # ATC at 0, mean 55: slack 5, 25, 5 -> 1: 2/55 e^(-5/165) = 0.0353, 2: 1/25 e^(-25/165) = 0.0344,
    # 3: 4/85 e^(-5/165) = 0.0457 -> op1 <- 3 [0-85], op2 <- 1 [0-55]; op2 <- 2 [55-80]: 2 late 30 x 1.
    assert finish_times(scenario, "atc") == {3: 85, 1: 55, 2: 80}
    assert weighted_tardiness_sum(scenario, "atc") == pytest.approx(30)
    # CR at 0: 60/55 = 1.09, 50/25 = 2.0, 90/85 = 1.06 -> 3, 1, then 2: the ATC schedule.
    assert finish_times(scenario, "cr") == {3: 85, 1: 55, 2: 80}


def test_the_simulator_is_deterministic_for_a_seed():
    settings = Settings(0.9, 2.0, days=1)
    first, again, other = (
        build_scenario(5, settings),
        build_scenario(5, settings),
        build_scenario(6, settings),
    )
    assert first.orders == again.orders and first.operators == again.operators
    assert first.orders != other.orders
    for name in (DEFAULT_POLICY, "least_tasks", "random", "pool", "atc"):
        one = run_metrics(first, simulate(first, POLICIES[name]))
        two = run_metrics(again, simulate(again, POLICIES[name]))
        assert one == two, name


def test_every_policy_keeps_the_rules_and_the_bounds_hold():
    scenario = build_scenario(3, Settings(0.95, 1.5, days=2))
    clock = ShopClock(scenario)
    bounds = lower_bounds(scenario, clock)
    for name, policy in POLICIES.items():
        run = simulate(scenario, policy)
        figures = run_metrics(scenario, run, clock, bounds)
        assert run.violations == {"wip": 0, "skill": 0, "shift": 0, "absence": 0, "overrun": 0}, name
        assert figures["unfinished_orders"] == 0, name
        assert all(task.status is TaskStatus.COMPLETED for task in run.tasks), name
        assert figures["makespan"] >= figures["makespan_lower_bound"] - 1e-6, name
        assert figures["mean_flow_time"] >= figures["flow_lower_bound"] - 1e-6, name
        assert 0 < figures["utilization"] <= 1, name
        assert 0 < figures["jain_busy_minutes"] <= 1, name
        busy = sum(op.busy for op in run.operators)
        assert busy == pytest.approx(sum(task.actual for task in run.tasks)), name


def test_work_happens_only_while_operators_are_at_work():
    scenario = build_scenario(4, Settings(0.95, 2.0, days=2))
    run = simulate(scenario, POLICIES[DEFAULT_POLICY])
    for op in run.operators:
        for start, end, _ in op.intervals:
            assert any(a <= start and end <= b for a, b in zip(op.work_starts, op.work_ends, strict=True))


def test_explanations_of_simulated_decisions_name_the_excluded():
    scenario = build_scenario(2, Settings(0.95, 2.0, days=2))
    run = simulate(scenario, POLICIES[DEFAULT_POLICY])
    sample = run.sample_explanation
    assert sample["strategy"] == "due_date" and sample["task_order"]["order"] == "due_date"
    assert sample["excluded"] and all("reason" in e for e in sample["excluded"])


def test_settings_out_of_range_are_refused():
    for bad in ({"utilization": 0}, {"due_factor": 0.5}, {"days": 0}, {"wip_limit": 0}, {"days": 2.5}):
        with pytest.raises(ValidationError) as refused:
            Settings(**bad)
        assert refused.value.detail.key == "simulation.error.parameter_out_of_range"


def test_statistics_helpers():
    assert jain([5, 5, 5]) == pytest.approx(1)
    assert jain([1, 0, 0, 0]) == pytest.approx(0.25)
    assert t_quantile(29) == pytest.approx(2.045, abs=2e-3)
    assert t_quantile(9) == pytest.approx(2.262, abs=2e-3)
    mean, half = mean_ci([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5 and half == pytest.approx(3.182 * 1.2910 / 2, rel=1e-3)


def test_command_line_writes_the_promised_json(tmp_path, capsys):
    out = tmp_path / "sim.json"
    argv = ["--utilization", "0.85", "--due-factor", "2", "--seeds", "2", "--first-seed", "7", "--days", "1"]
    assert cli.main([*argv, "--json", str(out), "--processes", "1", "--plots", str(tmp_path)]) == 0
    document = json.loads(out.read_text())
    assert document["default_policy"] == DEFAULT_POLICY
    promised = {
        "weighted_tardiness",
        "pct_tardy",
        "mean_flow_time",
        "makespan",
        "makespan_lower_bound",
        "jain_busy_minutes",
        "violations",
        "idle_with_backlog_minutes",
    }
    assert set(POLICIES) <= set(document["policies"])
    for figures in document["policies"].values():
        assert set(figures) == promised
    assert document["settings"][0]["seeds"] == 2
    printed = capsys.readouterr().out
    assert "sim.weighted_tardiness_ratio" in printed and "| **due_date** |" in printed
    for name in ("tardiness_by_policy.png", "load_per_operator.png", "gantt_one_day.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "argv",
    [
        ["--utilization", "2"],
        ["--due-factor", "0"],
        ["--seeds", "0"],
        ["--policies", "nonsense"],
        ["--k", "0"],
    ],
)
def test_command_line_refuses_bad_parameters(argv, capsys):
    assert cli.main([*argv, "--no-plots"]) == 2
    assert "error:" in capsys.readouterr().err
