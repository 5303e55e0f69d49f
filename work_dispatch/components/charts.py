"""KPI chart cards built on Reflex's recharts: stateless, fed with small lists of points.

Every series is drawn without animation (``is_animation_active=False``): the charts are
updated live, and an animation on each push would make them jitter instead of move.
Series names come from the catalogs; the points (already aggregated on the server) carry
their own labels (department, process, hour, week) in the reader's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import reflex as rx

from work_dispatch.components.text import t

CHART_HEIGHT = 260
TICK = {"fontSize": 12}
GRID = "var(--gray-5)"
IN_SERIES_ORDER = {"itemSorter": rx.Var("null")}
"""Legend and tooltip list the series in the order they are drawn (recharts sorts them by name)."""


@dataclass(frozen=True)
class Series:
    """One series of a chart.

    Attributes:
        key: The points' field it plots.
        label_key: Catalog key of its name (legend and tooltip).
        color: CSS colour.
        line: Draw a line instead of bars.
        dashed: Dashed line (a comparison, such as yesterday).
        stack: Stack id: bars with the same one are stacked.
        axis: Which y axis (``left`` or ``right``) of a chart with two.
    """

    key: str
    label_key: str
    color: str
    line: bool = False
    dashed: bool = False
    stack: str = ""
    axis: str = "left"


def _series(series: Series, vertical: bool) -> rx.Component:
    axis = {} if vertical else {"y_axis_id": series.axis}
    if series.line:
        return rx.recharts.line(
            data_key=series.key,
            name=t(series.label_key),
            stroke=series.color,
            stroke_width=2,
            stroke_dasharray="5 4" if series.dashed else "",
            dot=False,
            type_="monotone",
            is_animation_active=False,
            **axis,
        )
    stacked = {"stack_id": series.stack} if series.stack else {}
    return rx.recharts.bar(
        data_key=series.key,
        name=t(series.label_key),
        fill=series.color,
        max_bar_size=36,
        radius=0 if series.stack else 3,
        is_animation_active=False,
        **stacked,
        **axis,
    )


def chart(
    data: rx.Var,
    series: Sequence[Series],
    category: str = "name",
    *,
    vertical: bool = False,
    height: int | rx.Var = CHART_HEIGHT,
    category_width: int = 120,
    right_axis_unit: str = "",
) -> rx.Component:
    """A bar / line chart over aggregated points.

    Args:
        data: List var of points (dicts), one per category.
        series: What to draw, in order.
        category: The points' field naming the category (x axis, or y axis when vertical).
        vertical: Horizontal bars, categories down the left side (long names, many rows).
        height: Pixels.
        category_width: Width of the category axis when vertical.
        right_axis_unit: A unit for the right y axis ("%"), when some series use it.

    Returns:
        The chart, as wide as its container.
    """
    if vertical:
        axes = [
            rx.recharts.x_axis(type_="number", tick=TICK, allow_decimals=False),
            rx.recharts.y_axis(
                data_key=category, type_="category", width=category_width, tick=TICK, interval=0
            ),
        ]
    else:
        axes = [
            rx.recharts.x_axis(data_key=category, tick=TICK, min_tick_gap=8),
            rx.recharts.y_axis(y_axis_id="left", tick=TICK, allow_decimals=False, width=52),
        ]
        if any(s.axis == "right" for s in series):
            axes.append(
                rx.recharts.y_axis(
                    y_axis_id="right",
                    orientation="right",
                    tick=TICK,
                    domain=[0, 100],
                    unit=right_axis_unit,
                    width=48,
                )
            )
    return rx.recharts.composed_chart(
        rx.recharts.cartesian_grid(stroke=GRID, stroke_dasharray="3 3", vertical=False),
        *axes,
        *[_series(s, vertical) for s in series],
        rx.recharts.graphing_tooltip(custom_attrs=IN_SERIES_ORDER),
        rx.recharts.legend(icon_size=10, custom_attrs=IN_SERIES_ORDER),
        data=data,
        layout="vertical" if vertical else "horizontal",
        width="100%",
        height=height,
        margin={"top": 8, "right": 8, "left": 0, "bottom": 0},
    )


def export_menu(on_csv: rx.EventSpec, on_xlsx: rx.EventSpec, element_id: str) -> rx.Component:
    """A small download button offering a chart's table as CSV or XLSX.

    Args:
        on_csv: Handler call that downloads the CSV.
        on_xlsx: Handler call that downloads the XLSX.
        element_id: DOM id of the button (its items get ``-csv`` / ``-xlsx``).

    Returns:
        The menu.
    """
    return rx.menu.root(
        rx.menu.trigger(
            rx.icon_button(
                rx.icon("download", size=16),
                variant="ghost",
                color_scheme="gray",
                size="2",
                id=element_id,
                aria_label=t("ui.kpi.export"),
                title=t("ui.kpi.export"),
            )
        ),
        rx.menu.content(
            rx.menu.item(
                rx.icon("file-text", size=14), t("ui.kpi.export_csv"), on_click=on_csv, id=f"{element_id}-csv"
            ),
            rx.menu.item(
                rx.icon("file-spreadsheet", size=14),
                t("ui.kpi.export_xlsx"),
                on_click=on_xlsx,
                id=f"{element_id}-xlsx",
            ),
            size="2",
        ),
    )


def chart_card(
    title_key: str,
    body: rx.Component,
    *,
    subtitle: rx.Var | None = None,
    element_id: str,
    empty: rx.Var | bool = False,
    footer: rx.Component | None = None,
    actions: rx.Component | None = None,
    **data_attributes: rx.Var | str | int,
) -> rx.Component:
    """A titled card around one chart, with a line of figures or a note under the title.

    Args:
        title_key: Catalog key of the title.
        body: The chart.
        subtitle: A line under the title (figures, what is counted).
        element_id: The card's DOM id.
        empty: True when there is nothing to draw: a quiet note replaces the chart.
        footer: Something under the chart (a hint).
        actions: Buttons at the right of the title (the table's download).
        **data_attributes: ``data-*`` attributes of the card (what the chart shows, for tests
            and scripts), e.g. ``data_today_tasks=...``.

    Returns:
        The card.
    """
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(t(title_key), size="3", weight="bold"),
                rx.spacer(),
                actions if actions is not None else rx.fragment(),
                align="center",
                width="100%",
            ),
            rx.text(subtitle, size="2", color_scheme="gray", class_name="kpi-subtitle")
            if subtitle is not None
            else rx.fragment(),
            rx.cond(
                empty,
                rx.center(
                    rx.text(t("ui.kpi.empty"), size="2", color_scheme="gray"),
                    height=f"{CHART_HEIGHT // 2}px",
                    width="100%",
                    class_name="kpi-empty",
                ),
                rx.box(body, width="100%", class_name="kpi-chart"),
            ),
            footer if footer is not None else rx.fragment(),
            spacing="2",
            width="100%",
        ),
        size="2",
        width="100%",
        min_width="0",
        id=element_id,
        class_name="kpi-card",
        **data_attributes,
    )
