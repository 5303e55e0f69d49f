"""Operator task center: lists, actions, bell and live pushes."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from work_dispatch.domain.errors import DomainError
from work_dispatch.realtime.registry import OPERATOR_VIEW, Watcher
from work_dispatch.services import notifications, runner, task_center, task_flow
from work_dispatch.services.notifications import NotificationRow
from work_dispatch.services.task_center import OperatorOverview, TaskCard
from work_dispatch.states.live import REGISTRY
from work_dispatch.states.session import LOGIN_PATH, current_actor, page_actor

PAUSE_REASONS = list(task_flow.PAUSE_REASONS)


class TaskCenterState(rx.State):
    """The operator's task lists (≤ 50 rows each), bell count and dialogs."""

    departments: list[str] = []
    wip_limit: int = 0
    my_tasks: list[TaskCard] = []
    pool: list[TaskCard] = []
    pool_count: int = 0
    unread: int = 0
    highlight_ids: list[int] = []
    banner: str = ""
    loaded: bool = False
    push_count: int = 0
    _owner_id: int = 0

    pause_task_id: int = 0
    pause_reason: str = PAUSE_REASONS[0]
    report_task_id: int = 0
    report_error: str = ""
    notifications_open: bool = False
    notification_rows: list[NotificationRow] = []

    def _apply(self, data: OperatorOverview, changed: set[int] | None = None) -> None:
        known = {task.id for task in self.my_tasks}
        self.departments = data.departments
        self.wip_limit = data.wip_limit
        self.my_tasks = data.my_tasks
        self.pool = data.pool
        self.pool_count = data.pool_count
        self.unread = data.unread
        self.loaded = True
        if changed is not None:
            self.push_count += 1
            new = [card.id for card in data.my_tasks if card.id not in known]
            if new:
                self.highlight_ids = list(dict.fromkeys(self.highlight_ids + new))[-10:]
                self.banner = f"New task #{new[0]} assigned to you" + (
                    f" (+{len(new) - 1} more)" if len(new) > 1 else ""
                )

    def _forget(self) -> None:
        self.reset()
        self._owner_id = 0

    async def _refresh(self, actor) -> None:
        self._apply(await runner.run(task_center.overview, actor))

    @rx.event
    async def load(self):
        """Guard the page, load from the database and register for pushes."""
        actor, redirect = await page_actor(self, operator=True)
        if redirect:
            self.reset()
            yield redirect
            return
        if self._owner_id != actor.user_id:
            # Another operator used this tab before: clear their data before loading.
            self.reset()
            self._owner_id = actor.user_id
            yield
        # On a reconnect the lists were already shown: treat tasks that arrived meanwhile as news.
        reconnecting = self.loaded
        self._apply(await runner.run(task_center.overview, actor), set() if reconnecting else None)
        REGISTRY.register(
            Watcher(
                token=self.router.session.client_token,
                view=OPERATOR_VIEW,
                user_id=actor.user_id,
                department_ids=actor.department_ids,
            )
        )

    async def _act(self, action, *args):
        actor = await current_actor(self)
        if actor is None:
            REGISTRY.drop(self.router.session.client_token)
            self.reset()
            return rx.redirect(LOGIN_PATH, replace=True)
        try:
            await runner.run(action, actor, *args)
        except DomainError as error:
            await self._refresh(actor)
            return rx.toast.error(error.message, position="top-center")
        await self._refresh(actor)
        return None

    @rx.event
    async def claim(self, task_id: int):
        """Claim a task from the pool."""
        return await self._act(task_flow.claim, task_id) or rx.toast.success(
            f"Task #{task_id} is yours.", position="top-center"
        )

    @rx.event
    async def start(self, task_id: int):
        """Start one of my tasks."""
        self.highlight_ids = [i for i in self.highlight_ids if i != task_id]
        return await self._act(task_flow.start, task_id)

    @rx.event
    async def resume(self, task_id: int):
        """Resume a paused task."""
        return await self._act(task_flow.resume, task_id)

    @rx.event
    async def complete(self, task_id: int):
        """Complete a task in progress."""
        return await self._act(task_flow.complete, task_id) or rx.toast.success(
            f"Task #{task_id} completed.", position="top-center"
        )

    @rx.event
    def open_pause(self, task_id: int):
        """Show the pause dialog for a task."""
        self.pause_task_id = task_id if isinstance(task_id, int) else 0
        self.pause_reason = PAUSE_REASONS[0]

    @rx.event
    def set_pause_reason(self, reason: str):
        """Pick a pause reason in the dialog."""
        self.pause_reason = reason if reason in PAUSE_REASONS else PAUSE_REASONS[-1]

    @rx.event
    def close_dialogs(self):
        """Close any open dialog."""
        self.pause_task_id = 0
        self.report_task_id = 0
        self.report_error = ""

    @rx.event
    async def confirm_pause(self):
        """Pause the task of the dialog with the chosen reason."""
        task_id, self.pause_task_id = self.pause_task_id, 0
        return await self._act(task_flow.pause, task_id, self.pause_reason)

    @rx.event
    def open_report(self, task_id: int):
        """Show the report-quantity dialog for a task."""
        self.report_task_id = task_id if isinstance(task_id, int) else 0
        self.report_error = ""

    @rx.event
    async def submit_report(self, form_data: dict[str, Any]):
        """Report produced and defective quantities from the dialog."""
        data = form_data if isinstance(form_data, dict) else {}
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH, replace=True)
        over = data.get("over_production") in ("on", True, "true")
        try:
            await runner.run(
                task_flow.report_quantity,
                actor,
                self.report_task_id,
                data.get("completed"),
                data.get("defective") or 0,
                over,
            )
        except DomainError as error:
            self.report_error = error.message
            return None
        self.report_task_id = 0
        self.report_error = ""
        await self._refresh(actor)
        return rx.toast.success("Quantity reported.", position="top-center")

    @rx.event
    def dismiss_banner(self):
        """Hide the new-task banner."""
        self.banner = ""
        self.highlight_ids = []

    @rx.event
    async def toggle_notifications(self):
        """Open or close the bell's list."""
        self.notifications_open = not self.notifications_open
        if self.notifications_open:
            actor = await current_actor(self)
            if actor is None:
                return rx.redirect(LOGIN_PATH, replace=True)
            rows = await runner.run(notifications.recent, actor)
            self.notification_rows = rows
        return None

    @rx.event
    async def mark_all_read(self):
        """Mark every notification read."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH, replace=True)
        await runner.run(notifications.mark_all_read, actor)
        self.notification_rows = [dataclasses.replace(r, is_read=True) for r in self.notification_rows]
        self.unread = 0
        return None

    @rx.event
    async def mark_read(self, notification_id: int):
        """Mark one notification read."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH, replace=True)
        try:
            changed = await runner.run(notifications.mark_read, actor, notification_id)
        except DomainError as error:
            return rx.toast.error(error.message)
        if changed:
            self.unread = max(0, self.unread - 1)
            self.notification_rows = [
                dataclasses.replace(r, is_read=True) if r.id == notification_id else r
                for r in self.notification_rows
            ]
        return None
