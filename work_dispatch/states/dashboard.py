"""Supervisor dashboard figures, kept live by the fan-out."""

from __future__ import annotations

import reflex as rx

from work_dispatch.realtime.bus import BusEvent
from work_dispatch.realtime.fanout import LiveFanout, register_pusher
from work_dispatch.realtime.registry import DASHBOARD_VIEW, REGISTRY, Watcher
from work_dispatch.services import dashboard, runner
from work_dispatch.services.actor import Actor
from work_dispatch.services.dashboard import DashboardSummary
from work_dispatch.states.mixins import ServiceMixin


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
        self._apply(await runner.run(dashboard.summary, actor))
        REGISTRY.register(
            Watcher(token=self.router.session.client_token, view=DASHBOARD_VIEW, user_id=actor.user_id)
        )


async def push_dashboard(fanout: LiveFanout, watchers: list[Watcher], event: BusEvent) -> None:
    """Fan-out handler of dashboard sessions: one summary query set per flush, shared by all."""
    actors, summary = await runner.run(dashboard.live_summary, list({w.user_id for w in watchers}))
    for watcher in watchers:
        actor = actors.get(watcher.user_id)
        if actor is None or not actor.is_supervisor or summary is None:
            fanout.registry.drop(watcher.token)
            continue
        await fanout.push_state(watcher.token, DashboardState, lambda state: state._apply(summary))


register_pusher(DASHBOARD_VIEW, push_dashboard)
