"""Small reference lists for form pickers (departments, processes, customers, ...)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, select

from work_dispatch.domain.enums import Role
from work_dispatch.i18n import localized_name
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
    actor = require_supervisor(actor)
    operators = db.exec(
        select(User).where(User.is_active, User.role == Role.OPERATOR).order_by(User.display_name)
    ).all()
    memberships: dict[str, list[str]] = {}
    for user_id, department_id in db.exec(select(UserDepartment.user_id, UserDepartment.department_id)).all():
        memberships.setdefault(str(user_id), []).append(str(department_id))
    return ReferenceLists(
        customers=[Option(str(c.id), c.name) for c in db.exec(select(Customer).order_by(Customer.name))],
        products=_sorted(
            Option(str(p.id), f"{localized_name(p.name, p.names, actor.locale)} ({p.code})")
            for p in db.exec(select(Product).where(Product.is_active))
        ),
        processes=_sorted(
            Option(str(p.id), localized_name(p.name, p.names, actor.locale))
            for p in db.exec(select(Process).where(Process.is_active))
        ),
        departments=_department_options(db, actor.locale),
        operators=[Option(str(u.id), u.display_name) for u in operators],
        operator_departments=memberships,
    )


def _sorted(options: Iterable[Option]) -> list[Option]:
    """Options by their label as the reader sees it."""
    return sorted(options, key=lambda option: (option.label.casefold(), option.value))


def _department_options(db: Session, locale: str) -> list[Option]:
    return [
        Option(str(d.id), localized_name(d.name, d.names, locale))
        for d in db.exec(
            select(Department).where(Department.is_active).order_by(Department.sort_order, Department.id)
        )
    ]


def department_options(db: Session, actor: Actor | None) -> list[Option]:
    """Active departments in board order, for pickers.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.

    Returns:
        The options.
    """
    actor = require_supervisor(actor)
    return _department_options(db, actor.locale)
