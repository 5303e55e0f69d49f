"""Page frames: the supervisor sidebar layout and the operator tablet header."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

BRAND = "work_dispatch"


@dataclass(frozen=True)
class NavItem:
    """One entry of the supervisor navigation."""

    label: str
    href: str
    icon: str


SUPERVISOR_NAV: tuple[NavItem, ...] = (
    NavItem("Dashboard", "/supervisor", "layout-dashboard"),
    NavItem("Work orders", "/supervisor/work-orders", "clipboard-list"),
    NavItem("Draft review", "/supervisor/drafts", "file-pen-line"),
    NavItem("Live board", "/supervisor/board", "kanban"),
    NavItem("Assignment rules", "/supervisor/rules", "git-branch"),
    NavItem("Catalog", "/supervisor/catalog", "book-open"),
)
ADMIN_NAV: tuple[NavItem, ...] = (
    NavItem("People", "/supervisor/people", "users"),
    NavItem("Connect tablets", "/supervisor/connect", "qr-code"),
)


def brand_mark(size: str = "5") -> rx.Component:
    """The product's logo and name."""
    return rx.hstack(
        rx.center(
            rx.icon("workflow", size=18, color="white"),
            width="32px",
            height="32px",
            border_radius="8px",
            background="var(--accent-9)",
        ),
        rx.heading(BRAND, size=size, weight="bold"),
        align="center",
        spacing="2",
    )


_WIDE_ONLY = rx.breakpoints(initial="none", md="block")


def _nav_link(item: NavItem, current: str) -> rx.Component:
    active = item.href == current
    return rx.link(
        rx.hstack(
            rx.icon(item.icon, size=18),
            rx.text(item.label, size="3", weight="medium", display=_WIDE_ONLY),
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
        title=item.label,
        underline="none",
        width="100%",
    )


def user_badge(name: rx.Var, role: rx.Var, on_logout: rx.EventHandler) -> rx.Component:
    """Who is logged in, with a logout button (44 px touch target)."""
    return rx.hstack(
        rx.avatar(fallback=name.to(str)[0:1], size="2", radius="full"),
        rx.vstack(
            rx.text(name, size="2", weight="bold", trim="both"),
            rx.text(role, size="1", color_scheme="gray", trim="both", text_transform="capitalize"),
            spacing="1",
        ),
        rx.button(
            rx.icon("log-out", size=16),
            "Log out",
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
    title: str,
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
        user_badge(user_name, user_role, on_logout),
        align="center",
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
        brand_mark("5"),
        rx.spacer(),
        rx.hstack(
            rx.foreach(departments, lambda name: rx.badge(name, size="2", variant="soft")),
            spacing="2",
            wrap="wrap",
        ),
        user_badge(user_name, "Operator", on_logout),
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
        header,
        rx.box(*children, padding="20px", width="100%", max_width="1280px", margin_x="auto"),
        spacing="0",
        width="100%",
        min_height="100vh",
        background="var(--gray-2)",
    )
