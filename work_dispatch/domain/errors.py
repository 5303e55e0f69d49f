"""Errors raised by domain and service code, shown to users in their own language."""

from __future__ import annotations

from typing import Any

from work_dispatch.i18n import DEFAULT_LOCALE, Message


class DomainError(Exception):
    """A request that breaks a business rule; its message is user-facing.

    The message is a catalog key plus parameters, rendered in the reader's locale by
    :meth:`render`; :attr:`message` is the English text (logs, tests).

    Examples:
        ``ValidationError("error.quantity_at_least", field="quantity", minimum=1)`` or
        ``ValidationError(msg("error.route_empty"), "route")``.

    Args:
        message: A message key (with ``params``) or a :class:`~work_dispatch.i18n.Message`.
        field: The form field the message belongs next to, if any.
        **params: Placeholder values when ``message`` is a key.
    """

    def __init__(self, message: str | Message, /, field: str | None = None, **params: Any) -> None:
        self.detail = message if isinstance(message, Message) else Message(message, params)
        self.field = field
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The message in English."""
        return self.detail.render(DEFAULT_LOCALE)

    def render(self, locale: str) -> str:
        """The message in ``locale`` (unknown locales fall back to English).

        Args:
            locale: The reader's locale.

        Returns:
            The text to show.
        """
        return self.detail.render(locale)


class ValidationError(DomainError):
    """Input that is malformed or out of range."""


class NotFoundError(DomainError):
    """A referenced record does not exist (or is not visible to the actor)."""


class PermissionDeniedError(DomainError):
    """The acting user may not do this."""


class ConflictError(DomainError):
    """Someone else changed the record first (lost compare-and-set)."""


class IllegalTransitionError(DomainError):
    """A task cannot move from its current status by this action."""
