"""Every client-settable state var stays small, whatever a (forged) event sends.

Each public handler of every state is called as an anonymous visitor with huge arguments
(1 MB strings, 100,000-element lists and dicts) next to the field names its forms accept;
toggles and "add" buttons are then hammered thousands of times. Every state must stay within
a few KB, so that no client can park memory on the server.
"""

import asyncio
import contextlib
import inspect
import itertools
import json

import pytest
import reflex as rx

import work_dispatch.work_dispatch  # noqa: F401  (imports every state of the app)
from work_dispatch.domain.errors import DomainError, ValidationError
from work_dispatch.services import auth, runner
from work_dispatch.states import board, catalog, people, rules, work_orders
from work_dispatch.states.drafts import DraftBoardState
from work_dispatch.states.people import PeopleState
from work_dispatch.states.work_orders import WorkOrderFormState

HUGE_TEXT = "x" * 1_000_000
HUGE_LIST = list(range(100_000))
HUGE_DICT = {f"k{i}": HUGE_TEXT[:100] for i in range(100_000)}
FIELD_NAMES = sorted(
    {
        *work_orders.FORM_FIELDS,
        *people.FORM_FIELDS,
        *rules.RULE_FIELDS,
        *board.FILTER_KEYS,
        *catalog.CUSTOMER_FIELDS,
        *catalog.PROCESS_FIELDS,
        *catalog.DEPARTMENT_FIELDS,
        *catalog.PRODUCT_FIELDS,
        *catalog.REASON_FIELDS,
        "department_id",
        "batch_size",
        "search",
    }
)
HOSTILE = [HUGE_TEXT, HUGE_LIST, HUGE_DICT, {"search": HUGE_TEXT, "username": HUGE_TEXT}, 0, True]
STATE_LIMIT_BYTES = 4_096


async def _anonymous_runner(service, *args, **kwargs):
    """The database as an anonymous visitor sees it: no session; every login refused."""
    if service is auth.resolve:
        return None
    raise ValidationError("error.login_wrong")


def _app_states() -> list[type[rx.State]]:
    found, todo = [], list(rx.State.get_substates())
    while todo:
        cls = todo.pop()
        todo.extend(cls.get_substates())
        if cls.__module__.startswith("work_dispatch.states."):
            found.append(cls)
    return sorted(found, key=lambda cls: cls.get_full_name())


def _handlers(cls) -> list[tuple[str, int]]:
    names = []
    for name, handler in cls.event_handlers.items():
        if name.startswith("set_") and name[4:] in cls.base_vars and name not in cls.__dict__:
            continue  # Reflex's automatic setters are off in this app (state_auto_setters=False)
        params = list(inspect.signature(handler.fn).parameters)[1:]
        names.append((name, len(params)))
    return names


async def _call(state, name: str, args: tuple) -> None:
    result = type(state).event_handlers[name].fn(state, *args)
    if inspect.isasyncgen(result):
        async for _ in result:
            pass
    elif inspect.isawaitable(result):
        await result


def _size(state) -> int:
    own = {name: getattr(state, name) for name in state.base_vars}
    return len(json.dumps(own, default=str))


@pytest.fixture
def root(monkeypatch):
    monkeypatch.setattr(runner, "run", _anonymous_runner)
    return rx.State(_reflex_internal_init=True)


def _substate(root, cls):
    return root.get_substate(cls.get_full_name().split(".")[1:])


def test_the_app_has_the_states_this_test_attacks():
    names = {cls.__name__ for cls in _app_states()}
    assert {"WorkOrderFormState", "DraftBoardState", "PeopleState", "BoardState", "LoginState"} <= names


@pytest.mark.parametrize("cls", _app_states(), ids=lambda cls: cls.__name__)
def test_huge_arguments_leave_every_state_small(root, cls):
    state = _substate(root, cls)
    for name, arity in _handlers(cls):
        if arity == 0:
            candidates = [()]
        else:
            first = [*HOSTILE, *FIELD_NAMES]
            candidates = [
                (head, *rest)
                for head in first
                for rest in itertools.product(HOSTILE, repeat=arity - 1)
                if arity <= 3
            ]
        for args in candidates:
            # A malformed event may fail; it must not grow the state.
            with contextlib.suppress(TypeError, AttributeError, ValueError, KeyError, DomainError):
                asyncio.run(_call(state, name, args))
        size = _size(state)
        assert size < STATE_LIMIT_BYTES, f"{cls.__name__}.{name} left {size} bytes of state"


def test_hammering_toggles_and_add_buttons_keeps_lists_within_a_page(root):
    drafts = _substate(root, DraftBoardState)
    form = _substate(root, PeopleState)
    order = _substate(root, WorkOrderFormState)
    for i in range(5_000):
        DraftBoardState.toggle.fn(drafts, i, True)
        PeopleState.toggle_department.fn(form, str(i), True)
        WorkOrderFormState.set_add_process.fn(order, str(i) * 1000)
        WorkOrderFormState.add_step.fn(order)
    assert drafts.selected == [] and form.form_departments == []
    assert len(order.route) <= 30 and len(order.add_process_id) <= 12
    assert max(_size(drafts), _size(form), _size(order)) < STATE_LIMIT_BYTES
