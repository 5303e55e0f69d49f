"""Generation plans: which draft tasks a work order's route should produce.

A plan is pure data. The generation key of every planned task is derived from the work
order, the route step and the batch index only, so planning twice gives the same keys
and inserting with "on conflict do nothing" makes generation idempotent.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from work_dispatch.domain.errors import ValidationError
from work_dispatch.i18n import DEFAULT_LOCALE, translate


class RouteStep(NamedTuple):
    """One process of a work order's route, as generation needs it."""

    work_order_process_id: int
    process_id: int
    sequence: int
    department_id: int | None = None
    batch_size: int | None = None
    work_content: str = ""


class PlannedTask(NamedTuple):
    """A draft task that generation should make sure exists."""

    generation_key: str
    work_order_id: int
    work_order_process_id: int
    process_id: int
    sequence: int
    batch_index: int
    production_quantity: int
    department_id: int | None
    priority: str
    due_at: datetime | None
    work_content: str


def generation_key(work_order_id: int, sequence: int, process_id: int, batch_index: int) -> str:
    """The idempotency key of one planned task."""
    return f"wo{work_order_id}:s{sequence}:p{process_id}:b{batch_index}"


def split_quantity(quantity: int, batch_size: int | None) -> list[int]:
    """Split a quantity into batches of ``batch_size``; the last batch takes the rest.

    Args:
        quantity: Total to produce, > 0.
        batch_size: Size of each batch; None or >= quantity means one batch.

    Returns:
        Batch quantities that add up to ``quantity``.

    Raises:
        ValidationError: If the quantity or batch size is not positive.
    """
    if quantity <= 0:
        raise ValidationError("error.quantity_positive", "quantity")
    if batch_size is None or batch_size >= quantity:
        return [quantity]
    if batch_size <= 0:
        raise ValidationError("error.batch_size_positive", "batch_size")
    full, rest = divmod(quantity, batch_size)
    return [batch_size] * full + ([rest] if rest else [])


def planned_task_count(quantity: int, route: list[RouteStep], max_tasks: int | None = None) -> int:
    """How many tasks ``plan_work_order`` makes for this quantity and route.

    Checks what planning checks, so a work order that passes here plans without error.
    Counts by arithmetic, so even a huge quantity costs nothing to check.

    Args:
        quantity: Quantity ordered.
        route: The work order's processes.
        max_tasks: The most tasks one work order may make; None for no limit.

    Returns:
        The number of planned tasks.

    Raises:
        ValidationError: If the route is empty, a quantity is not positive, or the work
            order would make more than ``max_tasks`` tasks.
    """
    if not route:
        raise ValidationError("error.route_empty", "route")
    if quantity <= 0:
        raise ValidationError("error.quantity_positive", "quantity")
    count = 0
    for step in route:
        if step.batch_size is None or step.batch_size >= quantity:
            count += 1
        elif step.batch_size <= 0:
            raise ValidationError("error.batch_size_positive", "batch_size")
        else:
            count += -(-quantity // step.batch_size)
    if max_tasks is not None and count > max_tasks:
        raise ValidationError("error.too_many_tasks", "quantity", count=count, maximum=max_tasks)
    return count


def plan_work_order(
    work_order_id: int,
    quantity: int,
    priority: str,
    due_at: datetime | None,
    route: list[RouteStep],
    locale: str = DEFAULT_LOCALE,
) -> list[PlannedTask]:
    """Plan the draft tasks of one work order.

    Args:
        work_order_id: The work order's id.
        quantity: Quantity ordered.
        priority: Priority copied onto every task.
        due_at: Due time copied onto every task.
        route: The work order's processes.
        locale: Language of the batch note added to the work content of split steps.

    Returns:
        The planned tasks in route order.

    Raises:
        ValidationError: If the route is empty or a quantity is not positive.
    """
    if not route:
        raise ValidationError("error.route_empty", "route")
    planned: list[PlannedTask] = []
    for step in sorted(route, key=lambda s: s.sequence):
        batches = split_quantity(quantity, step.batch_size)
        for index, batch_quantity in enumerate(batches, start=1):
            content = step.work_content
            if len(batches) > 1:
                batch = {"index": index, "count": len(batches)}
                content = (
                    translate("generation.batch_note", locale, content=content, **batch)
                    if content
                    else translate("generation.batch", locale, **batch)
                )
            planned.append(
                PlannedTask(
                    generation_key=generation_key(work_order_id, step.sequence, step.process_id, index),
                    work_order_id=work_order_id,
                    work_order_process_id=step.work_order_process_id,
                    process_id=step.process_id,
                    sequence=step.sequence,
                    batch_index=index,
                    production_quantity=batch_quantity,
                    department_id=step.department_id,
                    priority=priority,
                    due_at=due_at,
                    work_content=content,
                )
            )
    return planned


def split_draft_quantities(quantity: int, first_part: int) -> tuple[int, int]:
    """Quantities of the two drafts a split makes.

    Args:
        quantity: The draft's production quantity.
        first_part: Quantity kept by the original draft.

    Returns:
        (kept, moved to the new draft), both positive and adding up to ``quantity``.

    Raises:
        ValidationError: If either part would be zero or negative.
    """
    if first_part <= 0 or first_part >= quantity:
        raise ValidationError("error.split_quantity", "quantity", maximum=quantity - 1)
    return first_part, quantity - first_part
