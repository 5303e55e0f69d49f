"""Operator task center: lists, actions, bell and live pushes."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import reflex as rx

from work_dispatch.domain.errors import DomainError
from work_dispatch.realtime.bus import PERSON_CHANGED, BusEvent
from work_dispatch.realtime.fanout import LiveFanout, register_pusher
from work_dispatch.realtime.registry import OPERATOR_VIEW, REGISTRY, Watcher
from work_dispatch.services import auth, notifications, runner, task_center, task_flow
from work_dispatch.services.actor import Actor
from work_dispatch.services.notifications import NotificationRow
from work_dispatch.services.task_center import OperatorOverview, TaskCard
from work_dispatch.states.mixins import ServiceMixin
from work_dispatch.states.session import LOGIN_PATH, SessionState

PAUSE_REASONS = list(task_flow.PAUSE_REASONS)


class TaskCenterState(ServiceMixin, rx.State):
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

    async def _refresh(self, actor: Actor) -> None:
        self._apply(await runner.run(task_center.overview, actor))

    def _signed_out(self):
        # A shared tablet: wipe the lists on the way to the login page.
        self.reset()
        return rx.redirect(LOGIN_PATH, replace=True)

    def _error_toast(self, error: DomainError):
        return rx.toast.error(error.message, position="top-center")

    @rx.event
    async def load(self):
        """Guard the page, load from the database and register for pushes."""
        actor, redirect = await self._guard_page(operator=True)
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

    async def _task_action(self, action, task_id: Any, *args: Any, success: str = ""):
        """Run a task transition, then reload the lists whatever the outcome."""

        async def done(actor: Actor, _result: Any):
            await self._refresh(actor)
            return rx.toast.success(success, position="top-center") if success else None

        async def refused(actor: Actor, error: DomainError):
            await self._refresh(actor)
            return self._error_toast(error)

        return await self._act(action, task_id, *args, then=done, on_error=refused)

    @rx.event
    async def claim(self, task_id: int):
        """Claim a task from the pool."""
        return await self._task_action(task_flow.claim, task_id, success=f"Task #{task_id} is yours.")

    @rx.event
    async def start(self, task_id: int):
        """Start one of my tasks."""
        self.highlight_ids = [i for i in self.highlight_ids if i != task_id]
        return await self._task_action(task_flow.start, task_id)

    @rx.event
    async def resume(self, task_id: int):
        """Resume a paused task."""
        return await self._task_action(task_flow.resume, task_id)

    @rx.event
    async def complete(self, task_id: int):
        """Complete a task in progress."""
        return await self._task_action(task_flow.complete, task_id, success=f"Task #{task_id} completed.")

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
        return await self._task_action(task_flow.pause, task_id, self.pause_reason)

    @rx.event
    def open_report(self, task_id: int):
        """Show the report-quantity dialog for a task."""
        self.report_task_id = task_id if isinstance(task_id, int) else 0
        self.report_error = ""

    @rx.event
    async def submit_report(self, form_data: dict[str, Any]):
        """Report produced and defective quantities from the dialog."""
        data = form_data if isinstance(form_data, dict) else {}
        over = data.get("over_production") in ("on", True, "true")
        return await self._act(
            task_flow.report_quantity,
            self.report_task_id,
            data.get("completed"),
            data.get("defective") or 0,
            over,
            then=self._reported,
            on_error=self._report_refused,
        )

    async def _reported(self, actor: Actor, _result: Any):
        self.report_task_id = 0
        self.report_error = ""
        await self._refresh(actor)
        return rx.toast.success("Quantity reported.", position="top-center")

    def _report_refused(self, _actor: Actor, error: DomainError) -> None:
        self.report_error = error.message

    @rx.event
    def dismiss_banner(self):
        """Hide the new-task banner."""
        self.banner = ""
        self.highlight_ids = []

    @rx.event
    async def toggle_notifications(self):
        """Open or close the bell's list."""
        self.notifications_open = not self.notifications_open
        if not self.notifications_open:
            return None
        return await self._act(notifications.recent, then=self._show_notifications)

    def _show_notifications(self, _actor: Actor, rows: list[NotificationRow]) -> None:
        self.notification_rows = rows

    @rx.event
    async def mark_all_read(self):
        """Mark every notification read."""
        return await self._act(notifications.mark_all_read, then=self._all_read)

    def _all_read(self, _actor: Actor, _result: Any) -> None:
        self.notification_rows = [dataclasses.replace(r, is_read=True) for r in self.notification_rows]
        self.unread = 0

    @rx.event
    async def mark_read(self, notification_id: int):
        """Mark one notification read."""

        def marked(_actor: Actor, changed: bool) -> None:
            if changed:
                self.unread = max(0, self.unread - 1)
                self.notification_rows = [
                    dataclasses.replace(r, is_read=True) if r.id == notification_id else r
                    for r in self.notification_rows
                ]

        return await self._act(
            notifications.mark_read,
            notification_id,
            then=marked,
            # The bell's own refusals show in the default corner, not the top-center of task actions.
            on_error=lambda _actor, error: rx.toast.error(error.message),
        )


async def push_operators(fanout: LiveFanout, watchers: list[Watcher], event: BusEvent) -> None:
    """Fan-out handler of operator sessions: reload their lists in bulk and push them.

    A session whose user was deactivated, or whose sessions were all ended (a person change),
    is wiped and forgotten; one whose departments changed watches the new pools from now on.
    """
    user_ids = [w.user_id for w in watchers]
    overviews = await runner.run(task_center.overviews_for, user_ids)
    if event.kind == PERSON_CHANGED:
        # Sessions may have been ended: a user with none left is wiped like a deactivated one.
        signed_in = await runner.run(auth.signed_in_users, user_ids)
        overviews = {uid: data if uid in signed_in else None for uid, data in overviews.items()}
    changed = set(event.task_ids)

    async def push(watcher: Watcher) -> None:
        data = overviews.get(watcher.user_id)
        if data is None:
            fanout.registry.drop(watcher.token)
        elif frozenset(data.department_ids) != watcher.department_ids:
            # An admin changed the operator's departments: watch the new pools from now on.
            fanout.registry.register(
                dataclasses.replace(watcher, department_ids=frozenset(data.department_ids))
            )
        async with fanout.modify(watcher.token, TaskCenterState) as root:
            state = await root.get_state(TaskCenterState)
            if data is None:
                state._forget()
                session = await root.get_state(SessionState)
                session._remember(None)
            else:
                state._apply(data, changed)

    await asyncio.gather(*(push(w) for w in watchers), return_exceptions=False)


register_pusher(OPERATOR_VIEW, push_operators)
