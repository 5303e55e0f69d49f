"""The shop simulator: determinism, hand-computed schedules, bounds, violations, command line."""

import json

import pytest

from work_dispatch.domain.enums import TaskStatus
from work_dispatch.domain.errors import ValidationError
from work_dispatch.domain.scheduling import WorkCalendar, planned_minutes
from work_dispatch.simulation import cli
from work_dispatch.simulation.engine import simulate
from work_dispatch.simulation.metrics import (
    ShopClock,
    eta_mae,
    jain,
    lower_bounds,
    mean_ci,
    run_metrics,
    t_quantile,
)
from work_dispatch.simulation.policies import DEFAULT_POLICY, all_policies
from work_dispatch.simulation.runner import HANDOVER_METRICS, handover_figures, run_grid, summary
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
    with_transfer_batches,
    without_transfer_batches,
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
    assert "sim.handover_flow_time_gain" in printed and "eta.mae_ratio" in printed
    handover = document["handover"]
    assert handover["sim.handover_flow_time_gain"] > 0 and handover["eta.mae_ratio"] > 0
    assert document["ratios"]["handover_flow_time_gain"] == handover["sim.handover_flow_time_gain"]
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
        ["--transfer-batch", "0"],
        ["--transfer-batch", "many"],
        ["--hindsight", "-1"],
        ["--hindsight", "10001"],
    ],
)
def test_command_line_refuses_bad_parameters(argv, capsys):
    assert cli.main([*argv, "--no-plots"]) == 2
    assert "error:" in capsys.readouterr().err


# -- handover (transfer batches) and ETA -----------------------------------------------------------------

PRINTING, DIE_CUTTING = 3, 4


def flow_shop(steps: list[tuple[int, int, int | None]], quantity: int) -> Scenario:
    """One order released Monday 06:00 through ``steps`` = (process, department, transfer batch),
    one qualified operator per department on the early shift, real minutes = planned minutes."""
    route = []
    for process_id, _, batch in steps:
        minutes = planned_minutes(PROCESS[process_id].rate, quantity)
        route.append(Step(process_id, quantity, minutes, minutes, batch))
    order = Order(1, "box", "normal", MONDAY_6, MONDAY_6 + 10_000, tuple(route))
    people = [
        SimOperator(i, f"op-{i}", department, EARLY, {process_id: 2}, (), WorkCalendar([EARLY]))
        for i, (process_id, department, _) in enumerate(steps, start=1)
    ]
    return Scenario(1, Settings(), people, [order], WorkCalendar(SHOP_SHIFTS))


def test_with_a_transfer_batch_die_cutting_starts_after_the_first_pallet():
    # Printing 6,000 sheets: 40 min setup + 60 min run (100 sheets a minute) -> 06:00-07:40.
    # Die cutting 6,000: 30 min setup + 102.857 min run (3,500 an hour) = 132.857 min.
    whole = flow_shop([(PRINTING, 3, None), (DIE_CUTTING, 4, None)], 6000)
    batched = flow_shop([(PRINTING, 3, None), (DIE_CUTTING, 4, 1000)], 6000)
    policy = POLICIES[DEFAULT_POLICY]
    before, after = simulate(whole, policy, eta=True), simulate(batched, policy, eta=True)
    cut_before, cut_after = before.tasks[1], after.tasks[1]
    # Whole quantity: cutting waits for the last sheet, 07:40, and ends at 07:40 + 132.857.
    assert cut_before.first_started_at == pytest.approx(MONDAY_6 + 100)
    assert before.completed_at[0] == pytest.approx(MONDAY_6 + 100 + 132.857, abs=1e-3)
    # Batch of 1,000: the first pallet is off the press at 06:00 + 40 + 10 = 06:50; the cutter
    # (slower than the press) never runs out, so it ends 50 minutes earlier.
    assert cut_after.first_started_at == pytest.approx(MONDAY_6 + 50)
    assert after.completed_at[0] == pytest.approx(MONDAY_6 + 50 + 132.857, abs=1e-3)
    assert after.handover_notices == 1 and after.material_violations == 0 and after.starved == 0
    assert before.handover_notices == 0
    # With exact durations the ETA taken at release is the completion, with and without batches.
    assert before.eta_at_release[0] == pytest.approx(before.completed_at[0], abs=1e-3)
    assert after.eta_at_release[0] == pytest.approx(after.completed_at[0], abs=1e-3)
    figures = run_metrics(batched, after)
    assert figures["mean_flow_time"] == pytest.approx(50 + 132.857, abs=1e-3)


def test_a_faster_downstream_step_waits_for_material_and_never_overtakes():
    # Printing 10,000: setup 40, then 100 a minute -> reports every 1,500 sheets at 06:55, 07:10,
    # 07:25, 07:40, 07:55, 08:10, done 08:20 (minute 500). Packing 10,000: setup 10, 133.3 a minute
    # (85 min); batch 1,500. It starts at 06:55 (415); with 4,500 sheets it runs dry at 458.75,
    # resumes at 460 (6,000), dry at 471.25, resumes 475 (7,500), dry at 486.25, resumes 490
    # (9,000) and needs the last sheets: printing completes at 500, packing at 490 + 18.75.
    scenario = flow_shop([(PRINTING, 3, None), (7, 6, 1500)], 10_000)
    run = simulate(scenario, POLICIES[DEFAULT_POLICY])
    packing = run.tasks[1]
    assert packing.first_started_at == pytest.approx(415)
    assert run.tasks[0].completed_at == pytest.approx(500)
    assert packing.completed_at == pytest.approx(508.75)
    assert run.starved == 3 and packing.starved == 3
    assert run.material_violations == 0 and run.handover_notices == 1
    packer = next(op for op in run.operators if op.department_id == 6)
    assert [(round(a, 2), round(b, 2)) for a, b, _ in packer.intervals] == [
        (415, 458.75),
        (460, 471.25),
        (475, 486.25),
        (490, 508.75),
    ]
    # Without the batch: 08:20 + 85 min.
    whole = simulate(flow_shop([(PRINTING, 3, None), (7, 6, None)], 10_000), POLICIES[DEFAULT_POLICY])
    assert whole.completed_at[0] == pytest.approx(585)


def test_handover_runs_are_deterministic_and_keep_the_rules():
    settings = Settings(0.9, 2.0, days=2)
    scenario = build_scenario(5, settings)
    batched = with_transfer_batches(scenario)
    assert batched.orders != scenario.orders
    assert [o.release for o in batched.orders] == [o.release for o in scenario.orders]
    assert without_transfer_batches(batched).orders == scenario.orders
    steps = [s for o in batched.orders for s in o.steps]
    batching = sum(s.transfer_batch is not None for s in steps)
    assert batching > 0 and all(s.transfer_batch is None or s.transfer_batch < s.quantity for s in steps)
    policy = POLICIES[DEFAULT_POLICY]
    one, two = (
        simulate(batched, policy, eta=True),
        simulate(with_transfer_batches(scenario), policy, eta=True),
    )
    assert run_metrics(batched, one) == run_metrics(batched, two)
    assert one.eta_at_release == two.eta_at_release and None not in one.eta_at_release
    assert one.violations == {"wip": 0, "skill": 0, "shift": 0, "absence": 0, "overrun": 0}
    assert one.material_violations == 0
    assert one.handover_notices == batching  # every batching step told once
    assert all(task.status is TaskStatus.COMPLETED for task in one.tasks)
    assert sum(op.busy for op in one.operators) == pytest.approx(sum(task.actual for task in one.tasks))
    # Downstream work overlaps upstream work: mean flow time is shorter than handing over whole.
    whole = run_metrics(scenario, simulate(scenario, policy))
    assert run_metrics(batched, one)["mean_flow_time"] < whole["mean_flow_time"]
    assert 0 < eta_mae(batched, one) < whole["mean_flow_time"]


def test_the_eta_only_watches_the_run():
    scenario = build_scenario(6, Settings(0.95, 1.5, days=1))
    for name in (DEFAULT_POLICY, "least_tasks", "atc"):
        plain = simulate(scenario, POLICIES[name])
        watched = simulate(scenario, POLICIES[name], eta=True)
        assert run_metrics(scenario, plain) == run_metrics(scenario, watched), name
        assert plain.eta_at_release == [] and len(watched.eta_at_release) == len(scenario.orders)


def test_the_handover_figures_come_from_the_paired_runs():
    cells = run_grid([Settings(0.85, 2.0, days=1)], range(3, 5), [POLICIES[DEFAULT_POLICY]], processes=1)
    cell = cells[0]
    assert set(cell.handover) == set(HANDOVER_METRICS)
    assert cell.handover["flow_whole"] == cell.values[DEFAULT_POLICY]["mean_flow_time"]
    figures = handover_figures(cells)
    flow_whole = sum(cell.handover["flow_whole"]) / 2
    flow_batches = sum(cell.handover["flow_batches"]) / 2
    assert figures["handover_flow_time_gain"] == pytest.approx(flow_whole / flow_batches)
    assert figures["eta_mae_ratio"] == pytest.approx(sum(cell.handover["eta_mae"]) / 2 / flow_batches)
    assert cell.handover["handover_notices"] == cell.handover["batched_steps"]
    assert summary(cells)["handover"]["sim.handover_flow_time_gain"] == figures["handover_flow_time_gain"]
    none = run_grid([Settings(0.85, 2.0, days=1)], [3], [POLICIES["fifo"]], processes=1, handover=None)
    assert none[0].handover == {} and "handover" not in summary(none)
