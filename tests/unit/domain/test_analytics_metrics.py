"""The analytics' arithmetic and days (domain/analytics_metrics.py): ratios, percentiles, money,
UTC offsets and periods."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from sp_services.domain.analytics_metrics import (
    Period,
    Picks,
    cents,
    interpolate,
    period_spans,
    picks,
    ratio,
    to_money,
    to_second,
    utc_offsets,
)
from sp_services.domain.analytics_query import GroupBy

# ---- days -----------------------------------------------------------------------------------


def test_utc_offsets_change_at_the_exact_second() -> None:
    lo, hi = to_second(datetime(2026, 1, 1, tzinfo=UTC)), to_second(datetime(2027, 1, 1, tzinfo=UTC))
    assert utc_offsets("America/New_York", lo, hi) == [
        (lo, -5 * 3600),
        (to_second(datetime(2026, 3, 8, 7, tzinfo=UTC)), -4 * 3600),
        (to_second(datetime(2026, 11, 1, 6, tzinfo=UTC)), -5 * 3600),
    ]
    assert utc_offsets("Asia/Kolkata", lo, hi) == [(lo, 19800)]


def test_period_spans_clip_weeks_and_months_to_the_range() -> None:
    assert period_spans(date(2026, 5, 30), date(2026, 6, 2), GroupBy.MONTH) == [
        Period("2026-05", date(2026, 5, 30), date(2026, 5, 31)),
        Period("2026-06", date(2026, 6, 1), date(2026, 6, 2)),
    ]
    assert period_spans(date(9999, 12, 30), date(9999, 12, 31), GroupBy.NONE) == [
        Period(None, date(9999, 12, 30), date(9999, 12, 31))
    ]


# ---- money -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (99.5, 9950),
        (0.1 + 0.2, 30),
        (1.005, 101),
        (-2.5, -250),
        (12, 1200),
        ("12.50", None),
        (True, None),
        (None, None),
        (float("nan"), None),
        (2e9, None),
    ],
)
def test_cents_of_an_amount(value: Any, expected: int | None) -> None:
    assert cents(value) == expected


# ---- the arithmetic -------------------------------------------------------------------------


def test_ratios_over_nothing_are_null() -> None:
    assert ratio(0, 0) is None
    assert ratio(2, 3) == 0.6667
    assert ratio(0, 5) == 0.0


def test_percentile_picks_and_interpolation() -> None:
    assert picks([], (1, 2)) is None
    assert picks([10], (9, 10)) == Picks(10, 10)
    assert picks([1, 2, 3, 4], (1, 2)) == Picks(2, 3)
    assert interpolate(Picks(2, 3), 4, (1, 2)) == 2.5
    assert interpolate(None, 0, (1, 2)) is None


def test_money_rounds_half_to_even_cents() -> None:
    assert to_money(1) == Decimal("0.01")
    assert str(to_money(12345)) == "123.45"
    assert to_money(Fraction(5, 2)) == Decimal("0.02")  # 2.5 cents → 2
    assert to_money(Fraction(7, 2)) == Decimal("0.04")  # 3.5 cents → 4
