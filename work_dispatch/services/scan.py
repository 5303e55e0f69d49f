"""Scan to open: a job traveler's QR code, read by the tablet's scanner, opens its task card.

A keyboard-wedge scanner (USB or Bluetooth) types the code into the tablet's scan box and
presses Enter; :func:`open_scanned` turns that text into the task's card and the next thing the
operator may do with it:

- a task of theirs: start it (assigned), resume it (paused) or report quantities (in progress);
- a task queued in one of their departments' pools: claim it.

Anything else gets a clear message and changes nothing: a code that is malformed or printed by
another installation (:func:`travelers.resolve_scan` decides), a task that is finished, not
released to the shop floor yet, or someone else's. Opening changes nothing either: the action
itself goes through the task services, which check everything again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from work_dispatch.domain.enums import TaskStatus
from work_dispatch.domain.errors import PermissionDeniedError, ValidationError
from work_dispatch.models import Task
from work_dispatch.services import task_center, travelers
from work_dispatch.services.actor import Actor, require_operator
from work_dispatch.services.task_center import TaskCard

FIELD = "scan"
"""The form field scan refusals belong to."""


class NextAction(StrEnum):
    """What the operator may do next with a scanned task."""

    CLAIM = "claim"
    START = "start"
    RESUME = "resume"
    REPORT = "report"


MY_NEXT: dict[str, NextAction] = {
    TaskStatus.ASSIGNED: NextAction.START,
    TaskStatus.PAUSED: NextAction.RESUME,
    TaskStatus.IN_PROGRESS: NextAction.REPORT,
}
"""Status of one of my tasks → the action the scan offers."""

REFUSALS: dict[str, str] = {
    TaskStatus.COMPLETED: "scan.error.completed",
    TaskStatus.CANCELLED: "scan.error.cancelled",
    TaskStatus.DRAFT: "scan.error.not_released",
    TaskStatus.PENDING: "scan.error.not_released",
}
"""Status of a task no operator can act on → why the scan refuses it."""


@dataclass
class ScanResult:
    """A scanned task as the tablet opens it.

    Attributes:
        card: The task's card, in the reader's locale.
        action: The next action the operator may take (a :class:`NextAction` value).
    """

    card: TaskCard
    action: str


def next_action(actor: Actor, task: Task) -> NextAction:
    """What ``actor`` may do next with ``task``, or why not.

    Args:
        actor: The acting operator.
        task: The task.

    Returns:
        The next action.

    Raises:
        ValidationError: For a task that is finished, cancelled or not on the shop floor yet.
        PermissionDeniedError: For someone else's task, or one queued outside the operator's pools.
    """
    if task.is_draft or task.status in REFUSALS:
        raise ValidationError(REFUSALS.get(task.status, "scan.error.not_released"), FIELD, task_id=task.id)
    if task.assigned_operator_id == actor.user_id and task.status in MY_NEXT:
        return MY_NEXT[task.status]
    if (
        task.status == TaskStatus.QUEUED
        and task.assigned_operator_id is None
        and task.assigned_department_id in actor.department_ids
    ):
        return NextAction.CLAIM
    raise PermissionDeniedError("scan.error.not_yours", FIELD, task_id=task.id)


def open_scanned(db: Session, actor: Actor | None, text: Any) -> ScanResult:
    """Open the task a scanned traveler code names, with the next action the operator may take.

    Args:
        db: Open session (read only).
        actor: The acting operator.
        text: What the scanner typed (anything: hostile input is refused with a message).

    Returns:
        The task's card and its next action.

    Raises:
        ValidationError: For a malformed or foreign code, or a task no one can act on now.
        NotFoundError: For a genuine code whose task no longer exists.
        PermissionDeniedError: For a task that is not the operator's to take or work on.
    """
    actor = require_operator(actor)
    task_id = travelers.resolve_scan(db, text)
    task = db.get(Task, task_id)
    action = next_action(actor, task)
    card = task_center.card_of(db, task_id, actor.locale)
    db.rollback()
    return ScanResult(card, action.value)
