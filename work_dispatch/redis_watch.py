"""Pages say "Reconnecting…" while Redis is away, and reload themselves in full once it is back.

With Redis, every page's server-side state (who is logged in, what it shows) lives in Redis. When Redis
goes away, a page's websocket to its worker stays open but every event fails, so the page would keep
saying "Live" while nothing works. A Redis that comes back after a restart is empty, so a page that
stayed connected would go on with a blank server state (no session: its next click signs it out), and
Reflex's own Redis subscriptions of the worker stay down until some page connects again.

So each worker watches Redis (:class:`RedisWatch`, a lifespan task): while Redis does not answer it
closes the worker's websockets and :class:`WebsocketGate` refuses new ones, so pages show
"Reconnecting…" and retry; when Redis answers again (or turns out to have restarted: its ``run_id``
changed) the websockets are closed once more, and every page reconnects with its full hydrate and loads
again from the database by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx
from starlette.types import ASGIApp, Receive, Scope, Send

from work_dispatch.settings import settings

logger = logging.getLogger("work_dispatch.redis_watch")

CHECK_INTERVAL_S = 1.0
FAILED_CHECKS_BEFORE_CLOSING = 2
"""Consecutive failed checks (one slow answer is not an outage) before websockets are closed."""


class RedisWatch:
    """Watches Redis for one worker and closes the worker's websockets when pages must reconnect.

    Args:
        app: The Reflex app (its Socket.IO server holds the worker's websockets).
        client: An asyncio Redis client on the Redis the app keeps its state in.
        failed_checks_before_closing: Consecutive failed checks that make an outage.
    """

    def __init__(
        self, app: rx.App, client: Any, failed_checks_before_closing: int = FAILED_CHECKS_BEFORE_CLOSING
    ) -> None:
        self.app = app
        self.client = client
        self.failed_checks_before_closing = failed_checks_before_closing
        self.failed_checks = 0
        self.run_id: str | None = None
        self.closed_websockets = 0

    @property
    def redis_down(self) -> bool:
        """Whether Redis failed enough consecutive checks to count as away."""
        return self.failed_checks >= self.failed_checks_before_closing

    async def _server_run_id(self) -> str | None:
        import redis

        try:
            info = await self.client.info("server")
        except redis.ResponseError:  # INFO disabled (some managed Redis): only whether it answers
            await self.client.ping()
            return None
        return info.get("run_id")

    async def check(self) -> None:
        """Check Redis once; close this worker's websockets if it is away or was restarted."""
        try:
            run_id = await self._server_run_id()
        except Exception as error:
            self.failed_checks += 1
            if self.failed_checks == self.failed_checks_before_closing:
                logger.warning(
                    "Redis is not answering (%s): closing this worker's websockets; "
                    "pages show Reconnecting until it is back",
                    type(error).__name__,
                )
            if self.redis_down:
                await self.close_websockets()
            return
        was_down = self.redis_down
        self.failed_checks = 0
        restarted = self.run_id is not None and run_id is not None and run_id != self.run_id
        self.run_id = run_id or self.run_id
        if was_down or restarted:
            # A page that connected while Redis was going away has a broken hydrate; reload them all.
            logger.warning(
                "Redis answers again%s: closing websockets so that pages reconnect and reload",
                " after a restart (the pages' state is gone)" if restarted else "",
            )
            await self.close_websockets()

    async def close_websockets(self) -> int:
        """Close every websocket of this worker at the transport level, so that its page reconnects.

        Engine.IO's ``disconnect`` runs the disconnect handlers and sends a CLOSE packet, which the
        browser's websocket transport ignores; the server would close the websocket itself only after
        the ping timeout. Ending the socket's send queue (``None``, as Engine.IO does when the browser
        leaves) closes the websocket at once, and the page starts reconnecting ("transport close").

        Returns:
            How many were closed.
        """
        server = getattr(self.app, "sio", None)
        engine = getattr(server, "eio", None)
        if engine is None:
            return 0
        closed = 0
        for sid, socket in list(engine.sockets.items()):
            with contextlib.suppress(Exception):
                await engine.disconnect(sid)
            with contextlib.suppress(Exception):
                socket.queue.put_nowait(None)
            closed += 1
        self.closed_websockets += closed
        return closed

    async def run(self, stop: asyncio.Event, interval_s: float = CHECK_INTERVAL_S) -> None:
        """Check every ``interval_s`` until ``stop`` is set.

        Args:
            stop: Set to end the watch.
            interval_s: Seconds between checks.
        """
        while not stop.is_set():
            try:
                await self.check()
            except Exception:  # the watch must outlive any surprise
                logger.exception("Redis watch check failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)


WATCH: RedisWatch | None = None
"""This worker's running watch (None without Redis, or before the lifespan starts)."""


def websockets_welcome() -> bool:
    """Whether this worker accepts websockets now: not while its watch finds Redis away."""
    return WATCH is None or not WATCH.redis_down


class WebsocketGate:
    """Pure ASGI middleware: refuses websocket handshakes while :func:`websockets_welcome` says no.

    A refused handshake is a connection error for the page, which shows "Reconnecting…" and retries;
    without the gate it would connect, fail its hydrate on the missing Redis and look live.

    Args:
        app: The application behind the gate.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass everything on, except websocket handshakes while Redis is away."""
        if scope["type"] == "websocket" and not websockets_welcome():
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1013, "reason": "Redis unavailable"})
            return
        await self.app(scope, receive, send)


def gate_websockets(app: ASGIApp) -> ASGIApp:
    """An ``api_transformer`` for ``rx.App``: the backend behind a :class:`WebsocketGate`.

    Args:
        app: The backend ASGI app.

    Returns:
        The gated app.
    """
    return WebsocketGate(app)


@contextlib.asynccontextmanager
async def watch_redis(app: rx.App) -> AsyncIterator[None]:
    """Lifespan task of every worker: run a :class:`RedisWatch` while the worker serves (with Redis only).

    Args:
        app: The Reflex app, passed in by Reflex.

    Yields:
        While the worker serves.
    """
    if not settings.redis_url:
        yield
        return
    import redis.asyncio as aioredis

    global WATCH
    client = aioredis.Redis.from_url(settings.redis_url, socket_timeout=1, socket_connect_timeout=1)
    watch = WATCH = RedisWatch(app, client)
    stop = asyncio.Event()
    task = asyncio.create_task(watch.run(stop))
    try:
        yield
    finally:
        WATCH = None
        stop.set()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 3)
        await client.aclose()
