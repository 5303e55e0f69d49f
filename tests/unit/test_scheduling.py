"""Shift calendars, eligibility and work in minutes (domain/scheduling.py)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from work_dispatch.domain.errors import ValidationError
from work_dispatch.domain.scheduling import (
    EXCLUSION_KEYS,
    Absence,
    Candidate,
    Closure,
    Exclusion,
    Rate,
    Requirement,
    ShiftTemplate,
    WorkCalendar,
    exclusion_of,
    load_minutes,
    planned_minutes,
    remaining_minutes,
    split_eligible,
    validate_absences,
    validate_level,
)
from work_dispatch.i18n import translate

BERLIN = ZoneInfo("Europe/Berlin")
EARLY = ShiftTemplate("Early", time(6), time(14))  # Monday to Friday
NIGHT = ShiftTemplate(
    "Night", time(22), time(6), frozenset({0, 1, 2, 3, 4}), overnight=True
)  # starts Mon-Fri


def at(day: int, hour: int, minute: int = 0, second: int = 0, tz=UTC) -> datetime:
    """2030-01-07 is a Monday: day 0 = Monday."""
    return datetime(2030, 1, 7, hour, minute, second, tzinfo=tz) + timedelta(days=day)


# -- shift edges ---------------------------------------------------------------------------------


def test_a_shift_includes_its_start_and_excludes_its_end():
    calendar = WorkCalendar([EARLY])
    assert calendar.is_on_shift(at(0, 6))
    assert not calendar.is_on_shift(at(0, 5, 59, 59))
    assert calendar.is_on_shift(at(0, 13, 59, 59))
    assert not calendar.is_on_shift(at(0, 14))
    assert not calendar.is_on_shift(at(5, 8))  # Saturday


def test_shift_remaining_minutes_and_next_shift_start():
    calendar = WorkCalendar([EARLY])
    assert calendar.shift_remaining_minutes(at(0, 13, 50)) == pytest.approx(10)
    assert calendar.shift_remaining_minutes(at(0, 15)) == 0
    assert calendar.next_shift_start(at(0, 15)) == at(1, 6)
    assert calendar.next_shift_start(at(0, 7)) == at(1, 6)  # while on shift: the next one
    assert calendar.next_shift_start(at(4, 15)) == at(7, 6)  # Friday afternoon -> Monday


def test_touching_shifts_merge_into_one_stretch_of_work():
    late = ShiftTemplate("Late", time(14), time(22))
    calendar = WorkCalendar([EARLY, late])
    assert calendar.shift_remaining_minutes(at(0, 13)) == pytest.approx(9 * 60)


def test_overnight_shift_runs_across_midnight_into_the_next_weekday():
    calendar = WorkCalendar([NIGHT])
    assert calendar.is_on_shift(at(0, 22))  # Monday 22:00
    assert calendar.is_on_shift(at(1, 3))  # Tuesday 03:00 belongs to Monday's night
    assert not calendar.is_on_shift(at(1, 6))
    assert calendar.is_on_shift(at(5, 3))  # Saturday 03:00: Friday's night shift
    assert not calendar.is_on_shift(at(5, 23))  # no shift starts on Saturday
    assert not calendar.is_on_shift(at(7, 3))  # Monday 03:00: Sunday has no night shift
    assert calendar.shift_remaining_minutes(at(1, 5)) == pytest.approx(60)


def test_sunday_night_shift_reaches_monday_morning():
    sunday_night = ShiftTemplate("Sunday night", time(22), time(6), frozenset({6}), overnight=True)
    calendar = WorkCalendar([sunday_night])
    assert calendar.is_on_shift(at(7, 5, 59))  # the next Monday, 05:59
    assert not calendar.is_on_shift(at(1, 5))


def test_shift_times_are_wall_clock_times_in_the_shop_timezone_across_daylight_saving():
    every_day = ShiftTemplate("Early", time(6), time(14), frozenset(range(7)))
    calendar = WorkCalendar([every_day], tz=BERLIN)
    # 2030-03-31: clocks go forward in Berlin; 06:00 local is 04:00 UTC (05:00 UTC the day before).
    assert calendar.is_on_shift(datetime(2030, 3, 31, 4, 0, tzinfo=UTC))
    assert not calendar.is_on_shift(datetime(2030, 3, 31, 3, 59, tzinfo=UTC))
    assert calendar.is_on_shift(datetime(2030, 3, 30, 5, 0, tzinfo=UTC))
    assert not calendar.is_on_shift(datetime(2030, 3, 30, 4, 59, tzinfo=UTC))


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        WorkCalendar([EARLY]).is_on_shift(datetime(2030, 1, 7, 8))


# -- closures and absences -------------------------------------------------------------------------


def test_a_closure_cancels_the_shifts_that_start_on_its_days():
    closure = Closure(date(2030, 1, 8), date(2030, 1, 8), reason="holiday")  # Tuesday
    calendar = WorkCalendar([EARLY, NIGHT], closures=[closure])
    assert not calendar.is_on_shift(at(1, 8))  # Tuesday's early shift is cancelled
    assert calendar.is_on_shift(at(1, 3))  # Monday's night shift runs into the holiday
    assert not calendar.is_on_shift(at(1, 23))  # Tuesday's night shift is cancelled
    assert calendar.next_shift_start(at(0, 15)) == at(0, 22)
    assert WorkCalendar([EARLY], closures=[closure]).next_shift_start(at(0, 15)) == at(2, 6)


def test_absence_takes_an_operator_off_work_but_not_off_shift():
    absence = Absence(7, at(2, 0), at(3, 0), "sick")  # all of Wednesday
    calendar = WorkCalendar([EARLY], absences=[absence])
    assert calendar.is_absent(at(2, 8)) and calendar.is_on_shift(at(2, 8))
    assert not calendar.is_working(at(2, 8))
    assert calendar.is_working(at(3, 8))
    assert calendar.next_shift_start(at(1, 15)) == at(3, 6)
    assert calendar.working_minutes_between(at(1, 6), at(4, 6)) == pytest.approx(2 * 480)


def test_an_absence_starting_mid_shift_shortens_the_working_time():
    absence = Absence(7, at(0, 10), at(0, 12))
    calendar = WorkCalendar([EARLY], absences=[absence])
    assert calendar.working_remaining_minutes(at(0, 9)) == pytest.approx(60)
    assert calendar.shift_remaining_minutes(at(0, 9)) == pytest.approx(300)
    assert calendar.add_working_minutes(at(0, 9), 90) == at(0, 12, 30)


def test_overlapping_absences_are_refused_and_touching_ones_allowed():
    first = Absence(7, at(0, 0), at(2, 0))
    with pytest.raises(ValidationError) as refused:
        validate_absences([first, Absence(7, at(1, 0), at(3, 0))])
    assert refused.value.detail.key == "scheduling.error.absences_overlap"
    assert validate_absences([Absence(7, at(2, 0), at(3, 0)), first]) == [
        first,
        Absence(7, at(2, 0), at(3, 0)),
    ]
    validate_absences([first, Absence(8, at(1, 0), at(3, 0))])  # another operator may overlap
    with pytest.raises(ValidationError):
        WorkCalendar([EARLY], absences=[first, Absence(7, at(1, 0), at(3, 0))])


def test_bad_shifts_closures_and_absences_say_what_is_wrong():
    cases = [
        (lambda: ShiftTemplate("Bad", time(14), time(6)), "scheduling.error.shift_ends_before_start"),
        (lambda: ShiftTemplate("Zero", time(8), time(8)), "scheduling.error.shift_ends_before_start"),
        (
            lambda: ShiftTemplate("Too long", time(6), time(8), overnight=True),
            "scheduling.error.overnight_shift_must_cross_midnight",
        ),
        (lambda: ShiftTemplate("None", time(6), time(8), frozenset()), "scheduling.error.weekdays_invalid"),
        (
            lambda: ShiftTemplate("Eight", time(6), time(8), frozenset({7})),
            "scheduling.error.weekdays_invalid",
        ),
        (lambda: Closure(date(2030, 1, 9), date(2030, 1, 8)), "scheduling.error.closure_ends_before_start"),
        (lambda: Absence(1, at(1, 0), at(1, 0)), "scheduling.error.absence_ends_before_start"),
    ]
    for make, key in cases:
        with pytest.raises(ValidationError) as refused:
            make()
        assert refused.value.detail.key == key
        assert refused.value.message != key  # the catalog has an English text for it


# -- working time arithmetic ---------------------------------------------------------------------


def test_add_working_minutes_carries_over_nights_and_weekends():
    calendar = WorkCalendar([EARLY])
    assert calendar.add_working_minutes(at(0, 13), 120) == at(1, 7)
    assert calendar.add_working_minutes(at(4, 13), 120) == at(7, 7)  # Friday -> Monday
    assert calendar.add_working_minutes(at(0, 15), 0) == at(0, 15)
    assert calendar.add_working_minutes(at(0, 15), 30) == at(1, 6, 30)
    assert calendar.add_working_minutes(at(0, 13), 60) == at(0, 14)  # ends exactly at shift end
    assert calendar.working_minutes_between(at(4, 13), at(7, 13)) == pytest.approx(480)
    assert calendar.working_minutes_between(at(7, 13), at(4, 13)) == pytest.approx(-480)
    assert calendar.add_working_minutes(at(200, 6), 60) == at(200, 7)  # far ahead: extends lazily


def test_a_calendar_without_work_has_no_next_shift_and_no_finish():
    calendar = WorkCalendar([])
    assert calendar.next_shift_start(at(0, 8)) is None
    assert calendar.add_working_minutes(at(0, 8), 10) is None
    assert calendar.working_intervals(at(0, 0), at(7, 0)) == []


def test_working_intervals_are_clipped_to_the_window():
    calendar = WorkCalendar([EARLY])
    assert calendar.working_intervals(at(0, 10), at(1, 8)) == [(at(0, 10), at(0, 14)), (at(1, 6), at(1, 8))]


# -- eligibility ------------------------------------------------------------------------------


def candidate(**overrides) -> Candidate:
    values = {
        "operator_id": 1,
        "name": "Ann",
        "wip_limit": 2,
        "open_tasks": 0,
        "load_minutes": 0.0,
        "calendar": WorkCalendar([EARLY]),
        "checked_in": True,
        "levels": {10: 2},
    }
    values.update(overrides)
    return Candidate(**values)


def reason(c: Candidate, requirement: Requirement, when: datetime) -> Exclusion | None:
    excluded = exclusion_of(c, requirement, when)
    return None if excluded is None else excluded.reason


def test_eligibility_reasons_in_order():
    need = Requirement(10, min_level=2, requires_check_in=True)
    absent = WorkCalendar([EARLY], absences=[Absence(1, at(0, 0), at(1, 0))])
    assert reason(candidate(), need, at(0, 8)) is None
    assert reason(candidate(calendar=absent), need, at(0, 8)) is Exclusion.ABSENT
    assert reason(candidate(calendar=absent), need, at(0, 20)) is Exclusion.ABSENT  # absent beats off shift
    assert reason(candidate(), need, at(0, 14)) is Exclusion.OFF_SHIFT  # the end is off shift
    assert reason(candidate(), need, at(0, 6)) is None  # the start is on shift
    assert reason(candidate(checked_in=False), need, at(0, 8)) is Exclusion.NOT_CHECKED_IN
    assert reason(candidate(checked_in=False), Requirement(10, 2), at(0, 8)) is None  # no check-in needed
    assert reason(candidate(levels={10: 1}), need, at(0, 8)) is Exclusion.NOT_QUALIFIED
    assert reason(candidate(levels={}), need, at(0, 8)) is Exclusion.NOT_QUALIFIED
    assert reason(candidate(levels={}), Requirement(10, 0), at(0, 8)) is None  # no minimum: anyone
    assert reason(candidate(open_tasks=2), need, at(0, 8)) is Exclusion.AT_WIP_LIMIT
    assert exclusion_of(candidate(open_tasks=2), need, at(0, 8), check_wip=False) is None


def test_eligibility_on_holidays_and_overnight():
    holiday = Closure(date(2030, 1, 7), date(2030, 1, 7))
    night = candidate(calendar=WorkCalendar([NIGHT], closures=[holiday]))
    need = Requirement(10)
    assert reason(night, need, at(0, 23)) is Exclusion.OFF_SHIFT  # Monday night cancelled
    assert reason(night, need, at(1, 23)) is None
    assert reason(night, need, at(2, 5, 59)) is None  # Tuesday's night, after midnight
    assert reason(night, need, at(2, 6)) is Exclusion.OFF_SHIFT


def test_exclusions_carry_their_data_and_a_message():
    off = exclusion_of(candidate(), Requirement(10), at(0, 15))
    data = off.to_json()
    assert data["reason"] == "off_shift"
    assert data["params"]["next_shift_start"]["params"]["at"] == at(1, 6).isoformat()
    assert data["message"]["key"] == "scheduling.exclusion.off_shift"
    english = translate(data["message"]["key"], "en", **data["message"]["params"])
    assert "Ann" in english and "06:00" in english and "T06" not in english
    assert "06:00" in translate(data["message"]["key"], "zh-CN", **data["message"]["params"])
    unqualified = exclusion_of(candidate(levels={10: 1}), Requirement(10, 3), at(0, 8)).to_json()
    assert unqualified["params"] == {"level": 1, "required": 3}
    nowhere = exclusion_of(candidate(calendar=WorkCalendar([])), Requirement(10), at(0, 8)).to_json()
    assert nowhere["message"]["key"] == "scheduling.exclusion.off_shift_no_next"
    for reason_key in EXCLUSION_KEYS.values():
        assert translate(reason_key, "en") != reason_key
        assert translate(reason_key, "zh-CN") != translate(reason_key, "en")


def test_split_eligible_keeps_input_order():
    ann, bob, cem = candidate(), candidate(operator_id=2, name="Bob", open_tasks=2), candidate(operator_id=3)
    eligible, excluded = split_eligible([ann, bob, cem], Requirement(10), at(0, 8))
    assert [c.operator_id for c in eligible] == [1, 3]
    assert [(e.operator_id, e.reason) for e in excluded] == [(2, Exclusion.AT_WIP_LIMIT)]


# -- levels and minutes -----------------------------------------------------------------------------


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_levels_zero_to_three_are_accepted(level):
    assert validate_level(level) == level


@pytest.mark.parametrize("level", [-1, 4, 1.5, True, "2", None])
def test_other_levels_are_refused(level):
    with pytest.raises(ValidationError) as refused:
        validate_level(level)
    assert refused.value.detail.key == "scheduling.error.level_out_of_range"
    assert "0" in refused.value.message and "3" in refused.value.message


def test_planned_minutes_are_setup_plus_quantity_over_rate():
    rate = Rate(setup_minutes=30, units_per_hour=6000)
    assert planned_minutes(rate, 12_000) == pytest.approx(30 + 120)
    assert planned_minutes(rate, 0) == pytest.approx(30)
    assert planned_minutes(rate.override(units_per_hour=3000), 12_000) == pytest.approx(30 + 240)
    assert planned_minutes(rate.override(setup_minutes=0), 12_000) == pytest.approx(120)


def test_remaining_minutes_shrink_with_good_quantity_and_never_go_negative():
    rate = Rate(30, 6000)
    assert remaining_minutes(rate, 12_000, 0) == pytest.approx(150)
    assert remaining_minutes(rate, 12_000, 6000) == pytest.approx(60)  # setup done once units are good
    assert remaining_minutes(rate, 12_000, 12_000) == 0
    assert remaining_minutes(rate, 12_000, 15_000) == 0
    assert load_minutes([150, 60, 0]) == pytest.approx(210)


@pytest.mark.parametrize(
    ("setup", "per_hour", "key"),
    [
        (-1, 100, "scheduling.error.setup_negative"),
        (float("nan"), 100, "scheduling.error.setup_negative"),
        (5, 0, "scheduling.error.rate_not_positive"),
        (5, -10, "scheduling.error.rate_not_positive"),
        (5, float("inf"), "scheduling.error.rate_not_positive"),
        (5, True, "scheduling.error.rate_not_positive"),
    ],
)
def test_bad_rates_are_refused(setup, per_hour, key):
    with pytest.raises(ValidationError) as refused:
        Rate(setup, per_hour)
    assert refused.value.detail.key == key


def test_negative_quantities_are_refused():
    with pytest.raises(ValidationError) as refused:
        planned_minutes(Rate(5, 100), -1)
    assert refused.value.detail.key == "scheduling.error.quantity_negative"
    with pytest.raises(ValidationError):
        remaining_minutes(Rate(5, 100), 10, -1)
