"""Appointment slots: candidate starts on the store's local grid, kept where capacity allows.

The grid is laid on each store-local day from its midnight, in wall-clock time, so customers see
10:00, 11:00, ... whatever the season. On a spring-forward day the skipped wall times have no slot;
on a fall-back day a repeated wall time is offered once (its first occurrence, ``fold=0``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from .capacity import Run, from_minute
from .recurrence import local_minute

_DAY_MINUTES = 24 * 60


def grid_starts(window: tuple[int, int], *, tz: ZoneInfo, step_minutes: int) -> list[int]:
    """Grid minutes in [window start, window end): every ``step_minutes`` of wall time from each local midnight.

    A step that does not divide the day restarts at the next midnight (step 90: ..., 22:30, 00:00).
    """
    if step_minutes <= 0:
        raise ValueError("step_minutes must be positive")
    lo, hi = window
    if lo >= hi:
        return []
    # A local date is within a day of the UTC date of the same instant (offsets are under 24h).
    day = from_minute(lo).date() - timedelta(days=1)
    last = from_minute(hi - 1).date() + timedelta(days=1)
    out: list[int] = []
    while day <= last:
        midnight = datetime.combine(day, time())
        start, next_start = local_minute(midnight, tz), local_minute(midnight + timedelta(days=1), tz)
        if start is not None and next_start is not None and next_start - start == _DAY_MINUTES:
            # No clock change today (the common case): the grid is plain arithmetic from midnight.
            if lo <= start and start + _DAY_MINUTES <= hi:
                out.extend(range(start, start + _DAY_MINUTES, step_minutes))
            else:
                out.extend(m for m in range(start, start + _DAY_MINUTES, step_minutes) if lo <= m < hi)
            day += timedelta(days=1)
            continue
        for offset in range(0, _DAY_MINUTES, step_minutes):
            m = local_minute(midnight + timedelta(minutes=offset), tz)
            if m is not None and lo <= m < hi:
                out.append(m)
        day += timedelta(days=1)
    # Wall times read with fold=0 map to distinct, increasing instants; sorting is a cheap guard.
    out.sort()
    return out


def _sliding_minima(runs: Sequence[Run], spans: Sequence[tuple[int, int]]) -> list[int | None]:
    """Minimum of contiguous ``runs`` over each span; None for spans the runs do not cover.

    Spans must ascend in both start and end (same duration, ascending starts), so a monotone deque
    gives every minimum in one pass: O(runs + spans) instead of a scan per span.
    """
    if not runs:
        return [None] * len(spans)
    lo, hi = runs[0][0], runs[-1][1]
    out: list[int | None] = []
    window: deque[int] = deque()  # indices of runs with strictly increasing values
    entered = 0
    for start, end in spans:
        if start < lo or end > hi:
            out.append(None)
            continue
        while entered < len(runs) and runs[entered][0] < end:
            while window and runs[window[-1]][2] >= runs[entered][2]:
                window.pop()
            window.append(entered)
            entered += 1
        # The run holding minute end-1 was entered last and never popped, so this stops in time.
        while runs[window[0]][1] <= start:
            window.popleft()
        out.append(runs[window[0]][2])
    return out


def appointment_slots(
    starts: Sequence[int], duration: int, *, scheduled: Sequence[Run], available: Sequence[Run]
) -> list[tuple[int, int, int]]:
    """``(start, end, capacity)`` for each distinct start whose whole span is SCHEDULED (> 0).

    ``capacity`` is the minimum AVAILABLE over the span, floored at 0: a fully booked slot is still
    listed (with 0), a negative deficit is not shown as negative. Spans reaching beyond the runs'
    coverage are not listed. The result ascends by start.
    """
    if duration <= 0:
        raise ValueError("duration must be positive")
    if not scheduled:
        return []
    lo, hi = scheduled[0][0], scheduled[-1][1]
    # Instead of a minimum per span, test each span against the few runs with nothing scheduled
    # (nights, weekends): they are disjoint and sorted, so their ends are sorted too.
    # Starts ascend, so the first gap ending after a start only moves forward: one pointer walk.
    gaps = [(s, e) for s, e, v in scheduled if v <= 0]
    n_gaps, i = len(gaps), 0
    spans = []
    for s in sorted(set(starts)):
        e = s + duration
        if s < lo or e > hi:
            continue
        while i < n_gaps and gaps[i][1] <= s:
            i += 1
        if i == n_gaps or gaps[i][0] >= e:
            spans.append((s, e))
    out: list[tuple[int, int, int]] = []
    for (s, e), lowest_available in zip(spans, _sliding_minima(available, spans), strict=True):
        if lowest_available is not None:
            out.append((s, e, max(0, lowest_available)))
    return out
