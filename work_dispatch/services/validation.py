"""Coercion of hostile client input into well-typed values, with user-facing errors."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from work_dispatch.domain.errors import ValidationError
from work_dispatch.i18n import LOCALES, Message, supported_locale

MAX_INT = 2_000_000_000

Label = str | Message
"""A field's name for messages: a catalog key such as ``field.quantity``, or a message."""


def _label(label: Label, suffix: str = "") -> Message:
    if isinstance(label, Message):
        return Message(label.key + suffix, label.params) if suffix else label
    return Message(label + suffix)


def as_int(
    value: Any,
    field: str,
    label: Label,
    *,
    minimum: int | None = None,
    maximum: int = MAX_INT,
    optional: bool = False,
) -> int | None:
    """Parse an integer from client input.

    Args:
        value: Anything the client sent.
        field: Form field name for the error.
        label: Message key (or message) of the field's name, e.g. ``field.quantity``.
        minimum: Smallest allowed value.
        maximum: Largest allowed value.
        optional: Whether empty input means None.

    Returns:
        The integer, or None when optional and empty.

    Raises:
        ValidationError: If the value is not a whole number in range.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if optional:
            return None
        raise ValidationError("error.required", field, label=_label(label))
    if isinstance(value, bool):
        raise ValidationError("error.whole_number", field, label=_label(label))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        # isdecimal, not isdigit: int() refuses "²" and "--5", which isdigit/lstrip would let through.
        digits = text[1:] if text.startswith("-") else text
        if len(text) > 12 or not digits.isdecimal():
            raise ValidationError("error.whole_number", field, label=_label(label))
        value = int(text)
    if not isinstance(value, int):
        raise ValidationError("error.whole_number", field, label=_label(label))
    if minimum is not None and value < minimum:
        raise ValidationError("error.at_least", field, label=_label(label), minimum=minimum)
    if value > maximum:
        raise ValidationError("error.at_most", field, label=_label(label), maximum=maximum)
    return value


def as_text(value: Any, field: str, label: Label, *, max_length: int, required: bool = False) -> str:
    """Parse a string from client input, trimmed.

    Args:
        value: Anything the client sent.
        field: Form field name for the error.
        label: Message key (or message) of the field's name, e.g. ``field.quantity``.
        max_length: Longest allowed text.
        required: Whether empty text is an error.

    Returns:
        The trimmed text.

    Raises:
        ValidationError: If it is not text, too long, or required and empty.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError("error.not_text", field, label=_label(label))
    text = value.strip()
    if required and not text:
        raise ValidationError("error.required", field, label=_label(label))
    if len(text) > max_length:
        raise ValidationError("error.too_long", field, label=_label(label), max_length=max_length)
    return text


def as_flag(value: Any, field: str, label: Label) -> bool:
    """Accept a real boolean only (a forged "false" string is not one).

    Args:
        value: Anything the client sent.
        field: Form field name for the error.
        label: Message key (or message) of the field's name, e.g. ``field.quantity``.

    Returns:
        The boolean.

    Raises:
        ValidationError: If it is not a boolean.
    """
    if not isinstance(value, bool):
        raise ValidationError("error.yes_or_no", field, label=_label(label))
    return value


def as_form(value: Any) -> dict:
    """The form dictionary a handler sent.

    Args:
        value: Anything the client sent.

    Returns:
        The dictionary.

    Raises:
        ValidationError: If it is not a dictionary.
    """
    if not isinstance(value, dict):
        raise ValidationError("error.form_malformed")
    return value


def as_choice(value: Any, choices: type[StrEnum], field: str, label: Label) -> str:
    """Parse one of an enum's values.

    Args:
        value: Anything the client sent.
        choices: The allowed enum.
        field: Form field name for the error.
        label: Message key (or message) of the field's name, e.g. ``field.quantity``.

    Returns:
        The value.

    Raises:
        ValidationError: If it is not one of the enum's values.
    """
    allowed = [member.value for member in choices]
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError("error.one_of", field, label=_label(label), choices=", ".join(allowed))
    return value


def as_date(value: Any, field: str, label: Label, *, optional: bool = True) -> date | None:
    """Parse an ISO date (``YYYY-MM-DD``).

    Args:
        value: Anything the client sent.
        field: Form field name for the error.
        label: Message key (or message) of the field's name, e.g. ``field.quantity``.
        optional: Whether empty input means None.

    Returns:
        The date or None.

    Raises:
        ValidationError: If it is not a valid date.
    """
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        if optional:
            return None
        raise ValidationError("error.required", field, label=_label(label))
    if not isinstance(value, str) or len(value) > 10:
        raise ValidationError("error.date_format", field, label=_label(label))
    try:
        return date.fromisoformat(value.strip())
    except ValueError as error:
        raise ValidationError("error.date_format", field, label=_label(label)) from error


def as_datetime(value: Any, field: str, label: Label) -> datetime | None:
    """Parse an ISO date-time from a ``datetime-local`` input, read as UTC.

    Args:
        value: Anything the client sent.
        field: Form field name for the error.
        label: Message key (or message) of the field's name, e.g. ``field.quantity``.

    Returns:
        A timezone-aware datetime, or None for empty input.

    Raises:
        ValidationError: If it is not a valid date-time.
    """
    from datetime import UTC

    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value) > 32:
        raise ValidationError("error.datetime_format", field, label=_label(label))
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as error:
        raise ValidationError("error.datetime_format", field, label=_label(label)) from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def as_id_list(value: Any, field: str, label: Label, *, max_items: int = 500) -> list[int]:
    """Parse a list of positive ids.

    Args:
        value: Anything the client sent.
        field: Form field name for the error.
        label: Message key (or message) of the list's name; ``<key>.items`` names its items.
        max_items: Longest allowed list.

    Returns:
        Distinct ids in their first-seen order.

    Raises:
        ValidationError: If it is not a list of ids or is too long.
    """
    if not isinstance(value, list | tuple):
        raise ValidationError("error.not_a_list", field, label=_label(label))
    if len(value) > max_items:
        raise ValidationError("error.too_many_items", field, maximum=max_items, items=_label(label, ".items"))
    ids = [as_int(item, field, label, minimum=1) for item in value]
    return list(dict.fromkeys(ids))


def as_locale(value: Any, field: str = "locale") -> str:
    """Parse a supported locale (``en``, ``zh-CN``; aliases such as ``zh_cn`` or ``en-US`` too).

    Args:
        value: Anything the client sent.
        field: Form field name for the error.

    Returns:
        The supported locale.

    Raises:
        ValidationError: If the value names no supported locale.
    """
    locale = supported_locale(value) if isinstance(value, str) and len(value) <= 35 else None
    if locale is None:
        raise ValidationError("error.locale_unknown", field, choices=", ".join(LOCALES))
    return locale
