"""The "On the floor" services on SQLite and PostgreSQL: the live floor, shifts, closures, absences.

Every refusal is checked to leave the database exactly as it was, and every function to refuse
operators and anonymous callers.
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import select

from tests.conftest import actor_for
from work_dispatch.domain.errors import DomainError, NotFoundError, PermissionDeniedError, ValidationError
from work_dispatch.models import Absence, Closure, Department, Presence, ShiftTemplate, User
from work_dispatch.services import dispatch, drafts, floor, presence
from work_dispatch.services.demo import load_demo
from work_dispatch.services.shifts import shop_timezone
from work_dispatch.services.workload import operator_loads


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    """An instant on the shop's clock."""
    return datetime.combine(day, time(hour, minute), tzinfo=shop_timezone())


TODAY = date(2031, 3, 12)  # a Wednesday


def _snapshot(db):
    db.expire_all()
    return (
        [
            (r.id, r.department_id, r.name, r.start_time, r.end_time, r.weekdays, r.overnight, r.is_active)
            for r in db.exec(select(ShiftTemplate).order_by(ShiftTemplate.id)).all()
        ],
        [
            (r.id, r.department_id, r.first_day, r.last_day, r.reason)
            for r in db.exec(select(Closure).order_by(Closure.id)).all()
        ],
        [
            (r.id, r.operator_id, r.start_at, r.end_at, r.reason)
            for r in db.exec(select(Absence).order_by(Absence.id)).all()
        ],
        [
            (
                d.id,
                d.requires_check_in,
                d.shift_end_returns_tasks,
                d.shift_end_pauses_tasks,
                d.checkout_grace_minutes,
            )
            for d in db.exec(select(Department).order_by(Department.id)).all()
        ],
        [
            (p.id, p.operator_id, p.checked_out_at, p.checkout_kind)
            for p in db.exec(select(Presence).order_by(Presence.id)).all()
        ],
    )


def _refused(db, call, key: str, field: str | None = "__any__", error=ValidationError):
    before = _snapshot(db)
    with pytest.raises(error) as caught:
        call()
    db.rollback()
    assert caught.value.detail.key == key, caught.value.detail
    if field != "__any__":
        assert caught.value.field == field
    assert _snapshot(db) == before
    return caught.value


def _shift(shop, **changes):
    form = {
        "department_id": str(shop["department"]["PRINT"]),
        "name": "Early",
        "start": "06:00",
        "end": "14:00",
        "weekdays": [0, 1, 2, 3, 4],
        "overnight": False,
        "is_active": True,
    }
    return {**form, **changes}


# -- shift templates -------------------------------------------------------------------------------


def test_a_supervisor_creates_edits_and_deletes_a_shift(db, shop, supervisor):
    template_id = floor.save_template(db, supervisor, 0, _shift(shop, name="  Early  "))
    rows = floor.list_templates(db, supervisor)
    assert [(r.id, r.name, r.start, r.end, r.weekdays, r.minutes, r.department) for r in rows] == [
        (template_id, "Early", "06:00", "14:00", [0, 1, 2, 3, 4], 480, "Printing")
    ]
    floor.save_template(
        db,
        supervisor,
        template_id,
        _shift(shop, name="Night", start="22:00", end="06:00", overnight=True, weekdays=["5", 6]),
    )
    row = db.get(ShiftTemplate, template_id)
    db.refresh(row)
    assert (row.name, row.start_time, row.end_time, row.overnight, row.weekdays) == (
        "Night",
        time(22),
        time(6),
        True,
        0b1100000,
    )
    assert floor.list_templates(db, supervisor)[0].minutes == 480
    assert floor.delete_template(db, supervisor, template_id) == "Night"
    assert floor.list_templates(db, supervisor) == []
    _refused(
        db,
        lambda: floor.delete_template(db, supervisor, template_id),
        "calendar.error.shift_not_found",
        error=NotFoundError,
    )


@pytest.mark.parametrize(
    ("changes", "key", "field"),
    [
        ({"name": "  "}, "error.required", "name"),
        ({"name": "x" * 65}, "error.too_long", "name"),
        ({"name": ["Early"]}, "error.not_text", "name"),
        ({"start": "25:00"}, "calendar.error.time_format", "start"),
        ({"end": "noon"}, "calendar.error.time_format", "end"),
        ({"start": ""}, "error.required", "start"),
        ({"weekdays": []}, "scheduling.error.weekdays_invalid", "weekdays"),
        ({"weekdays": [7]}, "scheduling.error.weekdays_invalid", "weekdays"),
        ({"weekdays": "0,1"}, "scheduling.error.weekdays_invalid", "weekdays"),
        ({"weekdays": list(range(8))}, "scheduling.error.weekdays_invalid", "weekdays"),
        ({"start": "14:00", "end": "06:00"}, "scheduling.error.shift_ends_before_start", "end"),
        ({"start": "08:00", "end": "08:00"}, "scheduling.error.shift_ends_before_start", "end"),
        ({"overnight": True}, "scheduling.error.overnight_shift_must_cross_midnight", "end"),
        ({"overnight": "yes"}, "error.yes_or_no", "overnight"),
        ({"department_id": "9999"}, "calendar.error.department_unknown", "department_id"),
        ({"department_id": "PRINT"}, "error.whole_number", "department_id"),
    ],
)
def test_bad_shifts_are_refused_and_change_nothing(db, shop, supervisor, changes, key, field):
    template_id = floor.save_template(db, supervisor, 0, _shift(shop))
    _refused(db, lambda: floor.save_template(db, supervisor, 0, _shift(shop, **changes)), key, field)
    _refused(
        db, lambda: floor.save_template(db, supervisor, template_id, _shift(shop, **changes)), key, field
    )


def test_a_shift_of_an_inactive_department_is_refused(db, shop, supervisor):
    department = db.get(Department, shop["department"]["GLUE"])
    department.is_active = False
    db.commit()
    _refused(
        db,
        lambda: floor.save_template(db, supervisor, 0, _shift(shop, department_id=department.id)),
        "calendar.error.department_unknown",
        "department_id",
    )


# -- closures --------------------------------------------------------------------------------------


def test_closures_of_the_shop_and_of_a_department(db, shop, supervisor):
    today = datetime.now(shop_timezone()).date()
    shop_wide = floor.save_closure(
        db,
        supervisor,
        0,
        {
            "department_id": "",
            "first_day": (today + timedelta(days=3)).isoformat(),
            "last_day": (today + timedelta(days=4)).isoformat(),
            "reason": "Holiday",
        },
    )
    printing = floor.save_closure(
        db,
        supervisor,
        0,
        {
            "department_id": str(shop["department"]["PRINT"]),
            "first_day": today.isoformat(),
            "last_day": today.isoformat(),
            "reason": "",
        },
    )
    past = floor.save_closure(
        db,
        supervisor,
        0,
        {"department_id": "0", "first_day": "2020-01-01", "last_day": "2020-01-02", "reason": "Old"},
    )
    rows = floor.list_closures(db, supervisor, today)
    assert [(r.id, r.department_id, r.department, r.reason) for r in rows] == [
        (printing, shop["department"]["PRINT"], "Printing", ""),
        (shop_wide, 0, "", "Holiday"),
    ]
    floor.save_closure(
        db,
        supervisor,
        shop_wide,
        {"department_id": "", "first_day": "2031-01-01", "last_day": "2031-01-01", "reason": "New year"},
    )
    assert db.get(Closure, shop_wide).first_day == date(2031, 1, 1)
    floor.delete_closure(db, supervisor, past)
    assert db.get(Closure, past) is None
    _refused(
        db,
        lambda: floor.save_closure(
            db, supervisor, past, {"first_day": "2031-01-01", "last_day": "2031-01-01"}
        ),
        "calendar.error.closure_not_found",
        error=NotFoundError,
    )


@pytest.mark.parametrize(
    ("form", "key", "field"),
    [
        (
            {"first_day": "2031-05-02", "last_day": "2031-05-01"},
            "scheduling.error.closure_ends_before_start",
            "last_day",
        ),
        ({"first_day": "2031-05-02", "last_day": ""}, "error.required", "last_day"),
        ({"first_day": "02/05/2031", "last_day": "2031-05-03"}, "error.date_format", "first_day"),
        (
            {"first_day": "2031-01-01", "last_day": "2033-01-01"},
            "calendar.error.closure_too_long",
            "last_day",
        ),
        (
            {"first_day": "2031-05-01", "last_day": "2031-05-01", "reason": "r" * 501},
            "error.too_long",
            "reason",
        ),
        (
            {"first_day": "2031-05-01", "last_day": "2031-05-01", "department_id": "777"},
            "calendar.error.department_unknown",
            "department_id",
        ),
    ],
)
def test_bad_closures_are_refused_and_change_nothing(db, shop, supervisor, form, key, field):
    _refused(db, lambda: floor.save_closure(db, supervisor, 0, form), key, field)


# -- absences --------------------------------------------------------------------------------------


def _absence(shop, who="print1", start="2031-03-12T08:00", end="2031-03-13T17:00", reason="Vacation"):
    return {"operator_id": str(shop["user"][who]), "start": start, "end": end, "reason": reason}


def test_absences_are_entered_on_the_shops_clock_and_overlaps_are_refused(db, shop, supervisor):
    first = floor.save_absence(db, supervisor, 0, _absence(shop))
    row = db.get(Absence, first)
    assert row.start_at == _local(TODAY, 8) and row.end_at == _local(TODAY + timedelta(days=1), 17)
    assert row.created_by_id == supervisor.user_id
    error = _refused(
        db,
        lambda: floor.save_absence(
            db, supervisor, 0, _absence(shop, start="2031-03-13T16:00", end="2031-03-14T08:00")
        ),
        "scheduling.error.absences_overlap",
        "start",
    )
    assert "overlaps" in error.render("en") and "重叠" in error.render("zh-CN")
    # Touching is not overlapping; another operator may be away at the same time.
    floor.save_absence(db, supervisor, 0, _absence(shop, start="2031-03-13T17:00", end="2031-03-14T08:00"))
    floor.save_absence(db, supervisor, 0, _absence(shop, who="print2"))
    # An absence moved within its own old span does not overlap itself.
    floor.save_absence(
        db, supervisor, first, _absence(shop, start="2031-03-12T09:00", end="2031-03-13T12:00")
    )
    assert db.get(Absence, first).start_at == _local(TODAY, 9)
    # An aware time is taken as it is.
    floor.save_absence(
        db,
        supervisor,
        0,
        _absence(shop, who="pack1", start="2031-03-20T00:00+00:00", end="2031-03-21T00:00+00:00"),
    )
    assert db.exec(
        select(Absence.start_at).where(Absence.operator_id == shop["user"]["pack1"])
    ).one() == datetime(2031, 3, 20, tzinfo=UTC)
    floor.delete_absence(db, supervisor, first)
    assert db.get(Absence, first) is None
    _refused(
        db,
        lambda: floor.delete_absence(db, supervisor, first),
        "calendar.error.absence_not_found",
        error=NotFoundError,
    )


@pytest.mark.parametrize(
    ("changes", "key", "field"),
    [
        ({"end": "2031-03-12T08:00"}, "scheduling.error.absence_ends_before_start", "end"),
        ({"end": "2031-03-11T08:00"}, "scheduling.error.absence_ends_before_start", "end"),
        ({"start": "tomorrow"}, "error.datetime_format", "start"),
        ({"start": ""}, "error.required", "start"),
        ({"end": "2033-03-12T08:00"}, "calendar.error.absence_too_long", "end"),
        ({"reason": "r" * 501}, "error.too_long", "reason"),
        ({"who": "super2"}, "calendar.error.operator_unknown", "operator_id"),
        ({"who": "admin"}, "calendar.error.operator_unknown", "operator_id"),
    ],
)
def test_bad_absences_are_refused_and_change_nothing(db, shop, supervisor, changes, key, field):
    floor.save_absence(db, supervisor, 0, _absence(shop, start="2031-04-01T08:00", end="2031-04-02T08:00"))
    _refused(db, lambda: floor.save_absence(db, supervisor, 0, _absence(shop, **changes)), key, field)


def test_absences_of_inactive_or_unknown_operators_are_refused(db, shop, supervisor):
    user = db.get(User, shop["user"]["glue2"])
    user.is_active = False
    db.commit()
    _refused(
        db,
        lambda: floor.save_absence(db, supervisor, 0, _absence(shop, who="glue2")),
        "calendar.error.operator_unknown",
    )
    form = {**_absence(shop), "operator_id": "123456"}
    _refused(db, lambda: floor.save_absence(db, supervisor, 0, form), "calendar.error.operator_unknown")
    _refused(db, lambda: floor.save_absence(db, supervisor, 0, "not a form"), "error.form_malformed")


def test_absences_page_by_keyset_latest_first_and_filter_by_operator(db, shop, supervisor):
    for index in range(7):
        day = TODAY + timedelta(days=index * 2)
        who = "print1" if index % 2 == 0 else "pack1"
        floor.save_absence(
            db,
            supervisor,
            0,
            _absence(shop, who=who, start=f"{day.isoformat()}T08:00", end=f"{day.isoformat()}T12:00"),
        )
    seen, cursor = [], ""
    while True:
        page = floor.list_absences(db, supervisor, 0, cursor, 3, now=_local(TODAY, 9))
        seen.extend(page.rows)
        assert len(page.rows) <= 3
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    starts = [r.start_at for r in seen]
    assert len(seen) == 7 and starts == sorted(starts, reverse=True)
    assert [r.current for r in seen] == [False] * 6 + [True]
    assert {r.created_by for r in seen} == {supervisor.display_name}
    mine = floor.list_absences(db, supervisor, shop["user"]["pack1"], "", 100)
    assert (
        len(mine.rows) == 3 and {r.operator for r in mine.rows} == {"Paula Costa"} and mine.next_cursor == ""
    )
    for cursor in ("garbage", "2031-01-01T00:00:00|x", "2031-01-01T00:00:00|1", "x" * 100, 5):
        with pytest.raises(ValidationError):
            floor.list_absences(db, supervisor, 0, cursor, 3)
    with pytest.raises(ValidationError):
        floor.list_absences(db, supervisor, 0, "", 500)


# -- department settings ---------------------------------------------------------------------------


def _settings(**changes):
    form = {
        "requires_check_in": True,
        "shift_end_returns_tasks": False,
        "shift_end_pauses_tasks": True,
        "checkout_grace_minutes": "30",
    }
    return {**form, **changes}


def test_department_settings_are_saved_and_bad_ones_refused(db, shop, supervisor):
    printing = shop["department"]["PRINT"]
    assert floor.save_department_settings(db, supervisor, printing, _settings()) == "Printing"
    row = next(r for r in floor.department_settings(db, supervisor) if r.id == printing)
    assert (
        row.requires_check_in,
        row.shift_end_returns_tasks,
        row.shift_end_pauses_tasks,
        row.checkout_grace_minutes,
    ) == (
        True,
        False,
        True,
        30,
    )
    for changes, key, field in [
        ({"checkout_grace_minutes": "241"}, "error.at_most", "checkout_grace_minutes"),
        ({"checkout_grace_minutes": "-1"}, "error.at_least", "checkout_grace_minutes"),
        ({"checkout_grace_minutes": "half"}, "error.whole_number", "checkout_grace_minutes"),
        ({"requires_check_in": "false"}, "error.yes_or_no", "requires_check_in"),
    ]:
        _refused(
            db,
            lambda changes=changes: floor.save_department_settings(
                db, supervisor, printing, _settings(**changes)
            ),
            key,
            field,
        )
    _refused(
        db,
        lambda: floor.save_department_settings(db, supervisor, 4242, _settings()),
        "calendar.error.department_unknown",
    )


# -- the live floor --------------------------------------------------------------------------------


def _card(snapshot, shop, code):
    return next(d for d in snapshot.departments if d.department_id == shop["department"][code])


def _member(card, shop, username):
    return next(m for m in card.members if m.operator_id == shop["user"][username])


def test_the_floor_shows_shifts_presence_absences_and_load(db, shop, supervisor, make_order):
    printing = shop["department"]["PRINT"]
    every_day = list(range(7))
    floor.save_template(db, supervisor, 0, _shift(shop, weekdays=every_day))
    floor.save_template(
        db, supervisor, 0, _shift(shop, name="Late", start="14:00", end="22:00", weekdays=every_day)
    )
    floor.save_department_settings(db, supervisor, printing, _settings())
    floor.save_absence(
        db, supervisor, 0, _absence(shop, who="print3", start="2031-03-12T00:00", end="2031-03-14T00:00")
    )
    presence.check_in(db, actor_for(db, "print1"), now=_local(TODAY, 5, 58))
    presence.check_in(db, actor_for(db, "pack1"), now=_local(TODAY, 7))
    order = make_order("POSTER", quantity=1000)
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    dispatch.run_cycle(db, seed=1, now=_local(TODAY, 10))

    morning = floor.floor_snapshot(db, supervisor, now=_local(TODAY, 10))
    card = _card(morning, shop, "PRINT")
    assert card.name == "Printing" and card.has_shifts and card.requires_check_in
    assert card.running_shifts == ["Early"] and not card.closed_today
    assert card.shift_minutes_left == pytest.approx(12 * 60)  # 10:00 to 22:00, Early and Late touch
    print1, print2, print3 = (_member(card, shop, u) for u in ("print1", "print2", "print3"))
    assert print1.standing == floor.Standing.WORKING and print1.checked_in_at == _local(TODAY, 5, 58)
    assert print1.shift_name == "Early" and print1.shift_ends_at == _local(TODAY, 14)
    assert print2.standing == floor.Standing.NOT_CHECKED_IN and print2.checked_in_at is None
    assert print3.standing == floor.Standing.ABSENT and print3.absent_until == _local(
        TODAY + timedelta(days=2), 0
    )
    assert print3.next_shift_at == _local(TODAY + timedelta(days=2), 6)
    assert card.checked_in == 1 and card.working == 1 and len(card.members) == 3
    assert card.load_minutes == pytest.approx(sum(m.load_minutes for m in card.members), abs=0.2)
    # A department without shifts has no limits; check-in is not required there.
    packing = _card(morning, shop, "PACK")
    assert not packing.has_shifts and packing.running_shifts == []
    assert {m.standing for m in packing.members} == {floor.Standing.WORKING}
    assert _member(packing, shop, "pack1").checked_in_at == _local(TODAY, 7)
    # Everyone's load is what workload says: open tasks and remaining minutes.
    loads = operator_loads(db)
    holders = [m for d in morning.departments for m in d.members if m.open_tasks]
    assert holders and all(
        m.load_minutes == pytest.approx(loads[m.operator_id].minutes, abs=0.1) for m in holders
    )
    assert all(m.open_tasks == loads[m.operator_id].open_tasks for m in holders)

    night = floor.floor_snapshot(db, supervisor, now=_local(TODAY, 23))
    card = _card(night, shop, "PRINT")
    assert card.running_shifts == [] and card.shift_minutes_left == 0
    print1 = _member(card, shop, "print1")
    assert print1.standing == floor.Standing.OFF_SHIFT and print1.next_shift_at == _local(
        TODAY + timedelta(days=1), 6
    )

    floor.save_closure(
        db,
        supervisor,
        0,
        {"department_id": str(printing), "first_day": TODAY.isoformat(), "last_day": TODAY.isoformat()},
    )
    closed = _card(floor.floor_snapshot(db, supervisor, now=_local(TODAY, 10)), shop, "PRINT")
    assert closed.closed_today and closed.running_shifts == [] and closed.working == 0


def test_a_supervisor_checks_an_operator_out(db, shop, supervisor):
    printer = actor_for(db, "print1")
    presence.check_in(db, printer)
    assert floor.check_out_operator(db, supervisor, shop["user"]["print1"]) == "Omar Haddad"
    row = db.exec(select(Presence)).one()
    assert row.checked_out_at is not None and row.checkout_kind == "supervisor"
    assert not presence.presence_of(db, printer).checked_in
    _refused(
        db,
        lambda: floor.check_out_operator(db, supervisor, shop["user"]["print1"]),
        "floor.error.not_checked_in",
    )
    _refused(
        db,
        lambda: floor.check_out_operator(db, supervisor, shop["user"]["super2"]),
        "floor.error.operator_unknown",
        error=NotFoundError,
    )
    _refused(db, lambda: floor.check_out_operator(db, supervisor, "1 OR 1=1"), "error.whole_number")


# -- who may ---------------------------------------------------------------------------------------


def test_operators_and_nobody_may_use_none_of_it(db, shop, supervisor):
    template_id = floor.save_template(db, supervisor, 0, _shift(shop))
    closure_id = floor.save_closure(db, supervisor, 0, {"first_day": "2031-01-01", "last_day": "2031-01-01"})
    absence_id = floor.save_absence(db, supervisor, 0, _absence(shop))
    presence.check_in(db, actor_for(db, "print2"))
    calls = [
        lambda a: floor.floor_snapshot(db, a),
        lambda a: floor.list_templates(db, a),
        lambda a: floor.save_template(db, a, 0, _shift(shop)),
        lambda a: floor.save_template(db, a, template_id, _shift(shop, name="Taken")),
        lambda a: floor.delete_template(db, a, template_id),
        lambda a: floor.list_closures(db, a),
        lambda a: floor.save_closure(db, a, 0, {"first_day": "2031-02-01", "last_day": "2031-02-01"}),
        lambda a: floor.delete_closure(db, a, closure_id),
        lambda a: floor.list_absences(db, a),
        lambda a: floor.save_absence(db, a, 0, _absence(shop, who="print2")),
        lambda a: floor.save_absence(db, a, absence_id, _absence(shop, start="2031-03-12T10:00")),
        lambda a: floor.delete_absence(db, a, absence_id),
        lambda a: floor.department_settings(db, a),
        lambda a: floor.save_department_settings(db, a, shop["department"]["PRINT"], _settings()),
        lambda a: floor.check_out_operator(db, a, shop["user"]["print2"]),
        lambda a: floor.operator_options(db, a),
    ]
    for actor in (actor_for(db, "print1"), None):
        for call in calls:
            before = _snapshot(db)
            with pytest.raises(PermissionDeniedError):
                call(actor)
            db.rollback()
            assert _snapshot(db) == before
    # Admins are supervisors too.
    assert floor.list_templates(db, actor_for(db, "admin"))


def test_every_refusal_is_a_domain_error_with_a_catalog_message(db, shop, supervisor):
    for bad in (None, 3, [], {"department_id": None}):
        with pytest.raises(DomainError) as caught:
            floor.save_template(db, supervisor, 0, bad)
        assert not caught.value.render("zh-CN").startswith(("calendar.", "floor.", "error."))


# -- the demo shop ---------------------------------------------------------------------------------


def test_the_demo_calendar_keeps_everyone_at_work_at_any_hour(db):
    load_demo(db)
    supervisor = actor_for(db, "super1")
    before = _snapshot(db)
    load_demo(db)
    assert _snapshot(db) == before  # loaded once
    templates = floor.list_templates(db, supervisor)
    assert {t.department for t in templates} == {"Packing"} and len(templates) == 3
    assert all(t.weekdays == list(range(7)) for t in templates)
    assert not any(d.requires_check_in for d in floor.department_settings(db, supervisor))
    today = datetime.now(shop_timezone()).date()
    for hour in range(24):
        for minute in (0, 59):
            snapshot = floor.floor_snapshot(db, supervisor, now=_local(today, hour, minute))
            standings = {m.standing for d in snapshot.departments for m in d.members}
            assert standings == {floor.Standing.WORKING}, (hour, minute)
            packing = next(d for d in snapshot.departments if d.has_shifts)
            assert len(packing.running_shifts) >= 1
    absences = floor.list_absences(db, supervisor, 0, "", 10).rows
    assert len(absences) == 2 and all(a.start_at > datetime.now(UTC) + timedelta(days=2) for a in absences)
    assert all(c.first_day > today + timedelta(days=7) for c in floor.list_closures(db, supervisor))
