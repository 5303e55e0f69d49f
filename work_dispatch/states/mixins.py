"""Plumbing every state shares: acting as the session's user, and keyset paging.

A handler that touches data does three things, always the same way: resolve the session's
actor (or send the visitor to the login page, or a page guard to the actor's home), run the
service in a worker thread, and show a refused request (``DomainError``) as a toast or next
to a form field. :class:`ServiceMixin` does them once; a handler only says which service, and
what to do with the result or the error.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import reflex as rx

from work_dispatch.domain.errors import DomainError
from work_dispatch.realtime.registry import REGISTRY, Watcher
from work_dispatch.services import auth, runner
from work_dispatch.services.actor import Actor
from work_dispatch.states.locale import LocaleState
from work_dispatch.states.session import LOGIN_PATH, SessionState, forget_session

T = TypeVar("T")
Reply = Any
"""What a handler returns to the browser: an event spec, a list of them, or None."""
MAX_PAGES_BACK = 100
"""How many previous pages a keyset pager remembers (a bound on client-driven state)."""


def field_errors(error: DomainError, locale: str) -> dict[str, str]:
    """A refusal as a form's errors: the message under its field, or under "form".

    Args:
        error: What the service raised.
        locale: The reader's locale.

    Returns:
        Field name → message.
    """
    return {error.field or "form": error.render(locale)}


async def _settle(value: Any) -> Reply:
    return await value if inspect.isawaitable(value) else value


class ServiceMixin(rx.State, mixin=True):
    """Run services as the session's user and turn refusals into toasts or field errors."""

    _locale: str = "en"
    """The locale of the last actor resolved in this handler (toasts and field errors use it)."""

    async def _session_actor(self) -> Actor | None:
        """The session's actor, re-validated against the database; None ends the session here.

        The actor reads in the session's locale (see states/locale.py), so every service
        called with it renders its text in the reader's language.
        """
        session = await self.get_state(SessionState)
        actor = await session._actor()
        if actor is None:
            forget_session(self.router.session.client_token)
            return None
        reading = await self.get_state(LocaleState)
        self._locale = reading._settle(actor.locale)
        return dataclasses.replace(actor, locale=self._locale)

    def _signed_out(self) -> Reply:
        """What a handler answers when the session has no valid user any more."""
        return rx.redirect(LOGIN_PATH)

    def _error_toast(self, error: DomainError) -> Reply:
        """How a refused request is shown when the handler gives no ``on_error``."""
        return rx.toast.error(error.render(self._locale))

    async def _as_actor(self, then: Callable[[Actor], Awaitable[Reply]]) -> Reply:
        """Call ``then(actor)`` for the session's actor, or answer as signed out.

        Args:
            then: The handler's work; its result is the reply.

        Returns:
            The reply for the browser.
        """
        actor = await self._session_actor()
        if actor is None:
            return self._signed_out()
        return await then(actor)

    async def _guard_page(
        self, *, supervisor: bool = False, operator: bool = False, admin: bool = False
    ) -> tuple[Actor | None, Reply]:
        """Resolve the actor for a page load and decide where a wrong visitor goes.

        Args:
            supervisor: The page is for supervisors and admins.
            operator: The page is for operators.
            admin: The page is for admins only.

        Returns:
            (actor, None) when allowed, else (None, the redirect to login or to the actor's home).
        """
        actor = await self._session_actor()
        if actor is None:
            return None, rx.redirect(LOGIN_PATH, replace=True)
        if (
            (supervisor and not actor.is_supervisor)
            or (operator and not actor.is_operator)
            or (admin and not actor.is_admin)
        ):
            return None, rx.redirect(actor.home_path, replace=True)
        return actor, None

    async def _open_page(
        self,
        then: Callable[[Actor], Awaitable[Reply]],
        *,
        supervisor: bool = False,
        operator: bool = False,
        admin: bool = False,
    ) -> Reply:
        """Guard a page (``on_load``) and call ``then(actor)`` for an allowed visitor.

        Args:
            then: Loads the page for the actor; its result is the reply.
            supervisor: The page is for supervisors and admins.
            operator: The page is for operators.
            admin: The page is for admins only.

        Returns:
            The redirect for a wrong visitor, else ``then``'s reply.
        """
        actor, redirect = await self._guard_page(supervisor=supervisor, operator=operator, admin=admin)
        if redirect is not None:
            return redirect
        return await then(actor)

    async def _act(
        self,
        service: Callable[..., T],
        *args: Any,
        then: Callable[[Actor, T], Any] | None = None,
        on_error: Callable[[Actor, DomainError], Any] | None = None,
        **kwargs: Any,
    ) -> Reply:
        """Run ``service(db, actor, *args, **kwargs)`` in a worker thread as the session's actor.

        Args:
            service: A service function (session first, actor second).
            *args: Its other arguments, as the client sent them (the service validates them).
            then: ``(actor, result)`` → reply, sync or async, after success.
            on_error: ``(actor, error)`` → reply, sync or async, when the service refuses;
                by default an error toast.
            **kwargs: Its keyword arguments.

        Returns:
            The login redirect when signed out, else the reply of ``then`` or ``on_error``.
        """

        async def call(actor: Actor) -> Reply:
            try:
                result = await runner.run(service, actor, *args, **kwargs)
            except DomainError as error:
                return await _settle(on_error(actor, error) if on_error else self._error_toast(error))
            return await _settle(then(actor, result)) if then else None

        return await self._as_actor(call)


class KeysetPagerMixin(ServiceMixin, mixin=True):
    """Previous / next over a keyset-paged list, and back to the first page when filters change.

    The state implements ``_fetch_page(actor)``: load the page that starts at
    ``self._cursor()``, set its rows and ``self.next_cursor`` ("" on the last page).
    """

    cursor_stack: list[str] = []
    """Cursors of the pages before the one shown; empty on the first page (at most ``MAX_PAGES_BACK``)."""
    next_cursor: str = ""
    """Where the next page starts; "" on the last page."""

    def _cursor(self) -> str:
        """Where the shown page starts ("" for the first page)."""
        return self.cursor_stack[-1] if self.cursor_stack else ""

    async def _fetch_page(self, actor: Actor) -> Reply:
        raise NotImplementedError

    async def _show_page(self, stack: list[str]) -> Reply:
        async def show(actor: Actor) -> Reply:
            self.cursor_stack = stack
            return await self._fetch_page(actor)

        return await self._as_actor(show)

    async def _first_page(self) -> Reply:
        """Reload from the first page (after a filter changed)."""
        return await self._show_page([])

    @rx.event
    async def next_page(self):
        """The next page."""
        if not self.next_cursor:
            return None
        # Bounded: after MAX_PAGES_BACK pages, "previous" eventually lands on the first page.
        return await self._show_page([*self.cursor_stack, self.next_cursor][-MAX_PAGES_BACK:])

    @rx.event
    async def previous_page(self):
        """The previous page."""
        return await self._show_page(self.cursor_stack[:-1])


class LiveViewMixin(rx.State, mixin=True):
    """A page the fan-out keeps live (task center, board, dashboard, floor, work-order list)."""

    async def _watch(
        self, actor: Actor, view: str, shown: dict[str, Any] | None = None, **fields: Any
    ) -> Watcher:
        """Register this session for pushes to ``view``; call it before reading the page's data.

        Watching first means a change committed after the read is pushed (the push waits for
        the running handler); registering after the read would miss one that landed in between.
        Once the data is read, ``REGISTRY.register(watcher, shown=...)`` records what was shown.

        Args:
            actor: The session's user.
            view: One of the registry's views.
            shown: Part of the page → data it already shows (see ``SessionRegistry.register``).
            **fields: More of the watch (departments, filters): see :class:`Watcher`.

        Returns:
            The registered watch.
        """
        session = await self.get_state(SessionState)
        watcher = Watcher(
            token=self.router.session.client_token,
            view=view,
            user_id=actor.user_id,
            locale=actor.locale,
            session_hash=auth.hash_token(session.session_token),
            **fields,
        )
        REGISTRY.register(watcher, shown=shown)
        return watcher

    def _assign_changed(self, **values: Any) -> None:
        """Assign only the vars whose value differs from what the page holds.

        Reflex sends every assigned var, equal or not; a push that leaves a list as it was then
        costs nothing to encode, send or render.

        Args:
            **values: Var name → its fresh value.
        """
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)
