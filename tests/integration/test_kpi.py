"""KPI charts on a seeded shop with known answers, on SQLite and PostgreSQL, with a fixed clock.

The shop's timezone is Asia/Shanghai (UTC+8) in these tests, so that local days and hours
differ from UTC ones: a work order finished at 01:00 local on the 21st finished on the 20th
in UTC, and the charts must count it on the 21st.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, update
from sqlmodel import select

import work_dispatch.work_dispatch  # noqa: F401  (the state modules register the pushers)
from tests.conftest import actor_for
from tests.live_fakes import FakeApp
from work_dispatch import db as db_module
from work_dispatch.domain import flow
from work_dispatch.domain.enums import PauseReason, TaskStatus
from work_dispatch.domain.errors import PermissionDeniedError, ValidationError
from work_dispatch.i18n import enum_label, translate
from work_dispatch.models import (
    Absence,
    Closure,
    DefectReason,
    ShiftTemplate,
    Task,
    TaskEvent,
    User,
    WorkOrder,
    WorkOrderProcess,
)
from work_dispatch.realtime.bus import BusEvent
from work_dispatch.realtime.fanout import LiveFanout
from work_dispatch.realtime.registry import DASHBOARD_VIEW, SessionRegistry
from work_dispatch.services import dashboard, kpi, shifts, task_flow, workload
from work_dispatch.services.kpi import KpiFilters
from work_dispatch.services.task_rows import new_task_row
from work_dispatch.states.dashboard import CHART_REFRESH, DashboardState

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 15, 30, tzinfo=ZONE)
"""A Wednesday afternoon in the shop."""
WEEKDAYS = 0b0011111


def local(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A shop-local moment of 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=ZONE)


def clock() -> datetime:
    return NOW.astimezone(UTC)


@pytest.fixture(autouse=True)
def shop_in_shanghai(monkeypatch):
    """The shop's timezone (``WD_TIMEZONE``) is Asia/Shanghai for these tests."""
    monkeypatch.setattr(shifts, "settings", dataclasses.replace(shifts.settings, timezone="Asia/Shanghai"))
    shifts.shop_timezone.cache_clear()
    yield
    shifts.shop_timezone.cache_clear()


class Shop:
    """Writes work orders, tasks and events with exactly the values a test names."""

    def __init__(self, db, shop, make_order):
        self.db, self.ids, self.make_order = db, shop, make_order
        self._keys = itertools.count(1)

    def department(self, code: str) -> int:
        return self.ids["department"][code]

    def process(self, code: str) -> int:
        return self.ids["process"][code]

    def user(self, username: str) -> int:
        return self.ids["user"][username]

    def order(self, delivery: date | None = None, status: str = "completed") -> WorkOrder:
        order = self.make_order("POSTER", approve=False)
        self.db.execute(
            update(WorkOrder).where(WorkOrder.id == order.id).values(delivery_date=delivery, status=status)
        )
        self.db.commit()
        return order

    def task(
        self,
        order: WorkOrder | None = None,
        process: str = "OFFSET",
        *,
        status: str = "completed",
        department: str | None = "PRINT",
        operator: str | None = None,
        completed_at: datetime | None = None,
        started_at: datetime | None = None,
        quantity: int = 100,
        good: int = 0,
        planned: float = 0.0,
        setup: float = 0.0,
    ) -> int:
        order = order or self.order(delivery=None, status="in_progress")
        step = self.db.exec(
            select(WorkOrderProcess).where(WorkOrderProcess.work_order_id == order.id).limit(1)
        ).one()
        self.db.execute(
            update(WorkOrderProcess)
            .where(WorkOrderProcess.id == step.id)
            .values(process_id=self.process(process))
        )
        row = new_task_row(
            work_order_process_id=step.id,
            work_order_id=order.id,
            process_id=self.process(process),
            sequence=step.sequence,
            generation_key=f"kpi-test:{next(self._keys)}",
            is_draft=False,
            status=status,
            assigned_department_id=self.department(department) if department else None,
            assigned_operator_id=self.user(operator) if operator else None,
            production_quantity=quantity,
            quantity_completed=good,
            planned_minutes=planned,
            setup_minutes=setup,
            completed_at=completed_at,
            started_at=started_at,
        )
        task_id = self.db.execute(insert(Task).returning(Task.id), [row]).scalar_one()
        self.db.commit()
        return task_id

    def event(self, task_id: int, kind: str, at: datetime, actor: str | None = None, **data) -> None:
        self.db.add(
            TaskEvent(
                task_id=task_id,
                kind=kind,
                data=data,
                created_at=at.astimezone(UTC),
                actor_id=self.user(actor) if actor else None,
            )
        )
        self.db.commit()

    def shift(self, department: str, start: time, end: time, overnight: bool = False) -> None:
        self.db.add(
            ShiftTemplate(
                department_id=self.department(department),
                name="shift",
                start_time=start,
                end_time=end,
                weekdays=WEEKDAYS,
                overnight=overnight,
            )
        )
        self.db.commit()


@pytest.fixture
def seed(db, shop, make_order) -> Shop:
    return Shop(db, shop, make_order)


def _filters(first: date, last: date, department: int | None = None) -> KpiFilters:
    return KpiFilters(first, last, department)


RANGE = _filters(date(2026, 11, 19), date(2026, 11, 25))


# -- filters -------------------------------------------------------------------------------------


def test_filters_default_to_the_last_seven_days_and_refuse_bad_ranges_naming_the_field(db, seed, supervisor):
    today = date(2026, 11, 25)
    assert kpi.parse_filters(db, None, today) == KpiFilters(date(2026, 11, 19), today)
    year = kpi.parse_filters(db, {"first_day": "2025-11-25", "last_day": "2026-11-25"}, today)
    assert (year.last_day - year.first_day).days + 1 == kpi.MAX_RANGE_DAYS
    printing = seed.department("PRINT")
    assert kpi.parse_filters(db, {"department_id": str(printing)}, today).department_id == printing

    refused = [
        ({"first_day": "2026-11-20", "last_day": "2026-11-19"}, "last_day", "kpi.error.range_reversed"),
        ({"first_day": "2025-11-24", "last_day": "2026-11-25"}, "last_day", "kpi.error.range_too_long"),
        ({"first_day": "2026-13-01"}, "first_day", "error.date_format"),
        ({"last_day": ["2026-11-01"]}, "last_day", "error.date_format"),
        ({"department_id": "999999"}, "department_id", "kpi.error.unknown_department"),
        ({"department_id": "print"}, "department_id", "error.whole_number"),
    ]
    for raw, field, key in refused:
        with pytest.raises(ValidationError) as caught:
            kpi.parse_filters(db, raw, today)
        assert (caught.value.field, caught.value.detail.key) == (field, key), raw
        for locale in ("en", "zh-CN"):
            assert "{" not in caught.value.render(locale)
    with pytest.raises(ValidationError, match="367 days"):
        kpi.board(db, supervisor, {"first_day": "2025-11-24", "last_day": "2026-11-25"}, clock)
    with pytest.raises(PermissionDeniedError):
        kpi.board(db, actor_for(db, "print1"), None, clock)
    with pytest.raises(PermissionDeniedError):
        kpi.board(db, None, None, clock)


# -- a. throughput -------------------------------------------------------------------------------


def test_throughput_counts_local_hours_today_against_the_same_hours_yesterday(db, seed):
    done = {
        "today 09:10": (local(11, 25, 9, 10), "PRINT"),
        "today 09:50": (local(11, 25, 9, 50), "PRINT"),
        "today 14:05": (local(11, 25, 14, 5), "PACK"),
        "yesterday 00:00": (local(11, 24, 0, 0), "PRINT"),
        "yesterday 09:30": (local(11, 24, 9, 30), "PRINT"),
        "yesterday 15:20": (local(11, 24, 15, 20), "PACK"),
        "yesterday 16:00, after this time of day": (local(11, 24, 16, 0), "PRINT"),
        "the day before": (local(11, 23, 23, 59), "PRINT"),
    }
    tasks = {name: seed.task(completed_at=at, department=dep) for name, (at, dep) in done.items()}
    seed.task(status="in_progress")  # not completed: never counted
    reports = [
        ("today 09:10", local(11, 25, 9, 5), 100),
        ("today 14:05", local(11, 25, 14, 0), 40),
        ("yesterday 09:30", local(11, 24, 9, 20), 70),
        ("yesterday 15:20", local(11, 24, 15, 40), 30),  # after this time of day
    ]
    for name, at, good in reports:
        seed.event(tasks[name], "reported", at, completed=good, defective=1)

    result = kpi.throughput(db, RANGE, "en", clock())

    hours = {point["hour"]: point for point in result.hours}
    assert list(hours) == [f"{h:02d}:00" for h in range(24)]
    assert (hours["09:00"]["today_tasks"], hours["09:00"]["yesterday_tasks"]) == (2, 1)
    assert (hours["14:00"]["today_tasks"], hours["15:00"]["yesterday_tasks"]) == (1, 1)
    assert (hours["00:00"]["yesterday_tasks"], hours["16:00"]["yesterday_tasks"]) == (1, 1)
    assert (hours["09:00"]["today_units"], hours["14:00"]["today_units"]) == (100, 40)
    assert (hours["09:00"]["yesterday_units"], hours["15:00"]["yesterday_units"]) == (70, 30)
    assert hours["15:00"]["today_tasks"] == 0, "the current hour is shown"
    assert all(hours[f"{h}:00"]["today_tasks"] is None for h in range(16, 24)), "the future is not"
    assert (result.today_tasks, result.yesterday_tasks) == (3, 3)
    assert (result.today_units, result.yesterday_units) == (140, 70)

    printing = kpi.throughput(
        db, _filters(RANGE.first_day, RANGE.last_day, seed.department("PRINT")), "en", clock()
    )
    assert (printing.today_tasks, printing.yesterday_tasks) == (2, 2)
    assert (printing.today_units, printing.yesterday_units) == (100, 70)


# -- b. WIP and c. load against capacity ---------------------------------------------------------


def test_wip_stacks_open_tasks_by_department_and_status(db, seed):
    seed.task(status="pending", department=None)
    seed.task(status="queued")
    seed.task(status="queued")
    seed.task(status="assigned", operator="print1")
    seed.task(status="paused", operator="print1")
    seed.task(status="in_progress", department="PACK", operator="pack1")
    seed.task(status="completed", completed_at=local(11, 25, 9))
    seed.task(status="cancelled")

    rows = kpi.wip(db, RANGE, "en", clock())

    by_name = {row["name"]: row for row in rows}
    not_dispatched = translate("kpi.not_dispatched", "en")
    assert [row["name"] for row in rows] == [
        *("Prepress", "CTP plate-making", "Printing", "Die-cutting", "Gluing & box-making", "Packing"),
        not_dispatched,
    ]
    assert {s: by_name["Printing"][s] for s in ("queued", "assigned", "in_progress", "paused")} == {
        "queued": 2,
        "assigned": 1,
        "in_progress": 0,
        "paused": 1,
    }
    assert by_name["Packing"]["in_progress"] == 1
    assert by_name[not_dispatched]["pending"] == 1
    chinese = kpi.wip(db, RANGE, "zh-CN", clock())
    assert (chinese[2]["name"], chinese[-1]["name"]) == ("印刷", translate("kpi.not_dispatched", "zh-CN"))
    assert sum(row[s.value] for row in rows for s in kpi.WIP_STATUSES) == 6
    only_printing = kpi.wip(
        db, _filters(RANGE.first_day, RANGE.last_day, seed.department("PRINT")), "en", clock()
    )
    assert [row["name"] for row in only_printing] == ["Printing"]


def test_load_is_remaining_planned_minutes_and_capacity_the_shift_left_today(db, seed):
    seed.task(status="queued", planned=75, setup=15, quantity=1000)  # 15 + 60 = 75
    seed.task(status="assigned", operator="print1", planned=75, setup=15, quantity=1000, good=250)  # 45
    seed.task(status="paused", operator="print1", planned=135, setup=15, quantity=2000)  # 135
    seed.task(
        status="in_progress",
        department="PACK",
        operator="pack1",
        planned=40,
        setup=10,
        quantity=300,
        good=300,
    )
    seed.task(status="completed", operator="print2", planned=500, completed_at=local(11, 25, 9))
    # Printing: 08:00–16:00 and 16:00–22:00 on weekdays: 390 minutes left at 15:30 for each of 3.
    seed.shift("PRINT", time(8), time(16))
    seed.shift("PRINT", time(16), time(22))
    # Die-cutting works nights (22:00–06:00): 120 minutes left before midnight.
    seed.shift("DIECUT", time(22), time(6), overnight=True)
    # Prepress has a shift, but is closed today.
    seed.shift("PREPRESS", time(8), time(17))
    seed.db.add(
        Closure(
            department_id=seed.department("PREPRESS"),
            first_day=date(2026, 11, 25),
            last_day=date(2026, 11, 25),
        )
    )
    # print3 is away from 18:00 to 20:00.
    seed.db.add(
        Absence(
            operator_id=seed.user("print3"),
            start_at=local(11, 25, 18).astimezone(UTC),
            end_at=local(11, 25, 20).astimezone(UTC),
        )
    )
    seed.db.commit()

    result = kpi.load_capacity(db, RANGE, "en", clock())

    departments = {row["name"]: (row["load"], row["capacity"]) for row in result.departments}
    assert departments["Printing"] == (255, 3 * 390 - 120)
    assert departments["Packing"] == (0, None), "no shift template: load only"
    assert departments["Die-cutting"] == (0, 2 * 120)
    assert departments["Prepress"] == (0, 0)
    operators = {row["name"]: (row["load"], row["capacity"]) for row in result.operators}
    assert operators["Omar Haddad"] == (180, 390)  # print1
    assert operators["Oscar Silva"] == (0, 270)  # print3, away for two hours
    assert operators["Diego Lopez"] == (0, 120)  # diecut2: Die-cutting's nights, Gluing has no shifts
    assert operators["Peter Novak"] == (0, 0)  # prepress2: Prepress closed, CTP without shifts
    assert operators["Paula Costa"] == (0, None)  # pack1
    assert result.operators[0]["name"] == "Omar Haddad", "most loaded first"

    printing = kpi.load_capacity(
        db, _filters(RANGE.first_day, RANGE.last_day, seed.department("PRINT")), "en", clock()
    )
    assert [row["name"] for row in printing.departments] == ["Printing"]
    assert {row["name"] for row in printing.operators} == {"Omar Haddad", "Olga Ivanova", "Oscar Silva"}


def test_remaining_minutes_in_sql_match_the_domain(db, seed):
    from work_dispatch.domain.scheduling import Rate, remaining_minutes

    cases = [(1000, 0), (1000, 1), (1000, 999), (1000, 1000), (1000, 1200), (7, 3)]
    for quantity, good in cases:
        seed.task(status="queued", planned=15 + quantity * 60 / 1000, setup=15, quantity=quantity, good=good)
    measured = sorted(db.exec(select(workload.remaining_minutes_sql())).all())
    expected = sorted(remaining_minutes(Rate(15, 1000), q, g) for q, g in cases)
    assert measured == pytest.approx(expected)


# -- d. standard against actual ----------------------------------------------------------------


def test_actual_minutes_are_the_in_progress_intervals_of_the_events(db, seed):
    first = seed.task(
        process="OFFSET", planned=135, completed_at=local(11, 25, 12), started_at=local(11, 25, 9)
    )
    for kind, at in [("started", (9, 0)), ("paused", (10, 0)), ("resumed", (10, 30)), ("completed", (12, 0))]:
        seed.event(first, kind, local(11, 25, *at))  # 60 + 90 minutes
    second = seed.task(
        process="OFFSET", planned=75, completed_at=local(11, 24, 9, 40), started_at=local(11, 24, 8)
    )
    steps = [
        ("reassigned", (7, 50)),  # before any start: ends nothing
        ("started", (8, 0)),
        ("unassigned", (8, 20)),
        ("claimed", (8, 40)),
        ("started", (9, 0)),
        ("reported", (9, 30)),
        ("completed", (9, 40)),
    ]
    for kind, at in steps:
        seed.event(second, kind, local(11, 24, *at))  # 20 + 40 minutes
    # Started two months before the range: its events are read by task, not by time.
    long_run = seed.task(
        process="OFFSET", planned=600, completed_at=local(11, 20, 10), started_at=local(9, 20, 8)
    )
    for kind, at in [
        ("started", (9, 20, 8)),
        ("paused", (9, 20, 9)),
        ("resumed", (11, 20, 9)),
        ("completed", (11, 20, 10)),
    ]:
        seed.event(long_run, kind, local(*at))  # 60 + 60 minutes
    plate = seed.task(process="PLATE", department="CTP", planned=20, completed_at=local(11, 24, 10, 15))
    seed.event(plate, "started", local(11, 24, 10))  # started_at missing (older data): read by task too
    seed.event(plate, "completed", local(11, 24, 10, 15))
    seed.task(process="PLATE", department="CTP", planned=999, completed_at=local(11, 24, 11))  # no events
    old = seed.task(process="PLATE", department="CTP", planned=50, completed_at=local(9, 24, 11))
    seed.event(old, "started", local(9, 24, 10))
    seed.event(old, "completed", local(9, 24, 11))

    rows = kpi.standard_actual(db, RANGE, "en", clock()).processes

    assert [(r["name"], r["tasks"], r["standard"], r["actual"]) for r in rows] == [
        ("Offset printing", 3, 810, 330),
        ("Plate making", 1, 20, 15),
    ]
    printing = kpi.standard_actual(
        db, _filters(RANGE.first_day, RANGE.last_day, seed.department("PRINT")), "en", clock()
    )
    assert [r["name"] for r in printing.processes] == ["Offset printing"]


def test_a_task_worked_for_less_than_a_second_counts_as_measured(db, seed):
    """Both databases read event times to the millisecond (SQLite's strftime('%s') dropped them)."""
    started = local(11, 24, 10) + timedelta(milliseconds=200)
    completed = started + timedelta(milliseconds=500)  # the same wall-clock second
    quick = seed.task(
        process="PLATE",
        department="CTP",
        operator="print1",
        planned=20,
        completed_at=completed,
        started_at=started,
    )
    seed.event(quick, "started", started)
    seed.event(quick, "completed", completed)

    result = kpi.standard_actual(db, RANGE, "en", clock())

    assert [(r["name"], r["tasks"], r["standard"], r["actual"]) for r in result.processes] == [
        ("Plate making", 1, 20, 0)
    ]
    assert [r["tasks"] for r in result.operators] == [1]


def test_standard_against_actual_per_process_and_per_completing_operator(db, seed, monkeypatch):
    work: dict[int, list[tuple]] = {}

    def worked(task_id: int, *steps: tuple[str, datetime, str]) -> None:
        for kind, at, who in steps:
            seed.event(task_id, kind, at, actor=who)
            work.setdefault(task_id, []).append((kind, at.astimezone(UTC), {}, seed.user(who)))

    day = (11, 24)
    # Omar runs an offset job 09:00-11:00 and a plate 10:00-12:00: 10:00-11:00 is split.
    offset = seed.task(
        process="OFFSET",
        operator="print1",
        planned=100,
        completed_at=local(*day, 11),
        started_at=local(*day, 9),
    )
    worked(offset, ("started", local(*day, 9), "print1"), ("completed", local(*day, 11), "print1"))
    plate = seed.task(
        process="PLATE",
        department="CTP",
        operator="print1",
        planned=80,
        completed_at=local(*day, 12),
        started_at=local(*day, 10),
    )
    worked(plate, ("started", local(*day, 10), "print1"), ("completed", local(*day, 12), "print1"))
    # From 11:30 he also runs a task still in progress: it takes half of 11:30-12:00 from the plate.
    running = seed.task(
        process="DIECUT", status="in_progress", operator="print1", started_at=local(*day, 11, 30)
    )
    worked(running, ("started", local(*day, 11, 30), "print1"))
    # At 11:00, the instant the offset job ends, he starts a packing task (11:00-11:30).
    packing = seed.task(
        process="PACK",
        department="PACK",
        operator="print1",
        planned=10,
        completed_at=local(*day, 11, 30),
        started_at=local(*day, 11),
    )
    worked(packing, ("started", local(*day, 11), "print1"), ("completed", local(*day, 11, 30), "print1"))
    # Olga works alone on hers (30 minutes).
    alone = seed.task(
        process="OFFSET",
        operator="print2",
        planned=20,
        completed_at=local(*day, 10, 30),
        started_at=local(*day, 10),
    )
    worked(alone, ("started", local(*day, 10), "print2"), ("completed", local(*day, 10, 30), "print2"))
    # Started by Olga the day before, finished by Omar: 60 + 60 minutes, all Omar's in his chart.
    handed = seed.task(
        process="OFFSET",
        operator="print1",
        planned=50,
        completed_at=local(11, 23, 11),
        started_at=local(11, 23, 8),
    )
    worked(
        handed,
        ("started", local(11, 23, 8), "print2"),
        ("paused", local(11, 23, 9), "print2"),
        ("resumed", local(11, 23, 10), "print1"),
        ("completed", local(11, 23, 11), "print1"),
    )

    result = kpi.standard_actual(db, RANGE, "en", clock())

    # The dashboard counts each task's own in-progress time (120, 120, 30, 30, 120 minutes);
    # the drawer splits Omar's concurrent work by the labour-time rule instead.
    labour = flow.labour_minutes(work, until=clock()).by_task
    assert [round(labour[t]) for t in (offset, plate, packing, alone, handed)] == [90, 60, 15, 30, 120]
    assert [(r["name"], r["tasks"], r["standard"], r["actual"]) for r in result.processes] == [
        ("Offset printing", 3, 170, 270),
        ("Plate making", 1, 80, 120),
        ("Packing & labelling", 1, 10, 30),
    ]
    assert [(r["name"], r["tasks"], r["standard"], r["actual"]) for r in result.operators] == [
        ("Omar Haddad", 4, 240, 390),
        ("Olga Ivanova", 1, 20, 30),
    ]
    assert result.more_operators == 0

    monkeypatch.setattr(kpi, "MAX_OPERATORS", 1)
    first = kpi.standard_actual(db, RANGE, "en", clock())
    assert ([r["name"] for r in first.operators], first.more_operators) == (["Omar Haddad"], 1)
    table = list(kpi.TABLES["standard_actual_operators"].rows(first))
    assert table == [("Omar Haddad", 4, 240, 390)]


# -- e. on time -------------------------------------------------------------------------------------


def test_on_time_rate_per_week_and_lateness_use_shop_days(db, seed):
    def finished(delivery, *completions, status="completed"):
        order = seed.order(delivery=delivery, status=status)
        for at in completions:
            seed.task(order, completed_at=at)
        return order

    finished(
        date(2026, 11, 20), local(11, 19, 8), local(11, 21, 1)
    )  # 01:00 local is the 20th in UTC: 1 day late
    finished(date(2026, 11, 18), local(11, 10, 9), local(11, 12, 9))  # early
    finished(date(2026, 11, 5), local(11, 9, 10))  # 4 days late
    finished(None, local(11, 11, 10))  # no delivery date: left out
    finished(date(2026, 11, 30), local(11, 11, 10), status="in_progress")  # not finished
    finished(date(2026, 10, 28), local(10, 30, 10))  # finished before the range
    finished(date(2026, 11, 3), local(11, 3, 18))  # on the day
    finished(date(2026, 10, 20), local(10, 31, 10), local(11, 2, 9))  # 13 days late, last task in the range

    result = kpi.on_time(db, _filters(date(2026, 11, 1), date(2026, 11, 25)), "en", clock())

    assert [(w["week"], w["on_time"], w["late"], w["rate"]) for w in result.weeks] == [
        ("Oct 26", 0, 0, None),
        ("Nov 2", 1, 1, 50.0),
        ("Nov 9", 1, 1, 50.0),
        ("Nov 16", 0, 1, 0.0),
        ("Nov 23", 0, 0, None),
    ]
    assert (result.orders, result.on_time, result.rate) == (5, 2, 40.0)
    assert {row["key"]: row["orders"] for row in result.lateness} == {
        "early": 1,
        "on_day": 1,
        "late_1": 1,
        "late_2_3": 0,
        "late_4_7": 1,
        "late_8_14": 1,
        "late_15": 0,
    }
    chinese = kpi.on_time(db, _filters(date(2026, 11, 1), date(2026, 11, 25)), "zh-CN", clock())
    assert chinese.weeks[1]["week"] == "11月2日"
    assert chinese.lateness[0]["name"] == translate("kpi.lateness.early", "zh-CN")


# -- f. downtime and scrap ----------------------------------------------------------------------


def test_downtime_sums_each_pause_until_what_ended_it_within_the_range(db, seed):
    broken = seed.task(status="cancelled")
    seed.event(broken, "paused", local(11, 24, 10), reason="breakdown")
    seed.event(broken, "resumed", local(11, 24, 10, 45))  # 45
    seed.event(broken, "paused", local(11, 24, 13), reason="machine_breakdown")  # older reason: a breakdown
    seed.event(broken, "cancelled", local(11, 24, 13, 30))  # 30
    waiting = seed.task(status="paused", department="PACK")
    seed.event(
        waiting, "paused", local(11, 25, 15), reason="waiting_for_material"
    )  # still paused: 30 until now
    inked = seed.task(status="in_progress")
    seed.event(inked, "paused", local(11, 25, 8), reason="Waiting for ink")  # free text of older data
    seed.event(inked, "resumed", local(11, 25, 8, 10))  # 10
    night = seed.task(status="in_progress")
    seed.event(night, "paused", local(11, 24, 23, 50), reason="quality_hold")
    seed.event(night, "resumed", local(11, 25, 0, 20))  # 30, of which 10 before the 25th
    seed.event(night, "paused", local(11, 25, 2), reason="shift_end")  # off shift: not downtime
    seed.event(night, "resumed", local(11, 25, 6))
    old = seed.task(status="in_progress")
    seed.event(old, "paused", local(11, 10, 9), reason="breakdown")
    seed.event(old, "resumed", local(11, 10, 11))

    rows = kpi.downtime(db, RANGE, "en", clock())

    assert [(r["key"], r["name"], r["pauses"], r["minutes"]) for r in rows] == [
        ("breakdown", enum_label(PauseReason.BREAKDOWN, "en"), 2, 75),
        ("quality_hold", enum_label(PauseReason.QUALITY_HOLD, "en"), 1, 30),
        ("waiting_for_material", enum_label(PauseReason.WAITING_FOR_MATERIAL, "en"), 1, 30),
        ("Waiting for ink", "Waiting for ink", 1, 10),
    ]
    until_yesterday = kpi.downtime(db, _filters(RANGE.first_day, date(2026, 11, 24)), "zh-CN", clock())
    assert [(r["name"], r["minutes"]) for r in until_yesterday] == [
        (enum_label(PauseReason.BREAKDOWN, "zh-CN"), 75),
        (enum_label(PauseReason.QUALITY_HOLD, "zh-CN"), 10),
    ]
    printing = kpi.downtime(
        db, _filters(RANGE.first_day, RANGE.last_day, seed.department("PRINT")), "en", clock()
    )
    assert {r["key"] for r in printing} == {"breakdown", "quality_hold", "Waiting for ink"}


def test_scrap_adds_defective_units_reported_per_process_and_reason(db, seed):
    torn = DefectReason(
        process_id=seed.process("PACK"),
        kind="scrap",
        code="TORN",
        name="Torn carton",
        names={"zh-CN": "纸盒撕裂"},
    )
    seed.db.add(torn)
    seed.db.commit()
    offset = seed.task(status="in_progress", process="OFFSET")
    pack = seed.task(status="in_progress", process="PACK", department="PACK")
    seed.event(offset, "reported", local(11, 24, 9), completed=100, defective=5)  # before reasons existed
    seed.event(offset, "reported", local(11, 24, 10), completed=50, defective=0)
    for at, units in [((11, 25, 9), 3), ((11, 25, 10), 2)]:
        seed.event(
            pack,
            "reported",
            local(*at),
            completed=10,
            defective=units,
            scrap_reason="TORN",
            scrap_reason_id=torn.id,
        )
    seed.event(
        pack,
        "reported",
        local(11, 25, 11),
        completed=10,
        defective=4,
        scrap_reason="GONE",
        scrap_reason_id=999,
    )
    seed.event(pack, "reported", local(11, 10, 11), completed=10, defective=100)  # before the range

    rows = kpi.scrap(db, RANGE, "en", clock())

    def named(reason):
        return translate("kpi.scrap_with_reason", "en", process="Packing & labelling", reason=reason)

    assert [(r["name"], r["units"]) for r in rows] == [
        ("Offset printing", 5),
        (named("Torn carton"), 5),
        (named("GONE"), 4),
    ]
    assert [(r["process"], r["reason"]) for r in rows][1] == ("Packing & labelling", "Torn carton")
    chinese = kpi.scrap(db, RANGE, "zh-CN", clock())
    assert "纸盒撕裂" in {r["reason"] for r in chinese}
    packing = kpi.scrap(db, _filters(RANGE.first_day, RANGE.last_day, seed.department("PACK")), "en", clock())
    assert sum(r["units"] for r in packing) == 9


# -- the whole board, shared reads, and the live push ---------------------------------------------


def test_live_charts_are_read_per_locale_and_filters_and_the_refused_get_none(db, seed, supervisor):
    seed.task(completed_at=local(11, 25, 9))
    chinese = dataclasses.replace(actor_for(db, "super2"), locale="zh-CN")
    printing = {
        "first_day": "2026-11-19",
        "last_day": "2026-11-25",
        "department_id": str(seed.department("PRINT")),
    }
    readers = [
        (supervisor, None),
        (supervisor, None),
        (chinese, None),
        (supervisor, printing),
        (actor_for(db, "print1"), {"first_day": "2026-11-01"}),
        (supervisor, {**printing, "department_id": "999999"}),
        (supervisor, {"first_day": "2026-11-01"}),  # refused to print1 above, read for this one
    ]
    boards = dashboard.live_kpis(db, readers, clock)
    assert set(boards) == {
        dashboard.kpi_key("en", None),
        dashboard.kpi_key("zh-CN", None),
        dashboard.kpi_key("en", printing),
        dashboard.kpi_key("en", {"first_day": "2026-11-01"}),
    }
    board = boards[dashboard.kpi_key("en", printing)]
    assert board.filters.department_id == seed.department("PRINT")
    assert board.throughput.today_tasks == 1
    assert boards[dashboard.kpi_key("zh-CN", None)].wip[-1]["name"] == "包装"


def test_a_completed_task_moves_the_pushed_throughput_without_a_reload(
    engine, db, shop, make_order, supervisor, monkeypatch
):
    from tests.integration.test_live_refresh import _dispatched_task, _open

    monkeypatch.setattr(db_module, "get_engine", lambda: engine)
    live = LiveFanout(FakeApp(), registry=SessionRegistry(), sweep_interval_s=0)
    task = _dispatched_task(db, make_order, supervisor)
    client = _open(live, db, "super1", DASHBOARD_VIEW)
    asyncio.run(_flush(live, task.id))
    page = live.app.state(client, DashboardState)
    before = page.throughput_totals["today_tasks"]
    assert page.kpi_pushes == 1 and page.throughput

    operator = db.get(User, task.assigned_operator_id)
    actor = actor_for(db, operator.username)
    task_flow.start(db, actor, task.id)
    [(reason_id, _), *_] = task_flow.report_reasons(db, actor, task.id)["scrap"]
    task_flow.report_quantity(db, actor, task.id, 7, 1, scrap_reason=reason_id)
    task_flow.complete(db, actor, task.id)
    asyncio.run(_flush(live, task.id))

    assert page.throughput_totals["today_tasks"] == before + 1
    assert page.throughput_totals["today_units"] >= 7
    assert page.kpi_pushes == 2
    assert db.get(Task, task.id).status == TaskStatus.COMPLETED
    pushes = len(live.app.pushes)
    asyncio.run(_flush(live, task.id))
    assert len(live.app.pushes) == pushes, "nothing changed: nothing pushed"


def test_a_chart_push_that_waited_while_the_page_changed_its_filters_is_dropped(
    engine, db, shop, make_order, supervisor, monkeypatch
):
    from tests.integration.test_live_refresh import _dispatched_task, _open

    monkeypatch.setattr(db_module, "get_engine", lambda: engine)
    live = LiveFanout(FakeApp(delay_s=0.2), registry=SessionRegistry(), sweep_interval_s=0)
    task = _dispatched_task(db, make_order, supervisor)
    client = _open(live, db, "super1", DASHBOARD_VIEW)
    page = live.app.state(client, DashboardState)

    async def scenario() -> None:
        flushing = asyncio.ensure_future(_flush(live, task.id))
        # The counters' push, then the charts' push holding (waiting for) the session's lock.
        while not (live.app.pushes and live.app.in_flight):
            await asyncio.sleep(0.005)
        # Meanwhile the page switched its charts to other filters, as set_kpi_filter does.
        watcher = live.registry.get(client)
        live.registry.register(dataclasses.replace(watcher, params={"kpi": {"first_day": "2026-11-01"}}))
        await flushing

    asyncio.run(scenario())
    assert live.app.pushed_to(client) == ["DashboardState", "DashboardState"]
    assert page.kpi_pushes == 0 and not page.throughput, "charts read for the old filters were shown"


async def _flush(live: LiveFanout, task_id: int) -> None:
    """One flush of the fan-out, and the chart refresh it asked for."""
    await live.flush(BusEvent("task_changed", task_ids=(task_id,)))
    await CHART_REFRESH.drain()


def test_every_chart_table_downloads_through_the_export_route_sources(db, seed, supervisor):
    import io

    import openpyxl

    from work_dispatch.services import exports

    broken = seed.task(status="in_progress", department="PACK", process="PACK")
    seed.event(broken, "paused", local(11, 24, 10), reason="breakdown")
    seed.event(broken, "resumed", local(11, 24, 10, 45))
    seed.event(broken, "reported", local(11, 24, 11), completed=10, defective=3, scrap_reason="torn")
    chinese = dataclasses.replace(supervisor, locale="zh-CN")
    filters = {"first_day": "2026-11-19", "last_day": "2026-11-25", "department_id": ""}
    assert {f"kpi_{name}" for name in kpi.TABLES} <= set(exports.SOURCES)

    for name, table in kpi.TABLES.items():
        source = exports.SOURCES[f"kpi_{name}"]
        args = source.parse(filters)
        rows = list(source.rows(db, chinese, args, clock()))
        body = b"".join(exports.export(source.columns, rows, "xlsx", "zh-CN", title=source.title))
        sheet = openpyxl.load_workbook(io.BytesIO(body)).active
        header, *cells = list(sheet.iter_rows(values_only=True))
        assert list(header) == exports.headers(table.columns, "zh-CN"), name
        assert len(cells) == len(rows), name
    downtime = list(exports.SOURCES["kpi_downtime"].rows(db, supervisor, filters, clock()))
    assert downtime == [(enum_label(PauseReason.BREAKDOWN, "en"), 1, 45)]
    scrap = list(exports.SOURCES["kpi_scrap"].rows(db, supervisor, filters, clock()))
    assert scrap == [("Packing & labelling", "torn", 3)]
    csv_text = b"".join(exports.export(exports.SOURCES["kpi_scrap"].columns, scrap, "csv", "zh-CN")).decode(
        "utf-8"
    )
    assert csv_text.startswith(exports.BOM) and "报废原因" in csv_text

    with pytest.raises(ValidationError):
        exports.SOURCES["kpi_wip"].parse({"first_day": "2026-11-20", "last_day": "2026-11-19"})
    with pytest.raises(PermissionDeniedError):
        list(exports.SOURCES["kpi_wip"].rows(db, actor_for(db, "print1"), filters, clock()))


def test_a_session_gone_before_the_chart_refresh_gets_no_charts(
    engine, db, shop, make_order, supervisor, monkeypatch
):
    from tests.integration.test_live_refresh import _open

    monkeypatch.setattr(db_module, "get_engine", lambda: engine)
    live = LiveFanout(FakeApp(), registry=SessionRegistry(), sweep_interval_s=0)
    staying = _open(live, db, "super1", DASHBOARD_VIEW)
    leaving = _open(live, db, "super2", DASHBOARD_VIEW)

    async def scenario() -> None:
        await live.flush(BusEvent("task_changed"))  # counters pushed; charts asked for
        live.registry.drop(leaving)  # the tab closes before the charts are read
        await CHART_REFRESH.drain()

    asyncio.run(scenario())
    assert live.app.state(staying, DashboardState).kpi_pushes == 1
    assert live.app.state(staying, DashboardState).wip
    assert live.app.state(leaving, DashboardState).kpi_pushes == 0
    assert live.app.state(leaving, DashboardState).wip == []
