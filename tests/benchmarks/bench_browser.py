"""Browser figures: commit of an assignment → task in the operator's DOM, and first board rows.

The app is served for real (``reflex run --env prod``) on PostgreSQL with Redis and two workers;
this process commits assignments through the services, whose events reach the server over Redis.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from sqlalchemy import text, update
from sqlmodel import Session, select

from tests.benchmarks.bench_dispatch import copy_tasks
from tests.benchmarks.common import Results, median, percentile, pg_database, scaled
from tests.conftest import REDIS_TEST_URL, actor_for
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, TABLET, login, serve_app
from tests.e2e.seed import approved_order, one_person_department, redis_bus_for
from work_dispatch.db import make_engine
from work_dispatch.models import Task
from work_dispatch.settings import PROJECT_ROOT

WATCH_FOR_CARD = """(selector) => {
    window.__seenAt = null;
    const check = () => {
        if (document.querySelector(selector)) { window.__seenAt = Date.now(); observer.disconnect(); }
    };
    const observer = new MutationObserver(check);
    observer.observe(document.body, {childList: true, subtree: true});
    check();
}"""
"""Records the wall-clock moment a card enters the DOM (no polling delay in the measurement)."""


def run(results: Results, tmp) -> None:
    """Serve the app on PostgreSQL + Redis and measure in Chromium."""
    from playwright.sync_api import sync_playwright

    rounds = scaled(50, 15)
    board_tasks = scaled(100_000, 20_000)
    with pg_database("wd_bench_browser") as url:
        env = {**os.environ, "WD_DATABASE_URL": url}
        subprocess.run(
            [sys.executable, "-m", "work_dispatch", "demo"],
            cwd=PROJECT_ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        copy_tasks(url, board_tasks, "queued", department_of=lambda i: 1 + i % 6)
        ids = one_person_department(url, "BR")
        engine = make_engine(url)
        with engine.begin() as connection:
            # Every round publishes one more task straight to this operator: give them room for all
            # of them (publishing past the WIP limit sends a draft to dispatch instead).
            connection.execute(
                text('UPDATE "user" SET wip_limit = :limit WHERE id = :id'),
                {"limit": rounds + 5, "id": ids["operator"]},
            )
        engine.dispose()
        order_id, _ = approved_order(url, [ids["process"]], quantity=rounds)
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM task WHERE work_order_id = :wo"), {"wo": order_id})
        from work_dispatch.services import drafts, generation
        from work_dispatch.services.auth import active_actors

        with Session(engine, expire_on_commit=False) as db:
            supervisor = actor_for(db, "super1")
            from work_dispatch.models import WorkOrderProcess

            db.execute(
                update(WorkOrderProcess)
                .where(WorkOrderProcess.work_order_id == order_id)
                .values(batch_size=1)
            )
            db.commit()
            generation.generate_for_work_orders(db, supervisor, [order_id])
            db.execute(
                update(Task)
                .where(Task.work_order_id == order_id)
                .values(assigned_operator_id=ids["operator"], assigned_department_id=ids["department"])
            )
            db.commit()
            draft_ids = list(db.exec(select(Task.id).where(Task.work_order_id == order_id).order_by(Task.id)))
            assert active_actors(db, [ids["operator"]])
        app = serve_app(
            tmp,
            url,
            {"REFLEX_REDIS_URL": REDIS_TEST_URL, "GRANIAN_WORKERS": "2", "WD_DISPATCH_INTERVAL_S": "60"},
        )
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
                tablet = browser.new_context(viewport=TABLET).new_page()
                login(tablet, app.base_url, ids["username"])
                tablet.wait_for_selector("#my-tasks-empty")
                time.sleep(1.0)
                latencies = []
                with redis_bus_for(url, REDIS_TEST_URL), Session(engine, expire_on_commit=False) as db:
                    for task_id in draft_ids[:rounds]:
                        time.sleep(0.3)
                        tablet.evaluate(WATCH_FOR_CARD, f'.my-task[data-task-id="{task_id}"]')
                        report = drafts.publish_drafts(db, supervisor, [task_id])
                        committed_ms = time.time() * 1000
                        assert report.published == [task_id]
                        seen_ms = tablet.wait_for_function("() => window.__seenAt").json_value()
                        latencies.append(seen_ms - committed_ms)
                desk = browser.new_context(viewport=DESKTOP).new_page()
                login(desk, app.base_url, "super1")
                desk.wait_for_url("**/supervisor")
                first_rows = []
                for _ in range(scaled(5, 3)):
                    started = time.perf_counter()
                    desk.goto(f"{app.base_url}/supervisor/board")
                    desk.wait_for_selector(".board-row")
                    first_rows.append((time.perf_counter() - started) * 1000)
                browser.close()
        finally:
            app.stop()
            engine.dispose()
        results.add(
            "push.browser.p50_ms",
            median(latencies),
            "ms",
            f"commit → task in the tablet's DOM over {len(latencies)} assignments "
            "(PostgreSQL, Redis bus, 2 workers; one assignment every ~0.3 s; DOM time from a MutationObserver)",
        )
        results.add("push.browser.p95_ms", percentile(latencies, 95), "ms", "", "≤ 50 ms")
        results.add(
            "board.first_rows_ms",
            median(first_rows),
            "ms",
            f"navigation → first board rows in Chromium with {board_tasks:,} tasks",
            "≤ 1,000 ms",
        )
