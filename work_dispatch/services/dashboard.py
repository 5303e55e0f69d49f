"""Figures for the supervisor dashboard."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlmodel import Session, func, select

from work_dispatch.domain.enums import TaskStatus, WorkOrderStatus
from work_dispatch.i18n import DEFAULT_LOCALE, enum_label, localized_name
from work_dispatch.models import Department, Task, WorkOrder
from work_dispatch.services import auth
from work_dispatch.services.actor import Actor, require_supervisor


@dataclass
class StatusCount:
    """How many records are in one status."""

    status: str
    label: str
    count: int


@dataclass
class DashboardSummary:
    """Counts by status for work orders and tasks, and open tasks per department."""

    work_orders: list[StatusCount]
    tasks: list[StatusCount]
    departments: list[StatusCount]


def summary(db: Session, actor: Actor | None) -> DashboardSummary:
    """Count work orders and tasks by status (two grouped queries).

    Args:
        db: Open session (read only).
        actor: The acting user (supervisor or admin).

    Returns:
        The summary, every status present (zero when none), labelled in ``actor.locale``.
    """
    actor = require_supervisor(actor)
    order_counts = dict(db.exec(select(WorkOrder.status, func.count()).group_by(WorkOrder.status)).all())
    task_counts = dict(db.exec(select(Task.status, func.count()).group_by(Task.status)).all())
    department_counts = dict(
        db.exec(
            select(Task.assigned_department_id, func.count())
            .where(
                Task.status.in_(
                    [TaskStatus.QUEUED, TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS, TaskStatus.PAUSED]
                )
            )
            .group_by(Task.assigned_department_id)
        ).all()
    )
    departments = db.exec(
        select(Department).where(Department.is_active).order_by(Department.sort_order)
    ).all()
    return DashboardSummary(
        work_orders=[
            StatusCount(s.value, enum_label(s, actor.locale), order_counts.get(s.value, 0))
            for s in WorkOrderStatus
        ],
        tasks=[
            StatusCount(s.value, enum_label(s, actor.locale), task_counts.get(s.value, 0)) for s in TaskStatus
        ],
        departments=[
            StatusCount(d.code, localized_name(d.name, d.names, actor.locale), department_counts.get(d.id, 0))
            for d in departments
        ],
    )


def live_summary(
    db: Session, user_ids: list[int], locales: Iterable[str] = (DEFAULT_LOCALE,)
) -> tuple[dict[int, Actor], dict[str, DashboardSummary]]:
    """The summary for the open dashboards of these users, read once per locale they read in.

    Args:
        db: Open session (read only).
        user_ids: Owners of the dashboard sessions.
        locales: The locales of those sessions.

    Returns:
        The still-active owners, and locale → summary (empty when none of them is a supervisor).
    """
    actors = auth.active_actors(db, user_ids)
    supervisor = next((a for a in actors.values() if a.is_supervisor), None)
    if supervisor is None:
        return actors, {}
    return actors, {
        locale: summary(db, replace(supervisor, locale=locale)) for locale in dict.fromkeys(locales)
    }
