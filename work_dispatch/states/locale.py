"""The language a browser session reads in, and the header's language switcher.

Rules, first match wins:

1. the device's own choice (``wd_locale`` in localStorage): a shared tablet in a Chinese-speaking
   hall stays Chinese whoever logs in; set by the switcher or by ``?lang=`` in any page's URL;
2. the signed-in user's preferred locale (``User.locale``);
3. the browser's ``Accept-Language`` (what the login page follows);
4. English.

Unknown values at any step (a hand-edited localStorage, ``?lang=xx``, an old profile value)
are skipped, never shown: the next rule decides.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any, ClassVar

import reflex as rx
from reflex_base.registry import RegistrationContext
from reflex_base.utils.exceptions import ReflexRuntimeError

from work_dispatch.domain.errors import DomainError
from work_dispatch.i18n import negotiate, supported_locale
from work_dispatch.services import people, runner
from work_dispatch.states.session import SessionState

LOCALE_STORAGE_KEY = "wd_locale"
URL_PARAMETER = "lang"
DEVICE_LOCALE_MAX = 20
"""Longest device language choice kept (a locale tag; anything longer is dropped)."""


def effective_locale(device: Any, preferred: Any, accept_language: Any) -> str:
    """The locale a session reads in, by the rules of this module.

    Args:
        device: The device's own choice ("" for none).
        preferred: The signed-in user's preferred locale (None for a visitor).
        accept_language: The browser's ``Accept-Language`` header.

    Returns:
        A supported locale.
    """
    return supported_locale(device) or supported_locale(preferred) or negotiate(accept_language)


class LocaleState(rx.State):
    """The device's language choice and the session's effective locale."""

    KEEP_ON_LOGOUT: ClassVar[bool] = True
    """Logout wipes every other state of the tab; the device's language stays."""

    device_locale: str = rx.LocalStorage("", name=LOCALE_STORAGE_KEY, sync=True)
    """The device's own choice; "" follows the user or the browser."""
    locale: str = ""
    """The effective locale ("" until the server has decided: pages then render in English)."""
    _url_choice_seen: str = ""

    def _settle(self, preferred: str | None) -> str:
        """Decide the locale for this request (a URL ``?lang=`` first becomes the device's choice).

        Args:
            preferred: The signed-in user's preferred locale, None for a visitor.

        Returns:
            The effective locale, also kept in :attr:`locale`.
        """
        asked = self.router.url.query_parameters.get(URL_PARAMETER, "")
        asked = asked[:20] if isinstance(asked, str) else ""
        if asked and asked != self._url_choice_seen:
            # Once per link: a later choice in the switcher is not undone by the same URL.
            self._url_choice_seen = asked
            from_url = supported_locale(asked)
            if from_url is not None and from_url != self.device_locale:
                self.device_locale = from_url
        if len(self.device_locale) > DEVICE_LOCALE_MAX:
            self.device_locale = ""  # browser storage is client input: no giant values kept in state
        locale = effective_locale(self.device_locale, preferred, self.router.headers.accept_language)
        if locale != self.locale:
            self.locale = locale
        return locale

    @rx.event
    async def choose(self, locale: str | list[str]):
        """The switcher: this device reads ``locale`` from now on, and so does the signed-in user.

        Args:
            locale: A supported locale; anything else (a list from a forged event...) changes nothing.
        """
        chosen = supported_locale(locale) if isinstance(locale, str) else None
        if chosen is None:
            return None
        self.device_locale = chosen
        self.locale = chosen
        session = await self.get_state(SessionState)
        actor = await session._actor()
        if actor is not None:
            with suppress(DomainError):  # the device's choice stands even if the profile cannot take it
                await runner.run(people.set_my_locale, actor, chosen)
        return _page_load_events(self.router.url.path)


def _page_load_events(path: str) -> list[Any] | None:
    """The ``on_load`` handlers of the page at ``path``, run again after a switch.

    Text built on the server (dates, history, notifications, errors) then follows the new language.
    """
    try:
        return list(RegistrationContext.get().app.get_load_events(path)) or None
    except (LookupError, ReflexRuntimeError):  # no app registered (unit tests)
        return None
