"""The Manage Jobs report: ``GET /reports/v1/jobs.csv`` (docs/design.md §6), a CSV download of the
jobs getServiceJobs' filters select, streamed as it is read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request, Response
from starlette.responses import StreamingResponse

from sp_services.api.context import authorize
from sp_services.api.openapi import service_paths
from sp_services.api.params import Params, job_filters
from sp_services.domain import csv_report
from sp_services.persistence.repositories.job_report import ReportKey
from sp_services.services import reports as service

router = APIRouter(prefix="/reports/v1", tags=["reports"])


def _report_parameters() -> list[dict[str, Any]]:
    """getServiceJobs' filter parameters as Amazon's model describes them, with the report's one
    difference; its sorting and paging parameters are not the report's (rows come oldest first)."""
    paths, _ = service_paths()
    unused = {"pageToken", "pageSize", "sortField", "sortOrder"}
    either = (
        " For the report, neither createdAfter nor lastUpdatedAfter means every job"
        " (both together are refused, as getServiceJobs refuses them)."
    )
    parameters = [p for p in paths["/service/v1/serviceJobs"]["get"]["parameters"] if p["name"] not in unused]
    return [
        {**p, "description": p.get("description", "") + either}
        if p["name"] in ("createdAfter", "lastUpdatedAfter")
        else p
        for p in parameters
    ]


_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorList"}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The jobs as CSV (RFC 4180, UTF-8, a header row, oldest job first), streamed.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    },
    400: {"description": "Missing or invalid parameters.", "content": _ERROR},
    403: {"description": "No usable access token, or the application lacks the role.", "content": _ERROR},
    429: {"description": "The usage plan's rate was exceeded.", "content": _ERROR},
    503: {"description": "The database did not answer in time.", "content": _ERROR},
}


class CSVResponse(StreamingResponse):
    """A streamed CSV body."""

    media_type = "text/csv"  # Starlette adds "; charset=utf-8"


@router.get(
    "/jobs.csv",
    operation_id="getJobsReport",
    summary="The Manage Jobs report (CSV)",
    response_class=CSVResponse,
    responses=_RESPONSES,
    openapi_extra={"parameters": _report_parameters()},
)
async def get_jobs_report(request: Request) -> Response:
    principal, ctx = await authorize(request, "getJobsReport")
    p = Params(request)
    query = job_filters(p)
    p.check()

    def read(after: ReportKey | None) -> Awaitable[service.ReportBatch]:
        # Each batch is its own short unit of work, on a worker thread.
        return ctx.run(
            lambda s, _now: service.report_batch(s, seller_id=principal.seller_id, query=query, after=after),
            write=False,
        )

    # The first batch is read before the response starts, so that a bad query (400) or a database
    # that does not answer (503) is still a proper error response.
    first = await read(None)
    filename = f"jobs-{query.marketplace_id}-{ctx.now().date().isoformat()}.csv"
    return CSVResponse(
        _stream(first, read),
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def _stream(
    first: service.ReportBatch, read: Callable[[ReportKey], Awaitable[service.ReportBatch]]
) -> AsyncIterator[bytes]:
    """The header, then every batch as CSV. While a batch is turned into CSV (on a thread, outside
    the unit of work, which is over by then) and sent, the next one is read. A batch that fails
    mid-download ends the response without its last chunk, so the client sees a broken transfer,
    never a short file that looks complete."""
    yield csv_report.HEADER
    batch, pending = first, None
    try:
        while True:
            pending = asyncio.ensure_future(read(batch.next_key)) if batch.next_key is not None else None
            if batch.rows:
                yield await anyio.to_thread.run_sync(csv_report.render, batch.rows)
            if pending is None:
                return
            batch = await pending
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
