"""All database tables. Only services, db and migrations import this module."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import JSON, Column, ForeignKeyConstraint, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

CODE_LENGTH = 32
NAME_LENGTH = 120
TEXT_LENGTH = 2000
REASON_LENGTH = 500


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Department(SQLModel, table=True):
    """A shop department (prepress, printing, ...) owning a pool of tasks.

    ``names`` (on processes and products too) holds optional names per locale,
    ``{"zh-CN": "印刷"}``; a reader without one sees ``name``.
    """

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=CODE_LENGTH, unique=True)
    name: str = Field(max_length=NAME_LENGTH)
    names: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON))
    sort_order: int = 0
    is_active: bool = True
    requires_check_in: bool = False
    shift_end_returns_tasks: bool = True
    shift_end_pauses_tasks: bool = True
    checkout_grace_minutes: int = 15


class User(SQLModel, table=True):
    """Anyone who logs in: admin, supervisor or operator."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=NAME_LENGTH)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)
    is_active: bool = True
    wip_limit: int = 3
    locale: str = Field(default="en", max_length=10)
    created_at: datetime = Field(default_factory=utc_now)
    pin_hash: str | None = Field(default=None, max_length=255)
    """argon2 hash of the operator's quick-switch PIN (shop-floor devices only); None: no PIN."""


class UserDepartment(SQLModel, table=True):
    """Membership of a user in a department (many to many)."""

    __tablename__ = "user_department"
    __table_args__ = (Index("ix_user_department_department", "department_id"),)

    user_id: int = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")
    department_id: int = Field(foreign_key="department.id", primary_key=True)


class UserSession(SQLModel, table=True):
    """A logged-in browser; the browser keeps the raw token, we keep its hash."""

    __tablename__ = "user_session"
    __table_args__ = (Index("ix_user_session_user", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utc_now)
    expires_at: datetime
    revoked_at: datetime | None = None
    address: str = Field(default="", max_length=64)
    last_seen_at: datetime | None = None
    """Last handler call of the browser (idle sessions end: ``expires_at`` slides with it)."""
    device_id: int | None = Field(default=None, foreign_key="shop_floor_device.id", ondelete="SET NULL")
    """The shop-floor device the session was opened on, if any."""


class AuthEvent(SQLModel, table=True):
    """Audit of logins, failed logins and logouts (also feeds rate limiting)."""

    __tablename__ = "auth_event"
    __table_args__ = (
        Index("ix_auth_event_username_created", "username", "created_at"),
        Index("ix_auth_event_address_created", "address", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    username: str = Field(max_length=64)
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    address: str = Field(default="", max_length=64)
    reason: str = Field(default="", max_length=120)
    created_at: datetime = Field(default_factory=utc_now)


class Process(SQLModel, table=True):
    """A kind of work (plate making, die cutting, ...) with its standard time."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=CODE_LENGTH, unique=True)
    name: str = Field(max_length=NAME_LENGTH)
    names: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON))
    standard_minutes: int = 30
    is_active: bool = True
    setup_minutes: int = 15
    units_per_hour: int = 1000
    transfer_batch: int | None = None


class DefectReason(SQLModel, table=True):
    """Why units of a process were scrapped or sent to rework; supervisors keep the list.

    ``kind`` is ``scrap`` or ``rework``; ``code`` is unique per process and kind and never
    changes (report events keep it); a reason no longer used is deactivated, not deleted.
    """

    __tablename__ = "defect_reason"
    __table_args__ = (
        UniqueConstraint("process_id", "kind", "code", name="uq_defect_reason_process_kind_code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    process_id: int = Field(foreign_key="process.id", ondelete="CASCADE")
    kind: str = Field(max_length=16)
    code: str = Field(max_length=CODE_LENGTH)
    name: str = Field(max_length=NAME_LENGTH)
    names: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON))
    is_active: bool = True
    sort_order: int = 0


class Product(SQLModel, table=True):
    """Something the shop makes, with a default route of processes."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=CODE_LENGTH, unique=True)
    name: str = Field(max_length=NAME_LENGTH)
    names: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON))
    unit: str = Field(default="pcs", max_length=16)
    is_active: bool = True


class ProductRouteStep(SQLModel, table=True):
    """One step of a product's default route."""

    __tablename__ = "product_route_step"
    __table_args__ = (UniqueConstraint("product_id", "sequence", name="uq_route_product_sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", ondelete="CASCADE")
    sequence: int
    process_id: int = Field(foreign_key="process.id")
    transfer_batch: int | None = None


class Customer(SQLModel, table=True):
    """Who a work order is for."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=NAME_LENGTH, unique=True)
    contact: str = Field(default="", max_length=NAME_LENGTH)


class OrderNumberCounter(SQLModel, table=True):
    """Last order number handed out per month; bumped atomically."""

    __tablename__ = "order_number_counter"

    period: str = Field(max_length=6, primary_key=True)
    last_value: int = 0


class WorkOrder(SQLModel, table=True):
    """A customer order to be produced through a route of processes."""

    __tablename__ = "work_order"
    __table_args__ = (
        Index("ix_work_order_status_id", "status", "id"),
        Index("ix_work_order_customer_id", "customer_id", "id"),
        Index("ix_work_order_delivery_date", "delivery_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_number: str = Field(max_length=16, unique=True)
    customer_id: int = Field(foreign_key="customer.id")
    product_id: int = Field(foreign_key="product.id")
    quantity: int
    unit: str = Field(default="pcs", max_length=16)
    priority: str = Field(default="normal", max_length=16)
    delivery_date: date | None = None
    status: str = Field(default="draft", max_length=16)
    notes: str = Field(default="", max_length=TEXT_LENGTH)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    version: int = 1
    eta_at: datetime | None = None
    eta_at_risk: bool = False


class WorkOrderProcess(SQLModel, table=True):
    """One process of a work order's route, in sequence."""

    __tablename__ = "work_order_process"
    __table_args__ = (
        UniqueConstraint("work_order_id", "sequence", name="uq_wop_order_sequence"),
        # Target of the task's composite foreign key (its denormalized copies must match).
        UniqueConstraint("id", "work_order_id", "process_id", name="uq_wop_id_order_process"),
    )

    id: int | None = Field(default=None, primary_key=True)
    work_order_id: int = Field(foreign_key="work_order.id", ondelete="CASCADE")
    process_id: int = Field(foreign_key="process.id")
    sequence: int
    department_id: int | None = Field(default=None, foreign_key="department.id")
    batch_size: int | None = None
    setup_minutes: int | None = None
    units_per_hour: int | None = None
    transfer_batch: int | None = None
    material_available_at: datetime | None = None
    status: str = Field(default="pending", max_length=16)
    quantity_completed: int = 0
    quantity_defective: int = 0
    completed_at: datetime | None = None


class Task(SQLModel, table=True):
    """A unit of work for one department or operator."""

    # The reference design's assigned_department, assigned_operator, status,
    # (assigned_department, status) and updated_at indexes are left prefixes of the
    # composites below, which serve the same lookups; every index slows every insert.
    __table_args__ = (
        Index("ix_task_wop_status", "work_order_process_id", "status"),
        Index("ix_task_created_at", "created_at"),
        Index("ix_task_is_draft_status", "is_draft", "status"),
        Index("ix_task_operator_status_updated", "assigned_operator_id", "status", "updated_at"),
        Index("ix_task_work_order_sequence", "work_order_id", "sequence"),
        Index("ix_task_status_id", "status", "id"),
        # Keyset pages of the live board: every sort ends with id as the tie-breaker.
        Index("ix_task_board_updated", "updated_at", "id"),
        Index("ix_task_board_due", "due_at", "id"),
        Index("ix_task_board_priority", "priority_rank", "id"),
        Index("ix_task_board_department_status", "assigned_department_id", "status", "id"),
        # KPI charts (services/kpi.py): tasks completed in a range, covered for index-only scans.
        Index(
            "ix_task_completed_kpi",
            "completed_at",
            "assigned_department_id",
            "process_id",
            "work_order_id",
            "id",
            "started_at",
            "planned_minutes",
            "quantity_defective",
        ),
        # Rework tasks of an origin (services/task_flow.py); partial, as almost every task has none.
        Index(
            "ix_task_rework_of",
            "rework_of_task_id",
            postgresql_where=text("rework_of_task_id IS NOT NULL"),
            sqlite_where=text("rework_of_task_id IS NOT NULL"),
        ),
        # One check that the work order process exists and that the denormalized work order
        # and process are its own (they reach work_order and process through it).
        ForeignKeyConstraint(
            ["work_order_process_id", "work_order_id", "process_id"],
            ["work_order_process.id", "work_order_process.work_order_id", "work_order_process.process_id"],
            name="fk_task_work_order_process",
            ondelete="CASCADE",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    work_order_process_id: int
    work_order_id: int
    process_id: int
    sequence: int
    generation_key: str = Field(max_length=64, unique=True)
    is_draft: bool = True
    status: str = Field(default="draft", max_length=16)
    assigned_department_id: int | None = Field(default=None, foreign_key="department.id")
    assigned_operator_id: int | None = Field(default=None, foreign_key="user.id")
    priority: str = Field(default="normal", max_length=16)
    priority_rank: int = 1
    due_at: datetime | None = None
    production_quantity: int
    quantity_completed: int = 0
    quantity_defective: int = 0
    allow_over_production: bool = False
    work_content: str = Field(default="", max_length=TEXT_LENGTH)
    requirements: str = Field(default="", max_length=TEXT_LENGTH)
    pause_reason: str = Field(default="", max_length=REASON_LENGTH)
    rework_of_task_id: int | None = Field(default=None, foreign_key="task.id", ondelete="SET NULL")
    planned_minutes: float = 0.0
    setup_minutes: float = 0.0
    eta_at: datetime | None = None
    version: int = 1
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    published_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None


class AssignmentRule(SQLModel, table=True):
    """Routes a process's tasks to a department, picking operators by a strategy."""

    __tablename__ = "assignment_rule"
    __table_args__ = (UniqueConstraint("process_id", "department_id", name="uq_rule_process_department"),)

    id: int | None = Field(default=None, primary_key=True)
    process_id: int = Field(foreign_key="process.id")
    department_id: int = Field(foreign_key="department.id")
    priority: int = 50
    strategy: str = Field(default="least_tasks", max_length=20)
    min_level: int = 0
    is_active: bool = True
    notes: str = Field(default="", max_length=REASON_LENGTH)
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)


class DispatchCursor(SQLModel, table=True):
    """Round-robin position per department: the last operator given a task."""

    __tablename__ = "dispatch_cursor"

    department_id: int = Field(foreign_key="department.id", primary_key=True)
    last_operator_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")


class AppSetting(SQLModel, table=True):
    """Global switches such as auto-dispatch, stored as JSON values."""

    __tablename__ = "app_setting"

    key: str = Field(max_length=64, primary_key=True)
    value: Any = Field(default=None, sa_column=Column(JSON))
    updated_at: datetime = Field(default_factory=utc_now)


class TaskEvent(SQLModel, table=True):
    """The audit trail of a task; ``actor_id`` None means the system."""

    __tablename__ = "task_event"
    __table_args__ = (
        Index("ix_task_event_task_created", "task_id", "created_at"),
        # KPI charts (services/kpi.py): events of some kinds in a range, and their tasks.
        Index("ix_task_event_kind_created", "kind", "created_at", "task_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", ondelete="CASCADE")
    actor_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    kind: str = Field(max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utc_now)


class Notification(SQLModel, table=True):
    """A message in a user's bell.

    ``message`` is ``{"title": <message>, "body": <message> | None}``, each a
    :class:`~work_dispatch.i18n.Message` as JSON: every reader sees it in their own locale.
    """

    __table_args__ = (
        Index("ix_notification_recipient_read_created", "recipient_id", "is_read", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    recipient_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    kind: str = Field(max_length=32)
    message: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    task_id: int | None = Field(default=None, foreign_key="task.id", ondelete="CASCADE")
    work_order_id: int | None = Field(default=None, foreign_key="work_order.id", ondelete="CASCADE")
    is_read: bool = False
    read_at: datetime | None = None
    created_at: datetime = Field(default_factory=utc_now)


class LoginThrottle(SQLModel, table=True):
    """Failed logins of one (username, address) pair, or of one username or address overall.

    ``services/login_throttle.py`` states the rules. A row past ``expires_at`` means nothing
    any more and may be deleted.
    """

    __tablename__ = "login_throttle"
    __table_args__ = (
        UniqueConstraint("scope", "username", "address", name="uq_login_throttle_key"),
        Index("ix_login_throttle_expires", "expires_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=16)
    username: str = Field(default="", max_length=64)
    address: str = Field(default="", max_length=64)
    failures: int = 0
    refused: int = 0
    started_at: datetime = Field(default_factory=utc_now)
    last_failure_at: datetime | None = None
    blocked_until: datetime | None = None
    audited_at: datetime | None = None
    expires_at: datetime = Field(default_factory=utc_now)


class ShopFloorDevice(SQLModel, table=True):
    """A browser a supervisor marked as a shared shop-floor tablet: PIN logins are accepted there.

    The browser keeps a random device token; we keep its SHA-256 hash.
    """

    __tablename__ = "shop_floor_device"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    token_hash: str = Field(max_length=64, unique=True)
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utc_now)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ShiftTemplate(SQLModel, table=True):
    """A recurring shift of a department: local start and end on some weekdays.

    ``weekdays`` is a bit mask of the days the shift starts on (Monday = bit 0). A
    department without any active template has no shift limits: its operators may get
    work at any time.
    """

    __tablename__ = "shift_template"

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=64)
    start_time: time
    end_time: time
    weekdays: int = 0b0011111
    overnight: bool = False
    is_active: bool = True


class Closure(SQLModel, table=True):
    """Days the shop (``department_id`` None) or one department does not work."""

    id: int | None = Field(default=None, primary_key=True)
    department_id: int | None = Field(default=None, foreign_key="department.id", ondelete="CASCADE")
    first_day: date = Field(index=True)
    last_day: date
    reason: str = Field(default="", max_length=REASON_LENGTH)


class Absence(SQLModel, table=True):
    """An operator away from ``start_at`` to ``end_at`` (end excluded)."""

    __table_args__ = (Index("ix_absence_operator_end", "operator_id", "end_at"),)

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    start_at: datetime
    end_at: datetime
    reason: str = Field(default="", max_length=REASON_LENGTH)
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utc_now)


class Presence(SQLModel, table=True):
    """One check-in of an operator; open while ``checked_out_at`` is None.

    ``checkout_kind`` says how it ended: ``manual`` (the operator), ``shift_end`` (automatic,
    at the end of the shift plus the department's grace) or ``supervisor``.
    """

    __table_args__ = (Index("ix_presence_operator_out", "operator_id", "checked_out_at"),)

    id: int | None = Field(default=None, primary_key=True)
    operator_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    checked_in_at: datetime = Field(default_factory=utc_now)
    checked_out_at: datetime | None = None
    checkout_kind: str = Field(default="", max_length=16)


class Qualification(SQLModel, table=True):
    """An operator's skill level (0 = not trained … 3 = expert) for a process."""

    operator_id: int = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")
    process_id: int = Field(foreign_key="process.id", primary_key=True, ondelete="CASCADE")
    level: int = 0
