"""Demand vs capacity: getCapacityAnalytics (/analytics/v1/capacity) per store, per day, week or
month: scheduled, available and booked capacity-minutes, utilisation and the demand left waiting,
charted with uPlot and tabled (docs/design.md §7 and §8).

The rows are the API's own use case (services/demand.py: capacity_demand), asked for the stores of
the page shown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from sp_services.dashboard.auth import Viewer, signed_in
from sp_services.dashboard.ranges import Paged, context, page_of, period_name, read_range, refused
from sp_services.dashboard.web import Page, render
from sp_services.domain.analytics_query import AnalyticsQuery, GroupBy
from sp_services.domain.catalog import Store
from sp_services.domain.demand import RESERVATION_TYPES
from sp_services.domain.errors import InvalidInput
from sp_services.services import demand, dispatch
from sp_services.services.demand import DemandRow

router = APIRouter()
PAGE = Page("/dashboard/demand", "Demand vs capacity", 50)
PAGE_SIZE = 5  # stores per page


def _hours(minutes: int | None) -> float | None:
    return None if minutes is None else round(minutes / 60, 2)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def charts(rows: list[DemandRow]) -> dict[str, Any]:
    """A store's two charts over the periods: capacity in hours, and utilisation and commitment in %."""
    labels = [period_name(r.period.label, r.period.first, r.period.last) for r in rows]
    m = [r.period.measures for r in rows]
    return {
        "minutes": {
            "labels": labels,
            "x": "Period",
            "unit": "hours",
            "series": [
                {"label": "Scheduled", "values": [_hours(d.scheduled) for d in m]},
                {"label": "Available", "values": [_hours(d.available) for d in m]},
                {"label": "Booked", "values": [_hours(d.encumbered) for d in m]},
                {"label": "Unserved demand", "values": [_hours(d.unserved) for d in m]},
            ],
        },
        "ratios": {
            "labels": labels,
            "x": "Period",
            "unit": "%",
            "series": [
                {"label": "Utilisation", "values": [_percent(d.utilisation) for d in m]},
                {"label": "Committed", "values": [_percent(d.committed) for d in m]},
            ],
        },
    }


@dataclass(frozen=True)
class StoreView:
    store: Store
    has_schedule: bool
    rows: list[DemandRow]
    charts: dict[str, Any]


@dataclass(frozen=True)
class Board:
    paged: Paged
    stores: list[StoreView]


def board(session: Session, *, asked: AnalyticsQuery, request: Request, now: datetime) -> Board:
    """The page's stores (by name) and their rows of capacity against demand."""
    catalog = dispatch.catalog_of(
        session, seller_id=asked.seller_id, marketplace_id=asked.marketplace_id, technicians=False
    )
    everyone = sorted(catalog.stores, key=lambda s: (s.name, s.store_id))
    shown, paged = page_of(request, everyone, PAGE_SIZE)
    if not shown:
        return Board(paged, [])
    ids = tuple(s.store_id for s in shown)
    result = demand.capacity_demand(session, query=replace(asked, store_ids=ids, technician_ids=()), now=now)
    by_store: dict[str, list[DemandRow]] = {}
    for row in result.rows:
        if row.store_id is not None:
            by_store.setdefault(row.store_id, []).append(row)
    views = []
    for store in shown:
        rows = by_store.get(store.store_id, [])
        views.append(StoreView(store, any(r.has_schedule for r in rows), rows, charts(rows)))
    return Board(paged, views)


@router.get("/demand", response_class=HTMLResponse)
async def demand_page(request: Request, viewer: Viewer = Depends(signed_in)) -> HTMLResponse:
    try:
        asked = read_range(request, viewer, group_by=GroupBy.DAY)
    except InvalidInput as error:
        return refused(request, viewer, "demand.html", error)
    found = await viewer.read(lambda s, now: board(s, asked=asked, request=request, now=now), analytics=True)
    return render(
        request,
        "demand.html",
        context(asked, found.paged) | {"stores": found.stores, "reservation_types": RESERVATION_TYPES},
        viewer=viewer,
    )
