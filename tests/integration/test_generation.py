"""Work orders, idempotent generation, regeneration and draft review on SQLite and PostgreSQL."""

import pytest
from sqlmodel import func, select

from tests.conftest import actor_for
from work_dispatch.domain.errors import DomainError, PermissionDeniedError, ValidationError
from work_dispatch.models import Task, TaskEvent, WorkOrder
from work_dispatch.services import drafts, generation, work_orders


def _drafts(db, order_id):
    return db.exec(
        select(Task)
        .where(Task.work_order_id == order_id, Task.status == "draft")
        .order_by(Task.sequence, Task.id)
    ).all()


def _event_kinds(db, task_id):
    return [
        e.kind for e in db.exec(select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id))
    ]


def test_approval_generates_one_draft_per_process_and_is_idempotent(db, make_order, supervisor):
    order = make_order("BOX-FOLD", quantity=10_000)
    tasks = _drafts(db, order.id)
    assert len(tasks) == 6
    assert all(t.production_quantity == 10_000 and t.is_draft for t in tasks)
    report = work_orders.approve_work_order(db, supervisor, order.id)
    assert report.created == [] and report.unchanged == 6
    generation.generate_for_work_orders(db, supervisor, [order.id, order.id])
    assert db.exec(select(func.count()).select_from(Task)).one() == 6
    assert _event_kinds(db, tasks[0].id) == ["generated"]


def test_batch_split_makes_four_tasks_that_add_up(db, make_order, shop):
    offset = shop["process"]["OFFSET"]
    order = make_order("POSTER", quantity=10_000, batch={offset: 2_500})
    printing = [t for t in _drafts(db, order.id) if t.process_id == offset]
    assert [t.production_quantity for t in printing] == [2_500] * 4


def test_regeneration_updates_drafts_and_reports_published(db, make_order, supervisor):
    order = make_order("POSTER", quantity=1_000)
    first = _drafts(db, order.id)[0]
    drafts.publish_drafts(db, supervisor, [first.id])
    form = {
        "customer_id": order.customer_id,
        "product_id": order.product_id,
        "quantity": 1_500,
        "priority": "high",
        "route": work_orders.default_route(db, order.product_id),
    }
    report = work_orders.update_work_order(db, supervisor, order.id, form)
    assert len(report.updated) == 3 and report.published_untouched == [first.id]
    db.expire_all()
    assert {t.production_quantity for t in _drafts(db, order.id)} == {1_500}
    assert db.get(Task, first.id).production_quantity == 1_000


def test_order_numbers_follow_the_month_pattern(db, make_order):
    a = make_order(approve=False)
    b = make_order(approve=False)
    assert len(a.order_number) == 9 and a.order_number[:6].isdigit()
    assert int(b.order_number) == int(a.order_number) + 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"quantity": 0}, "Quantity must be at least 1"),
        ({"quantity": -5}, "Quantity must be at least 1"),
        ({"quantity": "ten"}, "whole number"),
        ({"customer_id": 999_999}, "Unknown customer"),
        ({"product_id": 999_999}, "Unknown product"),
        ({"route": []}, "at least one process"),
        ({"route": [{"process_id": 999_999}]}, "unknown process"),
        ({"notes": "x" * 5000}, "at most 2000"),
        ({"priority": "asap"}, "Priority must be one of"),
    ],
)
def test_bad_work_order_input_changes_nothing(db, shop, supervisor, change, message):
    form = {
        "customer_id": next(iter(shop["customer"].values())),
        "product_id": shop["product"]["POSTER"],
        "quantity": 100,
        "route": work_orders.default_route(db, shop["product"]["POSTER"]),
        **change,
    }
    with pytest.raises(DomainError, match=message):
        work_orders.create_work_order(db, supervisor, form)
    db.rollback()
    assert db.exec(select(func.count()).select_from(WorkOrder)).one() == 0


def test_operators_cannot_manage_work_orders(db, shop, make_order):
    order = make_order(approve=False)
    operator = actor_for(db, "print1")
    with pytest.raises(PermissionDeniedError):
        work_orders.approve_work_order(db, operator, order.id)
    with pytest.raises(PermissionDeniedError):
        drafts.publish_drafts(db, operator, work_order_id=order.id)
    assert db.exec(select(func.count()).select_from(Task)).one() == 0


def test_cancelled_work_order_cannot_be_approved(db, make_order, supervisor):
    order = make_order()
    work_orders.cancel_work_order(db, supervisor, order.id, "customer withdrew")
    with pytest.raises(ValidationError, match="cancelled work order cannot be approved"):
        work_orders.approve_work_order(db, supervisor, order.id)
    assert _drafts(db, order.id) == []


def test_edit_split_merge_delete_write_events(db, make_order, supervisor, shop):
    order = make_order("POSTER", quantity=1_000)
    plate = _drafts(db, order.id)[1]
    drafts.edit_draft(
        db,
        supervisor,
        plate.id,
        {"work_content": "Use CTP line 2", "production_quantity": 900},
        expected_version=plate.version,
    )
    new_id = drafts.split_draft(db, supervisor, plate.id, 600)
    db.expire_all()
    assert db.get(Task, plate.id).production_quantity == 600
    assert db.get(Task, new_id).production_quantity == 300
    survivor = drafts.merge_drafts(db, supervisor, [new_id, plate.id])
    db.expire_all()
    assert survivor == plate.id and db.get(Task, plate.id).production_quantity == 900
    assert db.get(Task, new_id).status == "cancelled"
    assert _event_kinds(db, plate.id) == ["generated", "edited", "split", "merged"]
    assert _event_kinds(db, new_id) == ["split", "merged_into"]
    assert drafts.delete_drafts(db, supervisor, [plate.id]) == 1
    assert _event_kinds(db, plate.id)[-1] == "deleted"
    board = drafts.list_drafts(db, supervisor)
    assert board.total_drafts == 3 and board.groups[0].order_number == order.order_number


def test_draft_actions_refuse_published_tasks(db, make_order, supervisor):
    order = make_order("POSTER")
    task = _drafts(db, order.id)[0]
    drafts.publish_drafts(db, supervisor, [task.id])
    for action in (
        lambda: drafts.edit_draft(db, supervisor, task.id, {"production_quantity": 5}),
        lambda: drafts.split_draft(db, supervisor, task.id, 5),
        lambda: drafts.delete_drafts(db, supervisor, [task.id]),
    ):
        with pytest.raises(ValidationError, match="already published|is published"):
            action()
    db.expire_all()
    assert db.get(Task, task.id).production_quantity == 1000


def test_split_must_add_up(db, make_order, supervisor):
    order = make_order("POSTER", quantity=100)
    task = _drafts(db, order.id)[0]
    for bad in (0, 100, 150, -3):
        with pytest.raises(ValidationError):
            drafts.split_draft(db, supervisor, task.id, bad)
    db.expire_all()
    assert db.get(Task, task.id).production_quantity == 100


def test_publish_is_idempotent_and_presets_assign(db, make_order, supervisor, shop):
    order = make_order("POSTER")
    tasks = _drafts(db, order.id)
    print1 = actor_for(db, "print1")
    drafts.edit_draft(
        db,
        supervisor,
        tasks[2].id,
        {"department_id": shop["department"]["PRINT"], "operator_id": print1.user_id},
    )
    report = drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    assert report.published == sorted(t.id for t in tasks) and report.assigned == [tasks[2].id]
    again = drafts.publish_drafts(db, supervisor, [t.id for t in tasks])
    assert again.published == [] and again.already_published == sorted(t.id for t in tasks)
    db.expire_all()
    statuses = {t.id: t.status for t in db.exec(select(Task).where(Task.work_order_id == order.id))}
    assert statuses[tasks[2].id] == "assigned" and statuses[tasks[0].id] == "pending"
    assert db.get(WorkOrder, order.id).status == "in_progress"
    published_events = db.exec(
        select(func.count()).select_from(TaskEvent).where(TaskEvent.kind == "published")
    ).one()
    assert published_events == len(tasks)
