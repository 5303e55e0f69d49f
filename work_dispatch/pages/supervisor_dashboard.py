"""Supervisor dashboard: where work orders and tasks stand, and the live KPI charts."""

from __future__ import annotations

import reflex as rx

from work_dispatch.components.cards import section, stat_tile
from work_dispatch.components.charts import Series, chart, chart_card, export_menu
from work_dispatch.components.forms import field_block, option_select
from work_dispatch.components.shell import supervisor_shell
from work_dispatch.components.text import enum_key, number, t, tf
from work_dispatch.states.dashboard import DashboardState as S
from work_dispatch.states.session import SessionState

ROUTE = "/supervisor"

TODAY = "var(--accent-9)"
YESTERDAY = "var(--gray-9)"
WIP_COLORS = {
    "pending": "var(--gray-8)",
    "queued": "var(--orange-9)",
    "assigned": "var(--blue-8)",
    "in_progress": "var(--indigo-11)",
    "paused": "var(--yellow-9)",
}
STANDARD_ACTUAL = [
    Series("standard", "ui.kpi.series.standard", "var(--gray-8)"),
    Series("actual", "ui.kpi.series.actual", "var(--accent-9)"),
]
"""The two bars of the standard-against-actual charts (per process, per operator)."""
ROW_PX = 40
"""Height of one row of a horizontal bar chart."""


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
            S.department_counts,
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


def _export(table: str) -> rx.Component:
    return export_menu(
        S.export_kpi(table, "csv"), S.export_kpi(table, "xlsx"), f"kpi-export-{table.replace('_', '-')}"
    )


def _rows_height(rows: rx.Var, minimum: int = 3) -> rx.Var:
    """Pixels for a horizontal bar chart of ``rows`` (room for the axis and the legend)."""
    return rx.cond(rows.length() > minimum, rows.length(), minimum) * ROW_PX + 70


def _filters() -> rx.Component:
    errors = S.kpi_errors
    return rx.flex(
        rx.box(
            field_block(
                t("ui.kpi.filters.first_day"),
                rx.input(
                    type="date",
                    value=S.kpi_first_day,
                    on_change=lambda value: S.set_kpi_filter("first_day", value),
                    id="kpi-first-day",
                    size="2",
                ),
                errors.get("first_day", ""),
            ),
            width=rx.breakpoints(initial="100%", sm="180px"),
        ),
        rx.box(
            field_block(
                t("ui.kpi.filters.last_day"),
                rx.input(
                    type="date",
                    value=S.kpi_last_day,
                    on_change=lambda value: S.set_kpi_filter("last_day", value),
                    id="kpi-last-day",
                    size="2",
                ),
                errors.get("last_day", ""),
            ),
            width=rx.breakpoints(initial="100%", sm="180px"),
        ),
        rx.box(
            field_block(
                t("ui.kpi.filters.department"),
                option_select(
                    S.kpi_departments,
                    S.kpi_department,
                    lambda value: S.set_kpi_filter("department_id", value),
                    none_label=t("ui.kpi.all_departments"),
                    id="kpi-department",
                ),
                errors.get("department_id", ""),
            ),
            width=rx.breakpoints(initial="100%", sm="220px"),
        ),
        rx.button(
            rx.icon("calendar-range", size=16),
            t("ui.kpi.filters.reset"),
            on_click=S.reset_kpi_filters,
            variant="soft",
            size="2",
            id="kpi-reset",
            margin_top=rx.breakpoints(initial="0", sm="22px"),
        ),
        rx.cond(
            errors.get("form", "") != "",
            rx.text(errors.get("form", ""), size="2", color_scheme="red", class_name="field-error"),
        ),
        wrap="wrap",
        gap="12px",
        align="start",
        width="100%",
        id="kpi-filters",
    )


def _throughput(key: str, title_key: str, total_key: str, element_id: str) -> rx.Component:
    totals = S.throughput_totals
    return chart_card(
        title_key,
        chart(
            S.throughput,
            [
                Series(f"today_{key}", "ui.kpi.series.today", TODAY),
                Series(f"yesterday_{key}", "ui.kpi.series.yesterday", YESTERDAY, line=True, dashed=True),
            ],
            category="hour",
        ),
        subtitle=tf(
            total_key,
            today=number(totals[f"today_{key}"]),
            yesterday=number(totals[f"yesterday_{key}"]),
        ),
        element_id=element_id,
        actions=_export("throughput"),
        data_today=totals[f"today_{key}"],
        data_yesterday=totals[f"yesterday_{key}"],
        data_pushes=S.kpi_pushes,
    )


def _wip() -> rx.Component:
    return chart_card(
        "ui.kpi.wip.title",
        chart(
            S.wip,
            [
                Series(status, enum_key("task_status", status), color, stack="wip")
                for status, color in WIP_COLORS.items()
            ],
            vertical=True,
            height=_rows_height(S.wip),
        ),
        subtitle=t("ui.kpi.wip.subtitle"),
        element_id="kpi-wip",
        empty=S.wip.length() == 0,
        actions=_export("wip"),
    )


def _load(
    rows: rx.Var, title_key: str, table: str, element_id: str, footer: rx.Component | None = None
) -> rx.Component:
    return chart_card(
        title_key,
        chart(
            rows,
            [
                Series("load", "ui.kpi.series.load", "var(--accent-9)"),
                Series("capacity", "ui.kpi.series.capacity", "var(--grass-8)"),
            ],
            vertical=True,
            height=_rows_height(rows),
        ),
        subtitle=t("ui.kpi.load.subtitle"),
        element_id=element_id,
        empty=rows.length() == 0,
        footer=footer,
        actions=_export(table),
    )


def _hint(text: rx.Var) -> rx.Component:
    return rx.text(text, size="1", color_scheme="gray")


def _on_time() -> rx.Component:
    totals = S.on_time_totals
    return chart_card(
        "ui.kpi.on_time.title",
        chart(
            S.on_time_weeks,
            [
                Series("on_time", "ui.kpi.series.on_time", "var(--grass-9)", stack="orders"),
                Series("late", "ui.kpi.series.late", "var(--red-9)", stack="orders"),
                Series("rate", "ui.kpi.series.rate", "var(--accent-11)", line=True, axis="right"),
            ],
            category="week",
            right_axis_unit="%",
        ),
        subtitle=rx.cond(
            totals["orders"].to(int) > 0,
            tf(
                "ui.kpi.on_time.rate",
                rate=totals["rate"],
                on_time=number(totals["on_time"]),
                orders=number(totals["orders"]),
            ),
            t("ui.kpi.on_time.subtitle"),
        ),
        element_id="kpi-on-time",
        empty=totals["orders"].to(int) == 0,
        actions=_export("on_time"),
    )


def _bars(
    rows: rx.Var,
    title_key: str,
    subtitle_key: str,
    series: list[Series],
    table: str,
    footer: rx.Component | None = None,
) -> rx.Component:
    return chart_card(
        title_key,
        chart(rows, series, vertical=True, height=_rows_height(rows), category_width=150),
        subtitle=t(subtitle_key),
        element_id=f"kpi-{table.replace('_', '-')}",
        empty=rows.length() == 0,
        footer=footer,
        actions=_export(table),
    )


def _kpis() -> rx.Component:
    return rx.vstack(
        _filters(),
        rx.grid(
            _throughput(
                "tasks", "ui.kpi.throughput.tasks", "ui.kpi.throughput.tasks_total", "kpi-throughput-tasks"
            ),
            _throughput(
                "units", "ui.kpi.throughput.units", "ui.kpi.throughput.units_total", "kpi-throughput-units"
            ),
            rx.box(_wip(), grid_column=rx.breakpoints(initial="auto", lg="span 2"), min_width="0"),
            _load(
                S.load_departments,
                "ui.kpi.load.departments",
                "load_departments",
                "kpi-load-departments",
                rx.cond(S.departments_without_shifts, _hint(t("ui.kpi.load.no_shift"))),
            ),
            _load(
                S.load_operators,
                "ui.kpi.load.operators",
                "load_operators",
                "kpi-load-operators",
                rx.cond(
                    S.more_operators > 0,
                    _hint(tf("ui.kpi.load.more_operators", count=number(S.more_operators))),
                ),
            ),
            _bars(
                S.standard_actual,
                "ui.kpi.standard.title",
                "ui.kpi.standard.subtitle",
                STANDARD_ACTUAL,
                "standard_actual",
            ),
            _bars(
                S.standard_actual_operators,
                "ui.kpi.standard_operators.title",
                "ui.kpi.standard_operators.subtitle",
                STANDARD_ACTUAL,
                "standard_actual_operators",
                rx.cond(
                    S.more_standard_operators > 0,
                    _hint(tf("ui.kpi.standard_operators.more", count=number(S.more_standard_operators))),
                ),
            ),
            _on_time(),
            _bars(
                S.lateness,
                "ui.kpi.lateness.title",
                "ui.kpi.on_time.subtitle",
                [Series("orders", "ui.kpi.series.orders", "var(--amber-9)")],
                "lateness",
            ),
            _bars(
                S.downtime,
                "ui.kpi.downtime.title",
                "ui.kpi.downtime.subtitle",
                [Series("minutes", "ui.kpi.series.minutes", "var(--orange-9)")],
                "downtime",
            ),
            _bars(
                S.scrap,
                "ui.kpi.scrap.title",
                "ui.kpi.scrap.subtitle",
                [Series("units", "ui.kpi.series.scrap", "var(--red-9)")],
                "scrap",
            ),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="4",
            width="100%",
        ),
        spacing="4",
        width="100%",
        id="kpi",
    )


def dashboard_page() -> rx.Component:
    """Counts of work orders and tasks by status, the KPI charts and open tasks per department."""
    return supervisor_shell(
        rx.cond(
            S.loaded,
            rx.vstack(
                section(
                    t("ui.nav.work_orders"),
                    _tiles(S.work_order_counts, "work_order_status", "work-order-counts"),
                ),
                section(t("ui.dashboard.tasks"), _tiles(S.task_counts, "task_status", "task-counts")),
                section(t("ui.kpi.title"), _kpis()),
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
