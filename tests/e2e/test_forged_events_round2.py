"""Forged websocket events, round 2: route transfer batches, the report dialog and its reasons.

Same mechanism as ``test_forged_events.py``: a real page keeps Reflex's websocket open, Playwright
proxies it, injects raw socket.io frames as a hostile client could, and records what the server
sends back. An operator calls the catalog's route-batch handler and a supervisor the operator's
report handlers, with junk: wrong types, huge strings, negative and huge numbers, other users'
task ids and other processes' reason ids. Nothing in the database may change, no handler may crash
(the server log stays free of tracebacks), every value the server sends back stays small, and the
report dialog never opens on someone else's task.
"""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from tests.e2e.conftest import DESKTOP, TABLET, login
from tests.e2e.seed import engine_for
from tests.e2e.test_forged_events import _snapshot
from work_dispatch.models import DefectReason, Process, Task, User
from work_dispatch.states.catalog import CatalogState
from work_dispatch.states.task_center import TaskCenterState

pytestmark = pytest.mark.e2e

HUGE = "x" * 200_000
"""A string far over every bound, yet under the 1 MB cap of a browser → server message."""
MAX_FRAME = 64_000
"""No answer to a forged event may carry more than this (the pages' own answers are far smaller)."""


def _open_recording(browser, viewport: dict):
    """A page whose websocket is proxied: frames can be injected, and the server's are recorded."""
    page = browser.new_context(viewport=viewport, locale="en-US").new_page()
    holder: dict = {"frames": []}

    def route(ws):
        server = ws.connect_to_server()
        holder["server"] = server
        ws.on_message(server.send)

        def relay(message):
            holder["frames"].append(message)
            ws.send(message)

        server.on_message(relay)

    page.route_web_socket("**/_event/**", route)
    return page, holder


def _forge(page, holder: dict, events: list[tuple[str, dict]], pathname: str) -> None:
    for name, payload in events:
        frame = json.dumps(
            [
                "event",
                {"name": name, "payload": payload, "router_data": {"pathname": pathname, "asPath": pathname}},
            ]
        )
        holder["server"].send(f"42/_event,{frame}")
        time.sleep(0.05)
    page.wait_for_timeout(2000)


def _deltas(frames: list, state: type) -> list[dict]:
    """What the server sent for one state's vars, frame by frame (var names without Reflex's suffix)."""
    name, found = state.get_full_name(), []
    for frame in frames:
        if not isinstance(frame, str) or "[" not in frame:
            continue
        try:
            packet = json.loads(frame[frame.index("[") :])
        except ValueError:
            continue
        if not (isinstance(packet, list) and len(packet) > 1):
            continue
        body = packet[1]
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError:
                continue
        delta = (body.get("delta") or {}) if isinstance(body, dict) else {}
        if name in delta:
            found.append({key.split("_rx_state_")[0]: value for key, value in delta[name].items()})
    return found


def _sent(frames: list, state: type, var: str) -> list:
    return [delta[var] for delta in _deltas(frames, state) if var in delta]


def _settled_snapshot(url: str) -> dict:
    """The database once the served app's one-second dispatch cycle has nothing left to do."""
    before = _snapshot(url)
    for _ in range(20):
        time.sleep(1.5)
        after = _snapshot(url)
        if after == before:
            return after
        before = after
    raise AssertionError("the demo shop never settled")


def _log_size(app) -> int:
    return app.log.stat().st_size


def _log_since(app, offset: int) -> str:
    with app.log.open("rb") as handle:
        handle.seek(offset)
        return handle.read().decode("utf-8", "replace")


def _ids(url: str) -> dict:
    engine = engine_for(url)
    with Session(engine) as db:
        print1 = db.exec(select(User.id).where(User.username == "print1")).one()
        own = db.exec(
            select(Task.id, Task.process_id).where(
                Task.assigned_operator_id == print1, Task.status.in_(("assigned", "in_progress", "paused"))
            )
        ).first()
        other = db.exec(
            select(Task.id).where(Task.assigned_operator_id.is_not(None), Task.assigned_operator_id != print1)
        ).first()
        foreign_reason = db.exec(
            select(DefectReason.id).where(DefectReason.process_id != own.process_id)
        ).first()
        own_reason = db.exec(
            select(DefectReason.id).where(
                DefectReason.process_id == own.process_id,
                DefectReason.kind == "scrap",
                DefectReason.is_active,
            )
        ).first()
        process = db.exec(select(Process.id).where(Process.is_active)).first()
    engine.dispose()
    assert own is not None, "the demo gives print1 no open task"
    return {
        "own": own.id,
        "other": other,
        "foreign_reason": foreign_reason,
        "own_reason": own_reason,
        "process": process,
    }


def _junk_reasons(handler: str, foreign_reason: int) -> list[tuple[str, dict]]:
    return [
        (handler, {"value": HUGE}),
        (handler, {"value": ["1", "2"]}),
        (handler, {"value": {"$ne": ""}}),
        (handler, {"value": None}),
        (handler, {"value": -1}),
        (handler, {"value": "-1"}),
        (handler, {"value": str(foreign_reason)}),
        (handler, {"value": "1 OR 1=1"}),
    ]


def _catalog_junk(process_id: int) -> list[tuple[str, dict]]:
    catalog = CatalogState.get_full_name()
    return [
        (f"{catalog}.add_route_step", {"process_id": str(process_id)}),
        (f"{catalog}.set_route_batch", {"index": 0, "value": HUGE}),
        (f"{catalog}.set_route_batch", {"index": 0, "value": "²³"}),
        (f"{catalog}.set_route_batch", {"index": 0, "value": "-5"}),
        (f"{catalog}.set_route_batch", {"index": 0, "value": ["5"]}),
        (f"{catalog}.set_route_batch", {"index": 0, "value": {"$gt": 0}}),
        (f"{catalog}.set_route_batch", {"index": 0, "value": 12}),
        (f"{catalog}.set_route_batch", {"index": True, "value": "5"}),
        (f"{catalog}.set_route_batch", {"index": -1, "value": "5"}),
        (f"{catalog}.set_route_batch", {"index": 10**9, "value": "5"}),
        (f"{catalog}.set_route_batch", {"index": "0", "value": "5"}),
        (f"{catalog}.set_route_batch", {"index": None, "value": None}),
        (f"{catalog}.set_route_batch", {"index": 0, "value": "9" * 100}),
        (f"{catalog}.save_product", {}),
        (f"{catalog}.edit_product", {"product_id": 1}),
        (f"{catalog}.set_route_batch", {"index": 0, "value": "0"}),
        (f"{catalog}.save_product", {}),
    ]


def _assert_small_and_clean(holder: dict, app, log_offset: int) -> None:
    sizes = [len(f) for f in holder["frames"] if isinstance(f, str | bytes)]
    assert max(sizes, default=0) < MAX_FRAME, f"the server sent a {max(sizes)}-byte frame"
    assert not any(isinstance(f, str) and "x" * 1000 in f for f in holder["frames"])
    log = _log_since(app, log_offset)
    assert "Traceback" not in log, log[-4000:]
    for batches in _sent(holder["frames"], CatalogState, "product_route_batches"):
        assert all(isinstance(b, str) and len(b) <= 12 and (b == "" or b.isdecimal()) for b in batches), (
            batches
        )
    for var in ("scrap_reason", "rework_reason"):
        for value in _sent(holder["frames"], TaskCenterState, var):
            assert isinstance(value, str) and len(value) <= 12, (var, value)


def test_an_operator_forging_batches_and_reports_changes_nothing(served_app, browser):
    url, app = served_app.database_url, served_app
    ids = _ids(url)
    center = TaskCenterState.get_full_name()

    page, holder = _open_recording(browser, TABLET)
    login(page, app.base_url, "print1")
    page.wait_for_selector("#page-title")
    before = _settled_snapshot(url)
    log_offset = _log_size(app)
    holder["frames"].clear()

    events = [
        *_catalog_junk(ids["process"]),
        # Someone else's task, and ids that are no task at all: no dialog, a clear refusal.
        (f"{center}.open_report", {"task_id": ids["other"]}),
        (f"{center}.open_report", {"task_id": -5}),
        (f"{center}.open_report", {"task_id": 0}),
        (f"{center}.open_report", {"task_id": 10**30}),
        (f"{center}.open_report", {"task_id": True}),
        (f"{center}.open_report", {"task_id": "1 OR 1=1"}),
        (f"{center}.open_report", {"task_id": [ids["own"]]}),
        (f"{center}.open_report", {"task_id": None}),
        *_junk_reasons(f"{center}.set_scrap_reason", ids["foreign_reason"]),
        *_junk_reasons(f"{center}.set_rework_reason", ids["foreign_reason"]),
        (f"{center}.submit_report", {"form_data": {"completed": "5", "defective": "1"}}),
    ]
    _forge(page, holder, events, "/operator")

    assert _snapshot(url) == before
    _assert_small_and_clean(holder, app, log_offset)
    assert page.locator("#submit-report").count() == 0, "the report dialog opened on a forged task id"
    opened = _sent(holder["frames"], TaskCenterState, "report_task_id")
    assert ids["other"] not in opened[-1:], opened
    # The refusal is a clear message (a toast), not a crash.
    assert any(isinstance(f, str) and "is not assigned to you" in f for f in holder["frames"])
    assert page.locator("#page-title").is_visible()

    # Control: on one's own task the dialog opens, junk still selects no reason, a real one does.
    _forge(page, holder, [(f"{center}.open_report", {"task_id": ids["own"]})], "/operator")
    page.wait_for_selector("#submit-report")
    _forge(page, holder, _junk_reasons(f"{center}.set_scrap_reason", ids["foreign_reason"]), "/operator")
    assert _sent(holder["frames"], TaskCenterState, "scrap_reason")[-1] == ""
    if ids["own_reason"]:
        _forge(page, holder, [(f"{center}.set_scrap_reason", {"value": str(ids["own_reason"])})], "/operator")
        assert _sent(holder["frames"], TaskCenterState, "scrap_reason")[-1] == str(ids["own_reason"])
    _forge(page, holder, [(f"{center}.close_dialogs", {})], "/operator")
    assert page.locator("#submit-report").count() == 0
    assert _snapshot(url) == before
    _assert_small_and_clean(holder, app, log_offset)


def test_a_supervisor_forging_report_handlers_and_junk_batches_changes_nothing(served_app, browser):
    url, app = served_app.database_url, served_app
    ids = _ids(url)
    center, catalog = TaskCenterState.get_full_name(), CatalogState.get_full_name()

    page, holder = _open_recording(browser, DESKTOP)
    login(page, app.base_url, "super1")
    page.wait_for_url("**/supervisor")
    page.goto(f"{app.base_url}/supervisor/catalog")
    page.wait_for_selector(".product-row")
    before = _settled_snapshot(url)
    log_offset = _log_size(app)
    holder["frames"].clear()

    events = [
        # The operator's report handlers, from a supervisor: not an operator, so no dialog at all.
        (f"{center}.open_report", {"task_id": ids["own"]}),
        (f"{center}.open_report", {"task_id": ids["other"]}),
        *_junk_reasons(f"{center}.set_scrap_reason", ids["foreign_reason"]),
        *_junk_reasons(f"{center}.set_rework_reason", ids["foreign_reason"]),
        (f"{center}.submit_report", {"form_data": {"completed": "1"}}),
        # The right role with junk batches: each save is refused with a message under the route.
        (f"{catalog}.edit_product", {"product_id": 1}),
        (f"{catalog}.set_route_batch", {"index": 0, "value": "9" * 100}),
        (f"{catalog}.save_product", {}),
    ]
    _forge(page, holder, events, "/supervisor/catalog")
    assert _snapshot(url) == before
    _assert_small_and_clean(holder, app, log_offset)
    assert page.locator("#submit-report").count() == 0
    errors = _sent(holder["frames"], CatalogState, "product_errors")
    assert errors and "at most" in errors[-1].get("route", ""), errors

    _forge(
        page,
        holder,
        [
            (f"{catalog}.set_route_batch", {"index": 0, "value": "0"}),
            (f"{catalog}.save_product", {}),
        ],
        "/supervisor/catalog",
    )
    errors = _sent(holder["frames"], CatalogState, "product_errors")
    assert "at least 1" in errors[-1].get("route", ""), errors
    expect(page.get_by_text("Transfer batch must be at least 1").first).to_be_visible()
    assert _snapshot(url) == before
    _assert_small_and_clean(holder, app, log_offset)
