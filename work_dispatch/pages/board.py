"""Supervisor live board: every task, filtered and paged, updated as the shop floor works."""

from __future__ import annotations

import reflex as rx
from reflex.components.core.banner import has_connection_errors

from work_dispatch.components.cards import priority_badge, status_badge
from work_dispatch.components.forms import NONE_VALUE, choice_select, export_buttons, option_select
from work_dispatch.components.shell import supervisor_shell
from work_dispatch.components.tables import pager, scroll_table
from work_dispatch.components.task_cards import live_indicator
from work_dispatch.components.text import enum_key, enum_text, number, t, tf
from work_dispatch.states.board import BoardCountsState, BoardState
from work_dispatch.states.session import SessionState

ROUTE = "/supervisor/board"
S = BoardState
STATUS_FILTERS = ("pending", "queued", "assigned", "in_progress", "paused", "completed", "cancelled", "draft")
KINDS = ("formal", "draft", "all")
SORTS = ("newest", "updated", "due", "priority")


def _status_choices() -> list[tuple[str, rx.Var]]:
    return [
        ("all", t("ui.board.all_statuses")),
        *[(status, t(enum_key("task_status", status), capital=True)) for status in STATUS_FILTERS],
    ]


def _counters() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.foreach(
                BoardCountsState.by_status,
                lambda c: rx.button(
                    rx.text(enum_text("task_status", c.key, capital=True), size="2"),
                    rx.badge(c.count, variant="solid", radius="full"),
                    variant=rx.cond(S.filters.get("status", "") == c.key, "solid", "soft"),
                    size="2",
                    on_click=S.set_filter("status", c.key),
                    class_name="status-count",
                    data_status=c.key,
                ),
            ),
            wrap="wrap",
            gap="2",
        ),
        rx.flex(
            rx.text(t("ui.board.open_by_department"), size="2", color_scheme="gray"),
            rx.foreach(
                BoardCountsState.by_department,
                lambda c: rx.badge(
                    c.label, ": ", number(c.count), variant="surface", size="2", class_name="department-count"
                ),
            ),
            wrap="wrap",
            gap="2",
            align="center",
        ),
        spacing="2",
        width="100%",
    )


def _filters() -> rx.Component:
    return rx.flex(
        rx.form(
            rx.hstack(
                rx.input(
                    name="search",
                    placeholder=t("ui.board.search_placeholder"),
                    max_length=60,
                    default_value=S.filters.get("search", ""),
                    width="220px",
                    id="board-search",
                ),
                rx.button(
                    rx.icon("search", size=14),
                    variant="soft",
                    type="submit",
                    aria_label=t("ui.common.search"),
                ),
                spacing="2",
            ),
            on_submit=S.search,
            reset_on_submit=False,
        ),
        rx.box(
            choice_select(
                _status_choices(),
                rx.cond(S.filters.get("status", "") == "", "all", S.filters.get("status", "")),
                lambda v: S.set_filter("status", v),
            ),
            width="150px",
        ),
        rx.box(
            option_select(
                S.departments,
                rx.cond(
                    S.filters.get("department_id", "") == "", NONE_VALUE, S.filters.get("department_id", "")
                ),
                lambda v: S.set_filter("department_id", v),
                none_label=t("ui.board.all_departments"),
            ),
            width="180px",
        ),
        rx.box(
            option_select(
                S.operators,
                rx.cond(S.filters.get("operator_id", "") == "", NONE_VALUE, S.filters.get("operator_id", "")),
                lambda v: S.set_filter("operator_id", v),
                none_label=t("ui.board.all_operators"),
            ),
            width="170px",
        ),
        rx.box(
            choice_select(
                [(kind, t(f"ui.board.kind.{kind}")) for kind in KINDS],
                S.filters.get("kind", "formal"),
                lambda v: S.set_filter("kind", v),
            ),
            width="170px",
        ),
        rx.box(
            choice_select(
                [(sort, t(f"ui.board.sort.{sort}")) for sort in SORTS],
                S.filters.get("sort", "newest"),
                lambda v: S.set_filter("sort", v),
            ),
            width="170px",
        ),
        rx.hstack(
            rx.switch(
                checked=S.filters.get("overdue", "") == "true", on_change=lambda v: S.set_filter("overdue", v)
            ),
            rx.text(t("ui.board.overdue"), size="2"),
            align="center",
            spacing="2",
        ),
        rx.button(t("ui.common.clear"), variant="soft", color_scheme="gray", on_click=S.clear_filters),
        rx.spacer(),
        _export_buttons(),
        wrap="wrap",
        gap="3",
        align="center",
        width="100%",
    )


def _export_buttons() -> rx.Component:
    """Every row of the current filter as a file: the browser downloads it over HTTP, not the websocket."""
    return rx.hstack(*export_buttons(S.export, "board"), spacing="2")


def _row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link("#", row.id, on_click=S.open_task(row.id), cursor="pointer")),
        rx.table.cell(row.order_number),
        rx.table.cell(row.process),
        rx.table.cell(row.department),
        rx.table.cell(
            rx.text(row.operator),
            rx.cond(
                row.operator_load_minutes > 0,
                rx.text(
                    tf("ui.board.operator_load", minutes=number(row.operator_load_minutes)),
                    size="1",
                    white_space="nowrap",
                    color_scheme="gray",
                    class_name="operator-load",
                ),
            ),
        ),
        rx.table.cell(status_badge(row.status), class_name="row-status"),
        rx.table.cell(priority_badge(row.priority)),
        rx.table.cell(
            number(row.quantity_completed), " / ", number(row.production_quantity), white_space="nowrap"
        ),
        rx.table.cell(
            rx.text(
                row.due_at,
                color=rx.cond(row.overdue, "var(--red-11)", "inherit"),
                weight=rx.cond(row.overdue, "bold", "regular"),
                white_space="nowrap",
            ),
            rx.cond(
                row.eta != "",
                rx.text(
                    tf("ui.work_orders.eta", eta=row.eta),
                    size="1",
                    white_space="nowrap",
                    color_scheme=rx.cond(row.eta_late, "red", "gray"),
                    class_name="eta",
                ),
            ),
        ),
        rx.table.cell(rx.text(row.updated_at, size="1", color_scheme="gray")),
        on_click=S.open_task(row.id),
        cursor="pointer",
        class_name="board-row",
        data_task_id=row.id,
        key=row.id,
    )


def _reassign_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text(t("ui.board.reassign_heading"), size="2", weight="medium"),
            rx.hstack(
                rx.el.select(
                    rx.el.option(t("ui.board.choose_operator"), value=""),
                    rx.foreach(S.operators, lambda o: rx.el.option(o.label, value=o.value)),
                    name="operator_id",
                    id="reassign-operator",
                    style={
                        "height": "32px",
                        "border_radius": "6px",
                        "padding": "0 8px",
                        "border": "1px solid var(--gray-7)",
                        "background": "var(--color-surface)",
                    },
                ),
                rx.input(
                    name="reason", placeholder=t("ui.board.reason"), max_length=500, id="reassign-reason"
                ),
                spacing="2",
                width="100%",
                wrap="wrap",
            ),
            rx.hstack(
                rx.button(t("ui.board.reassign"), type="submit", size="2", id="reassign-submit"),
                rx.button(
                    t("ui.board.unassign"),
                    type="button",
                    size="2",
                    variant="soft",
                    color_scheme="orange",
                    on_click=S.unassign({}),
                ),
                spacing="2",
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=S.reassign,
        reset_on_submit=True,
        width="100%",
    )


def _drawer() -> rx.Component:
    return rx.drawer.root(
        rx.drawer.overlay(z_index="20"),
        rx.drawer.portal(
            rx.drawer.content(
                rx.vstack(
                    rx.hstack(
                        rx.heading(tf("ui.board.task_title", task=S.drawer_task_id), size="5"),
                        rx.spacer(),
                        rx.icon_button(
                            rx.icon("x"),
                            variant="ghost",
                            on_click=S.close_drawer,
                            id="close-drawer",
                            aria_label=t("ui.common.close"),
                        ),
                        width="100%",
                    ),
                    rx.foreach(
                        S.drawer_row,
                        lambda r: rx.vstack(
                            rx.hstack(
                                rx.text(r.order_number, weight="bold"),
                                rx.text(r.process),
                                status_badge(r.status),
                                priority_badge(r.priority),
                                spacing="2",
                                wrap="wrap",
                            ),
                            rx.text(
                                r.department,
                                " · ",
                                rx.cond(r.operator != "", r.operator, t("ui.board.no_operator")),
                                " · ",
                                number(r.quantity_completed),
                                "/",
                                number(r.production_quantity),
                                size="2",
                                color_scheme="gray",
                            ),
                            spacing="2",
                        ),
                    ),
                    rx.cond(S.drawer_content != "", rx.text(S.drawer_content, size="2")),
                    rx.cond(
                        S.drawer_minutes != "",
                        rx.text(S.drawer_minutes, size="2", color_scheme="gray", id="drawer-minutes"),
                    ),
                    _reassign_form(),
                    rx.separator(size="4"),
                    rx.heading(t("ui.board.history"), size="3"),
                    rx.vstack(
                        rx.foreach(
                            S.drawer_events,
                            lambda e: rx.box(
                                rx.hstack(
                                    rx.badge(enum_text("task_event_kind", e.kind), variant="soft"),
                                    rx.text(e.actor, weight="medium", size="2"),
                                    rx.spacer(),
                                    rx.text(e.at, size="1", color_scheme="gray"),
                                    width="100%",
                                    align="center",
                                ),
                                rx.text(e.summary, size="2", margin_top="4px"),
                                rx.foreach(e.details, lambda d: rx.text(d, size="1", color_scheme="gray")),
                                padding="8px 0",
                                border_bottom="1px solid var(--gray-4)",
                                width="100%",
                                class_name="history-entry",
                            ),
                        ),
                        width="100%",
                        spacing="0",
                        id="task-history",
                    ),
                    spacing="3",
                    width="100%",
                    padding="20px",
                    overflow_y="auto",
                    height="100%",
                ),
                width="min(520px, 100vw)",
                height="100%",
                right="0",
                left="auto",
                top="0",
                position="fixed",
                background="var(--color-panel-solid)",
                z_index="30",
                box_shadow="var(--shadow-5)",
            ),
        ),
        open=S.drawer_task_id > 0,
        direction="right",
        on_open_change=S.drawer_changed,
    )


def board_page() -> rx.Component:
    """Counters, filters, the rows and the drawer."""
    return supervisor_shell(
        rx.cond(
            S.loaded,
            rx.vstack(
                rx.hstack(_counters(), live_indicator(has_connection_errors), width="100%", align="start"),
                _filters(),
                rx.cond(
                    S.error != "",
                    rx.callout(
                        S.error, icon="triangle-alert", color_scheme="amber", width="100%", id="board-error"
                    ),
                ),
                rx.card(
                    scroll_table(
                        (
                            t("ui.common.task"),
                            t("ui.common.order"),
                            t("ui.common.process"),
                            t("ui.common.department"),
                            t("ui.common.operator"),
                            t("ui.common.status"),
                            t("ui.common.priority"),
                            t("ui.common.quantity"),
                            t("ui.common.due"),
                            t("ui.board.updated"),
                        ),
                        S.rows,
                        _row,
                        id="board-table",
                    ),
                    rx.cond(
                        S.rows.length() == 0,
                        rx.center(rx.text(t("ui.board.no_match"), color_scheme="gray"), padding="24px"),
                    ),
                    width="100%",
                ),
                pager(
                    S.cursor_stack.length() == 0,
                    S.next_cursor == "",
                    S.previous_page,
                    S.next_page,
                    rx.text(
                        tf("ui.board.rows_on_page", count=S.rows.length()), size="2", color_scheme="gray"
                    ),
                    next_id="board-next",
                ),
                _drawer(),
                spacing="4",
                width="100%",
            ),
            rx.center(rx.spinner(size="3"), padding="48px"),
        ),
        title=t("ui.nav.board"),
        current=ROUTE,
        user_name=SessionState.display_name,
        user_role=SessionState.role,
        on_logout=SessionState.logout,
    )
