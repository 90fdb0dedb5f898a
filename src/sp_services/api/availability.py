"""Wire <-> domain for AvailabilityRecord, Recurrence and Reservation bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sp_services.domain.errors import InvalidInput
from sp_services.domain.recurrence import Availability, Recurrence
from sp_services.domain.times import (
    CAPACITY_LATEST,
    RECURRENCE_LATEST,
    capacity_instant,
    format_utc,
    parse_iso,
)

DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


def _instant(value: Any, name: str, bad: list[str], *, latest: datetime = CAPACITY_LATEST) -> Any:
    parsed = parse_iso(value) if isinstance(value, str) else None
    if parsed is None or "T" not in value.upper() or not capacity_instant(parsed[0], latest=latest):
        bad.append(name)
        return None
    return parsed[0]


def parse_availability(raw: Any, name: str) -> Availability:
    """Parse an AvailabilityRecord; 400 naming the record's bad fields (times may carry any offset)."""
    if not isinstance(raw, dict):
        raise InvalidInput.params([name], f"{name} must be an object")
    bad: list[str] = []
    start = _instant(raw.get("startTime"), f"{name}.startTime", bad)
    end = _instant(raw.get("endTime"), f"{name}.endTime", bad)
    capacity = raw.get("capacity")
    if capacity is None:  # absent or null: the model's default
        capacity = 1
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 1 <= capacity <= 100_000:
        bad.append(f"{name}.capacity")
    recurrence = None
    if raw.get("recurrence") is not None:
        rec = raw["recurrence"]
        if not isinstance(rec, dict):
            bad.append(f"{name}.recurrence")
        else:
            rec_end = _instant(rec.get("endTime"), f"{name}.recurrence.endTime", bad, latest=RECURRENCE_LATEST)
            dow = rec.get("daysOfWeek") or []
            dom = rec.get("daysOfMonth") or []
            if not isinstance(dow, list) or any(d not in DAYS for d in dow):
                bad.append(f"{name}.recurrence.daysOfWeek")
                dow = []
            if not isinstance(dom, list) or any(
                not isinstance(d, int) or isinstance(d, bool) or not 1 <= d <= 31 for d in dom
            ):
                bad.append(f"{name}.recurrence.daysOfMonth")
                dom = []
            if rec_end is not None:
                recurrence = Recurrence(rec_end, frozenset(DAYS.index(d) for d in dow), frozenset(dom))
    if bad:
        raise InvalidInput.params(bad)
    return Availability(start, end, capacity, recurrence)


def availability_wire(a: Availability) -> dict[str, Any]:
    record: dict[str, Any] = {"startTime": format_utc(a.start), "endTime": format_utc(a.end), "capacity": a.capacity}
    if a.recurrence is not None:
        r = a.recurrence
        recurrence: dict[str, Any] = {"endTime": format_utc(r.end)}
        if r.days_of_week:
            recurrence["daysOfWeek"] = [DAYS[d] for d in sorted(r.days_of_week)]
        if r.days_of_month:
            recurrence["daysOfMonth"] = sorted(r.days_of_month)
        record["recurrence"] = recurrence
    return record
