"""The per-worker fan-out that pushes fresh data to the connected sessions an event concerns.

Flow: a service commits and publishes a BusEvent → the bus (in-process or Redis) hands it
to every worker's :class:`LiveFanout` → events are coalesced for ~100 ms → the sessions
the merged event concerns are looked up in the registry → each view keeps those whose screen
may change (an operator named by the event, or watching a pool that changed) → their browser
sessions are re-validated in one query (:mod:`work_dispatch.services.live_auth`): a session
that was ended, has expired, or whose user was deactivated or may no longer see the page is
wiped at once → each view's pusher loads the remaining recipients' fresh data in bulk, in
chunks, from the database (outside any state lock) → each session whose screen changes gets
one ``app.modify_state`` that only assigns already-loaded values.

Costs stay proportional to the screens that change: pushers skip a session whose data is
the same as what it was last sent (:meth:`LiveFanout.remember_pushed`), the first chunk is
pushed while the next one loads, at most ``max_concurrent_pushes`` pushes run at once (each
one holds a Redis connection), and sessions whose socket is gone are swept out of the
registry every few seconds. One failing recipient never stops the pushes to the others.

The pushers know the Reflex states they fill, so the state modules register them
(:func:`register_pusher`); this package never imports ``work_dispatch.states``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

import reflex as rx

from work_dispatch.realtime.bus import BusEvent
from work_dispatch.realtime.coalescer import Coalescer
from work_dispatch.realtime.registry import REGISTRY, VIEWS, SessionRegistry, Watcher, digest
from work_dispatch.services import live_auth, runner
from work_dispatch.services.actor import Actor

logger = logging.getLogger(__name__)

T = TypeVar("T")

MAX_CONCURRENT_PUSHES = 32
"""Pushes in flight per worker: each holds a Redis connection (and Redis keeps it pooled)."""
CHUNK_SIZE = 50
"""Sessions loaded per query batch; a chunk is pushed while the next one loads."""
SWEEP_INTERVAL_S = 5.0
"""How often sessions whose socket has gone are dropped from the registry."""


@dataclasses.dataclass(frozen=True)
class Recipient:
    """A session a push may reach: what it watches, and its user as the database says now."""

    watcher: Watcher
    actor: Actor
    """Re-validated for this push, reading in the session's locale."""

    @property
    def token(self) -> str:
        """The session's client token."""
        return self.watcher.token

    @property
    def user_id(self) -> int:
        """The session's user."""
        return self.watcher.user_id


Pusher = Callable[["LiveFanout", list[Recipient], BusEvent], Awaitable[None]]
"""``async (fanout, recipients of one view, merged event) -> None``."""
Wiper = Callable[["LiveFanout", Watcher], Awaitable[None]]
"""``async (fanout, watcher) -> None``: empties the page of a session that may not see it any more."""
Narrower = Callable[["LiveFanout", list[Watcher], BusEvent], Awaitable[list[Watcher]]]
"""``async (fanout, watchers of one view, event) -> the watchers whose screen may change``."""
SessionCheck = Callable[[list[Watcher]], Awaitable[dict[str, Actor | None]]]
"""``async (watchers) -> token → actor, or None for a session that may receive nothing``."""

PUSHERS: dict[str, Pusher] = {}
"""View → the pusher that refreshes its sessions, filled by the state modules."""
WIPERS: dict[str, Wiper] = {}
"""View → how an ended session's page is emptied, filled by the state modules."""
NARROWERS: dict[str, Narrower] = {}
"""View → which of the concerned sessions may see their screen change (default: all of them)."""


def register_pusher(
    view: str, pusher: Pusher, wipe: Wiper | None = None, narrow: Narrower | None = None
) -> None:
    """Let the module that owns a view's states handle the pushes to its sessions.

    Args:
        view: One of the registry's ``VIEWS``.
        pusher: Loads the recipients' fresh data and pushes it through the fan-out.
        wipe: Empties the page of a session that may not see it any more.
        narrow: Keeps only the sessions whose screen may change (before their sessions are checked).

    Raises:
        ValueError: For a view the registry does not know.
    """
    if view not in VIEWS:
        raise ValueError(f"Unknown view {view!r}; expected one of {VIEWS}.")
    PUSHERS[view] = pusher
    if wipe is not None:
        WIPERS[view] = wipe
    if narrow is not None:
        NARROWERS[view] = narrow


async def check_sessions(watchers: list[Watcher]) -> dict[str, Actor | None]:
    """The default session check: one query for every watcher of a flush (in a worker thread)."""
    return await runner.run(live_auth.check_sessions, watchers)


class LiveFanout:
    """Per-worker fan-out from the bus to connected sessions.

    Args:
        app: The Reflex app (for ``modify_state`` and the socket table).
        window_s: Coalescing window.
        registry: The sessions of this worker.
        pushers: View → pusher.
        wipers: View → how an ended session's page is emptied.
        narrowers: View → which concerned sessions may see their screen change.
        check: Re-validates the sessions of a flush.
        max_concurrent_pushes: Pushes in flight at once.
        chunk_size: Sessions loaded per batch by :meth:`push_in_chunks`.
        sweep_interval_s: How often sessions without a socket are dropped (0: never; the
            sweep runs only when the fan-out is created on a running event loop).
    """

    def __init__(
        self,
        app: rx.App,
        window_s: float = 0.1,
        registry: SessionRegistry = REGISTRY,
        pushers: dict[str, Pusher] = PUSHERS,
        *,
        wipers: dict[str, Wiper] = WIPERS,
        narrowers: dict[str, Narrower] = NARROWERS,
        check: SessionCheck = check_sessions,
        max_concurrent_pushes: int = MAX_CONCURRENT_PUSHES,
        chunk_size: int = CHUNK_SIZE,
        sweep_interval_s: float = SWEEP_INTERVAL_S,
    ) -> None:
        self.app = app
        self.registry = registry
        self.pushers = pushers
        self.wipers = wipers
        self.narrowers = narrowers
        self.check = check
        self.chunk_size = max(1, chunk_size)
        self.coalescer = Coalescer(self.flush, window_s)
        self._slots = asyncio.Semaphore(max(1, max_concurrent_pushes))
        self._shared: dict[tuple[str, Hashable], bytes] = {}
        self.last_flush_ms = 0.0
        self.pushes = 0
        self.skipped = 0
        self.wiped = 0
        self.failures = 0
        self.swept = 0
        self._sweeper: asyncio.Task | None = None
        if sweep_interval_s > 0:
            with contextlib.suppress(RuntimeError):
                self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever(sweep_interval_s))

    def on_bus_event(self, event: BusEvent) -> None:
        """Bus subscriber (runs on the event loop)."""
        self.coalescer.add(event)

    async def aclose(self) -> None:
        """Stop the periodic sweep (worker shutdown)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None

    # -- who is connected -------------------------------------------------------------------

    def connected_tokens(self) -> set[str] | None:
        """Client tokens with a socket on this worker right now (None when the app has no socket table).

        Read once per flush: Reflex's public ``token_to_sid`` builds a new mapping on every
        access, and with Redis it also lists sockets of other workers that were looked up.
        """
        namespace = getattr(self.app, "event_namespace", None)
        if namespace is None:
            return None
        manager = getattr(namespace, "_token_manager", None)
        records = getattr(manager, "token_to_socket", None)
        if isinstance(records, dict):
            own = getattr(manager, "instance_id", None)
            return {token for token, record in records.items() if getattr(record, "instance_id", own) == own}
        return set(namespace.token_to_sid)

    def sweep(self) -> int:
        """Forget registered sessions whose socket has gone (Reflex has no disconnect hook).

        Returns:
            How many sessions were dropped.
        """
        connected = self.connected_tokens()
        if connected is None:
            return 0
        gone = [token for token in self.registry.tokens() if token not in connected]
        for token in gone:
            self.registry.drop(token)
        self.swept += len(gone)
        return len(gone)

    async def _sweep_forever(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                self.sweep()
            except Exception:
                logger.exception("Sweeping disconnected sessions failed")

    # -- one flush --------------------------------------------------------------------------

    async def flush(self, event: BusEvent) -> None:
        """Push fresh data to every concerned, connected and still valid session, view by view.

        Each view first keeps the sessions whose screen may change; their browser sessions are
        then re-validated in one query, those that fail are wiped, and the rest are pushed.

        Args:
            event: The merged event of one coalescing window.
        """
        started = time.perf_counter()
        connected = self.connected_tokens()
        by_view: dict[str, list[Watcher]] = {view: [] for view in VIEWS}
        for watcher in self.registry.audience(event):
            if connected is not None and watcher.token not in connected:
                self.registry.drop(watcher.token)
            elif watcher.view in by_view and watcher.view in self.pushers:
                by_view[watcher.view].append(watcher)
        for view, group in by_view.items():
            narrow = self.narrowers.get(view)
            if group and narrow is not None:
                try:
                    by_view[view] = await narrow(self, group, event)
                except Exception:
                    # Not knowing what changed, push to all of them.
                    self.failures += 1
                    logger.exception("Narrowing %s for %d %s sessions failed", event.kind, len(group), view)
        watchers = [watcher for group in by_view.values() for watcher in group]
        if watchers:
            verdicts = await self.check(watchers)
            recipients: dict[str, list[Recipient]] = {view: [] for view in VIEWS}
            ended: list[Watcher] = []
            for watcher in watchers:
                actor = verdicts.get(watcher.token)
                if actor is None:
                    ended.append(watcher)
                else:
                    reader = dataclasses.replace(actor, locale=watcher.locale)
                    recipients[watcher.view].append(Recipient(watcher, reader))
            await self.end_sessions(ended)
            for view in VIEWS:
                group = recipients[view]
                if not group:
                    continue
                try:
                    await self.pushers[view](self, group, event)
                except Exception:
                    # A pusher that cannot even load its data must not keep the other views waiting.
                    self.failures += 1
                    logger.exception("Pushing %s to %d %s sessions failed", event.kind, len(group), view)
        self.last_flush_ms = (time.perf_counter() - started) * 1000

    async def end_sessions(self, watchers: Sequence[Watcher]) -> None:
        """Forget sessions that may receive nothing more and empty their pages, each on its own.

        Args:
            watchers: Sessions that were ended, expired, or whose user may not see the page any more.
        """
        for watcher in watchers:
            self.registry.drop(watcher.token)
        self.wiped += len(watchers)

        async def wipe(watcher: Watcher) -> None:
            wiper = self.wipers.get(watcher.view)
            if wiper is not None:
                await wiper(self, watcher)

        await self.each(watchers, wipe)

    # -- helpers for pushers ----------------------------------------------------------------

    async def each(self, items: Sequence[T], push: Callable[[T], Awaitable[None]]) -> list[T]:
        """Run ``push`` for every item concurrently; a failure is logged and stops nothing else.

        Args:
            items: Recipients (or watchers).
            push: The push of one item.

        Returns:
            The items whose push failed.
        """
        outcomes = await asyncio.gather(*(push(item) for item in items), return_exceptions=True)
        failed = []
        for item, outcome in zip(items, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                if isinstance(outcome, asyncio.CancelledError):
                    raise outcome
                failed.append(item)
                self.failures += 1
                token = getattr(item, "token", "?")
                # What it was last sent is unknown now: its next push must not be skipped.
                self.registry.forget_pushed(token)
                logger.error("Push to session %s… failed", token[:8], exc_info=outcome)
        return failed

    async def push_in_chunks(
        self,
        recipients: Sequence[Recipient],
        load: Callable[[list[Recipient]], Awaitable[T]],
        push: Callable[[Recipient, T], Awaitable[None]],
    ) -> list[Recipient]:
        """Load the recipients' data chunk by chunk and push each chunk as soon as it is loaded.

        The next chunk loads (in a worker thread) while the previous one is pushed, so the first
        screens change after one chunk's query, not after everyone's.

        Args:
            recipients: In push order.
            load: Loads one chunk's data (one bulk query set).
            push: Pushes one recipient from its chunk's data.

        Returns:
            The recipients whose load or push failed.
        """
        chunks = [
            list(recipients[i : i + self.chunk_size]) for i in range(0, len(recipients), self.chunk_size)
        ]
        if not chunks:
            return []
        failed: list[Recipient] = []
        pushing: list[asyncio.Task] = []
        loading = asyncio.ensure_future(load(chunks[0]))
        for index, chunk in enumerate(chunks):
            try:
                data = await loading
            except Exception:
                self.failures += 1
                logger.exception("Loading the data of %d sessions failed", len(chunk))
                failed.extend(chunk)
                continue
            finally:
                if index + 1 < len(chunks):
                    loading = asyncio.ensure_future(load(chunks[index + 1]))

            async def push_chunk(chunk=chunk, data=data) -> list[Recipient]:
                return await self.each(chunk, lambda recipient: push(recipient, data))

            pushing.append(asyncio.ensure_future(push_chunk()))
        for outcome in await asyncio.gather(*pushing):
            failed.extend(outcome)
        return failed

    def remember_pushed(self, token: str, part: str, value: Any) -> bool:
        """Remember what is about to be pushed to one part of a session's page.

        Args:
            token: The session.
            part: Which part of its page ("lists", "counts", ...).
            value: The freshly loaded data for that part.

        Returns:
            True when the session was last sent exactly this (its screen would not change).
        """
        fingerprint = digest(value)
        return self.registry.swap_pushed(token, part, fingerprint) == fingerprint

    def changed_shared(self, part: str, fingerprints: dict[Hashable, bytes]) -> set[Hashable]:
        """Which pieces of data shared by many sessions (a department's pool) changed since last seen.

        Args:
            part: The kind of data ("pool").
            fingerprints: Key → fingerprint of the data as it is now.

        Returns:
            The keys whose fingerprint differs from the last one seen by this worker (or was never seen).
        """
        changed = set()
        for key, fingerprint in fingerprints.items():
            if self._shared.get((part, key)) != fingerprint:
                changed.add(key)
                self._shared[(part, key)] = fingerprint
        return changed

    def forget_shared(self, part: str, keys: set[Hashable]) -> None:
        """Forget fingerprints after a failed push, so that the next event reloads those sessions."""
        for key in keys:
            self._shared.pop((part, key), None)

    @contextlib.asynccontextmanager
    async def modify(self, token: str, state_cls: type[rx.State]) -> AsyncIterator[rx.State]:
        """Hold one session's state lock and yield its root state; counts one push.

        At most ``max_concurrent_pushes`` of these run at once in this worker.

        Args:
            token: The session's client token.
            state_cls: The (small) state the push is about.

        Yields:
            The root state; reach substates with ``await root.get_state(...)``. Do no I/O here.
        """
        async with self._slots:
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
