"""Coalescing and audience matching of the realtime layer."""

import ast
import asyncio
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from work_dispatch.realtime.bus import PERSON_CHANGED, BusEvent, InProcessBus
from work_dispatch.realtime.coalescer import Coalescer, merge_events
from work_dispatch.realtime.fanout import LiveFanout, register_pusher
from work_dispatch.realtime.registry import (
    BOARD_VIEW,
    DASHBOARD_VIEW,
    OPERATOR_VIEW,
    VIEWS,
    SessionRegistry,
    Watcher,
)

PACKAGE = Path(__file__).resolve().parents[2] / "work_dispatch"


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


def test_a_flush_hands_each_view_its_connected_sessions_shop_floor_first():
    registry = _registry()
    calls = []

    def pusher(view):
        async def push(fanout, watchers, event):
            calls.append((view, sorted(w.token for w in watchers), event.kind))

        return push

    connected = {"op1", "op2", "dash", "board-all", "board-20"}
    app = SimpleNamespace(event_namespace=SimpleNamespace(token_to_sid={t: "sid" for t in connected}))
    pushers = {view: pusher(view) for view in reversed(VIEWS)}
    fanout = LiveFanout(app, registry=registry, pushers=pushers)
    event = BusEvent("tasks_dispatched", task_ids=(5,), operator_ids=(1,), department_ids=(10,))
    asyncio.run(fanout.flush(event))
    assert calls == [
        (OPERATOR_VIEW, ["op1"], "tasks_dispatched"),
        (BOARD_VIEW, ["board-all"], "tasks_dispatched"),
        (DASHBOARD_VIEW, ["dash"], "tasks_dispatched"),
    ]
    # The second tablet of operator 1 has no socket any more: it was forgotten, not pushed to.
    assert "op1-tablet2" not in _tokens(registry, event) and len(registry) == 5


def test_a_view_without_a_pusher_is_skipped_and_unknown_views_are_refused():
    registry = _registry()
    fanout = LiveFanout(SimpleNamespace(event_namespace=None), registry=registry, pushers={})
    asyncio.run(fanout.flush(BusEvent("x", operator_ids=(1,))))
    assert len(registry) == 6
    with pytest.raises(ValueError, match="Unknown view"):
        register_pusher("kanban", fanout.flush)


def test_the_state_modules_register_a_pusher_for_every_view():
    code = (
        "import work_dispatch.work_dispatch\n"
        "from work_dispatch.realtime.fanout import PUSHERS\n"
        "from work_dispatch.realtime.registry import VIEWS\n"
        "assert set(PUSHERS) == set(VIEWS), sorted(PUSHERS)\n"
        "print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PACKAGE.parent, capture_output=True, text=True, timeout=300
    )
    assert result.stdout.strip().endswith("ok"), result.stderr[-2000:]


def test_realtime_lifespan_and_health_load_without_any_state_module():
    code = (
        "import sys\n"
        "import work_dispatch.realtime.bus, work_dispatch.realtime.coalescer\n"
        "import work_dispatch.realtime.registry, work_dispatch.realtime.fanout\n"
        "import work_dispatch.lifespan, work_dispatch.health\n"
        "print(sorted(m for m in sys.modules if m.startswith('work_dispatch.states')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PACKAGE.parent, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return names


@pytest.mark.parametrize(
    "path",
    [*sorted((PACKAGE / "realtime").glob("*.py")), PACKAGE / "lifespan.py", PACKAGE / "health.py"],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_no_state_module_is_imported_even_lazily(path):
    imported = _imported_modules(path)
    assert not {name for name in imported if name.startswith("work_dispatch.states")}
