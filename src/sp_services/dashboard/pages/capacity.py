"""Capacity: a week calendar of one store or one technician, hour rows by day columns, with
sold-out and uncovered slots marked (docs/design.md §8; services/capacity_week.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from sp_services.dashboard.auth import Viewer, signed_in
from sp_services.dashboard.web import Page, not_found, render
from sp_services.domain.demand import RESERVATION_TYPES
from sp_services.services import dispatch
from sp_services.services.capacity_week import Week, monday_of, store_week, technician_week

router = APIRouter()
PAGE = Page("/dashboard/capacity", "Capacity", 30)
QUIET_HOURS = range(8, 18)  # shown when nothing at all happens in the week


def _week_start(text: str | None, timezone: str, now: datetime) -> date:
    try:
        return monday_of(date.fromisoformat(text)) if text else monday_of(now.astimezone(ZoneInfo(timezone)).date())
    except ValueError:
        return monday_of(now.astimezone(ZoneInfo(timezone)).date())


def visible_hours(week: Week) -> list[int]:
    """The hours from the first to the last in which anything is scheduled, reserved, booked or
    listed on any day of the week."""
    busy = [
        h
        for h, row in enumerate(week.hours)
        if any(c.scheduled or c.reserved or c.booked or (c.slots and c.slots.listed) for c in row)
    ]
    return list(range(busy[0], busy[-1] + 1)) if busy else list(QUIET_HOURS)


def chart_data(week: Week) -> dict[str, Any]:
    """Per day, in hours: what the chart on the page draws (static/dashboard.js)."""
    return {
        "labels": [d.strftime("%a %d") for d in week.days],
        "series": [
            {"label": "Scheduled", "values": [round(t.scheduled / 60, 2) for t in week.day_totals]},
            {"label": "Reserved", "values": [round(t.reserved / 60, 2) for t in week.day_totals]},
            {"label": "Booked", "values": [round(t.booked / 60, 2) for t in week.day_totals]},
        ],
    }


@router.get("/capacity", response_class=HTMLResponse)
async def capacity(request: Request, viewer: Viewer = Depends(signed_in)) -> HTMLResponse:
    seller, market = viewer.seller_id, viewer.marketplace_id
    wanted_store = request.query_params.get("store")
    wanted_tech = request.query_params.get("technician")
    week_text = request.query_params.get("week")

    def read(session: Session, now: datetime) -> tuple[dispatch.Catalog, Week | None, bool]:
        catalog = dispatch.catalog_of(session, seller_id=seller, marketplace_id=market)
        if wanted_tech:
            tech = next((t for t in catalog.technicians if t.technician_id == wanted_tech), None)
            home = catalog.timezone_of(tech.store_ids[0]) if tech and tech.store_ids else None
            first = _week_start(week_text, home or "UTC", now)
            week = technician_week(session, seller_id=seller, technician_id=wanted_tech, first=first, now=now)
            return catalog, week, True
        store_id = wanted_store or (catalog.stores[0].store_id if catalog.stores else None)
        if store_id is None:
            return catalog, None, False
        first = _week_start(week_text, catalog.timezone_of(store_id) or "UTC", now)
        week = store_week(session, seller_id=seller, store_id=store_id, first=first, now=now)
        return catalog, week, True

    catalog, week, asked = await viewer.read(read)
    if week is None and asked:
        return not_found(request, viewer, "store or technician")
    context: dict[str, Any] = {"catalog": catalog, "week": week, "reservation_types": RESERVATION_TYPES}
    if week is not None:
        context |= {
            "hours": visible_hours(week),
            "chart": chart_data(week),
            "previous_week": (week.days[0] - timedelta(days=7)).isoformat(),
            "next_week": (week.days[0] + timedelta(days=7)).isoformat(),
            "selection": {"technician": wanted_tech}
            if wanted_tech
            else {"store": week.store.store_id if week.store else ""},
        }
    return render(request, "capacity.html", context, viewer=viewer)
