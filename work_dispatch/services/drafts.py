"""Draft review: list, edit, split, merge, delete and publish draft tasks.

Every change is a compare-and-set on ``is_draft`` (and the expected version where the
client sent one), so a draft that was published meanwhile is reported, never changed.
Publishing, deleting and merging away are the state machine's ``publish``,
``publish_assigned`` and ``discard``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, insert, or_, update
from sqlmodel import Session, select

from work_dispatch.domain.enums import (
    OPERATOR_LOAD_STATUSES,
    NotificationKind,
    Role,
    TaskEventKind,
    TaskStatus,
    WorkOrderStatus,
)
from work_dispatch.domain.errors import ConflictError, NotFoundError, ValidationError
from work_dispatch.domain.generation import split_draft_quantities
from work_dispatch.domain.task_machine import TaskAction, target_of
from work_dispatch.i18n import DEFAULT_LOCALE, localized_name, msg, translate
from work_dispatch.models import (
    TEXT_LENGTH,
    Department,
    Process,
    Task,
    User,
    UserDepartment,
    WorkOrder,
    utc_now,
)
from work_dispatch.realtime.bus import BusEvent, publish
from work_dispatch.services import task_rows
from work_dispatch.services.actor import Actor, require_supervisor
from work_dispatch.services.audit import record_events
from work_dispatch.services.notifications import Notice, send_notices
from work_dispatch.services.sql import is_postgres, lock_for_write
from work_dispatch.services.task_rules import may
from work_dispatch.services.validation import as_datetime, as_id_list, as_int, as_text
from work_dispatch.services.workload import refresh_planned_minutes

MAX_QUANTITY = 100_000_000
DRAFT_GROUPS_PER_PAGE = 10
MAX_DRAFTS_PER_GROUP = 60


@dataclass
class DraftRow:
    """A draft as the review board shows it."""

    id: int
    version: int
    process: str
    sequence: int
    production_quantity: int
    work_content: str
    requirements: str
    department_id: int
    operator_id: int
    department: str
    operator: str
    due_at: str


@dataclass
class DraftGroup:
    """The drafts of one work order."""

    work_order_id: int
    order_number: str
    priority: str
    drafts: list[DraftRow] = field(default_factory=list)
    priority_label: str = ""


@dataclass
class DraftBoard:
    """One page of the review board."""

    groups: list[DraftGroup]
    total_drafts: int
    work_orders_with_drafts: int
    next_cursor: int | None


@dataclass
class PublishReport:
    """What a publish did."""

    published: list[int] = field(default_factory=list)
    assigned: list[int] = field(default_factory=list)
    already_published: list[int] = field(default_factory=list)
    not_found: list[int] = field(default_factory=list)
    sent_to_dispatch: list[int] = field(default_factory=list)
    """Drafts whose preset operator was inactive or at their WIP limit: published for dispatch."""

    def summary(self, locale: str = DEFAULT_LOCALE) -> str:
        """One line for a toast, in ``locale``."""
        text = translate("publish.summary", locale, count=len(self.published))
        if self.assigned:
            text += translate("publish.summary.assigned", locale, count=len(self.assigned))
        if self.already_published:
            text += translate("publish.summary.already_published", locale, count=len(self.already_published))
        if self.not_found:
            text += translate("publish.summary.not_found", locale, count=len(self.not_found))
        if self.sent_to_dispatch:
            text += translate("publish.summary.sent_to_dispatch", locale, count=len(self.sent_to_dispatch))
        return text + translate("publish.summary.end", locale)


_OPEN_DRAFT = (Task.is_draft.is_(True), Task.status == TaskStatus.DRAFT)
_DISCARDABLE = (Task.is_draft.is_(True), may(TaskAction.DISCARD, Task.status))
_PRESET = Task.assigned_operator_id.is_not(None)
_PUBLISHABLE = or_(
    and_(_PRESET, may(TaskAction.PUBLISH_ASSIGNED, Task.status)),
    and_(Task.assigned_operator_id.is_(None), may(TaskAction.PUBLISH, Task.status)),
)
"""Drafts with a preset operator are published straight to them, the others for dispatch."""


def list_drafts(
    db: Session, actor: Actor | None, *, after_work_order_id: Any = None, work_order_id: Any = None
) -> DraftBoard:
    """Drafts grouped by work order, newest work orders first, keyset-paged by work order.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.
        after_work_order_id: Cursor: only work orders with a smaller id.
        work_order_id: Show only this work order.

    Returns:
        Up to 10 work orders with up to 60 drafts each, plus totals (names in ``actor.locale``).
    """
    actor = require_supervisor(actor)
    after = as_int(after_work_order_id, "cursor", "field.cursor", minimum=1, optional=True)
    only = as_int(work_order_id, "work_order_id", "field.work_order", minimum=1, optional=True)
    conditions = list(_OPEN_DRAFT)
    totals = db.exec(
        select(func.count(), func.count(func.distinct(Task.work_order_id))).where(*conditions)
    ).one()
    if only:
        conditions.append(Task.work_order_id == only)
    if after:
        conditions.append(Task.work_order_id < after)
    order_ids = db.exec(
        select(Task.work_order_id)
        .where(*conditions)
        .group_by(Task.work_order_id)
        .order_by(Task.work_order_id.desc())
        .limit(DRAFT_GROUPS_PER_PAGE + 1)
    ).all()
    page_ids = list(order_ids[:DRAFT_GROUPS_PER_PAGE])
    groups: dict[int, DraftGroup] = {}
    if page_ids:
        for wo in db.exec(select(WorkOrder).where(WorkOrder.id.in_(page_ids))).all():
            groups[wo.id] = DraftGroup(
                wo.id,
                wo.order_number,
                wo.priority,
                priority_label=translate(f"enum.priority.{wo.priority}", actor.locale),
            )
        rows = db.exec(
            select(Task, Process.name, Process.names, Department.name, Department.names, User.display_name)
            .join(Process, Process.id == Task.process_id)
            .outerjoin(Department, Department.id == Task.assigned_department_id)
            .outerjoin(User, User.id == Task.assigned_operator_id)
            .where(*_OPEN_DRAFT, Task.work_order_id.in_(page_ids))
            .order_by(Task.work_order_id.desc(), Task.sequence, Task.id)
        ).all()
        for task, process_name, process_names, department_name, department_names, operator_name in rows:
            group = groups[task.work_order_id]
            if len(group.drafts) >= MAX_DRAFTS_PER_GROUP:
                continue
            group.drafts.append(
                DraftRow(
                    id=task.id,
                    version=task.version,
                    process=localized_name(process_name, process_names, actor.locale),
                    sequence=task.sequence,
                    production_quantity=task.production_quantity,
                    work_content=task.work_content,
                    requirements=task.requirements,
                    department_id=task.assigned_department_id or 0,
                    operator_id=task.assigned_operator_id or 0,
                    department=localized_name(department_name, department_names, actor.locale),
                    operator=operator_name or "",
                    due_at=task.due_at.strftime("%Y-%m-%dT%H:%M") if task.due_at else "",
                )
            )
    next_cursor = page_ids[-1] if len(order_ids) > DRAFT_GROUPS_PER_PAGE else None
    return DraftBoard(
        groups=[groups[i] for i in page_ids if i in groups],
        total_drafts=totals[0],
        work_orders_with_drafts=totals[1],
        next_cursor=next_cursor,
    )


def _load_draft(db: Session, task_id: Any, expected_version: Any = None) -> Task:
    task_id = as_int(task_id, "task_id", "field.task", minimum=1)
    task = db.get(Task, task_id)
    if task is None or (task.is_draft and task.status == TaskStatus.CANCELLED):
        raise NotFoundError("error.draft_not_found", task_id=task_id)
    if not task.is_draft:
        raise ValidationError("error.task_already_published", task_id=task_id)
    version = as_int(expected_version, "version", "field.version", minimum=1, optional=True)
    if version is not None and version != task.version:
        raise ConflictError("error.draft_changed", task_id=task_id)
    return task


def _check_assignment(db: Session, department_id: int | None, operator_id: int | None) -> None:
    if department_id is not None:
        department = db.get(Department, department_id)
        if department is None or not department.is_active:
            raise NotFoundError("error.department_unknown", "department_id")
    if operator_id is not None:
        operator = db.get(User, operator_id)
        if operator is None or not operator.is_active or operator.role != Role.OPERATOR:
            raise NotFoundError("error.operator_unknown", "operator_id")
        if department_id is not None:
            member = db.get(UserDepartment, (operator_id, department_id))
            if member is None:
                raise ValidationError(
                    "error.operator_not_in_department", "operator_id", operator=operator.display_name
                )


def _cas_update(db: Session, task: Task, values: dict[str, Any]) -> None:
    changed = db.execute(
        update(Task)
        .where(Task.id == task.id, Task.version == task.version, *_OPEN_DRAFT)
        .values(**values, version=Task.version + 1, updated_at=utc_now())
    ).rowcount
    if changed != 1:
        db.rollback()
        raise ConflictError("error.draft_changed_or_published", task_id=task.id)
    if "production_quantity" in values:
        refresh_planned_minutes(db, task_ids=[task.id])


def edit_draft(
    db: Session, actor: Actor | None, task_id: Any, changes: dict[str, Any], expected_version: Any = None
) -> None:
    """Edit fields of one draft.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        task_id: The draft.
        changes: Any of ``production_quantity``, ``work_content``, ``requirements``,
            ``department_id``, ``operator_id`` (0 or empty clears) and ``due_at``.
        expected_version: The version the client saw, to refuse stale edits.

    Raises:
        ValidationError: On invalid values or a published task; nothing is written.
    """
    actor = require_supervisor(actor)
    if not isinstance(changes, dict) or not changes:
        raise ValidationError("error.nothing_to_change")
    task = _load_draft(db, task_id, expected_version)
    values: dict[str, Any] = {}
    if "production_quantity" in changes:
        values["production_quantity"] = as_int(
            changes["production_quantity"],
            "production_quantity",
            "field.quantity",
            minimum=1,
            maximum=MAX_QUANTITY,
        )
    for key, label in (("work_content", "field.work_content"), ("requirements", "field.requirements")):
        if key in changes:
            values[key] = as_text(changes[key], key, label, max_length=TEXT_LENGTH)
    if "department_id" in changes:
        values["assigned_department_id"] = (
            as_int(changes["department_id"], "department_id", "field.department", minimum=0, optional=True)
            or None
        )
    if "operator_id" in changes:
        values["assigned_operator_id"] = (
            as_int(changes["operator_id"], "operator_id", "field.operator", minimum=0, optional=True) or None
        )
    if "due_at" in changes:
        values["due_at"] = as_datetime(changes["due_at"], "due_at", "field.due_time")
    unknown = set(changes) - {
        "production_quantity",
        "work_content",
        "requirements",
        "department_id",
        "operator_id",
        "due_at",
    }
    if unknown:
        raise ValidationError("error.unknown_field", name=sorted(unknown)[0][:40])
    department_id = values.get("assigned_department_id", task.assigned_department_id)
    operator_id = values.get("assigned_operator_id", task.assigned_operator_id)
    _check_assignment(db, department_id, operator_id)
    before = {key: _plain(getattr(task, key)) for key in values}
    _cas_update(db, task, values)
    record_events(
        db,
        actor.user_id,
        TaskEventKind.EDITED,
        [task.id],
        {"before": before, "after": {k: _plain(v) for k, v in values.items()}},
    )
    db.commit()


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def split_draft(
    db: Session, actor: Actor | None, task_id: Any, keep_quantity: Any, expected_version: Any = None
) -> int:
    """Split a draft in two; the original keeps ``keep_quantity``, a new draft gets the rest.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        task_id: The draft to split.
        keep_quantity: Quantity left on the original draft.
        expected_version: The version the client saw.

    Returns:
        The id of the new draft.

    Raises:
        ValidationError: If a part would be empty or the task is published.
    """
    actor = require_supervisor(actor)
    task = _load_draft(db, task_id, expected_version)
    keep = as_int(keep_quantity, "quantity", "field.quantity_kept", minimum=1, maximum=MAX_QUANTITY)
    kept, moved = split_draft_quantities(task.production_quantity, keep)
    _cas_update(db, task, {"production_quantity": kept})
    root_key = task.generation_key.split("|", 1)[0]
    builder = task_rows.TASK_ROWS
    new_id = db.execute(
        insert(builder.table)
        .values(
            builder.row(
                work_order_process_id=task.work_order_process_id,
                work_order_id=task.work_order_id,
                process_id=task.process_id,
                sequence=task.sequence,
                generation_key=f"{root_key}|split-{uuid.uuid4().hex[:12]}",
                is_draft=True,
                status=TaskStatus.DRAFT,
                assigned_department_id=task.assigned_department_id,
                assigned_operator_id=task.assigned_operator_id,
                priority=task.priority,
                priority_rank=task.priority_rank,
                due_at=task.due_at,
                production_quantity=moved,
                work_content=task.work_content,
                requirements=task.requirements,
            )
        )
        .returning(builder.table.c.id)
    ).scalar_one()
    refresh_planned_minutes(db, task_ids=[new_id])
    record_events(
        db,
        actor.user_id,
        TaskEventKind.SPLIT,
        [task.id, new_id],
        per_task_data={
            task.id: {"kept": kept, "new_task_id": new_id},
            new_id: {"from_task_id": task.id, "quantity": moved},
        },
    )
    db.commit()
    return new_id


def merge_drafts(db: Session, actor: Actor | None, task_ids: Any) -> int:
    """Merge drafts of the same process of one work order into the oldest of them.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        task_ids: Two or more draft ids.

    Returns:
        The id of the surviving draft.

    Raises:
        ValidationError: If fewer than two, mixed processes, or not all drafts.
    """
    actor = require_supervisor(actor)
    ids = as_id_list(task_ids, "task_ids", "field.drafts", max_items=100)
    if len(ids) < 2:
        raise ValidationError("error.merge_needs_two")
    tasks = db.exec(select(Task).where(Task.id.in_(ids))).all()
    if len(tasks) != len(ids):
        raise NotFoundError("error.drafts_gone")
    if any(not (t.is_draft and t.status == TaskStatus.DRAFT) for t in tasks):
        raise ValidationError("error.merge_only_drafts")
    if len({t.work_order_process_id for t in tasks}) != 1:
        raise ValidationError("error.merge_same_process")
    tasks.sort(key=lambda t: t.id)
    survivor, others = tasks[0], tasks[1:]
    total = sum(t.production_quantity for t in tasks)
    _cas_update(db, survivor, {"production_quantity": total})
    now = utc_now()
    other_ids = [t.id for t in others]
    changed = db.execute(
        update(Task)
        .where(Task.id.in_(other_ids), *_DISCARDABLE)
        .values(status=target_of(TaskAction.DISCARD), updated_at=now, version=Task.version + 1)
    ).rowcount
    if changed != len(other_ids):
        db.rollback()
        raise ConflictError("error.drafts_changed")
    record_events(
        db,
        actor.user_id,
        TaskEventKind.MERGED,
        [survivor.id],
        {"merged_task_ids": other_ids, "production_quantity": total},
    )
    record_events(db, actor.user_id, TaskEventKind.MERGED_INTO, other_ids, {"into_task_id": survivor.id})
    db.commit()
    return survivor.id


def delete_drafts(db: Session, actor: Actor | None, task_ids: Any) -> int:
    """Delete drafts (kept as cancelled drafts so their history stays).

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        task_ids: Draft ids.

    Returns:
        How many drafts were deleted.

    Raises:
        ValidationError: If any of them is published; nothing is deleted then.
    """
    actor = require_supervisor(actor)
    ids = as_id_list(task_ids, "task_ids", "field.drafts")
    if not ids:
        raise ValidationError("error.delete_needs_selection")
    published = db.exec(select(Task.id).where(Task.id.in_(ids), Task.is_draft.is_(False))).all()
    if published:
        raise ValidationError("error.task_published", task_id=published[0])
    changed_ids = (
        db.execute(
            update(Task)
            .where(Task.id.in_(ids), *_DISCARDABLE)
            .values(status=target_of(TaskAction.DISCARD), updated_at=utc_now(), version=Task.version + 1)
            .returning(Task.id)
        )
        .scalars()
        .all()
    )
    record_events(db, actor.user_id, TaskEventKind.DELETED, changed_ids)
    db.commit()
    return len(changed_ids)


def _release_presets_over_capacity(db: Session, ids: list[int]) -> list[int]:
    """Keep a draft's preset operator only while they are an active operator under their WIP limit.

    The preset operators are locked first (row locks on PostgreSQL, the write lock on SQLite)
    and their open tasks counted afterwards, so concurrent publishes, claims and reassignments
    cannot push anyone past their limit. Drafts beyond an operator's room (highest priority and
    earliest due keep theirs) lose the preset and are published for dispatch instead.

    Args:
        db: Open session; nothing is committed here.
        ids: The drafts being published.

    Returns:
        The drafts whose preset operator was released.
    """
    lock_for_write(db)
    presets = db.exec(
        select(Task.id, Task.assigned_operator_id)
        .where(
            Task.id.in_(ids), Task.is_draft.is_(True), _PRESET, may(TaskAction.PUBLISH_ASSIGNED, Task.status)
        )
        .order_by(Task.priority_rank.desc(), Task.due_at, Task.id)
    ).all()
    if not presets:
        return []
    operator_ids = sorted({operator_id for _, operator_id in presets})
    lock = select(User.id, User.wip_limit, User.is_active, User.role).where(User.id.in_(operator_ids))
    if is_postgres(db):
        lock = lock.order_by(User.id).with_for_update()
    room = {
        uid: limit if active and role == Role.OPERATOR else 0 for uid, limit, active, role in db.execute(lock)
    }
    loads = dict(
        db.exec(
            select(Task.assigned_operator_id, func.count())
            .where(Task.assigned_operator_id.in_(operator_ids), Task.status.in_(OPERATOR_LOAD_STATUSES))
            .group_by(Task.assigned_operator_id)
        ).all()
    )
    released = []
    for task_id, operator_id in presets:
        if loads.get(operator_id, 0) < room.get(operator_id, 0):
            loads[operator_id] = loads.get(operator_id, 0) + 1
        else:
            released.append(task_id)
    if released:
        db.execute(update(Task).where(Task.id.in_(released)).values(assigned_operator_id=None))
    return released


def publish_drafts(
    db: Session, actor: Actor | None, task_ids: Any = None, *, work_order_id: Any = None
) -> PublishReport:
    """Publish drafts as formal tasks in one transaction (idempotent).

    Each draft flips with a compare-and-set on ``is_draft``: two supervisors publishing
    the same drafts at once publish each exactly once. Drafts with a preset operator
    become ``assigned`` (with a notification), the others ``pending`` for dispatch.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        task_ids: Draft ids to publish.
        work_order_id: Alternatively, publish every draft of this work order.

    Returns:
        What was published and what was already published.
    """
    actor = require_supervisor(actor)
    if work_order_id not in (None, ""):
        wo_id = as_int(work_order_id, "work_order_id", "field.work_order", minimum=1)
        work_order = db.get(WorkOrder, wo_id)
        if work_order is None:
            raise NotFoundError("error.work_order_unknown")
        if work_order.status in (WorkOrderStatus.CANCELLED, WorkOrderStatus.COMPLETED):
            raise ValidationError(
                "error.work_order_is", status=msg(f"work_order_status_word.{work_order.status}")
            )
        ids = list(db.exec(select(Task.id).where(Task.work_order_id == wo_id, *_OPEN_DRAFT)).all())
    else:
        ids = as_id_list(task_ids, "task_ids", "field.drafts", max_items=5000)
    if not ids:
        raise ValidationError("error.nothing_to_publish")
    sent_to_dispatch = _release_presets_over_capacity(db, ids)
    now = utc_now()
    rows = db.execute(
        update(Task)
        .where(Task.id.in_(ids), Task.is_draft.is_(True), _PUBLISHABLE)
        .values(
            is_draft=False,
            status=case(
                (_PRESET, target_of(TaskAction.PUBLISH_ASSIGNED)), else_=target_of(TaskAction.PUBLISH)
            ),
            published_at=now,
            updated_at=now,
            version=Task.version + 1,
        )
        .returning(
            Task.id, Task.status, Task.assigned_operator_id, Task.assigned_department_id, Task.work_order_id
        )
    ).all()
    report = PublishReport(published=sorted(r[0] for r in rows), sent_to_dispatch=sent_to_dispatch)
    report.assigned = sorted(r[0] for r in rows if r[1] == target_of(TaskAction.PUBLISH_ASSIGNED))
    missing = set(ids) - set(report.published)
    if missing:
        present = db.exec(select(Task.id, Task.is_draft, Task.status).where(Task.id.in_(missing))).all()
        report.already_published = sorted(i for i, is_draft, _ in present if not is_draft)
        report.not_found = sorted(missing - set(report.already_published))
    if rows:
        record_events(
            db,
            actor.user_id,
            TaskEventKind.PUBLISHED,
            [r[0] for r in rows],
            per_task_data={r[0]: {"status": r[1]} for r in rows},
        )
        send_notices(
            db,
            (
                Notice(
                    r[2],
                    NotificationKind.TASK_ASSIGNED,
                    msg("notification.published_to_you.title", task_id=r[0]),
                    msg("notification.published_to_you.body"),
                    task_id=r[0],
                    work_order_id=r[4],
                )
                for r in rows
                if r[1] == target_of(TaskAction.PUBLISH_ASSIGNED)
            ),
            now,
        )
        order_ids = {r[4] for r in rows}
        db.execute(
            update(WorkOrder)
            .where(WorkOrder.id.in_(order_ids), WorkOrder.status == WorkOrderStatus.APPROVED)
            .values(status=WorkOrderStatus.IN_PROGRESS, updated_at=now, version=WorkOrder.version + 1)
        )
    db.commit()
    if rows:
        by_kind: dict[str, set[int]] = defaultdict(set)
        for r in rows:
            if r[2]:
                by_kind["operators"].add(r[2])
            if r[3]:
                by_kind["departments"].add(r[3])
        publish(
            BusEvent(
                kind="tasks_published",
                task_ids=tuple(report.published),
                operator_ids=tuple(by_kind["operators"]),
                department_ids=tuple(by_kind["departments"]),
                work_order_ids=tuple({r[4] for r in rows}),
            )
        )
    return report
