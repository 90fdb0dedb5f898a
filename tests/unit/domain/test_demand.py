"""Capacity against demand (domain/demand.py): hand-made days with known answers, and the fast
functions held by hypothesis to a brute-force oracle that looks at every minute."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sp_services.domain.analytics_query import GroupBy
from sp_services.domain.capacity import Run, from_minute, scheduled_runs, sum_runs, to_minute
from sp_services.domain.demand import (
    CapacityDay,
    DaySpan,
    DemandJob,
    ResourceRuns,
    SlotCount,
    capacity_days,
    day_bounds,
    day_spans,
    day_sums,
    periods,
    ratio,
    slot_counts,
    unserved_demand,
    within,
)
from sp_services.domain.enums import JobStatus
from sp_services.domain.recurrence import Availability, Recurrence
from sp_services.domain.resources import ReservationType
from sp_services.domain.slots import grid_starts

NY = ZoneInfo("America/New_York")
ZONES = [
    NY,
    ZoneInfo("UTC"),
    ZoneInfo("Europe/London"),
    ZoneInfo("Australia/Lord_Howe"),  # 30-minute DST
    ZoneInfo("America/Havana"),  # clocks change at midnight: a day starts at 01:00
    ZoneInfo("Pacific/Apia"),  # skipped 2011-12-30 entirely
    ZoneInfo("Asia/Kolkata"),
]
# Days around which some of ZONES change their clocks.
EDGES = [
    date(2026, 3, 8),
    date(2026, 11, 1),
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2026, 4, 5),
    date(2011, 12, 30),
]


def _ny(month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return to_minute(datetime(2026, month, day, hour, minute, tzinfo=NY))


def _flat(window: tuple[int, int], value: int = 0) -> list[Run]:
    return sum_runs([(window[0], window[1], value)], window=window)


def _runs(window: tuple[int, int], *pieces: tuple[int, int, int]) -> list[Run]:
    return sum_runs(pieces, window=window)


# ---- the oracle: every minute, its local date read from the clock ------------------------------


def _local_date(m: int, tz: ZoneInfo) -> date:
    return from_minute(m).astimezone(tz).date()


def _values(runs: list[Run]) -> dict[int, int]:
    return {m: v for s, e, v in runs for m in range(s, e)}


def _oracle_day_sums(runs: list[Run], tz: ZoneInfo, first: date, days: int) -> list[int]:
    totals = {first + timedelta(days=i): 0 for i in range(days)}
    for m, v in _values(runs).items():
        d = _local_date(m, tz)
        if d in totals:
            totals[d] += v
    return list(totals.values())


def _oracle_slots(
    tz: ZoneInfo,
    first: date,
    days: int,
    step: int,
    duration: int,
    scheduled: list[Run],
    available: list[Run],
    technicians: list[list[Run]] | None,
) -> list[SlotCount]:
    """A slot starts at every minute whose local wall time is on the grid (the first of a repeated
    wall time), is listed when every minute of it is scheduled, and is sold out, covered or not
    by looking at every minute again."""
    sched, avail = _values(scheduled), _values(available)
    free = [_values(f) for f in technicians] if technicians is not None else None
    counts = {first + timedelta(days=i): [0, 0, 0] for i in range(days)}
    for m in sorted(sched):
        local = from_minute(m).astimezone(tz)
        if local.fold or (local.hour * 60 + local.minute) % step or local.date() not in counts:
            continue
        span = range(m, m + duration)
        if not all(sched.get(x, 0) > 0 for x in span):
            continue
        count = counts[local.date()]
        count[0] += 1
        if max(0, min(avail[x] for x in span)) == 0:
            count[1] += 1
        elif free is not None and not any(all(f[x] >= 1 for x in span) for f in free):
            count[2] += 1
    return [SlotCount(*c) for c in counts.values()]


@st.composite
def local_days(draw: st.DrawFn) -> tuple[ZoneInfo, date, int]:
    tz = draw(st.sampled_from(ZONES))
    first = draw(st.sampled_from(EDGES)) + timedelta(days=draw(st.integers(-2, 1)))
    n = draw(st.integers(1, 3))
    bounds = day_bounds(tz, first, first + timedelta(days=n - 1))
    assume(bounds[-1] > bounds[0])  # not only a date the zone skipped
    return tz, first, n


@st.composite
def runs_over(draw: st.DrawFn, window: tuple[int, int], values: st.SearchStrategy[int]) -> list[Run]:
    lo, hi = window
    cuts = sorted(draw(st.sets(st.integers(lo + 1, hi - 1), max_size=10)))
    return [(s, e, draw(values)) for s, e in pairwise([lo, *cuts, hi])]


# ---- store-local days --------------------------------------------------------------------------


def test_a_dst_day_has_23_or_25_hours() -> None:
    spring = day_bounds(NY, date(2026, 3, 7), date(2026, 3, 9))
    autumn = day_bounds(NY, date(2026, 10, 31), date(2026, 11, 2))
    assert [b - a for a, b in pairwise(spring)] == [1440, 1380, 1440]
    assert [b - a for a, b in pairwise(autumn)] == [1440, 1500, 1440]
    assert spring[1] == to_minute(datetime(2026, 3, 8, 5, tzinfo=UTC))  # midnight EST


def test_a_skipped_date_has_no_minutes_and_no_span() -> None:
    apia = ZoneInfo("Pacific/Apia")
    bounds = day_bounds(apia, date(2011, 12, 29), date(2011, 12, 31))
    assert [b - a for a, b in pairwise(bounds)] == [1440, 0, 1440]
    assert [(s.first_day, s.length, (s.end - s.start) // s.length) for s in day_spans(bounds, date(2011, 12, 29))] == [
        (date(2011, 12, 29), 1440, 1),
        (date(2011, 12, 31), 1440, 1),
    ]


def test_the_calendars_last_day_is_24_hours_and_spans_keep_whole_days_within_limits() -> None:
    bounds = day_bounds(NY, date(9999, 12, 30), date(9999, 12, 31))
    assert [b - a for a, b in pairwise(bounds)] == [1440, 1440]
    (span,) = day_spans(day_bounds(NY, date(2026, 1, 5), date(2026, 1, 9)), date(2026, 1, 5))
    assert within(span, _ny(1, 6, 12), _ny(1, 9, 1)) == DaySpan(_ny(1, 7), _ny(1, 9), date(2026, 1, 7), 1440)
    assert within(span, _ny(1, 6), _ny(1, 7)) == DaySpan(_ny(1, 6), _ny(1, 7), date(2026, 1, 6), 1440)
    assert within(span, _ny(1, 6, 1), _ny(1, 7, 1)) is None


def test_day_spans_keep_regular_days_together() -> None:
    bounds = day_bounds(NY, date(2026, 3, 1), date(2026, 3, 31))
    spans = day_spans(bounds, date(2026, 3, 1))
    assert [(s.first_day, s.length, (s.end - s.start) // s.length) for s in spans] == [
        (date(2026, 3, 1), 1440, 7),
        (date(2026, 3, 8), 1380, 1),
        (date(2026, 3, 9), 1440, 23),
    ]


@settings(max_examples=150, deadline=None)
@given(local_days(), st.data())
def test_day_spans_place_every_minute_in_its_local_day(days: tuple[ZoneInfo, date, int], data: st.DataObject) -> None:
    tz, first, n = days
    bounds = day_bounds(tz, first, first + timedelta(days=n - 1))
    spans = day_spans(bounds, first)
    m = data.draw(st.integers(bounds[0], bounds[-1] - 1))
    (span,) = [s for s in spans if s.start <= m < s.end]
    k = (m - span.start) // span.length
    assert span.first_day + timedelta(days=k) == _local_date(m, tz)
    end = span.start + (k + 1) * span.length
    assert _local_date(end - 1, tz) == _local_date(m, tz) != _local_date(end, tz)


@settings(max_examples=150, deadline=None)
@given(local_days(), st.data())
def test_day_sums_match_oracle(days: tuple[ZoneInfo, date, int], data: st.DataObject) -> None:
    tz, first, n = days
    bounds = day_bounds(tz, first, first + timedelta(days=n - 1))
    window = (bounds[0] - data.draw(st.integers(0, 120)), bounds[-1] + data.draw(st.integers(0, 120)))
    runs = data.draw(runs_over(window, st.integers(-2, 5)))
    assert day_sums(runs, bounds) == _oracle_day_sums(runs, tz, first, n)


# ---- capacity-minutes --------------------------------------------------------------------------


def _daily(hour: int, until: int, capacity: int, first: datetime, last: datetime) -> Availability:
    start = first.replace(hour=hour)
    return Availability(start, start.replace(hour=until), capacity, Recurrence(last))


def test_a_recurring_working_day_keeps_its_hours_across_dst_and_a_whole_day_has_23() -> None:
    window = (_ny(3, 7), _ny(3, 10))
    working = _daily(9, 17, 2, datetime(2026, 3, 7, tzinfo=NY), datetime(2026, 3, 9, 23, tzinfo=NY))
    whole_day = Availability(datetime(2026, 3, 8, tzinfo=NY), datetime(2026, 3, 9, tzinfo=NY), 1)
    bounds = day_bounds(NY, date(2026, 3, 7), date(2026, 3, 9))
    flat = _flat(window)
    days = capacity_days(ResourceRuns(scheduled_runs([working], tz=NY, window=window), {}, flat), bounds)
    assert [d.scheduled for d in days] == [960, 960, 960]
    # The later record wins over its span: the whole 23-hour day at capacity 1.
    days = capacity_days(ResourceRuns(scheduled_runs([working, whole_day], tz=NY, window=window), {}, flat), bounds)
    assert [d.scheduled for d in days] == [960, 1380, 960]
    assert [d.utilisation for d in days] == [0.0, 0.0, 0.0]


def test_a_day_with_a_break_and_a_vacation() -> None:
    window = (_ny(1, 6), _ny(1, 7))
    runs = ResourceRuns(
        scheduled=_runs(window, (_ny(1, 6, 9), _ny(1, 6, 17), 2)),
        reserved={
            ReservationType.BREAK: _runs(window, (_ny(1, 6, 12), _ny(1, 6, 12, 15), 1)),
            ReservationType.VACATION: _runs(window, (_ny(1, 6, 13), _ny(1, 6, 17), 1)),
        },
        encumbered=_runs(window, (_ny(1, 6, 9), _ny(1, 6, 10), 1), (_ny(1, 6, 10), _ny(1, 6, 11), 1)),
    )
    (day,) = capacity_days(runs, day_bounds(NY, date(2026, 1, 6), date(2026, 1, 6)))
    assert day == CapacityDay(scheduled=960, reserved=(0, 0, 240, 15, 0), encumbered=120, available=585)
    assert (day.reserved_total, day.utilisation, day.committed) == (255, 0.1702, 0.3906)  # 120/705, 375/960


def test_nothing_scheduled_has_no_utilisation_and_no_commitment() -> None:
    window = (_ny(1, 6), _ny(1, 7))
    (day,) = capacity_days(
        ResourceRuns(_flat(window), {}, _flat(window)), day_bounds(NY, date(2026, 1, 6), date(2026, 1, 6))
    )
    assert (day.scheduled, day.utilisation, day.committed) == (0, None, None)
    fully_reserved = CapacityDay(scheduled=60, reserved=(0, 0, 60, 0, 0))
    assert (fully_reserved.utilisation, fully_reserved.committed) == (None, 1.0)
    assert ratio(1, 0) is None and ratio(1, -5) is None and ratio(0, 7) == 0.0
    assert CapacityDay(scheduled=60, encumbered=90).utilisation == 1.5  # bookings kept over a shrunk schedule


# ---- slots -------------------------------------------------------------------------------------


def _morning() -> tuple[list[int], list[Run], list[Run], list[int]]:
    """A New York store open 09:00-12:00 at capacity 1 with the 10:00 hour booked."""
    bounds = day_bounds(NY, date(2026, 1, 6), date(2026, 1, 6))
    window = (bounds[0], bounds[1] + 60)
    scheduled = _runs(window, (_ny(1, 6, 9), _ny(1, 6, 12), 1))
    available = _runs(window, (_ny(1, 6, 9), _ny(1, 6, 12), 1), (_ny(1, 6, 10), _ny(1, 6, 11), -1))
    return bounds, scheduled, available, grid_starts((bounds[0], bounds[1]), tz=NY, step_minutes=60)


def test_a_sold_out_slot_and_a_slot_no_technician_can_cover() -> None:
    bounds, scheduled, available, starts = _morning()
    window = (bounds[0], bounds[1] + 60)
    technician = _runs(window, (_ny(1, 6, 9), _ny(1, 6, 10, 30), 1))  # free 09:00-10:30 only

    def counts(technicians: list[list[Run]] | None) -> list[SlotCount]:
        return slot_counts(starts, 60, bounds, scheduled=scheduled, available=available, technicians=technicians)

    # Slots 09:00, 10:00 (sold out) and 11:00, which the technician's shift does not reach.
    assert counts([technician]) == [SlotCount(listed=3, sold_out=1, uncovered=1)]
    assert counts([]) == [SlotCount(listed=3, sold_out=1, uncovered=2)]  # nobody qualified
    assert counts(None) == [SlotCount(listed=3, sold_out=1, uncovered=0)]  # someone without a schedule
    two_hours = slot_counts(starts, 120, bounds, scheduled=scheduled, available=available, technicians=[technician])
    assert two_hours == [SlotCount(listed=2, sold_out=2, uncovered=0)]  # 09:00 and 10:00 both hold 10:00


@settings(max_examples=150, deadline=None)
@given(local_days(), st.sampled_from([30, 45, 60, 90]), st.sampled_from([30, 60, 120]), st.data())
def test_slot_counts_match_oracle(
    days: tuple[ZoneInfo, date, int], step: int, duration: int, data: st.DataObject
) -> None:
    tz, first, n = days
    bounds = day_bounds(tz, first, first + timedelta(days=n - 1))
    window = (bounds[0] - data.draw(st.integers(0, 60)), bounds[-1] + data.draw(st.integers(0, 180)))
    scheduled = data.draw(runs_over(window, st.integers(0, 3)))
    available = data.draw(runs_over(window, st.integers(-1, 2)))
    technicians = data.draw(st.none() | st.lists(runs_over(window, st.integers(0, 2)), max_size=3))
    starts = grid_starts((bounds[0], bounds[-1]), tz=tz, step_minutes=step)
    fast = slot_counts(starts, duration, bounds, scheduled=scheduled, available=available, technicians=technicians)
    assert fast == _oracle_slots(tz, first, n, step, duration, scheduled, available, technicians)


# ---- periods: ratios of sums -------------------------------------------------------------------


def test_weeks_sum_days_and_recompute_ratios_from_the_sums() -> None:
    busy = CapacityDay(scheduled=60, encumbered=60, available=0)
    idle = CapacityDay(scheduled=540, available=540)
    monday = date(2026, 1, 5)
    weeks = periods(monday, [busy, *[idle] * 6, idle], GroupBy.WEEK)
    assert [(p.label, p.first, p.last) for p in weeks] == [
        ("2026-W02", monday, date(2026, 1, 11)),
        ("2026-W03", date(2026, 1, 12), date(2026, 1, 12)),
    ]
    assert (weeks[0].measures.scheduled, weeks[0].measures.encumbered) == (3300, 60)
    assert weeks[0].measures.utilisation == 0.0182  # 60/3300, not the mean of the days' 1.0 and 0s
    (whole,) = periods(monday, [busy, idle], GroupBy.NONE)
    assert (whole.label, whole.first, whole.last, whole.measures.utilisation) == (None, monday, date(2026, 1, 6), 0.1)


def test_store_only_measures_stay_none_when_summed_for_a_technician() -> None:
    total = CapacityDay(scheduled=1) + CapacityDay(scheduled=2)
    assert (total.scheduled, total.unserved, total.sold_out) == (3, None, None)
    store = CapacityDay(unserved=5, listed=2, sold_out=1, uncovered=0) + CapacityDay(
        unserved=1, listed=3, sold_out=0, uncovered=2
    )
    assert (store.unserved, store.listed, store.sold_out, store.uncovered) == (6, 5, 1, 2)


# ---- unserved demand: the reference definition -------------------------------------------------


def _at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NY)


def _job(created: datetime, *later: tuple[datetime, JobStatus], preferred: datetime | None = None) -> DemandJob:
    return DemandJob("S", created, preferred, 60, ((created, JobStatus.PENDING_SCHEDULE), *later))


def test_unserved_demand_is_what_still_waited_at_the_end_of_its_day() -> None:
    booked, cancelled = JobStatus.NOT_SERVICED, JobStatus.CANCELLED
    jobs = [
        _job(_at(3, 1), preferred=_at(3, 8, 10)),  # wanted the 8th, still waiting: counts
        _job(_at(3, 8, 9), (_at(3, 8, 15), booked)),  # created the 8th, booked that day
        _job(_at(3, 8, 9), (_at(3, 9, 0, 30), booked)),  # booked only after midnight: counts
        _job(_at(3, 8, 22), (_at(3, 8, 23, 30), booked)),  # booked 23:30 on the 23-hour day
        _job(_at(3, 8, 9), (_at(3, 8, 12), cancelled)),
        _job(_at(3, 8, 9), preferred=_at(3, 9, 10)),  # wants another day
        _job(_at(3, 8, 9), (_at(3, 8, 10), JobStatus.HOLD), (_at(3, 8, 11), JobStatus.PENDING_SCHEDULE)),  # counts
    ]
    found = unserved_demand(jobs, timezones={"S": NY}, first=date(2026, 3, 8), last=date(2026, 3, 8), now=_at(3, 20))
    assert found == {("S", date(2026, 3, 8)): 180}


def test_a_day_not_over_yet_counts_what_waits_now() -> None:
    now = _at(3, 8, 12)
    jobs = [
        _job(_at(3, 8, 9), preferred=_at(3, 10, 9)),
        _job(_at(3, 8, 9), (_at(3, 8, 13), JobStatus.NOT_SERVICED), preferred=_at(3, 10, 11)),  # not yet
        _job(_at(3, 8, 13), preferred=_at(3, 10, 12)),  # created after now: no demand yet
    ]
    found = unserved_demand(jobs, timezones={"S": NY}, first=date(2026, 3, 8), last=date(2026, 3, 12), now=now)
    assert found == {("S", date(2026, 3, 10)): 120}
    assert unserved_demand(jobs, timezones={}, first=date(2026, 3, 8), last=date(2026, 3, 12), now=now) == {}


def test_the_local_day_of_an_instant_is_the_stores() -> None:
    late = datetime.combine(date(2026, 3, 9), time(2, 30), tzinfo=UTC)  # 21:30 on the 8th in New York
    found = unserved_demand(
        [DemandJob("S", late, None, 45, ((late, JobStatus.PENDING_SCHEDULE),))],
        timezones={"S": NY},
        first=date(2026, 3, 8),
        last=date(2026, 3, 9),
        now=_at(3, 20),
    )
    assert found == {("S", date(2026, 3, 8)): 45}
