"""Supervisor: the catalog — customers (paged), processes and their defect reasons, products, departments."""

from __future__ import annotations

import reflex as rx

from work_dispatch.components.cards import active_badge, section
from work_dispatch.components.forms import (
    active_field,
    choice_select,
    field_block,
    form_actions,
    option_select,
)
from work_dispatch.components.shell import supervisor_shell
from work_dispatch.components.tables import pager, scroll_table
from work_dispatch.components.text import number, t, tf
from work_dispatch.states.catalog import NAME_FIELDS, CatalogState
from work_dispatch.states.session import SessionState

ROUTE = "/supervisor/catalog"
S = CatalogState


def _customer_row(customer) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(customer.name, weight="medium")),
        rx.table.cell(rx.text(customer.contact, size="2", color_scheme="gray")),
        rx.table.cell(customer.work_orders),
        rx.table.cell(
            rx.button(
                t("ui.common.edit"),
                size="1",
                variant="soft",
                on_click=S.edit_customer(customer.id),
                class_name="edit-customer",
            )
        ),
        class_name="customer-row",
    )


def _customer_form() -> rx.Component:
    return rx.vstack(
        rx.heading(
            rx.cond(S.editing_customer_id > 0, t("ui.catalog.customer.edit"), t("ui.catalog.customer.new")),
            size="3",
        ),
        rx.grid(
            _form_input(
                "customer",
                S.customer_form,
                S.customer_errors,
                S.set_customer_field,
                "name",
                t("ui.common.name"),
                120,
            ),
            _form_input(
                "customer",
                S.customer_form,
                S.customer_errors,
                S.set_customer_field,
                "contact",
                t("ui.catalog.contact"),
                120,
                placeholder=t("ui.catalog.contact_placeholder"),
            ),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        form_actions(
            S.editing_customer_id > 0,
            t("ui.catalog.customer.new_instead"),
            S.new_customer,
            t("ui.catalog.customer.save"),
            S.save_customer,
            "save-customer",
        ),
        spacing="3",
        width="100%",
        padding_top="8px",
        border_top="1px solid var(--gray-4)",
    )


def _customers() -> rx.Component:
    return section(
        t("ui.catalog.customers"),
        rx.form(
            rx.hstack(
                rx.input(
                    name="search",
                    placeholder=t("ui.catalog.customer_search"),
                    max_length=60,
                    id="customer-search",
                ),
                rx.button(
                    rx.icon("search", size=16),
                    type="submit",
                    variant="soft",
                    aria_label=t("ui.common.search"),
                ),
                spacing="2",
            ),
            on_submit=S.search_customers,
            width="auto",
        ),
        scroll_table(
            (t("ui.common.customer"), t("ui.catalog.contact"), t("ui.nav.work_orders"), ""),
            S.customers,
            _customer_row,
            id="customer-table",
        ),
        pager(S.cursor_stack.length() == 0, S.next_cursor == "", S.previous_page, S.next_page),
        _customer_form(),
        subtitle=t("ui.catalog.customers_hint"),
    )


def _process_row(process) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(process.code)),
        rx.table.cell(rx.text(process.display_name, weight="medium")),
        rx.table.cell(tf("ui.catalog.minutes", minutes=process.standard_minutes)),
        rx.table.cell(
            rx.vstack(
                rx.text(tf("ui.rates.per_hour_value", rate=number(process.units_per_hour)), size="2"),
                rx.text(
                    tf("ui.rates.setup_value", minutes=process.setup_minutes), size="1", color_scheme="gray"
                ),
                spacing="0",
                white_space="nowrap",
            ),
            class_name="process-rate",
        ),
        rx.table.cell(active_badge(process.is_active)),
        rx.table.cell(
            rx.button(
                t("ui.common.edit"),
                size="1",
                variant="soft",
                on_click=S.edit_process(process.id),
                class_name="edit-process",
            )
        ),
        class_name="process-row",
        opacity=rx.cond(process.is_active, "1", "0.6"),
    )


def _form_input(
    prefix: str,
    values: rx.Var,
    errors: rx.Var,
    set_field,
    key: str,
    label: rx.Var,
    max_length: int,
    **props,
) -> rx.Component:
    """A labelled input bound to ``values[key]``, with ``errors[key]`` under it and id ``prefix-key``."""
    return field_block(
        label,
        rx.input(
            value=values.get(key, ""),
            max_length=max_length,
            on_change=lambda v: set_field(key, v),
            id=f"{prefix}-{key}",
            width="100%",
            **props,
        ),
        errors.get(key, ""),
    )


def _names_in_locales(text_field) -> list[rx.Component]:
    """One optional name field per locale: readers of that locale see it instead of the name."""
    return [
        text_field(
            field, t(f"ui.catalog.name_in.{locale}"), 120, placeholder=t("ui.catalog.name_in_placeholder")
        )
        for locale, field in NAME_FIELDS.items()
    ]


def _coded_form(
    noun: str,
    values: rx.Var,
    errors: rx.Var,
    editing_id: rx.Var,
    set_field,
    number: tuple[str, rx.Var, int, int],
    active: tuple[rx.Var, object, rx.Var, rx.Var],
    on_new,
    on_save,
    extra: tuple[tuple[str, rx.Var, int, int], ...] = (),
    note: rx.Var | None = None,
    leading: tuple[rx.Component, ...] = (),
    texts: str = "ui.catalog",
) -> rx.Component:
    """The create/edit form of a coded record (process, department, reason): code, name, numbers, active.

    Its texts are the ``<texts>.<noun>.*`` keys (edit, new, new_instead, save); ``leading``
    puts fields before the code, ``extra`` adds more number fields (key, label, low, high)
    and ``note`` a grey line under them.
    """
    number_key, number_label, low, high = number
    checked, set_active, on_text, off_text = active

    def text_field(key: str, label: rx.Var, max_length: int, **props) -> rx.Component:
        return _form_input(noun, values, errors, set_field, key, label, max_length, **props)

    return rx.vstack(
        rx.heading(rx.cond(editing_id > 0, t(f"{texts}.{noun}.edit"), t(f"{texts}.{noun}.new")), size="3"),
        rx.grid(
            *leading,
            text_field("code", t("ui.common.code"), 32, disabled=editing_id > 0),
            text_field("name", t("ui.common.name"), 120),
            *_names_in_locales(text_field),
            text_field(number_key, number_label, 6, type="number", min=low, max=high),
            *[
                text_field(key, label, 9, type="number", min=minimum, max=maximum)
                for key, label, minimum, maximum in extra
            ],
            active_field(
                checked, set_active, on_text, off_text, errors.get("is_active", ""), id=f"{noun}-active"
            ),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        rx.text(note, size="1", color_scheme="gray") if note is not None else rx.fragment(),
        form_actions(
            editing_id > 0,
            t(f"{texts}.{noun}.new_instead"),
            on_new,
            t(f"{texts}.{noun}.save"),
            on_save,
            f"save-{noun}",
        ),
        spacing="3",
        width="100%",
        padding_top="8px",
        border_top="1px solid var(--gray-4)",
        id=f"{noun}-form",
    )


def _process_form() -> rx.Component:
    return _coded_form(
        "process",
        S.process_form,
        S.process_errors,
        S.editing_process_id,
        S.set_process_field,
        ("standard_minutes", t("ui.catalog.standard_minutes"), 1, 10_000),
        (S.process_active, S.set_process_active, t("ui.catalog.in_routes"), t("ui.catalog.not_offered")),
        S.new_process,
        S.save_process,
        extra=(
            ("setup_minutes", t("ui.rates.setup_minutes"), 0, 10_000),
            ("units_per_hour", t("ui.rates.units_per_hour"), 1, 10_000_000),
            ("transfer_batch", t("field.transfer_batch"), 1, 100_000_000),
        ),
        note=t("ui.rates.replan_hint"),
    )


def _processes() -> rx.Component:
    return section(
        t("ui.catalog.processes"),
        scroll_table(
            (
                t("ui.common.code"),
                t("ui.common.process"),
                t("ui.catalog.standard_time"),
                t("ui.rates.rate"),
                t("ui.common.status"),
                "",
            ),
            S.processes,
            _process_row,
        ),
        _process_form(),
        subtitle=t("ui.catalog.processes_hint"),
    )


def _kind_badge(kind: rx.Var) -> rx.Component:
    return rx.cond(
        kind == "scrap",
        rx.badge(t("ui.quality.kind.scrap"), color_scheme="red", variant="soft"),
        rx.badge(t("ui.quality.kind.rework"), color_scheme="amber", variant="soft"),
    )


def _reason_row(reason) -> rx.Component:
    return rx.table.row(
        rx.table.cell(_kind_badge(reason.kind)),
        rx.table.cell(rx.code(reason.code)),
        rx.table.cell(rx.text(reason.display_name, weight="medium")),
        rx.table.cell(reason.sort_order),
        rx.table.cell(active_badge(reason.is_active)),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    t("ui.common.edit"),
                    size="1",
                    variant="soft",
                    on_click=S.edit_reason(reason.id),
                    class_name="edit-reason",
                ),
                rx.button(
                    rx.cond(reason.is_active, t("ui.quality.deactivate"), t("ui.quality.activate")),
                    size="1",
                    variant="soft",
                    color_scheme=rx.cond(reason.is_active, "gray", "green"),
                    on_click=S.toggle_reason(reason.id),
                    class_name="toggle-reason",
                ),
                spacing="2",
                wrap="wrap",
            )
        ),
        class_name="reason-row",
        opacity=rx.cond(reason.is_active, "1", "0.6"),
    )


def _reason_form() -> rx.Component:
    kind = field_block(
        t("ui.quality.kind"),
        choice_select(
            [("scrap", t("ui.quality.kind.scrap")), ("rework", t("ui.quality.kind.rework"))],
            S.reason_kind,
            S.set_reason_kind,
            disabled=S.editing_reason_id > 0,
            id="reason-kind",
        ),
        S.reason_errors.get("kind", ""),
    )
    return _coded_form(
        "reason",
        S.reason_form,
        S.reason_errors,
        S.editing_reason_id,
        S.set_reason_field,
        ("sort_order", t("ui.quality.order"), 0, 999),
        (S.reason_active, S.set_reason_active, t("ui.quality.offered"), t("ui.quality.retired")),
        S.new_reason,
        S.save_reason,
        leading=(kind,),
        texts="ui.quality",
    )


def _reasons() -> rx.Component:
    return rx.box(
        _reasons_section(),
        id="defect-reasons",
        width="100%",
    )


def _reasons_section() -> rx.Component:
    return section(
        t("ui.quality.reasons"),
        field_block(
            t("ui.common.process"),
            rx.box(
                option_select(
                    S.process_options,
                    S.reason_process_id,
                    S.pick_reason_process,
                    placeholder=t("ui.quality.pick_process"),
                    id="reason-process",
                ),
                width="100%",
                max_width="320px",
            ),
        ),
        rx.cond(
            S.reasons.length() > 0,
            scroll_table(
                (
                    t("ui.quality.kind"),
                    t("ui.common.code"),
                    t("ui.quality.reason"),
                    t("ui.quality.order"),
                    t("ui.common.status"),
                    "",
                ),
                S.reasons,
                _reason_row,
                id="reason-table",
            ),
            rx.text(t("ui.quality.no_reasons"), size="2", color_scheme="gray", id="no-reasons"),
        ),
        rx.cond(S.reason_process_id != "", _reason_form()),
        subtitle=t("ui.quality.reasons_hint"),
    )


def _product_row(product) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(product.code)),
        rx.table.cell(
            rx.vstack(
                rx.text(product.display_name, weight="medium"),
                rx.text(tf("ui.catalog.per_unit", unit=product.unit), size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.flex(
                rx.foreach(product.route, lambda name: rx.badge(name, variant="outline")),
                wrap="wrap",
                spacing="1",
            )
        ),
        rx.table.cell(active_badge(product.is_active)),
        rx.table.cell(
            rx.button(
                t("ui.common.edit"),
                size="1",
                variant="soft",
                on_click=S.edit_product(product.id),
                class_name="edit-product",
            )
        ),
        class_name="product-row",
        opacity=rx.cond(product.is_active, "1", "0.6"),
    )


def _route_step(name, index) -> rx.Component:
    last = index == S.product_route.length() - 1
    return rx.hstack(
        rx.badge((index + 1) * 10, variant="soft", size="1"),
        rx.text(name, size="2", weight="medium"),
        rx.spacer(),
        rx.input(
            # Once a number is typed the placeholder is gone: the icon keeps saying what it is.
            rx.input.slot(rx.icon("layers", size=14)),
            placeholder=t("field.transfer_batch"),
            type="number",
            min=1,
            value=S.product_route_batches[index],
            on_change=lambda v: S.set_route_batch(index, v),
            size="1",
            width="140px",
            title=t("ui.work_order.transfer_batch_hint"),
            aria_label=t("field.transfer_batch"),
            class_name="route-transfer-batch",
        ),
        rx.icon_button(
            rx.icon("arrow-up", size=14),
            size="1",
            variant="soft",
            disabled=index == 0,
            on_click=S.move_route_step(index, -1),
            aria_label=t("ui.common.move_up"),
        ),
        rx.icon_button(
            rx.icon("arrow-down", size=14),
            size="1",
            variant="soft",
            disabled=last,
            on_click=S.move_route_step(index, 1),
            aria_label=t("ui.common.move_down"),
        ),
        rx.icon_button(
            rx.icon("trash-2", size=14),
            size="1",
            variant="soft",
            color_scheme="red",
            on_click=S.remove_route_step(index),
            aria_label=t("ui.common.remove"),
        ),
        align="center",
        spacing="2",
        width="100%",
        padding="4px 8px",
        border_radius="6px",
        background="var(--gray-2)",
        class_name="product-route-step",
    )


def _product_form() -> rx.Component:
    def text_field(key: str, label: rx.Var, max_length: int, **props) -> rx.Component:
        return _form_input(
            "product", S.product_form, S.product_errors, S.set_product_field, key, label, max_length, **props
        )

    return rx.vstack(
        rx.heading(
            rx.cond(S.editing_product_id > 0, t("ui.catalog.product.edit"), t("ui.catalog.product.new")),
            size="3",
        ),
        rx.grid(
            text_field("code", t("ui.common.code"), 32, disabled=S.editing_product_id > 0),
            text_field("name", t("ui.common.name"), 120),
            *_names_in_locales(text_field),
            text_field("unit", t("ui.common.unit"), 16),
            active_field(
                S.product_active,
                S.set_product_active,
                t("ui.catalog.offered"),
                t("ui.catalog.not_offered"),
                S.product_errors.get("is_active", ""),
                id="product-active",
            ),
            columns=rx.breakpoints(initial="1", sm="2", lg="3"),
            spacing="3",
            width="100%",
        ),
        field_block(
            t("ui.catalog.default_route"),
            rx.vstack(
                rx.foreach(S.product_route_names, _route_step),
                rx.box(
                    option_select(
                        S.process_options,
                        "",
                        S.add_route_step,
                        placeholder=t("ui.work_order.add_process"),
                        id="product-add-step",
                    ),
                    width="260px",
                ),
                rx.text(t("ui.work_order.transfer_batch_hint"), size="1", color_scheme="gray"),
                spacing="2",
                width="100%",
            ),
            S.product_errors.get("route", ""),
            hint=t("ui.catalog.route_hint"),
        ),
        form_actions(
            S.editing_product_id > 0,
            t("ui.catalog.product.new_instead"),
            S.new_product,
            t("ui.catalog.product.save"),
            S.save_product,
            "save-product",
        ),
        spacing="3",
        width="100%",
        padding_top="8px",
        border_top="1px solid var(--gray-4)",
        id="product-form",
    )


def _products() -> rx.Component:
    return section(
        t("ui.catalog.products"),
        scroll_table(
            (
                t("ui.common.code"),
                t("ui.common.product"),
                t("ui.catalog.default_route"),
                t("ui.common.status"),
                "",
            ),
            S.products,
            _product_row,
        ),
        _product_form(),
        subtitle=t("ui.catalog.products_hint"),
    )


def _department_row(department) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(department.code)),
        rx.table.cell(rx.text(department.display_name, weight="medium")),
        rx.table.cell(department.sort_order),
        rx.table.cell(department.members),
        rx.table.cell(department.open_tasks),
        rx.table.cell(active_badge(department.is_active)),
        rx.table.cell(
            rx.cond(
                SessionState.role == "admin",
                rx.button(
                    t("ui.common.edit"),
                    size="1",
                    variant="soft",
                    on_click=S.edit_department(department.id),
                    class_name="edit-department",
                ),
            )
        ),
        class_name="department-row",
        opacity=rx.cond(department.is_active, "1", "0.6"),
    )


def _department_form() -> rx.Component:
    return _coded_form(
        "department",
        S.department_form,
        S.department_errors,
        S.editing_department_id,
        S.set_department_field,
        ("sort_order", t("ui.catalog.board_order"), 0, 999),
        (S.department_active, S.set_department_active, t("ui.catalog.takes_work"), t("ui.catalog.closed")),
        S.new_department,
        S.save_department,
    )


def _departments() -> rx.Component:
    return section(
        t("ui.catalog.departments"),
        scroll_table(
            (
                t("ui.common.code"),
                t("ui.common.department"),
                t("ui.catalog.board_order"),
                t("ui.catalog.members"),
                t("ui.catalog.open_tasks"),
                t("ui.common.status"),
                "",
            ),
            S.departments,
            _department_row,
        ),
        rx.cond(
            SessionState.role == "admin",
            _department_form(),
            rx.text(t("ui.catalog.admins_only"), size="2", color_scheme="gray"),
        ),
        subtitle=t("ui.catalog.departments_hint"),
    )


def catalog_page() -> rx.Component:
    """Customers beside processes on a wide screen (stacked on a tablet), then reasons and the rest."""
    return supervisor_shell(
        rx.cond(
            S.loaded,
            rx.vstack(
                rx.grid(
                    _customers(),
                    _processes(),
                    columns=rx.breakpoints(initial="1", lg="2"),
                    spacing="4",
                    width="100%",
                    align_items="start",
                ),
                _reasons(),
                _products(),
                _departments(),
                spacing="4",
                width="100%",
            ),
            rx.center(rx.spinner(size="3"), padding="48px"),
        ),
        title=t("ui.nav.catalog"),
        current=ROUTE,
        user_name=SessionState.display_name,
        user_role=SessionState.role,
        on_logout=SessionState.logout,
    )
