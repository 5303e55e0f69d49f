"""``/health``: up or down for anyone; this worker's details for a monitor holding the token.

Anonymous callers get ``{"status": "ok"}`` (200) or ``{"status": "degraded"}`` (503) and nothing else.
The details (database and Redis latency, pid, worker identity, dispatcher role, live sessions, fan-out
figures) need ``Authorization: Bearer <WD_MONITOR_TOKEN>``; without that setting they are never shown.
The dependency checks are shared for :data:`CHECK_TTL_S`, so polling cannot multiply their load.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import time

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from work_dispatch.db import get_engine
from work_dispatch.lifespan import RUNTIME
from work_dispatch.realtime.registry import REGISTRY
from work_dispatch.settings import settings


def _database() -> dict:
    started = time.perf_counter()
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        return {
            "ok": True,
            "ms": round((time.perf_counter() - started) * 1000, 2),
            "backend": "postgresql" if not settings.is_sqlite else "sqlite",
        }
    except Exception as error:
        return {"ok": False, "error": type(error).__name__}


async def _redis() -> dict:
    if not settings.redis_url:
        return {"ok": True, "configured": False}
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(settings.redis_url, socket_timeout=1, socket_connect_timeout=1)
    started = time.perf_counter()
    try:
        await client.ping()
        return {"ok": True, "configured": True, "ms": round((time.perf_counter() - started) * 1000, 2)}
    except Exception as error:
        return {"ok": False, "configured": True, "error": type(error).__name__}
    finally:
        await client.aclose()


CHECK_TTL_S = 1.0
"""How long one round of dependency checks answers every caller of this worker."""
_checked: tuple[float, dict, dict] | None = None
_check_lock = asyncio.Lock()


async def _dependencies() -> tuple[dict, dict]:
    """The database and Redis checks, run at most once per :data:`CHECK_TTL_S` in this worker."""
    global _checked
    async with _check_lock:
        if _checked is None or time.monotonic() - _checked[0] >= CHECK_TTL_S:
            database = await asyncio.to_thread(_database)
            _checked = (time.monotonic(), database, await _redis())
        return _checked[1], _checked[2]


def is_monitor(request: Request) -> bool:
    """Whether the request carries the monitoring token (``Authorization: Bearer <token>``).

    Args:
        request: The HTTP request.

    Returns:
        False when ``WD_MONITOR_TOKEN`` is unset, the header is missing or the token differs.
    """
    expected = settings.monitor_token
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode(), expected.encode())


def _details() -> dict:
    scheduler = RUNTIME.get("scheduler")
    fanout = RUNTIME.get("fanout")
    return {
        "pid": os.getpid(),
        "identity": getattr(scheduler, "identity", None),
        "dispatcher": bool(scheduler and scheduler.is_leader),
        "dispatch_cycles": getattr(scheduler, "cycles", 0),
        "dispatch_failures": getattr(scheduler, "failures", 0),
        "live_sessions": len(REGISTRY),
        "last_flush_ms": round(getattr(fanout, "last_flush_ms", 0.0), 2),
        "pushes": getattr(fanout, "pushes", 0),
    }


async def health(request: Request) -> JSONResponse:
    """Up or down (503 when a dependency is down); the details only for the monitoring token.

    Args:
        request: The HTTP request.

    Returns:
        The JSON answer, never cached by the browser or a proxy.
    """
    database, redis_status = await _dependencies()
    body: dict = {"status": "ok" if database["ok"] and redis_status["ok"] else "degraded"}
    if is_monitor(request):
        body |= {"database": database, "redis": redis_status, "worker": _details()}
    return JSONResponse(
        body,
        status_code=200 if body["status"] == "ok" else 503,
        headers={"Cache-Control": "no-store"},
    )


health_app = Starlette(routes=[Route("/health", health)])
