"""Live ETA: when each open task and work order is expected to finish, and which are at risk.

:func:`refresh` loads every open published task (remaining planned minutes, what upstream has
handed over, its place in its department's queue as dispatch orders it), gives each
department one lane per active operator on its shift calendar, lets the pure
:func:`work_dispatch.domain.flow.estimate` place the work, and stores the results on the
tasks and work orders (``eta_at``, ``eta_at_risk``), writing only what changed. The
scheduler runs it after each dispatch cycle and each report and announces the work orders
whose estimate moved, so lists and boards update live.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlmodel import Session, select

from work_dispatch.domain.enums import PRIORITY_RANK, TaskStatus
from work_dispatch.domain.flow import EtaTask, department_lanes, estimate
from work_dispatch.models import AssignmentRule, Task, WorkOrder, WorkOrderProcess, utc_now
from work_dispatch.services.shifts import department_times, members_by_department
from work_dispatch.services.sql import id_in
from work_dispatch.services.task_rules import step_used, transfer_batch_of, upstream_good
from work_dispatch.services.workload import remaining_minutes_sql

OPEN_PUBLISHED = (
    TaskStatus.PENDING.value,
    TaskStatus.QUEUED.value,
    TaskStatus.ASSIGNED.value,
    TaskStatus.IN_PROGRESS.value,
    TaskStatus.PAUSED.value,
)
MOVED_MINUTES = 1.0
"""An estimate that moved less than this is not rewritten (nor announced)."""


@dataclass
class EtaReport:
    """What one refresh changed."""

    task_ids: list[int] = field(default_factory=list)
    """Tasks whose estimate moved (a board showing one of them re-reads its page)."""
    work_orders: list[int] = field(default_factory=list)

    @property
    def tasks(self) -> int:
        """How many task estimates moved."""
        return len(self.task_ids)


def _department_of(
    task_department: int | None, step_department: int | None, rules: dict[int, int], process_id: int
) -> int | None:
    """Who will do a task: its department, else its route step's, else its process's rule's."""
    return task_department or step_department or rules.get(process_id)


def _moved(old: datetime | None, new: datetime | None) -> bool:
    if old is None or new is None:
        return old is not new
    return abs((new - old).total_seconds()) >= MOVED_MINUTES * 60


def refresh(db: Session, now: datetime | None = None) -> EtaReport:
    """Recompute and store the ETA of every open task and work order.

    Args:
        db: Open session; committed here.
        now: The time (default: now).

    Returns:
        How many tasks changed, and the work orders whose ETA or at-risk flag changed.
    """
    now = now or utc_now()
    rules: dict[int, int] = {}
    for process_id, department_id in db.exec(
        select(AssignmentRule.process_id, AssignmentRule.department_id)
        .where(AssignmentRule.is_active)
        .order_by(AssignmentRule.priority.desc(), AssignmentRule.id.desc())
    ).all():
        rules[process_id] = department_id  # the highest priority wins (written last)
    rows = db.exec(
        select(
            Task.id,
            Task.work_order_id,
            Task.sequence,
            Task.assigned_department_id,
            WorkOrderProcess.department_id,
            Task.process_id,
            remaining_minutes_sql(),
            Task.production_quantity - Task.quantity_completed,
            Task.setup_minutes,
            Task.quantity_completed,
            Task.priority,
            Task.due_at,
            Task.status,
            transfer_batch_of(Task.work_order_process_id),
            upstream_good(Task.work_order_id, Task.sequence) - step_used(Task.work_order_process_id),
            Task.eta_at,
        )
        .join(WorkOrderProcess, WorkOrderProcess.id == Task.work_order_process_id)
        .where(Task.is_draft.is_(False), Task.status.in_(OPEN_PUBLISHED))
    ).all()
    tasks: list[EtaTask] = []
    due: dict[int, datetime | None] = {}
    old_task_eta: dict[int, datetime | None] = {}
    for (
        task_id,
        work_order_id,
        sequence,
        task_department,
        step_department,
        process_id,
        minutes,
        units_left,
        setup,
        good,
        priority,
        due_at,
        status,
        batch,
        available,
        eta_at,
    ) in rows:
        department_id = _department_of(task_department, step_department, rules, process_id)
        old_task_eta[task_id] = eta_at
        if due_at is not None:
            due[work_order_id] = min(due.get(work_order_id) or due_at, due_at)
        if department_id is None:
            continue
        due_rank = due_at.timestamp() if due_at is not None else float("inf")
        tasks.append(
            EtaTask(
                task_id=task_id,
                work_order_id=work_order_id,
                sequence=sequence,
                department_id=department_id,
                minutes=float(minutes or 0.0),
                units=max(int(units_left or 0), 0),
                setup_minutes=float(setup or 0.0) if not good else 0.0,
                rank=(-PRIORITY_RANK.get(priority, 1), due_rank, task_id),
                in_progress=status == TaskStatus.IN_PROGRESS,
                transfer_batch=batch,
                available_units=max(int(available or 0), 0),
            )
        )
    members = members_by_department(db)
    times = department_times(db, members.keys())
    lanes = {
        department_id: department_lanes(times[department_id].shared_calendar, len(team))
        for department_id, team in members.items()
        if department_id in times
    }
    result = estimate(tasks, lanes, now, due)
    report = EtaReport()
    task_updates = []
    for task_id, old in old_task_eta.items():
        placed = result.tasks.get(task_id)
        new = placed.finish if placed is not None else None
        if _moved(old, new):
            task_updates.append({"b_id": task_id, "b_eta": new})
    if task_updates:
        table = Task.__table__
        db.connection().execute(
            update(table).where(table.c.id == bindparam("b_id")).values(eta_at=bindparam("b_eta")),
            task_updates,
        )
    report.task_ids = [u["b_id"] for u in task_updates]
    order_ids = sorted({row[1] for row in rows})
    current = (
        {
            row.id: (row.eta_at, row.eta_at_risk)
            for row in db.exec(select(WorkOrder).where(id_in(db, WorkOrder.id, order_ids))).all()
        }
        if order_ids
        else {}
    )
    order_updates = []
    for work_order_id, (old_eta, old_risk) in current.items():
        placed = result.orders.get(work_order_id)
        new_eta = placed.finish if placed is not None else None
        new_risk = bool(placed.at_risk) if placed is not None else False
        if _moved(old_eta, new_eta) or new_risk != old_risk:
            order_updates.append({"b_id": work_order_id, "b_eta": new_eta, "b_risk": new_risk})
    # Work orders that have no open task any more keep no estimate.
    for work_order_id in db.exec(
        select(WorkOrder.id).where(WorkOrder.eta_at.is_not(None), WorkOrder.id.not_in(order_ids or [-1]))
    ).all():
        order_updates.append({"b_id": work_order_id, "b_eta": None, "b_risk": False})
    if order_updates:
        table = WorkOrder.__table__
        db.connection().execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(eta_at=bindparam("b_eta"), eta_at_risk=bindparam("b_risk")),
            order_updates,
        )
    report.work_orders = [u["b_id"] for u in order_updates]
    db.commit()
    return report
