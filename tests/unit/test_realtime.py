"""Coalescing and audience matching of the realtime layer."""

import ast
import asyncio
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.live_fakes import FakeApp
from work_dispatch.realtime.bus import PERSON_CHANGED, RESYNC, BusEvent, InProcessBus
from work_dispatch.realtime.coalescer import Coalescer, merge_events
from work_dispatch.realtime.fanout import LiveFanout, Recipient, register_pusher
from work_dispatch.realtime.registry import (
    BOARD_VIEW,
    DASHBOARD_VIEW,
    OPERATOR_VIEW,
    ROWS_PART,
    VIEWS,
    SessionRegistry,
    Watcher,
)
from work_dispatch.services import runner, task_center
from work_dispatch.services.actor import Actor
from work_dispatch.services.task_center import OperatorOverview
from work_dispatch.states.task_center import TaskCenterState, narrow_operators, push_operators

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


async def _everyone_valid(watchers):
    return {w.token: Actor(w.user_id, f"user{w.user_id}", "Someone", _ROLE[w.view]) for w in watchers}


_ROLE = {OPERATOR_VIEW: "operator", BOARD_VIEW: "supervisor", DASHBOARD_VIEW: "supervisor"}


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
    fanout = LiveFanout(app, registry=registry, pushers=pushers, narrowers={}, check=_everyone_valid)
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
    fanout = LiveFanout(
        SimpleNamespace(event_namespace=None), registry=registry, pushers={}, check=_everyone_valid
    )
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


# -- sessions re-validated on every push, and one failing recipient stops nobody --------------------


def _fanout(registry, app=None, pushers=None, narrowers=None, **options):
    app = app or FakeApp(connected=registry.tokens())
    views = {"pushers": pushers or {}, "narrowers": narrowers or {}}
    return LiveFanout(app, registry=registry, sweep_interval_s=0, **views, **options)


def test_sessions_failing_the_check_are_wiped_and_only_valid_ones_reach_the_pushers():
    registry = _registry()
    registry.register(Watcher("op1", OPERATOR_VIEW, 1, frozenset({10}), locale="zh-CN"))
    received, wiped = {}, []

    async def check(watchers):
        verdicts = await _everyone_valid(watchers)
        return {**verdicts, "op1-tablet2": None, "board-20": None}

    def pusher(view):
        async def push(fanout, recipients, event):
            received[view] = {r.token: r.actor.locale for r in recipients}

        return push

    async def wipe(fanout, watcher):
        wiped.append(watcher.token)
        if watcher.view == BOARD_VIEW:
            raise RuntimeError("the wipe of one session fails")

    wipers = {OPERATOR_VIEW: wipe, BOARD_VIEW: wipe}
    pushers = {view: pusher(view) for view in VIEWS}
    fanout = _fanout(registry, pushers=pushers, wipers=wipers, check=check)
    asyncio.run(fanout.flush(BusEvent("x", operator_ids=(1,), department_ids=(20,))))
    assert sorted(wiped) == ["board-20", "op1-tablet2"]
    assert received == {
        OPERATOR_VIEW: {"op1": "zh-CN", "op2": "en"},
        BOARD_VIEW: {"board-all": "en"},
        DASHBOARD_VIEW: {"dash": "en"},
    }
    assert "op1-tablet2" not in registry.tokens() and "board-20" not in registry.tokens()
    assert fanout.wiped == 2 and fanout.failures == 1


def test_a_pusher_that_fails_outright_does_not_keep_the_other_views_waiting():
    registry = _registry()
    received = []

    async def broken(fanout, recipients, event):
        raise RuntimeError("database unreachable")

    async def fine(fanout, recipients, event):
        received.extend(r.token for r in recipients)

    pushers = {OPERATOR_VIEW: broken, BOARD_VIEW: fine, DASHBOARD_VIEW: fine}
    fanout = _fanout(registry, pushers=pushers, check=_everyone_valid)
    asyncio.run(fanout.flush(BusEvent("x", operator_ids=(1,))))
    assert sorted(received) == ["board-all", "dash"] and fanout.failures == 1


def test_one_failing_push_stops_no_other_and_its_session_is_not_skipped_next_time():
    registry = SessionRegistry()
    for index in range(6):
        registry.register(Watcher(f"t{index}", OPERATOR_VIEW, index))
    app = FakeApp(connected=registry.tokens())
    app.break_first = True
    fanout = _fanout(registry, app)

    async def push(watcher):
        fanout.remember_pushed(watcher.token, "lists", "same data")
        async with fanout.modify(watcher.token, TaskCenterState):
            pass

    watchers = [registry.get(f"t{index}") for index in range(6)]
    failed = asyncio.run(fanout.each(watchers, push))
    assert [w.token for w in failed] == ["t0"] and len(app.pushes) == 5
    assert not fanout.remember_pushed("t0", "lists", "same data")
    assert fanout.remember_pushed("t1", "lists", "same data")


def test_pushes_in_flight_are_bounded():
    registry = SessionRegistry()
    for index in range(40):
        registry.register(Watcher(f"t{index}", OPERATOR_VIEW, index))
    app = FakeApp(connected=registry.tokens(), delay_s=0.002)
    fanout = _fanout(registry, app, max_concurrent_pushes=4)

    async def push(watcher):
        await fanout.push_state(watcher.token, TaskCenterState, lambda state: None)

    assert asyncio.run(fanout.each([registry.get(f"t{i}") for i in range(40)], push)) == []
    assert len(app.pushes) == 40 and app.most_in_flight == 4


def test_the_first_chunk_is_pushed_while_the_next_ones_load():
    registry = SessionRegistry()
    for index in range(120):
        registry.register(Watcher(f"t{index}", OPERATOR_VIEW, index))
    app = FakeApp(connected=registry.tokens())
    fanout = _fanout(registry, app, chunk_size=50)
    log = []

    async def load(chunk):
        log.append(("load", chunk[0].token))
        await asyncio.sleep(0.02)
        log.append(("loaded", chunk[0].token))
        return {r.token: r.user_id for r in chunk}

    async def push(recipient, data):
        assert data[recipient.token] == recipient.user_id
        async with fanout.modify(recipient.token, TaskCenterState):
            log.append(("pushed", recipient.token))

    recipients = [Recipient(registry.get(f"t{i}"), Actor(i, "u", "U", "operator")) for i in range(120)]
    assert asyncio.run(fanout.push_in_chunks(recipients, load, push)) == []
    assert [entry for entry in log if entry[0] == "load"] == [
        ("load", "t0"),
        ("load", "t50"),
        ("load", "t100"),
    ]
    assert log.index(("pushed", "t0")) < log.index(("loaded", "t100"))
    assert len(app.pushes) == 120


def test_a_chunk_that_cannot_be_loaded_fails_alone():
    registry = SessionRegistry()
    for index in range(4):
        registry.register(Watcher(f"t{index}", OPERATOR_VIEW, index))
    fanout = _fanout(registry, chunk_size=2)

    async def load(chunk):
        if chunk[0].token == "t0":
            raise RuntimeError("query failed")
        return None

    async def push(recipient, data):
        async with fanout.modify(recipient.token, TaskCenterState):
            pass

    recipients = [Recipient(registry.get(f"t{i}"), Actor(i, "u", "U", "operator")) for i in range(4)]
    failed = asyncio.run(fanout.push_in_chunks(recipients, load, push))
    assert [r.token for r in failed] == ["t0", "t1"] and [t for t, _ in fanout.app.pushes] == ["t2", "t3"]


# -- pushing only what changes, and forgetting sessions that left ----------------------------------


def test_a_push_equal_to_what_the_session_was_sent_or_loaded_is_recognised():
    registry = SessionRegistry()
    registry.register(Watcher("tablet", OPERATOR_VIEW, 1), shown={"lists": ["card 1"]})
    fanout = _fanout(registry)
    assert fanout.remember_pushed("tablet", "lists", ["card 1"])
    assert not fanout.remember_pushed("tablet", "lists", ["card 1", "card 2"])
    assert fanout.remember_pushed("tablet", "lists", ["card 1", "card 2"])
    assert not fanout.remember_pushed("gone", "lists", ["card 1"])
    registry.register(Watcher("tablet", OPERATOR_VIEW, 1))
    assert not fanout.remember_pushed("tablet", "lists", ["card 1", "card 2"])


def test_a_board_that_loads_its_own_rows_gets_the_next_rows_push_but_counters_stay_known():
    registry = SessionRegistry()
    registry.register(Watcher("board", BOARD_VIEW, 9))
    fanout = _fanout(registry)
    fanout.remember_pushed("board", "counts", [3, 4])
    fanout.remember_pushed("board", ROWS_PART, ["row 1"])
    registry.update_visible("board", frozenset({1}), frozenset())
    assert fanout.remember_pushed("board", "counts", [3, 4])
    assert not fanout.remember_pushed("board", ROWS_PART, ["row 1"])


def test_shared_data_counts_as_changed_when_new_or_different_and_is_forgotten_after_a_failure():
    fanout = _fanout(SessionRegistry())
    assert fanout.changed_shared("pool", {10: b"a", 20: b"b"}) == {10, 20}
    assert fanout.changed_shared("pool", {10: b"a", 20: b"c"}) == {20}
    fanout.forget_shared("pool", {10})
    assert fanout.changed_shared("pool", {10: b"a", 20: b"c"}) == {10}


def test_sessions_whose_socket_has_gone_are_swept_without_waiting_for_a_push():
    registry = _registry()
    app = FakeApp(connected={"op1", "dash"})

    async def scenario():
        fanout = LiveFanout(app, registry=registry, pushers={}, sweep_interval_s=0.01)
        await asyncio.sleep(0.05)
        first = sorted(registry.tokens())
        app.sockets.discard("dash")
        await asyncio.sleep(0.05)
        await fanout.aclose()
        return first, fanout.swept

    first, swept = asyncio.run(scenario())
    assert first == ["dash", "op1"] and registry.tokens() == ["op1"] and swept == 5


def test_only_this_workers_own_sockets_count_as_connected():
    mine, other = "instance-a", "instance-b"
    manager = SimpleNamespace(
        instance_id=mine,
        token_to_socket={
            "here": SimpleNamespace(instance_id=mine, sid="1"),
            "elsewhere": SimpleNamespace(instance_id=other, sid="2"),
        },
    )
    app = SimpleNamespace(event_namespace=SimpleNamespace(_token_manager=manager))
    fanout = LiveFanout(app, registry=SessionRegistry(), sweep_interval_s=0)
    assert fanout.connected_tokens() == {"here"}


def test_a_person_change_reaches_every_session_of_that_user_whatever_it_watches():
    registry = _registry()
    registry.update_visible("board-20", frozenset({77}), frozenset({20}))
    registry.register(Watcher("dash-9b", DASHBOARD_VIEW, 9))
    tokens = _tokens(registry, BusEvent(PERSON_CHANGED, operator_ids=(9,)))
    assert tokens == ["board-20", "board-all", "dash", "dash-9b"]


def test_departments_changed_under_an_open_tablet_move_it_to_the_new_pool():
    registry = _registry()
    registry.update_departments("op1", frozenset({20}))
    assert "op1" in _tokens(registry, BusEvent("x", department_ids=(20,)))
    assert "op1" not in _tokens(registry, BusEvent("x", department_ids=(10,)))


def test_the_tablet_pusher_reads_each_operator_once_per_language_and_pushes_the_named_ones(monkeypatch):
    asked = []

    async def run(service, requests):
        assert service is task_center.overviews_for
        asked.append(sorted(requests))
        return {key: OperatorOverview(departments=[key[1]], department_ids=[3]) for key in requests}

    monkeypatch.setattr(runner, "run", run)
    registry = SessionRegistry()
    for watcher in (
        Watcher("tablet-zh", OPERATOR_VIEW, 7, frozenset({3}), locale="zh-CN"),
        Watcher("desk-en", OPERATOR_VIEW, 7, frozenset({3}), locale="en"),
        Watcher("other-zh", OPERATOR_VIEW, 8, frozenset({3}), locale="zh-CN"),
        Watcher("colleague", OPERATOR_VIEW, 9, frozenset({3})),
    ):
        registry.register(watcher)
    app = FakeApp(connected=registry.tokens())
    fanout = _fanout(
        registry,
        app,
        pushers={OPERATOR_VIEW: push_operators},
        narrowers={OPERATOR_VIEW: narrow_operators},
        check=_everyone_valid,
    )
    asyncio.run(fanout.flush(BusEvent("task_changed", task_ids=(1,), operator_ids=(7, 8))))
    assert asked == [[(7, "en"), (7, "zh-CN"), (8, "zh-CN")]]
    shown = {token: app.state(token, TaskCenterState).departments for token, _ in app.pushes}
    assert shown == {"tablet-zh": ["zh-CN"], "desk-en": ["en"], "other-zh": ["zh-CN"]}


def test_only_sessions_whose_screen_may_change_are_checked_and_a_failing_narrower_keeps_them_all():
    registry = _registry()
    checked, pushed = [], []

    async def check(watchers):
        checked.append(sorted(w.token for w in watchers))
        return await _everyone_valid(watchers)

    async def push(fanout, recipients, event):
        pushed.append(sorted(r.token for r in recipients))

    async def only_op1(fanout, watchers, event):
        if event.kind == "confusing":
            raise RuntimeError("cannot tell")
        return [w for w in watchers if w.token == "op1"]

    views = {"pushers": {OPERATOR_VIEW: push}, "narrowers": {OPERATOR_VIEW: only_op1}}
    fanout = _fanout(registry, check=check, **views)
    asyncio.run(fanout.flush(BusEvent("x", operator_ids=(1,), department_ids=(10,))))
    asyncio.run(fanout.flush(BusEvent("confusing", operator_ids=(1,), department_ids=(10,))))
    assert checked == [["op1"], ["op1", "op1-tablet2"]] and pushed == checked and fanout.failures == 1


def test_a_resync_reaches_every_session_of_the_worker():
    registry = SessionRegistry()
    registry.register(Watcher("op1", OPERATOR_VIEW, 1, frozenset({10})))
    registry.register(Watcher("op2", OPERATOR_VIEW, 2, frozenset({20})))
    registry.register(Watcher("dash", DASHBOARD_VIEW, 9))
    assert {w.token for w in registry.audience(BusEvent(kind="task_changed", operator_ids=(1,)))} == {
        "op1",
        "dash",
    }
    assert {w.token for w in registry.audience(BusEvent(kind=RESYNC))} == {"op1", "op2", "dash"}


def test_the_redis_listener_asks_for_a_resync_after_it_lost_its_connection(redis_url):
    from work_dispatch.realtime.bus import RedisBus

    async def run() -> list[str]:
        bus = RedisBus("redis://127.0.0.1:1/0", channel="wd-test-resync")  # nothing listens there
        seen: list[str] = []
        bus.subscribe(lambda event: seen.append(event.kind))
        stop = asyncio.Event()
        listener = asyncio.create_task(bus.listen(stop))
        await asyncio.sleep(1.5)  # at least one failed attempt
        bus._url = redis_url  # Redis is "back"
        for _ in range(50):
            if seen:
                break
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.wait_for(listener, 5)
        return seen

    assert asyncio.run(run()) == [RESYNC]
