"""Draft review board."""

from __future__ import annotations

from typing import Any

import reflex as rx

from work_dispatch.domain.errors import DomainError, ValidationError
from work_dispatch.services import drafts, reference, runner
from work_dispatch.services.drafts import DraftGroup
from work_dispatch.services.reference import Option
from work_dispatch.states.session import LOGIN_PATH, current_actor, page_actor

EDITABLE = ("production_quantity", "work_content", "requirements", "department_id", "operator_id", "due_at")


class DraftBoardState(rx.State):
    """One page of drafts grouped by work order, the selection and the split dialog."""

    groups: list[DraftGroup] = []
    total_drafts: int = 0
    work_orders_with_drafts: int = 0
    next_cursor: int = 0
    cursor_stack: list[int] = []
    only_work_order: str = ""
    selected: list[int] = []
    departments: list[Option] = []
    operators: list[Option] = []
    split_task_id: int = 0
    split_quantity: int = 0
    split_keep: str = ""
    split_error: str = ""
    loaded: bool = False

    async def _fetch(self, actor) -> None:
        after = self.cursor_stack[-1] if self.cursor_stack else None
        try:
            board = await runner.run(
                drafts.list_drafts,
                actor,
                after_work_order_id=after,
                work_order_id=self.only_work_order or None,
            )
        except ValidationError:
            # A malformed work-order filter from the URL: show every work order instead.
            self.only_work_order = ""
            board = await runner.run(drafts.list_drafts, actor, after_work_order_id=after)
        self.groups = board.groups
        self.total_drafts = board.total_drafts
        self.work_orders_with_drafts = board.work_orders_with_drafts
        self.next_cursor = board.next_cursor or 0
        visible = {row.id for group in board.groups for row in group.drafts}
        self.selected = [task_id for task_id in self.selected if task_id in visible]
        self.loaded = True

    @rx.event
    async def load(self):
        """Guard the page and load the first page of drafts."""
        actor, redirect = await page_actor(self, supervisor=True)
        if redirect:
            return redirect
        lists = await runner.run(reference.lists, actor)
        self.departments, self.operators = lists.departments, lists.operators
        self.only_work_order = self.router.url.query_parameters.get("work_order", "")[:12]
        self.cursor_stack, self.selected = [], []
        await self._fetch(actor)
        return None

    async def _actor_or_login(self):
        actor = await current_actor(self)
        return actor, (None if actor else rx.redirect(LOGIN_PATH))

    @rx.event
    async def show_all(self):
        """Drop the work-order filter."""
        actor, redirect = await self._actor_or_login()
        if redirect:
            return redirect
        self.only_work_order, self.cursor_stack = "", []
        await self._fetch(actor)
        return None

    @rx.event
    async def next_page(self):
        """Next page of work orders."""
        actor, redirect = await self._actor_or_login()
        if redirect:
            return redirect
        if self.next_cursor:
            self.cursor_stack = [*self.cursor_stack, self.next_cursor]
            await self._fetch(actor)
        return None

    @rx.event
    async def previous_page(self):
        """Previous page of work orders."""
        actor, redirect = await self._actor_or_login()
        if redirect:
            return redirect
        self.cursor_stack = self.cursor_stack[:-1]
        await self._fetch(actor)
        return None

    @rx.event
    def toggle(self, task_id: int, checked: bool):
        """Select or unselect a draft."""
        if not isinstance(task_id, int):
            return
        rest = [i for i in self.selected if i != task_id]
        self.selected = [*rest, task_id] if checked else rest

    @rx.event
    def toggle_group(self, work_order_id: int, checked: bool):
        """Select or unselect every draft of a work order."""
        ids = [
            row.id for group in self.groups if group.work_order_id == work_order_id for row in group.drafts
        ]
        rest = [i for i in self.selected if i not in ids]
        self.selected = rest + ids if checked else rest

    async def _run(self, action, *args, success: str = ""):
        actor, redirect = await self._actor_or_login()
        if redirect:
            return redirect
        try:
            result = await runner.run(action, actor, *args)
        except DomainError as error:
            await self._fetch(actor)
            return rx.toast.error(error.message)
        await self._fetch(actor)
        if hasattr(result, "summary"):
            return rx.toast.success(result.summary())
        return rx.toast.success(success) if success else None

    @rx.event
    async def edit(self, task_id: int, version: int, field: str, value: Any):
        """Save one edited field of a draft (on blur / change)."""
        if field not in EDITABLE:
            return rx.toast.error("That field cannot be edited.")
        key = {"department_id": "department_id", "operator_id": "operator_id"}.get(field, field)
        if key in ("department_id", "operator_id") and value == "none":
            value = ""
        return await self._run(drafts.edit_draft, task_id, {key: value}, version)

    @rx.event
    async def publish_selected(self):
        """Publish the selected drafts."""
        ids, self.selected = list(self.selected), []
        return await self._run(drafts.publish_drafts, ids)

    @rx.event
    async def publish_work_order(self, work_order_id: int):
        """Publish every draft of one work order."""
        actor, redirect = await self._actor_or_login()
        if redirect:
            return redirect
        try:
            report = await runner.run(drafts.publish_drafts, actor, None, work_order_id=work_order_id)
        except DomainError as error:
            return rx.toast.error(error.message)
        await self._fetch(actor)
        return rx.toast.success(report.summary())

    @rx.event
    async def merge_selected(self):
        """Merge the selected drafts (same process of one work order)."""
        ids, self.selected = list(self.selected), []
        return await self._run(drafts.merge_drafts, ids, success="Drafts merged.")

    @rx.event
    async def delete_selected(self):
        """Delete the selected drafts."""
        ids, self.selected = list(self.selected), []
        return await self._run(drafts.delete_drafts, ids, success=f"{len(ids)} draft(s) deleted.")

    @rx.event
    def open_split(self, task_id: int, quantity: int):
        """Open the split dialog for a draft."""
        if isinstance(task_id, int) and isinstance(quantity, int):
            self.split_task_id, self.split_quantity = task_id, quantity
            self.split_keep, self.split_error = str(quantity // 2), ""

    @rx.event
    def set_split_keep(self, value: str):
        """Quantity the original draft keeps."""
        self.split_keep = value[:12] if isinstance(value, str) else ""

    @rx.event
    def close_split(self):
        """Close the split dialog."""
        self.split_task_id = 0

    @rx.event
    async def confirm_split(self):
        """Split the draft of the dialog."""
        actor, redirect = await self._actor_or_login()
        if redirect:
            return redirect
        try:
            new_id = await runner.run(drafts.split_draft, actor, self.split_task_id, self.split_keep)
        except DomainError as error:
            self.split_error = error.message
            return None
        self.split_task_id = 0
        await self._fetch(actor)
        return rx.toast.success(f"Split: new draft #{new_id}.")
