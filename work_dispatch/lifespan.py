"""What every backend worker runs for its whole life: the bus, the fan-out and the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import reflex as rx

from work_dispatch.realtime.bus import RedisBus, get_bus
from work_dispatch.realtime.fanout import LiveFanout
from work_dispatch.scheduler import DispatchScheduler
from work_dispatch.settings import settings

logger = logging.getLogger("work_dispatch.lifespan")

RUNTIME: dict[str, object] = {}
"""The running worker's fan-out and scheduler (for the health endpoint and tests)."""


@contextlib.asynccontextmanager
async def worker_lifespan(app: rx.App) -> AsyncIterator[None]:
    """Subscribe the fan-out and the scheduler to the bus and start the jobs.

    Args:
        app: The Reflex app, passed in by Reflex.

    Yields:
        While the worker serves.
    """
    bus = get_bus()
    fanout = LiveFanout(app)
    scheduler = DispatchScheduler(settings.dispatch_interval_s, settings.redis_url)
    unsubscribe = [bus.subscribe(fanout.on_bus_event), bus.subscribe(scheduler.on_bus_event)]
    stop = asyncio.Event()
    listener = asyncio.create_task(bus.listen(stop)) if isinstance(bus, RedisBus) else None
    await scheduler.start()
    RUNTIME.update(fanout=fanout, scheduler=scheduler, bus=bus)
    try:
        yield
    finally:
        stop.set()
        for cancel in unsubscribe:
            cancel()
        await scheduler.stop()
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listener
        RUNTIME.clear()
