"""Live ETA: estimates stored on tasks and work orders, at risk when after delivery (both databases)."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import select, update

from work_dispatch.models import Task, WorkOrder
from work_dispatch.realtime.registry import BOARD_VIEW, SessionRegistry, Watcher
from work_dispatch.services import board, dispatch, drafts, eta, work_orders


def _published(db, make_order, supervisor, quantity=1000, product="POSTER"):
    order = make_order(product, quantity=quantity)
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    return order


def test_refresh_estimates_every_open_task_and_its_work_order(db, make_order, supervisor, shop):
    order = _published(db, make_order, supervisor, quantity=2000)
    dispatch.run_cycle(db, seed=1)
    now = datetime(2030, 1, 7, 8, tzinfo=UTC)
    report = eta.refresh(db, now=now)
    db.expire_all()
    tasks = db.exec(select(Task).where(Task.work_order_id == order.id).order_by(Task.sequence)).all()
    assert report.tasks == len(tasks) and report.work_orders == [order.id]
    assert sorted(report.task_ids) == sorted(t.id for t in tasks)
    finishes = [t.eta_at for t in tasks]
    assert all(f is not None and f > now for f in finishes)
    assert finishes == sorted(finishes)  # the route's order
    work_order = db.get(WorkOrder, order.id)
    assert work_order.eta_at == max(finishes)
    # Planned minutes: 4 steps of 15 + 120 min; with everyone free the order takes about that long.
    assert timedelta(minutes=4 * 135) <= work_order.eta_at - now < timedelta(hours=12)
    assert not work_order.eta_at_risk
    assert eta.refresh(db, now=now).work_orders == []  # nothing moved: nothing rewritten


def test_an_order_due_before_its_estimate_is_at_risk_and_listed_as_such(db, make_order, supervisor, shop):
    late = _published(db, make_order, supervisor, quantity=50_000)
    fine = _published(db, make_order, supervisor, quantity=100)
    now = datetime(2030, 1, 14, 8, tzinfo=UTC)
    db.exec(update(Task).where(Task.work_order_id == late.id).values(due_at=now + timedelta(hours=2)))
    db.commit()
    eta.refresh(db, now=now)
    db.expire_all()
    assert db.get(WorkOrder, late.id).eta_at_risk and not db.get(WorkOrder, fine.id).eta_at_risk
    page = work_orders.list_work_orders(db, supervisor, at_risk=True)
    assert [row.id for row in page.rows] == [late.id]
    [row] = page.rows
    assert row.at_risk and row.eta
    late_task = db.exec(select(Task.id).where(Task.work_order_id == late.id).order_by(Task.sequence)).first()
    [board_row] = board.rows_by_ids(db, supervisor, [late_task])
    assert board_row.eta and board_row.eta_late


def test_the_at_risk_filter_reaches_the_export(db, make_order, supervisor, shop):
    from work_dispatch.services import exports

    late = _published(db, make_order, supervisor, quantity=50_000)
    _published(db, make_order, supervisor, quantity=100)
    now = datetime(2030, 1, 14, 8, tzinfo=UTC)
    db.exec(update(Task).where(Task.work_order_id == late.id).values(due_at=now + timedelta(hours=2)))
    db.commit()
    eta.refresh(db, now=now)
    rows = list(exports.work_order_rows(db, supervisor, {"at_risk": True}, now))
    assert len(rows) == 1 and late.order_number in rows[0]


def test_the_eta_job_names_the_moved_tasks_so_a_board_filtered_to_their_department_rereads(
    db, make_order, supervisor, shop, monkeypatch
):
    from work_dispatch import scheduler as scheduler_module

    order = _published(db, make_order, supervisor)
    dispatch.run_cycle(db, seed=1)
    task = db.exec(select(Task).where(Task.work_order_id == order.id).order_by(Task.sequence)).first()
    published = []

    async def run_here(service, *args, **kwargs):
        return service(db, *args, **kwargs)

    monkeypatch.setattr(scheduler_module, "run", run_here)
    monkeypatch.setattr(scheduler_module, "publish", published.append)
    asyncio.run(scheduler_module.DispatchScheduler(interval_s=1, redis_url=None).eta_job())

    [event] = published
    assert event.kind == "eta_changed" and task.id in event.task_ids and event.work_order_ids == (order.id,)
    registry = SessionRegistry()
    showing = Watcher(
        "board-showing",
        BOARD_VIEW,
        supervisor.user_id,
        board_departments=frozenset({task.assigned_department_id}),
        visible_task_ids=frozenset({task.id}),
    )
    elsewhere = Watcher("board-elsewhere", BOARD_VIEW, supervisor.user_id, board_departments=frozenset({-1}))
    registry.register(showing)
    registry.register(elsewhere)
    assert [w.token for w in registry.audience(event)] == ["board-showing"]
