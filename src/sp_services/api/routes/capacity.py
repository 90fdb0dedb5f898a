"""Resource capacity: updateSchedule, getRangeSlotCapacity, getFixedSlotCapacity."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sp_services.api.availability import availability_wire, parse_availability
from sp_services.api.context import authorize
from sp_services.api.params import Params, json_body, marketplace_of
from sp_services.domain import ids
from sp_services.domain.capacity import minute_text, to_minute
from sp_services.domain.errors import InvalidInput
from sp_services.domain.recurrence import ceil_minute
from sp_services.domain.resources import CapacityType
from sp_services.domain.times import capacity_instant, format_utc_seconds, parse_iso
from sp_services.services import capacity as service
from sp_services.services import capacity_reports as reports

router = APIRouter(prefix="/service/v1", tags=["service"])

OVERRIDE_WARNING = {
    "code": "ScheduleOverride",
    "message": "This AvailabilityRecord will override the current schedule as the time-ranges overlap",
}


@router.put("/serviceResources/{resourceId}/schedules", operation_id="updateSchedule")
async def update_schedule(request: Request, resourceId: str) -> Any:
    principal, ctx = await authorize(request, "updateSchedule")
    body = await json_body(request)
    if not ids.RESOURCE_ID.match(resourceId):
        raise InvalidInput.params(["resourceId"])
    marketplace_id = marketplace_of(Params(request, body, body_fallbacks=("marketplaceIds",)))
    raw = body.get("schedules") if isinstance(body, dict) else None
    if not isinstance(raw, list) or not raw:
        raise InvalidInput.params(["schedule"], "schedules must be a non-empty list of availability records.")
    if len(raw) > 1000:
        raise InvalidInput.params(["schedule"], "At most 1000 availability records.")
    records = [parse_availability(r, f"schedules[{i}]") for i, r in enumerate(raw)]
    update = await ctx.run(
        lambda s, now: service.update_schedule(
            s,
            seller_id=principal.seller_id,
            resource_id=resourceId,
            marketplace_id=marketplace_id,
            records=records,
            now=now,
        )
    )
    payload: list[dict[str, Any]] = [
        {"availability": availability_wire(records[i]), "warnings": [OVERRIDE_WARNING]} for i in update.overridden
    ]
    if update.over_capacity:
        payload.append({"warnings": [over_capacity_warning(update.over_capacity)]})
    return {"payload": payload} if payload else {}


def over_capacity_warning(appointment_ids: list[str]) -> dict[str, str]:
    """The schedule leaves these ACTIVE appointments over capacity: they are kept, never dropped."""
    return {
        "code": "AppointmentsOverCapacity",
        "message": "The new schedule leaves ACTIVE appointments over the resource's capacity; they are kept.",
        "details": f"appointmentIds: {', '.join(appointment_ids)}",
    }


@dataclass(frozen=True)
class ReportQuery:
    """A parsed getRangeSlotCapacity / getFixedSlotCapacity request."""

    marketplace_id: str
    page_token: str | None
    start: datetime
    end: datetime
    types: tuple[CapacityType, ...]
    slot_duration: int = 5  # getFixedSlotCapacity only


def _report_query(request: Request, body: Any, resource_id: str, *, fixed: bool) -> ReportQuery:
    """Parse a capacity query body with the reports' own error wording."""
    if not ids.RESOURCE_ID.match(resource_id):
        raise reports.report_error("Missing or invalid request parameters: [resourceId]")
    p = Params(request, body, body_fallbacks=("marketplaceIds", "nextPageToken"))
    try:
        marketplace_id = marketplace_of(p)
    except InvalidInput:
        raise reports.report_error("Missing or invalid request parameters: [marketplaceIds]") from None
    token = p.string("nextPageToken", max_length=2000)
    if "nextPageToken" in p.bad:
        raise reports.report_error("nextPageToken is not valid")
    query = body if isinstance(body, dict) else {}
    start, end = _report_instant(query, "startDateTime"), _report_instant(query, "endDateTime")
    if end <= start:
        raise reports.report_error("endDateTime should be after Start Time")
    raw_types = query.get("capacityTypes")
    if raw_types is None or raw_types == []:
        raw_types = [t.value for t in CapacityType]  # none asked for: all four
    if not isinstance(raw_types, list) or any(t not in CapacityType.__members__.values() for t in raw_types):
        raise reports.report_error("capacityTypes is not valid")
    types = tuple(CapacityType(t) for t in dict.fromkeys(raw_types))
    sent = query.get("slotDuration")
    duration = 5 if sent is None or not fixed else _slot_duration(sent)  # absent or null: the default
    return ReportQuery(marketplace_id, token, start, end, types, duration)


def _report_instant(query: dict[str, Any], name: str) -> datetime:
    if query.get("startDateTime") is None or query.get("endDateTime") is None:
        raise reports.report_error("startDateTime or endDateTime are not present")
    raw = query[name]
    parsed = parse_iso(raw) if isinstance(raw, str) else None
    if parsed is None or not capacity_instant(parsed[0]):
        raise reports.report_error(f"{name} is not a valid ISO date/time object")
    return parsed[0]


def _slot_duration(duration: Any) -> int:
    if (
        isinstance(duration, bool)
        or not isinstance(duration, int | float)
        or not math.isfinite(duration)
        or duration != int(duration)
        or not 5 <= duration <= 360
        or int(duration) % 5
    ):
        raise reports.report_error("Slot duration is not valid, it should be a multiple of 5 and within allowed range.")
    return int(duration)


@router.post("/serviceResources/{resourceId}/capacity/range", operation_id="getRangeSlotCapacity")
async def get_range_slot_capacity(request: Request, resourceId: str) -> Any:
    principal, ctx = await authorize(request, "getRangeSlotCapacity")
    q = _report_query(request, await json_body(request), resourceId, fixed=False)
    report = await ctx.run(
        lambda s, _now: reports.range_capacity(
            s,
            seller_id=principal.seller_id,
            resource_id=resourceId,
            marketplace_id=q.marketplace_id,
            types=list(q.types),
            start=q.start,
            end=q.end,
            page_token=q.page_token,
            secret=ctx.settings.resolved_secret_key,
        ),
        write=False,
    )
    text = _window_text(q)
    body: dict[str, Any] = {"resourceId": report.resource_id}
    if report.next_token:
        body["nextPageToken"] = report.next_token
    body["capacities"] = [
        {
            "capacityType": kind.value,
            "slots": [{"startDateTime": text(s), "endDateTime": text(e), "capacity": v} for s, e, v in runs],
        }
        for kind, runs in report.capacities
    ]
    return JSONResponse(body)


def _window_text(q: ReportQuery) -> Callable[[int], str]:
    """Minute -> text, except that the window's own ends read as sent (to the second): runs and
    buckets are clipped to the window exactly, even where it does not start on a whole minute."""
    exact = {to_minute(q.start): format_utc_seconds(q.start), to_minute(ceil_minute(q.end)): format_utc_seconds(q.end)}
    return lambda m: exact.get(m) or minute_text(m)


_FIXED_FIELDS = {
    CapacityType.SCHEDULED: ("scheduledCapacity", 1),
    CapacityType.AVAILABLE: ("availableCapacity", 2),
    CapacityType.RESERVED: ("reservedCapacity", 3),
    CapacityType.ENCUMBERED: ("encumberedCapacity", 4),
}


@router.post("/serviceResources/{resourceId}/capacity/fixed", operation_id="getFixedSlotCapacity")
async def get_fixed_slot_capacity(request: Request, resourceId: str) -> Any:
    principal, ctx = await authorize(request, "getFixedSlotCapacity")
    q = _report_query(request, await json_body(request), resourceId, fixed=True)
    report = await ctx.run(
        lambda s, _now: reports.fixed_capacity(
            s,
            seller_id=principal.seller_id,
            resource_id=resourceId,
            marketplace_id=q.marketplace_id,
            slot_duration=q.slot_duration,
            start=q.start,
            end=q.end,
            page_token=q.page_token,
            secret=ctx.settings.resolved_secret_key,
        ),
        write=False,
    )
    fields = [_FIXED_FIELDS[k] for k in q.types]
    body: dict[str, Any] = {"resourceId": report.resource_id, "slotDuration": report.slot_duration}
    if report.next_token:
        body["nextPageToken"] = report.next_token
    text = _window_text(q)
    body["capacities"] = [{"startDateTime": text(b[0]), **{name: b[i] for name, i in fields}} for b in report.buckets]
    return JSONResponse(body)
