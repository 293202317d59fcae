"""Off-peak schedules: cron expansion and the time-weighted average of a group's sizes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ai_platform_finops.schedules import ScalingAction, ScheduleError, average_sizes, firings, parse_cron


def test_cron_fields_names_ranges_steps_and_sunday_as_7():
    cron = parse_cron("*/15 8-18/2 * * MON-FRI")
    assert sorted(cron.minutes) == [0, 15, 30, 45]
    assert sorted(cron.hours) == [8, 10, 12, 14, 16, 18]
    assert sorted(cron.days_of_week) == [1, 2, 3, 4, 5]
    assert sorted(parse_cron("0 0 * * 5-7").days_of_week) == [0, 5, 6]
    assert sorted(parse_cron("0 0 * * sat,SUN").days_of_week) == [0, 6]
    assert sorted(parse_cron("0 0 1 jan,JUL *").months) == [1, 7]
    assert parse_cron("0 20 * * MON-FRI").weekly and not parse_cron("0 0 1 * *").weekly


@pytest.mark.parametrize("expression", ["0 20 * *", "61 * * * *", "0 25 * * *", "0 0 * * FUNDAY", "0 0 * * 5-1",
                                        "0 0 0 * *", "*/0 * * * *", "a b c d e"])
def test_bad_recurrences_are_rejected_with_the_expression(expression):
    with pytest.raises(ScheduleError, match="recurrence"):
        parse_cron(expression)


def test_weekday_nights_and_weekends_off():
    # Down Mon-Fri 20:00, up Mon-Fri 08:00: up 60 h of 168 h a week.
    down = ScalingAction("0 20 * * MON-FRI", "UTC", 0, 0, 0, "down")
    up = ScalingAction("0 8 * * MON-FRI", "UTC", 0, 2, 1, "up")
    sizes = average_sizes((0, 1, 2), [down, up])
    assert (sizes.min, sizes.desired, sizes.max) == (0, pytest.approx(60 / 168), pytest.approx(120 / 168))
    assert sizes.cycle == "week" and sizes.zero_fraction == pytest.approx(108 / 168)
    # The order of the schedules does not matter.
    assert average_sizes((0, 1, 2), [up, down]) == sizes


def test_time_zone_moves_the_window_but_not_its_length_and_mixes_correctly():
    # Same window in New York: still 60 h up a week.
    ny = average_sizes((0, 1, 1), [ScalingAction("0 20 * * MON-FRI", "America/New_York", 0, 0, 0),
                                   ScalingAction("0 8 * * MON-FRI", "America/New_York", 0, 1, 1)])
    assert ny.desired == pytest.approx(60 / 168)
    # Down at 20:00 UTC, up at 08:00 New York (13:00 UTC in January): up 13:00-20:00 = 7 h x 5 days.
    mixed = average_sizes((0, 1, 1), [ScalingAction("0 20 * * MON-FRI", "UTC", 0, 0, 0),
                                      ScalingAction("0 8 * * MON-FRI", "America/New_York", 0, 1, 1)])
    assert mixed.desired == pytest.approx(35 / 168)


def test_sizes_of_minus_one_are_kept_and_omitted_sizes_are_zero():
    # Only desired changes at night (min/max -1 = unchanged): min stays 1, max stays 3.
    night = ScalingAction("0 20 * * *", "UTC", None, None, 1)
    day = ScalingAction("0 8 * * *", "UTC", None, None, 2)
    sizes = average_sizes((1, 2, 3), [night, day])
    assert (sizes.min, sizes.max) == (1, 3)
    assert sizes.desired == pytest.approx((12 * 2 + 12 * 1) / 24)


def test_desired_is_clamped_into_min_max_like_the_asg_does():
    # A schedule raising min above desired lifts desired with it.
    sizes = average_sizes((0, 0, 4), [ScalingAction("0 0 * * *", "UTC", 3, 4, 0)])
    assert sizes.desired == 3 and sizes.min == 3


def test_monthly_schedules_use_a_yearly_cycle():
    # Down at 00:00 on the 1st, up at 00:00 on the 2nd: 12 days a year at zero.
    sizes = average_sizes((1, 1, 1), [ScalingAction("0 0 1 * *", "UTC", 0, 0, 0),
                                      ScalingAction("0 0 2 * *", "UTC", 1, 1, 1)])
    assert sizes.cycle == "year" and sizes.desired == pytest.approx(1 - 12 / 365)


def test_unusable_schedules_are_reported_and_ignored():
    sizes = average_sizes((1, 1, 2), [ScalingAction("not cron", "UTC", 0, 0, 0, "broken"),
                                      ScalingAction("0 1 * * *", "Mars/Olympus", 0, 0, 0, "lost")])
    assert (sizes.min, sizes.desired, sizes.max) == (1, 1, 2) and sizes.cycle == "always"
    assert len(sizes.problems) == 2 and "broken" in sizes.problems[0] and "Mars/Olympus" in sizes.problems[1]


def test_a_recurrence_too_dense_to_model_is_refused():
    with pytest.raises(ScheduleError, match="fires more than"):
        firings("* * 1-31 * *", "UTC", True)


cron_terms = st.sampled_from(["*", "MON-FRI", "SAT,SUN", "1-5", "0", "*/2", "TUE,THU"])
sizes = st.one_of(st.none(), st.integers(0, 30))


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 10), st.integers(0, 10), st.integers(0, 10),
       st.lists(st.tuples(st.integers(0, 59), st.integers(0, 23), cron_terms, sizes, sizes, sizes,
                          st.sampled_from(["UTC", "Europe/Berlin", "Pacific/Auckland"])), max_size=4))
def test_average_sizes_keep_min_below_desired_below_max(low, extra, over, raw):
    high = low + extra + over
    desired = low + extra
    actions = [ScalingAction(f"{m} {h} * * {days}", zone, a, b, c) for m, h, days, a, b, c, zone in raw]
    result = average_sizes((low, desired, high), actions)
    assert 0 <= result.min <= result.desired <= result.max
    assert 0 <= result.zero_fraction <= 1
    if not actions:
        assert (result.min, result.desired, result.max) == (low, desired, high)
