"""The browser's session: its token, who it belongs to, page guards and logout."""

from __future__ import annotations

import reflex as rx

from work_dispatch.services import auth, runner
from work_dispatch.services.actor import Actor
from work_dispatch.states.live import REGISTRY

LOGIN_PATH = "/login"


def forget_session(client_token: str) -> None:
    """Stop pushing to a browser session (logout, expired or deactivated user)."""
    REGISTRY.drop(client_token)


class SessionState(rx.State):
    """Holds the session token (in localStorage, shared across tabs) and who is logged in."""

    session_token: str = rx.LocalStorage("", name="wd_session", sync=True)
    display_name: str = ""
    username: str = ""
    role: str = ""

    async def _actor(self) -> Actor | None:
        actor = await runner.run(auth.resolve, self.session_token)
        self._remember(actor)
        return actor

    def _remember(self, actor: Actor | None) -> None:
        self.display_name = actor.display_name if actor else ""
        self.username = actor.username if actor else ""
        self.role = actor.role if actor else ""

    def _client_address(self) -> str:
        return self.router.session.client_ip or ""

    @rx.event
    async def route_home(self):
        """Send the visitor to their landing page, or to login."""
        actor = await self._actor()
        return rx.redirect(actor.home_path if actor else LOGIN_PATH, replace=True)

    @rx.event
    async def logout(self):
        """Revoke the session on the server and forget it in the browser."""
        await runner.run(auth.logout, self.session_token, self._client_address())
        forget_session(self.router.session.client_token)
        # A shared tablet: wipe every loaded state of this tab, not just the token.
        root = self._get_root_state()
        for substate in root.substates.values():
            substate.reset()
        return rx.redirect(LOGIN_PATH, replace=True)


async def page_actor(
    state: rx.State, *, supervisor: bool = False, operator: bool = False, admin: bool = False
):
    """Resolve the actor for a page load and decide where a wrong visitor goes.

    Args:
        state: Any state of the page (used to reach the session).
        supervisor: The page is for supervisors and admins.
        operator: The page is for operators.
        admin: The page is for admins only.

    Returns:
        (actor, redirect): the actor when allowed, else None and the redirect to return.
    """
    session = await state.get_state(SessionState)
    actor = await session._actor()
    if actor is None:
        forget_session(state.router.session.client_token)
        return None, rx.redirect(LOGIN_PATH, replace=True)
    if (
        (supervisor and not actor.is_supervisor)
        or (operator and not actor.is_operator)
        or (admin and not actor.is_admin)
    ):
        return None, rx.redirect(actor.home_path, replace=True)
    return actor, None


async def current_actor(state: rx.State) -> Actor | None:
    """The actor behind the state's session, re-validated against the database.

    Args:
        state: Any state of the app.

    Returns:
        The actor or None.
    """
    session = await state.get_state(SessionState)
    return await session._actor()
