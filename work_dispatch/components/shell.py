"""Page frames: the supervisor sidebar layout, the operator tablet header and the language switcher."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx
from reflex.components.core.banner import has_too_many_connection_errors

from work_dispatch.components.text import CURRENT_LOCALE, enum_text, t
from work_dispatch.i18n import LOCALES
from work_dispatch.settings import settings
from work_dispatch.states.locale import LocaleState
from work_dispatch.states.session import SessionState

BRAND = "work_dispatch"
_WIDE_ONLY = rx.breakpoints(initial="none", md="block")


@dataclass(frozen=True)
class NavItem:
    """One entry of the supervisor navigation."""

    label_key: str
    href: str
    icon: str


SUPERVISOR_NAV: tuple[NavItem, ...] = (
    NavItem("ui.nav.dashboard", "/supervisor", "layout-dashboard"),
    NavItem("ui.nav.work_orders", "/supervisor/work-orders", "clipboard-list"),
    NavItem("ui.nav.drafts", "/supervisor/drafts", "file-pen-line"),
    NavItem("ui.nav.board", "/supervisor/board", "kanban"),
    NavItem("floor.title", "/supervisor/floor", "hard-hat"),
    NavItem("ui.nav.rules", "/supervisor/rules", "git-branch"),
    NavItem("ui.nav.catalog", "/supervisor/catalog", "book-open"),
)
ADMIN_NAV: tuple[NavItem, ...] = (
    NavItem("ui.nav.people", "/supervisor/people", "users"),
    NavItem("ui.nav.connect", "/supervisor/connect", "qr-code"),
)


def brand_mark(size: str = "5", name_when_wide: bool = False) -> rx.Component:
    """The product's logo and name (the name only on wide screens when ``name_when_wide``)."""
    return rx.hstack(
        rx.center(
            rx.icon("workflow", size=18, color="white"),
            width="32px",
            height="32px",
            border_radius="8px",
            background="var(--accent-9)",
        ),
        rx.heading(BRAND, size=size, weight="bold", display=_WIDE_ONLY if name_when_wide else "block"),
        align="center",
        spacing="2",
    )


def _nav_link(item: NavItem, current: str) -> rx.Component:
    active = item.href == current
    label = t(item.label_key)
    return rx.link(
        rx.hstack(
            rx.icon(item.icon, size=18),
            rx.text(label, size="3", weight="medium", display=_WIDE_ONLY),
            align="center",
            spacing="3",
            padding_x="12px",
            min_height="44px",
            border_radius="8px",
            width="100%",
            background="var(--accent-3)" if active else "transparent",
            color="var(--accent-11)" if active else "var(--gray-12)",
            _hover={"background": "var(--accent-2)"},
        ),
        href=item.href,
        title=label,
        underline="none",
        width="100%",
    )


def locale_switcher(size: str = "2") -> rx.Component:
    """The device's language: one tap switches every text of this tablet or browser.

    The choice stays on the device (a shared tablet keeps it whoever logs in) and becomes the
    signed-in user's preferred language.

    Args:
        size: Radix size of the control ("3" on tablets).

    Returns:
        The switcher.
    """
    return rx.segmented_control.root(
        *[
            rx.segmented_control.item(t(f"ui.locale.{locale}"), value=locale, class_name=f"locale-{locale}")
            for locale in LOCALES
        ],
        value=CURRENT_LOCALE,
        on_change=LocaleState.choose,
        size=size,
        radius="full",
        id="locale-switcher",
        aria_label=t("ui.shell.language"),
        flex_shrink="0",
    )


IDLE_LOCK_TRIGGER = "idle-lock-trigger"


def idle_lock(minutes: float | None = None) -> rx.Component:
    """The shared tablet's idle lock: no tap or key for ``minutes`` ends the session.

    The browser watches for input and, after the quiet period, fires ``SessionState.lock_idle``,
    which revokes the session and shows the login page saying why (log in again or switch
    operator). The server enforces the same timeout on its own (``auth.resolve``), so a tablet
    asleep or with a tampered page is locked all the same.

    Args:
        minutes: The quiet period; ``WD_TABLET_IDLE_MINUTES`` by default; 0 turns the lock off.

    Returns:
        An invisible component (nothing when the lock is off).
    """
    minutes = settings.tablet_idle_minutes if minutes is None else minutes
    if minutes <= 0:
        return rx.fragment()
    return rx.el.button(
        id=IDLE_LOCK_TRIGGER,
        on_click=SessionState.lock_idle,
        # Input anywhere resets the clock; after the quiet period the hidden button is clicked.
        on_mount=rx.call_script(
            """(() => {
              const quietMs = __quiet_ms__;
              if (!window.__wdIdleWatch) {
                window.__wdIdleWatch = true;
                const touched = () => { window.__wdLastInput = Date.now(); };
                for (const kind of ["pointerdown", "keydown", "touchstart", "wheel"]) {
                  window.addEventListener(kind, touched, { capture: true, passive: true });
                }
              }
              window.__wdLastInput = Date.now();
              clearInterval(window.__wdIdleTimer);
              window.__wdIdleTimer = setInterval(() => {
                const trigger = document.getElementById("__trigger_id__");
                if (!trigger) { clearInterval(window.__wdIdleTimer); return; }
                if (Date.now() - window.__wdLastInput >= quietMs) {
                  window.__wdLastInput = Date.now();
                  trigger.click();
                }
              }, 1000);
            })()""".replace("__quiet_ms__", str(round(minutes * 60_000))).replace(
                "__trigger_id__", IDLE_LOCK_TRIGGER
            )
        ),
        display="none",
        aria_hidden="true",
        tab_index=-1,
    )


def user_badge(name: rx.Var, role: rx.Var, on_logout: rx.EventHandler) -> rx.Component:
    """Who is logged in, with a logout button (44 px touch target)."""
    return rx.hstack(
        rx.avatar(fallback=name.to(str)[0:1], size="2", radius="full"),
        rx.vstack(
            rx.text(name, size="2", weight="bold", trim="both", white_space="nowrap"),
            rx.text(enum_text("role", role, capital=True), size="1", color_scheme="gray", trim="both"),
            spacing="1",
        ),
        rx.button(
            rx.icon("log-out", size=16),
            t("ui.shell.logout"),
            on_click=on_logout,
            variant="soft",
            color_scheme="gray",
            min_height="44px",
            id="logout-button",
        ),
        align="center",
        spacing="3",
    )


def supervisor_shell(
    *children: rx.Component,
    title: rx.Var,
    current: str,
    user_name: rx.Var,
    user_role: rx.Var,
    on_logout: rx.EventHandler,
) -> rx.Component:
    """Sidebar navigation plus a header with the page title and the user.

    Args:
        *children: Page content.
        title: Heading of the page.
        current: Path of the page, to highlight its nav entry.
        user_name: Display name var.
        user_role: Role var.
        on_logout: Handler of the logout button.

    Returns:
        The framed page.
    """
    sidebar = rx.vstack(
        rx.box(
            rx.box(brand_mark("4"), display=rx.breakpoints(initial="none", md="block")),
            rx.box(
                rx.icon("workflow", size=22, color="var(--accent-9)"),
                display=rx.breakpoints(initial="block", md="none"),
            ),
            padding="20px 12px 24px 12px",
        ),
        *[_nav_link(item, current) for item in SUPERVISOR_NAV],
        *[rx.cond(user_role == "admin", _nav_link(item, current)) for item in ADMIN_NAV],
        width="100%",
        height="100vh",
        position="sticky",
        top="0",
        padding_x="12px",
        spacing="1",
    )
    # The rail stretches to the page's full height; the navigation inside it stays in view.
    rail = rx.box(
        sidebar,
        width=rx.breakpoints(initial="68px", md="220px"),
        min_width=rx.breakpoints(initial="68px", md="220px"),
        align_self="stretch",
        border_right="1px solid var(--gray-4)",
        background="var(--gray-1)",
    )
    header = rx.hstack(
        rx.heading(title, size="6", id="page-title"),
        rx.spacer(),
        rx.hstack(
            locale_switcher(),
            user_badge(user_name, user_role, on_logout),
            align="center",
            spacing="3",
            margin_left="auto",
        ),
        align="center",
        # A long title on a tablet (768 px) pushed the logout button past the window's edge:
        # the language and the user now go under it, on the right.
        wrap="wrap",
        width="100%",
        padding="16px 24px",
        border_bottom="1px solid var(--gray-4)",
        background="var(--color-background)",
    )
    return rx.hstack(
        rail,
        rx.vstack(
            header,
            rx.box(*children, padding="24px", width="100%", min_width="0"),
            width="100%",
            min_width="0",
            spacing="0",
            min_height="100vh",
            background="var(--gray-2)",
        ),
        spacing="0",
        width="100%",
        align="start",
    )


def operator_shell(
    *children: rx.Component,
    user_name: rx.Var,
    departments: rx.Var,
    on_logout: rx.EventHandler,
) -> rx.Component:
    """Tablet frame: a thick header with the operator and their departments.

    Args:
        *children: Page content.
        user_name: Display name var.
        departments: List var of department names.
        on_logout: Handler of the logout button.

    Returns:
        The framed page.
    """
    header = rx.hstack(
        # On a portrait tablet the header keeps its room for the language, the user and logout.
        brand_mark("5", name_when_wide=True),
        rx.spacer(),
        rx.hstack(
            rx.foreach(departments, lambda name: rx.badge(name, size="2", variant="soft")),
            spacing="2",
            wrap="wrap",
        ),
        locale_switcher("3"),
        user_badge(user_name, "operator", on_logout),
        align="center",
        spacing="4",
        width="100%",
        padding="16px 20px",
        border_bottom="1px solid var(--gray-4)",
        background="var(--color-background)",
        position="sticky",
        top="0",
        z_index="10",
    )
    return rx.vstack(
        idle_lock(),
        header,
        rx.box(*children, padding="20px", width="100%", max_width="1280px", margin_x="auto"),
        spacing="0",
        width="100%",
        min_height="100vh",
        background="var(--gray-2)",
    )


def connection_notice() -> rx.Component:
    """While the websocket is down, on every page: in the reader's language (replaces Reflex's toast)."""
    return rx.cond(
        has_too_many_connection_errors,
        rx.box(
            rx.callout.root(
                rx.callout.icon(rx.icon("wifi-off")),
                rx.vstack(
                    rx.callout.text(t("ui.connection.lost_title"), weight="bold"),
                    rx.callout.text(t("ui.connection.lost_body")),
                    spacing="0",
                ),
                color_scheme="amber",
                role="alert",
                size="1",
            ),
            position="fixed",
            top="10px",
            left="50%",
            transform="translateX(-50%)",
            z_index="9999",
            max_width="min(560px, calc(100vw - 24px))",
            id="connection-notice",
        ),
    )
