"""Cards for figures and tasks."""

from __future__ import annotations

import reflex as rx

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


def status_badge(status: rx.Var) -> rx.Component:
    """A coloured badge for a task or work-order status var."""
    return rx.match(
        status,
        *[
            (key, rx.badge(key.replace("_", " "), color_scheme=color, size="2"))
            for key, color in STATUS_COLORS.items()
        ],
        rx.badge(status, size="2"),
    )


def priority_badge(priority: rx.Var) -> rx.Component:
    """A coloured badge for a priority var."""
    return rx.match(
        priority,
        *[
            (key, rx.badge(key, color_scheme=color, variant="outline", size="2"))
            for key, color in PRIORITY_COLORS.items()
        ],
        rx.badge(priority, size="2"),
    )


def stat_tile(label: rx.Var, value: rx.Var, status: rx.Var) -> rx.Component:
    """A small tile with a count and its label."""
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray", weight="medium"),
            rx.heading(value, size="7", class_name="stat-value"),
            status_badge(status),
            spacing="2",
        ),
        size="2",
        class_name="stat-tile",
        data_status=status,
    )


def section(title: str, *children: rx.Component, subtitle: rx.Var | str = "") -> rx.Component:
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
                rx.text("Qty ", task["quantity_completed"], " / ", task["production_quantity"], size="3"),
                rx.spacer(),
                rx.cond(task["due_at"] != "", rx.text("Due ", task["due_at"], size="2", color_scheme="gray")),
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
        rx.badge("active", color_scheme="green"),
        rx.badge("inactive", color_scheme="gray"),
    )
