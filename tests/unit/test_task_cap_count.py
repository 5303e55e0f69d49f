"""``planned_task_count`` with a cap: counted by arithmetic, refused above the cap."""

import pytest

from work_dispatch.domain.errors import ValidationError
from work_dispatch.domain.generation import RouteStep, plan_work_order, planned_task_count


def _route(*batch_sizes):
    return [RouteStep(i + 1, 10 + i, (i + 1) * 10, batch_size=size) for i, size in enumerate(batch_sizes)]


def test_a_huge_order_is_counted_without_planning_it_and_refused_above_the_cap():
    route = _route(1, None, 7)
    # 3·10⁹ batches of one would take minutes and gigabytes to plan; counting is instant.
    assert planned_task_count(3_000_000_000, route) == 3_000_000_000 + 1 + 428_571_429
    with pytest.raises(ValidationError) as refused:
        planned_task_count(3_000_000_000, route, max_tasks=2_000)
    assert refused.value.field == "quantity"
    assert refused.value.detail.params == {"count": 3_428_571_430, "maximum": 2_000}


@pytest.mark.parametrize("quantity", [1, 99, 100, 101, 1_000])
def test_the_cap_is_inclusive_and_matches_the_plan(quantity):
    route = _route(10, 3, None)
    count = len(plan_work_order(1, quantity, "normal", None, route))
    assert planned_task_count(quantity, route, max_tasks=count) == count
    with pytest.raises(ValidationError, match=f"would make {count} tasks; at most {count - 1} "):
        planned_task_count(quantity, route, max_tasks=count - 1)
