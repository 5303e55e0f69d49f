"""The operator's task card carries the job, on both databases: customer, product, unit and notes."""

from dataclasses import replace

from sqlmodel import select

from tests.conftest import actor_for
from work_dispatch.models import Customer, Product, Task, User, WorkOrder
from work_dispatch.services import dispatch, drafts, task_center


def _first_assigned(db, order_id: int) -> Task:
    tasks = db.exec(select(Task).where(Task.work_order_id == order_id).order_by(Task.sequence)).all()
    return next(task for task in tasks if task.assigned_operator_id)


def test_a_card_shows_customer_product_quantity_unit_and_the_orders_notes(db, make_order, supervisor, shop):
    order = make_order("POSTER", quantity=30000)
    work_order = db.get(WorkOrder, order.id)
    work_order.unit = "张"
    work_order.notes = "Deliver to dock 3.\nCall Mr Wang before cutting."
    product = db.get(Product, work_order.product_id)
    product.names = {"zh-CN": "海报"}
    db.add_all([work_order, product])
    db.commit()
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    dispatch.run_cycle(db, seed=3)
    task = _first_assigned(db, order.id)
    task.work_content = "Impose 4-up on SRA3"
    task.requirements = "Proof signed by customer"
    db.add(task)
    db.commit()
    operator = actor_for(db, db.get(User, task.assigned_operator_id).username)
    customer = db.get(Customer, work_order.customer_id).name

    english = next(
        c for c in task_center.overview(db, replace(operator, locale="en")).my_tasks if c.id == task.id
    )
    chinese = next(
        c for c in task_center.overview(db, replace(operator, locale="zh-CN")).my_tasks if c.id == task.id
    )

    assert (english.customer, english.product, english.unit) == (customer, product.name, "张")
    assert english.notes == "Deliver to dock 3.\nCall Mr Wang before cutting."
    assert (english.work_content, english.requirements) == ("Impose 4-up on SRA3", "Proof signed by customer")
    assert english.production_quantity == task.production_quantity and english.due_at != ""
    # The product is named in the reader's language; the customer is a proper noun, the same in both.
    assert (chinese.customer, chinese.product, chinese.notes) == (customer, "海报", english.notes)


def test_pool_cards_carry_the_job_too_and_a_product_without_a_translation_keeps_its_name(
    db, make_order, supervisor, shop
):
    order = make_order("POSTER", quantity=50)
    work_order = db.get(WorkOrder, order.id)
    work_order.notes = "Rush"
    product = db.get(Product, work_order.product_id)
    product.names = {}
    db.add_all([work_order, product])
    db.commit()
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    dispatch.run_cycle(db, seed=3)
    queued = db.exec(select(Task).where(Task.work_order_id == order.id, Task.status == "queued")).first()
    if queued is None:  # the demo routes everything to operators: put the first task in its pool
        queued = _first_assigned(db, order.id)
        queued.status, queued.assigned_operator_id = "queued", None
        db.add(queued)
        db.commit()
    member = next(
        user
        for user in db.exec(select(User).where(User.role == "operator")).all()
        if queued.assigned_department_id in actor_for(db, user.username).department_ids
    )
    pool = task_center.overview(db, replace(actor_for(db, member.username), locale="zh-CN")).pool
    card = next(c for c in pool if c.id == queued.id)
    assert card.product == product.name and card.notes == "Rush" and card.unit == "pcs"
    assert card.customer == db.get(Customer, work_order.customer_id).name
