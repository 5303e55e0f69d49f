"""Good / scrap / rework reports with reasons from the catalog, rework tasks, pause categories."""

import dataclasses
import json
import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import func, inspect, text
from sqlmodel import Session, select, update

from tests.conftest import actor_for
from tests.integration.test_migrations import _downgrade, blank_url  # noqa: F401  (fixture)
from work_dispatch.__main__ import migrate
from work_dispatch.db import make_engine
from work_dispatch.domain.errors import ConflictError, DomainError, PermissionDeniedError, ValidationError
from work_dispatch.models import (
    DefectReason,
    Notification,
    Process,
    Task,
    TaskEvent,
    User,
    WorkOrderProcess,
)
from work_dispatch.services import catalog, dispatch, drafts, task_flow
from work_dispatch.services.demo import load_demo


def _tasks(db, order_id) -> list[Task]:
    db.expire_all()
    return db.exec(select(Task).where(Task.work_order_id == order_id).order_by(Task.sequence, Task.id)).all()


def _operator(db, task: Task):
    return actor_for(db, db.get(User, task.assigned_operator_id).username)


def _reason(db, shop, process: str, kind: str, code: str) -> int:
    return db.exec(
        select(DefectReason.id).where(
            DefectReason.process_id == shop["process"][process],
            DefectReason.kind == kind,
            DefectReason.code == code,
        )
    ).one()


def _printing(db, make_order, supervisor, shop, quantity=1000, pack_batch=None):
    """A poster order whose prepress and plates are done; its printing task started."""
    order = make_order("POSTER", quantity=quantity)
    if pack_batch:
        db.execute(
            update(WorkOrderProcess)
            .where(
                WorkOrderProcess.work_order_id == order.id,
                WorkOrderProcess.process_id == shop["process"]["PACK"],
            )
            .values(transfer_batch=pack_batch)
        )
        db.commit()
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    dispatch.run_cycle(db, seed=1)
    for task in _tasks(db, order.id):
        if task.process_id in (shop["process"]["PREFLIGHT"], shop["process"]["PLATE"]):
            operator = _operator(db, task)
            task_flow.start(db, operator, task.id)
            task_flow.report_quantity(db, operator, task.id, quantity)
            task_flow.complete(db, operator, task.id)
    [printing] = [t for t in _tasks(db, order.id) if t.process_id == shop["process"]["OFFSET"]]
    printer = _operator(db, printing)
    task_flow.start(db, printer, printing.id)
    return order, printing, printer


def _snapshot(db, order_id):
    """Everything a refused report must leave as it was."""
    db.expire_all()
    tasks = db.exec(
        select(
            Task.id,
            Task.status,
            Task.quantity_completed,
            Task.quantity_defective,
            Task.version,
            Task.allow_over_production,
        )
        .where(Task.work_order_id == order_id)
        .order_by(Task.id)
    ).all()
    events = db.exec(select(func.count()).select_from(TaskEvent)).one()
    notices = db.exec(select(func.count()).select_from(Notification)).one()
    steps = db.exec(
        select(WorkOrderProcess.id, WorkOrderProcess.status, WorkOrderProcess.material_available_at).where(
            WorkOrderProcess.work_order_id == order_id
        )
    ).all()
    return tasks, events, notices, steps


def _reported(db, task_id) -> list[dict]:
    return [
        e.data
        for e in db.exec(
            select(TaskEvent)
            .where(TaskEvent.task_id == task_id, TaskEvent.kind == "reported")
            .order_by(TaskEvent.id)
        ).all()
    ]


def test_a_report_carries_good_scrap_and_rework_and_the_rework_becomes_a_dispatched_task(
    db, make_order, supervisor, shop
):
    order, printing, printer = _printing(db, make_order, supervisor, shop)
    offered = task_flow.report_reasons(db, printer, printing.id)
    assert [label for _, label in offered["scrap"]] == [
        "Colour off",
        "Smudge / set-off",
        "Out of register",
        "Torn or jammed sheet",
    ]
    assert [label for _, label in offered["rework"]] == ["Mixed sheets, sort out", "Hickeys, touch up"]
    chinese = task_flow.report_reasons(db, dataclasses.replace(printer, locale="zh-CN"), printing.id)
    assert chinese["scrap"][0] == (offered["scrap"][0][0], "色差")
    smudge = _reason(db, shop, "OFFSET", "scrap", "SMUDGE")
    sorting = _reason(db, shop, "OFFSET", "rework", "SORTING")

    task_flow.report_quantity(
        db, printer, printing.id, 900, 40, scrap_reason=smudge, rework=60, rework_reason=sorting
    )

    db.expire_all()
    origin = db.get(Task, printing.id)
    assert (origin.quantity_completed, origin.quantity_defective) == (900, 40)
    [rework] = db.exec(select(Task).where(Task.rework_of_task_id == printing.id)).all()
    assert (rework.status, rework.is_draft, rework.production_quantity) == ("pending", False, 60)
    assert (rework.work_order_process_id, rework.process_id, rework.sequence) == (
        origin.work_order_process_id,
        origin.process_id,
        origin.sequence,
    )
    assert (rework.priority, rework.due_at, rework.published_at is not None) == (
        origin.priority,
        origin.due_at,
        True,
    )
    process = db.get(Process, origin.process_id)
    assert rework.setup_minutes == process.setup_minutes
    assert rework.planned_minutes == pytest.approx(process.setup_minutes + 60 * 60 / process.units_per_hour)
    [report] = _reported(db, printing.id)
    assert report == {
        "completed": 900,
        "defective": 40,
        "rework": 60,
        "over_production": False,
        "total_completed": 900,
        "scrap_reason": "SMUDGE",
        "scrap_reason_id": smudge,
        "rework_reason": "SORTING",
        "rework_reason_id": sorting,
        "rework_task_id": rework.id,
    }
    [published] = db.exec(select(TaskEvent).where(TaskEvent.task_id == rework.id)).all()
    assert published.kind == "published" and published.actor_id == printer.user_id
    assert published.data["rework_of_task_id"] == printing.id and published.data["rework_reason"] == "SORTING"

    dispatch.run_cycle(db, seed=2)
    db.expire_all()
    rework = db.get(Task, rework.id)
    assert rework.status in ("assigned", "queued")
    assert rework.assigned_department_id == origin.assigned_department_id  # the printing rule's department
    assert db.exec(
        select(TaskEvent).where(TaskEvent.task_id == rework.id, TaskEvent.kind == "dispatched")
    ).one()
    assert len(db.exec(select(Task).where(Task.rework_of_task_id.is_not(None))).all()) == 1

    # The printing step stays open until its rework is done; the reworked sheets count as good.
    assert not task_flow.complete(db, printer, printing.id).process_completed
    if rework.status == "queued":
        task_flow.claim(db, actor_for(db, "print2"), rework.id)
        db.expire_all()
        rework = db.get(Task, rework.id)
    reworker = _operator(db, rework)
    task_flow.start(db, reworker, rework.id)
    task_flow.report_quantity(db, reworker, rework.id, 55, 5, scrap_reason="colour_off")
    assert _reported(db, rework.id)[0]["scrap_reason"] == "COLOUR_OFF"
    assert task_flow.complete(db, reworker, rework.id).process_completed
    step = db.get(WorkOrderProcess, printing.work_order_process_id)
    db.refresh(step)
    assert (step.status, step.quantity_completed, step.quantity_defective) == ("completed", 955, 45)


def test_rework_is_capped_by_the_good_units_the_task_produced(db, make_order, supervisor, shop):
    order, printing, printer = _printing(db, make_order, supervisor, shop)
    sorting = _reason(db, shop, "OFFSET", "rework", "SORTING")
    task_flow.report_quantity(db, printer, printing.id, 100)
    before = _snapshot(db, order.id)
    with pytest.raises(ValidationError) as refused:
        task_flow.report_quantity(db, printer, printing.id, 0, rework=101, rework_reason=sorting)
    assert (refused.value.field, refused.value.detail.key) == ("rework", "quality.error.rework_over_produced")
    assert "Only 100 good units" in refused.value.message
    assert _snapshot(db, order.id) == before
    task_flow.report_quantity(db, printer, printing.id, 0, rework=100, rework_reason=sorting)
    task_flow.report_quantity(db, printer, printing.id, 20, rework=120, rework_reason=sorting)
    db.expire_all()
    quantities = db.exec(
        select(Task.production_quantity).where(Task.rework_of_task_id == printing.id).order_by(Task.id)
    ).all()
    assert quantities == [100, 120]
    assert db.get(Task, printing.id).quantity_completed == 120


CASES = [
    ("scrap without a reason", {"completed": 10, "defective": 5}, "scrap_reason", "scrap_reason_required"),
    ("blank scrap reason", {"defective": 5, "scrap_reason": "  "}, "scrap_reason", "scrap_reason_required"),
    ("rework without a reason", {"completed": 10, "rework": 5}, "rework_reason", "rework_reason_required"),
    (
        "another process's reason",
        {"defective": 5, "scrap_reason": "DIECUT"},
        "scrap_reason",
        "reason_not_of_process",
    ),
    (
        "a rework reason as scrap",
        {"defective": 5, "scrap_reason": "SORTING"},
        "scrap_reason",
        "reason_not_of_process",
    ),
    (
        "a scrap reason as rework",
        {"completed": 9, "rework": 5, "rework_reason": "SMUDGE"},
        "rework_reason",
        "reason_not_of_process",
    ),
    ("an unknown reason", {"defective": 5, "scrap_reason": 10**9}, "scrap_reason", "reason_not_of_process"),
    ("an unknown code", {"defective": 5, "scrap_reason": "COFFEE"}, "scrap_reason", "reason_not_of_process"),
    (
        "a hostile reason",
        {"defective": 5, "scrap_reason": ["SMUDGE"]},
        "scrap_reason",
        "reason_not_of_process",
    ),
    ("a retired reason", {"defective": 5, "scrap_reason": "RETIRED"}, "scrap_reason", "reason_inactive"),
    (
        "rework beyond produced",
        {"completed": 10, "rework": 11, "rework_reason": "SORTING"},
        "rework",
        "rework_over_produced",
    ),
    ("negative good", {"completed": -1}, "completed", "error.at_least"),
    ("negative scrap", {"completed": 1, "defective": -1}, "scrap", "error.at_least"),
    (
        "negative rework",
        {"completed": 5, "rework": -2, "rework_reason": "SORTING"},
        "rework",
        "error.at_least",
    ),
    ("rework not a number", {"completed": 5, "rework": "lots"}, "rework", "error.whole_number"),
    ("nothing", {"completed": 0, "defective": 0, "rework": 0}, "completed", "error.report_nothing"),
]


@pytest.mark.parametrize(("args", "field", "key"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_reports_say_which_field_and_change_nothing(db, make_order, supervisor, shop, args, field, key):
    order, printing, printer = _printing(db, make_order, supervisor, shop)
    ids = {
        "DIECUT": _reason(db, shop, "DIECUT", "scrap", "MISALIGNED"),
        "SORTING": _reason(db, shop, "OFFSET", "rework", "SORTING"),
        "SMUDGE": _reason(db, shop, "OFFSET", "scrap", "SMUDGE"),
    }
    retired = catalog.save_defect_reason(
        db,
        supervisor,
        {"process_id": shop["process"]["OFFSET"], "kind": "scrap", "code": "RETIRED", "name": "Old reason"},
    )
    catalog.save_defect_reason(db, supervisor, {"name": "Old reason", "is_active": False}, retired)
    ids["RETIRED"] = retired
    args = {name: ids.get(value, value) if isinstance(value, str) else value for name, value in args.items()}
    before = _snapshot(db, order.id)
    with pytest.raises(ValidationError) as refused:
        task_flow.report_quantity(
            db, printer, printing.id, args.pop("completed", 0), args.pop("defective", 0), **args
        )
    assert refused.value.field == field
    assert refused.value.detail.key == (key if key.startswith("error.") else f"quality.error.{key}")
    for locale in ("en", "zh-CN"):
        assert refused.value.render(locale) and "quality." not in refused.value.render(locale)
    assert _snapshot(db, order.id) == before
    assert db.exec(select(Task).where(Task.rework_of_task_id.is_not(None))).all() == []


def test_the_flow_cap_still_refuses_more_good_than_upstream_made(db, make_order, supervisor, shop):
    order, printing, printer = _printing(db, make_order, supervisor, shop, quantity=5000, pack_batch=2000)
    [packing] = [t for t in _tasks(db, order.id) if t.process_id == shop["process"]["PACK"]]
    packer = actor_for(db, "pack1")
    task_flow.claim(db, packer, packing.id)
    task_flow.report_quantity(db, printer, printing.id, 2000)
    task_flow.start(db, packer, packing.id)
    damaged = _reason(db, shop, "PACK", "scrap", "DAMAGED")
    label = _reason(db, shop, "PACK", "rework", "WRONG_LABEL")
    before = _snapshot(db, order.id)
    with pytest.raises(ValidationError) as refused:
        task_flow.report_quantity(
            db, packer, packing.id, 2001, 3, scrap_reason=damaged, rework=10, rework_reason=label
        )
    assert (refused.value.field, refused.value.detail.key) == ("completed", "handover.error.over_upstream")
    assert _snapshot(db, order.id) == before
    task_flow.report_quantity(
        db, packer, packing.id, 1500, 3, scrap_reason=damaged, rework=10, rework_reason=label
    )
    db.expire_all()
    [rework] = db.exec(select(Task).where(Task.rework_of_task_id == packing.id)).all()
    assert (rework.process_id, rework.production_quantity) == (shop["process"]["PACK"], 10)


def test_reasons_are_read_by_the_task_s_own_operator_only(db, make_order, supervisor, shop):
    order, printing, printer = _printing(db, make_order, supervisor, shop)
    other = actor_for(db, "print3" if printer.username != "print3" else "print2")
    with pytest.raises(PermissionDeniedError):
        task_flow.report_reasons(db, other, printing.id)
    with pytest.raises(PermissionDeniedError):
        task_flow.report_reasons(db, supervisor, printing.id)


def test_supervisors_keep_each_process_s_reasons(db, shop, supervisor, make_order):
    offset = shop["process"]["OFFSET"]
    rows = catalog.list_defect_reasons(db, supervisor, offset)
    assert [(r.kind, r.code) for r in rows][:2] == [("scrap", "COLOUR_OFF"), ("scrap", "SMUDGE")]
    assert {r.kind for r in rows[-2:]} == {"rework"}
    new_id = catalog.save_defect_reason(
        db,
        supervisor,
        {
            "process_id": str(offset),
            "kind": "scrap",
            "code": "ink-spots",
            "name": "Ink spots",
            "name_zh": "墨点",
        },
    )
    added = next(r for r in catalog.list_defect_reasons(db, supervisor, offset) if r.id == new_id)
    assert (added.code, added.name, added.name_zh, added.is_active) == (
        "INK-SPOTS",
        "Ink spots",
        "墨点",
        True,
    )
    assert added.sort_order == max(r.sort_order for r in rows if r.kind == "scrap") + 10
    chinese = dataclasses.replace(supervisor, locale="zh-CN")
    assert any(r.display_name == "墨点" for r in catalog.list_defect_reasons(db, chinese, offset))

    catalog.save_defect_reason(db, supervisor, {"name": "Ink spots / hickeys", "sort_order": "5"}, new_id)
    renamed = catalog.list_defect_reasons(db, supervisor, offset)[0]
    assert (renamed.id, renamed.name, renamed.name_zh, renamed.code) == (
        new_id,
        "Ink spots / hickeys",
        "墨点",
        "INK-SPOTS",
    )

    refusals = [
        ({"process_id": offset, "kind": "scrap", "code": "INK-SPOTS", "name": "Again"}, None, "code"),
        ({"process_id": offset, "kind": "defect", "code": "X1", "name": "Odd"}, None, "kind"),
        ({"process_id": offset, "kind": "scrap", "code": "no way", "name": "Spaces"}, None, "code"),
        ({"process_id": offset, "kind": "scrap", "code": "BLANK", "name": " "}, None, "name"),
        ({"process_id": 10**6, "kind": "scrap", "code": "GONE", "name": "Nowhere"}, None, None),
        ({"name": "x" * 500}, new_id, "name"),
        ({"name": "Fine", "sort_order": "-3"}, new_id, "sort_order"),
    ]
    count = db.exec(select(func.count()).select_from(DefectReason)).one()
    for raw, reason_id, field in refusals:
        with pytest.raises(DomainError) as refused:
            catalog.save_defect_reason(db, supervisor, raw, reason_id)
        assert refused.value.field == field, raw
    assert db.exec(select(func.count()).select_from(DefectReason)).one() == count
    # The same code may name a rework reason too, and another process's scrap reason.
    catalog.save_defect_reason(
        db, supervisor, {"process_id": offset, "kind": "rework", "code": "INK-SPOTS", "name": "Spots"}
    )
    catalog.save_defect_reason(
        db,
        supervisor,
        {"process_id": shop["process"]["PACK"], "kind": "scrap", "code": "INK-SPOTS", "name": "Spots"},
    )

    order, printing, printer = _printing(db, make_order, supervisor, shop)
    assert new_id in [i for i, _ in task_flow.report_reasons(db, printer, printing.id)["scrap"]]
    catalog.save_defect_reason(db, supervisor, {"name": "Ink spots / hickeys", "is_active": False}, new_id)
    assert new_id not in [i for i, _ in task_flow.report_reasons(db, printer, printing.id)["scrap"]]
    assert catalog.defect_reason_names(db, [offset], "zh-CN")[(offset, "scrap", "INK-SPOTS")] == "墨点"

    operator = actor_for(db, "print1")
    with pytest.raises(PermissionDeniedError):
        catalog.list_defect_reasons(db, operator, offset)
    with pytest.raises(PermissionDeniedError):
        catalog.save_defect_reason(db, operator, {"name": "Mine now", "is_active": True}, new_id)


def test_pause_reasons_are_downtime_categories(db, make_order, supervisor, shop):
    order, printing, printer = _printing(db, make_order, supervisor, shop)
    task_flow.pause(db, printer, printing.id, "waiting_for_material")
    db.expire_all()
    assert db.get(Task, printing.id).pause_reason == "waiting_for_material"
    task_flow.resume(db, printer, printing.id)
    task_flow.pause(db, printer, printing.id, "Machine breakdown")  # its English label
    task_flow.resume(db, printer, printing.id)
    task_flow.pause(db, printer, printing.id, "quality_check")  # a reason from before categories
    db.expire_all()
    assert db.get(Task, printing.id).pause_reason == "quality_hold"
    task_flow.resume(db, printer, printing.id)
    pauses = db.exec(
        select(TaskEvent.data)
        .where(TaskEvent.task_id == printing.id, TaskEvent.kind == "paused")
        .order_by(TaskEvent.id)
    ).all()
    assert pauses == [{"reason": "waiting_for_material"}, {"reason": "breakdown"}, {"reason": "quality_hold"}]
    before = _snapshot(db, order.id)
    for bad in ("shift_end", "paper got wet", "", None, ["break"]):
        with pytest.raises(ValidationError) as refused:
            task_flow.pause(db, printer, printing.id, bad)
        assert refused.value.field == "reason"
    assert _snapshot(db, order.id) == before


def test_two_reports_at_once_make_one_rework_task(pg_engine):
    from work_dispatch.services import work_orders
    from work_dispatch.services.demo import load_reference_data

    with Session(pg_engine, expire_on_commit=False) as db:
        shop = load_reference_data(db)
        supervisor = actor_for(db, "super1")
        order = work_orders.create_work_order(
            db,
            supervisor,
            {
                "customer_id": next(iter(shop["customer"].values())),
                "product_id": shop["product"]["POSTER"],
                "quantity": 500,
                "route": work_orders.default_route(db, shop["product"]["POSTER"]),
            },
        )
        work_orders.approve_work_order(db, supervisor, order.id)
        drafts.publish_drafts(db, supervisor, work_order_id=order.id)
        dispatch.run_cycle(db, seed=1)
        first = _tasks(db, order.id)[0]
        operator = _operator(db, first)
        task_flow.start(db, operator, first.id)
        task_flow.report_quantity(db, operator, first.id, 200)
        reason = _reason(db, shop, "PREFLIGHT", "rework", "MISSING_BLEED")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def report():
        with Session(pg_engine, expire_on_commit=False) as own:
            barrier.wait()
            try:
                task_flow.report_quantity(own, operator, first.id, 10, rework=30, rework_reason=reason)
                outcomes.append("ok")
            except ConflictError:
                outcomes.append("conflict")

    threads = [threading.Thread(target=report) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["conflict", "ok"]
    with Session(pg_engine) as db:
        assert db.get(Task, first.id).quantity_completed == 210
        [rework] = db.exec(select(Task).where(Task.rework_of_task_id == first.id)).all()
        assert (rework.production_quantity, rework.status) == (30, "pending")


def test_the_migration_moves_pause_reasons_to_categories_and_back(blank_url):  # noqa: F811
    migrate(blank_url)
    engine = make_engine(blank_url)
    with Session(engine) as db:
        load_demo(db)
    engine.dispose()
    _downgrade(blank_url, "0010")
    engine = make_engine(blank_url)
    assert "defect_reason" not in inspect(engine).get_table_names()
    assert "rework_of_task_id" not in {c["name"] for c in inspect(engine).get_columns("task")}
    old = [
        "machine_breakdown",
        "material_shortage",
        "Setup / changeover",
        "quality_check",
        "waiting_for_approval",
    ]
    old += ["break", "paper got wet", "shift_end"]
    events = sa.table(
        "task_event",
        sa.column("task_id"),
        sa.column("kind"),
        sa.column("data", sa.JSON),
        sa.column("created_at"),
    )
    with engine.begin() as connection:
        task_ids = (
            connection.execute(text("SELECT id FROM task ORDER BY id LIMIT :n"), {"n": len(old)})
            .scalars()
            .all()
        )
        for task_id, reason in zip(task_ids, old, strict=True):
            connection.execute(
                text("UPDATE task SET pause_reason = :r WHERE id = :id"), {"r": reason, "id": task_id}
            )
            connection.execute(
                events.insert().values(
                    task_id=task_id, kind="paused", data={"reason": reason}, created_at=datetime.now(UTC)
                )
            )
    engine.dispose()

    def stored(url):
        engine = make_engine(url)
        with engine.connect() as connection:
            tasks = dict(connection.execute(text("SELECT id, pause_reason FROM task")).all())
            events = connection.execute(
                text("SELECT task_id, data FROM task_event WHERE kind = 'paused' ORDER BY id")
            ).all()
        engine.dispose()
        paused = {}
        for task_id, data in events:
            paused[task_id] = (json.loads(data) if isinstance(data, str) else data)["reason"]
        return [tasks[i] for i in task_ids], [paused[i] for i in task_ids]

    migrate(blank_url)
    categories = [
        "breakdown",
        "waiting_for_material",
        "setup",
        "quality_hold",
        "other",
        "break",
        "paper got wet",
    ]
    categories += ["shift_end"]
    assert stored(blank_url) == (categories, categories)

    _downgrade(blank_url, "0010")
    back = ["machine_breakdown", "material_shortage", "setup_changeover", "quality_check", "other", "break"]
    back += ["paper got wet", "shift_end"]
    assert stored(blank_url) == (back, back)
    migrate(blank_url)
