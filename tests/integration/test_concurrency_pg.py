"""Races on PostgreSQL: many actors at once, exactly one winner, nothing lost or doubled."""

import random
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import event, update
from sqlmodel import Session, func, select

from tests.conftest import actor_for, backend_waiting_on_a_lock, hold_first_planned_key
from work_dispatch.domain.errors import DomainError
from work_dispatch.models import Task, TaskEvent, User, UserDepartment, WorkOrder, WorkOrderProcess
from work_dispatch.services import auth, dispatch, drafts, task_flow, work_orders
from work_dispatch.services.demo import load_reference_data


def _add_operators(db, department_id, count):
    password_hash = auth.hash_password("x")
    ids = []
    for index in range(count):
        user = User(
            username=f"racer{index}",
            display_name=f"Racer {index}",
            password_hash=password_hash,
            role="operator",
            wip_limit=5,
        )
        db.add(user)
        db.flush()
        db.add(UserDepartment(user_id=user.id, department_id=department_id))
        ids.append(user.id)
    db.commit()
    return ids


def _order(db, shop, supervisor, quantity=100):
    form = {
        "customer_id": next(iter(shop["customer"].values())),
        "product_id": shop["product"]["POSTER"],
        "quantity": quantity,
        "route": work_orders.default_route(db, shop["product"]["POSTER"]),
    }
    order = work_orders.create_work_order(db, supervisor, form)
    work_orders.approve_work_order(db, supervisor, order.id)
    return order


def _run_all(pg_engine, jobs, workers):
    barrier = threading.Barrier(len(jobs))

    def run(job):
        with Session(pg_engine, expire_on_commit=False) as session:
            barrier.wait()
            try:
                return "ok", job(session)
            except DomainError as error:
                return "refused", error.message

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, jobs))


def test_fifty_concurrent_claims_have_exactly_one_winner(pg_engine):
    with Session(pg_engine, expire_on_commit=False) as db:
        shop = load_reference_data(db)
        supervisor = actor_for(db, "super1")
        operator_ids = _add_operators(db, shop["department"]["PACK"], 50)
        order = _order(db, shop, supervisor)
        drafts.publish_drafts(db, supervisor, work_order_id=order.id)
        dispatch.run_cycle(db)
        pack_task = db.exec(select(Task).where(Task.work_order_id == order.id, Task.status == "queued")).one()
        actors = {uid: actor_for(db, f"racer{i}") for i, uid in enumerate(operator_ids)}
    results = _run_all(
        pg_engine, [lambda s, a=a: task_flow.claim(s, a, pack_task.id) for a in actors.values()], 50
    )
    winners = [r for r in results if r[0] == "ok"]
    assert len(winners) == 1
    assert all("Already taken" in message for status, message in results if status == "refused")
    with Session(pg_engine) as db:
        task = db.get(Task, pack_task.id)
        assert task.status == "assigned" and task.assigned_operator_id in operator_ids
        claims = db.exec(
            select(func.count())
            .select_from(TaskEvent)
            .where(TaskEvent.task_id == pack_task.id, TaskEvent.kind == "claimed")
        ).one()
        assert claims == 1


def test_two_supervisors_publishing_the_same_drafts_publish_each_once(pg_engine):
    with Session(pg_engine, expire_on_commit=False) as db:
        shop = load_reference_data(db)
        one, two = actor_for(db, "super1"), actor_for(db, "super2")
        orders = [_order(db, shop, one) for _ in range(5)]
        ids = db.exec(select(Task.id).where(Task.work_order_id.in_([o.id for o in orders]))).all()
    results = _run_all(
        pg_engine,
        [
            lambda s: drafts.publish_drafts(s, one, list(ids)),
            lambda s: drafts.publish_drafts(s, two, list(reversed(ids))),
        ],
        2,
    )
    reports = [r[1] for r in results]
    assert sorted(reports[0].published + reports[1].published) == sorted(ids)
    assert set(reports[0].published).isdisjoint(reports[1].published)
    with Session(pg_engine) as db:
        events = db.exec(
            select(func.count()).select_from(TaskEvent).where(TaskEvent.kind == "published")
        ).one()
        assert events == len(ids)


def test_simultaneous_work_orders_get_distinct_numbers(pg_engine):
    with Session(pg_engine, expire_on_commit=False) as db:
        shop = load_reference_data(db)
        supervisors = [actor_for(db, "super1"), actor_for(db, "super2")] * 5
        form = {
            "customer_id": next(iter(shop["customer"].values())),
            "product_id": shop["product"]["POSTER"],
            "quantity": 10,
            "route": work_orders.default_route(db, shop["product"]["POSTER"]),
        }
    _run_all(
        pg_engine, [lambda s, a=a: work_orders.create_work_order(s, a, dict(form)) for a in supervisors], 10
    )
    with Session(pg_engine) as db:
        numbers = db.exec(select(WorkOrder.order_number)).all()
    assert len(numbers) == 10 and len(set(numbers)) == 10


def test_dispatch_racing_claims_and_reassignments_loses_nothing(pg_engine):
    with Session(pg_engine, expire_on_commit=False) as db:
        shop = load_reference_data(db)
        supervisor = actor_for(db, "super1")
        _add_operators(db, shop["department"]["PACK"], 8)
        orders = [_order(db, shop, supervisor, quantity=5) for _ in range(20)]
        drafts.publish_drafts(db, supervisor, list(db.exec(select(Task.id)).all()))
        dispatch.run_cycle(db, limit=10)
        published = set(db.exec(select(Task.id).where(Task.is_draft.is_(False))).all())
        racers = [actor_for(db, f"racer{i}") for i in range(8)]
        print_operators = [actor_for(db, name).user_id for name in ("print1", "print2", "print3")]
    rng = random.Random(4)

    def claimer(actor):
        def job(session):
            pool = session.exec(
                select(Task.id).where(
                    Task.status == "queued", Task.assigned_department_id == shop["department"]["PACK"]
                )
            ).all()
            wins = 0
            for task_id in pool:
                try:
                    task_flow.claim(session, actor, task_id)
                    wins += 1
                except DomainError:
                    session.rollback()
            return wins

        return job

    def reassigner(session):
        moved = 0
        tasks = session.exec(
            select(Task.id).where(Task.status == "assigned", Task.process_id == shop["process"]["OFFSET"])
        ).all()
        for task_id in tasks:
            try:
                task_flow.reassign(session, supervisor, task_id, rng.choice(print_operators), "balance")
                moved += 1
            except DomainError:
                session.rollback()
        return moved

    jobs = [lambda s: dispatch.run_cycle(s, limit=1000), reassigner, *[claimer(a) for a in racers]]
    _run_all(pg_engine, jobs, len(jobs))
    with Session(pg_engine) as db:
        dispatch.run_cycle(db)
        tasks = db.exec(select(Task).where(Task.id.in_(published))).all()
        assert len(tasks) == len(published)
        for task in tasks:
            assert task.status in {"pending", "queued", "assigned"}
            if task.status == "assigned":
                assert task.assigned_operator_id is not None
                kinds = {e.kind for e in db.exec(select(TaskEvent).where(TaskEvent.task_id == task.id))}
                assert kinds & {"dispatched", "claimed", "reassigned"}
            if task.status == "queued":
                assert task.assigned_operator_id is None
        loads = db.exec(
            select(Task.assigned_operator_id, func.count())
            .where(Task.status == "assigned")
            .group_by(Task.assigned_operator_id)
        ).all()
        limits = dict(db.exec(select(User.id, User.wip_limit)).all())
        assert all(count <= limits[operator] for operator, count in loads), [
            (o, c, limits[o]) for o, c in loads
        ]
        assert len(orders) == 20


def test_two_operators_finishing_a_process_at_once_complete_it_exactly_once(pg_engine):
    from work_dispatch.models import Notification

    with Session(pg_engine, expire_on_commit=False) as db:
        shop = load_reference_data(db)
        supervisor = actor_for(db, "super1")
        route = work_orders.default_route(db, shop["product"]["POSTER"])
        route[0]["batch_size"] = 50
        order = work_orders.create_work_order(
            db,
            supervisor,
            {
                "customer_id": next(iter(shop["customer"].values())),
                "product_id": shop["product"]["POSTER"],
                "quantity": 100,
                "route": route,
            },
        )
        work_orders.approve_work_order(db, supervisor, order.id)
        drafts.publish_drafts(db, supervisor, work_order_id=order.id)
        dispatch.run_cycle(db, seed=1)
        first_process = db.exec(select(Task).where(Task.work_order_id == order.id, Task.sequence == 10)).all()
        operators = [actor_for(db, name) for name in ("prepress1", "prepress2")]
        for task, operator in zip(first_process, operators, strict=True):
            if task.assigned_operator_id != operator.user_id:
                task_flow.reassign(db, supervisor, task.id, operator.user_id, "one each")
            task_flow.start(db, operator, task.id)
            task_flow.report_quantity(db, operator, task.id, 50)
        wop_id = first_process[0].work_order_process_id
    jobs = [
        lambda s, t=t, o=o: task_flow.complete(s, o, t.id)
        for t, o in zip(first_process, operators, strict=True)
    ]
    results = _run_all(pg_engine, jobs, 2)
    assert [status for status, _ in results] == ["ok", "ok"]
    assert sum(1 for _, r in results if r.process_completed) == 1
    with Session(pg_engine) as db:
        assert db.get(WorkOrderProcess, wop_id).status == "completed"
        assert db.get(WorkOrderProcess, wop_id).quantity_completed == 100
        notices = db.exec(
            select(func.count()).select_from(Notification).where(Notification.kind == "process_completed")
        ).one()
        assert notices == 3


def test_generation_racing_an_uncommitted_duplicate_skips_it_and_doubles_nothing(pg_engine):
    with Session(pg_engine, expire_on_commit=False) as db:
        shop = load_reference_data(db)
        supervisor = actor_for(db, "super1")
        form = {
            "customer_id": next(iter(shop["customer"].values())),
            "product_id": shop["product"]["POSTER"],
            "quantity": 100,
            "route": work_orders.default_route(db, shop["product"]["POSTER"]),
        }
        order = work_orders.create_work_order(db, supervisor, form)
    with Session(pg_engine) as rival:
        # Generation plans the rival's uncommitted key as new; its COPY waits on the unique index.
        route = hold_first_planned_key(rival, order.id)
        with ThreadPoolExecutor(max_workers=1) as pool, Session(pg_engine, expire_on_commit=False) as session:
            approving = pool.submit(work_orders.approve_work_order, session, supervisor, order.id)
            backend_waiting_on_a_lock(pg_engine)
            rival.commit()
            report = approving.result(timeout=30)
    assert len(report.created) == len(route) - 1
    with Session(pg_engine) as db:
        keys = db.exec(select(Task.generation_key).where(Task.work_order_id == order.id)).all()
        assert sorted(keys) == sorted(set(keys)) and len(keys) == len(route)
        generated = db.exec(
            select(TaskEvent.task_id).where(
                TaskEvent.kind == "generated", TaskEvent.task_id.in_(report.created)
            )
        ).all()
        assert sorted(generated) == sorted(report.created)
        assert db.get(WorkOrder, order.id).status == "approved"


def test_claim_start_and_complete_change_the_task_and_write_its_event_in_one_statement(pg_engine):
    with Session(pg_engine, expire_on_commit=False) as db:
        shop = load_reference_data(db)
        supervisor = actor_for(db, "super1")
        order = _order(db, shop, supervisor)
        drafts.publish_drafts(db, supervisor, work_order_id=order.id)
        first = db.exec(select(Task).where(Task.work_order_id == order.id).order_by(Task.sequence)).first()
        db.execute(
            update(Task)
            .where(Task.id == first.id)
            .values(status="queued", assigned_department_id=shop["department"]["PREPRESS"])
        )
        db.commit()
        operator = actor_for(db, "prepress1")
        task_id = first.id
        statements: list[str] = []

        @event.listens_for(pg_engine, "before_cursor_execute")
        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        try:
            for action in (task_flow.claim, task_flow.start, task_flow.complete):
                statements.clear()
                action(db, operator, task_id)
                writing = [s for s in statements if "task_event" in s or "UPDATE task " in s]
                assert len(writing) == 1, (action.__name__, writing)
                assert "INSERT INTO task_event" in writing[0] and "UPDATE task SET" in writing[0]
                if action is task_flow.start:
                    assert len(statements) == 1, statements
        finally:
            event.remove(pg_engine, "before_cursor_execute", record)
