"""Catalog (supervisors): customers and processes, on both databases."""

import pytest
from sqlmodel import func, select

from tests.conftest import actor_for
from work_dispatch.domain.errors import DomainError, PermissionDeniedError, ValidationError
from work_dispatch.models import Customer, Process, WorkOrderProcess
from work_dispatch.services import board, catalog, dispatch, drafts, reference, work_orders


def _snapshot(db):
    return (
        db.exec(select(Customer.id, Customer.name, Customer.contact).order_by(Customer.id)).all(),
        db.exec(
            select(Process.id, Process.code, Process.name, Process.standard_minutes, Process.is_active)
        ).all(),
    )


def test_customers_page_by_name_and_search(db, shop, supervisor):
    for index in range(7):
        catalog.save_customer(
            db, supervisor, {"name": f"Zeta {index:02d}", "contact": f"z{index}@example.com"}
        )
    first = catalog.list_customers(db, supervisor, page_size=5)
    names = [row.name for row in first.rows]
    assert names == sorted(names) and first.next_after == names[-1]
    rest = catalog.list_customers(db, supervisor, after_name=first.next_after, page_size=100)
    assert set(names).isdisjoint(row.name for row in rest.rows) and rest.next_after == ""
    assert len(names) + len(rest.rows) == db.exec(select(func.count()).select_from(Customer)).one()
    found = catalog.list_customers(db, supervisor, search="Z3@EXAMPLE")
    assert [row.name for row in found.rows] == ["Zeta 03"]
    assert catalog.list_customers(db, supervisor, search="50%_off").rows == []


def test_a_new_customer_is_offered_to_work_orders_and_renaming_keeps_its_orders(
    db, shop, supervisor, make_order
):
    customer_id = catalog.save_customer(db, supervisor, {"name": "  Orchid Press ", "contact": "Ana"})
    assert any(o.label == "Orchid Press" for o in reference.lists(db, supervisor).customers)
    order = make_order(customer=customer_id)
    catalog.save_customer(db, supervisor, {"name": "Orchid Press Ltd", "contact": "Ana"}, customer_id)
    row = next(r for r in catalog.list_customers(db, supervisor, search="orchid").rows)
    assert row.name == "Orchid Press Ltd" and row.work_orders == 1
    assert order.customer_id == customer_id


def test_processes_are_created_changed_and_deactivated(db, shop, supervisor):
    process_id = catalog.save_process(
        db, supervisor, {"code": "uv-coat", "name": "UV coating", "standard_minutes": "45"}
    )
    row = next(p for p in catalog.list_processes(db, supervisor) if p.id == process_id)
    assert (row.code, row.name, row.standard_minutes, row.is_active) == ("UV-COAT", "UV coating", 45, True)
    assert any(o.label == "UV coating" for o in reference.lists(db, supervisor).processes)
    catalog.save_process(
        db,
        supervisor,
        {"code": "IGNORED", "name": "UV coat", "standard_minutes": 50, "is_active": False},
        process_id,
    )
    row = next(p for p in catalog.list_processes(db, supervisor) if p.id == process_id)
    assert (row.code, row.name, row.standard_minutes, row.is_active) == ("UV-COAT", "UV coat", 50, False)
    assert not any(o.value == str(process_id) for o in reference.lists(db, supervisor).processes)
    assert catalog.list_processes(db, supervisor)[-1].id == process_id


def test_a_process_with_drafts_or_open_tasks_cannot_be_deactivated(db, shop, supervisor, make_order):
    from work_dispatch.domain.errors import ValidationError
    from work_dispatch.models import Process
    from work_dispatch.services import work_orders

    make_order("POSTER")  # approved: drafts on every process of the poster route
    printing = work_orders.default_route(db, shop["product"]["POSTER"])[0]["process_id"]
    before = db.get(Process, printing)
    with pytest.raises(ValidationError) as refused:
        catalog.save_process(
            db, supervisor, {"name": before.name, "standard_minutes": 30, "is_active": False}, printing
        )
    assert refused.value.field == "is_active" and "still use this process" in refused.value.message
    db.expire_all()
    assert db.get(Process, printing).is_active is True


@pytest.mark.parametrize(
    ("call", "field", "message"),
    [
        (lambda db, a: catalog.save_customer(db, a, {"name": "  "}), "name", "required"),
        (lambda db, a: catalog.save_customer(db, a, {"name": "x" * 121}), "name", "at most 120"),
        (lambda db, a: catalog.save_customer(db, a, {"name": "northwind foods"}), "name", "already has"),
        (lambda db, a: catalog.save_customer(db, a, {"name": "A", "contact": 5}), "contact", "text"),
        (lambda db, a: catalog.save_customer(db, a, "name=A"), None, "reload the page"),
        (lambda db, a: catalog.save_customer(db, a, {"name": "A"}, "x"), "customer_id", "whole number"),
        (
            lambda db, a: catalog.save_process(db, a, {"code": "P", "name": "P", "standard_minutes": 5}),
            "code",
            "2 to",
        ),
        (
            lambda db, a: catalog.save_process(db, a, {"code": "pl@te", "name": "P", "standard_minutes": 5}),
            "code",
            "2 to",
        ),
        (
            lambda db, a: catalog.save_process(db, a, {"code": "plate", "name": "P", "standard_minutes": 5}),
            "code",
            "already has",
        ),
        (
            lambda db, a: catalog.save_process(db, a, {"code": "NEW", "name": "P", "standard_minutes": 0}),
            "standard_minutes",
            "at least 1",
        ),
        (
            lambda db, a: catalog.save_process(
                db, a, {"code": "NEW", "name": "P", "standard_minutes": 10_001}
            ),
            "standard_minutes",
            "at most",
        ),
        (
            lambda db, a: catalog.save_process(
                db, a, {"code": "NEW", "name": "P", "standard_minutes": 5, "is_active": "no"}
            ),
            "is_active",
            "yes or no",
        ),
    ],
)
def test_bad_input_is_refused_with_its_field_and_changes_nothing(db, shop, supervisor, call, field, message):
    before = _snapshot(db)
    with pytest.raises(ValidationError, match=message) as caught:
        call(db, supervisor)
    assert caught.value.field == field
    assert _snapshot(db) == before


@pytest.mark.parametrize("username", ["print1", None])
def test_only_supervisors_keep_the_catalog(db, shop, username):
    actor = actor_for(db, username) if username else None
    before = _snapshot(db)
    for call in (
        lambda: catalog.list_customers(db, actor),
        lambda: catalog.save_customer(db, actor, {"name": "Intruder"}),
        lambda: catalog.list_processes(db, actor),
        lambda: catalog.save_process(db, actor, {"code": "X1", "name": "X", "standard_minutes": 5}),
    ):
        with pytest.raises(PermissionDeniedError):
            call()
    assert _snapshot(db) == before


def test_unknown_ids_are_refused(db, shop, supervisor):
    before = _snapshot(db)
    for call in (
        lambda: catalog.save_customer(db, supervisor, {"name": "Ghost"}, 10**9),
        lambda: catalog.save_process(db, supervisor, {"name": "Ghost", "standard_minutes": 5}, 10**9),
        lambda: catalog.list_customers(db, supervisor, page_size="lots"),
    ):
        with pytest.raises(DomainError):
            call()
    assert _snapshot(db) == before


def _department_form(**changes):
    return {"code": "lam", "name": "Lamination", "sort_order": "70", "is_active": True, **changes}


def test_admins_add_departments_that_operators_can_join(db, shop, supervisor):
    admin = actor_for(db, "admin")
    department_id = catalog.save_department(db, admin, _department_form())
    row = next(d for d in catalog.list_departments(db, supervisor) if d.id == department_id)
    assert (row.code, row.name, row.sort_order, row.is_active, row.members) == (
        "LAM",
        "Lamination",
        70,
        True,
        0,
    )
    assert catalog.list_departments(db, supervisor)[-1].id == department_id
    assert any(o.value == str(department_id) for o in reference.lists(db, supervisor).departments)
    catalog.save_department(
        db, admin, _department_form(name="Lamination & foiling", is_active=False), department_id
    )
    assert not any(o.value == str(department_id) for o in reference.lists(db, supervisor).departments)
    with pytest.raises(PermissionDeniedError):
        catalog.save_department(db, supervisor, _department_form(code="NOPE"))


def test_a_department_with_open_tasks_cannot_be_closed(db, shop, supervisor, make_order):
    admin = actor_for(db, "admin")
    order = make_order()
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    dispatch.run_cycle(db)
    busy = next(d for d in catalog.list_departments(db, supervisor) if d.open_tasks)
    before = _snapshot(db), catalog.list_departments(db, supervisor)
    with pytest.raises(ValidationError, match="open tasks are still") as caught:
        catalog.save_department(
            db, admin, {"name": busy.name, "sort_order": busy.sort_order, "is_active": False}, busy.id
        )
    assert caught.value.field == "is_active"
    assert (_snapshot(db), catalog.list_departments(db, supervisor)) == before


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"code": "print"}, "code", "already has"),
        ({"code": "x"}, "code", "2 to"),
        ({"name": ""}, "name", "required"),
        ({"sort_order": "-1"}, "sort_order", "at least 0"),
        ({"sort_order": "1000"}, "sort_order", "at most 999"),
        ({"is_active": 1}, "is_active", "yes or no"),
    ],
)
def test_bad_department_input_changes_nothing(db, shop, change, field, message):
    admin = actor_for(db, "admin")
    before = catalog.list_departments(db, admin)
    with pytest.raises(ValidationError, match=message) as caught:
        catalog.save_department(db, admin, _department_form(**change))
    assert caught.value.field == field
    assert catalog.list_departments(db, admin) == before


def _product_form(shop, **changes):
    route = [str(shop["process"][code]) for code in ("PREFLIGHT", "PLATE", "OFFSET", "PACK")]
    return {
        "code": "flyer",
        "name": "A5 flyer",
        "unit": "sheets",
        "is_active": True,
        "route": route,
        **changes,
    }


def test_a_new_product_starts_work_orders_on_its_route(db, shop, supervisor, make_order):
    product_id = catalog.save_product(db, supervisor, _product_form(shop))
    row = next(p for p in catalog.list_products(db, supervisor) if p.id == product_id)
    assert (row.code, row.name, row.unit, row.is_active) == ("FLYER", "A5 flyer", "sheets", True)
    assert row.route == ["Preflight & imposition", "Plate making", "Offset printing", "Packing & labelling"]
    shop["product"]["FLYER"] = product_id
    order = make_order(product="FLYER")
    assert [step["process_id"] for step in work_orders.default_route(db, product_id)] == row.route_process_ids

    reordered = [str(shop["process"][code]) for code in ("PLATE", "OFFSET")]
    catalog.save_product(
        db, supervisor, _product_form(shop, name="A5 flyer (2 steps)", route=reordered), product_id
    )
    row = next(p for p in catalog.list_products(db, supervisor) if p.id == product_id)
    assert row.route == ["Plate making", "Offset printing"] and row.name == "A5 flyer (2 steps)"
    kept = db.exec(
        select(func.count()).select_from(WorkOrderProcess).where(WorkOrderProcess.work_order_id == order.id)
    )
    assert kept.one() == 4


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"route": []}, "route", "at least one process"),
        ({"route": "1,2"}, "route", "at least one process"),
        ({"route": ["999999"]}, "route", "from the list"),
        ({"route": ["abc"]}, "route", "whole number"),
        ({"route": ["1"] * 31}, "route", "at most 30"),
        ({"code": "poster"}, "code", "already has"),
        ({"unit": ""}, "unit", "required"),
        ({"name": "n" * 121}, "name", "at most 120"),
    ],
)
def test_bad_product_input_changes_nothing(db, shop, supervisor, change, field, message):
    before = catalog.list_products(db, supervisor)
    with pytest.raises(ValidationError, match=message) as caught:
        catalog.save_product(db, supervisor, _product_form(shop, **change))
    assert caught.value.field == field
    assert catalog.list_products(db, supervisor) == before


def test_operators_cannot_change_products(db, shop):
    with pytest.raises(PermissionDeniedError):
        catalog.save_product(db, actor_for(db, "print1"), _product_form(shop))


def test_searches_take_wildcards_literally(db, shop, supervisor, make_order):
    make_order()
    everything = board.query_page(db, supervisor, {"kind": "all"}).rows
    offset = board.query_page(db, supervisor, {"kind": "all", "search": "offset"}).rows
    assert everything and offset and all(row.process == "Offset printing" for row in offset)
    for wildcard in ("%", "_", "\\"):
        assert board.query_page(db, supervisor, {"kind": "all", "search": wildcard}).rows == []
        assert catalog.list_customers(db, supervisor, search=wildcard).rows == []
