"""The Redis bus carries events between processes' listeners."""

import asyncio
import uuid

import pytest

from work_dispatch.realtime.bus import BusEvent, RedisBus


def test_events_published_on_one_bus_reach_another_over_redis(redis_url):
    channel = f"work_dispatch:test:{uuid.uuid4().hex}"
    received = []

    async def scenario():
        sender, receiver = RedisBus(redis_url, channel), RedisBus(redis_url, channel)
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


def test_only_one_of_two_workers_holds_the_dispatcher_lease(redis_url):
    from work_dispatch.scheduler import RedisLease

    key = f"work_dispatch:test-lease:{uuid.uuid4().hex}"

    async def scenario():
        first = RedisLease(redis_url, "worker-a", ttl_s=0.6, key=key)
        second = RedisLease(redis_url, "worker-b", ttl_s=0.6, key=key)
        assert await first.refresh() is True
        assert await second.refresh() is False
        assert await first.refresh() is True
        await asyncio.sleep(0.8)
        assert await second.refresh() is True
        assert await first.refresh() is False
        await second.release()
        third = RedisLease(redis_url, "worker-c", ttl_s=0.6, key=key)
        assert await third.refresh() is True
        await third.release()
        await first.release()

    asyncio.run(scenario())
