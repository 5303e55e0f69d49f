"""Assignment rules: process → department, priority, strategy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from work_dispatch.domain.enums import Strategy
from work_dispatch.domain.errors import ConflictError, NotFoundError, ValidationError
from work_dispatch.domain.scheduling import validate_level
from work_dispatch.i18n import as_message, localized_name, msg, named, translate
from work_dispatch.models import (
    REASON_LENGTH,
    AssignmentRule,
    Department,
    Process,
    Task,
    User,
    WorkOrder,
    utc_now,
)
from work_dispatch.services import dispatch
from work_dispatch.services.actor import Actor, require_supervisor
from work_dispatch.services.explanations import explanation_lines
from work_dispatch.services.validation import as_choice, as_flag, as_int, as_text
from work_dispatch.settings import settings


@dataclass
class RuleRow:
    """A rule as the rules page lists it."""

    id: int
    process_id: int
    process: str
    department_id: int
    department: str
    priority: int
    strategy: str
    is_active: bool
    notes: str
    strategy_label: str = ""
    min_level: int = 0
    """The qualification level (0–3) an operator needs to get this rule's work (0: anyone)."""


@dataclass
class PreviewRow:
    """What dispatch would do with one pending task, and why."""

    task_id: int
    order_number: str
    process: str
    outcome: str
    department: str
    operator: str
    reason: str
    outcome_label: str = ""
    details: str = ""
    """The explanation's detail lines (rule, task order, candidates, who was left out and why)."""


def list_rules(db: Session, actor: Actor | None) -> list[RuleRow]:
    """Every rule (a few per process), by process then priority.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.

    Returns:
        The rules.
    """
    actor = require_supervisor(actor)
    rows = db.exec(
        select(AssignmentRule, Process.name, Process.names, Department.name, Department.names)
        .join(Process, Process.id == AssignmentRule.process_id)
        .join(Department, Department.id == AssignmentRule.department_id)
        .order_by(Process.name, AssignmentRule.priority.desc(), AssignmentRule.id)
    ).all()
    return [
        RuleRow(
            r.id,
            r.process_id,
            localized_name(process, process_names, actor.locale),
            r.department_id,
            localized_name(department, department_names, actor.locale),
            r.priority,
            r.strategy,
            r.is_active,
            r.notes,
            strategy_label=translate(f"enum.strategy.{r.strategy}", actor.locale),
            min_level=r.min_level,
        )
        for r, process, process_names, department, department_names in rows
    ]


def auto_dispatch_switch(db: Session, actor: Actor | None) -> bool:
    """Whether auto-dispatch is on, as the rules page shows it.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.

    Returns:
        The global switch.
    """
    require_supervisor(actor)
    return dispatch.auto_dispatch_enabled(db)


def _parse(db: Session, raw: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValidationError("error.form_malformed")
    process_id = as_int(raw.get("process_id"), "process_id", "field.process", minimum=1)
    department_id = as_int(raw.get("department_id"), "department_id", "field.department", minimum=1)
    process = db.get(Process, process_id)
    if process is None or not process.is_active:
        raise NotFoundError("error.process_unknown_or_inactive", "process_id")
    department = db.get(Department, department_id)
    if department is None or not department.is_active:
        raise NotFoundError("error.department_unknown_or_inactive", "department_id")
    active = as_flag(raw.get("is_active", True), "is_active", "field.active")
    values: dict[str, Any] = {}
    if "min_level" in raw:  # left out: unchanged (0 for a new rule)
        level = as_int(raw["min_level"], "min_level", "skills.field.min_level", optional=True)
        values["min_level"] = validate_level(0 if level is None else level, "min_level")
    return {
        **values,
        "process_id": process_id,
        "department_id": department_id,
        "priority": as_int(raw.get("priority"), "priority", "field.priority", minimum=0, maximum=100),
        "strategy": as_choice(raw.get("strategy"), Strategy, "strategy", "field.strategy"),
        "notes": as_text(raw.get("notes"), "notes", "field.notes", max_length=REASON_LENGTH),
        "is_active": active,
    }


def _duplicate(department: Department, process: Process) -> ConflictError:
    return ConflictError(
        "error.rule_exists",
        "department_id",
        process=named(process.name, process.names),
        department=named(department.name, department.names),
    )


def save_rule(db: Session, actor: Actor | None, raw: dict[str, Any], rule_id: Any = None) -> int:
    """Create a rule, or update one when ``rule_id`` is given.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        raw: ``process_id``, ``department_id``, ``priority`` (0-100), ``strategy``, ``notes``,
            ``is_active``, ``min_level`` (0-3, the qualification operators need; empty: 0; left
            out: unchanged, 0 for a new rule).
        rule_id: The rule to update.

    Returns:
        The rule id.

    Raises:
        ValidationError: On invalid input; ConflictError when (process, department) exists.
    """
    require_supervisor(actor)
    values = _parse(db, raw)
    if rule_id not in (None, "", 0):
        rule = db.get(AssignmentRule, as_int(rule_id, "rule_id", "field.rule", minimum=1))
        if rule is None:
            raise NotFoundError("error.rule_unknown")
    else:
        rule = AssignmentRule(**values)
    for key, value in values.items():
        setattr(rule, key, value)
    rule.updated_at = utc_now()
    db.add(rule)
    try:
        db.commit()
    except IntegrityError as error:
        db.rollback()
        process = db.get(Process, values["process_id"])
        department = db.get(Department, values["department_id"])
        raise _duplicate(department, process) from error
    return rule.id


def set_active(db: Session, actor: Actor | None, rule_id: Any, active: Any) -> None:
    """Activate or deactivate a rule.

    Args:
        db: Open session; committed here.
        actor: The acting supervisor.
        rule_id: The rule.
        active: True or False.
    """
    require_supervisor(actor)
    if not isinstance(active, bool):
        raise ValidationError("error.yes_or_no", "is_active", label=msg("field.active"))
    rule = db.get(AssignmentRule, as_int(rule_id, "rule_id", "field.rule", minimum=1))
    if rule is None:
        raise NotFoundError("error.rule_unknown")
    rule.is_active = active
    rule.updated_at = utc_now()
    db.add(rule)
    db.commit()


def preview(
    db: Session, actor: Actor | None, limit: int = 100
) -> tuple[list[PreviewRow], dispatch.DispatchReport]:
    """What a dispatch would do now for the first pending tasks, with names; changes nothing.

    Args:
        db: Open session (read only).
        actor: The acting supervisor.
        limit: How many pending tasks to show.

    Returns:
        Rows for the page and the report's counts.
    """
    report = dispatch.preview(db, actor, limit=limit)
    locale = actor.locale
    ids = [d.task_id for d in report.decisions]
    info = (
        {
            task_id: (order_number, localized_name(process, names, locale))
            for task_id, order_number, process, names in db.exec(
                select(Task.id, WorkOrder.order_number, Process.name, Process.names)
                .join(WorkOrder, WorkOrder.id == Task.work_order_id)
                .join(Process, Process.id == Task.process_id)
                .where(Task.id.in_(ids))
            ).all()
        }
        if ids
        else {}
    )
    departments = {
        department_id: localized_name(name, names, locale)
        for department_id, name, names in db.exec(
            select(Department.id, Department.name, Department.names)
        ).all()
    }
    operator_ids = {d.operator_id for d in report.decisions if d.operator_id}
    operators = (
        dict(db.exec(select(User.id, User.display_name).where(User.id.in_(operator_ids))).all())
        if operator_ids
        else {}
    )
    rows = [
        PreviewRow(
            task_id=d.task_id,
            order_number=info.get(d.task_id, ("", ""))[0],
            process=info.get(d.task_id, ("", ""))[1],
            outcome=d.outcome,
            department=departments.get(d.department_id, "") if d.department_id else "",
            operator=operators.get(d.operator_id, "") if d.operator_id else "",
            reason=as_message(d.explanation.get("reason")).render(locale),
            outcome_label=translate(f"dispatch.outcome.{d.outcome}", locale),
            details="\n".join(explanation_lines(d.explanation, locale, settings.timezone)),
        )
        for d in report.decisions
    ]
    return rows, report
