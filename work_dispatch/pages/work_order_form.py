"""Supervisor: create or edit a work order and its process route."""

from __future__ import annotations

import reflex as rx

from work_dispatch.components.cards import status_badge
from work_dispatch.components.forms import NONE_VALUE, choice_select, field_block, option_select
from work_dispatch.components.shell import supervisor_shell
from work_dispatch.components.text import enum_key, t, tf
from work_dispatch.states.session import SessionState
from work_dispatch.states.work_orders import WorkOrderFormState

ROUTE = "/supervisor/work-orders/edit"
S = WorkOrderFormState
PRIORITIES = ("low", "normal", "high", "urgent")


def _error(name: str) -> rx.Var:
    return S.field_errors.get(name, "")


def _header_fields() -> rx.Component:
    return rx.grid(
        field_block(
            t("ui.common.customer"),
            option_select(
                S.customers,
                S.fields.get("customer_id", ""),
                lambda v: S.set_field("customer_id", v),
                id="customer",
            ),
            _error("customer_id"),
        ),
        field_block(
            t("ui.common.product"),
            option_select(S.products, S.fields.get("product_id", ""), S.set_product, id="product"),
            _error("product_id"),
            hint=t("ui.work_order.product_hint"),
        ),
        field_block(
            t("ui.common.quantity"),
            rx.input(
                value=S.fields.get("quantity", ""),
                type="number",
                min=1,
                input_mode="numeric",
                on_change=lambda v: S.set_field("quantity", v),
                id="quantity",
            ),
            _error("quantity"),
        ),
        field_block(
            t("ui.common.unit"),
            rx.input(
                value=S.fields.get("unit", ""),
                max_length=16,
                on_change=lambda v: S.set_field("unit", v),
                id="unit",
            ),
            _error("unit"),
        ),
        field_block(
            t("ui.common.priority"),
            choice_select(
                [(priority, t(enum_key("priority", priority), capital=True)) for priority in PRIORITIES],
                S.fields.get("priority", "normal"),
                lambda v: S.set_field("priority", v),
                id="priority",
            ),
            _error("priority"),
        ),
        field_block(
            t("ui.work_order.delivery_date"),
            rx.input(
                type="date",
                value=S.fields.get("delivery_date", ""),
                on_change=lambda v: S.set_field("delivery_date", v),
                id="delivery-date",
            ),
            _error("delivery_date"),
        ),
        columns=rx.breakpoints(initial="1", sm="2", lg="3"),
        spacing="4",
        width="100%",
    )


def _rate_override(step, index, key: str, defaults: rx.Var, unit_key: str) -> rx.Component:
    """A step's override of its process's setup minutes or units per hour; the default shows greyed."""
    default = defaults.get(step["process_id"], "")
    hint = (
        tf("ui.rates.step_setup_hint", minutes=default)
        if key == "setup_minutes"
        else tf("ui.rates.step_rate_hint", rate=default)
    )
    return rx.input(
        rx.input.slot(rx.text(t(unit_key), size="1", color_scheme="gray"), side="right"),
        placeholder=default,
        type="number",
        min=0 if key == "setup_minutes" else 1,
        value=step.get(key, ""),
        width="120px",
        on_change=lambda v: S.set_step(index, key, v),
        title=hint,
        aria_label=hint,
        class_name=f"step-{key.replace('_', '-')}",
    )


def _step_field(label: rx.Var, control: rx.Component) -> rx.Component:
    """One of a step's inputs with its name above it (a filled input shows no placeholder)."""
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), control, spacing="1")


def _step(step, index) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.badge((index + 1) * 10, variant="soft", size="2", min_width="40px", justify="center"),
            rx.text(S.process_names.get(step["process_id"], "?"), weight="medium", size="3"),
            rx.spacer(),
            rx.icon_button(
                rx.icon("arrow-up", size=16),
                variant="soft",
                on_click=S.move_step(index, -1),
                disabled=index == 0,
                aria_label=t("ui.common.move_up"),
            ),
            rx.icon_button(
                rx.icon("arrow-down", size=16),
                variant="soft",
                on_click=S.move_step(index, 1),
                disabled=index == S.route.length() - 1,
                aria_label=t("ui.common.move_down"),
            ),
            rx.icon_button(
                rx.icon("trash-2", size=16),
                variant="soft",
                color_scheme="red",
                on_click=S.remove_step(index),
                aria_label=t("ui.common.remove"),
            ),
            width="100%",
            align="center",
            spacing="3",
        ),
        rx.flex(
            _step_field(
                t("ui.common.department"),
                rx.box(
                    option_select(
                        S.departments,
                        rx.cond(step["department_id"] == "", NONE_VALUE, step["department_id"]),
                        lambda v: S.set_step(index, "department_id", v),
                        none_label=t("ui.work_order.any_department"),
                    ),
                    width="220px",
                ),
            ),
            _step_field(
                t("ui.work_order.batch_size"),
                rx.input(
                    type="number",
                    min=1,
                    value=step["batch_size"],
                    width="120px",
                    on_change=lambda v: S.set_step(index, "batch_size", v),
                    aria_label=t("ui.work_order.batch_size"),
                    class_name="batch-size",
                ),
            ),
            _step_field(
                t("field.transfer_batch"),
                rx.input(
                    type="number",
                    min=1,
                    value=step.get("transfer_batch", ""),
                    width="120px",
                    on_change=lambda v: S.set_step(index, "transfer_batch", v),
                    title=t("ui.work_order.transfer_batch_hint"),
                    aria_label=t("field.transfer_batch"),
                    class_name="transfer-batch",
                ),
            ),
            _step_field(
                t("ui.rates.setup_minutes"),
                _rate_override(step, index, "setup_minutes", S.default_setup, "ui.rates.min"),
            ),
            _step_field(
                t("ui.rates.units_per_hour"),
                _rate_override(step, index, "units_per_hour", S.default_rate, "ui.rates.per_hour"),
            ),
            spacing="3",
            wrap="wrap",
            padding_left="52px",
        ),
        width="100%",
        spacing="2",
        padding="8px",
        border_radius="8px",
        background="var(--gray-2)",
        class_name="route-step",
    )


def _route() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(t("ui.work_order.route"), size="4"),
            rx.text(t("ui.work_order.route_hint"), size="2", color_scheme="gray"),
            align="baseline",
            spacing="3",
        ),
        rx.cond(
            S.route.length() == 0,
            rx.text(t("ui.work_order.route_empty"), color_scheme="gray"),
        ),
        rx.foreach(S.route, _step),
        rx.hstack(
            rx.box(
                option_select(
                    S.processes,
                    S.add_process_id,
                    S.set_add_process,
                    placeholder=t("ui.work_order.add_process"),
                ),
                width="240px",
            ),
            rx.button(rx.icon("plus", size=16), t("ui.common.add"), variant="soft", on_click=S.add_step),
            spacing="3",
        ),
        rx.cond(
            _error("route") != "",
            rx.text(_error("route"), color_scheme="red", size="2", class_name="field-error"),
        ),
        spacing="3",
        width="100%",
    )


def work_order_form_page() -> rx.Component:
    """Header fields, route editor, notes and the actions."""
    title = rx.cond(
        S.work_order_id > 0, tf("ui.work_order.title", number=S.order_number), t("ui.work_orders.new")
    )
    return supervisor_shell(
        rx.cond(
            S.loaded,
            rx.card(
                rx.vstack(
                    rx.hstack(
                        rx.heading(title, size="5", id="form-title"),
                        rx.cond(S.status != "", status_badge(S.status, "work_order_status")),
                        rx.spacer(),
                        rx.cond(
                            S.work_order_id > 0,
                            rx.text(
                                tf("ui.work_order.counts", drafts=S.draft_count, published=S.published_count),
                                size="2",
                                color_scheme="gray",
                            ),
                        ),
                        width="100%",
                        align="center",
                    ),
                    rx.cond(
                        S.form_error != "",
                        rx.callout(
                            S.form_error,
                            icon="triangle-alert",
                            color_scheme="red",
                            width="100%",
                            id="form-error",
                        ),
                    ),
                    _header_fields(),
                    rx.separator(size="4"),
                    _route(),
                    rx.separator(size="4"),
                    field_block(
                        t("ui.common.notes"),
                        rx.text_area(
                            value=S.fields.get("notes", ""),
                            max_length=2000,
                            on_change=lambda v: S.set_field("notes", v),
                            rows="3",
                            width="100%",
                        ),
                        _error("notes"),
                    ),
                    rx.hstack(
                        rx.link(
                            rx.button(t("ui.work_order.back"), variant="ghost"),
                            href="/supervisor/work-orders",
                        ),
                        # The actions keep to the right when they wrap (a tablet).
                        rx.flex(
                            rx.cond(
                                (S.work_order_id > 0) & ~S.is_locked,
                                rx.button(
                                    t("ui.work_order.cancel_order"),
                                    color_scheme="red",
                                    variant="soft",
                                    on_click=S.cancel_order,
                                ),
                            ),
                            rx.cond(
                                (S.work_order_id > 0) & ~S.is_locked,
                                rx.button(
                                    rx.icon("list-checks", size=16),
                                    rx.cond(
                                        S.status == "draft",
                                        t("ui.work_order.approve"),
                                        t("ui.work_order.regenerate"),
                                    ),
                                    color_scheme="green",
                                    on_click=S.approve,
                                    id="approve",
                                ),
                            ),
                            rx.cond(
                                S.work_order_id > 0,
                                rx.button(
                                    rx.icon("printer", size=16),
                                    t("ui.traveler.print"),
                                    variant="soft",
                                    color_scheme="gray",
                                    on_click=S.print_traveler,
                                    id="print-traveler",
                                ),
                            ),
                            rx.cond(
                                S.draft_count > 0,
                                rx.link(
                                    rx.button(t("ui.work_order.review_drafts"), variant="soft"),
                                    href="/supervisor/drafts?work_order=" + S.work_order_id.to_string(),
                                ),
                            ),
                            rx.button(
                                rx.icon("save", size=16),
                                t("ui.common.save"),
                                on_click=S.save,
                                disabled=S.is_locked,
                                id="save",
                            ),
                            spacing="3",
                            wrap="wrap",
                            justify="end",
                            flex="1",
                        ),
                        width="100%",
                        spacing="3",
                        align="start",
                    ),
                    spacing="4",
                    width="100%",
                ),
                size="3",
                width="100%",
                max_width="1100px",
            ),
            rx.center(rx.spinner(size="3"), padding="48px"),
        ),
        title=t("ui.nav.work_orders"),
        current="/supervisor/work-orders",
        user_name=SessionState.display_name,
        user_role=SessionState.role,
        on_logout=SessionState.logout,
    )
