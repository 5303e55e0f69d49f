"""The cap on tasks per work order (``WD_MAX_TASKS_PER_ORDER``) on SQLite and PostgreSQL."""

import dataclasses

import pytest
from sqlmodel import func, select, update

from work_dispatch.domain.errors import ValidationError
from work_dispatch.models import Task, TaskEvent, WorkOrder, WorkOrderProcess
from work_dispatch.services import generation, work_orders
from work_dispatch.settings import settings


def _count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def _form(db, shop, quantity, batch_size):
    route = work_orders.default_route(db, shop["product"]["POSTER"])
    for step in route:
        step["batch_size"] = batch_size
    return {
        "customer_id": next(iter(shop["customer"].values())),
        "product_id": shop["product"]["POSTER"],
        "quantity": quantity,
        "route": route,
    }


def test_default_cap_is_a_few_thousand():
    assert settings.max_tasks_per_order == 2_000


def test_saving_an_order_of_50000_single_batches_is_refused_and_writes_nothing(db, shop, supervisor):
    orders_before = _count(db, WorkOrder)
    with pytest.raises(ValidationError) as refused:
        work_orders.create_work_order(db, supervisor, _form(db, shop, 50_000, 1))
    assert refused.value.field == "quantity"
    assert "would make 200000 tasks; at most 2000" in refused.value.message
    assert "最多允许 2000 个" in refused.value.render("zh-CN")
    db.rollback()
    assert _count(db, WorkOrder) == orders_before and _count(db, Task) == 0


def test_editing_an_order_past_the_cap_is_refused_and_changes_nothing(db, make_order, shop, supervisor):
    order = make_order("POSTER", quantity=1_000)
    tasks_before = _count(db, Task)
    with pytest.raises(ValidationError, match="at most 2000"):
        work_orders.update_work_order(db, supervisor, order.id, _form(db, shop, 50_000, 1))
    db.rollback()
    assert db.get(WorkOrder, order.id).quantity == 1_000
    assert _count(db, Task) == tasks_before


def test_approving_an_order_past_the_cap_is_refused_before_anything_is_written(db, make_order, supervisor):
    order = make_order("POSTER", quantity=1_000, batch=1_000, approve=False)
    # An order saved before the cap existed (or under a higher one): batches of 1 of 50,000.
    db.exec(update(WorkOrder).where(WorkOrder.id == order.id).values(quantity=50_000))
    db.commit()
    db.exec(update(WorkOrderProcess).where(WorkOrderProcess.work_order_id == order.id).values(batch_size=1))
    db.commit()
    with pytest.raises(ValidationError, match="at most 2000"):
        work_orders.approve_work_order(db, supervisor, order.id)
    db.rollback()
    assert db.get(WorkOrder, order.id).status == "draft"
    assert _count(db, Task) == 0 and _count(db, TaskEvent) == 0
    db.exec(update(WorkOrder).where(WorkOrder.id == order.id).values(status="approved"))
    db.commit()
    with pytest.raises(ValidationError, match="at most 2000"):
        generation.generate_for_work_orders(db, supervisor, [order.id])
    db.rollback()
    assert _count(db, Task) == 0


def test_the_cap_is_inclusive_and_follows_the_setting(db, shop, supervisor, monkeypatch):
    capped = dataclasses.replace(settings, max_tasks_per_order=40)
    monkeypatch.setattr(work_orders, "settings", capped)
    monkeypatch.setattr(generation, "settings", capped)
    # POSTER has 4 processes: 10 batches each is exactly 40 tasks.
    order = work_orders.create_work_order(db, supervisor, _form(db, shop, 100, 10))
    report = work_orders.approve_work_order(db, supervisor, order.id)
    assert len(report.created) == 40
    with pytest.raises(ValidationError, match="would make 44 tasks; at most 40"):
        work_orders.create_work_order(db, supervisor, _form(db, shop, 101, 10))
