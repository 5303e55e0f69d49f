"""Coercion of hostile client input into well-typed values, with user-facing errors."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from work_dispatch.domain.errors import ValidationError

MAX_INT = 2_000_000_000


def as_int(
    value: Any,
    field: str,
    label: str,
    *,
    minimum: int | None = None,
    maximum: int = MAX_INT,
    optional: bool = False,
) -> int | None:
    """Parse an integer from client input.

    Args:
        value: Anything the client sent.
        field: Form field name for the error.
        label: Human name of the field.
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
        raise ValidationError(f"{label} is required.", field)
    if isinstance(value, bool):
        raise ValidationError(f"{label} must be a whole number.", field)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 12 or not text.lstrip("-").isdigit():
            raise ValidationError(f"{label} must be a whole number.", field)
        value = int(text)
    if not isinstance(value, int):
        raise ValidationError(f"{label} must be a whole number.", field)
    if minimum is not None and value < minimum:
        raise ValidationError(f"{label} must be at least {minimum}.", field)
    if value > maximum:
        raise ValidationError(f"{label} must be at most {maximum}.", field)
    return value


def as_text(value: Any, field: str, label: str, *, max_length: int, required: bool = False) -> str:
    """Parse a string from client input, trimmed.

    Args:
        value: Anything the client sent.
        field: Form field name for the error.
        label: Human name of the field.
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
        raise ValidationError(f"{label} must be text.", field)
    text = value.strip()
    if required and not text:
        raise ValidationError(f"{label} is required.", field)
    if len(text) > max_length:
        raise ValidationError(f"{label} is at most {max_length} characters.", field)
    return text


def as_flag(value: Any, field: str, label: str) -> bool:
    """Accept a real boolean only (a forged "false" string is not one).

    Args:
        value: Anything the client sent.
        field: Form field name for the error.
        label: Human name of the field.

    Returns:
        The boolean.

    Raises:
        ValidationError: If it is not a boolean.
    """
    if not isinstance(value, bool):
        raise ValidationError(f"{label} must be yes or no.", field)
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
        raise ValidationError("The form was not sent correctly; reload the page.")
    return value


def as_choice(value: Any, choices: type[StrEnum], field: str, label: str) -> str:
    """Parse one of an enum's values.

    Args:
        value: Anything the client sent.
        choices: The allowed enum.
        field: Form field name for the error.
        label: Human name of the field.

    Returns:
        The value.

    Raises:
        ValidationError: If it is not one of the enum's values.
    """
    allowed = [member.value for member in choices]
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError(f"{label} must be one of: {', '.join(allowed)}.", field)
    return value


def as_date(value: Any, field: str, label: str, *, optional: bool = True) -> date | None:
    """Parse an ISO date (``YYYY-MM-DD``).

    Args:
        value: Anything the client sent.
        field: Form field name for the error.
        label: Human name of the field.
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
        raise ValidationError(f"{label} is required.", field)
    if not isinstance(value, str) or len(value) > 10:
        raise ValidationError(f"{label} must be a date (YYYY-MM-DD).", field)
    try:
        return date.fromisoformat(value.strip())
    except ValueError as error:
        raise ValidationError(f"{label} must be a date (YYYY-MM-DD).", field) from error


def as_datetime(value: Any, field: str, label: str) -> datetime | None:
    """Parse an ISO date-time from a ``datetime-local`` input, read as UTC.

    Args:
        value: Anything the client sent.
        field: Form field name for the error.
        label: Human name of the field.

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
        raise ValidationError(f"{label} must be a date and time.", field)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as error:
        raise ValidationError(f"{label} must be a date and time.", field) from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def as_id_list(value: Any, field: str, label: str, *, max_items: int = 500) -> list[int]:
    """Parse a list of positive ids.

    Args:
        value: Anything the client sent.
        field: Form field name for the error.
        label: Human name of the list.
        max_items: Longest allowed list.

    Returns:
        Distinct ids in their first-seen order.

    Raises:
        ValidationError: If it is not a list of ids or is too long.
    """
    if not isinstance(value, list | tuple):
        raise ValidationError(f"{label} must be a list.", field)
    if len(value) > max_items:
        raise ValidationError(f"At most {max_items} {label.lower()} at once.", field)
    ids = [as_int(item, field, label, minimum=1) for item in value]
    return list(dict.fromkeys(ids))
