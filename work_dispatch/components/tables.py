"""Tables that scroll sideways on narrow screens instead of squeezing their columns."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import reflex as rx


def scroll_table(
    headers: Sequence[str], rows: rx.Var, render_row: Callable, size: str = "1", **table_props
) -> rx.Component:
    """A table over a list var, with one header row, in a horizontally scrolling box.

    Args:
        headers: Column titles ("" for an action column).
        rows: List var of row items.
        render_row: Renders one item as an ``rx.table.row``.
        size: Radix table size.
        **table_props: Passed to the table root (e.g. ``id``).

    Returns:
        The table.
    """
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(title) for title in headers])),
            rx.table.body(rx.foreach(rows, render_row)),
            size=size,
            width="100%",
            **table_props,
        ),
        overflow_x="auto",
        width="100%",
    )
