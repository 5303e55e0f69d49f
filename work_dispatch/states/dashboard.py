"""Supervisor dashboard: counters and KPI charts, kept live by the fan-out."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import reflex as rx

from work_dispatch.domain.errors import DomainError
from work_dispatch.realtime.bus import BusEvent
from work_dispatch.realtime.fanout import LiveFanout, Recipient, register_pusher
from work_dispatch.realtime.registry import DASHBOARD_VIEW, REGISTRY, Watcher
from work_dispatch.services import dashboard, exports, kpi, live_views, reference, runner
from work_dispatch.services.actor import Actor
from work_dispatch.services.dashboard import DashboardSummary
from work_dispatch.services.kpi import KpiBoard
from work_dispatch.services.reference import Option
from work_dispatch.states.mixins import LiveViewMixin, ServiceMixin, field_errors
from work_dispatch.states.session import SessionState

logger = logging.getLogger(__name__)

KPI_FIELDS = ("first_day", "last_day", "department_id")
"""The KPI filter form's fields."""
ALL_DEPARTMENTS = "none"
"""The department select's value meaning every department."""


class DashboardState(ServiceMixin, LiveViewMixin, rx.State):
    """Counts and chart points shown on the dashboard (a few hundred numbers, never rows)."""

    work_order_counts: list[dict[str, str | int]] = []
    task_counts: list[dict[str, str | int]] = []
    department_counts: list[dict[str, str | int]] = []
    loaded: bool = False

    kpi_first_day: str = ""
    """The "from" field as typed (an ISO date; at most 12 characters kept)."""
    kpi_last_day: str = ""
    kpi_department: str = ALL_DEPARTMENTS
    kpi_errors: dict[str, str] = {}
    """Field → why the filters were refused; the charts keep the filters they had."""
    kpi_departments: list[Option] = []
    kpi_pushes: int = 0
    """How many times the charts changed live since the page loaded."""

    throughput: list[dict[str, Any]] = []
    throughput_totals: dict[str, int] = {}
    wip: list[dict[str, Any]] = []
    load_departments: list[dict[str, Any]] = []
    load_operators: list[dict[str, Any]] = []
    more_operators: int = 0
    departments_without_shifts: bool = False
    standard_actual: list[dict[str, Any]] = []
    standard_actual_operators: list[dict[str, Any]] = []
    more_standard_operators: int = 0
    on_time_weeks: list[dict[str, Any]] = []
    on_time_totals: dict[str, Any] = {}
    lateness: list[dict[str, Any]] = []
    lateness_total: int = 0
    downtime: list[dict[str, Any]] = []
    scrap: list[dict[str, Any]] = []

    _kpi_filters: dict[str, str] | None = None
    """The filters the charts follow (validated form values), None for the default range."""

    def _apply(self, summary: DashboardSummary) -> None:
        self.work_order_counts = [vars(c) for c in summary.work_orders]
        self.task_counts = [vars(c) for c in summary.tasks]
        self.department_counts = [vars(c) for c in summary.departments]
        self.loaded = True

    def _apply_kpis(self, board: KpiBoard) -> None:
        self.throughput = board.throughput.hours
        self.throughput_totals = {
            "today_tasks": board.throughput.today_tasks,
            "yesterday_tasks": board.throughput.yesterday_tasks,
            "today_units": board.throughput.today_units,
            "yesterday_units": board.throughput.yesterday_units,
        }
        self.wip = board.wip
        self.load_departments = board.load.departments
        self.load_operators = board.load.operators
        self.more_operators = board.load.more_operators
        self.departments_without_shifts = any(row["capacity"] is None for row in board.load.departments)
        self.standard_actual = board.standard_actual.processes
        self.standard_actual_operators = board.standard_actual.operators
        self.more_standard_operators = board.standard_actual.more_operators
        self.on_time_weeks = board.on_time.weeks
        self.on_time_totals = {
            "orders": board.on_time.orders,
            "on_time": board.on_time.on_time,
            "rate": "" if board.on_time.rate is None else f"{board.on_time.rate:g}",
        }
        self.lateness = board.on_time.lateness
        self.lateness_total = board.on_time.orders
        self.downtime = board.downtime
        self.scrap = board.scrap

    def _show_filters(self, board: KpiBoard) -> None:
        shown = board.filters.to_json()
        self.kpi_first_day, self.kpi_last_day = shown["first_day"], shown["last_day"]
        self.kpi_department = shown["department_id"] or ALL_DEPARTMENTS
        self.kpi_errors = {}

    @rx.event
    async def load(self):
        """Guard the page, load the figures and charts (default range) and register for live updates."""
        return await self._open_page(self._load, supervisor=True)

    async def _load(self, actor: Actor) -> None:
        self._kpi_filters = None
        watcher = await self._watch(actor, DASHBOARD_VIEW, params={"kpi": None})
        summary = await runner.run(dashboard.summary, actor)
        board = await runner.run(kpi.board, actor, None)
        self.kpi_departments = await runner.run(reference.department_options, actor)
        self._apply(summary)
        self._apply_kpis(board)
        self._show_filters(board)
        self.kpi_pushes = 0
        REGISTRY.register(watcher, shown={"summary": summary, "kpi": board})

    @rx.event
    async def set_kpi_filter(self, name: str, value: Any):
        """Change one KPI filter; a refused range keeps the charts as they are, with the reason.

        Args:
            name: ``first_day``, ``last_day`` or ``department_id``.
            value: What the field holds now (validated by the service).
        """
        if name not in KPI_FIELDS:
            return None
        text = "" if value is None else str(value)[:12]
        if name == "first_day":
            self.kpi_first_day = text
        elif name == "last_day":
            self.kpi_last_day = text
        else:
            self.kpi_department = text or ALL_DEPARTMENTS
        wanted = {
            "first_day": self.kpi_first_day,
            "last_day": self.kpi_last_day,
            "department_id": "" if self.kpi_department == ALL_DEPARTMENTS else self.kpi_department,
        }
        return await self._act(
            kpi.board,
            wanted,
            then=lambda actor, board: self._filters_applied(actor, board, board.filters.to_json()),
            on_error=self._filters_refused,
        )

    @rx.event
    async def reset_kpi_filters(self):
        """Back to the default range (the last seven days, every department)."""
        return await self._act(
            kpi.board, None, then=lambda actor, board: self._filters_applied(actor, board, None)
        )

    async def _filters_applied(self, actor: Actor, board: KpiBoard, filters: dict[str, str] | None) -> None:
        self._kpi_filters = filters
        self._apply_kpis(board)
        self._show_filters(board)
        await self._watch(actor, DASHBOARD_VIEW, shown={"kpi": board}, params={"kpi": filters})

    def _filters_refused(self, actor: Actor, error: DomainError) -> None:
        self.kpi_errors = field_errors(error, actor.locale)

    @rx.event
    async def export_kpi(self, table: str, fmt: str):
        """Download one chart's table (``kpi.TABLES``) as ``csv`` or ``xlsx``, for the filters shown.

        The file never passes through the websocket: the service authorizes the export and signs a
        one-minute ticket for this session, and the browser fetches ``/api/export/kpi_<table>.<fmt>``.
        """
        if table not in kpi.TABLES:
            return None
        session = await self.get_state(SessionState)
        return await self._act(
            exports.export_link,
            session.session_token,
            f"kpi_{table}",
            fmt,
            self._kpi_filters,
            then=lambda _actor, link: rx.download(url=link.url, filename=link.filename),
        )


def _filters_of(recipient: Recipient) -> Any:
    return (recipient.watcher.params or {}).get("kpi")


async def push_dashboard(fanout: LiveFanout, recipients: list[Recipient], event: BusEvent) -> None:
    """Fan-out handler of dashboard sessions: the counters now, the charts in the background.

    Counters are read once per locale and pushed within the flush. The charts (once per locale
    and filters) take longer on a large shop, so they are refreshed by :data:`CHART_REFRESH`
    outside the flush: tablets and boards of the next flush never wait for them. Each
    recipient was re-validated as a supervisor; a session is pushed only what changed, and one
    failing push stops none of the others.
    """
    summaries = await runner.run(live_views.dashboard_summaries, [r.actor for r in recipients])

    async def push(recipient: Recipient) -> None:
        summary = summaries.get(recipient.actor.locale)
        if summary is None:
            return
        if fanout.remember_pushed(recipient.token, "summary", summary):
            fanout.skipped += 1
            return
        await fanout.push_state(recipient.token, DashboardState, lambda state: state._apply(summary))

    await fanout.each(recipients, push)
    CHART_REFRESH.request(fanout, recipients)


async def push_charts(fanout: LiveFanout, recipients: list[Recipient]) -> None:
    """Read the charts once per locale and filters and push them to the sessions whose charts changed.

    A session that left the page (or was wiped) since the flush that asked for this refresh is
    skipped.
    """
    boards = await runner.run(dashboard.live_kpis, [(r.actor, _filters_of(r)) for r in recipients])

    async def push(recipient: Recipient) -> None:
        board = boards.get(dashboard.kpi_key(recipient.actor.locale, _filters_of(recipient)))
        if board is None or fanout.registry.get(recipient.token) is not recipient.watcher:
            return
        if fanout.remember_pushed(recipient.token, "kpi", board):
            fanout.skipped += 1
            return

        def apply(state: DashboardState) -> None:
            if fanout.registry.get(recipient.token) is not recipient.watcher:
                # The page changed its filters (or reloaded) while this push waited for its lock.
                return
            state._apply_kpis(board)
            state.kpi_pushes += 1

        await fanout.push_state(recipient.token, DashboardState, apply)

    await fanout.each(recipients, push)


class ChartRefresh:
    """One chart refresh at a time per worker; flushes during a refresh ask for one more after it."""

    def __init__(self) -> None:
        self._task: asyncio.Task | None = None
        self._next: tuple[LiveFanout, list[Recipient]] | None = None

    def request(self, fanout: LiveFanout, recipients: list[Recipient]) -> None:
        """Refresh the charts of these sessions now, or right after the refresh under way."""
        if self._task is not None and not self._task.done():
            self._next = (fanout, recipients)  # the latest sessions replace the ones waiting
            return
        self._task = asyncio.get_running_loop().create_task(self._run(fanout, recipients))

    async def _run(self, fanout: LiveFanout, recipients: list[Recipient]) -> None:
        while True:
            try:
                await push_charts(fanout, recipients)
            except Exception:
                fanout.failures += 1
                logger.exception("Refreshing the charts of %d dashboards failed", len(recipients))
            if self._next is None:
                return
            (fanout, recipients), self._next = self._next, None

    async def drain(self) -> None:
        """Wait until the refreshes asked for so far are done (tests and shutdown)."""
        while self._task is not None and not self._task.done():
            await self._task


CHART_REFRESH = ChartRefresh()
"""This worker's chart refreshes."""


async def wipe_dashboard(fanout: LiveFanout, watcher: Watcher) -> None:
    """Empty the dashboard of a session that may not see it any more, as a logout would."""
    async with fanout.modify(watcher.token, DashboardState) as root:
        (await root.get_state(DashboardState)).reset()
        (await root.get_state(SessionState))._remember(None)


register_pusher(DASHBOARD_VIEW, push_dashboard, wipe_dashboard)
