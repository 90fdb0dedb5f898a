"""Post-fulfillment analytics (docs/design.md §6): GET /analytics/v1/technicians, /stores and
/payments (getTechnicianPerformance, getStorePerformance, getPaymentAnalytics).

Same LWA token, usage plans and seller scoping as /service/v1, the SP-API envelope
(``{"payload": …}``) and error body. Rows carry every metric, ``null`` where its set is empty.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response

from sp_services.api import wire
from sp_services.api.analytics_params import ANALYTICS_PARAMETERS, analytics_query
from sp_services.api.context import AppContext, authorize
from sp_services.domain.analytics_metrics import Money, Period, ServiceMetrics
from sp_services.domain.analytics_query import AnalyticsQuery, GroupBy
from sp_services.domain.reason_codes import Cause
from sp_services.services import analytics as service

router = APIRouter(prefix="/analytics/v1", tags=["analytics"])

# ---- the 200 bodies, for /openapi.json and /docs ----------------------------------------------

_INT = {"type": "integer"}
_RATE = {"type": ["number", "null"], "description": "0…1, rounded to 4 places; null over an empty set"}
_NUMBER_OR_NULL = {"type": ["number", "null"], "description": "rounded to 2 places; null over an empty set"}
_MONEY = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"value": {"type": "number"}, "currency": {"type": "string"}},
        "required": ["value", "currency"],
    },
}
_PERIOD = {
    "period": {"type": "string", "description": "when grouped: 2026-11-30 (day), 2026-W49 (ISO week), 2026-11"},
    "startDate": {"type": "string", "format": "date", "description": "the row's first store-local day"},
    "endDate": {"type": "string", "format": "date", "description": "the row's last store-local day"},
}
_SERVICE = {
    "appointmentsServed": {**_INT, "description": "appointments whose window has ended with a fulfillment start"},
    "onTimeStartRate": {**_RATE, "description": "of served: started from 30 min early to 15 min late"},
    "earlyStarts": {**_INT, "description": "served, started more than 30 minutes before the window"},
    "lateStarts": {**_INT, "description": "served, started more than 15 minutes after the window's start"},
    "latenessMinutesMedian": {**_NUMBER_OR_NULL, "description": "late starts: minutes after the start, median"},
    "latenessMinutesP90": {**_NUMBER_OR_NULL, "description": "late starts: minutes after the start, 90th percentile"},
    "completedWithinWindowRate": {**_RATE, "description": "of served: fulfillment ended by window end + 15 min"},
    "durationAdherence": {**_RATE, "description": "minutes worked / minutes planned, over served"},
    "technicianNoShows": _INT,
    "buyerNoShows": _INT,
    "fulfillmentBreaks": {**_INT, "description": "cancellations and reschedules of cause provider"},
    "jobsCompleted": _INT,
    "firstVisitCompletionRate": {**_RATE, "description": "of completed: never moved for a provider or scope cause"},
    "revenue": {**_MONEY, "description": "payments of the jobs completed, per currency"},
}
_TECHNICIAN = {
    "type": "object",
    "properties": {"technicianId": {"type": "string"}, "name": {"type": "string"}, **_PERIOD, **_SERVICE},
}
_STORE = {
    "type": "object",
    "properties": {
        "storeId": {"type": "string"},
        "name": {"type": "string"},
        **_PERIOD,
        **_SERVICE,
        "meanTimeToScheduleHours": {**_NUMBER_OR_NULL, "description": "job created → first appointment booked"},
        "meanLeadTimeHours": {**_NUMBER_OR_NULL, "description": "appointment booked → its start"},
        "jobsCreated": _INT,
        "jobsCancelled": {
            "type": "object",
            "properties": {
                "total": _INT,
                "byCause": {"type": "object", "properties": {cause.value: _INT for cause in Cause}},
            },
        },
    },
}
_PAYMENT = {
    "type": "object",
    "properties": {
        **_PERIOD,
        "currency": {"type": "string"},
        "gross": {"type": "number", "description": "payments of the jobs completed"},
        "cancelledValue": {"type": "number", "description": "payments of the jobs cancelled"},
        "jobsPaid": {**_INT, "description": "jobs completed with a payment in this currency"},
        "technicians": {
            "type": "array",
            "description": "each technician's even share of the jobs it completed",
            "items": {
                "type": "object",
                "properties": {"technicianId": {"type": "string"}, "gross": {"type": "number"}, "jobsPaid": _INT},
            },
        },
    },
}


def _responses(description: str, name: str, row: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    errors = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorList"}}}}
    payload = {
        "type": "object",
        "properties": {
            "startDate": {"type": "string", "format": "date"},
            "endDate": {"type": "string", "format": "date"},
            "groupBy": {"type": "string", "enum": [g.value for g in GroupBy]},
            name: {"type": "array", "items": row},
        },
    }
    body = {"type": "object", "properties": {"payload": payload}}
    return {
        200: {"description": description, "content": {"application/json": {"schema": body}}},
        400: {"description": "Bad parameters, or unknown storeIds / technicianIds (named).", **errors},
        403: {"description": "No valid token, or another seller's store or technician.", **errors},
        429: {"description": "Usage plan exhausted.", **errors},
    }


# ---- routes -----------------------------------------------------------------------------------


async def _query(request: Request, operation: str) -> tuple[AppContext, AnalyticsQuery]:
    """Authenticate, apply the operation's usage plan, read the shared analytics parameters."""
    principal, ctx = await authorize(request, operation)
    return ctx, analytics_query(request, seller_id=principal.seller_id, now=ctx.now())


Route = Callable[[Request], Awaitable[Response]]


def _get(path: str, operation: str, summary: str, rows: tuple[str, str, dict[str, Any]]) -> Callable[[Route], Route]:
    """The route decorator of one analytics operation, described for /openapi.json and /docs."""
    description, listed, row = rows
    return router.get(
        path,
        operation_id=operation,
        summary=summary,
        openapi_extra={"parameters": ANALYTICS_PARAMETERS},
        responses=_responses(description, listed, row),
    )


@_get(
    "/technicians",
    "getTechnicianPerformance",
    "Technician performance: on-time starts, windows kept, no-shows, breaks, revenue",
    ("One row per technician and period.", "technicians", _TECHNICIAN),
)
async def get_technician_performance(request: Request) -> Response:
    ctx, query = await _query(request, "getTechnicianPerformance")
    report = await ctx.run(
        lambda s, now: service.technician_performance(s, query=query, now=now),
        write=False,
        timeout=ctx.settings.analytics_timeout,
    )
    rows = [{"technicianId": r.technician_id, "name": r.name, **_period(r.period), **_service(r.metrics)}
            for r in report.rows]  # fmt: skip
    return wire.JSON({"payload": {**_echo(query), "technicians": rows}})


@_get(
    "/stores",
    "getStorePerformance",
    "Store performance: the technicians' metrics per store, scheduling times, jobs by outcome",
    ("One row per store and period.", "stores", _STORE),
)
async def get_store_performance(request: Request) -> Response:
    ctx, query = await _query(request, "getStorePerformance")
    report = await ctx.run(
        lambda s, now: service.store_performance(s, query=query, now=now),
        write=False,
        timeout=ctx.settings.analytics_timeout,
    )
    rows = []
    for r in report.rows:
        m = r.metrics
        rows.append(
            {
                "storeId": r.store_id,
                "name": r.name,
                **_period(r.period),
                **_service(m.service),
                "meanTimeToScheduleHours": m.mean_time_to_schedule_hours,
                "meanLeadTimeHours": m.mean_lead_time_hours,
                "jobsCreated": m.jobs_created,
                "jobsCancelled": {
                    "total": m.jobs_cancelled,
                    "byCause": {cause.value: n for cause, n in m.cancelled_by_cause},
                },
            }
        )
    return wire.JSON({"payload": {**_echo(query), "stores": rows}})


@_get(
    "/payments",
    "getPaymentAnalytics",
    "Payments: gross of completed jobs, value of cancelled ones, each technician's share",
    ("One row per period and currency.", "periods", _PAYMENT),
)
async def get_payment_analytics(request: Request) -> Response:
    ctx, query = await _query(request, "getPaymentAnalytics")
    report = await ctx.run(
        lambda s, now: service.payment_analytics(s, query=query, now=now),
        write=False,
        timeout=ctx.settings.analytics_timeout,
    )
    rows = [
        {
            **_period(r.period),
            "currency": r.metrics.currency,
            "gross": _amount(r.metrics.gross),
            "cancelledValue": _amount(r.metrics.cancelled_value),
            "jobsPaid": r.metrics.jobs_paid,
            "technicians": [
                {"technicianId": s.technician_id, "gross": _amount(s.gross), "jobsPaid": s.jobs_paid}
                for s in r.metrics.technicians
            ],
        }
        for r in report.rows
    ]
    return wire.JSON({"payload": {**_echo(query), "periods": rows}})


# ---- domain → wire ----------------------------------------------------------------------------


def _echo(query: AnalyticsQuery) -> dict[str, Any]:
    return {"startDate": query.start.isoformat(), "endDate": query.end.isoformat(), "groupBy": query.group_by.value}


def _period(p: Period) -> dict[str, Any]:
    out: dict[str, Any] = {} if p.label is None else {"period": p.label}
    return {**out, "startDate": p.first.isoformat(), "endDate": p.last.isoformat()}


def _amount(value: Decimal) -> float:
    return float(value)


def _money(amounts: tuple[Money, ...]) -> list[dict[str, Any]]:
    return [{"value": _amount(m.value), "currency": m.currency} for m in amounts]


def _service(m: ServiceMetrics) -> dict[str, Any]:
    """The service metrics in camelCase; nulls kept (an empty set's rate is null, not absent)."""
    return {
        "appointmentsServed": m.appointments_served,
        "onTimeStartRate": m.on_time_start_rate,
        "earlyStarts": m.early_starts,
        "lateStarts": m.late_starts,
        "latenessMinutesMedian": m.lateness_minutes_median,
        "latenessMinutesP90": m.lateness_minutes_p90,
        "completedWithinWindowRate": m.completed_within_window_rate,
        "durationAdherence": m.duration_adherence,
        "technicianNoShows": m.technician_no_shows,
        "buyerNoShows": m.buyer_no_shows,
        "fulfillmentBreaks": m.fulfillment_breaks,
        "jobsCompleted": m.jobs_completed,
        "firstVisitCompletionRate": m.first_visit_completion_rate,
        "revenue": _money(m.revenue),
    }
