"""The per-worker fan-out that pushes fresh data to the connected sessions an event concerns.

Flow: a service commits and publishes a BusEvent → the bus (in-process or Redis) hands it
to every worker's :class:`LiveFanout` → events are coalesced for ~100 ms → the sessions
the merged event concerns are looked up in the registry → each view's pusher loads their
fresh data in bulk from the database (outside any state lock) → each session gets one
``app.modify_state`` that only assigns already-loaded values.

The pushers know the Reflex states they fill, so the state modules register them
(:func:`register_pusher`); this package never imports ``work_dispatch.states``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import reflex as rx

from work_dispatch.realtime.bus import BusEvent
from work_dispatch.realtime.coalescer import Coalescer
from work_dispatch.realtime.registry import REGISTRY, VIEWS, SessionRegistry, Watcher

Pusher = Callable[["LiveFanout", list[Watcher], BusEvent], Awaitable[None]]
"""``async (fanout, watchers of one view, merged event) -> None``."""

PUSHERS: dict[str, Pusher] = {}
"""View → the pusher that refreshes its sessions, filled by the state modules."""


def register_pusher(view: str, pusher: Pusher) -> None:
    """Let the module that owns a view's states handle the pushes to its sessions.

    Args:
        view: One of the registry's ``VIEWS``.
        pusher: Loads the watchers' fresh data and pushes it through the fan-out.

    Raises:
        ValueError: For a view the registry does not know.
    """
    if view not in VIEWS:
        raise ValueError(f"Unknown view {view!r}; expected one of {VIEWS}.")
    PUSHERS[view] = pusher


class LiveFanout:
    """Per-worker fan-out from the bus to connected sessions.

    Args:
        app: The Reflex app (for ``modify_state`` and the socket table).
        window_s: Coalescing window.
        registry: The sessions of this worker.
        pushers: View → pusher.
    """

    def __init__(
        self,
        app: rx.App,
        window_s: float = 0.1,
        registry: SessionRegistry = REGISTRY,
        pushers: dict[str, Pusher] = PUSHERS,
    ) -> None:
        self.app = app
        self.registry = registry
        self.pushers = pushers
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
        """Push fresh data to every concerned, still-connected session, view by view.

        Args:
            event: The merged event of one coalescing window.
        """
        started = time.perf_counter()
        watchers = []
        for watcher in self.registry.audience(event):
            if self._connected(watcher.token):
                watchers.append(watcher)
            else:
                self.registry.drop(watcher.token)
        for view in VIEWS:
            group = [w for w in watchers if w.view == view]
            pusher = self.pushers.get(view)
            if group and pusher is not None:
                await pusher(self, group, event)
        self.last_flush_ms = (time.perf_counter() - started) * 1000

    @contextlib.asynccontextmanager
    async def modify(self, token: str, state_cls: type[rx.State]) -> AsyncIterator[rx.State]:
        """Hold one session's state lock and yield its root state; counts one push.

        Args:
            token: The session's client token.
            state_cls: The (small) state the push is about.

        Yields:
            The root state; reach substates with ``await root.get_state(...)``. Do no I/O here.
        """
        async with self.app.modify_state(rx.BaseStateToken(ident=token, cls=state_cls)) as root:
            yield root
        self.pushes += 1

    async def push_state(self, token: str, state_cls: type[rx.State], apply: Callable[[Any], None]) -> None:
        """Assign already-loaded values to one session's state.

        Args:
            token: The session's client token.
            state_cls: The (small) state to modify.
            apply: Called with the state inside the lock; must not do I/O.
        """
        async with self.modify(token, state_cls) as root:
            apply(await root.get_state(state_cls))
