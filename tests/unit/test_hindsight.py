"""Hindsight priorities: the order offsets steer the real dispatch, and the search is sound."""

import json

import pytest

from tests.unit.test_simulation import MONDAY_6, POLICIES, tiny
from work_dispatch.simulation import cli
from work_dispatch.simulation.engine import simulate
from work_dispatch.simulation.hindsight import run_hindsight, search, weighted_tardiness
from work_dispatch.simulation.policies import DEFAULT_POLICY
from work_dispatch.simulation.shop import Settings, build_scenario

DUE_DATE = POLICIES[DEFAULT_POLICY]


def finishes(scenario, order_bias=None) -> dict[int, float]:
    run = simulate(scenario, DUE_DATE, order_bias=order_bias)
    return {o.order_id: done - MONDAY_6 for o, done in zip(scenario.orders, run.completed_at, strict=True)}


def test_zero_offsets_change_nothing():
    scenario = build_scenario(11, Settings(0.95, 1.5, days=1))
    plain = simulate(scenario, DUE_DATE)
    zero = simulate(scenario, DUE_DATE, order_bias=[0.0] * len(scenario.orders))
    assert plain.completed_at == zero.completed_at
    assert [t.operator_id for t in plain.tasks] == [t.operator_id for t in zero.tasks]


def test_an_offset_moves_its_order_up_the_queue():
    # One packer; minutes 55, 25, 85; due 150, 100, 120; weights 2, 1, 4 (see test_simulation.tiny).
    scenario = tiny(1, {1: 150, 2: 100, 3: 120})
    # due_date (k = 1.5) at 0, k·mean = 82.5: indexes 0.0115, 0.0161, 0.0308 -> 3 [0-85];
    # at 85: 2 (slack -10) 0.04 beats 1 (slack 10) 0.0308 -> 2 [85-110], 1 [110-165]; WT 10 + 30.
    assert finishes(scenario) == {3: 85, 2: 110, 1: 165}
    # Order 2 × e^10 goes first; at 25, k·mean = 105: 3 (slack 10) 0.0428 beats 1 (slack 70) 0.0187.
    assert finishes(scenario, [0.0, 10.0, 0.0]) == {2: 25, 3: 110, 1: 165}


def test_the_search_finds_the_hand_computed_optimum_of_a_tiny_week():
    # Of the six sequences, 2-3-1 is the best: only order 1 is late (15 min × 2) = 30 in all.
    scenario = tiny(1, {1: 150, 2: 100, 3: 120})
    found = search(scenario, DUE_DATE, 60)
    assert found.start * 3 == pytest.approx(40)
    assert found.best * 3 == pytest.approx(30)
    assert found.improvements >= 1
    assert weighted_tardiness(scenario, DUE_DATE, found.offsets) == pytest.approx(found.best)


def test_the_search_is_deterministic_and_never_worse():
    scenario = build_scenario(12, Settings(0.95, 1.5, days=1))
    one, two = search(scenario, DUE_DATE, 6), search(scenario, DUE_DATE, 6)
    assert one == two
    assert one.best <= one.start
    assert one.start == pytest.approx(weighted_tardiness(scenario, DUE_DATE))


def test_offsets_need_an_index_and_one_per_order():
    scenario = tiny(1, {1: 150, 2: 100, 3: 120})
    with pytest.raises(ValueError):
        simulate(scenario, POLICIES["edd"], order_bias=[0.0, 0.0, 0.0])
    with pytest.raises(ValueError):
        simulate(scenario, DUE_DATE, order_bias=[0.0])
    with pytest.raises(ValueError):
        search(scenario, POLICIES["fifo"], 3)
    with pytest.raises(ValueError):
        search(scenario, DUE_DATE, -1)


def test_the_grid_pairs_every_seed_with_its_references():
    cells = run_hindsight([Settings(0.95, 1.5, days=1)], range(3, 5), 2, processes=1)
    values = cells[0].values
    assert set(values) == {"edd", "atc", DEFAULT_POLICY, "hindsight"}
    assert all(len(v) == 2 for v in values.values())
    assert all(h <= p for h, p in zip(values["hindsight"], values[DEFAULT_POLICY], strict=True))
    assert cells[0].ratio("hindsight") <= cells[0].ratio(DEFAULT_POLICY)


def test_command_line_reports_hindsight(tmp_path, capsys):
    out = tmp_path / "hindsight.json"
    argv = ["--utilization", "0.95", "--due-factor", "1.5", "--seeds", "1", "--days", "1"]
    assert cli.main([*argv, "--hindsight", "2", "--processes", "1", "--json", str(out)]) == 0
    document = json.loads(out.read_text())["hindsight"]
    assert document["policy"] == DEFAULT_POLICY and document["iterations"] == 2
    assert document["hindsight_ratio"] <= document["policy_ratio"]
    assert document["settings"][0]["means"]["hindsight"] <= document["settings"][0]["means"][DEFAULT_POLICY]
    assert "sim.hindsight_wt_ratio" in capsys.readouterr().out


def test_a_setting_where_no_reference_is_late_has_no_ratio(tmp_path, capsys):
    out = tmp_path / "hindsight.json"
    argv = ["--utilization", "0.95", "--due-factor", "1.5", "50", "--seeds", "1", "--days", "1"]
    assert cli.main([*argv, "--hindsight", "1", "--processes", "1", "--json", str(out)]) == 0
    document = json.loads(out.read_text())["hindsight"]
    loose = document["settings"][1]
    assert loose["means"]["edd"] == 0 and loose["policy_ratio"] is None
    assert document["settings_rated"] == 1
    assert document["policy_ratio"] == document["settings"][0]["policy_ratio"]
    assert "n/a (no tardiness under EDD or ATC)" in capsys.readouterr().out
