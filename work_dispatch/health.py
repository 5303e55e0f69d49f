"""``/health``: database, Redis, dispatcher leadership and live fan-out figures of this worker."""

from __future__ import annotations

import asyncio
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


async def health(request: Request) -> JSONResponse:
    """Report the worker's dependencies; 503 when one it needs is down."""
    database = await asyncio.to_thread(_database)
    redis_status = await _redis()
    scheduler = RUNTIME.get("scheduler")
    fanout = RUNTIME.get("fanout")
    body = {
        "status": "ok" if database["ok"] and redis_status["ok"] else "degraded",
        "database": database,
        "redis": redis_status,
        "worker": {
            "pid": os.getpid(),
            "identity": getattr(scheduler, "identity", None),
            "dispatcher": bool(scheduler and scheduler.is_leader),
            "dispatch_cycles": getattr(scheduler, "cycles", 0),
            "dispatch_failures": getattr(scheduler, "failures", 0),
            "live_sessions": len(REGISTRY),
            "last_flush_ms": round(getattr(fanout, "last_flush_ms", 0.0), 2),
            "pushes": getattr(fanout, "pushes", 0),
        },
    }
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


health_app = Starlette(routes=[Route("/health", health)])
