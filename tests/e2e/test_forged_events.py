"""Forged websocket events: an operator and an anonymous client call handlers they must not use.

A real browser page keeps Reflex's websocket open; Playwright proxies it and injects raw socket.io
frames, exactly as a hostile client could. Nothing in the database may change.
"""

import json
import time
import urllib.request

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from tests.e2e.conftest import login
from tests.e2e.seed import engine_for
from work_dispatch.models import Notification, Task, User, WorkOrder
from work_dispatch.states.board import BoardState
from work_dispatch.states.catalog import CatalogState
from work_dispatch.states.connect import ConnectState
from work_dispatch.states.drafts import DraftBoardState
from work_dispatch.states.locale import LocaleState
from work_dispatch.states.login import LoginState
from work_dispatch.states.people import PeopleState, SkillsState, ThrottleState
from work_dispatch.states.rules import RulesState
from work_dispatch.states.task_center import TaskCenterState
from work_dispatch.states.work_orders import WorkOrderFormState, WorkOrdersState

pytestmark = pytest.mark.e2e

SNAPSHOT_SQL = {
    "task": "SELECT id, status, is_draft, assigned_operator_id, assigned_department_id, production_quantity, "
    "quantity_completed, quantity_defective, version FROM task ORDER BY id",
    "rules": "SELECT id, process_id, department_id, priority, strategy, is_active, min_level "
    "FROM assignment_rule ORDER BY id",
    "settings": "SELECT key, value FROM app_setting ORDER BY key",
    "work_orders": "SELECT id, status, quantity, version FROM work_order ORDER BY id",
    "events": "SELECT count(*) FROM task_event",
    "notifications": "SELECT id, is_read FROM notification ORDER BY id",
    "processes": "SELECT count(*), max(sequence) FROM work_order_process",
    "step_rates": "SELECT id, setup_minutes, units_per_hour FROM work_order_process ORDER BY id",
    "planned_minutes": "SELECT id, planned_minutes, setup_minutes FROM task ORDER BY id",
    "qualifications": "SELECT operator_id, process_id, level FROM qualification "
    "ORDER BY operator_id, process_id",
    "people": "SELECT id, username, role, is_active, wip_limit, password_hash, locale, pin_hash "
    'FROM "user" ORDER BY id',
    "devices": "SELECT id, name, token_hash, revoked_at FROM shop_floor_device ORDER BY id",
    "memberships": "SELECT user_id, department_id FROM user_department ORDER BY user_id, department_id",
    "sessions": "SELECT id, revoked_at FROM user_session ORDER BY id",
    "customers": "SELECT id, name, contact FROM customer ORDER BY id",
    "process_catalog": "SELECT id, code, name, standard_minutes, is_active, setup_minutes, units_per_hour "
    "FROM process ORDER BY id",
    "departments": "SELECT id, code, name, sort_order, is_active FROM department ORDER BY id",
    "products": "SELECT id, code, name, unit, is_active FROM product ORDER BY id",
    "routes": "SELECT product_id, sequence, process_id FROM product_route_step ORDER BY product_id, sequence",
    "throttles": "SELECT id, scope, username, address, failures, refused, blocked_until FROM login_throttle "
    "ORDER BY id",
    "auth_events": "SELECT count(*) FROM auth_event WHERE kind = 'throttle_cleared'",
}


def _throttle_someone(url) -> int:
    """A blocked pair for the forged clears to aim at; its id."""
    engine = engine_for(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO login_throttle (scope, username, address, failures, refused, started_at, "
                "blocked_until, expires_at) VALUES ('pair', 'ctp1', '10.9.9.9', 7, 0, CURRENT_TIMESTAMP, "
                "'2099-01-01 00:00:00', '2099-01-01 00:00:00')"
            )
        )
        throttle_id = connection.execute(text("SELECT max(id) FROM login_throttle")).scalar_one()
    engine.dispose()
    return throttle_id


def _snapshot(url):
    engine = engine_for(url)
    with engine.connect() as connection:
        snapshot = {
            name: [tuple(map(str, r)) for r in connection.execute(text(sql))]
            for name, sql in SNAPSHOT_SQL.items()
        }
    engine.dispose()
    return snapshot


def _targets(url):
    engine = engine_for(url)
    with Session(engine) as db:
        print1 = db.exec(select(User.id).where(User.username == "print1")).one()
        others = db.exec(
            select(Task).where(Task.assigned_operator_id.is_not(None), Task.assigned_operator_id != print1)
        ).all()
        queued = db.exec(select(Task).where(Task.status == "queued")).all()
        draft = db.exec(select(Task).where(Task.status == "draft")).first()
        draft_order = db.exec(select(WorkOrder.id).where(WorkOrder.status == "draft")).first()
        live_order = db.exec(select(WorkOrder.id).where(WorkOrder.status == "in_progress")).first()
        notice = db.exec(select(Notification.id).where(Notification.recipient_id != print1)).first()
    engine.dispose()
    return {
        "other_task": others[0].id,
        "other_in_progress": next(t.id for t in others if t.status == "in_progress"),
        "foreign_pool": next(t.id for t in queued if t.assigned_department_id != 3),
        "draft": draft.id,
        "draft_order": draft_order,
        "live_order": live_order,
        "notice": notice or 1,
        "print1": print1,
    }


def _events(t):
    rules, drafts_, orders, form = (
        RulesState.get_full_name(),
        DraftBoardState.get_full_name(),
        WorkOrdersState.get_full_name(),
        WorkOrderFormState.get_full_name(),
    )
    board, center = BoardState.get_full_name(), TaskCenterState.get_full_name()
    people, catalog = PeopleState.get_full_name(), CatalogState.get_full_name()
    skills = SkillsState.get_full_name()
    throttles, connect = ThrottleState.get_full_name(), ConnectState.get_full_name()
    reading, login_ = LocaleState.get_full_name(), LoginState.get_full_name()
    return [
        # Shop-floor devices and PINs: no PIN login without a marked device, no marking without
        # a supervisor's password, no PIN set or device unmarked by anyone but an admin.
        (f"{login_}.submit_pin", {"form_data": {"username": "print1", "pin": "2468"}}),
        (f"{login_}.submit_pin", {"form_data": {"username": ["print1"], "pin": {"$ne": ""}}}),
        (f"{login_}.submit_pin", {"form_data": "x" * 200_000}),
        (f"{login_}.mark_device", {"form_data": {"username": "super1", "password": "", "name": "Forged"}}),
        (f"{login_}.mark_device", {"form_data": {"username": "print1", "name": "y" * 100_000}}),
        (f"{login_}.set_mode", {"mode": "z" * 100_000}),
        (f"{people}.edit", {"user_id": 1}),
        (f"{people}.set_pin", {"value": "1234"}),
        (f"{people}.save_pin", {}),
        (f"{people}.set_pin", {"value": "9" * 100_000}),
        (f"{people}.unmark_device", {"device_id": 1}),
        (f"{people}.unmark_device", {"device_id": "1 OR 1=1"}),
        # The switcher with junk: no language is stored (users.locale is in the snapshot).
        (f"{reading}.choose", {"locale": "x" * 100_000}),
        (f"{reading}.choose", {"locale": ["zh-CN"]}),
        (f"{reading}.choose", {"locale": None}),
        (f"{reading}.choose", {"locale": {"$ne": ""}}),
        (f"{reading}._settle", {"preferred": "zh-CN"}),
        (f"{throttles}.clear", {"throttle_id": t["throttle"]}),
        (f"{throttles}.clear", {"throttle_id": "1 OR 1=1"}),
        (f"{throttles}.set_blocked_only", {"blocked_only": True}),
        (f"{throttles}.next_page", {}),
        (f"{connect}.refresh", {}),
        (f"{catalog}.set_customer_field", {"field": "name", "value": "Forged Customer"}),
        (f"{catalog}.save_customer", {}),
        (f"{catalog}.edit_customer", {"customer_id": 1}),
        (f"{catalog}.set_process_field", {"field": "code", "value": "FORGED"}),
        (f"{catalog}.set_process_field", {"field": "name", "value": "Forged"}),
        (f"{catalog}.set_process_active", {"active": False}),
        (f"{catalog}.save_process", {}),
        (f"{catalog}.edit_process", {"process_id": 1}),
        (f"{catalog}.set_process_field", {"field": "units_per_hour", "value": "1"}),
        (f"{catalog}.set_process_field", {"field": "setup_minutes", "value": "0"}),
        (f"{catalog}.save_process", {}),
        (f"{skills}.open", {"user_id": t["print1"]}),
        (f"{skills}.set_level", {"process_id": 1, "level": "3"}),
        (f"{skills}.save", {}),
        (f"{skills}.set_level", {"process_id": 1, "level": "9" * 100_000}),
        (f"{skills}.save", {}),
        (f"{catalog}.search_customers", {"form_data": {"search": "%' OR 1=1 --"}}),
        (f"{catalog}.set_department_field", {"field": "code", "value": "FORGED"}),
        (f"{catalog}.set_department_field", {"field": "name", "value": "Forged"}),
        (f"{catalog}.set_department_field", {"field": "sort_order", "value": "5"}),
        (f"{catalog}.save_department", {}),
        (f"{catalog}.set_product_field", {"field": "code", "value": "FORGED"}),
        (f"{catalog}.set_product_field", {"field": "name", "value": "Forged"}),
        (f"{catalog}.add_route_step", {"process_id": "1"}),
        (f"{catalog}.save_product", {}),
        (f"{catalog}.edit_product", {"product_id": 1}),
        (f"{catalog}.remove_route_step", {"index": 0}),
        (f"{catalog}.save_product", {}),
        (f"{catalog}.edit_department", {"department_id": 1}),
        (f"{catalog}.set_department_active", {"active": False}),
        (f"{catalog}.save_department", {}),
        (f"{people}.set_form", {"field": "username", "value": "intruder"}),
        (f"{people}.set_form", {"field": "display_name", "value": "Intruder"}),
        (f"{people}.set_form", {"field": "role", "value": "admin"}),
        (f"{people}.set_form", {"field": "password", "value": "intruder-pass"}),
        (f"{people}.save", {}),
        (f"{people}.edit", {"user_id": 1}),
        (f"{people}.set_active", {"active": False}),
        (f"{people}.save", {}),
        (f"{people}.revoke", {"user_id": 1}),
        (f"{people}.revoke", {"user_id": "1; DELETE FROM user_session"}),
        (f"{people}.toggle_department", {"department_id": "1", "member": True}),
        # Exports and travelers: no ticket for anyone but a supervisor, whatever the arguments.
        (f"{board}.export", {"fmt": "xlsx"}),
        (f"{board}.export", {"fmt": "../../etc/passwd"}),
        (f"{WorkOrdersState.get_full_name()}.export", {"fmt": "csv"}),
        (f"{WorkOrderFormState.get_full_name()}.print_traveler", {}),
        (f"{DraftBoardState.get_full_name()}.print_traveler", {"work_order_id": 1}),
        (f"{DraftBoardState.get_full_name()}.print_traveler", {"work_order_id": "1 OR 1=1"}),
        (f"{rules}.set_auto_dispatch", {"enabled": False}),
        (f"{rules}.dispatch_now", {}),
        (f"{rules}.set_form", {"field": "process_id", "value": "1"}),
        (f"{rules}.set_form", {"field": "department_id", "value": "2"}),
        (f"{rules}.set_form", {"field": "min_level", "value": "3"}),
        (f"{rules}.save", {}),
        (f"{rules}.toggle_active", {"rule_id": 1, "active": False}),
        (f"{drafts_}.publish_work_order", {"work_order_id": t["live_order"]}),
        (f"{drafts_}.toggle", {"task_id": t["draft"], "checked": True}),
        (f"{drafts_}.publish_selected", {}),
        (f"{drafts_}.toggle", {"task_id": t["draft"], "checked": True}),
        (f"{drafts_}.delete_selected", {}),
        (
            f"{drafts_}.edit",
            {"task_id": t["draft"], "version": 1, "field": "production_quantity", "value": "1"},
        ),
        (f"{drafts_}.open_split", {"task_id": t["draft"], "quantity": 10}),
        (f"{drafts_}.confirm_split", {}),
        (f"{orders}.approve", {"work_order_id": t["draft_order"]}),
        (f"{orders}.cancel", {"work_order_id": t["live_order"]}),
        (f"{form}.save", {}),
        (f"{form}.cancel_order", {}),
        (f"{board}.open_task", {"task_id": t["other_task"]}),
        (f"{board}.reassign", {"form_data": {"operator_id": "5", "reason": "forged"}}),
        (f"{board}.unassign", {"form_data": {"reason": "forged"}}),
        (f"{board}.set_filter", {"key": "status", "value": "'; DROP TABLE task; --"}),
        (f"{center}.start", {"task_id": t["other_task"]}),
        (f"{center}.complete", {"task_id": t["other_in_progress"]}),
        (f"{center}.claim", {"task_id": t["foreign_pool"]}),
        (f"{center}.open_pause", {"task_id": t["other_in_progress"]}),
        (f"{center}.set_pause_reason", {"reason": "y" * 100_000}),
        (f"{center}.confirm_pause", {}),
        (f"{center}.open_report", {"task_id": t["other_in_progress"]}),
        (f"{center}.submit_report", {"form_data": {"completed": "5", "defective": "-3"}}),
        (f"{center}.submit_report", {"form_data": "x" * 200_000}),
        (f"{center}.mark_read", {"notification_id": t["notice"]}),
        (f"{center}.mark_read", {"notification_id": "1 OR 1=1"}),
        (f"{center}.start", {"task_id": "abc"}),
        (f"{center}.start", {"task_id": None}),
        (f"{center}.start", {"task_id": {"$gt": 0}}),
        (f"{center}.claim", {"task_id": [1, 2, 3]}),
        (f"{center}._apply", {"data": {}}),
        (f"{center}.no_such_handler", {}),
        ("reflex___state____state.no.such.state", {}),
    ]


def _forge(page, server, events, pathname):
    for name, payload in events:
        frame = json.dumps(
            [
                "event",
                {"name": name, "payload": payload, "router_data": {"pathname": pathname, "asPath": pathname}},
            ]
        )
        server.send(f"42/_event,{frame}")
        time.sleep(0.05)
    page.wait_for_timeout(2500)


def _open_proxied(browser, base_url):
    page = browser.new_context().new_page()
    holder = {}

    def route(ws):
        server = ws.connect_to_server()
        holder["server"] = server
        ws.on_message(server.send)
        server.on_message(ws.send)

    page.route_web_socket("**/_event/**", route)
    return page, holder


def test_forged_events_from_an_operator_and_from_nobody_change_nothing(served_app, browser):
    url = served_app.database_url
    targets = {**_targets(url), "throttle": _throttle_someone(url)}

    page, holder = _open_proxied(browser, served_app.base_url)
    login(page, served_app.base_url, "print1")
    page.wait_for_selector("#page-title")
    before = _snapshot(url)
    _forge(page, holder["server"], _events(targets), "/operator")
    assert _snapshot(url) == before
    assert page.locator("#page-title").is_visible()

    anonymous, anon_holder = _open_proxied(browser, served_app.base_url)
    anonymous.goto(f"{served_app.base_url}/login")
    anonymous.wait_for_selector("#login-submit")
    _forge(anonymous, anon_holder["server"], _events(targets), "/login")
    root = TaskCenterState.get_full_name().rsplit(".", 1)[0]
    session_state = f"{root}.work_dispatch___states___session____session_state"
    forged_token = [(f"{session_state}.logout", {}), (f"{session_state}.lock_idle", {})]
    _forge(anonymous, anon_holder["server"], forged_token, "/login")
    assert _snapshot(url) == before

    with urllib.request.urlopen(f"{served_app.base_url}/ping", timeout=5) as response:
        assert response.status == 200
    # Control: the same injection path does reach handlers, so the checks above can fail.
    _forge(page, holder["server"], [(f"{TaskCenterState.get_full_name()}.mark_all_read", {})], "/operator")
    after_control = _snapshot(url)
    assert after_control["notifications"] != before["notifications"]
    assert after_control["task"] == before["task"]
    page.reload()
    page.wait_for_selector("#page-title")
