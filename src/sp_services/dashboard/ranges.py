"""The analytics pages' controls (Technicians, Demand vs capacity, Payments): a range of store-local
days and a grouping, read by the API's own reader (api/analytics_params.py: analytics_query), so a
page covers exactly the days /analytics/v1 would for the same parameters and refuses what it
refuses; and the pages of subjects (technicians, stores) each page shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from sp_services.api.analytics_params import analytics_query
from sp_services.dashboard.auth import Viewer
from sp_services.dashboard.web import message, render
from sp_services.domain.analytics_query import AnalyticsQuery, GroupBy
from sp_services.domain.errors import InvalidInput

T = TypeVar("T")
FIELDS = ("startDate", "endDate", "groupBy")  # the form's fields: the API's parameters, same names
GROUPINGS = (GroupBy.DAY, GroupBy.WEEK, GroupBy.MONTH, GroupBy.NONE)


def read_range(request: Request, viewer: Viewer, *, group_by: GroupBy) -> AnalyticsQuery:
    """The form's range as getTechnicianPerformance & co. would read it for the viewer's seller and
    marketplace (``group_by`` when the form names none); InvalidInput as the API raises it."""
    pairs = [(k, v.strip()) for k in FIELDS if (v := request.query_params.get(k, "")).strip()]
    if not any(k == "groupBy" for k, _ in pairs):
        pairs.append(("groupBy", group_by.value))
    pairs.append(("marketplaceIds", viewer.marketplace_id))
    api_request = Request({**request.scope, "query_string": urlencode(pairs).encode()})
    return analytics_query(api_request, seller_id=viewer.seller_id, now=viewer.ctx.now())


def refused(request: Request, viewer: Viewer, template: str, error: InvalidInput) -> HTMLResponse:
    """The page with its form only and the API's reasons (400), as the Jobs page answers bad filters."""
    problems = [f"{i.message} {i.details}".strip() for i in error.items]
    return render(
        request,
        template,
        {"form": _form(request), "groupings": GROUPINGS, "query": None},
        viewer=viewer,
        status=400,
        messages=[message("error", "The range is not valid.", problems)],
    )


def _form(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "") for k in FIELDS}


def form_of(query: AnalyticsQuery) -> dict[str, str]:
    """The form as answered: the range's days and grouping (the defaults filled in)."""
    return {"startDate": query.start.isoformat(), "endDate": query.end.isoformat(), "groupBy": query.group_by.value}


@dataclass(frozen=True)
class Paged:
    """One page of a page's subjects (technicians, stores), numbered from 1."""

    number: int
    pages: int
    total: int


def page_of(request: Request, items: Sequence[T], size: int) -> tuple[list[T], Paged]:
    """The items of the page the query asks for (``page``; out of range or not a number: the nearest)."""
    pages = max(1, -(-len(items) // size))
    text = request.query_params.get("page", "1")
    number = int(text) if text.isascii() and text.isdigit() and len(text) < 7 else 1
    number = min(max(number, 1), pages)
    return list(items[(number - 1) * size : number * size]), Paged(number, pages, len(items))


def context(query: AnalyticsQuery, paged: Paged | None = None) -> dict[str, Any]:
    """What every analytics template is given besides its own rows."""
    return {"form": form_of(query), "groupings": GROUPINGS, "query": query, "paged": paged}


def period_name(label: str | None, first: date, last: date) -> str:
    """A row's period as a chart labels it: the API's label, or its days when not grouped."""
    return label or f"{first.isoformat()} to {last.isoformat()}"
