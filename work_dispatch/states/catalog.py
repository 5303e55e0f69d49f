"""Catalog page: customers, processes and their defect reasons, products, departments, with forms."""

from __future__ import annotations

import reflex as rx

from work_dispatch.domain.errors import DomainError
from work_dispatch.i18n import translate
from work_dispatch.services import catalog, runner
from work_dispatch.services.actor import Actor
from work_dispatch.services.catalog import (
    DEFECT_KINDS,
    NAME_FIELDS,
    SCRAP,
    CustomerPage,
    CustomerRow,
    DefectReasonRow,
    DepartmentRow,
    ProcessRow,
    ProductRow,
)
from work_dispatch.services.reference import Option
from work_dispatch.services.skills import DEFAULT_SETUP_MINUTES, DEFAULT_UNITS_PER_HOUR
from work_dispatch.services.work_orders import MAX_ROUTE_STEPS
from work_dispatch.states.mixins import KeysetPagerMixin, field_errors

CUSTOMER_FIELDS = ("name", "contact")
NAMES_BY_LOCALE = tuple(NAME_FIELDS.values())
"""Form fields of a record's name in each locale (``name_en``, ``name_zh``)."""
PROCESS_FIELDS = (
    "code",
    "name",
    *NAMES_BY_LOCALE,
    "standard_minutes",
    "setup_minutes",
    "units_per_hour",
    "transfer_batch",
)
DEPARTMENT_FIELDS = ("code", "name", *NAMES_BY_LOCALE, "sort_order")
PRODUCT_FIELDS = ("code", "name", *NAMES_BY_LOCALE, "unit")
REASON_FIELDS = ("code", "name", *NAMES_BY_LOCALE, "sort_order")
_NO_NAMES = dict.fromkeys(NAMES_BY_LOCALE, "")


def _names_of(row: ProcessRow | DepartmentRow | ProductRow) -> dict[str, str]:
    return {field: getattr(row, field, "") or "" for field in NAMES_BY_LOCALE}


PAGE_SIZE = 20


class CatalogState(KeysetPagerMixin, rx.State):
    """Customers (keyset pages by name), processes and departments, each with a create/edit form."""

    customers: list[CustomerRow] = []
    customer_search: str = ""
    customer_form: dict[str, str] = {}
    editing_customer_id: int = 0
    customer_errors: dict[str, str] = {}
    processes: list[ProcessRow] = []
    process_form: dict[str, str] = {}
    process_active: bool = True
    editing_process_id: int = 0
    process_errors: dict[str, str] = {}
    products: list[ProductRow] = []
    product_form: dict[str, str] = {}
    product_active: bool = True
    product_route: list[str] = []
    product_route_batches: list[str] = []
    """Each route step's transfer batch ("" for none), parallel to ``product_route``."""
    editing_product_id: int = 0
    product_errors: dict[str, str] = {}
    departments: list[DepartmentRow] = []
    department_form: dict[str, str] = {}
    department_active: bool = True
    editing_department_id: int = 0
    department_errors: dict[str, str] = {}
    reason_process_id: str = ""
    reasons: list[DefectReasonRow] = []
    reason_form: dict[str, str] = {}
    reason_kind: str = SCRAP
    reason_active: bool = True
    editing_reason_id: int = 0
    reason_errors: dict[str, str] = {}
    loaded: bool = False

    async def _fetch_page(self, actor: Actor):
        try:
            self._show_customers(
                await runner.run(
                    catalog.list_customers, actor, self.customer_search, self._cursor(), PAGE_SIZE
                )
            )
        except DomainError as error:
            # A search or cursor the service refuses: back to every customer, first page.
            self.customer_search, self.cursor_stack = "", []
            self._show_customers(await runner.run(catalog.list_customers, actor, "", "", PAGE_SIZE))
            return rx.toast.error(error.render(actor.locale))
        return None

    def _show_customers(self, page: CustomerPage) -> None:
        self.customers, self.next_cursor = page.rows, page.next_after

    def _new_customer(self) -> None:
        self.customer_form, self.editing_customer_id, self.customer_errors = (
            {"name": "", "contact": ""},
            0,
            {},
        )

    def _new_process(self) -> None:
        self.process_form = {
            "code": "",
            "name": "",
            **_NO_NAMES,
            "standard_minutes": "30",
            "setup_minutes": str(DEFAULT_SETUP_MINUTES),
            "units_per_hour": str(DEFAULT_UNITS_PER_HOUR),
            "transfer_batch": "",
        }
        self.process_active, self.editing_process_id, self.process_errors = True, 0, {}

    def _new_department(self) -> None:
        next_order = max((d.sort_order for d in self.departments), default=0) + 10
        self.department_form = {"code": "", "name": "", **_NO_NAMES, "sort_order": str(min(next_order, 999))}
        self.department_active, self.editing_department_id, self.department_errors = True, 0, {}

    def _new_reason(self) -> None:
        self.reason_form = {"code": "", "name": "", **_NO_NAMES, "sort_order": ""}
        self.reason_kind, self.reason_active = SCRAP, True
        self.editing_reason_id, self.reason_errors = 0, {}

    async def _fetch_reasons(self, actor: Actor) -> None:
        """The reasons of the chosen process (none chosen: the first active process)."""
        known = {str(p.id) for p in self.processes}
        if self.reason_process_id not in known:
            first = next((p for p in self.processes if p.is_active), None)
            self.reason_process_id = str(first.id) if first is not None else ""
        self.reasons = (
            await runner.run(catalog.list_defect_reasons, actor, int(self.reason_process_id))
            if self.reason_process_id
            else []
        )

    def _new_product(self) -> None:
        self.product_form = {"code": "", "name": "", **_NO_NAMES, "unit": "pcs"}
        self.product_active, self.product_route, self.product_route_batches = True, [], []
        self.editing_product_id, self.product_errors = 0, {}

    @rx.var
    def process_options(self) -> list[Option]:
        """Active processes, for the route picker."""
        return [Option(str(p.id), p.display_name or p.name) for p in self.processes if p.is_active]

    @rx.var
    def product_route_names(self) -> list[str]:
        """The product form's route as process names."""
        names = {str(p.id): p.display_name or p.name for p in self.processes}
        return [names.get(process_id, "?") for process_id in self.product_route]

    @rx.event
    async def load(self):
        """Guard the page and load the first page of customers and the processes."""
        return await self._open_page(self._load, supervisor=True)

    async def _load(self, actor: Actor) -> None:
        self.customer_search, self.cursor_stack = "", []
        self._new_customer()
        self._new_process()
        await self._fetch_page(actor)
        self.processes = await runner.run(catalog.list_processes, actor)
        self.reason_process_id = ""
        await self._fetch_reasons(actor)
        self._new_reason()
        self.departments = await runner.run(catalog.list_departments, actor)
        self._new_department()
        self.products = await runner.run(catalog.list_products, actor)
        self._new_product()
        self.loaded = True

    @rx.event
    async def search_customers(self, form_data: dict):
        """Search customers by name or contact."""
        self.customer_search = str(form_data.get("search", ""))[:60] if isinstance(form_data, dict) else ""
        return await self._first_page()

    @rx.event
    def set_customer_field(self, field: str, value: str):
        """Change one field of the customer form."""
        if field in CUSTOMER_FIELDS and isinstance(value, str):
            self.customer_form = {**self.customer_form, field: value[:200]}

    @rx.event
    def edit_customer(self, customer_id: int):
        """Load a customer of the page into its form."""
        row = next((c for c in self.customers if c.id == customer_id), None)
        if row is not None:
            self.customer_form = {"name": row.name, "contact": row.contact}
            self.editing_customer_id, self.customer_errors = row.id, {}

    @rx.event
    def new_customer(self):
        """Empty the customer form."""
        self._new_customer()

    @rx.event
    async def save_customer(self):
        """Create or update the customer of the form."""
        name = self.customer_form.get("name", "").strip()

        async def saved(actor: Actor, _customer_id: int):
            self._new_customer()
            await self._fetch_page(actor)
            return rx.toast.success(translate("ui.toast.customer_saved", actor.locale, name=name))

        def refused(actor: Actor, error: DomainError) -> None:
            self.customer_errors = field_errors(error, actor.locale)

        return await self._act(
            catalog.save_customer,
            dict(self.customer_form),
            self.editing_customer_id or None,
            then=saved,
            on_error=refused,
        )

    @rx.event
    def set_process_field(self, field: str, value: str):
        """Change one field of the process form."""
        if field in PROCESS_FIELDS and isinstance(value, str):
            self.process_form = {**self.process_form, field: value[:200]}

    @rx.event
    def set_process_active(self, active: bool):
        """Activate or deactivate the process of the form."""
        self.process_active = active is True

    @rx.event
    def edit_process(self, process_id: int):
        """Load a process into its form."""
        row = next((p for p in self.processes if p.id == process_id), None)
        if row is not None:
            self.process_form = {
                "code": row.code,
                "name": row.name,
                **_names_of(row),
                "standard_minutes": str(row.standard_minutes),
                "setup_minutes": str(row.setup_minutes),
                "units_per_hour": str(row.units_per_hour),
                "transfer_batch": str(row.transfer_batch or ""),
            }
            self.process_active, self.editing_process_id, self.process_errors = row.is_active, row.id, {}

    @rx.event
    def new_process(self):
        """Empty the process form."""
        self._new_process()

    @rx.event
    async def save_process(self):
        """Create or update the process of the form."""
        payload = {**self.process_form, "is_active": self.process_active}
        name = self.process_form.get("name", "").strip()

        async def saved(actor: Actor, _process_id: int):
            self._new_process()
            self.processes = await runner.run(catalog.list_processes, actor)
            return rx.toast.success(translate("ui.toast.process_saved", actor.locale, name=name))

        def refused(actor: Actor, error: DomainError) -> None:
            self.process_errors = field_errors(error, actor.locale)

        return await self._act(
            catalog.save_process, payload, self.editing_process_id or None, then=saved, on_error=refused
        )

    @rx.event
    def set_department_field(self, field: str, value: str):
        """Change one field of the department form."""
        if field in DEPARTMENT_FIELDS and isinstance(value, str):
            self.department_form = {**self.department_form, field: value[:200]}

    @rx.event
    def set_department_active(self, active: bool):
        """Activate or deactivate the department of the form."""
        self.department_active = active is True

    @rx.event
    def edit_department(self, department_id: int):
        """Load a department into its form."""
        row = next((d for d in self.departments if d.id == department_id), None)
        if row is not None:
            self.department_form = {
                "code": row.code,
                "name": row.name,
                **_names_of(row),
                "sort_order": str(row.sort_order),
            }
            self.department_active, self.editing_department_id, self.department_errors = (
                row.is_active,
                row.id,
                {},
            )

    @rx.event
    def new_department(self):
        """Empty the department form."""
        self._new_department()

    @rx.event
    async def save_department(self):
        """Create or update the department of the form (admins)."""
        payload = {**self.department_form, "is_active": self.department_active}
        name = self.department_form.get("name", "").strip()

        async def saved(actor: Actor, _department_id: int):
            self.departments = await runner.run(catalog.list_departments, actor)
            self._new_department()
            return rx.toast.success(translate("ui.toast.department_saved", actor.locale, name=name))

        def refused(actor: Actor, error: DomainError) -> None:
            self.department_errors = field_errors(error, actor.locale)

        return await self._act(
            catalog.save_department, payload, self.editing_department_id or None, then=saved, on_error=refused
        )

    @rx.event
    def set_product_field(self, field: str, value: str):
        """Change one field of the product form."""
        if field in PRODUCT_FIELDS and isinstance(value, str):
            self.product_form = {**self.product_form, field: value[:200]}

    @rx.event
    def set_product_active(self, active: bool):
        """Offer or withdraw the product of the form."""
        self.product_active = active is True

    @rx.event
    def add_route_step(self, process_id: str):
        """Append a process to the product's route."""
        if isinstance(process_id, str) and process_id.isdigit() and len(self.product_route) < MAX_ROUTE_STEPS:
            self.product_route = [*self.product_route, process_id[:12]]
            self.product_route_batches = [*self._batches(), ""]

    @rx.event
    def remove_route_step(self, index: int):
        """Remove a step of the product's route."""
        if isinstance(index, int) and 0 <= index < len(self.product_route):
            batches = self._batches()
            self.product_route = self.product_route[:index] + self.product_route[index + 1 :]
            self.product_route_batches = batches[:index] + batches[index + 1 :]

    @rx.event
    def move_route_step(self, index: int, delta: int):
        """Move a step of the product's route up (-1) or down (+1)."""
        if not (isinstance(index, int) and isinstance(delta, int)):
            return
        target = index + delta
        if 0 <= index < len(self.product_route) and 0 <= target < len(self.product_route):
            route, batches = list(self.product_route), self._batches()
            route[index], route[target] = route[target], route[index]
            batches[index], batches[target] = batches[target], batches[index]
            self.product_route, self.product_route_batches = route, batches

    def _batches(self) -> list[str]:
        """The route steps' transfer batches, one per step."""
        batches = list(self.product_route_batches)[: len(self.product_route)]
        return batches + [""] * (len(self.product_route) - len(batches))

    @rx.event
    def set_route_batch(self, index: int, value: str):
        """Set a route step's transfer batch (digits, or empty for none)."""
        if isinstance(index, bool) or not isinstance(index, int) or not isinstance(value, str):
            return
        if not 0 <= index < len(self.product_route):
            return
        batches = self._batches()
        # ASCII digits only: "²".isdigit() is true, but no number.
        batches[index] = value[:12] if value.isascii() and value.isdecimal() else ""
        self.product_route_batches = batches

    @rx.event
    def edit_product(self, product_id: int):
        """Load a product into its form."""
        row = next((p for p in self.products if p.id == product_id), None)
        if row is not None:
            self.product_form = {"code": row.code, "name": row.name, **_names_of(row), "unit": row.unit}
            self.product_active, self.product_route = row.is_active, [str(i) for i in row.route_process_ids]
            self.product_route_batches = list(row.route_transfer_batches)
            self.editing_product_id, self.product_errors = row.id, {}

    @rx.event
    def new_product(self):
        """Empty the product form."""
        self._new_product()

    @rx.event
    async def save_product(self):
        """Create or update the product of the form."""
        payload = {
            **self.product_form,
            "is_active": self.product_active,
            "route": list(self.product_route),
            "route_transfer_batches": [b or None for b in self._batches()],
        }
        name = self.product_form.get("name", "").strip()

        async def saved(actor: Actor, _product_id: int):
            self.products = await runner.run(catalog.list_products, actor)
            self._new_product()
            return rx.toast.success(translate("ui.toast.product_saved", actor.locale, name=name))

        def refused(actor: Actor, error: DomainError) -> None:
            self.product_errors = field_errors(error, actor.locale)

        return await self._act(
            catalog.save_product, payload, self.editing_product_id or None, then=saved, on_error=refused
        )

    @rx.event
    async def pick_reason_process(self, process_id: str):
        """Show the scrap and rework reasons of another process."""
        if not isinstance(process_id, str) or process_id not in {str(p.id) for p in self.processes}:
            return None
        self.reason_process_id = process_id

        async def show(actor: Actor):
            self._new_reason()
            await self._fetch_reasons(actor)

        return await self._as_actor(show)

    @rx.event
    def set_reason_field(self, field: str, value: str):
        """Change one field of the reason form."""
        if field in REASON_FIELDS and isinstance(value, str):
            self.reason_form = {**self.reason_form, field: value[:200]}

    @rx.event
    def set_reason_kind(self, kind: str):
        """Choose whether the new reason is for scrap or for rework."""
        if kind in DEFECT_KINDS and not self.editing_reason_id:
            self.reason_kind = kind

    @rx.event
    def set_reason_active(self, active: bool):
        """Offer the reason of the form when reporting, or retire it."""
        self.reason_active = active is True

    @rx.event
    def edit_reason(self, reason_id: int):
        """Load a reason of the list into its form."""
        row = next((r for r in self.reasons if r.id == reason_id), None)
        if row is not None:
            self.reason_form = {
                "code": row.code,
                "name": row.name,
                **_names_of(row),
                "sort_order": str(row.sort_order),
            }
            self.reason_kind, self.reason_active = row.kind, row.is_active
            self.editing_reason_id, self.reason_errors = row.id, {}

    @rx.event
    def new_reason(self):
        """Empty the reason form."""
        self._new_reason()

    @rx.event
    async def save_reason(self):
        """Add the reason of the form to the chosen process, or save the one being edited."""
        payload = {
            **self.reason_form,
            "process_id": self.reason_process_id,
            "kind": self.reason_kind,
            "is_active": self.reason_active,
        }
        name = self.reason_form.get("name", "").strip()

        async def saved(actor: Actor, _reason_id: int):
            self._new_reason()
            await self._fetch_reasons(actor)
            return rx.toast.success(translate("ui.quality.saved", actor.locale, name=name))

        def refused(actor: Actor, error: DomainError) -> None:
            self.reason_errors = field_errors(error, actor.locale)

        return await self._act(
            catalog.save_defect_reason, payload, self.editing_reason_id or None, then=saved, on_error=refused
        )

    @rx.event
    async def toggle_reason(self, reason_id: int):
        """Retire a reason of the list (it leaves the report dialog), or offer it again."""
        row = next((r for r in self.reasons if r.id == reason_id), None)
        if row is None:
            return None

        async def saved(actor: Actor, _reason_id: int):
            if self.editing_reason_id == row.id:
                self._new_reason()
            await self._fetch_reasons(actor)
            return rx.toast.success(translate("ui.quality.saved", actor.locale, name=row.display_name))

        return await self._act(
            catalog.save_defect_reason,
            {"name": row.name, "is_active": not row.is_active},
            row.id,
            then=saved,
        )
