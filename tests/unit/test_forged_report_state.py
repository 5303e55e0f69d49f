"""Forged calls on the report dialog and the route's transfer batches, without a browser.

A forged ``open_report`` on someone else's task must leave no dialog open on that id; a reason
or a batch that is junk (a list, a dict, a huge string, a digit look-alike) selects nothing
instead of crashing the handler.
"""

import asyncio

import pytest
import reflex as rx

import work_dispatch.work_dispatch  # noqa: F401  (imports every state of the app)
from work_dispatch.domain.errors import PermissionDeniedError
from work_dispatch.services import auth, runner, task_flow
from work_dispatch.services.actor import Actor
from work_dispatch.services.reference import Option
from work_dispatch.states.catalog import CatalogState
from work_dispatch.states.task_center import TaskCenterState

OPERATOR = Actor(user_id=7, username="print1", display_name="Omar", role="operator")
JUNK = ["x" * 100_000, ["1"], {"$ne": ""}, None, -1, "-1", "1 OR 1=1", "²"]


async def _operator_runner(service, *args, **kwargs):
    if service is auth.resolve:
        return OPERATOR
    if service is task_flow.report_reasons:
        raise PermissionDeniedError("error.task_not_yours", task_id=args[1])
    raise AssertionError(f"unexpected service {service}")


@pytest.fixture
def root(monkeypatch):
    monkeypatch.setattr(runner, "run", _operator_runner)
    return rx.State(_reflex_internal_init=True)


def _substate(root, cls):
    return root.get_substate(cls.get_full_name().split(".")[1:])


def test_open_report_on_someone_elses_task_leaves_no_dialog_open(root):
    center = _substate(root, TaskCenterState)
    reply = asyncio.run(TaskCenterState.open_report.fn(center, 99))
    assert center.report_task_id == 0
    assert center.scrap_reasons == [] and center.rework_reasons == []
    assert reply is not None  # a toast says why


@pytest.mark.parametrize("value", JUNK, ids=repr)
def test_junk_reasons_select_nothing(root, value):
    center = _substate(root, TaskCenterState)
    center.scrap_reasons = [Option("3", "Smudge")]
    center.rework_reasons = [Option("4", "Sort out")]
    TaskCenterState.set_scrap_reason.fn(center, value)
    TaskCenterState.set_rework_reason.fn(center, value)
    assert center.scrap_reason == "" and center.rework_reason == ""
    TaskCenterState.set_scrap_reason.fn(center, "3")
    assert center.scrap_reason == "3"


@pytest.mark.parametrize("value", [*JUNK, "0" * 40, "١٢"], ids=repr)
def test_junk_transfer_batches_stay_short_ascii_digits(root, value):
    catalog = _substate(root, CatalogState)
    catalog.product_route = ["1", "2"]
    for index in (0, True, -1, 10**9, "0", None):
        CatalogState.set_route_batch.fn(catalog, index, value)
    assert catalog.product_route_batches[1:] in ([], [""])
    batch = catalog.product_route_batches[0] if catalog.product_route_batches else ""
    assert batch == "" or (batch.isascii() and batch.isdecimal() and len(batch) <= 12)
