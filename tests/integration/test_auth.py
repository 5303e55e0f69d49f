"""Login, sessions and logout against real databases."""

import pytest
from sqlmodel import func, select

from work_dispatch.domain.errors import ValidationError
from work_dispatch.models import AuthEvent, User, UserSession
from work_dispatch.services import auth
from work_dispatch.services.demo import DEMO_PASSWORD


def _counts(db):
    return (
        db.exec(select(func.count()).select_from(UserSession)).one(),
        db.exec(select(AuthEvent.kind, AuthEvent.reason)).all(),
    )


def test_login_opens_a_session_that_resolves(db, shop):
    token, actor = auth.login(db, "print1", DEMO_PASSWORD, "10.0.0.5")
    assert actor.role == "operator" and actor.home_path == "/operator"
    assert actor.department_ids == {shop["department"]["PRINT"]}
    resolved = auth.resolve(db, token)
    assert resolved is not None and resolved.user_id == actor.user_id
    stored = db.exec(select(UserSession)).one()
    assert stored.token_hash != token and len(stored.token_hash) == 64


def test_supervisor_lands_on_the_dashboard(db, shop):
    _, actor = auth.login(db, "super1", DEMO_PASSWORD)
    assert actor.is_supervisor and actor.home_path == "/supervisor"


@pytest.mark.parametrize(
    ("username", "password", "message", "reason"),
    [
        ("print1", "wrong", "Wrong username or password.", "bad password"),
        ("nobody", DEMO_PASSWORD, "Wrong username or password.", "unknown user"),
        ("x" * 65, DEMO_PASSWORD, "at most 64 characters", "username too long"),
    ],
)
def test_bad_logins_write_only_a_failed_login_record(db, shop, username, password, message, reason):
    with pytest.raises(ValidationError, match=message):
        auth.login(db, username, password, "10.0.0.9")
    sessions, events = _counts(db)
    assert sessions == 0
    assert events == [("login_failed", reason)]


@pytest.mark.parametrize(("username", "password"), [("", ""), ("print1", ""), ("", "x"), (None, None)])
def test_empty_fields_are_refused_without_writing(db, shop, username, password):
    with pytest.raises(ValidationError, match="Enter your username and password"):
        auth.login(db, username, password)
    assert _counts(db) == (0, [])


def test_logout_and_deactivation_end_the_session(db, shop):
    token, actor = auth.login(db, "print1", DEMO_PASSWORD)
    auth.logout(db, token)
    assert auth.resolve(db, token) is None
    token2, _ = auth.login(db, "print1", DEMO_PASSWORD)
    user = db.get(User, actor.user_id)
    user.is_active = False
    db.add(user)
    db.commit()
    assert auth.resolve(db, token2) is None
    kinds = [kind for kind, _ in db.exec(select(AuthEvent.kind, AuthEvent.id).order_by(AuthEvent.id)).all()]
    assert kinds == ["login_succeeded", "logout", "login_succeeded"]


@pytest.mark.parametrize("token", [None, "", "forged", "x" * 500, 42])
def test_forged_tokens_resolve_to_nobody(db, shop, token):
    assert auth.resolve(db, token) is None


def test_repeated_failures_throttle_the_pair_only(db, shop):
    from work_dispatch.settings import settings

    for _ in range(settings.login_max_failures):
        with pytest.raises(ValidationError):
            auth.login(db, "print2", "wrong", "203.0.113.9")
    with pytest.raises(ValidationError, match="Too many failed attempts"):
        auth.login(db, "print2", DEMO_PASSWORD, "203.0.113.9")
    token, _ = auth.login(db, "print2", DEMO_PASSWORD, "198.51.100.1")
    assert auth.resolve(db, token) is not None
    token, _ = auth.login(db, "print3", DEMO_PASSWORD, "203.0.113.9")
    assert auth.resolve(db, token) is not None


def test_expired_and_revoked_sessions_resolve_to_nobody(db, shop):
    from datetime import timedelta

    from work_dispatch.models import utc_now

    token, actor = auth.login(db, "print1", DEMO_PASSWORD)
    other_token, _ = auth.login(db, "print1", DEMO_PASSWORD)
    stored = db.exec(select(UserSession).where(UserSession.token_hash == auth.hash_token(token))).one()
    stored.expires_at = utc_now() - timedelta(seconds=1)
    db.add(stored)
    db.commit()
    assert auth.resolve(db, token) is None
    assert auth.resolve(db, other_token) is not None
    assert auth.revoke_user_sessions(db, actor.user_id) == 2
    assert auth.resolve(db, other_token) is None
