"""Bulk generation of draft tasks from work orders.

All work orders of a call are planned in memory, then written with one statement per
kind of change. New drafts are built by ``task_rows.TASK_ROWS`` and streamed by
``COPY`` with ids drawn up front on PostgreSQL (falling back to ``INSERT ... SELECT ...
ON CONFLICT DO NOTHING`` when a concurrent generation took a key first), or sent as one
``INSERT ... ON CONFLICT DO NOTHING`` on SQLite. Changed drafts get one executemany
``UPDATE``; drafts no longer planned are cancelled (deleted drafts stay as cancelled
rows, so their history remains). Each kind of change writes its events in bulk.
Published tasks are never touched; they are reported instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from itertools import chain
from operator import attrgetter
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlalchemy.dialects import sqlite
from sqlmodel import Session, select

from work_dispatch.domain.enums import PRIORITY_RANK, TaskEventKind, TaskStatus
from work_dispatch.domain.errors import NotFoundError, ValidationError
from work_dispatch.domain.generation import PlannedTask, RouteStep, plan_work_order, planned_task_count
from work_dispatch.domain.scheduling import Rate, planned_minutes
from work_dispatch.domain.task_machine import TaskAction, target_of
from work_dispatch.i18n import DEFAULT_LOCALE, msg, translate
from work_dispatch.models import Process, Task, WorkOrder, WorkOrderProcess, utc_now
from work_dispatch.services import task_rows
from work_dispatch.services.actor import Actor, require_supervisor
from work_dispatch.services.audit import EVENT_COLUMNS, record_events
from work_dispatch.services.sql import (
    copy_insert_returning,
    copy_unless_duplicate,
    id_in,
    is_postgres,
    next_ids,
)
from work_dispatch.services.task_rules import may
from work_dispatch.services.validation import as_id_list
from work_dispatch.services.workload import refresh_planned_minutes
from work_dispatch.settings import settings

BULK_MAX_WORK_ORDERS = 20_000


@dataclass
class GenerationReport:
    """What generation did to one work order's drafts."""

    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    unchanged: int = 0
    published_untouched: list[int] = field(default_factory=list)

    def summary(self, locale: str = DEFAULT_LOCALE) -> str:
        """One line for a toast, in ``locale``."""
        counts = {
            "created": len(self.created),
            "updated": len(self.updated),
            "removed": len(self.deleted),
            "unchanged": self.unchanged,
        }
        text = translate("generation.summary", locale, **counts)
        if self.published_untouched:
            text += translate(
                "generation.summary.published_untouched", locale, count=len(self.published_untouched)
            )
        return text


def _due_at(delivery: date | None) -> datetime | None:
    return datetime.combine(delivery, time(17, 0), tzinfo=UTC) if delivery else None


def _matches_plan(row: Any, plan: PlannedTask) -> bool:
    return (row.production_quantity, row.priority, row.due_at) == (
        plan.production_quantity,
        plan.priority,
        plan.due_at,
    )


class _PlanSorter:
    """Sorts planned tasks against the existing ones while they stream past.

    ``new_plans`` yields the plans that have no task yet and, as a side effect, fills in
    the reports (unchanged, published left alone, updated) and the rows of drafts to
    update; once it is exhausted, ``planned_keys`` holds every planned key.
    """

    def __init__(self, existing_by_key: dict[str, Any], reports: dict[int, GenerationReport], now: datetime):
        self.existing_by_key = existing_by_key
        self.reports = reports
        self.now = now
        self.planned_keys: set[str] = set()
        self.changed_rows: list[dict[str, Any]] = []

    def new_plans(self, plans: Iterable[PlannedTask]) -> Iterator[PlannedTask]:
        """Yield the plans without a task; note what to do with the others."""
        for plan in plans:
            self.planned_keys.add(plan.generation_key)
            row = self.existing_by_key.get(plan.generation_key)
            report = self.reports[plan.work_order_id]
            if row is None:
                yield plan
            elif not row.is_draft:
                if row.production_quantity != plan.production_quantity:
                    report.published_untouched.append(row.id)
                else:
                    report.unchanged += 1
            elif row.status == TaskStatus.CANCELLED or _matches_plan(row, plan):
                report.unchanged += 1
            else:
                self.changed_rows.append(
                    {
                        "task_id": row.id,
                        "production_quantity": plan.production_quantity,
                        "priority": plan.priority,
                        "priority_rank": PRIORITY_RANK[plan.priority],
                        "due_at": plan.due_at,
                        "updated_at": self.now,
                    }
                )
                report.updated.append(row.id)


def generate_drafts(db: Session, actor: Actor, work_order_ids: list[int]) -> dict[int, GenerationReport]:
    """Make the drafts of the given work orders match their plans (no commit).

    Args:
        db: Open session; the caller commits.
        actor: The acting supervisor (already authorized by the caller).
        work_order_ids: Work orders to generate for.

    Returns:
        A report per work order id.

    Raises:
        ValidationError: If a work order has an empty route or would make more than
            ``WD_MAX_TASKS_PER_ORDER`` tasks; nothing is written then.
    """
    reports = {wo_id: GenerationReport() for wo_id in work_order_ids}
    if not work_order_ids:
        return reports
    orders = {
        row.id: row
        for row in db.connection()
        .execute(
            select(
                WorkOrder.id,
                WorkOrder.order_number,
                WorkOrder.quantity,
                WorkOrder.priority,
                WorkOrder.delivery_date,
            ).where(id_in(db, WorkOrder.id, work_order_ids))
        )
        .all()
    }
    routes: dict[int, list[RouteStep]] = defaultdict(list)
    rates: dict[int, Rate] = {}
    for wop_id, wo_id, process_id, sequence, department_id, batch_size, setup, per_hour in (
        db.connection()
        .execute(
            select(
                WorkOrderProcess.id,
                WorkOrderProcess.work_order_id,
                WorkOrderProcess.process_id,
                WorkOrderProcess.sequence,
                WorkOrderProcess.department_id,
                WorkOrderProcess.batch_size,
                func.coalesce(WorkOrderProcess.setup_minutes, Process.setup_minutes),
                func.coalesce(WorkOrderProcess.units_per_hour, Process.units_per_hour),
            )
            .join(Process, Process.id == WorkOrderProcess.process_id)
            .where(id_in(db, WorkOrderProcess.work_order_id, work_order_ids))
        )
        .all()
    ):
        routes[wo_id].append(RouteStep(wop_id, process_id, sequence, department_id, batch_size))
        rates[wop_id] = Rate(float(setup), float(per_hour))
    capacity = 0
    for wo_id in work_order_ids:
        order = orders.get(wo_id)
        if order is None:
            raise NotFoundError("error.work_order_id_unknown", work_order_id=wo_id)
        try:
            capacity += planned_task_count(
                order.quantity, routes.get(wo_id, []), max_tasks=settings.max_tasks_per_order
            )
        except ValidationError as error:
            raise ValidationError(
                "error.in_work_order", error.field, order_number=order.order_number, error=error.detail
            ) from error

    existing = (
        db.connection()
        .execute(
            select(
                Task.id,
                Task.work_order_id,
                Task.generation_key,
                Task.is_draft,
                Task.status,
                Task.production_quantity,
                Task.priority,
                Task.due_at,
            ).where(id_in(db, Task.work_order_id, work_order_ids))
        )
        .all()
    )
    now = utc_now()
    sorter = _PlanSorter({row.generation_key: row for row in existing}, reports, now)
    plans = (
        plan
        for wo_id in work_order_ids
        for plan in plan_work_order(
            wo_id,
            orders[wo_id].quantity,
            orders[wo_id].priority,
            _due_at(orders[wo_id].delivery_date),
            routes[wo_id],
            actor.locale,
        )
    )
    for task_id, wo_id in _insert_drafts(db, sorter.new_plans(plans), capacity, actor.user_id, now, rates):
        reports[wo_id].created.append(task_id)

    stale = [row for row in existing if row.generation_key not in sorter.planned_keys]
    stale_drafts = [row.id for row in stale if row.is_draft and row.status != TaskStatus.CANCELLED]
    for row in stale:
        if row.is_draft and row.status != TaskStatus.CANCELLED:
            reports[row.work_order_id].deleted.append(row.id)
        elif not row.is_draft:
            reports[row.work_order_id].published_untouched.append(row.id)
    changed_rows = sorter.changed_rows
    if changed_rows:
        db.connection().execute(
            update(Task.__table__)
            .where(Task.__table__.c.id == bindparam("task_id"))
            .values(
                production_quantity=bindparam("production_quantity"),
                priority=bindparam("priority"),
                priority_rank=bindparam("priority_rank"),
                due_at=bindparam("due_at"),
                updated_at=bindparam("updated_at"),
                version=Task.__table__.c.version + 1,
            ),
            changed_rows,
        )
        refresh_planned_minutes(db, task_ids=[r["task_id"] for r in changed_rows])
        record_events(
            db,
            actor.user_id,
            TaskEventKind.REGENERATED,
            [r["task_id"] for r in changed_rows],
            per_task_data={
                r["task_id"]: {"production_quantity": r["production_quantity"]} for r in changed_rows
            },
        )
    if stale_drafts:
        stale_drafts = (
            db.execute(
                update(Task)
                .where(Task.id.in_(stale_drafts), Task.is_draft.is_(True), may(TaskAction.DISCARD))
                .values(status=target_of(TaskAction.DISCARD), updated_at=now, version=Task.version + 1)
                .returning(Task.id)
            )
            .scalars()
            .all()
        )
        record_events(
            db, actor.user_id, TaskEventKind.DELETED, stale_drafts, {"reason": "no longer in the plan"}
        )
    return reports


_FROM_PLAN = {
    "work_order_process_id": "work_order_process_id",
    "work_order_id": "work_order_id",
    "process_id": "process_id",
    "sequence": "sequence",
    "generation_key": "generation_key",
    "assigned_department_id": "department_id",
    "priority": "priority",
    "due_at": "due_at",
    "production_quantity": "production_quantity",
    "work_content": "work_content",
}
"""Task column → the ``PlannedTask`` field a new draft takes it from (and ``priority_rank``
from ``priority``); every other column keeps its default."""
_plan_fields = attrgetter(*_FROM_PLAN.values())
_PLAN_COLUMNS = (*_FROM_PLAN, "priority_rank", "planned_minutes", "setup_minutes")


def _plan_values(plan: PlannedTask, rates: dict[int, Rate]) -> tuple:
    """A new draft's values taken from its plan and its step's rate, in ``_PLAN_COLUMNS`` order."""
    rate = rates[plan.work_order_process_id]
    return (
        *_plan_fields(plan),
        PRIORITY_RANK[plan.priority],
        planned_minutes(rate, plan.production_quantity),
        rate.setup_minutes,
    )


def _insert_drafts(
    db: Session,
    plans: Iterator[PlannedTask],
    capacity: int,
    actor_id: int,
    now: datetime,
    rates: dict[int, Rate],
) -> list[tuple[int, int]]:
    """Insert new drafts and their ``generated`` events; returns (task id, work order id) pairs.

    Rows come from ``task_rows.TASK_ROWS``: the plan's values first, then every other
    task column at its default (``RowLayout``), so a new column needs no change here.
    ``plans`` is consumed exactly once, as the rows are sent, and holds at most
    ``capacity`` plans. PostgreSQL: ``capacity`` ids are drawn from the sequence first,
    then tasks and events are streamed straight into their tables by ``COPY``, so the
    server maintains the indexes while later work orders are still being planned. If a
    concurrent generation inserted one of the keys first, the loads are undone and the
    rows go through a ``COPY`` into a temporary table and an ``INSERT ... SELECT ... ON
    CONFLICT DO NOTHING``, which skips the taken keys. SQLite: one multi-row ``INSERT ...
    ON CONFLICT DO NOTHING``.
    """
    first = next(plans, None)
    if first is None:
        return []
    plans = chain([first], plans)
    builder = task_rows.TASK_ROWS
    drafts = builder.batch(is_draft=True, status=TaskStatus.DRAFT.value, created_at=now, updated_at=now)
    without_ids = drafts.layout(_PLAN_COLUMNS)
    if not is_postgres(db):
        statement = (
            sqlite.insert(builder.table)
            .on_conflict_do_nothing(index_elements=["generation_key"])
            .returning(builder.table.c.id, builder.table.c.work_order_id)
        )
        rows = [
            dict(zip(without_ids.columns, (*_plan_values(plan, rates), *without_ids.rest), strict=True))
            for plan in plans
        ]
        inserted = [(r[0], r[1]) for r in db.connection().execute(statement, rows).all()]
        record_events(db, actor_id, TaskEventKind.GENERATED, [task_id for task_id, _ in inserted])
        return inserted

    task_ids = next_ids(db, builder.table.name, capacity)
    with_ids = drafts.layout(("id", *_PLAN_COLUMNS))
    sent: list[PlannedTask] = []

    def task_rows_with_ids() -> Iterator[tuple]:
        for task_id, plan in zip(task_ids, plans, strict=False):
            sent.append(plan)
            yield (task_id, *_plan_values(plan, rates), *with_ids.rest)

    def event_rows() -> Iterator[tuple]:
        for task_id in task_ids[: len(sent)]:
            yield (task_id, actor_id, TaskEventKind.GENERATED.value, "{}", now)

    written = copy_unless_duplicate(
        db,
        [
            (builder.table.name, with_ids.columns, task_rows_with_ids()),
            ("task_event", EVENT_COLUMNS, event_rows()),
        ],
    )
    sent.extend(plans)
    if len(sent) > capacity:
        raise RuntimeError(f"Generation planned {len(sent)} new tasks but counted at most {capacity}.")
    if written:
        return [(task_id, plan.work_order_id) for task_id, plan in zip(task_ids, sent, strict=False)]
    return [
        (task_id, wo_id)
        for task_id, wo_id in copy_insert_returning(
            db,
            builder.table.name,
            without_ids.columns,
            ((*_plan_values(plan, rates), *without_ids.rest) for plan in sent),
            "generation_key",
            ("id", "work_order_id"),
            then=", ev AS (INSERT INTO task_event (task_id, actor_id, kind, data, created_at) "
            "SELECT id, %(actor)s, %(kind)s, '{}', %(now)s FROM ins)",
            then_params={"actor": actor_id, "kind": TaskEventKind.GENERATED.value, "now": now},
        )
    ]


def generate_for_work_orders(
    db: Session, actor: Actor | None, work_order_ids: Any
) -> dict[int, GenerationReport]:
    """Bulk entry point: generate drafts for many approved work orders in one transaction.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        work_order_ids: Ids of approved or in-progress work orders.

    Returns:
        A report per work order.

    Raises:
        ValidationError: If a work order is not approved (draft, cancelled, completed).
    """
    actor = require_supervisor(actor)
    ids = as_id_list(work_order_ids, "work_order_ids", "field.work_orders", max_items=BULK_MAX_WORK_ORDERS)
    statuses = dict(db.exec(select(WorkOrder.id, WorkOrder.status).where(id_in(db, WorkOrder.id, ids))).all())
    for wo_id in ids:
        status = statuses.get(wo_id)
        if status is None:
            raise NotFoundError("error.work_order_id_unknown", work_order_id=wo_id)
        if status not in ("approved", "in_progress"):
            raise ValidationError(
                "error.work_order_not_approved",
                work_order_id=wo_id,
                status=msg(f"work_order_status_word.{status}"),
            )
    reports = generate_drafts(db, actor, ids)
    db.commit()
    return reports
