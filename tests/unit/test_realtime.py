"""Coalescing and audience matching of the realtime layer."""

import asyncio

from work_dispatch.realtime.bus import PERSON_CHANGED, BusEvent, InProcessBus
from work_dispatch.realtime.coalescer import Coalescer, merge_events
from work_dispatch.realtime.registry import (
    BOARD_VIEW,
    DASHBOARD_VIEW,
    OPERATOR_VIEW,
    SessionRegistry,
    Watcher,
)


def test_merge_unions_ids_in_first_seen_order():
    merged = merge_events(
        [
            BusEvent("a", task_ids=(1, 2), operator_ids=(7,)),
            BusEvent("b", task_ids=(2, 3), department_ids=(4,)),
        ]
    )
    assert merged == BusEvent("b", task_ids=(1, 2, 3), operator_ids=(7,), department_ids=(4,))


def test_a_person_change_survives_merging_with_later_task_changes():
    merged = merge_events(
        [
            BusEvent(PERSON_CHANGED, operator_ids=(7,)),
            BusEvent("task_changed", task_ids=(1,), operator_ids=(8,)),
        ]
    )
    assert merged.kind == PERSON_CHANGED and merged.operator_ids == (7, 8)


def test_a_burst_is_flushed_once_and_later_events_start_a_new_window():
    flushed = []

    async def scenario():
        async def flush(event):
            flushed.append(event)

        coalescer = Coalescer(flush, window_s=0.05)
        for task_id in range(100):
            coalescer.add(BusEvent("x", task_ids=(task_id,)))
        await coalescer.drain()
        coalescer.add(BusEvent("y", task_ids=(500,)))
        await coalescer.drain()
        return coalescer.flushes

    assert asyncio.run(scenario()) == 2
    assert len(flushed[0].task_ids) == 100 and flushed[1].task_ids == (500,)


def test_a_failing_flush_does_not_stop_the_next_window():
    calls = []

    async def scenario():
        async def flush(event):
            calls.append(event.kind)
            if event.kind == "boom":
                raise RuntimeError("db down")

        coalescer = Coalescer(flush, window_s=0.01)
        coalescer.add(BusEvent("boom"))
        await coalescer.drain()
        coalescer.add(BusEvent("ok"))
        await coalescer.drain()

    asyncio.run(scenario())
    assert calls == ["boom", "ok"]


def _registry():
    registry = SessionRegistry()
    registry.register(Watcher("op1", OPERATOR_VIEW, 1, frozenset({10})))
    registry.register(Watcher("op1-tablet2", OPERATOR_VIEW, 1, frozenset({10})))
    registry.register(Watcher("op2", OPERATOR_VIEW, 2, frozenset({20})))
    registry.register(Watcher("dash", DASHBOARD_VIEW, 9))
    registry.register(Watcher("board-all", BOARD_VIEW, 9))
    registry.register(Watcher("board-20", BOARD_VIEW, 9, board_departments=frozenset({20})))
    return registry


def _tokens(registry, event):
    return sorted(w.token for w in registry.audience(event))


def test_audience_of_an_assignment_is_the_operator_and_the_supervisors_who_care():
    registry = _registry()
    event = BusEvent("tasks_dispatched", task_ids=(5,), operator_ids=(1,), department_ids=(10,))
    assert _tokens(registry, event) == ["board-all", "dash", "op1", "op1-tablet2"]


def test_pool_changes_reach_department_members_and_filtered_boards():
    registry = _registry()
    event = BusEvent("tasks_dispatched", task_ids=(6,), department_ids=(20,))
    assert _tokens(registry, event) == ["board-20", "board-all", "dash", "op2"]


def test_a_board_showing_the_task_is_told_even_outside_its_filter():
    registry = _registry()
    registry.update_visible("board-20", frozenset({77}), frozenset({20}))
    event = BusEvent("task_changed", task_ids=(77,), department_ids=(10,))
    assert "board-20" in _tokens(registry, event)


def test_dropped_and_deactivated_sessions_get_nothing():
    registry = _registry()
    registry.drop("op1-tablet2")
    assert registry.drop_user(2) == ["op2"]
    event = BusEvent("x", operator_ids=(1, 2), department_ids=(10, 20))
    assert _tokens(registry, event) == ["board-20", "board-all", "dash", "op1"]
    assert len(registry) == 4


def test_audience_does_not_scan_unrelated_operators():
    registry = SessionRegistry()
    for user_id in range(1, 501):
        registry.register(Watcher(f"t{user_id}", OPERATOR_VIEW, user_id, frozenset({user_id % 7})))
    assert _tokens(registry, BusEvent("x", operator_ids=(42,))) == ["t42"]


def test_in_process_bus_delivers_on_the_subscribers_loop():
    received = []

    async def scenario():
        bus = InProcessBus()
        bus.subscribe(received.append)
        await asyncio.to_thread(bus.publish, BusEvent("from-a-thread", task_ids=(1,)))
        await asyncio.sleep(0.01)

    asyncio.run(scenario())
    assert received == [BusEvent("from-a-thread", task_ids=(1,))]
