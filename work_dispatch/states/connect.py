"""Connect tablets page (admins): the addresses a tablet opens, with their QR codes."""

from __future__ import annotations

import asyncio

import reflex as rx

from work_dispatch.domain.errors import DomainError
from work_dispatch.services import connect
from work_dispatch.services.actor import Actor
from work_dispatch.services.connect import PairingCode
from work_dispatch.states.mixins import ServiceMixin


class ConnectState(ServiceMixin, rx.State):
    """The addresses of this PC for tablets, looked up when the page loads or on request."""

    codes: list[PairingCode] = []
    name_urls: list[str] = []
    automatic: bool = True
    port: int = 0
    loaded: bool = False

    async def _look_up(self, actor: Actor):
        try:
            pairing = await asyncio.to_thread(connect.tablet_pairing, actor)
        except DomainError as error:
            return self._error_toast(error)
        self.codes, self.name_urls = pairing.codes, pairing.name_urls
        self.automatic, self.port, self.loaded = pairing.automatic, pairing.port, True
        return None

    @rx.event
    async def load(self):
        """Guard the page (admins only) and look the addresses up."""
        return await self._open_page(self._look_up, admin=True)

    @rx.event
    async def refresh(self):
        """Look the addresses up again (after plugging in a cable or joining the Wi-Fi)."""
        return await self._as_actor(self._look_up)
