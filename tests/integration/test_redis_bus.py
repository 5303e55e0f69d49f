"""The Redis bus carries events between processes' listeners."""

import asyncio

import pytest

from work_dispatch.realtime import bus as bus_module
from work_dispatch.realtime.bus import BusEvent, RedisBus


def test_events_published_on_one_bus_reach_another_over_redis(redis_url, monkeypatch):
    monkeypatch.setattr(bus_module, "CHANNEL", f"work_dispatch:test:{id(object())}")
    received = []

    async def scenario():
        sender, receiver = RedisBus(redis_url), RedisBus(redis_url)
        receiver.subscribe(received.append)
        stop = asyncio.Event()
        listener = asyncio.create_task(receiver.listen(stop))
        await asyncio.sleep(0.3)
        for task_id in range(20):
            await asyncio.to_thread(sender.publish, BusEvent("tasks_published", task_ids=(task_id,)))
        for _ in range(100):
            if len(received) == 20:
                break
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(listener, 5)

    asyncio.run(scenario())
    assert [e.task_ids[0] for e in received] == list(range(20))


def test_publish_without_redis_falls_back_to_this_worker(monkeypatch):
    delivered = []
    bus = RedisBus("redis://127.0.0.1:1/0")
    bus.subscribe(delivered.append)
    bus.publish(BusEvent("x", task_ids=(1,)))
    assert delivered == [BusEvent("x", task_ids=(1,))]


@pytest.mark.parametrize("raw", ['{"kind": "x", "task_ids": ["1", 2]}'])
def test_events_parse_ids_as_integers(raw):
    assert BusEvent.from_json(raw).task_ids == (1, 2)
