"""ISO 8601 parsing and formatting (domain/times.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sp_services.domain.errors import Unprocessable
from sp_services.domain.times import format_utc, parse_iso, parse_utc_strict


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "instant", "explicit"),
    [
        ("2021-01-01T10:00:00Z", _utc(2021, 1, 1, 10), True),
        ("2021-01-01T10:00:00z", _utc(2021, 1, 1, 10), True),
        ("2021-01-01T10:00:00.000Z", _utc(2021, 1, 1, 10), True),
        ("2021-01-01T10:00Z", _utc(2021, 1, 1, 10), True),
        ("2021-01-01T10:00:00+05:30", _utc(2021, 1, 1, 4, 30), True),
        ("2021-01-01T10:00:00+0530", _utc(2021, 1, 1, 4, 30), True),
        ("2021-01-01T10:00:00+05", _utc(2021, 1, 1, 5), True),
        ("2021-01-01T01:00:00-03:00", _utc(2021, 1, 1, 4), True),
        ("2020-12-31T23:30:00-01:00", _utc(2021, 1, 1, 0, 30), True),
        ("2021-01-01T10:00:00+00:00", _utc(2021, 1, 1, 10), True),
        ("2021-01-01T10:00:00", _utc(2021, 1, 1, 10), False),
        ("2021-01-01 10:00:00", _utc(2021, 1, 1, 10), False),
        ("2021-01-01", _utc(2021, 1, 1), False),
        ("2021-01-01T10:00:00.5Z", _utc(2021, 1, 1, 10, 0, 0, 500000), True),
        ("2021-01-01T10:00:00,25Z", _utc(2021, 1, 1, 10, 0, 0, 250000), True),
        ("2021-01-01T10:00:00.123456Z", _utc(2021, 1, 1, 10, 0, 0, 123456), True),
        ("2021-01-01T10:00:00.123456789Z", _utc(2021, 1, 1, 10, 0, 0, 123456), True),
        ("2024-02-29T00:00:00Z", _utc(2024, 2, 29), True),
    ],
)
def test_parse_iso_accepts(text: str, instant: datetime, explicit: bool) -> None:
    parsed = parse_iso(text)
    assert parsed is not None
    assert parsed == (instant, explicit)
    assert parsed[0].tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "2021-01-01T10-00:00.000Z",
        "2021-01-01T10:00:00.0000000001Z",  # 10 fractional digits
        "2021-13-01T10:00:00Z",
        "2021-02-29T10:00:00Z",
        "2021-01-32",
        "2021-01-01T24:00:00Z",
        "2021-01-01T10:60:00Z",
        "2021-01-01T10:00:60Z",
        "2021-01-01T10:00:00+24:00",
        "2021-01-01T10:00:00+05:60",  # offset minutes out of range
        "2021-01-01T10:00:00+05:99",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:00:00-05:00",  # beyond datetime.max once in UTC
        "2021-1-01T10:00:00Z",
        "21-01-01",
        "2021-01-01T10Z",
        "2021-01-01T10:00:00ZZ",
        "2021-01-01T10:00:00 Z",
    ],
)
def test_parse_iso_rejects(text: str) -> None:
    assert parse_iso(text) is None


def test_parse_utc_strict_accepts_utc() -> None:
    assert parse_utc_strict("2021-01-01T10:00:00.000Z") == _utc(2021, 1, 1, 10)
    assert parse_utc_strict("2021-01-01T10:00:00+00:00") == _utc(2021, 1, 1, 10)


@pytest.mark.parametrize("text", ["2021-01-01T10-00:00.000Z", "garbage", "2021-01-01", ""])
def test_parse_utc_strict_unparseable_message(text: str) -> None:
    with pytest.raises(Unprocessable) as info:
        parse_utc_strict(text)
    (item,) = info.value.items
    assert (item.code, item.message) == ("InvalidInput", f"Failed to parse ISO8601 input: {text}")


@pytest.mark.parametrize("text", ["2021-01-01T10:00:00.000+05:30", "2021-01-01T10:00:00", "2021-01-01T05:00:00-05:00"])
def test_parse_utc_strict_not_utc_message(text: str) -> None:
    with pytest.raises(Unprocessable) as info:
        parse_utc_strict(text)
    (item,) = info.value.items
    assert (item.code, item.message) == ("InvalidInput", f"ISO8601 time {text} is not in UTC.")


def test_sandbox_messages_verbatim() -> None:
    with pytest.raises(
        Unprocessable,
        match=r"^InvalidInput: Failed to parse ISO8601 input: "
        r"2021-01-01T10-00:00\.000Z$",
    ):
        parse_utc_strict("2021-01-01T10-00:00.000Z")
    with pytest.raises(Unprocessable) as info:
        parse_utc_strict("2021-01-01T10:00:00.000+05:30")
    assert info.value.items[0].message == "ISO8601 time 2021-01-01T10:00:00.000+05:30 is not in UTC."


@pytest.mark.parametrize(
    ("instant", "text"),
    [
        (_utc(2021, 1, 1, 10), "2021-01-01T10:00:00.000Z"),
        (_utc(2021, 1, 1, 10, 0, 0, 123999), "2021-01-01T10:00:00.123Z"),
        (datetime(2021, 1, 1, 10, tzinfo=timezone(timedelta(hours=5, minutes=30))), "2021-01-01T04:30:00.000Z"),
        (datetime(2021, 1, 1, 1, tzinfo=timezone(timedelta(hours=-3))), "2021-01-01T04:00:00.000Z"),
        (_utc(999, 3, 4, 5, 6, 7), "0999-03-04T05:06:07.000Z"),  # always four year digits
        (_utc(1, 1, 1), "0001-01-01T00:00:00.000Z"),
    ],
)
def test_format_utc(instant: datetime, text: str) -> None:
    assert format_utc(instant) == text


_offsets = st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59))
)
# One day of margin either end so the instant stays representable once converted to UTC.
_aware = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=_offsets)


@given(_aware)
@example(datetime(2021, 1, 1, 10, 0, 0, 999999, tzinfo=UTC))
@example(datetime(1970, 1, 1, tzinfo=timezone(timedelta(hours=-12))))
def test_format_utc_round_trips_to_millisecond(instant: datetime) -> None:
    text = format_utc(instant)
    utc = instant.astimezone(UTC)
    truncated = utc.replace(microsecond=utc.microsecond // 1000 * 1000)
    assert parse_iso(text) == (truncated, True)
    assert parse_utc_strict(text) == truncated


_minute_offsets = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-(24 * 60 - 1), 24 * 60 - 1)
)


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=_minute_offsets))
def test_parse_iso_agrees_with_isoformat(instant: datetime) -> None:
    assert parse_iso(instant.isoformat()) == (instant.astimezone(UTC), True)
