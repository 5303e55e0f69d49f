"""Flow production: transfer batches let the next process start early, capped by what upstream made."""

import threading

import pytest
from sqlmodel import Session, select, update

from tests.conftest import actor_for
from work_dispatch.domain.errors import IllegalTransitionError, ValidationError
from work_dispatch.models import Notification, Task, User, WorkOrderProcess
from work_dispatch.services import dispatch, drafts, task_center, task_flow
from work_dispatch.services.task_rules import transfer_batch_of


def _tasks(db, order_id) -> list[Task]:
    db.expire_all()
    return db.exec(select(Task).where(Task.work_order_id == order_id).order_by(Task.sequence, Task.id)).all()


def _operator(db, task: Task):
    return actor_for(db, db.get(User, task.assigned_operator_id).username)


def _flow_order(db, make_order, supervisor, shop, *, batch=2000, offset_tasks=None):
    """A 5,000-sheet poster whose packing may start after each ``batch`` printed sheets."""
    split = {shop["process"]["OFFSET"]: offset_tasks} if offset_tasks else None
    order = make_order("POSTER", quantity=5000, batch=split)
    db.execute(
        update(WorkOrderProcess)
        .where(
            WorkOrderProcess.work_order_id == order.id,
            WorkOrderProcess.process_id == shop["process"]["PACK"],
        )
        .values(transfer_batch=batch)
    )
    db.commit()
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    dispatch.run_cycle(db, seed=1)
    tasks = _tasks(db, order.id)
    for task in tasks:
        if task.process_id in (shop["process"]["PREFLIGHT"], shop["process"]["PLATE"]):
            operator = _operator(db, task)
            task_flow.start(db, operator, task.id)
            task_flow.report_quantity(db, operator, task.id, 5000)
            task_flow.complete(db, operator, task.id)
    return order


def _by_process(db, order_id, shop, code) -> list[Task]:
    return [t for t in _tasks(db, order_id) if t.process_id == shop["process"][code]]


def test_packing_starts_after_one_batch_and_never_packs_more_than_was_printed(
    db, make_order, supervisor, shop
):
    order = _flow_order(db, make_order, supervisor, shop)
    [printing] = _by_process(db, order.id, shop, "OFFSET")
    [packing] = _by_process(db, order.id, shop, "PACK")
    printer = _operator(db, printing)
    packer = actor_for(db, "pack1")
    task_flow.claim(db, packer, packing.id)
    task_flow.start(db, printer, printing.id)
    task_flow.report_quantity(db, printer, printing.id, 1999)
    with pytest.raises(IllegalTransitionError, match="Printing|Offset"):
        task_flow.start(db, packer, packing.id)
    assert db.exec(select(Notification).where(Notification.kind == "material_available")).all() == []
    task_flow.report_quantity(db, printer, printing.id, 1)
    [notice] = db.exec(select(Notification).where(Notification.kind == "material_available")).all()
    assert (notice.recipient_id, notice.task_id) == (packer.user_id, packing.id)
    db.expire_all()
    assert task_flow.blocking_reason(db, db.get(Task, packing.id)) is None
    card = next(c for c in task_center.overview(db, packer).my_tasks if c.id == packing.id)
    assert (card.blocked_reason, card.available_text) == ("", "Available to work: 2,000 of 5,000")
    task_flow.start(db, packer, packing.id)
    with pytest.raises(ValidationError, match="Only 2000 more units"):
        task_flow.report_quantity(db, packer, packing.id, 2001)
    task_flow.report_quantity(db, packer, packing.id, 1500)
    with pytest.raises(ValidationError, match="Only 500 more units"):
        task_flow.report_quantity(db, packer, packing.id, 600)
    db.expire_all()
    assert db.get(Task, packing.id).quantity_completed == 1500
    task_flow.report_quantity(db, printer, printing.id, 3000)
    assert len(db.exec(select(Notification).where(Notification.kind == "material_available")).all()) == 1
    task_flow.report_quantity(db, packer, packing.id, 3500)
    db.expire_all()
    assert db.get(Task, packing.id).quantity_completed == 5000


def test_steps_without_a_transfer_batch_wait_for_the_whole_process_as_before(
    db, make_order, supervisor, shop
):
    order = _flow_order(db, make_order, supervisor, shop, batch=None)
    [printing] = _by_process(db, order.id, shop, "OFFSET")
    [packing] = _by_process(db, order.id, shop, "PACK")
    printer, packer = _operator(db, printing), actor_for(db, "pack1")
    task_flow.claim(db, packer, packing.id)
    task_flow.start(db, printer, printing.id)
    task_flow.report_quantity(db, printer, printing.id, 4000)
    with pytest.raises(IllegalTransitionError):
        task_flow.start(db, packer, packing.id)
    assert db.exec(select(Notification).where(Notification.kind == "material_available")).all() == []


def test_concurrent_upstream_reports_unlock_the_next_step_exactly_once(
    db, make_order, supervisor, shop, engine
):
    order = _flow_order(db, make_order, supervisor, shop, offset_tasks=2500)
    printing = _by_process(db, order.id, shop, "OFFSET")
    assert len(printing) == 2
    [packing] = _by_process(db, order.id, shop, "PACK")
    task_flow.claim(db, actor_for(db, "pack1"), packing.id)
    printers = [_operator(db, t) for t in printing]
    for printer, task in zip(printers, printing, strict=True):
        task_flow.start(db, printer, task.id)
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def report(printer, task_id):
        with Session(engine, expire_on_commit=False) as own:
            barrier.wait()
            try:
                task_flow.report_quantity(own, printer, task_id, 1000)
            except Exception as error:  # noqa: BLE001 - the assertion below shows it
                errors.append(error)

    threads = [
        threading.Thread(target=report, args=(p, t.id)) for p, t in zip(printers, printing, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    db.expire_all()
    notices = db.exec(select(Notification).where(Notification.kind == "material_available")).all()
    assert len(notices) == 1
    step = db.get(WorkOrderProcess, packing.work_order_process_id)
    assert step.material_available_at is not None


def test_the_route_brings_its_transfer_batch_and_bad_batches_change_nothing(db, make_order, supervisor, shop):
    from work_dispatch.models import Process, ProductRouteStep
    from work_dispatch.services import work_orders

    poster = shop["product"]["POSTER"]
    step = db.exec(
        select(ProductRouteStep).where(
            ProductRouteStep.product_id == poster, ProductRouteStep.process_id == shop["process"]["PACK"]
        )
    ).one()
    step.transfer_batch = 500
    offset = db.get(Process, shop["process"]["OFFSET"])
    offset.transfer_batch = 1000
    db.add_all([step, offset])
    db.commit()
    route = work_orders.default_route(db, poster)
    batches = {s["process_id"]: s["transfer_batch"] for s in route}
    assert batches[shop["process"]["PACK"]] == 500 and batches[shop["process"]["OFFSET"]] is None
    order = make_order("POSTER", quantity=800)
    steps = {
        s.process_id: (s.transfer_batch, db.exec(select(transfer_batch_of(s.id))).one())
        for s in db.exec(select(WorkOrderProcess).where(WorkOrderProcess.work_order_id == order.id)).all()
    }
    assert steps[shop["process"]["PACK"]] == (500, 500)
    assert steps[shop["process"]["OFFSET"]] == (None, 1000)  # the process's default, at run time
    assert steps[shop["process"]["PREFLIGHT"]] == (None, None)
    before = db.exec(select(WorkOrderProcess.id)).all()
    for bad, message in (
        (900, "cannot be larger than the quantity"),
        (0, "Transfer batch must be at least 1"),
    ):
        route = work_orders.default_route(db, poster)
        route[-1]["transfer_batch"] = bad
        with pytest.raises(ValidationError, match=message):
            work_orders.create_work_order(
                db,
                supervisor,
                {
                    "customer_id": next(iter(shop["customer"].values())),
                    "product_id": poster,
                    "quantity": 800,
                    "route": route,
                },
            )
        db.rollback()
    assert db.exec(select(WorkOrderProcess.id)).all() == before


def test_a_process_keeps_a_default_transfer_batch_from_the_catalog(db, supervisor, shop):
    from work_dispatch.models import Process
    from work_dispatch.services import catalog

    offset = db.get(Process, shop["process"]["OFFSET"])
    form = {"name": offset.name, "standard_minutes": offset.standard_minutes}
    catalog.save_process(db, supervisor, {**form, "transfer_batch": "2000"}, offset.id)
    db.expire_all()
    assert db.get(Process, offset.id).transfer_batch == 2000
    with pytest.raises(ValidationError, match="Transfer batch"):
        catalog.save_process(db, supervisor, {**form, "transfer_batch": "0"}, offset.id)
    db.rollback()
    db.expire_all()
    assert db.get(Process, offset.id).transfer_batch == 2000
    catalog.save_process(db, supervisor, {**form, "transfer_batch": ""}, offset.id)
    db.expire_all()
    assert db.get(Process, offset.id).transfer_batch is None


def test_scrap_downstream_uses_up_material_too(db, make_order, supervisor, shop):
    from work_dispatch.models import DefectReason

    order = _flow_order(db, make_order, supervisor, shop)
    [printing] = _by_process(db, order.id, shop, "OFFSET")
    [packing] = _by_process(db, order.id, shop, "PACK")
    printer, packer = _operator(db, printing), actor_for(db, "pack1")
    reason = db.exec(
        select(DefectReason.code).where(
            DefectReason.process_id == shop["process"]["PACK"], DefectReason.kind == "scrap"
        )
    ).first() or _add_reason(db, shop["process"]["PACK"])
    task_flow.claim(db, packer, packing.id)
    task_flow.start(db, printer, printing.id)
    task_flow.report_quantity(db, printer, printing.id, 2000)
    task_flow.start(db, packer, packing.id)
    task_flow.report_quantity(db, packer, packing.id, 1500, 300, scrap_reason=reason)
    with pytest.raises(ValidationError, match="Only 200 more units"):
        task_flow.report_quantity(db, packer, packing.id, 300)
    db.expire_all()
    assert db.get(Task, packing.id).quantity_completed == 1500
    card = next(c for c in task_center.overview(db, packer).my_tasks if c.id == packing.id)
    assert card.available_text == "Available to work: 200 of 5,000"


def _add_reason(db, process_id: int) -> str:
    from work_dispatch.models import DefectReason

    db.add(DefectReason(process_id=process_id, kind="scrap", code="CRUSHED", name="Crushed"))
    db.commit()
    return "CRUSHED"


def test_a_product_route_keeps_transfer_batches_per_step(db, supervisor, shop):
    from work_dispatch.models import Product
    from work_dispatch.services import catalog, work_orders

    poster = db.get(Product, shop["product"]["POSTER"])
    rows = {row.id: row for row in catalog.list_products(db, supervisor)}
    route = rows[poster.id].route_process_ids
    form = {"name": poster.name, "unit": poster.unit, "route": route}
    catalog.save_product(
        db, supervisor, {**form, "route_transfer_batches": [None, "", 3000, "1500"]}, poster.id
    )
    assert [s["transfer_batch"] for s in work_orders.default_route(db, poster.id)] == [None, None, 3000, 1500]
    row = next(r for r in catalog.list_products(db, supervisor) if r.id == poster.id)
    assert row.route_transfer_batches == ["", "", "3000", "1500"]
    with pytest.raises(ValidationError, match="Transfer batch"):
        catalog.save_product(db, supervisor, {**form, "route_transfer_batches": [0]}, poster.id)
    db.rollback()
    assert [s["transfer_batch"] for s in work_orders.default_route(db, poster.id)] == [None, None, 3000, 1500]
