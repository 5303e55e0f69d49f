"""What an operator sees: their tasks, their departments' pool and their presence, loaded in bulk.

The same loader serves one operator opening the page and the fan-out refreshing many
operators after a change: a fixed number of queries however many operators it serves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case
from sqlmodel import Session, func, select

from work_dispatch.domain.enums import OPERATOR_LOAD_STATUSES, Role, TaskStatus
from work_dispatch.i18n import format_datetime, format_number, localized_name, normalize_locale, translate
from work_dispatch.models import (
    Customer,
    Department,
    Notification,
    Process,
    Product,
    Task,
    User,
    UserDepartment,
    WorkOrder,
    utc_now,
)
from work_dispatch.services.actor import Actor, require_operator
from work_dispatch.services.presence import PresenceView, presence_views
from work_dispatch.services.shifts import (
    shop_timezone,
)
from work_dispatch.services.sql import id_in
from work_dispatch.services.task_flow import pause_reason_text
from work_dispatch.services.task_rules import (
    handover_of,
    is_blocked,
    step_used,
    transfer_batch_of,
    upstream_good,
    waiting_for,
    waiting_message,
)
from work_dispatch.settings import settings

LIST_LIMIT = 50


@dataclass
class TaskCard:
    """A task as a tablet card shows it."""

    id: int
    order_number: str
    process: str
    department: str
    status: str
    priority: str
    production_quantity: int
    quantity_completed: int
    quantity_defective: int
    due_at: str
    work_content: str
    requirements: str
    pause_reason: str
    blocked_reason: str = ""
    available_text: str = ""
    """Flow production: "Available to work: 2,000 of 5,000" while the step before still produces."""
    status_label: str = ""
    priority_label: str = ""
    quantity_text: str = ""
    """Planned quantity with the locale's grouping (30,000)."""
    customer: str = ""
    product: str = ""
    """The work order's product, named in the reader's locale."""
    unit: str = ""
    """The work order's unit of quantity (pcs, 张...)."""
    notes: str = ""
    """The work order's notes."""


@dataclass
class PresenceLine:
    """An operator's presence as the tablet header shows it: a handful of flags and times.

    Times are in the shop's timezone, as the reader's locale writes them: the time alone
    ("07:58") on the day it is shown, else with the date.

    Attributes:
        checked_in: Whether they are checked in.
        since: When they checked in ("" when not checked in).
        on_shift: Whether one of their departments' shifts runs now (true without shifts).
        ends: When the running shift ends ("" off shift or without shifts).
        next_shift: When their next shift starts ("" on shift, or none planned).
        requires_check_in: Whether a department of theirs gives work only to those checked in.
    """

    checked_in: bool = False
    since: str = ""
    on_shift: bool = True
    ends: str = ""
    next_shift: str = ""
    requires_check_in: bool = False


@dataclass
class OperatorOverview:
    """An operator's departments, tasks, pool, unread notifications and presence."""

    departments: list[str] = field(default_factory=list)
    department_ids: list[int] = field(default_factory=list)
    wip_limit: int = 0
    my_tasks: list[TaskCard] = field(default_factory=list)
    pool: list[TaskCard] = field(default_factory=list)
    pool_count: int = 0
    unread: int = 0
    presence: PresenceLine = field(default_factory=PresenceLine)


_STATUS_ORDER = case(
    (Task.status == TaskStatus.IN_PROGRESS, 0),
    (Task.status == TaskStatus.PAUSED, 1),
    else_=2,
)
_ORDER = (Task.priority_rank.desc(), Task.due_at.asc().nulls_last(), Task.id)


@dataclass(frozen=True)
class _CardSource:
    """What a card shows, read once and rendered for each locale that asks."""

    task: Task
    order_number: str
    process: tuple[str, Any]
    department: tuple[str | None, Any]
    customer: str = ""
    product: tuple[str, Any] = ("", None)
    unit: str = ""
    notes: str = ""


def _sources(db: Session, statement) -> list[_CardSource]:
    rows = db.execute(
        statement.add_columns(
            WorkOrder.order_number,
            Process.name,
            Process.names,
            Department.name,
            Department.names,
            Customer.name,
            Product.name,
            Product.names,
            WorkOrder.unit,
            WorkOrder.notes,
        )
        .join(WorkOrder, WorkOrder.id == Task.work_order_id)
        .join(Process, Process.id == Task.process_id)
        .join(Customer, Customer.id == WorkOrder.customer_id)
        .join(Product, Product.id == WorkOrder.product_id)
        .outerjoin(Department, Department.id == Task.assigned_department_id)
    ).all()
    return [
        _CardSource(
            task,
            order_number,
            (process, process_names),
            (department, department_names),
            customer=customer,
            product=(product, product_names),
            unit=unit,
            notes=notes,
        )
        for (
            task,
            order_number,
            process,
            process_names,
            department,
            department_names,
            customer,
            product,
            product_names,
            unit,
            notes,
        ) in rows
    ]


class _Cards:
    """Builds each task's card once per locale, with its blocked marker."""

    def __init__(self, db: Session, sources: list[_CardSource]) -> None:
        self._built: dict[tuple[int, str], TaskCard] = {}
        self._waiting: dict[int, tuple[str, Any]] = {}
        self._available: dict[int, int] = {}
        ids = list({source.task.id for source in sources})
        if not ids:
            return
        rows = db.execute(
            select(
                Task.id,
                waiting_for(Task.work_order_id, Task.sequence, handover_of()).scalar_subquery(),
                transfer_batch_of(Task.work_order_process_id),
                is_blocked(Task.work_order_id, Task.sequence),
                upstream_good(Task.work_order_id, Task.sequence) - step_used(Task.work_order_process_id),
            ).where(id_in(db, Task.id, ids))
        ).all()
        waits = [(task_id, process_id) for task_id, process_id, *_ in rows]
        # While the step before is still producing, a transfer-batch step shows what it may work on.
        self._available = {
            task_id: max(int(available or 0), 0)
            for task_id, _, batch, upstream_open, available in rows
            if batch is not None and upstream_open
        }
        process_ids = {process_id for _, process_id in waits if process_id is not None}
        processes = (
            {p.id: (p.name, p.names) for p in db.exec(select(Process).where(Process.id.in_(process_ids)))}
            if process_ids
            else {}
        )
        self._waiting = {task_id: processes[pid] for task_id, pid in waits if pid in processes}

    def card(self, source: _CardSource, locale: str) -> TaskCard:
        """The card of ``source`` in ``locale`` (the same object for the same task and locale)."""
        key = (source.task.id, locale)
        if key not in self._built:
            task = source.task
            waiting = self._waiting.get(task.id)
            self._built[key] = TaskCard(
                id=task.id,
                order_number=source.order_number,
                process=localized_name(*source.process, locale),
                department=localized_name(*source.department, locale),
                status=task.status,
                priority=task.priority,
                production_quantity=task.production_quantity,
                quantity_completed=task.quantity_completed,
                quantity_defective=task.quantity_defective,
                due_at=format_datetime(task.due_at, locale, settings.timezone, short=True),
                work_content=task.work_content,
                requirements=task.requirements,
                pause_reason=pause_reason_text(task.pause_reason, locale),
                blocked_reason=waiting_message(*waiting).render(locale) if waiting else "",
                available_text=translate(
                    "handover.available",
                    locale,
                    available=format_number(self._available[task.id], locale),
                    quantity=format_number(task.production_quantity, locale),
                )
                if task.id in self._available
                else "",
                status_label=translate(f"enum.task_status.{task.status}", locale),
                priority_label=translate(f"enum.priority.{task.priority}", locale),
                quantity_text=format_number(task.production_quantity, locale),
                customer=source.customer,  # a proper noun: the same in every language
                product=localized_name(*source.product, locale),
                unit=source.unit,
                notes=source.notes,
            )
        return self._built[key]


def _clock(moment: datetime | None, locale: str, now: datetime) -> str:
    """A time for the tablet header: "07:58" on the shop's today, else with the date ("Dec 4, 07:00")."""
    if moment is None:
        return ""
    zone = shop_timezone()
    local = moment.astimezone(zone)
    if local.date() == now.astimezone(zone).date():
        return f"{local:%H:%M}"
    return format_datetime(moment, locale, settings.timezone, short=True)


def presence_line(view: PresenceView, locale: str, now: datetime | None = None) -> PresenceLine:
    """What the tablet header shows of a presence, in ``locale``.

    Args:
        view: The operator's presence.
        locale: The reader's locale.
        now: The time (default: now), to tell today's times from others.

    Returns:
        The header's flags and times.
    """
    now = now or utc_now()
    return PresenceLine(
        checked_in=view.checked_in,
        since=_clock(view.since, locale, now),
        on_shift=view.on_shift,
        ends=_clock(view.shift_ends_at, locale, now),
        next_shift=_clock(view.next_shift_at, locale, now),
        requires_check_in=view.requires_check_in,
    )


def overviews_for(
    db: Session, requests: Iterable[tuple[int, str]]
) -> dict[tuple[int, str], OperatorOverview | None]:
    """Overviews of many operators at once, each in a locale, with their departments as they are now.

    Args:
        db: Open session (read only).
        requests: (operator id, locale) pairs: one per locale an operator's sessions read in.

    Returns:
        (operator id, locale as asked) → overview, or None for a user who is no longer an
        active operator.
    """
    requests = list(dict.fromkeys((operator_id, locale) for operator_id, locale in requests))
    operator_ids = list(dict.fromkeys(operator_id for operator_id, _ in requests))
    if not operator_ids:
        return {}
    users = {
        u.id: u
        for u in db.exec(
            select(User).where(User.id.in_(operator_ids), User.is_active, User.role == Role.OPERATOR)
        )
    }
    operators: dict[int, set[int]] = {operator_id: set() for operator_id in operator_ids}
    for user_id, department_id in db.exec(
        select(UserDepartment.user_id, UserDepartment.department_id).where(UserDepartment.user_id.in_(users))
    ).all():
        operators[user_id].add(department_id)
    departments = {d.id: d for d in db.exec(select(Department).order_by(Department.sort_order))}
    mine = _sources(
        db,
        select(Task)
        .where(Task.assigned_operator_id.in_(users), Task.status.in_(OPERATOR_LOAD_STATUSES))
        .order_by(_STATUS_ORDER, *_ORDER),
    )
    watched = {d for uid in users for d in operators[uid]}
    pools: dict[int, list[_CardSource]] = {}
    for department_id in watched:
        pools[department_id] = _sources(
            db,
            select(Task)
            .where(Task.assigned_department_id == department_id, Task.status == TaskStatus.QUEUED)
            .order_by(*_ORDER)
            .limit(LIST_LIMIT),
        )
    cards = _Cards(db, mine + [source for sources in pools.values() for source in sources])
    pool_counts = (
        dict(
            db.exec(
                select(Task.assigned_department_id, func.count())
                .where(Task.assigned_department_id.in_(watched), Task.status == TaskStatus.QUEUED)
                .group_by(Task.assigned_department_id)
            ).all()
        )
        if watched
        else {}
    )
    unread = dict(
        db.exec(
            select(Notification.recipient_id, func.count())
            .where(Notification.recipient_id.in_(users), Notification.is_read.is_(False))
            .group_by(Notification.recipient_id)
        ).all()
    )
    mine_by_user: dict[int, list[_CardSource]] = defaultdict(list)
    for source in mine:
        if len(mine_by_user[source.task.assigned_operator_id]) < LIST_LIMIT:
            mine_by_user[source.task.assigned_operator_id].append(source)
    now = utc_now()
    presences = presence_views(db, {uid: operators[uid] for uid in users}, now)
    result: dict[tuple[int, str], OperatorOverview | None] = {}
    for operator_id, asked_locale in requests:
        user = users.get(operator_id)
        if user is None:
            result[(operator_id, asked_locale)] = None
            continue
        locale = normalize_locale(asked_locale)
        ordered = [d for d in departments if d in operators[operator_id]]
        pool = sorted(
            (source for d in ordered for source in pools.get(d, [])),
            key=lambda s: (-s.task.priority_rank, s.task.due_at is None, s.task.due_at, s.task.id),
        )[:LIST_LIMIT]
        result[(operator_id, asked_locale)] = OperatorOverview(
            departments=[localized_name(departments[d].name, departments[d].names, locale) for d in ordered],
            department_ids=ordered,
            wip_limit=user.wip_limit,
            my_tasks=[cards.card(source, locale) for source in mine_by_user.get(operator_id, [])],
            pool=[cards.card(source, locale) for source in pool],
            pool_count=sum(pool_counts.get(d, 0) for d in ordered),
            unread=unread.get(operator_id, 0),
            presence=presence_line(presences[operator_id], locale, now),
        )
    return result


def overview(db: Session, actor: Actor | None) -> OperatorOverview:
    """The acting operator's overview, in ``actor.locale``.

    Args:
        db: Open session (read only).
        actor: The acting operator.

    Returns:
        Their tasks (in progress first, then by priority and due time) and their pool.
    """
    actor = require_operator(actor)
    key = (actor.user_id, actor.locale)
    return overviews_for(db, [key])[key] or OperatorOverview()


def card_of(db: Session, task_id: int, locale: str) -> TaskCard | None:
    """One task's card, as the tablet lists show it (no authorization: the caller decides).

    Args:
        db: Open session (read only).
        task_id: The task.
        locale: The reader's locale.

    Returns:
        The card, or None when there is no such task.
    """
    sources = _sources(db, select(Task).where(Task.id == task_id))
    if not sources:
        return None
    return _Cards(db, sources).card(sources[0], normalize_locale(locale))
