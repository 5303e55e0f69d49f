"""Assignment rules page: list, form, switch, preview."""

from __future__ import annotations

import reflex as rx

from work_dispatch.domain.errors import DomainError
from work_dispatch.services import dispatch, reference, rules, runner
from work_dispatch.services.reference import Option
from work_dispatch.services.rules import PreviewRow, RuleRow
from work_dispatch.states.session import LOGIN_PATH, current_actor, page_actor

RULE_FIELDS = ("process_id", "department_id", "priority", "strategy", "notes")


def _auto_dispatch(db, actor) -> bool:
    rules.list_rules(db, actor)
    return dispatch.auto_dispatch_enabled(db)


class RulesState(rx.State):
    """Rules, the edit form, the auto-dispatch switch and the dispatch preview."""

    rules: list[RuleRow] = []
    processes: list[Option] = []
    departments: list[Option] = []
    form: dict[str, str] = {}
    editing_rule_id: int = 0
    field_errors: dict[str, str] = {}
    auto_dispatch: bool = True
    preview_rows: list[PreviewRow] = []
    preview_counts: str = ""
    loaded: bool = False

    async def _reload(self, actor) -> None:
        self.rules = await runner.run(rules.list_rules, actor)
        self.auto_dispatch = await runner.run(_auto_dispatch, actor)

    @rx.event
    async def load(self):
        """Guard the page and load rules and pickers."""
        actor, redirect = await page_actor(self, supervisor=True)
        if redirect:
            return redirect
        lists = await runner.run(reference.lists, actor)
        self.processes, self.departments = lists.processes, lists.departments
        self._new_form()
        await self._reload(actor)
        self.preview_rows, self.preview_counts = [], ""
        self.loaded = True
        return None

    def _new_form(self) -> None:
        self.form = {
            "process_id": "",
            "department_id": "",
            "priority": "50",
            "strategy": "least_tasks",
            "notes": "",
        }
        self.editing_rule_id = 0
        self.field_errors = {}

    @rx.event
    def set_form(self, field: str, value: str):
        """Change one field of the rule form."""
        if field in RULE_FIELDS and isinstance(value, str):
            self.form = {**self.form, field: value[:600]}

    @rx.event
    def edit(self, rule_id: int):
        """Load a rule into the form."""
        for rule in self.rules:
            if rule.id == rule_id:
                self.form = {
                    "process_id": str(rule.process_id),
                    "department_id": str(rule.department_id),
                    "priority": str(rule.priority),
                    "strategy": rule.strategy,
                    "notes": rule.notes,
                }
                self.editing_rule_id = rule.id
                self.field_errors = {}

    @rx.event
    def new_rule(self):
        """Empty the form for a new rule."""
        self._new_form()

    @rx.event
    async def save(self):
        """Create or update the rule of the form."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH)
        editing = next((r for r in self.rules if r.id == self.editing_rule_id), None)
        payload = {**self.form, "is_active": editing.is_active if editing else True}
        try:
            await runner.run(rules.save_rule, actor, payload, self.editing_rule_id or None)
        except DomainError as error:
            self.field_errors = {error.field or "form": error.message}
            return None
        self._new_form()
        await self._reload(actor)
        return rx.toast.success("Rule saved.")

    @rx.event
    async def toggle_active(self, rule_id: int, active: bool):
        """Activate or deactivate a rule."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH)
        try:
            await runner.run(rules.set_active, actor, rule_id, active)
        except DomainError as error:
            return rx.toast.error(error.message)
        await self._reload(actor)
        return None

    @rx.event
    async def set_auto_dispatch(self, enabled: bool):
        """Switch auto-dispatch on or off."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH)
        try:
            self.auto_dispatch = await runner.run(dispatch.set_auto_dispatch, actor, enabled)
        except DomainError as error:
            return rx.toast.error(error.message)
        return rx.toast.info("Auto-dispatch is " + ("on." if self.auto_dispatch else "off."))

    @rx.event
    async def run_preview(self):
        """Show what a dispatch would do now, without changing anything."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH)
        rows, report = await runner.run(rules.preview, actor)
        self.preview_rows = rows
        self.preview_counts = (
            f"{report.assigned} would be assigned, {report.queued} queued in pools, "
            f"{report.unroutable} unroutable (of the first {len(rows)} pending tasks)"
        )
        return None

    @rx.event
    async def dispatch_now(self):
        """Run one dispatch cycle now."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH)
        try:
            report = await runner.run(dispatch.dispatch_now, actor)
        except DomainError as error:
            return rx.toast.error(error.message)
        self.preview_rows, self.preview_counts = [], ""
        return rx.toast.success("Dispatched: " + report.summary())
