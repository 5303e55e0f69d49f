"""People page (admins): a keyset-paged list of accounts and the account form."""

from __future__ import annotations

import reflex as rx

from work_dispatch.domain.errors import DomainError
from work_dispatch.services import people, reference, runner
from work_dispatch.services.people import PersonRow
from work_dispatch.services.reference import Option
from work_dispatch.states.session import LOGIN_PATH, current_actor, page_actor

FORM_FIELDS = ("username", "display_name", "role", "wip_limit", "password")
PAGE_SIZE = 25


class PeopleState(rx.State):
    """One page of people, the filters, and the create/edit form."""

    rows: list[PersonRow] = []
    departments: list[Option] = []
    role_filter: str = ""
    search: str = ""
    page_starts: list[int] = [0]
    next_after: int = 0
    form: dict[str, str] = {}
    form_departments: list[str] = []
    form_active: bool = True
    editing_id: int = 0
    editing_self: bool = False
    field_errors: dict[str, str] = {}
    loaded: bool = False

    async def _reload(self, actor) -> None:
        page = await runner.run(
            people.list_people, actor, self.role_filter, self.search, self.page_starts[-1], PAGE_SIZE
        )
        self.rows, self.next_after = page.rows, page.next_after

    def _new_form(self) -> None:
        self.form = {"username": "", "display_name": "", "role": "operator", "wip_limit": "3", "password": ""}
        self.form_departments, self.form_active = [], True
        self.editing_id, self.editing_self, self.field_errors = 0, False, {}

    @rx.event
    async def load(self):
        """Guard the page (admins only) and load the first page and the departments."""
        actor, redirect = await page_actor(self, admin=True)
        if redirect:
            return redirect
        self.departments = await runner.run(reference.department_options, actor)
        self.role_filter, self.search, self.page_starts = "", "", [0]
        self._new_form()
        await self._reload(actor)
        self.loaded = True
        return None

    async def _show(self, page_starts: list[int]):
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH)
        self.page_starts = page_starts
        try:
            await self._reload(actor)
        except DomainError as error:
            self.role_filter, self.search, self.page_starts = "", "", [0]
            await self._reload(actor)
            return rx.toast.error(error.message)
        return None

    @rx.event
    async def filter_role(self, role: str):
        """Show one role ("all" for everyone)."""
        self.role_filter = "" if role == "all" else str(role)[:16]
        return await self._show([0])

    @rx.event
    async def run_search(self, form_data: dict):
        """Search by username or name."""
        self.search = str(form_data.get("search", ""))[:60] if isinstance(form_data, dict) else ""
        return await self._show([0])

    @rx.event
    async def next_page(self):
        """The next page of people."""
        if self.next_after:
            return await self._show([*self.page_starts, self.next_after])
        return None

    @rx.event
    async def previous_page(self):
        """The previous page of people."""
        return await self._show(self.page_starts[:-1] or [0])

    @rx.event
    def set_form(self, field: str, value: str):
        """Change one field of the account form."""
        if field in FORM_FIELDS and isinstance(value, str):
            self.form = {**self.form, field: value[:200]}

    @rx.event
    def toggle_department(self, department_id: str, member: bool):
        """Add or remove a department of the account form."""
        department_id = str(department_id)[:12]
        others = [d for d in self.form_departments if d != department_id]
        self.form_departments = [*others, department_id] if member is True else others

    @rx.event
    def set_active(self, active: bool):
        """Activate or deactivate the account of the form."""
        self.form_active = active is True

    @rx.event
    def new_person(self):
        """Empty the form for a new account."""
        self._new_form()

    @rx.event
    async def edit(self, user_id: int):
        """Load an account of the page into the form."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH)
        row = next((r for r in self.rows if r.id == user_id), None)
        if row is None:
            return None
        self.form = {
            "username": row.username,
            "display_name": row.display_name,
            "role": row.role,
            "wip_limit": str(row.wip_limit),
            "password": "",
        }
        self.form_departments = [str(d) for d in row.department_ids]
        self.form_active = row.is_active
        self.editing_id, self.editing_self, self.field_errors = row.id, row.id == actor.user_id, {}
        return rx.scroll_to("person-form")

    @rx.event
    async def save(self):
        """Create or update the account of the form."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH)
        payload = {
            **self.form,
            "department_ids": list(self.form_departments),
            "is_active": self.form_active,
        }
        try:
            if self.editing_id:
                ended = await runner.run(people.update_person, actor, self.editing_id, payload)
                message = f"Saved {self.form['username']}." + (
                    f" {ended} open session(s) ended." if ended else ""
                )
            else:
                await runner.run(people.create_person, actor, payload)
                message = f"Created {self.form['username'].strip().lower()}."
        except DomainError as error:
            self.field_errors = {error.field or "form": error.message}
            return None
        self._new_form()
        await self._reload(actor)
        return rx.toast.success(message)

    @rx.event
    async def revoke(self, user_id: int):
        """End every open session of a user."""
        actor = await current_actor(self)
        if actor is None:
            return rx.redirect(LOGIN_PATH)
        try:
            ended = await runner.run(people.revoke_sessions, actor, user_id)
        except DomainError as error:
            return rx.toast.error(error.message)
        await self._reload(actor)
        return rx.toast.info(f"{ended} open session(s) ended.")
