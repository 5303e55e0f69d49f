"""Tablet task cards with large touch targets (≥ 48 px)."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from work_dispatch.components.cards import priority_badge, status_badge

TOUCH = "48px"


def action_button(
    label: str, icon: str, on_click, color: str = "indigo", variant: str = "solid", **props
) -> rx.Component:
    """A big button for gloved fingers."""
    return rx.button(
        rx.icon(icon, size=20),
        label,
        on_click=on_click,
        size="3",
        color_scheme=color,
        variant=variant,
        min_height=TOUCH,
        min_width="120px",
        **props,
    )


def _progress(task: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(task.quantity_completed, " / ", task.production_quantity, size="4", weight="bold"),
            rx.cond(
                task.quantity_defective > 0,
                rx.text(task.quantity_defective, " defective", size="2", color_scheme="red"),
            ),
            rx.spacer(),
            rx.cond(
                task.due_at != "",
                rx.hstack(
                    rx.icon("clock", size=16),
                    rx.text(task.due_at, size="2"),
                    color="var(--gray-11)",
                    align="center",
                    spacing="1",
                ),
            ),
            width="100%",
            align="center",
        ),
        rx.progress(
            value=(task.quantity_completed * 100 / task.production_quantity).to(int),
            max=100,
            size="2",
            width="100%",
        ),
        width="100%",
        spacing="2",
    )


def task_header(task: rx.Var) -> rx.Component:
    """Order number, task id and badges."""
    return rx.hstack(
        rx.text(task.order_number, size="3", weight="bold"),
        rx.text("#", task.id, size="2", color_scheme="gray"),
        rx.spacer(),
        priority_badge(task.priority),
        status_badge(task.status),
        align="center",
        width="100%",
        spacing="2",
    )


def my_task_card(
    task: rx.Var,
    highlighted: rx.Var,
    on_start: Callable,
    on_pause: Callable,
    on_resume: Callable,
    on_report: Callable,
    on_complete: Callable,
) -> rx.Component:
    """A task of mine with the actions its status allows; blocked tasks are greyed out.

    Args:
        task: Dict var with TaskCard fields.
        highlighted: Whether to highlight it (just assigned).
        on_start: Called with the task id.
        on_pause: Called with the task id (opens the reason picker).
        on_resume: Called with the task id.
        on_report: Called with the task id (opens the quantity dialog).
        on_complete: Called with the task id.

    Returns:
        The card.
    """
    blocked = task.blocked_reason != ""
    actions = rx.match(
        task.status,
        (
            "assigned",
            action_button("Start", "play", on_start(task.id), disabled=blocked, class_name="start-button"),
        ),
        (
            "in_progress",
            rx.hstack(
                action_button(
                    "Report",
                    "clipboard-pen",
                    on_report(task.id),
                    variant="soft",
                    class_name="report-button",
                ),
                action_button(
                    "Pause",
                    "pause",
                    on_pause(task.id),
                    color="amber",
                    variant="soft",
                    class_name="pause-button",
                ),
                action_button(
                    "Complete",
                    "circle-check",
                    on_complete(task.id),
                    color="green",
                    class_name="complete-button",
                ),
                spacing="3",
                wrap="wrap",
            ),
        ),
        (
            "paused",
            rx.hstack(
                action_button("Resume", "play", on_resume(task.id), class_name="resume-button"),
                action_button("Report", "clipboard-pen", on_report(task.id), variant="soft"),
                spacing="3",
                wrap="wrap",
            ),
        ),
        rx.fragment(),
    )
    return rx.card(
        rx.vstack(
            task_header(task),
            rx.heading(task.process, size="6"),
            rx.cond(task.work_content != "", rx.text(task.work_content, size="3", color_scheme="gray")),
            rx.cond(task.requirements != "", rx.text("Requirements: ", task.requirements, size="2")),
            _progress(task),
            rx.cond(
                blocked,
                rx.callout(task.blocked_reason, icon="lock", color_scheme="gray", size="1", width="100%"),
            ),
            rx.cond(
                task.status == "paused",
                rx.callout(
                    f"Paused: {task.pause_reason}",
                    icon="pause",
                    color_scheme="amber",
                    size="1",
                    width="100%",
                ),
            ),
            actions,
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
        class_name="task-card my-task",
        data_task_id=task.id,
        opacity=rx.cond(blocked, "0.6", "1"),
        style={
            "outline": rx.cond(highlighted, "3px solid var(--accent-9)", "none"),
            "transition": "outline 0.3s",
        },
    )


def pool_task_card(task: rx.Var, on_claim: Callable) -> rx.Component:
    """A queued task in a department pool with a Claim button.

    Args:
        task: Dict var with TaskCard fields.
        on_claim: Called with the task id.

    Returns:
        The card.
    """
    blocked = task.blocked_reason != ""
    return rx.card(
        rx.vstack(
            task_header(task),
            rx.hstack(
                rx.heading(task.process, size="5"),
                rx.spacer(),
                rx.badge(task.department, variant="soft", size="2"),
                width="100%",
                align="center",
            ),
            rx.cond(task.work_content != "", rx.text(task.work_content, size="2", color_scheme="gray")),
            _progress(task),
            rx.cond(blocked, rx.text(task.blocked_reason, size="2", color_scheme="gray")),
            action_button("Claim", "hand", on_claim(task.id), variant="soft", class_name="claim-button"),
            spacing="3",
            width="100%",
        ),
        size="2",
        width="100%",
        class_name="task-card pool-task",
        data_task_id=task.id,
    )


def live_indicator(reconnecting: rx.Var) -> rx.Component:
    """A green "Live" dot, amber "Reconnecting…" while the websocket is down."""
    return rx.cond(
        reconnecting,
        rx.badge(
            rx.icon("wifi-off", size=14),
            "Reconnecting…",
            color_scheme="amber",
            size="2",
            id="live-indicator",
            data_live="false",
        ),
        rx.badge(
            rx.box(width="8px", height="8px", border_radius="50%", background="var(--green-9)"),
            "Live",
            color_scheme="green",
            size="2",
            variant="soft",
            id="live-indicator",
            data_live="true",
        ),
    )


def bell(unread: rx.Var, on_click) -> rx.Component:
    """The notification bell with its unread count."""
    return rx.box(
        rx.icon_button(
            rx.icon("bell", size=22),
            on_click=on_click,
            variant="soft",
            size="3",
            min_width=TOUCH,
            min_height=TOUCH,
            id="bell",
            aria_label="Notifications",
        ),
        rx.cond(
            unread > 0,
            rx.badge(
                unread,
                color_scheme="red",
                variant="solid",
                radius="full",
                id="bell-count",
                position="absolute",
                top="-6px",
                right="-6px",
            ),
        ),
        position="relative",
    )
