"""Work orders: create, edit, list, approve (generates drafts) and cancel."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from work_dispatch.domain.enums import (
    NotificationKind,
    Priority,
    ProcessStatus,
    TaskEventKind,
    TaskStatus,
    WorkOrderStatus,
)
from work_dispatch.domain.errors import ConflictError, DomainError, NotFoundError, ValidationError
from work_dispatch.domain.generation import RouteStep, planned_task_count
from work_dispatch.domain.task_machine import TaskAction, target_of
from work_dispatch.i18n import (
    Message,
    format_datetime,
    format_day,
    format_number,
    literal,
    localized_name,
    msg,
    translate,
)
from work_dispatch.models import (
    TEXT_LENGTH,
    Customer,
    Department,
    OrderNumberCounter,
    Process,
    Product,
    ProductRouteStep,
    Task,
    WorkOrder,
    WorkOrderProcess,
    utc_now,
)
from work_dispatch.realtime.bus import BusEvent, publish
from work_dispatch.services import generation
from work_dispatch.services.actor import Actor, require_supervisor
from work_dispatch.services.audit import record_events
from work_dispatch.services.notifications import Notice, send_notices
from work_dispatch.services.skills import parse_rate
from work_dispatch.services.task_rules import may
from work_dispatch.services.validation import as_choice, as_date, as_flag, as_int, as_text
from work_dispatch.services.workload import refresh_planned_minutes
from work_dispatch.settings import settings

MAX_ROUTE_STEPS = 30
MAX_QUANTITY = 100_000_000
PAGE_SIZE_MAX = 100


@dataclass(frozen=True)
class RouteStepInput:
    """One process of a route as entered on the form."""

    process_id: int
    department_id: int | None = None
    batch_size: int | None = None
    setup_minutes: int | None = None
    """Override of the process's setup minutes (None: the process's)."""
    units_per_hour: int | None = None
    """Override of the process's units per hour (None: the process's)."""
    transfer_batch: int | None = None
    """Good units the step before must hand over before this step may start (None: all of them)."""

    @property
    def shape(self) -> tuple[int, int | None, int | None]:
        """What makes the route's tasks: process, department, batch size (not the rate)."""
        return (self.process_id, self.department_id, self.batch_size)


@dataclass(frozen=True)
class WorkOrderInput:
    """The validated content of the work-order form."""

    customer_id: int
    product_id: int
    quantity: int
    unit: str
    priority: str
    delivery_date: date | None
    notes: str
    route: tuple[RouteStepInput, ...]


@dataclass
class WorkOrderRow:
    """A work order as the list shows it."""

    id: int
    order_number: str
    customer: str
    product: str
    quantity: int
    unit: str
    priority: str
    delivery_date: str
    status: str
    task_count: int = 0
    draft_count: int = 0
    status_label: str = ""
    priority_label: str = ""
    quantity_text: str = ""
    """The quantity with the locale's grouping (30,000)."""
    delivery_day: str = ""
    """The delivery date for people (``Dec 3, 2026`` / ``2026年12月3日``); ``delivery_date`` is ISO."""
    eta: str = ""
    """When the work order is expected to finish (live ETA), for people; "" without an estimate."""
    at_risk: bool = False
    """The ETA is after the delivery date."""


@dataclass
class WorkOrderPage:
    """One keyset page of work orders."""

    rows: list[WorkOrderRow]
    next_cursor: str | None
    filters: dict[str, Any] = field(default_factory=dict)


def parse_work_order_input(raw: dict[str, Any]) -> WorkOrderInput:
    """Validate the work-order form as sent by a client.

    Args:
        raw: The form fields; ``route`` is a list of dicts with ``process_id`` and
            optional ``department_id``, ``batch_size``, ``setup_minutes`` and ``units_per_hour``
            (the last two override the process's rate; empty keeps it).

    Returns:
        The validated input.

    Raises:
        ValidationError: On the first invalid field, or when the work order would make more
            than ``WD_MAX_TASKS_PER_ORDER`` tasks.
    """
    if not isinstance(raw, dict):
        raise ValidationError("error.form_malformed")
    quantity = as_int(raw.get("quantity"), "quantity", "field.quantity", minimum=1, maximum=MAX_QUANTITY)
    route_raw = raw.get("route")
    if not isinstance(route_raw, list | tuple) or not route_raw:
        raise ValidationError("error.route_needs_one", "route")
    if len(route_raw) > MAX_ROUTE_STEPS:
        raise ValidationError("error.route_too_long", "route", maximum=MAX_ROUTE_STEPS)
    route: list[RouteStepInput] = []
    for index, step in enumerate(route_raw):
        if not isinstance(step, dict):
            raise ValidationError("error.route_malformed", "route")
        try:
            setup, rate = parse_rate(step.get("setup_minutes"), step.get("units_per_hour"), optional=True)
        except ValidationError as error:
            raise ValidationError(
                "skills.error.step_rate", "route", step=(index + 1) * 10, detail=error.detail
            ) from error
        batch_size = as_int(
            step.get("batch_size"),
            "route",
            "field.batch_size",
            minimum=1,
            maximum=MAX_QUANTITY,
            optional=True,
        )
        transfer_batch = as_int(
            step.get("transfer_batch"),
            "route",
            "field.transfer_batch",
            minimum=1,
            maximum=MAX_QUANTITY,
            optional=True,
        )
        if transfer_batch is not None and transfer_batch > quantity:
            raise ValidationError(
                "handover.error.batch_over_quantity",
                "route",
                step=(index + 1) * 10,
                batch=transfer_batch,
                quantity=quantity,
            )
        route.append(
            RouteStepInput(
                process_id=as_int(step.get("process_id"), "route", "field.process", minimum=1),
                department_id=as_int(
                    step.get("department_id"), "route", "field.department", minimum=1, optional=True
                ),
                batch_size=batch_size,
                setup_minutes=setup,
                units_per_hour=rate,
                transfer_batch=transfer_batch,
            )
        )
    planned_task_count(
        quantity,
        [RouteStep(0, step.process_id, seq, batch_size=step.batch_size) for seq, step in enumerate(route)],
        max_tasks=settings.max_tasks_per_order,
    )
    return WorkOrderInput(
        customer_id=as_int(raw.get("customer_id"), "customer_id", "field.customer", minimum=1),
        product_id=as_int(raw.get("product_id"), "product_id", "field.product", minimum=1),
        quantity=quantity,
        unit=as_text(raw.get("unit") or "pcs", "unit", "field.unit", max_length=16, required=True),
        priority=as_choice(raw.get("priority") or Priority.NORMAL, Priority, "priority", "field.priority"),
        delivery_date=as_date(raw.get("delivery_date"), "delivery_date", "field.delivery_date"),
        notes=as_text(raw.get("notes"), "notes", "field.notes", max_length=TEXT_LENGTH),
        route=tuple(route),
    )


def _status_word(status: str) -> Message:
    """A work order status as a word inside a sentence ("a completed work order")."""
    return msg(f"work_order_status_word.{status}")


def _check_references(db: Session, data: WorkOrderInput) -> None:
    if db.get(Customer, data.customer_id) is None:
        raise NotFoundError("error.customer_unknown", "customer_id")
    product = db.get(Product, data.product_id)
    if product is None or not product.is_active:
        raise NotFoundError("error.product_unknown", "product_id")
    process_ids = {step.process_id for step in data.route}
    known = set(db.exec(select(Process.id).where(Process.id.in_(process_ids), Process.is_active)).all())
    if known != process_ids:
        raise NotFoundError("error.route_unknown_process", "route")
    department_ids = {s.department_id for s in data.route if s.department_id is not None}
    if department_ids:
        known_departments = set(
            db.exec(
                select(Department.id).where(Department.id.in_(department_ids), Department.is_active)
            ).all()
        )
        if known_departments != department_ids:
            raise NotFoundError("error.route_unknown_department", "route")


def next_order_number(db: Session, today: date) -> str:
    """Allocate the next ``YYYYMMNNN`` order number atomically.

    The counter row is bumped with ``UPDATE ... RETURNING``, which serializes
    concurrent allocations on the row lock, so two supervisors saving at the same
    moment get different numbers.

    Args:
        db: Open session (the caller commits).
        today: The date whose month prefixes the number.

    Returns:
        The order number.
    """
    period = today.strftime("%Y%m")
    bump = (
        update(OrderNumberCounter)
        .where(OrderNumberCounter.period == period)
        .values(last_value=OrderNumberCounter.last_value + 1)
        .returning(OrderNumberCounter.last_value)
    )
    value = db.execute(bump).scalar()
    if value is None:
        try:
            with db.begin_nested():
                db.execute(insert(OrderNumberCounter).values(period=period, last_value=1))
            value = 1
        except IntegrityError:
            value = db.execute(bump).scalar()
    return f"{period}{value:03d}"


def create_work_order(db: Session, actor: Actor | None, raw: dict[str, Any]) -> WorkOrder:
    """Create a work order in draft status with its route.

    Args:
        db: Open session; committed here.
        actor: The acting user (supervisor or admin).
        raw: The form fields (see :func:`parse_work_order_input`).

    Returns:
        The created work order.

    Raises:
        PermissionDeniedError: If the actor may not create work orders.
        ValidationError: On invalid input; nothing is written.
    """
    actor = require_supervisor(actor)
    data = parse_work_order_input(raw)
    _check_references(db, data)
    now = utc_now()
    work_order = WorkOrder(
        order_number=next_order_number(db, now.date()),
        customer_id=data.customer_id,
        product_id=data.product_id,
        quantity=data.quantity,
        unit=data.unit,
        priority=data.priority,
        delivery_date=data.delivery_date,
        notes=data.notes,
        status=WorkOrderStatus.DRAFT,
        created_by_id=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    db.add(work_order)
    db.flush()
    _write_route(db, work_order.id, data.route)
    db.commit()
    return work_order


def _write_route(db: Session, work_order_id: int, route: tuple[RouteStepInput, ...]) -> None:
    db.execute(
        insert(WorkOrderProcess),
        [
            {
                "work_order_id": work_order_id,
                "process_id": step.process_id,
                "sequence": (index + 1) * 10,
                "department_id": step.department_id,
                "batch_size": step.batch_size,
                "setup_minutes": step.setup_minutes,
                "units_per_hour": step.units_per_hour,
                "transfer_batch": step.transfer_batch,
                "status": ProcessStatus.PENDING,
                "quantity_completed": 0,
                "quantity_defective": 0,
            }
            for index, step in enumerate(route)
        ],
    )


def _load_for_change(db: Session, work_order_id: Any) -> WorkOrder:
    work_order_id = as_int(work_order_id, "work_order_id", "field.work_order", minimum=1)
    work_order = db.get(WorkOrder, work_order_id)
    if work_order is None:
        raise NotFoundError("error.work_order_unknown")
    return work_order


def update_work_order(
    db: Session, actor: Actor | None, work_order_id: Any, raw: dict[str, Any]
) -> generation.GenerationReport | None:
    """Edit a work order; an approved one has its drafts regenerated.

    The route can change only while no task of the work order is published; a step's rate
    overrides can always change, and replan the work order's draft tasks (published tasks
    keep the plan they were published with).

    Args:
        db: Open session; committed here.
        actor: The acting user (supervisor or admin).
        work_order_id: The work order to edit.
        raw: The form fields.

    Returns:
        The regeneration report when drafts were regenerated, else None.

    Raises:
        ValidationError: On invalid input or a closed work order; nothing is written.
    """
    actor = require_supervisor(actor)
    work_order = _load_for_change(db, work_order_id)
    if work_order.status in (WorkOrderStatus.COMPLETED, WorkOrderStatus.CANCELLED):
        raise ValidationError("error.work_order_not_editable", status=_status_word(work_order.status))
    data = parse_work_order_input(raw)
    _check_references(db, data)
    current_route = db.exec(
        select(WorkOrderProcess)
        .where(WorkOrderProcess.work_order_id == work_order.id)
        .order_by(WorkOrderProcess.sequence)
    ).all()
    current = tuple((p.process_id, p.department_id, p.batch_size) for p in current_route)
    if current == tuple(step.shape for step in data.route):
        for row, step in zip(current_route, data.route, strict=True):
            row.setup_minutes, row.units_per_hour = step.setup_minutes, step.units_per_hour
            row.transfer_batch = step.transfer_batch
            db.add(row)
    else:
        published = db.exec(
            select(func.count())
            .select_from(Task)
            .where(Task.work_order_id == work_order.id, Task.is_draft.is_(False))
        ).one()
        if published:
            raise ValidationError("error.route_locked", "route")
        db.execute(delete(Task).where(Task.work_order_id == work_order.id))
        db.execute(delete(WorkOrderProcess).where(WorkOrderProcess.work_order_id == work_order.id))
        _write_route(db, work_order.id, data.route)
    work_order.customer_id = data.customer_id
    work_order.product_id = data.product_id
    work_order.quantity = data.quantity
    work_order.unit = data.unit
    work_order.priority = data.priority
    work_order.delivery_date = data.delivery_date
    work_order.notes = data.notes
    work_order.updated_at = utc_now()
    work_order.version += 1
    db.add(work_order)
    db.flush()
    report = None
    if work_order.status != WorkOrderStatus.DRAFT:
        report = generation.generate_drafts(db, actor, [work_order.id])[work_order.id]
    refresh_planned_minutes(db, work_order_ids=[work_order.id], drafts_only=True)
    db.commit()
    return report


def approve_work_order(db: Session, actor: Actor | None, work_order_id: Any) -> generation.GenerationReport:
    """Approve a work order and generate its draft tasks (idempotent).

    Args:
        db: Open session; committed here.
        actor: The acting user (supervisor or admin).
        work_order_id: The work order to approve.

    Returns:
        What generation did.

    Raises:
        ValidationError: If the work order is cancelled or completed.
    """
    actor = require_supervisor(actor)
    work_order = _load_for_change(db, work_order_id)
    if work_order.status in (WorkOrderStatus.CANCELLED, WorkOrderStatus.COMPLETED):
        raise ValidationError("error.work_order_not_approvable", status=_status_word(work_order.status))
    if work_order.status == WorkOrderStatus.DRAFT:
        changed = db.execute(
            update(WorkOrder)
            .where(WorkOrder.id == work_order.id, WorkOrder.status == WorkOrderStatus.DRAFT)
            .values(status=WorkOrderStatus.APPROVED, updated_at=utc_now(), version=WorkOrder.version + 1)
        ).rowcount
        if not changed:
            db.rollback()
            work_order = _load_for_change(db, work_order.id)
            if work_order.status == WorkOrderStatus.CANCELLED:
                raise ConflictError("error.work_order_cancelled_meanwhile")
    report = generation.generate_drafts(db, actor, [work_order.id])[work_order.id]
    db.commit()
    return report


def cancel_work_order(db: Session, actor: Actor | None, work_order_id: Any, reason: Any = "") -> int:
    """Cancel a work order: drafts are deleted, open published tasks cancelled.

    Args:
        db: Open session; committed here.
        actor: The acting user (supervisor or admin).
        work_order_id: The work order to cancel.
        reason: Why, kept in the task events.

    Returns:
        How many published tasks were cancelled.

    Raises:
        ValidationError: If the work order is completed or already cancelled.
    """
    actor = require_supervisor(actor)
    reason = as_text(reason, "reason", "field.reason", max_length=500)
    work_order = _load_for_change(db, work_order_id)
    if work_order.status in (WorkOrderStatus.CANCELLED, WorkOrderStatus.COMPLETED):
        raise ValidationError("error.work_order_already", status=_status_word(work_order.status))
    now = utc_now()
    draft_ids = sorted(
        db.execute(
            update(Task)
            .where(
                Task.work_order_id == work_order.id,
                Task.is_draft.is_(True),
                may(TaskAction.DISCARD, Task.status),
            )
            .values(status=target_of(TaskAction.DISCARD), updated_at=now, version=Task.version + 1)
            .returning(Task.id)
        )
        .scalars()
        .all()
    )
    record_events(db, actor.user_id, TaskEventKind.DELETED, draft_ids, {"reason": "work order cancelled"})
    open_tasks = sorted(
        db.execute(
            update(Task)
            .where(Task.work_order_id == work_order.id, may(TaskAction.CANCEL, Task.status))
            .values(status=target_of(TaskAction.CANCEL), updated_at=now, version=Task.version + 1)
            .returning(Task.id, Task.assigned_operator_id, Task.assigned_department_id)
        ).all()
    )
    task_ids = [row[0] for row in open_tasks]
    record_events(
        db, actor.user_id, TaskEventKind.CANCELLED, task_ids, {"reason": reason, "by": "work_order"}
    )
    send_notices(
        db,
        (
            Notice(
                operator_id,
                NotificationKind.TASK_CANCELLED,
                msg("notification.task_cancelled.title", task_id=task_id),
                (
                    msg(
                        "notification.work_order_cancelled_reason.body",
                        order_number=work_order.order_number,
                        reason=literal(reason),
                    )
                    if reason
                    else msg("notification.work_order_cancelled.body", order_number=work_order.order_number)
                ),
                task_id=task_id,
                work_order_id=work_order.id,
            )
            for task_id, operator_id, _ in open_tasks
            if operator_id is not None
        ),
        now,
    )
    db.execute(
        update(WorkOrderProcess)
        .where(
            WorkOrderProcess.work_order_id == work_order.id,
            WorkOrderProcess.status != ProcessStatus.COMPLETED,
        )
        .values(status=ProcessStatus.CANCELLED)
    )
    work_order.status = WorkOrderStatus.CANCELLED
    work_order.updated_at = now
    work_order.version += 1
    db.add(work_order)
    db.commit()
    publish(
        BusEvent(
            kind="tasks_changed",
            task_ids=tuple(task_ids),
            operator_ids=tuple({r[1] for r in open_tasks if r[1]}),
            department_ids=tuple({r[2] for r in open_tasks if r[2]}),
            work_order_ids=(work_order.id,),
        )
    )
    return len(task_ids)


def default_route(db: Session, product_id: Any) -> list[dict[str, Any]]:
    """A product's default route, for pre-filling the form.

    Args:
        db: Open session.
        product_id: The product.

    Returns:
        Route steps as dicts with ``process_id``, ``department_id``, ``batch_size`` and
        ``transfer_batch`` (the route's; when empty, the process's applies at run time).
    """
    product_id = as_int(product_id, "product_id", "field.product", minimum=1)
    steps = db.exec(
        select(ProductRouteStep.process_id, ProductRouteStep.transfer_batch)
        .where(ProductRouteStep.product_id == product_id)
        .order_by(ProductRouteStep.sequence)
    ).all()
    return [
        {"process_id": pid, "department_id": None, "batch_size": None, "transfer_batch": batch}
        for pid, batch in steps
    ]


def _encode_cursor(value: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"id": value}).encode()).decode()


def _decode_cursor(cursor: Any) -> int | None:
    if cursor in (None, ""):
        return None
    try:
        if not isinstance(cursor, str) or len(cursor) > 64:
            raise ValueError
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))["id"]
        if not isinstance(value, int) or value < 1:
            raise ValueError
        return value
    except (ValueError, KeyError, TypeError) as error:
        raise ValidationError("error.page_link_invalid", "cursor") from error


FILTER_NAMES = ("status", "customer_id", "priority", "delivery_from", "delivery_to", "search", "at_risk")
"""The work-order list's filters (the list, and its export, take the same)."""


@dataclass(frozen=True)
class WorkOrderFilters:
    """The work-order list's filters, validated."""

    status: str = ""
    customer_id: int | None = None
    priority: str = ""
    delivery_from: date | None = None
    delivery_to: date | None = None
    search: str = ""
    at_risk: bool = False

    def to_json(self) -> dict[str, Any]:
        """Plain data (dates as ISO text), e.g. to sign into an export ticket."""
        return {
            "status": self.status,
            "customer_id": self.customer_id,
            "priority": self.priority,
            "delivery_from": self.delivery_from.isoformat() if self.delivery_from else "",
            "delivery_to": self.delivery_to.isoformat() if self.delivery_to else "",
            "search": self.search,
            "at_risk": self.at_risk,
        }


def parse_filters(
    *,
    status: Any = "",
    customer_id: Any = None,
    priority: Any = "",
    delivery_from: Any = None,
    delivery_to: Any = None,
    search: Any = "",
    at_risk: Any = False,
) -> WorkOrderFilters:
    """Validate the work-order list's filters as a client sent them.

    Raises:
        ValidationError: On an unknown status or priority, a bad date or customer, a search that
            is not digits, or an at-risk flag that is not a boolean.
    """
    text = as_text(search, "search", "field.search", max_length=16)
    if text and not text.isdigit():
        raise ValidationError("error.search_digits", "search")
    return WorkOrderFilters(
        status=as_choice(status, WorkOrderStatus, "status", "field.status") if status else "",
        customer_id=as_int(customer_id, "customer_id", "field.customer", minimum=1, optional=True),
        priority=as_choice(priority, Priority, "priority", "field.priority") if priority else "",
        delivery_from=as_date(delivery_from, "delivery_from", "field.delivery_from"),
        delivery_to=as_date(delivery_to, "delivery_to", "field.delivery_to"),
        search=text,
        at_risk=as_flag(at_risk, "at_risk", "field.at_risk") if at_risk not in (None, "") else False,
    )


def filter_conditions(filters: WorkOrderFilters) -> list:
    """SQL conditions selecting the work orders the filters describe."""
    conditions = []
    if filters.status:
        conditions.append(WorkOrder.status == filters.status)
    if filters.priority:
        conditions.append(WorkOrder.priority == filters.priority)
    if filters.customer_id:
        conditions.append(WorkOrder.customer_id == filters.customer_id)
    if filters.delivery_from:
        conditions.append(WorkOrder.delivery_date >= filters.delivery_from)
    if filters.delivery_to:
        conditions.append(WorkOrder.delivery_date <= filters.delivery_to)
    if filters.search:
        conditions.append(WorkOrder.order_number.like(f"%{filters.search}%"))
    if filters.at_risk:
        conditions.append(WorkOrder.eta_at_risk.is_(True))
    return conditions


def list_work_orders(
    db: Session,
    actor: Actor | None,
    *,
    status: Any = "",
    customer_id: Any = None,
    priority: Any = "",
    delivery_from: Any = None,
    delivery_to: Any = None,
    search: Any = "",
    at_risk: Any = False,
    cursor: Any = None,
    page_size: Any = 50,
) -> WorkOrderPage:
    """One page of work orders, newest first, by keyset on id.

    Args:
        db: Open session (read only).
        actor: The acting user (supervisor or admin).
        status: Filter by status ('' for all).
        customer_id: Filter by customer.
        priority: Filter by priority ('' for all).
        delivery_from: Earliest delivery date.
        delivery_to: Latest delivery date.
        search: Prefix or part of the order number.
        at_risk: Only work orders whose ETA is after their delivery date.
        cursor: Opaque cursor from the previous page.
        page_size: Rows per page, clamped to 1..100.

    Returns:
        The page (names, labels, dates and numbers in ``actor.locale``) and the next cursor.
    """
    actor = require_supervisor(actor)
    size = min(
        max(as_int(page_size, "page_size", "field.page_size", minimum=1, maximum=10_000) or 50, 1),
        PAGE_SIZE_MAX,
    )
    conditions = filter_conditions(
        parse_filters(
            status=status,
            customer_id=customer_id,
            priority=priority,
            delivery_from=delivery_from,
            delivery_to=delivery_to,
            search=search,
            at_risk=at_risk,
        )
    )
    after = _decode_cursor(cursor)
    if after:
        conditions.append(WorkOrder.id < after)
    statement = (
        select(WorkOrder, Customer.name, Product.name, Product.names)
        .join(Customer, Customer.id == WorkOrder.customer_id)
        .join(Product, Product.id == WorkOrder.product_id)
        .where(and_(*conditions) if conditions else True)
        .order_by(WorkOrder.id.desc())
        .limit(size + 1)
    )
    results = db.exec(statement).all()
    page = results[:size]
    ids = [wo.id for wo, *_ in page]
    counts: dict[int, tuple[int, int]] = {}
    if ids:
        for wo_id, total, drafts in db.exec(
            select(
                Task.work_order_id,
                func.count(),
                func.sum(case((Task.is_draft.is_(True), 1), else_=0)),
            )
            .where(Task.work_order_id.in_(ids))
            .group_by(Task.work_order_id)
        ).all():
            counts[wo_id] = (total, int(drafts or 0))
    rows = [
        WorkOrderRow(
            id=wo.id,
            order_number=wo.order_number,
            customer=customer_name,
            product=localized_name(product_name, product_names, actor.locale),
            quantity=wo.quantity,
            unit=wo.unit,
            priority=wo.priority,
            delivery_date=wo.delivery_date.isoformat() if wo.delivery_date else "",
            status=wo.status,
            task_count=counts.get(wo.id, (0, 0))[0],
            draft_count=counts.get(wo.id, (0, 0))[1],
            status_label=translate(f"enum.work_order_status.{wo.status}", actor.locale),
            priority_label=translate(f"enum.priority.{wo.priority}", actor.locale),
            quantity_text=format_number(wo.quantity, actor.locale),
            delivery_day=format_day(wo.delivery_date, actor.locale),
            eta=format_datetime(wo.eta_at, actor.locale, settings.timezone, short=True),
            at_risk=wo.eta_at_risk,
        )
        for wo, customer_name, product_name, product_names in page
    ]
    next_cursor = _encode_cursor(page[-1][0].id) if len(results) > size else None
    return WorkOrderPage(rows=rows, next_cursor=next_cursor)


def at_risk_filter(db: Session, actor: Actor | None, value: Any) -> bool:
    """Validate the list's "at risk only" switch as a client sent it (supervisors only).

    Args:
        db: Open session (unused: nothing is read).
        actor: The acting supervisor.
        value: What the client sent; only a real boolean is accepted.

    Returns:
        The flag.

    Raises:
        PermissionDeniedError: If not a supervisor or admin.
        ValidationError: If it is not a boolean.
    """
    require_supervisor(actor)
    return as_flag(value, "at_risk", "field.at_risk")


LIVE_QUERY_KEYS = ("filters", "at_risk", "cursor", "page_size")
"""What a list session's page is (see :func:`live_pages`)."""


def _live_key(locale: str, query: dict[str, Any]) -> str:
    return json.dumps([locale, *(query.get(key) for key in LIVE_QUERY_KEYS)], sort_keys=True, default=str)


def live_pages(db: Session, readers: list[tuple[Actor, dict[str, Any]]]) -> list[WorkOrderPage | None]:
    """The page each open work-order list shows, read again for a live push.

    Every reader is authorized as itself; readers with the same locale and query share one read.

    Args:
        db: Open session (read only).
        readers: (re-validated actor, the page's query: ``filters``, ``at_risk``, ``cursor``,
            ``page_size``) per session.

    Returns:
        Per reader, in order: its page, or None when it was refused (that session keeps what it shows).
    """
    read: dict[str, WorkOrderPage | None] = {}
    pages: list[WorkOrderPage | None] = []
    for actor, query in readers:
        try:
            require_supervisor(actor)
        except DomainError:
            pages.append(None)
            continue
        query = query if isinstance(query, dict) else {}
        key = _live_key(actor.locale, query)
        if key not in read:
            filters = query.get("filters") if isinstance(query.get("filters"), dict) else {}
            try:
                read[key] = list_work_orders(
                    db,
                    actor,
                    **{name: filters[name] for name in FILTER_NAMES if name in filters and name != "at_risk"},
                    at_risk=query.get("at_risk") is True,
                    cursor=query.get("cursor") or None,
                    page_size=query.get("page_size") or 25,
                )
            except DomainError:
                read[key] = None
        pages.append(read[key])
    return pages


@dataclass
class WorkOrderForm:
    """A work order as the edit form shows it."""

    id: int
    order_number: str
    status: str
    fields: dict[str, str]
    route: list[dict[str, str]]
    draft_count: int
    published_count: int


def product_route(db: Session, actor: Actor | None, product_id: Any) -> list[dict[str, Any]]:
    """A product's default route for the form (supervisors only).

    Args:
        db: Open session (read only).
        actor: The acting supervisor.
        product_id: The product.

    Returns:
        Route steps as in :func:`default_route`.
    """
    require_supervisor(actor)
    return default_route(db, product_id)


def get_form(db: Session, actor: Actor | None, work_order_id: Any) -> WorkOrderForm:
    """Load a work order into the shape of the edit form.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.
        work_order_id: The work order.

    Returns:
        The form content.

    Raises:
        NotFoundError: For an unknown id.
    """
    require_supervisor(actor)
    work_order = _load_for_change(db, work_order_id)
    route = db.exec(
        select(WorkOrderProcess)
        .where(WorkOrderProcess.work_order_id == work_order.id)
        .order_by(WorkOrderProcess.sequence)
    ).all()
    open_draft = and_(Task.is_draft.is_(True), Task.status == TaskStatus.DRAFT)
    drafts, published = db.exec(
        select(
            func.coalesce(func.sum(case((open_draft, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Task.is_draft.is_(False), 1), else_=0)), 0),
        ).where(Task.work_order_id == work_order.id)
    ).one()
    return WorkOrderForm(
        id=work_order.id,
        order_number=work_order.order_number,
        status=work_order.status,
        fields={
            "customer_id": str(work_order.customer_id),
            "product_id": str(work_order.product_id),
            "quantity": str(work_order.quantity),
            "unit": work_order.unit,
            "priority": work_order.priority,
            "delivery_date": work_order.delivery_date.isoformat() if work_order.delivery_date else "",
            "notes": work_order.notes,
        },
        route=[
            {
                "process_id": str(step.process_id),
                "department_id": str(step.department_id or ""),
                "batch_size": str(step.batch_size or ""),
                "setup_minutes": "" if step.setup_minutes is None else str(step.setup_minutes),
                "units_per_hour": "" if step.units_per_hour is None else str(step.units_per_hour),
                "transfer_batch": "" if step.transfer_batch is None else str(step.transfer_batch),
            }
            for step in route
        ],
        draft_count=int(drafts),
        published_count=int(published),
    )
