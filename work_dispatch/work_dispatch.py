"""The Reflex app: pages and their guards."""

from __future__ import annotations

import logging

import reflex as rx
from reflex.event import EventSpec

from work_dispatch.domain.errors import DomainError
from work_dispatch.health import health_app
from work_dispatch.lifespan import worker_lifespan
from work_dispatch.network import LocalOriginCheck
from work_dispatch.pages import (
    board,
    catalog,
    connect,
    drafts,
    home,
    login,
    people,
    rules,
    supervisor_dashboard,
    task_center,
    work_order_form,
    work_orders,
)
from work_dispatch.settings import settings
from work_dispatch.states.board import BoardState
from work_dispatch.states.catalog import CatalogState
from work_dispatch.states.connect import ConnectState
from work_dispatch.states.dashboard import DashboardState
from work_dispatch.states.drafts import DraftBoardState
from work_dispatch.states.login import LoginState
from work_dispatch.states.people import PeopleState, ThrottleState
from work_dispatch.states.rules import RulesState
from work_dispatch.states.session import SessionState
from work_dispatch.states.task_center import TaskCenterState
from work_dispatch.states.work_orders import WorkOrderFormState, WorkOrdersState

logger = logging.getLogger("work_dispatch.app")


def handle_backend_exception(exception: Exception) -> EventSpec:
    """Show a refused action's message; log anything else and show a generic message.

    Args:
        exception: What a handler raised.

    Returns:
        A toast for the browser.
    """
    if isinstance(exception, DomainError):
        logger.info("Refused: %s", exception.message)
        return rx.toast.error(exception.message, position="top-center")
    logger.exception("Unexpected error in an event handler", exc_info=exception)
    return rx.toast.error("Something went wrong; the page will reload its data.", position="top-center")


app = rx.App(
    api_transformer=health_app,
    backend_exception_handler=handle_backend_exception,
    head_components=[rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml")],
)
if settings.automatic_origins:
    # No WD_ALLOWED_ORIGINS: accept pages from this machine's own addresses on the port (see network.py).
    app.sio.eio.cors_allowed_origins = LocalOriginCheck(settings.port)
app.add_page(home.home_page, route=home.ROUTE, title="work_dispatch", on_load=SessionState.route_home)
app.add_page(
    login.login_page,
    route=login.ROUTE,
    title="Log in · work_dispatch",
    on_load=LoginState.redirect_if_logged_in,
)
app.add_page(
    supervisor_dashboard.dashboard_page,
    route=supervisor_dashboard.ROUTE,
    title="Dashboard · work_dispatch",
    on_load=DashboardState.load,
)
app.add_page(
    task_center.task_center_page,
    route=task_center.ROUTE,
    title="My tasks · work_dispatch",
    on_load=TaskCenterState.load,
)
app.add_page(
    work_orders.work_orders_page,
    route=work_orders.ROUTE,
    title="Work orders · work_dispatch",
    on_load=WorkOrdersState.load,
)
app.add_page(
    work_order_form.work_order_form_page,
    route=work_order_form.ROUTE,
    title="Work order · work_dispatch",
    on_load=WorkOrderFormState.load,
)
app.add_page(
    drafts.drafts_page, route=drafts.ROUTE, title="Draft review · work_dispatch", on_load=DraftBoardState.load
)
app.add_page(
    rules.rules_page, route=rules.ROUTE, title="Assignment rules · work_dispatch", on_load=RulesState.load
)
app.add_page(board.board_page, route=board.ROUTE, title="Live board · work_dispatch", on_load=BoardState.load)
app.add_page(
    catalog.catalog_page, route=catalog.ROUTE, title="Catalog · work_dispatch", on_load=CatalogState.load
)
app.add_page(
    people.people_page,
    route=people.ROUTE,
    title="People · work_dispatch",
    on_load=[PeopleState.load, ThrottleState.load],
)
app.add_page(
    connect.connect_page,
    route=connect.ROUTE,
    title="Connect tablets · work_dispatch",
    on_load=ConnectState.load,
)

app.register_lifespan_task(worker_lifespan)
