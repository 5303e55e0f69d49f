"""Supervisor dashboard figures, kept live by the fan-out."""

from __future__ import annotations

import reflex as rx

from work_dispatch.realtime.bus import BusEvent
from work_dispatch.realtime.fanout import LiveFanout, Recipient, register_pusher
from work_dispatch.realtime.registry import DASHBOARD_VIEW, REGISTRY, Watcher
from work_dispatch.services import auth, dashboard, live_views, runner
from work_dispatch.services.actor import Actor
from work_dispatch.services.dashboard import DashboardSummary
from work_dispatch.states.mixins import ServiceMixin
from work_dispatch.states.session import SessionState


class DashboardState(ServiceMixin, rx.State):
    """Counts shown on the dashboard (a few dozen numbers, never rows)."""

    work_order_counts: list[dict[str, str | int]] = []
    task_counts: list[dict[str, str | int]] = []
    department_counts: list[dict[str, str | int]] = []
    loaded: bool = False

    def _apply(self, summary: DashboardSummary) -> None:
        self.work_order_counts = [vars(c) for c in summary.work_orders]
        self.task_counts = [vars(c) for c in summary.tasks]
        self.department_counts = [vars(c) for c in summary.departments]
        self.loaded = True

    @rx.event
    async def load(self):
        """Guard the page, load the figures and register for live updates."""
        return await self._open_page(self._load, supervisor=True)

    async def _load(self, actor: Actor) -> None:
        summary = await runner.run(dashboard.summary, actor)
        self._apply(summary)
        session = await self.get_state(SessionState)
        REGISTRY.register(
            Watcher(
                token=self.router.session.client_token,
                view=DASHBOARD_VIEW,
                user_id=actor.user_id,
                locale=actor.locale,
                session_hash=auth.hash_token(session.session_token),
            ),
            shown={"summary": summary},
        )


async def push_dashboard(fanout: LiveFanout, recipients: list[Recipient], event: BusEvent) -> None:
    """Fan-out handler of dashboard sessions: one summary query set per flush and locale, shared by all.

    Each recipient was re-validated as a supervisor; a session whose figures did not change is
    not pushed, and one failing push stops none of the others.
    """
    summaries = await runner.run(live_views.dashboard_summaries, [r.actor for r in recipients])

    async def push(recipient: Recipient) -> None:
        summary = summaries.get(recipient.actor.locale)
        if summary is None:
            return
        if fanout.remember_pushed(recipient.token, "summary", summary):
            fanout.skipped += 1
            return
        await fanout.push_state(recipient.token, DashboardState, lambda state: state._apply(summary))

    await fanout.each(recipients, push)


async def wipe_dashboard(fanout: LiveFanout, watcher: Watcher) -> None:
    """Empty the dashboard of a session that may not see it any more, as a logout would."""
    async with fanout.modify(watcher.token, DashboardState) as root:
        (await root.get_state(DashboardState)).reset()
        (await root.get_state(SessionState))._remember(None)


register_pusher(DASHBOARD_VIEW, push_dashboard, wipe_dashboard)
