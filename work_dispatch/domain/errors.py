"""Errors raised by domain and service code, shown to users as they are."""

from __future__ import annotations


class DomainError(Exception):
    """A request that breaks a business rule; the message is user-facing.

    Args:
        message: What went wrong, phrased for the person who asked.
        field: The form field the message belongs next to, if any.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


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
