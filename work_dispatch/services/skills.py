"""Skills and rates: operators' qualification levels, and how long processes take.

- Each operator has a qualification level (0 = not trained … 3 = expert) per process, kept
  by admins on the People page. Level 0 is stored as no row at all; dispatch, claims and
  reassignment read the levels (``services.shifts``) and refuse an operator below a rule's
  minimum level. Every change is audited in ``auth_event`` like the other account changes.
- :func:`parse_rate` reads a setup time and a run rate from a form (a catalog process, a
  work-order route step's override), checked by the domain's
  :class:`~work_dispatch.domain.scheduling.Rate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from work_dispatch.domain.enums import AuthEventKind, Role
from work_dispatch.domain.errors import ConflictError, NotFoundError, ValidationError
from work_dispatch.domain.scheduling import MAX_LEVEL, MIN_LEVEL, Rate, validate_level
from work_dispatch.i18n import localized_name
from work_dispatch.models import Process, Qualification, User
from work_dispatch.realtime.bus import PERSON_CHANGED, BusEvent, publish
from work_dispatch.services.actor import Actor, require_admin
from work_dispatch.services.auth import record_auth_event
from work_dispatch.services.validation import as_int

MAX_PROCESSES = 500
"""Most processes one sheet shows or one save changes (a shop has a few dozen)."""
LEVELS = tuple(range(MIN_LEVEL, MAX_LEVEL + 1))
SETUP_MINUTES_MAX = 10_000
DEFAULT_SETUP_MINUTES: int = Process.model_fields["setup_minutes"].default
"""A new process's setup minutes, unless the form says otherwise."""
DEFAULT_UNITS_PER_HOUR: int = Process.model_fields["units_per_hour"].default
"""A new process's units per hour, unless the form says otherwise."""
UNITS_PER_HOUR_MAX = 10_000_000


@dataclass
class SkillRow:
    """One process of an operator's skill sheet."""

    process_id: int
    code: str
    name: str
    level: int


@dataclass
class SkillSheet:
    """An operator's levels for every active process (0 where none is recorded)."""

    operator_id: int
    username: str
    display_name: str
    rows: list[SkillRow]


def _operator(db: Session, operator_id: Any) -> User:
    operator_id = as_int(operator_id, "operator_id", "field.user", minimum=1)
    user = db.get(User, operator_id)
    if user is None:
        raise NotFoundError("error.user_not_found")
    if user.role != Role.OPERATOR:
        raise ValidationError("skills.error.operators_only", "levels", name=user.display_name)
    return user


def skill_sheet(db: Session, actor: Actor | None, operator_id: Any) -> SkillSheet:
    """An operator's level for each active process, in process name order.

    Args:
        db: Open session (read only).
        actor: The acting admin.
        operator_id: The operator.

    Returns:
        The sheet (process names in ``actor.locale``).

    Raises:
        NotFoundError: For an unknown user.
        ValidationError: If the user is not an operator.
    """
    actor = require_admin(actor)
    user = _operator(db, operator_id)
    levels = dict(
        db.exec(
            select(Qualification.process_id, Qualification.level).where(Qualification.operator_id == user.id)
        ).all()
    )
    processes = db.exec(
        select(Process.id, Process.code, Process.name, Process.names)
        .where(Process.is_active)
        .order_by(Process.name, Process.id)
        .limit(MAX_PROCESSES)
    ).all()
    rows = [
        SkillRow(process_id, code, localized_name(name, names, actor.locale), levels.get(process_id, 0))
        for process_id, code, name, names in processes
    ]
    return SkillSheet(user.id, user.username, user.display_name, rows)


def _level(value: Any) -> int:
    """A level from client input: an int, or its digits as text (what a select sends)."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 3:
        value = int(value.strip())
    return validate_level(value, "levels")


def set_levels(db: Session, actor: Actor | None, operator_id: Any, levels: Any) -> int:
    """Set an operator's level for some processes; processes left out keep theirs.

    Every entry is checked before anything is written: one bad level or unknown process
    refuses the whole change.

    Args:
        db: Open session; committed here.
        actor: The acting admin.
        operator_id: The operator.
        levels: Process id → level 0–3 (ids and levels as numbers or digits).

    Returns:
        How many processes changed level.

    Raises:
        NotFoundError: For an unknown user.
        ValidationError: If the user is not an operator, a level is not 0–3, or a process is
            unknown or inactive; nothing is written.
        ConflictError: If another admin changed the same levels at the same moment.
    """
    actor = require_admin(actor)
    user = _operator(db, operator_id)
    if not isinstance(levels, dict):
        raise ValidationError("skills.error.levels_malformed", "levels")
    if len(levels) > MAX_PROCESSES:
        raise ValidationError("skills.error.too_many", "levels", maximum=MAX_PROCESSES)
    wanted: dict[int, int] = {}
    for raw_process, raw_level in levels.items():
        process_id = as_int(raw_process, "levels", "field.process", minimum=1)
        wanted[process_id] = _level(raw_level)
    known = (
        dict(
            db.exec(
                select(Process.id, Process.code).where(Process.id.in_(list(wanted)), Process.is_active)
            ).all()
        )
        if wanted
        else {}
    )
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise NotFoundError("skills.error.process_unknown", "levels", value=unknown[0])
    current = dict(
        db.exec(
            select(Qualification.process_id, Qualification.level).where(Qualification.operator_id == user.id)
        ).all()
    )
    changed = {pid: level for pid, level in wanted.items() if current.get(pid, 0) != level}
    if not changed:
        return 0
    db.execute(
        delete(Qualification).where(
            Qualification.operator_id == user.id, Qualification.process_id.in_(list(changed))
        )
    )
    db.add_all(
        Qualification(operator_id=user.id, process_id=pid, level=level)
        for pid, level in changed.items()
        if level > 0
    )
    summary = ", ".join(
        f"{known[pid]} {current.get(pid, 0)}>{level}" for pid, level in sorted(changed.items())
    )
    record_auth_event(
        db, AuthEventKind.USER_UPDATED, user.username, "", user.id, f"by {actor.username}: skills {summary}"
    )
    try:
        db.commit()
    except IntegrityError as error:  # another admin saved the same operator's skills meanwhile
        db.rollback()
        raise ConflictError("skills.error.changed_meanwhile", "levels") from error
    # The operator's tablet reloads: the pool it offers depends on their skills.
    publish(BusEvent(kind=PERSON_CHANGED, operator_ids=(user.id,)))
    return len(changed)


def parse_rate(
    setup_minutes: Any, units_per_hour: Any, *, optional: bool = False
) -> tuple[int | None, int | None]:
    """A setup time and a run rate from client input, checked by the domain's :class:`Rate`.

    Args:
        setup_minutes: Minutes of setup (0 or more).
        units_per_hour: Units made per hour (more than 0).
        optional: Whether empty input means "no value" (a route step keeping its process's rate).

    Returns:
        (setup minutes, units per hour); either is None only when ``optional`` and empty.

    Raises:
        ValidationError: For a value that is not a whole number, a negative setup or a rate of 0
            or less, with the field (``setup_minutes`` or ``units_per_hour``) to blame.
    """
    setup = as_int(
        setup_minutes,
        "setup_minutes",
        "skills.field.setup_minutes",
        maximum=SETUP_MINUTES_MAX,
        optional=optional,
    )
    rate = as_int(
        units_per_hour,
        "units_per_hour",
        "skills.field.units_per_hour",
        maximum=UNITS_PER_HOUR_MAX,
        optional=optional,
    )
    # The domain's rules (setup >= 0, rate > 0); a missing half stands in as a valid value.
    Rate(0 if setup is None else setup, 1 if rate is None else rate)
    return setup, rate
