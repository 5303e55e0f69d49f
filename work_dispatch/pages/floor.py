"""Supervisor: "On the floor" — who is checked in per department (live), shifts, closures, absences."""

from __future__ import annotations

import reflex as rx

from work_dispatch.components.cards import section
from work_dispatch.components.forms import field_block, option_select
from work_dispatch.components.shell import supervisor_shell
from work_dispatch.components.tables import pager, scroll_table
from work_dispatch.components.text import t, tf
from work_dispatch.settings import settings
from work_dispatch.states.floor import ALL, SHOP, AbsenceState, CalendarState, FloorState
from work_dispatch.states.session import SessionState

ROUTE = "/supervisor/floor"
F, C, A = FloorState, CalendarState, AbsenceState
STANDING_COLORS = {"working": "green", "not_checked_in": "amber", "off_shift": "gray", "absent": "red"}
WEEKDAYS = range(7)
FIRST_TAB = "live"
TICK_ID = "floor-minute-tick"
TICK_MS = 60_000
"""The cards are read again every minute: shifts start and end without any event to push."""


def _duration(hours: rx.Var, minutes: rx.Var) -> rx.Var:
    return rx.cond(
        hours > 0,
        rx.cond(
            minutes > 0, tf("floor.duration", hours=hours, minutes=minutes), tf("floor.hours", hours=hours)
        ),
        tf("floor.minutes", minutes=minutes),
    )


def _standing_badge(standing: rx.Var) -> rx.Component:
    return rx.badge(
        rx.match(
            standing,
            ("working", t("floor.standing.working")),
            ("not_checked_in", t("floor.standing.not_checked_in")),
            ("off_shift", t("floor.standing.off_shift")),
            ("absent", t("floor.standing.absent")),
            standing,
        ),
        color_scheme=rx.match(standing, *STANDING_COLORS.items(), "gray"),
        variant="soft",
        size="2",
        class_name="standing-badge",
    )


def _member_detail(m) -> rx.Component:
    detail = rx.match(
        m.standing,
        ("absent", tf("floor.member.absent_until", until=m.absent_until)),
        (
            "off_shift",
            rx.cond(
                m.next_shift != "",
                tf("floor.member.next_shift", when=m.next_shift),
                t("floor.member.no_shift"),
            ),
        ),
        tf("floor.member.shift_until", shift=m.shift_name, until=m.shift_until),
    )
    said = (m.standing == "absent") | (m.standing == "off_shift") | (m.shift_name != "")
    return rx.cond(said, rx.text(detail, size="1", color_scheme="gray", class_name="member-detail"))


def _member(m) -> rx.Component:
    presence = rx.cond(
        m.checked_in,
        rx.hstack(
            rx.box(width="8px", height="8px", border_radius="50%", background="var(--green-9)"),
            rx.text(tf("floor.member.checked_in_since", since=m.since), size="1", color="var(--green-11)"),
            align="center",
            spacing="1",
            class_name="presence-in",
        ),
        rx.text(t("floor.member.not_checked_in"), size="1", color_scheme="gray", class_name="presence-out"),
    )
    return rx.hstack(
        rx.avatar(
            fallback=m.name.to(str)[0:1],
            size="2",
            radius="full",
            color_scheme=rx.match(m.standing, *STANDING_COLORS.items(), "gray"),
            variant=rx.cond(m.checked_in, "solid", "soft"),
        ),
        rx.vstack(
            rx.hstack(
                rx.text(m.name, size="2", weight="bold", white_space="nowrap"),
                _standing_badge(m.standing),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            _member_detail(m),
            presence,
            spacing="1",
            min_width="0",
            flex="1",
        ),
        rx.vstack(
            rx.badge(
                tf("floor.member.tasks", open=m.open_tasks, limit=m.wip_limit),
                color_scheme=rx.cond(m.at_limit, "orange", "gray"),
                variant="surface",
                size="1",
            ),
            rx.text(
                _duration(m.load_hours, m.load_rest), size="1", color_scheme="gray", white_space="nowrap"
            ),
            align="end",
            spacing="1",
            flex_shrink="0",
        ),
        rx.cond(
            m.checked_in,
            rx.tooltip(
                rx.icon_button(
                    rx.icon("log-out", size=16),
                    variant="soft",
                    color_scheme="gray",
                    size="2",
                    on_click=F.check_out(m.operator_id),
                    aria_label=t("floor.member.check_out"),
                    class_name="check-out",
                ),
                content=t("floor.member.check_out"),
            ),
            rx.box(width="32px", flex_shrink="0"),
        ),
        align="center",
        spacing="3",
        width="100%",
        padding="8px 10px",
        border_radius="8px",
        background=rx.cond(m.checked_in, "var(--green-2)", "var(--gray-2)"),
        class_name="floor-member",
        data_operator=m.operator_id,
        data_standing=m.standing,
        data_checked_in=rx.cond(m.checked_in, "yes", "no"),
    )


def _figure(icon: str, text: rx.Var, **props) -> rx.Component:
    return rx.hstack(
        rx.icon(icon, size=15, color="var(--gray-10)"),
        rx.text(text, size="2"),
        align="center",
        spacing="1",
        white_space="nowrap",
        **props,
    )


def _department_card(d) -> rx.Component:
    badges = rx.hstack(
        rx.cond(d.closed_today, rx.badge(t("floor.badge.closed"), color_scheme="red", variant="soft")),
        rx.cond(
            d.has_shifts,
            rx.foreach(d.running_shifts, lambda name: rx.badge(name, color_scheme="blue", variant="soft")),
            rx.badge(t("floor.badge.no_shifts"), color_scheme="gray", variant="soft"),
        ),
        rx.cond(
            d.has_shifts & (d.running_shifts.length() == 0) & ~d.closed_today,
            rx.badge(t("floor.badge.between_shifts"), color_scheme="gray", variant="soft"),
        ),
        rx.cond(
            d.requires_check_in,
            rx.badge(t("floor.badge.check_in_required"), color_scheme="amber", variant="outline"),
        ),
        spacing="1",
        wrap="wrap",
        justify="end",
    )
    figures = rx.flex(
        _figure(
            "users",
            tf("floor.summary.checked_in", count=d.checked_in, total=d.member_count),
            class_name="dept-checked-in",
        ),
        _figure("circle-check", tf("floor.summary.working", count=d.working)),
        _figure("timer", tf("floor.summary.load", load=_duration(d.load_hours, d.load_minutes))),
        rx.cond(
            d.has_shifts,
            _figure("hourglass", tf("floor.summary.left", left=_duration(d.left_hours, d.left_minutes))),
        ),
        spacing="4",
        wrap="wrap",
        row_gap="4px",
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(d.name, size="4"),
                rx.spacer(),
                badges,
                align="start",
                width="100%",
                spacing="3",
            ),
            figures,
            rx.cond(
                d.member_count == 0,
                rx.text(t("floor.no_members"), size="2", color_scheme="gray"),
                rx.vstack(rx.foreach(d.members, _member), spacing="2", width="100%"),
            ),
            spacing="3",
            width="100%",
        ),
        size="2",
        width="100%",
        class_name="floor-department",
        data_department=d.id,
    )


def _minute_tick() -> rx.Component:
    """A hidden button the page clicks every minute while it is open (see :data:`TICK_MS`)."""
    return rx.el.button(
        id=TICK_ID,
        on_click=F.refresh,
        on_mount=rx.call_script(
            """(() => {
              clearInterval(window.__wdFloorTick);
              window.__wdFloorTick = setInterval(() => {
                const tick = document.getElementById("__tick_id__");
                if (!tick) { clearInterval(window.__wdFloorTick); return; }
                if (document.visibilityState === "visible") { tick.click(); }
              }, __tick_ms__);
            })()""".replace("__tick_id__", TICK_ID).replace("__tick_ms__", str(TICK_MS))
        ),
        display="none",
        aria_hidden="true",
        tab_index=-1,
    )


def _live() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.hstack(
                rx.box(
                    width="8px",
                    height="8px",
                    border_radius="50%",
                    background="var(--green-9)",
                    class_name="live-dot",
                ),
                rx.text(t("floor.live"), size="2", weight="medium", color="var(--green-11)"),
                align="center",
                spacing="2",
            ),
            rx.text(t("floor.live_hint"), size="2", color_scheme="gray"),
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        rx.grid(
            rx.foreach(F.departments, _department_card),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="4",
            width="100%",
            id="floor-departments",
        ),
        _minute_tick(),
        spacing="3",
        width="100%",
    )


# -- shift calendar --------------------------------------------------------------------------------


def _weekday_chips(days: rx.Var) -> rx.Component:
    return rx.hstack(
        *[
            rx.badge(
                t(f"floor.weekday_short.{day}"),
                color_scheme=rx.cond(days.contains(day), "blue", "gray"),
                variant=rx.cond(days.contains(day), "solid", "outline"),
                size="1",
                min_width="30px",
                justify_content="center",
                opacity=rx.cond(days.contains(day), "1", "0.5"),
            )
            for day in WEEKDAYS
        ],
        spacing="1",
    )


def _shift_row(s) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.hstack(
                rx.text(s.name, weight="medium", white_space="nowrap"),
                rx.cond(~s.is_active, rx.badge(t("ui.common.inactive"), color_scheme="gray")),
                spacing="2",
                align="center",
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.text(s.start, " – ", s.end, white_space="nowrap"),
                rx.cond(
                    s.overnight, rx.badge(t("floor.shift.overnight"), color_scheme="violet", variant="soft")
                ),
                spacing="2",
                align="center",
            )
        ),
        rx.table.cell(_weekday_chips(s.weekdays)),
        rx.table.cell(rx.text(_duration(s.hours, s.minutes), white_space="nowrap")),
        rx.table.cell(
            rx.button(
                t("ui.common.edit"),
                size="1",
                variant="soft",
                on_click=C.edit_shift(s.id),
                class_name="edit-shift",
            )
        ),
        class_name="shift-row",
        opacity=rx.cond(s.is_active, "1", "0.6"),
    )


def _setting_line(on: rx.Var, yes_key: str, no_key: str, icon: str) -> rx.Component:
    return _figure(icon, rx.cond(on, t(yes_key), t(no_key)))


def _calendar_department(d) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(d.name, size="4"),
                rx.spacer(),
                rx.button(
                    rx.icon("settings-2", size=14),
                    t("floor.settings.edit"),
                    size="2",
                    variant="soft",
                    color_scheme="gray",
                    on_click=C.edit_settings(d.id),
                    class_name="edit-settings",
                ),
                rx.button(
                    rx.icon("plus", size=14),
                    t("floor.shift.add"),
                    size="2",
                    on_click=C.new_shift(d.id),
                    class_name="add-shift",
                ),
                align="center",
                width="100%",
                spacing="2",
                wrap="wrap",
            ),
            rx.flex(
                _setting_line(
                    d.requires_check_in,
                    "floor.settings.check_in_required",
                    "floor.settings.check_in_optional",
                    "log-in",
                ),
                _setting_line(
                    d.shift_end_returns_tasks, "floor.settings.returns", "floor.settings.keeps", "undo-2"
                ),
                _setting_line(
                    d.shift_end_pauses_tasks,
                    "floor.settings.pauses",
                    "floor.settings.runs_on",
                    "circle-pause",
                ),
                _figure("clock", tf("floor.settings.grace", minutes=d.checkout_grace_minutes)),
                spacing="4",
                row_gap="4px",
                wrap="wrap",
            ),
            rx.cond(
                d.shifts.length() == 0,
                rx.callout.root(
                    rx.callout.icon(rx.icon("infinity")),
                    rx.callout.text(t("floor.shift.none")),
                    color_scheme="gray",
                    variant="surface",
                    size="1",
                    width="100%",
                ),
                scroll_table(
                    (
                        t("floor.shift.name"),
                        t("floor.shift.time"),
                        t("floor.shift.days"),
                        t("floor.shift.length"),
                        "",
                    ),
                    d.shifts,
                    _shift_row,
                    class_name="shift-table",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        size="2",
        width="100%",
        class_name="calendar-department",
        data_department=d.id,
    )


def _shifts() -> rx.Component:
    return rx.vstack(
        rx.text(t("floor.shift.hint"), size="2", color_scheme="gray"),
        rx.foreach(C.departments, _calendar_department),
        spacing="3",
        width="100%",
    )


def _text_field(
    label_key: str,
    form: rx.Var,
    errors: rx.Var,
    set_field,
    name: str,
    element_id: str,
    *,
    kind: str = "text",
    max_length: int | None = None,
) -> rx.Component:
    """A labelled input of a dialog's form, with its field error under it."""
    limits = {"max_length": max_length} if max_length else {}
    return field_block(
        t(label_key),
        rx.input(
            type=kind,
            value=form.get(name, ""),
            on_change=lambda v: set_field(name, v),
            id=element_id,
            width="100%",
            **limits,
        ),
        errors.get(name, ""),
    )


def _c_error(name: str) -> rx.Var:
    return C.field_errors.get(name, "")


def _form_error(errors: rx.Var) -> rx.Component:
    return rx.cond(
        errors.get("form", "") != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("triangle-alert")),
            rx.callout.text(errors.get("form", "")),
            color_scheme="red",
            size="1",
            class_name="form-error",
        ),
    )


def _dialog_buttons(
    on_cancel, on_save, save_id: str, editing: rx.Var | None = None, on_delete=None, delete_id: str = ""
) -> rx.Component:
    """Cancel and Save, and Delete on the left while an existing record is in the dialog."""
    delete = (
        rx.cond(
            editing,
            rx.button(
                rx.icon("trash-2", size=14),
                t("floor.delete"),
                variant="soft",
                color_scheme="red",
                on_click=on_delete,
                id=delete_id,
            ),
        )
        if on_delete is not None
        else rx.fragment()
    )
    return rx.hstack(
        delete,
        rx.spacer(),
        rx.button(t("ui.common.cancel"), variant="soft", color_scheme="gray", on_click=on_cancel),
        rx.button(rx.icon("save", size=14), t("ui.common.save"), on_click=on_save, id=save_id),
        width="100%",
        spacing="3",
        margin_top="8px",
    )


def _day_toggle(day: int):
    return lambda on: C.toggle_weekday(day, on)


def _shift_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(
                rx.cond(C.editing_id > 0, t("floor.shift.edit_title"), t("floor.shift.new_title"))
            ),
            rx.vstack(
                field_block(
                    t("calendar.field.department"),
                    option_select(
                        C.department_options,
                        C.form.get("department_id", ""),
                        lambda v: C.set_shift_field("department_id", v),
                        id="shift-department",
                    ),
                    _c_error("department_id"),
                ),
                _text_field(
                    "calendar.field.shift_name",
                    C.form,
                    C.field_errors,
                    C.set_shift_field,
                    "name",
                    "shift-name",
                    max_length=64,
                ),
                rx.grid(
                    _text_field(
                        "calendar.field.start",
                        C.form,
                        C.field_errors,
                        C.set_shift_field,
                        "start",
                        "shift-start",
                        kind="time",
                    ),
                    _text_field(
                        "calendar.field.end",
                        C.form,
                        C.field_errors,
                        C.set_shift_field,
                        "end",
                        "shift-end",
                        kind="time",
                    ),
                    columns="2",
                    spacing="3",
                    width="100%",
                ),
                rx.checkbox(
                    t("calendar.field.overnight"),
                    checked=C.form_flags.get("overnight", False),
                    on_change=lambda on: C.set_flag("overnight", on),
                    id="shift-overnight",
                ),
                field_block(
                    t("floor.shift.days"),
                    rx.flex(
                        *[
                            rx.checkbox(
                                t(f"calendar.weekday.{day}"),
                                checked=C.form_weekdays.contains(day),
                                on_change=_day_toggle(day),
                                class_name="shift-weekday",
                            )
                            for day in WEEKDAYS
                        ],
                        spacing="4",
                        wrap="wrap",
                        row_gap="8px",
                    ),
                    _c_error("weekdays"),
                ),
                rx.hstack(
                    rx.switch(
                        checked=C.form_flags.get("is_active", True),
                        on_change=lambda on: C.set_flag("is_active", on),
                        id="shift-active",
                    ),
                    rx.text(t("calendar.field.active"), size="2"),
                    align="center",
                    spacing="2",
                ),
                _form_error(C.field_errors),
                _dialog_buttons(
                    C.close_dialog,
                    C.save_shift,
                    "save-shift",
                    C.editing_id > 0,
                    C.delete_shift,
                    "delete-shift",
                ),
                spacing="3",
                width="100%",
            ),
            max_width="520px",
        ),
        open=C.dialog == "shift",
        on_open_change=C.dialog_changed,
    )


def _settings_dialog() -> rx.Component:
    def flag(name: str) -> rx.Component:
        return rx.hstack(
            rx.switch(
                checked=C.form_flags.get(name, False),
                on_change=lambda on: C.set_flag(name, on),
                id=f"settings-{name.replace('_', '-')}",
            ),
            rx.text(t(f"calendar.field.{name}"), size="2"),
            align="center",
            spacing="2",
        )

    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(t("floor.settings.title")),
            rx.vstack(
                flag("requires_check_in"),
                flag("shift_end_returns_tasks"),
                flag("shift_end_pauses_tasks"),
                field_block(
                    t("calendar.field.checkout_grace_minutes"),
                    rx.input(
                        type="number",
                        min=0,
                        max=240,
                        value=C.form.get("checkout_grace_minutes", ""),
                        on_change=lambda v: C.set_settings_field("checkout_grace_minutes", v),
                        id="settings-grace",
                        width="120px",
                    ),
                    _c_error("checkout_grace_minutes"),
                    hint=t("floor.settings.grace_hint"),
                ),
                _form_error(C.field_errors),
                _dialog_buttons(C.close_dialog, C.save_settings, "save-settings"),
                spacing="3",
                width="100%",
            ),
            max_width="520px",
        ),
        open=C.dialog == "settings",
        on_open_change=C.dialog_changed,
    )


# -- closures --------------------------------------------------------------------------------------


def _closure_row(c) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.text(
                rx.cond(
                    c.one_day, c.first_day, tf("floor.closure.range", first=c.first_day, last=c.last_day)
                ),
                white_space="nowrap",
            )
        ),
        rx.table.cell(
            rx.cond(
                c.department_id == 0,
                rx.badge(t("floor.closure.whole_shop"), color_scheme="red", variant="soft"),
                rx.badge(c.department, variant="outline"),
            )
        ),
        rx.table.cell(rx.text(c.reason, size="2")),
        rx.table.cell(
            rx.button(
                t("ui.common.edit"),
                size="1",
                variant="soft",
                on_click=C.edit_closure(c.id),
                class_name="edit-closure",
            )
        ),
        class_name="closure-row",
    )


def _closures() -> rx.Component:
    return section(
        t("floor.tab.closures"),
        rx.hstack(
            rx.text(t("floor.closure.hint"), size="2", color_scheme="gray"),
            rx.spacer(),
            rx.button(
                rx.icon("plus", size=14), t("floor.closure.add"), on_click=C.new_closure, id="add-closure"
            ),
            width="100%",
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        rx.cond(
            C.closures.length() == 0,
            rx.text(t("floor.closure.none"), size="2", color_scheme="gray", id="no-closures"),
            scroll_table(
                (t("floor.closure.days"), t("floor.closure.scope"), t("calendar.field.reason"), ""),
                C.closures,
                _closure_row,
                id="closure-table",
            ),
        ),
    )


def _closure_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(
                rx.cond(C.editing_id > 0, t("floor.closure.edit_title"), t("floor.closure.new_title"))
            ),
            rx.vstack(
                field_block(
                    t("floor.closure.scope"),
                    rx.select.root(
                        rx.select.trigger(width="100%", id="closure-department"),
                        rx.select.content(
                            rx.select.item(t("floor.closure.whole_shop"), value=SHOP),
                            rx.foreach(
                                C.department_options, lambda o: rx.select.item(o.label, value=o.value)
                            ),
                        ),
                        value=C.form.get("department_id", SHOP),
                        on_change=lambda v: C.set_closure_field("department_id", v),
                    ),
                    _c_error("department_id"),
                ),
                rx.grid(
                    _text_field(
                        "calendar.field.first_day",
                        C.form,
                        C.field_errors,
                        C.set_closure_field,
                        "first_day",
                        "closure-first",
                        kind="date",
                    ),
                    _text_field(
                        "calendar.field.last_day",
                        C.form,
                        C.field_errors,
                        C.set_closure_field,
                        "last_day",
                        "closure-last",
                        kind="date",
                    ),
                    columns="2",
                    spacing="3",
                    width="100%",
                ),
                _text_field(
                    "calendar.field.reason",
                    C.form,
                    C.field_errors,
                    C.set_closure_field,
                    "reason",
                    "closure-reason",
                    max_length=500,
                ),
                _form_error(C.field_errors),
                _dialog_buttons(
                    C.close_dialog,
                    C.save_closure,
                    "save-closure",
                    C.editing_id > 0,
                    C.delete_closure,
                    "delete-closure",
                ),
                spacing="3",
                width="100%",
            ),
            max_width="520px",
        ),
        open=C.dialog == "closure",
        on_open_change=C.dialog_changed,
    )


# -- absences --------------------------------------------------------------------------------------


def _absence_state(a) -> rx.Component:
    return rx.cond(
        a.current,
        rx.badge(t("floor.absence.current"), color_scheme="red", variant="soft"),
        rx.cond(
            a.upcoming,
            rx.badge(t("floor.absence.upcoming"), color_scheme="blue", variant="soft"),
            rx.badge(t("floor.absence.past"), color_scheme="gray", variant="soft"),
        ),
    )


def _absence_row(a) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(a.operator, weight="medium", white_space="nowrap")),
        rx.table.cell(
            rx.text(tf("floor.closure.range", first=a.start, last=a.end), white_space="nowrap"),
        ),
        rx.table.cell(_absence_state(a)),
        rx.table.cell(rx.text(a.reason, size="2")),
        rx.table.cell(rx.text(a.created_by, size="2", color_scheme="gray")),
        rx.table.cell(
            rx.button(
                t("ui.common.edit"),
                size="1",
                variant="soft",
                on_click=A.edit_absence(a.id),
                class_name="edit-absence",
            )
        ),
        class_name="absence-row",
        data_operator=a.operator_id,
        opacity=rx.cond(a.current | a.upcoming, "1", "0.65"),
    )


def _absences() -> rx.Component:
    toolbar = rx.hstack(
        rx.box(
            rx.select.root(
                rx.select.trigger(width="100%", id="absence-filter"),
                rx.select.content(
                    rx.select.item(t("floor.absence.all_operators"), value=ALL),
                    rx.foreach(A.operators, lambda o: rx.select.item(o.label, value=o.value)),
                ),
                value=A.operator_filter,
                on_change=A.filter_operator,
            ),
            width="220px",
        ),
        rx.spacer(),
        rx.button(
            rx.icon("calendar-plus", size=14),
            t("floor.absence.add"),
            on_click=A.new_absence,
            id="add-absence",
        ),
        width="100%",
        align="center",
        spacing="3",
        wrap="wrap",
    )
    return section(
        t("floor.tab.absences"),
        toolbar,
        rx.cond(
            A.rows.length() == 0,
            rx.text(t("floor.absence.none"), size="2", color_scheme="gray", id="no-absences"),
            scroll_table(
                (
                    t("calendar.field.operator"),
                    t("floor.absence.period"),
                    t("ui.common.status"),
                    t("calendar.field.reason"),
                    t("floor.absence.entered_by"),
                    "",
                ),
                A.rows,
                _absence_row,
                id="absence-table",
            ),
        ),
        pager(A.cursor_stack.length() == 0, A.next_cursor == "", A.previous_page, A.next_page),
        subtitle=t("floor.absence.hint"),
    )


def _a_error(name: str) -> rx.Var:
    return A.field_errors.get(name, "")


def _absence_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(
                rx.cond(A.editing_id > 0, t("floor.absence.edit_title"), t("floor.absence.new_title"))
            ),
            rx.vstack(
                field_block(
                    t("calendar.field.operator"),
                    option_select(
                        A.operators,
                        A.form.get("operator_id", ""),
                        lambda v: A.set_field("operator_id", v),
                        id="absence-operator",
                    ),
                    _a_error("operator_id"),
                ),
                rx.grid(
                    _text_field(
                        "calendar.field.absence_start",
                        A.form,
                        A.field_errors,
                        A.set_field,
                        "start",
                        "absence-start",
                        kind="datetime-local",
                    ),
                    _text_field(
                        "calendar.field.absence_end",
                        A.form,
                        A.field_errors,
                        A.set_field,
                        "end",
                        "absence-end",
                        kind="datetime-local",
                    ),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3",
                    width="100%",
                ),
                rx.text(tf("floor.absence.time_hint", zone=settings.timezone), size="1", color_scheme="gray"),
                _text_field(
                    "calendar.field.reason",
                    A.form,
                    A.field_errors,
                    A.set_field,
                    "reason",
                    "absence-reason",
                    max_length=500,
                ),
                _form_error(A.field_errors),
                _dialog_buttons(
                    A.close_dialog, A.save, "save-absence", A.editing_id > 0, A.delete, "delete-absence"
                ),
                spacing="3",
                width="100%",
            ),
            max_width="560px",
        ),
        open=A.dialog_open,
        on_open_change=A.dialog_changed,
    )


def floor_page() -> rx.Component:
    """Live department cards, then the shift calendar, closures and absences in tabs."""
    tabs = rx.tabs.root(
        rx.tabs.list(
            rx.tabs.trigger(t("floor.tab.live"), value="live", id="tab-live"),
            rx.tabs.trigger(t("floor.tab.shifts"), value="shifts", id="tab-shifts"),
            rx.tabs.trigger(t("floor.tab.closures"), value="closures", id="tab-closures"),
            rx.tabs.trigger(t("floor.tab.absences"), value="absences", id="tab-absences"),
            size="2",
        ),
        rx.tabs.content(_live(), value="live", padding_top="16px"),
        rx.tabs.content(_shifts(), value="shifts", padding_top="16px"),
        rx.tabs.content(_closures(), value="closures", padding_top="16px"),
        rx.tabs.content(_absences(), value="absences", padding_top="16px"),
        default_value=FIRST_TAB,
        width="100%",
    )
    return supervisor_shell(
        rx.cond(
            F.loaded,
            rx.vstack(
                tabs,
                _shift_dialog(),
                _settings_dialog(),
                _closure_dialog(),
                _absence_dialog(),
                spacing="4",
                width="100%",
                id="floor-page",
            ),
            rx.center(rx.spinner(size="3"), padding="48px"),
        ),
        title=t("floor.title"),
        current=ROUTE,
        user_name=SessionState.display_name,
        user_role=SessionState.role,
        on_logout=SessionState.logout,
    )
