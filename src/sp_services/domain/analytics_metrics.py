"""What the post-fulfillment analytics are asked (a :class:`Slice`) and answer (metrics), and the
arithmetic every figure ends in (docs/design.md §6): tallies (integer counts, sums and order
statistics) turned into metrics, percentiles, rounding and money.

Shared by the oracle (domain/analytics.py) and the SQL aggregates
(persistence/repositories/analytics.py): once their tallies agree, so does every digit shown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from .analytics_query import GroupBy, period_of
from .reason_codes import Cause, cause_of

RATIO_DIGITS = 4  # rates and adherence, rounded once from the counts (basis points)
TIME_DIGITS = 2  # minutes and hours
MAX_AMOUNT = 10**9  # larger payment amounts are not money this system takes (and would overflow sums)
MEDIAN = (1, 2)  # percentiles as fractions (numerator, denominator)
P90 = (9, 10)

K = TypeVar("K")
V = TypeVar("V")

# The defaults of docs/design.md §6 (industry practice: 30 minutes before to 15 after). Stores carry
# no settings for them yet, so every store uses these.
EARLY_TOLERANCE = timedelta(minutes=30)
LATE_GRACE = timedelta(minutes=15)
NO_SHOW_THRESHOLD = timedelta(hours=24)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Tolerances:
    """When a start is early or late, and how long an unserved appointment waits to be a no-show."""

    early: timedelta = EARLY_TOLERANCE
    grace: timedelta = LATE_GRACE
    no_show: timedelta = NO_SHOW_THRESHOLD

    def seconds(self) -> tuple[int, int, int]:
        """(early, grace, no-show) in whole seconds."""
        return (
            self.early // timedelta(seconds=1),
            self.grace // timedelta(seconds=1),
            self.no_show // timedelta(seconds=1),
        )


DEFAULT_TOLERANCES = Tolerances()


def to_second(instant: datetime) -> int:
    """Whole seconds since the Unix epoch, floored (``persistence/sql.py: epoch_second``)."""
    return (instant - EPOCH) // timedelta(seconds=1)


@dataclass(frozen=True)
class Slice:
    """What is asked: store-local days [start, end], grouped; the stores (with their IANA
    timezones) and the technicians the rows are about."""

    start: date
    end: date
    group_by: GroupBy
    zones: tuple[tuple[str, str], ...]  # (store id, timezone)
    technician_ids: tuple[str, ...] = ()

    @property
    def store_ids(self) -> tuple[str, ...]:
        return tuple(store for store, _ in self.zones)


@dataclass(frozen=True)
class Period:
    """One row's days: its label (None when not grouped) and its first and last day in the range."""

    label: str | None
    first: date
    last: date


# Where offsets are looked up: zoneinfo's rules reach from 1900 to 9990 comfortably.
_FIRST_S = to_second(datetime(1900, 1, 1, tzinfo=UTC))
_LAST_S = to_second(datetime(9990, 1, 1, tzinfo=UTC))
_SAMPLE_S = 6 * 3600  # no timezone changes its offset twice within six hours


def utc_offsets(zone: str, lo: int, hi: int) -> list[tuple[int, int]]:
    """A timezone's UTC offset over [lo, hi) (epoch seconds) as a step function: ``[(from, offset)]``,
    the first from ``lo``, each change at the exact second it takes effect. What SQL adds to an
    instant to find its store-local day, exactly across DST (docs/design.md §6)."""
    tz = ZoneInfo(zone)

    def offset(second: int) -> int:
        instant = EPOCH + timedelta(seconds=min(max(second, _FIRST_S), _LAST_S))
        delta = instant.astimezone(tz).utcoffset()
        return 0 if delta is None else delta // timedelta(seconds=1)

    steps = [(lo, offset(lo))]
    s = max(lo, _FIRST_S)
    while s < min(hi, _LAST_S):
        step = min(s + _SAMPLE_S, hi, _LAST_S)
        if offset(step) != steps[-1][1]:
            before, after = s, step  # bisect to the first second of the new offset
            while after - before > 1:
                middle = (before + after) // 2
                before, after = (middle, after) if offset(middle) == steps[-1][1] else (before, middle)
            steps.append((after, offset(after)))
        s = step
    return steps


def period_spans(start: date, end: date, group_by: GroupBy) -> list[Period]:
    """The periods of [start, end], in order, each clipped to the range."""
    out: list[Period] = []
    for ordinal in range(start.toordinal(), end.toordinal() + 1):  # no date past 9999-12-31 is made
        day = date.fromordinal(ordinal)
        label = period_of(day, group_by)
        if out and out[-1].label == label:
            out[-1] = Period(label, out[-1].first, day)
        else:
            out.append(Period(label, day, day))
    return out


def labels(sl: Slice) -> list[str | None]:
    """The slice's period labels, in order (one None when not grouped)."""
    return [p.label for p in period_spans(sl.start, sl.end, sl.group_by)]


# ---- order statistics -----------------------------------------------------------------------


@dataclass(frozen=True)
class Picks:
    """The two neighbouring order statistics a percentile lies between (whole seconds)."""

    low: int
    high: int


def ranks(n: int, q: tuple[int, int]) -> tuple[int, int, Fraction]:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont): the 0-based ranks
    of the two values the ``q`` percentile of ``n`` sorted values lies between, and how far."""
    h, rest = divmod((n - 1) * q[0], q[1])
    return h, h + (1 if rest else 0), Fraction(rest, q[1])


def picks(ordered: Sequence[int], q: tuple[int, int]) -> Picks | None:
    """The two order statistics of sorted ``ordered`` that its ``q`` percentile interpolates."""
    if not ordered:
        return None
    lo, hi, _ = ranks(len(ordered), q)
    return Picks(ordered[lo], ordered[hi])


def interpolate(p: Picks | None, n: int, q: tuple[int, int]) -> float | None:
    """The ``q`` percentile of ``n`` values, from its two picks; None for no values."""
    if p is None or n == 0:
        return None
    return p.low + (p.high - p.low) * float(ranks(n, q)[2])


def ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator to RATIO_DIGITS places; None over an empty set (never 0 % or 100 %)."""
    return None if denominator <= 0 else round(numerator / denominator, RATIO_DIGITS)


def per(total_s: int, n: int, unit_s: int) -> float | None:
    """The mean of ``n`` durations summing to ``total_s`` seconds, in units of ``unit_s``."""
    return None if n <= 0 else round(total_s / n / unit_s, TIME_DIGITS)


# ---- money ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    currency: str
    value: Decimal


def cents(value: Any) -> int | None:
    """A payment's ``amount.value`` in cents, or None when it is no amount: not a JSON number,
    not finite, or beyond ±MAX_AMOUNT. Half a cent rounds up (after rounding away binary noise)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or abs(value) > MAX_AMOUNT:
        return None
    return math.floor(round(value * 100, 6) + 0.5)


def to_money(amount_cents: Fraction | int) -> Decimal:
    """Cents (maybe a fraction of one, from an even split) as a value to the cent, half to even."""
    return Decimal(round(Fraction(amount_cents))) / 100


def money(by_currency: Mapping[str, Fraction | int]) -> tuple[Money, ...]:
    """One amount per currency, by currency code."""
    return tuple(Money(c, to_money(v)) for c, v in sorted(by_currency.items()))


# ---- service metrics ------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceTally:
    """What some appointments (whose window has ended) and completed jobs add up to."""

    served: int = 0
    early: int = 0
    late: int = 0
    within: int = 0  # served and ended within the window (plus grace)
    worked_s: int = 0  # fulfillment end - start, over served appointments with both recorded
    planned_s: int = 0  # their planned durations
    technician_no_shows: int = 0
    buyer_no_shows: int = 0
    breaks: int = 0
    median: Picks | None = None  # of the late starts' lateness
    p90: Picks | None = None
    completed: int = 0
    first_visits: int = 0
    revenue: tuple[Money, ...] = ()


@dataclass(frozen=True)
class ServiceMetrics:
    appointments_served: int
    on_time_start_rate: float | None
    early_starts: int
    late_starts: int
    lateness_minutes_median: float | None
    lateness_minutes_p90: float | None
    completed_within_window_rate: float | None
    duration_adherence: float | None
    technician_no_shows: int
    buyer_no_shows: int
    fulfillment_breaks: int
    jobs_completed: int
    first_visit_completion_rate: float | None
    revenue: tuple[Money, ...]


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, TIME_DIGITS)


def service_metrics(t: ServiceTally) -> ServiceMetrics:
    """The metrics of a tally: rates over served appointments, lateness over late starts."""
    return ServiceMetrics(
        appointments_served=t.served,
        on_time_start_rate=ratio(t.served - t.early - t.late, t.served),
        early_starts=t.early,
        late_starts=t.late,
        lateness_minutes_median=_minutes(interpolate(t.median, t.late, MEDIAN)),
        lateness_minutes_p90=_minutes(interpolate(t.p90, t.late, P90)),
        completed_within_window_rate=ratio(t.within, t.served),
        duration_adherence=ratio(t.worked_s, t.planned_s),
        technician_no_shows=t.technician_no_shows,
        buyer_no_shows=t.buyer_no_shows,
        fulfillment_breaks=t.breaks,
        jobs_completed=t.completed,
        first_visit_completion_rate=ratio(t.first_visits, t.completed),
        revenue=t.revenue,
    )


# ---- store metrics --------------------------------------------------------------------------


@dataclass(frozen=True)
class CancelTally:
    """Cancelled jobs by reason code (sorted)."""

    by_code: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class StoreTally:
    service: ServiceTally = ServiceTally()
    appointments: int = 0  # whose window has ended
    lead_s: int = 0  # their booked → start, summed
    scheduled_jobs: int = 0  # jobs first booked in the period
    schedule_s: int = 0  # their created → first booked, summed
    created: int = 0
    cancelled: CancelTally = CancelTally()


@dataclass(frozen=True)
class StoreMetrics:
    service: ServiceMetrics
    mean_time_to_schedule_hours: float | None
    mean_lead_time_hours: float | None
    jobs_created: int
    jobs_cancelled: int
    cancelled_by_cause: tuple[tuple[Cause, int], ...]  # every cause, in Cause's order


def store_metrics(t: StoreTally) -> StoreMetrics:
    causes = dict.fromkeys(Cause, 0)
    for code, n in t.cancelled.by_code:
        cause = cause_of(code)
        if cause is not None:
            causes[cause] += n
    return StoreMetrics(
        service=service_metrics(t.service),
        mean_time_to_schedule_hours=per(t.schedule_s, t.scheduled_jobs, 3600),
        mean_lead_time_hours=per(t.lead_s, t.appointments, 3600),
        jobs_created=t.created,
        jobs_cancelled=sum(n for _, n in t.cancelled.by_code),
        cancelled_by_cause=tuple(causes.items()),
    )


# ---- payments -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TechnicianShare:
    technician_id: str
    gross: Decimal
    jobs_paid: int


@dataclass(frozen=True)
class PaymentMetrics:
    currency: str
    gross: Decimal
    cancelled_value: Decimal
    jobs_paid: int
    technicians: tuple[TechnicianShare, ...] = ()


def dense(keys: Sequence[K], found: Mapping[K, V], empty: V) -> dict[K, V]:
    """Every key, in order: what was found, else ``empty`` (a row for each period and subject)."""
    return {k: found.get(k, empty) for k in keys}
