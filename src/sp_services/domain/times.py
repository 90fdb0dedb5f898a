"""ISO 8601 parsing and formatting. All instants are timezone-aware UTC datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import unprocessable

_ISO = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?"
    r"(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?)?$"
)


def parse_iso(text: str) -> tuple[datetime, bool] | None:
    """Parse an ISO 8601 date or date-time.

    Returns ``(instant_in_utc, had_explicit_utc_or_offset)``; a time without a zone is read as
    UTC and reported as zone-less. None when the text is not ISO 8601.
    """
    match = _ISO.match(text.strip())
    if match is None:
        return None
    try:
        year, month, day = (int(p) for p in match["date"].split("-"))
        micro = int((match["frac"] or "0")[:6].ljust(6, "0"))
        naive = datetime(year, month, day, int(match["h"] or 0), int(match["m"] or 0), int(match["s"] or 0), micro)
        tz_text = match["tz"]
        if tz_text is None:
            return naive.replace(tzinfo=UTC), False
        if tz_text in ("Z", "z"):
            return naive.replace(tzinfo=UTC), True
        sign = 1 if tz_text[0] == "+" else -1
        digits = tz_text[1:].replace(":", "")
        if int(digits[2:4] or 0) >= 60:
            return None
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        if offset >= timedelta(hours=24):
            return None
        return naive.replace(tzinfo=timezone(sign * offset)).astimezone(UTC), True
    except (ValueError, OverflowError):
        return None


def parse_utc_strict(text: str) -> datetime:
    """Parse a time that must be given in UTC (appointment and fulfillment times).

    Raises the sandbox's 422 messages: ``Failed to parse ISO8601 input: X`` and
    ``ISO8601 time X is not in UTC.``
    """
    parsed = parse_iso(text)
    match = _ISO.match(text.strip())
    if parsed is None or match is None or match["h"] is None:
        raise unprocessable(f"Failed to parse ISO8601 input: {text}")
    zone = match["tz"]
    # UTC means an explicit zone of zero offset: Z, +00, +00:00, +0000 or -00:00.
    if zone is None or (zone not in ("Z", "z") and zone[1:].replace(":", "").strip("0") != ""):
        raise unprocessable(f"ISO8601 time {text} is not in UTC.")
    return parsed[0]


# Capacity work (schedules, reservations, reports, slots) steps days and zone offsets around the
# instants it is given; these bounds keep every such step inside what ``datetime`` can represent.
# A recurrence's end is only ever clipped, so it may reach nearly to the end of year 9999.
CAPACITY_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
CAPACITY_LATEST = datetime(9990, 12, 31, 23, 59, 59, tzinfo=UTC)
RECURRENCE_LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def capacity_instant(instant: datetime, *, latest: datetime = CAPACITY_LATEST) -> bool:
    """True when capacity work can take ``instant`` (see the bounds above)."""
    return CAPACITY_EARLIEST <= instant <= latest


def format_utc(instant: datetime) -> str:
    """Format as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (the model's examples use millisecond precision)."""
    utc = instant.astimezone(UTC)
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def format_utc_micros(instant: datetime) -> str:
    """Format as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``: an instant kept exactly (in page tokens)."""
    utc = instant.astimezone(UTC)
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S}.{utc.microsecond:06d}Z"


def format_utc_seconds(instant: datetime) -> str:
    """Format as ``YYYY-MM-DDTHH:MM:SSZ``: capacity reports and slots use second precision."""
    utc = instant.astimezone(UTC)
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S}Z"


def valid_timezone(name: str) -> bool:
    """True when ``name`` is an IANA timezone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
