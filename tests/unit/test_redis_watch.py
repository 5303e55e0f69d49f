"""Pages reconnect while Redis is away and reload once it is back; a killed worker is replaced."""

import asyncio
from types import SimpleNamespace

import pytest

from work_dispatch import redis_watch
from work_dispatch.redis_watch import RedisWatch, WebsocketGate


class FakeSocket:
    def __init__(self) -> None:
        self.queue = asyncio.Queue()


class FakeEngine:
    """The part of Engine.IO's server the watch uses: its sockets and ``disconnect``."""

    def __init__(self) -> None:
        self.sockets: dict[str, FakeSocket] = {}
        self.disconnected: list[str] = []

    def connect(self, *sids: str) -> list[FakeSocket]:
        for sid in sids:
            self.sockets[sid] = FakeSocket()
        return [self.sockets[sid] for sid in sids]

    async def disconnect(self, sid: str) -> None:
        self.disconnected.append(sid)
        self.sockets.pop(sid, None)


class FakeRedis:
    def __init__(self) -> None:
        self.up = True
        self.run_id = "first"

    async def info(self, section: str) -> dict:
        assert section == "server"
        if not self.up:
            raise ConnectionError("connection refused")
        return {"run_id": self.run_id}


def _watch() -> tuple[RedisWatch, FakeEngine, FakeRedis]:
    engine, redis = FakeEngine(), FakeRedis()
    return RedisWatch(SimpleNamespace(sio=SimpleNamespace(eio=engine)), redis), engine, redis


def test_websockets_are_closed_while_redis_is_away_and_once_more_when_it_is_back():
    async def scenario():
        watch, engine, redis = _watch()
        first, second = engine.connect("a", "b")
        await watch.check()
        assert engine.disconnected == [] and not watch.redis_down

        redis.up = False
        await watch.check()  # one slow or failed answer is not an outage yet
        assert engine.disconnected == [] and not watch.redis_down
        await watch.check()
        assert watch.redis_down
        assert engine.disconnected == ["a", "b"]
        # The transport ends at once (the page's websocket closes), not after the ping timeout.
        assert first.queue.get_nowait() is None and second.queue.get_nowait() is None

        engine.connect("c")  # a page that slipped in is closed at the next check
        await watch.check()
        assert engine.disconnected == ["a", "b", "c"]

        redis.up, redis.run_id = True, "second"
        engine.connect("d")  # connected before the watch saw Redis back: its hydrate may have failed
        await watch.check()
        assert not watch.redis_down
        assert engine.disconnected == ["a", "b", "c", "d"]
        engine.connect("e")
        await watch.check()
        assert engine.disconnected == ["a", "b", "c", "d"]

    asyncio.run(scenario())


def test_a_redis_restart_between_two_checks_still_makes_pages_reload():
    async def scenario():
        watch, engine, redis = _watch()
        engine.connect("a")
        await watch.check()
        await watch.check()
        assert engine.disconnected == []
        redis.run_id = "after-restart"  # empty now: the pages' server-side state is gone
        await watch.check()
        assert engine.disconnected == ["a"]
        assert watch.closed_websockets == 1

    asyncio.run(scenario())


async def _call(gate: WebsocketGate, scope_type: str) -> tuple[list, list]:
    reached, sent = [], []

    async def app(scope, receive, send):
        reached.append(scope["type"])

    async def receive():
        return {"type": "websocket.connect"}

    async def send(message):
        sent.append(message)

    await WebsocketGate(app)({"type": scope_type, "path": "/_event/"}, receive, send)
    return reached, sent


def test_the_gate_refuses_websockets_only_while_redis_is_away(monkeypatch):
    watch, _, _ = _watch()
    monkeypatch.setattr(redis_watch, "WATCH", watch)
    gate = WebsocketGate(None)
    assert asyncio.run(_call(gate, "websocket")) == (["websocket"], [])

    watch.failed_checks = watch.failed_checks_before_closing
    reached, sent = asyncio.run(_call(gate, "websocket"))
    assert reached == [] and sent[0]["type"] == "websocket.close"
    assert asyncio.run(_call(gate, "http")) == (["http"], [])

    monkeypatch.setattr(redis_watch, "WATCH", None)  # no Redis configured: nothing to guard
    assert asyncio.run(_call(gate, "websocket")) == (["websocket"], [])


def test_granian_replaces_a_worker_that_dies_instead_of_stopping_the_server():
    granian = pytest.importorskip("granian.server")
    from work_dispatch.workers import respawn_failed_workers

    assert respawn_failed_workers() and respawn_failed_workers()  # idempotent: wrapped once
    server = granian.Server(target="work_dispatch.work_dispatch:app")
    assert server.respawn_failed_workers is True
    assert granian.Server(target="x:app", respawn_failed_workers=False).respawn_failed_workers is False
