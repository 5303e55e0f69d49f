"""Generation plans: batch splits and stable keys."""

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from work_dispatch.domain.errors import ValidationError
from work_dispatch.domain.generation import (
    RouteStep,
    plan_work_order,
    planned_task_count,
    split_draft_quantities,
    split_quantity,
)


def test_split_in_batches_adds_up():
    assert split_quantity(10_000, 2_500) == [2_500] * 4
    assert split_quantity(10_001, 2_500) == [2_500] * 4 + [1]
    assert split_quantity(7, None) == [7]
    assert split_quantity(7, 100) == [7]


@pytest.mark.parametrize(("quantity", "batch"), [(0, None), (-5, None), (10, 0), (10, -1)])
def test_split_rejects_non_positive_numbers(quantity, batch):
    with pytest.raises(ValidationError):
        split_quantity(quantity, batch)


def _route():
    return [
        RouteStep(work_order_process_id=11, process_id=1, sequence=10, work_content="Plate"),
        RouteStep(
            work_order_process_id=12, process_id=2, sequence=20, batch_size=2_500, work_content="Print"
        ),
    ]


def test_plan_is_deterministic_and_keys_are_unique():
    due = datetime(2026, 12, 1, 17, tzinfo=UTC)
    first = plan_work_order(7, 10_000, "high", due, _route())
    second = plan_work_order(7, 10_000, "high", due, list(reversed(_route())))
    assert first == second
    assert len(first) == 5
    assert len({task.generation_key for task in first}) == 5
    assert [t.production_quantity for t in first if t.process_id == 2] == [2_500] * 4
    assert first[1].work_content == "Print (batch 1/4)"
    assert all(task.priority == "high" and task.due_at == due for task in first)


def test_plan_rejects_an_empty_route():
    with pytest.raises(ValidationError, match="no processes"):
        plan_work_order(1, 10, "normal", None, [])


def test_split_draft_keeps_both_parts_positive():
    assert split_draft_quantities(100, 30) == (30, 70)
    for bad in (0, 100, 101, -1):
        with pytest.raises(ValidationError):
            split_draft_quantities(100, bad)


@settings(max_examples=200, deadline=None)
@given(
    quantity=st.integers(min_value=-3, max_value=50_000),
    batches=st.lists(st.one_of(st.none(), st.integers(min_value=-2, max_value=20_000)), max_size=8),
)
def test_planned_task_count_counts_and_refuses_exactly_what_planning_does(quantity, batches):
    route = [RouteStep(100 + i, 1 + i % 3, 10 * (i + 1), None, batch) for i, batch in enumerate(batches)]
    try:
        planned = plan_work_order(7, quantity, "normal", None, route)
    except ValidationError as error:
        with pytest.raises(ValidationError, match=re.escape(error.message)):
            planned_task_count(quantity, route)
    else:
        assert planned_task_count(quantity, route) == len(planned)
