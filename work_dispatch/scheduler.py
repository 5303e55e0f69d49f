"""APScheduler setup, leader election and the jobs (thin: they call services).

Every backend worker runs the lifespan, so every worker builds a scheduler; only the
elected leader's jobs do anything. With Redis the leader holds a lease (``SET NX PX``,
renewed by compare-and-expire, released by compare-and-delete); without Redis there is
one worker and it leads.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from work_dispatch.realtime.bus import BusEvent, publish
from work_dispatch.services import dispatch, eta, notifications, presence
from work_dispatch.services.runner import run
from work_dispatch.settings import settings

logger = logging.getLogger("work_dispatch.scheduler")
ETA_INTERVAL_S = 60
"""The ETAs are recomputed at least this often (time passes; shifts start and end)."""
ETA_DEBOUNCE_S = 2
"""After a report or a dispatch, wait this long so a burst of changes costs one recomputation."""
ETA_EVENTS = frozenset({"task_changed", "tasks_dispatched", "tasks_published", "shift_end"})
"""Bus events after which the ETAs move."""

_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
)
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


class RedisLease:
    """A leadership lease in Redis; at most one holder at a time.

    Args:
        url: Redis URL.
        identity: This worker's unique name.
        ttl_s: Lease lifetime; the holder renews it every ``ttl_s / 3``.
    """

    def __init__(self, url: str, identity: str, ttl_s: float = 10.0, key: str | None = None) -> None:
        import redis.asyncio as aioredis

        self.key = key or f"{settings.namespace}:dispatcher"
        self._client = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.identity = identity
        self.ttl_ms = int(ttl_s * 1000)
        self.held = False

    async def refresh(self) -> bool:
        """Renew the lease if held, else try to take it. Redis errors mean "not leader".

        Returns:
            Whether this worker holds the lease now.
        """
        try:
            if self.held:
                self.held = bool(await self._client.eval(_RENEW, 1, self.key, self.identity, self.ttl_ms))
            if not self.held:
                self.held = bool(await self._client.set(self.key, self.identity, nx=True, px=self.ttl_ms))
        except Exception as error:
            if self.held:
                logger.error("Redis unreachable (%s): giving up dispatcher leadership", error)
            self.held = False
        return self.held

    async def release(self) -> None:
        """Give the lease up (on shutdown) so another worker takes over at once."""
        try:
            if self.held:
                await self._client.eval(_RELEASE, 1, self.key, self.identity)
        except Exception:
            logger.warning("Could not release the dispatcher lease; it expires by itself")
        finally:
            self.held = False
            await self._client.aclose()


class DispatchScheduler:
    """The auto-dispatch and due-soon jobs of one worker, active only when it leads.

    Args:
        interval_s: Seconds between dispatch cycles.
        redis_url: Redis for leader election; None for a single-process deployment.
    """

    def __init__(self, interval_s: float, redis_url: str | None) -> None:
        self.identity = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.interval_s = interval_s
        self.lease = RedisLease(redis_url, self.identity) if redis_url else None
        self.scheduler = AsyncIOScheduler()
        self.cycles = 0
        self.failures = 0

    @property
    def is_leader(self) -> bool:
        """Whether this worker dispatches."""
        return self.lease is None or self.lease.held

    async def start(self) -> None:
        """Start the scheduler on the running loop."""
        if self.lease is not None:
            await self._refresh_lease()
            self.scheduler.add_job(
                self._refresh_lease,
                "interval",
                seconds=self.lease.ttl_ms / 3000,
                id="lease",
                max_instances=1,
                coalesce=True,
            )
        self.scheduler.add_job(
            self.dispatch_job,
            "interval",
            seconds=self.interval_s,
            id="dispatch",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )
        self.scheduler.add_job(
            self.due_soon_job, "interval", seconds=60, id="due_soon", max_instances=1, coalesce=True
        )
        self.scheduler.add_job(
            self.shift_end_job, "interval", seconds=60, id="shift_end", max_instances=1, coalesce=True
        )
        self.scheduler.add_job(
            self.eta_job, "interval", seconds=ETA_INTERVAL_S, id="eta", max_instances=1, coalesce=True
        )
        self.scheduler.start()
        logger.info("Scheduler %s started (leader: %s)", self.identity, self.is_leader)

    async def stop(self) -> None:
        """Stop the jobs and release leadership."""
        self.scheduler.shutdown(wait=False)
        if self.lease is not None:
            await self.lease.release()

    async def _refresh_lease(self) -> None:
        was_leader = self.lease.held
        await self.lease.refresh()
        if self.lease.held and not was_leader:
            logger.info("Worker %s is now the dispatcher", self.identity)
            self.trigger_dispatch()

    def trigger_dispatch(self) -> None:
        """Run a dispatch cycle now (after a publish), if this worker leads."""
        if not self.is_leader:
            return
        job = self.scheduler.get_job("dispatch")
        if job is not None:
            job.modify(next_run_time=datetime.now(UTC))

    def on_bus_event(self, event: BusEvent) -> None:
        """Bus subscriber: new published work, a check-in or work back from a shift end is dispatched now."""
        if event.kind in ("tasks_published", "presence_changed", "shift_end"):
            self.trigger_dispatch()
        elif event.kind in ETA_EVENTS:
            self.trigger_eta()

    async def dispatch_job(self) -> None:
        """One dispatch cycle; a failure is logged and the next interval runs again."""
        if not self.is_leader:
            return
        try:
            report = await run(dispatch.run_cycle)
            self.cycles += 1
            if report.assigned or report.queued:
                logger.info("Dispatch cycle: %s", report.summary())
        except Exception:
            self.failures += 1
            logger.exception("Dispatch cycle failed; the next one runs in %.1f s", self.interval_s)

    def trigger_eta(self) -> None:
        """Recompute the ETAs soon (after a report or a dispatch), if this worker leads."""
        if not self.is_leader:
            return
        job = self.scheduler.get_job("eta")
        if job is not None:
            job.modify(next_run_time=datetime.now(UTC) + timedelta(seconds=ETA_DEBOUNCE_S))

    async def eta_job(self) -> None:
        """Recompute the live ETAs and announce the work orders whose estimate moved."""
        if not self.is_leader:
            return
        try:
            report = await run(eta.refresh)
            if report.work_orders or report.task_ids:
                publish(
                    BusEvent(
                        kind="eta_changed",
                        task_ids=tuple(report.task_ids),
                        work_order_ids=tuple(report.work_orders),
                    )
                )
        except Exception:
            logger.exception("ETA job failed")

    async def shift_end_job(self) -> None:
        """Return, pause and check out the work of operators whose shift ended (see presence.end_shifts)."""
        if not self.is_leader:
            return
        try:
            report = await run(presence.end_shifts)
            if report.returned or report.paused or report.checked_out:
                logger.info(
                    "Shift end: %d returned, %d paused, %d checked out",
                    report.returned,
                    report.paused,
                    report.checked_out,
                )
        except Exception:
            logger.exception("Shift-end job failed")

    async def due_soon_job(self) -> None:
        """Create due-soon reminders and announce them to the operators concerned."""
        if not self.is_leader:
            return
        try:
            created = await run(notifications.create_due_soon, None, settings.due_soon_minutes)
            if created:
                publish(
                    BusEvent(
                        kind="notifications",
                        task_ids=tuple(t for t, _ in created),
                        operator_ids=tuple({o for _, o in created}),
                    )
                )
        except Exception:
            logger.exception("Due-soon reminder job failed")
