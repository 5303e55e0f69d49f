"""A stand-in for the Reflex app the fan-out pushes through: no browser, no Redis, real state trees.

Each client token gets a real root state of the app (``rx.State``) whose substates the pushers
fill; the test decides which tokens have a socket, which pushes fail, and how long a push takes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx


class FakeNamespace:
    """The socket table: a token is connected while it is in ``app.sockets``."""

    def __init__(self, app: FakeApp) -> None:
        self._app = app

    @property
    def token_to_sid(self) -> dict[str, str]:
        """Token → socket id, as Reflex exposes it."""
        return {token: f"sid-{token}" for token in self._app.sockets}


class FakeApp:
    """What ``LiveFanout`` needs of ``rx.App``: ``event_namespace`` and ``modify_state``.

    Args:
        connected: Tokens that have a socket.
        delay_s: How long each push holds its (fake) state lock.
    """

    def __init__(self, connected=(), delay_s: float = 0.0) -> None:
        self.sockets: set[str] = set(connected)
        self.event_namespace = FakeNamespace(self)
        self.delay_s = delay_s
        self.broken: set[str] = set()
        """Tokens whose pushes fail (a lost Redis lock, a dead socket)."""
        self.break_first = False
        """Make the very first push of the run fail, whoever it is for."""
        self.pushes: list[tuple[str, str]] = []
        """(token, state class name) of every completed push, in order."""
        self.deltas: list[tuple[str, dict[str, Any]]] = []
        """(token, the delta Reflex would send: state name → changed vars) of every completed push."""
        self.in_flight = 0
        self.most_in_flight = 0
        self._roots: dict[str, rx.State] = {}

    def root(self, token: str) -> rx.State:
        """The token's root state (created with the app's whole tree on first use)."""
        if token not in self._roots:
            self._roots[token] = rx.State(_reflex_internal_init=True)
        return self._roots[token]

    def state(self, token: str, cls: type[rx.State]) -> Any:
        """One substate of the token's tree."""
        return self.root(token).get_substate(cls.get_full_name().split(".")[1:])

    def pushed_to(self, token: str) -> list[str]:
        """The state classes pushed to a token, in order."""
        return [name for pushed_token, name in self.pushes if pushed_token == token]

    @contextlib.asynccontextmanager
    async def modify_state(self, token: rx.BaseStateToken) -> AsyncIterator[rx.State]:
        """Hold the token's tree like Reflex does (here: count concurrency, maybe fail)."""
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if token.ident in self.broken or self.break_first:
                self.break_first = False
                raise RuntimeError(f"lock expired for {token.ident}")
            root = self.root(token.ident)
            yield root
            self.pushes.append((token.ident, token.cls.__name__))
            self.deltas.append((token.ident, await root._get_resolved_delta()))
            root._clean()
        finally:
            self.in_flight -= 1
