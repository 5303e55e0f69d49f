"""Live pushes below the browser: every recipient's session re-checked, failures isolated, only changes sent.

The fan-out runs with the real pushers of the state modules and a fake Reflex app (real state
trees, no sockets) on SQLite and PostgreSQL; plus what the pushers read, and the rules page's switch.
"""

import asyncio
import dataclasses
import secrets
from datetime import timedelta
from types import SimpleNamespace
from uuid import uuid4

import pytest
from sqlalchemy import event, update
from sqlmodel import select

import work_dispatch.work_dispatch  # noqa: F401  (the state modules register the pushers)
from tests.conftest import actor_for
from tests.live_fakes import FakeApp
from work_dispatch import db as db_module
from work_dispatch.domain.errors import PermissionDeniedError
from work_dispatch.models import Task, User, UserDepartment, UserSession, utc_now
from work_dispatch.realtime.bus import BusEvent
from work_dispatch.realtime.fanout import LiveFanout
from work_dispatch.realtime.registry import (
    BOARD_VIEW,
    DASHBOARD_VIEW,
    OPERATOR_VIEW,
    SessionRegistry,
    Watcher,
)
from work_dispatch.services import auth, dispatch, drafts, live_auth, live_views, rules, task_center
from work_dispatch.states.board import BoardCountsState, BoardState
from work_dispatch.states.dashboard import DashboardState
from work_dispatch.states.session import SessionState
from work_dispatch.states.task_center import TaskCenterState

PAGE = {OPERATOR_VIEW: TaskCenterState, BOARD_VIEW: BoardState, DASHBOARD_VIEW: DashboardState}
FIRST_PAGE = {"filters": {"kind": "formal", "sort": "newest"}, "cursor": "", "page_size": 50}


@pytest.fixture
def live(engine, shop, monkeypatch) -> LiveFanout:
    """A fan-out with the real pushers, reading the test database, pushing into a fake app."""
    monkeypatch.setattr(db_module, "get_engine", lambda: engine)
    return LiveFanout(FakeApp(), registry=SessionRegistry(), sweep_interval_s=0)


def _user(db, username: str) -> User:
    return db.exec(select(User).where(User.username == username)).one()


def _login(db, username: str) -> str:
    """A fresh, valid session of the user (as ``auth.login`` stores it); its raw token."""
    token = secrets.token_urlsafe(32)
    now = utc_now()
    db.add(
        UserSession(
            token_hash=auth.hash_token(token),
            user_id=_user(db, username).id,
            created_at=now,
            expires_at=now + timedelta(hours=8),
        )
    )
    db.commit()
    return token


def _open(live: LiveFanout, db, username: str, view: str) -> str:
    """A browser of ``username`` showing ``view``, loaded and registered as its page does; its token."""
    user = _user(db, username)
    token = _login(db, username)
    client = f"{view}-{username}-{uuid4().hex[:6]}"
    departments = frozenset(
        db.exec(select(UserDepartment.department_id).where(UserDepartment.user_id == user.id)).all()
    )
    shown = {}
    if view == OPERATOR_VIEW:
        shown["lists"] = task_center.overviews_for(db, [(user.id, "en")])[(user.id, "en")]
    live.registry.register(
        Watcher(client, view, user.id, departments, session_hash=auth.hash_token(token)), shown=shown
    )
    live.app.sockets.add(client)
    session = live.app.state(client, SessionState)
    session.session_token = token
    session._remember(actor_for(db, username))
    live.app.state(client, PAGE[view]).loaded = True
    return client


def _end(db, username: str, how: str) -> None:
    """End what lets the user's open page receive pushes, without anything being published."""
    user = _user(db, username)
    if how == "ended":
        auth.revoke_user_sessions(db, user.id)
    elif how == "expired":
        db.execute(
            update(UserSession)
            .where(UserSession.user_id == user.id)
            .values(expires_at=utc_now() - timedelta(minutes=1))
        )
    elif how == "deactivated":
        user.is_active = False
    else:
        user.role = "supervisor" if user.role == "operator" else "operator"
    db.add(user)
    db.commit()


def _dispatched_task(db, make_order, supervisor) -> Task:
    order = make_order("POSTER")
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    dispatch.run_cycle(db, seed=2)
    return db.exec(select(Task).where(Task.work_order_id == order.id, Task.is_draft.is_(False))).first()


def _event_for(db, view: str, task: Task) -> BusEvent:
    if view == OPERATOR_VIEW:
        operators = tuple(_user(db, name).id for name in ("print1", "print2"))
        department = db.exec(
            select(UserDepartment.department_id).where(UserDepartment.user_id == operators[0])
        ).one()
        return BusEvent(
            "task_changed", task_ids=(task.id,), operator_ids=operators, department_ids=(department,)
        )
    return BusEvent("task_changed", task_ids=(task.id,), department_ids=(task.assigned_department_id,))


def _wiped(live: LiveFanout, client: str, view: str) -> bool:
    session = live.app.state(client, SessionState)
    return (
        not live.app.state(client, PAGE[view]).loaded
        and session.role == ""
        and session.display_name == ""
        and live.registry.get(client) is None
    )


@pytest.mark.parametrize("view", [OPERATOR_VIEW, BOARD_VIEW, DASHBOARD_VIEW])
@pytest.mark.parametrize("how", ["ended", "expired", "deactivated", "demoted"])
def test_a_session_that_may_not_see_its_page_any_more_is_wiped_and_the_others_still_pushed(
    live, db, make_order, supervisor, view, how
):
    task = _dispatched_task(db, make_order, supervisor)
    leaving, staying = ("print1", "print2") if view == OPERATOR_VIEW else ("super1", "super2")
    gone = _open(live, db, leaving, view)
    kept = _open(live, db, staying, view)
    _end(db, leaving, how)

    asyncio.run(live.flush(_event_for(db, view, task)))

    assert _wiped(live, gone, view)
    assert live.app.pushed_to(gone) == [PAGE[view].__name__], "the wipe only, never fresh data"
    assert live.app.pushed_to(kept) and live.app.state(kept, PAGE[view]).loaded
    assert live.registry.get(kept) is not None
    asyncio.run(live.flush(_event_for(db, view, task)))
    assert live.app.pushed_to(gone) == [PAGE[view].__name__], "nothing more after the wipe"


def test_a_push_that_fails_for_one_supervisor_still_reaches_every_other_board_and_dashboard(
    live, db, make_order, supervisor
):
    task = _dispatched_task(db, make_order, supervisor)
    pages = [
        _open(live, db, name, view) for view in (BOARD_VIEW, DASHBOARD_VIEW) for name in ("super1", "super2")
    ]
    live.app.break_first = True

    asyncio.run(live.flush(BusEvent("task_changed", task_ids=(task.id,))))

    reached = [client for client in pages if live.app.pushed_to(client)]
    assert len(reached) == 3 and live.failures == 1
    for client in reached:
        if client.startswith(BOARD_VIEW):
            assert live.app.state(client, BoardCountsState).by_status
            assert task.id in [row.id for row in live.app.state(client, BoardState).rows]
        else:
            assert live.app.state(client, DashboardState).task_counts


def test_only_the_tablets_whose_lists_change_are_pushed(live, db, make_order, supervisor):
    order = make_order("POSTER")
    print_department = db.exec(
        select(UserDepartment.department_id).where(UserDepartment.user_id == _user(db, "print1").id)
    ).one()
    tablets = {name: _open(live, db, name, OPERATOR_VIEW) for name in ("print1", "print2", "print3")}
    print1 = _user(db, "print1").id
    pool_event = BusEvent("tasks_dispatched", department_ids=(print_department,))

    asyncio.run(live.flush(pool_event))
    assert live.app.pushes == [], "nothing changed since the pages loaded"

    mine, pooled = db.exec(
        select(Task).where(Task.work_order_id == order.id).order_by(Task.id).limit(2)
    ).all()
    db.execute(
        update(Task)
        .where(Task.id == mine.id)
        .values(
            is_draft=False,
            status="assigned",
            assigned_operator_id=print1,
            assigned_department_id=print_department,
        )
    )
    db.commit()
    asyncio.run(
        live.flush(
            BusEvent(
                "tasks_published",
                task_ids=(mine.id,),
                operator_ids=(print1,),
                department_ids=(print_department,),
            )
        )
    )
    assert [token for token, _ in live.app.pushes] == [tablets["print1"]]
    assert mine.id in [card.id for card in live.app.state(tablets["print1"], TaskCenterState).my_tasks]

    db.execute(
        update(Task)
        .where(Task.id == pooled.id)
        .values(is_draft=False, status="queued", assigned_department_id=print_department)
    )
    db.commit()
    live.app.pushes.clear()
    asyncio.run(live.flush(pool_event))
    assert sorted(token for token, _ in live.app.pushes) == sorted(tablets.values())
    assert all(
        pooled.id in [card.id for card in live.app.state(client, TaskCenterState).pool]
        for client in tablets.values()
    )


def test_sessions_are_checked_with_two_queries_whatever_their_number(engine, db, shop):
    good = [(name, _login(db, name)) for name in ("print1", "print2", "print3", "super1")]
    revoked = _login(db, "ctp1")
    auth.logout(db, revoked)
    sessions = [
        SimpleNamespace(
            token=name,
            view=BOARD_VIEW if name == "super1" else OPERATOR_VIEW,
            user_id=_user(db, name).id,
            session_hash=auth.hash_token(token),
        )
        for name, token in good
    ]
    sessions += [
        SimpleNamespace(
            token="revoked",
            view=OPERATOR_VIEW,
            user_id=_user(db, "ctp1").id,
            session_hash=auth.hash_token(revoked),
        ),
        SimpleNamespace(
            token="borrowed",
            view=OPERATOR_VIEW,
            user_id=_user(db, "ctp1").id,
            session_hash=sessions[0].session_hash,
        ),
        SimpleNamespace(
            token="wrong view",
            view=DASHBOARD_VIEW,
            user_id=_user(db, "print1").id,
            session_hash=sessions[0].session_hash,
        ),
        SimpleNamespace(token="no hash", view=OPERATOR_VIEW, user_id=_user(db, "print1").id, session_hash=""),
        SimpleNamespace(token="junk", view=OPERATOR_VIEW, user_id=1, session_hash="x' OR 1=1 --" * 6),
    ]
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        verdicts = live_auth.check_sessions(db, sessions)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) == 2
    assert {token for token, actor in verdicts.items() if actor} == {"print1", "print2", "print3", "super1"}
    assert verdicts["super1"].is_supervisor and verdicts["print1"].department_ids
    expired_later = live_auth.check_sessions(db, sessions[:1], clock=lambda: utc_now() + timedelta(days=2))
    assert expired_later == {"print1": None}


def test_board_refresh_reads_each_board_as_its_own_owner_and_a_refusal_stays_with_it(
    db, make_order, supervisor
):
    task = _dispatched_task(db, make_order, supervisor)
    admin = actor_for(db, "admin")

    def reader(token, actor, visible=(), **params):
        watch = SimpleNamespace(visible_task_ids=frozenset(visible), params={**FIRST_PAGE, **params})
        return SimpleNamespace(token=token, actor=actor, watcher=watch)

    readers = [
        reader("first", supervisor),
        reader("paged", admin, visible=[task.id], cursor="opaque"),
        reader("elsewhere", supervisor, visible=[task.id + 10_000], cursor="opaque"),
        reader("bad filters", supervisor, filters={"status": "nonsense"}),
        reader("demoted", actor_for(db, "print1")),
    ]
    refresh = live_views.board_refresh(db, readers, [task.id])
    assert task.id in [row.id for row in refresh.pages["first"].rows]
    assert set(refresh.rows["paged"]) == {task.id} and refresh.rows["elsewhere"] == {}
    assert refresh.failed == {"bad filters", "demoted"}
    assert set(refresh.counts) == {"first", "paged", "elsewhere"}
    assert {c.key for c in refresh.counts["first"].by_status} >= {"draft", "queued", "assigned"}


def test_dashboard_figures_are_read_once_per_locale(db, supervisor):
    chinese = dataclasses.replace(actor_for(db, "super2"), locale="zh-CN")
    summaries = live_views.dashboard_summaries(db, [supervisor, supervisor, chinese])
    assert set(summaries) == {"en", "zh-CN"}
    assert live_views.dashboard_summaries(db, [actor_for(db, "print1")]) == {}


def test_a_pool_fingerprint_changes_with_the_pool_only(db, make_order):
    order = make_order("POSTER")
    pooled, mine = db.exec(
        select(Task).where(Task.work_order_id == order.id).order_by(Task.id).limit(2)
    ).all()
    department = db.exec(select(UserDepartment.department_id)).first()

    def move(task, **values):
        db.execute(update(Task).where(Task.id == task.id).values(is_draft=False, **values))
        db.commit()
        return live_views.pool_fingerprints(db, [department])[department]

    empty = live_views.pool_fingerprints(db, [department])[department]
    queued = move(pooled, status="queued", assigned_department_id=department)
    assert queued != empty
    assert move(mine, status="assigned", assigned_department_id=department, assigned_operator_id=1) == queued
    assert move(pooled, version=pooled.version + 5) != queued


def test_auto_dispatch_switch_is_for_supervisors(db, supervisor):
    assert rules.auto_dispatch_switch(db, supervisor) is True
    dispatch.set_auto_dispatch(db, supervisor, False)
    assert rules.auto_dispatch_switch(db, supervisor) is False
    with pytest.raises(PermissionDeniedError):
        rules.auto_dispatch_switch(db, actor_for(db, "print1"))
    with pytest.raises(PermissionDeniedError):
        rules.auto_dispatch_switch(db, None)


def test_a_push_sends_only_the_parts_of_a_tablet_that_changed(live, db, make_order):
    order = make_order("POSTER")
    print1 = _user(db, "print1").id
    department = db.exec(select(UserDepartment.department_id).where(UserDepartment.user_id == print1)).one()
    tablet = _open(live, db, "print1", OPERATOR_VIEW)
    center = live.app.state(tablet, TaskCenterState)
    center._apply(task_center.overviews_for(db, [(print1, "en")])[(print1, "en")])
    live.app.root(tablet)._clean()
    name = TaskCenterState.get_full_name()

    def sent_after(event: BusEvent) -> dict:
        live.app.deltas.clear()
        asyncio.run(live.flush(event))
        assert [token for token, _ in live.app.deltas] == [tablet]
        return {var.removesuffix("_rx_state_"): value for var, value in live.app.deltas[0][1][name].items()}

    mine, pooled = db.exec(
        select(Task).where(Task.work_order_id == order.id).order_by(Task.id).limit(2)
    ).all()
    db.execute(
        update(Task)
        .where(Task.id == mine.id)
        .values(
            is_draft=False, status="assigned", assigned_operator_id=print1, assigned_department_id=department
        )
    )
    db.commit()
    sent = sent_after(BusEvent("tasks_published", task_ids=(mine.id,), operator_ids=(print1,)))
    assert [card.id for card in sent["my_tasks"]] == [mine.id]
    assert not {"pool", "pool_count", "departments", "presence", "unread", "loaded"} & sent.keys(), (
        sent.keys()
    )

    db.execute(
        update(Task)
        .where(Task.id == pooled.id)
        .values(is_draft=False, status="queued", assigned_department_id=department)
    )
    db.commit()
    sent = sent_after(BusEvent("tasks_dispatched", task_ids=(pooled.id,), department_ids=(department,)))
    assert [card.id for card in sent["pool"]] == [pooled.id] and sent["pool_count"] == 1
    assert "my_tasks" not in sent
