"""Catalog: customers work orders are for, processes routes are made of, departments.

Supervisors (and admins) keep customers and processes: customers page by name with a
search, processes are a short list. Departments shape dispatch and membership, so only
admins change them. Nothing is deleted: work orders and tasks keep pointing at what they
used; a process or department that is no longer used is deactivated and leaves the pickers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from work_dispatch.domain.enums import OPEN_TASK_STATUSES
from work_dispatch.domain.errors import NotFoundError, ValidationError
from work_dispatch.models import (
    CODE_LENGTH,
    NAME_LENGTH,
    Customer,
    Department,
    Process,
    Task,
    UserDepartment,
    WorkOrder,
)
from work_dispatch.services.actor import Actor, require_admin, require_supervisor
from work_dispatch.services.validation import as_flag, as_form, as_int, as_text

CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9_-]{1,31}")
CODE_RULE = "A code has 2 to 32 letters, digits, dashes or underscores."
STANDARD_MINUTES_MAX = 10_000
PAGE_SIZE_MAX = 100


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


@dataclass
class ProcessRow:
    """A process as the catalog lists it."""

    id: int
    code: str
    name: str
    standard_minutes: int
    is_active: bool


def _like(search: str) -> str:
    return "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _new_code(db: Session, model: type[Process] | type[Department], raw: dict, taken: ValidationError) -> str:
    code = as_text(raw.get("code"), "code", "Code", max_length=CODE_LENGTH, required=True).upper()
    if not CODE_PATTERN.fullmatch(code):
        raise ValidationError(CODE_RULE, "code")
    if db.exec(select(model.id).where(model.code == code)).first():
        raise taken
    return code


def _existing(db: Session, model: type, row_id: int, what: str):
    row = db.get(model, row_id)
    if row is None:
        raise NotFoundError(f"That {what} does not exist.")
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
    search = as_text(search, "search", "Search", max_length=60)
    after_name = as_text(after_name, "after_name", "Page", max_length=NAME_LENGTH)
    page_size = min(max(as_int(page_size, "page_size", "Page size", minimum=1) or 25, 1), PAGE_SIZE_MAX)
    statement = select(Customer).where(Customer.name > after_name)
    if search:
        pattern = _like(search)
        statement = statement.where(
            func.lower(Customer.name).like(pattern, escape="\\")
            | func.lower(Customer.contact).like(pattern, escape="\\")
        )
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
    name = as_text(raw.get("name"), "name", "Name", max_length=NAME_LENGTH, required=True)
    contact = as_text(raw.get("contact"), "contact", "Contact", max_length=NAME_LENGTH)
    customer_id = as_int(customer_id, "customer_id", "Customer", minimum=1, optional=True)
    taken = ValidationError("Another customer already has this name.", "name")
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
    require_supervisor(actor)
    processes = db.exec(select(Process).order_by(Process.is_active.desc(), Process.name).limit(500)).all()
    return [ProcessRow(p.id, p.code, p.name, p.standard_minutes, p.is_active) for p in processes]


def save_process(db: Session, actor: Actor | None, raw: Any, process_id: Any = None) -> int:
    """Create a process, or change one (name, standard minutes, active).

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        raw: Form fields: code (when creating), name, standard_minutes, is_active.
        process_id: The process to change; None to create one.

    Returns:
        The process's id.

    Raises:
        ValidationError: On invalid input or a code in use; nothing is written.
    """
    require_supervisor(actor)
    raw = as_form(raw)
    name = as_text(raw.get("name"), "name", "Name", max_length=NAME_LENGTH, required=True)
    minutes = as_int(
        raw.get("standard_minutes"),
        "standard_minutes",
        "Standard minutes",
        minimum=1,
        maximum=STANDARD_MINUTES_MAX,
    )
    is_active = as_flag(raw.get("is_active", True), "is_active", "Active")
    process_id = as_int(process_id, "process_id", "Process", minimum=1, optional=True)
    taken = ValidationError("Another process already has this code.", "code")
    if process_id is None:
        code = _new_code(db, Process, raw, taken)
        process = Process(code=code, name=name, standard_minutes=minutes, is_active=is_active)
    else:
        process = _existing(db, Process, process_id, "process")
        process.name, process.standard_minutes, process.is_active = name, minutes, is_active
    return _commit(db, process, taken)


def list_departments(db: Session, actor: Actor | None) -> list[DepartmentRow]:
    """Every department in board order, with its members and open tasks.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.

    Returns:
        The rows.
    """
    require_supervisor(actor)
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
            d.id, d.code, d.name, d.sort_order, d.is_active, members.get(d.id, 0), open_tasks.get(d.id, 0)
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
        raw: Form fields: code (when creating), name, sort_order, is_active.
        department_id: The department to change; None to create one.

    Returns:
        The department's id.

    Raises:
        ValidationError: On invalid input, a code in use, or deactivating a busy department.
    """
    require_admin(actor)
    raw = as_form(raw)
    name = as_text(raw.get("name"), "name", "Name", max_length=NAME_LENGTH, required=True)
    sort_order = as_int(raw.get("sort_order"), "sort_order", "Board order", minimum=0, maximum=999)
    is_active = as_flag(raw.get("is_active", True), "is_active", "Active")
    department_id = as_int(department_id, "department_id", "Department", minimum=1, optional=True)
    taken = ValidationError("Another department already has this code.", "code")
    if department_id is None:
        code = _new_code(db, Department, raw, taken)
        department = Department(code=code, name=name, sort_order=sort_order, is_active=is_active)
    else:
        department = _existing(db, Department, department_id, "department")
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
                raise ValidationError(
                    f"{busy} open tasks are still in this department; finish or move them first.", "is_active"
                )
        department.name, department.sort_order, department.is_active = name, sort_order, is_active
    return _commit(db, department, taken)
