"""Draft review board."""

from __future__ import annotations

from functools import partial
from typing import Any

import reflex as rx

from work_dispatch.domain.errors import DomainError, ValidationError
from work_dispatch.i18n import translate
from work_dispatch.services import drafts, reference, runner, travelers
from work_dispatch.services.actor import Actor
from work_dispatch.services.drafts import DraftGroup
from work_dispatch.services.reference import Option
from work_dispatch.states.mixins import KeysetPagerMixin
from work_dispatch.states.session import SessionState

EDITABLE = ("production_quantity", "work_content", "requirements", "department_id", "operator_id", "due_at")


class DraftBoardState(KeysetPagerMixin, rx.State):
    """One page of drafts grouped by work order, the selection and the split dialog."""

    groups: list[DraftGroup] = []
    total_drafts: int = 0
    work_orders_with_drafts: int = 0
    only_work_order: str = ""
    selected: list[int] = []
    departments: list[Option] = []
    operators: list[Option] = []
    split_task_id: int = 0
    split_quantity: int = 0
    split_keep: str = ""
    split_error: str = ""
    loaded: bool = False

    async def _fetch_page(self, actor: Actor) -> None:
        after = self._cursor() or None
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
        self.next_cursor = str(board.next_cursor or "")
        visible = self._visible_ids()
        self.selected = [task_id for task_id in self.selected if task_id in visible]
        self.loaded = True

    @rx.event
    async def load(self):
        """Guard the page and load the first page of drafts."""
        return await self._open_page(self._load, supervisor=True)

    async def _load(self, actor: Actor) -> None:
        lists = await runner.run(reference.lists, actor)
        self.departments, self.operators = lists.departments, lists.operators
        self.only_work_order = self.router.url.query_parameters.get("work_order", "")[:12]
        self.cursor_stack, self.selected = [], []
        await self._fetch_page(actor)

    @rx.event
    async def show_all(self):
        """Drop the work-order filter."""
        self.only_work_order = ""
        return await self._first_page()

    @rx.event
    def toggle(self, task_id: int, checked: bool):
        """Select or unselect a draft."""
        # Only drafts shown on this page can be selected: the list stays within a page's size.
        if not isinstance(task_id, int) or task_id not in self._visible_ids():
            return
        rest = [i for i in self.selected if i != task_id]
        self.selected = [*rest, task_id] if checked else rest

    def _visible_ids(self) -> set[int]:
        return {row.id for group in self.groups for row in group.drafts}

    @rx.event
    def toggle_group(self, work_order_id: int, checked: bool):
        """Select or unselect every draft of a work order."""
        ids = [
            row.id for group in self.groups if group.work_order_id == work_order_id for row in group.drafts
        ]
        rest = [i for i in self.selected if i not in ids]
        self.selected = rest + ids if checked else rest

    async def _reloaded(self, actor: Actor, result: Any, success: str = "", **params: Any):
        """Reload the page, then toast the result's summary or the ``success`` catalog key."""
        await self._fetch_page(actor)
        if hasattr(result, "summary"):
            return rx.toast.success(result.summary(actor.locale))
        return rx.toast.success(translate(success, actor.locale, **params)) if success else None

    async def _refused(self, actor: Actor, error: DomainError):
        await self._fetch_page(actor)
        return self._error_toast(error)

    @rx.event
    async def edit(self, task_id: int, version: int, field: str, value: Any):
        """Save one edited field of a draft (on blur / change)."""
        if field not in EDITABLE:
            return rx.toast.error(translate("ui.toast.field_not_editable", self._locale))
        key = {"department_id": "department_id", "operator_id": "operator_id"}.get(field, field)
        if key in ("department_id", "operator_id") and value == "none":
            value = ""
        return await self._act(
            drafts.edit_draft, task_id, {key: value}, version, then=self._reloaded, on_error=self._refused
        )

    @rx.event
    async def publish_selected(self):
        """Publish the selected drafts."""
        ids, self.selected = list(self.selected), []
        return await self._act(drafts.publish_drafts, ids, then=self._reloaded, on_error=self._refused)

    @rx.event
    async def publish_work_order(self, work_order_id: int):
        """Publish every draft of one work order."""
        return await self._act(drafts.publish_drafts, None, work_order_id=work_order_id, then=self._reloaded)

    @rx.event
    async def print_traveler(self, work_order_id: int):
        """Open a work order's job traveler (an A4 page to print) in a new tab, through a ticket."""
        session = await self.get_state(SessionState)
        return await self._act(
            travelers.traveler_link,
            session.session_token,
            work_order_id,
            then=lambda _actor, url: rx.redirect(url, is_external=True),
        )

    @rx.event
    async def merge_selected(self):
        """Merge the selected drafts (same process of one work order)."""
        ids, self.selected = list(self.selected), []
        return await self._act(
            drafts.merge_drafts,
            ids,
            then=partial(self._reloaded, success="ui.toast.drafts_merged"),
            on_error=self._refused,
        )

    @rx.event
    async def delete_selected(self):
        """Delete the selected drafts."""
        ids, self.selected = list(self.selected), []
        return await self._act(
            drafts.delete_drafts,
            ids,
            then=partial(self._reloaded, success="ui.toast.drafts_deleted", count=len(ids)),
            on_error=self._refused,
        )

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
        return await self._act(
            drafts.split_draft,
            self.split_task_id,
            self.split_keep,
            then=self._split_done,
            on_error=self._split_refused,
        )

    async def _split_done(self, actor: Actor, new_id: int):
        self.split_task_id = 0
        await self._fetch_page(actor)
        return rx.toast.success(translate("ui.toast.draft_split", actor.locale, task=new_id))

    def _split_refused(self, actor: Actor, error: DomainError) -> None:
        self.split_error = error.render(actor.locale)
