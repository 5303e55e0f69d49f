"""Failures in the middle of work: a dispatch cycle or a generation losing its connection, a crashing job."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, func, select

from tests.conftest import actor_for, backend_waiting_on_a_lock, hold_first_planned_key
from work_dispatch.models import Notification, Task, TaskEvent, WorkOrder
from work_dispatch.services import audit, dispatch, drafts, work_orders
from work_dispatch.services.demo import load_reference_data


def _published_orders(db, count=3):
    shop = load_reference_data(db)
    supervisor = actor_for(db, "super1")
    for _ in range(count):
        order = work_orders.create_work_order(
            db,
            supervisor,
            {
                "customer_id": next(iter(shop["customer"].values())),
                "product_id": shop["product"]["POSTER"],
                "quantity": 100,
                "route": work_orders.default_route(db, shop["product"]["POSTER"]),
            },
        )
        work_orders.approve_work_order(db, supervisor, order.id)
        drafts.publish_drafts(db, supervisor, work_order_id=order.id)


def test_a_cycle_that_loses_its_connection_changes_nothing_and_the_next_succeeds(
    pg_engine, pg_url, monkeypatch
):
    with Session(pg_engine, expire_on_commit=False) as db:
        _published_orders(db)
        events_before = db.exec(select(func.count()).select_from(TaskEvent)).one()
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    original = audit.record_events

    def connection_dies(db, *args, **kwargs):
        pid = db.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return original(db, *args, **kwargs)

    monkeypatch.setattr(dispatch, "record_events", connection_dies)
    with Session(pg_engine) as db, pytest.raises(DBAPIError):
        dispatch.run_cycle(db, seed=1)
    monkeypatch.setattr(dispatch, "record_events", original)
    with Session(pg_engine) as db:
        assert set(db.exec(select(Task.status).where(Task.is_draft.is_(False))).all()) == {"pending"}
        assert db.exec(select(func.count()).select_from(TaskEvent)).one() == events_before
        assert db.exec(select(func.count()).select_from(Notification)).one() == 0
        report = dispatch.run_cycle(db, seed=1)
        assert report.assigned + report.queued == 12
    admin.dispose()


def test_a_crashing_dispatch_job_is_logged_and_the_next_one_runs(monkeypatch, caplog):
    from work_dispatch import scheduler as scheduler_module

    calls = []

    async def flaky_run(service, *args, **kwargs):
        calls.append(service)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return dispatch.DispatchReport()

    monkeypatch.setattr(scheduler_module, "run", flaky_run)
    job = scheduler_module.DispatchScheduler(interval_s=1, redis_url=None)
    asyncio.run(job.dispatch_job())
    asyncio.run(job.dispatch_job())
    assert (job.failures, job.cycles) == (1, 1)
    assert "Dispatch cycle failed" in caplog.text


def test_generation_killed_mid_copy_leaves_nothing_and_the_retry_generates_once(pg_engine, pg_url):
    with Session(pg_engine, expire_on_commit=False) as db:
        shop = load_reference_data(db)
        supervisor = actor_for(db, "super1")
        order = work_orders.create_work_order(
            db,
            supervisor,
            {
                "customer_id": next(iter(shop["customer"].values())),
                "product_id": shop["product"]["POSTER"],
                "quantity": 10_000,
                "route": work_orders.default_route(db, shop["product"]["POSTER"]),
            },
        )
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with Session(pg_engine) as rival:
        # The rival's uncommitted key stops the generation's COPY mid-load, where its connection is cut.
        hold_first_planned_key(rival, order.id)
        with ThreadPoolExecutor(max_workers=1) as pool, Session(pg_engine) as session:
            approving = pool.submit(work_orders.approve_work_order, session, supervisor, order.id)
            pid = backend_waiting_on_a_lock(pg_engine)
            with admin.connect() as connection:
                connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(DBAPIError):
                approving.result(timeout=30)
        rival.rollback()
    admin.dispose()
    with Session(pg_engine) as db:
        assert db.exec(select(func.count()).select_from(Task)).one() == 0
        assert db.exec(select(func.count()).select_from(TaskEvent)).one() == 0
        assert db.get(WorkOrder, order.id).status == "draft"

        report = work_orders.approve_work_order(db, supervisor, order.id)
        tasks = db.exec(select(Task.id, Task.generation_key).where(Task.work_order_id == order.id)).all()
        assert sorted(report.created) == sorted(task_id for task_id, _ in tasks)
        assert len({key for _, key in tasks}) == len(tasks) > 0
        generated = db.exec(select(TaskEvent.task_id).where(TaskEvent.kind == "generated")).all()
        assert sorted(generated) == sorted(report.created)
