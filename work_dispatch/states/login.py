"""The login page: password login, the shop-floor quick switch (username + PIN), device marking."""

from __future__ import annotations

from typing import Any

import reflex as rx

from work_dispatch.domain.errors import DomainError
from work_dispatch.i18n import translate
from work_dispatch.services import auth, devices, runner
from work_dispatch.services.actor import Actor
from work_dispatch.states.devices import DeviceState
from work_dispatch.states.locale import LocaleState
from work_dispatch.states.session import SessionState

MODES = ("password", "pin", "mark")
"""The login card's forms: password login, switch operator (PIN), mark this device."""


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    return value if isinstance(value, str) else ""


class LoginState(rx.State):
    """Error shown on the login form, the form shown, and whether the tablet was locked."""

    error: str = ""
    mode: str = "password"
    locked: bool = False

    @rx.event
    async def redirect_if_logged_in(self):
        """On the login page, a visitor who is already logged in goes home; others read their language."""
        self.error = ""
        session = await self.get_state(SessionState)
        actor = await session._actor()
        reading = await self.get_state(LocaleState)
        reading._settle(actor.locale if actor else None)
        if actor is not None:
            return rx.redirect(actor.home_path, replace=True)
        self.locked = self.router.url.query_parameters.get("locked", "") == "1"
        device = await self.get_state(DeviceState)
        # A marked tablet opens on the quick switch; an ordinary browser never shows it.
        self.mode = "pin" if await device._refresh() else "password"
        return None

    @rx.event
    def set_mode(self, mode: str):
        """Show another form of the card (the PIN form only on a marked device)."""
        if mode in MODES:
            self.mode, self.error = mode, ""

    async def _signed_in(self, token: str, actor: Actor):
        session = await self.get_state(SessionState)
        self.error, self.locked = "", False
        session.session_token = token
        session._remember(actor)
        return rx.redirect(actor.home_path, replace=True)

    async def _refused(self, error: DomainError) -> None:
        reading = await self.get_state(LocaleState)
        self.error = error.render(reading._settle(None))

    @rx.event
    async def submit(self, form_data: dict[str, Any]):
        """Check the credentials and open a session.

        Args:
            form_data: The form's ``username`` and ``password`` fields.
        """
        data = form_data if isinstance(form_data, dict) else {}
        session = await self.get_state(SessionState)
        device = await self.get_state(DeviceState)
        try:
            token, actor = await runner.run(
                auth.login,
                _text(data, "username"),
                _text(data, "password"),
                session._client_address(),
                device_token=device._token(),
            )
        except DomainError as error:
            return await self._refused(error)
        return await self._signed_in(token, actor)

    @rx.event
    async def submit_pin(self, form_data: dict[str, Any]):
        """Switch operator on a shop-floor device: username + PIN.

        Args:
            form_data: The form's ``username`` and ``pin`` fields.
        """
        data = form_data if isinstance(form_data, dict) else {}
        session = await self.get_state(SessionState)
        device = await self.get_state(DeviceState)
        try:
            token, actor = await runner.run(
                auth.pin_login,
                _text(data, "username"),
                _text(data, "pin"),
                device._token(),
                session._client_address(),
            )
        except DomainError as error:
            return await self._refused(error)
        return await self._signed_in(token, actor)

    @rx.event
    async def mark_device(self, form_data: dict[str, Any]):
        """Mark this browser as a shop-floor device, on a supervisor's username and password.

        Args:
            form_data: The form's ``name``, ``username`` and ``password`` fields.
        """
        data = form_data if isinstance(form_data, dict) else {}
        session = await self.get_state(SessionState)
        try:
            marked = await runner.run(
                devices.mark_device,
                _text(data, "username"),
                _text(data, "password"),
                _text(data, "name"),
                session._client_address(),
            )
        except DomainError as error:
            return await self._refused(error)
        device = await self.get_state(DeviceState)
        device._remember(marked)
        self.mode, self.error = "pin", ""
        reading = await self.get_state(LocaleState)
        return rx.toast.success(translate("devices.toast.marked", reading._settle(None), name=marked.name))
