"""Login page."""

from __future__ import annotations

import reflex as rx

from work_dispatch.components.shell import brand_mark, locale_switcher
from work_dispatch.components.text import t
from work_dispatch.services.auth import USERNAME_MAX
from work_dispatch.services.devices import DEVICE_NAME_MAX
from work_dispatch.states.devices import DeviceState
from work_dispatch.states.login import LoginState

PIN_MAX_LENGTH = 6

ROUTE = "/login"


def _field(label: rx.Var, name: str, id: str = "", **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", html_for=id or name, size="2", weight="medium"),
        rx.input(name=name, id=id or name, size="3", width="100%", **props),
        spacing="1",
        width="100%",
    )


def _error() -> rx.Component:
    return rx.cond(
        LoginState.error != "",
        rx.callout(
            LoginState.error,
            icon="triangle-alert",
            color_scheme="red",
            role="alert",
            id="login-error",
            width="100%",
        ),
    )


def _password_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            _field(
                t("ui.login.username"),
                "username",
                placeholder=t("ui.login.username_example"),
                auto_focus=True,
                auto_complete="username",
                max_length=USERNAME_MAX + 16,
            ),
            _field(t("ui.login.password"), "password", type="password", auto_complete="current-password"),
            _error(),
            rx.button(t("ui.login.submit"), type="submit", size="3", width="100%", id="login-submit"),
            rx.text(t("ui.login.demo_hint"), size="1", color_scheme="gray"),
            spacing="4",
            width="100%",
        ),
        on_submit=LoginState.submit,
        reset_on_submit=False,
        width="100%",
    )


def _pin_form() -> rx.Component:
    """Switch operator on a shop-floor device: username + PIN, big targets for gloved hands."""
    return rx.form(
        rx.vstack(
            rx.text(t("devices.login.switch_hint"), size="2", color_scheme="gray"),
            _field(
                t("ui.login.username"),
                "username",
                id="pin-username",
                auto_focus=True,
                auto_complete="username",
                max_length=USERNAME_MAX + 16,
            ),
            _field(
                t("devices.login.pin"),
                "pin",
                id="pin",
                type="password",
                input_mode="numeric",
                pattern="[0-9]*",
                max_length=PIN_MAX_LENGTH,
                auto_complete="off",
            ),
            _error(),
            rx.button(t("devices.login.switch"), type="submit", size="3", width="100%", id="pin-submit"),
            spacing="4",
            width="100%",
        ),
        on_submit=LoginState.submit_pin,
        reset_on_submit=True,
        width="100%",
    )


def _mark_form() -> rx.Component:
    """A supervisor marks this browser as a shop-floor device with their own credentials."""
    return rx.form(
        rx.vstack(
            rx.text(t("devices.mark.hint"), size="2", color_scheme="gray"),
            _field(t("devices.mark.name"), "name", id="device-name", max_length=DEVICE_NAME_MAX),
            _field(
                t("devices.mark.supervisor"),
                "username",
                id="mark-username",
                auto_complete="username",
                max_length=USERNAME_MAX + 16,
            ),
            _field(t("ui.login.password"), "password", id="mark-password", type="password"),
            _error(),
            rx.button(t("devices.mark.submit"), type="submit", size="3", width="100%", id="mark-submit"),
            spacing="4",
            width="100%",
        ),
        on_submit=LoginState.mark_device,
        reset_on_submit=True,
        width="100%",
    )


def _mode_link(key: str, mode: str) -> rx.Component:
    return rx.button(
        t(key), on_click=LoginState.set_mode(mode), variant="ghost", size="2", id=f"login-mode-{mode}"
    )


def _modes() -> rx.Component:
    """Links to the other forms: the quick switch only on a marked device."""
    return rx.hstack(
        rx.cond(LoginState.mode != "password", _mode_link("devices.login.use_password", "password")),
        rx.cond(
            (DeviceState.device_name != "") & (LoginState.mode != "pin"),
            _mode_link("devices.login.use_pin", "pin"),
        ),
        rx.cond(
            (DeviceState.device_name == "") & (LoginState.mode != "mark"),
            _mode_link("devices.mark.link", "mark"),
        ),
        spacing="4",
        wrap="wrap",
        justify="center",
        width="100%",
    )


def login_page() -> rx.Component:
    """A centred card with the login form (or the quick switch, or device marking) and the error, if any."""
    return rx.center(
        rx.box(locale_switcher("3"), position="absolute", top="16px", right="16px"),
        rx.card(
            rx.vstack(
                brand_mark("6"),
                rx.text(t("ui.login.tagline"), size="3", color_scheme="gray"),
                rx.cond(
                    DeviceState.device_name != "",
                    rx.badge(
                        rx.icon("tablet", size=14),
                        DeviceState.device_name,
                        size="2",
                        variant="soft",
                        id="device-badge",
                    ),
                ),
                rx.cond(
                    LoginState.locked,
                    rx.callout(
                        t("devices.login.locked"),
                        icon="lock",
                        color_scheme="amber",
                        id="idle-locked",
                        width="100%",
                    ),
                ),
                rx.separator(size="4"),
                rx.match(
                    LoginState.mode,
                    ("pin", rx.cond(DeviceState.device_name != "", _pin_form(), _password_form())),
                    ("mark", _mark_form()),
                    _password_form(),
                ),
                _modes(),
                spacing="4",
                width="100%",
            ),
            size="4",
            width="100%",
            max_width="420px",
        ),
        min_height="100vh",
        padding="16px",
        background="linear-gradient(160deg, var(--accent-2), var(--gray-3))",
    )
