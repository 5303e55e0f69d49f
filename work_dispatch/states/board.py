"""Supervisor live board: keyset pages, filters, live counters, rows updated in place, history drawer."""

from __future__ import annotations

from typing import Any

import reflex as rx

from work_dispatch.domain.errors import DomainError
from work_dispatch.i18n import translate
from work_dispatch.realtime.bus import BusEvent
from work_dispatch.realtime.fanout import LiveFanout, Recipient, register_pusher
from work_dispatch.realtime.registry import BOARD_VIEW, REGISTRY, ROWS_PART, Watcher
from work_dispatch.services import board, exports, live_views, reference, runner, task_flow
from work_dispatch.services.actor import Actor
from work_dispatch.services.board import BoardRow, CountRow, EventView, TaskDetail
from work_dispatch.services.reference import Option
from work_dispatch.states.mixins import KeysetPagerMixin, LiveViewMixin
from work_dispatch.states.session import SessionState

FILTER_KEYS = ("status", "department_id", "operator_id", "order_number", "kind", "overdue", "search", "sort")
DEFAULT_FILTERS = {"kind": "formal", "sort": "newest"}


class BoardCountsState(rx.State):
    """Live counters: a handful of numbers, pushed on every change."""

    by_status: list[CountRow] = []
    by_department: list[CountRow] = []


class BoardState(KeysetPagerMixin, LiveViewMixin, rx.State):
    """The board's current page (≤ 100 rows), filters, paging and the drawer."""

    rows: list[BoardRow] = []
    filters: dict[str, str] = dict(DEFAULT_FILTERS)
    page_size: int = 50
    error: str = ""
    departments: list[Option] = []
    operators: list[Option] = []
    drawer_task_id: int = 0
    drawer_row: list[BoardRow] = []
    drawer_events: list[EventView] = []
    drawer_content: str = ""
    drawer_minutes: str = ""
    loaded: bool = False
    updates: int = 0

    def _register(self) -> None:
        department = self.filters.get("department_id", "")
        REGISTRY.update_visible(
            self.router.session.client_token,
            frozenset(row.id for row in self.rows),
            frozenset({int(department)}) if department.isdigit() else frozenset(),
            {"filters": dict(self.filters), "cursor": self._cursor(), "page_size": self.page_size},
        )

    async def _fetch_page(self, actor: Actor) -> None:
        try:
            page = await runner.run(
                board.query_page, actor, dict(self.filters), self._cursor() or None, self.page_size
            )
            self.error = ""
        except DomainError as error:
            self.error = error.render(actor.locale)
            self.cursor_stack = []
            if error.field not in ("cursor", None):
                self.filters = dict(DEFAULT_FILTERS)
            page = await runner.run(board.query_page, actor, dict(self.filters), None, self.page_size)
        self.rows = page.rows
        self.next_cursor = page.next_cursor or ""
        self._register()

    @rx.event
    async def load(self):
        """Guard the page, read filters from the URL, load the first page and the counters."""
        return await self._open_page(self._load, supervisor=True)

    async def _load(self, actor: Actor) -> None:
        lists = await runner.run(reference.lists, actor)
        self.departments, self.operators = lists.departments, lists.operators
        query = self.router.url.query_parameters
        self.filters = {**DEFAULT_FILTERS, **{k: query[k][:60] for k in FILTER_KEYS if query.get(k)}}
        self.cursor_stack = [query["cursor"][:200]] if query.get("cursor") else []
        size = query.get("size", "")
        self.page_size = min(max(int(size), 1), board.PAGE_SIZE_MAX) if size.isdigit() else 50
        await self._watch(actor, BOARD_VIEW)
        await self._fetch_page(actor)
        counts = await runner.run(board.counts, actor)
        counters = await self.get_state(BoardCountsState)
        counters.by_status, counters.by_department = counts.by_status, counts.by_department
        self.loaded = True

    @rx.event
    async def set_filter(self, key: str, value: Any):
        """Change one filter and go back to the first page."""
        if key not in FILTER_KEYS:
            self.error = translate("ui.board.unknown_filter", self._locale)
            return None
        text = "" if value in (None, "all", "none") else str(value)[:60]
        if key == "overdue":
            text = "true" if value in (True, "true", "on") else ""
        self.filters = {**self.filters, key: text}
        return await self._first_page()

    @rx.event
    async def search(self, form_data: dict[str, Any]):
        """Apply the search box."""
        data = form_data if isinstance(form_data, dict) else {}
        return await self.set_filter("search", data.get("search", ""))

    @rx.event
    async def clear_filters(self):
        """Back to all formal tasks, newest first."""
        self.filters = dict(DEFAULT_FILTERS)
        return await self._first_page()

    @rx.event
    async def export(self, fmt: str):
        """Download every row of the current filter as ``csv`` or ``xlsx``.

        The file never passes through the websocket: the service authorizes the export and signs a
        one-minute ticket for this session, and the browser fetches ``/api/export/board.<fmt>``.
        """
        session = await self.get_state(SessionState)
        return await self._act(
            exports.export_link, session.session_token, "board", fmt, dict(self.filters), then=_download
        )

    @rx.event
    async def open_task(self, task_id: int):
        """Open the drawer with a task's history."""
        return await self._act(board.task_detail, task_id, then=self._show_detail)

    def _show_detail(self, _actor: Actor, detail: TaskDetail) -> None:
        self.drawer_task_id = detail.row.id
        self.drawer_row = [detail.row]
        self.drawer_events = detail.events
        self.drawer_content = " · ".join(x for x in (detail.work_content, detail.requirements) if x)
        self.drawer_minutes = detail.minutes

    @rx.event
    async def reassign(self, form_data: dict[str, Any]):
        """Give the drawer's task to another operator, with a reason."""
        data = form_data if isinstance(form_data, dict) else {}
        return await self._act(
            task_flow.reassign,
            self.drawer_task_id,
            data.get("operator_id"),
            data.get("reason", ""),
            then=self._after_drawer_action,
        )

    @rx.event
    async def unassign(self, form_data: dict[str, Any]):
        """Put the drawer's task back in its department pool, with a reason."""
        data = form_data if isinstance(form_data, dict) else {}
        return await self._act(
            task_flow.unassign, self.drawer_task_id, data.get("reason", ""), then=self._after_drawer_action
        )

    async def _after_drawer_action(self, actor: Actor, _result: Any):
        detail = await runner.run(board.task_detail, actor, self.drawer_task_id)
        self.drawer_row = [detail.row]
        self.drawer_events = detail.events
        self.drawer_minutes = detail.minutes
        await self._fetch_page(actor)
        return rx.toast.success(translate("ui.common.done", actor.locale))

    @rx.event
    def drawer_changed(self, is_open: bool):
        """The drawer was dismissed (overlay click, Escape or swipe)."""
        if not is_open:
            self._close_drawer()

    @rx.event
    def close_drawer(self):
        """Close the drawer."""
        self._close_drawer()

    def _close_drawer(self) -> None:
        self.drawer_task_id = 0
        self.drawer_events = []
        self.drawer_row = []
        self.drawer_minutes = ""


def _download(_actor: Actor, link: exports.ExportLink):
    """Send the browser to a ticketed export (a plain HTTP download, outside the websocket)."""
    return rx.download(url=link.url, filename=link.filename)


async def push_board(fanout: LiveFanout, recipients: list[Recipient], event: BusEvent) -> None:
    """Fan-out handler of board sessions: counters for all, rows updated in place or first page reloaded.

    Each session is read with its own rights and locale; one whose data cannot be read keeps what
    it shows and the others are pushed all the same. A part equal to what a session was last
    sent is not pushed again.
    """
    data = await runner.run(live_views.board_refresh, recipients, list(event.task_ids))

    async def push(recipient: Recipient) -> None:
        token = recipient.token
        counts = data.counts.get(token)
        if counts is None:
            return
        if fanout.remember_pushed(token, "counts", counts):
            fanout.skipped += 1
        else:

            def set_counts(state) -> None:
                state.by_status, state.by_department = counts.by_status, counts.by_department

            await fanout.push_state(token, BoardCountsState, set_counts)
        page, rows = data.pages.get(token), data.rows.get(token)
        if page is None and not rows:
            return
        shown = page if page is not None else rows
        if fanout.remember_pushed(token, ROWS_PART, shown):
            fanout.skipped += 1
            return

        def set_rows(state) -> None:
            if page is not None:
                state.rows = page.rows
                state.next_cursor = page.next_cursor or ""
            else:
                state.rows = [rows.get(row.id, row) for row in state.rows]
            state.updates += 1
            state._register()

        await fanout.push_state(token, BoardState, set_rows)
        # Registering the new rows forgot what they were: they are exactly what was just pushed.
        fanout.remember_pushed(token, ROWS_PART, shown)

    await fanout.each(recipients, push)


async def wipe_board(fanout: LiveFanout, watcher: Watcher) -> None:
    """Empty the board of a session that may not see it any more, as a logout would."""
    async with fanout.modify(watcher.token, BoardState) as root:
        (await root.get_state(BoardState)).reset()
        (await root.get_state(BoardCountsState)).reset()
        (await root.get_state(SessionState))._remember(None)


register_pusher(BOARD_VIEW, push_board, wipe_board)
