"""Work-order list and form."""

from __future__ import annotations

from typing import Any

import reflex as rx

from work_dispatch.domain.errors import DomainError
from work_dispatch.services import reference, runner, work_orders
from work_dispatch.services.reference import Option
from work_dispatch.services.work_orders import WorkOrderRow
from work_dispatch.states.session import LOGIN_PATH, current_actor, page_actor

FORM_FIELDS = ("customer_id", "product_id", "quantity", "unit", "priority", "delivery_date", "notes")
FILTER_FIELDS = ("status", "customer_id", "priority", "delivery_from", "delivery_to", "search")
ALL = "all"


class WorkOrdersState(rx.State):
    """One keyset page of work orders and the filters."""

    rows: list[WorkOrderRow] = []
    next_cursor: str = ""
    cursor_stack: list[str] = []
    filters: dict[str, str] = {}
    customers: list[Option] = []
    error: str = ""
    loaded: bool = False

    async def _fetch(self, actor, cursor: str) -> None:
        params = {
            key: ("" if value == ALL else value)
            for key, value in self.filters.items()
            if key in FILTER_FIELDS
        }
        try:
            page = await runner.run(
                work_orders.list_work_orders, actor, cursor=cursor or None, page_size=25, **params
            )
        except DomainError as error:
            self.error = error.message
            return
        self.error = ""
        self.rows = page.rows
        self.next_cursor = page.next_cursor or ""
        self.loaded = True

    @rx.event
    async def load(self):
        """Guard the page and load the first page."""
        actor, redirect = await page_actor(self, supervisor=True)
        if redirect:
            return redirect
        lists = await runner.run(reference.lists, actor)
        self.customers = lists.customers
        self.cursor_stack = []
        await self._fetch(actor, "")
        return None

    @rx.event
    async def apply_filters(self, form_data: dict[str, Any]):
        """Filter by the submitted fields and go back to the first page."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH)
        data = form_data if isinstance(form_data, dict) else {}
        self.filters = {k: str(data.get(k) or "")[:32] for k in FILTER_FIELDS if data.get(k)}
        self.cursor_stack = []
        await self._fetch(actor, "")
        return None

    @rx.event
    async def set_filter(self, field: str, value: str):
        """Change one filter (from a select) and reload the first page."""
        if field not in FILTER_FIELDS or not isinstance(value, str):
            return None
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH)
        self.filters = {**self.filters, field: value[:32]}
        self.cursor_stack = []
        await self._fetch(actor, "")
        return None

    @rx.event
    async def clear_filters(self):
        """Show every work order."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH)
        self.filters = {}
        self.cursor_stack = []
        await self._fetch(actor, "")
        return None

    @rx.event
    async def next_page(self):
        """Go to the next page (keyset)."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH)
        if self.next_cursor:
            self.cursor_stack = [*self.cursor_stack, self.next_cursor]
            await self._fetch(actor, self.next_cursor)
        return None

    @rx.event
    async def previous_page(self):
        """Go back one page."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH)
        stack = self.cursor_stack[:-1]
        self.cursor_stack = stack
        await self._fetch(actor, stack[-1] if stack else "")
        return None

    async def _act(self, action, work_order_id: int, success: str):
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH)
        try:
            result = await runner.run(action, actor, work_order_id)
        except DomainError as error:
            return rx.toast.error(error.message)
        await self._fetch(actor, self.cursor_stack[-1] if self.cursor_stack else "")
        detail = result.summary() if hasattr(result, "summary") else ""
        return rx.toast.success(f"{success} {detail}".strip())

    @rx.event
    async def approve(self, work_order_id: int):
        """Approve a work order and generate its drafts."""
        return await self._act(work_orders.approve_work_order, work_order_id, "Approved; drafts:")

    @rx.event
    async def cancel(self, work_order_id: int):
        """Cancel a work order."""
        return await self._act(work_orders.cancel_work_order, work_order_id, "Work order cancelled.")


class WorkOrderFormState(rx.State):
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
        actor, redirect = await page_actor(self, supervisor=True)
        if redirect:
            return redirect
        lists = await runner.run(reference.lists, actor)
        self.customers, self.products = lists.customers, lists.products
        self.processes, self.departments = lists.processes, lists.departments
        self.field_errors, self.form_error = {}, ""
        raw_id = self.router.url.query_parameters.get("id", "")
        if raw_id:
            try:
                form = await runner.run(work_orders.get_form, actor, raw_id)
            except DomainError as error:
                self.form_error = error.message
                self.work_order_id, self.loaded = 0, True
                return None
            self.work_order_id, self.order_number, self.status = form.id, form.order_number, form.status
            self.fields, self.route = form.fields, form.route
            self.draft_count, self.published_count = form.draft_count, form.published_count
        else:
            self.work_order_id, self.order_number, self.status = 0, "", ""
            self.fields = {"unit": "pcs", "priority": "normal", "quantity": "", "notes": ""}
            self.route = []
            self.draft_count = self.published_count = 0
        self.loaded = True
        return None

    @rx.event
    def set_field(self, field: str, value: str):
        """Change one header field."""
        if field in FORM_FIELDS and isinstance(value, str):
            self.fields = {**self.fields, field: value[:2100]}
            self.field_errors = {k: v for k, v in self.field_errors.items() if k != field}

    @rx.event
    async def set_product(self, value: str):
        """Pick the product and pre-fill the route from its default route."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH)
        if not isinstance(value, str):
            return None
        self.fields = {**self.fields, "product_id": value[:12]}
        try:
            steps = await runner.run(work_orders.product_route, actor, value)
        except DomainError as error:
            self.field_errors = {**self.field_errors, "product_id": error.message}
            return None
        if self.published_count == 0:
            self.route = [
                {"process_id": str(s["process_id"]), "department_id": "", "batch_size": ""} for s in steps
            ]
        return None

    @rx.event
    def set_add_process(self, value: str):
        """Choose the process the "Add" button appends."""
        self.add_process_id = value if isinstance(value, str) else ""

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
        """Set a step's department or batch size."""
        if not (isinstance(index, int) and 0 <= index < len(self.route)) or key not in (
            "department_id",
            "batch_size",
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
                }
                for s in self.route
            ],
        }

    @rx.event
    async def save(self):
        """Create or update the work order."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH)
        try:
            if self.work_order_id:
                report = await runner.run(
                    work_orders.update_work_order, actor, self.work_order_id, self._payload()
                )
                message = "Saved." + (f" Drafts: {report.summary()}" if report else "")
            else:
                created = await runner.run(work_orders.create_work_order, actor, self._payload())
                self.field_errors, self.form_error = {}, ""
                return [
                    rx.redirect(f"/supervisor/work-orders/edit?id={created.id}"),
                    rx.toast.success(f"Work order {created.order_number} created."),
                ]
        except DomainError as error:
            self._show_error(error)
            return None
        self.field_errors, self.form_error = {}, ""
        return [rx.toast.success(message), WorkOrderFormState.load]

    def _show_error(self, error: DomainError) -> None:
        if error.field and error.field in (*FORM_FIELDS, "route"):
            self.field_errors = {error.field: error.message}
            self.form_error = ""
        else:
            self.field_errors = {}
            self.form_error = error.message

    @rx.event
    async def approve(self):
        """Approve the work order and generate its drafts."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH)
        try:
            report = await runner.run(work_orders.approve_work_order, actor, self.work_order_id)
        except DomainError as error:
            self._show_error(error)
            return None
        return [rx.toast.success(f"Approved. Drafts: {report.summary()}"), WorkOrderFormState.load]

    @rx.event
    async def cancel_order(self):
        """Cancel the work order."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH)
        try:
            await runner.run(
                work_orders.cancel_work_order, actor, self.work_order_id, "Cancelled from the form"
            )
        except DomainError as error:
            self._show_error(error)
            return None
        return [rx.toast.success("Work order cancelled."), WorkOrderFormState.load]
