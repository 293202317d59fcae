"""The advisor's statistics: invariants under hypothesis, the forecast on a known trend and season, and
anomalies on planted spikes with false alarms counted."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from preflight.advise import stats
from tests.preflight.advise import synthetic

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(st.lists(finite, min_size=1, max_size=200), st.floats(min_value=0, max_value=100))
def test_a_percentile_lies_between_the_extremes(values, q):
    assert min(values) - 1e-6 <= stats.percentile(values, q) <= max(values) + 1e-6


cents = st.integers(min_value=-10**8, max_value=10**8).map(lambda c: c / 100)  # spend is in cents


@given(st.lists(cents, min_size=3, max_size=100), st.integers(min_value=1, max_value=1000), cents)
def test_robust_z_ignores_shift_and_scale(values, scale, shift):
    plain = stats.robust_z(values)
    moved = stats.robust_z([v * scale + shift for v in values])
    assert np.allclose(plain, moved, rtol=1e-6, atol=1e-3)


@settings(deadline=None)  # the first example imports statsmodels
@given(finite, st.integers(min_value=1, max_value=60))
def test_a_constant_series_has_no_anomaly(value, n):
    assert stats.robust_z([value] * n) == [0.0] * n
    assert stats.anomalous_days([value] * n)[0] == []


@given(st.sets(st.tuples(st.integers(0, 6), st.integers(0, 23)), max_size=40))
def test_the_busy_window_holds_every_busy_hour(busy):
    profile = {(d, h): (50.0 if (d, h) in busy else 0.0) for d in range(7) for h in range(24)}
    window = stats.busy_hours(profile, 5.0)
    if not busy:
        assert window is None
        return
    assert window is not None
    for d, h in busy:
        assert window.start_hour <= h < window.end_hour
        assert window.days == "*" or d < 5
    assert (window.days == "*") == any(d >= 5 for d, _ in busy)


def test_the_hourly_profile_is_read_in_the_pools_time_zone():
    start = synthetic.START  # Monday 2026-11-16 00:00 UTC
    samples = [(start + 14 * 3600 + i * 300, 80.0) for i in range(12)]  # 14:00-15:00 UTC on the Monday
    profile = stats.hourly_profile(samples, start, start + 7 * 86400 - 300, 300, "America/New_York")
    busy = {slot for slot, v in profile.items() if v >= 5}
    assert busy == {(0, 9)}  # 09:00 in New York (EST, UTC-5)


@given(st.lists(st.floats(min_value=0, max_value=1e4, allow_nan=False), min_size=0, max_size=20),
       st.integers(min_value=0, max_value=30))
def test_the_trend_fallback_interval_holds_its_point(values, horizon):
    point, low, high = stats.trend_forecast(values, horizon)
    assert 0 <= low <= point <= high or (horizon == 0 and point == low == high == 0)


def _seasonal(days: int, seed: int, slope: float = 3.0) -> list[float]:
    """Daily spend with a trend, weekends at 40-45% of weekdays and 3% multiplicative noise."""
    rng = np.random.default_rng(seed)
    week = np.array([1.0, 1.05, 1.1, 1.05, 1.0, 0.45, 0.4])
    return [float((200 + slope * i) * week[i % 7] * rng.lognormal(0, 0.03)) for i in range(days)]


def test_the_forecast_recovers_a_known_trend_and_weekly_season():
    """Twenty histories of eight weeks (a trend of 3 USD a day, weekends 110 USD lower, noise sd 5):
    every month-end forecast within 3% of the truth, and the nominal 90% interval holding it at least 75% of the
    time (the simulated paths treat the fitted parameters as known, so the interval runs narrow)."""
    first = date(2026, 10, 1)  # the history ends on 2026-11-25: five days of November to forecast
    days = [first + timedelta(days=i) for i in range(56)]
    misses = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        season = [0, 5, 10, 5, 0, -110, -110]  # 2026-10-01 is a Thursday: offsets by index
        history = [200 + 3.0 * i + season[i % 7] + rng.normal(0, 5) for i in range(61)]
        truth = sum(history[31:61])  # November's 30 days
        result = stats.month_end(days, history[:56])
        assert "Holt-Winters" in result.method and result.days_left == 5
        assert abs(result.forecast - truth) / truth < 0.03
        misses += not result.lower <= truth <= result.upper
    assert misses <= 5


def test_a_short_history_falls_back_to_a_linear_trend_and_says_so():
    days = [date(2026, 11, 1) + timedelta(days=i) for i in range(10)]
    result = stats.month_end(days, [100.0 + 10 * i for i in range(10)])
    assert result.method.startswith("least-squares linear trend")
    # 100..190 so far; 200..390 for the 20 days left: an exact line, so a zero-width interval.
    assert result.actual_to_date == pytest.approx(1450)
    assert result.forecast == pytest.approx(1450 + sum(100.0 + 10 * i for i in range(10, 30)))
    assert result.lower == pytest.approx(result.forecast) and result.upper == pytest.approx(result.forecast)


def test_no_spike_no_alarm():
    assert sum(len(stats.anomalous_days(_seasonal(56, seed, slope=1.0))[0]) for seed in range(10)) == 0


def test_planted_spikes_are_found_with_few_false_alarms():
    planted_total = found_total = false_total = 0
    for seed in range(10):
        series = _seasonal(56, seed, slope=1.0)
        rng = np.random.default_rng(100 + seed)
        spikes = set(int(i) for i in rng.choice(np.arange(56), size=3, replace=False))
        for i in spikes:
            series[i] *= 2.5
        found = {i for i, _, _ in stats.anomalous_days(series)[0]}
        planted_total += len(spikes)
        found_total += len(found & spikes)
        false_total += len(found - spikes)
    assert found_total == planted_total  # every spike
    assert false_total <= 2  # at most 2 false alarms in 530 ordinary days
