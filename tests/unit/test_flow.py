"""Flow production in the domain: transfer batches, reports, labour time and ETA (hand-computed)."""

import itertools
from datetime import UTC, datetime, time, timedelta

import pytest

from work_dispatch.domain import flow
from work_dispatch.domain.errors import ValidationError
from work_dispatch.domain.flow import EtaTask, FlowEvent, StepOutput, TaskOutput
from work_dispatch.domain.scheduling import ShiftTemplate, WorkCalendar
from work_dispatch.i18n import catalog, translate

MONDAY = datetime(2030, 1, 7, tzinfo=UTC)
EARLY = ShiftTemplate("Early", time(6), time(14))
LATE = ShiftTemplate("Late", time(14), time(22))


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def refused(call, *args, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as error:
        call(*args, **kwargs)
    assert error.value.detail.key in catalog("en"), error.value.detail.key
    return error.value


# -- transfer batches ---------------------------------------------------------------------------------


def test_transfer_batch_validation_refuses_zero_negative_and_larger_than_quantity():
    assert flow.validate_transfer_batch(None, 5000) is None
    assert flow.validate_transfer_batch("", 5000) is None
    assert flow.validate_transfer_batch(" 2000 ", 5000) == 2000
    assert flow.validate_transfer_batch(5000, 5000) == 5000
    assert flow.validate_transfer_batch(800) == 800  # a route or process default: no quantity
    for bad in (0, -5, "abc", 2.5, True):
        error = refused(flow.validate_transfer_batch, bad, 5000)
        assert error.detail.key == "flow.error.batch_not_positive" and error.field == "transfer_batch"
    error = refused(flow.validate_transfer_batch, 6000, 5000)
    assert error.detail.key == "flow.error.batch_exceeds_quantity"
    assert error.detail.params == {"batch": 6000, "quantity": 5000}
    assert "6000" in error.message and "5000" in error.message
    assert "6000" in error.render("zh-CN") and "转序批量" in error.render("zh-CN")


def test_transfer_batch_resolution_step_then_route_then_process():
    assert flow.resolve_transfer_batch(500, 1000, 2000) == 500
    assert flow.resolve_transfer_batch(None, 1000, 2000) == 1000
    assert flow.resolve_transfer_batch(None, None, 2000) == 2000
    assert flow.resolve_transfer_batch(None, None, None) is None
    # A default at or above the step's quantity means the whole quantity.
    assert flow.resolve_transfer_batch(None, None, 2000, quantity=1500) is None
    assert flow.resolve_transfer_batch(None, 1000, None, quantity=1500) == 1000


def printing(*tasks: TaskOutput, complete: bool = False) -> StepOutput:
    return StepOutput(1, 5000, None, tasks, complete)


def cutting(*tasks: TaskOutput, batch: int | None = 1000) -> StepOutput:
    return StepOutput(2, 5000, batch, tasks)


def test_availability_sums_every_upstream_task_and_counts_downstream_scrap_as_used():
    # Two presses print 5,000 sheets: 1,200 good (+80 scrap) and 900 good so far.
    upstream = printing(TaskOutput(1, 2500, good=1200, scrap=80), TaskOutput(2, 2500, good=900))
    assert upstream.good == 2100  # scrap is not output
    # Die cutting has cut 700 good and scrapped 50: 750 sheets used.
    step = cutting(TaskOutput(3, 5000, good=700, scrap=50))
    assert step.consumed == 750
    assert flow.available(upstream.good, step.consumed) == 1350
    assert flow.report_cap(upstream, step, step.tasks[0]) == 1350
    state = flow.handover(upstream, step)
    assert state.available == 1350 and state.upstream_good == 2100 and state.startable == {3: True}
    # Never negative, even with inconsistent input.
    assert flow.available(100, 300) == 0


def test_the_first_step_has_no_limit_and_is_always_startable():
    step = printing(TaskOutput(1, 5000))
    assert flow.upstream_of([step, cutting()], 1) is None
    assert flow.report_cap(None, step, step.tasks[0]) is None
    assert flow.handover(None, step).startable == {1: True}


def test_split_downstream_tasks_share_the_available_material_and_start_on_a_batch_each():
    upstream = printing(TaskOutput(1, 5000, good=1500))
    # Cutting split in two tasks of 4,200 and 800; batch 1,000.
    step = cutting(TaskOutput(3, 4200, good=600), TaskOutput(4, 800))
    state = flow.handover(upstream, step)
    assert state.available == 900
    # Task 3 needs a whole batch (1,000) to go on: not yet. Task 4 needs min(1,000, 800) = 800: yes.
    assert state.startable == {3: False, 4: True}
    assert state.threshold == 800
    # Reporting 900 on task 4 would use more than its own 800 but the cap is the step's material.
    assert flow.report_cap(upstream, step, step.tasks[1]) == 900
    # After upstream's next 300 good sheets task 3 has its batch.
    more = printing(TaskOutput(1, 5000, good=1800))
    assert flow.handover(more, step).startable == {3: True, 4: True}


def test_without_a_transfer_batch_only_completion_unlocks_the_next_step():
    step = cutting(TaskOutput(3, 5000), batch=None)
    almost = printing(TaskOutput(1, 5000, good=4999))
    assert flow.handover(almost, step).startable == {3: False}
    assert flow.handover(almost, step).threshold is None
    done = printing(TaskOutput(1, 5000, good=4900, scrap=150, closed=True), complete=True)
    assert flow.handover(done, step).startable == {3: True}
    # Completion with a shortfall still caps what cutting may report.
    assert flow.report_cap(done, step, step.tasks[0]) == 4900


def test_startable_rule():
    assert flow.startable(upstream_complete=True, available=0, transfer_batch=None, remaining=10)
    assert flow.startable(upstream_complete=False, available=None, transfer_batch=None, remaining=10)
    assert not flow.startable(upstream_complete=False, available=999, transfer_batch=1000, remaining=5000)
    assert flow.startable(upstream_complete=False, available=1000, transfer_batch=1000, remaining=5000)
    assert flow.startable(upstream_complete=False, available=300, transfer_batch=1000, remaining=300)
    assert not flow.startable(upstream_complete=False, available=0, transfer_batch=1000, remaining=0)


def test_rework_loops_count_rework_good_once_and_consume_nothing_more():
    upstream = printing(TaskOutput(1, 5000, good=5000, closed=True), complete=True)
    # Cutting: 4,000 good, 100 scrap, 300 sent to rework (task 5), which reworked 200 good,
    # scrapped 20 and sent 30 back to rework again (task 6: a rework of the rework), 10 good so far.
    origin = TaskOutput(3, 5000, good=4000, scrap=100, rework=300)
    rework = TaskOutput(5, 300, good=200, scrap=20, rework=30, rework_of=3)
    again = TaskOutput(6, 30, good=10, rework_of=5)
    step = cutting(origin, rework, again)
    assert step.good == 4210  # every good unit, once
    assert step.consumed == 4400  # only the origin used printed sheets
    assert flow.available(upstream.good, step.consumed) == 600
    # A rework task may report on the units it was given, no more.
    assert flow.report_cap(upstream, step, rework) == 50
    assert flow.report_cap(upstream, step, again) == 20
    assert rework.remaining == 50 and again.remaining == 20
    # The origin still has to make 5,000 − 4,000 good − 300 in rework = 700.
    assert origin.remaining == 700
    # Rework tasks always have their material.
    assert flow.handover(upstream, step).startable == {3: True, 5: True, 6: True}
    # Packing downstream sees cutting's good output, rework included.
    packing = StepOutput(3, 5000, 1000, (TaskOutput(7, 5000, good=4000),))
    assert flow.available(step.good, packing.consumed) == 210


def test_reports_are_checked_before_anything_changes():
    report = flow.validate_report(900, 50, 20, {"scrap": "smudge", "rework": "misregister"}, cap=1000)
    assert (report.good, report.scrap, report.rework, report.processed) == (900, 50, 20, 970)
    assert report.scrap_reason == "smudge" and report.rework_reason == "misregister"
    assert flow.validate_report(10).processed == 10

    error = refused(flow.validate_report, 0, 0, 0)
    assert error.detail.key == "flow.error.report_nothing"
    error = refused(flow.validate_report, -1)
    assert error.detail.key == "flow.error.quantity_invalid" and error.field == "good"
    assert "Good quantity" in error.message and "良品数量" in error.render("zh-CN")
    assert refused(flow.validate_report, 1, 2.5).field == "scrap"
    assert refused(flow.validate_report, 1, 0, "x").field == "rework"
    # Scrap and rework need a reason, from the process's list when it has one.
    error = refused(flow.validate_report, 100, 5)
    assert error.detail.key == "flow.error.scrap_reason_required" and error.field == "scrap_reason"
    error = refused(flow.validate_report, 100, 0, 5, {"rework": "  "})
    assert error.detail.key == "flow.error.rework_reason_required" and error.field == "rework_reason"
    error = refused(flow.validate_report, 100, 5, 0, {"scrap": "cat"}, scrap_reasons={"smudge", "tear"})
    assert error.detail.key == "flow.error.reason_unknown" and error.detail.params == {"reason": "cat"}
    assert flow.validate_report(100, 5, 0, {"scrap": "tear"}, scrap_reasons={"smudge", "tear"}).scrap == 5
    # Downstream may not use more than upstream made: the cap is in the message.
    error = refused(flow.validate_report, 900, 100, 1, {"scrap": "x", "rework": "y"}, cap=1000)
    assert error.detail.key == "flow.error.report_exceeds_available"
    assert error.detail.params == {"cap": 1000, "requested": 1001}
    assert "1000" in error.message and "1000" in error.render("zh-CN")
    error = refused(flow.validate_report, 60, cap=50, rework_task=True)
    assert error.detail.key == "flow.error.report_exceeds_rework"
    assert flow.validate_report(50, cap=50, rework_task=True).good == 50


def test_rework_of_produced_units_is_capped_by_what_was_produced_and_not_handed_on():
    assert flow.rework_cap(1200) == 1200
    assert flow.rework_cap(1200, downstream_available=400) == 400
    assert flow.validate_rework(300, "misregister", produced=400) == 300
    error = refused(flow.validate_rework, 500, "misregister", produced=400)
    assert error.detail.key == "flow.error.rework_exceeds_produced"
    assert error.detail.params == {"rework": 500, "produced": 400}
    assert refused(flow.validate_rework, 0, "x", produced=400).detail.key == "flow.error.report_nothing"
    assert refused(flow.validate_rework, 10, "", produced=400).field == "rework_reason"


def test_material_first_becomes_available_exactly_once():
    threshold = flow.handover_threshold(1000, 5000, [5000])
    assert threshold == 1000
    assert flow.handover_threshold(1000, 600) == 600
    assert flow.handover_threshold(None, 5000) is None
    # Three presses report in every order: exactly one report crosses 1,000, whatever the order.
    reports = [(1, 400), (2, 350), (1, 300), (3, 200), (2, 500)]
    for order in itertools.permutations(reports):
        good, crossings = 0, 0
        for _, quantity in order:
            crossings += flow.first_handover(good, good + quantity, threshold)
            good += quantity
        assert crossings == 1, order
    # A single report from zero past the threshold unlocks; nothing does without a batch.
    assert flow.first_handover(0, 5000, 1000)
    assert not flow.first_handover(1000, 1500, 1000)
    assert not flow.first_handover(0, 5000, None)


# -- labour time --------------------------------------------------------------------------------------


def test_labour_time_across_pause_and_shift_end():
    events = [
        ("started", at(8), {}, 7),
        ("paused", at(9), {"reason": "machine_breakdown"}, 7),
        ("resumed", at(9, 30), {}, 7),
        ("paused", at(14), {"reason": "shift_end"}, None),  # the shift-end job pauses it
        ("resumed", at(6, day=1), {}, 7),
        ("completed", at(7, 15, day=1), {}, 7),
    ]
    intervals = flow.work_intervals(events)
    assert [(i.start, i.end, i.operator_id) for i in intervals] == [
        (at(8), at(9), 7),
        (at(9, 30), at(14), 7),
        (at(6, day=1), at(7, 15, day=1), 7),
    ]
    assert flow.elapsed_minutes(events) == 60 + 270 + 75
    # The breakdown is downtime; the night after the shift-end pause is not.
    assert flow.downtime_minutes(events) == {"breakdown": 30}


def test_labour_time_of_a_task_still_running_and_of_odd_event_orders():
    events = [
        FlowEvent("started", at(8), actor_id=3),
        FlowEvent("started", at(8, 5), actor_id=3),  # a duplicate start changes nothing
        FlowEvent("completed", at(9), actor_id=3),
        FlowEvent("completed", at(9, 10), actor_id=3),  # nor does a second close
        FlowEvent("resumed", at(10), actor_id=4),
    ]
    assert flow.elapsed_minutes(events) == 60
    assert flow.elapsed_minutes(events, until=at(10, 30)) == 90
    # Unordered input is read in time order.
    assert flow.elapsed_minutes(list(reversed(events[:3]))) == 60


def test_two_tasks_in_progress_at_once_split_the_time_equally():
    # Operator 5 runs task 1 from 8:00 to 10:00 and task 2 from 9:00 to 11:00.
    minutes = flow.split_concurrent({1: [(at(8), at(10))], 2: [(at(9), at(11))], 3: []})
    # 8-9 task 1 alone (60), 9-10 both (30 each), 10-11 task 2 alone (60).
    assert minutes == {1: 90, 2: 90, 3: 0}
    # Three at once for an hour.
    three = flow.split_concurrent({1: [(at(8), at(9))], 2: [(at(8), at(9))], 3: [(at(8), at(9))]})
    assert three == pytest.approx({1: 20, 2: 20, 3: 20})
    labour = flow.labour_minutes(
        {
            1: [("started", at(8), {}, 5), ("completed", at(10), {}, 5)],
            2: [("started", at(9), {}, 5), ("paused", at(11), {"reason": "break"}, 5)],
            3: [("started", at(9), {}, 6), ("completed", at(10), {}, 6)],  # another operator
        }
    )
    assert labour.by_task == {1: 90, 2: 90, 3: 60}
    assert labour.by_operator == {5: 180, 6: 60}  # what each really worked, never more
    assert labour.by_task_operator[(2, 5)] == 90


def test_downtime_per_category_from_pause_to_resume():
    events = [
        ("started", at(6), {}),
        ("paused", at(7), {"reason": "material_shortage"}),  # an older reason value
        ("resumed", at(7, 20), {}),
        ("paused", at(8), {"category": "setup", "reason": "new die"}),
        ("resumed", at(8, 45), {}),
        ("paused", at(9), {"reason": "the forklift was late"}),  # free text
        ("resumed", at(9, 10), {}),
        ("paused", at(10), {"category": "quality_hold"}),
    ]
    assert flow.downtime_minutes(events) == {"waiting_for_material": 20, "setup": 45, "other": 10}
    with_open = flow.downtime_minutes(events, until=at(10, 30))
    assert with_open["quality_hold"] == 30
    # Measured in working minutes: a breakdown from 13:00 to 07:00 next day is 2 h of the early shift.
    night = [("paused", at(13), {"category": "breakdown"}), ("resumed", at(7, day=1), {})]
    assert flow.downtime_minutes(night, calendar=WorkCalendar([EARLY])) == {"breakdown": 120}
    assert flow.pause_category("shift_end") is None
    assert flow.pause_category("machine_breakdown") == "breakdown"
    for category in flow.DOWNTIME_CATEGORIES:
        assert flow.pause_category(category) == category
        assert translate(f"flow.downtime.{category}", "zh-CN") != f"flow.downtime.{category}"


# -- ETA ----------------------------------------------------------------------------------------------


def test_eta_on_a_tiny_hand_computed_shop():
    early = WorkCalendar([EARLY])
    # Monday 06:00. Printing (department 1) has one press, cutting (2) one cutter.
    #   Order 10: print 120 min, then cut 60 min.  Order 20: print 60 min (queued after 10's).
    #   Order 30: cut 90 min, already running on the cutter.
    tasks = [
        EtaTask(1, 10, 1, 1, 120, rank=0),
        EtaTask(2, 10, 2, 2, 60, rank=0),
        EtaTask(3, 20, 1, 1, 60, rank=1),
        EtaTask(4, 30, 2, 2, 90, rank=5, in_progress=True),
    ]
    due = {10: at(9), 20: at(12), 30: at(7)}
    eta = flow.estimate(tasks, {1: [early], 2: [early]}, at(6), due)
    # Press: 1 [6:00-8:00], 3 [8:00-9:00]. Cutter: 4 [6:00-7:30] (in progress first),
    # 2 waits for printing to finish at 8:00 -> [8:00-9:00].
    assert {t: (e.start, e.finish) for t, e in eta.tasks.items()} == {
        1: (at(6), at(8)),
        3: (at(8), at(9)),
        4: (at(6), at(7, 30)),
        2: (at(8), at(9)),
    }
    assert {o: (e.finish, e.at_risk) for o, e in eta.orders.items()} == {
        10: (at(9), False),  # due 9:00, finishes 9:00: on time
        20: (at(9), False),
        30: (at(7, 30), True),  # due 7:00
    }
    # Two presses: 1 and 3 in parallel.
    eta = flow.estimate(tasks, {1: [early, early], 2: [early]}, at(6), due)
    assert eta.tasks[3].finish == at(7) and eta.tasks[2].start == at(8)


def test_eta_crosses_shifts_and_the_night():
    early, late = WorkCalendar([EARLY]), WorkCalendar([LATE])
    task = EtaTask(1, 1, 1, 1, 600)
    # 480 min on Monday's early shift, 120 more on Tuesday: 08:00.
    assert flow.estimate([task], {1: [early]}, at(6)).tasks[1].finish == at(8, day=1)
    # A lane that opens later is not chosen over one that works now.
    eta = flow.estimate([task, EtaTask(2, 2, 1, 1, 60, rank=1)], {1: [late, early]}, at(6))
    assert eta.tasks[1].start == at(6) and eta.tasks[2].start == at(14)
    # Friday 13:00 + 120 min: an hour on Friday, an hour on Monday.
    friday = at(13, day=4)
    assert flow.estimate([task], {1: [early]}, friday).tasks[1].start == friday
    short = EtaTask(1, 1, 1, 1, 120)
    assert flow.estimate([short], {1: [early]}, friday).tasks[1].finish == at(7, day=7)


def test_eta_with_a_transfer_batch_starts_after_the_first_batch():
    early = WorkCalendar([EARLY])
    # Print 100 units: setup 20 + 1 min a unit = 120 min. Cut 100 units: setup 10 + 0.5 min a unit,
    # transfer batch 20. Cutting may start once 20 are printed: 6:00 + 20 + 20 = 6:40; its own
    # work ends 7:40, but the last batch leaves the press at 8:00 and takes 10 min: 8:10.
    printing_task = EtaTask(1, 1, 1, 1, 120, units=100, setup_minutes=20)
    cutting_task = EtaTask(2, 1, 2, 2, 60, units=100, setup_minutes=10, transfer_batch=20)
    eta = flow.estimate([printing_task, cutting_task], {1: [early], 2: [early]}, at(6), {1: at(8)})
    assert eta.tasks[2].start == at(6, 40) and eta.tasks[2].finish == at(8, 10)
    assert eta.orders[1].finish == at(8, 10) and eta.orders[1].at_risk
    # Material already handed over: 15 available, 5 more to wait for: 6:00 + 20 + 5 = 6:25.
    partly = EtaTask(2, 1, 2, 2, 60, units=100, setup_minutes=10, transfer_batch=20, available_units=15)
    eta = flow.estimate([printing_task, partly], {1: [early], 2: [early]}, at(6))
    assert eta.tasks[2].start == at(6, 25)
    # Without a batch cutting waits for printing: 8:00 to 9:00.
    whole = EtaTask(2, 1, 2, 2, 60, units=100, setup_minutes=10)
    eta = flow.estimate([printing_task, whole], {1: [early], 2: [early]}, at(6))
    assert (eta.tasks[2].start, eta.tasks[2].finish) == (at(8), at(9))
    # A rework task does not wait for the previous step.
    rework = EtaTask(3, 1, 2, 2, 30, after_upstream=False, rank=-1)
    eta = flow.estimate([printing_task, whole, rework], {1: [early], 2: [early]}, at(6))
    assert (eta.tasks[3].start, eta.tasks[3].finish) == (at(6), at(6, 30))


def test_eta_without_capacity_is_unknown_and_at_risk():
    early = WorkCalendar([EARLY])
    tasks = [EtaTask(1, 1, 1, 1, 60), EtaTask(2, 1, 2, 9, 60), EtaTask(3, 1, 3, 1, 30)]
    eta = flow.estimate(tasks, {1: [early]}, at(6), {1: at(20)})
    assert eta.tasks[1].finish == at(7)
    assert eta.tasks[2].finish is None and eta.tasks[3].finish is None  # nobody in department 9
    assert eta.orders[1].finish is None and eta.orders[1].at_risk
    assert flow.department_lanes(early, 3) == [early, early, early]
    assert flow.estimate([], {1: [early]}, at(6)) == flow.Eta({}, {})
