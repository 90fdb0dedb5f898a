"""Capacity against demand (docs/design.md §7): capacity-minutes per store-local day, the slots a
store sells that are sold out or that no technician backs, and the demand still waiting.

Pure functions over the capacity engine's runs (domain/capacity.py) and plain records. A
store-local day is [local midnight, next local midnight): 23 or 25 hours on a DST day, and none at
all on a date a timezone skipped. The minute-by-minute oracles these are held to live in
tests/unit/domain/test_demand.py and tests/persistence/test_demand_sql.py.
"""

from __future__ import annotations

import operator
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from .analytics_query import GroupBy, period_of
from .capacity import Run, combine, sum_runs, to_minute
from .enums import JobStatus
from .resources import ReservationType
from .slots import appointment_slots

# The order of ``reserved`` in a CapacityDay (the model's enum order).
RESERVATION_TYPES: tuple[ReservationType, ...] = tuple(ReservationType)
RATIO_DIGITS = 4  # ratios are rounded once, from the sums, to basis points

# ---- store-local days --------------------------------------------------------------------------


# The minutes whose dates, and the dates a few days either side, the datetime module can still
# represent (as domain/recurrence.py keeps them): capacity is computed within them only, so a
# range at the calendar's first or last days is answered, with nothing scheduled out there.
COMPUTABLE = (to_minute(datetime(1, 1, 8, tzinfo=UTC)), to_minute(datetime(9999, 12, 24, tzinfo=UTC)))


def day_bounds(tz: ZoneInfo, first: date, last: date) -> list[int]:
    """The minute of each local midnight from ``first`` to the day after ``last``: day ``i`` is
    [bounds[i], bounds[i + 1]). A midnight inside a spring-forward gap is read as the end of the
    gap (fold=0), so every minute belongs to exactly the day of its local date. The calendar's
    last day, which has no day after it, is taken as 24 hours long."""
    n = (last - first).days + 1
    bounds = [to_minute(datetime.combine(first + timedelta(days=i), time(), tzinfo=tz)) for i in range(n)]
    after = last + timedelta(days=1) if last < date.max else None
    bounds.append(to_minute(datetime.combine(after, time(), tzinfo=tz)) if after else bounds[-1] + 1440)
    return bounds


@dataclass(frozen=True)
class DaySpan:
    """Consecutive local days of one length: day ``first_day + k`` is
    [start + k * length, start + (k + 1) * length). Plain integers, so SQL can place an instant in
    its store-local day without knowing about timezones (persistence/repositories/demand.py)."""

    start: int
    end: int
    first_day: date
    length: int


def within(span: DaySpan, lo: int, hi: int) -> DaySpan | None:
    """The whole days of ``span`` inside [lo, hi), or None."""
    days = (span.end - span.start) // span.length
    k0 = max(0, -(-(lo - span.start) // span.length))
    k1 = min(days, (hi - span.start) // span.length)
    if k1 <= k0:
        return None
    start = span.start + k0 * span.length
    return DaySpan(start, span.start + k1 * span.length, span.first_day + timedelta(days=k0), span.length)


def day_spans(bounds: Sequence[int], first: date) -> list[DaySpan]:
    """``bounds`` (from :func:`day_bounds`) as a few spans: a DST day is a span of its own, a
    skipped date none."""
    spans: list[DaySpan] = []
    for i in range(len(bounds) - 1):
        lo, hi = bounds[i], bounds[i + 1]
        if hi <= lo:
            continue
        day = first + timedelta(days=i)
        last = spans[-1] if spans else None
        # Merge only the next date: after a skipped date, counting on would name the wrong day.
        follows = last is not None and last.first_day + timedelta(days=(last.end - last.start) // last.length) == day
        if last is not None and follows and last.end == lo and last.length == hi - lo:
            spans[-1] = DaySpan(last.start, hi, last.first_day, last.length)
        else:
            spans.append(DaySpan(lo, hi, day, hi - lo))
    return spans


def day_sums(runs: Sequence[Run], bounds: Sequence[int]) -> list[int]:
    """Capacity-minutes (value x minutes) of ``runs`` in each day of ``bounds``; minutes the runs
    leave uncovered count 0. One walk: each run is split at the midnights it spans."""
    out = [0] * (len(bounds) - 1)
    if not out:
        return out
    lo, hi = bounds[0], bounds[-1]
    for s, e, v in runs:
        s, e = max(s, lo), min(e, hi)
        if not v or s >= e:
            continue
        d = bisect_right(bounds, s) - 1
        while s < e:
            stop = min(e, bounds[d + 1])
            out[d] += v * (stop - s)
            s, d = stop, d + 1
    return out


# ---- capacity-minutes of one resource ----------------------------------------------------------


@dataclass(frozen=True)
class ResourceRuns:
    """One resource's capacity over a window: SCHEDULED, RESERVED per type, and ENCUMBERED (what
    appointments take), each covering the window exactly."""

    scheduled: Sequence[Run]
    reserved: dict[ReservationType, Sequence[Run]]
    encumbered: Sequence[Run]

    @property
    def window(self) -> tuple[int, int]:
        return self.scheduled[0][0], self.scheduled[-1][1]

    @cached_property
    def reserved_total(self) -> Sequence[Run]:
        """RESERVED of every type together."""
        taken = [runs for runs in self.reserved.values() if any(v for _, _, v in runs)]
        if len(taken) == 1:
            return taken[0]
        total: Sequence[Run] = sum_runs((), window=self.window)
        for runs in taken:
            total = combine(total, runs, operator.add)
        return total

    @cached_property
    def free(self) -> Sequence[Run]:
        """SCHEDULED - RESERVED: what a technician's own schedule leaves for an assignment."""
        return combine(self.scheduled, self.reserved_total, operator.sub)

    @cached_property
    def available(self) -> Sequence[Run]:
        """AVAILABLE = SCHEDULED - RESERVED - ENCUMBERED (negative where bookings exceed it)."""
        return combine(self.free, self.encumbered, operator.sub)


@dataclass(frozen=True)
class CapacityDay:
    """The measures of one resource over one day (or a sum of days): capacity-minutes, the
    demand still waiting, and slot counts. Store-only measures are None on technician rows."""

    scheduled: int = 0
    reserved: tuple[int, ...] = field(default=(0,) * len(RESERVATION_TYPES))  # per RESERVATION_TYPES
    encumbered: int = 0
    available: int = 0
    unserved: int | None = None
    listed: int | None = None
    sold_out: int | None = None
    uncovered: int | None = None

    @property
    def reserved_total(self) -> int:
        return sum(self.reserved)

    @property
    def utilisation(self) -> float | None:
        """Booked over schedulable time: encumbered / (scheduled - reserved); None when nothing is
        schedulable. Above 1 where bookings exceed it (a schedule shrunk under them)."""
        return ratio(self.encumbered, self.scheduled - self.reserved_total)

    @property
    def committed(self) -> float | None:
        """Taken over working time: (encumbered + reserved) / scheduled; None when nothing is scheduled."""
        return ratio(self.encumbered + self.reserved_total, self.scheduled)

    def __add__(self, other: CapacityDay) -> CapacityDay:
        return CapacityDay(
            self.scheduled + other.scheduled,
            tuple(map(operator.add, self.reserved, other.reserved)),
            self.encumbered + other.encumbered,
            self.available + other.available,
            _add(self.unserved, other.unserved),
            _add(self.listed, other.listed),
            _add(self.sold_out, other.sold_out),
            _add(self.uncovered, other.uncovered),
        )


def ratio(part: int, whole: int) -> float | None:
    """``part / whole`` rounded to RATIO_DIGITS; None over an empty (or negative) whole."""
    return None if whole <= 0 else round(part / whole, RATIO_DIGITS)


def _add(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b


def capacity_days(runs: ResourceRuns, bounds: Sequence[int]) -> list[CapacityDay]:
    """Capacity-minutes of one resource in each day of ``bounds`` (store-only measures None)."""
    scheduled = day_sums(runs.scheduled, bounds)
    reserved = [day_sums(runs.reserved.get(kind, ()), bounds) for kind in RESERVATION_TYPES]
    encumbered = day_sums(runs.encumbered, bounds)
    available = day_sums(runs.available, bounds)
    return [
        CapacityDay(scheduled[i], tuple(r[i] for r in reserved), encumbered[i], available[i])
        for i in range(len(bounds) - 1)
    ]


# ---- slots -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotCount:
    """A day's slots of one offering: listed, listed with capacity 0, and listed with capacity
    but no qualified technician free over the whole slot."""

    listed: int = 0
    sold_out: int = 0
    uncovered: int = 0


def slot_counts(
    starts: Sequence[int],
    duration: int,
    bounds: Sequence[int],
    *,
    scheduled: Sequence[Run],
    available: Sequence[Run],
    technicians: Sequence[Sequence[Run]] | None,
) -> list[SlotCount]:
    """Per day of ``bounds``, the store's slots of ``duration`` on the grid ``starts``, listed as
    getAppointmentSlots lists them (SCHEDULED > 0 over the slot, capacity = the lowest AVAILABLE).

    ``technicians``: the free capacity (SCHEDULED - RESERVED) of each qualified technician with
    a schedule; a slot with capacity is covered when one of them has >= 1 at every minute of it.
    None means a qualified technician without a schedule exists: not capacity-managed, it can
    take any slot. A slot belongs to the day it starts in."""
    slots = appointment_slots(starts, duration, scheduled=scheduled, available=available)
    covered: set[int] | None = None
    if technicians is not None:
        open_starts = [s for s, _, c in slots if c >= 1]
        covered = set()
        for free in technicians:
            covered.update(_within(open_starts, duration, _free_spans(free)))
    listed = [0] * (len(bounds) - 1)
    sold_out = [0] * (len(bounds) - 1)
    uncovered = [0] * (len(bounds) - 1)
    for s, _, capacity in slots:
        d = bisect_right(bounds, s) - 1
        if not 0 <= d < len(listed):
            continue
        listed[d] += 1
        if capacity == 0:
            sold_out[d] += 1
        elif covered is not None and s not in covered:
            uncovered[d] += 1
    return [SlotCount(*counts) for counts in zip(listed, sold_out, uncovered, strict=True)]


def _free_spans(runs: Sequence[Run]) -> list[tuple[int, int]]:
    """The maximal spans where ``runs`` are at least 1, sorted and disjoint."""
    spans: list[tuple[int, int]] = []
    for s, e, v in runs:
        if v < 1:
            continue
        if spans and spans[-1][1] == s:
            spans[-1] = (spans[-1][0], e)
        else:
            spans.append((s, e))
    return spans


def _within(starts: Sequence[int], duration: int, spans: Sequence[tuple[int, int]]) -> Iterator[int]:
    """The ascending ``starts`` whose [start, start + duration) lies inside one of ``spans``: one walk."""
    i, n = 0, len(spans)
    for s in starts:
        while i < n and spans[i][1] <= s:
            i += 1
        if i < n and spans[i][0] <= s and s + duration <= spans[i][1]:
            yield s


def with_slots(
    days: Sequence[CapacityDay], counts: Iterable[Sequence[SlotCount]], unserved: Sequence[int]
) -> list[CapacityDay]:
    """Store days completed with their waiting demand and the slot counts of every offering."""
    totals = [SlotCount() for _ in days]
    for per_offering in counts:
        totals = [
            SlotCount(a.listed + b.listed, a.sold_out + b.sold_out, a.uncovered + b.uncovered)
            for a, b in zip(totals, per_offering, strict=True)
        ]
    return [
        CapacityDay(d.scheduled, d.reserved, d.encumbered, d.available, u, c.listed, c.sold_out, c.uncovered)
        for d, c, u in zip(days, totals, unserved, strict=True)
    ]


# ---- periods -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Days summed into one row: the label (None for the whole range), its first and last day."""

    label: str | None
    first: date
    last: date
    measures: CapacityDay


def periods(first: date, days: Sequence[CapacityDay], group_by: GroupBy) -> list[Period]:
    """Consecutive days (the first is ``first``) summed per day, ISO week, month or the whole
    range; ratios of a period are recomputed from its sums (a ratio of sums, not a mean of ratios)."""
    out: list[Period] = []
    for i, measures in enumerate(days):
        day = first + timedelta(days=i)
        label = period_of(day, group_by)
        if out and out[-1].label == label:
            last = out[-1]
            out[-1] = Period(label, last.first, day, last.measures + measures)
        else:
            out.append(Period(label, day, day, measures))
    return out


# ---- demand ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemandJob:
    """A job as unserved demand sees it: its store, when it was created, the buyer's first
    preferred start, the offering's minutes, and its status changes ``(at, status)`` in the order they were recorded."""

    store_id: str
    created_at: datetime
    preferred_start: datetime | None
    minutes: int
    events: tuple[tuple[datetime, JobStatus], ...]


def unserved_demand(
    jobs: Iterable[DemandJob], *, timezones: dict[str, ZoneInfo], first: date, last: date, now: datetime
) -> dict[tuple[str, date], int]:
    """The reference definition (the SQL aggregate in persistence is held to it): a job is
    unserved demand of the store-local day of its preferred start (else of its creation) when its
    status at that day's end — or now, if the day has not ended — is PENDING_SCHEDULE. Minutes are
    the offering's duration. Days outside [first, last] and jobs of other stores are left out."""
    out: dict[tuple[str, date], int] = {}
    for job in jobs:
        tz = timezones.get(job.store_id)
        if tz is None:
            continue
        wanted = (job.preferred_start or job.created_at).astimezone(tz).date()
        if not first <= wanted <= last:
            continue
        day_end = datetime.combine(wanted + timedelta(days=1), time(), tzinfo=tz)
        status = None
        for at, changed_to in sorted(job.events, key=operator.itemgetter(0)):  # stable: ties keep their order
            if at < day_end and at <= now:
                status = changed_to
        if status is JobStatus.PENDING_SCHEDULE:
            out[job.store_id, wanted] = out.get((job.store_id, wanted), 0) + job.minutes
    return out
