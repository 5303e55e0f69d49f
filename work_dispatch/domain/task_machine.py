"""The task state machine: which action moves a task from which status to which.

draft → (publish) pending → (dispatch) queued in a department pool, or assigned to an
operator → (claim) assigned → in_progress ⇄ paused → completed; cancelled from any open
status; a draft is discarded (deleted or merged away) as a cancelled draft. A paused task
must be resumed before it can be completed, so every minute of work is accounted for by a
start or resume event.

Services never write a status by hand: every compare-and-set takes its "from" statuses
from :func:`allowed_from` and its new status from :func:`target_of`, on every database.
"""

from __future__ import annotations

from enum import StrEnum

from work_dispatch.domain.enums import OPEN_TASK_STATUSES, TaskEventKind, TaskStatus
from work_dispatch.domain.errors import IllegalTransitionError
from work_dispatch.i18n import msg


class TaskAction(StrEnum):
    """Everything that changes a task's status."""

    PUBLISH = "publish"
    PUBLISH_ASSIGNED = "publish_assigned"
    QUEUE = "queue"
    ASSIGN = "assign"
    CLAIM = "claim"
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    COMPLETE = "complete"
    CANCEL = "cancel"
    UNASSIGN = "unassign"
    REASSIGN = "reassign"
    DISCARD = "discard"
    RETURN = "return"


_S = TaskStatus
_OPEN = tuple(status for status in TaskStatus if status in OPEN_TASK_STATUSES)

TRANSITIONS: dict[TaskAction, tuple[tuple[TaskStatus, ...], TaskStatus]] = {
    TaskAction.PUBLISH: ((_S.DRAFT,), _S.PENDING),
    TaskAction.PUBLISH_ASSIGNED: ((_S.DRAFT,), _S.ASSIGNED),
    TaskAction.QUEUE: ((_S.PENDING,), _S.QUEUED),
    TaskAction.ASSIGN: ((_S.PENDING, _S.QUEUED), _S.ASSIGNED),
    TaskAction.CLAIM: ((_S.QUEUED,), _S.ASSIGNED),
    TaskAction.START: ((_S.ASSIGNED,), _S.IN_PROGRESS),
    TaskAction.PAUSE: ((_S.IN_PROGRESS,), _S.PAUSED),
    TaskAction.RESUME: ((_S.PAUSED,), _S.IN_PROGRESS),
    TaskAction.COMPLETE: ((_S.IN_PROGRESS,), _S.COMPLETED),
    TaskAction.CANCEL: (_OPEN, _S.CANCELLED),
    TaskAction.UNASSIGN: ((_S.ASSIGNED, _S.IN_PROGRESS, _S.PAUSED), _S.QUEUED),
    TaskAction.REASSIGN: (_OPEN, _S.ASSIGNED),
    TaskAction.DISCARD: ((_S.DRAFT,), _S.CANCELLED),
    TaskAction.RETURN: ((_S.ASSIGNED,), _S.PENDING),
}

TRANSITION_EVENTS: dict[TaskAction, TaskEventKind] = {
    TaskAction.PUBLISH: TaskEventKind.PUBLISHED,
    TaskAction.PUBLISH_ASSIGNED: TaskEventKind.PUBLISHED,
    TaskAction.QUEUE: TaskEventKind.DISPATCHED,
    TaskAction.ASSIGN: TaskEventKind.DISPATCHED,
    TaskAction.CLAIM: TaskEventKind.CLAIMED,
    TaskAction.START: TaskEventKind.STARTED,
    TaskAction.PAUSE: TaskEventKind.PAUSED,
    TaskAction.RESUME: TaskEventKind.RESUMED,
    TaskAction.COMPLETE: TaskEventKind.COMPLETED,
    TaskAction.CANCEL: TaskEventKind.CANCELLED,
    TaskAction.UNASSIGN: TaskEventKind.UNASSIGNED,
    TaskAction.REASSIGN: TaskEventKind.REASSIGNED,
    TaskAction.DISCARD: TaskEventKind.DELETED,
    TaskAction.RETURN: TaskEventKind.RETURNED,
}
"""The audit event each action writes (merging a draft away writes ``merged_into`` instead)."""


def allowed_from(action: TaskAction) -> tuple[TaskStatus, ...]:
    """Statuses from which ``action`` is legal.

    Args:
        action: The action to look up.

    Returns:
        The statuses the task may be in for the action to apply.
    """
    return TRANSITIONS[action][0]


def target_of(action: TaskAction) -> TaskStatus:
    """The status ``action`` moves a task to.

    Args:
        action: The action to look up.

    Returns:
        The new status.
    """
    return TRANSITIONS[action][1]


def next_status(action: TaskAction, current: str) -> TaskStatus:
    """The status a task reaches when ``action`` is applied to it.

    Args:
        action: What is being done to the task.
        current: The task's current status value.

    Returns:
        The new status.

    Raises:
        IllegalTransitionError: If the action is not legal from ``current``.
    """
    sources, target = TRANSITIONS[action]
    status = TaskStatus(current)
    if status not in sources:
        key = "error.transition.resume_first" if action is TaskAction.COMPLETE and status is _S.PAUSED else ""
        raise IllegalTransitionError(
            key or "error.transition",
            action=msg(f"task_action.{action.value}"),
            status=msg(f"task_status_phrase.{status.value}"),
        )
    return target
