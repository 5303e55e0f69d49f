"""Admin: connect tablets — the addresses of this PC on the shop network, each with a QR code to scan."""

from __future__ import annotations

import reflex as rx

from work_dispatch.components.cards import section
from work_dispatch.components.shell import supervisor_shell
from work_dispatch.components.text import t, tf
from work_dispatch.states.connect import ConnectState
from work_dispatch.states.session import SessionState

ROUTE = "/supervisor/connect"
S = ConnectState


def _code_card(code) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.image(
                src=code.qr_svg,
                alt=code.url,
                width="220px",
                height="220px",
                background="white",
                class_name="pairing-qr",
            ),
            rx.link(
                code.url,
                href=code.url,
                size="5",
                weight="bold",
                font_family="var(--code-font-family)",
                class_name="pairing-url",
            ),
            rx.cond(
                code.interface != "",
                rx.badge(rx.icon("network", size=14), code.interface, variant="soft", color_scheme="gray"),
            ),
            align="center",
            spacing="3",
            padding="8px",
        ),
        size="2",
        class_name="pairing-code",
    )


def _no_address() -> rx.Component:
    return rx.callout(
        t("ui.connect.no_address"),
        icon="wifi-off",
        color_scheme="orange",
        id="no-address",
    )


def _origins_note() -> rx.Component:
    return rx.callout(
        rx.cond(
            S.automatic,
            rx.text(tf("ui.connect.origins_automatic", port=S.port)),
            rx.text(t("ui.connect.origins_explicit")),
        ),
        icon="shield-check",
        color_scheme="gray",
        variant="surface",
        size="1",
        flex="1 1 320px",
    )


def _names() -> rx.Component:
    return rx.cond(
        S.name_urls.length() > 0,
        rx.vstack(
            rx.text(t("ui.connect.names"), size="2", color_scheme="gray"),
            rx.hstack(
                rx.foreach(S.name_urls, lambda url: rx.code(url, size="3", variant="ghost")),
                spacing="4",
                wrap="wrap",
            ),
            spacing="1",
            id="name-urls",
        ),
    )


def _addresses() -> rx.Component:
    return section(
        t("ui.connect.open_on_tablet"),
        rx.text(t("ui.connect.how"), size="3"),
        rx.cond(
            S.codes.length() > 0,
            rx.grid(
                rx.foreach(S.codes, _code_card),
                columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                spacing="4",
                width="100%",
                id="pairing-codes",
            ),
            _no_address(),
        ),
        _names(),
        rx.hstack(
            _origins_note(),
            rx.button(
                rx.icon("refresh-cw", size=16),
                t("ui.connect.look_again"),
                on_click=S.refresh,
                variant="soft",
                min_height="44px",
                id="refresh-addresses",
            ),
            align="center",
            spacing="3",
            width="100%",
            wrap="wrap",
        ),
    )


def connect_page() -> rx.Component:
    """The addresses with their QR codes."""
    return supervisor_shell(
        rx.cond(
            S.loaded,
            rx.box(_addresses(), id="connect", width="100%"),
            rx.center(rx.spinner(size="3"), padding="48px"),
        ),
        title=t("ui.nav.connect"),
        current=ROUTE,
        user_name=SessionState.display_name,
        user_role=SessionState.role,
        on_logout=SessionState.logout,
    )
