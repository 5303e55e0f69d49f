"""Running a service from async code: one session, one thread, no event-loop blocking."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from work_dispatch.db import session_scope

T = TypeVar("T")


def run_sync(service: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``service(db, *args, **kwargs)`` in its own unit of work.

    Args:
        service: A service function taking an open session first.
        *args: Positional arguments after the session.
        **kwargs: Keyword arguments.

    Returns:
        What the service returned.
    """
    with session_scope() as db:
        return service(db, *args, **kwargs)


async def run(service: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a service in a worker thread so database I/O never blocks the event loop.

    Args:
        service: A service function taking an open session first.
        *args: Positional arguments after the session.
        **kwargs: Keyword arguments.

    Returns:
        What the service returned.
    """
    return await asyncio.to_thread(run_sync, service, *args, **kwargs)
