"""The Reflex app: pages and their guards."""

from __future__ import annotations

import logging

import reflex as rx
from reflex.components.core.banner import connection_pulser
from reflex.event import EventSpec

from work_dispatch.components.shell import connection_notice
from work_dispatch.components.text import outside_state_text, t, texts_of
from work_dispatch.domain.errors import DomainError
from work_dispatch.downloads import downloads_app
from work_dispatch.health import health_app
from work_dispatch.i18n import LOCALES
from work_dispatch.lifespan import worker_lifespan
from work_dispatch.network import LocalOriginCheck
from work_dispatch.pages import (
    board,
    catalog,
    connect,
    drafts,
    floor,
    home,
    login,
    people,
    rules,
    supervisor_dashboard,
    task_center,
    work_order_form,
    work_orders,
)
from work_dispatch.redis_watch import gate_websockets, watch_redis
from work_dispatch.security_headers import with_security_headers
from work_dispatch.settings import settings
from work_dispatch.states.board import BoardState
from work_dispatch.states.catalog import CatalogState
from work_dispatch.states.connect import ConnectState
from work_dispatch.states.dashboard import DashboardState
from work_dispatch.states.drafts import DraftBoardState
from work_dispatch.states.floor import AbsenceState, CalendarState, FloorState
from work_dispatch.states.login import LoginState
from work_dispatch.states.people import PeopleState, ThrottleState
from work_dispatch.states.rules import RulesState
from work_dispatch.states.session import SessionState
from work_dispatch.states.task_center import TaskCenterState
from work_dispatch.states.work_orders import WorkOrderFormState, WorkOrdersState
from work_dispatch.workers import respawn_failed_workers

logger = logging.getLogger("work_dispatch.app")
respawn_failed_workers()  # a killed worker is replaced; the server and its tablets stay up


def handle_backend_exception(exception: Exception) -> EventSpec:
    """Show a refused action's message; log anything else and show a generic message.

    Args:
        exception: What a handler raised.

    Returns:
        A toast for the browser.
    """
    # No state is at hand here: the toast carries every language and the page picks its own.
    if isinstance(exception, DomainError):
        logger.info("Refused: %s", exception.message)
        texts = {locale: exception.render(locale) for locale in LOCALES}
        return rx.toast.error(outside_state_text(texts), position="top-center")
    logger.exception("Unexpected error in an event handler", exc_info=exception)
    return rx.toast.error(outside_state_text(texts_of("ui.error.unexpected")), position="top-center")


def _title(key: str) -> rx.Var:
    """A page's browser title in the reader's language."""
    return t(key) + " · work_dispatch"


app = rx.App(
    # Security headers wrap everything served, /health and the frontend files included; while Redis is
    # away, websockets are refused so that pages say Reconnecting (redis_watch.py).
    api_transformer=[health_app, downloads_app, gate_websockets, with_security_headers],
    backend_exception_handler=handle_backend_exception,
    # Toasts at the top: bottom-right they covered the action buttons (Save, Approve) and took their clicks.
    toaster=rx.toast.provider(position="top-center"),
    # Installable tablet app: manifest, icons and a service worker caching the static shell (assets/).
    head_components=[
        rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml"),
        rx.el.link(rel="manifest", href="/manifest.webmanifest"),
        rx.el.link(rel="apple-touch-icon", href="/icons/apple-touch-icon.png"),
        rx.el.meta(name="theme-color", content="#3e63dd"),
        rx.el.meta(name="mobile-web-app-capable", content="yes"),
        rx.el.meta(name="apple-mobile-web-app-capable", content="yes"),
        rx.el.script(src="/register-sw.js", defer=True),
    ],
)
# Reflex's own "Cannot connect to server" toast is English only: the pulser stays, the words are ours.
app.app_wraps[(5, "Overlay")] = lambda stateful: (
    rx.fragment(connection_pulser(), connection_notice()) if stateful else None
)
if settings.automatic_origins:
    # No WD_ALLOWED_ORIGINS: accept pages from this machine's own addresses on the port (see network.py).
    app.sio.eio.cors_allowed_origins = LocalOriginCheck(settings.port)
app.add_page(home.home_page, route=home.ROUTE, title="work_dispatch", on_load=SessionState.route_home)
app.add_page(
    login.login_page,
    route=login.ROUTE,
    title=_title("ui.login.submit"),
    on_load=LoginState.redirect_if_logged_in,
)
app.add_page(
    supervisor_dashboard.dashboard_page,
    route=supervisor_dashboard.ROUTE,
    title=_title("ui.nav.dashboard"),
    on_load=DashboardState.load,
)
app.add_page(
    task_center.task_center_page,
    route=task_center.ROUTE,
    title=_title("ui.operator.my_tasks"),
    on_load=TaskCenterState.load,
)
app.add_page(
    work_orders.work_orders_page,
    route=work_orders.ROUTE,
    title=_title("ui.nav.work_orders"),
    on_load=WorkOrdersState.load,
)
app.add_page(
    work_order_form.work_order_form_page,
    route=work_order_form.ROUTE,
    title=_title("ui.page_title.work_order"),
    on_load=WorkOrderFormState.load,
)
app.add_page(
    drafts.drafts_page, route=drafts.ROUTE, title=_title("ui.nav.drafts"), on_load=DraftBoardState.load
)
app.add_page(rules.rules_page, route=rules.ROUTE, title=_title("ui.nav.rules"), on_load=RulesState.load)
app.add_page(board.board_page, route=board.ROUTE, title=_title("ui.nav.board"), on_load=BoardState.load)
app.add_page(
    catalog.catalog_page, route=catalog.ROUTE, title=_title("ui.nav.catalog"), on_load=CatalogState.load
)
app.add_page(
    people.people_page,
    route=people.ROUTE,
    title=_title("ui.nav.people"),
    on_load=[PeopleState.load, ThrottleState.load],
)
app.add_page(
    floor.floor_page,
    route=floor.ROUTE,
    title=_title("floor.title"),
    on_load=[FloorState.load, CalendarState.load, AbsenceState.load],
)
app.add_page(
    connect.connect_page,
    route=connect.ROUTE,
    title=_title("ui.nav.connect"),
    on_load=ConnectState.load,
)

app.register_lifespan_task(worker_lifespan)
app.register_lifespan_task(watch_redis)  # pages show Reconnecting while Redis is away
