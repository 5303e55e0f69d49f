"""Work-order list and form; the list is kept live by the fan-out (``WORK_ORDERS_VIEW``).

The list registers the page it shows (filters, at-risk switch, keyset cursor) on every load, and
an event naming work orders (a report, a publish, a cancel, the ETA job's ``eta_changed``) re-reads
that page for each session whose rows may change; the ETA and the at-risk flag change in place.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from work_dispatch.domain.errors import DomainError
from work_dispatch.i18n import translate
from work_dispatch.realtime.bus import PERSON_CHANGED, RESYNC, BusEvent
from work_dispatch.realtime.fanout import LiveFanout, Recipient, register_pusher
from work_dispatch.realtime.registry import REGISTRY, ROWS_PART, WORK_ORDERS_VIEW, Watcher, digest
from work_dispatch.services import catalog, exports, reference, runner, travelers, work_orders
from work_dispatch.services.actor import Actor
from work_dispatch.services.reference import Option
from work_dispatch.services.work_orders import WorkOrderPage, WorkOrderRow
from work_dispatch.states.mixins import KeysetPagerMixin, LiveViewMixin, ServiceMixin
from work_dispatch.states.session import SessionState

FORM_FIELDS = ("customer_id", "product_id", "quantity", "unit", "priority", "delivery_date", "notes")
STEP_RATE_FIELDS = ("setup_minutes", "units_per_hour")
STEP_OPTIONAL_FIELDS = (*STEP_RATE_FIELDS, "transfer_batch")
"""Step fields kept only once set (the form's state stays small)."""
"""A route step's overrides of its process's rate (missing or "" keeps the process's)."""
FILTER_FIELDS = ("status", "customer_id", "priority", "delivery_from", "delivery_to", "search")
ALL = "all"
PAGE_SIZE = 25
LIVE_FILTERS = ("status",)
"""Filters on what events change: with one of them (or "at risk only"), rows may enter or leave the page."""


class WorkOrdersState(KeysetPagerMixin, LiveViewMixin, rx.State):
    """One keyset page of work orders and the filters."""

    rows: list[WorkOrderRow] = []
    filters: dict[str, str] = {}
    at_risk_only: bool = False
    customers: list[Option] = []
    error: str = ""
    loaded: bool = False
    updates: int = 0
    """How many live pushes changed the rows since the page loaded (tests read it)."""

    def _params(self) -> dict[str, str]:
        return {
            key: ("" if value == ALL else value)
            for key, value in self.filters.items()
            if key in FILTER_FIELDS
        }

    def _query(self) -> dict[str, Any]:
        """The page shown, as the fan-out re-reads it (``work_orders.live_pages``)."""
        return {
            "filters": self._params(),
            "at_risk": self.at_risk_only,
            "cursor": self._cursor(),
            "page_size": PAGE_SIZE,
        }

    def _register(self, page: WorkOrderPage) -> None:
        """Tell the fan-out which page this session shows now, and that it holds exactly ``page``."""
        token = self.router.session.client_token
        REGISTRY.update_visible(
            token, frozenset(), frozenset(), {**self._query(), "shown": [row.id for row in page.rows]}
        )
        REGISTRY.swap_pushed(token, ROWS_PART, digest(page))

    async def _fetch_page(self, actor: Actor) -> None:
        params = self._params()
        try:
            page = await runner.run(
                work_orders.list_work_orders,
                actor,
                cursor=self._cursor() or None,
                page_size=PAGE_SIZE,
                at_risk=self.at_risk_only,
                **params,
            )
        except DomainError as error:
            self.error = error.render(actor.locale)
            return
        self.error = ""
        self.rows = page.rows
        self.next_cursor = page.next_cursor or ""
        self.loaded = True
        self._register(page)

    def _apply_push(self, query: dict[str, Any], page: WorkOrderPage) -> bool:
        """Show a page the fan-out re-read, unless this session has moved to another page meanwhile."""
        if query != self._query():
            return False
        self.rows = page.rows
        self.next_cursor = page.next_cursor or ""
        self.updates += 1
        self._register(page)
        return True

    @rx.event
    async def load(self):
        """Guard the page, load the first page and register for live updates."""
        return await self._open_page(self._load, supervisor=True)

    async def _load(self, actor: Actor) -> None:
        lists = await runner.run(reference.lists, actor)
        self.customers = lists.customers
        self.cursor_stack = []
        self.updates = 0
        await self._watch(actor, WORK_ORDERS_VIEW)
        await self._fetch_page(actor)

    @rx.event
    async def apply_filters(self, form_data: dict[str, Any]):
        """Filter by the submitted fields and go back to the first page."""
        data = form_data if isinstance(form_data, dict) else {}
        self.filters = {k: str(data.get(k) or "")[:32] for k in FILTER_FIELDS if data.get(k)}
        return await self._first_page()

    @rx.event
    async def set_filter(self, field: str, value: str):
        """Change one filter (from a select) and reload the first page."""
        if field not in FILTER_FIELDS or not isinstance(value, str):
            return None
        self.filters = {**self.filters, field: value[:32]}
        return await self._first_page()

    @rx.event
    async def set_at_risk_only(self, checked: Any):
        """Show only work orders whose ETA is after their delivery date (or every one again).

        Anything but a real boolean is refused with a toast, and the list stays as it is (``Any``:
        Reflex would turn a forged "true" into True for a ``bool`` argument).
        """
        return await self._act(work_orders.at_risk_filter, checked, then=self._at_risk_set)

    async def _at_risk_set(self, actor: Actor, checked: bool) -> None:
        self.at_risk_only = checked
        self.cursor_stack = []
        await self._fetch_page(actor)

    @rx.event
    async def clear_filters(self):
        """Show every work order."""
        self.filters = {}
        self.at_risk_only = False
        return await self._first_page()

    @rx.event
    async def export(self, fmt: str):
        """Download every work order of the current filters as ``csv`` or ``xlsx`` (ticketed HTTP route)."""
        session = await self.get_state(SessionState)
        return await self._act(
            exports.export_link,
            session.session_token,
            "work_orders",
            fmt,
            {**self._params(), "at_risk": self.at_risk_only},
            then=lambda _actor, link: rx.download(url=link.url, filename=link.filename),
        )

    def _reloaded(self, success: str):
        """Reload the page, then toast the ``success`` catalog key (``{detail}``: the result's summary)."""

        async def then(actor: Actor, result: Any):
            await self._fetch_page(actor)
            detail = result.summary(actor.locale) if hasattr(result, "summary") else ""
            return rx.toast.success(translate(success, actor.locale, detail=detail).strip())

        return then

    @rx.event
    async def approve(self, work_order_id: int):
        """Approve a work order and generate its drafts."""
        return await self._act(
            work_orders.approve_work_order, work_order_id, then=self._reloaded("ui.toast.approved_list")
        )

    @rx.event
    async def cancel(self, work_order_id: int):
        """Cancel a work order."""
        return await self._act(
            work_orders.cancel_work_order, work_order_id, then=self._reloaded("ui.toast.work_order_cancelled")
        )


class WorkOrderFormState(ServiceMixin, rx.State):
    """The create/edit form: header fields, an editable route and field errors."""

    work_order_id: int = 0
    order_number: str = ""
    status: str = ""
    fields: dict[str, str] = {}
    route: list[dict[str, str]] = []
    add_process_id: str = ""
    field_errors: dict[str, str] = {}
    form_error: str = ""
    draft_count: int = 0
    published_count: int = 0
    customers: list[Option] = []
    products: list[Option] = []
    processes: list[Option] = []
    departments: list[Option] = []
    default_setup: dict[str, str] = {}
    """Process id → its setup minutes (the placeholder of a step's override)."""
    default_rate: dict[str, str] = {}
    """Process id → its units per hour (the placeholder of a step's override)."""
    loaded: bool = False

    @rx.var
    def process_names(self) -> dict[str, str]:
        """Process id → name, for the route list."""
        return {option.value: option.label for option in self.processes}

    @rx.var
    def is_locked(self) -> bool:
        """Whether the work order can no longer be edited."""
        return self.status in ("completed", "cancelled")

    @rx.event
    async def load(self):
        """Guard the page and load the pickers and, when editing, the work order."""
        return await self._open_page(self._load, supervisor=True)

    async def _load(self, actor: Actor) -> None:
        lists = await runner.run(reference.lists, actor)
        self.customers, self.products = lists.customers, lists.products
        self.processes, self.departments = lists.processes, lists.departments
        self.default_setup, self.default_rate = await runner.run(catalog.process_rates, actor)
        self.field_errors, self.form_error = {}, ""
        raw_id = self.router.url.query_parameters.get("id", "")
        if raw_id:
            try:
                form = await runner.run(work_orders.get_form, actor, raw_id)
            except DomainError as error:
                self.form_error = error.render(actor.locale)
                self.work_order_id, self.loaded = 0, True
                return
            self.work_order_id, self.order_number, self.status = form.id, form.order_number, form.status
            self.fields, self.route = form.fields, form.route
            self.draft_count, self.published_count = form.draft_count, form.published_count
        else:
            self.work_order_id, self.order_number, self.status = 0, "", ""
            self.fields = {"unit": "pcs", "priority": "normal", "quantity": "", "notes": ""}
            self.route = []
            self.draft_count = self.published_count = 0
        self.loaded = True

    @rx.event
    def set_field(self, field: str, value: str):
        """Change one header field."""
        if field in FORM_FIELDS and isinstance(value, str):
            # Notes may be long (the service says how long); the other fields are short.
            self.fields = {**self.fields, field: value[: 2100 if field == "notes" else 100]}
            self.field_errors = {k: v for k, v in self.field_errors.items() if k != field}

    @rx.event
    async def set_product(self, value: str):
        """Pick the product and pre-fill the route from its default route."""
        if not isinstance(value, str):
            return None
        self.fields = {**self.fields, "product_id": value[:12]}
        return await self._act(
            work_orders.product_route, value, then=self._prefill_route, on_error=self._product_refused
        )

    def _prefill_route(self, _actor: Actor, steps: list[dict[str, Any]]) -> None:
        if self.published_count == 0:
            self.route = [
                {
                    "process_id": str(s["process_id"]),
                    "department_id": "",
                    "batch_size": "",
                    **({"transfer_batch": str(s["transfer_batch"])} if s.get("transfer_batch") else {}),
                }
                for s in steps
            ]

    def _product_refused(self, actor: Actor, error: DomainError) -> None:
        self.field_errors = {**self.field_errors, "product_id": error.render(actor.locale)}

    @rx.event
    def set_add_process(self, value: str):
        """Choose the process the "Add" button appends."""
        self.add_process_id = value[:12] if isinstance(value, str) else ""

    @rx.event
    def add_step(self):
        """Append the chosen process to the route."""
        if self.add_process_id and len(self.route) < work_orders.MAX_ROUTE_STEPS:
            self.route = [
                *self.route,
                {"process_id": self.add_process_id, "department_id": "", "batch_size": ""},
            ]

    @rx.event
    def remove_step(self, index: int):
        """Remove a route step."""
        if isinstance(index, int) and 0 <= index < len(self.route):
            self.route = self.route[:index] + self.route[index + 1 :]

    @rx.event
    def move_step(self, index: int, offset: int):
        """Move a route step up (-1) or down (+1)."""
        if not (isinstance(index, int) and isinstance(offset, int)):
            return
        target = index + offset
        if 0 <= index < len(self.route) and 0 <= target < len(self.route):
            route = list(self.route)
            route[index], route[target] = route[target], route[index]
            self.route = route

    @rx.event
    def set_step(self, index: int, key: str, value: str):
        """Set a step's department, batch size or rate overrides."""
        if not (isinstance(index, int) and 0 <= index < len(self.route)) or key not in (
            "department_id",
            "batch_size",
            *STEP_OPTIONAL_FIELDS,
        ):
            return
        if not isinstance(value, str):
            return
        route = list(self.route)
        route[index] = {**route[index], key: "" if value == "none" else value[:12]}
        self.route = route

    def _payload(self) -> dict[str, Any]:
        return {
            **self.fields,
            "route": [
                {
                    "process_id": s["process_id"],
                    "department_id": s.get("department_id") or None,
                    "batch_size": s.get("batch_size") or None,
                    **{key: s.get(key, "") for key in STEP_OPTIONAL_FIELDS},
                }
                for s in self.route
            ],
        }

    @rx.event
    async def save(self):
        """Create or update the work order."""
        if self.work_order_id:
            return await self._act(
                work_orders.update_work_order,
                self.work_order_id,
                self._payload(),
                then=self._updated,
                on_error=self._show_error,
            )
        return await self._act(
            work_orders.create_work_order, self._payload(), then=self._created, on_error=self._show_error
        )

    def _updated(self, actor: Actor, report: Any):
        self.field_errors, self.form_error = {}, ""
        if report:
            message = translate(
                "ui.toast.saved_with_drafts", actor.locale, detail=report.summary(actor.locale)
            )
        else:
            message = translate("ui.toast.saved", actor.locale)
        return [rx.toast.success(message), WorkOrderFormState.load]

    def _created(self, actor: Actor, created: Any):
        self.field_errors, self.form_error = {}, ""
        return [
            rx.redirect(f"/supervisor/work-orders/edit?id={created.id}"),
            rx.toast.success(
                translate("ui.toast.work_order_created", actor.locale, number=created.order_number)
            ),
        ]

    def _show_error(self, actor: Actor, error: DomainError) -> None:
        text = error.render(actor.locale)
        if error.field and error.field in (*FORM_FIELDS, "route"):
            self.field_errors = {error.field: text}
            self.form_error = ""
        else:
            self.field_errors = {}
            self.form_error = text

    @rx.event
    async def approve(self):
        """Approve the work order and generate its drafts."""
        return await self._act(
            work_orders.approve_work_order,
            self.work_order_id,
            then=lambda actor, report: [
                rx.toast.success(
                    translate("ui.toast.approved", actor.locale, detail=report.summary(actor.locale))
                ),
                WorkOrderFormState.load,
            ],
            on_error=self._show_error,
        )

    @rx.event
    async def print_traveler(self):
        """Open the work order's job traveler (an A4 page to print) in a new tab, through a ticket."""
        session = await self.get_state(SessionState)
        return await self._act(
            travelers.traveler_link,
            session.session_token,
            self.work_order_id,
            then=lambda _actor, url: rx.redirect(url, is_external=True),
        )

    @rx.event
    async def cancel_order(self):
        """Cancel the work order."""
        return await self._act(
            work_orders.cancel_work_order,
            self.work_order_id,
            then=lambda actor, _result: [
                rx.toast.success(translate("ui.toast.work_order_cancelled", actor.locale, detail="")),
                WorkOrderFormState.load,
            ],
            on_error=self._show_error,
        )


def _query_of(watcher: Watcher) -> dict[str, Any]:
    return {key: value for key, value in (watcher.params or {}).items() if key != "shown"}


async def narrow_work_orders(fanout: LiveFanout, watchers: list[Watcher], event: BusEvent) -> list[Watcher]:
    """Keep the lists whose rows may change: a shown work order changed, or rows may enter or leave.

    Rows enter or leave a page only when it filters on what events change (status, at risk);
    otherwise only the work orders it shows can change. A person change or a resync reaches every
    session concerned, so that its session is checked again.
    """
    if event.kind in (PERSON_CHANGED, RESYNC):
        return watchers
    changed = set(event.work_order_ids)
    kept = []
    for watcher in watchers:
        params = watcher.params or {}
        filters = params.get("filters") or {}
        if (
            params.get("at_risk")
            or any(filters.get(name) for name in LIVE_FILTERS)
            or changed & set(params.get("shown") or ())
        ):
            kept.append(watcher)
    return kept


async def push_work_orders(fanout: LiveFanout, recipients: list[Recipient], event: BusEvent) -> None:
    """Fan-out handler of work-order lists: each session's page re-read and pushed when it changed.

    Each session is read with its own rights and locale (sessions showing the same page in the same
    locale share one read); a page refused, or equal to what the session was last sent, is not pushed.
    """
    pages = await runner.run(work_orders.live_pages, [(r.actor, _query_of(r.watcher)) for r in recipients])

    by_token = {r.token: page for r, page in zip(recipients, pages, strict=True)}

    async def push(recipient: Recipient) -> None:
        token, page = recipient.token, by_token[recipient.token]
        if page is None:
            return
        if fanout.remember_pushed(token, ROWS_PART, page):
            fanout.skipped += 1
            return
        query = _query_of(recipient.watcher)
        await fanout.push_state(token, WorkOrdersState, lambda state: state._apply_push(query, page))

    await fanout.each(recipients, push)


async def wipe_work_orders(fanout: LiveFanout, watcher: Watcher) -> None:
    """Empty the list of a session that may not see it any more, as a logout would."""
    async with fanout.modify(watcher.token, WorkOrdersState) as root:
        (await root.get_state(WorkOrdersState)).reset()
        (await root.get_state(SessionState))._remember(None)


register_pusher(WORK_ORDERS_VIEW, push_work_orders, wipe_work_orders, narrow_work_orders)
