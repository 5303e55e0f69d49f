"""The "On the floor" page: live department cards, the shift calendar, closures and absences.

Three states, so that a push only touches what changes live:

- :class:`FloorState`: the department cards (a few rows per department), kept live by the
  fan-out (``FLOOR_VIEW``: every check-in, check-out, dispatch, report or calendar change),
  and refreshed once a minute by the page itself, because shifts start and end without any event.
- :class:`CalendarState`: shift templates and settings per department, closures, their dialogs.
- :class:`AbsenceState`: a keyset-paged list of absences, its operator filter and its dialog.

Every handler validates nothing itself: the services (``services/floor.py``) authorize and
validate; client-settable vars are bounded here (known form fields, short values).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import reflex as rx

from work_dispatch.domain.errors import DomainError
from work_dispatch.i18n import format_datetime, format_day, translate
from work_dispatch.realtime.bus import BusEvent
from work_dispatch.realtime.fanout import LiveFanout, Recipient, register_pusher
from work_dispatch.realtime.registry import FLOOR_VIEW, REGISTRY, Watcher
from work_dispatch.services import floor, runner
from work_dispatch.services.actor import Actor
from work_dispatch.services.floor import AbsencePage, ClosureRow, FloorSnapshot, TemplateRow
from work_dispatch.services.reference import Option
from work_dispatch.services.shifts import shop_timezone
from work_dispatch.settings import settings
from work_dispatch.states.mixins import KeysetPagerMixin, LiveViewMixin, ServiceMixin, field_errors
from work_dispatch.states.session import SessionState

SHIFT_FIELDS = ("department_id", "name", "start", "end")
CLOSURE_FIELDS = ("department_id", "first_day", "last_day", "reason")
SETTINGS_FIELDS = ("checkout_grace_minutes",)
SETTINGS_FLAGS = ("requires_check_in", "shift_end_returns_tasks", "shift_end_pauses_tasks")
ABSENCE_FIELDS = ("operator_id", "start", "end", "reason")
FORM_VALUE_MAX = 500
"""Longest value a form field keeps (the longest field, a reason, is 500 characters)."""
ABSENCE_PAGE_SIZE = 20
SHOP = "shop"
"""The closure form's department value for the whole shop."""
ALL = "all"
"""The absence filter's value for every operator."""


def _when(moment: datetime | None, locale: str, *, short: bool = True) -> str:
    return format_datetime(moment, locale, settings.timezone, short=short) if moment else ""


def _hours_minutes(minutes: float) -> tuple[int, int]:
    whole = max(int(minutes), 0)
    return whole // 60, whole % 60


# -- live cards -----------------------------------------------------------------------------------


@dataclass
class MemberCard:
    """One operator on a department card (times already in the reader's locale and the shop's zone)."""

    operator_id: int
    name: str
    standing: str
    checked_in: bool
    since: str
    shift_name: str
    shift_until: str
    next_shift: str
    absent_until: str
    open_tasks: int
    wip_limit: int
    load_hours: int
    load_rest: int
    """Minutes past the whole hours of the load."""
    at_limit: bool


@dataclass
class DepartmentCard:
    """One department's card: summary figures and its operators."""

    id: int
    name: str
    has_shifts: bool
    requires_check_in: bool
    closed_today: bool
    running_shifts: list[str]
    left_hours: int
    left_minutes: int
    members: list[MemberCard]
    member_count: int
    checked_in: int
    working: int
    load_hours: int
    load_minutes: int


def cards_of(snapshot: FloorSnapshot, locale: str) -> list[DepartmentCard]:
    """The department cards of a snapshot, for a reader of ``locale``.

    Args:
        snapshot: What the service read.
        locale: The reader's locale (dates and times).

    Returns:
        The cards, in the snapshot's order.
    """
    cards = []
    for department in snapshot.departments:
        left_hours, left_minutes = _hours_minutes(department.shift_minutes_left)
        load_hours, load_minutes = _hours_minutes(department.load_minutes)
        cards.append(
            DepartmentCard(
                id=department.department_id,
                name=department.name,
                has_shifts=department.has_shifts,
                requires_check_in=department.requires_check_in,
                closed_today=department.closed_today,
                running_shifts=department.running_shifts,
                left_hours=left_hours,
                left_minutes=left_minutes,
                members=[
                    MemberCard(
                        operator_id=m.operator_id,
                        name=m.name,
                        standing=m.standing,
                        checked_in=m.checked_in_at is not None,
                        since=_when(m.checked_in_at, locale),
                        shift_name=m.shift_name,
                        shift_until=_when(m.shift_ends_at, locale),
                        next_shift=_when(m.next_shift_at, locale),
                        absent_until=_when(m.absent_until, locale),
                        open_tasks=m.open_tasks,
                        wip_limit=m.wip_limit,
                        load_hours=_hours_minutes(m.load_minutes)[0],
                        load_rest=_hours_minutes(m.load_minutes)[1],
                        at_limit=m.open_tasks >= m.wip_limit,
                    )
                    for m in department.members
                ],
                member_count=len(department.members),
                checked_in=department.checked_in,
                working=department.working,
                load_hours=load_hours,
                load_minutes=load_minutes,
            )
        )
    return cards


class FloorState(ServiceMixin, LiveViewMixin, rx.State):
    """The live department cards (departments × members: a few KB for a shop of 200 operators)."""

    departments: list[DepartmentCard] = []
    loaded: bool = False
    push_count: int = 0
    """How many live pushes reached this page (tests and the live indicator read it)."""

    def _apply(self, cards: list[DepartmentCard], pushed: bool = False) -> None:
        self.departments = cards
        self.loaded = True
        if pushed:
            self.push_count += 1

    @rx.event
    async def load(self):
        """Guard the page (supervisors), load the cards and register for live updates."""
        return await self._open_page(self._load, supervisor=True)

    async def _load(self, actor: Actor) -> None:
        watcher = await self._watch(actor, FLOOR_VIEW)
        cards = cards_of(await runner.run(floor.floor_snapshot, actor), actor.locale)
        self._apply(cards)
        REGISTRY.register(watcher, shown={"cards": cards})

    @rx.event
    async def refresh(self):
        """Read the floor again (the page's minute tick: shifts start and end without events)."""
        return await self._as_actor(self._refresh)

    async def _refresh(self, actor: Actor) -> None:
        if not actor.is_supervisor:
            return
        await self._load(actor)

    @rx.event
    async def check_out(self, operator_id: int):
        """Check an operator out (their tablet then asks them to check in again)."""
        return await self._act(floor.check_out_operator, operator_id, then=self._checked_out)

    async def _checked_out(self, actor: Actor, name: str):
        await self._load(actor)
        return rx.toast.success(translate("floor.toast.checked_out", actor.locale, name=name))


async def push_floor(fanout: LiveFanout, recipients: list[Recipient], event: BusEvent) -> None:
    """Fan-out handler of floor pages: one read per flush and locale, shared by every recipient.

    A page whose cards did not change is not pushed; one failing push stops none of the others.
    """
    snapshots = await runner.run(floor.floor_snapshots, [r.actor for r in recipients])
    cards = {locale: cards_of(snapshot, locale) for locale, snapshot in snapshots.items()}

    async def push(recipient: Recipient) -> None:
        mine = cards.get(recipient.actor.locale)
        if mine is None:
            return
        if fanout.remember_pushed(recipient.token, "cards", mine):
            fanout.skipped += 1
            return
        await fanout.push_state(recipient.token, FloorState, lambda state: state._apply(mine, pushed=True))

    await fanout.each(recipients, push)


async def wipe_floor(fanout: LiveFanout, watcher: Watcher) -> None:
    """Empty the floor page of a session that may not see it any more, as a logout would."""
    async with fanout.modify(watcher.token, FloorState) as root:
        (await root.get_state(FloorState)).reset()
        (await root.get_state(SessionState))._remember(None)


register_pusher(FLOOR_VIEW, push_floor, wipe_floor)


# -- the calendar: shifts, department settings, closures -----------------------------------------


@dataclass
class ShiftView:
    """A shift template as the calendar shows it."""

    id: int
    department_id: int
    name: str
    start: str
    end: str
    weekdays: list[int]
    overnight: bool
    is_active: bool
    hours: int
    minutes: int


@dataclass
class CalendarDepartment:
    """A department in the calendar: its shift settings and shift templates."""

    id: int
    name: str
    requires_check_in: bool
    shift_end_returns_tasks: bool
    shift_end_pauses_tasks: bool
    checkout_grace_minutes: int
    shifts: list[ShiftView]


@dataclass
class ClosureView:
    """A closure as the calendar lists it."""

    id: int
    department_id: int
    department: str
    first_day: str
    last_day: str
    first_value: str
    last_value: str
    reason: str
    one_day: bool


def _shift_view(row: TemplateRow) -> ShiftView:
    hours, minutes = _hours_minutes(row.minutes)
    return ShiftView(
        id=row.id,
        department_id=row.department_id,
        name=row.name,
        start=row.start,
        end=row.end,
        weekdays=row.weekdays,
        overnight=row.overnight,
        is_active=row.is_active,
        hours=hours,
        minutes=minutes,
    )


def _closure_view(row: ClosureRow, locale: str) -> ClosureView:
    return ClosureView(
        id=row.id,
        department_id=row.department_id,
        department=row.department,
        first_day=format_day(row.first_day, locale),
        last_day=format_day(row.last_day, locale),
        first_value=row.first_day.isoformat(),
        last_value=row.last_day.isoformat(),
        reason=row.reason,
        one_day=row.first_day == row.last_day,
    )


def _clip(value: Any) -> str | None:
    return value[:FORM_VALUE_MAX] if isinstance(value, str) else None


class CalendarState(ServiceMixin, rx.State):
    """Shift templates and settings per department, closures, and the dialog editing one of them."""

    departments: list[CalendarDepartment] = []
    department_options: list[Option] = []
    closures: list[ClosureView] = []
    dialog: str = ""
    """The open dialog: "" (none), "shift", "closure" or "settings"."""
    editing_id: int = 0
    """The shift, closure or department in the dialog (0: a new shift or closure)."""
    form: dict[str, str] = {}
    form_weekdays: list[int] = []
    form_flags: dict[str, bool] = {}
    field_errors: dict[str, str] = {}
    loaded: bool = False

    @rx.event
    async def load(self):
        """Guard the page (supervisors) and load the calendar."""
        return await self._open_page(self._reload, supervisor=True)

    async def _reload(self, actor: Actor) -> None:
        settings_rows = await runner.run(floor.department_settings, actor)
        templates = await runner.run(floor.list_templates, actor)
        closures = await runner.run(floor.list_closures, actor)
        by_department: dict[int, list[ShiftView]] = {}
        for row in templates:
            by_department.setdefault(row.department_id, []).append(_shift_view(row))
        self.departments = [
            CalendarDepartment(
                id=d.id,
                name=d.name,
                requires_check_in=d.requires_check_in,
                shift_end_returns_tasks=d.shift_end_returns_tasks,
                shift_end_pauses_tasks=d.shift_end_pauses_tasks,
                checkout_grace_minutes=d.checkout_grace_minutes,
                shifts=by_department.get(d.id, []),
            )
            for d in settings_rows
        ]
        self.department_options = [Option(str(d.id), d.name) for d in settings_rows]
        self.closures = [_closure_view(row, actor.locale) for row in closures]
        self.loaded = True

    def _open(self, dialog: str, editing_id: int, form: dict[str, str]) -> None:
        self.dialog, self.editing_id, self.form, self.field_errors = dialog, editing_id, form, {}

    def _close(self) -> None:
        self._open("", 0, {})
        self.form_weekdays, self.form_flags = [], {}

    @rx.event
    def close_dialog(self):
        """Close the open dialog; nothing is saved."""
        self._close()

    @rx.event
    def dialog_changed(self, open_: bool):
        """The dialog was closed with Escape or a click outside it: nothing is saved."""
        if open_ is not True:
            self._close()

    # -- shifts --

    @rx.event
    def new_shift(self, department_id: int):
        """Open the dialog for a new shift of a department (Monday to Friday, 08:00–16:00)."""
        if not any(d.id == department_id for d in self.departments):
            return
        self._open(
            "shift", 0, {"department_id": str(department_id), "name": "", "start": "08:00", "end": "16:00"}
        )
        self.form_weekdays, self.form_flags = [0, 1, 2, 3, 4], {"overnight": False, "is_active": True}

    @rx.event
    def edit_shift(self, template_id: int):
        """Open the dialog on a shift template of the calendar."""
        shift = next((s for d in self.departments for s in d.shifts if s.id == template_id), None)
        if shift is None:
            return
        self._open(
            "shift",
            shift.id,
            {
                "department_id": str(shift.department_id),
                "name": shift.name,
                "start": shift.start,
                "end": shift.end,
            },
        )
        self.form_weekdays = list(shift.weekdays)
        self.form_flags = {"overnight": shift.overnight, "is_active": shift.is_active}

    @rx.event
    def set_shift_field(self, field: str, value: str):
        """Change one field of the shift form."""
        value = _clip(value)
        if field in SHIFT_FIELDS and value is not None:
            self.form = {**self.form, field: value}

    @rx.event
    def toggle_weekday(self, day: int, on: bool):
        """Add or remove a weekday (0 = Monday) of the shift form."""
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
            return
        others = [d for d in self.form_weekdays if d != day]
        self.form_weekdays = sorted([*others, day]) if on is True else others

    @rx.event
    def set_flag(self, name: str, on: bool):
        """Switch a yes/no field of the open form (overnight, active, or a department setting)."""
        if name in ("overnight", "is_active", *SETTINGS_FLAGS) and isinstance(on, bool):
            self.form_flags = {**self.form_flags, name: on}

    @rx.event
    async def save_shift(self):
        """Create or change the shift of the dialog."""
        payload = {
            **self.form,
            "weekdays": list(self.form_weekdays),
            "overnight": self.form_flags.get("overnight", False),
            "is_active": self.form_flags.get("is_active", True),
        }
        name = self.form.get("name", "")
        return await self._act(
            floor.save_template,
            self.editing_id,
            payload,
            then=lambda actor, _id: self._saved(actor, "floor.toast.shift_saved", name=name.strip()),
            on_error=self._form_error,
        )

    @rx.event
    async def delete_shift(self):
        """Delete the shift of the dialog."""
        return await self._act(
            floor.delete_template,
            self.editing_id,
            then=lambda actor, name: self._saved(actor, "floor.toast.shift_deleted", name=name),
            on_error=self._form_error,
        )

    # -- department settings --

    @rx.event
    def edit_settings(self, department_id: int):
        """Open the dialog on a department's shift settings."""
        department = next((d for d in self.departments if d.id == department_id), None)
        if department is None:
            return
        self._open(
            "settings", department.id, {"checkout_grace_minutes": str(department.checkout_grace_minutes)}
        )
        self.form_weekdays = []
        self.form_flags = {
            "requires_check_in": department.requires_check_in,
            "shift_end_returns_tasks": department.shift_end_returns_tasks,
            "shift_end_pauses_tasks": department.shift_end_pauses_tasks,
        }

    @rx.event
    def set_settings_field(self, field: str, value: str):
        """Change the check-out grace of the settings form."""
        value = _clip(value)
        if field in SETTINGS_FIELDS and value is not None:
            self.form = {**self.form, field: value[:12]}

    @rx.event
    async def save_settings(self):
        """Save the department settings of the dialog."""
        payload = {**self.form, **{name: self.form_flags.get(name, False) for name in SETTINGS_FLAGS}}
        return await self._act(
            floor.save_department_settings,
            self.editing_id,
            payload,
            then=lambda actor, name: self._saved(actor, "floor.toast.settings_saved", name=name),
            on_error=self._form_error,
        )

    # -- closures --

    @rx.event
    def new_closure(self):
        """Open the dialog for a new closure of the whole shop."""
        self._open("closure", 0, {"department_id": SHOP, "first_day": "", "last_day": "", "reason": ""})
        self.form_weekdays, self.form_flags = [], {}

    @rx.event
    def edit_closure(self, closure_id: int):
        """Open the dialog on a listed closure."""
        closure = next((c for c in self.closures if c.id == closure_id), None)
        if closure is None:
            return
        self._open(
            "closure",
            closure.id,
            {
                "department_id": str(closure.department_id) if closure.department_id else SHOP,
                "first_day": closure.first_value,
                "last_day": closure.last_value,
                "reason": closure.reason,
            },
        )

    @rx.event
    def set_closure_field(self, field: str, value: str):
        """Change one field of the closure form."""
        value = _clip(value)
        if field in CLOSURE_FIELDS and value is not None:
            self.form = {**self.form, field: value}

    @rx.event
    async def save_closure(self):
        """Create or change the closure of the dialog."""
        payload = {**self.form}
        if payload.get("department_id") == SHOP:
            payload["department_id"] = ""
        return await self._act(
            floor.save_closure,
            self.editing_id,
            payload,
            then=lambda actor, _id: self._saved(actor, "floor.toast.closure_saved"),
            on_error=self._form_error,
        )

    @rx.event
    async def delete_closure(self):
        """Delete the closure of the dialog."""
        return await self._act(
            floor.delete_closure,
            self.editing_id,
            then=lambda actor, _none: self._saved(actor, "floor.toast.closure_deleted"),
            on_error=self._form_error,
        )

    # -- after a change --

    async def _saved(self, actor: Actor, key: str, **params: Any):
        self._close()
        await self._reload(actor)
        return [rx.toast.success(translate(key, actor.locale, **params)), FloorState.refresh]

    def _form_error(self, actor: Actor, error: DomainError) -> None:
        self.field_errors = field_errors(error, actor.locale)


# -- absences -------------------------------------------------------------------------------------


@dataclass
class AbsenceView:
    """An absence as the list shows it (and the edit form is filled from)."""

    id: int
    operator_id: int
    operator: str
    start: str
    end: str
    start_value: str
    end_value: str
    reason: str
    created_by: str
    current: bool
    upcoming: bool


def _input_value(moment: datetime) -> str:
    """A ``datetime-local`` input's value: the shop's wall clock to the minute."""
    return moment.astimezone(shop_timezone()).strftime("%Y-%m-%dT%H:%M")


class AbsenceState(KeysetPagerMixin, rx.State):
    """A page of absences, the operator filter, and the create/edit dialog."""

    rows: list[AbsenceView] = []
    operators: list[Option] = []
    operator_filter: str = ALL
    dialog_open: bool = False
    editing_id: int = 0
    form: dict[str, str] = {}
    field_errors: dict[str, str] = {}
    loaded: bool = False

    async def _fetch_page(self, actor: Actor):
        operator_id = 0 if self.operator_filter == ALL else self.operator_filter
        try:
            page: AbsencePage = await runner.run(
                floor.list_absences, actor, operator_id, self._cursor(), ABSENCE_PAGE_SIZE
            )
        except DomainError as error:
            # A filter or cursor the service refuses: everyone, first page.
            self.operator_filter, self.cursor_stack = ALL, []
            page = await runner.run(floor.list_absences, actor, 0, "", ABSENCE_PAGE_SIZE)
            self._show(page, actor)
            return rx.toast.error(error.render(actor.locale))
        self._show(page, actor)
        return None

    def _show(self, page: AbsencePage, actor: Actor) -> None:
        now = datetime.now(shop_timezone())
        self.rows = [
            AbsenceView(
                id=row.id,
                operator_id=row.operator_id,
                operator=row.operator,
                # With the year: absences are entered months ahead, and kept after they end.
                start=_when(row.start_at, actor.locale, short=False),
                end=_when(row.end_at, actor.locale, short=False),
                start_value=_input_value(row.start_at),
                end_value=_input_value(row.end_at),
                reason=row.reason,
                created_by=row.created_by,
                current=row.current,
                upcoming=row.start_at > now,
            )
            for row in page.rows
        ]
        self.next_cursor = page.next_cursor

    @rx.event
    async def load(self):
        """Guard the page (supervisors) and load the operators and the first page."""
        return await self._open_page(self._load, supervisor=True)

    async def _load(self, actor: Actor):
        self.operators = [Option(str(i), name) for i, name in await runner.run(floor.operator_options, actor)]
        self.operator_filter, self.cursor_stack = ALL, []
        self.dialog_open, self.editing_id, self.form, self.field_errors = False, 0, {}, {}
        reply = await self._fetch_page(actor)
        self.loaded = True
        return reply

    @rx.event
    async def filter_operator(self, value: str):
        """Show one operator's absences ("all" for everyone's)."""
        known = {option.value for option in self.operators}
        self.operator_filter = value if isinstance(value, str) and value in known else ALL
        return await self._first_page()

    @rx.event
    def new_absence(self):
        """Open the dialog for a new absence (of the filtered operator, if any)."""
        operator = self.operator_filter if self.operator_filter != ALL else ""
        self.dialog_open, self.editing_id, self.field_errors = True, 0, {}
        self.form = {"operator_id": operator, "start": "", "end": "", "reason": ""}

    @rx.event
    def edit_absence(self, absence_id: int):
        """Open the dialog on a listed absence."""
        row = next((r for r in self.rows if r.id == absence_id), None)
        if row is None:
            return
        self.dialog_open, self.editing_id, self.field_errors = True, row.id, {}
        self.form = {
            "operator_id": str(row.operator_id),
            "start": row.start_value,
            "end": row.end_value,
            "reason": row.reason,
        }

    def _close(self) -> None:
        self.dialog_open, self.editing_id, self.form, self.field_errors = False, 0, {}, {}

    @rx.event
    def close_dialog(self):
        """Close the dialog; nothing is saved."""
        self._close()

    @rx.event
    def dialog_changed(self, open_: bool):
        """The dialog was closed with Escape or a click outside it: nothing is saved."""
        if open_ is not True:
            self._close()

    @rx.event
    def set_field(self, field: str, value: str):
        """Change one field of the absence form."""
        value = _clip(value)
        if field in ABSENCE_FIELDS and value is not None:
            self.form = {**self.form, field: value}

    @rx.event
    async def save(self):
        """Create or change the absence of the dialog."""
        return await self._act(
            floor.save_absence,
            self.editing_id,
            dict(self.form),
            then=lambda actor, _id: self._saved(actor, "floor.toast.absence_saved"),
            on_error=self._form_error,
        )

    @rx.event
    async def delete(self):
        """Delete the absence of the dialog."""
        return await self._act(
            floor.delete_absence,
            self.editing_id,
            then=lambda actor, _none: self._saved(actor, "floor.toast.absence_deleted"),
            on_error=self._form_error,
        )

    async def _saved(self, actor: Actor, key: str):
        self._close()
        await self._fetch_page(actor)
        return [rx.toast.success(translate(key, actor.locale)), FloorState.refresh]

    def _form_error(self, actor: Actor, error: DomainError) -> None:
        self.field_errors = field_errors(error, actor.locale)
