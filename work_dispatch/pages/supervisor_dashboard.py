"""Supervisor dashboard: where work orders and tasks stand."""

from __future__ import annotations

import reflex as rx

from work_dispatch.components.cards import section, stat_tile
from work_dispatch.components.shell import supervisor_shell
from work_dispatch.components.text import number, t, tf
from work_dispatch.states.dashboard import DashboardState
from work_dispatch.states.session import SessionState

ROUTE = "/supervisor"


def _tiles(counts: rx.Var, enum: str, element_id: str) -> rx.Component:
    return rx.grid(
        rx.foreach(counts, lambda c: stat_tile(c["count"], c["status"], enum)),
        columns=rx.breakpoints(initial="2", sm="3", lg="4"),
        spacing="3",
        width="100%",
        id=element_id,
    )


def _department_load() -> rx.Component:
    return rx.grid(
        rx.foreach(
            DashboardState.department_counts,
            lambda d: rx.card(
                rx.hstack(
                    rx.text(d["label"], size="3", weight="medium"),
                    rx.spacer(),
                    rx.badge(tf("ui.dashboard.open", count=number(d["count"])), size="2", variant="surface"),
                    align="center",
                    width="100%",
                ),
            ),
        ),
        columns=rx.breakpoints(initial="1", sm="2", lg="3"),
        spacing="3",
        width="100%",
    )


def dashboard_page() -> rx.Component:
    """Counts of work orders and tasks by status and open tasks per department."""
    return supervisor_shell(
        rx.cond(
            DashboardState.loaded,
            rx.vstack(
                section(
                    t("ui.nav.work_orders"),
                    _tiles(DashboardState.work_order_counts, "work_order_status", "work-order-counts"),
                ),
                section(
                    t("ui.dashboard.tasks"), _tiles(DashboardState.task_counts, "task_status", "task-counts")
                ),
                section(t("ui.dashboard.by_department"), _department_load()),
                spacing="4",
                width="100%",
                id="dashboard",
            ),
            rx.center(rx.spinner(size="3"), padding="48px"),
        ),
        title=t("ui.nav.dashboard"),
        current=ROUTE,
        user_name=SessionState.display_name,
        user_role=SessionState.role,
        on_logout=SessionState.logout,
    )
