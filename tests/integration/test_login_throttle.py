"""Login throttling per (username, address) with growing delays, on both databases.

Each test names the hole of the old lockout it closes (issue 15, item 3).
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from tests.conftest import actor_for
from work_dispatch.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from work_dispatch.models import AuthEvent, LoginThrottle, utc_now
from work_dispatch.services import auth, login_throttle
from work_dispatch.services.demo import DEMO_PASSWORD
from work_dispatch.settings import settings

ATTACKER = "203.0.113.66"
OWNER = "10.0.0.21"
OVERLONG = "x" * 300  # a failure that costs no password hash: for tests about something else


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = utc_now()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture(autouse=True)
def policy(monkeypatch):
    """The documented defaults, whatever the environment says."""
    values = dataclasses.replace(
        settings,
        login_max_failures=5,
        login_window_s=300,
        login_delay_s=30,
        login_max_delay_s=900,
        login_username_max_failures=100,
        login_address_max_failures=200,
    )
    monkeypatch.setattr(login_throttle, "settings", values)
    return values


@pytest.fixture
def checks(monkeypatch):
    """Counts the attempts that reached the password check."""
    calls = []
    real = auth.verify_password

    def counting(password_hash, password):
        calls.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", counting)
    return calls


def _fail(db, username, address, clock, password="wrong", match="Wrong username or password"):
    with pytest.raises(ValidationError, match=match):
        auth.login(db, username, password, address, clock=clock)


def _refused(db, username, address, clock, password="wrong"):
    _fail(db, username, address, clock, password, match="Too many failed attempts. Try again in")


def _pair(db, username, address):
    statement = select(LoginThrottle).where(
        LoginThrottle.scope == "pair", LoginThrottle.username == username, LoginThrottle.address == address
    )
    return db.exec(statement.execution_options(populate_existing=True)).one()


def _kinds(db):
    rows = db.exec(select(AuthEvent.kind, func.count()).group_by(AuthEvent.kind)).all()
    return dict(rows)


def test_the_owner_logs_in_from_her_address_while_an_attacker_is_throttled(db, shop, clock):
    for _ in range(5):
        _fail(db, "print1", ATTACKER, clock)
    _refused(db, "print1", ATTACKER, clock, password=DEMO_PASSWORD)
    token, actor = auth.login(db, "print1", DEMO_PASSWORD, OWNER, clock=clock)
    assert actor.username == "print1" and auth.resolve(db, token) is not None
    _refused(db, "print1", ATTACKER, clock, password=DEMO_PASSWORD)


def test_the_fifth_failure_says_how_long_to_wait(db, shop, clock):
    for _ in range(4):
        _fail(db, "print1", ATTACKER, clock)
    _fail(db, "print1", ATTACKER, clock, match=r"Wrong username or password\. .*try again in 30 seconds")
    clock.advance(5)
    _fail(db, "print1", ATTACKER, clock, match=r"Try again in 25 seconds")


def test_refused_attempts_do_not_count_nor_extend_the_block(db, shop, clock, checks):
    for _ in range(5):
        _fail(db, "print2", ATTACKER, clock)
    assert len(checks) == 5
    blocked_until = _pair(db, "print2", ATTACKER).blocked_until
    assert blocked_until == clock.now + timedelta(seconds=30)
    for _ in range(29):
        clock.advance(1)
        _refused(db, "print2", ATTACKER, clock)
    assert len(checks) == 5, "a refused attempt reached the password check"
    row = _pair(db, "print2", ATTACKER)
    assert (row.failures, row.refused, row.blocked_until) == (5, 29, blocked_until)
    clock.advance(1)
    auth.login(db, "print2", DEMO_PASSWORD, ATTACKER, clock=clock)
    assert db.exec(select(LoginThrottle).where(LoginThrottle.scope == "pair")).all() == []


def test_delays_double_up_to_the_cap_and_a_quiet_window_forgets(db, shop, clock):
    for _ in range(5):
        _fail(db, "print3", ATTACKER, clock)
    blocks = []
    for _ in range(7):
        row = _pair(db, "print3", ATTACKER)
        blocks.append((row.blocked_until - clock.now).total_seconds())
        clock.now = row.blocked_until
        _fail(db, "print3", ATTACKER, clock)
    assert blocks == [30, 60, 120, 240, 480, 900, 900]
    row = _pair(db, "print3", ATTACKER)
    clock.now = row.blocked_until + timedelta(seconds=299)
    _fail(db, "print3", ATTACKER, clock)
    assert _pair(db, "print3", ATTACKER).failures == 13, "the streak ended before a quiet window"
    clock.now = _pair(db, "print3", ATTACKER).blocked_until + timedelta(seconds=300)
    for _ in range(4):
        _fail(db, "print3", ATTACKER, clock)
    row = _pair(db, "print3", ATTACKER)
    assert (row.failures, row.blocked_until) == (4, None)


def test_a_success_ends_the_streak(db, shop, clock):
    for _ in range(4):
        _fail(db, "print1", OWNER, clock)
    auth.login(db, "print1", DEMO_PASSWORD, OWNER, clock=clock)
    for _ in range(4):
        _fail(db, "print1", OWNER, clock)
    assert _pair(db, "print1", OWNER).blocked_until is None


def test_many_failures_from_one_address_do_not_lock_out_the_shop(db, shop, clock):
    for index in range(25):
        _fail(db, f"guess{index}", OWNER, clock)
    _fail(db, "print1", OWNER, clock)
    token, _ = auth.login(db, "print2", DEMO_PASSWORD, OWNER, clock=clock)
    assert auth.resolve(db, token) is not None
    token, _ = auth.login(db, "print1", DEMO_PASSWORD, OWNER, clock=clock)
    assert auth.resolve(db, token) is not None


def test_an_address_over_its_ceiling_is_slowed_but_right_passwords_get_in(
    db, shop, clock, policy, monkeypatch
):
    monkeypatch.setattr(
        login_throttle, "settings", dataclasses.replace(policy, login_address_max_failures=10)
    )
    for index in range(10):
        _fail(db, f"guess{index}", ATTACKER, clock)
    assert _kinds(db)["login_throttled"] == 1
    auth.login(db, "print1", DEMO_PASSWORD, ATTACKER, clock=clock)
    _fail(db, "print2", ATTACKER, clock)
    _refused(db, "print2", ATTACKER, clock, password=DEMO_PASSWORD)
    auth.login(db, "print2", DEMO_PASSWORD, OWNER, clock=clock)
    clock.advance(300)
    for _ in range(4):
        _fail(db, "print3", ATTACKER, clock)
    assert _pair(db, "print3", ATTACKER).blocked_until is None, "the slow-down outlived its window"


def test_a_username_over_its_ceiling_is_slowed_for_unknown_pairs_only(db, shop, clock, policy, monkeypatch):
    monkeypatch.setattr(
        login_throttle, "settings", dataclasses.replace(policy, login_username_max_failures=6)
    )
    for index in range(6):
        _fail(db, "print1", f"198.51.100.{index}", clock)
    _fail(db, "print1", "198.51.100.50", clock)
    _refused(db, "print1", "198.51.100.50", clock, password=DEMO_PASSWORD)
    token, _ = auth.login(db, "print1", DEMO_PASSWORD, OWNER, clock=clock)
    assert auth.resolve(db, token) is not None
    for _ in range(5):
        _fail(db, "print2", "198.51.100.50", clock)


def _attempt_in_parallel(engine, username, passwords, address):
    barrier = threading.Barrier(len(passwords))
    outcomes = []

    def attempt(password):
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            try:
                auth.login(session, username, password, address)
                outcomes.append("in")
            except ValidationError as error:
                outcomes.append("refused" if error.message.startswith("Too many") else "wrong")

    threads = [threading.Thread(target=attempt, args=(password,)) for password in passwords]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return sorted(outcomes)


def test_parallel_attempts_never_exceed_the_allowed_checks(engine, db, shop, checks):
    outcomes = _attempt_in_parallel(engine, "print1", [f"wrong{i}" for i in range(12)], ATTACKER)
    assert len(checks) == 5, f"{len(checks)} attempts reached the password check"
    assert outcomes == ["refused"] * 7 + ["wrong"] * 5
    row = _pair(db, "print1", ATTACKER)
    assert (row.failures, row.refused) == (5, 7)
    assert _kinds(db) == {"login_failed": 5, "login_throttled": 1}


def test_refused_attempts_are_aggregated_in_the_audit(db, shop, clock):
    for _ in range(5):
        _fail(db, "print1", ATTACKER, clock)
    for _ in range(100):
        clock.advance(0.25)
        _refused(db, "print1", ATTACKER, clock)
    assert _kinds(db) == {"login_failed": 5, "login_throttled": 1}
    assert _pair(db, "print1", ATTACKER).refused == 100
    event = db.exec(select(AuthEvent).where(AuthEvent.kind == "login_throttled")).one()
    assert (event.username, event.address) == ("print1", ATTACKER) and "5 failures" in event.reason


def test_overlong_input_is_throttled_without_hashing(db, shop, clock, checks):
    for _ in range(5):
        _fail(db, "print1", ATTACKER, clock, password="x" * 300)
    _refused(db, "print1", ATTACKER, clock, password=DEMO_PASSWORD)
    for _ in range(5):
        _fail(db, "y" * 80, ATTACKER, clock, match="at most 64 characters")
    _refused(db, "y" * 80, ATTACKER, clock)
    assert checks == []


def test_stale_throttles_are_pruned(db, shop, clock):
    for index in range(3):
        _fail(db, f"guess{index}", ATTACKER, clock)
    assert db.exec(select(func.count()).select_from(LoginThrottle)).one() == 7
    clock.advance(301)
    _fail(db, "print1", OWNER, clock)
    rows = db.exec(select(LoginThrottle.scope, LoginThrottle.username, LoginThrottle.address)).all()
    assert sorted(rows) == [("address", "", OWNER), ("pair", "print1", OWNER), ("username", "print1", "")]


@pytest.fixture
def admin(db, shop):
    return actor_for(db, "admin")


def test_admins_list_and_clear_throttles(db, shop, clock, admin):
    for _ in range(5):
        _fail(db, "print1", ATTACKER, clock, password=OVERLONG)
    _fail(db, "print2", ATTACKER, clock)
    page = auth.list_throttles(db, admin, clock=clock)
    assert [(r.scope, r.username, r.address, r.failures, r.is_blocked) for r in page.rows] == [
        ("username", "print2", "", 1, False),
        ("pair", "print2", ATTACKER, 1, False),
        ("username", "print1", "", 5, False),
        ("address", "", ATTACKER, 6, False),
        ("pair", "print1", ATTACKER, 5, True),
    ]
    assert page.next_before == 0
    blocked = auth.list_throttles(db, admin, blocked_only=True, clock=clock).rows
    assert [(r.username, r.blocked_until) for r in blocked] == [("print1", clock.now + timedelta(seconds=30))]
    found = auth.list_throttles(db, admin, search="PRINT2", clock=clock).rows
    assert [(r.scope, r.username) for r in found] == [("username", "print2"), ("pair", "print2")]
    first = auth.list_throttles(db, admin, page_size=3, clock=clock)
    second = auth.list_throttles(db, admin, before_id=first.next_before, page_size=3, clock=clock)
    assert [r.id for r in first.rows + second.rows] == [r.id for r in page.rows]
    assert len(first.rows) == 3 and second.next_before == 0

    auth.clear_throttle(db, admin, blocked[0].id)
    auth.login(db, "print1", DEMO_PASSWORD, ATTACKER, clock=clock)
    event = db.exec(select(AuthEvent).where(AuthEvent.kind == "throttle_cleared")).one()
    assert (event.username, event.address, event.reason) == ("print1", ATTACKER, "by admin: pair, 5 failures")
    with pytest.raises(NotFoundError):
        auth.clear_throttle(db, admin, blocked[0].id)
    clock.advance(301)
    assert auth.list_throttles(db, admin, clock=clock).rows == []


@pytest.mark.parametrize("username", [None, "print1", "super1"])
def test_only_admins_see_or_clear_throttles(db, shop, clock, username):
    for _ in range(5):
        _fail(db, "print1", ATTACKER, clock, password=OVERLONG)
    actor = actor_for(db, username) if username else None
    with pytest.raises(PermissionDeniedError):
        auth.list_throttles(db, actor, clock=clock)
    throttle_id = _pair(db, "print1", ATTACKER).id
    with pytest.raises(PermissionDeniedError):
        auth.clear_throttle(db, actor, throttle_id)
    _refused(db, "print1", ATTACKER, clock, password=DEMO_PASSWORD)


@pytest.mark.parametrize("throttle_id", ["x", -1, None, 1.5, [1], "9" * 30])
def test_forged_throttle_ids_change_nothing(db, shop, clock, admin, throttle_id):
    for _ in range(5):
        _fail(db, "print1", ATTACKER, clock, password=OVERLONG)
    with pytest.raises(ValidationError):
        auth.clear_throttle(db, admin, throttle_id)
    _refused(db, "print1", ATTACKER, clock, password=DEMO_PASSWORD)
    assert "throttle_cleared" not in _kinds(db)
