"""Admin: people — accounts, roles, departments, WIP limits, passwords and open sessions."""

from __future__ import annotations

import reflex as rx

from work_dispatch.components.cards import active_badge, section
from work_dispatch.components.forms import active_field, choice_select, field_block, form_actions
from work_dispatch.components.shell import supervisor_shell
from work_dispatch.components.tables import pager, scroll_table
from work_dispatch.components.text import enum_key, enum_text, number, t, tf
from work_dispatch.i18n import LOCALES
from work_dispatch.states.people import PeopleState, SkillsState, ThrottleState
from work_dispatch.states.session import SessionState

ROUTE = "/supervisor/people"
S = PeopleState
T = ThrottleState
SK = SkillsState
LEVELS = ("0", "1", "2", "3")
ROLES = ("operator", "supervisor", "admin")
ROLE_COLORS = {"admin": "purple", "supervisor": "blue", "operator": "green"}


def _error(name: str) -> rx.Var:
    return S.field_errors.get(name, "")


def _role_choices() -> list[tuple[str, rx.Var]]:
    return [(role, t(enum_key("role", role), capital=True)) for role in ROLES]


def _role_badge(role: rx.Var) -> rx.Component:
    return rx.badge(
        enum_text("role", role), color_scheme=rx.match(role, *ROLE_COLORS.items(), "gray"), variant="soft"
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
                    t("ui.people.end_sessions"),
                    size="1",
                    variant="soft",
                    color_scheme="orange",
                    disabled=person.open_sessions == 0,
                    on_click=S.revoke(person.id),
                    class_name="end-sessions",
                    title=t("ui.people.end_sessions_hint"),
                ),
                align="center",
                spacing="2",
            )
        ),
        rx.table.cell(active_badge(person.is_active)),
        rx.table.cell(
            rx.button(
                t("ui.common.edit"),
                size="1",
                variant="soft",
                on_click=S.edit(person.id),
                class_name="edit-person",
            )
        ),
        class_name="person-row",
        data_username=person.username,
        opacity=rx.cond(person.is_active, "1", "0.6"),
    )


def _list() -> rx.Component:
    toolbar = rx.hstack(
        rx.box(
            choice_select(
                [("all", t("ui.people.all_roles")), *_role_choices()],
                rx.cond(S.role_filter == "", "all", S.role_filter),
                S.filter_role,
                id="role-filter",
            ),
            width="170px",
        ),
        rx.form(
            rx.hstack(
                rx.input(
                    name="search",
                    placeholder=t("ui.people.search_placeholder"),
                    max_length=60,
                    id="people-search",
                ),
                rx.button(
                    rx.icon("search", size=16),
                    type="submit",
                    variant="soft",
                    aria_label=t("ui.common.search"),
                ),
                spacing="2",
            ),
            on_submit=S.run_search,
            width="auto",
        ),
        rx.spacer(),
        rx.button(rx.icon("user-plus", size=16), t("ui.people.new"), on_click=S.new_person, id="new-person"),
        width="100%",
        align="center",
        spacing="3",
        wrap="wrap",
    )
    count = rx.text(
        rx.cond(
            S.rows.length() == 1,
            t("ui.people.one_on_page"),
            tf("ui.people.n_on_page", count=S.rows.length()),
        ),
        size="2",
        color_scheme="gray",
    )
    return section(
        t("ui.nav.people"),
        toolbar,
        scroll_table(
            (
                t("ui.people.person"),
                t("ui.people.role"),
                t("ui.catalog.departments"),
                t("ui.people.wip_limit"),
                t("ui.people.open_sessions"),
                t("ui.common.status"),
                "",
            ),
            S.rows,
            _row,
            id="people-table",
        ),
        pager(S.cursor_stack.length() == 0, S.next_cursor == "", S.previous_page, S.next_page, count),
        subtitle=t("ui.people.hint"),
    )


def _form() -> rx.Component:
    return section(
        rx.cond(
            S.editing_id > 0,
            tf("ui.people.edit_title", username=S.form.get("username", "")),
            t("ui.people.new"),
        ),
        rx.grid(
            field_block(
                t("ui.login.username"),
                rx.input(
                    value=S.form.get("username", ""),
                    max_length=40,
                    disabled=S.editing_id > 0,
                    on_change=lambda v: S.set_form("username", v),
                    id="person-username",
                    width="100%",
                ),
                _error("username"),
                hint=t("ui.people.username_hint"),
            ),
            field_block(
                t("ui.common.name"),
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
                t("ui.people.role"),
                choice_select(
                    _role_choices(),
                    S.form.get("role", "operator"),
                    lambda v: S.set_form("role", v),
                    id="person-role",
                    disabled=S.editing_self,
                ),
                _error("role"),
            ),
            field_block(
                t("ui.people.wip_limit"),
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
                hint=t("ui.people.wip_hint"),
            ),
            field_block(
                t("ui.login.password"),
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
                hint=t("ui.people.password_hint"),
            ),
            field_block(
                t("ui.people.language"),
                choice_select(
                    [(locale, t(f"ui.locale.{locale}")) for locale in LOCALES],
                    S.form.get("locale", LOCALES[0]),
                    lambda v: S.set_form("locale", v),
                    id="person-locale",
                ),
                _error("locale"),
            ),
            active_field(
                S.form_active,
                S.set_active,
                t("ui.people.can_log_in"),
                t("ui.people.cannot_log_in"),
                _error("is_active"),
                disabled=S.editing_self,
                id="person-active",
            ),
            columns=rx.breakpoints(initial="1", sm="2", lg="3"),
            spacing="3",
            width="100%",
        ),
        field_block(
            t("ui.catalog.departments"),
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
            hint=t("ui.people.departments_hint"),
        ),
        rx.cond((S.editing_id > 0) & (S.form.get("role", "") == "operator"), _pin_block()),
        rx.cond(_error("form") != "", rx.text(_error("form"), color_scheme="red", size="2")),
        form_actions(
            S.editing_id > 0,
            t("ui.people.new_instead"),
            S.new_person,
            t("ui.common.save"),
            S.save,
            "save-person",
        ),
    )


def _pin_block() -> rx.Component:
    """The operator's quick-switch PIN for shop-floor tablets: set on its own, never shown back."""
    return field_block(
        t("devices.people.pin"),
        rx.hstack(
            rx.input(
                value=S.pin,
                type="password",
                input_mode="numeric",
                max_length=6,
                auto_complete="new-password",
                on_change=S.set_pin,
                id="person-pin",
                width="120px",
            ),
            rx.button(t("devices.people.pin_set"), variant="soft", on_click=S.save_pin, id="save-pin"),
            align="center",
            spacing="2",
        ),
        _error("pin"),
        hint=t("devices.people.pin_hint"),
    )


def _skill_cell(row) -> rx.Component:
    """One process of the skills editor: its name and a 0–3 level picker."""
    return rx.hstack(
        rx.vstack(
            rx.text(row.name, size="2", weight="medium"),
            rx.code(row.code, size="1", variant="ghost", color_scheme="gray"),
            spacing="0",
            min_width="0",
        ),
        rx.spacer(),
        rx.segmented_control.root(
            *[rx.segmented_control.item(level, value=level) for level in LEVELS],
            value=row.level.to_string(),
            on_change=lambda level: SK.set_level(row.process_id, level),
            size=rx.breakpoints(initial="2", md="1"),
            class_name="skill-level",
        ),
        align="center",
        spacing="2",
        width="100%",
        padding="6px 10px",
        border_radius="6px",
        background="var(--gray-2)",
        class_name="skill-cell",
        data_process=row.code,
    )


def _skills() -> rx.Component:
    """The skills editor of the operator in the form: a level per active process."""
    return section(
        tf("ui.skills.title", name=SK.operator_name),
        rx.vstack(
            rx.text(t("ui.skills.hint"), size="2", color_scheme="gray"),
            rx.text(t("ui.skills.legend"), size="2", weight="medium"),
            spacing="1",
        ),
        rx.cond(
            SK.rows.length() == 0,
            rx.text(t("ui.skills.none"), size="2", color_scheme="gray"),
            rx.grid(
                rx.foreach(SK.rows, _skill_cell),
                columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                spacing="2",
                width="100%",
            ),
        ),
        rx.cond(SK.error != "", rx.text(SK.error, size="2", color_scheme="red", class_name="field-error")),
        rx.hstack(
            rx.button(rx.icon("save", size=16), t("ui.skills.save"), on_click=SK.save, id="save-skills"),
            justify="end",
            width="100%",
        ),
    )


def _device_row(device) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(device.name, weight="medium")),
        rx.table.cell(device.created_by),
        rx.table.cell(device.marked_at),
        rx.table.cell(rx.cond(device.last_used != "", device.last_used, t("devices.people.never"))),
        rx.table.cell(
            rx.button(
                t("devices.people.unmark"),
                size="1",
                variant="soft",
                color_scheme="red",
                on_click=S.unmark_device(device.id),
                class_name="unmark-device",
            )
        ),
        class_name="device-row",
    )


def _devices() -> rx.Component:
    return section(
        t("devices.people.title"),
        rx.cond(
            S.devices.length() == 0,
            rx.text(t("devices.people.none"), size="2", color_scheme="gray"),
            scroll_table(
                (
                    t("devices.people.name"),
                    t("devices.people.marked_by"),
                    t("devices.people.marked_at"),
                    t("devices.people.last_used"),
                    "",
                ),
                S.devices,
                _device_row,
                id="devices-table",
            ),
        ),
        subtitle=t("devices.people.hint"),
    )


def _throttle_row(throttle) -> rx.Component:
    return rx.table.row(
        rx.table.cell(enum_text("throttle_scope", throttle.scope, capital=True)),
        rx.table.cell(throttle.username),
        rx.table.cell(rx.code(throttle.address, variant="ghost")),
        rx.table.cell(number(throttle.failures)),
        rx.table.cell(number(throttle.refused)),
        rx.table.cell(
            rx.cond(
                throttle.is_blocked,
                rx.badge(
                    tf("ui.people.throttle.until", when=throttle.blocked_until),
                    color_scheme="orange",
                    variant="soft",
                ),
                rx.badge(t("ui.people.throttle.not_blocking"), color_scheme="gray", variant="soft"),
            )
        ),
        rx.table.cell(
            rx.button(
                t("ui.common.clear"),
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
        t("ui.people.throttle.title"),
        rx.hstack(
            rx.switch(checked=T.blocked_only, on_change=T.set_blocked_only, id="throttles-blocked-only"),
            rx.text(t("ui.people.throttle.blocked_only"), size="2"),
            rx.spacer(),
            rx.button(
                rx.icon("refresh-cw", size=14), t("ui.common.refresh"), variant="soft", on_click=T.refresh
            ),
            align="center",
            spacing="2",
            width="100%",
        ),
        rx.cond(
            T.throttles.length() == 0,
            rx.text(t("ui.people.throttle.none"), size="2", color_scheme="gray"),
            scroll_table(
                (
                    t("ui.people.throttle.scope"),
                    t("ui.login.username"),
                    t("ui.people.throttle.address"),
                    t("ui.people.throttle.failures"),
                    t("ui.people.throttle.refused"),
                    t("ui.common.status"),
                    "",
                ),
                T.throttles,
                _throttle_row,
                id="throttles-table",
            ),
        ),
        pager(T.cursor_stack.length() == 0, T.next_cursor == "", T.previous_page, T.next_page),
        subtitle=t("ui.people.throttle.hint"),
    )


def people_page() -> rx.Component:
    """The list, then the form."""
    return supervisor_shell(
        rx.cond(
            S.loaded,
            rx.vstack(
                _list(),
                rx.box(
                    rx.vstack(
                        _form(),
                        rx.cond((SK.operator_id > 0) & (SK.operator_id == S.editing_id), _skills()),
                        spacing="4",
                        width="100%",
                    ),
                    id="person-form",
                    width="100%",
                ),
                _devices(),
                _throttles(),
                spacing="4",
                width="100%",
            ),
            rx.center(rx.spinner(size="3"), padding="48px"),
        ),
        title=t("ui.nav.people"),
        current=ROUTE,
        user_name=SessionState.display_name,
        user_role=SessionState.role,
        on_logout=SessionState.logout,
    )
