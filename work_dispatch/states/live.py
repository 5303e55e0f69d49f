"""Live updates: the worker's session registry and the fan-out that pushes fresh rows.

Flow: a service commits and publishes a BusEvent → the bus (in-process or Redis) hands it
to every worker's :class:`LiveFanout` → events are coalesced for ~100 ms → the sessions
the merged event concerns are looked up in the registry → their fresh data is loaded in
bulk from the database (outside any state lock) → each session gets one
``app.modify_state`` that only assigns already-loaded values.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import reflex as rx

from work_dispatch.realtime.bus import PERSON_CHANGED, BusEvent
from work_dispatch.realtime.coalescer import Coalescer
from work_dispatch.realtime.registry import BOARD_VIEW, DASHBOARD_VIEW, OPERATOR_VIEW, SessionRegistry
from work_dispatch.services import auth, runner, task_center

logger = logging.getLogger("work_dispatch.live")

REGISTRY = SessionRegistry()
"""Sessions connected to this worker and what they watch."""

_SUPERVISOR_PUSHERS: dict[str, Callable[[list, BusEvent], Any]] = {}


def register_supervisor_pusher(view: str, pusher: Callable[[list, BusEvent], Any]) -> None:
    """Let a supervisor page module handle pushes for its view (board, dashboard).

    Args:
        view: The registry view name.
        pusher: ``async (watchers, event) -> None``.
    """
    _SUPERVISOR_PUSHERS[view] = pusher


class LiveFanout:
    """Per-worker fan-out from the bus to connected sessions.

    Args:
        app: The Reflex app (for ``modify_state`` and the socket table).
        window_s: Coalescing window.
    """

    def __init__(self, app: rx.App, window_s: float = 0.1) -> None:
        self.app = app
        self.coalescer = Coalescer(self.flush, window_s)
        self.last_flush_ms = 0.0
        self.pushes = 0

    def on_bus_event(self, event: BusEvent) -> None:
        """Bus subscriber (runs on the event loop)."""
        self.coalescer.add(event)

    def _connected(self, token: str) -> bool:
        namespace = self.app.event_namespace
        return namespace is None or token in namespace.token_to_sid

    async def flush(self, event: BusEvent) -> None:
        """Push fresh data to every concerned, still-connected session.

        Args:
            event: The merged event of one coalescing window.
        """
        started = time.perf_counter()
        watchers = []
        for watcher in REGISTRY.audience(event):
            if self._connected(watcher.token):
                watchers.append(watcher)
            else:
                REGISTRY.drop(watcher.token)
        operators = [w for w in watchers if w.view == OPERATOR_VIEW]
        if operators:
            await self.push_operators(operators, event)
        for view in (BOARD_VIEW, DASHBOARD_VIEW):
            group = [w for w in watchers if w.view == view]
            if group and view in _SUPERVISOR_PUSHERS:
                await _SUPERVISOR_PUSHERS[view](self, group, event)
        self.last_flush_ms = (time.perf_counter() - started) * 1000

    async def push_operators(self, watchers: list, event: BusEvent) -> None:
        """Reload the concerned operators' lists in bulk and push them."""
        from work_dispatch.states.session import SessionState
        from work_dispatch.states.task_center import TaskCenterState

        user_ids = [w.user_id for w in watchers]
        overviews = await runner.run(task_center.overviews_for, user_ids)
        if event.kind == PERSON_CHANGED:
            # Sessions may have been ended: a user with none left is wiped like a deactivated one.
            signed_in = await runner.run(auth.signed_in_users, user_ids)
            overviews = {uid: data if uid in signed_in else None for uid, data in overviews.items()}
        changed = set(event.task_ids)

        async def push(watcher) -> None:
            data = overviews.get(watcher.user_id)
            if data is None:
                REGISTRY.drop(watcher.token)
            elif frozenset(data.department_ids) != watcher.department_ids:
                # An admin changed the operator's departments: watch the new pools from now on.
                REGISTRY.register(replace(watcher, department_ids=frozenset(data.department_ids)))
            async with self.app.modify_state(
                rx.BaseStateToken(ident=watcher.token, cls=TaskCenterState)
            ) as root:
                state = await root.get_state(TaskCenterState)
                if data is None:
                    state._forget()
                    session = await root.get_state(SessionState)
                    session._remember(None)
                else:
                    state._apply(data, changed)
            self.pushes += 1

        await asyncio.gather(*(push(w) for w in watchers), return_exceptions=False)

    async def push_state(self, token: str, state_cls: type[rx.State], apply: Callable[[Any], None]) -> None:
        """Assign already-loaded values to one session's state.

        Args:
            token: The session's client token.
            state_cls: The (small) state to modify.
            apply: Called with the state inside the lock; must not do I/O.
        """
        async with self.app.modify_state(rx.BaseStateToken(ident=token, cls=state_cls)) as root:
            apply(await root.get_state(state_cls))
        self.pushes += 1
