"""Expanding availability records into minute intervals (domain/recurrence.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sp_services.domain.recurrence import (
    Availability,
    Recurrence,
    from_minute,
    local_minute,
    occurrences,
    to_minute,
)

UTC_ZONE = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")
DENVER = ZoneInfo("America/Denver")
EVERYTHING = (-(10**9), 10**9)
MON_TO_FRI = frozenset(range(5))


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def _m(*args: int) -> int:
    """Minute of a UTC date-time."""
    return to_minute(_utc(*args))


def _local(m: int, tz: ZoneInfo) -> datetime:
    return from_minute(m).astimezone(tz)


def _start_dates(found: list[tuple[int, int]], tz: ZoneInfo) -> list[date]:
    return [_local(s, tz).date() for s, _ in found]


# ---- single records ----------------------------------------------------------------------------


def test_single_record_is_one_interval_floored_to_minutes() -> None:
    record = Availability(_utc(2026, 1, 5, 9, 0, 30), _utc(2026, 1, 5, 10, 0, 59), 3)
    assert occurrences(record, tz=NEW_YORK, window=EVERYTHING) == [(_m(2026, 1, 5, 9), _m(2026, 1, 5, 10))]


def test_single_record_window_is_half_open_and_result_not_clipped() -> None:
    record = Availability(_utc(2026, 1, 5, 9), _utc(2026, 1, 5, 10))
    s, e = _m(2026, 1, 5, 9), _m(2026, 1, 5, 10)
    assert occurrences(record, tz=UTC_ZONE, window=(s + 10, s + 20)) == [(s, e)]
    assert occurrences(record, tz=UTC_ZONE, window=(e - 1, e + 100)) == [(s, e)]
    assert occurrences(record, tz=UTC_ZONE, window=(e, e + 100)) == []
    assert occurrences(record, tz=UTC_ZONE, window=(s - 100, s)) == []


def test_record_shorter_than_a_minute_covers_nothing() -> None:
    record = Availability(_utc(2026, 1, 5, 9, 0, 10), _utc(2026, 1, 5, 9, 0, 50))
    assert occurrences(record, tz=UTC_ZONE, window=EVERYTHING) == []


# ---- recurrence rules --------------------------------------------------------------------------


def _daily(
    start: datetime,
    end: datetime,
    until: datetime,
    *,
    dow: frozenset[int] = frozenset(),
    dom: frozenset[int] = frozenset(),
) -> Availability:
    """A recurring record; an ``until`` at midnight means "through that day" (its last minute)."""
    if until.timetz().replace(tzinfo=None) == datetime.min.time():
        until += timedelta(days=1, minutes=-1)
    return Availability(start, end, 1, Recurrence(until, dow, dom))


def test_days_of_week() -> None:
    # 2026-01-05 is a Monday.
    record = _daily(_utc(2026, 1, 5, 9), _utc(2026, 1, 5, 10), _utc(2026, 1, 18), dow=frozenset({0, 2}))
    found = occurrences(record, tz=UTC_ZONE, window=EVERYTHING)
    assert found == [(_m(2026, 1, d, 9), _m(2026, 1, d, 10)) for d in (5, 7, 12, 14)]


def test_days_of_month_skips_short_months() -> None:
    record = _daily(_utc(2026, 1, 1, 9), _utc(2026, 1, 1, 10), _utc(2026, 3, 31, 12), dom=frozenset({1, 15, 31}))
    assert _start_dates(occurrences(record, tz=UTC_ZONE, window=EVERYTHING), UTC_ZONE) == [
        date(2026, 1, 1),
        date(2026, 1, 15),
        date(2026, 1, 31),
        date(2026, 2, 1),
        date(2026, 2, 15),
        date(2026, 3, 1),
        date(2026, 3, 15),
        date(2026, 3, 31),
    ]


def test_days_of_week_and_month_are_a_union() -> None:
    # Sundays (6) or the 1st; 2026-02-01 is both a Sunday and the 1st and appears once.
    record = _daily(_utc(2026, 1, 1, 9), _utc(2026, 1, 1, 10), _utc(2026, 2, 1), dow=frozenset({6}), dom=frozenset({1}))
    assert _start_dates(occurrences(record, tz=UTC_ZONE, window=EVERYTHING), UTC_ZONE) == [
        date(2026, 1, 1),
        date(2026, 1, 4),
        date(2026, 1, 11),
        date(2026, 1, 18),
        date(2026, 1, 25),
        date(2026, 2, 1),
    ]


def test_neither_set_means_every_day() -> None:
    record = _daily(_utc(2026, 1, 30, 22), _utc(2026, 1, 31, 2), _utc(2026, 2, 3))
    found = occurrences(record, tz=UTC_ZONE, window=EVERYTHING)
    assert found == [(_m(2026, 1, 30, 22) + k * 1440, _m(2026, 1, 31, 2) + k * 1440) for k in range(5)]


def test_recurrence_end_is_the_last_instant_an_occurrence_may_start() -> None:
    start, end = _utc(2026, 1, 1, 9), _utc(2026, 1, 1, 10)

    def record(until: datetime) -> Availability:
        return Availability(start, end, 1, Recurrence(until))

    at_midnight = occurrences(record(_utc(2026, 1, 3)), tz=UTC_ZONE, window=EVERYTHING)
    assert _start_dates(at_midnight, UTC_ZONE)[-1] == date(2026, 1, 2)
    at_the_start = occurrences(record(_utc(2026, 1, 3, 9)), tz=UTC_ZONE, window=EVERYTHING)
    assert _start_dates(at_the_start, UTC_ZONE)[-1] == date(2026, 1, 3)  # inclusive
    # An instant, whatever zone it was written in.
    written_ahead = datetime.fromisoformat("2026-01-03T11:00:00+02:00")  # 2026-01-03T09:00Z
    found = occurrences(record(written_ahead), tz=UTC_ZONE, window=EVERYTHING)
    assert _start_dates(found, UTC_ZONE) == [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)]


def test_recurrence_end_before_the_start_date_gives_nothing() -> None:
    record = _daily(_utc(2026, 1, 5, 9), _utc(2026, 1, 5, 10), _utc(2026, 1, 4))
    assert occurrences(record, tz=UTC_ZONE, window=EVERYTHING) == []


def test_window_keeps_only_overlapping_occurrences_unclipped() -> None:
    record = _daily(_utc(2026, 1, 1, 9), _utc(2026, 1, 1, 17), _utc(2026, 1, 31))
    window = (_m(2026, 1, 10, 12), _m(2026, 1, 13, 9))  # ends exactly where the 13th starts
    assert occurrences(record, tz=UTC_ZONE, window=window) == [
        (_m(2026, 1, d, 9), _m(2026, 1, d, 17)) for d in (10, 11, 12)
    ]
    between = (_m(2026, 1, 10, 17), _m(2026, 1, 11, 9))
    assert occurrences(record, tz=UTC_ZONE, window=between) == []


def test_occurrence_longer_than_a_day_overlaps_the_next() -> None:
    record = _daily(_utc(2026, 1, 1, 12), _utc(2026, 1, 3, 12), _utc(2026, 1, 3))
    window = (_m(2026, 1, 4, 0), _m(2026, 1, 4, 1))
    assert occurrences(record, tz=UTC_ZONE, window=window) == [
        (_m(2026, 1, 2, 12), _m(2026, 1, 4, 12)),
        (_m(2026, 1, 3, 12), _m(2026, 1, 5, 12)),
    ]


# ---- the sandbox's example ---------------------------------------------------------------------

SANDBOX = Availability(
    datetime.fromisoformat("2020-01-01T00:00:00.00-07:00"),
    datetime.fromisoformat("2020-01-01T23:59:00.00-07:00"),
    1,
    Recurrence(datetime.fromisoformat("2020-01-06T23:59:00.00-07:00"), MON_TO_FRI),
)


def test_sandbox_example_in_utc_runs_on_utc_dates() -> None:
    # In UTC the record starts 2020-01-01T07:00Z and recurrence ends 2020-01-07T06:59Z, a minute
    # before Tuesday's occurrence would start.
    found = occurrences(SANDBOX, tz=UTC_ZONE, window=EVERYTHING)
    assert found == [(_m(2020, 1, d, 7), _m(2020, 1, d + 1, 6, 59)) for d in (1, 2, 3, 6)]


def test_sandbox_example_in_denver_runs_on_denver_dates() -> None:
    # Wed 1, Thu 2, Fri 3, then Mon 6 (the weekend is skipped, Tue 7 is past the end).
    found = occurrences(SANDBOX, tz=DENVER, window=EVERYTHING)
    assert found == [(_m(2020, 1, d, 7), _m(2020, 1, d + 1, 6, 59)) for d in (1, 2, 3, 6)]
    assert all(_local(s, DENVER).time() == time(0, 0) for s, _ in found)
    assert all(_local(e, DENVER).time() == time(23, 59) for _, e in found)


# ---- DST ---------------------------------------------------------------------------------------


def _ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)  # type: ignore[misc]


def test_local_nine_to_five_survives_spring_forward() -> None:
    record = _daily(_ny(2026, 3, 6, 9), _ny(2026, 3, 6, 17), _ny(2026, 3, 10))
    found = occurrences(record, tz=NEW_YORK, window=EVERYTHING)
    assert [from_minute(s).hour for s, _ in found] == [14, 14, 13, 13, 13]  # EST, EST, then EDT
    assert [(_local(s, NEW_YORK).time(), _local(e, NEW_YORK).time()) for s, e in found] == [(time(9), time(17))] * 5
    assert all(e - s == 8 * 60 for s, e in found)


def test_local_nine_to_five_survives_fall_back() -> None:
    record = _daily(_ny(2026, 10, 30, 9), _ny(2026, 10, 30, 17), _ny(2026, 11, 3))
    found = occurrences(record, tz=NEW_YORK, window=EVERYTHING)
    assert found[2] == (_m(2026, 11, 1, 14), _m(2026, 11, 1, 22))
    assert [from_minute(s).hour for s, _ in found] == [13, 13, 14, 14, 14]  # EDT, EDT, then EST
    assert [(_local(s, NEW_YORK).time(), _local(e, NEW_YORK).time()) for s, e in found] == [(time(9), time(17))] * 5


def test_start_inside_the_spring_forward_gap_skips_that_day() -> None:
    # 02:30 does not exist in New York on 2026-03-08.
    record = _daily(_ny(2026, 3, 7, 2, 30), _ny(2026, 3, 7, 3, 30), _ny(2026, 3, 9))
    found = occurrences(record, tz=NEW_YORK, window=EVERYTHING)
    assert found == [(_m(2026, 3, 7, 7, 30), _m(2026, 3, 7, 8, 30)), (_m(2026, 3, 9, 6, 30), _m(2026, 3, 9, 7, 30))]


def test_end_inside_the_spring_forward_gap_lands_after_it() -> None:
    # 01:00-02:00 on the gap day: 02:00 EST is 03:00 EDT, so the occurrence still lasts an hour.
    record = _daily(_ny(2026, 3, 8, 1), _ny(2026, 3, 8, 2), _ny(2026, 3, 8))
    assert occurrences(record, tz=NEW_YORK, window=EVERYTHING) == [(_m(2026, 3, 8, 6), _m(2026, 3, 8, 7))]


def test_repeated_start_time_uses_the_first_one() -> None:
    # 01:30 happens twice on 2026-11-01: 05:30Z (EDT, fold=0) and 06:30Z (EST). Local 01:30-02:30
    # then lasts two real hours that night.
    record = _daily(_ny(2026, 10, 31, 1, 30), _ny(2026, 10, 31, 2, 30), _ny(2026, 11, 2))
    found = occurrences(record, tz=NEW_YORK, window=EVERYTHING)
    assert found == [
        (_m(2026, 10, 31, 5, 30), _m(2026, 10, 31, 6, 30)),
        (_m(2026, 11, 1, 5, 30), _m(2026, 11, 1, 7, 30)),
        (_m(2026, 11, 2, 6, 30), _m(2026, 11, 2, 7, 30)),
    ]


def test_record_starting_at_the_second_repeated_time_recurs_from_the_first() -> None:
    # The rule reads every occurrence's local start with fold=0, the record's own day included:
    # 01:30 (EST) to 02:30 is a one-hour wall window, replayed from the first 01:30 (EDT).
    second = datetime.fromisoformat("2026-11-01T01:30:00-05:00")
    record = _daily(second, second + timedelta(hours=1), _ny(2026, 11, 1, 12))
    assert occurrences(record, tz=NEW_YORK, window=EVERYTHING) == [(_m(2026, 11, 1, 5, 30), _m(2026, 11, 1, 7, 30))]


def test_local_minute() -> None:
    assert local_minute(datetime(2026, 3, 8, 2, 30), NEW_YORK) is None
    assert local_minute(datetime(2026, 3, 8, 3, 0), NEW_YORK) == _m(2026, 3, 8, 7)
    assert local_minute(datetime(2026, 11, 1, 1, 30), NEW_YORK) == _m(2026, 11, 1, 5, 30)
    assert local_minute(datetime(2026, 11, 1, 1, 30, fold=1), NEW_YORK) == _m(2026, 11, 1, 5, 30)


# ---- efficiency --------------------------------------------------------------------------------


class CountingZone(ZoneInfo):
    """New York that counts its offset look-ups: one per date visited, give or take."""

    calls = 0

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        type(self).calls += 1
        return super().utcoffset(dt)

    def fromutc(self, dt: datetime) -> datetime:
        type(self).calls += 1
        return super().fromutc(dt)


def test_short_window_over_a_long_recurrence_visits_only_nearby_dates() -> None:
    zone = CountingZone("America/New_York")
    record = _daily(
        datetime(2020, 1, 1, 9, tzinfo=zone), datetime(2020, 1, 1, 17, tzinfo=zone), datetime(2029, 12, 31, tzinfo=zone)
    )
    window = (to_minute(datetime(2025, 6, 1, tzinfo=zone)), to_minute(datetime(2025, 8, 30, tzinfo=zone)))
    CountingZone.calls = 0
    found = occurrences(record, tz=zone, window=window)
    calls = CountingZone.calls
    assert _start_dates(found, NEW_YORK) == [date(2025, 6, 1) + timedelta(days=k) for k in range(90)]
    assert all(_local(s, NEW_YORK).time() == time(9) for s, _ in found)
    # Ten years of dates would take more than 3650 look-ups; 90 days (plus slack) take a few hundred.
    assert calls < 1000


def test_window_far_from_the_records_dates_is_empty() -> None:
    record = _daily(_utc(2020, 1, 1, 9), _utc(2020, 1, 1, 17), _utc(2020, 12, 31))
    assert occurrences(record, tz=NEW_YORK, window=(_m(2030, 1, 1), _m(2030, 2, 1))) == []
    assert occurrences(record, tz=NEW_YORK, window=(_m(2010, 1, 1), _m(2010, 2, 1))) == []


# ---- properties --------------------------------------------------------------------------------

ZONES = [
    UTC_ZONE,
    NEW_YORK,
    DENVER,
    ZoneInfo("Europe/London"),
    ZoneInfo("Australia/Lord_Howe"),  # a 30-minute DST shift
    ZoneInfo("Asia/Kolkata"),
    ZoneInfo("America/Santiago"),  # DST changes at midnight
]


def _oracle(record: Availability, tz: ZoneInfo, window: tuple[int, int]) -> list[tuple[int, int]]:
    """Every allowed date from the start's to the end's, one by one, filtered to the window."""
    assert record.recurrence is not None
    local = record.start.astimezone(tz).replace(tzinfo=None, fold=0)
    wall = record.end.astimezone(tz).replace(tzinfo=None) - local
    out = []
    day = local.date()
    while day <= record.recurrence.end.astimezone(tz).date():
        rec = record.recurrence
        if (
            (not rec.days_of_week and not rec.days_of_month)
            or day.weekday() in rec.days_of_week
            or day.day in rec.days_of_month
        ):
            begin = datetime.combine(day, local.time(), tzinfo=tz)
            round_trip = begin.astimezone(UTC).astimezone(tz)
            if round_trip.replace(tzinfo=None) == begin.replace(tzinfo=None):
                s = to_minute(begin)
                e = to_minute((begin.replace(tzinfo=None) + wall).replace(tzinfo=tz))
                if s < e and s < window[1] and e > window[0] and s <= to_minute(rec.end):
                    out.append((s, e))
        day += timedelta(days=1)
    return out


@st.composite
def recurring(draw: st.DrawFn) -> tuple[Availability, ZoneInfo, tuple[int, int]]:
    tz = draw(st.sampled_from(ZONES))
    day = draw(st.dates(date(2020, 1, 1), date(2030, 12, 31)))
    clock = time(draw(st.integers(0, 23)), draw(st.integers(0, 59)))
    start = datetime.combine(day, clock, tzinfo=tz)
    duration = timedelta(minutes=draw(st.integers(1, 3000)))
    until = start + timedelta(days=draw(st.integers(0, 70)), minutes=draw(st.integers(-1440, 1440)))
    dow = draw(st.frozensets(st.integers(0, 6)))
    dom = draw(st.frozensets(st.integers(1, 31), max_size=5))
    base = to_minute(start)
    lo = base + draw(st.integers(-5 * 1440, 80 * 1440))
    hi = lo + draw(st.integers(1, 30 * 1440))
    return Availability(start, start + duration, 1, Recurrence(until, dow, dom)), tz, (lo, hi)


@settings(max_examples=300, deadline=None)
@given(recurring())
def test_recurring_occurrences_match_the_day_by_day_oracle(
    case: tuple[Availability, ZoneInfo, tuple[int, int]],
) -> None:
    record, tz, window = case
    assert occurrences(record, tz=tz, window=window) == _oracle(record, tz, window)


@settings(max_examples=300, deadline=None)
@given(recurring())
def test_recurring_occurrences_keep_local_time_and_allowed_days(
    case: tuple[Availability, ZoneInfo, tuple[int, int]],
) -> None:
    record, tz, window = case
    assert record.recurrence is not None
    local_start = record.start.astimezone(tz)
    first, last = local_start.date(), record.recurrence.end.astimezone(tz).date()
    rec = record.recurrence
    found = occurrences(record, tz=tz, window=window)
    assert found == sorted(found)
    for s, e in found:
        assert s < e
        assert s < window[1]
        assert e > window[0]
        local = _local(s, tz)
        assert local.time() == local_start.time().replace(fold=0)
        assert local.fold == 0
        assert first <= local.date() <= last
        assert s <= to_minute(rec.end)
        if rec.days_of_week or rec.days_of_month:
            assert local.weekday() in rec.days_of_week or local.day in rec.days_of_month


@given(st.integers(-(10**9), 10**9))
def test_minutes_round_trip(m: int) -> None:
    assert to_minute(from_minute(m)) == m
    assert from_minute(m).tzinfo is UTC


def test_to_minute_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_minute(datetime(2026, 1, 1))
