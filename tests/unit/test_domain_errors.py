"""A refusal is a message key plus parameters, rendered for whoever reads it."""

from work_dispatch.domain.errors import ConflictError, ValidationError
from work_dispatch.i18n import msg


def test_an_error_renders_in_each_locale_and_keeps_its_field():
    error = ValidationError("error.at_least", field="quantity", label=msg("field.quantity"), minimum=1)
    assert (error.field, error.message, str(error)) == (
        "quantity",
        "Quantity must be at least 1.",
        error.message,
    )
    assert error.render("zh-CN") == "数量不能小于 1。"
    assert error.render("xx") == error.message
    assert error.detail == msg("error.at_least", label=msg("field.quantity"), minimum=1)


def test_a_message_can_be_passed_whole_and_nest_another():
    inner = ValidationError("error.route_empty", "route")
    outer = ValidationError(
        msg("error.in_work_order", order_number="202612001", error=inner.detail), inner.field
    )
    assert outer.field == "route"
    assert outer.message == "Work order 202612001: The route has no processes."
    assert outer.render("zh-CN") == "工单 202612001：工艺路线中没有工序。"


def test_an_unknown_key_shows_itself_instead_of_failing():
    assert ConflictError("error.no_such_key").render("zh-CN") == "error.no_such_key"
