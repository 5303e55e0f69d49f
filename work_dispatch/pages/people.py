"""Admin: people — accounts, roles, departments, WIP limits, passwords and open sessions."""

from __future__ import annotations

import reflex as rx

from work_dispatch.components.cards import active_badge, section
from work_dispatch.components.forms import active_field, choice_select, field_block, form_actions
from work_dispatch.components.shell import supervisor_shell
from work_dispatch.components.tables import pager, scroll_table
from work_dispatch.states.people import PeopleState, ThrottleState
from work_dispatch.states.session import SessionState

ROUTE = "/supervisor/people"
S = PeopleState
T = ThrottleState
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
        pager(S.cursor_stack.length() == 0, S.next_cursor == "", S.previous_page, S.next_page, count),
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


def _throttle_row(throttle) -> rx.Component:
    return rx.table.row(
        rx.table.cell(throttle.scope),
        rx.table.cell(throttle.username),
        rx.table.cell(rx.code(throttle.address, variant="ghost")),
        rx.table.cell(throttle.failures),
        rx.table.cell(throttle.refused),
        rx.table.cell(
            rx.cond(
                throttle.is_blocked,
                rx.badge("until " + throttle.blocked_until, color_scheme="orange", variant="soft"),
                rx.badge("not blocking", color_scheme="gray", variant="soft"),
            )
        ),
        rx.table.cell(
            rx.button(
                "Clear",
                size="1",
                variant="soft",
                on_click=T.clear(throttle.id),
                class_name="clear-throttle",
            )
        ),
        class_name="throttle-row",
    )


def _throttles() -> rx.Component:
    return section(
        "Login throttles",
        rx.hstack(
            rx.switch(checked=T.blocked_only, on_change=T.set_blocked_only, id="throttles-blocked-only"),
            rx.text("Only those refusing or slowing logins now", size="2"),
            rx.spacer(),
            rx.button(rx.icon("refresh-cw", size=14), "Refresh", variant="soft", on_click=T.refresh),
            align="center",
            spacing="2",
            width="100%",
        ),
        rx.cond(
            T.throttles.length() == 0,
            rx.text("Nobody is throttled: no recent failed logins.", size="2", color_scheme="gray"),
            scroll_table(
                ("Scope", "Username", "Address", "Failures", "Refused", "Status", ""),
                T.throttles,
                _throttle_row,
                id="throttles-table",
            ),
        ),
        pager(T.cursor_stack.length() == 0, T.next_cursor == "", T.previous_page, T.next_page),
        subtitle="Failed logins slow a username down, never lock it. Clear one to let it try at once.",
    )


def people_page() -> rx.Component:
    """The list, then the form."""
    return supervisor_shell(
        rx.cond(
            S.loaded,
            rx.vstack(
                _list(),
                rx.box(_form(), id="person-form", width="100%"),
                _throttles(),
                spacing="4",
                width="100%",
            ),
            rx.center(rx.spinner(size="3"), padding="48px"),
        ),
        title="People",
        current=ROUTE,
        user_name=SessionState.display_name,
        user_role=SessionState.role,
        on_logout=SessionState.logout,
    )
