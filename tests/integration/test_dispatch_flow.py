"""Dispatch, claims and the operator lifecycle on SQLite and PostgreSQL."""

import re

import pytest
from sqlmodel import func, select

from tests.conftest import actor_for
from work_dispatch.domain.errors import (
    ConflictError,
    DomainError,
    IllegalTransitionError,
    PermissionDeniedError,
    ValidationError,
)
from work_dispatch.i18n import Message
from work_dispatch.models import (
    Notification,
    Process,
    Task,
    TaskEvent,
    WorkOrder,
    WorkOrderProcess,
)
from work_dispatch.services import dispatch, drafts, task_center, task_flow


def _tasks(db, order_id):
    db.expire_all()
    return db.exec(select(Task).where(Task.work_order_id == order_id).order_by(Task.sequence, Task.id)).all()


def _published_order(db, make_order, supervisor, product="POSTER", quantity=1000):
    order = make_order(product, quantity=quantity)
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    return order


def test_cycle_assigns_by_rule_and_explains(db, make_order, supervisor, shop):
    order = _published_order(db, make_order, supervisor)
    report = dispatch.run_cycle(db, seed=1)
    tasks = _tasks(db, order.id)
    by_process = {t.process_id: t for t in tasks}
    preflight = by_process[shop["process"]["PREFLIGHT"]]
    pack = by_process[shop["process"]["PACK"]]
    assert (
        preflight.status == "assigned" and preflight.assigned_department_id == shop["department"]["PREPRESS"]
    )
    assert pack.status == "queued" and pack.assigned_operator_id is None
    assert report.assigned == 3 and report.queued == 1
    event = db.exec(
        select(TaskEvent).where(TaskEvent.task_id == preflight.id, TaskEvent.kind == "dispatched")
    ).one()
    assert event.data["strategy"] == "least_tasks" and event.data["candidates"]
    assert "fewest open tasks" in Message.from_json(event.data["reason"]).render("en")
    assert "未完成任务最少" in Message.from_json(event.data["reason"]).render("zh-CN")
    notices = db.exec(select(Notification).where(Notification.task_id == preflight.id)).all()
    assert [n.recipient_id for n in notices] == [preflight.assigned_operator_id]
    assert dispatch.run_cycle(db).assigned == 0


def test_switch_off_skips_the_scheduled_cycle_but_preview_still_explains(db, make_order, supervisor):
    order = _published_order(db, make_order, supervisor)
    dispatch.set_auto_dispatch(db, supervisor, False)
    assert dispatch.run_cycle(db).skipped
    preview = dispatch.preview(db, supervisor)
    assert preview.assigned == 3 and preview.queued == 1
    assert {t.status for t in _tasks(db, order.id)} == {"pending"}
    assert dispatch.dispatch_now(db, supervisor).assigned == 3


def test_drafts_are_never_dispatched(db, make_order, supervisor):
    order = make_order("POSTER")
    dispatch.run_cycle(db)
    assert {t.status for t in _tasks(db, order.id)} == {"draft"}


def test_operator_lifecycle_unblocks_the_next_process(db, make_order, supervisor, shop):
    order = _published_order(db, make_order, supervisor, quantity=500)
    dispatch.run_cycle(db, seed=3)
    first, second, *_ = _tasks(db, order.id)
    operator_first = _actor_of(db, first)
    operator_second = _actor_of(db, second)
    with pytest.raises(IllegalTransitionError, match="blocked"):
        task_flow.start(db, operator_second, second.id)
    task_flow.start(db, operator_first, first.id)
    task_flow.report_quantity(db, operator_first, first.id, 200)
    task_flow.pause(db, operator_first, first.id, "waiting_for_material")
    with pytest.raises(IllegalTransitionError, match="Resume it first"):
        task_flow.complete(db, operator_first, first.id)
    task_flow.resume(db, operator_first, first.id)
    with pytest.raises(ValidationError, match="over-production"):
        task_flow.report_quantity(db, operator_first, first.id, 301)
    task_flow.report_quantity(db, operator_first, first.id, 300, defective=4, scrap_reason="WRONG_FILE")
    result = task_flow.complete(db, operator_first, first.id)
    assert result.process_completed and not result.work_order_completed
    task_flow.start(db, operator_second, second.id)
    kinds = [
        e.kind for e in db.exec(select(TaskEvent).where(TaskEvent.task_id == first.id).order_by(TaskEvent.id))
    ]
    assert kinds == [
        "generated",
        "published",
        "dispatched",
        "started",
        "reported",
        "paused",
        "resumed",
        "reported",
        "completed",
    ]
    db.expire_all()
    wop = db.get(WorkOrderProcess, first.work_order_process_id)
    assert (wop.status, wop.quantity_completed, wop.quantity_defective) == ("completed", 500, 4)


def _actor_of(db, task):
    from work_dispatch.models import User

    return actor_for(db, db.get(User, task.assigned_operator_id).username)


def test_start_blocking_reason_and_the_tablet_agree_on_what_blocks_a_task(db, make_order, supervisor):
    order = _published_order(db, make_order, supervisor, quantity=10)
    dispatch.run_cycle(db, seed=3)
    first, second, third, pack = _tasks(db, order.id)
    operator_second = _actor_of(db, second)
    packer = actor_for(db, "pack1")

    def card(operator, task_id):
        overview = task_center.overview(db, operator)
        return next(c for c in overview.my_tasks + overview.pool if c.id == task_id)

    def reasons(task, operator):
        db.expire_all()
        reason = task_flow.blocking_reason(db, db.get(Task, task.id))
        return (reason.render("en") if reason else None), card(operator, task.id).blocked_reason

    names = {t.id: db.get(Process, t.process_id).name for t in (first, second)}
    waiting = {t.id: f"Waiting for {names[t.id]} to finish." for t in (first, second)}
    assert reasons(first, _actor_of(db, first)) == (None, "")
    assert reasons(second, operator_second) == (waiting[first.id], waiting[first.id])
    assert reasons(pack, packer) == (waiting[first.id], waiting[first.id])
    with pytest.raises(IllegalTransitionError, match=re.escape(f"is blocked. {waiting[first.id]}")):
        task_flow.start(db, operator_second, second.id)

    task_flow.cancel(db, supervisor, first.id, "done elsewhere")
    assert reasons(second, operator_second) == (None, "")
    assert reasons(pack, packer) == (waiting[second.id], waiting[second.id])
    assert task_flow.start(db, operator_second, second.id).status == "in_progress"


def test_completing_every_process_completes_the_work_order(db, make_order, supervisor, shop):
    order = _published_order(db, make_order, supervisor, quantity=10)
    dispatch.run_cycle(db, seed=5)
    for task in _tasks(db, order.id):
        if task.status == "queued":
            member = "pack1"
            task_flow.claim(db, actor_for(db, member), task.id)
            task = db.get(Task, task.id)
        operator = _actor_of(db, task)
        task_flow.start(db, operator, task.id)
        task_flow.report_quantity(db, operator, task.id, 10)
        task_flow.complete(db, operator, task.id)
    db.expire_all()
    assert db.get(WorkOrder, order.id).status == "completed"
    kinds = set(db.exec(select(Notification.kind)).all())
    assert {"process_completed", "work_order_completed", "task_assigned"} <= kinds


def test_claim_rules(db, make_order, supervisor, shop):
    order = _published_order(db, make_order, supervisor)
    dispatch.run_cycle(db)
    pack_task = next(t for t in _tasks(db, order.id) if t.status == "queued")
    with pytest.raises(PermissionDeniedError, match="another department"):
        task_flow.claim(db, actor_for(db, "print1"), pack_task.id)
    task_flow.claim(db, actor_for(db, "pack1"), pack_task.id)
    with pytest.raises(ConflictError, match="Already taken"):
        task_flow.claim(db, actor_for(db, "pack2"), pack_task.id)
    with pytest.raises(PermissionDeniedError):
        task_flow.start(db, actor_for(db, "pack2"), pack_task.id)
    with pytest.raises(PermissionDeniedError):
        task_flow.claim(db, supervisor, pack_task.id)


def test_wip_limit_stops_claims(db, make_order, supervisor, shop):
    orders = [_published_order(db, make_order, supervisor, quantity=5) for _ in range(6)]
    dispatch.run_cycle(db)
    pool = [t for o in orders for t in _tasks(db, o.id) if t.status == "queued"]
    pack1 = actor_for(db, "pack1")
    for task in pool[: pack1.wip_limit]:
        task_flow.claim(db, pack1, task.id)
    with pytest.raises(ValidationError, match="WIP limit"):
        task_flow.claim(db, pack1, pool[pack1.wip_limit].id)
    assert db.get(Task, pool[pack1.wip_limit].id).status == "queued"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((-5,), ValidationError),
        (("lots",), ValidationError),
        ((0, 0), ValidationError),
        ((5, -1), ValidationError),
    ],
)
def test_bad_reports_change_nothing(db, make_order, supervisor, args, error):
    order = _published_order(db, make_order, supervisor)
    dispatch.run_cycle(db)
    first = _tasks(db, order.id)[0]
    operator = _actor_of(db, first)
    task_flow.start(db, operator, first.id)
    with pytest.raises(error):
        task_flow.report_quantity(db, operator, first.id, *args)
    db.expire_all()
    assert db.get(Task, first.id).quantity_completed == 0


def test_supervisor_reassigns_and_unassigns_with_reason(db, make_order, supervisor, shop):
    order = _published_order(db, make_order, supervisor)
    dispatch.run_cycle(db)
    first = _tasks(db, order.id)[0]
    other = "prepress2" if _actor_of(db, first).username == "prepress1" else "prepress1"
    target = actor_for(db, other)
    task_flow.reassign(db, supervisor, first.id, target.user_id, "Priya is out sick")
    db.expire_all()
    assert db.get(Task, first.id).assigned_operator_id == target.user_id
    with pytest.raises(DomainError, match="not in the task's department"):
        task_flow.reassign(db, supervisor, first.id, actor_for(db, "pack1").user_id)
    task_flow.unassign(db, supervisor, first.id, "rebalance")
    db.expire_all()
    task = db.get(Task, first.id)
    assert (task.status, task.assigned_operator_id) == ("queued", None)
    with pytest.raises(PermissionDeniedError):
        task_flow.reassign(db, target, first.id, target.user_id)
    events = db.exec(select(func.count()).select_from(TaskEvent).where(TaskEvent.task_id == first.id)).one()
    assert events == 5
