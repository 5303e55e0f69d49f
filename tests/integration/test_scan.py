"""Scan to open, on both databases: a traveler code opens its task card with the next action.

The codes come from the travelers module's own builder (``travelers.task_reference``), as they are
printed on the job traveler. An operator opens a task of theirs (start, resume, report) or one
queued in their departments' pools (claim); anything else is refused with a clear message and
nothing changes. The tablet header's presence, loaded in bulk for the live pushes, says what
``presence.presence_of`` says of each operator.
"""

from dataclasses import astuple, replace
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from tests.conftest import actor_for
from work_dispatch.domain.errors import DomainError, NotFoundError, PermissionDeniedError, ValidationError
from work_dispatch.i18n import translate
from work_dispatch.models import Absence, Department, Presence, ShiftTemplate, Task, User
from work_dispatch.services import presence, scan, task_center, task_flow, travelers
from work_dispatch.services.actor import Actor

_task = Task.__table__


@pytest.fixture
def job(db, make_order, shop):
    """The first (unblocked) task of an approved poster order, and the operators who scan it."""
    order = make_order("POSTER", quantity=1200)
    task = db.exec(
        select(Task).where(Task.work_order_id == order.id).order_by(Task.sequence, Task.id)
    ).first()
    reference = travelers.task_reference(db, task.id)
    db.commit()
    return {
        "task": task.id,
        "reference": reference,
        "prepress": shop["department"]["PREPRESS"],
        "printing": shop["department"]["PRINT"],
        "me": actor_for(db, "prepress1"),
        "colleague": actor_for(db, "prepress2"),
        "printer": actor_for(db, "print1"),
    }


def _put(db, task_id: int, status: str, *, operator: Actor | None = None, department: int | None = None):
    """Set a task's status and assignment directly (test setup)."""
    db.execute(
        update(_task)
        .where(_task.c.id == task_id)
        .values(
            status=status,
            is_draft=status == "draft",
            assigned_operator_id=operator.user_id if operator else None,
            assigned_department_id=department,
        )
    )
    db.commit()


def _row(db, task_id: int) -> tuple:
    db.expire_all()
    task = db.get(Task, task_id)
    return (task.status, task.assigned_operator_id, task.assigned_department_id, task.version)


@pytest.mark.parametrize(
    ("status", "action"),
    [("assigned", "start"), ("in_progress", "report"), ("paused", "resume")],
)
def test_my_task_opens_with_the_action_its_status_allows(db, job, status, action):
    _put(db, job["task"], status, operator=job["me"], department=job["prepress"])

    result = scan.open_scanned(db, job["me"], job["reference"])

    assert result.action == action
    card = result.card
    assert card.id == job["task"] and card.status == status
    assert card.production_quantity == 1200 and card.process and card.order_number
    assert card.blocked_reason == ""  # the first process waits for nothing


def test_a_task_queued_in_my_pool_offers_claim_then_start_once_claimed(db, job):
    _put(db, job["task"], "queued", department=job["prepress"])

    opened = scan.open_scanned(db, job["me"], job["reference"])
    assert (opened.action, opened.card.status, opened.card.department) == ("claim", "queued", "Prepress")

    task_flow.claim(db, job["me"], job["task"])
    again = scan.open_scanned(db, job["me"], job["reference"])
    assert (again.action, again.card.status) == ("start", "assigned")


def test_what_the_scanner_typed_is_read_without_case_or_surrounding_blanks(db, job):
    _put(db, job["task"], "assigned", operator=job["me"], department=job["prepress"])
    assert scan.open_scanned(db, job["me"], f"  {job['reference'].lower()}\n").card.id == job["task"]


def test_the_card_is_in_the_readers_language(db, job):
    _put(db, job["task"], "queued", department=job["prepress"])
    chinese = scan.open_scanned(db, replace(job["me"], locale="zh-CN"), job["reference"]).card
    assert (chinese.department, chinese.status_label) == (
        "印前",
        translate("enum.task_status.queued", "zh-CN"),
    )
    assert chinese.status_label != translate("enum.task_status.queued", "en")


@pytest.mark.parametrize(
    ("setup", "error", "key"),
    [
        ("colleague", PermissionDeniedError, "scan.error.not_yours"),
        ("other_pool", PermissionDeniedError, "scan.error.not_yours"),
        ("completed", ValidationError, "scan.error.completed"),
        ("cancelled", ValidationError, "scan.error.cancelled"),
        ("draft", ValidationError, "scan.error.not_released"),
        ("pending", ValidationError, "scan.error.not_released"),
    ],
)
def test_a_task_i_may_not_act_on_is_refused_with_its_reason_and_nothing_changes(db, job, setup, error, key):
    if setup == "colleague":
        _put(db, job["task"], "assigned", operator=job["colleague"], department=job["prepress"])
    elif setup == "other_pool":
        _put(db, job["task"], "queued", department=job["printing"])
    elif setup in ("completed", "cancelled"):
        _put(db, job["task"], setup, operator=job["me"], department=job["prepress"])
    else:
        _put(db, job["task"], setup)
    before = _row(db, job["task"])

    with pytest.raises(error) as refused:
        scan.open_scanned(db, job["me"], job["reference"])

    assert refused.value.detail.key == key and refused.value.field == "scan"
    assert f"#{job['task']}" in refused.value.render("en") and f"#{job['task']}" in refused.value.render(
        "zh-CN"
    )
    assert _row(db, job["task"]) == before


def test_a_pool_task_of_another_department_is_not_mine_even_for_a_member_of_a_second_one(db, job):
    # prepress2 is in Prepress and CTP: a Printing pool task stays out of reach.
    _put(db, job["task"], "queued", department=job["printing"])
    with pytest.raises(PermissionDeniedError):
        scan.open_scanned(db, job["colleague"], job["reference"])
    assert scan.open_scanned(db, job["printer"], job["reference"]).action == "claim"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "T-1",
        "#1",
        "1",
        "WD1:1",
        "WD1:1:AAAAAAAAAAAAAAAA",
        "x" * 100_000,
        None,
        123,
        ["WD1"],
        {"code": "WD1"},
    ],
)
def test_malformed_and_hand_typed_codes_are_refused(db, job, typed):
    _put(db, job["task"], "assigned", operator=job["me"], department=job["prepress"])
    with pytest.raises(ValidationError) as refused:
        scan.open_scanned(db, job["me"], typed)
    assert refused.value.detail.key == "scan.error.unknown_code"


def test_a_code_signed_for_another_task_or_by_another_shop_is_refused(db, job):
    _put(db, job["task"], "assigned", operator=job["me"], department=job["prepress"])
    prefix, task_id, mac = job["reference"].split(":")
    other_task = f"{prefix}:{int(task_id) + 1}:{mac}"
    flipped = f"{prefix}:{task_id}:{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}"
    for forged in (other_task, flipped):
        with pytest.raises(ValidationError) as refused:
            scan.open_scanned(db, job["me"], forged)
        assert refused.value.detail.key == "scan.error.unknown_code"


def test_a_genuine_code_of_a_deleted_task_says_so(db, job):
    gone = travelers.task_reference(db, job["task"] + 10_000)
    db.commit()
    with pytest.raises(NotFoundError):
        scan.open_scanned(db, job["me"], gone)


@pytest.mark.parametrize("who", ["super1", "admin", None])
def test_only_operators_scan(db, job, who):
    _put(db, job["task"], "queued", department=job["prepress"])
    actor = actor_for(db, who) if who else None
    with pytest.raises(PermissionDeniedError):
        scan.open_scanned(db, actor, job["reference"])


def test_opening_writes_nothing(db, job):
    _put(db, job["task"], "queued", department=job["prepress"])
    before = _row(db, job["task"])
    for _ in range(3):
        scan.open_scanned(db, job["me"], job["reference"])
    assert _row(db, job["task"]) == before


# -- the tablet header's presence, loaded in bulk --------------------------------------------------------

MONDAY_10 = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)
"""A Monday morning (the shifts below are in the shop's timezone; the test only compares two readers)."""


def _shop_scenarios(db, shop):
    """Departments with and without shifts, check-in required or not, an absence and a check-in."""
    printing, prepress = shop["department"]["PRINT"], shop["department"]["PREPRESS"]
    for department_id, start, end in ((printing, time(6), time(14)), (printing, time(14), time(22))):
        db.add(ShiftTemplate(department_id=department_id, name="shift", start_time=start, end_time=end))
    db.add(
        ShiftTemplate(
            department_id=prepress, name="night", start_time=time(22), end_time=time(6), overnight=True
        )
    )
    db.get(Department, printing).requires_check_in = True
    users = {u.username: u.id for u in db.exec(select(User)).all()}
    db.add(
        Absence(
            operator_id=users["print2"],
            start_at=MONDAY_10 - timedelta(hours=1),
            end_at=MONDAY_10 + timedelta(days=1),
        )
    )
    db.add(Presence(operator_id=users["print1"], checked_in_at=MONDAY_10 - timedelta(hours=2)))
    db.commit()
    return users


@pytest.mark.parametrize("hours", [0, 5, 13, 30])
def test_bulk_presence_says_what_presence_of_says(db, shop, hours):
    users = _shop_scenarios(db, shop)
    now = MONDAY_10 + timedelta(hours=hours)
    operators = [n for n in users if n.startswith(("print", "prepress", "ctp", "pack"))]
    memberships = {users[name]: set(actor_for(db, name).department_ids) for name in operators}
    bulk = presence.presence_views(db, memberships, now)
    for name in operators:
        assert astuple(bulk[users[name]]) == astuple(presence.presence_of(db, actor_for(db, name), now)), name


def test_the_overview_carries_the_presence_and_follows_check_in_and_out(db, shop):
    _shop_scenarios(db, shop)
    printer = actor_for(db, "print3")
    line = task_center.overview(db, printer).presence
    assert (line.checked_in, line.since, line.requires_check_in) == (False, "", True)

    presence.check_in(db, printer)
    line = task_center.overview(db, printer).presence
    assert line.checked_in and len(line.since) == 5 and line.since[2] == ":"  # "07:58": today's time alone

    presence.check_out(db, printer)
    assert not task_center.overview(db, printer).presence.checked_in
    with pytest.raises(DomainError):
        presence.check_out(db, printer)
