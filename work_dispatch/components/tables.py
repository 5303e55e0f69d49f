"""Tables that scroll sideways on narrow screens instead of squeezing their columns."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import reflex as rx

from work_dispatch.components.text import t


def scroll_table(
    headers: Sequence[rx.Var | str], rows: rx.Var, render_row: Callable, size: str = "1", **table_props
) -> rx.Component:
    """A table over a list var, with one header row, in a horizontally scrolling box.

    Args:
        headers: Column titles (catalog text; "" for an action column).
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
            # Chinese breaks between any two characters: keep words whole, scroll sideways instead.
            word_break="keep-all",
            **table_props,
        ),
        overflow_x="auto",
        width="100%",
    )


def pager(
    at_first: rx.Var,
    at_last: rx.Var,
    on_previous,
    on_next,
    summary: rx.Component | None = None,
    next_id: str | None = None,
) -> rx.Component:
    """Previous/Next buttons under a keyset-paged list, with an optional summary on the left.

    Args:
        at_first: True on the first page (Previous disabled).
        at_last: True on the last page (Next disabled).
        on_previous: Handler of Previous.
        on_next: Handler of Next.
        summary: Shown on the left (e.g. the row count).
        next_id: Element id of the Next button.

    Returns:
        The pager row.
    """
    return rx.hstack(
        summary if summary is not None else rx.fragment(),
        rx.spacer(),
        rx.button(t("ui.common.previous"), variant="soft", on_click=on_previous, disabled=at_first),
        rx.button(
            t("ui.common.next"),
            variant="soft",
            on_click=on_next,
            disabled=at_last,
            **({"id": next_id} if next_id else {}),
        ),
        width="100%",
        align="center",
        spacing="3",
    )
