"""Generation plans: which draft tasks a work order's route should produce.

A plan is pure data. The generation key of every planned task is derived from the work
order, the route step and the batch index only, so planning twice gives the same keys
and inserting with "on conflict do nothing" makes generation idempotent.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from work_dispatch.domain.errors import ValidationError


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
        raise ValidationError("Quantity must be greater than zero.", "quantity")
    if batch_size is None or batch_size >= quantity:
        return [quantity]
    if batch_size <= 0:
        raise ValidationError("Batch size must be greater than zero.", "batch_size")
    full, rest = divmod(quantity, batch_size)
    return [batch_size] * full + ([rest] if rest else [])


def planned_task_count(quantity: int, route: list[RouteStep]) -> int:
    """How many tasks ``plan_work_order`` makes for this quantity and route.

    Checks what planning checks, so a work order that passes here plans without error.

    Args:
        quantity: Quantity ordered.
        route: The work order's processes.

    Returns:
        The number of planned tasks.

    Raises:
        ValidationError: If the route is empty or a quantity is not positive.
    """
    if not route:
        raise ValidationError("The route has no processes.", "route")
    return sum(len(split_quantity(quantity, step.batch_size)) for step in route)


def plan_work_order(
    work_order_id: int,
    quantity: int,
    priority: str,
    due_at: datetime | None,
    route: list[RouteStep],
) -> list[PlannedTask]:
    """Plan the draft tasks of one work order.

    Args:
        work_order_id: The work order's id.
        quantity: Quantity ordered.
        priority: Priority copied onto every task.
        due_at: Due time copied onto every task.
        route: The work order's processes.

    Returns:
        The planned tasks in route order.

    Raises:
        ValidationError: If the route is empty or a quantity is not positive.
    """
    if not route:
        raise ValidationError("The route has no processes.", "route")
    planned: list[PlannedTask] = []
    for step in sorted(route, key=lambda s: s.sequence):
        batches = split_quantity(quantity, step.batch_size)
        for index, batch_quantity in enumerate(batches, start=1):
            content = step.work_content
            if len(batches) > 1:
                content = (
                    f"{content} (batch {index}/{len(batches)})"
                    if content
                    else f"Batch {index}/{len(batches)}"
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
        raise ValidationError(
            f"Split must leave both drafts a positive quantity (between 1 and {quantity - 1}).",
            "quantity",
        )
    return first_part, quantity - first_part
