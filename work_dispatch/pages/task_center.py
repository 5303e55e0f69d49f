"""Operator task center (tablet first)."""

from __future__ import annotations

import reflex as rx

from work_dispatch.components.cards import section, task_card
from work_dispatch.components.shell import operator_shell
from work_dispatch.states.session import SessionState
from work_dispatch.states.task_center import TaskCenterState

ROUTE = "/operator"


def _task_list(tasks: rx.Var, empty_text: str, list_id: str) -> rx.Component:
    return rx.cond(
        tasks.length() > 0,
        rx.grid(
            rx.foreach(tasks, task_card),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
            id=list_id,
        ),
        rx.center(
            rx.vstack(
                rx.icon("inbox", size=32, color="var(--gray-8)"),
                rx.text(empty_text, size="3", color_scheme="gray"),
                align="center",
            ),
            padding="32px",
            width="100%",
            id=f"{list_id}-empty",
        ),
    )


def task_center_page() -> rx.Component:
    """My tasks and my departments' pool."""
    return operator_shell(
        rx.cond(
            TaskCenterState.loaded,
            rx.vstack(
                rx.heading("Hello, ", SessionState.display_name, size="7", id="page-title"),
                section(
                    "My tasks",
                    _task_list(TaskCenterState.my_tasks, "Nothing assigned to you right now.", "my-tasks"),
                    subtitle=f"WIP limit {TaskCenterState.wip_limit}",
                ),
                section(
                    "Department pool",
                    _task_list(TaskCenterState.pool, "The pool is empty.", "pool"),
                    subtitle=TaskCenterState.pool_count.to_string() + " waiting",
                ),
                spacing="4",
                width="100%",
            ),
            rx.center(rx.spinner(size="3"), padding="48px"),
        ),
        user_name=SessionState.display_name,
        departments=TaskCenterState.departments,
        on_logout=SessionState.logout,
    )
