"""Catalog: customers, processes and their defect reasons, products and routes, departments.

Supervisors (and admins) keep customers, processes, the scrap and rework reasons of each
process, and products: customers page by name with a search, processes are a short list.
Departments shape dispatch and membership, so only admins change them. Nothing is deleted:
work orders, tasks and reports keep pointing at what they used; a process, department or
reason that is no longer used is deactivated and leaves the pickers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from work_dispatch.domain.enums import CLOSED_TASK_STATUSES, OPEN_TASK_STATUSES
from work_dispatch.domain.errors import NotFoundError, ValidationError
from work_dispatch.i18n import localized_name
from work_dispatch.models import (
    CODE_LENGTH,
    NAME_LENGTH,
    Customer,
    DefectReason,
    Department,
    Process,
    Product,
    ProductRouteStep,
    Task,
    UserDepartment,
    WorkOrder,
)
from work_dispatch.services.actor import Actor, require_admin, require_supervisor
from work_dispatch.services.skills import parse_rate
from work_dispatch.services.sql import contains_text
from work_dispatch.services.validation import as_flag, as_form, as_int, as_text
from work_dispatch.services.work_orders import MAX_ROUTE_STEPS
from work_dispatch.services.workload import refresh_planned_minutes

CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9_-]{1,31}")
CODE_RULE = "error.code_pattern"
NAME_FIELDS: dict[str, str] = {"en": "name_en", "zh-CN": "name_zh"}
"""Form field of a department's, process's or product's name in each locale (optional)."""
_NAME_LABELS = {"en": "field.name_in_en", "zh-CN": "field.name_in_zh"}
STANDARD_MINUTES_MAX = 10_000
PAGE_SIZE_MAX = 100
SCRAP = "scrap"
REWORK = "rework"
DEFECT_KINDS: tuple[str, ...] = (SCRAP, REWORK)
"""Kinds of defect reason: why units were scrapped, or sent to rework."""
MAX_REASONS_PER_PROCESS = 200
"""Most defect reasons a process keeps (both kinds); a list longer than that helps nobody."""
SORT_ORDER_MAX = 999


@dataclass
class CustomerRow:
    """A customer as the catalog lists it."""

    id: int
    name: str
    contact: str
    work_orders: int


@dataclass
class CustomerPage:
    """One page of customers by name; ``next_after`` is "" on the last page."""

    rows: list[CustomerRow]
    next_after: str


@dataclass
class DepartmentRow:
    """A department as the catalog lists it."""

    id: int
    code: str
    name: str
    sort_order: int
    is_active: bool
    members: int
    open_tasks: int
    name_en: str = ""
    name_zh: str = ""
    display_name: str = ""


@dataclass
class ProcessRow:
    """A process as the catalog lists it."""

    id: int
    code: str
    name: str
    standard_minutes: int
    is_active: bool
    name_en: str = ""
    name_zh: str = ""
    display_name: str = ""
    setup_minutes: int = 0
    units_per_hour: int = 1
    transfer_batch: int | None = None


def _name_fields(names: Any) -> dict[str, str]:
    """A row's ``name_en``/``name_zh`` for the edit form."""
    names = names if isinstance(names, dict) else {}
    return {field: names.get(locale, "") or "" for locale, field in NAME_FIELDS.items()}


def _parse_names(raw: dict, current: Any) -> dict[str, str]:
    """The names per locale after a save: a field sent replaces (blank removes), one left out stays."""
    names = dict(current) if isinstance(current, dict) else {}
    for locale, field in NAME_FIELDS.items():
        if field in raw:
            text = as_text(raw.get(field), field, _NAME_LABELS[locale], max_length=NAME_LENGTH)
            if text:
                names[locale] = text
            else:
                names.pop(locale, None)
    return names


def _new_code(
    db: Session, model: type[Process | Department | Product], raw: dict, taken: ValidationError
) -> str:
    code = as_text(raw.get("code"), "code", "field.code", max_length=CODE_LENGTH, required=True).upper()
    if not CODE_PATTERN.fullmatch(code):
        raise ValidationError(CODE_RULE, "code")
    if db.exec(select(model.id).where(model.code == code)).first():
        raise taken
    return code


def _existing(db: Session, model: type, row_id: int, what: str):
    row = db.get(model, row_id)
    if row is None:
        raise NotFoundError(f"error.{what}_not_found")
    return row


def _commit(db: Session, row: Any, taken: ValidationError) -> int:
    """Write ``row``; a unique key taken meanwhile by someone else becomes ``taken``."""
    db.add(row)
    try:
        db.commit()
    except IntegrityError as error:
        db.rollback()
        raise taken from error
    return row.id


def list_customers(
    db: Session, actor: Actor | None, search: Any = "", after_name: Any = "", page_size: Any = 25
) -> CustomerPage:
    """A page of customers in name order, optionally matching a search.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.
        search: Text matched against name and contact.
        after_name: Name of the last customer of the previous page ("" for the first page).
        page_size: Rows per page, clamped to 1..100.

    Returns:
        The rows and where the next page starts.
    """
    require_supervisor(actor)
    search = as_text(search, "search", "field.search", max_length=60)
    after_name = as_text(after_name, "after_name", "field.page", max_length=NAME_LENGTH)
    page_size = min(max(as_int(page_size, "page_size", "field.page_size", minimum=1) or 25, 1), PAGE_SIZE_MAX)
    statement = select(Customer).where(Customer.name > after_name)
    if search:
        statement = statement.where(contains_text(search, Customer.name, Customer.contact))
    customers = db.exec(statement.order_by(Customer.name).limit(page_size + 1)).all()
    more = len(customers) > page_size
    customers = customers[:page_size]
    ids = [c.id for c in customers]
    orders = (
        dict(
            db.exec(
                select(WorkOrder.customer_id, func.count())
                .where(WorkOrder.customer_id.in_(ids))
                .group_by(WorkOrder.customer_id)
            ).all()
        )
        if ids
        else {}
    )
    rows = [CustomerRow(c.id, c.name, c.contact, orders.get(c.id, 0)) for c in customers]
    return CustomerPage(rows=rows, next_after=customers[-1].name if more else "")


def save_customer(db: Session, actor: Actor | None, raw: Any, customer_id: Any = None) -> int:
    """Create a customer, or rename one / change its contact.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        raw: Form fields: name, contact.
        customer_id: The customer to change; None to create one.

    Returns:
        The customer's id.

    Raises:
        ValidationError: On invalid input or a name another customer has; nothing is written.
    """
    require_supervisor(actor)
    raw = as_form(raw)
    name = as_text(raw.get("name"), "name", "field.name", max_length=NAME_LENGTH, required=True)
    contact = as_text(raw.get("contact"), "contact", "field.contact", max_length=NAME_LENGTH)
    customer_id = as_int(customer_id, "customer_id", "field.customer", minimum=1, optional=True)
    taken = ValidationError("error.customer_name_taken", "name")
    clash = db.exec(
        select(Customer.id).where(
            func.lower(Customer.name) == name.lower(), Customer.id != (customer_id or 0)
        )
    ).first()
    if clash:
        raise taken
    if customer_id is None:
        customer = Customer(name=name, contact=contact)
    else:
        customer = _existing(db, Customer, customer_id, "customer")
        customer.name, customer.contact = name, contact
    return _commit(db, customer, taken)


def list_processes(db: Session, actor: Actor | None) -> list[ProcessRow]:
    """Every process (a shop has a few dozen), active ones first, by name.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.

    Returns:
        The rows.
    """
    actor = require_supervisor(actor)
    processes = db.exec(select(Process).order_by(Process.is_active.desc(), Process.name).limit(500)).all()
    return [
        ProcessRow(
            p.id,
            p.code,
            p.name,
            p.standard_minutes,
            p.is_active,
            **_name_fields(p.names),
            display_name=localized_name(p.name, p.names, actor.locale),
            setup_minutes=p.setup_minutes,
            units_per_hour=p.units_per_hour,
            transfer_batch=p.transfer_batch,
        )
        for p in processes
    ]


def process_rates(db: Session, actor: Actor | None) -> tuple[dict[str, str], dict[str, str]]:
    """Every active process's default rate, for forms that override it (a work-order route).

    Args:
        db: Open session (read only).
        actor: The acting supervisor.

    Returns:
        Process id → setup minutes, and process id → units per hour (ids and values as text).
    """
    require_supervisor(actor)
    rows = db.exec(
        select(Process.id, Process.setup_minutes, Process.units_per_hour)
        .where(Process.is_active)
        .order_by(Process.id)
        .limit(500)
    ).all()
    setup = {str(process_id): str(minutes) for process_id, minutes, _ in rows}
    rate = {str(process_id): str(units) for process_id, _, units in rows}
    return setup, rate


MAX_TRANSFER_BATCH = 100_000_000
"""The largest transfer batch a process may default to (a step is checked against its order's quantity)."""


def save_process(db: Session, actor: Actor | None, raw: Any, process_id: Any = None) -> int:
    """Create a process, or change one (name, standard minutes, rate, active).

    A changed rate (setup minutes, units per hour) replans the planned minutes of the
    process's draft tasks (those without a route-step override); published tasks keep the
    plan they were published with.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        raw: Form fields: code (when creating), name, standard_minutes, is_active, and
            optionally name_en / name_zh (the name in each locale; blank removes it) and
            setup_minutes / units_per_hour (left out: unchanged, or the defaults for a new one),
            transfer_batch (empty: the next process waits for the whole quantity).
        process_id: The process to change; None to create one.

    Returns:
        The process's id.

    Raises:
        ValidationError: On invalid input or a code in use; nothing is written.
    """
    require_supervisor(actor)
    raw = as_form(raw)
    name = as_text(raw.get("name"), "name", "field.name", max_length=NAME_LENGTH, required=True)
    minutes = as_int(
        raw.get("standard_minutes"),
        "standard_minutes",
        "field.standard_minutes",
        minimum=1,
        maximum=STANDARD_MINUTES_MAX,
    )
    is_active = as_flag(raw.get("is_active", True), "is_active", "field.active")
    process_id = as_int(process_id, "process_id", "field.process", minimum=1, optional=True)
    current = _existing(db, Process, process_id, "process") if process_id is not None else Process()
    setup, rate = parse_rate(
        raw.get("setup_minutes", current.setup_minutes), raw.get("units_per_hour", current.units_per_hour)
    )
    transfer_batch = as_int(
        raw.get("transfer_batch", current.transfer_batch),
        "transfer_batch",
        "field.transfer_batch",
        minimum=1,
        maximum=MAX_TRANSFER_BATCH,
        optional=True,
    )
    taken = ValidationError("error.process_code_taken", "code")
    if process_id is None:
        names = _parse_names(raw, {})
        code = _new_code(db, Process, raw, taken)
        process = Process(
            code=code,
            name=name,
            names=names,
            standard_minutes=minutes,
            is_active=is_active,
            setup_minutes=setup,
            units_per_hour=rate,
            transfer_batch=transfer_batch,
        )
    else:
        process = current
        process.transfer_batch = transfer_batch
        if process.is_active and not is_active:
            # Open work of a retired process would sit where no rule or picker offers it again.
            busy = db.exec(
                select(func.count())
                .select_from(Task)
                .where(Task.process_id == process.id, Task.status.not_in(CLOSED_TASK_STATUSES))
            ).one()
            if busy:
                raise ValidationError("error.process_busy", "is_active", count=busy)
        process.names = _parse_names(raw, process.names)
        process.name, process.standard_minutes, process.is_active = name, minutes, is_active
        replan = (setup, rate) != (process.setup_minutes, process.units_per_hour)
        process.setup_minutes, process.units_per_hour = setup, rate
        if replan:
            db.add(process)
            db.flush()
            refresh_planned_minutes(db, process_ids=[process.id], drafts_only=True)
    return _commit(db, process, taken)


def list_departments(db: Session, actor: Actor | None) -> list[DepartmentRow]:
    """Every department in board order, with its members and open tasks.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.

    Returns:
        The rows.
    """
    actor = require_supervisor(actor)
    departments = db.exec(select(Department).order_by(Department.sort_order, Department.id).limit(200)).all()
    members = dict(
        db.exec(
            select(UserDepartment.department_id, func.count()).group_by(UserDepartment.department_id)
        ).all()
    )
    open_tasks = dict(
        db.exec(
            select(Task.assigned_department_id, func.count())
            .where(Task.status.in_(OPEN_TASK_STATUSES), Task.is_draft.is_(False))
            .group_by(Task.assigned_department_id)
        ).all()
    )
    return [
        DepartmentRow(
            d.id,
            d.code,
            d.name,
            d.sort_order,
            d.is_active,
            members.get(d.id, 0),
            open_tasks.get(d.id, 0),
            **_name_fields(d.names),
            display_name=localized_name(d.name, d.names, actor.locale),
        )
        for d in departments
    ]


def save_department(db: Session, actor: Actor | None, raw: Any, department_id: Any = None) -> int:
    """Create a department, or change one (name, board order, active).

    A department with open tasks cannot be deactivated: its pool and its operators'
    tasks would be stranded.

    Args:
        db: Open session; committed here.
        actor: The acting admin.
        raw: Form fields: code (when creating), name, sort_order, is_active, and optionally
            name_en / name_zh (the name in each locale; blank removes it).
        department_id: The department to change; None to create one.

    Returns:
        The department's id.

    Raises:
        ValidationError: On invalid input, a code in use, or deactivating a busy department.
    """
    require_admin(actor)
    raw = as_form(raw)
    name = as_text(raw.get("name"), "name", "field.name", max_length=NAME_LENGTH, required=True)
    sort_order = as_int(raw.get("sort_order"), "sort_order", "field.board_order", minimum=0, maximum=999)
    is_active = as_flag(raw.get("is_active", True), "is_active", "field.active")
    department_id = as_int(department_id, "department_id", "field.department", minimum=1, optional=True)
    taken = ValidationError("error.department_code_taken", "code")
    if department_id is None:
        names = _parse_names(raw, {})
        code = _new_code(db, Department, raw, taken)
        department = Department(code=code, name=name, names=names, sort_order=sort_order, is_active=is_active)
    else:
        department = _existing(db, Department, department_id, "department")
        names = _parse_names(raw, department.names)
        if department.is_active and not is_active:
            busy = db.exec(
                select(func.count())
                .select_from(Task)
                .where(
                    Task.assigned_department_id == department.id,
                    Task.status.in_(OPEN_TASK_STATUSES),
                    Task.is_draft.is_(False),
                )
            ).one()
            if busy:
                raise ValidationError("error.department_busy", "is_active", count=busy)
        department.name, department.sort_order, department.is_active = name, sort_order, is_active
        department.names = names
    return _commit(db, department, taken)


@dataclass
class ProductRow:
    """A product as the catalog lists it, with its default route."""

    id: int
    code: str
    name: str
    unit: str
    is_active: bool
    route_process_ids: list[int]
    route: list[str]
    route_transfer_batches: list[str]
    """Each route step's transfer batch as text ("" for none), in route order."""
    name_en: str = ""
    name_zh: str = ""
    display_name: str = ""


def list_products(db: Session, actor: Actor | None) -> list[ProductRow]:
    """Every product (a shop has a few dozen), active ones first, by name, with its route.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.

    Returns:
        The rows.
    """
    actor = require_supervisor(actor)
    products = db.exec(select(Product).order_by(Product.is_active.desc(), Product.name).limit(500)).all()
    steps: dict[int, list[tuple[int, str, int | None]]] = {}
    for product_id, process_id, name, names, batch in db.exec(
        select(
            ProductRouteStep.product_id,
            Process.id,
            Process.name,
            Process.names,
            ProductRouteStep.transfer_batch,
        )
        .join(Process, Process.id == ProductRouteStep.process_id)
        .where(ProductRouteStep.product_id.in_([p.id for p in products]))
        .order_by(ProductRouteStep.product_id, ProductRouteStep.sequence)
    ).all():
        steps.setdefault(product_id, []).append(
            (process_id, localized_name(name, names, actor.locale), batch)
        )
    return [
        ProductRow(
            p.id,
            p.code,
            p.name,
            p.unit,
            p.is_active,
            [process_id for process_id, _, _ in steps.get(p.id, [])],
            [name for _, name, _ in steps.get(p.id, [])],
            route_transfer_batches=[
                "" if batch is None else str(batch) for _, _, batch in steps.get(p.id, [])
            ],
            **_name_fields(p.names),
            display_name=localized_name(p.name, p.names, actor.locale),
        )
        for p in products
    ]


def save_product(db: Session, actor: Actor | None, raw: Any, product_id: Any = None) -> int:
    """Create a product, or change one: name, unit, active and its default route.

    The route is the ordered list of process ids new work orders of the product start
    from; work orders already made keep their own routes.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        raw: Form fields: code (when creating), name, unit, is_active, route (process ids),
            route_transfer_batches (optional, per step: a number or empty), and
            optionally name_en / name_zh (the name in each locale; blank removes it).
        product_id: The product to change; None to create one.

    Returns:
        The product's id.

    Raises:
        ValidationError: On invalid input, a code in use, or an empty or unknown route.
    """
    require_supervisor(actor)
    raw = as_form(raw)
    name = as_text(raw.get("name"), "name", "field.name", max_length=NAME_LENGTH, required=True)
    unit = as_text(raw.get("unit"), "unit", "field.unit", max_length=16, required=True)
    is_active = as_flag(raw.get("is_active", True), "is_active", "field.active")
    route = raw.get("route")
    if not isinstance(route, list) or not route:
        raise ValidationError("error.route_needs_process", "route")
    if len(route) > MAX_ROUTE_STEPS:
        raise ValidationError("error.route_too_long", "route", maximum=MAX_ROUTE_STEPS)
    process_ids = [as_int(step, "route", "field.process", minimum=1) for step in route]
    raw_batches = raw.get("route_transfer_batches") or []
    if not isinstance(raw_batches, list) or len(raw_batches) > len(process_ids):
        raise ValidationError("error.route_malformed", "route")
    batches = [
        as_int(value, "route", "field.transfer_batch", minimum=1, maximum=MAX_TRANSFER_BATCH, optional=True)
        for value in raw_batches
    ]
    batches += [None] * (len(process_ids) - len(batches))
    active = set(db.exec(select(Process.id).where(Process.id.in_(process_ids), Process.is_active)).all())
    if set(process_ids) - active:
        raise ValidationError("error.route_processes_from_list", "route")
    product_id = as_int(product_id, "product_id", "field.product", minimum=1, optional=True)
    taken = ValidationError("error.product_code_taken", "code")
    if product_id is None:
        names = _parse_names(raw, {})
        product = Product(
            code=_new_code(db, Product, raw, taken), name=name, names=names, unit=unit, is_active=is_active
        )
        db.add(product)
        try:
            db.flush()
        except IntegrityError as error:
            db.rollback()
            raise taken from error
    else:
        product = _existing(db, Product, product_id, "product")
        product.names = _parse_names(raw, product.names)
        product.name, product.unit, product.is_active = name, unit, is_active
        db.execute(delete(ProductRouteStep).where(ProductRouteStep.product_id == product.id))
    db.add_all(
        ProductRouteStep(
            product_id=product.id, sequence=10 * (index + 1), process_id=process_id, transfer_batch=batch
        )
        for index, (process_id, batch) in enumerate(zip(process_ids, batches, strict=True))
    )
    return _commit(db, product, taken)


@dataclass
class DefectReasonRow:
    """A scrap or rework reason of a process, as the catalog lists it."""

    id: int
    process_id: int
    kind: str
    code: str
    name: str
    sort_order: int
    is_active: bool
    name_en: str = ""
    name_zh: str = ""
    display_name: str = ""


def list_defect_reasons(db: Session, actor: Actor | None, process_id: Any) -> list[DefectReasonRow]:
    """A process's scrap and rework reasons: scrap first, each kind in its order, active and not.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.
        process_id: The process.

    Returns:
        The rows (at most :data:`MAX_REASONS_PER_PROCESS`).
    """
    actor = require_supervisor(actor)
    process_id = as_int(process_id, "process_id", "field.process", minimum=1)
    _existing(db, Process, process_id, "process")
    reasons = db.exec(
        select(DefectReason)
        .where(DefectReason.process_id == process_id)
        .order_by(DefectReason.kind.desc(), DefectReason.sort_order, DefectReason.id)
        .limit(MAX_REASONS_PER_PROCESS)
    ).all()
    return [
        DefectReasonRow(
            r.id,
            r.process_id,
            r.kind,
            r.code,
            r.name,
            r.sort_order,
            r.is_active,
            **_name_fields(r.names),
            display_name=localized_name(r.name, r.names, actor.locale),
        )
        for r in reasons
    ]


def save_defect_reason(db: Session, actor: Actor | None, raw: Any, reason_id: Any = None) -> int:
    """Add a scrap or rework reason to a process, or rename, reorder, (de)activate one.

    A reason is never deleted: report events keep its id and code. Its process, kind and
    code are fixed once it exists; a reason no longer wanted is deactivated and leaves the
    report dialog.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        raw: Form fields: process_id, kind (``scrap`` | ``rework``) and code (when adding),
            name, sort_order, is_active, and optionally name_en / name_zh (the name in each
            locale; blank removes it).
        reason_id: The reason to change; None to add one.

    Returns:
        The reason's id.

    Raises:
        ValidationError: On invalid input, a code the process already has for that kind,
            or a process at :data:`MAX_REASONS_PER_PROCESS`; nothing is written.
    """
    require_supervisor(actor)
    raw = as_form(raw)
    name = as_text(raw.get("name"), "name", "field.name", max_length=NAME_LENGTH, required=True)
    is_active = as_flag(raw.get("is_active", True), "is_active", "field.active")
    reason_id = as_int(reason_id, "reason_id", "quality.field.reason", minimum=1, optional=True)
    taken = ValidationError("quality.error.reason_code_taken", "code")
    if reason_id is not None:
        reason = db.get(DefectReason, reason_id)
        if reason is None:
            raise NotFoundError("quality.error.reason_not_found")
        sort_order = _sort_order(raw.get("sort_order", reason.sort_order))
        reason.names = _parse_names(raw, reason.names)
        reason.name, reason.sort_order, reason.is_active = name, sort_order, is_active
        return _commit(db, reason, taken)
    process_id = as_int(raw.get("process_id"), "process_id", "field.process", minimum=1)
    _existing(db, Process, process_id, "process")
    kind = raw.get("kind")
    if kind not in DEFECT_KINDS:
        raise ValidationError("quality.error.kind_unknown", "kind")
    code = as_text(raw.get("code"), "code", "field.code", max_length=CODE_LENGTH, required=True).upper()
    if not CODE_PATTERN.fullmatch(code):
        raise ValidationError(CODE_RULE, "code")
    names = _parse_names(raw, {})
    siblings = db.exec(
        select(DefectReason.code, DefectReason.kind, DefectReason.sort_order).where(
            DefectReason.process_id == process_id
        )
    ).all()
    if any(other_code == code and other_kind == kind for other_code, other_kind, _ in siblings):
        raise taken
    if len(siblings) >= MAX_REASONS_PER_PROCESS:
        raise ValidationError("quality.error.too_many_reasons", "code", maximum=MAX_REASONS_PER_PROCESS)
    last = max((order for _, other_kind, order in siblings if other_kind == kind), default=0)
    given = raw.get("sort_order")
    sort_order = _sort_order(given) if given not in (None, "") else min(last + 10, SORT_ORDER_MAX)
    reason = DefectReason(
        process_id=process_id,
        kind=kind,
        code=code,
        name=name,
        names=names,
        is_active=is_active,
        sort_order=sort_order,
    )
    return _commit(db, reason, taken)


def _sort_order(value: Any) -> int:
    return as_int(value, "sort_order", "quality.field.sort_order", minimum=0, maximum=SORT_ORDER_MAX)


def defect_reason_names(db: Session, process_ids: Any, locale: str) -> dict[tuple[int, str, str], str]:
    """Names of defect reasons in a locale, to show the codes report events keep.

    Args:
        db: Open session (read only).
        process_ids: The processes whose reasons are wanted.
        locale: The reader's locale.

    Returns:
        (process id, kind, code) → name, inactive reasons included.
    """
    ids = sorted({int(process_id) for process_id in process_ids})
    if not ids:
        return {}
    rows = db.exec(
        select(
            DefectReason.process_id,
            DefectReason.kind,
            DefectReason.code,
            DefectReason.name,
            DefectReason.names,
        ).where(DefectReason.process_id.in_(ids))
    ).all()
    return {(p, kind, code): localized_name(name, names, locale) for p, kind, code, name, names in rows}
