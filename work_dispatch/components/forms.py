"""Form controls: labelled fields with their error, id-based selects."""

from __future__ import annotations

import reflex as rx

NONE_VALUE = "none"


def field_block(label: str, control: rx.Component, error: rx.Var | str = "", hint: str = "") -> rx.Component:
    """A label above a control, with the field's error (red) or a hint below.

    Args:
        label: Field label.
        control: The input or select.
        error: Error var for the field ("" when fine).
        hint: Grey help text.

    Returns:
        The block.
    """
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        control,
        rx.cond(
            error != "",
            rx.text(error, size="2", color_scheme="red", class_name="field-error"),
            rx.text(hint, size="1", color_scheme="gray") if hint else rx.fragment(),
        ),
        spacing="1",
        width="100%",
    )


def option_select(
    options: rx.Var,
    value: rx.Var | str,
    on_change,
    placeholder: str = "Choose…",
    none_label: str | None = None,
    **props,
) -> rx.Component:
    """A select over ``Option(value, label)`` items.

    Args:
        options: List var of options.
        value: Current value ("" for none).
        on_change: Handler receiving the chosen value.
        placeholder: Shown when nothing is chosen.
        none_label: When given, an extra first item meaning "none" (value ``none``).
        **props: Passed to the root (e.g. ``id``, ``size``).

    Returns:
        The select.
    """
    items = [rx.select.item(none_label, value=NONE_VALUE)] if none_label else []
    trigger_id = {"id": props.pop("id")} if "id" in props else {}
    return rx.select.root(
        rx.select.trigger(placeholder=placeholder, width="100%", **trigger_id),
        rx.select.content(*items, rx.foreach(options, lambda o: rx.select.item(o.label, value=o.value))),
        value=value,
        on_change=on_change,
        **props,
    )


def choice_select(choices: list[tuple[str, str]], value: rx.Var | str, on_change, **props) -> rx.Component:
    """A select over fixed (value, label) pairs.

    Args:
        choices: The pairs.
        value: Current value.
        on_change: Handler receiving the chosen value.
        **props: Passed to the root.

    Returns:
        The select.
    """
    trigger_id = {"id": props.pop("id")} if "id" in props else {}
    return rx.select.root(
        rx.select.trigger(width="100%", **trigger_id),
        rx.select.content(*[rx.select.item(label, value=v) for v, label in choices]),
        value=value,
        on_change=on_change,
        **props,
    )
