"""Availability records (schedules and reservations) and their expansion into minute intervals.

The unit of time for capacity is the *minute*: an integer count of whole minutes since the Unix
epoch, UTC. Whole minutes are what the API deals in (slot durations, capacity runs), and plain ints
make the interval maths exact, hashable and cheap.

A recurring record repeats its *local wall-clock* window (start time-of-day, wall duration) on
every allowed local date, in the store's timezone. Expanding in local time rather than adding
24-hour steps in UTC is what keeps a store's 09:00-17:00 at 09:00-17:00 across DST.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE = timedelta(minutes=1)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_DAY_MINUTES = 24 * 60
# Instants whose UTC date (and that date +/- a few days) the datetime module can still represent.
_FIRST_MINUTE = (datetime(1, 1, 8, tzinfo=UTC) - _EPOCH) // _MINUTE
_LAST_MINUTE = (datetime(9999, 12, 24, tzinfo=UTC) - _EPOCH) // _MINUTE
# How far the local date of an occurrence can be from the UTC dates that bound the window: one day
# for the UTC offset itself (offsets are under 24h) plus up to a day of offset change within one
# occurrence (Pacific/Apia skipped a whole day in 2011), plus one for luck. Cheap either way.
_SLACK_DAYS = 3


def to_minute(dt: datetime) -> int:
    """The minute holding the aware instant ``dt`` (seconds are floored, also before the epoch)."""
    if dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt.isoformat()} has no place on the timeline")
    return (dt - _EPOCH) // _MINUTE


def from_minute(m: int) -> datetime:
    """The start of minute ``m`` as an aware UTC datetime."""
    return _EPOCH + m * _MINUTE


@lru_cache(maxsize=1 << 16)
def local_minute(wall: datetime, tz: ZoneInfo) -> int | None:
    """The minute at which the naive local wall-clock time ``wall`` happens in ``tz``.

    None when the time does not exist (skipped by a spring-forward gap). A repeated time (fall
    back) is read with ``fold=0``, i.e. its first occurrence, so it is counted once.
    """
    naive = wall.replace(tzinfo=None, fold=0)
    # Two offset look-ups instead of a round trip: in a gap the second reading (fold=1) is the
    # later, larger offset; for a repeated time it is the smaller one; elsewhere they agree.
    offset = tz.utcoffset(naive)
    if offset is None or tz.utcoffset(naive.replace(fold=1)) > offset:  # type: ignore[operator]
        return None
    return (naive - offset - _NAIVE_EPOCH) // _MINUTE


@lru_cache(maxsize=1 << 16)
def _wall_minute(wall: datetime, tz: ZoneInfo) -> int:
    """Like :func:`local_minute` but a gap time is read with fold=0 (it lands just after the gap)."""
    offset = tz.utcoffset(wall.replace(fold=0))
    assert offset is not None
    return (wall.replace(fold=0) - offset - _NAIVE_EPOCH) // _MINUTE


@dataclass(frozen=True)
class Recurrence:
    """Repeat a record's local time-of-day window on allowed days until ``end``.

    ``end`` is an aware instant, the model's "end time of the recurrence": an occurrence belongs to
    the record when it starts at or before it. The day sets are a union; when both are empty every
    day is allowed.
    """

    end: datetime
    days_of_week: frozenset[int] = frozenset()  # 0 = Monday ... 6 = Sunday
    days_of_month: frozenset[int] = frozenset()  # 1..31


@dataclass(frozen=True)
class Availability:
    """A span [start, end) with a capacity, optionally recurring (a schedule record or reservation)."""

    start: datetime
    end: datetime
    capacity: int = 1
    recurrence: Recurrence | None = None


def floor_minute(dt: datetime) -> datetime:
    """``dt`` without its seconds."""
    return dt.replace(second=0, microsecond=0)


def ceil_minute(dt: datetime) -> datetime:
    """The first whole minute at or after ``dt``."""
    floored = floor_minute(dt)
    return floored if floored == dt else floored + _MINUTE


def whole_minutes(record: Availability, *, inward: bool) -> Availability:
    """The record on whole minutes, the unit capacity is counted in.

    ``inward`` (schedules): the start is rounded up and the end down, so capacity is published
    only for minutes wholly inside what was sent. Otherwise (reservations): the start is rounded
    down and the end up, so every minute the reservation touches is reserved. Either way AVAILABLE
    never exceeds what the records say. The recurrence's end instant is kept as sent.
    """
    if inward:
        start, end = ceil_minute(record.start), floor_minute(record.end)
    else:
        start, end = floor_minute(record.start), ceil_minute(record.end)
    return Availability(start, end, record.capacity, record.recurrence)


def _overlaps(s: int, e: int, window: tuple[int, int]) -> bool:
    return s < e and s < window[1] and e > window[0]


def _utc_date(m: int) -> date:
    return from_minute(min(max(m, _FIRST_MINUTE), _LAST_MINUTE)).date()


def occurrences(record: Availability, *, tz: ZoneInfo, window: tuple[int, int]) -> list[tuple[int, int]]:
    """The record's half-open minute intervals that overlap ``window``, sorted and not clipped.

    Only the dates that can reach the window are visited, so a short window over a record that
    recurs for years costs a few days of work, not thousands. Empty intervals (a record shorter than
    a minute, or a wall duration that DST turns non-positive) cover no minute and are left out.
    """
    if record.recurrence is None:
        s, e = to_minute(record.start), to_minute(record.end)
        return [(s, e)] if _overlaps(s, e, window) else []

    local_start = record.start.astimezone(tz).replace(tzinfo=None, fold=0)
    wall = record.end.astimezone(tz).replace(tzinfo=None) - local_start
    time_of_day = local_start.time()
    wall_minutes = max(0, wall // _MINUTE)

    slack = timedelta(days=_SLACK_DAYS)
    first = max(local_start.date(), _utc_date(window[0] - wall_minutes - _DAY_MINUTES) - slack)
    last = min(record.recurrence.end.astimezone(tz).date(), _utc_date(window[1]) + slack)

    out: list[tuple[int, int]] = []
    last_start = to_minute(record.recurrence.end)
    dow, dom = record.recurrence.days_of_week, record.recurrence.days_of_month
    every = not dow and not dom
    # Walk day ordinals and build a date only for allowed days (this loop is the hot path when
    # expanding many resources' schedules).
    for ordinal in range(first.toordinal(), last.toordinal() + 1):
        if not every and (ordinal - 1) % 7 not in dow and (not dom or date.fromordinal(ordinal).day not in dom):
            continue
        begin = datetime.combine(date.fromordinal(ordinal), time_of_day)
        starts_at = local_minute(begin, tz)
        if starts_at is not None and starts_at > last_start:
            break  # later dates start later still
        if starts_at is not None:
            # The end is read with fold=0 like the start; an end inside a gap lands just after it.
            ends_at = _wall_minute(begin + wall, tz)
            if _overlaps(starts_at, ends_at, window):
                out.append((starts_at, ends_at))
    out.sort()
    return out
