"""Supervisor: assignment rules, the auto-dispatch switch and the dispatch preview."""

from __future__ import annotations

import reflex as rx

from work_dispatch.components.cards import section
from work_dispatch.components.forms import choice_select, field_block, form_actions, option_select
from work_dispatch.components.shell import supervisor_shell
from work_dispatch.components.tables import scroll_table
from work_dispatch.components.text import enum_key, enum_text, t
from work_dispatch.domain.enums import Strategy
from work_dispatch.states.rules import RulesState
from work_dispatch.states.session import SessionState

ROUTE = "/supervisor/rules"
S = RulesState
OUTCOME_COLORS = {"assigned": "green", "queued": "orange", "unroutable": "red"}
LEVELS = ("0", "1", "2", "3")
LEVEL_COLORS = {1: "amber", 2: "blue", 3: "violet"}


def _error(name: str) -> rx.Var:
    return S.field_errors.get(name, "")


def _form() -> rx.Component:
    return section(
        rx.cond(S.editing_rule_id > 0, t("ui.rules.edit_rule"), t("ui.rules.new_rule")),
        rx.grid(
            field_block(
                t("ui.common.process"),
                option_select(
                    S.processes,
                    S.form.get("process_id", ""),
                    lambda v: S.set_form("process_id", v),
                    id="rule-process",
                ),
                _error("process_id"),
            ),
            field_block(
                t("ui.common.department"),
                option_select(
                    S.departments,
                    S.form.get("department_id", ""),
                    lambda v: S.set_form("department_id", v),
                    id="rule-department",
                ),
                _error("department_id"),
            ),
            field_block(
                t("ui.rules.priority_hint"),
                rx.input(
                    value=S.form.get("priority", ""),
                    type="number",
                    min=0,
                    max=100,
                    on_change=lambda v: S.set_form("priority", v),
                    id="rule-priority",
                ),
                _error("priority"),
            ),
            field_block(
                t("ui.rules.strategy"),
                choice_select(
                    [(strategy.value, t(enum_key("strategy", strategy.value))) for strategy in Strategy],
                    S.form.get("strategy", "least_tasks"),
                    lambda v: S.set_form("strategy", v),
                    id="rule-strategy",
                ),
                _error("strategy"),
            ),
            field_block(
                t("ui.skills.min_level"),
                choice_select(
                    [(level, t(f"ui.skills.rule_level.{level}")) for level in LEVELS],
                    S.form.get("min_level", "0"),
                    lambda v: S.set_form("min_level", v),
                    id="rule-min-level",
                ),
                _error("min_level"),
                hint=t("ui.skills.min_level_hint"),
            ),
            columns=rx.breakpoints(initial="1", sm="2", lg="3"),
            spacing="3",
            width="100%",
        ),
        field_block(
            t("ui.common.notes"),
            rx.input(
                value=S.form.get("notes", ""), max_length=500, on_change=lambda v: S.set_form("notes", v)
            ),
            _error("notes"),
        ),
        rx.cond(_error("form") != "", rx.text(_error("form"), color_scheme="red", size="2")),
        form_actions(
            S.editing_rule_id > 0,
            t("ui.rules.new_instead"),
            S.new_rule,
            t("ui.rules.save"),
            S.save,
            "save-rule",
        ),
    )


def _level_badge(level: rx.Var) -> rx.Component:
    """A rule's minimum skill level; level 0 (anyone) as quiet text."""
    return rx.match(
        level,
        *[
            (number, rx.badge(t(f"ui.skills.rule_level.{number}"), color_scheme=color, variant="soft"))
            for number, color in LEVEL_COLORS.items()
        ],
        rx.text(t("ui.skills.rule_level.0"), size="2", color_scheme="gray"),
    )


def _rule_row(r) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r.process, font_weight="500"),
        rx.table.cell(r.department),
        rx.table.cell(r.priority),
        rx.table.cell(rx.badge(enum_text("strategy", r.strategy), variant="soft")),
        rx.table.cell(_level_badge(r.min_level), class_name="rule-min-level"),
        rx.table.cell(rx.text(r.notes, size="2", color_scheme="gray", word_break="normal")),
        rx.table.cell(rx.switch(checked=r.is_active, on_change=lambda v: S.toggle_active(r.id, v))),
        rx.table.cell(rx.button(t("ui.common.edit"), size="1", variant="soft", on_click=S.edit(r.id))),
        opacity=rx.cond(r.is_active, "1", "0.55"),
    )


def _rules_table() -> rx.Component:
    return section(
        t("ui.rules.rules"),
        scroll_table(
            (
                t("ui.common.process"),
                t("ui.common.department"),
                t("ui.common.priority"),
                t("ui.rules.strategy"),
                t("ui.skills.min_level_column"),
                t("ui.common.notes"),
                t("ui.common.active_field"),
                "",
            ),
            S.rules,
            _rule_row,
        ),
    )


def _preview_row(p) -> rx.Component:
    """The task's outcome, then why (the reason and its explanation lines) on a row of its own.

    A "why" column was pushed off the screen on a tablet; a row across the whole table keeps
    the reason, the candidates and the operators left out readable without scrolling sideways.
    """
    return rx.fragment(_preview_outcome(p), _preview_details(p))


def _preview_outcome(p) -> rx.Component:
    return rx.table.row(
        rx.table.cell("#", p.task_id),
        rx.table.cell(p.order_number),
        rx.table.cell(p.process),
        rx.table.cell(
            rx.match(
                p.outcome,
                *[
                    (k, rx.badge(t(f"ui.rules.outcome.{k}"), color_scheme=c))
                    for k, c in OUTCOME_COLORS.items()
                ],
                rx.badge(p.outcome),
            )
        ),
        rx.table.cell(p.department),
        rx.table.cell(p.operator),
        # The rule under a task is drawn under its explanation row instead.
        style={"& > td": {"box_shadow": "none"}},
        class_name="preview-row",
    )


def _preview_details(p) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(p.reason, size="2", word_break="normal", class_name="preview-reason"),
                rx.text(
                    p.details,
                    size="1",
                    color_scheme="gray",
                    white_space="pre-line",
                    word_break="normal",
                    class_name="preview-details",
                ),
                spacing="1",
                # Within the window even when the table scrolls sideways on a tablet.
                max_width="calc(100vw - 160px)",
            ),
            col_span=6,
            padding_top="0",
        ),
    )


def _preview() -> rx.Component:
    return section(
        t("ui.rules.preview"),
        rx.hstack(
            rx.hstack(
                rx.switch(checked=S.auto_dispatch, on_change=S.set_auto_dispatch, id="auto-dispatch"),
                rx.text(t("ui.rules.auto_dispatch"), weight="medium"),
                align="center",
                spacing="2",
            ),
            rx.spacer(),
            rx.button(
                rx.icon("eye", size=16),
                t("ui.rules.preview_now"),
                variant="soft",
                on_click=S.run_preview,
                id="run-preview",
            ),
            rx.button(rx.icon("zap", size=16), t("ui.rules.dispatch_now"), on_click=S.dispatch_now),
            width="100%",
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        rx.cond(S.preview_counts != "", rx.text(S.preview_counts, size="2", id="preview-counts")),
        rx.cond(
            S.preview_rows.length() > 0,
            scroll_table(
                (
                    t("ui.common.task"),
                    t("ui.common.order"),
                    t("ui.common.process"),
                    t("ui.rules.outcome"),
                    t("ui.common.department"),
                    t("ui.common.operator"),
                ),
                S.preview_rows,
                _preview_row,
                id="preview-table",
            ),
        ),
        subtitle=t("ui.rules.preview_hint"),
    )


def rules_page() -> rx.Component:
    """Preview, form and table."""
    return supervisor_shell(
        rx.cond(
            S.loaded,
            rx.vstack(_preview(), _form(), _rules_table(), spacing="4", width="100%"),
            rx.center(rx.spinner(size="3"), padding="48px"),
        ),
        title=t("ui.nav.rules"),
        current=ROUTE,
        user_name=SessionState.display_name,
        user_role=SessionState.role,
        on_logout=SessionState.logout,
    )
