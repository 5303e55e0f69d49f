"""Shifts, presence, absences, skills and minutes in dispatch, claims and reassignment (both databases)."""

from dataclasses import replace
from datetime import datetime, time, timedelta

import pytest
from sqlmodel import select, update

from tests.conftest import actor_for
from work_dispatch.domain.errors import ConflictError, ValidationError
from work_dispatch.domain.scheduling import remaining_of_plan
from work_dispatch.i18n import Message
from work_dispatch.models import (
    Absence,
    AssignmentRule,
    Closure,
    Department,
    Presence,
    Qualification,
    ShiftTemplate,
    Task,
    TaskEvent,
    utc_now,
)
from work_dispatch.services import board, dispatch, drafts, presence, rules, task_flow
from work_dispatch.services.shifts import mask_of, shop_timezone
from work_dispatch.services.workload import operator_loads

MONDAY = datetime(2030, 1, 7, tzinfo=shop_timezone())


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    """Monday 7 January 2030 (plus ``day`` days) at hour:minute, shop time."""
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def _tasks(db, order_id):
    db.expire_all()
    return db.exec(select(Task).where(Task.work_order_id == order_id).order_by(Task.sequence, Task.id)).all()


def _published(db, make_order, supervisor, product="POSTER", quantity=1000):
    order = make_order(product, quantity=quantity)
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    return order


def _first(db, order_id) -> Task:
    return _tasks(db, order_id)[0]


def _rule(db, shop, process: str, department: str) -> AssignmentRule:
    return db.exec(
        select(AssignmentRule).where(
            AssignmentRule.process_id == shop["process"][process],
            AssignmentRule.department_id == shop["department"][department],
        )
    ).one()


def _set_rule(db, shop, process, department, **values) -> None:
    rule = _rule(db, shop, process, department)
    for name, value in values.items():
        setattr(rule, name, value)
    db.add(rule)
    db.commit()


def _shift(db, shop, department, start, end, weekdays=range(5), overnight=False) -> None:
    db.add(
        ShiftTemplate(
            department_id=shop["department"][department],
            name="Day",
            start_time=start,
            end_time=end,
            weekdays=mask_of(weekdays),
            overnight=overnight,
        )
    )
    db.commit()


def _absent(db, shop, username, start, end) -> None:
    db.add(Absence(operator_id=shop["user"][username], start_at=start, end_at=end, reason="leave"))
    db.commit()


def _excluded(event_data) -> dict[int, str]:
    return {e["operator_id"]: e["reason"] for e in event_data.get("excluded", [])}


def test_generation_plans_minutes_from_the_rate_and_split_replans_them(db, make_order, supervisor, shop):
    order = make_order("POSTER", quantity=1000)
    first = _first(db, order.id)
    assert (first.setup_minutes, first.planned_minutes) == (15.0, pytest.approx(15 + 60.0))
    new_id = drafts.split_draft(db, supervisor, first.id, 400)
    db.expire_all()
    kept, moved = db.get(Task, first.id), db.get(Task, new_id)
    assert kept.planned_minutes == pytest.approx(15 + 400 * 60 / 1000)
    assert moved.planned_minutes == pytest.approx(15 + 600 * 60 / 1000)


def test_absent_operators_get_no_work_and_the_explanation_says_why(db, make_order, supervisor, shop):
    _absent(db, shop, "prepress1", at(6), at(18))
    order = _published(db, make_order, supervisor)
    dispatch.run_cycle(db, seed=1, now=at(10))
    first = _first(db, order.id)
    assert first.assigned_operator_id == shop["user"]["prepress2"]
    event = db.exec(
        select(TaskEvent).where(TaskEvent.task_id == first.id, TaskEvent.kind == "dispatched")
    ).one()
    assert _excluded(event.data) == {shop["user"]["prepress1"]: "absent"}
    assert "absent" in Message.from_json(event.data["excluded"][0]["message"]).render("en")
    drawer = board.task_detail(db, supervisor, first.id)
    lines = [line for e in drawer.events for line in e.details]
    assert any("Left out" in line and "absent" in line for line in lines)
    zh = board.task_detail(db, replace(supervisor, locale="zh-CN"), first.id)
    assert any("未考虑" in line for e in zh.events for line in e.details)


def test_departments_that_require_check_in_wait_for_it(db, make_order, supervisor, shop):
    prepress = db.get(Department, shop["department"]["PREPRESS"])
    prepress.requires_check_in = True
    db.add(prepress)
    db.commit()
    order = _published(db, make_order, supervisor)
    report = dispatch.preview(db, supervisor, now=at(10))
    first = _first(db, order.id)
    [decision] = [d for d in report.decisions if d.task_id == first.id]
    assert decision.outcome == "unroutable"
    assert set(_excluded(decision.explanation).values()) == {"not_checked_in"}
    rows, _ = rules.preview(db, replace(supervisor, locale="zh-CN"))
    [row] = [r for r in rows if r.task_id == first.id]
    assert "未签到" in row.details and "规则" in row.details
    dispatch.run_cycle(db, seed=1, now=at(10))
    assert _first(db, order.id).status == "pending"
    operator = actor_for(db, "prepress2")
    view = presence.check_in(db, operator, now=at(9))
    assert view.checked_in and view.since == at(9) and view.requires_check_in
    dispatch.run_cycle(db, seed=1, now=at(10))
    assert _first(db, order.id).assigned_operator_id == operator.user_id
    presence.check_out(db, operator, now=at(11))
    with pytest.raises(ValidationError, match="not checked in"):
        presence.check_out(db, operator, now=at(11))
    second = _published(db, make_order, supervisor)
    dispatch.run_cycle(db, seed=1, now=at(12))
    assert _first(db, second.id).status == "pending"


def test_off_shift_operators_get_no_work_until_their_shift(db, make_order, supervisor, shop):
    _shift(db, shop, "PREPRESS", time(8), time(16))
    order = _published(db, make_order, supervisor)
    dispatch.run_cycle(db, seed=1, now=at(20))
    assert _first(db, order.id).status == "pending"
    decision = next(
        d
        for d in dispatch.preview(db, supervisor, now=at(20)).decisions
        if d.task_id == _first(db, order.id).id
    )
    assert set(_excluded(decision.explanation).values()) == {"off_shift"}
    text = Message.from_json(decision.explanation["excluded"][0]["message"]).render("en")
    assert "off shift" in text and "08:00" in text
    dispatch.run_cycle(db, seed=1, now=at(8, 30, day=1))
    assert _first(db, order.id).status == "assigned"


def test_a_rule_minimum_level_needs_a_qualified_operator(db, make_order, supervisor, shop):
    _set_rule(db, shop, "PREFLIGHT", "PREPRESS", min_level=2)
    order = _published(db, make_order, supervisor)
    dispatch.run_cycle(db, seed=1, now=at(10))
    assert _first(db, order.id).status == "pending"
    db.add(
        Qualification(operator_id=shop["user"]["prepress2"], process_id=shop["process"]["PREFLIGHT"], level=2)
    )
    db.add(
        Qualification(operator_id=shop["user"]["prepress1"], process_id=shop["process"]["PREFLIGHT"], level=1)
    )
    db.commit()
    dispatch.run_cycle(db, seed=1, now=at(10))
    first = _first(db, order.id)
    assert first.assigned_operator_id == shop["user"]["prepress2"]
    event = db.exec(
        select(TaskEvent).where(TaskEvent.task_id == first.id, TaskEvent.kind == "dispatched")
    ).one()
    assert _excluded(event.data) == {shop["user"]["prepress1"]: "not_qualified"}


def _hold(db, shop, username, order_id, minutes: float) -> None:
    """Give an operator the first task of an order as assigned work of ``minutes`` planned minutes.

    The order's later tasks are cancelled, so that no other dispatch decision adds to anyone's load.
    """
    task = _first(db, order_id)
    db.execute(
        update(Task).where(Task.work_order_id == order_id, Task.id != task.id).values(status="cancelled")
    )
    db.execute(
        update(Task)
        .where(Task.id == task.id)
        .values(
            status="assigned",
            assigned_operator_id=shop["user"][username],
            assigned_department_id=task.assigned_department_id or shop["department"]["PREPRESS"],
            planned_minutes=minutes,
            setup_minutes=0.0,
        )
    )
    db.commit()


def test_least_work_weighs_minutes_where_least_tasks_counts_tasks(db, make_order, supervisor, shop):
    big, small_a, small_b = (_published(db, make_order, supervisor) for _ in range(3))
    _hold(db, shop, "prepress1", big.id, 600)
    _hold(db, shop, "prepress2", small_a.id, 10)
    _hold(db, shop, "prepress2", small_b.id, 10)
    _set_rule(db, shop, "PREFLIGHT", "PREPRESS", strategy="least_tasks")
    order = _published(db, make_order, supervisor)
    counted = next(
        d
        for d in dispatch.preview(db, supervisor, now=at(10)).decisions
        if d.task_id == _first(db, order.id).id
    )
    assert counted.operator_id == shop["user"]["prepress1"]
    _set_rule(db, shop, "PREFLIGHT", "PREPRESS", strategy="least_work")
    dispatch.run_cycle(db, seed=1, now=at(10))
    first = _first(db, order.id)
    assert first.assigned_operator_id == shop["user"]["prepress2"]
    event = db.exec(
        select(TaskEvent).where(TaskEvent.task_id == first.id, TaskEvent.kind == "dispatched")
    ).one()
    loads = {c["operator_id"]: c["load_minutes"] for c in event.data["candidates"]}
    assert loads == {shop["user"]["prepress1"]: 600.0, shop["user"]["prepress2"]: 20.0}
    assert "least remaining work" in Message.from_json(event.data["reason"]).render("en")


def test_due_date_gives_work_to_free_operators_and_explains_the_finish(db, make_order, supervisor, shop):
    _set_rule(db, shop, "PREFLIGHT", "PREPRESS", strategy="due_date")
    _shift(db, shop, "PREPRESS", time(8), time(16))
    busy = _published(db, make_order, supervisor)
    _hold(db, shop, "prepress1", busy.id, 120)
    order = _published(db, make_order, supervisor)
    dispatch.run_cycle(db, seed=1, now=at(10))
    first = _first(db, order.id)
    assert first.assigned_operator_id == shop["user"]["prepress2"]
    event = db.exec(
        select(TaskEvent).where(TaskEvent.task_id == first.id, TaskEvent.kind == "dispatched")
    ).one()
    assert event.data["task_order"]["order"] == "due_date" and "index" in event.data["task_order"]
    [row] = event.data["candidates"]
    assert row["operator_id"] == shop["user"]["prepress2"] and row["shift_remaining_minutes"] == 360.0
    assert event.data.get("deferred", [{}])[0].get("operator_id") == shop["user"]["prepress1"]
    second = _published(db, make_order, supervisor)
    waiting = _first(db, second.id)
    [decision] = [
        d for d in dispatch.preview(db, supervisor, now=at(10)).decisions if d.task_id == waiting.id
    ]
    # Both operators may take it but hold work: it waits for the first who is free, and says so.
    assert decision.outcome == "unroutable" and decision.explanation["excluded"] == []
    assert decision.explanation["reason"]["key"] == "scheduling.reason.all_busy"
    busy_ids = {d["operator_id"] for d in decision.explanation["deferred"]}
    assert busy_ids == {shop["user"]["prepress1"], shop["user"]["prepress2"]}
    dispatch.run_cycle(db, seed=1, now=at(10))
    assert _first(db, second.id).status == "pending"


def _pack_task(db, make_order, supervisor) -> Task:
    order = _published(db, make_order, supervisor)
    dispatch.run_cycle(db, seed=1, now=utc_now())
    return _tasks(db, order.id)[-1]


def test_claims_are_refused_to_absent_or_unqualified_operators(db, make_order, supervisor, shop):
    task = _pack_task(db, make_order, supervisor)
    assert task.status == "queued"
    now = utc_now()
    _absent(db, shop, "pack1", now - timedelta(hours=1), now + timedelta(hours=1))
    with pytest.raises(ConflictError, match="absent"):
        task_flow.claim(db, actor_for(db, "pack1"), task.id)
    _set_rule(db, shop, "PACK", "PACK", min_level=1)
    with pytest.raises(ConflictError, match="not qualified"):
        task_flow.claim(db, actor_for(db, "pack2"), task.id)
    db.expire_all()
    assert db.get(Task, task.id).status == "queued"
    db.add(Qualification(operator_id=shop["user"]["pack2"], process_id=shop["process"]["PACK"], level=1))
    db.commit()
    assert task_flow.claim(db, actor_for(db, "pack2"), task.id).status == "assigned"


def test_claims_respect_closures_in_departments_without_shifts(db, make_order, supervisor, shop):
    task = _pack_task(db, make_order, supervisor)
    today = utc_now().astimezone(shop_timezone()).date()
    db.add(Closure(department_id=shop["department"]["PRINT"], first_day=today, last_day=today, reason="move"))
    db.commit()
    assert task_flow.claim(db, actor_for(db, "pack1"), task.id).status == "assigned"

    other = _pack_task(db, make_order, supervisor)
    db.add(Closure(department_id=None, first_day=today, last_day=today, reason="holiday"))
    db.commit()
    with pytest.raises(ConflictError, match="off shift"):
        task_flow.claim(db, actor_for(db, "pack2"), other.id)
    db.expire_all()
    assert db.get(Task, other.id).status == "queued"


def test_reassignment_is_refused_to_an_operator_off_shift(db, make_order, supervisor, shop):
    task = _pack_task(db, make_order, supervisor)
    tomorrow = (utc_now().astimezone(shop_timezone()).weekday() + 1) % 7
    _shift(db, shop, "PACK", time(0), time(0, 1), weekdays=[tomorrow])
    with pytest.raises(ConflictError, match="off shift"):
        task_flow.reassign(db, supervisor, task.id, shop["user"]["pack1"])
    db.expire_all()
    assert db.get(Task, task.id).assigned_operator_id is None


def test_shift_end_returns_unstarted_work_pauses_running_work_and_checks_out(
    db, make_order, supervisor, shop
):
    _shift(db, shop, "PREPRESS", time(8), time(16))
    orders = [_published(db, make_order, supervisor) for _ in range(2)]
    operator = actor_for(db, "prepress1")
    presence.check_in(db, operator, now=at(7, 58))
    _set_rule(db, shop, "PREFLIGHT", "PREPRESS", strategy="first_available")
    dispatch.run_cycle(db, seed=1, now=at(10))
    running, waiting = (_first(db, o.id) for o in orders)
    assert {running.assigned_operator_id, waiting.assigned_operator_id} == {operator.user_id}
    task_flow.start(db, operator, running.id)
    assert presence.end_shifts(db, now=at(15, 59)).returned == 0
    report = presence.end_shifts(db, now=at(16, 5))
    assert (report.returned, report.paused, report.checked_out) == (1, 1, 0)
    db.expire_all()
    running, waiting = db.get(Task, running.id), db.get(Task, waiting.id)
    assert (running.status, running.pause_reason) == ("paused", "shift_end")
    assert (waiting.status, waiting.assigned_operator_id) == ("pending", None)
    kinds = {
        e.task_id: e.kind
        for e in db.exec(select(TaskEvent).where(TaskEvent.task_id.in_([running.id, waiting.id]))).all()
        if e.kind in ("returned", "paused")
    }
    assert kinds == {running.id: "paused", waiting.id: "returned"}
    assert presence.end_shifts(db, now=at(16, 21)) == presence.ShiftEndReport(0, 0, 1)
    assert db.exec(select(Presence).where(Presence.checked_out_at.is_(None))).all() == []
    assert presence.end_shifts(db, now=at(16, 30)) == presence.ShiftEndReport()
    dispatch.run_cycle(db, seed=1, now=at(17))
    assert db.get(Task, waiting.id).status == "pending"  # nobody on shift
    view = presence.presence_of(db, operator, now=at(17))
    assert not view.on_shift and view.next_shift_at == at(8, day=1)


def test_departments_can_keep_work_at_shift_end(db, make_order, supervisor, shop):
    _shift(db, shop, "PREPRESS", time(8), time(16))
    prepress = db.get(Department, shop["department"]["PREPRESS"])
    prepress.shift_end_returns_tasks = False
    prepress.shift_end_pauses_tasks = False
    db.add(prepress)
    db.commit()
    order = _published(db, make_order, supervisor)
    dispatch.run_cycle(db, seed=1, now=at(10))
    assert presence.end_shifts(db, now=at(16, 5)) == presence.ShiftEndReport()
    assert _first(db, order.id).status == "assigned"


def test_load_in_minutes_shrinks_with_good_quantity_on_board_and_in_sql(db, make_order, supervisor, shop):
    order = _published(db, make_order, supervisor, quantity=2000)
    dispatch.run_cycle(db, seed=1, now=utc_now())
    first = _first(db, order.id)
    operator = actor_for(db, board_operator_name(db, first))
    assert first.planned_minutes == pytest.approx(15 + 120)
    task_flow.start(db, operator, first.id)
    task_flow.report_quantity(db, operator, first.id, 500)
    db.expire_all()
    first = db.get(Task, first.id)
    expected = remaining_of_plan(first.planned_minutes, first.setup_minutes, 2000, 500)
    assert expected == pytest.approx(90.0)  # setup done, 1,500 of 2,000 units left at 1,000 an hour
    others = db.exec(
        select(Task).where(
            Task.assigned_operator_id == operator.user_id, Task.status.in_(["assigned", "paused"])
        )
    ).all()
    total = expected + sum(
        remaining_of_plan(t.planned_minutes, t.setup_minutes, t.production_quantity, t.quantity_completed)
        for t in others
    )
    assert operator_loads(db, [operator.user_id])[operator.user_id].minutes == pytest.approx(total)
    [row] = board.rows_by_ids(db, supervisor, [first.id])
    assert (row.minutes_left, row.operator_load_minutes) == (90, round(total))
    line = board.task_detail(db, supervisor, first.id).minutes
    assert line.startswith("Planned 135 min · 90 min left · worked ") and f"load {round(total)} min" in line


def board_operator_name(db, task) -> str:
    from work_dispatch.models import User

    return db.get(User, task.assigned_operator_id).username


def test_the_drawer_splits_time_an_operator_spent_on_two_tasks_at_once(db, make_order, supervisor, shop):
    order = _published(db, make_order, supervisor)
    first, second = _tasks(db, order.id)[:2]
    operator = shop["user"]["pack1"]
    for task in (first, second):
        task.assigned_operator_id = operator
        db.add(task)
    base = utc_now().replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=3)
    worked = [
        (first.id, "started", 0, operator),
        (second.id, "started", 60, operator),
        (first.id, "completed", 120, operator),
        (second.id, "paused", 180, None),  # a shift-end pause is the system's
        (second.id, "resumed", 240, operator),
        (second.id, "completed", 270, operator),
    ]
    for task_id, kind, minutes, actor_id in worked:
        db.add(
            TaskEvent(
                task_id=task_id, kind=kind, actor_id=actor_id, created_at=base + timedelta(minutes=minutes)
            )
        )
    db.commit()
    # 08:00-09:00 first alone, 09:00-10:00 both (half each), 10:00-11:00 second alone, 12:00-12:30 second.
    assert " worked 90 min " in board.task_detail(db, supervisor, first.id).minutes
    assert " worked 120 min " in board.task_detail(db, supervisor, second.id).minutes
