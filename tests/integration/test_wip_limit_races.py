"""The WIP limit holds when one operator's tasks arrive from many places at once, on both databases.

Nine tabs claim for one operator with limit 5 at the same moment; nine supervisors reassign nine
tasks to that operator at once. The check and the write must be one atomic step (row locks on
PostgreSQL, the write lock taken first on SQLite), so exactly five land.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import update
from sqlmodel import Session, func, select

from tests.conftest import actor_for
from work_dispatch.domain.enums import OPERATOR_LOAD_STATUSES
from work_dispatch.domain.errors import DomainError
from work_dispatch.models import Task, User, UserDepartment
from work_dispatch.services import auth, drafts, task_flow, work_orders
from work_dispatch.services.demo import load_reference_data

LIMIT = 5
TABS = 9


def _pool_of_nine(engine, publish=True):
    """Nine packing tasks (queued in the pool, or still drafts), one packer with WIP limit 5."""
    with Session(engine, expire_on_commit=False) as db:
        shop = load_reference_data(db)
        supervisor = actor_for(db, "super1")
        packing = shop["department"]["PACK"]
        packer = User(
            username="packer",
            display_name="Packer",
            password_hash=auth.hash_password("x"),
            role="operator",
            wip_limit=LIMIT,
        )
        db.add(packer)
        db.flush()
        db.add(UserDepartment(user_id=packer.id, department_id=packing))
        db.commit()
        route = work_orders.default_route(db, shop["product"]["POSTER"])
        for step in route:
            step["batch_size"] = 100
        order = work_orders.create_work_order(
            db,
            supervisor,
            {
                "customer_id": next(iter(shop["customer"].values())),
                "product_id": shop["product"]["POSTER"],
                "quantity": 100 * TABS,
                "route": route,
            },
        )
        work_orders.approve_work_order(db, supervisor, order.id)
        if publish:
            drafts.publish_drafts(db, supervisor, work_order_id=order.id)
        last = db.exec(select(func.max(Task.sequence)).where(Task.work_order_id == order.id)).one()
        task_ids = list(
            db.exec(
                select(Task.id).where(Task.work_order_id == order.id, Task.sequence == last).order_by(Task.id)
            )
        )
        assert len(task_ids) == TABS
        if not publish:
            db.execute(
                update(Task)
                .where(Task.id.in_(task_ids))
                .values(assigned_operator_id=packer.id, assigned_department_id=packing)
            )
            db.commit()
            return actor_for(db, "packer"), supervisor, task_ids, packer.id
        db.execute(
            update(Task)
            .where(Task.id.in_(task_ids))
            .values(status="queued", assigned_department_id=packing, assigned_operator_id=None)
        )
        # Earlier processes do not matter for claims and reassignments; keep the packer's load empty.
        db.commit()
        packer_actor = actor_for(db, "packer")
        return packer_actor, supervisor, task_ids, packer.id


def _all_at_once(engine, jobs):
    barrier = threading.Barrier(len(jobs))

    def run(job):
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            try:
                job(session)
                return "ok"
            except DomainError as error:
                return error.message

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def _held_by(engine, operator_id):
    with Session(engine) as db:
        return db.exec(
            select(func.count())
            .select_from(Task)
            .where(Task.assigned_operator_id == operator_id, Task.status.in_(OPERATOR_LOAD_STATUSES))
        ).one()


def test_nine_tabs_claiming_at_once_get_exactly_the_wip_limit(engine):
    packer, _supervisor, task_ids, packer_id = _pool_of_nine(engine)
    results = _all_at_once(engine, [lambda s, t=t: task_flow.claim(s, packer, t) for t in task_ids])
    assert results.count("ok") == LIMIT, results
    assert all("WIP limit" in r for r in results if r != "ok"), results
    assert _held_by(engine, packer_id) == LIMIT


def test_nine_reassignments_to_one_operator_at_once_stop_at_the_wip_limit(engine):
    _packer, supervisor, task_ids, packer_id = _pool_of_nine(engine)
    results = _all_at_once(
        engine, [lambda s, t=t: task_flow.reassign(s, supervisor, t, packer_id, "rush") for t in task_ids]
    )
    assert results.count("ok") == LIMIT, results
    assert all("WIP limit" in r for r in results if r != "ok"), results
    assert _held_by(engine, packer_id) == LIMIT


def test_nine_supervisors_publishing_drafts_preset_to_one_operator_stop_at_the_wip_limit(engine):
    _packer, supervisor, task_ids, packer_id = _pool_of_nine(engine, publish=False)
    results = _all_at_once(
        engine, [lambda s, t=t: drafts.publish_drafts(s, supervisor, [t]) for t in task_ids]
    )
    assert results.count("ok") == TABS, results  # every draft is published ...
    assert _held_by(engine, packer_id) == LIMIT  # ... but only five reach the packer
    with Session(engine) as db:
        statuses = sorted(db.exec(select(Task.status).where(Task.id.in_(task_ids))).all())
    assert statuses == ["assigned"] * LIMIT + ["pending"] * (TABS - LIMIT)


def test_publishing_to_an_inactive_or_full_preset_operator_sends_the_drafts_to_dispatch(engine):
    _packer, supervisor, task_ids, packer_id = _pool_of_nine(engine, publish=False)
    with Session(engine, expire_on_commit=False) as db:
        report = drafts.publish_drafts(db, supervisor, task_ids[:6])
        assert len(report.assigned) == LIMIT and len(report.sent_to_dispatch) == 1
        assert "went to dispatch" in report.summary()
        db.execute(update(User).where(User.id == packer_id).values(is_active=False, wip_limit=20))
        db.commit()
        report = drafts.publish_drafts(db, supervisor, task_ids[6:])
        assert report.assigned == [] and report.sent_to_dispatch == sorted(task_ids[6:])
        assert "预设操作员" in report.summary("zh-CN")
        released = db.exec(select(Task).where(Task.id.in_(report.sent_to_dispatch))).all()
        assert {(t.status, t.assigned_operator_id) for t in released} == {("pending", None)}
