"""What the fan-out's pushers read for open boards and dashboards, and the rules page's switch."""

from types import SimpleNamespace

import pytest
from sqlmodel import select

from tests.conftest import actor_for
from work_dispatch.domain.errors import PermissionDeniedError
from work_dispatch.models import Task, User
from work_dispatch.services import board, dashboard, dispatch, drafts, rules

FIRST_PAGE = {"filters": {"kind": "formal", "sort": "newest"}, "cursor": "", "page_size": 50}


def _session(token, user_id, visible=(), **params):
    return SimpleNamespace(
        token=token, user_id=user_id, visible_task_ids=frozenset(visible), params={**FIRST_PAGE, **params}
    )


def _dispatched_task(db, make_order, supervisor) -> Task:
    order = make_order("POSTER")
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    dispatch.run_cycle(db, seed=2)
    return db.exec(select(Task).where(Task.work_order_id == order.id, Task.is_draft.is_(False))).first()


def test_board_refresh_reloads_first_pages_and_updates_other_pages_in_place(db, make_order, supervisor):
    task = _dispatched_task(db, make_order, supervisor)
    operator = actor_for(db, "print1")
    sessions = [
        _session("first", supervisor.user_id),
        _session("paged", supervisor.user_id, visible=[task.id], cursor="opaque"),
        _session("elsewhere", supervisor.user_id, visible=[task.id + 10_000], cursor="opaque"),
        _session("operator", operator.user_id),
    ]
    refresh = board.live_refresh(db, sessions, [task.id])
    assert set(refresh.actors) == {supervisor.user_id}
    assert task.id in [row.id for row in refresh.pages["first"].rows]
    assert set(refresh.rows["paged"]) == {task.id} and refresh.rows["paged"][task.id].id == task.id
    assert refresh.rows["elsewhere"] == {}
    assert "operator" not in refresh.pages and "operator" not in refresh.rows
    assert {c.key for c in refresh.counts.by_status} >= {"draft", "queued", "assigned"}


def test_board_refresh_ends_boards_of_deactivated_or_demoted_supervisors(db, make_order, supervisor):
    task = _dispatched_task(db, make_order, supervisor)
    user = db.get(User, supervisor.user_id)
    user.role = "operator"
    db.add(user)
    db.commit()
    refresh = board.live_refresh(db, [_session("first", supervisor.user_id)], [task.id])
    assert refresh.actors == {} and refresh.counts is None and refresh.pages == {}


def test_dashboard_summary_is_read_once_for_its_supervisors(db, supervisor):
    operator = actor_for(db, "print1")
    actors, summary = dashboard.live_summary(db, [supervisor.user_id, operator.user_id])
    assert set(actors) == {supervisor.user_id, operator.user_id}
    assert summary == dashboard.summary(db, supervisor)
    only_operator = dashboard.live_summary(db, [operator.user_id])
    assert only_operator[1] is None


def test_auto_dispatch_switch_is_for_supervisors(db, supervisor):
    assert rules.auto_dispatch_switch(db, supervisor) is True
    dispatch.set_auto_dispatch(db, supervisor, False)
    assert rules.auto_dispatch_switch(db, supervisor) is False
    with pytest.raises(PermissionDeniedError):
        rules.auto_dispatch_switch(db, actor_for(db, "print1"))
    with pytest.raises(PermissionDeniedError):
        rules.auto_dispatch_switch(db, None)
