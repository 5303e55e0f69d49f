"""Tablet task cards with large touch targets (≥ 48 px)."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from work_dispatch.components.cards import priority_badge, status_badge
from work_dispatch.components.text import number, t, tf

TOUCH = "48px"


def action_button(
    label: rx.Var, icon: str, on_click, color: str = "indigo", variant: str = "solid", **props
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


def _card_body(task) -> list[rx.Component]:
    """What every full card shows under its title: the job, the spec, progress, and why it waits or pauses."""
    return [
        _job(task),
        task_spec(task),
        _progress(task),
        rx.cond(
            task.blocked_reason != "",
            rx.callout(task.blocked_reason, icon="lock", color_scheme="gray", size="1", width="100%"),
        ),
        _available(task),
        rx.cond(
            task.status == "paused",
            rx.callout(
                tf("ui.task.paused_because", reason=task.pause_reason),
                icon="pause",
                color_scheme="amber",
                size="1",
                width="100%",
            ),
        ),
    ]


def _available(task) -> rx.Component:
    """Flow production: what the step before has handed over and this step may work on."""
    return rx.cond(
        task.available_text != "",
        rx.callout(
            task.available_text,
            icon="package-check",
            color_scheme="green",
            size="1",
            width="100%",
            class_name="available-to-work",
        ),
    )


def _progress(task: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(
                tf(
                    "ui.tablet.quantity_of",
                    done=number(task.quantity_completed),
                    total=number(task.production_quantity),
                    unit=task.unit,
                ),
                size="4",
                weight="bold",
                class_name="card-quantity",
            ),
            rx.cond(
                task.quantity_defective > 0,
                rx.text(
                    tf("ui.task.defective", count=number(task.quantity_defective)),
                    size="2",
                    color_scheme="red",
                ),
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


def _job(task: rx.Var) -> rx.Component:
    """Who the job is for and what is made: customer and product, labelled."""

    def fact(icon: str, label: rx.Var, value: rx.Var, class_name: str) -> rx.Component:
        return rx.hstack(
            rx.icon(icon, size=16, color="var(--gray-10)", flex_shrink="0"),
            rx.text(label, size="2", color_scheme="gray", white_space="nowrap"),
            rx.text(value, size="3", weight="medium", class_name=class_name, min_width="0", trim="both"),
            align="center",
            spacing="2",
            min_width="0",
        )

    return rx.flex(
        fact("building-2", t("ui.tablet.customer"), task.customer, "card-customer"),
        fact("package", t("ui.tablet.product"), task.product, "card-product"),
        wrap="wrap",
        gap="8px 20px",
        width="100%",
    )


_CLAMPED = {
    "display": "-webkit-box",
    "WebkitLineClamp": "2",
    "WebkitBoxOrient": "vertical",
    "overflow": "hidden",
}
_SPEC_STYLE = {
    "& > summary": {"listStyle": "none", "cursor": "pointer", "outline": "none"},
    "& > summary::-webkit-details-marker": {"display": "none"},
    "& .spec-line": _CLAMPED,
    "&[open] .spec-line": {"display": "block", "WebkitLineClamp": "unset", "overflow": "visible"},
    "& .spec-less": {"display": "none"},
    "&[open] .spec-less": {"display": "inline"},
    "&[open] .spec-more": {"display": "none"},
    "&[open] .spec-chevron": {"transform": "rotate(180deg)"},
}


def _spec_line(label: rx.Var, text: rx.Var, class_name: str) -> rx.Component:
    return rx.cond(
        text != "",
        rx.text(
            rx.text(label, weight="bold", as_="span", margin_inline_end="4px"),
            text,
            size="3",
            class_name=f"spec-line {class_name}",
            white_space="pre-line",
        ),
    )


def task_spec(task: rx.Var) -> rx.Component:
    """Work content, requirements and the order's notes, each clamped to two lines until tapped.

    A ``<details>`` element: the tap opens and closes it in the browser, with no round trip, and
    it keeps working while the network is down.

    Args:
        task: Dict var with TaskCard fields.

    Returns:
        The spec block (nothing when the task has no spec at all).
    """
    return rx.cond(
        (task.work_content != "") | (task.requirements != "") | (task.notes != ""),
        rx.el.details(
            rx.el.summary(
                rx.vstack(
                    _spec_line(t("ui.tablet.work_content"), task.work_content, "spec-work"),
                    _spec_line(t("ui.tablet.requirements"), task.requirements, "spec-requirements"),
                    _spec_line(t("ui.tablet.notes"), task.notes, "spec-notes"),
                    rx.hstack(
                        rx.icon("chevron-down", size=16, class_name="spec-chevron"),
                        rx.text(t("ui.tablet.spec_more"), class_name="spec-more", size="2"),
                        rx.text(t("ui.tablet.spec_less"), class_name="spec-less", size="2"),
                        align="center",
                        spacing="1",
                        color="var(--accent-11)",
                        min_height="32px",
                    ),
                    spacing="1",
                    width="100%",
                ),
                class_name="spec-toggle",
            ),
            class_name="card-spec",
            width="100%",
            padding="8px 12px",
            border_radius="var(--radius-3)",
            background="var(--gray-a2)",
            style=_SPEC_STYLE,
        ),
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
            action_button(
                t("ui.task.start"), "play", on_start(task.id), disabled=blocked, class_name="start-button"
            ),
        ),
        (
            "in_progress",
            rx.hstack(
                action_button(
                    t("ui.task.report"),
                    "clipboard-pen",
                    on_report(task.id),
                    variant="soft",
                    class_name="report-button",
                ),
                action_button(
                    t("ui.task.pause"),
                    "pause",
                    on_pause(task.id),
                    color="amber",
                    variant="soft",
                    class_name="pause-button",
                ),
                action_button(
                    t("ui.task.complete"),
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
                action_button(t("ui.task.resume"), "play", on_resume(task.id), class_name="resume-button"),
                action_button(t("ui.task.report"), "clipboard-pen", on_report(task.id), variant="soft"),
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
            *_card_body(task),
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
            _job(task),
            task_spec(task),
            _progress(task),
            rx.cond(blocked, rx.text(task.blocked_reason, size="2", color_scheme="gray")),
            _available(task),
            action_button(
                t("ui.task.claim"), "hand", on_claim(task.id), variant="soft", class_name="claim-button"
            ),
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
            t("ui.live.reconnecting"),
            color_scheme="amber",
            size="2",
            id="live-indicator",
            data_live="false",
        ),
        rx.badge(
            rx.box(width="8px", height="8px", border_radius="50%", background="var(--green-9)"),
            t("ui.live.live"),
            color_scheme="green",
            size="2",
            variant="soft",
            id="live-indicator",
            data_live="true",
        ),
    )


def offline_banner(reconnecting: rx.Var) -> rx.Component:
    """While the websocket is down: the tasks shown can be read, but every action needs the network."""
    return rx.cond(
        reconnecting,
        rx.callout.root(
            rx.callout.icon(rx.icon("wifi-off")),
            rx.vstack(
                rx.callout.text(t("ui.tablet.offline_title"), size="3", weight="bold"),
                rx.callout.text(t("ui.tablet.offline_body"), size="3"),
                spacing="1",
            ),
            color_scheme="amber",
            role="alert",
            size="2",
            width="100%",
            id="offline-banner",
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
            aria_label=t("ui.bell.notifications"),
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


def presence_bar(presence: rx.Var, on_check_in, on_check_out) -> rx.Component:
    """Checked in or not, with the one button that changes it (big: the first tap of a shift).

    Checked in: "On shift since 07:58", when the shift ends, and Check out. Not checked in: a
    large Check in button, why it matters (no work until then, where the department asks for
    it) and, off shift, when the next shift starts.

    Args:
        presence: Object var with PresenceLine fields.
        on_check_in: Handler of the Check in button.
        on_check_out: Handler of the Check out button.

    Returns:
        The bar.
    """
    shift = rx.fragment(
        rx.cond(
            presence.ends != "",
            rx.text(tf("presence.ui.shift_ends", ends=presence.ends), size="2", color_scheme="gray"),
        ),
        rx.cond(
            ~presence.on_shift,
            rx.text(
                rx.cond(
                    presence.next_shift != "",
                    tf("presence.ui.next_shift", when=presence.next_shift),
                    t("presence.ui.off_shift"),
                ),
                size="2",
                color_scheme="gray",
                id="presence-next-shift",
            ),
        ),
    )
    checked_in = rx.flex(
        rx.hstack(
            rx.box(
                width="14px",
                height="14px",
                border_radius="50%",
                background=rx.cond(presence.on_shift, "var(--green-9)", "var(--amber-9)"),
                flex_shrink="0",
            ),
            rx.vstack(
                rx.text(
                    rx.cond(
                        presence.on_shift,
                        tf("presence.ui.on_shift_since", since=presence.since),
                        tf("presence.ui.checked_in_off_shift", since=presence.since),
                    ),
                    size="4",
                    weight="bold",
                    id="presence-since",
                ),
                shift,
                spacing="0",
            ),
            align="center",
            spacing="3",
        ),
        action_button(
            t("presence.ui.check_out"), "log-out", on_check_out, color="gray", variant="soft", id="check-out"
        ),
        justify="between",
        align="center",
        wrap="wrap",
        gap="12px",
        width="100%",
    )
    not_checked_in = rx.flex(
        rx.hstack(
            rx.icon("user-round-x", size=28, color="var(--amber-11)", flex_shrink="0"),
            rx.vstack(
                rx.text(t("presence.ui.not_checked_in"), size="4", weight="bold"),
                rx.cond(
                    presence.requires_check_in,
                    rx.text(
                        t("presence.ui.needs_check_in"),
                        size="3",
                        color="var(--amber-11)",
                        weight="medium",
                        id="presence-needs-check-in",
                    ),
                ),
                shift,
                spacing="1",
            ),
            align="center",
            spacing="3",
        ),
        rx.button(
            rx.icon("log-in", size=24),
            t("presence.ui.check_in"),
            on_click=on_check_in,
            size="4",
            color_scheme="green",
            min_height="56px",
            min_width="180px",
            id="check-in",
        ),
        justify="between",
        align="center",
        wrap="wrap",
        gap="12px",
        width="100%",
    )
    return rx.card(
        rx.cond(presence.checked_in, checked_in, not_checked_in),
        size="2",
        width="100%",
        id="presence",
        data_checked_in=rx.cond(presence.checked_in, "true", "false"),
        # Amber only where it matters: a department that gives work to those checked in only.
        background=rx.cond(
            ~presence.checked_in & presence.requires_check_in, "var(--amber-a3)", "var(--color-panel-solid)"
        ),
    )


def scan_box(on_submit, error: rx.Var) -> rx.Component:
    """The box a keyboard-wedge barcode scanner types a traveler's code into (then Enter).

    A plain form: the scanner's keystrokes go to the focused input without a round trip each,
    Enter submits, and the box empties itself for the next scan while keeping the focus.

    Args:
        on_submit: Form handler receiving ``{"code": text}``.
        error: Why the last scan was refused ("" for none).

    Returns:
        The scan box.
    """
    return rx.vstack(
        rx.form(
            rx.hstack(
                rx.input(
                    rx.input.slot(rx.icon("scan-line", size=22)),
                    name="code",
                    id="scan-input",
                    placeholder=t("scan.ui.label"),
                    aria_label=t("scan.ui.label"),
                    title=t("scan.ui.hint"),
                    size="3",
                    max_length=64,
                    auto_complete="off",
                    auto_capitalize="off",
                    auto_correct="off",
                    spell_check=False,
                    enter_key_hint="go",
                    height=TOUCH,
                    flex="1",
                    min_width="0",
                ),
                rx.button(
                    t("scan.ui.open"),
                    type="submit",
                    size="3",
                    variant="soft",
                    min_height=TOUCH,
                    min_width="96px",
                    id="scan-submit",
                ),
                spacing="2",
                width="100%",
                align="center",
            ),
            on_submit=on_submit,
            reset_on_submit=True,
            width="100%",
            id="scan-form",
        ),
        rx.cond(
            error != "",
            rx.callout(error, icon="scan-line", color_scheme="red", size="1", width="100%", id="scan-error"),
        ),
        spacing="2",
        width="100%",
    )


def scanned_task(task: rx.Var, action: rx.Var, on_next, on_close) -> rx.Component:
    """A scanned task's card with the next action the operator may take, as the scan dialog shows it.

    Args:
        task: Dict var with TaskCard fields.
        action: The next action: ``claim``, ``start``, ``resume`` or ``report``.
        on_next: Handler of the next-action button (no argument: the state knows the task).
        on_close: Handler of the Close button.

    Returns:
        The card.
    """
    blocked = task.blocked_reason != ""

    def next_button(label: rx.Var, icon: str, color: str = "indigo", **props) -> rx.Component:
        return rx.button(
            rx.icon(icon, size=22),
            label,
            on_click=on_next,
            size="4",
            color_scheme=color,
            min_height="56px",
            min_width="160px",
            id="scan-next",
            data_action=action,
            **props,
        )

    return rx.vstack(
        task_header(task),
        rx.heading(task.process, size="6"),
        rx.badge(
            rx.cond(action == "claim", tf("scan.ui.in_pool", department=task.department), t("scan.ui.yours")),
            color_scheme=rx.cond(action == "claim", "gray", "indigo"),
            size="2",
            variant="soft",
        ),
        *_card_body(task),
        rx.hstack(
            rx.button(
                t("ui.common.close"),
                on_click=on_close,
                variant="soft",
                color_scheme="gray",
                size="4",
                min_height="56px",
                id="scan-close",
            ),
            rx.match(
                action,
                ("claim", next_button(t("ui.task.claim"), "hand")),
                ("start", next_button(t("ui.task.start"), "play", disabled=blocked)),
                ("resume", next_button(t("ui.task.resume"), "play")),
                ("report", next_button(t("ui.task.report"), "clipboard-pen", color="green")),
                rx.fragment(),
            ),
            justify="end",
            spacing="3",
            width="100%",
            wrap="wrap",
        ),
        spacing="3",
        width="100%",
        class_name="scanned-task",
        data_task_id=task.id,
    )
