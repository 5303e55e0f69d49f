"""Direct database setup for browser tests (runs in the test process, not the server)."""

from __future__ import annotations

import dataclasses
import time
from contextlib import contextmanager

from sqlmodel import Session, select

from tests.conftest import actor_for
from work_dispatch.db import make_engine
from work_dispatch.domain.errors import ConflictError
from work_dispatch.models import (
    AssignmentRule,
    Customer,
    Department,
    Process,
    Product,
    Task,
    User,
    UserDepartment,
)
from work_dispatch.services import auth, dispatch, drafts, work_orders
from work_dispatch.services.demo import DEMO_PASSWORD


def engine_for(url: str):
    """An engine on the served app's database."""
    return make_engine(url)


def one_person_department(url: str, code: str) -> dict:
    """A department with one operator (``<code>op``), a process routed to it by rule, and its ids.

    Makes dispatch deterministic for a test: every task of the process goes to that operator.
    """
    engine = engine_for(url)
    with Session(engine, expire_on_commit=False) as db:
        department = Department(code=code, name=f"Test {code}", sort_order=99)
        process = Process(code=f"P{code}", name=f"Inspection {code}", standard_minutes=10)
        second = Process(code=f"Q{code}", name=f"Final check {code}", standard_minutes=10)
        operator = User(
            username=f"{code.lower()}op",
            display_name=f"Tess {code}",
            password_hash=auth.hash_password(DEMO_PASSWORD),
            role="operator",
            wip_limit=5,
        )
        db.add_all([department, process, second, operator])
        db.flush()
        db.add(UserDepartment(user_id=operator.id, department_id=department.id))
        for routed in (process, second):
            db.add(
                AssignmentRule(
                    process_id=routed.id, department_id=department.id, priority=80, strategy="least_tasks"
                )
            )
        db.commit()
        ids = {
            "department": department.id,
            "process": process.id,
            "second_process": second.id,
            "operator": operator.id,
            "username": operator.username,
        }
    engine.dispose()
    return ids


def approved_order(url: str, process_ids: list[int], quantity: int = 100) -> tuple[int, str]:
    """An approved work order with the given route (drafts generated), created as super1."""
    engine = engine_for(url)
    with Session(engine, expire_on_commit=False) as db:
        supervisor = actor_for(db, "super1")
        customer = db.exec(select(Customer.id)).first()
        product = db.exec(select(Product.id)).first()
        order = work_orders.create_work_order(
            db,
            supervisor,
            {
                "customer_id": customer,
                "product_id": product,
                "quantity": quantity,
                "priority": "urgent",
                "route": [{"process_id": pid} for pid in process_ids],
            },
        )
        work_orders.approve_work_order(db, supervisor, order.id)
        result = (order.id, order.order_number)
    engine.dispose()
    return result


def publish_and_dispatch(url: str, order_id: int, attempts: int = 20) -> None:
    """Publish a work order's drafts as super1 and run a dispatch cycle on them.

    The served app dispatches every second on its own, so this cycle may lose the
    compare-and-set race to it (``ConflictError``, rolled back); it then runs again until
    one cycle completes, whichever process assigned the tasks.
    """
    engine = engine_for(url)
    try:
        with Session(engine, expire_on_commit=False) as db:
            drafts.publish_drafts(db, actor_for(db, "super1"), work_order_id=order_id)
            for attempt in range(attempts):
                try:
                    dispatch.run_cycle(db, respect_switch=False)
                    return
                except ConflictError:
                    db.rollback()
                    time.sleep(0.1 * (attempt + 1))
            raise AssertionError(f"dispatch kept conflicting with the served app's cycle ({attempts} tries)")
    finally:
        engine.dispose()


def tasks_of(url: str, order_id: int) -> list[Task]:
    """The tasks of a work order, in route order."""
    engine = engine_for(url)
    with Session(engine, expire_on_commit=False) as db:
        tasks = list(
            db.exec(select(Task).where(Task.work_order_id == order_id).order_by(Task.sequence, Task.id)).all()
        )
    engine.dispose()
    return tasks


@contextmanager
def redis_bus_for(database_url: str, redis_url: str):
    """Make this process's services publish on the Redis bus of the app serving ``database_url``."""
    from work_dispatch import settings as settings_module
    from work_dispatch.realtime import bus as bus_module

    saved = (settings_module.settings, bus_module.settings, bus_module._bus)
    configured = dataclasses.replace(settings_module.settings, database_url=database_url, redis_url=redis_url)
    settings_module.settings = bus_module.settings = configured
    bus_module._bus = None
    try:
        yield
    finally:
        settings_module.settings, bus_module.settings, bus_module._bus = saved
