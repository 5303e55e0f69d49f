"""Download tickets: how a browser whose session lives in ``localStorage`` fetches a file over HTTP.

The session token is never a cookie (``states/session.py``), so a plain link to ``/api/export/...``
would reach the server without any identity. Instead, an event handler (over the websocket, where the
session is known) asks a service for a *ticket*: after the service has authorized the request, it signs
a short statement "session S of user U may fetch PURPOSE with ARGS until T" and the browser is sent to
``/api/...?ticket=<ticket>``. The HTTP route (``work_dispatch/downloads.py``) redeems it with
:func:`redeem`, which checks the signature, the purpose, the expiry *and* the session again: a ticket
stops working the moment its session is logged out, revoked or expired, its user deactivated or no
longer a supervisor.

Properties:

- **Short-lived**: :data:`TICKET_TTL_S` (60 s) from minting; long enough for a click, useless later.
- **Single-purpose**: the purpose (``export:board:xlsx``, ``traveler``) and its arguments (filters,
  work order id) are inside the signed part; a ticket for one file opens no other.
- **Bound to the session**: it names the session row (by id, never the token or its hash) and its
  user; :func:`redeem` re-reads both.
- **Signed, stateless, multi-worker**: HMAC-SHA256 with a key derived from one random secret stored
  once in the ``app_setting`` table (:func:`signing_key`), so every backend worker (and every
  process of a multi-worker deployment) checks every ticket without a shared cache or a new table.
- **Leaks nothing**: any failure is the one :class:`PermissionDeniedError` ``export.error.forbidden``.

A ticket is not single-use (that would need a table); it is as secret as the URL it sits in, which is
why it is short-lived and why the routes answer with ``Cache-Control: no-store`` and no referrer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from work_dispatch.domain.errors import PermissionDeniedError
from work_dispatch.i18n import normalize_locale
from work_dispatch.models import AppSetting, User, UserSession, utc_now
from work_dispatch.services import auth
from work_dispatch.services.actor import Actor, require_supervisor

SECRET_SETTING = "signing_secret"
"""``app_setting`` key of the installation's signing secret (created on first use, never rotated by us)."""
TICKET_TTL_S = 60
"""How long a ticket opens its download after it was minted."""
TICKET_MAX = 4096
"""Longest ticket accepted from a URL."""
ARGS_MAX = 2048
"""Largest JSON of a ticket's arguments (filters are short)."""
PURPOSE = re.compile(r"^[a-z][a-z0-9_:.-]{0,63}$")
FORBIDDEN = "export.error.forbidden"
"""The one message of every refused ticket: it says nothing about why."""
_VERSION = "t1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _secret(db: Session, *, create: bool) -> bytes | None:
    """The installation's secret from ``app_setting``; created once (race-safe) when asked to."""
    setting = db.get(AppSetting, SECRET_SETTING, populate_existing=True)
    value = setting.value if setting is not None else None
    if isinstance(value, dict) and isinstance(value.get("hex"), str) and len(value["hex"]) == 64:
        return bytes.fromhex(value["hex"])
    if not create:
        return None
    try:
        with db.begin_nested():
            db.execute(
                insert(AppSetting).values(
                    key=SECRET_SETTING, value={"hex": secrets.token_hex(32)}, updated_at=utc_now()
                )
            )
    except IntegrityError:
        pass  # another worker created it first: use theirs
    return _secret(db, create=False)


def signing_key(db: Session, purpose: str, *, create: bool = True) -> bytes | None:
    """A key for one kind of signature, derived from the installation's secret.

    The secret is 32 random bytes stored once in ``app_setting`` (key :data:`SECRET_SETTING`):
    every worker and every restart derives the same keys, so tickets and printed QR codes made by
    one process are recognized by all. Different purposes get unrelated keys.

    Args:
        db: Open session; the caller's unit of work commits a newly created secret.
        purpose: What the key signs (``download-ticket``, ``traveler``).
        create: Create the secret when there is none yet (else return None).

    Returns:
        A 32-byte key, or None when there is no secret and ``create`` is False.
    """
    secret = _secret(db, create=create)
    if secret is None:
        return None
    return hmac.new(secret, b"work_dispatch:" + purpose.encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class Ticket:
    """What a redeemed ticket grants: who, in which language, and the download's arguments."""

    actor: Actor
    purpose: str
    args: dict[str, Any] = field(default_factory=dict)


def _sign(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()[:20])


def issue(
    db: Session,
    session_id: int,
    user_id: int,
    purpose: str,
    args: dict[str, Any] | None = None,
    *,
    locale: str = "en",
    clock: Callable[[], datetime] = utc_now,
    ttl_s: int = TICKET_TTL_S,
) -> str:
    """Sign a ticket for a session; no authorization here (use :func:`mint`).

    Args:
        db: Open session (may create the signing secret; the caller commits).
        session_id: The ``user_session`` row the ticket is bound to.
        user_id: Its user.
        purpose: What the ticket opens, e.g. ``export:board:xlsx``.
        args: JSON-ready arguments of the download (validated filters, ids).
        locale: The language the file is written in.
        clock: The current time.
        ttl_s: Seconds until it expires.

    Returns:
        The ticket, URL-safe.

    Raises:
        ValueError: On a malformed purpose or oversized arguments (a programming error).
    """
    if not PURPOSE.match(purpose):
        raise ValueError(f"malformed ticket purpose {purpose!r}")
    packed_args = json.dumps(args or {}, separators=(",", ":"), sort_keys=True)
    if len(packed_args) > ARGS_MAX:
        raise ValueError("ticket arguments too large")
    payload = {
        "p": purpose,
        "s": session_id,
        "u": user_id,
        "l": normalize_locale(locale),
        "e": int(clock().timestamp()) + ttl_s,
        "a": args or {},
    }
    body = _VERSION + "." + _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return body + "." + _sign(signing_key(db, "download-ticket"), body)


def mint(
    db: Session,
    actor: Actor | None,
    session_token: Any,
    purpose: str,
    args: dict[str, Any] | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    authorize: Callable[[Actor | None], Actor] = require_supervisor,
) -> str:
    """A ticket for the acting user's own session, after checking their right.

    Services call this once they have validated the download's arguments; states never sign.

    Args:
        db: Open session (the caller's unit of work commits a newly created secret).
        actor: The acting user.
        session_token: The browser's raw session token (the one the actor was resolved from).
        purpose: What the ticket opens.
        args: The download's validated, JSON-ready arguments.
        clock: The current time (injected by tests).
        authorize: The role check (supervisors and admins by default).

    Returns:
        The ticket.

    Raises:
        PermissionDeniedError: If the actor lacks the right, or the token is not a valid
            session of the actor.
    """
    actor = authorize(actor)
    now = clock()
    if not isinstance(session_token, str) or not session_token or len(session_token) > auth.TOKEN_MAX:
        raise PermissionDeniedError("error.session_ended")
    user_session = db.exec(
        select(UserSession).where(UserSession.token_hash == auth.hash_token(session_token))
    ).first()
    if not _session_open(user_session, now) or user_session.user_id != actor.user_id:
        raise PermissionDeniedError("error.session_ended")
    return issue(db, user_session.id, actor.user_id, purpose, args, locale=actor.locale, clock=clock)


def _session_open(user_session: UserSession | None, now: datetime) -> bool:
    if user_session is None or user_session.revoked_at is not None:
        return False
    expires = user_session.expires_at
    if expires.tzinfo is None:  # SQLite hands back naive UTC
        expires = expires.replace(tzinfo=now.tzinfo)
    return expires > now


def redeem(
    db: Session,
    ticket: Any,
    purpose: str,
    *,
    clock: Callable[[], datetime] = utc_now,
    authorize: Callable[[Actor | None], Actor] = require_supervisor,
) -> Ticket:
    """Check a ticket presented to an HTTP route, and the session and right behind it, right now.

    Args:
        db: Open session (read only).
        ticket: The ``ticket`` query parameter, as sent (anything).
        purpose: The purpose the route serves; a ticket for anything else is refused.
        clock: The current time (injected by tests).
        authorize: The role the user must still have.

    Returns:
        The actor (reading in the ticket's locale), the purpose and the arguments.

    Raises:
        PermissionDeniedError: ``export.error.forbidden`` for a malformed, forged, foreign,
            expired or other-purpose ticket, a session that ended, or a user without the right.
    """
    refused = PermissionDeniedError(FORBIDDEN)
    if not isinstance(ticket, str) or not 0 < len(ticket) <= TICKET_MAX or ticket.count(".") != 2:
        raise refused
    version, encoded, mac = ticket.split(".")
    key = signing_key(db, "download-ticket", create=False)
    if version != _VERSION or key is None:
        raise refused
    if not hmac.compare_digest(_sign(key, f"{version}.{encoded}"), mac):
        raise refused
    try:
        payload = json.loads(_unb64(encoded))
        session_id, user_id, expires = payload["s"], payload["u"], payload["e"]
        granted, args, locale = payload["p"], payload["a"], payload["l"]
    except (ValueError, KeyError, TypeError) as error:
        raise refused from error
    now = clock()
    if granted != purpose or not isinstance(args, dict) or not isinstance(expires, int):
        raise refused
    if expires < now.timestamp():
        raise refused
    row = db.exec(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id == session_id)
    ).first()
    if row is None or row[1].id != user_id or not _session_open(row[0], now) or not row[1].is_active:
        raise refused
    try:
        actor = authorize(auth.actor_for_user(db, row[1]))
    except PermissionDeniedError as error:
        raise refused from error
    return Ticket(actor=replace(actor, locale=normalize_locale(locale)), purpose=granted, args=args)
