"""Operator task center: lists, actions, bell, presence (check-in/out), scan to open, and live pushes."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from work_dispatch.domain.errors import DomainError
from work_dispatch.i18n import translate
from work_dispatch.realtime.bus import BusEvent
from work_dispatch.realtime.fanout import LiveFanout, Recipient, register_pusher
from work_dispatch.realtime.registry import OPERATOR_VIEW, REGISTRY, Watcher
from work_dispatch.services import live_views, notifications, runner, scan, task_center, task_flow
from work_dispatch.services import presence as presence_service
from work_dispatch.services.actor import Actor
from work_dispatch.services.notifications import NotificationRow
from work_dispatch.services.reference import Option
from work_dispatch.services.scan import NextAction, ScanResult
from work_dispatch.services.task_center import OperatorOverview, PresenceLine, TaskCard
from work_dispatch.states.mixins import LiveViewMixin, ServiceMixin
from work_dispatch.states.session import LOGIN_PATH, SessionState

PAUSE_REASONS = list(task_flow.PAUSE_REASONS)
SCAN_TRANSITIONS = {
    NextAction.CLAIM: task_flow.claim,
    NextAction.START: task_flow.start,
    NextAction.RESUME: task_flow.resume,
}
"""The scanned card's next actions that are one task transition (reporting opens its dialog)."""


def _offered(value: Any, options: list[Option]) -> str:
    """``value`` when it is one of the offered options' values, else "" (junk from a forged event)."""
    return value if isinstance(value, str) and any(o.value == value for o in options) else ""


class TaskCenterState(ServiceMixin, LiveViewMixin, rx.State):
    """The operator's task lists (≤ 50 rows each), bell count and dialogs."""

    departments: list[str] = []
    wip_limit: int = 0
    my_tasks: list[TaskCard] = []
    pool: list[TaskCard] = []
    pool_count: int = 0
    unread: int = 0
    highlight_ids: list[int] = []
    new_task_id: int = 0
    """The newest task assigned while the page was open (0: no banner)."""
    new_task_more: int = 0
    """How many more arrived with it."""
    loaded: bool = False
    push_count: int = 0
    _owner_id: int = 0

    pause_task_id: int = 0
    pause_reason: str = PAUSE_REASONS[0]
    report_task_id: int = 0
    scrap_reasons: list[Option] = []
    rework_reasons: list[Option] = []
    scrap_reason: str = ""
    rework_reason: str = ""
    report_error: str = ""
    notifications_open: bool = False
    notification_rows: list[NotificationRow] = []

    presence: PresenceLine = PresenceLine()
    """Checked in or not, since when, the shift: a few flags and short strings, pushed live."""
    scanned: list[TaskCard] = []
    """The card a scan opened (at most one): shown in the scan dialog."""
    scan_action: str = ""
    """Its next action (a ``scan.NextAction`` value)."""
    scan_error: str = ""
    """Why the last scan was refused, under the scan box."""
    _scan_code: str = ""
    """The code of the open card (validated by the scan service), to reopen it after a claim."""

    def _apply(self, data: OperatorOverview, changed: set[int] | None = None) -> None:
        known = {task.id for task in self.my_tasks}
        self._assign_changed(
            departments=data.departments,
            wip_limit=data.wip_limit,
            my_tasks=data.my_tasks,
            pool=data.pool,
            pool_count=data.pool_count,
            unread=data.unread,
            presence=data.presence,
            loaded=True,
        )
        if changed is not None:
            self.push_count += 1
            new = [card.id for card in data.my_tasks if card.id not in known]
            if new:
                self.highlight_ids = list(dict.fromkeys(self.highlight_ids + new))[-10:]
                self.new_task_id, self.new_task_more = new[0], len(new) - 1
            elif self.new_task_id and self.new_task_id not in {card.id for card in data.my_tasks}:
                # The announced task went away (returned at shift end, reassigned): no stale banner.
                self.new_task_id, self.new_task_more = 0, 0

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
        return rx.toast.error(error.render(self._locale), position="top-center")

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
        watcher = await self._watch(actor, OPERATOR_VIEW, department_ids=actor.department_ids)
        overview = await runner.run(task_center.overview, actor)
        self._apply(overview, set() if reconnecting else None)
        REGISTRY.register(watcher, shown={"lists": overview})

    async def _task_action(self, action, task_id: Any, *args: Any, success: str = ""):
        """Run a task transition, then reload the lists whatever the outcome.

        ``success`` is the catalog key of the toast shown after it (``{task}`` is the task id).
        """

        async def done(actor: Actor, _result: Any):
            await self._refresh(actor)
            if not success:
                return None
            return rx.toast.success(translate(success, actor.locale, task=task_id), position="top-center")

        async def refused(actor: Actor, error: DomainError):
            await self._refresh(actor)
            return self._error_toast(error)

        return await self._act(action, task_id, *args, then=done, on_error=refused)

    @rx.event
    async def claim(self, task_id: int):
        """Claim a task from the pool."""
        return await self._task_action(task_flow.claim, task_id, success="ui.toast.task_claimed")

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
        return await self._task_action(task_flow.complete, task_id, success="ui.toast.task_completed")

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
        self._close_report()

    def _close_report(self) -> None:
        self.report_task_id = 0
        self.report_error = ""
        self.scrap_reasons, self.rework_reasons = [], []
        self.scrap_reason = self.rework_reason = ""

    @rx.event
    async def confirm_pause(self):
        """Pause the task of the dialog with the chosen reason."""
        task_id, self.pause_task_id = self.pause_task_id, 0
        return await self._task_action(task_flow.pause, task_id, self.pause_reason)

    @rx.event
    async def open_report(self, task_id: int):
        """Show the report dialog for one's task, with its process's scrap and rework reasons."""
        return await self._open_report(task_id)

    async def _open_report(self, task_id: Any):
        self._close_report()
        if not isinstance(task_id, int) or task_id <= 0:
            return None
        self.report_task_id = task_id

        def refused(_actor: Actor, error: DomainError):
            # Not one's task (or gone): no dialog left open on someone else's task id.
            self._close_report()
            return self._error_toast(error)

        return await self._act(task_flow.report_reasons, task_id, then=self._show_reasons, on_error=refused)

    def _show_reasons(self, _actor: Actor, reasons: dict[str, list[tuple[int, str]]]) -> None:
        self.scrap_reasons = [Option(str(i), label) for i, label in reasons.get("scrap", [])]
        self.rework_reasons = [Option(str(i), label) for i, label in reasons.get("rework", [])]

    @rx.event
    def set_scrap_reason(self, value: str):
        """Pick why the scrapped units were scrapped (one of the offered reasons)."""
        self.scrap_reason = _offered(value, self.scrap_reasons)
        self.report_error = ""

    @rx.event
    def set_rework_reason(self, value: str):
        """Pick why units go to rework (one of the offered reasons)."""
        self.rework_reason = _offered(value, self.rework_reasons)
        self.report_error = ""

    @rx.event
    async def submit_report(self, form_data: dict[str, Any]):
        """Report produced and defective quantities from the dialog."""
        data = form_data if isinstance(form_data, dict) else {}
        over = data.get("over_production") in ("on", True, "true")
        return await self._act(
            task_flow.report_quantity,
            self.report_task_id,
            data.get("completed") or 0,
            data.get("defective") or 0,
            over,
            scrap_reason=int(self.scrap_reason) if self.scrap_reason else None,
            rework=data.get("rework") or 0,
            rework_reason=int(self.rework_reason) if self.rework_reason else None,
            then=self._reported,
            on_error=self._report_refused,
        )

    async def _reported(self, actor: Actor, _result: Any):
        self._close_report()
        await self._refresh(actor)
        return rx.toast.success(translate("ui.toast.quantity_reported", actor.locale), position="top-center")

    def _report_refused(self, actor: Actor, error: DomainError) -> None:
        self.report_error = error.render(actor.locale)

    @rx.event
    def dismiss_banner(self):
        """Hide the new-task banner."""
        self.new_task_id, self.new_task_more = 0, 0
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
            on_error=lambda actor, error: rx.toast.error(error.render(actor.locale)),
        )

    # -- presence ---------------------------------------------------------------------------

    async def _presence_action(self, service, success: str):
        async def done(actor: Actor, _view: Any):
            await self._refresh(actor)
            return rx.toast.success(translate(success, actor.locale), position="top-center")

        async def refused(actor: Actor, error: DomainError):
            await self._refresh(actor)
            return self._error_toast(error)

        return await self._act(service, then=done, on_error=refused)

    @rx.event
    async def check_in(self):
        """Check in: from now on dispatch may give me work (where my department asks for it)."""
        return await self._presence_action(presence_service.check_in, "presence.ui.checked_in")

    @rx.event
    async def check_out(self):
        """Check out: no more work for me until I check in again."""
        return await self._presence_action(presence_service.check_out, "presence.ui.checked_out")

    # -- scan to open -----------------------------------------------------------------------

    def _show_scan(self, code: str, result: ScanResult) -> None:
        self.scanned = [result.card]
        self.scan_action = result.action
        self.scan_error = ""
        self._scan_code = code

    def _clear_scan(self) -> None:
        self.scanned = []
        self.scan_action = ""
        self._scan_code = ""

    @rx.event
    async def scan(self, form_data: dict[str, Any]):
        """Open the task whose traveler code the scanner typed into the scan box (then Enter)."""
        code = form_data.get("code") if isinstance(form_data, dict) else None

        def opened(_actor: Actor, result: ScanResult) -> None:
            self._show_scan(code, result)

        def refused(actor: Actor, error: DomainError) -> None:
            self._clear_scan()
            self.scan_error = error.render(actor.locale)

        return await self._act(scan.open_scanned, code, then=opened, on_error=refused)

    @rx.event
    def close_scan(self):
        """Close the scanned card."""
        self._clear_scan()

    @rx.event
    def scan_dialog_changed(self, is_open: bool):
        """The scan dialog was dismissed (Escape, a tap outside it)."""
        if is_open is not True:
            self._clear_scan()

    @rx.event
    async def scan_next(self):
        """Take the scanned card's next action: claim, start, resume, or open the report dialog."""
        if not self.scanned:
            return None
        task_id, action, code = self.scanned[0].id, self.scan_action, self._scan_code
        if action == NextAction.REPORT:
            self._clear_scan()
            return await self._open_report(task_id)
        service = SCAN_TRANSITIONS.get(action)
        if service is None:
            return None

        async def done(actor: Actor, _result: Any):
            await self._refresh(actor)
            if action != NextAction.CLAIM:
                self._clear_scan()
                self.highlight_ids = list(dict.fromkeys([*self.highlight_ids, task_id]))[-10:]
                return None
            # Claimed: the same card now offers "start".
            try:
                self._show_scan(code, await runner.run(scan.open_scanned, actor, code))
            except DomainError:
                self._clear_scan()
            return rx.toast.success(
                translate("ui.toast.task_claimed", actor.locale, task=task_id), position="top-center"
            )

        async def refused(actor: Actor, error: DomainError):
            self._clear_scan()
            await self._refresh(actor)
            return self._error_toast(error)

        return await self._act(service, task_id, then=done, on_error=refused)


async def narrow_operators(fanout: LiveFanout, watchers: list[Watcher], event: BusEvent) -> list[Watcher]:
    """The operator sessions whose lists may change: named by the event, or watching a pool that changed.

    An operator the event names (their tasks, notifications, a person change) may see anything
    change; another member of a named department only that department's pool, compared with
    what this worker saw of it last.
    """
    named = set(event.operator_ids)
    pools = set(event.department_ids) & {d for w in watchers for d in w.department_ids}
    fingerprints = await runner.run(live_views.pool_fingerprints, pools) if pools else {}
    changed_pools = fanout.changed_shared("pool", fingerprints)
    return [w for w in watchers if w.user_id in named or w.department_ids & changed_pools]


async def push_operators(fanout: LiveFanout, recipients: list[Recipient], event: BusEvent) -> None:
    """Fan-out handler of operator sessions: reload their lists in chunks, named operators first.

    A session is pushed only when its lists differ from what it was last sent (named operators
    always are). A user who is no longer an active operator is wiped; one whose departments
    changed watches the new pools from now on.
    """
    named = set(event.operator_ids)
    audience = sorted(recipients, key=lambda r: r.user_id not in named)
    changed = set(event.task_ids)

    async def load(chunk: list[Recipient]) -> dict:
        # One overview per (operator, locale): each session reads its own language.
        return await runner.run(task_center.overviews_for, [(r.user_id, r.watcher.locale) for r in chunk])

    async def push(recipient: Recipient, overviews: dict) -> None:
        data = overviews.get((recipient.user_id, recipient.watcher.locale))
        if data is None:
            await fanout.end_sessions([recipient.watcher])
            return
        # An admin may have changed the operator's departments: watch the new pools from now on.
        fanout.registry.update_departments(recipient.token, frozenset(data.department_ids))
        if fanout.remember_pushed(recipient.token, "lists", data) and recipient.user_id not in named:
            fanout.skipped += 1
            return
        async with fanout.modify(recipient.token, TaskCenterState) as root:
            (await root.get_state(TaskCenterState))._apply(data, changed)

    if await fanout.push_in_chunks(audience, load, push):
        # Pools were marked as seen: forget that, so the next event reloads their members.
        fanout.forget_shared("pool", set(event.department_ids))


async def wipe_operator(fanout: LiveFanout, watcher: Watcher) -> None:
    """Empty the tablet of a session that may not see it any more, as a logout would."""
    async with fanout.modify(watcher.token, TaskCenterState) as root:
        (await root.get_state(TaskCenterState))._forget()
        (await root.get_state(SessionState))._remember(None)


register_pusher(OPERATOR_VIEW, push_operators, wipe_operator, narrow_operators)
