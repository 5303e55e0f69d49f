"""The browser's session: its token, who it belongs to, and logout (page guards: states/mixins.py)."""

from __future__ import annotations

import reflex as rx

from work_dispatch.realtime.registry import REGISTRY
from work_dispatch.services import auth, login_throttle, runner
from work_dispatch.services.actor import Actor
from work_dispatch.settings import settings

LOGIN_PATH = "/login"
LOCKED_PATH = "/login?locked=1"
"""Where the idle lock sends the tablet: the login page, saying why."""


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
        if len(self.session_token) > auth.TOKEN_MAX:
            # Browser storage is client input: a forged giant token is dropped, not kept in state.
            self.session_token = ""
        actor = await runner.run(auth.resolve, self.session_token)
        self._remember(actor)
        return actor

    def _remember(self, actor: Actor | None) -> None:
        self.display_name = actor.display_name if actor else ""
        self.username = actor.username if actor else ""
        self.role = actor.role if actor else ""

    def _client_address(self) -> str:
        # Reflex's own trusted_proxy_hops stays 0: the socket peer is under "asgi-scope-client".
        headers = self.router.headers.raw_headers
        return login_throttle.client_address(
            headers.get("asgi-scope-client") or self.router.session.client_ip or "",
            headers.get("x-forwarded-for"),
            settings.trusted_proxy_hops,
        )

    @rx.event
    async def route_home(self):
        """Send the visitor to their landing page, or to login."""
        actor = await self._actor()
        return rx.redirect(actor.home_path if actor else LOGIN_PATH, replace=True)

    @rx.event
    async def logout(self):
        """Revoke the session on the server and forget it in the browser."""
        await runner.run(auth.logout, self.session_token, self._client_address())
        return self._wipe_tab(LOGIN_PATH)

    @rx.event
    async def lock_idle(self):
        """The tablet's idle lock fired (no tap or key for ``WD_TABLET_IDLE_MINUTES``): end the session.

        The login page then says why, and offers logging in again or switching operator.
        """
        await runner.run(auth.lock, self.session_token, self._client_address())
        return self._wipe_tab(LOCKED_PATH)

    def _wipe_tab(self, then: str):
        forget_session(self.router.session.client_token)
        # A shared tablet: wipe every loaded state of this tab, not just the token.
        root = self._get_root_state()
        for substate in root.substates.values():
            if not getattr(substate, "KEEP_ON_LOGOUT", False):  # the device's language and marking stay
                substate.reset()
        return rx.redirect(then, replace=True)
