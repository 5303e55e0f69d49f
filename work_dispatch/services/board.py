"""The supervisor's live board: filtered, sorted keyset pages of tasks, counts, and a task's history.

Every filter and cursor comes from the client, so each is validated: unknown values get a
clear message, page sizes are clamped to 1..100, and a cursor that does not decode (or
belongs to another sort) is refused. Every page query is a keyset query served by an
index (see the ``ix_task_*`` indexes and ``tests/benchmarks``).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, func, select

from work_dispatch.domain.enums import OPEN_TASK_STATUSES, TaskEventKind, TaskStatus
from work_dispatch.domain.errors import NotFoundError, ValidationError
from work_dispatch.domain.scheduling import remaining_of_plan
from work_dispatch.i18n import (
    DEFAULT_LOCALE,
    as_message,
    catalog,
    enum_label,
    format_datetime,
    format_number,
    localized_name,
    translate,
)
from work_dispatch.models import Department, Process, Task, TaskEvent, User, WorkOrder, utc_now
from work_dispatch.services import labour
from work_dispatch.services.actor import Actor, require_supervisor
from work_dispatch.services.explanations import explanation_lines
from work_dispatch.services.sql import contains_text
from work_dispatch.services.task_flow import pause_reason_text
from work_dispatch.services.validation import as_int, as_text
from work_dispatch.services.workload import operator_loads
from work_dispatch.settings import settings

PAGE_SIZE_MAX = 100
SORTS = ("newest", "updated", "due", "priority")
KINDS = ("formal", "draft", "all")


@dataclass(frozen=True)
class BoardFilters:
    """Validated board filters."""

    status: str = ""
    department_id: int | None = None
    operator_id: int | None = None
    order_number: str = ""
    kind: str = "formal"
    overdue: bool = False
    search: str = ""
    sort: str = "newest"


@dataclass
class BoardRow:
    """A task row of the board."""

    id: int
    order_number: str
    process: str
    department: str
    operator: str
    status: str
    priority: str
    quantity_completed: int
    production_quantity: int
    due_at: str
    overdue: bool
    updated_at: str
    status_label: str = ""
    priority_label: str = ""
    minutes_left: int = 0
    """The task's remaining planned minutes."""
    operator_load_minutes: int = 0
    """Its operator's load: remaining planned minutes of all their open tasks."""
    eta: str = ""
    """When it is expected to finish (live ETA), for people."""
    eta_late: bool = False
    """The ETA is after its due time."""


@dataclass
class BoardPage:
    """Rows of one page and the cursor of the next."""

    rows: list[BoardRow]
    next_cursor: str | None


@dataclass
class CountRow:
    """One count of the live counters."""

    key: str
    label: str
    count: int


@dataclass
class BoardCounts:
    """Live counters per status and per department (formal, open tasks)."""

    by_status: list[CountRow]
    by_department: list[CountRow]


@dataclass
class EventView:
    """One entry of a task's history, phrased for people."""

    id: int
    kind: str
    actor: str
    at: str
    summary: str
    details: list[str] = field(default_factory=list)


@dataclass
class TaskDetail:
    """A task and its history for the drawer."""

    row: BoardRow
    work_content: str
    requirements: str
    events: list[EventView]
    minutes: str = ""
    """Planned, left and worked minutes and the operator's load, in the reader's locale."""


def parse_filters(raw: Any) -> BoardFilters:
    """Validate filters sent by a client.

    Args:
        raw: A dict of filter values (strings from the page).

    Returns:
        The filters.

    Raises:
        ValidationError: On an unknown status, sort or kind, or malformed ids.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationError("error.filters_malformed")
    status = str(raw.get("status") or "")
    if status and status not in {s.value for s in TaskStatus}:
        raise ValidationError("error.unknown_status", "status", value=repr(status[:20]))
    sort = str(raw.get("sort") or "newest")
    if sort not in SORTS:
        raise ValidationError("error.unknown_sort", "sort", value=repr(sort[:20]))
    kind = str(raw.get("kind") or "formal")
    if kind not in KINDS:
        raise ValidationError("error.unknown_kind", "kind", value=repr(kind[:20]))
    overdue = raw.get("overdue", False)
    return BoardFilters(
        status=status,
        department_id=as_int(
            raw.get("department_id"), "department_id", "field.department", minimum=1, optional=True
        ),
        operator_id=as_int(raw.get("operator_id"), "operator_id", "field.operator", minimum=1, optional=True),
        order_number=as_text(raw.get("order_number"), "order_number", "field.work_order", max_length=16),
        kind=kind,
        overdue=overdue in (True, "true", "on", "1"),
        search=as_text(raw.get("search"), "search", "field.search", max_length=60),
        sort=sort,
    )


def _encode(sort: str, value: Any, task_id: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps({"s": sort, "v": value, "id": task_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode(cursor: Any, sort: str) -> tuple[Any, int] | None:
    if cursor in (None, ""):
        return None
    bad = ValidationError("error.cursor_invalid", "cursor")
    if not isinstance(cursor, str) or len(cursor) > 200:
        raise bad
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        task_id, value = data["id"], data["v"]
    except (ValueError, KeyError, TypeError) as error:
        raise bad from error
    if data.get("s") != sort or not isinstance(task_id, int) or isinstance(task_id, bool) or task_id < 1:
        raise bad
    if sort in ("updated", "due") and value is not None:
        try:
            value = datetime.fromisoformat(value)
        except (TypeError, ValueError) as error:
            raise bad from error
    if sort == "priority" and (not isinstance(value, int) or isinstance(value, bool)):
        raise bad
    return value, task_id


def _conditions(db: Session, filters: BoardFilters, now: datetime) -> list:
    conditions: list = []
    if filters.kind == "formal":
        conditions.append(Task.is_draft.is_(False))
    elif filters.kind == "draft":
        conditions.append(Task.is_draft.is_(True))
    if filters.status:
        conditions.append(Task.status == filters.status)
    elif filters.kind == "draft":
        conditions.append(Task.status == TaskStatus.DRAFT)
    if filters.department_id:
        conditions.append(Task.assigned_department_id == filters.department_id)
    if filters.operator_id:
        conditions.append(Task.assigned_operator_id == filters.operator_id)
    if filters.overdue:
        conditions += [Task.due_at < now, Task.status.in_(OPEN_TASK_STATUSES)]
    number = filters.order_number or (filters.search if filters.search.isdigit() else "")
    if number:
        order_id = db.exec(select(WorkOrder.id).where(WorkOrder.order_number == number)).first()
        conditions.append(Task.work_order_id == (order_id or -1))
    elif filters.search:
        process_ids = db.exec(select(Process.id).where(contains_text(filters.search, Process.name))).all()
        conditions.append(Task.process_id.in_(process_ids or [-1]))
    return conditions


def _order_and_after(filters: BoardFilters, after: tuple[Any, int] | None):
    if filters.sort == "newest":
        order = [Task.id.desc()]
        where = [Task.id < after[1]] if after else []
    elif filters.sort == "updated":
        order = [Task.updated_at.desc(), Task.id.desc()]
        where = (
            [or_(Task.updated_at < after[0], and_(Task.updated_at == after[0], Task.id < after[1]))]
            if after
            else []
        )
    elif filters.sort == "priority":
        order = [Task.priority_rank.desc(), Task.id.desc()]
        where = (
            [or_(Task.priority_rank < after[0], and_(Task.priority_rank == after[0], Task.id < after[1]))]
            if after
            else []
        )
    else:
        order = [Task.due_at.asc().nulls_last(), Task.id.asc()]
        if after is None:
            where = []
        elif after[0] is None:
            where = [Task.due_at.is_(None), Task.id > after[1]]
        else:
            where = [
                or_(
                    Task.due_at > after[0],
                    and_(Task.due_at == after[0], Task.id > after[1]),
                    Task.due_at.is_(None),
                )
            ]
    return order, where


def _cursor_value(task: Task, sort: str) -> Any:
    return {"newest": None, "updated": task.updated_at, "priority": task.priority_rank, "due": task.due_at}[
        sort
    ]


def _rows(db: Session, tasks: list[Task], now: datetime, locale: str) -> list[BoardRow]:
    if not tasks:
        return []
    order_numbers = dict(
        db.exec(
            select(WorkOrder.id, WorkOrder.order_number).where(
                WorkOrder.id.in_({t.work_order_id for t in tasks})
            )
        ).all()
    )
    processes = _names(db, Process, locale, {t.process_id for t in tasks})
    departments = _names(db, Department, locale)
    operator_ids = {t.assigned_operator_id for t in tasks if t.assigned_operator_id}
    operators = (
        dict(db.exec(select(User.id, User.display_name).where(User.id.in_(operator_ids))).all())
        if operator_ids
        else {}
    )
    loads = operator_loads(db, operator_ids) if operator_ids else {}
    return [
        BoardRow(
            id=t.id,
            order_number=order_numbers.get(t.work_order_id, ""),
            process=processes.get(t.process_id, ""),
            department=departments.get(t.assigned_department_id, "") if t.assigned_department_id else "",
            operator=operators.get(t.assigned_operator_id, "") if t.assigned_operator_id else "",
            status=t.status,
            priority=t.priority,
            quantity_completed=t.quantity_completed,
            production_quantity=t.production_quantity,
            due_at=format_datetime(t.due_at, locale, settings.timezone, short=True),
            overdue=bool(t.due_at and t.due_at < now and t.status in OPEN_TASK_STATUSES),
            updated_at=t.updated_at.astimezone(ZoneInfo(settings.timezone)).strftime("%H:%M:%S"),
            status_label=translate(f"enum.task_status.{t.status}", locale),
            priority_label=translate(f"enum.priority.{t.priority}", locale),
            minutes_left=round(
                remaining_of_plan(
                    t.planned_minutes, t.setup_minutes, t.production_quantity, t.quantity_completed
                )
            ),
            operator_load_minutes=round(loads[t.assigned_operator_id].minutes)
            if t.assigned_operator_id in loads
            else 0,
            eta=format_datetime(t.eta_at, locale, settings.timezone, short=True)
            if t.eta_at and t.status in OPEN_TASK_STATUSES
            else "",
            eta_late=bool(t.eta_at and t.due_at and t.eta_at > t.due_at and t.status in OPEN_TASK_STATUSES),
        )
        for t in tasks
    ]


def _names(db: Session, model: type[Process | Department], locale: str, ids: set[int] | None = None) -> dict:
    """Id → name in ``locale`` of processes or departments (all of them, or of ``ids``)."""
    statement = select(model.id, model.name, model.names)
    if ids is not None:
        statement = statement.where(model.id.in_(ids or {-1}))
    return {row_id: localized_name(name, names, locale) for row_id, name, names in db.exec(statement).all()}


def page_statement(
    db: Session, filters: BoardFilters, cursor: Any = None, page_size: int = 50, now: datetime | None = None
):
    """The page query (exposed for EXPLAIN in the benchmark).

    Args:
        db: Open session.
        filters: Validated filters.
        cursor: Opaque cursor from the previous page.
        page_size: Rows, already clamped.
        now: The current time.

    Returns:
        A select of up to ``page_size + 1`` tasks.
    """
    now = now or utc_now()
    order, after_where = _order_and_after(filters, _decode(cursor, filters.sort))
    return (
        select(Task).where(*_conditions(db, filters, now), *after_where).order_by(*order).limit(page_size + 1)
    )


def query_page(
    db: Session, actor: Actor | None, raw_filters: Any = None, cursor: Any = None, page_size: Any = 50
) -> BoardPage:
    """One page of the board.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.
        raw_filters: Filters as sent by the page.
        cursor: Opaque cursor of the page to show (None for the first).
        page_size: Rows per page, clamped to 1..100.

    Returns:
        The rows (in ``actor.locale``) and the next page's cursor.
    """
    actor = require_supervisor(actor)
    filters = parse_filters(raw_filters)
    size = as_int(page_size, "page_size", "field.page_size", minimum=-(10**9), maximum=10**9) or 50
    size = min(max(size, 1), PAGE_SIZE_MAX)
    now = utc_now()
    tasks = list(db.exec(page_statement(db, filters, cursor, size, now)).all())
    page = tasks[:size]
    next_cursor = (
        _encode(filters.sort, _cursor_value(page[-1], filters.sort), page[-1].id)
        if len(tasks) > size
        else None
    )
    return BoardPage(rows=_rows(db, page, now, actor.locale), next_cursor=next_cursor)


def rows_by_ids(db: Session, actor: Actor | None, task_ids: list[int]) -> list[BoardRow]:
    """Fresh rows of specific tasks (for updating rows in place).

    Args:
        db: Open session (read only).
        actor: The acting supervisor.
        task_ids: At most 200 ids.

    Returns:
        The rows that exist (in ``actor.locale``).
    """
    actor = require_supervisor(actor)
    ids = [int(i) for i in task_ids][:200]
    tasks = list(db.exec(select(Task).where(Task.id.in_(ids))).all()) if ids else []
    return _rows(db, tasks, utc_now(), actor.locale)


def counts(db: Session, actor: Actor | None) -> BoardCounts:
    """Counters per status (formal tasks) and open tasks per department.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.

    Returns:
        The counters, labelled in ``actor.locale``.
    """
    actor = require_supervisor(actor)
    by_status = dict(
        db.exec(select(Task.status, func.count()).where(Task.is_draft.is_(False)).group_by(Task.status)).all()
    )
    drafts = db.exec(
        select(func.count()).select_from(Task).where(Task.is_draft.is_(True), Task.status == TaskStatus.DRAFT)
    ).one()
    by_department = dict(
        db.exec(
            select(Task.assigned_department_id, func.count())
            .where(Task.status.in_(OPEN_TASK_STATUSES), Task.is_draft.is_(False))
            .group_by(Task.assigned_department_id)
        ).all()
    )
    departments = db.exec(
        select(Department).where(Department.is_active).order_by(Department.sort_order)
    ).all()
    statuses = [CountRow("draft", enum_label(TaskStatus.DRAFT, actor.locale), drafts)] + [
        CountRow(s.value, enum_label(s, actor.locale), by_status.get(s.value, 0))
        for s in TaskStatus
        if s != TaskStatus.DRAFT
    ]
    return BoardCounts(
        by_status=statuses,
        by_department=[
            CountRow(str(d.id), localized_name(d.name, d.names, actor.locale), by_department.get(d.id, 0))
            for d in departments
        ],
    )


_REASONED_KINDS = (
    TaskEventKind.PAUSED,
    TaskEventKind.CANCELLED,
    TaskEventKind.UNASSIGNED,
    TaskEventKind.REASSIGNED,
)


def _describe(
    event: TaskEvent, names: dict[int, str], departments: dict[int, str], locale: str
) -> tuple[str, list[str]]:
    """A history entry in ``locale``: a summary line and detail lines, from the event's data.

    Reasons stored as messages render in ``locale``; older ones stored as sentences show as written.
    """
    data = event.data or {}
    kind = event.kind
    details: list[str] = []

    def say(key: str, **params: Any) -> str:
        return translate(key, locale, **params)

    if kind == TaskEventKind.DISPATCHED:
        reason = as_message(data.get("reason", ""))
        if data.get("outcome", "") == "assigned":
            summary = say(
                "board.event.assigned", operator=names.get(data.get("chosen_operator_id"), "?"), reason=reason
            )
        else:
            pool = departments.get(data.get("department_id")) or say("board.event.the_pool")
            summary = say("board.event.queued", pool=pool, reason=reason)
        details.extend(explanation_lines(data, locale, settings.timezone))
        return summary, details
    if kind == TaskEventKind.REPORTED:
        summary = say(
            "board.event.reported",
            good=data.get("completed", 0),
            defective=data.get("defective", 0),
            total=data.get("total_completed", "?"),
        )
        return summary, details
    if kind in _REASONED_KINDS and data.get("reason"):
        reason = data["reason"]
        if kind == TaskEventKind.REASSIGNED:
            operator = names.get(data.get("to_operator_id"), "?")
            return say("board.event.reassigned", operator=operator, reason=reason or "—"), details
        if kind == TaskEventKind.PAUSED and isinstance(reason, str):
            reason = pause_reason_text(reason, locale)
        return say(
            "board.event.with_reason", event=_kind_label(kind, locale), reason=as_message(reason)
        ), details
    if kind == TaskEventKind.EDITED:
        changes = ", ".join(f"{_field_label(k, locale)} → {v}" for k, v in (data.get("after") or {}).items())
        return say("board.event.edited", changes=changes), details
    if kind == TaskEventKind.SPLIT:
        if "new_task_id" in data:
            return say("board.event.split", kept=data.get("kept"), new_task_id=data["new_task_id"]), details
        return say(
            "board.event.split_off", from_task_id=data.get("from_task_id"), quantity=data.get("quantity")
        ), details
    summary = _kind_label(kind, locale)
    if data:
        details.append(", ".join(f"{k}: {v}" for k, v in data.items() if not isinstance(v, list | dict)))
    return summary, details


_EVENT_KINDS = frozenset(kind.value for kind in TaskEventKind)


def _kind_label(kind: str, locale: str) -> str:
    if kind in _EVENT_KINDS:
        return enum_label(TaskEventKind(kind), locale)
    return kind.replace("_", " ").capitalize()


def _field_label(name: str, locale: str) -> str:
    key = f"field.{name}"
    return translate(key, locale) if key in catalog(DEFAULT_LOCALE) else name


def task_detail(db: Session, actor: Actor | None, task_id: Any) -> TaskDetail:
    """A task with its full history (who, what, when, why).

    Args:
        db: Open session (read only).
        actor: The acting supervisor.
        task_id: The task.

    Returns:
        The detail for the drawer.
    """
    actor = require_supervisor(actor)
    locale = actor.locale
    task_id = as_int(task_id, "task_id", "field.task", minimum=1)
    task = db.get(Task, task_id)
    if task is None:
        raise NotFoundError("error.task_not_found", task_id=task_id)
    events = db.exec(
        select(TaskEvent)
        .where(TaskEvent.task_id == task_id)
        .order_by(TaskEvent.created_at, TaskEvent.id)
        .limit(200)
    ).all()
    actor_alias = aliased(User)
    user_ids = {e.actor_id for e in events if e.actor_id}
    for event in events:
        data = event.data or {}
        user_ids |= {v for k, v in data.items() if k.endswith("operator_id") and isinstance(v, int)}
    names = (
        dict(
            db.exec(
                select(actor_alias.id, actor_alias.display_name).where(actor_alias.id.in_(user_ids))
            ).all()
        )
        if user_ids
        else {}
    )
    departments = _names(db, Department, locale)
    system = translate("board.actor.system", locale)
    views = []
    for event in events:
        summary, details = _describe(event, names, departments, locale)
        views.append(
            EventView(
                event.id,
                event.kind,
                names.get(event.actor_id, system) if event.actor_id else system,
                format_datetime(event.created_at, locale, settings.timezone),
                summary,
                details,
            )
        )
    now = utc_now()
    row = _rows(db, [task], now, locale)[0]
    worked = labour.task_minutes(db, task.id, events, now)
    return TaskDetail(
        row=row,
        work_content=task.work_content,
        requirements=task.requirements,
        events=views,
        minutes=translate(
            "board.minutes_line",
            locale,
            planned=format_number(round(task.planned_minutes), locale),
            left=format_number(row.minutes_left, locale),
            worked=format_number(round(worked), locale),
            load=format_number(row.operator_load_minutes, locale),
        )
        if task.assigned_operator_id
        else translate(
            "board.minutes_line_unassigned",
            locale,
            planned=format_number(round(task.planned_minutes), locale),
            left=format_number(row.minutes_left, locale),
            worked=format_number(round(worked), locale),
        ),
    )
