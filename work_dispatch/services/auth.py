"""Login, session resolution and logout.

The browser holds a random session token; the database holds its SHA-256 hash, so a
leaked database row cannot be replayed. Every page load and handler resolves the token
again, so deactivating a user or revoking a session takes effect at once.

Failed logins are throttled per (username, address) with growing delays, never by locking
an account: ``services/login_throttle.py`` states the rules. Admins list and clear
throttles here.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import delete, update
from sqlmodel import Session, select

from work_dispatch.domain.enums import AuthEventKind, Role
from work_dispatch.domain.errors import NotFoundError, ValidationError
from work_dispatch.i18n import normalize_locale
from work_dispatch.models import (
    AuthEvent,
    LoginThrottle,
    ShopFloorDevice,
    User,
    UserDepartment,
    UserSession,
    utc_now,
)
from work_dispatch.services import login_throttle
from work_dispatch.services.actor import Actor, require_admin
from work_dispatch.services.sql import contains_text
from work_dispatch.services.validation import as_flag, as_int, as_text
from work_dispatch.settings import settings

USERNAME_MAX = 64
PASSWORD_MAX = 256
TOKEN_MAX = 128
"""Longest session or device token accepted from a browser (ours are 43 characters)."""
PIN_PATTERN = re.compile(r"[0-9]{4,6}")
"""An operator's quick-switch PIN: 4 to 6 digits."""
TOUCH_EVERY = 0.1
"""A session's activity is written at most once per this fraction of the idle timeout."""
THROTTLE_PAGE_MAX = 100
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


def record_auth_event(
    db: Session, kind: str, username: str, address: str, user_id=None, reason="", at: datetime | None = None
) -> None:
    """Add an entry to the account audit trail (no commit).

    Args:
        db: Open session.
        kind: An ``AuthEventKind``.
        username: Whose account.
        address: Client address, when known.
        user_id: The account's id, when it exists.
        reason: Short explanation (truncated to the column).
        at: When it happened (default: now).
    """
    db.add(
        AuthEvent(
            kind=kind,
            username=username[:USERNAME_MAX],
            user_id=user_id,
            address=address[:64],
            reason=reason[:120],
            created_at=at or utc_now(),
        )
    )


def login(
    db: Session,
    username: str,
    password: str,
    address: str = "",
    *,
    device_token: Any = None,
    clock: Callable[[], datetime] = utc_now,
) -> tuple[str, Actor]:
    """Check credentials and open a session, within the login throttle.

    The attempt is reserved (counted and committed) before the password hash is checked;
    a refused attempt checks nothing and counts as no failure (see ``login_throttle``).

    Args:
        db: Open session; committed here.
        username: What was typed in the username field.
        password: What was typed in the password field.
        address: The client address, for the throttle and the audit.
        device_token: The browser's shop-floor device token, if it has one (the session
            then locks when idle, whoever logs in).
        clock: The current time (injected by tests).

    Returns:
        The raw session token for the browser and the logged-in actor.

    Raises:
        ValidationError: On empty fields, overlong input, wrong credentials or while
            this username is throttled from this address.
    """
    username = (username or "").strip()
    password = password or ""
    if not username or not password:
        raise ValidationError("error.login_empty")
    now = clock()
    user = attempt(db, username, address, now, lambda: check_credentials(db, username, password))
    device = device_for_token(db, device_token)
    return _open_session(db, user, (address or "")[: login_throttle.ADDRESS_MAX], now, device)


def pin_login(
    db: Session,
    username: Any,
    pin: Any,
    device_token: Any,
    address: str = "",
    *,
    clock: Callable[[], datetime] = utc_now,
) -> tuple[str, Actor]:
    """Switch operator on a shop-floor device: username + PIN, throttled like passwords.

    Args:
        db: Open session; committed here.
        username: The operator's username.
        pin: Their 4-6 digit PIN.
        device_token: The browser's device token; PIN logins are refused anywhere else.
        address: The client address, for the throttle and the audit.
        clock: The current time (injected by tests).

    Returns:
        The raw session token and the logged-in operator.

    Raises:
        ValidationError: On a browser that is not a shop-floor device (nothing is counted),
            empty fields, a wrong PIN, or while this username is throttled from this address.
    """
    device = device_for_token(db, device_token)
    if device is None:
        raise ValidationError("error.pin_device_not_marked")
    username = username.strip() if isinstance(username, str) else ""
    pin = pin.strip() if isinstance(pin, str) else ""
    if not username or not pin:
        raise ValidationError("error.pin_login_empty")
    now = clock()
    user = attempt(
        db, username, address, now, lambda: _check_pin(db, username, pin), wrong="error.pin_login_wrong"
    )
    return _open_session(db, user, (address or "")[: login_throttle.ADDRESS_MAX], now, device)


def attempt(
    db: Session,
    username: str,
    address: str,
    now: datetime,
    check: Callable[[], tuple[User | None, str]],
    wrong: str = "error.login_wrong",
) -> User:
    """Run one credential check inside the login throttle; the user when it passes.

    Args:
        db: Open session; committed here (the reservation before the check, failures after).
        username: The username typed (the throttle key).
        address: The client address.
        now: The current time.
        check: The slow check: (user, "") when right, else (user or None, why not).
        wrong: The message key of wrong credentials.

    Returns:
        The user whose credentials are right.

    Raises:
        ValidationError: When throttled (nothing checked or counted) or the check fails.
    """
    key, address = username[:USERNAME_MAX], (address or "")[: login_throttle.ADDRESS_MAX]
    reservation = login_throttle.reserve(db, key, address, now)
    if not reservation.allowed:
        _refuse(db, key, address, reservation, now)
    db.commit()

    user, reason = check()
    if not reason:
        login_throttle.forget_pair(db, key, address)
        return user
    error = (
        ValidationError("error.username_too_long", "username", maximum=USERNAME_MAX)
        if reason == "username too long"
        else ValidationError(wrong)
    )
    for scope in login_throttle.count_failure(db, key, address, now):
        reason_ceiling = f"{scope} reached its failure ceiling: slowed down for the window"
        record_auth_event(db, AuthEventKind.LOGIN_THROTTLED, key, address, reason=reason_ceiling, at=now)
    record_auth_event(db, AuthEventKind.LOGIN_FAILED, key, address, getattr(user, "id", None), reason, now)
    login_throttle.prune(db, now)
    db.commit()
    if reservation.blocked_until is not None:
        wait = login_throttle.wait_text(reservation.blocked_until, now)
        raise ValidationError("error.login_wrong_throttled", error.field, refusal=error.detail, wait=wait)
    raise error


def check_credentials(db: Session, username: str, password: str) -> tuple[User | None, str]:
    """Check a username and password (the slow argon2 check; run it through :func:`attempt`).

    Args:
        db: Open session (read only).
        username: The username typed.
        password: The password typed.

    Returns:
        The user and "" when the credentials are right, else the user (or None) and why not.
    """
    if len(username) > USERNAME_MAX:
        return None, "username too long"
    if len(password) > PASSWORD_MAX:
        return None, "password too long"
    user = db.exec(select(User).where(User.username == username)).first()
    password_ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if user is None:
        return None, "unknown user"
    if not password_ok:
        return user, "bad password"
    return user, "" if user.is_active else "inactive"


def _check_pin(db: Session, username: str, pin: str) -> tuple[User | None, str]:
    """The operator and "" when the PIN is right, else why not (for the audit)."""
    if len(username) > USERNAME_MAX:
        return None, "username too long"
    if not PIN_PATTERN.fullmatch(pin):
        return None, "malformed pin"
    user = db.exec(select(User).where(User.username == username)).first()
    pin_hash = user.pin_hash if user is not None and user.pin_hash else None
    pin_ok = verify_password(pin_hash or _DUMMY_HASH, pin)
    if user is None:
        return None, "unknown user"
    if pin_hash is None:
        return user, "no pin set"
    if not pin_ok:
        return user, "bad pin"
    if user.role != Role.OPERATOR:
        return user, "pin login is for operators"
    return user, "" if user.is_active else "inactive"


def _refuse(
    db: Session, key: str, address: str, reservation: login_throttle.Reservation, now: datetime
) -> None:
    """Turn a throttled attempt away: at most one audit row per pair per window."""
    if reservation.audit_due:
        until = f"{reservation.blocked_until:%H:%M:%S}"
        reason = f"{reservation.failures} failures; refused until {until} UTC"
        record_auth_event(db, AuthEventKind.LOGIN_THROTTLED, key, address, reason=reason, at=now)
    db.commit()
    wait = login_throttle.wait_text(reservation.blocked_until, now)
    raise ValidationError("error.login_throttled", wait=wait)


def idle_timeout() -> timedelta | None:
    """How long a shop-floor session may stay quiet (``WD_TABLET_IDLE_MINUTES``); None when off."""
    minutes = settings.tablet_idle_minutes
    return timedelta(minutes=minutes) if minutes > 0 else None


def _idles_out(role: str, device_id: int | None) -> bool:
    """Whether a session locks when idle: operators' sessions, and any opened on a shop-floor device."""
    return idle_timeout() is not None and (role == Role.OPERATOR or device_id is not None)


def _expiry(created_at: datetime, now: datetime, idles_out: bool) -> datetime:
    """When a session ends if nothing else happens: its lifetime, or sooner when it idles out."""
    end = created_at + timedelta(hours=settings.session_ttl_hours)
    timeout = idle_timeout()
    return min(end, now + timeout) if idles_out and timeout is not None else end


def _open_session(
    db: Session, user: User, address: str, now: datetime, device: ShopFloorDevice | None = None
) -> tuple[str, Actor]:
    token = secrets.token_urlsafe(32)
    device_id = device.id if device is not None else None
    db.add(
        UserSession(
            token_hash=hash_token(token),
            user_id=user.id,
            created_at=now,
            expires_at=_expiry(now, now, _idles_out(user.role, device_id)),
            address=address,
            last_seen_at=now,
            device_id=device_id,
        )
    )
    if device is not None:
        device.last_used_at = now
        db.add(device)
    reason = f"on device {device.name}"[:120] if device is not None else ""
    record_auth_event(db, AuthEventKind.LOGIN_SUCCEEDED, user.username, address, user.id, reason, now)
    db.commit()
    return token, actor_for_user(db, user)


def device_for_token(db: Session, token: Any) -> ShopFloorDevice | None:
    """The shop-floor device a browser's device token names, if it is still marked.

    Args:
        db: Open session (read only).
        token: The raw device token from the browser; anything is accepted.

    Returns:
        The device, or None for no token, an unknown token or a device no longer marked.
    """
    if not token or not isinstance(token, str) or len(token) > TOKEN_MAX:
        return None
    device = db.exec(select(ShopFloorDevice).where(ShopFloorDevice.token_hash == hash_token(token))).first()
    return device if device is not None and device.revoked_at is None else None


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
        locale=normalize_locale(user.locale),
    )


def resolve(db: Session, token: str | None, *, clock: Callable[[], datetime] = utc_now) -> Actor | None:
    """The actor behind a session token, if the session is valid right now; marks it as active.

    Called once per handler of the browser, so it is where a shop-floor session's idle
    deadline slides (at most every ``TOUCH_EVERY`` of the timeout, to keep writes rare) and
    where an idle-expired session is revoked for good.

    Args:
        db: Open session; committed here when the session's activity is recorded.
        token: The raw token from the browser; anything is accepted.
        clock: The current time (injected by tests).

    Returns:
        The actor, or None when the token is unknown, expired (or idle too long), revoked
        or its user inactive.
    """
    if not token or not isinstance(token, str) or len(token) > TOKEN_MAX:
        return None
    row = db.exec(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    user_session, user = row
    now = clock()
    if user_session.revoked_at is not None:
        return None
    if user_session.expires_at <= now:
        seen = user_session.last_seen_at
        idle = _idles_out(user.role, user_session.device_id) and seen is not None
        if idle and seen + idle_timeout() <= now:
            # Idle too long: the session is over, not just paused (a later tap cannot revive it).
            _end_idle_session(db, user_session, user, now)
        return None
    if not user.is_active:
        return None
    timeout = idle_timeout()
    if _idles_out(user.role, user_session.device_id) and (
        user_session.last_seen_at is None or now - user_session.last_seen_at >= timeout * TOUCH_EVERY
    ):
        db.execute(
            update(UserSession)
            .where(UserSession.id == user_session.id, UserSession.revoked_at.is_(None))
            .values(last_seen_at=now, expires_at=_expiry(user_session.created_at, now, True))
        )
        db.commit()
    return actor_for_user(db, user)


def _end_idle_session(db: Session, user_session: UserSession, user: User, now: datetime) -> None:
    ended = db.execute(
        update(UserSession)
        .where(UserSession.id == user_session.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount
    if ended:
        record_auth_event(db, AuthEventKind.LOGOUT, user.username, "", user.id, "idle timeout", now)
    db.commit()


def lock(db: Session, token: str | None, address: str = "") -> None:
    """End a session because its tablet went idle (the browser's idle lock); like a logout.

    Args:
        db: Open session; committed here.
        token: The raw token from the browser.
        address: The client address, for the audit.
    """
    logout(db, token, address, reason="idle lock")


def logout(db: Session, token: str | None, address: str = "", reason: str = "") -> None:
    """Revoke a session token (no-op for unknown tokens) and audit the logout.

    Args:
        db: Open session; committed here.
        token: The raw token from the browser.
        address: The client address, for the audit.
        reason: Why, for the audit ("" for a plain logout).
    """
    if not token or not isinstance(token, str) or len(token) > TOKEN_MAX:
        return
    user_session = db.exec(select(UserSession).where(UserSession.token_hash == hash_token(token))).first()
    if user_session is None or user_session.revoked_at is not None:
        return
    user_session.revoked_at = utc_now()
    user = db.get(User, user_session.user_id)
    username = user.username if user else ""
    record_auth_event(db, AuthEventKind.LOGOUT, username, address, user_session.user_id, reason)
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


@dataclass
class ThrottleRow:
    """A login throttle as the admin's list shows it.

    Attributes:
        scope: "pair" (one username from one address: ``is_blocked`` means its attempts are
            refused until ``blocked_until``), or "username" / "address" (a ceiling:
            ``is_blocked`` means its pairs are slowed down until ``blocked_until``).
        failures: Failures in the pair's streak, or in the ceiling's window.
        refused: Attempts refused while the pair was blocked (never counted as failures).
        expires_at: When the row stops mattering if nothing else happens.
    """

    id: int
    scope: str
    username: str
    address: str
    failures: int
    refused: int
    last_failure_at: datetime | None
    blocked_until: datetime | None
    is_blocked: bool
    expires_at: datetime


@dataclass
class ThrottlePage:
    """One keyset page of throttles, newest first; ``next_before`` is 0 on the last page."""

    rows: list[ThrottleRow]
    next_before: int


def list_throttles(
    db: Session,
    actor: Actor | None,
    search: Any = "",
    blocked_only: Any = False,
    before_id: Any = 0,
    page_size: Any = 25,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> ThrottlePage:
    """Throttles still in effect (newest first): pairs, usernames and addresses with recent failures.

    Args:
        db: Open session (read only).
        actor: The acting admin.
        search: Text matched against username and address.
        blocked_only: Only rows blocking (pairs) or slowing (ceilings) right now.
        before_id: Id of the last row of the previous page (0 for the first page).
        page_size: Rows per page, clamped to 1..100.
        clock: The current time (injected by tests).

    Returns:
        The rows and where the next page starts.
    """
    require_admin(actor)
    search = as_text(search, "search", "field.search", max_length=60)
    blocked_only = as_flag(blocked_only, "blocked_only", "field.blocked_only")
    before_id = as_int(before_id, "before_id", "field.page", minimum=0, optional=True) or 0
    page_size = min(
        max(as_int(page_size, "page_size", "field.page_size", minimum=1) or 25, 1), THROTTLE_PAGE_MAX
    )
    now = clock()
    columns = (
        LoginThrottle.id,
        LoginThrottle.scope,
        LoginThrottle.username,
        LoginThrottle.address,
        LoginThrottle.failures,
        LoginThrottle.refused,
        LoginThrottle.last_failure_at,
        LoginThrottle.blocked_until,
        LoginThrottle.expires_at,
    )
    statement = select(*columns).where(LoginThrottle.expires_at > now, LoginThrottle.failures > 0)
    if before_id:
        statement = statement.where(LoginThrottle.id < before_id)
    if search:
        statement = statement.where(contains_text(search, LoginThrottle.username, LoginThrottle.address))
    if blocked_only:
        statement = statement.where(LoginThrottle.blocked_until > now)
    found = db.exec(statement.order_by(LoginThrottle.id.desc()).limit(page_size + 1)).all()
    rows = [
        ThrottleRow(
            id=row.id,
            scope=row.scope,
            username=row.username,
            address=row.address,
            failures=row.failures,
            refused=row.refused,
            last_failure_at=row.last_failure_at,
            blocked_until=row.blocked_until,
            is_blocked=row.blocked_until is not None and row.blocked_until > now,
            expires_at=row.expires_at,
        )
        for row in found[:page_size]
    ]
    return ThrottlePage(rows=rows, next_before=rows[-1].id if len(found) > page_size else 0)


def clear_throttle(db: Session, actor: Actor | None, throttle_id: Any) -> None:
    """Forget a throttle: the pair (or username, or address) starts afresh at once.

    Args:
        db: Open session; committed here.
        actor: The acting admin.
        throttle_id: The throttle row.

    Raises:
        NotFoundError: If it has already ended or been cleared; nothing changes.
    """
    actor = require_admin(actor)
    throttle_id = as_int(throttle_id, "throttle_id", "field.throttle", minimum=1)
    cleared = db.execute(
        delete(LoginThrottle)
        .where(LoginThrottle.id == throttle_id)
        .returning(LoginThrottle.scope, LoginThrottle.username, LoginThrottle.address, LoginThrottle.failures)
    ).first()
    if cleared is None:
        db.rollback()
        raise NotFoundError("error.throttle_ended")
    record_auth_event(
        db,
        AuthEventKind.THROTTLE_CLEARED,
        cleared.username,
        cleared.address,
        reason=f"by {actor.username}: {cleared.scope}, {cleared.failures} failures",
    )
    db.commit()
