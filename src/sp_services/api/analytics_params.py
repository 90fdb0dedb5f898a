"""The query parameters every analytics and report request shares (docs/design.md §6), read as
leniently as the Services API's own (api/params.py), and their OpenAPI description."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import Request

from sp_services.api.params import Params, marketplace_of
from sp_services.domain import ids
from sp_services.domain.analytics_query import MAX_DAYS, AnalyticsQuery, GroupBy
from sp_services.domain.errors import InvalidInput

DEFAULT_DAYS = 30  # without dates: the 30 days ending today
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def analytics_query(request: Request, *, seller_id: str, now: datetime) -> AnalyticsQuery:
    """Parse marketplaceIds, startDate, endDate, groupBy, storeIds and technicianIds; one 400
    naming every bad parameter."""
    p = Params(request)
    start, end = _day(p, "startDate"), _day(p, "endDate")
    group_by = p.enum("groupBy", GroupBy, GroupBy.NONE)
    store_ids = p.array("storeIds", max_items=50, item_max=100)
    technician_ids = p.array("technicianIds", max_items=100, item_pattern=ids.TECHNICIAN_ID)
    marketplace_id = marketplace_of(p)  # raises for every bad parameter seen so far
    try:
        end = end or (start + timedelta(days=DEFAULT_DAYS - 1) if start else now.date())
        start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    except OverflowError:  # a default range reaching past the calendar's first or last day
        raise InvalidInput.params(["startDate", "endDate"], "The range reaches beyond year 1 or 9999.") from None
    if end < start:
        raise InvalidInput.params(["endDate"], "endDate must not be before startDate.")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput.params(["startDate", "endDate"], f"A request covers at most {MAX_DAYS} days.")
    return AnalyticsQuery(seller_id, marketplace_id, start, end, group_by, store_ids, technician_ids)


def _day(p: Params, name: str) -> date | None:
    value = p.string(name, max_length=10, pattern=_DATE)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        p.bad.append(name)
        p.notes.append(f"{name}: not a calendar date")
        return None


def _parameter(name: str, description: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


# For openapi_extra: routes read their parameters themselves (leniently), so FastAPI cannot see them.
ANALYTICS_PARAMETERS: list[dict[str, Any]] = [
    _parameter("marketplaceIds", "The marketplace (one id).", {"type": "string"}, required=True),
    _parameter("startDate", f"First store-local day (ISO date). Default: {DEFAULT_DAYS} days before endDate.",
               {"type": "string", "format": "date"}),
    _parameter("endDate", f"Last store-local day (ISO date), at most {MAX_DAYS} days after startDate. Default: today.",
               {"type": "string", "format": "date"}),
    _parameter("groupBy", "One row per day, ISO week, month, or the whole range (none).",
               {"type": "string", "enum": [g.value for g in GroupBy], "default": "none"}),
    _parameter("storeIds", "Only these stores (comma-separated or repeated). Default: all.",
               {"type": "array", "items": {"type": "string"}}),
    _parameter("technicianIds", "Only these technicians (comma-separated or repeated). Default: all.",
               {"type": "array", "items": {"type": "string"}}),
]  # fmt: skip
