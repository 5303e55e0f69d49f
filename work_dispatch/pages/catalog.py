"""Supervisor: the catalog — customers (paged, searchable), processes and departments."""

from __future__ import annotations

import reflex as rx

from work_dispatch.components.cards import section
from work_dispatch.components.forms import field_block
from work_dispatch.components.shell import supervisor_shell
from work_dispatch.components.tables import scroll_table
from work_dispatch.states.catalog import CatalogState
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
                "Edit",
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
        rx.heading(rx.cond(S.editing_customer_id > 0, "Edit customer", "New customer"), size="3"),
        rx.grid(
            field_block(
                "Name",
                rx.input(
                    value=S.customer_form.get("name", ""),
                    max_length=120,
                    on_change=lambda v: S.set_customer_field("name", v),
                    id="customer-name",
                    width="100%",
                ),
                S.customer_errors.get("name", ""),
            ),
            field_block(
                "Contact",
                rx.input(
                    value=S.customer_form.get("contact", ""),
                    max_length=120,
                    placeholder="Person, phone or e-mail",
                    on_change=lambda v: S.set_customer_field("contact", v),
                    id="customer-contact",
                    width="100%",
                ),
                S.customer_errors.get("contact", ""),
            ),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        rx.hstack(
            rx.cond(
                S.editing_customer_id > 0,
                rx.button("New customer instead", variant="ghost", on_click=S.new_customer),
            ),
            rx.button(
                rx.icon("save", size=16), "Save customer", on_click=S.save_customer, id="save-customer"
            ),
            justify="end",
            width="100%",
            spacing="3",
        ),
        spacing="3",
        width="100%",
        padding_top="8px",
        border_top="1px solid var(--gray-4)",
    )


def _customers() -> rx.Component:
    return section(
        "Customers",
        rx.form(
            rx.hstack(
                rx.input(name="search", placeholder="Name or contact…", max_length=60, id="customer-search"),
                rx.button(rx.icon("search", size=16), type="submit", variant="soft", aria_label="Search"),
                spacing="2",
            ),
            on_submit=S.search_customers,
            width="auto",
        ),
        scroll_table(
            ("Customer", "Contact", "Work orders", ""), S.customers, _customer_row, id="customer-table"
        ),
        rx.hstack(
            rx.spacer(),
            rx.button(
                "Previous",
                variant="soft",
                disabled=S.customer_page_starts.length() <= 1,
                on_click=S.previous_customers,
            ),
            rx.button(
                "Next", variant="soft", disabled=S.customer_next_after == "", on_click=S.next_customers
            ),
            width="100%",
            spacing="2",
        ),
        _customer_form(),
        subtitle="Who work orders are for.",
    )


def _process_row(process) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(process.code)),
        rx.table.cell(rx.text(process.name, weight="medium")),
        rx.table.cell(process.standard_minutes, " min"),
        rx.table.cell(
            rx.cond(
                process.is_active,
                rx.badge("active", color_scheme="green"),
                rx.badge("inactive", color_scheme="gray"),
            )
        ),
        rx.table.cell(
            rx.button(
                "Edit",
                size="1",
                variant="soft",
                on_click=S.edit_process(process.id),
                class_name="edit-process",
            )
        ),
        class_name="process-row",
        opacity=rx.cond(process.is_active, "1", "0.6"),
    )


def _process_form() -> rx.Component:
    return rx.vstack(
        rx.heading(rx.cond(S.editing_process_id > 0, "Edit process", "New process"), size="3"),
        rx.grid(
            field_block(
                "Code",
                rx.input(
                    value=S.process_form.get("code", ""),
                    max_length=32,
                    disabled=S.editing_process_id > 0,
                    on_change=lambda v: S.set_process_field("code", v),
                    id="process-code",
                    width="100%",
                ),
                S.process_errors.get("code", ""),
            ),
            field_block(
                "Name",
                rx.input(
                    value=S.process_form.get("name", ""),
                    max_length=120,
                    on_change=lambda v: S.set_process_field("name", v),
                    id="process-name",
                    width="100%",
                ),
                S.process_errors.get("name", ""),
            ),
            field_block(
                "Standard minutes",
                rx.input(
                    value=S.process_form.get("standard_minutes", ""),
                    type="number",
                    min=1,
                    max=10000,
                    on_change=lambda v: S.set_process_field("standard_minutes", v),
                    id="process-minutes",
                    width="100%",
                ),
                S.process_errors.get("standard_minutes", ""),
            ),
            field_block(
                "Active",
                rx.hstack(
                    rx.switch(checked=S.process_active, on_change=S.set_process_active, id="process-active"),
                    rx.text(rx.cond(S.process_active, "In routes", "Not offered"), size="2"),
                    align="center",
                    spacing="2",
                    min_height="32px",
                ),
                S.process_errors.get("is_active", ""),
            ),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        rx.hstack(
            rx.cond(
                S.editing_process_id > 0,
                rx.button("New process instead", variant="ghost", on_click=S.new_process),
            ),
            rx.button(rx.icon("save", size=16), "Save process", on_click=S.save_process, id="save-process"),
            justify="end",
            width="100%",
            spacing="3",
        ),
        spacing="3",
        width="100%",
        padding_top="8px",
        border_top="1px solid var(--gray-4)",
    )


def _processes() -> rx.Component:
    return section(
        "Processes",
        scroll_table(("Code", "Process", "Standard time", "Status", ""), S.processes, _process_row),
        _process_form(),
        subtitle="What routes are made of.",
    )


def _department_row(department) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(department.code)),
        rx.table.cell(rx.text(department.name, weight="medium")),
        rx.table.cell(department.sort_order),
        rx.table.cell(department.members),
        rx.table.cell(department.open_tasks),
        rx.table.cell(
            rx.cond(
                department.is_active,
                rx.badge("active", color_scheme="green"),
                rx.badge("inactive", color_scheme="gray"),
            )
        ),
        rx.table.cell(
            rx.cond(
                SessionState.role == "admin",
                rx.button(
                    "Edit",
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
    return rx.vstack(
        rx.heading(rx.cond(S.editing_department_id > 0, "Edit department", "New department"), size="3"),
        rx.grid(
            field_block(
                "Code",
                rx.input(
                    value=S.department_form.get("code", ""),
                    max_length=32,
                    disabled=S.editing_department_id > 0,
                    on_change=lambda v: S.set_department_field("code", v),
                    id="department-code",
                    width="100%",
                ),
                S.department_errors.get("code", ""),
            ),
            field_block(
                "Name",
                rx.input(
                    value=S.department_form.get("name", ""),
                    max_length=120,
                    on_change=lambda v: S.set_department_field("name", v),
                    id="department-name",
                    width="100%",
                ),
                S.department_errors.get("name", ""),
            ),
            field_block(
                "Board order",
                rx.input(
                    value=S.department_form.get("sort_order", ""),
                    type="number",
                    min=0,
                    max=999,
                    on_change=lambda v: S.set_department_field("sort_order", v),
                    id="department-order",
                    width="100%",
                ),
                S.department_errors.get("sort_order", ""),
            ),
            field_block(
                "Active",
                rx.hstack(
                    rx.switch(
                        checked=S.department_active, on_change=S.set_department_active, id="department-active"
                    ),
                    rx.text(rx.cond(S.department_active, "Takes work", "Closed"), size="2"),
                    align="center",
                    spacing="2",
                    min_height="32px",
                ),
                S.department_errors.get("is_active", ""),
            ),
            columns=rx.breakpoints(initial="1", sm="2", lg="4"),
            spacing="3",
            width="100%",
        ),
        rx.hstack(
            rx.cond(
                S.editing_department_id > 0,
                rx.button("New department instead", variant="ghost", on_click=S.new_department),
            ),
            rx.button(
                rx.icon("save", size=16), "Save department", on_click=S.save_department, id="save-department"
            ),
            justify="end",
            width="100%",
            spacing="3",
        ),
        spacing="3",
        width="100%",
        padding_top="8px",
        border_top="1px solid var(--gray-4)",
    )


def _departments() -> rx.Component:
    return section(
        "Departments",
        scroll_table(
            ("Code", "Department", "Board order", "Members", "Open tasks", "Status", ""),
            S.departments,
            _department_row,
        ),
        rx.cond(
            SessionState.role == "admin",
            _department_form(),
            rx.text("Only admins change departments.", size="2", color_scheme="gray"),
        ),
        subtitle="Pools of work; operators belong to one or more.",
    )


def catalog_page() -> rx.Component:
    """Customers and processes side by side on a wide screen (stacked on a tablet), then departments."""
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
                _departments(),
                spacing="4",
                width="100%",
            ),
            rx.center(rx.spinner(size="3"), padding="48px"),
        ),
        title="Catalog",
        current=ROUTE,
        user_name=SessionState.display_name,
        user_role=SessionState.role,
        on_logout=SessionState.logout,
    )
