"""Jobs: getServiceJobs' filters and pages, and one job with its timeline and actions
(docs/design.md §8). The list is the API's own use case (services/jobs.py: list_jobs) with the
filters read by the API's own reader (api/params.py: job_filters), so both answer alike."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from sp_services.api.params import Params, job_filters
from sp_services.dashboard.auth import Viewer, signed_in
from sp_services.dashboard.web import Page, message, not_found, render
from sp_services.domain.capacity import from_minute
from sp_services.domain.enums import JobStatus, SortField, SortOrder
from sp_services.domain.errors import InvalidInput, ServiceError
from sp_services.domain.job_query import MAX_PAGE_SIZE
from sp_services.services import dispatch
from sp_services.services import jobs as job_service
from sp_services.services.slots import slots_for_job

router = APIRouter()
PAGE = Page("/dashboard/jobs", "Jobs", 20)

# The form's own fields (the rest are getServiceJobs' parameters, under the same names).
_OWN = ("marketplace",)
# Without either of the two bounds getServiceJobs requires, the list starts at this instant.
EVERYTHING = "2000-01-01T00:00:00Z"


def api_request(request: Request, viewer: Viewer) -> Request:
    """The form's query as getServiceJobs would be sent it: empty fields dropped, the viewer's
    marketplace, and ``createdAfter`` from the start of time when no bound is given."""
    pairs = [(k, v) for k, v in request.query_params.multi_items() if v.strip() and k not in _OWN]
    pairs = [(k, v) for k, v in pairs if k != "marketplaceIds"] + [("marketplaceIds", viewer.marketplace_id)]
    if not any(k in ("createdAfter", "lastUpdatedAfter") for k, _ in pairs):
        pairs.append(("createdAfter", EVERYTHING))
    return Request({**request.scope, "query_string": urlencode(pairs).encode()})


@router.get("/jobs", response_class=HTMLResponse)
async def jobs(request: Request, viewer: Viewer = Depends(signed_in)) -> HTMLResponse:
    p = Params(api_request(request, viewer))
    query = replace(
        job_filters(p),
        sort_field=p.enum("sortField", SortField, SortField.JOB_DATE),
        sort_order=p.enum("sortOrder", SortOrder, SortOrder.DESC),
        page_size=MAX_PAGE_SIZE,
    )
    token = p.string("pageToken", max_length=2000)
    seller, market, secret = viewer.seller_id, viewer.marketplace_id, viewer.ctx.settings.resolved_secret_key

    def read(session: Session, now: datetime) -> tuple[job_service.JobPage, dispatch.Catalog]:
        p.check()
        page = job_service.list_jobs(session, seller_id=seller, query=query, page_token=token, secret=secret, now=now)
        return page, dispatch.catalog_of(session, seller_id=seller, marketplace_id=market, technicians=False)

    form = request.query_params
    kept = [(k, v) for k, v in form.multi_items() if v.strip() and k != "pageToken"]
    context: dict[str, Any] = {"statuses": list(JobStatus), "form": form, "sort_fields": list(SortField)}
    try:
        page, catalog = await viewer.read(read)
    except InvalidInput as error:
        catalog = await viewer.read(
            lambda s, _now: dispatch.catalog_of(s, seller_id=seller, marketplace_id=market, technicians=False)
        )
        problems = [f"{i.message} {i.details}".strip() for i in error.items]
        context |= {"page": None, "catalog": catalog, "kept": kept}
        return render(
            request,
            "jobs.html",
            context,
            viewer=viewer,
            status=400,
            messages=[message("error", "The filters are not valid.", problems)],
        )
    return render(request, "jobs.html", context | {"page": page, "catalog": catalog, "kept": kept}, viewer=viewer)


@dataclass(frozen=True)
class Panel:
    """What the job page shows: the job and its timeline, and the slots it could be booked into."""

    detail: dispatch.JobDetail
    slots: list[tuple[datetime, int]]  # (start, capacity >= 1), when booking or rescheduling is offered
    slots_note: str | None
    now: datetime


def panel(session: Session, *, seller_id: str, job_id: str, now: datetime) -> Panel | None:
    """The job page's data in one unit of work; None when no job of this seller has the id."""
    detail = dispatch.job_detail(session, seller_id=seller_id, job_id=job_id)
    if detail is None:
        return None
    slots: list[tuple[datetime, int]] = []
    note = None
    if detail.actions & {"book", "reschedule"}:
        try:
            report = slots_for_job(
                session,
                seller_id=seller_id,
                job_id=job_id,
                marketplace_id=detail.job.marketplace_id,
                start=None,
                end=None,
                now=now,
            )
            slots = [(from_minute(s), c) for s, _, c in report.slots if c >= 1]
            note = None if slots else "No slot with free capacity in the store's booking horizon."
        except ServiceError as error:
            note = "; ".join(i.message for i in error.items)
    return Panel(detail, slots, note, now)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
async def job(request: Request, job_id: str, viewer: Viewer = Depends(signed_in)) -> HTMLResponse:
    found = await viewer.read(lambda s, now: panel(s, seller_id=viewer.seller_id, job_id=job_id, now=now))
    if found is None:
        return not_found(request, viewer, "job")
    return render(request, "job.html", {"panel": found}, viewer=viewer)
