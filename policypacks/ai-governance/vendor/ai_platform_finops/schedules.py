"""Auto Scaling scheduled actions: how many nodes a group has, on average, over its cycle.

An ``aws:autoscaling/schedule:Schedule`` sets an Auto Scaling group's min/max/desired at the
times of its Unix cron ``recurrence`` in its IANA ``timeZone``. A pool usually has two (scale to
zero in the evening, back up in the morning), but any number is handled.

Method
------
1. Each recurrence is expanded into its firing times over one *cycle*:

   - a **week** when day-of-month and month are ``*`` (the usual case: the schedule then repeats
     exactly every week). The week is 2026-01-05 (a Monday) to 2026-01-12;
   - a **year** (2026) otherwise, so ``0 20 1 * *`` fires twelve times.

   Local firing times are converted to UTC with the schedule's time zone, so schedules of one
   group in different time zones interleave correctly. Within a week, a daylight-saving shift is
   ignored (it moves both edges of an off-peak window by the same hour).
2. The firing times of all the group's schedules are sorted. Between two firings the group
   keeps the sizes the earlier one set (``-1`` keeps a size unchanged, an omitted size is 0 as in
   the AWS provider). The cycle is walked twice: the first pass only establishes the sizes in
   force when the cycle starts (those set by the last firing of the previous cycle).
3. At every moment the ASG's own rules apply: max is at least min, and desired lies in
   [min, max]. So min <= desired <= max holds at every moment, and so does its average.
4. The result is the time-weighted average of min, desired and max nodes over the cycle.
   Multiplied by the 730 hours of the estimate's month, that gives node-hours a month.
   Example: down at 20:00 and up at 08:00 on weekdays gives 5 x 12 = 60 h up of 168 h a week,
   so a desired size of 1 averages 60/168 = 0.357 nodes, or 260.7 node-hours a month.

Everything is cached per (recurrence, time zone): a stack with hundreds of pools sharing one
schedule expands it once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEK_MINUTES = 7 * 24 * 60
YEAR_MINUTES = 365 * 24 * 60
REFERENCE_MONDAY = date(2026, 1, 5)
REFERENCE_YEAR = 2026
MAX_FIRINGS = 100_000
"""A recurrence that fires more often than this per cycle is rejected rather than simulated."""

_MONTHS = {m: i + 1 for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"))}
_DAYS = {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
_TERM = re.compile(r"^(\*|[0-9A-Z]+(?:-[0-9A-Z]+)?)(?:/([0-9]+))?$")


class ScheduleError(ValueError):
    """A recurrence or time zone the model cannot use; the message says why."""


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]
    """0 = Sunday ... 6 = Saturday."""
    dom_restricted: bool
    dow_restricted: bool

    @property
    def weekly(self) -> bool:
        return not self.dom_restricted and len(self.months) == 12

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        dow = (day.weekday() + 1) % 7
        if self.dom_restricted and self.dow_restricted:
            # Unix cron: when both are restricted, either one matching is enough.
            return day.day in self.days_of_month or dow in self.days_of_week
        if self.dom_restricted:
            return day.day in self.days_of_month
        return dow in self.days_of_week


def _value(token: str, low: int, high: int, names: dict[str, int] | None) -> int:
    if names and token in names:
        return names[token]
    if not token.isdigit():
        raise ScheduleError(f"{token!r} is not a number between {low} and {high}")
    value = int(token)
    if not low <= value <= high:
        raise ScheduleError(f"{value} is outside {low}-{high}")
    return value


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    values: set[int] = set()
    for part in text.upper().split(","):
        match = _TERM.match(part)
        if not match:
            raise ScheduleError(f"cannot read {part!r}")
        span, step_text = match.groups()
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ScheduleError(f"step {step} must be at least 1")
        if span == "*":
            start, end = low, high
        elif "-" in span:
            first, last = span.split("-", 1)
            start, end = _value(first, low, high, names), _value(last, low, high, names)
            if end < start:
                raise ScheduleError(f"range {span} runs backwards")
        else:
            start = _value(span, low, high, names)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    if names is _DAYS and 7 in values:
        values.discard(7)
        values.add(0)  # both 0 and 7 are Sunday
    return frozenset(values)


@lru_cache(maxsize=1024)
def parse_cron(expression: str) -> Cron:
    """A 5-field Unix cron expression, as Auto Scaling's ``Recurrence`` takes it."""
    fields = expression.split()
    if len(fields) != 5:
        raise ScheduleError(f"recurrence {expression!r} must have 5 fields (minute hour day-of-month month day-of-week)")
    minute, hour, dom, month, dow = fields
    try:
        return Cron(
            minutes=_field(minute, 0, 59),
            hours=_field(hour, 0, 23),
            days_of_month=_field(dom, 1, 31),
            months=_field(month, 1, 12, _MONTHS),
            days_of_week=_field(dow, 0, 7, _DAYS),
            dom_restricted=not dom.startswith("*"),
            dow_restricted=not dow.startswith("*"),
        )
    except ScheduleError as exc:
        raise ScheduleError(f"recurrence {expression!r}: {exc}") from None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"time zone {name!r} is not an IANA time zone") from None


@lru_cache(maxsize=1024)
def firings(expression: str, time_zone: str, yearly: bool) -> tuple[int, ...]:
    """Minutes since the cycle's start (UTC) at which ``expression`` fires in ``time_zone``."""
    cron = parse_cron(expression)
    zone = _zone(time_zone)
    if yearly:
        first, days, cycle = date(REFERENCE_YEAR, 1, 1), 365, YEAR_MINUTES
    else:
        first, days, cycle = REFERENCE_MONDAY, 7, WEEK_MINUTES
    origin = datetime(first.year, first.month, first.day, tzinfo=timezone.utc)
    per_day = len(cron.hours) * len(cron.minutes)
    out: list[int] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        if not cron.matches_day(day):
            continue
        if len(out) + per_day > MAX_FIRINGS:
            raise ScheduleError(f"recurrence {expression!r} fires more than {MAX_FIRINGS} times a {'year' if yearly else 'week'}")
        for hour in sorted(cron.hours):
            for minute in sorted(cron.minutes):
                local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                out.append(int((local - origin).total_seconds() // 60) % cycle)
    return tuple(sorted(out))


@dataclass(frozen=True)
class ScalingAction:
    """One scheduled action, in the engine's terms. A size of None (or -1) leaves it unchanged."""

    recurrence: str
    time_zone: str = "UTC"
    min_size: int | None = 0
    max_size: int | None = 0
    desired: int | None = 0
    name: str = ""


@dataclass(frozen=True)
class AverageSizes:
    """Time-weighted average nodes over the cycle, and how the figure was reached."""

    min: float
    desired: float
    max: float
    cycle: str = "always"
    """'week', 'year', or 'always' (no usable schedule: the group's own sizes all the time)."""
    zero_fraction: float = 0.0
    """Share of the cycle during which max is 0 (nothing can run)."""
    problems: tuple[str, ...] = field(default_factory=tuple)
    """Schedules that could not be used, and why."""


def _clamp(sizes: tuple[int, int, int]) -> tuple[int, int, int]:
    low, desired, high = sizes
    low = max(low, 0)
    high = max(high, low)
    return low, min(max(desired, low), high), high


def average_sizes(base: tuple[int, int, int], actions: Sequence[ScalingAction]) -> AverageSizes:
    """Average (min, desired, max) nodes of a group whose own sizes are ``base``, under ``actions``."""
    problems: list[str] = []
    usable: list[ScalingAction] = []
    yearly = False
    for action in actions:
        try:
            cron = parse_cron(action.recurrence)
            _zone(action.time_zone)
        except ScheduleError as exc:
            problems.append(f"{action.name or 'schedule'}: {exc}")
            continue
        yearly = yearly or not cron.weekly
        usable.append(action)

    events: list[tuple[int, int, ScalingAction]] = []
    for index, action in enumerate(usable):
        try:
            times = firings(action.recurrence, action.time_zone, yearly)
        except ScheduleError as exc:
            problems.append(f"{action.name or 'schedule'}: {exc}")
            continue
        events.extend((minute, index, action) for minute in times)
    low, desired, high = _clamp(base)
    if not events:
        return AverageSizes(float(low), float(desired), float(high), "always", 0.0 if high else 1.0, tuple(problems))
    events.sort(key=lambda e: (e[0], e[1]))
    cycle = YEAR_MINUTES if yearly else WEEK_MINUTES

    def apply(state: tuple[int, int, int], action: ScalingAction) -> tuple[int, int, int]:
        def pick(new: int | None, old: int) -> int:
            return old if new is None or new < 0 else new
        return (pick(action.min_size, state[0]), pick(action.desired, state[1]), pick(action.max_size, state[2]))

    state = base
    for _, _, action in events:  # pass 1: the sizes in force when the cycle starts
        state = apply(state, action)
    totals = [0, 0, 0]
    zero = 0
    previous = 0
    for minute, _, action in events:
        span = minute - previous
        eff = _clamp(state)
        for i in range(3):
            totals[i] += eff[i] * span
        zero += span if eff[2] == 0 else 0
        state = apply(state, action)
        previous = minute
    span = cycle - previous
    eff = _clamp(state)
    for i in range(3):
        totals[i] += eff[i] * span
    zero += span if eff[2] == 0 else 0
    return AverageSizes(
        min=totals[0] / cycle,
        desired=totals[1] / cycle,
        max=totals[2] / cycle,
        cycle="year" if yearly else "week",
        zero_fraction=zero / cycle,
        problems=tuple(problems),
    )
