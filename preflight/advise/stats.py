"""Small statistics the advisor rests on: percentiles, the hourly profile, the month-end forecast and
anomalies. Pure functions; the models are statsmodels' (Holt-Winters exponential smoothing and STL).
"""

from __future__ import annotations

import calendar
import math
import warnings
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Sequence
from zoneinfo import ZoneInfo

import numpy as np

SEASON = 7
"""Daily spend repeats weekly (workday traffic, weekend lulls)."""
MIN_SEASONAL_DAYS = 3 * SEASON
"""Holt-Winters with a weekly season needs two full seasons to start and a third to be worth it."""
INTERVAL = 0.90
Z_THRESHOLD = 3.5
"""Iglewicz and Hoaglin's cut-off for the modified z-score."""
SIMULATIONS = 1000


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear interpolation (numpy's default); NaN for no values."""
    if not values:
        return math.nan
    return float(np.percentile(np.asarray(values, dtype=float), q))


def filled(samples: Sequence[tuple[float, float]], start: int, end: int, step: int, missing: float = 0.0) -> list[float]:
    """The samples on the window's grid, ``missing`` where the series has no point (e.g. no node)."""
    by_time = {int(round(ts)): value for ts, value in samples}
    return [by_time.get(ts, missing) for ts in range(start, end + 1, step)]


def hourly_profile(samples: Sequence[tuple[float, float]], start: int, end: int, step: int, time_zone: str,
                   q: float = 95.0) -> dict[tuple[int, int], float]:
    """(weekday 0=Monday, hour) in ``time_zone`` -> the q-th percentile of the samples in that hour of the
    week, missing points counted as 0 (a pool scaled to zero uses no GPU)."""
    zone = ZoneInfo(time_zone)
    buckets: dict[tuple[int, int], list[float]] = {}
    for index, value in enumerate(filled(samples, start, end, step)):
        local = datetime.fromtimestamp(start + index * step, tz=timezone.utc).astimezone(zone)
        buckets.setdefault((local.weekday(), local.hour), []).append(value)
    return {slot: percentile(values, q) for slot, values in buckets.items()}


@dataclass(frozen=True)
class BusyHours:
    days: str
    """``MON-FRI`` or ``*``."""
    start_hour: int
    end_hour: int
    """The pool is used from start_hour to end_hour (exclusive) on ``days``."""


def busy_hours(profile: dict[tuple[int, int], float], idle_below: float) -> BusyHours | None:
    """The daily window that holds every busy hour, or None when the pool is never busy."""
    busy = {slot for slot, value in profile.items() if value >= idle_below}
    if not busy:
        return None
    weekend = any(day >= 5 for day, _ in busy)
    hours = sorted({hour for _, hour in busy})
    return BusyHours("*" if weekend else "MON-FRI", hours[0], hours[-1] + 1)


# --- forecast --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Forecast:
    month: str
    actual_to_date: float
    forecast: float
    lower: float
    upper: float
    method: str
    days_left: int

    def as_dict(self) -> dict[str, object]:
        return {"month": self.month, "actual_to_date": round(self.actual_to_date, 2),
                "forecast": round(self.forecast, 2), "lower": round(self.lower, 2), "upper": round(self.upper, 2),
                "interval": INTERVAL, "method": self.method, "days_left": self.days_left}


def _z(level: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + level / 2)


def trend_forecast(values: Sequence[float], horizon: int) -> tuple[float, float, float]:
    """Sum of the next ``horizon`` days by a least-squares line (a flat mean below 3 days), with a
    normal interval from the residuals: the fallback for short histories."""
    y = np.asarray(values, dtype=float)
    if horizon <= 0:
        return 0.0, 0.0, 0.0
    n = len(y)
    if n >= 3:
        slope, intercept = np.polyfit(np.arange(n), y, 1)
        ahead = intercept + slope * np.arange(n, n + horizon)
        resid = y - (intercept + slope * np.arange(n))
        sigma = float(np.sqrt(np.sum(resid ** 2) / max(n - 2, 1)))
    else:
        ahead = np.full(horizon, float(np.mean(y)) if n else 0.0)
        sigma = float(np.std(y)) if n else 0.0
    point = float(np.sum(np.clip(ahead, 0.0, None)))
    half = _z(INTERVAL) * sigma * math.sqrt(horizon)
    return point, max(point - half, 0.0), point + half


def seasonal_forecast(values: Sequence[float], horizon: int, seed: int = 0) -> tuple[float, float, float]:
    """Sum of the next ``horizon`` days by Holt-Winters (additive trend, additive weekly
    season), the interval from simulated paths. The paths take the fitted parameters as known, so the
    interval runs narrow: 82% of 40 synthetic months fell inside a nominal 90% (tests/preflight/advise)."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    y = np.asarray(values, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short, flat series
        fit = ExponentialSmoothing(y, trend="add", damped_trend=False, seasonal="add", seasonal_periods=SEASON,
                                   initialization_method="estimated").fit()
        point = float(np.sum(np.clip(fit.forecast(horizon), 0.0, None)))
        paths = fit.simulate(horizon, repetitions=SIMULATIONS, error="add", anchor="end",
                             random_state=np.random.RandomState(seed))
    sums = np.sum(np.clip(np.asarray(paths).reshape(horizon, -1), 0.0, None), axis=0)
    tail = (1 - INTERVAL) / 2 * 100
    return point, float(np.percentile(sums, tail)), float(np.percentile(sums, 100 - tail))


TREND_METHOD = ("least-squares linear trend over the daily spend (history under {min} days), "
                "{pct:.0%} normal prediction interval from its residuals")
SEASONAL_METHOD = ("statsmodels Holt-Winters exponential smoothing (additive trend, additive weekly "
                   "seasonality), {pct:.0%} prediction interval from {sims} simulated paths")


def month_end(days: Sequence[date], values: Sequence[float]) -> Forecast:
    """The month-end spend of the month holding the last day, with its interval."""
    last = days[-1]
    month_days = calendar.monthrange(last.year, last.month)[1]
    days_left = month_days - last.day
    actual = sum(v for d, v in zip(days, values) if (d.year, d.month) == (last.year, last.month))
    if len(values) >= MIN_SEASONAL_DAYS:
        point, low, high = seasonal_forecast(values, days_left)
        method = SEASONAL_METHOD.format(pct=INTERVAL, sims=SIMULATIONS)
    else:
        point, low, high = trend_forecast(values, days_left)
        method = TREND_METHOD.format(min=MIN_SEASONAL_DAYS, pct=INTERVAL)
    return Forecast(f"{last.year:04d}-{last.month:02d}", actual, actual + point, actual + low, actual + high,
                    method, days_left)


# --- anomalies -------------------------------------------------------------------------------------

STL_SEASONAL = 13
"""STL's seasonal smoother (odd, >= 7): a weekly pattern that drifts slowly, not day to day."""


def _decompose(y: np.ndarray) -> tuple[np.ndarray, str]:
    """The expected value (trend + weekly season) of each day of ``y`` (log scale)."""
    if len(y) >= 2 * SEASON:
        from statsmodels.tsa.seasonal import STL

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = STL(y, period=SEASON, seasonal=STL_SEASONAL).fit()
        return np.asarray(fit.trend) + np.asarray(fit.seasonal), "STL (weekly period) residual of log spend"
    return np.full(len(y), float(np.median(y)) if len(y) else 0.0), "deviation of log spend from its median (under two weeks)"


def robust_z(values: Sequence[float]) -> list[float]:
    """Modified z-scores, 0.6745 (x - median) / MAD; the mean absolute deviation stands in for a zero
    MAD (x 1.2533, its ratio to the standard deviation); all zeros for a constant series."""
    x = np.asarray(values, dtype=float)
    if not len(x):
        return []
    median = float(np.median(x))
    mad = float(np.median(np.abs(x - median)))
    if mad > 1e-12:
        return [float(v) for v in 0.6745 * (x - median) / mad]
    mean_ad = float(np.mean(np.abs(x - median)))
    if mean_ad <= 1e-12:
        return [0.0] * len(x)
    return [float(v) for v in (x - median) / (1.2533 * mean_ad)]


def anomalous_days(values: Sequence[float]) -> tuple[list[tuple[int, float, float]], str]:
    """(index, z, expected) of each day whose seasonal residual's robust z-score is at least Z_THRESHOLD
    in size, found one at a time: the most extreme day is flagged and replaced by its expected value
    before the next fit (as generalized ESD does), so a spike does not bend the season it sits in and
    raise false alarms beside it. Spend is decomposed on a log scale: weekends are a share of
    weekdays, not an amount off them."""
    y = np.log1p(np.clip(np.asarray(values, dtype=float), 0.0, None))
    work = y.copy()
    flagged: dict[int, float] = {}
    method = ""
    for _ in range(max(len(y) // 5, 1)):
        expected, method = _decompose(work)
        resid = work - expected
        # Decomposition leaves float noise on a flat series: that is no departure.
        resid[np.abs(resid) <= 1e-9 * max(float(np.max(np.abs(work))) if len(work) else 0.0, 1e-12)] = 0.0
        scores = robust_z([float(r) for r in resid])
        if not scores:
            break
        index = int(np.argmax(np.abs(scores)))
        if abs(scores[index]) < Z_THRESHOLD or index in flagged:
            break
        flagged[index] = scores[index]
        work[index] = expected[index]
    expected, _ = _decompose(work)
    found = [(i, z, float(np.expm1(expected[i]))) for i, z in sorted(flagged.items())]
    return found, method


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]
