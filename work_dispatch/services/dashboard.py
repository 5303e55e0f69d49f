"""Figures for the supervisor dashboard: counters by status, and the KPI charts (``services.kpi``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlmodel import Session, func, select

from work_dispatch.domain.enums import TaskStatus, WorkOrderStatus
from work_dispatch.domain.errors import DomainError, PermissionDeniedError
from work_dispatch.i18n import DEFAULT_LOCALE, enum_label, localized_name
from work_dispatch.models import Department, Task, WorkOrder, utc_now
from work_dispatch.services import auth, kpi
from work_dispatch.services.actor import Actor, require_supervisor
from work_dispatch.services.kpi import KpiBoard

logger = logging.getLogger(__name__)


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


def kpi_key(locale: str, filters: Any) -> str:
    """What a dashboard's charts depend on besides the data: its locale and its filters.

    Args:
        locale: The reader's locale.
        filters: The session's filters (form values), or None for the default range.

    Returns:
        A key; sessions with equal keys are shown the very same charts.
    """
    return json.dumps([locale, filters], sort_keys=True, default=str)


def live_kpis(
    db: Session, readers: Iterable[tuple[Actor, Any]], clock: Callable[[], datetime] = utc_now
) -> dict[str, KpiBoard]:
    """The charts of the open dashboards, read once per locale and filters.

    Each set is read as one of the readers that show it (re-validated as a supervisor); a
    reader who is refused (no longer a supervisor, or filters that stopped being valid, such as
    a department deleted since) gets nothing from this refresh, and the others are unaffected.

    Args:
        db: Open session (read only).
        readers: (re-validated actor reading in the session's locale, the session's filters
            or None for the default range) per dashboard session.
        clock: The current time.

    Returns:
        :func:`kpi_key` → the charts.
    """
    boards: dict[str, KpiBoard] = {}
    refused: set[str] = set()
    for actor, filters in readers:
        key = kpi_key(actor.locale, filters)
        if key in boards or key in refused:
            continue
        try:
            boards[key] = kpi.board(db, actor, filters, clock)
        except PermissionDeniedError as error:  # this reader only: another may read the same charts
            logger.warning("Dashboard charts not read as user %s: %s", actor.user_id, error)
        except DomainError as error:  # the filters themselves: nobody showing them gets charts
            refused.add(key)
            logger.warning("Dashboard charts not read as user %s: %s", actor.user_id, error)
    return boards
