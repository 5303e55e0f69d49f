"""Small reference lists for form pickers (departments, processes, customers, ...)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from work_dispatch.domain.enums import Role
from work_dispatch.models import Customer, Department, Process, Product, User, UserDepartment
from work_dispatch.services.actor import Actor, require_supervisor


@dataclass
class Option:
    """A picker entry: the id as a string and a label."""

    value: str
    label: str


@dataclass
class ReferenceLists:
    """Everything the supervisor forms pick from (a few dozen rows each)."""

    customers: list[Option]
    products: list[Option]
    processes: list[Option]
    departments: list[Option]
    operators: list[Option]
    operator_departments: dict[str, list[str]]


def lists(db: Session, actor: Actor | None) -> ReferenceLists:
    """Active customers, products, processes, departments and operators.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.

    Returns:
        The lists, each sorted for display.
    """
    require_supervisor(actor)
    operators = db.exec(
        select(User).where(User.is_active, User.role == Role.OPERATOR).order_by(User.display_name)
    ).all()
    memberships: dict[str, list[str]] = {}
    for user_id, department_id in db.exec(select(UserDepartment.user_id, UserDepartment.department_id)).all():
        memberships.setdefault(str(user_id), []).append(str(department_id))
    return ReferenceLists(
        customers=[Option(str(c.id), c.name) for c in db.exec(select(Customer).order_by(Customer.name))],
        products=[
            Option(str(p.id), f"{p.name} ({p.code})")
            for p in db.exec(select(Product).where(Product.is_active).order_by(Product.name))
        ],
        processes=[
            Option(str(p.id), p.name)
            for p in db.exec(select(Process).where(Process.is_active).order_by(Process.name))
        ],
        departments=_department_options(db),
        operators=[Option(str(u.id), u.display_name) for u in operators],
        operator_departments=memberships,
    )


def _department_options(db: Session) -> list[Option]:
    return [
        Option(str(d.id), d.name)
        for d in db.exec(select(Department).where(Department.is_active).order_by(Department.sort_order))
    ]


def department_options(db: Session, actor: Actor | None) -> list[Option]:
    """Active departments in board order, for pickers.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.

    Returns:
        The options.
    """
    require_supervisor(actor)
    return _department_options(db)
