"""Supervisor dashboard figures."""

from __future__ import annotations

import reflex as rx

from work_dispatch.services import dashboard, runner
from work_dispatch.states.session import page_actor


class DashboardState(rx.State):
    """Counts shown on the dashboard (a few dozen numbers, never rows)."""

    work_order_counts: list[dict[str, str | int]] = []
    task_counts: list[dict[str, str | int]] = []
    department_counts: list[dict[str, str | int]] = []
    loaded: bool = False

    @rx.event
    async def load(self):
        """Guard the page and load the figures."""
        actor, redirect = await page_actor(self, supervisor=True)
        if redirect:
            return redirect
        summary = await runner.run(dashboard.summary, actor)
        self.work_order_counts = [vars(c) for c in summary.work_orders]
        self.task_counts = [vars(c) for c in summary.tasks]
        self.department_counts = [vars(c) for c in summary.departments]
        self.loaded = True
