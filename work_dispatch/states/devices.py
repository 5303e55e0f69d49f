"""The browser as a shop-floor device: its device token (kept across logouts) and its name."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from work_dispatch.services import auth, devices, runner

DEVICE_STORAGE_KEY = "wd_device"


class DeviceState(rx.State):
    """The shop-floor device token of this browser, if a supervisor marked it."""

    KEEP_ON_LOGOUT: ClassVar[bool] = True
    """Logout and the idle lock wipe every other state of the tab; the device stays marked."""

    device_token: str = rx.LocalStorage("", name=DEVICE_STORAGE_KEY, sync=True)
    """The raw device token ("" on an ordinary browser); the server keeps only its hash."""
    device_name: str = ""
    """The device's name while it is marked ("" otherwise)."""

    def _token(self) -> str:
        """The device token, with a forged oversized value dropped rather than kept in state."""
        if len(self.device_token) > auth.TOKEN_MAX:
            self.device_token = ""
        return self.device_token

    async def _refresh(self) -> str:
        """Look the device up again (an admin may have unmarked it); returns its name or ""."""
        token = self._token()
        self.device_name = await runner.run(devices.device_name, token) if token else ""
        return self.device_name

    def _remember(self, marked: devices.MarkedDevice) -> None:
        self.device_token, self.device_name = marked.token, marked.name
