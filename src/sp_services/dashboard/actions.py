"""The dispatcher's actions on a job: book, reschedule, assign technicians, complete, cancel
(docs/design.md §8).

Each is the API's own use case, called in one unit of work exactly as its route calls it, so the
dashboard can do nothing the API would refuse; a refusal is shown with the API's code and
message. Only dispatchers act (a viewer's POST is 403), and every POST carries the session's CSRF
token (dashboard/auth.py). The answer is the refreshed job panel for htmx, else a redirect to the
job page with the outcome as a flash message (redirect-after-POST).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from sp_services.dashboard.auth import Viewer, dispatcher
from sp_services.dashboard.pages.jobs import panel
from sp_services.dashboard.web import flash, message, not_found, query, render
from sp_services.domain.errors import ErrorItem, ServiceError
from sp_services.services import appointments, dispatch
from sp_services.services import jobs as job_service

router = APIRouter()


def _items(items: tuple[ErrorItem, ...] | list[ErrorItem]) -> list[str]:
    return [f"{i.code}: {i.message}" for i in items]


async def _act(
    request: Request, viewer: Viewer, job_id: str, work: Callable[[Session, datetime], dict[str, Any]]
) -> Response:
    """Run ``work`` (a use case returning the message to show) for one of the viewer's jobs."""
    seller = viewer.seller_id

    def unit(session: Session, now: datetime) -> dict[str, Any] | None:
        if not dispatch.owns_job(session, seller_id=seller, job_id=job_id):
            return None
        return work(session, now)

    try:
        outcome = await viewer.write(unit)
    except ServiceError as error:
        outcome = message("error", "The API refused this:", _items(error.items))
    if outcome is None:
        return not_found(request, viewer, "job")
    if request.headers.get("hx-request") == "true":
        found = await viewer.read(lambda s, now: panel(s, seller_id=seller, job_id=job_id, now=now))
        if found is None:
            return not_found(request, viewer, "job")
        return render(request, "_job_panel.html", {"panel": found}, viewer=viewer, messages=[outcome])
    response = RedirectResponse(f"/dashboard/jobs/{quote(job_id, safe='')}{query(viewer)}", status_code=303)
    flash(response, request, outcome["level"], outcome["text"], outcome["items"])
    return response


async def _field(request: Request, name: str) -> str:
    value = (await request.form()).get(name)
    return value.strip() if isinstance(value, str) else ""


@router.post("/jobs/{job_id}/book")
async def book(request: Request, job_id: str, viewer: Viewer = Depends(dispatcher)) -> Response:
    start = await _field(request, "start_time")

    def work(session: Session, now: datetime) -> dict[str, Any]:
        appointment_id = appointments.add_appointment(
            session, seller_id=viewer.seller_id, job_id=job_id, start_time=start, duration=None, now=now
        )
        return message("success", f"Booked for {start}: appointment {appointment_id}.")

    return await _act(request, viewer, job_id, work)


@router.post("/jobs/{job_id}/reschedule")
async def reschedule(request: Request, job_id: str, viewer: Viewer = Depends(dispatcher)) -> Response:
    start, code = await _field(request, "start_time"), await _field(request, "reason_code")
    appointment_id = await _field(request, "appointment_id")

    def work(session: Session, now: datetime) -> dict[str, Any]:
        moved = appointments.reschedule_appointment(
            session,
            seller_id=viewer.seller_id,
            job_id=job_id,
            appointment_id=appointment_id,
            start_time=start,
            duration=None,
            reason_code=code,
            now=now,
        )
        text = f"Rescheduled to {start} with reason {code}: appointment {moved.appointment_id}."
        return message("success", text, _items(moved.warnings))

    return await _act(request, viewer, job_id, work)


@router.post("/jobs/{job_id}/assign")
async def assign(request: Request, job_id: str, viewer: Viewer = Depends(dispatcher)) -> Response:
    form = await request.form()
    chosen = [v for v in form.getlist("technician_ids") if isinstance(v, str) and v]
    appointment_id = await _field(request, "appointment_id")

    def work(session: Session, now: datetime) -> dict[str, Any]:
        warnings = appointments.assign_resources(
            session,
            seller_id=viewer.seller_id,
            job_id=job_id,
            appointment_id=appointment_id,
            resource_ids=chosen,
            now=now,
        )
        text = f"Assigned {', '.join(chosen)}." if chosen else "The crew is cleared."
        return message("warning" if warnings else "success", text, _items(warnings))

    return await _act(request, viewer, job_id, work)


@router.post("/jobs/{job_id}/complete")
async def complete(request: Request, job_id: str, viewer: Viewer = Depends(dispatcher)) -> Response:
    def work(session: Session, now: datetime) -> dict[str, Any]:
        job_service.complete_job(session, seller_id=viewer.seller_id, job_id=job_id, now=now)
        return message("success", "The job is completed.")

    return await _act(request, viewer, job_id, work)


@router.post("/jobs/{job_id}/cancel")
async def cancel(request: Request, job_id: str, viewer: Viewer = Depends(dispatcher)) -> Response:
    code = await _field(request, "reason_code")

    def work(session: Session, now: datetime) -> dict[str, Any]:
        job_service.cancel_job(session, seller_id=viewer.seller_id, job_id=job_id, reason_code=code, now=now)
        return message("success", f"The job is cancelled with reason {code}.")

    return await _act(request, viewer, job_id, work)
