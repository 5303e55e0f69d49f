"""Operator task center."""

from __future__ import annotations

from typing import Any

import reflex as rx

from work_dispatch.services import runner, task_center
from work_dispatch.states.session import page_actor


class TaskCenterState(rx.State):
    """The operator's task lists (capped at 50 rows each)."""

    departments: list[str] = []
    wip_limit: int = 0
    my_tasks: list[dict[str, Any]] = []
    pool: list[dict[str, Any]] = []
    pool_count: int = 0
    loaded: bool = False

    @rx.event
    async def load(self):
        """Guard the page and load the operator's tasks from the database."""
        actor, redirect = await page_actor(self, operator=True)
        if redirect:
            return redirect
        data = await runner.run(task_center.overview, actor)
        self.departments = data.departments
        self.wip_limit = data.wip_limit
        self.my_tasks = [vars(card) for card in data.my_tasks]
        self.pool = [vars(card) for card in data.pool]
        self.pool_count = data.pool_count
        self.loaded = True
