"""The work-order list kept live by the fan-out: ETA and at-risk pushed in place, only when they change.

The real pusher, narrower and wiper of ``states/work_orders.py`` run in a fan-out with a fake Reflex
app (real state trees, no sockets), on SQLite and PostgreSQL.
"""

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sqlmodel import select, update

import work_dispatch.work_dispatch  # noqa: F401  (the state modules register the pushers)
from tests.conftest import actor_for
from tests.live_fakes import FakeApp
from work_dispatch import db as db_module
from work_dispatch.domain.errors import PermissionDeniedError, ValidationError
from work_dispatch.models import Task, User, UserSession, utc_now
from work_dispatch.realtime.bus import BusEvent
from work_dispatch.realtime.fanout import LiveFanout
from work_dispatch.realtime.registry import ROWS_PART, WORK_ORDERS_VIEW, SessionRegistry, Watcher
from work_dispatch.services import auth, drafts, eta, work_orders
from work_dispatch.states.session import SessionState
from work_dispatch.states.work_orders import PAGE_SIZE, WorkOrdersState

NOW = datetime(2030, 1, 14, 8, tzinfo=UTC)


@pytest.fixture
def live(engine, shop, monkeypatch) -> LiveFanout:
    """A fan-out with the real pushers, reading the test database, pushing into a fake app."""
    monkeypatch.setattr(db_module, "get_engine", lambda: engine)
    return LiveFanout(FakeApp(), registry=SessionRegistry(), sweep_interval_s=0)


def _query(at_risk: bool = False) -> dict:
    return {"filters": {}, "at_risk": at_risk, "cursor": "", "page_size": PAGE_SIZE}


def _open(live: LiveFanout, db, username: str, at_risk: bool = False) -> str:
    """A work-order list of ``username``, loaded and registered as the page does; its client token."""
    user = db.exec(select(User).where(User.username == username)).one()
    token = secrets.token_urlsafe(32)
    db.add(
        UserSession(
            token_hash=auth.hash_token(token),
            user_id=user.id,
            created_at=utc_now(),
            expires_at=utc_now() + timedelta(hours=8),
        )
    )
    db.commit()
    actor = actor_for(db, username)
    page = work_orders.list_work_orders(db, actor, at_risk=at_risk, page_size=PAGE_SIZE)
    client = f"work-orders-{username}-{uuid4().hex[:6]}"
    live.registry.register(
        Watcher(
            client,
            WORK_ORDERS_VIEW,
            user.id,
            session_hash=auth.hash_token(token),
            params={**_query(at_risk), "shown": [row.id for row in page.rows]},
        ),
        shown={ROWS_PART: page},
    )
    live.app.sockets.add(client)
    session = live.app.state(client, SessionState)
    session.session_token = token
    session._remember(actor)
    state = live.app.state(client, WorkOrdersState)
    state.rows, state.at_risk_only, state.loaded = page.rows, at_risk, True
    return client


def _published(db, make_order, supervisor, quantity: int):
    order = make_order("POSTER", quantity=quantity)
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    return order


def _due(db, order_id: int, due: datetime) -> list[int]:
    """Move the order's due time and recompute the ETAs; the work orders the ETA job would announce."""
    db.exec(update(Task).where(Task.work_order_id == order_id).values(due_at=due))
    db.commit()
    changed = eta.refresh(db, now=NOW).work_orders
    db.expire_all()  # the refresh writes in bulk, past this session's objects
    return changed


def test_an_eta_change_reaches_the_lists_showing_the_order_and_nobody_else(live, db, make_order, supervisor):
    order = _published(db, make_order, supervisor, quantity=50_000)
    _due(db, order.id, NOW + timedelta(days=365))
    listing = _open(live, db, "super1")
    filtered = _open(live, db, "super2", at_risk=True)
    assert live.app.state(filtered, WorkOrdersState).rows == []

    changed = _due(db, order.id, NOW + timedelta(hours=2))
    assert changed == [order.id]
    asyncio.run(live.flush(BusEvent("eta_changed", work_order_ids=tuple(changed))))

    (row,) = [r for r in live.app.state(listing, WorkOrdersState).rows if r.id == order.id]
    assert row.at_risk and row.eta
    assert [r.id for r in live.app.state(filtered, WorkOrdersState).rows] == [order.id]
    assert live.app.state(listing, WorkOrdersState).updates == 1

    # The same event again: nothing moved, nothing pushed.
    pushes = len(live.app.pushes)
    asyncio.run(live.flush(BusEvent("eta_changed", work_order_ids=(order.id,))))
    assert len(live.app.pushes) == pushes and live.skipped >= 2


def test_an_event_about_orders_a_plain_list_does_not_show_reads_nothing_for_it(
    live, db, make_order, supervisor
):
    shown = _published(db, make_order, supervisor, quantity=100)
    listing = _open(live, db, "super1")
    live.app.state(listing, WorkOrdersState).rows = [
        r for r in live.app.state(listing, WorkOrdersState).rows if r.id == shown.id
    ]
    live.registry.get(listing).params["shown"] = [shown.id]
    filtered = _open(live, db, "super2", at_risk=True)

    async def flush_and_count() -> list[str]:
        narrowed = []
        narrow = live.narrowers[WORK_ORDERS_VIEW]

        async def spy(fanout, watchers, event):
            kept = await narrow(fanout, watchers, event)
            narrowed.extend(w.token for w in kept)
            return kept

        live.narrowers = {**live.narrowers, WORK_ORDERS_VIEW: spy}
        await live.flush(BusEvent("eta_changed", work_order_ids=(shown.id + 1000,)))
        return narrowed

    assert asyncio.run(flush_and_count()) == [filtered], "only the at-risk list may gain or lose rows"
    # No work order named: no work-order list is concerned at all.
    assert not [
        w
        for w in live.registry.audience(BusEvent("tasks_dispatched", task_ids=(1,)))
        if w.view == WORK_ORDERS_VIEW
    ]


def test_a_demoted_supervisors_list_is_wiped_and_the_others_still_pushed(live, db, make_order, supervisor):
    order = _published(db, make_order, supervisor, quantity=50_000)
    _due(db, order.id, NOW + timedelta(days=365))
    gone, kept = _open(live, db, "super1"), _open(live, db, "super2")
    demoted = db.exec(select(User).where(User.username == "super1")).one()
    demoted.role = "operator"
    db.add(demoted)
    db.commit()

    changed = _due(db, order.id, NOW + timedelta(hours=2))
    asyncio.run(live.flush(BusEvent("eta_changed", work_order_ids=tuple(changed))))

    assert live.registry.get(gone) is None
    assert (
        live.app.state(gone, WorkOrdersState).rows == [] and not live.app.state(gone, WorkOrdersState).loaded
    )
    assert live.app.state(gone, SessionState).role == ""
    assert any(r.at_risk for r in live.app.state(kept, WorkOrdersState).rows)


def test_live_pages_read_each_query_once_and_refuse_operators(db, make_order, supervisor, shop):
    _published(db, make_order, supervisor, quantity=100)
    operator = actor_for(db, "print1")
    other = actor_for(db, "super2")
    pages = work_orders.live_pages(
        db, [(supervisor, _query()), (other, _query()), (operator, _query()), (supervisor, "junk")]
    )
    assert pages[0] is pages[1], "the same page in the same locale is read once"
    assert pages[2] is None
    assert pages[3] is not None and pages[3].rows == pages[0].rows
    assert work_orders.at_risk_filter(db, supervisor, True) is True
    for junk in ("true", 1, None, [True] * 1000):
        with pytest.raises(ValidationError):
            work_orders.at_risk_filter(db, supervisor, junk)
    with pytest.raises(PermissionDeniedError):
        work_orders.at_risk_filter(db, operator, True)
