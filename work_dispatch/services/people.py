"""People: the admin's accounts page — roles, departments, WIP limits, passwords, sessions.

Every change is audited in ``auth_event``. Deactivating a user, changing their role or
setting a new password ends their open sessions, so the next click on their tablet asks
them to log in again.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from work_dispatch.domain.enums import AuthEventKind, Role
from work_dispatch.domain.errors import NotFoundError, ValidationError
from work_dispatch.i18n import DEFAULT_LOCALE, localized_name, msg, normalize_locale
from work_dispatch.models import NAME_LENGTH, Department, User, UserDepartment, UserSession, utc_now
from work_dispatch.realtime.bus import PERSON_CHANGED, BusEvent, publish
from work_dispatch.services.actor import Actor, require_actor, require_admin
from work_dispatch.services.auth import PIN_PATTERN, end_sessions, hash_password, record_auth_event
from work_dispatch.services.sql import contains_text
from work_dispatch.services.validation import (
    as_choice,
    as_flag,
    as_form,
    as_id_list,
    as_int,
    as_locale,
    as_text,
)

USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{2,39}")
PASSWORD_MIN = 8
PASSWORD_MAX = 128
WIP_LIMIT_MAX = 20
PAGE_SIZE_MAX = 100


@dataclass
class PersonRow:
    """A user as the people page lists it."""

    id: int
    username: str
    display_name: str
    role: str
    department_ids: list[int]
    departments: list[str]
    wip_limit: int
    is_active: bool
    open_sessions: int
    locale: str = DEFAULT_LOCALE
    has_pin: bool = False


@dataclass
class PeoplePage:
    """One keyset page of people; ``next_after`` is 0 on the last page."""

    rows: list[PersonRow]
    next_after: int


def list_people(
    db: Session, actor: Actor | None, role: Any = "", search: Any = "", after_id: Any = 0, page_size: Any = 25
) -> PeoplePage:
    """A page of users in id order, optionally of one role or matching a search.

    Args:
        db: Open session (read only).
        actor: The acting admin.
        role: "" for everyone, or a role.
        search: Text matched against username and display name.
        after_id: Id of the last row of the previous page (0 for the first page).
        page_size: Rows per page, clamped to 1..100.

    Returns:
        The rows and where the next page starts.
    """
    actor = require_admin(actor)
    role = as_choice(role, Role, "role", "field.role") if role else ""
    search = as_text(search, "search", "field.search", max_length=60)
    after_id = as_int(after_id, "after_id", "field.page", minimum=0, optional=True) or 0
    page_size = min(max(as_int(page_size, "page_size", "field.page_size", minimum=1) or 25, 1), PAGE_SIZE_MAX)
    statement = select(User).where(User.id > after_id)
    if role:
        statement = statement.where(User.role == role)
    if search:
        statement = statement.where(contains_text(search, User.username, User.display_name))
    users = db.exec(statement.order_by(User.id).limit(page_size + 1)).all()
    more = len(users) > page_size
    users = users[:page_size]
    ids = [user.id for user in users]
    memberships: dict[int, list[tuple[int, str]]] = defaultdict(list)
    sessions: dict[int, int] = {}
    if ids:
        for user_id, department_id, name, names in db.exec(
            select(UserDepartment.user_id, Department.id, Department.name, Department.names)
            .join(Department, Department.id == UserDepartment.department_id)
            .where(UserDepartment.user_id.in_(ids))
            .order_by(Department.sort_order, Department.id)
        ).all():
            memberships[user_id].append((department_id, localized_name(name, names, actor.locale)))
        sessions = dict(
            db.exec(
                select(UserSession.user_id, func.count())
                .where(
                    UserSession.user_id.in_(ids),
                    UserSession.revoked_at.is_(None),
                    UserSession.expires_at > utc_now(),
                )
                .group_by(UserSession.user_id)
            ).all()
        )
    rows = [
        PersonRow(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            department_ids=[department_id for department_id, _ in memberships[user.id]],
            departments=[name for _, name in memberships[user.id]],
            wip_limit=user.wip_limit,
            is_active=user.is_active,
            open_sessions=sessions.get(user.id, 0),
            locale=normalize_locale(user.locale),
            has_pin=bool(user.pin_hash),
        )
        for user in users
    ]
    return PeoplePage(rows=rows, next_after=ids[-1] if more else 0)


@dataclass(frozen=True)
class _PersonInput:
    display_name: str
    role: str
    wip_limit: int
    department_ids: list[int]
    is_active: bool
    password: str
    locale: str | None  # None: keep the current one (``en`` for a new account)


def _parse(db: Session, raw: Any, creating: bool) -> _PersonInput:
    raw = as_form(raw)
    display_name = as_text(
        raw.get("display_name"), "display_name", "field.name", max_length=NAME_LENGTH, required=True
    )
    role = as_choice(raw.get("role"), Role, "role", "field.role")
    wip_limit = as_int(raw.get("wip_limit"), "wip_limit", "field.wip_limit", minimum=1, maximum=WIP_LIMIT_MAX)
    department_ids = as_id_list(
        raw.get("department_ids", []), "department_ids", "field.departments", max_items=50
    )
    active_departments = set(
        db.exec(select(Department.id).where(Department.id.in_(department_ids), Department.is_active)).all()
    )
    if set(department_ids) - active_departments:
        raise ValidationError("error.departments_from_list", "department_ids")
    if role == Role.OPERATOR and not department_ids:
        raise ValidationError("error.operator_needs_department", "department_ids")
    is_active = as_flag(raw.get("is_active", True), "is_active", "field.active")
    password = raw.get("password") or ""
    if not isinstance(password, str):
        raise ValidationError("error.not_text", "password", label=msg("field.password"))
    if len(password) > PASSWORD_MAX:
        raise ValidationError("error.password_too_long", "password", maximum=PASSWORD_MAX)
    if (creating or password) and len(password) < PASSWORD_MIN:
        raise ValidationError("error.password_too_short", "password", minimum=PASSWORD_MIN)
    locale = as_locale(raw["locale"]) if raw.get("locale") else None
    return _PersonInput(display_name, role, wip_limit, department_ids, is_active, password, locale)


def _set_departments(db: Session, user_id: int, department_ids: list[int]) -> None:
    db.execute(delete(UserDepartment).where(UserDepartment.user_id == user_id))
    db.add_all(
        UserDepartment(user_id=user_id, department_id=department_id) for department_id in department_ids
    )


def create_person(db: Session, actor: Actor | None, raw: Any) -> int:
    """Create an account.

    Args:
        db: Open session; committed here.
        actor: The acting admin.
        raw: Form fields: username, display_name, role, wip_limit, department_ids, password,
            optional locale (the preferred language; default ``en``).

    Returns:
        The new user's id.

    Raises:
        ValidationError: On invalid input or a taken username; nothing is written.
    """
    actor = require_admin(actor)
    data = _parse(db, raw, creating=True)
    username = as_text(
        raw.get("username"), "username", "field.username", max_length=40, required=True
    ).lower()
    if not USERNAME_PATTERN.fullmatch(username):
        raise ValidationError("error.username_pattern", "username")
    taken = ValidationError("error.username_taken", "username")
    if db.exec(select(User.id).where(func.lower(User.username) == username)).first():
        raise taken
    user = User(
        username=username,
        display_name=data.display_name,
        password_hash=hash_password(data.password),
        role=data.role,
        is_active=data.is_active,
        wip_limit=data.wip_limit,
        locale=data.locale or DEFAULT_LOCALE,
    )
    db.add(user)
    try:
        db.flush()
    except IntegrityError as error:
        db.rollback()
        raise taken from error
    _set_departments(db, user.id, data.department_ids)
    record_auth_event(
        db, AuthEventKind.USER_CREATED, username, "", user.id, f"by {actor.username}: {data.role}"
    )
    db.commit()
    return user.id


def update_person(db: Session, actor: Actor | None, user_id: Any, raw: Any) -> int:
    """Change an account; a new password, a new role or deactivation end its sessions.

    Args:
        db: Open session; committed here.
        actor: The acting admin.
        user_id: The account to change.
        raw: Form fields: display_name, role, wip_limit, department_ids, is_active, password
            (empty keeps the current one), optional locale (absent or empty keeps the current one).

    Returns:
        How many sessions were ended.

    Raises:
        ValidationError: On invalid input, or an admin removing their own access.
    """
    actor = require_admin(actor)
    user_id = as_int(user_id, "user_id", "field.user", minimum=1)
    data = _parse(db, raw, creating=False)
    user = db.get(User, user_id)
    if user is None:
        raise NotFoundError("error.user_not_found")
    if user.id == actor.user_id and (data.role != Role.ADMIN or not data.is_active):
        raise ValidationError("error.own_admin_access", "role")
    current_departments = set(
        db.exec(select(UserDepartment.department_id).where(UserDepartment.user_id == user.id)).all()
    )
    changes = [
        name
        for name, changed in (
            ("name", user.display_name != data.display_name),
            ("departments", current_departments != set(data.department_ids)),
            ("role", user.role != data.role),
            ("WIP limit", user.wip_limit != data.wip_limit),
            ("active" if data.is_active else "deactivated", user.is_active != data.is_active),
            ("password", bool(data.password)),
            ("language", data.locale is not None and user.locale != data.locale),
        )
        if changed
    ]
    ends_sessions = user.role != data.role or not data.is_active or bool(data.password)
    user.display_name, user.role, user.wip_limit = data.display_name, data.role, data.wip_limit
    user.is_active = data.is_active
    user.locale = data.locale or user.locale
    if data.password:
        user.password_hash = hash_password(data.password)
    db.add(user)
    _set_departments(db, user.id, data.department_ids)
    ended = end_sessions(db, user.id) if ends_sessions else 0
    summary = ", ".join(changes) or "nothing changed"
    record_auth_event(
        db, AuthEventKind.USER_UPDATED, user.username, "", user.id, f"by {actor.username}: {summary}"
    )
    db.commit()
    # The user's open pages reload at once; a deactivated or logged-out operator's tablet is wiped.
    publish(BusEvent(kind=PERSON_CHANGED, operator_ids=(user.id,)))
    return ended


def revoke_sessions(db: Session, actor: Actor | None, user_id: Any) -> int:
    """End every open session of a user (a lost tablet, a shared login).

    Args:
        db: Open session; committed here.
        actor: The acting admin.
        user_id: Whose sessions.

    Returns:
        How many sessions were ended.
    """
    actor = require_admin(actor)
    user_id = as_int(user_id, "user_id", "field.user", minimum=1)
    user = db.get(User, user_id)
    if user is None:
        raise NotFoundError("error.user_not_found")
    ended = end_sessions(db, user.id)
    record_auth_event(
        db, AuthEventKind.SESSIONS_REVOKED, user.username, "", user.id, f"by {actor.username}: {ended} ended"
    )
    db.commit()
    publish(BusEvent(kind=PERSON_CHANGED, operator_ids=(user.id,)))
    return ended


def set_my_locale(db: Session, actor: Actor | None, locale: Any) -> str:
    """Set the signed-in user's own preferred locale (any role).

    Args:
        db: Open session; committed here.
        actor: The acting user.
        locale: A supported locale such as ``zh-CN`` or ``en`` (aliases like ``zh_cn`` are accepted).

    Returns:
        The locale stored.

    Raises:
        ValidationError: If the locale is not supported; nothing changes.
    """
    actor = require_actor(actor)
    chosen = as_locale(locale)
    user = db.get(User, actor.user_id)
    if user is None:
        raise NotFoundError("error.user_not_found")
    if user.locale != chosen:
        user.locale = chosen
        db.add(user)
        db.commit()
    return chosen


def set_pin(db: Session, actor: Actor | None, user_id: Any, pin: Any) -> bool:
    """Set or clear an operator's quick-switch PIN (used on shop-floor devices only).

    The PIN is stored as an argon2 hash, like passwords. A new PIN ends the operator's open
    sessions, like a new password.

    Args:
        db: Open session; committed here.
        actor: The acting admin.
        user_id: The operator.
        pin: 4 to 6 digits; "" clears the PIN.

    Returns:
        True when a PIN is now set, False when it was cleared.

    Raises:
        ValidationError: If the PIN is not 4-6 digits or the user is not an operator.
        NotFoundError: If the user does not exist.
    """
    actor = require_admin(actor)
    user_id = as_int(user_id, "user_id", "field.user", minimum=1)
    pin = pin.strip() if isinstance(pin, str) else pin
    if not isinstance(pin, str) or (pin and not PIN_PATTERN.fullmatch(pin)):
        raise ValidationError("error.pin_format", "pin")
    user = db.get(User, user_id)
    if user is None:
        raise NotFoundError("error.user_not_found")
    if pin and user.role != Role.OPERATOR:
        raise ValidationError("error.pin_operators_only", "pin")
    user.pin_hash = hash_password(pin) if pin else None
    db.add(user)
    ended = end_sessions(db, user.id) if pin else 0
    what = f"{'PIN set' if pin else 'PIN cleared'} by {actor.username}; {ended} ended"
    record_auth_event(db, AuthEventKind.USER_UPDATED, user.username, "", user.id, what)
    db.commit()
    if ended:
        publish(BusEvent(kind=PERSON_CHANGED, operator_ids=(user.id,)))
    return bool(pin)
