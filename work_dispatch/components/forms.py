"""Form controls: labelled fields with their error, id-based selects."""

from __future__ import annotations

import reflex as rx

from work_dispatch.components.text import t

NONE_VALUE = "none"


def field_block(
    label: rx.Var, control: rx.Component, error: rx.Var | str = "", hint: rx.Var | None = None
) -> rx.Component:
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
            rx.text(hint, size="1", color_scheme="gray") if hint is not None else rx.fragment(),
        ),
        spacing="1",
        width="100%",
    )


def option_select(
    options: rx.Var,
    value: rx.Var | str,
    on_change,
    placeholder: rx.Var | None = None,
    none_label: rx.Var | None = None,
    **props,
) -> rx.Component:
    """A select over ``Option(value, label)`` items.

    Args:
        options: List var of options.
        value: Current value ("" for none).
        on_change: Handler receiving the chosen value.
        placeholder: Shown when nothing is chosen ("Choose…" by default).
        none_label: When given, an extra first item meaning "none" (value ``none``).
        **props: Passed to the root (e.g. ``id``, ``size``).

    Returns:
        The select.
    """
    items = [rx.select.item(none_label, value=NONE_VALUE)] if none_label is not None else []
    trigger_id = {"id": props.pop("id")} if "id" in props else {}
    return rx.select.root(
        rx.select.trigger(
            placeholder=placeholder if placeholder is not None else t("ui.common.choose"),
            width="100%",
            **trigger_id,
        ),
        rx.select.content(*items, rx.foreach(options, lambda o: rx.select.item(o.label, value=o.value))),
        value=value,
        on_change=on_change,
        **props,
    )


def choice_select(choices: list[tuple[str, rx.Var]], value: rx.Var | str, on_change, **props) -> rx.Component:
    """A select over fixed (value, label) pairs.

    Args:
        choices: The pairs (labels from the catalogs).
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


def active_field(
    checked: rx.Var, on_change, on_text: rx.Var, off_text: rx.Var, error: rx.Var | str = "", **switch_props
) -> rx.Component:
    """An "Active" switch with a word for each position, as a labelled field.

    Args:
        checked: Whether it is on.
        on_change: Handler receiving the new position.
        on_text: Shown when on.
        off_text: Shown when off.
        error: The field's error var.
        **switch_props: Passed to the switch (``id``, ``disabled``).

    Returns:
        The field.
    """
    return field_block(
        t("ui.common.active_field"),
        rx.hstack(
            rx.switch(checked=checked, on_change=on_change, **switch_props),
            rx.text(rx.cond(checked, on_text, off_text), size="2"),
            align="center",
            spacing="2",
            min_height="32px",
        ),
        error,
    )


def form_actions(
    editing: rx.Var, new_label: rx.Var, on_new, save_label: rx.Var, on_save, save_id: str
) -> rx.Component:
    """The buttons under a create/edit form: start over (while editing) and save.

    Args:
        editing: Whether an existing record is in the form.
        new_label: Label of the start-over button.
        on_new: Handler emptying the form.
        save_label: Label of the save button.
        on_save: Handler saving the form.
        save_id: Element id of the save button.

    Returns:
        The button row.
    """
    return rx.hstack(
        rx.cond(editing, rx.button(new_label, variant="ghost", on_click=on_new)),
        rx.button(rx.icon("save", size=16), save_label, on_click=on_save, id=save_id),
        justify="end",
        width="100%",
        spacing="3",
    )


def export_buttons(on_export, id_prefix: str, size: str = "2") -> list[rx.Component]:
    """A list's "Export CSV" and "Export XLSX" buttons (``type="button"``: never a form submit).

    Args:
        on_export: The state's export handler, called with ``"csv"`` or ``"xlsx"``.
        id_prefix: Prefix of the buttons' ids (``<prefix>-export-csv`` / ``-xlsx``).
        size: Button size.

    Returns:
        The two buttons.
    """
    return [
        rx.button(
            rx.icon(icon, size=14),
            t(label_key),
            type="button",
            variant="outline",
            size=size,
            on_click=on_export(fmt),
            id=f"{id_prefix}-export-{fmt}",
            title=t("ui.export.hint"),
            white_space="nowrap",
        )
        for fmt, icon, label_key in (
            ("csv", "file-text", "ui.export.csv"),
            ("xlsx", "file-spreadsheet", "ui.export.xlsx"),
        )
    ]
