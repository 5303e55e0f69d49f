"""People page (admins): a keyset-paged list of accounts, the account form, an operator's skills."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from work_dispatch.domain.errors import DomainError
from work_dispatch.i18n import format_datetime, translate
from work_dispatch.services import auth, devices, people, reference, runner, skills
from work_dispatch.services.actor import Actor
from work_dispatch.services.auth import ThrottlePage, ThrottleRow
from work_dispatch.services.devices import DeviceRow
from work_dispatch.services.people import PeoplePage, PersonRow
from work_dispatch.services.reference import Option
from work_dispatch.services.skills import LEVELS, SkillRow, SkillSheet
from work_dispatch.settings import settings
from work_dispatch.states.mixins import KeysetPagerMixin, ServiceMixin, field_errors

FORM_FIELDS = ("username", "display_name", "role", "wip_limit", "password", "locale")
PAGE_SIZE = 25
PIN_INPUT_MAX = 6


class PeopleState(KeysetPagerMixin, rx.State):
    """One page of people, the filters, and the create/edit form."""

    rows: list[PersonRow] = []
    departments: list[Option] = []
    role_filter: str = ""
    search: str = ""
    form: dict[str, str] = {}
    form_departments: list[str] = []
    form_active: bool = True
    editing_id: int = 0
    editing_self: bool = False
    field_errors: dict[str, str] = {}
    loaded: bool = False
    pin: str = ""
    """The PIN typed for the account of the form (sent once, never loaded back)."""
    devices: list[DeviceRow] = []
    """Marked shop-floor devices."""

    async def _fetch_page(self, actor: Actor):
        try:
            self._show(
                await runner.run(
                    people.list_people, actor, self.role_filter, self.search, self._cursor() or 0, PAGE_SIZE
                )
            )
        except DomainError as error:
            # A filter or cursor the service refuses: back to everyone, first page.
            self.role_filter, self.search, self.cursor_stack = "", "", []
            self._show(await runner.run(people.list_people, actor, "", "", 0, PAGE_SIZE))
            return rx.toast.error(error.render(actor.locale))
        return None

    def _show(self, page: PeoplePage) -> None:
        self.rows, self.next_cursor = page.rows, str(page.next_after or "")

    def _new_form(self) -> None:
        # A new account reads in the language of the admin creating it, until changed.
        self.form = {
            "username": "",
            "display_name": "",
            "role": "operator",
            "wip_limit": "3",
            "password": "",
            "locale": self._locale,
        }
        self.form_departments, self.form_active = [], True
        self.editing_id, self.editing_self, self.field_errors = 0, False, {}
        self.pin = ""

    @rx.event
    async def load(self):
        """Guard the page (admins only) and load the first page and the departments."""
        return await self._open_page(self._load, admin=True)

    async def _load(self, actor: Actor) -> None:
        self.departments = await runner.run(reference.department_options, actor)
        self.devices = await runner.run(devices.list_devices, actor)
        self.role_filter, self.search, self.cursor_stack = "", "", []
        self._new_form()
        await self._fetch_page(actor)
        self.loaded = True

    @rx.event
    async def filter_role(self, role: str):
        """Show one role ("all" for everyone)."""
        self.role_filter = "" if role == "all" else str(role)[:16]
        return await self._first_page()

    @rx.event
    async def run_search(self, form_data: dict):
        """Search by username or name."""
        self.search = str(form_data.get("search", ""))[:60] if isinstance(form_data, dict) else ""
        return await self._first_page()

    @rx.event
    def set_form(self, field: str, value: str):
        """Change one field of the account form."""
        if field in FORM_FIELDS and isinstance(value, str):
            self.form = {**self.form, field: value[:200]}

    @rx.event
    def toggle_department(self, department_id: str, member: bool):
        """Add or remove a department of the account form."""
        # Only departments the form offers (or already lists): the list stays within their number.
        if not isinstance(department_id, str | int):
            return
        department_id = str(department_id)
        if department_id not in self.form_departments and department_id not in {
            option.value for option in self.departments
        }:
            return
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
        return await self._as_actor(lambda actor: self._edit(actor, user_id))

    async def _edit(self, actor: Actor, user_id: int):
        row = next((r for r in self.rows if r.id == user_id), None)
        if row is None:
            return None
        self.form = {
            "username": row.username,
            "display_name": row.display_name,
            "role": row.role,
            "wip_limit": str(row.wip_limit),
            "password": "",
            "locale": row.locale,
        }
        self.form_departments = [str(d) for d in row.department_ids]
        self.form_active = row.is_active
        self.editing_id, self.editing_self, self.field_errors = row.id, row.id == actor.user_id, {}
        self.pin = ""
        skills_sheet = SkillsState.open(row.id) if row.role == "operator" else SkillsState.close
        return [rx.scroll_to("person-form"), skills_sheet]

    @rx.event
    async def save(self):
        """Create or update the account of the form."""
        payload = {
            **self.form,
            "department_ids": list(self.form_departments),
            "is_active": self.form_active,
        }
        username = self.form.get("username", "")
        if self.editing_id:
            return await self._act(
                people.update_person,
                self.editing_id,
                payload,
                then=lambda actor, ended: self._saved(
                    actor,
                    translate("ui.toast.person_saved", actor.locale, username=username)
                    + (
                        translate("ui.toast.sessions_ended_after", actor.locale, count=ended) if ended else ""
                    ),
                ),
                on_error=self._form_error,
            )
        return await self._act(
            people.create_person,
            payload,
            then=lambda actor, _user_id: self._saved(
                actor, translate("ui.toast.person_created", actor.locale, username=username.strip().lower())
            ),
            on_error=self._form_error,
        )

    async def _saved(self, actor: Actor, message: str):
        self._new_form()
        await self._fetch_page(actor)
        return rx.toast.success(message)

    def _form_error(self, actor: Actor, error: DomainError) -> None:
        self.field_errors = field_errors(error, actor.locale)

    @rx.event
    def set_pin(self, value: str):
        """Type the quick-switch PIN of the account of the form (digits only, at most 6)."""
        self.pin = "".join(c for c in value[:PIN_INPUT_MAX] if c.isdigit()) if isinstance(value, str) else ""

    @rx.event
    async def save_pin(self):
        """Set (or, when empty, clear) the PIN of the operator in the form."""
        username, pin = self.form.get("username", ""), self.pin
        key = "devices.toast.pin_set" if pin else "devices.toast.pin_cleared"
        return await self._act(
            people.set_pin,
            self.editing_id,
            pin,
            then=lambda actor, _is_set: self._pin_saved(
                actor, translate(key, actor.locale, username=username)
            ),
            on_error=self._form_error,
        )

    async def _pin_saved(self, actor: Actor, message: str):
        self.pin = ""
        self.field_errors = {}
        await self._fetch_page(actor)
        return rx.toast.success(message)

    @rx.event
    async def unmark_device(self, device_id: int):
        """Unmark a shop-floor device: PIN logins stop there."""
        return await self._act(devices.unmark_device, device_id, then=self._device_unmarked)

    async def _device_unmarked(self, actor: Actor, name: str):
        self.devices = await runner.run(devices.list_devices, actor)
        return rx.toast.success(translate("devices.toast.unmarked", actor.locale, name=name))

    @rx.event
    async def revoke(self, user_id: int):
        """End every open session of a user."""
        return await self._act(people.revoke_sessions, user_id, then=self._revoked)

    async def _revoked(self, actor: Actor, ended: int):
        await self._fetch_page(actor)
        return rx.toast.info(translate("ui.toast.sessions_ended", actor.locale, count=ended))


_LEVEL_VALUES = frozenset(str(level) for level in LEVELS)


class SkillsState(ServiceMixin, rx.State):
    """The skills editor of the operator in the People form: a level 0–3 per active process."""

    operator_id: int = 0
    """Whose sheet is shown (0: none); the page shows it only while that account is in the form."""
    operator_name: str = ""
    rows: list[SkillRow] = []
    """One row per active process (a shop has a few dozen; the service caps them)."""
    error: str = ""

    def _clear(self) -> None:
        self.operator_id, self.operator_name, self.rows, self.error = 0, "", [], ""

    @rx.event
    async def open(self, user_id: int):
        """Load an operator's skill sheet (admins; the service refuses anyone else)."""
        return await self._act(skills.skill_sheet, user_id, then=self._show, on_error=self._refused_open)

    def _show(self, _actor: Actor, sheet: SkillSheet) -> None:
        self.operator_id, self.operator_name = sheet.operator_id, sheet.display_name
        self.rows, self.error = sheet.rows, ""

    def _refused_open(self, actor: Actor, error: DomainError):
        self._clear()
        return rx.toast.error(error.render(actor.locale))

    @rx.event
    def close(self):
        """Hide the sheet (another kind of account, or a new one, is in the form)."""
        self._clear()

    @rx.event
    def set_level(self, process_id: int, level: str):
        """Change one process's level in the sheet (saved with the others by ``save``)."""
        if isinstance(level, str) and level in _LEVEL_VALUES and isinstance(process_id, int):
            self.rows = [
                SkillRow(row.process_id, row.code, row.name, int(level))
                if row.process_id == process_id
                else row
                for row in self.rows
            ]

    @rx.event
    async def save(self):
        """Save every level of the sheet; the service checks them all before writing any."""
        levels = {str(row.process_id): row.level for row in self.rows}
        return await self._act(
            skills.set_levels, self.operator_id, levels, then=self._saved, on_error=self._refused
        )

    async def _saved(self, actor: Actor, changed: int):
        name = self.operator_name
        try:
            self._show(actor, await runner.run(skills.skill_sheet, actor, self.operator_id))
        except DomainError:  # no longer an operator meanwhile
            self._clear()
        if not changed:
            return rx.toast.info(translate("ui.skills.unchanged", actor.locale))
        return rx.toast.success(translate("ui.skills.saved", actor.locale, name=name, count=changed))

    def _refused(self, actor: Actor, error: DomainError) -> None:
        self.error = error.render(actor.locale)


THROTTLE_PAGE_SIZE = 20


@dataclass
class ThrottleView:
    """A login throttle as the People page lists it (``scope`` is the stored key; the page labels it)."""

    id: int
    scope: str
    username: str
    address: str
    failures: int
    refused: int
    blocked_until: str
    is_blocked: bool


def _view(row: ThrottleRow, locale: str) -> ThrottleView:
    return ThrottleView(
        id=row.id,
        scope=row.scope,
        username=row.username or "–",
        address=row.address or "–",
        failures=row.failures,
        refused=row.refused,
        blocked_until=format_datetime(row.blocked_until, locale, settings.timezone) if row.is_blocked else "",
        is_blocked=row.is_blocked,
    )


class ThrottleState(KeysetPagerMixin, rx.State):
    """Login throttles (admins): who is slowed down after failed logins, and clearing them."""

    throttles: list[ThrottleView] = []
    blocked_only: bool = False

    async def _fetch_page(self, actor: Actor):
        page: ThrottlePage = await runner.run(
            auth.list_throttles, actor, "", self.blocked_only, self._cursor() or 0, THROTTLE_PAGE_SIZE
        )
        self.throttles = [_view(row, actor.locale) for row in page.rows]
        self.next_cursor = str(page.next_before or "")

    @rx.event
    async def load(self):
        """Guard (admins only) and show the first page of throttles."""
        return await self._open_page(lambda actor: self._first_page(), admin=True)

    @rx.event
    async def refresh(self):
        """Show the first page again."""
        return await self._first_page()

    @rx.event
    async def set_blocked_only(self, blocked_only: bool):
        """Show only throttles that refuse or slow logins right now."""
        self.blocked_only = blocked_only is True
        return await self._first_page()

    @rx.event
    async def clear(self, throttle_id: int):
        """Forget one throttle: its username / address may log in at once."""
        return await self._act(auth.clear_throttle, throttle_id, then=self._cleared, on_error=self._gone)

    async def _cleared(self, actor: Actor, _result):
        await self._fetch_page(actor)
        return rx.toast.success(translate("ui.toast.throttle_cleared", actor.locale))

    async def _gone(self, actor: Actor, error: DomainError):
        await self._fetch_page(actor)
        return rx.toast.info(error.render(actor.locale))
