"""Shared tablets on SQLite and PostgreSQL: marked devices, PIN switching, idle sessions."""

import dataclasses
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.conftest import actor_for
from work_dispatch.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from work_dispatch.models import AuthEvent, ShopFloorDevice, User, UserSession, utc_now
from work_dispatch.services import auth, devices, live_auth, login_throttle, people
from work_dispatch.services.demo import DEMO_PASSWORD
from work_dispatch.settings import settings

TABLET = "10.0.0.40"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = utc_now()

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture(autouse=True)
def policy(monkeypatch):
    """Documented defaults: 15 idle minutes, 12-hour sessions, 5 free failures per pair."""
    values = dataclasses.replace(
        settings,
        tablet_idle_minutes=15.0,
        session_ttl_hours=12,
        login_max_failures=5,
        login_window_s=300,
        login_delay_s=30,
        login_max_delay_s=900,
        login_username_max_failures=100,
        login_address_max_failures=200,
    )
    monkeypatch.setattr(auth, "settings", values)
    monkeypatch.setattr(login_throttle, "settings", values)
    return values


@pytest.fixture
def admin(db, shop):
    return actor_for(db, "admin")


@pytest.fixture
def marked(db, shop, clock):
    """A browser marked as a shop-floor device by the demo supervisor; print1 has PIN 2468."""
    device = devices.mark_device(db, "super1", DEMO_PASSWORD, "Press hall 2", TABLET, clock=clock)
    operator = db.exec(select(User).where(User.username == "print1")).one()
    people.set_pin(db, actor_for(db, "admin"), operator.id, "2468")
    return device


def test_a_supervisor_marks_a_device_and_only_its_hash_is_stored(db, marked):
    row = db.exec(select(ShopFloorDevice)).one()
    assert row.name == "Press hall 2" and row.token_hash == auth.hash_token(marked.token) != marked.token
    assert devices.device_name(db, marked.token) == "Press hall 2"
    assert devices.device_name(db, "forged") == "" and devices.device_name(db, "x" * 10_000) == ""


def test_marking_needs_a_supervisor_s_right_password(db, shop, clock):
    with pytest.raises(ValidationError, match="Wrong username or password"):
        devices.mark_device(db, "super1", "wrong", "Tablet", TABLET, clock=clock)
    with pytest.raises(PermissionDeniedError, match="supervisor or an admin"):
        devices.mark_device(db, "print1", DEMO_PASSWORD, "Tablet", TABLET, clock=clock)
    with pytest.raises(ValidationError):
        devices.mark_device(db, "super1", DEMO_PASSWORD, "", TABLET, clock=clock)
    assert db.exec(select(ShopFloorDevice)).all() == []


def test_a_pin_is_refused_on_an_unmarked_device_and_counts_nothing(db, marked, clock):
    for token in (None, "", "not-a-device", ["list"], "x" * 10_000):
        with pytest.raises(ValidationError, match="only on a shop-floor device"):
            auth.pin_login(db, "print1", "2468", token, TABLET, clock=clock)
    assert db.exec(select(UserSession)).all() == []
    assert auth.list_throttles(db, actor_for(db, "admin"), clock=clock).rows == []


def test_a_pin_opens_an_operator_session_on_a_marked_device(db, marked, clock):
    token, actor = auth.pin_login(db, "print1", "2468", marked.token, TABLET, clock=clock)
    assert actor.username == "print1" and auth.resolve(db, token, clock=clock) == actor
    session = db.exec(select(UserSession)).one()
    device = db.exec(select(ShopFloorDevice)).one()
    assert session.device_id == device.id and device.last_used_at is not None
    assert db.get(User, actor.user_id).pin_hash.startswith("$argon2")


@pytest.mark.parametrize(
    ("username", "pin"),
    [("print1", "1357"), ("print1", "24680"), ("nobody", "2468"), ("super1", "2468"), ("print2", "2468")],
)
def test_wrong_pins_and_accounts_without_one_are_refused(db, marked, clock, username, pin):
    with pytest.raises(ValidationError, match="Wrong username or PIN"):
        auth.pin_login(db, username, pin, marked.token, TABLET, clock=clock)
    assert db.exec(select(UserSession)).all() == []
    assert db.exec(select(AuthEvent.kind).where(AuthEvent.kind == "login_failed")).all() == ["login_failed"]


def test_pin_guessing_is_throttled_like_passwords(db, marked, clock):
    for pin in ("0000", "0001", "0002", "0003"):
        with pytest.raises(ValidationError, match="Wrong username or PIN"):
            auth.pin_login(db, "print1", pin, marked.token, TABLET, clock=clock)
    with pytest.raises(
        ValidationError, match="Wrong username or PIN. Too many failed attempts: try again in 30"
    ):
        auth.pin_login(db, "print1", "0004", marked.token, TABLET, clock=clock)
    # Blocked now: even the right PIN is refused, without a check, until the delay has passed.
    with pytest.raises(ValidationError, match="Too many failed attempts"):
        auth.pin_login(db, "print1", "2468", marked.token, TABLET, clock=clock)
    clock.advance(seconds=31)
    token, _ = auth.pin_login(db, "print1", "2468", marked.token, TABLET, clock=clock)
    assert token


def test_an_unmarked_device_takes_pins_no_more(db, marked, admin, clock):
    device = db.exec(select(ShopFloorDevice)).one()
    assert [row.name for row in devices.list_devices(db, admin)] == ["Press hall 2"]
    assert devices.unmark_device(db, admin, device.id) == "Press hall 2"
    with pytest.raises(ValidationError, match="only on a shop-floor device"):
        auth.pin_login(db, "print1", "2468", marked.token, TABLET, clock=clock)
    with pytest.raises(NotFoundError):
        devices.unmark_device(db, admin, device.id)
    assert devices.list_devices(db, admin) == []


def test_only_admins_set_pins_and_only_for_operators(db, shop, admin):
    operator = db.exec(select(User).where(User.username == "print1")).one()
    supervisor = db.exec(select(User).where(User.username == "super1")).one()
    with pytest.raises(PermissionDeniedError):
        people.set_pin(db, actor_for(db, "super1"), operator.id, "1234")
    for bad in ("123", "1234567", "12a4", 1234, ["1234"]):
        with pytest.raises(ValidationError, match="4 to 6 digits"):
            people.set_pin(db, admin, operator.id, bad)
    with pytest.raises(ValidationError, match="Only operators"):
        people.set_pin(db, admin, supervisor.id, "1234")
    assert people.set_pin(db, admin, operator.id, "123456") is True
    assert people.set_pin(db, admin, operator.id, "") is False
    db.refresh(operator)
    assert operator.pin_hash is None


def test_an_idle_operator_session_ends_and_stays_ended(db, shop, clock):
    token, _ = auth.login(db, "print1", DEMO_PASSWORD, TABLET, clock=clock)
    for _ in range(6):  # active every 10 minutes for an hour: never idle
        clock.advance(minutes=10)
        assert auth.resolve(db, token, clock=clock) is not None
    clock.advance(minutes=15, seconds=1)
    assert auth.resolve(db, token, clock=clock) is None
    session = db.exec(select(UserSession)).one()
    assert session.revoked_at is not None
    assert db.exec(select(AuthEvent.reason).where(AuthEvent.kind == "logout")).all() == ["idle timeout"]
    clock.advance(seconds=1)
    assert auth.resolve(db, token, clock=clock) is None


def test_an_idle_session_gets_no_pushes(db, shop, clock):
    token, actor = auth.login(db, "print1", DEMO_PASSWORD, TABLET, clock=clock)

    @dataclasses.dataclass
    class Watching:
        token: str
        view: str
        user_id: int
        session_hash: str

    watching = Watching("client-1", "operator", actor.user_id, auth.hash_token(token))
    assert live_auth.check_sessions(db, [watching], clock=clock)["client-1"] is not None
    clock.advance(minutes=16)
    assert live_auth.check_sessions(db, [watching], clock=clock)["client-1"] is None


def test_supervisors_off_the_shop_floor_do_not_idle_out_but_on_a_device_they_do(db, marked, clock):
    desk, _ = auth.login(db, "super1", DEMO_PASSWORD, "10.0.0.2", clock=clock)
    tablet, _ = auth.login(db, "super1", DEMO_PASSWORD, TABLET, device_token=marked.token, clock=clock)
    clock.advance(hours=2)
    assert auth.resolve(db, desk, clock=clock) is not None
    assert auth.resolve(db, tablet, clock=clock) is None


def test_the_idle_timeout_never_outlives_the_session_and_zero_turns_it_off(
    db, shop, clock, policy, monkeypatch
):
    monkeypatch.setattr(auth, "settings", dataclasses.replace(policy, tablet_idle_minutes=0))
    token, _ = auth.login(db, "print1", DEMO_PASSWORD, TABLET, clock=clock)
    clock.advance(hours=11)
    assert auth.resolve(db, token, clock=clock) is not None
    monkeypatch.setattr(auth, "settings", policy)
    clock.advance(minutes=59, seconds=50)
    assert auth.resolve(db, token, clock=clock) is not None
    session = db.exec(select(UserSession)).one()
    db.refresh(session)
    assert session.expires_at == session.created_at + timedelta(hours=12)
    clock.advance(seconds=11)
    assert auth.resolve(db, token, clock=clock) is None


def test_the_idle_lock_ends_the_session(db, shop, clock):
    token, _ = auth.login(db, "print1", DEMO_PASSWORD, TABLET, clock=clock)
    auth.lock(db, token, TABLET)
    assert auth.resolve(db, token, clock=clock) is None
    assert db.exec(select(AuthEvent.reason).where(AuthEvent.kind == "logout")).all() == ["idle lock"]


def test_demo_users_have_distinct_password_hashes(db, shop):
    hashes = db.exec(select(User.password_hash)).all()
    assert len(hashes) > 3 and len(set(hashes)) == len(hashes)
