"""Service jobs: getServiceJobs, getServiceJobByServiceJobId, complete and cancel."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request, Response

from sp_services.api import wire
from sp_services.api.context import AppContext, authorize
from sp_services.api.params import Params, job_filters, json_body
from sp_services.domain import ids
from sp_services.domain.enums import SortField, SortOrder
from sp_services.domain.errors import InvalidInput
from sp_services.domain.job_query import MAX_PAGE_SIZE
from sp_services.persistence.repositories.job_listing import Listed
from sp_services.services import jobs as service

router = APIRouter(prefix="/service/v1", tags=["service"])


def _check_job_id(job_id: str, extra_bad: list[str] | None = None) -> None:
    bad = [] if ids.SERVICE_JOB_ID.match(job_id) else ["serviceJobId"]
    bad += extra_bad or []
    if bad:
        raise InvalidInput.params(bad)


@router.get("/serviceJobs", operation_id="getServiceJobs")
async def get_service_jobs(request: Request) -> Response:
    principal, ctx = await authorize(request, "getServiceJobs")
    p = Params(request, await json_body(request), body_fallbacks=("marketplaceIds", "pageToken"))
    query = replace(
        job_filters(p),
        sort_field=p.enum("sortField", SortField, SortField.JOB_DATE),
        sort_order=p.enum("sortOrder", SortOrder, SortOrder.ASC),
        page_size=p.integer("pageSize", default=MAX_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE),
    )
    page_token = p.string("pageToken", max_length=2000)
    p.check()

    held: dict[str, bytes] = {}
    page = await ctx.run(
        lambda s, now: service.list_jobs(
            s,
            seller_id=principal.seller_id,
            query=query,
            page_token=page_token,
            secret=ctx.settings.resolved_secret_key,
            now=now,
            known=ctx.job_documents.taking(held),
        ),
        write=False,
        short=True,
    )
    documents = [held[j.job_id] if j.job is None else _document(ctx, j) for j in page.jobs]
    body = wire.job_page(page.total, page.next_token, page.previous_token, documents)
    return Response(body, media_type="application/json")


def _document(ctx: AppContext, listed: Listed) -> bytes:
    """The job's ServiceJob JSON, kept for its revision."""
    assert listed.job is not None
    return ctx.job_documents.put(listed.job_id, listed.revision, wire.service_job_json(listed.job))


@router.get("/serviceJobs/{serviceJobId}", operation_id="getServiceJobByServiceJobId")
async def get_service_job(request: Request, serviceJobId: str) -> Response:
    principal, ctx = await authorize(request, "getServiceJobByServiceJobId")
    _check_job_id(serviceJobId)

    held: dict[str, bytes] = {}
    read = await ctx.run(
        lambda s, _now: service.read_job(
            s, seller_id=principal.seller_id, job_id=serviceJobId, known=ctx.job_documents.taking(held)
        ),
        write=False,
        short=True,
    )
    document = held[read.job_id] if read.job is None else _document(ctx, read)
    return Response(b'{"payload":' + document + b"}", media_type="application/json")


@router.put("/serviceJobs/{serviceJobId}/cancellations", operation_id="cancelServiceJobByServiceJobId")
async def cancel_service_job(request: Request, serviceJobId: str) -> dict[str, Any]:
    principal, ctx = await authorize(request, "cancelServiceJobByServiceJobId")
    p = Params(request, await json_body(request), body_fallbacks=("cancellationReasonCode",))
    code = p.string("cancellationReasonCode", required=True, max_length=100, pattern=ids.REASON_CODE)
    _check_job_id(serviceJobId, [] if code else ["cancellationReasonCode"])
    assert code is not None

    await ctx.run(
        lambda s, now: service.cancel_job(
            s, seller_id=principal.seller_id, job_id=serviceJobId, reason_code=code, now=now
        )
    )
    return {}


@router.put("/serviceJobs/{serviceJobId}/completions", operation_id="completeServiceJobByServiceJobId")
async def complete_service_job(request: Request, serviceJobId: str) -> dict[str, Any]:
    principal, ctx = await authorize(request, "completeServiceJobByServiceJobId")
    _check_job_id(serviceJobId)

    await ctx.run(lambda s, now: service.complete_job(s, seller_id=principal.seller_id, job_id=serviceJobId, now=now))
    return {}
