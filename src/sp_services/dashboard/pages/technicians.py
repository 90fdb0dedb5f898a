"""Technicians: the scorecards of getTechnicianPerformance (/analytics/v1/technicians) over a range,
and their trends per day, week or month, drawn with uPlot (docs/design.md §6 and §8).

Both are the API's own use case (services/analytics.py: technician_performance), asked for the
technicians of the page shown: the scorecards over the whole range, the trends grouped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from sp_services.dashboard.auth import Viewer, signed_in
from sp_services.dashboard.ranges import Paged, context, page_of, read_range, refused
from sp_services.dashboard.web import Page, render
from sp_services.domain.analytics_metrics import ServiceMetrics
from sp_services.domain.analytics_query import AnalyticsQuery, GroupBy
from sp_services.domain.errors import InvalidInput
from sp_services.services import analytics, dispatch
from sp_services.services.analytics import TechnicianRow

router = APIRouter()
PAGE = Page("/dashboard/technicians", "Technicians", 40)
PAGE_SIZE = 20  # technicians per page

# The scorecard, in the API's order and under its names (api/routes/analytics.py):
# (wire field, ServiceMetrics attribute, label, how it is shown).
METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("appointmentsServed", "appointments_served", "Appointments served", "count"),
    ("onTimeStartRate", "on_time_start_rate", "On-time starts", "rate"),
    ("earlyStarts", "early_starts", "Early starts", "count"),
    ("lateStarts", "late_starts", "Late starts", "count"),
    ("latenessMinutesMedian", "lateness_minutes_median", "Lateness, median (min)", "number"),
    ("latenessMinutesP90", "lateness_minutes_p90", "Lateness, 90th percentile (min)", "number"),
    ("completedWithinWindowRate", "completed_within_window_rate", "Done within the window", "rate"),
    ("durationAdherence", "duration_adherence", "Minutes worked / planned", "rate"),
    ("technicianNoShows", "technician_no_shows", "Technician no-shows", "count"),
    ("buyerNoShows", "buyer_no_shows", "Buyer no-shows", "count"),
    ("fulfillmentBreaks", "fulfillment_breaks", "Fulfillment breaks", "count"),
    ("jobsCompleted", "jobs_completed", "Jobs completed", "count"),
    ("firstVisitCompletionRate", "first_visit_completion_rate", "First-visit completion", "rate"),
)


@dataclass(frozen=True)
class Figure:
    """One figure of a scorecard: the API's field name, its value as the API sends it, as shown."""

    field: str
    label: str
    value: Any
    shown: str


def _shown(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "number":
        return f"{value:g}"
    return str(value)


def scorecard(m: ServiceMetrics) -> list[Figure]:
    figures = [Figure(f, label, getattr(m, attr), _shown(getattr(m, attr), kind)) for f, attr, label, kind in METRICS]
    revenue = [{"value": float(r.value), "currency": r.currency} for r in m.revenue]
    shown = ", ".join(f"{_amount(r.value)} {r.currency}" for r in m.revenue) or "—"
    return [*figures, Figure("revenue", "Revenue", revenue, shown)]


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def _series(rows: list[TechnicianRow], field: str, scale: float) -> list[float | None]:
    values = [getattr(r.metrics, field) for r in rows]
    return [None if v is None else round(v * scale, 2) for v in values]


def trends(rows: tuple[TechnicianRow, ...], names: dict[str, str]) -> dict[str, Any]:
    """Two charts over the periods, a series per technician: appointments served, on-time starts (%)."""
    by_tech: dict[str, list[TechnicianRow]] = {}
    for row in rows:
        by_tech.setdefault(row.technician_id, []).append(row)
    labels = [r.period.label or "" for r in next(iter(by_tech.values()), [])]
    return {
        "served": {
            "labels": labels,
            "x": "Period",
            "unit": "appointments",
            "series": [
                {"label": names[t], "values": _series(rs, "appointments_served", 1)} for t, rs in by_tech.items()
            ],
        },
        "on_time": {
            "labels": labels,
            "x": "Period",
            "unit": "% on time",
            "series": [
                {"label": names[t], "values": _series(rs, "on_time_start_rate", 100)} for t, rs in by_tech.items()
            ],
        },
    }


@dataclass(frozen=True)
class Board:
    paged: Paged
    cards: list[tuple[TechnicianRow, list[Figure]]]
    charts: dict[str, Any] | None


def board(session: Session, *, asked: AnalyticsQuery, request: Request, now: datetime) -> Board:
    """The page's technicians (by name), their scorecards over the range and, when grouped, their trends."""
    catalog = dispatch.catalog_of(session, seller_id=asked.seller_id, marketplace_id=asked.marketplace_id)
    everyone = sorted(catalog.technicians, key=lambda t: (t.name, t.technician_id))
    shown, paged = page_of(request, everyone, PAGE_SIZE)
    if not shown:
        return Board(paged, [], None)
    ids = tuple(t.technician_id for t in shown)
    whole = analytics.technician_performance(
        session, query=replace(asked, group_by=GroupBy.NONE, technician_ids=ids), now=now
    )
    cards = [(row, scorecard(row.metrics)) for row in whole.rows]
    if asked.group_by is GroupBy.NONE:
        return Board(paged, cards, None)
    grouped = analytics.technician_performance(session, query=replace(asked, technician_ids=ids), now=now)
    names = {t.technician_id: t.name for t in shown}
    return Board(paged, cards, trends(grouped.rows, names))


@router.get("/technicians", response_class=HTMLResponse)
async def technicians(request: Request, viewer: Viewer = Depends(signed_in)) -> HTMLResponse:
    try:
        asked = read_range(request, viewer, group_by=GroupBy.WEEK)
    except InvalidInput as error:
        return refused(request, viewer, "technicians.html", error)
    found = await viewer.read(lambda s, now: board(s, asked=asked, request=request, now=now), analytics=True)
    return render(
        request,
        "technicians.html",
        context(asked, found.paged) | {"cards": found.cards, "charts": found.charts},
        viewer=viewer,
    )
