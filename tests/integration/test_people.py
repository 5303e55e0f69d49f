"""People (admin): accounts, roles, departments, passwords and sessions, on both databases."""

import pytest
from sqlmodel import func, select

from tests.conftest import actor_for
from work_dispatch.domain.errors import DomainError, PermissionDeniedError, ValidationError
from work_dispatch.models import AuthEvent, User, UserDepartment, UserSession
from work_dispatch.services import auth, people
from work_dispatch.services.demo import DEMO_PASSWORD


@pytest.fixture
def admin(db, shop):
    return actor_for(db, "admin")


def _form(shop, **changes):
    form = {
        "username": "newop",
        "display_name": "Nina New",
        "role": "operator",
        "wip_limit": "2",
        "department_ids": [str(shop["department"]["PRINT"])],
        "is_active": True,
        "password": "s3cure-pass",
    }
    return {**form, **changes}


def _snapshot(db):
    return (
        db.exec(select(User.username, User.role, User.is_active, User.wip_limit).order_by(User.id)).all(),
        db.exec(select(func.count()).select_from(UserDepartment)).one(),
        db.exec(select(func.count()).select_from(AuthEvent)).one(),
    )


def test_an_admin_creates_an_operator_who_can_log_in(db, shop, admin):
    user_id = people.create_person(db, admin, _form(shop, username="  NewOp "))
    _, actor = auth.login(db, "newop", "s3cure-pass")
    assert actor.user_id == user_id and actor.is_operator and actor.wip_limit == 2
    assert actor.department_ids == {shop["department"]["PRINT"]}
    event = db.exec(select(AuthEvent).where(AuthEvent.kind == "user_created")).one()
    assert event.user_id == user_id and event.reason == "by admin: operator"


def test_the_list_pages_by_keyset_and_filters(db, shop, admin):
    first = people.list_people(db, admin, page_size=5)
    second = people.list_people(db, admin, after_id=first.next_after, page_size=5)
    assert len(first.rows) == 5 and first.next_after == first.rows[-1].id
    assert {r.id for r in first.rows}.isdisjoint({r.id for r in second.rows})
    assert second.rows[0].id > first.rows[-1].id
    operators = people.list_people(db, admin, role="operator", page_size=100)
    assert operators.rows and all(r.role == "operator" for r in operators.rows) and operators.next_after == 0
    printers = people.list_people(db, admin, search="PRINT", page_size=100)
    assert {r.username for r in printers.rows} == {"print1", "print2", "print3"}
    assert all(r.departments == ["Printing"] for r in printers.rows)
    assert people.list_people(db, admin, search="100%_").rows == []


def test_deactivating_ends_sessions_and_refuses_login(db, shop, admin):
    token, operator = auth.login(db, "print1", DEMO_PASSWORD)
    row = next(r for r in people.list_people(db, admin, search="print1").rows)
    assert row.open_sessions == 1
    ended = people.update_person(
        db,
        admin,
        operator.user_id,
        _form(
            shop, display_name=row.display_name, wip_limit=str(row.wip_limit), is_active=False, password=""
        ),
    )
    assert ended == 1
    assert auth.resolve(db, token) is None
    with pytest.raises(ValidationError):
        auth.login(db, "print1", DEMO_PASSWORD)
    event = db.exec(select(AuthEvent).where(AuthEvent.kind == "user_updated")).one()
    assert event.reason == "by admin: deactivated"


def test_a_new_password_ends_sessions_and_replaces_the_old_one(db, shop, admin):
    token, operator = auth.login(db, "print2", DEMO_PASSWORD)
    people.update_person(db, admin, operator.user_id, _form(shop, password="another-pass"))
    assert auth.resolve(db, token) is None
    with pytest.raises(ValidationError):
        auth.login(db, "print2", DEMO_PASSWORD)
    assert auth.login(db, "print2", "another-pass")[1].user_id == operator.user_id


def test_department_changes_apply_without_logging_out(db, shop, admin):
    token, operator = auth.login(db, "print3", DEMO_PASSWORD)
    pack = shop["department"]["PACK"]
    ended = people.update_person(
        db, admin, operator.user_id, _form(shop, display_name="Pia Print", password="", department_ids=[pack])
    )
    assert ended == 0
    assert auth.resolve(db, token).department_ids == {pack}


def test_revoking_sessions_logs_a_lost_tablet_out(db, shop, admin):
    tokens = [auth.login(db, "pack1", DEMO_PASSWORD)[0] for _ in range(2)]
    user_id = db.exec(select(User.id).where(User.username == "pack1")).one()
    assert auth.signed_in_users(db, [user_id, admin.user_id]) == {user_id}
    assert people.revoke_sessions(db, admin, user_id) == 2
    assert all(auth.resolve(db, token) is None for token in tokens)
    assert auth.signed_in_users(db, [user_id]) == set()
    assert (
        db.exec(select(func.count()).select_from(UserSession).where(UserSession.revoked_at.is_(None))).one()
        == 0
    )


def test_an_admin_cannot_lock_themselves_out(db, shop, admin):
    before = _snapshot(db)
    for change in ({"role": "supervisor"}, {"is_active": False}):
        own = {"display_name": "Alex Admin", "role": "admin", "department_ids": [], "password": ""}
        form = _form(shop, **{**own, **change})
        with pytest.raises(ValidationError, match="your own admin access"):
            people.update_person(db, admin, admin.user_id, form)
    assert _snapshot(db) == before


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"username": "ab"}, "username", "3 to 40"),
        ({"username": "bad name!"}, "username", "3 to 40"),
        ({"username": "PRINT1"}, "username", "taken"),
        ({"display_name": "   "}, "display_name", "required"),
        ({"display_name": "x" * 121}, "display_name", "at most 120"),
        ({"role": "root"}, "role", "one of"),
        ({"wip_limit": "0"}, "wip_limit", "at least 1"),
        ({"wip_limit": "21"}, "wip_limit", "at most 20"),
        ({"wip_limit": True}, "wip_limit", "whole number"),
        ({"department_ids": ["999999"]}, "department_ids", "from the list"),
        ({"department_ids": "1"}, "department_ids", "a list"),
        ({"department_ids": []}, "department_ids", "at least one department"),
        ({"password": "short"}, "password", "at least 8"),
        ({"password": "x" * 129}, "password", "at most 128"),
        ({"password": 12345678}, "password", "must be text"),
        ({"is_active": "yes"}, "is_active", "yes or no"),
    ],
)
def test_bad_input_is_refused_with_its_field_and_changes_nothing(db, shop, admin, change, field, message):
    before = _snapshot(db)
    with pytest.raises(ValidationError, match=message) as caught:
        people.create_person(db, admin, _form(shop, **change))
    assert caught.value.field == field
    assert _snapshot(db) == before


@pytest.mark.parametrize("username", ["super1", "print1", None])
def test_only_admins_manage_people(db, shop, username):
    actor = actor_for(db, username) if username else None
    before = _snapshot(db)
    calls = [
        lambda: people.list_people(db, actor),
        lambda: people.create_person(db, actor, _form(shop)),
        lambda: people.update_person(db, actor, 1, _form(shop)),
        lambda: people.revoke_sessions(db, actor, 1),
    ]
    for call in calls:
        with pytest.raises(PermissionDeniedError):
            call()
    assert _snapshot(db) == before


def test_malformed_arguments_are_refused(db, shop, admin):
    before = _snapshot(db)
    for call in (
        lambda: people.create_person(db, admin, ["not", "a", "form"]),
        lambda: people.update_person(db, admin, "abc", _form(shop)),
        lambda: people.update_person(db, admin, 10**9, _form(shop)),
        lambda: people.revoke_sessions(db, admin, -1),
        lambda: people.list_people(db, admin, role="god"),
        lambda: people.list_people(db, admin, after_id="x"),
    ):
        with pytest.raises(DomainError):
            call()
    assert _snapshot(db) == before
