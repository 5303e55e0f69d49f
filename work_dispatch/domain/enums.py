"""Enumerations of the domain, stored as their string values."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a user may do."""

    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    OPERATOR = "operator"


class Priority(StrEnum):
    """Urgency of a work order and of its tasks."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


PRIORITY_RANK: dict[str, int] = {
    Priority.LOW: 0,
    Priority.NORMAL: 1,
    Priority.HIGH: 2,
    Priority.URGENT: 3,
}


class WorkOrderStatus(StrEnum):
    """Life of a work order."""

    DRAFT = "draft"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ProcessStatus(StrEnum):
    """Life of one process step of a work order."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TaskStatus(StrEnum):
    """Life of a task; see :mod:`work_dispatch.domain.task_machine`."""

    DRAFT = "draft"
    PENDING = "pending"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


OPEN_TASK_STATUSES: frozenset[str] = frozenset(
    {
        TaskStatus.PENDING,
        TaskStatus.QUEUED,
        TaskStatus.ASSIGNED,
        TaskStatus.IN_PROGRESS,
        TaskStatus.PAUSED,
    }
)
"""Published statuses in which a task still needs work."""

CLOSED_TASK_STATUSES: frozenset[str] = frozenset({TaskStatus.COMPLETED, TaskStatus.CANCELLED})
"""Statuses no action leaves: the task needs no more work, so it blocks no later process."""

OPERATOR_LOAD_STATUSES: frozenset[str] = frozenset(
    {TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS, TaskStatus.PAUSED}
)
"""Statuses that count against an operator's WIP limit."""


class Strategy(StrEnum):
    """How a rule picks an operator inside its department."""

    LEAST_TASKS = "least_tasks"
    ROUND_ROBIN = "round_robin"
    RANDOM = "random"
    FIRST_AVAILABLE = "first_available"
    POOL = "pool"
    LEAST_WORK = "least_work"
    DUE_DATE = "due_date"


class PauseReason(StrEnum):
    """Why work stopped: the downtime category an operator picks when pausing.

    The time a task spends paused for any of them is downtime, except ``shift_end``: the
    system pauses running work at the end of a shift (off-shift time, never offered to
    operators).
    """

    BREAKDOWN = "breakdown"
    WAITING_FOR_MATERIAL = "waiting_for_material"
    SETUP = "setup"
    BREAK = "break"
    QUALITY_HOLD = "quality_hold"
    OTHER = "other"
    SHIFT_END = "shift_end"


class NotificationKind(StrEnum):
    """Kinds of notification shown in the bell."""

    TASK_ASSIGNED = "task_assigned"
    TASK_DUE_SOON = "task_due_soon"
    PROCESS_COMPLETED = "process_completed"
    WORK_ORDER_COMPLETED = "work_order_completed"
    TASK_CANCELLED = "task_cancelled"
    TASK_UNASSIGNED = "task_unassigned"
    MATERIAL_AVAILABLE = "material_available"


class TaskEventKind(StrEnum):
    """Entries of a task's audit trail (``TaskEvent.kind``)."""

    GENERATED = "generated"
    REGENERATED = "regenerated"
    EDITED = "edited"
    SPLIT = "split"
    MERGED = "merged"
    MERGED_INTO = "merged_into"
    DELETED = "deleted"
    PUBLISHED = "published"
    DISPATCHED = "dispatched"
    CLAIMED = "claimed"
    STARTED = "started"
    PAUSED = "paused"
    RESUMED = "resumed"
    REPORTED = "reported"
    COMPLETED = "completed"
    REASSIGNED = "reassigned"
    UNASSIGNED = "unassigned"
    CANCELLED = "cancelled"
    RETURNED = "returned"


class AuthEventKind(StrEnum):
    """Audit entries of the login flow."""

    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    USER_CREATED = "user_created"
    USER_UPDATED = "user_updated"
    SESSIONS_REVOKED = "sessions_revoked"
    LOGIN_THROTTLED = "login_throttled"
    THROTTLE_CLEARED = "throttle_cleared"
