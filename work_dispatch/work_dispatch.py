"""The Reflex app: pages and their guards."""

from __future__ import annotations

import reflex as rx

from work_dispatch.lifespan import worker_lifespan
from work_dispatch.pages import home, login, supervisor_dashboard, task_center
from work_dispatch.states.dashboard import DashboardState
from work_dispatch.states.login import LoginState
from work_dispatch.states.session import SessionState
from work_dispatch.states.task_center import TaskCenterState

app = rx.App(head_components=[rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml")])
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

app.register_lifespan_task(worker_lifespan)
