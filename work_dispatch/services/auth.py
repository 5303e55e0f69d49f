"""Login, session resolution and logout.

The browser holds a random session token; the database holds its SHA-256 hash, so a
leaked database row cannot be replayed. Every page load and handler resolves the token
again, so deactivating a user or revoking a session takes effect at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import func, update
from sqlmodel import Session, select

from work_dispatch.domain.enums import AuthEventKind
from work_dispatch.domain.errors import ValidationError
from work_dispatch.models import AuthEvent, User, UserDepartment, UserSession, utc_now
from work_dispatch.services.actor import Actor
from work_dispatch.settings import settings

USERNAME_MAX = 64
PASSWORD_MAX = 256
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """Hash a password with argon2id.

    Args:
        password: The clear-text password.

    Returns:
        The encoded argon2 hash.
    """
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Check a password against its argon2 hash.

    Args:
        password_hash: The stored hash.
        password: The clear-text candidate.

    Returns:
        True when they match.
    """
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def hash_token(token: str) -> str:
    """The stored form of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def record_auth_event(db: Session, kind: str, username: str, address: str, user_id=None, reason="") -> None:
    """Add an entry to the account audit trail (no commit).

    Args:
        db: Open session.
        kind: An ``AuthEventKind``.
        username: Whose account.
        address: Client address, when known.
        user_id: The account's id, when it exists.
        reason: Short explanation (truncated to the column).
    """
    db.add(
        AuthEvent(
            kind=kind,
            username=username[:USERNAME_MAX],
            user_id=user_id,
            address=address[:64],
            reason=reason[:120],
        )
    )


def _recent_failures(db: Session, column, value: str, since: datetime) -> int:
    statement = select(func.count()).where(
        AuthEvent.kind == AuthEventKind.LOGIN_FAILED,
        column == value,
        AuthEvent.created_at >= since,
    )
    return db.exec(statement).one()


def login(db: Session, username: str, password: str, address: str = "") -> tuple[str, Actor]:
    """Check credentials and open a session.

    Failed attempts are recorded (and nothing else is written); too many failures for a
    username or an address within the configured window lock further attempts.

    Args:
        db: Open session; committed here.
        username: What was typed in the username field.
        password: What was typed in the password field.
        address: The client address, for the audit and rate limit.

    Returns:
        The raw session token for the browser and the logged-in actor.

    Raises:
        ValidationError: On empty fields, overlong input, wrong credentials or lockout.
    """
    username = (username or "").strip()
    password = password or ""
    if not username or not password:
        raise ValidationError("Enter your username and password.")
    if len(username) > USERNAME_MAX:
        record_auth_event(db, AuthEventKind.LOGIN_FAILED, username, address, reason="username too long")
        db.commit()
        raise ValidationError(f"Usernames are at most {USERNAME_MAX} characters.", "username")
    if len(password) > PASSWORD_MAX:
        record_auth_event(db, AuthEventKind.LOGIN_FAILED, username, address, reason="password too long")
        db.commit()
        raise ValidationError("Wrong username or password.")

    since = utc_now() - timedelta(seconds=settings.login_window_s)
    limit = settings.login_max_failures
    if _recent_failures(db, AuthEvent.username, username, since) >= limit or (
        address and _recent_failures(db, AuthEvent.address, address, since) >= limit * 4
    ):
        record_auth_event(db, AuthEventKind.LOGIN_FAILED, username, address, reason="rate limited")
        db.commit()
        minutes = max(1, settings.login_window_s // 60)
        raise ValidationError(f"Too many failed attempts. Try again in {minutes} minutes.")

    user = db.exec(select(User).where(User.username == username)).first()
    password_ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not password_ok or not user.is_active:
        reason = "unknown user" if user is None else ("inactive" if password_ok else "bad password")
        record_auth_event(
            db, AuthEventKind.LOGIN_FAILED, username, address, getattr(user, "id", None), reason
        )
        db.commit()
        raise ValidationError("Wrong username or password.")

    token = secrets.token_urlsafe(32)
    now = utc_now()
    db.add(
        UserSession(
            token_hash=hash_token(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(hours=settings.session_ttl_hours),
            address=address[:64],
        )
    )
    record_auth_event(db, AuthEventKind.LOGIN_SUCCEEDED, username, address, user.id)
    db.commit()
    return token, actor_for_user(db, user)


def actor_for_user(db: Session, user: User) -> Actor:
    """Build the actor of a user row, with their department ids.

    Args:
        db: Open session.
        user: The user row.

    Returns:
        The actor.
    """
    department_ids = db.exec(
        select(UserDepartment.department_id).where(UserDepartment.user_id == user.id)
    ).all()
    return Actor(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        department_ids=frozenset(department_ids),
        wip_limit=user.wip_limit,
    )


def resolve(db: Session, token: str | None) -> Actor | None:
    """The actor behind a session token, if the session is valid right now.

    Args:
        db: Open session (read only).
        token: The raw token from the browser; anything is accepted.

    Returns:
        The actor, or None when the token is unknown, expired, revoked or its user inactive.
    """
    if not token or not isinstance(token, str) or len(token) > 128:
        return None
    row = db.exec(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    user_session, user = row
    if user_session.revoked_at is not None or user_session.expires_at <= utc_now():
        return None
    if not user.is_active:
        return None
    return actor_for_user(db, user)


def logout(db: Session, token: str | None, address: str = "") -> None:
    """Revoke a session token (no-op for unknown tokens) and audit the logout.

    Args:
        db: Open session; committed here.
        token: The raw token from the browser.
        address: The client address, for the audit.
    """
    if not token or not isinstance(token, str) or len(token) > 128:
        return
    user_session = db.exec(select(UserSession).where(UserSession.token_hash == hash_token(token))).first()
    if user_session is None or user_session.revoked_at is not None:
        return
    user_session.revoked_at = utc_now()
    user = db.get(User, user_session.user_id)
    record_auth_event(db, AuthEventKind.LOGOUT, user.username if user else "", address, user_session.user_id)
    db.commit()


def revoke_user_sessions(db: Session, user_id: int) -> int:
    """Revoke every open session of a user (for deactivation or a stolen tablet).

    Args:
        db: Open session; committed here.
        user_id: Whose sessions to end.

    Returns:
        How many sessions were revoked.
    """
    revoked = end_sessions(db, user_id)
    db.commit()
    return revoked


def end_sessions(db: Session, user_id: int) -> int:
    """Revoke every open session of a user inside the caller's transaction (no commit).

    Args:
        db: Open session.
        user_id: Whose sessions to end.

    Returns:
        How many sessions were revoked.
    """
    return db.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    ).rowcount


def signed_in_users(db: Session, user_ids: list[int]) -> set[int]:
    """Which of these users still have an open (unrevoked, unexpired) session.

    Args:
        db: Open session (read only).
        user_ids: Users to look up.

    Returns:
        The ids of those with at least one open session.
    """
    if not user_ids:
        return set()
    return set(
        db.exec(
            select(UserSession.user_id)
            .where(
                UserSession.user_id.in_(user_ids),
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > utc_now(),
            )
            .distinct()
        ).all()
    )


def active_actors(db: Session, user_ids: list[int]) -> dict[int, Actor]:
    """Actors of the given users that are still active (for pushes to their sessions).

    Args:
        db: Open session (read only).
        user_ids: Users to look up.

    Returns:
        User id → actor, for active users only.
    """
    if not user_ids:
        return {}
    users = db.exec(select(User).where(User.id.in_(user_ids), User.is_active)).all()
    return {user.id: actor_for_user(db, user) for user in users}
