"""The login form."""

from __future__ import annotations

from typing import Any

import reflex as rx

from work_dispatch.domain.errors import DomainError
from work_dispatch.services import auth, runner
from work_dispatch.states.session import SessionState


class LoginState(rx.State):
    """Error shown on the login form."""

    error: str = ""

    @rx.event
    async def redirect_if_logged_in(self):
        """On the login page, a visitor who is already logged in goes home."""
        self.error = ""
        session = await self.get_state(SessionState)
        actor = await session._actor()
        if actor is not None:
            return rx.redirect(actor.home_path, replace=True)

    @rx.event
    async def submit(self, form_data: dict[str, Any]):
        """Check the credentials and open a session.

        Args:
            form_data: The form's ``username`` and ``password`` fields.
        """
        data = form_data if isinstance(form_data, dict) else {}
        username = data.get("username")
        password = data.get("password")
        session = await self.get_state(SessionState)
        try:
            token, actor = await runner.run(
                auth.login,
                username if isinstance(username, str) else "",
                password if isinstance(password, str) else "",
                session._client_address(),
            )
        except DomainError as error:
            self.error = error.message
            return
        self.error = ""
        session.session_token = token
        session._remember(actor)
        return rx.redirect(actor.home_path, replace=True)
