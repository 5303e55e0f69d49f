"""Who may still receive live pushes: every recipient's session re-checked, one query per flush.

A push is a read made on behalf of a browser session, so it obeys the rules of a request: the
session is neither revoked nor expired, its user is active, and the user's role is still
allowed on the page the session shows (the task center for operators; the board, the
dashboard, the floor and the work-order list for supervisors and admins). A session failing any
of them gets nothing more.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol

from sqlmodel import Session, select

from work_dispatch.domain.enums import Role
from work_dispatch.i18n import normalize_locale
from work_dispatch.models import User, UserDepartment, UserSession, utc_now
from work_dispatch.realtime.registry import (
    BOARD_VIEW,
    DASHBOARD_VIEW,
    FLOOR_VIEW,
    OPERATOR_VIEW,
    WORK_ORDERS_VIEW,
)
from work_dispatch.services.actor import Actor

VIEW_ROLES: dict[str, frozenset[str]] = {
    OPERATOR_VIEW: frozenset({Role.OPERATOR}),
    BOARD_VIEW: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    DASHBOARD_VIEW: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    FLOOR_VIEW: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    WORK_ORDERS_VIEW: frozenset({Role.SUPERVISOR, Role.ADMIN}),
}
"""View → the roles that may watch it (the page guards say the same)."""

TOKEN_HASH_LENGTH = 64


class LiveSession(Protocol):
    """A registered browser session as the fan-out knows it."""

    token: str
    view: str
    user_id: int
    session_hash: str


def check_sessions(
    db: Session, sessions: Iterable[LiveSession], *, clock: Callable[[], datetime] = utc_now
) -> dict[str, Actor | None]:
    """Re-validate the sessions a push is about to reach, with one query for all of them.

    Args:
        db: Open session (read only).
        sessions: The recipients; each names its client token, view, user and session hash.
        clock: The current time (injected by tests).

    Returns:
        Client token → the session's actor (as the database says now), or None when the session
        is unknown, revoked or expired, belongs to another user, its user is inactive, or the
        user's role may not watch the session's view.
    """
    sessions = list(sessions)
    hashes = {
        s.session_hash
        for s in sessions
        if isinstance(s.session_hash, str) and len(s.session_hash) == TOKEN_HASH_LENGTH
    }
    now = clock()
    owners: dict[str, User] = {}
    if hashes:
        for token_hash, expires_at, revoked_at, user in db.exec(
            select(UserSession.token_hash, UserSession.expires_at, UserSession.revoked_at, User)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.token_hash.in_(hashes))
        ).all():
            if revoked_at is None and expires_at > now and user.is_active:
                owners[token_hash] = user
    actors = _actors(db, {user.id: user for user in owners.values()})
    verdicts: dict[str, Actor | None] = {}
    for session in sessions:
        user = owners.get(session.session_hash)
        allowed = (
            user is not None
            and user.id == session.user_id
            and user.role in VIEW_ROLES.get(session.view, frozenset())
        )
        verdicts[session.token] = actors[user.id] if allowed else None
    return verdicts


def _actors(db: Session, users: dict[int, User]) -> dict[int, Actor]:
    """Actors of these users with their departments, in one more query (as ``auth.actor_for_user``)."""
    if not users:
        return {}
    departments: dict[int, set[int]] = defaultdict(set)
    for user_id, department_id in db.exec(
        select(UserDepartment.user_id, UserDepartment.department_id).where(UserDepartment.user_id.in_(users))
    ).all():
        departments[user_id].add(department_id)
    return {
        user.id: Actor(
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            department_ids=frozenset(departments[user.id]),
            wip_limit=user.wip_limit,
            locale=normalize_locale(user.locale),
        )
        for user in users.values()
    }
