"""Hostile input coercion."""

import pytest

from work_dispatch.domain.enums import Priority
from work_dispatch.domain.errors import ValidationError
from work_dispatch.services.validation import as_choice, as_date, as_id_list, as_int, as_text


def test_as_int_accepts_whole_numbers_in_any_harmless_form():
    assert as_int("12", "f", "F") == 12
    assert as_int(12.0, "f", "F") == 12
    assert as_int("", "f", "F", optional=True) is None


@pytest.mark.parametrize("value", ["1.5", "abc", True, [], {}, "9" * 40, 1.5])
def test_as_int_rejects_garbage(value):
    with pytest.raises(ValidationError):
        as_int(value, "f", "F")


@pytest.mark.parametrize("value", ["²", "-²", "--5", "-", "5-", "1e3", " ", "١٢٣٤٥٦٧٨٩٠١٢٣"])
def test_as_int_refuses_digit_lookalikes_with_a_clear_message(value):
    # "²".isdigit() is true but int("²") raises ValueError: the client must get a message, not a crash.
    with pytest.raises(ValidationError, match="whole number|required"):
        as_int(value, "f", "F")


def test_as_int_checks_range():
    with pytest.raises(ValidationError, match="at least 1"):
        as_int(0, "f", "F", minimum=1)


def test_as_text_trims_and_limits():
    assert as_text("  hi ", "f", "F", max_length=5) == "hi"
    with pytest.raises(ValidationError, match="at most 5"):
        as_text("x" * 6, "f", "F", max_length=5)
    with pytest.raises(ValidationError):
        as_text(5, "f", "F", max_length=5)


def test_choices_dates_and_id_lists():
    assert as_choice("high", Priority, "p", "Priority") == "high"
    with pytest.raises(ValidationError):
        as_choice("HIGH; drop table", Priority, "p", "Priority")
    assert str(as_date("2026-12-01", "d", "D")) == "2026-12-01"
    with pytest.raises(ValidationError):
        as_date("2026-13-01", "d", "D")
    assert as_id_list([3, "3", 4], "ids", "Tasks") == [3, 4]
    with pytest.raises(ValidationError):
        as_id_list("1,2", "ids", "Tasks")
    with pytest.raises(ValidationError):
        as_id_list(list(range(1, 1000)), "ids", "Tasks")
