"""Assignment rules page: list, form, switch, preview."""

from __future__ import annotations

import reflex as rx

from work_dispatch.domain.errors import DomainError
from work_dispatch.i18n import translate
from work_dispatch.services import dispatch, reference, rules, runner
from work_dispatch.services.actor import Actor
from work_dispatch.services.reference import Option
from work_dispatch.services.rules import PreviewRow, RuleRow
from work_dispatch.states.mixins import ServiceMixin, field_errors

RULE_FIELDS = ("process_id", "department_id", "priority", "strategy", "notes", "min_level")


class RulesState(ServiceMixin, rx.State):
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

    async def _reload(self, actor: Actor) -> None:
        self.rules = await runner.run(rules.list_rules, actor)
        self.auto_dispatch = await runner.run(rules.auto_dispatch_switch, actor)

    @rx.event
    async def load(self):
        """Guard the page and load rules and pickers."""
        return await self._open_page(self._load, supervisor=True)

    async def _load(self, actor: Actor) -> None:
        lists = await runner.run(reference.lists, actor)
        self.processes, self.departments = lists.processes, lists.departments
        self._new_form()
        await self._reload(actor)
        self.preview_rows, self.preview_counts = [], ""
        self.loaded = True

    def _new_form(self) -> None:
        self.form = {
            "process_id": "",
            "department_id": "",
            "priority": "50",
            "strategy": "least_tasks",
            "notes": "",
            "min_level": "0",
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
                    "min_level": str(rule.min_level),
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
        editing = next((r for r in self.rules if r.id == self.editing_rule_id), None)
        payload = {**self.form, "is_active": editing.is_active if editing else True}
        return await self._act(
            rules.save_rule,
            payload,
            self.editing_rule_id or None,
            then=self._saved,
            on_error=self._form_error,
        )

    async def _saved(self, actor: Actor, _rule_id: int):
        self._new_form()
        await self._reload(actor)
        return rx.toast.success(translate("ui.toast.rule_saved", actor.locale))

    def _form_error(self, actor: Actor, error: DomainError) -> None:
        self.field_errors = field_errors(error, actor.locale)

    @rx.event
    async def toggle_active(self, rule_id: int, active: bool):
        """Activate or deactivate a rule."""
        return await self._act(
            rules.set_active, rule_id, active, then=lambda actor, _result: self._reload(actor)
        )

    @rx.event
    async def set_auto_dispatch(self, enabled: bool):
        """Switch auto-dispatch on or off."""
        return await self._act(dispatch.set_auto_dispatch, enabled, then=self._auto_dispatch_set)

    def _auto_dispatch_set(self, actor: Actor, enabled: bool):
        self.auto_dispatch = enabled
        key = "ui.toast.auto_dispatch_on" if self.auto_dispatch else "ui.toast.auto_dispatch_off"
        return rx.toast.info(translate(key, actor.locale))

    @rx.event
    async def run_preview(self):
        """Show what a dispatch would do now, without changing anything."""
        return await self._act(rules.preview, then=self._show_preview)

    def _show_preview(self, actor: Actor, preview: tuple[list[PreviewRow], dispatch.DispatchReport]) -> None:
        rows, report = preview
        self.preview_rows = rows
        self.preview_counts = translate(
            "ui.rules.preview_counts",
            actor.locale,
            assigned=report.assigned,
            queued=report.queued,
            unroutable=report.unroutable,
            pending=len(rows),
        )

    @rx.event
    async def dispatch_now(self):
        """Run one dispatch cycle now."""
        return await self._act(dispatch.dispatch_now, then=self._dispatched)

    def _dispatched(self, actor: Actor, report: dispatch.DispatchReport):
        self.preview_rows, self.preview_counts = [], ""
        return rx.toast.success(
            translate("ui.toast.dispatched", actor.locale, summary=report.summary(actor.locale))
        )
