"""The states' shared plumbing: acting as the session's user, refusals, page guards, keyset paging.

Handlers run on real state instances of the app's state tree; the database is replaced by a
fake ``runner.run`` that resolves the session to a chosen actor and answers the services used.
"""

import asyncio
import dataclasses
from types import SimpleNamespace

import pytest
import reflex as rx
from reflex.istate.data import RouterData

from work_dispatch.domain.errors import PermissionDeniedError, ValidationError
from work_dispatch.realtime.bus import BusEvent
from work_dispatch.realtime.registry import OPERATOR_VIEW, REGISTRY, Watcher
from work_dispatch.services import (
    auth,
    board,
    dashboard,
    floor,
    people,
    reference,
    rules,
    runner,
    task_center,
    task_flow,
    work_orders,
)
from work_dispatch.services.actor import Actor
from work_dispatch.services.people import PeoplePage
from work_dispatch.services.task_center import OperatorOverview
from work_dispatch.states.board import BoardState
from work_dispatch.states.dashboard import DashboardState
from work_dispatch.states.floor import FloorState
from work_dispatch.states.locale import LocaleState, effective_locale
from work_dispatch.states.people import PeopleState
from work_dispatch.states.rules import RulesState
from work_dispatch.states.session import SessionState
from work_dispatch.states.task_center import TaskCenterState
from work_dispatch.states.work_orders import WorkOrdersState

ADMIN = Actor(1, "admin", "Admin", "admin")
OPERATOR = Actor(7, "print1", "Printer", "operator", frozenset({3}))


def _spec(spec) -> tuple[str, list[tuple[str, str]]]:
    """An event spec as comparable text: the client function and its arguments."""
    return spec.handler.fn.__name__, [(str(name), str(value)) for name, value in spec.args]


class FakeRunner:
    """Stands in for ``runner.run``: the session resolves to ``actor``; services are answered.

    An answer is a value, or a function called with the service's arguments after the actor.
    """

    def __init__(self, actor, answers):
        self.actor = actor
        self.answers = answers
        self.calls = []
        self.seen_locales = []

    async def __call__(self, service, *args, **kwargs):
        if service is auth.resolve:
            return self.actor
        actor, *rest = args
        # The session's actor, reading in the session's language (which may differ from the profile's).
        assert dataclasses.replace(actor, locale=self.actor.locale) == self.actor, (
            "runs as the session's actor"
        )
        self.seen_locales.append(actor.locale)
        self.calls.append((service, tuple(rest)))
        answer = self.answers[service]
        return answer(*rest, **kwargs) if callable(answer) else answer


@pytest.fixture
def tree():
    """A fresh root state of the app and a way to reach its substates."""
    root = rx.State(_reflex_internal_init=True)

    def substate(cls):
        return root.get_substate(cls.get_full_name().split(".")[1:])

    return substate


def _use(monkeypatch, actor, answers=None) -> FakeRunner:
    fake = FakeRunner(actor, answers or {})
    monkeypatch.setattr(runner, "run", fake)
    return fake


def test_a_signed_out_session_is_sent_to_login_and_no_service_runs(monkeypatch, tree):
    fake = _use(monkeypatch, None)
    state = tree(RulesState)
    REGISTRY.register(Watcher(state.router.session.client_token, OPERATOR_VIEW, 99))
    reply = asyncio.run(state._act(task_flow.claim, 5, then=lambda actor, result: "never"))
    assert _spec(reply) == _spec(rx.redirect("/login"))
    assert fake.calls == [] and len(REGISTRY.drop_user(99)) == 0


def test_a_refusal_is_a_toast_unless_the_handler_shows_it_elsewhere(monkeypatch, tree):
    def refuse(*args):
        raise ValidationError("Priority must be 0-100.", "priority")

    _use(monkeypatch, ADMIN, {people.revoke_sessions: refuse})
    state = tree(PeopleState)
    assert _spec(asyncio.run(state._act(people.revoke_sessions, 3))) == _spec(
        rx.toast.error("Priority must be 0-100.")
    )
    seen = []
    reply = asyncio.run(state._act(people.revoke_sessions, 3, on_error=lambda *pair: seen.append(pair)))
    assert reply is None and seen[0][0] == ADMIN and seen[0][1].field == "priority"


def test_success_hands_the_actor_and_the_result_to_then_sync_or_async(monkeypatch, tree):
    fake = _use(monkeypatch, ADMIN, {people.revoke_sessions: lambda user_id: user_id * 10})
    state = tree(PeopleState)

    async def later(actor, result):
        return (actor.username, result)

    assert asyncio.run(state._act(people.revoke_sessions, 4, then=lambda a, r: r + 1)) == 41
    assert asyncio.run(state._act(people.revoke_sessions, 5, then=later)) == ("admin", 50)
    assert asyncio.run(state._act(people.revoke_sessions, 6)) is None
    assert fake.calls == [
        (people.revoke_sessions, (4,)),
        (people.revoke_sessions, (5,)),
        (people.revoke_sessions, (6,)),
    ]


def test_revoke_keeps_its_info_toast_and_reloads_the_page(monkeypatch, tree):
    fake = _use(
        monkeypatch,
        ADMIN,
        {people.revoke_sessions: 2, people.list_people: PeoplePage(rows=[], next_after=0)},
    )
    reply = asyncio.run(PeopleState.revoke.fn(tree(PeopleState), 3))
    assert _spec(reply) == _spec(rx.toast.info("2 open session(s) ended."))
    assert [service for service, _ in fake.calls] == [people.revoke_sessions, people.list_people]


@pytest.mark.parametrize(
    ("actor", "target"),
    [(None, "/login"), (OPERATOR, "/operator"), (Actor(2, "super1", "Sup", "supervisor"), "/supervisor")],
)
def test_a_page_guard_sends_signed_out_visitors_to_login_and_others_home(monkeypatch, tree, actor, target):
    _use(monkeypatch, actor, {people.list_people: PeoplePage(rows=[], next_after=0)})
    state = tree(PeopleState)
    loaded = []
    reply = asyncio.run(state._open_page(lambda a: asyncio.sleep(0, loaded.append(a)), admin=True))
    assert _spec(reply) == _spec(rx.redirect(target, replace=True)) and loaded == []


def test_a_page_guard_loads_the_page_for_its_audience(monkeypatch, tree):
    _use(monkeypatch, ADMIN)
    loaded = []
    reply = asyncio.run(
        tree(PeopleState)._open_page(lambda a: asyncio.sleep(0, loaded.append(a)), admin=True)
    )
    assert reply is None and loaded == [ADMIN]


def test_the_pager_walks_forward_and_back_and_restarts_when_a_filter_changes(monkeypatch, tree):
    asked = []

    def list_people(role, search, after, size):
        asked.append((role, after))
        start = int(after or 0)
        return PeoplePage(rows=[], next_after=start + 25 if start < 50 else 0)

    _use(monkeypatch, ADMIN, {people.list_people: list_people})
    state = tree(PeopleState)

    def run(handler, *args):
        return asyncio.run(handler.fn(state, *args))

    run(PeopleState.filter_role, "all")
    assert (state.cursor_stack, state.next_cursor) == ([], "25")
    run(PeopleState.next_page)
    run(PeopleState.next_page)
    assert (state.cursor_stack, state.next_cursor) == (["25", "50"], "")
    run(PeopleState.next_page)  # the last page: nothing to load
    run(PeopleState.previous_page)
    assert (state.cursor_stack, state.next_cursor) == (["25"], "50")
    run(PeopleState.filter_role, "operator")
    assert state.cursor_stack == [] and asked == [
        ("", 0),
        ("", "25"),
        ("", "50"),
        ("", "25"),
        ("operator", 0),
    ]


def test_a_refused_page_goes_back_to_everyone_with_a_toast(monkeypatch, tree):
    def list_people(role, search, after, size):
        if role:
            raise ValidationError("Unknown role.", "role")
        return PeoplePage(rows=[], next_after=0)

    _use(monkeypatch, ADMIN, {people.list_people: list_people})
    state = tree(PeopleState)
    state.cursor_stack = ["25"]
    reply = asyncio.run(PeopleState.filter_role.fn(state, "wizard"))
    assert _spec(reply) == _spec(rx.toast.error("Unknown role."))
    assert (state.role_filter, state.cursor_stack) == ("", [])


def test_the_tablet_wipes_itself_when_signed_out_and_reloads_after_a_refusal(monkeypatch, tree):
    state = tree(TaskCenterState)
    state.new_task_id = 4
    _use(monkeypatch, None)
    reply = asyncio.run(TaskCenterState.claim.fn(state, 4))
    assert _spec(reply) == _spec(rx.redirect("/login", replace=True)) and state.new_task_id == 0

    def refuse(task_id):
        raise PermissionDeniedError("This task is not in your departments.")

    overview = OperatorOverview(departments=["Printing"], department_ids=[3], wip_limit=3, unread=2)
    fake = _use(monkeypatch, OPERATOR, {task_flow.claim: refuse, task_center.overview: overview})
    reply = asyncio.run(TaskCenterState.claim.fn(state, 4))
    assert _spec(reply) == _spec(
        rx.toast.error("This task is not in your departments.", position="top-center")
    )
    assert [service for service, _ in fake.calls] == [task_flow.claim, task_center.overview]
    assert state.unread == 2

    fake = _use(monkeypatch, OPERATOR, {task_flow.claim: None, task_center.overview: overview})
    reply = asyncio.run(TaskCenterState.claim.fn(state, 4))
    assert _spec(reply) == _spec(rx.toast.success("Task #4 is yours.", position="top-center"))


# The reading language: device choice > the user's preference > Accept-Language > English.

ZH_OPERATOR = dataclasses.replace(OPERATOR, locale="zh-CN")


def _visit(tree, path: str = "/operator", accept_language: str = "", query: str = "") -> None:
    """Make the session's next events come from ``path`` (with ``?query``) and these headers."""
    root = tree(LocaleState).parent_state
    root.router = RouterData.from_router_data(
        {
            "pathname": path,
            "asPath": path + (f"?{query}" if query else ""),
            "headers": {"origin": "http://tablet", "accept-language": accept_language},
        }
    )


@pytest.mark.parametrize(
    ("device", "preferred", "header", "expected"),
    [
        ("", "en", "zh-CN,zh;q=0.9", "en"),  # a signed-in user's preference beats the browser
        ("zh-CN", "en", "en-US", "zh-CN"),  # the device's choice beats everything
        ("", None, "zh-CN,zh;q=0.9", "zh-CN"),  # a visitor reads the browser's language
        ("", None, "fr-FR", "en"),
        ("klingon", "zh_cn", "", "zh-CN"),  # junk is skipped, never shown
        ("", "xx", "de", "en"),
    ],
)
def test_the_reading_language_follows_device_then_user_then_browser(device, preferred, header, expected):
    assert effective_locale(device, preferred, header) == expected


def test_services_run_in_the_sessions_language_and_refusals_read_in_it(monkeypatch, tree):
    def refuse(task_id):
        raise PermissionDeniedError("error.task_not_in_your_departments")

    overview = OperatorOverview(departments=["印刷"], department_ids=[3], wip_limit=3)
    fake = _use(monkeypatch, OPERATOR, {task_flow.claim: refuse, task_center.overview: overview})
    _visit(tree, accept_language="en")  # the profile and the browser say English...
    tree(LocaleState).device_locale = "zh-CN"  # ...but this tablet reads Chinese
    state = tree(TaskCenterState)
    reply = asyncio.run(state._act(task_flow.claim, 4))
    assert fake.seen_locales == ["zh-CN"], "the service ran for a Chinese reader"
    text = PermissionDeniedError("error.task_not_in_your_departments").render("zh-CN")
    assert _spec(reply) == _spec(rx.toast.error(text, position="top-center"))
    assert tree(LocaleState).locale == "zh-CN"


def test_a_field_error_reads_in_the_sessions_language(monkeypatch, tree):
    def refuse(payload, rule_id):
        raise ValidationError("error.priority_range", "priority")

    _use(monkeypatch, dataclasses.replace(ADMIN, locale="zh-CN"), {rules.save_rule: refuse})
    _visit(tree, "/supervisor/rules")
    state = tree(RulesState)
    asyncio.run(RulesState.save.fn(state))
    assert state.field_errors == {"priority": ValidationError("error.priority_range").render("zh-CN")}


def test_the_tablet_registers_for_pushes_in_its_language(monkeypatch, tree):
    overview = OperatorOverview(departments=["印刷"], department_ids=[3], wip_limit=3)
    _use(monkeypatch, ZH_OPERATOR, {task_center.overview: overview})
    _visit(tree, accept_language="en")
    state = tree(TaskCenterState)

    async def load():
        return [reply async for reply in TaskCenterState.load.fn(state)]

    asyncio.run(load())
    token = state.router.session.client_token
    watcher = next(w for w in REGISTRY.audience(BusEvent("x", operator_ids=(7,))) if w.token == token)
    assert watcher.locale == "zh-CN"
    REGISTRY.drop(token)


def test_choosing_a_language_sets_the_device_and_the_users_preference(monkeypatch, tree):
    fake = _use(monkeypatch, OPERATOR, {people.set_my_locale: "zh-CN"})
    _visit(tree, "/nowhere")
    reading = tree(LocaleState)
    asyncio.run(LocaleState.choose.fn(reading, "zh_CN"))
    assert (reading.device_locale, reading.locale) == ("zh-CN", "zh-CN")
    assert fake.calls == [(people.set_my_locale, ("zh-CN",))]
    for junk in ("fr", "", ["zh-CN"], None, "x" * 10_000):
        asyncio.run(LocaleState.choose.fn(reading, junk))
    assert reading.device_locale == "zh-CN" and len(fake.calls) == 1, "junk changes nothing"


def test_a_visitor_can_choose_too_and_logout_keeps_the_devices_language(monkeypatch, tree):
    async def anonymous(service, *args):
        return None  # the session resolves to nobody; logout revokes nothing

    monkeypatch.setattr(runner, "run", anonymous)
    _visit(tree, "/login", accept_language="en-US")
    reading = tree(LocaleState)
    asyncio.run(LocaleState.choose.fn(reading, "zh-CN"))
    tree(TaskCenterState).new_task_id = 9
    asyncio.run(SessionState.logout.fn(tree(SessionState)))
    assert reading.device_locale == "zh-CN", "a shared tablet stays Chinese after logout"
    assert tree(TaskCenterState).new_task_id == 0, "everything else of the tab is wiped"


def test_a_lang_link_sets_the_device_once_and_an_unknown_one_is_ignored(monkeypatch, tree):
    _visit(tree, "/login", accept_language="en", query="lang=zh-CN")
    reading = tree(LocaleState)
    assert reading._settle(None) == "zh-CN" and reading.device_locale == "zh-CN"
    reading.device_locale = "en"  # chosen later in the switcher, on the same URL
    assert reading._settle(None) == "en", "the same link does not undo a later choice"
    _visit(tree, "/login", accept_language="zh-CN", query="lang=xx")
    reading.device_locale = ""
    assert reading._settle(None) == "zh-CN" and reading.device_locale == "", "?lang=xx falls back"


class _Read(Exception):
    """Stops a page load at its first read of live data, once the test has looked around."""


@pytest.mark.parametrize(
    ("page", "path", "first_read", "before"),
    [
        (
            BoardState,
            "/board",
            board.query_page,
            {reference.lists: SimpleNamespace(departments=[], operators=[])},
        ),
        (
            WorkOrdersState,
            "/work-orders",
            work_orders.list_work_orders,
            {reference.lists: SimpleNamespace(customers=[])},
        ),
        (DashboardState, "/", dashboard.summary, {}),
        (FloorState, "/floor", floor.floor_snapshot, {}),
    ],
)
def test_a_live_page_watches_for_pushes_before_it_reads(monkeypatch, tree, page, path, first_read, before):
    """A change committed between the read and a later registration would reach nobody."""
    registered_at_read = []

    def read(*args, **kwargs):
        registered_at_read.append(REGISTRY.get(token))
        raise _Read

    _use(monkeypatch, ADMIN, {**before, first_read: read})
    _visit(tree, path)
    state = tree(page)
    token = state.router.session.client_token
    with pytest.raises(_Read):
        asyncio.run(page.load.fn(state))
    REGISTRY.drop(token)
    [watcher] = registered_at_read
    assert watcher is not None and watcher.user_id == ADMIN.user_id
