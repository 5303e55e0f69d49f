"""Supervisor: review drafts grouped by work order, edit them inline, split, merge, publish."""

from __future__ import annotations

import reflex as rx

from work_dispatch.components.cards import priority_badge
from work_dispatch.components.forms import NONE_VALUE, option_select
from work_dispatch.components.shell import supervisor_shell
from work_dispatch.components.tables import pager, scroll_table
from work_dispatch.components.text import number, t, tf
from work_dispatch.states.drafts import DraftBoardState
from work_dispatch.states.session import SessionState

ROUTE = "/supervisor/drafts"
S = DraftBoardState


def _key(row, name: str) -> rx.Var:
    return row.id.to_string() + "-" + row.version.to_string() + "-" + name


def _draft_row(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.checkbox(
                checked=S.selected.contains(row.id),
                on_change=lambda c: S.toggle(row.id, c),
                size="2",
                class_name="draft-select",
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.text("#", row.id, size="1", color_scheme="gray"),
                rx.text(row.process, weight="medium"),
                rx.button(
                    rx.icon("split", size=14),
                    t("ui.drafts.split"),
                    size="1",
                    variant="soft",
                    on_click=S.open_split(row.id, row.production_quantity),
                    class_name="split-button",
                ),
                spacing="1",
                align="start",
            ),
            min_width="130px",
        ),
        rx.table.cell(
            rx.input(
                default_value=row.production_quantity.to_string(),
                type="number",
                min=1,
                width="100px",
                key=_key(row, "q"),
                class_name="draft-quantity",
                on_blur=lambda v: S.edit(row.id, row.version, "production_quantity", v),
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.input(
                    default_value=row.work_content,
                    key=_key(row, "c"),
                    placeholder=t("ui.drafts.work_content"),
                    max_length=2000,
                    on_blur=lambda v: S.edit(row.id, row.version, "work_content", v),
                    width="100%",
                ),
                rx.input(
                    default_value=row.requirements,
                    key=_key(row, "r"),
                    placeholder=t("ui.drafts.requirements"),
                    max_length=2000,
                    on_blur=lambda v: S.edit(row.id, row.version, "requirements", v),
                    width="100%",
                ),
                spacing="2",
                min_width="180px",
            ),
        ),
        rx.table.cell(
            rx.vstack(
                option_select(
                    S.departments,
                    rx.cond(row.department_id == 0, NONE_VALUE, row.department_id.to_string()),
                    lambda v: S.edit(row.id, row.version, "department_id", v),
                    none_label=t("ui.drafts.department_by_rule"),
                    size="1",
                ),
                option_select(
                    S.operators,
                    rx.cond(row.operator_id == 0, NONE_VALUE, row.operator_id.to_string()),
                    lambda v: S.edit(row.id, row.version, "operator_id", v),
                    none_label=t("ui.drafts.operator_by_dispatch"),
                    size="1",
                ),
                spacing="2",
                width="170px",
            )
        ),
        rx.table.cell(
            rx.input(
                type="datetime-local",
                default_value=row.due_at,
                key=_key(row, "d"),
                on_blur=lambda v: S.edit(row.id, row.version, "due_at", v),
                width="190px",
            )
        ),
        class_name="draft-row",
        data_task_id=row.id,
        vertical_align="top",
    )


def _group(group) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.checkbox(on_change=lambda c: S.toggle_group(group.work_order_id, c), size="2"),
                rx.link(
                    rx.heading(group.order_number, size="4"),
                    href="/supervisor/work-orders/edit?id=" + group.work_order_id.to_string(),
                ),
                priority_badge(group.priority),
                rx.text(
                    rx.cond(
                        group.drafts.length() == 1,
                        t("ui.drafts.one_draft"),
                        tf("ui.drafts.n_drafts", count=group.drafts.length()),
                    ),
                    size="2",
                    color_scheme="gray",
                ),
                rx.spacer(),
                rx.button(
                    rx.icon("printer", size=14),
                    t("ui.traveler.print"),
                    size="2",
                    variant="soft",
                    color_scheme="gray",
                    on_click=S.print_traveler(group.work_order_id),
                    class_name="print-traveler",
                ),
                rx.button(
                    rx.icon("send", size=14),
                    t("ui.drafts.publish_order"),
                    size="2",
                    on_click=S.publish_work_order(group.work_order_id),
                    class_name="publish-order",
                ),
                width="100%",
                align="center",
                spacing="3",
                flex_wrap="wrap",  # the two buttons go below the heading on a tablet
            ),
            scroll_table(
                (
                    "",
                    t("ui.common.process"),
                    t("ui.common.quantity"),
                    t("ui.drafts.content_and_requirements"),
                    t("ui.drafts.assign_to"),
                    t("ui.common.due"),
                ),
                group.drafts,
                _draft_row,
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        class_name="draft-group",
    )


def _split_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(tf("ui.drafts.split_title", task=S.split_task_id)),
            rx.dialog.description(
                tf("ui.drafts.split_question", quantity=number(S.split_quantity)), margin_bottom="12px"
            ),
            rx.input(
                value=S.split_keep,
                on_change=S.set_split_keep,
                type="number",
                min=1,
                size="3",
                id="split-keep",
                input_mode="numeric",
            ),
            rx.cond(
                S.split_error != "", rx.text(S.split_error, color_scheme="red", size="2", id="split-error")
            ),
            rx.hstack(
                rx.button(t("ui.common.cancel"), variant="soft", color_scheme="gray", on_click=S.close_split),
                rx.button(t("ui.drafts.split"), on_click=S.confirm_split, id="confirm-split"),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
            max_width="420px",
        ),
        open=S.split_task_id > 0,
    )


def drafts_page() -> rx.Component:
    """Counts, bulk actions and the groups."""
    toolbar = rx.hstack(
        rx.badge(
            tf(
                "ui.drafts.counts",
                drafts=rx.cond(
                    S.total_drafts == 1,
                    t("ui.drafts.one_draft"),
                    tf("ui.drafts.n_drafts", count=number(S.total_drafts)),
                ),
                orders=rx.cond(
                    S.work_orders_with_drafts == 1,
                    t("ui.drafts.one_work_order"),
                    tf("ui.drafts.n_work_orders", count=number(S.work_orders_with_drafts)),
                ),
            ),
            size="3",
            variant="soft",
            id="draft-counts",
        ),
        rx.cond(
            S.only_work_order != "",
            rx.button(t("ui.drafts.show_all"), variant="ghost", size="2", on_click=S.show_all),
        ),
        rx.spacer(),
        rx.text(tf("ui.drafts.selected", count=S.selected.length()), size="2", color_scheme="gray"),
        rx.button(
            rx.icon("merge", size=14),
            t("ui.drafts.merge"),
            variant="soft",
            on_click=S.merge_selected,
            disabled=S.selected.length() < 2,
        ),
        rx.button(
            rx.icon("trash-2", size=14),
            t("ui.drafts.delete"),
            variant="soft",
            color_scheme="red",
            on_click=S.delete_selected,
            disabled=S.selected.length() == 0,
        ),
        rx.button(
            rx.icon("send", size=14),
            t("ui.drafts.publish_selected"),
            on_click=S.publish_selected,
            disabled=S.selected.length() == 0,
            id="publish-selected",
        ),
        width="100%",
        align="center",
        spacing="3",
        wrap="wrap",
    )
    return supervisor_shell(
        rx.cond(
            S.loaded,
            rx.vstack(
                toolbar,
                rx.cond(
                    S.groups.length() == 0,
                    rx.card(
                        rx.center(
                            rx.text(t("ui.drafts.none"), color_scheme="gray"),
                            padding="32px",
                        ),
                        width="100%",
                    ),
                ),
                rx.foreach(S.groups, _group),
                pager(S.cursor_stack.length() == 0, S.next_cursor == "", S.previous_page, S.next_page),
                _split_dialog(),
                spacing="4",
                width="100%",
            ),
            rx.center(rx.spinner(size="3"), padding="48px"),
        ),
        title=t("ui.nav.drafts"),
        current=ROUTE,
        user_name=SessionState.display_name,
        user_role=SessionState.role,
        on_logout=SessionState.logout,
    )
