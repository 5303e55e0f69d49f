"""Merging bursts of bus events into one flush per short window."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from work_dispatch.realtime.bus import PERSON_CHANGED, BusEvent

logger = logging.getLogger(__name__)


def merge_events(events: list[BusEvent]) -> BusEvent:
    """Union of several events' ids; the kind of the last one wins.

    Args:
        events: At least one event.

    Returns:
        One event naming every task, operator, department and work order involved.
    """

    def union(attribute: str) -> tuple[int, ...]:
        seen: dict[int, None] = {}
        for event in events:
            for value in getattr(event, attribute):
                seen[value] = None
        return tuple(seen)

    kinds = [event.kind for event in events]
    return BusEvent(
        # A person change asks receivers to re-check sessions; merging must not lose that.
        kind=PERSON_CHANGED if PERSON_CHANGED in kinds else kinds[-1],
        task_ids=union("task_ids"),
        operator_ids=union("operator_ids"),
        department_ids=union("department_ids"),
        work_order_ids=union("work_order_ids"),
    )


class Coalescer:
    """Throttles a stream of events into at most one flush per window.

    The first event after a quiet period is flushed at once; events arriving while that
    flush runs or during the following ``window_s`` are merged into the next flush. An
    isolated change reaches screens without waiting; a burst costs one flush per window.

    Args:
        flush: Coroutine called with the merged event.
        window_s: Length of the collecting window.
    """

    def __init__(self, flush: Callable[[BusEvent], Awaitable[None]], window_s: float = 0.1) -> None:
        self._flush = flush
        self._window_s = window_s
        self._pending: list[BusEvent] = []
        self._timer: asyncio.Task | None = None
        self.flushes = 0

    def add(self, event: BusEvent) -> None:
        """Queue an event; must be called on the event loop."""
        self._pending.append(event)
        if self._timer is None or self._timer.done():
            self._timer = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self._pending:
            events, self._pending = self._pending, []
            self.flushes += 1
            try:
                await self._flush(merge_events(events))
            except Exception:
                logger.exception("Flushing %d coalesced events failed", len(events))
            await asyncio.sleep(self._window_s)

    async def drain(self) -> None:
        """Wait until every queued event has been flushed (tests and shutdown)."""
        while self._timer is not None and not self._timer.done():
            await self._timer
