"""Capacity against demand: GET /analytics/v1/capacity (getCapacityAnalytics, docs/design.md §7)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from sp_services.api import wire
from sp_services.api.analytics_params import ANALYTICS_PARAMETERS, analytics_query
from sp_services.api.context import authorize
from sp_services.domain.analytics_query import GroupBy
from sp_services.domain.demand import RESERVATION_TYPES
from sp_services.services import demand as service
from sp_services.services.demand import DemandRow

router = APIRouter(prefix="/analytics/v1", tags=["analytics"])

_MINUTES = {"type": "integer", "description": "capacity-minutes (capacity x minutes)"}
_RATIO_NOTE = "rounded to 4 places; null when the denominator is not positive"
_RATIO = {"type": ["number", "null"]}
_COUNT = {"type": "integer"}
_ROW: dict[str, Any] = {
    "type": "object",
    "required": [
        "startDate",
        "endDate",
        "hasSchedule",
        "scheduledMinutes",
        "reservedMinutes",
        "encumberedMinutes",
        "availableMinutes",
        "utilisation",
        "committed",
    ],
    "properties": {
        "date": {"type": "string", "format": "date", "description": "groupBy=day: the store-local day"},
        "period": {"type": "string", "description": "groupBy=week|month: 2026-W49 or 2026-11"},
        "startDate": {"type": "string", "format": "date", "description": "first day summed (within the range)"},
        "endDate": {"type": "string", "format": "date", "description": "last day summed (within the range)"},
        "storeId": {"type": "string", "description": "the store; on a technician row its home (first) store"},
        "technicianId": {"type": "string", "description": "technician rows only (technicianIds given)"},
        "hasSchedule": {"type": "boolean", "description": "the resource has a published schedule"},
        "scheduledMinutes": _MINUTES,
        "reservedMinutes": {
            "type": "object",
            "properties": {
                "total": _MINUTES,
                "byType": {"type": "object", "properties": {kind.value: _MINUTES for kind in RESERVATION_TYPES}},
            },
        },
        "encumberedMinutes": _MINUTES,
        "availableMinutes": {**_MINUTES, "description": "scheduled - reserved - encumbered (may be negative)"},
        "utilisation": {**_RATIO, "description": f"encumbered / (scheduled - reserved); {_RATIO_NOTE}"},
        "committed": {**_RATIO, "description": f"(encumbered + reserved) / scheduled; {_RATIO_NOTE}"},
        "unservedDemandMinutes": {**_COUNT, "description": "store rows: minutes of jobs left waiting that day"},
        "listedSlots": {**_COUNT, "description": "store rows: slots listed, over every offering"},
        "soldOutSlots": {**_COUNT, "description": "store rows: listed slots with capacity 0"},
        "uncoveredSlots": {**_COUNT, "description": "store rows: slots with capacity no qualified technician can take"},
    },
}
_ERRORS: dict[str, Any] = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorList"}}}}
_PAYLOAD: dict[str, Any] = {
    "type": "object",
    "properties": {
        "startDate": {"type": "string", "format": "date"},
        "endDate": {"type": "string", "format": "date"},
        "groupBy": {"type": "string", "enum": [g.value for g in GroupBy]},
        "days": {"type": "array", "items": _ROW},
    },
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Capacity against demand per store (and technician) per store-local day or period.",
        "content": {"application/json": {"schema": {"type": "object", "properties": {"payload": _PAYLOAD}}}},
    },
    400: {"description": "Bad parameters, or unknown storeIds / technicianIds (named).", **_ERRORS},
    403: {"description": "No valid token, or another seller's store or technician.", **_ERRORS},
    429: {"description": "Usage plan exhausted.", **_ERRORS},
}


@router.get(
    "/capacity",
    operation_id="getCapacityAnalytics",
    summary="Capacity against demand: capacity-minutes, utilisation, unserved demand, sold-out and uncovered slots",
    openapi_extra={"parameters": ANALYTICS_PARAMETERS},
    responses=RESPONSES,
)
async def get_capacity_analytics(request: Request) -> Response:
    principal, ctx = await authorize(request, "getCapacityAnalytics")
    query = analytics_query(request, seller_id=principal.seller_id, now=ctx.now())

    result = await ctx.run(
        lambda s, now: service.capacity_demand(s, query=query, now=now),
        write=False,
        timeout=ctx.settings.analytics_timeout,
    )
    payload = {"startDate": query.start.isoformat(), "endDate": query.end.isoformat(), "groupBy": query.group_by.value}
    return wire.JSON({"payload": payload | {"days": [wire_row(r, result.group_by) for r in result.rows]}})


def wire_row(row: DemandRow, group_by: GroupBy) -> dict[str, Any]:
    """One row of `payload.days` (camelCase; store-only measures left out of technician rows)."""
    p, m = row.period, row.period.measures
    out: dict[str, Any] = {}
    if group_by is GroupBy.DAY:
        out["date"] = p.first.isoformat()
    elif p.label is not None:
        out["period"] = p.label
    out["startDate"], out["endDate"] = p.first.isoformat(), p.last.isoformat()
    if row.store_id is not None:
        out["storeId"] = row.store_id
    if row.technician_id is not None:
        out["technicianId"] = row.technician_id
    out |= {
        "hasSchedule": row.has_schedule,
        "scheduledMinutes": m.scheduled,
        "reservedMinutes": {
            "total": m.reserved_total,
            "byType": {kind.value: n for kind, n in zip(RESERVATION_TYPES, m.reserved, strict=True)},
        },
        "encumberedMinutes": m.encumbered,
        "availableMinutes": m.available,
        "utilisation": m.utilisation,
        "committed": m.committed,
    }
    if row.technician_id is None:
        out |= {
            "unservedDemandMinutes": m.unserved,
            "listedSlots": m.listed,
            "soldOutSlots": m.sold_out,
            "uncoveredSlots": m.uncovered,
        }
    return out
