"""Cards for figures and tasks."""

from __future__ import annotations

import reflex as rx

from work_dispatch.components.text import enum_text, number, t, tf

STATUS_COLORS = {
    "draft": "gray",
    "pending": "amber",
    "queued": "orange",
    "assigned": "blue",
    "in_progress": "indigo",
    "paused": "yellow",
    "completed": "green",
    "cancelled": "red",
    "approved": "blue",
}

PRIORITY_COLORS = {"low": "gray", "normal": "blue", "high": "orange", "urgent": "red"}


def _color_of(value: rx.Var, colors: dict[str, str]) -> rx.Var:
    return rx.match(value, *colors.items(), "gray")


def status_badge(status: rx.Var, enum: str = "task_status") -> rx.Component:
    """A coloured badge for a status var, labelled in the reader's language.

    Args:
        status: The stored status (``in_progress``...).
        enum: Whose status: ``task_status`` or ``work_order_status`` (labels differ).

    Returns:
        The badge.
    """
    return rx.badge(enum_text(enum, status), color_scheme=_color_of(status, STATUS_COLORS), size="2")


def priority_badge(priority: rx.Var) -> rx.Component:
    """A coloured badge for a priority var, labelled in the reader's language."""
    return rx.badge(
        enum_text("priority", priority),
        color_scheme=_color_of(priority, PRIORITY_COLORS),
        variant="outline",
        size="2",
    )


def stat_tile(value: rx.Var, status: rx.Var, enum: str) -> rx.Component:
    """A small tile with a count, labelled by its status.

    Args:
        value: The count.
        status: The stored status it counts.
        enum: Whose status: ``task_status`` or ``work_order_status``.

    Returns:
        The tile.
    """
    return rx.card(
        rx.vstack(
            rx.text(enum_text(enum, status, capital=True), size="2", color_scheme="gray", weight="medium"),
            rx.heading(value, size="7", class_name="stat-value"),
            status_badge(status, enum),
            spacing="2",
        ),
        size="2",
        class_name="stat-tile",
        data_status=status,
    )


def section(title: rx.Var, *children: rx.Component, subtitle: rx.Var | str = "") -> rx.Component:
    """A titled card grouping related content."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(title, size="4"),
                rx.text(subtitle, size="2", color_scheme="gray"),
                align="baseline",
                spacing="3",
            ),
            *children,
            spacing="4",
            width="100%",
        ),
        size="3",
        width="100%",
    )


def task_card(task: rx.Var) -> rx.Component:
    """A tablet-sized card of one task (dict var with TaskCard fields)."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text("#", task["id"], size="2", color_scheme="gray"),
                rx.text(task["order_number"], size="2", weight="bold"),
                rx.spacer(),
                priority_badge(task["priority"]),
                status_badge(task["status"]),
                align="center",
                width="100%",
                spacing="2",
            ),
            rx.heading(task["process"], size="5"),
            rx.text(task["work_content"], size="3", color_scheme="gray"),
            rx.hstack(
                rx.text(
                    tf(
                        "ui.task.quantity_of",
                        done=number(task["quantity_completed"]),
                        planned=number(task["production_quantity"]),
                    ),
                    size="3",
                ),
                rx.spacer(),
                rx.cond(
                    task["due_at"] != "",
                    rx.text(tf("ui.task.due", when=task["due_at"]), size="2", color_scheme="gray"),
                ),
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        size="2",
        width="100%",
        class_name="task-card",
    )


def active_badge(is_active: rx.Var) -> rx.Component:
    """Green "active" or grey "inactive"."""
    return rx.cond(
        is_active,
        rx.badge(t("ui.common.active"), color_scheme="green"),
        rx.badge(t("ui.common.inactive"), color_scheme="gray"),
    )
