"""Grid starts and appointment slots (domain/slots.py)."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sp_services.domain.capacity import Run, combine, from_minute, sum_runs, to_minute
from sp_services.domain.slots import appointment_slots, grid_starts

UTC_ZONE = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")
ZONES = [UTC_ZONE, NEW_YORK, ZoneInfo("Australia/Lord_Howe"), ZoneInfo("America/Santiago"), ZoneInfo("Asia/Kolkata")]


def _m(*args: int) -> int:
    return to_minute(datetime(*args, tzinfo=UTC))  # type: ignore[misc]


def _ny_day(day: int, month: int) -> tuple[int, int]:
    """The minutes of one New York calendar day."""
    start = datetime(2026, month, day, tzinfo=NEW_YORK)
    return to_minute(start), to_minute(datetime.combine(start.date() + timedelta(days=1), time(), tzinfo=NEW_YORK))


def _local_clock(starts: Sequence[int], tz: ZoneInfo) -> list[str]:
    return [f"{from_minute(m).astimezone(tz):%H:%M}" for m in starts]


# ---- grid starts -------------------------------------------------------------------------------


def test_utc_hourly_grid() -> None:
    assert grid_starts((_m(2026, 1, 5), _m(2026, 1, 6)), tz=UTC_ZONE, step_minutes=60) == [
        _m(2026, 1, 5, h) for h in range(24)
    ]


def test_grid_is_aligned_to_midnight_not_to_the_window() -> None:
    window = (_m(2026, 1, 5, 10, 17), _m(2026, 1, 5, 13, 0))
    assert grid_starts(window, tz=UTC_ZONE, step_minutes=30) == [
        _m(2026, 1, 5, 10, 30),
        _m(2026, 1, 5, 11),
        _m(2026, 1, 5, 11, 30),
        _m(2026, 1, 5, 12),
        _m(2026, 1, 5, 12, 30),
    ]


def test_grid_is_aligned_to_the_store_local_midnight() -> None:
    starts = grid_starts(_ny_day(6, 1), tz=NEW_YORK, step_minutes=60)
    assert starts[0] == _m(2026, 1, 6, 5)  # 00:00 EST
    assert _local_clock(starts, NEW_YORK) == [f"{h:02d}:00" for h in range(24)]
    assert grid_starts((_m(2026, 1, 6, 0), _m(2026, 1, 6, 5)), tz=NEW_YORK, step_minutes=60) == [
        _m(2026, 1, 6, h)
        for h in range(5)  # 19:00 .. 23:00 of the 5th, local
    ]


def test_step_that_does_not_divide_the_day_restarts_at_midnight() -> None:
    window = (_m(2026, 1, 5), _m(2026, 1, 7))
    starts = grid_starts(window, tz=UTC_ZONE, step_minutes=90)
    assert len(starts) == 32
    assert _local_clock(starts, UTC_ZONE)[14:18] == ["21:00", "22:30", "00:00", "01:30"]


def test_spring_forward_day_has_23_hourly_starts() -> None:
    starts = grid_starts(_ny_day(8, 3), tz=NEW_YORK, step_minutes=60)
    assert len(starts) == 23
    assert _local_clock(starts, NEW_YORK)[:4] == ["00:00", "01:00", "03:00", "04:00"]
    assert starts[1:3] == [_m(2026, 3, 8, 6), _m(2026, 3, 8, 7)]  # 01:00 EST, then 03:00 EDT


def test_fall_back_day_has_24_hourly_starts_repeated_hour_once() -> None:
    starts = grid_starts(_ny_day(1, 11), tz=NEW_YORK, step_minutes=60)
    assert len(starts) == 24
    assert _local_clock(starts, NEW_YORK) == [f"{h:02d}:00" for h in range(24)]
    # 01:00 EDT (05:00Z) is offered; 01:00 EST (06:00Z) is not; 02:00 EST is 07:00Z.
    assert starts[1:3] == [_m(2026, 11, 1, 5), _m(2026, 11, 1, 7)]


def test_fall_back_half_hour_grid_keeps_the_first_of_each_repeated_time() -> None:
    starts = grid_starts(_ny_day(1, 11), tz=NEW_YORK, step_minutes=30)
    assert len(starts) == 48
    assert starts[2:6] == [_m(2026, 11, 1, 5), _m(2026, 11, 1, 5, 30), _m(2026, 11, 1, 7), _m(2026, 11, 1, 7, 30)]


def test_grid_rejects_bad_input() -> None:
    assert grid_starts((10, 10), tz=UTC_ZONE, step_minutes=60) == []
    with pytest.raises(ValueError, match="positive"):
        grid_starts((0, 10), tz=UTC_ZONE, step_minutes=0)


def test_ninety_days_of_hourly_starts() -> None:
    lo = to_minute(datetime(2026, 2, 1, tzinfo=NEW_YORK))
    hi = to_minute(datetime(2026, 5, 2, tzinfo=NEW_YORK))
    starts = grid_starts((lo, hi), tz=NEW_YORK, step_minutes=60)
    assert len(starts) == 90 * 24 - 1  # one hour lost to spring-forward
    assert len(set(_local_clock(starts, NEW_YORK))) == 24


@st.composite
def grid_cases(draw: st.DrawFn) -> tuple[ZoneInfo, tuple[int, int], int]:
    tz = draw(st.sampled_from(ZONES))
    # Around the 2026 transitions of the zones above (March/April and September/October/November).
    anchor = draw(
        st.sampled_from(
            [
                datetime(2026, 3, 7),
                datetime(2026, 4, 4),
                datetime(2026, 9, 5),
                datetime(2026, 10, 3),
                datetime(2026, 10, 31),
            ]
        )
    )
    lo = to_minute(anchor.replace(tzinfo=UTC)) + draw(st.integers(0, 2 * 1440))
    hi = lo + draw(st.integers(1, 2 * 1440))
    return tz, (lo, hi), draw(st.sampled_from([5, 15, 30, 45, 60, 90, 120, 360]))


@settings(max_examples=150, deadline=None)
@given(grid_cases())
def test_grid_starts_match_the_minute_by_minute_oracle(case: tuple[ZoneInfo, tuple[int, int], int]) -> None:
    tz, window, step = case
    # A minute is on the grid when its local wall time is a step from midnight and it is the first
    # (fold=0) time that wall time happens.
    oracle = []
    for m in range(*window):
        local = from_minute(m).astimezone(tz)
        if local.fold == 0 and (local.hour * 60 + local.minute) % step == 0:
            oracle.append(m)
    assert grid_starts(window, tz=tz, step_minutes=step) == oracle


# ---- appointment slots -------------------------------------------------------------------------


def test_slots_need_schedule_over_the_whole_span() -> None:
    scheduled = [(0, 60, 1), (60, 70, 0), (70, 200, 2)]
    available = [(0, 30, 1), (30, 100, 0), (100, 200, -1)]
    got = appointment_slots([0, 30, 45, 60, 70, 100, 150, 180], 30, scheduled=scheduled, available=available)
    assert got == [
        (0, 30, 1),
        (30, 60, 0),  # fully booked is still listed
        (70, 100, 0),
        (100, 130, 0),  # a deficit is shown as 0, not negative
        (150, 180, 0),
    ]


def test_slots_beyond_the_runs_are_not_listed() -> None:
    runs = [(100, 200, 1)]
    assert appointment_slots([90, 100, 170, 171], 30, scheduled=runs, available=runs) == [(100, 130, 1), (170, 200, 1)]
    assert appointment_slots([100], 30, scheduled=[], available=[]) == []


def test_slots_sort_and_deduplicate_starts() -> None:
    runs = [(0, 100, 2)]
    assert appointment_slots([50, 10, 50], 10, scheduled=runs, available=runs) == [(10, 20, 2), (50, 60, 2)]


def test_slots_reject_non_positive_duration() -> None:
    with pytest.raises(ValueError, match="positive"):
        appointment_slots([0], 0, scheduled=[(0, 10, 1)], available=[(0, 10, 1)])


def test_ninety_days_of_hourly_slots() -> None:
    # Open 09:00-17:00 UTC every day with capacity 2, one booking at 10:00 on every day.
    days = 90
    window = (0, days * 1440 + 120)
    scheduled = sum_runs(((d * 1440 + 540, d * 1440 + 1020, 2) for d in range(days)), window=window)
    booked = sum_runs(((d * 1440 + 600, d * 1440 + 660, 1) for d in range(days)), window=window)
    available = combine(scheduled, booked, operator.sub)
    starts = grid_starts((0, days * 1440), tz=UTC_ZONE, step_minutes=60)
    got = appointment_slots(starts, 120, scheduled=scheduled, available=available)
    assert len(got) == days * 7  # 09:00 .. 15:00 starts fit before 17:00
    assert got[:7] == [
        (540, 660, 1),
        (600, 720, 1),
        (660, 780, 2),
        (720, 840, 2),
        (780, 900, 2),
        (840, 960, 2),
        (900, 1020, 2),
    ]
    assert got[-1] == ((days - 1) * 1440 + 900, (days - 1) * 1440 + 1020, 2)


@st.composite
def slot_cases(draw: st.DrawFn) -> tuple[list[int], int, list[Run], list[Run]]:
    lo = draw(st.integers(0, 20))
    hi = lo + draw(st.integers(1, 60))

    def runs() -> list[Run]:
        cuts = sorted(draw(st.sets(st.integers(lo + 1, hi - 1), max_size=8))) if hi - lo > 1 else []
        bounds = [lo, *cuts, hi]
        return [(s, e, draw(st.integers(-2, 3))) for s, e in pairwise(bounds)]

    starts = draw(st.lists(st.integers(lo - 5, hi + 5), max_size=20))
    return starts, draw(st.integers(1, 20)), runs(), runs()


@settings(max_examples=400)
@given(slot_cases())
def test_appointment_slots_match_oracle(case: tuple[list[int], int, list[Run], list[Run]]) -> None:
    starts, duration, scheduled, available = case
    sched = {m: v for s, e, v in scheduled for m in range(s, e)}
    avail = {m: v for s, e, v in available for m in range(s, e)}
    oracle = []
    for s in sorted(set(starts)):
        span = range(s, s + duration)
        if all(m in sched and m in avail for m in span) and all(sched[m] > 0 for m in span):
            oracle.append((s, s + duration, max(0, min(avail[m] for m in span))))
    assert appointment_slots(starts, duration, scheduled=scheduled, available=available) == oracle
