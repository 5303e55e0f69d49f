"""Login page."""

from __future__ import annotations

import reflex as rx

from work_dispatch.components.shell import brand_mark
from work_dispatch.services.auth import USERNAME_MAX
from work_dispatch.states.login import LoginState

ROUTE = "/login"


def _field(label: str, name: str, **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", html_for=name, size="2", weight="medium"),
        rx.input(name=name, id=name, size="3", width="100%", **props),
        spacing="1",
        width="100%",
    )


def login_page() -> rx.Component:
    """A centred card with the login form and the error, if any."""
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    brand_mark("6"),
                    rx.text("Shop-floor task generation and dispatch", size="3", color_scheme="gray"),
                    rx.separator(size="4"),
                    _field(
                        "Username",
                        "username",
                        placeholder="e.g. super1",
                        auto_focus=True,
                        auto_complete="username",
                        max_length=USERNAME_MAX + 16,
                    ),
                    _field("Password", "password", type="password", auto_complete="current-password"),
                    rx.cond(
                        LoginState.error != "",
                        rx.callout(
                            LoginState.error,
                            icon="triangle-alert",
                            color_scheme="red",
                            role="alert",
                            id="login-error",
                            width="100%",
                        ),
                    ),
                    rx.button("Log in", type="submit", size="3", width="100%", id="login-submit"),
                    rx.text(
                        "Demo: super1 / demo1234 (supervisor), print1 / demo1234 (operator)",
                        size="1",
                        color_scheme="gray",
                    ),
                    spacing="4",
                    width="100%",
                ),
                on_submit=LoginState.submit,
                reset_on_submit=False,
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
