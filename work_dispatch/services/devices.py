"""Shop-floor devices: shared tablets where operators switch with username + PIN.

A supervisor marks a browser as a shop-floor device from its login page, with their own
username and password (checked within the login throttle); the browser keeps a random
device token in its local storage, the database keeps its SHA-256 hash and a name. PIN
logins (``auth.pin_login``) are accepted on marked devices only, and every session opened
on one locks when idle. Admins list devices and unmark them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from work_dispatch.domain.enums import AuthEventKind
from work_dispatch.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from work_dispatch.i18n import format_datetime
from work_dispatch.models import ShopFloorDevice, User, utc_now
from work_dispatch.services import auth
from work_dispatch.services.actor import Actor, require_admin
from work_dispatch.services.validation import as_int, as_text
from work_dispatch.settings import settings

DEVICE_NAME_MAX = 64
DEVICES_MAX_LISTED = 200


@dataclass
class DeviceRow:
    """A marked device as the admin's list shows it."""

    id: int
    name: str
    created_by: str
    marked_at: str
    """When it was marked, in the reader's locale and the shop's timezone."""
    last_used: str
    """The last PIN or password login on it, likewise; "" for never."""


@dataclass
class MarkedDevice:
    """What the browser keeps after marking: the raw token (shown to nobody) and the name."""

    token: str
    name: str


def mark_device(
    db: Session,
    username: Any,
    password: Any,
    name: Any,
    address: str = "",
    *,
    clock: Callable[[], datetime] = utc_now,
) -> MarkedDevice:
    """Mark the calling browser as a shop-floor device, on a supervisor's own credentials.

    Args:
        db: Open session; committed here.
        username: A supervisor's or admin's username.
        password: Their password (throttled like a login).
        name: What to call the device ("Press hall tablet 2").
        address: The client address, for the throttle and the audit.
        clock: The current time (injected by tests).

    Returns:
        The raw device token for the browser's local storage, and the name.

    Raises:
        ValidationError: On a missing name, wrong credentials or while throttled.
        PermissionDeniedError: If the account is not a supervisor's or an admin's.
    """
    name = as_text(name, "name", "field.device_name", max_length=DEVICE_NAME_MAX, required=True)
    username = username.strip() if isinstance(username, str) else ""
    password = password if isinstance(password, str) else ""
    if not username or not password:
        raise ValidationError("error.login_empty")
    now = clock()
    user = auth.attempt(db, username, address, now, lambda: auth.check_credentials(db, username, password))
    if user.role not in ("supervisor", "admin"):
        raise PermissionDeniedError("error.device_mark_supervisors_only")
    token = secrets.token_urlsafe(32)
    db.add(
        ShopFloorDevice(name=name, token_hash=auth.hash_token(token), created_by_id=user.id, created_at=now)
    )
    auth.record_auth_event(
        db, AuthEventKind.USER_UPDATED, user.username, address, user.id, f"marked device {name}", now
    )
    db.commit()
    return MarkedDevice(token=token, name=name)


def device_name(db: Session, token: Any) -> str:
    """The name of the shop-floor device a browser's token names; "" when it names none.

    Args:
        db: Open session (read only).
        token: The raw device token from the browser; anything is accepted.

    Returns:
        The device's name, or "".
    """
    device = auth.device_for_token(db, token)
    return device.name if device is not None else ""


def list_devices(db: Session, actor: Actor | None) -> list[DeviceRow]:
    """The marked devices, newest first (at most ``DEVICES_MAX_LISTED``).

    Args:
        db: Open session (read only).
        actor: The acting admin.

    Returns:
        The devices still marked.
    """
    actor = require_admin(actor)
    rows = db.exec(
        select(ShopFloorDevice, User.username)
        .join(User, User.id == ShopFloorDevice.created_by_id, isouter=True)
        .where(ShopFloorDevice.revoked_at.is_(None))
        .order_by(ShopFloorDevice.id.desc())
        .limit(DEVICES_MAX_LISTED)
    ).all()
    return [
        DeviceRow(
            id=device.id,
            name=device.name,
            created_by=username or "",
            marked_at=format_datetime(device.created_at, actor.locale, settings.timezone, short=True),
            last_used=format_datetime(device.last_used_at, actor.locale, settings.timezone, short=True)
            if device.last_used_at
            else "",
        )
        for device, username in rows
    ]


def unmark_device(db: Session, actor: Actor | None, device_id: Any) -> str:
    """Unmark a device: PIN logins stop there at once (its open sessions stay until they idle out).

    Args:
        db: Open session; committed here.
        actor: The acting admin.
        device_id: The device.

    Returns:
        The device's name.

    Raises:
        NotFoundError: If the device is unknown or already unmarked; nothing changes.
    """
    actor = require_admin(actor)
    device_id = as_int(device_id, "device_id", "field.device", minimum=1)
    device = db.get(ShopFloorDevice, device_id)
    if device is None or device.revoked_at is not None:
        raise NotFoundError("error.device_unknown")
    device.revoked_at = utc_now()
    db.add(device)
    auth.record_auth_event(
        db, AuthEventKind.USER_UPDATED, actor.username, "", actor.user_id, f"unmarked device {device.name}"
    )
    db.commit()
    return device.name
