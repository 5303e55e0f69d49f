"""Skills and rates on both databases: process rates, route-step overrides and the planned minutes
of drafts, rules' minimum levels, and operators' qualification levels (admins only)."""

import dataclasses

import pytest
from sqlmodel import func, select

from tests.conftest import actor_for
from work_dispatch.domain.errors import DomainError, NotFoundError, PermissionDeniedError, ValidationError
from work_dispatch.models import (
    AssignmentRule,
    AuthEvent,
    Process,
    Qualification,
    Task,
    User,
    WorkOrderProcess,
)
from work_dispatch.services import catalog, drafts, rules, shifts, skills, work_orders
from work_dispatch.services.workload import refresh_planned_minutes


@pytest.fixture
def admin(db, shop):
    return actor_for(db, "admin")


def _user_id(db, username: str) -> int:
    return db.exec(select(User.id).where(User.username == username)).one()


def _process(db, shop, code: str) -> Process:
    return db.get(Process, shop["process"][code])


def _process_form(process: Process, **changes) -> dict:
    return {
        "name": process.name,
        "standard_minutes": str(process.standard_minutes),
        "setup_minutes": str(process.setup_minutes),
        "units_per_hour": str(process.units_per_hour),
        "is_active": process.is_active,
        **changes,
    }


def _minutes(db, work_order_id: int) -> dict[int, tuple[bool, float, float]]:
    """Task id → (is draft, planned minutes, setup minutes) of a work order."""
    db.expire_all()
    return {
        task_id: (is_draft, round(planned, 6), round(setup, 6))
        for task_id, is_draft, planned, setup in db.exec(
            select(Task.id, Task.is_draft, Task.planned_minutes, Task.setup_minutes).where(
                Task.work_order_id == work_order_id
            )
        ).all()
    }


def _planned(setup: float, quantity: float, rate: float) -> float:
    return round(setup + quantity / rate * 60, 6)


def _order_form(db, order_id: int) -> dict:
    """The work order's form as the page sends it back."""
    form = work_orders.get_form(db, actor_for(db, "super1"), order_id)
    return {**form.fields, "route": [dict(step) for step in form.route]}


# -- process rates ------------------------------------------------------------------------------


def test_a_process_gets_a_rate_and_the_catalog_lists_it(db, shop, supervisor):
    process_id = catalog.save_process(
        db,
        supervisor,
        {
            "code": "LAMINATE",
            "name": "Lamination",
            "standard_minutes": "30",
            "setup_minutes": "25",
            "units_per_hour": "4000",
        },
    )
    row = next(p for p in catalog.list_processes(db, supervisor) if p.id == process_id)
    assert (row.setup_minutes, row.units_per_hour) == (25, 4000)
    setup, rate = catalog.process_rates(db, supervisor)
    assert (setup[str(process_id)], rate[str(process_id)]) == ("25", "4000")
    # A form that knows nothing of rates still works: defaults for a new process, unchanged on edit.
    other = catalog.save_process(
        db, supervisor, {"code": "EMBOSS", "name": "Embossing", "standard_minutes": 9}
    )
    assert (db.get(Process, other).setup_minutes, db.get(Process, other).units_per_hour) == (
        skills.DEFAULT_SETUP_MINUTES,
        skills.DEFAULT_UNITS_PER_HOUR,
    )
    catalog.save_process(db, supervisor, {"name": "Lamination (matte)", "standard_minutes": 31}, process_id)
    changed = db.get(Process, process_id)
    assert (changed.name, changed.setup_minutes, changed.units_per_hour) == ("Lamination (matte)", 25, 4000)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"setup_minutes": "-5"}, "setup_minutes", "cannot be negative"),
        ({"units_per_hour": "0"}, "units_per_hour", "more than 0"),
        ({"units_per_hour": "-40"}, "units_per_hour", "more than 0"),
        ({"units_per_hour": "fast"}, "units_per_hour", "whole number"),
        ({"setup_minutes": ""}, "setup_minutes", "is required"),
        ({"setup_minutes": 2.5}, "setup_minutes", "whole number"),
        ({"units_per_hour": True}, "units_per_hour", "whole number"),
        ({"units_per_hour": "99999999999"}, "units_per_hour", "at most"),
    ],
)
def test_bad_rates_are_refused_next_to_their_field_and_change_nothing(
    db, shop, supervisor, make_order, changes, field, words
):
    order = make_order("POSTER", quantity=3000)
    refresh_planned_minutes(db, work_order_ids=[order.id])
    db.commit()
    offset = _process(db, shop, "OFFSET")
    before = (offset.name, offset.setup_minutes, offset.units_per_hour, _minutes(db, order.id))
    with pytest.raises(ValidationError) as refused:
        catalog.save_process(db, supervisor, _process_form(offset, name="Renamed", **changes), offset.id)
    assert refused.value.field == field and words in refused.value.message
    db.rollback()
    db.expire_all()
    offset = _process(db, shop, "OFFSET")
    assert (offset.name, offset.setup_minutes, offset.units_per_hour, _minutes(db, order.id)) == before
    with pytest.raises(ValidationError):
        catalog.save_process(
            db, supervisor, {"code": "BADRATE", "name": "Bad", "standard_minutes": 5, **changes}
        )
    assert db.exec(select(Process).where(Process.code == "BADRATE")).first() is None


def test_a_new_process_rate_replans_drafts_but_not_published_tasks(db, shop, supervisor, make_order):
    published_order = make_order("POSTER", quantity=3000)
    draft_order = make_order("POSTER", quantity=1200)
    refresh_planned_minutes(db, work_order_ids=[published_order.id, draft_order.id])
    db.commit()
    drafts.publish_drafts(db, supervisor, work_order_id=published_order.id)
    offset = _process(db, shop, "OFFSET")
    published_before = _minutes(db, published_order.id)
    drafts_before = _minutes(db, draft_order.id)
    assert not any(is_draft for is_draft, _, _ in published_before.values())

    catalog.save_process(
        db, supervisor, _process_form(offset, setup_minutes="40", units_per_hour="600"), offset.id
    )

    assert _minutes(db, published_order.id) == published_before
    after = _minutes(db, draft_order.id)
    offset_tasks = dict(
        db.exec(
            select(Task.id, Task.production_quantity).where(
                Task.work_order_id == draft_order.id, Task.process_id == offset.id
            )
        ).all()
    )
    assert offset_tasks
    for task_id, (is_draft, planned, setup) in after.items():
        assert is_draft
        if task_id in offset_tasks:
            assert (planned, setup) == (_planned(40, offset_tasks[task_id], 600), 40)
        else:
            assert (planned, setup) == drafts_before[task_id][1:]


# -- route-step overrides -----------------------------------------------------------------------


def test_a_step_override_replans_the_work_orders_drafts_and_empty_restores_the_process_rate(
    db, shop, supervisor, make_order
):
    order = make_order("POSTER", quantity=2400)
    other = make_order("POSTER", quantity=2400)
    refresh_planned_minutes(db, work_order_ids=[order.id, other.id])
    db.commit()
    other_before = _minutes(db, other.id)
    form = _order_form(db, order.id)
    assert all(step["setup_minutes"] == "" and step["units_per_hour"] == "" for step in form["route"])
    offset = _process(db, shop, "OFFSET")
    index = next(i for i, step in enumerate(form["route"]) if step["process_id"] == str(offset.id))
    form["route"][index].update(setup_minutes="0", units_per_hour="1200")

    work_orders.update_work_order(db, supervisor, order.id, form)

    steps = db.exec(
        select(WorkOrderProcess)
        .where(WorkOrderProcess.work_order_id == order.id)
        .order_by(WorkOrderProcess.sequence)
    ).all()
    assert [(s.setup_minutes, s.units_per_hour) for s in steps if s.process_id == offset.id] == [(0, 1200)]
    assert all(
        (s.setup_minutes, s.units_per_hour) == (None, None) for s in steps if s.process_id != offset.id
    )
    assert _order_form(db, order.id)["route"][index] == form["route"][index]
    quantities = dict(
        db.exec(select(Task.id, Task.production_quantity).where(Task.work_order_id == order.id)).all()
    )
    processes = dict(db.exec(select(Task.id, Task.process_id).where(Task.work_order_id == order.id)).all())
    for task_id, (_, planned, setup) in _minutes(db, order.id).items():
        process = db.get(Process, processes[task_id])
        expected = (0, 1200) if process.id == offset.id else (process.setup_minutes, process.units_per_hour)
        assert (planned, setup) == (_planned(expected[0], quantities[task_id], expected[1]), expected[0])
    assert _minutes(db, other.id) == other_before

    form = _order_form(db, order.id)
    form["route"][index].update(setup_minutes="", units_per_hour="")
    work_orders.update_work_order(db, supervisor, order.id, form)
    for task_id, (_, planned, _setup) in _minutes(db, order.id).items():
        process = db.get(Process, processes[task_id])
        assert planned == _planned(process.setup_minutes, quantities[task_id], process.units_per_hour)


def test_overrides_change_after_publication_and_only_drafts_are_replanned(db, shop, supervisor, make_order):
    order = make_order("POSTER", quantity=2000)
    refresh_planned_minutes(db, work_order_ids=[order.id])
    db.commit()
    first_draft = db.exec(
        select(Task.id).where(Task.work_order_id == order.id).order_by(Task.sequence)
    ).first()
    drafts.publish_drafts(db, supervisor, [first_draft])
    before = _minutes(db, order.id)
    form = _order_form(db, order.id)
    for step in form["route"]:
        step["units_per_hour"] = "50"

    work_orders.update_work_order(db, supervisor, order.id, form)  # the route itself is unchanged: allowed

    after = _minutes(db, order.id)
    assert after[first_draft] == before[first_draft]
    assert all(after[t][1] > before[t][1] for t in after if t != first_draft)
    # Changing the route itself stays locked once a task is published.
    form = _order_form(db, order.id)
    form["route"] = form["route"][:-1]
    with pytest.raises(ValidationError) as refused:
        work_orders.update_work_order(db, supervisor, order.id, form)
    assert refused.value.field == "route"


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ({"setup_minutes": "-1"}, "cannot be negative"),
        ({"units_per_hour": "0"}, "more than 0"),
        ({"units_per_hour": "lots"}, "whole number"),
        ({"setup_minutes": ["1"]}, "whole number"),
    ],
)
def test_bad_step_overrides_name_the_step_and_change_nothing(
    db, shop, supervisor, make_order, override, words
):
    order = make_order("POSTER", quantity=2000)
    refresh_planned_minutes(db, work_order_ids=[order.id])
    db.commit()
    before = (
        _minutes(db, order.id),
        db.exec(select(WorkOrderProcess.setup_minutes, WorkOrderProcess.units_per_hour)).all(),
    )
    form = _order_form(db, order.id)
    form["route"][1].update(override)
    form["quantity"] = "2100"
    with pytest.raises(ValidationError) as refused:
        work_orders.update_work_order(db, supervisor, order.id, form)
    assert refused.value.field == "route"
    assert refused.value.message.startswith("Route step 20: ") and words in refused.value.message
    assert "第 20 步" in refused.value.render("zh-CN")
    db.rollback()
    after = (
        _minutes(db, order.id),
        db.exec(select(WorkOrderProcess.setup_minutes, WorkOrderProcess.units_per_hour)).all(),
    )
    assert after == before


def test_a_new_work_order_keeps_its_step_overrides(db, shop, supervisor):
    route = work_orders.default_route(db, shop["product"]["POSTER"])
    route[0].update(setup_minutes="5", units_per_hour="")
    order = work_orders.create_work_order(
        db,
        supervisor,
        {
            "customer_id": next(iter(shop["customer"].values())),
            "product_id": shop["product"]["POSTER"],
            "quantity": 500,
            "route": route,
        },
    )
    form = _order_form(db, order.id)
    assert (form["route"][0]["setup_minutes"], form["route"][0]["units_per_hour"]) == ("5", "")
    assert all(step["setup_minutes"] == "" for step in form["route"][1:])


# -- rules: minimum level -----------------------------------------------------------------------


def _rule_form(rule: AssignmentRule, **changes) -> dict:
    return {
        "process_id": str(rule.process_id),
        "department_id": str(rule.department_id),
        "priority": str(rule.priority),
        "strategy": rule.strategy,
        "notes": rule.notes,
        "is_active": rule.is_active,
        **changes,
    }


def test_a_rule_requires_a_minimum_level_and_lists_it(db, shop, supervisor):
    rule = db.exec(select(AssignmentRule).order_by(AssignmentRule.id)).first()
    rules.save_rule(db, supervisor, _rule_form(rule, min_level="2", strategy="least_work"), rule.id)
    row = next(r for r in rules.list_rules(db, supervisor) if r.id == rule.id)
    assert (row.min_level, row.strategy) == (2, "least_work")
    assert shifts.min_level_for(db, rule.process_id, rule.department_id) == 2
    # A form that leaves the level out keeps it; an empty one means anyone.
    rules.save_rule(db, supervisor, _rule_form(rule, priority="60", strategy="due_date"), rule.id)
    db.expire_all()
    assert (db.get(AssignmentRule, rule.id).min_level, db.get(AssignmentRule, rule.id).strategy) == (
        2,
        "due_date",
    )
    rules.save_rule(db, supervisor, _rule_form(rule, min_level=""), rule.id)
    db.expire_all()
    assert db.get(AssignmentRule, rule.id).min_level == 0


@pytest.mark.parametrize("level", ["4", "-1", "two", 1.5, True, ["2"]])
def test_a_bad_minimum_level_is_refused_and_changes_nothing(db, shop, supervisor, level):
    rule = db.exec(select(AssignmentRule).order_by(AssignmentRule.id)).first()
    before = db.exec(select(AssignmentRule.id, AssignmentRule.min_level, AssignmentRule.priority)).all()
    with pytest.raises(ValidationError) as refused:
        rules.save_rule(db, supervisor, _rule_form(rule, min_level=level, priority="77"), rule.id)
    assert refused.value.field == "min_level"
    db.rollback()
    db.expire_all()
    assert (
        db.exec(select(AssignmentRule.id, AssignmentRule.min_level, AssignmentRule.priority)).all() == before
    )


# -- qualifications -----------------------------------------------------------------------------


def _levels(db, operator_id: int) -> dict[int, int]:
    db.expire_all()
    return dict(
        db.exec(
            select(Qualification.process_id, Qualification.level).where(
                Qualification.operator_id == operator_id
            )
        ).all()
    )


def test_an_admin_sets_an_operators_levels_which_dispatch_reads(db, shop, admin):
    print1 = _user_id(db, "print1")
    offset, varnish = shop["process"]["OFFSET"], shop["process"]["VARNISH"]
    sheet = skills.skill_sheet(db, admin, print1)
    active = db.exec(select(func.count()).select_from(Process).where(Process.is_active)).one()
    assert sheet.display_name and len(sheet.rows) == active
    assert [row.name for row in sheet.rows] == sorted(row.name for row in sheet.rows)
    before_levels = {row.process_id: row.level for row in sheet.rows}
    events = db.exec(select(func.count()).select_from(AuthEvent)).one()

    changed = skills.set_levels(db, admin, print1, {str(offset): "3", varnish: 1})

    assert changed == sum(1 for pid, lvl in ((offset, 3), (varnish, 1)) if before_levels[pid] != lvl)
    assert _levels(db, print1)[offset] == 3 and _levels(db, print1)[varnish] == 1
    assert shifts.levels_by_operator(db, [print1])[print1] == _levels(db, print1)
    rows = {row.process_id: row.level for row in skills.skill_sheet(db, admin, print1).rows}
    assert (rows[offset], rows[varnish]) == (3, 1)
    assert db.exec(select(func.count()).select_from(AuthEvent)).one() == events + 1
    assert skills.set_levels(db, admin, print1, {offset: 3}) == 0  # nothing to change
    # Level 0 is "not trained": no row is kept.
    assert skills.set_levels(db, admin, print1, {offset: 0}) == 1
    assert offset not in _levels(db, print1) and _levels(db, print1)[varnish] == 1
    zh = skills.skill_sheet(db, dataclasses.replace(admin, locale="zh-CN"), print1)
    assert any(row.name == "胶印" for row in zh.rows)


@pytest.mark.parametrize(
    ("levels", "error", "words"),
    [
        ({"OFFSET": 4}, ValidationError, "from 0 to 3"),
        ({"OFFSET": -1}, ValidationError, "from 0 to 3"),
        ({"OFFSET": "expert"}, ValidationError, "from 0 to 3"),
        ({"OFFSET": None}, ValidationError, "from 0 to 3"),
        ({"OFFSET": True}, ValidationError, "from 0 to 3"),
        ({"OFFSET": 2.0}, ValidationError, "from 0 to 3"),
        ({"OFFSET": 2, "VARNISH": 9}, ValidationError, "from 0 to 3"),
        ({"OFFSET": 2, "999999": 1}, NotFoundError, "unknown"),
        ({"OFFSET": 2, "x": 1}, ValidationError, "whole number"),
        ({"OFFSET": 2, "INACTIVE": 1}, NotFoundError, "no longer active"),
        ("OFFSET=2", ValidationError, "one level per process"),
        ([2, 3], ValidationError, "one level per process"),
    ],
)
def test_bad_levels_or_processes_are_refused_and_change_nothing(db, shop, admin, levels, error, words):
    print1 = _user_id(db, "print1")
    skills.set_levels(db, admin, print1, {shop["process"]["VARNISH"]: 2})
    inactive = catalog.save_process(
        db, admin, {"code": "OLDPROC", "name": "Old process", "standard_minutes": 5, "is_active": False}
    )
    ids = {**shop["process"], "INACTIVE": inactive}
    if isinstance(levels, dict):
        levels = {str(ids.get(key, key)): value for key, value in levels.items()}
    before = (_levels(db, print1), db.exec(select(func.count()).select_from(AuthEvent)).one())
    with pytest.raises(error) as refused:
        skills.set_levels(db, admin, print1, levels)
    assert refused.value.field == "levels" and words in refused.value.message
    db.rollback()
    assert (_levels(db, print1), db.exec(select(func.count()).select_from(AuthEvent)).one()) == before


def test_only_operators_have_skills_and_only_admins_edit_them(db, shop, admin, supervisor):
    offset = shop["process"]["OFFSET"]
    super1, print1 = _user_id(db, "super1"), _user_id(db, "print1")
    before = _levels(db, print1)
    with pytest.raises(ValidationError) as refused:
        skills.set_levels(db, admin, super1, {offset: 2})
    assert "not an operator" in refused.value.message
    with pytest.raises(ValidationError):
        skills.skill_sheet(db, admin, super1)
    with pytest.raises(NotFoundError):
        skills.set_levels(db, admin, 999_999, {offset: 2})
    for bad_id in ("1 OR 1=1", None, -3, [print1]):
        with pytest.raises(DomainError):
            skills.set_levels(db, admin, bad_id, {offset: 2})
    for outsider in (supervisor, actor_for(db, "print1"), None):
        with pytest.raises(PermissionDeniedError):
            skills.set_levels(db, outsider, print1, {offset: 3})
        with pytest.raises(PermissionDeniedError):
            skills.skill_sheet(db, outsider, print1)
    assert _levels(db, print1) == before and _levels(db, super1) == {}
