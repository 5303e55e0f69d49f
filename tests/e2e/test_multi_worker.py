"""Two backend workers on one PostgreSQL and Redis: one dispatches, pushes cross workers, failover."""

import time

import pytest
from sqlmodel import Session

from tests.conftest import actor_for
from tests.e2e.conftest import TABLET, login, project_copy, screenshot, serve_app
from tests.e2e.seed import approved_order, engine_for, one_person_department, redis_bus_for, tasks_of
from work_dispatch.services import drafts

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _publish(url, redis_url, order_id):
    with redis_bus_for(url, redis_url):
        engine = engine_for(url)
        with Session(engine, expire_on_commit=False) as db:
            drafts.publish_drafts(db, actor_for(db, "super1"), work_order_id=order_id)
        engine.dispose()


def _wait(check, timeout, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(message)


def test_two_workers_one_dispatcher_cross_worker_push_and_failover(pg_url, redis_url, browser, tmp_path):
    url = pg_url
    env = {"REFLEX_REDIS_URL": redis_url, "GRANIAN_WORKERS": "1", "WD_DISPATCH_INTERVAL_S": "1"}
    first = serve_app(tmp_path, url, env)
    second = None
    try:
        _wait(lambda: first.health()["worker"]["dispatcher"], 15, "the first worker never became dispatcher")
        second = serve_app(tmp_path, url, env, root=project_copy(tmp_path), load_demo=False)
        time.sleep(2)
        leaders = [app.health()["worker"]["dispatcher"] for app in (first, second)]
        assert leaders == [True, False], leaders

        ids = one_person_department(url, "MW")
        tablet = browser.new_context(viewport=TABLET).new_page()
        login(tablet, second.base_url, ids["username"])
        tablet.wait_for_selector("#my-tasks-empty")
        order_id, _ = approved_order(url, [ids["process"]])
        _publish(url, redis_url, order_id)
        task = tasks_of(url, order_id)[0]
        tablet.wait_for_selector(f'.my-task[data-task-id="{task.id}"]', timeout=15_000)
        assert tasks_of(url, order_id)[0].status == "assigned"
        screenshot(tablet, "multi-worker-operator-tablet")

        first.kill()
        started = time.monotonic()
        _wait(lambda: second.health()["worker"]["dispatcher"], 20, "the second worker never took over")
        takeover_s = time.monotonic() - started
        late_id, _ = approved_order(url, [ids["process"]])
        _publish(url, redis_url, late_id)
        late = tasks_of(url, late_id)[0]
        tablet.wait_for_selector(f'.my-task[data-task-id="{late.id}"]', timeout=15_000)
        print(f"\nfailover: second worker dispatching {takeover_s:.1f} s after the first was killed")
        assert takeover_s <= 15
    finally:
        first.stop()
        if second is not None:
            second.stop()
