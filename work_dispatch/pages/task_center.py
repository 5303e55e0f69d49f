"""Operator task center (tablet first): check-in, scan to open, my tasks, my departments' pool, bell, live."""

from __future__ import annotations

import reflex as rx
from reflex.components.core.banner import has_connection_errors

from work_dispatch.components.cards import section
from work_dispatch.components.forms import option_select
from work_dispatch.components.shell import operator_shell
from work_dispatch.components.task_cards import (
    TOUCH,
    bell,
    live_indicator,
    my_task_card,
    offline_banner,
    pool_task_card,
    presence_bar,
    scan_box,
    scanned_task,
)
from work_dispatch.components.text import enum_key, t, tf
from work_dispatch.states.session import SessionState
from work_dispatch.states.task_center import PAUSE_REASONS, TaskCenterState

ROUTE = "/operator"
S = TaskCenterState


def _empty(text: rx.Var, element_id: str) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("inbox", size=32, color="var(--gray-8)"),
            rx.text(text, size="3", color_scheme="gray"),
            align="center",
        ),
        padding="32px",
        width="100%",
        id=element_id,
    )


def _my_tasks() -> rx.Component:
    return rx.cond(
        S.my_tasks.length() > 0,
        rx.grid(
            rx.foreach(
                S.my_tasks,
                lambda task: my_task_card(
                    task,
                    S.highlight_ids.contains(task.id),
                    S.start,
                    S.open_pause,
                    S.resume,
                    S.open_report,
                    S.complete,
                ),
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
            id="my-tasks",
        ),
        _empty(t("ui.operator.nothing_assigned"), "my-tasks-empty"),
    )


def _pool() -> rx.Component:
    return rx.cond(
        S.pool.length() > 0,
        rx.grid(
            rx.foreach(S.pool, lambda task: pool_task_card(task, S.claim)),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
            id="pool",
        ),
        _empty(t("ui.operator.pool_empty"), "pool-empty"),
    )


def _pause_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(tf("ui.operator.pause_title", task=S.pause_task_id)),
            rx.dialog.description(t("ui.operator.pause_why"), size="3", margin_bottom="12px"),
            # Cards, not small radio dots: a finger (or a glove) hits them.
            rx.radio_cards.root(
                *[
                    rx.radio_cards.item(t(enum_key("pause_reason", reason)), value=reason, min_height=TOUCH)
                    for reason in PAUSE_REASONS
                ],
                value=S.pause_reason,
                on_value_change=S.set_pause_reason,
                columns="2",
                gap="2",
                size="1",
                id="pause-reasons",
            ),
            rx.hstack(
                rx.button(
                    t("ui.common.cancel"),
                    on_click=S.close_dialogs,
                    variant="soft",
                    color_scheme="gray",
                    size="3",
                    min_height=TOUCH,
                ),
                rx.button(
                    t("ui.task.pause"),
                    on_click=S.confirm_pause,
                    color_scheme="amber",
                    size="3",
                    min_height=TOUCH,
                    id="confirm-pause",
                ),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
            max_width="420px",
        ),
        open=S.pause_task_id > 0,
    )


def _reason_select(options, value, on_change, label_key: str, kind: str) -> rx.Component:
    """Why units were scrapped or sent to rework: the process's reasons, or a note that it has none."""
    return rx.vstack(
        rx.text(t(label_key), size="2", weight="medium"),
        rx.cond(
            options.length() > 0,
            option_select(
                options,
                value,
                on_change,
                placeholder=t("ui.quality.report.pick_reason"),
                id=f"report-{kind}-reason",
                size="3",
            ),
            rx.text(t("ui.quality.report.no_reasons"), size="1", color_scheme="gray"),
        ),
        spacing="1",
        width="100%",
    )


def _report_dialog() -> rx.Component:
    # Full width, like the reason selects under them: one column of touch targets on a tablet.
    number = {
        "type": "number",
        "input_mode": "numeric",
        "pattern": "[0-9]*",
        "min": 0,
        "size": "3",
        "width": "100%",
    }
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(tf("ui.operator.report_title", task=S.report_task_id)),
            rx.form(
                rx.vstack(
                    rx.text(t("ui.operator.good_units"), size="2", weight="medium"),
                    rx.input(
                        name="completed", placeholder="0", id="report-completed", auto_focus=True, **number
                    ),
                    rx.text(t("ui.operator.defective_units"), size="2", weight="medium"),
                    rx.input(name="defective", placeholder="0", id="report-defective", **number),
                    _reason_select(
                        S.scrap_reasons,
                        S.scrap_reason,
                        S.set_scrap_reason,
                        "ui.quality.report.scrap_reason",
                        "scrap",
                    ),
                    rx.text(t("ui.quality.report.rework"), size="2", weight="medium"),
                    rx.input(name="rework", placeholder="0", id="report-rework", **number),
                    _reason_select(
                        S.rework_reasons,
                        S.rework_reason,
                        S.set_rework_reason,
                        "ui.quality.report.rework_reason",
                        "rework",
                    ),
                    rx.text(t("ui.quality.report.rework_hint"), size="1", color_scheme="gray"),
                    rx.checkbox(t("ui.operator.over_production"), name="over_production", size="3"),
                    rx.cond(
                        S.report_error != "",
                        rx.callout(
                            S.report_error,
                            icon="triangle-alert",
                            color_scheme="red",
                            width="100%",
                            id="report-error",
                        ),
                    ),
                    rx.hstack(
                        rx.button(
                            t("ui.common.cancel"),
                            on_click=S.close_dialogs,
                            type="button",
                            variant="soft",
                            color_scheme="gray",
                            size="3",
                            min_height=TOUCH,
                        ),
                        rx.button(
                            t("ui.task.report"), type="submit", size="3", min_height=TOUCH, id="submit-report"
                        ),
                        justify="end",
                        spacing="3",
                        width="100%",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=S.submit_report,
                # A refused report keeps what was typed; the dialog closes (and empties) on success.
                reset_on_submit=False,
            ),
            # Wide enough on a tablet that a long reason's name is not cut short in its select.
            max_width="520px",
        ),
        open=S.report_task_id > 0,
    )


def _scan_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.foreach(
                S.scanned,
                lambda task: rx.fragment(
                    rx.dialog.title(t("scan.ui.title"), size="2", color_scheme="gray", weight="medium"),
                    scanned_task(task, S.scan_action, S.scan_next, S.close_scan),
                ),
            ),
            max_width="560px",
            id="scan-dialog",
        ),
        open=S.scanned.length() > 0,
        on_open_change=S.scan_dialog_changed,
    )


def _notifications() -> rx.Component:
    return rx.cond(
        S.notifications_open,
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading(t("ui.bell.notifications"), size="4"),
                    rx.spacer(),
                    rx.button(
                        t("ui.bell.mark_all_read"),
                        on_click=S.mark_all_read,
                        variant="soft",
                        size="3",
                        min_height=TOUCH,
                        id="mark-all-read",
                    ),
                    rx.icon_button(
                        rx.icon("x"),
                        on_click=S.toggle_notifications,
                        variant="ghost",
                        size="3",
                        aria_label=t("ui.common.close"),
                    ),
                    width="100%",
                    align="center",
                ),
                rx.cond(
                    S.notification_rows.length() == 0, rx.text(t("ui.bell.none_yet"), color_scheme="gray")
                ),
                rx.foreach(
                    S.notification_rows,
                    lambda n: rx.hstack(
                        rx.icon(rx.cond(n.is_read, "mail-open", "mail"), size=18),
                        rx.vstack(
                            rx.text(n.title, weight=rx.cond(n.is_read, "regular", "bold"), size="3"),
                            rx.text(n.body, " · ", n.created_at, size="2", color_scheme="gray"),
                            spacing="1",
                        ),
                        rx.spacer(),
                        rx.cond(
                            ~n.is_read,
                            rx.button(
                                t("ui.bell.mark_read"), on_click=S.mark_read(n.id), variant="ghost", size="2"
                            ),
                        ),
                        width="100%",
                        align="center",
                        padding_y="6px",
                        border_bottom="1px solid var(--gray-4)",
                    ),
                ),
                spacing="2",
                width="100%",
            ),
            width="100%",
            id="notifications",
        ),
    )


def task_center_page() -> rx.Component:
    """My tasks and my departments' pool, updated live."""
    return operator_shell(
        rx.cond(
            S.loaded,
            rx.vstack(
                rx.hstack(
                    rx.heading(
                        tf("ui.operator.hello", name=SessionState.display_name), size="7", id="page-title"
                    ),
                    rx.spacer(),
                    live_indicator(has_connection_errors),
                    bell(S.unread, S.toggle_notifications),
                    width="100%",
                    align="center",
                    spacing="3",
                ),
                offline_banner(has_connection_errors),
                rx.grid(
                    presence_bar(S.presence, S.check_in, S.check_out),
                    rx.card(scan_box(S.scan, S.scan_error), size="2", width="100%", id="scan-card"),
                    columns=rx.breakpoints(initial="1", lg="2"),
                    spacing="3",
                    width="100%",
                ),
                rx.cond(
                    S.new_task_id > 0,
                    rx.callout.root(
                        rx.callout.icon(rx.icon("bell-ring")),
                        rx.hstack(
                            rx.callout.text(
                                rx.cond(
                                    S.new_task_more > 0,
                                    tf("ui.operator.new_tasks", task=S.new_task_id, more=S.new_task_more),
                                    tf("ui.operator.new_task", task=S.new_task_id),
                                ),
                                size="3",
                                weight="bold",
                            ),
                            rx.spacer(),
                            rx.button(
                                t("ui.common.ok"),
                                on_click=S.dismiss_banner,
                                size="3",
                                variant="soft",
                                min_height=TOUCH,
                            ),
                            align="center",
                            width="100%",
                        ),
                        color_scheme="indigo",
                        size="2",
                        width="100%",
                        id="new-task-banner",
                    ),
                ),
                _notifications(),
                section(
                    t("ui.operator.my_tasks"),
                    _my_tasks(),
                    subtitle=tf("ui.operator.open_of_limit", open=S.my_tasks.length(), limit=S.wip_limit),
                ),
                section(
                    t("ui.operator.pool"), _pool(), subtitle=tf("ui.operator.waiting", count=S.pool_count)
                ),
                _pause_dialog(),
                _report_dialog(),
                _scan_dialog(),
                spacing="4",
                width="100%",
            ),
            rx.center(rx.spinner(size="3"), padding="48px"),
        ),
        user_name=SessionState.display_name,
        departments=S.departments,
        on_logout=SessionState.logout,
    )
