"""Payments: getPaymentAnalytics (/analytics/v1/payments) per day, week or month and currency: the
gross of the jobs completed and the value of those cancelled, charted with uPlot per currency and
tabled (docs/design.md §6 and §8). The rows are the API's own use case
(services/analytics.py: payment_analytics)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from sp_services.dashboard.auth import Viewer, signed_in
from sp_services.dashboard.ranges import context, period_name, read_range, refused
from sp_services.dashboard.web import Page, render
from sp_services.domain.analytics_query import AnalyticsQuery, GroupBy
from sp_services.domain.errors import InvalidInput
from sp_services.services import analytics
from sp_services.services.analytics import PaymentRow

router = APIRouter()
PAGE = Page("/dashboard/payments", "Payments", 60)


def charts(rows: tuple[PaymentRow, ...]) -> dict[str, dict[str, Any]]:
    """One chart per currency (in the order the API lists them): gross and cancelled value per period."""
    by_currency: dict[str, list[PaymentRow]] = {}
    for row in rows:
        by_currency.setdefault(row.metrics.currency, []).append(row)
    return {
        currency: {
            "labels": [period_name(r.period.label, r.period.first, r.period.last) for r in rs],
            "x": "Period",
            "unit": currency,
            "series": [
                {"label": "Gross (completed)", "values": [float(r.metrics.gross) for r in rs]},
                {"label": "Cancelled value", "values": [float(r.metrics.cancelled_value) for r in rs]},
            ],
        }
        for currency, rs in by_currency.items()
    }


def report(session: Session, *, asked: AnalyticsQuery, now: datetime) -> tuple[PaymentRow, ...]:
    return analytics.payment_analytics(session, query=asked, now=now).rows


@router.get("/payments", response_class=HTMLResponse)
async def payments(request: Request, viewer: Viewer = Depends(signed_in)) -> HTMLResponse:
    try:
        asked = read_range(request, viewer, group_by=GroupBy.WEEK)
    except InvalidInput as error:
        return refused(request, viewer, "payments.html", error)
    rows = await viewer.read(lambda s, now: report(s, asked=asked, now=now), analytics=True)
    return render(request, "payments.html", context(asked) | {"rows": rows, "charts": charts(rows)}, viewer=viewer)
