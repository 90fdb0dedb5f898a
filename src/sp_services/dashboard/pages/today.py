"""Today: the jobs that need the dispatcher now, counted and listed (docs/design.md §8)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from sp_services.dashboard.auth import Viewer, signed_in
from sp_services.dashboard.web import Page, render
from sp_services.services import dispatch
from sp_services.services.dispatch import Need

router = APIRouter()
PAGE = Page("/dashboard/today", "Today", 10)

# What each list holds, as the page states it (persistence/repositories/dispatch.py is the SQL).
DEFINITIONS: dict[Need, tuple[str, str]] = {
    Need.UNSCHEDULED: (
        "Unscheduled",
        "Jobs in PENDING_SCHEDULE: no appointment is booked yet. Oldest first.",
    ),
    Need.UNASSIGNED: (
        "Unassigned",
        "ACTIVE appointments not yet over (end after now) with no technician assigned. Soonest first.",
    ),
    Need.LATE: (
        "Late",
        "ACTIVE appointments whose window is running (start at or before now, end after now) "
        "with no fulfillment start recorded.",
    ),
    Need.AWAITING_FULFILLMENT: (
        "Awaiting fulfillment data",
        "ACTIVE appointments whose window is over (end at or before now) with no fulfillment end recorded.",
    ),
    Need.READY_TO_COMPLETE: (
        "Ready to complete",
        "ACTIVE appointments with a fulfillment end recorded: the job is still NOT_SERVICED and can be completed.",
    ),
}


@router.get("/today", response_class=HTMLResponse)
async def today(request: Request, viewer: Viewer = Depends(signed_in)) -> HTMLResponse:
    try:
        need = Need(request.query_params.get("need", Need.UNSCHEDULED.value))
    except ValueError:
        need = Need.UNSCHEDULED
    after = request.query_params.get("after")
    seller, market = viewer.seller_id, viewer.marketplace_id

    def read(session: Session, now: datetime) -> tuple[dict[Need, int], dispatch.NeedsPage, dispatch.Catalog, datetime]:
        counts = dispatch.needs_today(session, seller_id=seller, marketplace_id=market, now=now)
        page = dispatch.needs_page(session, seller_id=seller, marketplace_id=market, need=need, after=after, now=now)
        return (
            counts,
            page,
            dispatch.catalog_of(session, seller_id=seller, marketplace_id=market, technicians=False),
            now,
        )

    counts, page, catalog, now = await viewer.read(read)
    return render(
        request,
        "today.html",
        {
            "needs": list(Need),
            "definitions": DEFINITIONS,
            "counts": counts,
            "need": need,
            "page": page,
            "first_page": after is None,
            "catalog": catalog,
            "now": now,
        },
        viewer=viewer,
    )
