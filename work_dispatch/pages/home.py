"""The root URL: sends each visitor to their landing page."""

from __future__ import annotations

import reflex as rx

ROUTE = "/"


def home_page() -> rx.Component:
    """A spinner while the session is checked."""
    return rx.center(rx.spinner(size="3"), min_height="100vh")
