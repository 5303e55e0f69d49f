"""Supervisor: assignment rules, the auto-dispatch switch and the dispatch preview."""

from __future__ import annotations

import reflex as rx

from work_dispatch.components.cards import section
from work_dispatch.components.forms import choice_select, field_block, form_actions, option_select
from work_dispatch.components.shell import supervisor_shell
from work_dispatch.components.tables import scroll_table
from work_dispatch.domain.dispatching import strategy_choices
from work_dispatch.states.rules import RulesState
from work_dispatch.states.session import SessionState

ROUTE = "/supervisor/rules"
S = RulesState
STRATEGIES = strategy_choices()
OUTCOME_COLORS = {"assigned": "green", "queued": "orange", "unroutable": "red"}


def _error(name: str) -> rx.Var:
    return S.field_errors.get(name, "")


def _form() -> rx.Component:
    return section(
        rx.cond(S.editing_rule_id > 0, "Edit rule", "New rule"),
        rx.grid(
            field_block(
                "Process",
                option_select(
                    S.processes,
                    S.form.get("process_id", ""),
                    lambda v: S.set_form("process_id", v),
                    id="rule-process",
                ),
                _error("process_id"),
            ),
            field_block(
                "Department",
                option_select(
                    S.departments,
                    S.form.get("department_id", ""),
                    lambda v: S.set_form("department_id", v),
                    id="rule-department",
                ),
                _error("department_id"),
            ),
            field_block(
                "Priority (0–100, higher wins)",
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
                "Strategy",
                choice_select(
                    STRATEGIES,
                    S.form.get("strategy", "least_tasks"),
                    lambda v: S.set_form("strategy", v),
                    id="rule-strategy",
                ),
                _error("strategy"),
            ),
            columns=rx.breakpoints(initial="1", sm="2", lg="4"),
            spacing="3",
            width="100%",
        ),
        field_block(
            "Notes",
            rx.input(
                value=S.form.get("notes", ""), max_length=500, on_change=lambda v: S.set_form("notes", v)
            ),
            _error("notes"),
        ),
        rx.cond(_error("form") != "", rx.text(_error("form"), color_scheme="red", size="2")),
        form_actions(S.editing_rule_id > 0, "New rule instead", S.new_rule, "Save rule", S.save, "save-rule"),
    )


def _rule_row(r) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r.process, font_weight="500"),
        rx.table.cell(r.department),
        rx.table.cell(r.priority),
        rx.table.cell(rx.badge(r.strategy, variant="soft")),
        rx.table.cell(rx.text(r.notes, size="2", color_scheme="gray")),
        rx.table.cell(rx.switch(checked=r.is_active, on_change=lambda v: S.toggle_active(r.id, v))),
        rx.table.cell(rx.button("Edit", size="1", variant="soft", on_click=S.edit(r.id))),
        opacity=rx.cond(r.is_active, "1", "0.55"),
    )


def _rules_table() -> rx.Component:
    return section(
        "Rules",
        scroll_table(
            ("Process", "Department", "Priority", "Strategy", "Notes", "Active", ""), S.rules, _rule_row
        ),
    )


def _preview_row(p) -> rx.Component:
    return rx.table.row(
        rx.table.cell("#", p.task_id),
        rx.table.cell(p.order_number),
        rx.table.cell(p.process),
        rx.table.cell(
            rx.match(
                p.outcome,
                *[(k, rx.badge(k, color_scheme=c)) for k, c in OUTCOME_COLORS.items()],
                rx.badge(p.outcome),
            )
        ),
        rx.table.cell(p.department),
        rx.table.cell(p.operator),
        rx.table.cell(rx.text(p.reason, size="2")),
    )


def _preview() -> rx.Component:
    return section(
        "Dispatch preview",
        rx.hstack(
            rx.hstack(
                rx.switch(checked=S.auto_dispatch, on_change=S.set_auto_dispatch, id="auto-dispatch"),
                rx.text("Auto-dispatch", weight="medium"),
                align="center",
                spacing="2",
            ),
            rx.spacer(),
            rx.button(
                rx.icon("eye", size=16),
                "Preview now",
                variant="soft",
                on_click=S.run_preview,
                id="run-preview",
            ),
            rx.button(rx.icon("zap", size=16), "Dispatch now", on_click=S.dispatch_now),
            width="100%",
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        rx.cond(S.preview_counts != "", rx.text(S.preview_counts, size="2", id="preview-counts")),
        rx.cond(
            S.preview_rows.length() > 0,
            scroll_table(
                ("Task", "Order", "Process", "Outcome", "Department", "Operator", "Why"),
                S.preview_rows,
                _preview_row,
            ),
        ),
        subtitle="What a dispatch would do now; nothing changes until you dispatch.",
    )


def rules_page() -> rx.Component:
    """Preview, form and table."""
    return supervisor_shell(
        rx.cond(
            S.loaded,
            rx.vstack(_preview(), _form(), _rules_table(), spacing="4", width="100%"),
            rx.center(rx.spinner(size="3"), padding="48px"),
        ),
        title="Assignment rules",
        current=ROUTE,
        user_name=SessionState.display_name,
        user_role=SessionState.role,
        on_logout=SessionState.logout,
    )
