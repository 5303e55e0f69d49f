"""Supervisor: the list of work orders with filters and keyset paging."""

from __future__ import annotations

import reflex as rx

from work_dispatch.components.cards import priority_badge, status_badge
from work_dispatch.components.forms import choice_select, export_buttons, option_select
from work_dispatch.components.shell import supervisor_shell
from work_dispatch.components.tables import pager, scroll_table
from work_dispatch.components.text import enum_key, number, t, tf
from work_dispatch.states.session import SessionState
from work_dispatch.states.work_orders import ALL, WorkOrdersState

ROUTE = "/supervisor/work-orders"
S = WorkOrdersState

STATUSES = ("draft", "approved", "in_progress", "completed", "cancelled")
PRIORITIES = ("low", "normal", "high", "urgent")


def _choices(all_key: str, enum: str, values: tuple[str, ...]) -> list[tuple[str, rx.Var]]:
    return [(ALL, t(all_key)), *[(value, t(enum_key(enum, value), capital=True)) for value in values]]


def _filters() -> rx.Component:
    return rx.form(
        rx.flex(
            rx.input(
                name="search",
                placeholder=t("ui.work_orders.search_placeholder"),
                max_length=16,
                width="180px",
                default_value=S.filters.get("search", ""),
                id="wo-search",
            ),
            rx.box(
                choice_select(
                    _choices("ui.board.all_statuses", "work_order_status", STATUSES),
                    S.filters.get("status", ALL),
                    lambda v: S.set_filter("status", v),
                ),
                width="170px",
            ),
            rx.box(
                choice_select(
                    _choices("ui.work_orders.all_priorities", "priority", PRIORITIES),
                    S.filters.get("priority", ALL),
                    lambda v: S.set_filter("priority", v),
                ),
                width="160px",
            ),
            rx.box(
                option_select(
                    S.customers,
                    S.filters.get("customer_id", ""),
                    lambda v: S.set_filter("customer_id", v),
                    placeholder=t("ui.work_orders.any_customer"),
                    none_label=None,
                ),
                width="200px",
            ),
            rx.hstack(
                rx.text(t("ui.work_orders.delivery"), size="2", color_scheme="gray"),
                rx.input(name="delivery_from", type="date", default_value=S.filters.get("delivery_from", "")),
                rx.text("–"),
                rx.input(name="delivery_to", type="date", default_value=S.filters.get("delivery_to", "")),
                align="center",
                spacing="2",
            ),
            rx.text(
                rx.hstack(
                    rx.checkbox(
                        checked=S.at_risk_only,
                        on_change=S.set_at_risk_only,
                        id="wo-at-risk",
                        # Named, so that the form does not submit it by its id (deprecated); the
                        # filters ignore it: the switch applies at once.
                        name="at_risk_only",
                    ),
                    t("ui.work_orders.at_risk_only"),
                    spacing="2",
                    align="center",
                ),
                as_="label",
                size="2",
                white_space="nowrap",
            ),
            rx.button(rx.icon("search", size=16), t("ui.common.apply"), type="submit", variant="soft"),
            rx.button(t("ui.common.clear"), type="button", variant="ghost", on_click=S.clear_filters),
            # Inside the filter row, so that they wrap with it on a tablet; type="button": no submit.
            *export_buttons(S.export, "wo"),
            wrap="wrap",
            spacing="3",
            align="center",
        ),
        on_submit=S.apply_filters,
        reset_on_submit=False,
        width="100%",
    )


def _row(row) -> rx.Component:
    return rx.table.row(
        # Priority under the number, quantity under the product, task counts under the status: six
        # columns fit a tablet's width without scrolling sideways.
        rx.table.cell(
            rx.vstack(
                rx.link(row.order_number, href=f"/supervisor/work-orders/edit?id={row.id}", weight="bold"),
                priority_badge(row.priority),
                spacing="1",
                align="start",
            )
        ),
        rx.table.cell(row.customer),
        rx.table.cell(
            rx.text(row.product),
            rx.text(number(row.quantity), " ", row.unit, size="1", color_scheme="gray", white_space="nowrap"),
        ),
        rx.table.cell(
            rx.text(rx.cond(row.delivery_day != "", row.delivery_day, "—"), white_space="nowrap"),
            rx.cond(
                row.eta != "",
                rx.text(
                    tf("ui.work_orders.eta", eta=row.eta),
                    size="1",
                    white_space="nowrap",
                    color_scheme=rx.cond(row.at_risk, "red", "gray"),
                    weight=rx.cond(row.at_risk, "bold", "regular"),
                    class_name=rx.cond(row.at_risk, "eta at-risk", "eta"),
                ),
            ),
            rx.cond(
                row.at_risk,
                rx.badge(
                    rx.icon("triangle-alert", size=12),
                    t("flow.eta.at_risk"),
                    color_scheme="red",
                    variant="solid",
                    size="1",
                    white_space="nowrap",
                    class_name="at-risk-flag",
                ),
            ),
        ),
        rx.table.cell(
            rx.vstack(
                status_badge(row.status, "work_order_status"),
                rx.text(
                    tf("ui.work_orders.task_count", tasks=row.task_count, drafts=row.draft_count),
                    size="1",
                    color_scheme="gray",
                ),
                spacing="1",
                align="start",
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    row.status == "draft",
                    rx.button(
                        t("ui.work_orders.approve"),
                        size="1",
                        on_click=S.approve(row.id),
                        class_name="approve-button",
                    ),
                ),
                rx.cond(
                    (row.status != "completed") & (row.status != "cancelled"),
                    rx.button(
                        t("ui.common.cancel"),
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        on_click=S.cancel(row.id),
                    ),
                ),
                spacing="2",
            )
        ),
        class_name="work-order-row",
        data_work_order_id=row.id,
        data_at_risk=rx.cond(row.at_risk, "yes", "no"),
    )


def work_orders_page() -> rx.Component:
    """Filters, the table and paging controls."""
    return supervisor_shell(
        rx.vstack(
            rx.hstack(
                _filters(),
                rx.link(
                    rx.button(
                        rx.icon("plus", size=16),
                        t("ui.work_orders.new"),
                        id="new-work-order",
                        white_space="nowrap",
                    ),
                    href="/supervisor/work-orders/edit",
                ),
                width="100%",
                align="start",
                spacing="3",
            ),
            rx.cond(
                S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red", width="100%")
            ),
            rx.card(
                scroll_table(
                    (
                        t("ui.common.order"),
                        t("ui.common.customer"),
                        t("ui.common.product"),
                        t("ui.work_orders.delivery"),
                        t("ui.common.status"),
                        "",
                    ),
                    S.rows,
                    _row,
                    # Tighter cells below 1024 px: a tablet shows every column, the actions too.
                    size=rx.breakpoints(initial="1", md="2"),
                ),
                rx.cond(
                    S.rows.length() == 0,
                    rx.center(rx.text(t("ui.work_orders.no_match"), color_scheme="gray"), padding="24px"),
                ),
                width="100%",
                overflow_x="auto",
                id="work-orders-table",
                data_pushes=S.updates,
            ),
            pager(
                S.cursor_stack.length() == 0,
                S.next_cursor == "",
                S.previous_page,
                S.next_page,
                rx.text(
                    tf("ui.work_orders.page", page=S.cursor_stack.length() + 1), size="2", color_scheme="gray"
                ),
                next_id="next-page",
            ),
            spacing="4",
            width="100%",
        ),
        title=t("ui.nav.work_orders"),
        current=ROUTE,
        user_name=SessionState.display_name,
        user_role=SessionState.role,
        on_logout=SessionState.logout,
    )
