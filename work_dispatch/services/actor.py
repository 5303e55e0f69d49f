"""The acting user as services see it, and role checks."""

from __future__ import annotations

from dataclasses import dataclass, field

from work_dispatch.domain.enums import Role
from work_dispatch.domain.errors import PermissionDeniedError


@dataclass(frozen=True)
class Actor:
    """A logged-in, active user, resolved from a session token on every request."""

    user_id: int
    username: str
    display_name: str
    role: str
    department_ids: frozenset[int] = field(default_factory=frozenset)
    wip_limit: int = 3
    locale: str = "en"
    """The locale this session reads in: display text built by services uses it."""

    @property
    def is_supervisor(self) -> bool:
        """Supervisors and admins manage work orders, drafts, rules and the board."""
        return self.role in (Role.SUPERVISOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        """Admins also manage people: accounts, roles, departments and sessions."""
        return self.role == Role.ADMIN

    @property
    def is_operator(self) -> bool:
        """Operators work tasks on the shop floor."""
        return self.role == Role.OPERATOR

    @property
    def home_path(self) -> str:
        """The page this user lands on after login."""
        return "/operator" if self.is_operator else "/supervisor"


def require_actor(actor: Actor | None) -> Actor:
    """Reject anonymous requests.

    Args:
        actor: The resolved actor, or None when the session is not valid.

    Returns:
        The actor.

    Raises:
        PermissionDeniedError: If there is no valid session.
    """
    if actor is None:
        raise PermissionDeniedError("error.session_ended")
    return actor


def require_supervisor(actor: Actor | None) -> Actor:
    """Allow supervisors and admins only.

    Args:
        actor: The resolved actor.

    Returns:
        The actor.

    Raises:
        PermissionDeniedError: If anonymous or not a supervisor/admin.
    """
    actor = require_actor(actor)
    if not actor.is_supervisor:
        raise PermissionDeniedError("error.supervisors_only")
    return actor


def require_operator(actor: Actor | None) -> Actor:
    """Allow operators only.

    Args:
        actor: The resolved actor.

    Returns:
        The actor.

    Raises:
        PermissionDeniedError: If anonymous or not an operator.
    """
    actor = require_actor(actor)
    if not actor.is_operator:
        raise PermissionDeniedError("error.operators_only")
    return actor


def require_admin(actor: Actor | None) -> Actor:
    """Allow admins only.

    Args:
        actor: The resolved actor.

    Returns:
        The actor.

    Raises:
        PermissionDeniedError: If anonymous or not an admin.
    """
    actor = require_actor(actor)
    if not actor.is_admin:
        raise PermissionDeniedError("error.admins_only")
    return actor
