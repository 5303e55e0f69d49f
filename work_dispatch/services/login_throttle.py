"""Login throttling that slows guessing down without locking anybody out.

Rules (the numbers are settings; defaults in brackets):

1. **Per (username, address) pair.** A pair's failed attempts form a streak. The first
   ``WD_LOGIN_MAX_FAILURES`` [5] failures cost nothing; the failure that reaches that
   count, and every failure after it, blocks the pair for ``WD_LOGIN_DELAY_S`` [30 s]
   doubled per extra failure, at most ``WD_LOGIN_MAX_DELAY_S`` [15 min]: 30 s, 1 min,
   2 min, 4 min, 8 min, 15 min, 15 min... A success ends the streak; so does a quiet
   ``WD_LOGIN_WINDOW_S`` [5 min] counted from the end of the last block.
2. **Blocked means refused, not failed.** While a pair is blocked its attempts are refused
   before any password check. A refusal neither counts as a failure nor extends the
   block; it only bumps the pair's ``refused`` counter, and at most one
   ``login_throttled`` audit row is written per pair per window.
3. **Other addresses are not affected.** Failures at ``alice`` from one address never
   block ``alice`` from another: the owner at her own tablet logs in while someone else
   is being slowed down.
4. **Ceilings slow down, never lock.** Failures are also counted per address across all
   usernames (``WD_LOGIN_ADDRESS_MAX_FAILURES`` [200] per window: room for a whole shop
   behind one NAT) and per username across all addresses
   (``WD_LOGIN_USERNAME_MAX_FAILURES`` [100] per window: distributed guessing). Above
   either ceiling, for the rest of that window, the pairs involved get one free failure
   instead of five before the delays start. A pair with no failures always gets its
   password checked, so the right password still logs in.
5. **Atomic.** An attempt is reserved *before* the slow password hash: the pair's row is
   locked (an upsert, which takes the row lock on PostgreSQL and the write lock on
   SQLite), counted as a failure and committed; a success then deletes the row. However
   many attempts run in parallel, no more of them reach the password check than the
   rules allow one after the other. The ceilings are read, not locked, at reservation:
   a burst may cross them by a few attempts, which only delays the slow-down.

Left as it is: someone behind the *same* address as the owner (the same NAT) can keep the
owner's pair slowed down; an admin sees and clears throttles on the People page.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from work_dispatch.i18n import Message, msg
from work_dispatch.models import LoginThrottle
from work_dispatch.services.sql import is_postgres
from work_dispatch.settings import settings

ADDRESS_MAX = 64
PRUNE_BATCH = 100
_MAX_DOUBLINGS = 30


class ThrottleScope(StrEnum):
    """What a throttle row counts failures of."""

    PAIR = "pair"
    USERNAME = "username"
    ADDRESS = "address"


@dataclass(frozen=True)
class Reservation:
    """The outcome of asking to check a password.

    Attributes:
        allowed: Whether the password may be checked (the attempt is already counted).
        blocked_until: When the pair is free again; set when refused, or when this attempt
            is the one that starts a block.
        failures: The pair's failures in its streak, this attempt included when allowed.
        refused: The pair's refused attempts in its streak.
        audit_due: For a refusal: whether to write the window's ``login_throttled`` row.
    """

    allowed: bool
    blocked_until: datetime | None
    failures: int
    refused: int = 0
    audit_due: bool = False


def _window() -> timedelta:
    return timedelta(seconds=max(1, settings.login_window_s))


def delay(failures: int, free: int) -> timedelta:
    """How long a pair is blocked after its ``failures``-th failure in a streak.

    Args:
        failures: Failures in the streak, the latest included.
        free: Failures allowed before delays start.

    Returns:
        The block: zero below ``free``, then the base delay doubled per extra failure, capped.
    """
    if failures < free:
        return timedelta(0)
    doublings = min(failures - free, _MAX_DOUBLINGS)
    seconds = min(max(1, settings.login_delay_s) * 2**doublings, max(1, settings.login_max_delay_s))
    return timedelta(seconds=seconds)


def wait_text(blocked_until: datetime, now: datetime) -> Message:
    """How long to wait, in words, for a login message.

    Args:
        blocked_until: When the block ends.
        now: The current time.

    Returns:
        A message such as "30 seconds" or "4 minutes" (its ``render(locale)`` is the text).
    """
    seconds = max(1, math.ceil((blocked_until - now).total_seconds()))
    if seconds < 90:
        return msg("duration.second" if seconds == 1 else "duration.seconds", count=seconds)
    return msg("duration.minutes", count=math.ceil(seconds / 60))


def _lock(db: Session, scope: ThrottleScope, username: str, address: str, now: datetime):
    """Create or lock a throttle row and return its current values.

    The no-op update of an existing row takes its row lock on PostgreSQL and the database
    write lock on SQLite, so the values read here stay true until the caller commits.
    """
    insert = postgresql.insert if is_postgres(db) else sqlite.insert
    table = LoginThrottle.__table__
    statement = insert(table).values(
        scope=str(scope),
        username=username,
        address=address,
        failures=0,
        refused=0,
        started_at=now,
        expires_at=now,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["scope", "username", "address"], set_={"scope": statement.excluded.scope}
    ).returning(*table.c)
    return db.execute(statement).one()


def _slowed(db: Session, username: str, address: str, now: datetime) -> bool:
    """Whether the username or the address is over its ceiling in the current window."""
    statement = select(LoginThrottle.id).where(
        or_(
            and_(
                LoginThrottle.scope == ThrottleScope.USERNAME,
                LoginThrottle.username == username,
                LoginThrottle.address == "",
            ),
            and_(
                LoginThrottle.scope == ThrottleScope.ADDRESS,
                LoginThrottle.username == "",
                LoginThrottle.address == address,
            ),
        ),
        LoginThrottle.blocked_until > now,
    )
    return db.exec(statement).first() is not None


def reserve(db: Session, username: str, address: str, now: datetime) -> Reservation:
    """Count a login attempt of a pair before its password is checked (no commit).

    The caller commits at once, before the slow hash, so that parallel attempts see it.

    Args:
        db: Open session.
        username: The username as typed (at most 64 characters).
        address: The client address (at most 64 characters).
        now: The current time.

    Returns:
        Whether the password may be checked, and the pair's state.
    """
    row = _lock(db, ThrottleScope.PAIR, username, address, now)
    if row.blocked_until is not None and row.blocked_until > now:
        audit_due = row.audited_at is None or row.audited_at + _window() <= now
        values = {"refused": LoginThrottle.refused + 1}
        if audit_due:
            values["audited_at"] = now
        db.execute(update(LoginThrottle).where(LoginThrottle.id == row.id).values(**values))
        return Reservation(False, row.blocked_until, row.failures, row.refused + 1, audit_due)
    ended = row.expires_at <= now
    failures = (0 if ended else row.failures) + 1
    free = 1 if _slowed(db, username, address, now) else max(1, settings.login_max_failures)
    blocked_until = now + delay(failures, free) if failures >= free else None
    db.execute(
        update(LoginThrottle)
        .where(LoginThrottle.id == row.id)
        .values(
            failures=failures,
            refused=0 if ended else row.refused,
            started_at=now if ended else row.started_at,
            last_failure_at=now,
            blocked_until=blocked_until,
            expires_at=(blocked_until or now) + _window(),
        )
    )
    return Reservation(True, blocked_until, failures, 0 if ended else row.refused)


def count_failure(db: Session, username: str, address: str, now: datetime) -> list[ThrottleScope]:
    """Count a failed password check against the address and username ceilings (no commit).

    The pair's own failure was counted by :func:`reserve`.

    Args:
        db: Open session.
        username: The username as typed (at most 64 characters).
        address: The client address (at most 64 characters).
        now: The current time.

    Returns:
        The ceilings this failure reached (each at most once per window), for the audit.
    """
    reached = []
    # Always the address row first, then the username row: one lock order, no deadlocks.
    for scope, key_username, key_address, limit in (
        (ThrottleScope.ADDRESS, "", address, settings.login_address_max_failures),
        (ThrottleScope.USERNAME, username, "", settings.login_username_max_failures),
    ):
        row = _lock(db, scope, key_username, key_address, now)
        ended = row.expires_at <= now
        failures = 1 if ended else row.failures + 1
        started_at = now if ended else row.started_at
        expires_at = started_at + _window()
        over = failures >= max(1, limit)
        db.execute(
            update(LoginThrottle)
            .where(LoginThrottle.id == row.id)
            .values(
                failures=failures,
                refused=0,
                started_at=started_at,
                last_failure_at=now,
                blocked_until=expires_at if over else None,
                expires_at=expires_at,
            )
        )
        if failures == max(1, limit):
            reached.append(scope)
    return reached


def forget_pair(db: Session, username: str, address: str) -> None:
    """End a pair's streak after a successful login (no commit).

    Args:
        db: Open session.
        username: The username (at most 64 characters).
        address: The client address (at most 64 characters).
    """
    db.execute(
        delete(LoginThrottle).where(
            LoginThrottle.scope == ThrottleScope.PAIR,
            LoginThrottle.username == username,
            LoginThrottle.address == address,
        )
    )


def prune(db: Session, now: datetime, limit: int = PRUNE_BATCH) -> int:
    """Delete up to ``limit`` rows that no longer mean anything (no commit).

    Rows locked by a login in progress are skipped on PostgreSQL, so this never waits.

    Args:
        db: Open session.
        now: The current time.
        limit: Most rows to delete.

    Returns:
        How many rows were deleted.
    """
    stale = select(LoginThrottle.id).where(LoginThrottle.expires_at <= now).limit(limit)
    if is_postgres(db):
        stale = stale.with_for_update(skip_locked=True)
    return db.execute(delete(LoginThrottle).where(LoginThrottle.id.in_(stale))).rowcount


def _parse_address(text: str) -> str | None:
    """A normalized IP address from ``1.2.3.4``, ``1.2.3.4:80``, ``::1`` or ``[::1]:80``."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(ip, "ipv4_mapped", None)
    return str(mapped or ip)


def client_address(peer_ip: str, forwarded_for: str | None, trusted_hops: int) -> str:
    """The client's address, seen through ``trusted_hops`` reverse proxies.

    Each trusted proxy appends the address it received the request from to
    ``X-Forwarded-For``, so the client is the ``trusted_hops``-th entry from the right;
    entries further left are whatever the client sent and are never used.

    Args:
        peer_ip: The address of the socket's peer (the nearest proxy, if any).
        forwarded_for: The ``X-Forwarded-For`` header, if any.
        trusted_hops: How many reverse proxies in front of the app are trusted (0: none).

    Returns:
        The client address; the peer's when there are no trusted hops, or the header is
        missing, too short or not an address where the client should be.
    """
    peer = (peer_ip or "").strip()[:ADDRESS_MAX]
    if not isinstance(trusted_hops, int) or trusted_hops <= 0:
        return peer
    if not isinstance(forwarded_for, str) or not forwarded_for.strip():
        return peer
    entries = forwarded_for.rsplit(",", trusted_hops)
    if len(entries) < trusted_hops:
        return peer
    return _parse_address(entries[-trusted_hops]) or peer
