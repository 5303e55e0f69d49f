"""Production workers: one that dies is replaced, instead of taking the whole server down with it.

``reflex run --env prod`` serves through Granian with several worker processes. With Granian's default
(``respawn_failed_workers=False``) the exit of any one worker (the OOM killer, a crash, ``kill -9``)
shuts the whole server down, so every tablet loses the app although the other workers were fine.
Reflex 0.10.1 builds the Granian server itself and has no setting for this, so
:func:`respawn_failed_workers` makes it Granian's default. The app module calls it on import, which
happens in Granian's main process before Reflex builds the server (Reflex imports the app there so
that forked workers share it).
"""

from __future__ import annotations

import functools

_MARK = "_work_dispatch_respawns_failed_workers"


def respawn_failed_workers() -> bool:
    """Make Granian servers built from now on replace a worker that exits unexpectedly.

    An explicit ``respawn_failed_workers`` argument still wins. Granian itself gives up when a
    replaced worker dies again within a few seconds (a crash loop).

    Returns:
        Whether Granian is installed (and now respawns by default).
    """
    try:
        from granian.server import Server
    except ImportError:
        return False
    if getattr(Server, _MARK, False):
        return True
    build = Server.__init__

    @functools.wraps(build)
    def build_respawning(self, *args, **kwargs) -> None:
        kwargs.setdefault("respawn_failed_workers", True)
        build(self, *args, **kwargs)

    Server.__init__ = build_respawning
    setattr(Server, _MARK, True)
    return True
