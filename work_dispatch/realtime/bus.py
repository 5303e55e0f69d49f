"""The event bus: services publish small change events after they commit.

Without Redis the bus is in-process; with ``REFLEX_REDIS_URL`` it is Redis pub/sub, so
every backend worker sees every event. Subscribers are plain callables and must be
quick; they run on the subscribing event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from work_dispatch.settings import settings

logger = logging.getLogger(__name__)


PERSON_CHANGED = "person_changed"


@dataclass(frozen=True)
class BusEvent:
    """What changed, small enough to fan out; receivers reload rows from the database."""

    kind: str
    task_ids: tuple[int, ...] = field(default_factory=tuple)
    operator_ids: tuple[int, ...] = field(default_factory=tuple)
    department_ids: tuple[int, ...] = field(default_factory=tuple)
    work_order_ids: tuple[int, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        """Serialize for Redis."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str | bytes) -> BusEvent:
        """Parse an event published by :meth:`to_json`."""
        data = json.loads(raw)
        return cls(
            kind=str(data["kind"]),
            task_ids=tuple(int(v) for v in data.get("task_ids", ())),
            operator_ids=tuple(int(v) for v in data.get("operator_ids", ())),
            department_ids=tuple(int(v) for v in data.get("department_ids", ())),
            work_order_ids=tuple(int(v) for v in data.get("work_order_ids", ())),
        )


Subscriber = Callable[[BusEvent], None]


RESYNC = "resync"
"""A bus event meaning "events may have been missed": every session of the worker is re-read."""


class InProcessBus:
    """Delivers events to subscribers of this process, on their own event loops."""

    def __init__(self) -> None:
        self._subscribers: list[tuple[Subscriber, asyncio.AbstractEventLoop | None]] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Register ``callback``; it runs on the loop that is current now, if any.

        Args:
            callback: Called with every published event.

        Returns:
            A function that unsubscribes.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        entry = (callback, loop)
        with self._lock:
            self._subscribers.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subscribers:
                    self._subscribers.remove(entry)

        return unsubscribe

    def publish(self, event: BusEvent) -> None:
        """Deliver ``event`` to every subscriber; safe from any thread.

        Args:
            event: The event to deliver.
        """
        self._deliver(event)

    def _deliver(self, event: BusEvent) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback, loop in subscribers:
            if loop is None or loop.is_closed():
                _safe_call(callback, event)
            else:
                loop.call_soon_threadsafe(_safe_call, callback, event)


def _safe_call(callback: Subscriber, event: BusEvent) -> None:
    try:
        callback(event)
    except Exception:
        logger.exception("Bus subscriber %r failed on %s", callback, event.kind)


class RedisBus(InProcessBus):
    """Publishes through Redis pub/sub; a listener task delivers to local subscribers."""

    def __init__(self, url: str, channel: str | None = None) -> None:
        super().__init__()
        import redis

        self.channel = channel or f"{settings.namespace}:events"
        self._url = url
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def publish(self, event: BusEvent) -> None:
        """Publish to Redis; if Redis is down, deliver locally and log it.

        Args:
            event: The event to publish.
        """
        try:
            self._client.publish(self.channel, event.to_json())
        except Exception:
            logger.warning("Redis publish failed; delivering %s to this worker only", event.kind)
            self._deliver(event)

    async def listen(self, stop: asyncio.Event) -> None:
        """Relay events from Redis to local subscribers until ``stop`` is set.

        Reconnects with a short back-off when Redis goes away.

        Args:
            stop: Set to end the listener.
        """
        import redis.asyncio as aioredis

        lost = False
        while not stop.is_set():
            try:
                client = aioredis.Redis.from_url(self._url)
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    if lost:
                        # Pub/sub keeps nothing: whatever was published while this listener was away
                        # is gone, so every session of this worker is re-read once (unchanged ones
                        # are not pushed).
                        lost = False
                        self._deliver(BusEvent(kind=RESYNC))
                    while not stop.is_set():
                        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                        if message and message.get("type") == "message":
                            self._deliver(BusEvent.from_json(message["data"]))
                await client.aclose()
            except asyncio.CancelledError:
                raise
            except Exception:
                lost = True
                logger.warning("Redis bus listener lost its connection; retrying in 1 s")
                await asyncio.sleep(1.0)


_bus: InProcessBus | None = None
_bus_lock = threading.Lock()


def get_bus() -> InProcessBus:
    """The process-wide bus, Redis-backed when Redis is configured."""
    global _bus
    with _bus_lock:
        if _bus is None:
            _bus = RedisBus(settings.redis_url) if settings.redis_url else InProcessBus()
        return _bus


def publish(event: BusEvent) -> None:
    """Publish on the process-wide bus; never raises.

    Args:
        event: The event to publish.
    """
    try:
        get_bus().publish(event)
    except Exception:
        logger.exception("Publishing %s failed", event.kind)
