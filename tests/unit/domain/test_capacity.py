"""Capacity step functions (domain/capacity.py), checked against a minute-by-minute oracle."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sp_services.domain.capacity import (
    Run,
    combine,
    fixed_buckets,
    from_minute,
    maximum,
    minimum,
    overlapping_records,
    scheduled_runs,
    sum_runs,
    to_minute,
    value_runs,
)
from sp_services.domain.recurrence import Availability, Recurrence, occurrences

UTC_ZONE = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")
EVERYTHING = (-(10**9), 10**9)

# ---- the oracle: plain dicts of minute -> value ------------------------------------------------


def _expand(runs: Sequence[Run], window: tuple[int, int]) -> dict[int, int]:
    """Minute -> value, after checking the runs cover the window exactly and are maximal."""
    lo, hi = window
    if lo >= hi:
        assert runs == []
        return {}
    assert runs[0][0] == lo
    assert runs[-1][1] == hi
    for (_, e1, v1), (s2, _, v2) in pairwise(runs):
        assert e1 == s2, "runs must be contiguous"
        assert v1 != v2, "adjacent runs must differ"
    values: dict[int, int] = {}
    for s, e, v in runs:
        assert s < e
        values.update(dict.fromkeys(range(s, e), v))
    return values


def _values(runs: Sequence[Run]) -> dict[int, int]:
    """Minute -> value of arbitrary (not necessarily maximal) contiguous runs."""
    return {m: v for s, e, v in runs for m in range(s, e)}


def _minutes(record: Availability, window: tuple[int, int]) -> set[int]:
    covered: set[int] = set()
    for s, e in occurrences(record, tz=UTC_ZONE, window=EVERYTHING):
        covered.update(range(max(s, window[0]), min(e, window[1])))
    return covered


def _record(start: int, length: int, capacity: int) -> Availability:
    return Availability(from_minute(start), from_minute(start + length), capacity)


windows = st.tuples(st.integers(0, 40), st.integers(0, 40)).map(lambda t: (t[0], t[0] + t[1]))
records = st.lists(st.builds(_record, st.integers(-10, 90), st.integers(1, 30), st.integers(1, 5)), max_size=7)


@st.composite
def run_lists(draw: st.DrawFn, window: tuple[int, int]) -> list[Run]:
    """Arbitrary contiguous runs over a non-empty window (adjacent values may repeat)."""
    lo, hi = window
    cuts = sorted(draw(st.sets(st.integers(lo + 1, hi - 1), max_size=8))) if hi - lo > 1 else []
    bounds = [lo, *cuts, hi]
    return [(s, e, draw(st.integers(-3, 5))) for s, e in pairwise(bounds)]


nonempty_windows = st.tuples(st.integers(-20, 40), st.integers(1, 50)).map(lambda t: (t[0], t[0] + t[1]))

# ---- minutes -----------------------------------------------------------------------------------


def test_to_minute_floors_and_honours_offsets() -> None:
    assert to_minute(datetime(1970, 1, 1, tzinfo=UTC)) == 0
    assert to_minute(datetime(1970, 1, 1, 0, 0, 59, 999999, tzinfo=UTC)) == 0
    assert to_minute(datetime(1969, 12, 31, 23, 59, 30, tzinfo=UTC)) == -1
    assert to_minute(datetime(1970, 1, 1, 5, 31, tzinfo=timezone(timedelta(hours=5, minutes=30)))) == 1
    assert to_minute(datetime(2026, 3, 8, 3, tzinfo=NEW_YORK)) == to_minute(datetime(2026, 3, 8, 7, tzinfo=UTC))


def test_from_minute_is_aware_utc() -> None:
    assert from_minute(60) == datetime(1970, 1, 1, 1, tzinfo=UTC)
    assert from_minute(-1) == datetime(1969, 12, 31, 23, 59, tzinfo=UTC)
    assert from_minute(0).utcoffset() == timedelta(0)


# ---- scheduled ---------------------------------------------------------------------------------


def test_later_record_overrides_earlier_one() -> None:
    recs = [_record(0, 60, 2), _record(20, 20, 5), _record(30, 50, 1)]
    assert scheduled_runs(recs, tz=UTC_ZONE, window=(-10, 90)) == [
        (-10, 0, 0),
        (0, 20, 2),
        (20, 30, 5),
        (30, 80, 1),
        (80, 90, 0),
    ]


def test_scheduled_without_records_is_zero_and_empty_window_is_empty() -> None:
    assert scheduled_runs([], tz=UTC_ZONE, window=(5, 10)) == [(5, 10, 0)]
    assert scheduled_runs([_record(0, 60, 2)], tz=UTC_ZONE, window=(10, 10)) == []


def test_scheduled_merges_equal_neighbours_from_different_records() -> None:
    recs = [_record(0, 10, 3), _record(10, 10, 3)]
    assert scheduled_runs(recs, tz=UTC_ZONE, window=(0, 20)) == [(0, 20, 3)]


@settings(max_examples=300)
@given(records, windows)
def test_scheduled_runs_match_oracle(recs: list[Availability], window: tuple[int, int]) -> None:
    oracle = dict.fromkeys(range(*window), 0)
    for record in recs:
        for m in _minutes(record, window):
            oracle[m] = record.capacity
    assert _expand(scheduled_runs(recs, tz=UTC_ZONE, window=window), window) == oracle


@st.composite
def daily_records(draw: st.DrawFn) -> Availability:
    """Hour-aligned daily records over the first days of 2026 (some longer than a day)."""
    day = draw(st.integers(0, 3))
    start = datetime(2026, 1, 1, tzinfo=NEW_YORK) + timedelta(days=day, hours=draw(st.integers(0, 23)))
    length = timedelta(hours=draw(st.integers(1, 30)))
    until = start + timedelta(days=draw(st.integers(0, 3)))
    dow = draw(st.frozensets(st.integers(0, 6)))
    return Availability(start, start + length, draw(st.integers(1, 4)), Recurrence(until, dow))


@settings(max_examples=40, deadline=None)
@given(st.lists(daily_records(), max_size=4), st.integers(0, 4 * 24), st.integers(1, 3 * 24))
def test_scheduled_runs_of_recurring_records_match_oracle(recs: list[Availability], first: int, hours: int) -> None:
    lo = to_minute(datetime(2026, 1, 1, tzinfo=NEW_YORK)) + first * 60
    window = (lo, lo + hours * 60)
    oracle = dict.fromkeys(range(*window), 0)
    for record in recs:
        for s, e in occurrences(record, tz=NEW_YORK, window=EVERYTHING):
            for m in range(max(s, window[0]), min(e, window[1])):
                oracle[m] = record.capacity
    assert _expand(scheduled_runs(recs, tz=NEW_YORK, window=window), window) == oracle


# ---- overlapping records -----------------------------------------------------------------------


def test_overlapping_records_flags_the_later_of_each_pair() -> None:
    recs = [_record(0, 10, 1), _record(10, 10, 1), _record(5, 10, 1), _record(40, 5, 1), _record(30, 20, 1)]
    assert overlapping_records(recs, tz=UTC_ZONE, window=(0, 100)) == [2, 4]


def test_overlap_outside_the_window_is_not_flagged() -> None:
    recs = [_record(0, 10, 1), _record(5, 10, 1)]
    assert overlapping_records(recs, tz=UTC_ZONE, window=(10, 100)) == []
    assert overlapping_records(recs, tz=UTC_ZONE, window=(9, 100)) == [1]


def test_a_recurring_record_overlapping_itself_is_not_flagged() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    long_daily = Availability(start, start + timedelta(days=2), 1, Recurrence(start + timedelta(days=5)))
    later = Availability(start + timedelta(days=20), start + timedelta(days=21))
    assert overlapping_records([long_daily, later], tz=UTC_ZONE, window=EVERYTHING) == []
    assert overlapping_records([later, long_daily], tz=UTC_ZONE, window=EVERYTHING) == []


def test_recurring_records_overlapping_on_one_day() -> None:
    start = datetime(2026, 1, 5, 9, tzinfo=NEW_YORK)  # a Monday
    weekdays = Availability(
        start, start + timedelta(hours=8), 1, Recurrence(start + timedelta(days=13), frozenset(range(5)))
    )
    saturday = Availability(start + timedelta(days=5), start + timedelta(days=5, hours=8), 2)
    friday_evening = Availability(start + timedelta(days=4, hours=7), start + timedelta(days=4, hours=9), 2)
    recs = [weekdays, saturday, friday_evening]
    assert overlapping_records(recs, tz=NEW_YORK, window=EVERYTHING) == [2]


@settings(max_examples=300)
@given(records, windows)
def test_overlapping_records_match_oracle(recs: list[Availability], window: tuple[int, int]) -> None:
    covered = [_minutes(r, window) for r in recs]
    oracle = [i for i in range(len(recs)) if any(covered[i] & covered[j] for j in range(i))]
    assert overlapping_records(recs, tz=UTC_ZONE, window=window) == oracle


# ---- sums --------------------------------------------------------------------------------------

intervals = st.lists(
    st.tuples(st.integers(-10, 70), st.integers(0, 30), st.integers(-3, 5)).map(lambda t: (t[0], t[0] + t[1], t[2])),
    max_size=10,
)


def test_sum_runs_adds_overlaps() -> None:
    assert sum_runs([(0, 10, 1), (5, 15, 2), (15, 20, 2)], window=(0, 25)) == [
        (0, 5, 1),
        (5, 10, 3),
        (10, 20, 2),
        (20, 25, 0),
    ]
    assert sum_runs([], window=(3, 7)) == [(3, 7, 0)]
    assert sum_runs([(0, 10, 1)], window=(7, 7)) == []


@settings(max_examples=300)
@given(intervals, windows)
def test_sum_runs_match_oracle(items: list[tuple[int, int, int]], window: tuple[int, int]) -> None:
    oracle = dict.fromkeys(range(*window), 0)
    for s, e, amount in items:
        for m in range(max(s, window[0]), min(e, window[1])):
            oracle[m] += amount
    assert _expand(sum_runs(iter(items), window=window), window) == oracle


# ---- combine -----------------------------------------------------------------------------------

OPS: list[Callable[[int, int], int]] = [operator.sub, operator.add, min, max]


@st.composite
def two_run_lists(draw: st.DrawFn) -> tuple[tuple[int, int], list[Run], list[Run]]:
    window = draw(nonempty_windows)
    return window, draw(run_lists(window)), draw(run_lists(window))


@settings(max_examples=300)
@given(two_run_lists(), st.sampled_from(OPS))
def test_combine_matches_oracle(
    case: tuple[tuple[int, int], list[Run], list[Run]], op: Callable[[int, int], int]
) -> None:
    window, a, b = case
    va, vb = _values(a), _values(b)
    oracle = {m: op(va[m], vb[m]) for m in range(*window)}
    assert _expand(combine(a, b, op), window) == oracle


def test_available_goes_negative_rather_than_hiding_bookings() -> None:
    sched = [(0, 10, 1)]
    reserved = [(0, 5, 0), (5, 10, 1)]
    encumbered = [(0, 8, 1), (8, 10, 0)]
    available = combine(combine(sched, reserved, operator.sub), encumbered, operator.sub)
    assert available == [(0, 5, 0), (5, 8, -1), (8, 10, 0)]


def test_combine_rejects_different_windows() -> None:
    assert combine([], [], operator.sub) == []
    with pytest.raises(ValueError, match="same window"):
        combine([(0, 10, 1)], [(0, 9, 1)], operator.sub)
    with pytest.raises(ValueError, match="same window"):
        combine([(0, 10, 1)], [], operator.sub)


# ---- clipping, minimum, maximum ----------------------------------------------------------------


@st.composite
def runs_and_range(draw: st.DrawFn) -> tuple[list[Run], int, int]:
    window = draw(nonempty_windows)
    start = draw(st.integers(window[0], window[1] - 1))
    return draw(run_lists(window)), start, draw(st.integers(start + 1, window[1]))


@settings(max_examples=300)
@given(runs_and_range())
def test_value_runs_match_oracle(case: tuple[list[Run], int, int]) -> None:
    runs, start, end = case
    values = _values(runs)
    assert _expand(value_runs(runs, window=(start, end)), (start, end)) == {m: values[m] for m in range(start, end)}


def test_value_runs_keeps_only_what_the_runs_cover() -> None:
    runs = [(0, 10, 1), (10, 20, 2)]
    assert value_runs(runs, window=(-5, 15)) == [(0, 10, 1), (10, 15, 2)]
    assert value_runs(runs, window=(20, 30)) == []
    assert value_runs([(0, 5, 1), (5, 10, 1), (10, 20, 2)], window=(2, 12)) == [(2, 10, 1), (10, 12, 2)]


@settings(max_examples=300)
@given(runs_and_range())
def test_minimum_and_maximum_match_oracle(case: tuple[list[Run], int, int]) -> None:
    runs, start, end = case
    values = _values(runs)
    assert minimum(runs, start, end) == min(values[m] for m in range(start, end))
    assert maximum(runs, start, end) == max(values[m] for m in range(start, end))


def test_minimum_refuses_ranges_the_runs_do_not_cover() -> None:
    runs = [(0, 10, 1), (10, 20, 2)]
    assert minimum(runs, 9, 11) == 1
    assert maximum(runs, 9, 11) == 2
    with pytest.raises(ValueError, match="cover"):
        minimum(runs, 15, 21)
    with pytest.raises(ValueError, match="cover"):
        maximum(runs, -1, 5)
    with pytest.raises(ValueError, match="cover"):
        minimum([(0, 5, 1), (6, 10, 1)], 0, 10)
    with pytest.raises(ValueError, match="empty"):
        minimum(runs, 5, 5)


# ---- fixed buckets -----------------------------------------------------------------------------


def test_fixed_buckets_clip_the_last_bucket() -> None:
    sched = [(0, 12, 2)]
    reserved = [(0, 3, 0), (3, 4, 1), (4, 12, 0)]
    encumbered = [(0, 11, 0), (11, 12, 2)]
    available = combine(combine(sched, reserved, operator.sub), encumbered, operator.sub)
    assert fixed_buckets(
        (0, 12), 5, scheduled=sched, reserved=reserved, encumbered=encumbered, available=available
    ) == [
        (0, 2, 1, 1, 0),
        (5, 2, 2, 0, 0),
        (10, 2, 0, 0, 2),
    ]


def test_fixed_buckets_reject_bad_input() -> None:
    runs = [(0, 10, 1)]
    with pytest.raises(ValueError, match="positive"):
        fixed_buckets((0, 10), 0, scheduled=runs, reserved=runs, encumbered=runs, available=runs)
    with pytest.raises(ValueError, match="cover"):
        fixed_buckets((0, 12), 5, scheduled=runs, reserved=runs, encumbered=runs, available=runs)
    assert fixed_buckets((5, 5), 5, scheduled=[], reserved=[], encumbered=[], available=[]) == []


@st.composite
def bucket_cases(draw: st.DrawFn) -> tuple[tuple[int, int], int, list[list[Run]]]:
    window = draw(nonempty_windows)
    return window, draw(st.integers(1, 15)), [draw(run_lists(window)) for _ in range(4)]


@settings(max_examples=300)
@given(bucket_cases())
def test_fixed_buckets_match_oracle(case: tuple[tuple[int, int], int, list[list[Run]]]) -> None:
    (lo, hi), slot, (sched, reserved, encumbered, available) = case
    got = fixed_buckets((lo, hi), slot, scheduled=sched, reserved=reserved, encumbered=encumbered, available=available)
    vs, vr, ve, va = (_values(r) for r in (sched, reserved, encumbered, available))
    oracle = []
    for b in range(lo, hi, slot):
        span = range(b, min(b + slot, hi))
        oracle.append(
            (b, min(vs[m] for m in span), min(va[m] for m in span), max(vr[m] for m in span), max(ve[m] for m in span))
        )
    assert got == oracle


def test_fixed_buckets_over_a_long_window() -> None:
    # 35 days of 5-minute buckets against one run per day.
    days = 35
    runs = [(d * 1440, (d + 1) * 1440, d) for d in range(days)]
    got = fixed_buckets((0, days * 1440), 5, scheduled=runs, reserved=runs, encumbered=runs, available=runs)
    assert len(got) == days * 288
    assert all(b[1:] == (b[0] // 1440,) * 4 for b in got)
    shifted = fixed_buckets((3, days * 1440), 1440, scheduled=runs, reserved=runs, encumbered=runs, available=runs)
    assert shifted[0] == (3, 0, 0, 1, 1)
    assert shifted[-1] == ((days - 1) * 1440 + 3, days - 1, days - 1, days - 1, days - 1)
