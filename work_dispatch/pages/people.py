"""Admin: people — accounts, roles, departments, WIP limits, passwords and open sessions."""

from __future__ import annotations

import reflex as rx

from work_dispatch.components.cards import active_badge, section
from work_dispatch.components.forms import active_field, choice_select, field_block, form_actions
from work_dispatch.components.shell import supervisor_shell
from work_dispatch.components.tables import pager, scroll_table
from work_dispatch.states.people import PeopleState
from work_dispatch.states.session import SessionState

ROUTE = "/supervisor/people"
S = PeopleState
ROLES = [("operator", "Operator"), ("supervisor", "Supervisor"), ("admin", "Admin")]
ROLE_COLORS = {"admin": "purple", "supervisor": "blue", "operator": "green"}


def _error(name: str) -> rx.Var:
    return S.field_errors.get(name, "")


def _role_badge(role: rx.Var) -> rx.Component:
    return rx.match(
        role,
        *[(key, rx.badge(key, color_scheme=color, variant="soft")) for key, color in ROLE_COLORS.items()],
        rx.badge(role),
    )


def _row(person) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(person.display_name, weight="medium"),
                rx.text(person.username, size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(_role_badge(person.role)),
        rx.table.cell(
            rx.hstack(
                rx.foreach(person.departments, lambda name: rx.badge(name, variant="outline")),
                spacing="1",
                wrap="wrap",
            )
        ),
        rx.table.cell(person.wip_limit),
        rx.table.cell(
            rx.hstack(
                rx.text(person.open_sessions, size="2"),
                rx.button(
                    rx.icon("log-out", size=14),
                    "End",
                    size="1",
                    variant="soft",
                    color_scheme="orange",
                    disabled=person.open_sessions == 0,
                    on_click=S.revoke(person.id),
                    class_name="end-sessions",
                    title="End every open session of this user",
                ),
                align="center",
                spacing="2",
            )
        ),
        rx.table.cell(active_badge(person.is_active)),
        rx.table.cell(
            rx.button("Edit", size="1", variant="soft", on_click=S.edit(person.id), class_name="edit-person")
        ),
        class_name="person-row",
        data_username=person.username,
        opacity=rx.cond(person.is_active, "1", "0.6"),
    )


def _list() -> rx.Component:
    toolbar = rx.hstack(
        rx.box(
            choice_select(
                [("all", "All roles"), *ROLES],
                rx.cond(S.role_filter == "", "all", S.role_filter),
                S.filter_role,
                id="role-filter",
            ),
            width="170px",
        ),
        rx.form(
            rx.hstack(
                rx.input(name="search", placeholder="Name or username…", max_length=60, id="people-search"),
                rx.button(rx.icon("search", size=16), type="submit", variant="soft", aria_label="Search"),
                spacing="2",
            ),
            on_submit=S.run_search,
            width="auto",
        ),
        rx.spacer(),
        rx.button(rx.icon("user-plus", size=16), "New person", on_click=S.new_person, id="new-person"),
        width="100%",
        align="center",
        spacing="3",
        wrap="wrap",
    )
    count = rx.text(
        S.rows.length(),
        rx.cond(S.rows.length() == 1, " person on this page", " people on this page"),
        size="2",
        color_scheme="gray",
    )
    return section(
        "People",
        toolbar,
        scroll_table(
            ("Person", "Role", "Departments", "WIP limit", "Open sessions", "Status", ""),
            S.rows,
            _row,
            id="people-table",
        ),
        pager(S.page_starts.length() <= 1, S.next_after == 0, S.previous_page, S.next_page, count),
        subtitle="Accounts, roles, departments and who is logged in.",
    )


def _form() -> rx.Component:
    return section(
        rx.cond(S.editing_id > 0, "Edit " + S.form.get("username", ""), "New person"),
        rx.grid(
            field_block(
                "Username",
                rx.input(
                    value=S.form.get("username", ""),
                    max_length=40,
                    disabled=S.editing_id > 0,
                    on_change=lambda v: S.set_form("username", v),
                    id="person-username",
                    width="100%",
                ),
                _error("username"),
                hint="Letters, digits, dots, dashes; used to log in.",
            ),
            field_block(
                "Name",
                rx.input(
                    value=S.form.get("display_name", ""),
                    max_length=120,
                    on_change=lambda v: S.set_form("display_name", v),
                    id="person-name",
                    width="100%",
                ),
                _error("display_name"),
            ),
            field_block(
                "Role",
                choice_select(
                    ROLES,
                    S.form.get("role", "operator"),
                    lambda v: S.set_form("role", v),
                    id="person-role",
                    disabled=S.editing_self,
                ),
                _error("role"),
            ),
            field_block(
                "WIP limit",
                rx.input(
                    value=S.form.get("wip_limit", ""),
                    type="number",
                    min=1,
                    max=20,
                    on_change=lambda v: S.set_form("wip_limit", v),
                    id="person-wip",
                    width="100px",
                ),
                _error("wip_limit"),
                hint="Tasks an operator may hold at once.",
            ),
            field_block(
                "Password",
                rx.input(
                    value=S.form.get("password", ""),
                    type="password",
                    max_length=128,
                    auto_complete="new-password",
                    on_change=lambda v: S.set_form("password", v),
                    id="person-password",
                    width="100%",
                ),
                _error("password"),
                hint="8+ characters. When editing, empty keeps it; a new one logs them out.",
            ),
            active_field(
                S.form_active,
                S.set_active,
                "Can log in",
                "Cannot log in",
                _error("is_active"),
                disabled=S.editing_self,
                id="person-active",
            ),
            columns=rx.breakpoints(initial="1", sm="2", lg="3"),
            spacing="3",
            width="100%",
        ),
        field_block(
            "Departments",
            rx.flex(
                rx.foreach(
                    S.departments,
                    lambda d: rx.checkbox(
                        d.label,
                        checked=S.form_departments.contains(d.value),
                        on_change=lambda member: S.toggle_department(d.value, member),
                        size="2",
                        class_name="person-department",
                    ),
                ),
                wrap="wrap",
                spacing="5",
                padding_y="4px",
            ),
            _error("department_ids"),
            hint="Operators work the pools of their departments.",
        ),
        rx.cond(_error("form") != "", rx.text(_error("form"), color_scheme="red", size="2")),
        form_actions(S.editing_id > 0, "New person instead", S.new_person, "Save", S.save, "save-person"),
    )


def people_page() -> rx.Component:
    """The list, then the form."""
    return supervisor_shell(
        rx.cond(
            S.loaded,
            rx.vstack(_list(), rx.box(_form(), id="person-form", width="100%"), spacing="4", width="100%"),
            rx.center(rx.spinner(size="3"), padding="48px"),
        ),
        title="People",
        current=ROUTE,
        user_name=SessionState.display_name,
        user_role=SessionState.role,
        on_logout=SessionState.logout,
    )
