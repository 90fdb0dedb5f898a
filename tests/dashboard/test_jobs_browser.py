"""Jobs, in a real browser: filters as getServiceJobs, a job's timeline, and the dispatcher's
actions, each checked afterwards through the Services API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from sp_services.domain.enums import JobStatus
from tests.dashboard.helpers import (
    US,
    User,
    active_appointment,
    api_job,
    api_jobs,
    check_accessibility,
    log_in,
    operator,
    shot,
)
from tests.support import Server, World


def _second_store(server: Server, world: World) -> str:
    with operator(server) as op:
        response = op.post(
            "/operator/v1/stores",
            json={"sellerId": world.seller_id, "marketplaceId": US, "name": "Second", "timezone": "America/Chicago"},
        )
    assert response.status_code == 201, response.text
    store_id: str = response.json()["storeId"]
    return store_id


def _listed(page: Page) -> set[str]:
    rows = page.locator("#jobs-table tbody tr")
    return {str(rows.nth(i).get_attribute("data-job")) for i in range(rows.count())}


def test_the_filters_list_what_get_service_jobs_lists(
    page: Page, server: Server, world: World, other_world: World, dispatcher: User, screenshots: Path
) -> None:
    second = _second_store(server, world)
    world.job(order_jobs=3)
    world.job(JobStatus.NOT_SERVICED, order_jobs=2)
    world.job(JobStatus.COMPLETED)
    world.job(store_id=second, order_jobs=2)
    other_world.job(order_jobs=2)
    log_in(page, server, dispatcher)
    page.click("header nav >> text=Jobs")
    expect(page.locator("[data-total]")).to_have_text(str(len(api_jobs(world))))
    assert check_accessibility(page) == []
    shot(page, screenshots, server, "jobs")

    page.check("input[name=serviceJobStatus][value=PENDING_SCHEDULE]")
    page.click("form.filters button[type=submit]")
    pending = {j["serviceJobId"] for j in api_jobs(world, serviceJobStatus="PENDING_SCHEDULE")}
    expect(page.locator("[data-total]")).to_have_text(str(len(pending)))
    assert _listed(page) == pending and len(pending) == 5

    page.select_option("#f-storeIds", second)
    page.click("form.filters button[type=submit]")
    there = {j["serviceJobId"] for j in api_jobs(world, serviceJobStatus="PENDING_SCHEDULE", storeIds=second)}
    assert _listed(page) == there and len(there) == 2

    page.uncheck("input[name=serviceJobStatus][value=PENDING_SCHEDULE]")
    page.select_option("#f-storeIds", "")
    page.fill("#f-asins", world.asin)
    page.check("input[name=serviceJobStatus][value=COMPLETED]")
    page.click("form.filters button[type=submit]")
    done = {j["serviceJobId"] for j in api_jobs(world, serviceJobStatus="COMPLETED", asins=world.asin)}
    assert _listed(page) == done and len(done) == 1

    page.fill("#f-createdBefore", "2001-01-01T00:00")
    page.fill("#f-createdAfter", "2002-01-01T00:00")
    page.click("form.filters button[type=submit]")
    expect(page.locator(".message.error")).to_contain_text("createdBefore")


def _first_slot(world: World, job_id: str) -> str:
    with world.client() as api:
        response = api.get(f"/service/v1/serviceJobs/{job_id}/appointmentSlots", params={"marketplaceIds": US})
    assert response.status_code == 200, response.text
    slots = [s for s in response.json()["payload"]["appointmentSlots"] if s["capacity"] >= 1]
    start: str = slots[0]["startTime"]
    return start


def _through_the_api(world: World, job_id: str) -> None:
    """Book, assign, reschedule (RS4) and cancel (S13) the job through the Services API."""
    with world.client() as api:
        first = _first_slot(world, job_id)
        booked = api.post(
            f"/service/v1/serviceJobs/{job_id}/appointments", json={"appointmentTime": {"startTime": first}}
        )
        assert booked.status_code == 200, booked.text
        appointment = booked.json()["appointmentId"]
        assigned = api.put(
            f"/service/v1/serviceJobs/{job_id}/appointments/{appointment}/resources",
            json={"resources": [{"resourceId": world.technician_ids[0]}]},
        )
        assert assigned.status_code == 200, assigned.text
        later = _first_slot(world, job_id)
        moved = api.post(
            f"/service/v1/serviceJobs/{job_id}/appointments/{appointment}",
            json={"appointmentTime": {"startTime": later}, "rescheduleReasonCode": "RS4"},
        )
        assert moved.status_code == 200, moved.text
        cancelled = api.put(f"/service/v1/serviceJobs/{job_id}/cancellations", params={"cancellationReasonCode": "S13"})
        assert cancelled.status_code == 200, cancelled.text


def test_a_job_shows_its_whole_timeline(
    page: Page, server: Server, world: World, dispatcher: User, screenshots: Path
) -> None:
    (job_id,) = world.job()
    _through_the_api(world, job_id)
    log_in(page, server, dispatcher)
    page.goto(f"{server.url}/dashboard/jobs")
    page.click(f"#jobs-table a:text-is('{job_id}')")
    expect(page.locator("h1")).to_contain_text(job_id)
    timeline = page.locator("#timeline li")
    kinds = [timeline.nth(i).get_attribute("data-kind") for i in range(timeline.count())]
    assert kinds == ["CREATED", "BOOKED", "ASSIGNED", "RESCHEDULED", "CANCELLED"]
    expect(timeline.nth(2)).to_contain_text("technicians: Tech 0")
    expect(timeline.nth(3)).to_contain_text("reason RS4 · Provider cannot meet original appointment (cause: provider)")
    expect(timeline.nth(4)).to_contain_text("reason S13 · Provider cannot meet original appointment. (cause: provider)")
    expect(timeline.nth(4)).to_contain_text("CANCELLED")
    expect(page.locator(".actions")).to_have_count(0)  # a cancelled job offers nothing
    assert check_accessibility(page) == []
    shot(page, screenshots, server, "job-timeline")


def _unqualified_technician(server: Server, world: World) -> str:
    with operator(server) as op:
        response = op.post(
            "/operator/v1/technicians",
            json={"sellerId": world.seller_id, "name": "No Skills", "skills": [], "storeIds": [world.store_id]},
        )
    assert response.status_code == 201, response.text
    tech_id: str = response.json()["technicianId"]
    return tech_id


def _crew(job: dict[str, Any]) -> list[str]:
    appointment = active_appointment(job)
    assert appointment is not None
    return [t["technicianId"] for t in appointment.get("assignedTechnicians", [])]


def test_book_reschedule_assign_and_cancel_as_the_api_does(
    page: Page, server: Server, world: World, dispatcher: User, screenshots: Path
) -> None:
    unskilled = _unqualified_technician(server, world)
    (job_id,) = world.job()
    log_in(page, server, dispatcher)
    page.goto(f"{server.url}/dashboard/jobs/{job_id}")
    assert check_accessibility(page) == []

    # Book into the first listed slot (htmx posts the form with the session's CSRF token in a header too).
    slot = page.locator("#book-slot option").first.get_attribute("value")
    token = page.locator("#book-form input[name=csrf_token]").get_attribute("value")
    assert slot is not None and token
    with page.expect_request(f"**/dashboard/jobs/{job_id}/book") as sent:
        page.click("#book-form button[type=submit]")
    assert sent.value.headers["hx-request"] == "true"
    assert sent.value.headers["x-csrf-token"] == token
    expect(page.locator("#job-panel .message.success")).to_contain_text(f"Booked for {slot}")
    job = api_job(world, job_id)
    assert job["serviceJobStatus"] == "NOT_SERVICED"
    first = active_appointment(job)
    assert first is not None and first["appointmentTime"]["startTime"] == slot.replace("Z", ".000Z")

    # Reschedule to another slot, with a reason valid for the job (only valid ones are offered).
    codes = page.locator("#reschedule-reason option")
    offered = {codes.nth(i).get_attribute("value") for i in range(codes.count())}
    assert offered == {"RS4", "RS6", "RS9", "RS10", "RS11"}  # US, default service type
    target = page.locator("#reschedule-slot option").nth(1).get_attribute("value")
    assert target is not None
    page.select_option("#reschedule-slot", target)
    page.select_option("#reschedule-reason", "RS6")
    page.click("#reschedule-form button[type=submit]")
    expect(page.locator("#job-panel .message.success")).to_contain_text("with reason RS6")
    moved = active_appointment(api_job(world, job_id))
    assert moved is not None
    assert moved["appointmentTime"]["startTime"] == target.replace("Z", ".000Z")
    assert moved["rescheduledAppointmentId"] == first["appointmentId"]

    # An assignment the API refuses shows the API's RESOURCES_* code and message, and changes nothing.
    page.check(f"#assign-form input[value='{unskilled}']")
    page.click("#assign-form button[type=submit]")
    refusal = page.locator("#job-panel .message.error li")
    expect(refusal).to_contain_text("RESOURCES_MISSING_REQUIRED_SKILLS: Resources Missing required INSTALL skills.")
    assert _crew(api_job(world, job_id)) == []
    with world.client() as api:  # the API's own answer to the same request, word for word
        answer = api.put(
            f"/service/v1/serviceJobs/{job_id}/appointments/{moved['appointmentId']}/resources",
            json={"resources": [{"resourceId": unskilled}]},
        )
    assert answer.status_code == 422
    (error,) = answer.json()["errors"]
    expect(refusal).to_have_text(f"{error['code']}: {error['message']}")

    # One it accepts.
    page.check(f"#assign-form input[value='{world.technician_ids[1]}']")
    page.uncheck(f"#assign-form input[value='{unskilled}']")
    page.click("#assign-form button[type=submit]")
    expect(page.locator("#job-panel .message.success")).to_contain_text(f"Assigned {world.technician_ids[1]}")
    assert _crew(api_job(world, job_id)) == [world.technician_ids[1]]
    expect(page.locator("#appointments .crew").last).to_have_text("Tech 1")
    shot(page, screenshots, server, "job-actions")

    # Cancel with a reason code.
    page.select_option("#cancel-reason", "S15")
    page.click("#cancel-form button[type=submit]")
    expect(page.locator("#job-panel .message.success")).to_contain_text("cancelled with reason S15")
    assert api_job(world, job_id)["serviceJobStatus"] == "CANCELLED"
    expect(page.locator("#job-panel [data-status]")).to_have_text("CANCELLED")
    kinds = page.locator("#timeline li")
    assert [kinds.nth(i).get_attribute("data-kind") for i in range(kinds.count())] == [
        "CREATED",
        "BOOKED",
        "RESCHEDULED",
        "ASSIGNED",
        "CANCELLED",
    ]
    assert check_accessibility(page) == []


def test_a_viewer_is_offered_no_action(page: Page, server: Server, world: World, viewer: User) -> None:
    (job_id,) = world.job()
    log_in(page, server, viewer)
    page.goto(f"{server.url}/dashboard/jobs/{job_id}")
    expect(page.locator("h1")).to_contain_text(job_id)
    expect(page.locator("#job-panel form")).to_have_count(0)
