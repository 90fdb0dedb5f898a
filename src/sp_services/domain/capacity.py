"""Capacity as step functions of time: sorted, half-open runs of constant value.

A :data:`Run` is ``(start_minute, end_minute, value)``. A run list produced here covers its window
exactly (no gaps, zeros included) and is *maximal*: adjacent runs differ in value. That is both
the shape the range-capacity report returns and what lets every operation below be a linear walk
or a sweep over events instead of a minute-by-minute loop.

SCHEDULED comes from the schedule records (a later record overrides earlier ones), RESERVED and
ENCUMBERED are sums of intervals, and AVAILABLE = SCHEDULED - RESERVED - ENCUMBERED (which may go
negative after a schedule shrinks: bookings are kept and the deficit is reported, never hidden).
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from zoneinfo import ZoneInfo

from .recurrence import Availability, occurrences
from .recurrence import from_minute as from_minute
from .recurrence import to_minute as to_minute

Run = tuple[int, int, int]

__all__ = [
    "Run",
    "combine",
    "fixed_buckets",
    "from_minute",
    "maximum",
    "minimum",
    "minute_text",
    "overlapping_records",
    "scheduled_runs",
    "sum_runs",
    "to_minute",
    "value_runs",
]


def _append(out: list[Run], start: int, end: int, value: int) -> None:
    """Add [start, end) at ``value`` after the last run, merging with it when the value repeats."""
    if start >= end:
        return
    if out and out[-1][1] == start and out[-1][2] == value:
        out[-1] = (out[-1][0], end, value)
    else:
        out.append((start, end, value))


def _clipped(records: Sequence[Availability], tz: ZoneInfo, window: tuple[int, int]) -> Iterator[tuple[int, int, int]]:
    """(start, end, record index) of every occurrence, clipped to the window."""
    lo, hi = window
    for i, record in enumerate(records):
        for s, e in occurrences(record, tz=tz, window=window):
            yield max(s, lo), min(e, hi), i


def scheduled_runs(records: Sequence[Availability], *, tz: ZoneInfo, window: tuple[int, int]) -> list[Run]:
    """SCHEDULED capacity over ``window``: each minute takes the capacity of the last record covering it.

    A sweep over start/end events; the active records sit in a max-heap of indices (stale entries
    are dropped lazily), so the cost is O(n log n) in occurrences, whatever the window's length.
    """
    lo, hi = window
    if lo >= hi:
        return []
    pieces = sorted(_clipped(records, tz, window))
    if all(pieces[k][1] <= pieces[k + 1][0] for k in range(len(pieces) - 1)):
        # No two occurrences overlap (the usual schedule): nothing to override, no sweep needed.
        out: list[Run] = []
        pos = lo
        for s, e, i in pieces:
            _append(out, pos, s, 0)
            _append(out, s, e, records[i].capacity)
            pos = e
        _append(out, pos, hi, 0)
        return out
    events: list[tuple[int, int, int]] = []
    for s, e, i in pieces:
        events += [(s, 1, i), (e, -1, i)]
    events.sort()

    # A record may be active more than once at a time (a recurring record longer than a day).
    active = [0] * len(records)
    heap: list[int] = []  # negated indices: the top is the latest active record
    out = []
    pos, value = lo, 0
    k = 0
    while k < len(events):
        t = events[k][0]
        _append(out, pos, t, value)
        while k < len(events) and events[k][0] == t:
            _, delta, i = events[k]
            active[i] += delta
            if delta > 0:
                heapq.heappush(heap, -i)
            k += 1
        while heap and active[-heap[0]] == 0:
            heapq.heappop(heap)
        pos, value = t, records[-heap[0]].capacity if heap else 0
    _append(out, pos, hi, value)
    return out


def overlapping_records(records: Sequence[Availability], *, tz: ZoneInfo, window: tuple[int, int]) -> list[int]:
    """Indices of records sharing a minute (within ``window``) with some earlier record.

    These are the records that override part of an earlier one and earn a ``ScheduleOverride``
    warning. Two non-empty half-open intervals overlap exactly when one starts while the other is
    active, so a sweep that looks at the active set at each start finds every pair: the starting
    record is flagged when a lower index is active, and every active higher index is flagged too.
    Each index is flagged once, which keeps the sweep O(n log n).
    """
    events: list[tuple[int, int, int]] = []
    for s, e, i in _clipped(records, tz, window):
        if s < e:
            events += [(s, 1, i), (e, -1, i)]
    # Ends sort before starts at the same minute: [a, b) and [b, c) share no minute.
    events.sort()

    active = [0] * len(records)
    lowest: list[int] = []  # min-heap of active indices (lazy)
    highest: list[int] = []  # max-heap (negated) of active indices not yet flagged (lazy)
    flagged: set[int] = set()
    for _, delta, i in events:
        if delta < 0:
            active[i] -= 1
            continue
        while lowest and active[lowest[0]] == 0:
            heapq.heappop(lowest)
        if lowest and lowest[0] < i:
            flagged.add(i)
        while highest and -highest[0] > i:
            j = -heapq.heappop(highest)
            if active[j]:
                flagged.add(j)
        active[i] += 1
        heapq.heappush(lowest, i)
        if i not in flagged:
            heapq.heappush(highest, -i)
    return sorted(flagged)


def sum_runs(intervals: Iterable[tuple[int, int, int]], *, window: tuple[int, int]) -> list[Run]:
    """The sum of ``(start, end, amount)`` intervals as maximal runs covering ``window`` exactly."""
    lo, hi = window
    if lo >= hi:
        return []
    deltas: dict[int, int] = {}
    for s, e, amount in intervals:
        s, e = max(s, lo), min(e, hi)
        if s < e and amount:
            deltas[s] = deltas.get(s, 0) + amount
            deltas[e] = deltas.get(e, 0) - amount
    out: list[Run] = []
    pos, value = lo, 0
    for t in sorted(deltas):
        _append(out, pos, t, value)
        pos, value = t, value + deltas[t]
    _append(out, pos, hi, value)
    return out


def combine(a: Sequence[Run], b: Sequence[Run], op: Callable[[int, int], int]) -> list[Run]:
    """``op`` applied minute by minute to two run lists covering the same window, as maximal runs."""
    if not a and not b:
        return []
    if not a or not b or a[0][0] != b[0][0] or a[-1][1] != b[-1][1]:
        raise ValueError("run lists do not cover the same window")
    out: list[Run] = []
    if len(b) == 1:  # the common case: no reservations or bookings in the window
        for s, e, v in a:
            _append(out, s, e, op(v, b[0][2]))
        return out
    i = j = 0
    pos = a[0][0]
    while i < len(a) and j < len(b):
        end = min(a[i][1], b[j][1])
        _append(out, pos, end, op(a[i][2], b[j][2]))
        pos = end
        if a[i][1] == end:
            i += 1
        if b[j][1] == end:
            j += 1
    return out


def _first_reaching(runs: Sequence[Run], minute: int) -> int:
    """Index of the first run that ends after ``minute`` (runs are sorted, so ends are too)."""
    return bisect_right(runs, minute, key=lambda run: run[1])


def value_runs(runs: Sequence[Run], *, window: tuple[int, int]) -> list[Run]:
    """The part of ``runs`` inside ``window`` (clipped, merged), e.g. one page of a report."""
    lo, hi = window
    out: list[Run] = []
    k = _first_reaching(runs, lo)
    while k < len(runs) and runs[k][0] < hi:
        s, e, v = runs[k]
        _append(out, max(s, lo), min(e, hi), v)
        k += 1
    return out


def _values_over(runs: Sequence[Run], start: int, end: int) -> Iterator[int]:
    """Values of the runs covering [start, end); raises if the runs leave any minute uncovered."""
    if start >= end:
        raise ValueError(f"empty range [{start}, {end})")
    k = _first_reaching(runs, start)
    covered = start
    while covered < end:
        if k == len(runs) or runs[k][0] > covered:
            raise ValueError(f"runs do not cover minute {covered}")
        yield runs[k][2]
        covered = runs[k][1]
        k += 1


def minimum(runs: Sequence[Run], start: int, end: int) -> int:
    """The lowest value at any minute of [start, end)."""
    return min(_values_over(runs, start, end))


def maximum(runs: Sequence[Run], start: int, end: int) -> int:
    """The highest value at any minute of [start, end)."""
    return max(_values_over(runs, start, end))


def _per_bucket(runs: Sequence[Run], lo: int, hi: int, slot: int, pick: Callable[[int, int], int]) -> list[int]:
    """``pick``-aggregate (min or max) of the runs over each bucket [lo + i*slot, ...) clipped to ``hi``.

    One forward walk; a run spanning several whole buckets fills them in one step, so the cost
    follows the number of runs more than the number of buckets. Written with local names and an
    inline comparison because it runs over every bucket of every report.
    """
    out: list[int] = []
    n = len(runs)
    k = _first_reaching(runs, lo)
    lowest = pick is min
    b = lo
    while b < hi:
        while k < n and runs[k][1] <= b:
            k += 1
        if k == n or runs[k][0] > b:
            raise ValueError(f"runs do not cover minute {b}")
        _, run_end, value = runs[k]
        if run_end >= hi:
            out.extend([value] * -((b - hi) // slot))  # every bucket left, the last one clipped
            break
        whole = (run_end - b) // slot
        if whole:
            out.extend([value] * whole)
            b += whole * slot
            continue
        end = b + slot if b + slot < hi else hi
        covered, j = run_end, k + 1
        while covered < end:
            if j == n:
                raise ValueError(f"runs do not cover minute {covered}")
            start_j, next_covered, v = runs[j]
            if start_j != covered:
                raise ValueError(f"runs do not cover minute {covered}")
            covered = next_covered
            if (v < value) if lowest else (v > value):
                value = v
            j += 1
        out.append(value)
        b = end
    return out


def fixed_buckets(
    window: tuple[int, int],
    slot_minutes: int,
    *,
    scheduled: Sequence[Run],
    reserved: Sequence[Run],
    encumbered: Sequence[Run],
    available: Sequence[Run],
) -> list[tuple[int, int, int, int, int]]:
    """Buckets of ``slot_minutes`` from the window start (the last one clipped to the window end).

    Each bucket is ``(start, scheduled, available, reserved, encumbered)``: the capacities a
    booking could count on are minima over the bucket, the ones that take capacity are maxima.
    """
    if slot_minutes <= 0:
        raise ValueError("slot_minutes must be positive")
    lo, hi = window
    return list(
        zip(
            range(lo, hi, slot_minutes),
            _per_bucket(scheduled, lo, hi, slot_minutes, min),
            _per_bucket(available, lo, hi, slot_minutes, min),
            _per_bucket(reserved, lo, hi, slot_minutes, max),
            _per_bucket(encumbered, lo, hi, slot_minutes, max),
            strict=True,
        )
    )


@lru_cache(maxsize=4096)
def _day_text(day: int) -> str:
    d = from_minute(day * 1440)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"  # strftime's %Y does not pad years before 1000


@lru_cache(maxsize=1 << 16)
def minute_text(m: int) -> str:
    """``YYYY-MM-DDTHH:MM:00Z`` for minute ``m``: reports format thousands of minutes, so the date
    part is formatted once per day instead of building a datetime for every value, and the same
    slot starts, asked again and again, are formatted once."""
    day, rest = divmod(m, 1440)
    hours, minutes = divmod(rest, 60)
    return f"{_day_text(day)}T{hours:02d}:{minutes:02d}:00Z"
