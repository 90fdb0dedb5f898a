"""Amazon's official SDK, amzn-sp-api (``spapi``, ``ServiceApi`` of ``services_v1``), unmodified, against
our server.

How the SDK is pointed at us, through its public constructor:
``SPAPIClient(SPAPIConfig(...), oauth_endpoint="<base>/auth/o2/token", endpoint="<base>")``. Its
``AccessTokenCache`` does the LWA refresh-token grant against ``oauth_endpoint`` (when the ApiClient is
built, and again before each call once expired); the generated ``ServiceApi`` is given the client's
``api_client``, whose ``configuration.host`` is ``endpoint``.

The SDK deserialises every response into its generated models, which validate what they are given
(enums, lengths, patterns). Every successful response here is also turned back into JSON with the SDK's
own ``sanitize_for_serialization`` and compared with the raw wire response, so a field the model does
not know (and would silently drop) or mangles shows up as a failure.

python-dateutil is not a dependency of the SDK; with it (botocore brings it in) the SDK parses
``date-time`` fields into datetimes, without it it leaves them as the strings it received. The
comparisons below read times as instants (``instant``, ``normalised``), so they hold either way.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from spapi import ApiException, Configuration, SPAPIClient, SPAPIConfig
from spapi.api.services_v1.service_api import ServiceApi
from spapi.models.services_v1 import (
    AddAppointmentRequest,
    Appointment,
    AppointmentResource,
    AppointmentTimeInput,
    AssignAppointmentResourcesRequest,
    AssignAppointmentResourcesResponse,
    AssignAppointmentResourcesResponsePayload,
    AvailabilityRecord,
    CancelReservationResponse,
    CancelServiceJobByServiceJobIdResponse,
    CompleteServiceJobByServiceJobIdResponse,
    CreateReservationRequest,
    CreateReservationResponse,
    CreateServiceDocumentUploadDestination,
    DateTimeRange,
    EncryptionDetails,
    FixedSlot,
    FixedSlotCapacity,
    FixedSlotCapacityQuery,
    FulfillmentDocument,
    FulfillmentTime,
    GetAppointmentSlotsResponse,
    GetServiceJobByServiceJobIdResponse,
    GetServiceJobsResponse,
    JobListing,
    Poa,
    RangeSlotCapacity,
    RangeSlotCapacityQuery,
    RescheduleAppointmentRequest,
    Reservation,
    ServiceDocumentUploadDestination,
    ServiceJob,
    ServiceUploadDocument,
    SetAppointmentFulfillmentDataRequest,
    SetAppointmentResponse,
    UpdateReservationRequest,
    UpdateReservationResponse,
    UpdateScheduleRecord,
    UpdateScheduleRequest,
    UpdateScheduleResponse,
)
from spapi.models.services_v1 import Warning as ModelWarning

from sp_services.domain.enums import JobStatus
from sp_services.domain.times import format_utc
from tests.support import Server, World, make_world

US = "ATVPDKIKX0DER"
UNAUTHORIZED_ACTION = "Not authorized to access this resource.Please check your input again"
DENIED = "Access to requested resource is denied."
TIME_KEYS = frozenset({"createTime", "startTime", "endTime", "uploadTime", "startDateTime", "endDateTime"})
PDF = b"%PDF-1.7\n" + b"proof of appointment " * 40 + b"\n%%EOF\n"
CONTENT_TYPE_INVALID = "contentType parameter is invalid. Use one of ['TIFF', 'JPG', 'PNG', 'JPEG', 'GIF', 'PDF']"

Connect = Callable[[World], ServiceApi]


@pytest.fixture
def connect() -> Iterator[Connect]:
    """``connect(world)``: the SDK's ServiceApi with the world's LWA credentials, aimed at our server.

    The urllib3 pools are cleared at teardown so that no socket is left for the garbage collector to
    report as a ResourceWarning in some later test.
    """
    opened: list[SPAPIClient] = []

    def _connect(world: World) -> ServiceApi:
        config = SPAPIConfig(
            client_id=world.client_id,
            client_secret=world.client_secret,
            refresh_token=world.refresh_token,
            region="NA",
        )
        client = SPAPIClient(config, oauth_endpoint=f"{world.server.url}/auth/o2/token", endpoint=world.server.url)
        opened.append(client)
        return ServiceApi(client.api_client)

    yield _connect
    for client in opened:
        client.api_client.rest_client.pool_manager.clear()


def created_after(world: World) -> str:
    return format_utc(world.server.clock() - timedelta(minutes=1))


def raw(world: World, path: str, **params: Any) -> dict[str, Any]:
    """A response body as it is on the wire, read without the SDK."""
    with world.client() as c:
        response = c.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def normalised(value: Any) -> Any:
    """JSON with its date-time fields read as instants (the SDK may re-format them)."""
    if isinstance(value, dict):
        return {k: datetime.fromisoformat(str(v)) if k in TIME_KEYS else normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    return value


def instant(value: datetime | str) -> datetime:
    """A ``date-time`` field of a model as an instant, parsed by the SDK or not."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def as_json(api: ServiceApi, model: Any) -> Any:
    """A deserialised model turned back into JSON by the SDK itself."""
    return normalised(api.api_client.sanitize_for_serialization(model))


def status_of(api: ServiceApi, job_id: str) -> str:
    response = api.get_service_job_by_service_job_id(job_id)
    assert isinstance(response.payload, ServiceJob)
    assert response.payload.service_job_id == job_id
    return str(response.payload.service_job_status)


def errors_of(api: ServiceApi, exc: ApiException, response_type: str) -> list[dict[str, Any]]:
    """The error body of an ApiException, deserialised by the SDK into the operation's response model."""
    parsed = api.api_client.deserialize(SimpleNamespace(data=exc.body), response_type)
    assert parsed.errors is not None
    errors: list[dict[str, Any]] = [e.to_dict() for e in parsed.errors]
    # Nothing in the body was lost on the way into the model.
    assert errors == [
        {"code": e["code"], "message": e["message"], "details": e.get("details"), "error_level": e.get("errorLevel")}
        for e in json.loads(exc.body)["errors"]
    ]
    return errors


def error(code: str, message: str, details: str = "") -> dict[str, Any]:
    return {"code": code, "message": message, "details": details, "error_level": None}


def error_list_of(api: ServiceApi, exc: ApiException) -> list[dict[str, Any]]:
    """A bare error list (setAppointmentFulfillmentData's ErrorList), deserialised by the SDK."""
    parsed = api.api_client.deserialize(SimpleNamespace(data=exc.body), "List[Error]")
    errors: list[dict[str, Any]] = [e.to_dict() for e in parsed]
    assert errors == [
        {"code": e["code"], "message": e["message"], "details": e.get("details"), "error_level": e.get("errorLevel")}
        for e in json.loads(exc.body)
    ]
    return errors


def open_slot(world: World, *, days: int = 4, hour: int = 15) -> datetime:
    """A bookable start in the store's default working hours (no schedule published: Mon-Fri
    08:00-18:00 New York, one job at a time): the first weekday ``days`` or more ahead, at
    ``hour``:00 UTC (15:00Z is 10:00 or 11:00 in New York)."""
    start = (world.server.clock() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    while start.weekday() >= 5:
        start += timedelta(days=1)
    return start


def past_booking(world: World) -> datetime:
    """A start three hours or more ago: the appointment's work can be recorded as done."""
    return (world.server.clock() - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)


def at(start: datetime) -> AppointmentTimeInput:
    # A datetime is sent as its isoformat(): ``...T15:00:00+00:00``, which is UTC.
    return AppointmentTimeInput(start_time=start)


def appointments_of(api: ServiceApi, job_id: str) -> dict[str, Appointment]:
    job = api.get_service_job_by_service_job_id(job_id).payload
    return {a.appointment_id: a for a in job.appointments}


def job_as_on_the_wire(world: World, api: ServiceApi, job_id: str) -> None:
    """The SDK's job model holds every field the server sent (rescheduledAppointmentId included)."""
    path = f"/service/v1/serviceJobs/{job_id}"
    assert as_json(api, api.get_service_job_by_service_job_id(job_id)) == normalised(raw(world, path))


class TestLwa:
    def test_token_comes_from_our_token_endpoint(self, world: World, connect: Connect) -> None:
        api = connect(world)
        token_info = api.api_client.configuration.access_token_cache.token_info
        assert token_info is not None
        assert token_info["access_token"].startswith("Atza|")
        assert token_info["refresh_token"] == world.refresh_token
        assert token_info["token_type"] == "bearer"
        assert token_info["expires_in"] == world.server.settings.access_token_ttl_seconds
        # The SDK sends that token, and our server accepts it.
        assert api.api_client.default_headers["x-amz-access-token"] == token_info["access_token"]
        (job_id,) = world.job()
        assert status_of(api, job_id) == "PENDING_SCHEDULE"
        assert api.api_client.default_headers["x-amz-access-token"] == token_info["access_token"]


class TestList:
    def test_lists_created_jobs(self, world: World, connect: Connect) -> None:
        since = created_after(world)
        pending = world.job(JobStatus.PENDING_SCHEDULE, order_jobs=2)
        booked = world.job(JobStatus.NOT_SERVICED)
        api = connect(world)
        response = api.get_service_jobs([US], created_after=since)
        assert isinstance(response, GetServiceJobsResponse)
        assert response.errors is None
        listing = response.payload
        assert isinstance(listing, JobListing)
        assert listing.total_result_size == 3
        assert listing.next_page_token is None
        assert listing.previous_page_token is None
        assert all(isinstance(j, ServiceJob) for j in listing.jobs)
        assert {j.service_job_id: j.service_job_status for j in listing.jobs} == {
            pending[0]: "PENDING_SCHEDULE",
            pending[1]: "PENDING_SCHEDULE",
            booked[0]: "NOT_SERVICED",
        }
        wire = raw(world, "/service/v1/serviceJobs", marketplaceIds=US, createdAfter=since)
        assert as_json(api, response) == normalised(wire)

    def test_status_filter_through_the_sdk(self, world: World, connect: Connect) -> None:
        since = created_after(world)
        world.job(JobStatus.PENDING_SCHEDULE)
        (booked,) = world.job(JobStatus.NOT_SERVICED)
        (cancelled,) = world.job(JobStatus.CANCELLED)
        # The SDK sends list parameters comma-separated (serviceJobStatus=A,B).
        response = connect(world).get_service_jobs(
            [US], created_after=since, service_job_status=["NOT_SERVICED", "CANCELLED"]
        )
        assert response.payload.total_result_size == 2
        assert sorted(j.service_job_id for j in response.payload.jobs) == sorted([booked, cancelled])

    def test_pages_with_the_sdks_page_token(self, world: World, connect: Connect) -> None:
        since = created_after(world)
        created = world.job(order_jobs=13) + world.job(order_jobs=12)
        assert len(set(created)) == 25
        api = connect(world)
        seen: list[str] = []
        sizes: list[int] = []
        has_previous: list[bool] = []
        token: str | None = None
        for _ in range(10):  # a bound, so a paging bug cannot loop forever
            kwargs: dict[str, Any] = {"created_after": since, "page_size": 10}
            if token:
                kwargs["page_token"] = token
            listing = api.get_service_jobs([US], **kwargs).payload
            assert isinstance(listing, JobListing)
            assert listing.total_result_size == 25
            seen += [j.service_job_id for j in listing.jobs]
            sizes.append(len(listing.jobs))
            has_previous.append(listing.previous_page_token is not None)
            token = listing.next_page_token
            if not token:
                break
        assert sizes == [10, 10, 5]
        assert has_previous == [False, True, True]
        assert sorted(seen) == sorted(created)
        assert len(seen) == len(set(seen)) == 25


class TestRead:
    def test_reads_one_job(self, world: World, connect: Connect) -> None:
        (job_id,) = world.job(JobStatus.NOT_SERVICED)
        api = connect(world)
        response = api.get_service_job_by_service_job_id(job_id)
        assert isinstance(response, GetServiceJobByServiceJobIdResponse)
        assert response.errors is None
        job = response.payload
        assert isinstance(job, ServiceJob)
        assert job.service_job_id == job_id
        assert job.service_job_status == "NOT_SERVICED"
        assert job.scope_of_work.asin == world.asin
        assert job.store_id == world.store_id
        assert job.marketplace_id == US
        assert job.seller.seller_id == world.seller_id
        (appointment,) = job.appointments
        assert isinstance(appointment, Appointment)
        assert appointment.appointment_status == "ACTIVE"
        assert appointment.appointment_id.startswith(f"{job_id}_")
        assert appointment.appointment_time.duration_in_minutes == 60
        assert [(t.technician_id, t.name) for t in appointment.assigned_technicians] == [
            (world.technician_ids[0], "Tech 0")
        ]
        assert as_json(api, response) == normalised(raw(world, f"/service/v1/serviceJobs/{job_id}"))


class TestCompleteAndCancel:
    def test_complete_then_complete_again(self, world: World, connect: Connect) -> None:
        (job_id,) = world.job(JobStatus.NOT_SERVICED, fulfilled=True)
        api = connect(world)
        response = api.complete_service_job_by_service_job_id(job_id)
        assert isinstance(response, CompleteServiceJobByServiceJobIdResponse)
        assert response.errors is None
        assert status_of(api, job_id) == "COMPLETED"

        with pytest.raises(ApiException) as caught:
            api.complete_service_job_by_service_job_id(job_id)
        assert caught.value.status == 422
        assert errors_of(api, caught.value, "CompleteServiceJobByServiceJobIdResponse") == [
            error("InvalidInput", f"Operation not allowed on job with jobId : {job_id} and jobState : COMPLETED")
        ]
        assert status_of(api, job_id) == "COMPLETED"

    def test_cancel_with_reason_code(self, world: World, connect: Connect) -> None:
        (job_id,) = world.job(JobStatus.PENDING_SCHEDULE)
        api = connect(world)
        # The SDK sends cancellationReasonCode as a query parameter, with no body.
        response = api.cancel_service_job_by_service_job_id(job_id, "S3")
        assert isinstance(response, CancelServiceJobByServiceJobIdResponse)
        assert response.errors is None
        assert status_of(api, job_id) == "CANCELLED"

        with pytest.raises(ApiException) as caught:
            api.cancel_service_job_by_service_job_id(job_id, "S3")
        assert caught.value.status == 422
        assert errors_of(api, caught.value, "CancelServiceJobByServiceJobIdResponse") == [
            error("InvalidInput", f"Job with jobId {job_id} and jobStatus CANCELLED cannot be cancelled")
        ]


class TestForbidden:
    def test_other_sellers_job(self, world: World, other_world: World, connect: Connect) -> None:
        (job_id,) = world.job(JobStatus.NOT_SERVICED)
        intruder = connect(other_world)
        calls: dict[str, tuple[Callable[[], Any], str]] = {
            "get": (
                lambda: intruder.get_service_job_by_service_job_id(job_id),
                "GetServiceJobByServiceJobIdResponse",
            ),
            "complete": (
                lambda: intruder.complete_service_job_by_service_job_id(job_id),
                "CompleteServiceJobByServiceJobIdResponse",
            ),
            "cancel": (
                lambda: intruder.cancel_service_job_by_service_job_id(job_id, "S3"),
                "CancelServiceJobByServiceJobIdResponse",
            ),
        }
        for name, (call, response_type) in calls.items():
            with pytest.raises(ApiException) as caught:
                call()
            assert caught.value.status == 403, name
            assert errors_of(intruder, caught.value, response_type) == [
                error("UnauthorizedAction", UNAUTHORIZED_ACTION)
            ], name
        assert raw(world, f"/service/v1/serviceJobs/{job_id}")["payload"]["serviceJobStatus"] == "NOT_SERVICED"

    def test_app_without_the_role(self, server: Server, connect: Connect) -> None:
        inventory_only = make_world(server, roles=("Inventory",))
        (job_id,) = inventory_only.job()
        api = connect(inventory_only)
        # The LWA exchange itself succeeds; the API refuses the token.
        assert api.api_client.configuration.access_token_cache.token_info["access_token"].startswith("Atza|")
        calls: dict[str, tuple[Callable[[], Any], str]] = {
            "list": (
                lambda: api.get_service_jobs([US], created_after=created_after(inventory_only)),
                "GetServiceJobsResponse",
            ),
            "get": (lambda: api.get_service_job_by_service_job_id(job_id), "GetServiceJobByServiceJobIdResponse"),
            "complete": (
                lambda: api.complete_service_job_by_service_job_id(job_id),
                "CompleteServiceJobByServiceJobIdResponse",
            ),
        }
        for name, (call, response_type) in calls.items():
            with pytest.raises(ApiException) as caught:
                call()
            assert caught.value.status == 403, name
            assert errors_of(api, caught.value, response_type) == [
                error("Unauthorized", DENIED, "The application is not granted the Professional Services role.")
            ], name


class TestAddAppointment:
    def test_books_an_open_slot(self, world: World, connect: Connect) -> None:
        (job_id,) = world.job(JobStatus.PENDING_SCHEDULE)
        start = open_slot(world)
        api = connect(world)
        body = AddAppointmentRequest(appointment_time=AppointmentTimeInput(start_time=start, duration_in_minutes=60))
        response = api.add_appointment_for_service_job_by_service_job_id(job_id, body)
        assert isinstance(response, SetAppointmentResponse)
        assert response.errors is None
        assert response.warnings is None
        appointment_id = response.appointment_id
        assert appointment_id.startswith(f"{job_id}_")
        assert as_json(api, response) == {"appointmentId": appointment_id}

        assert status_of(api, job_id) == "NOT_SERVICED"
        (appointment,) = appointments_of(api, job_id).values()
        assert appointment.appointment_id == appointment_id
        assert appointment.appointment_status == "ACTIVE"
        assert instant(appointment.appointment_time.start_time) == start
        assert appointment.appointment_time.duration_in_minutes == 60
        assert appointment.assigned_technicians is None
        job_as_on_the_wire(world, api, job_id)

        with pytest.raises(ApiException) as caught:
            api.add_appointment_for_service_job_by_service_job_id(
                job_id, AddAppointmentRequest(appointment_time=at(open_slot(world, hour=16)))
            )
        assert caught.value.status == 422
        assert errors_of(api, caught.value, "SetAppointmentResponse") == [
            error(
                "InvalidInput",
                f"Failed to add appointment for jobId : {job_id}, reason : Job already has an active appointmentId.",
            )
        ]

    def test_errors(self, world: World, connect: Connect) -> None:
        (job_id, other_id) = world.job(JobStatus.PENDING_SCHEDULE, order_jobs=2)
        start = open_slot(world)
        api = connect(world)
        local = start.astimezone(ZoneInfo("America/New_York"))
        with pytest.raises(ApiException) as caught:
            api.add_appointment_for_service_job_by_service_job_id(
                job_id, AddAppointmentRequest(appointment_time=at(local))
            )
        assert caught.value.status == 422
        assert errors_of(api, caught.value, "SetAppointmentResponse") == [
            error("InvalidInput", f"ISO8601 time {local.isoformat()} is not in UTC.")
        ]

        # The store takes one job at a time: once the slot is booked it is gone for the other job.
        api.add_appointment_for_service_job_by_service_job_id(job_id, AddAppointmentRequest(appointment_time=at(start)))
        with pytest.raises(ApiException) as caught:
            api.add_appointment_for_service_job_by_service_job_id(
                other_id, AddAppointmentRequest(appointment_time=at(start))
            )
        assert caught.value.status == 422
        assert errors_of(api, caught.value, "SetAppointmentResponse") == [
            error(
                "InvalidInput",
                f"Failed to add appointment for jobId : {other_id}, reason : Appointment slot is not available.",
            )
        ]
        assert status_of(api, other_id) == "PENDING_SCHEDULE"


class TestAssignAndReschedule:
    def test_assign_technicians_then_reschedule(self, world: World, connect: Connect) -> None:
        (job_id,) = world.job(JobStatus.PENDING_SCHEDULE)
        api = connect(world)
        first = api.add_appointment_for_service_job_by_service_job_id(
            job_id, AddAppointmentRequest(appointment_time=at(open_slot(world)))
        ).appointment_id
        tech0, tech1 = world.technician_ids

        assigned = api.assign_appointment_resources(
            job_id,
            first,
            AssignAppointmentResourcesRequest(
                resources=[AppointmentResource(resource_id=tech0), AppointmentResource(resource_id=tech1)]
            ),
        )
        # ``{}`` deserialises to a response with neither payload nor errors.
        assert isinstance(assigned, AssignAppointmentResourcesResponse)
        assert (assigned.payload, assigned.errors) == (None, None)
        assert [(t.technician_id, t.name) for t in appointments_of(api, job_id)[first].assigned_technicians] == [
            (tech0, "Tech 0"),
            (tech1, "Tech 1"),
        ]

        # RS4 ("Provider cannot meet original appointment") is valid for a default US job.
        later = open_slot(world, hour=16)
        response = api.reschedule_appointment_for_service_job_by_service_job_id(
            job_id, first, RescheduleAppointmentRequest(appointment_time=at(later), reschedule_reason_code="RS4")
        )
        assert isinstance(response, SetAppointmentResponse)
        assert response.errors is None
        second = response.appointment_id
        assert second != first
        # The model's top-level warnings are deserialised into Warning models.
        (warning,) = response.warnings
        assert isinstance(warning, ModelWarning)
        assert (warning.code, warning.message, warning.details) == (
            "RESOURCES_UNASSIGNED",
            f"Unassigned resources : {tech0},{tech1}",
            None,
        )
        assert as_json(api, response) == {
            "appointmentId": second,
            "warnings": [{"code": "RESOURCES_UNASSIGNED", "message": f"Unassigned resources : {tech0},{tech1}"}],
        }

        appointments = appointments_of(api, job_id)
        assert appointments[first].appointment_status == "CANCELLED"
        new = appointments[second]
        assert new.appointment_status == "ACTIVE"
        assert new.rescheduled_appointment_id == first
        assert instant(new.appointment_time.start_time) == later
        assert new.assigned_technicians is None
        assert status_of(api, job_id) == "NOT_SERVICED"
        job_as_on_the_wire(world, api, job_id)

    def test_reschedule_error(self, world: World, connect: Connect) -> None:
        (job_id,) = world.job(JobStatus.NOT_SERVICED)
        api = connect(world)
        (appointment_id,) = appointments_of(api, job_id)
        # RS1 is a heavy-bulky code of DE only.
        body = RescheduleAppointmentRequest(appointment_time=at(open_slot(world)), reschedule_reason_code="RS1")
        with pytest.raises(ApiException) as caught:
            api.reschedule_appointment_for_service_job_by_service_job_id(job_id, appointment_id, body)
        assert caught.value.status == 422
        assert errors_of(api, caught.value, "SetAppointmentResponse") == [
            error(
                "InvalidInput",
                f"Failed to add appointment for jobId : {job_id}, reason : "
                "Appointment reschedule reason code is not valid.",
            )
        ]
        assert appointments_of(api, job_id)[appointment_id].appointment_status == "ACTIVE"

    def test_assign_warning_and_errors(self, world: World, other_world: World, connect: Connect) -> None:
        # Two jobs booked into the same hour, Tech 0 on both.
        _, job_id = world.job(JobStatus.NOT_SERVICED, order_jobs=2)
        api = connect(world)
        (appointment_id,) = appointments_of(api, job_id)
        tech0 = world.technician_ids[0]

        def assign(resource_id: str) -> AssignAppointmentResourcesResponse:
            body = AssignAppointmentResourcesRequest(resources=[AppointmentResource(resource_id=resource_id)])
            response: AssignAppointmentResourcesResponse = api.assign_appointment_resources(
                job_id, appointment_id, body
            )
            return response

        response = assign(tech0)
        assert response.errors is None
        assert isinstance(response.payload, AssignAppointmentResourcesResponsePayload)
        (warning,) = response.payload.warnings
        assert isinstance(warning, ModelWarning)
        assert (warning.code, warning.message) == ("RESOURCES_OVERBOOKED", "Resources overbooked for this time window.")
        assert as_json(api, response) == {
            "payload": {
                "warnings": [{"code": "RESOURCES_OVERBOOKED", "message": "Resources overbooked for this time window."}]
            }
        }

        stranger = other_world.technician_ids[0]
        with pytest.raises(ApiException) as caught:
            assign(stranger)
        assert caught.value.status == 422
        assert errors_of(api, caught.value, "AssignAppointmentResourcesResponse") == [
            error(
                "RESOURCES_NOT_REGISTERED_UNDER_MERCHANT",
                f"Resources are not registered under this Merchant. Applicable resources: {stranger}",
            )
        ]
        with pytest.raises(ApiException) as caught:
            assign("TNOBODY")
        assert caught.value.status == 422
        assert errors_of(api, caught.value, "AssignAppointmentResourcesResponse") == [
            error("InvalidInput", "Invalid resourceId : TNOBODY provided in the input.")
        ]
        assert [t.technician_id for t in appointments_of(api, job_id)[appointment_id].assigned_technicians] == [tech0]


class TestFulfillment:
    def test_record_fulfillment_then_complete(self, world: World, connect: Connect) -> None:
        booked = past_booking(world)
        (job_id,) = world.job(JobStatus.NOT_SERVICED, starts_at=booked)
        api = connect(world)
        (appointment_id,) = appointments_of(api, job_id)

        # Completing needs the work recorded first.
        with pytest.raises(ApiException) as caught:
            api.complete_service_job_by_service_job_id(job_id)
        assert caught.value.status == 422
        assert errors_of(api, caught.value, "CompleteServiceJobByServiceJobIdResponse") == [
            error(
                "InvalidInput",
                f"Failed to complete job with jobId : {job_id}, reason : Fulfillment time of appointment "
                f"{appointment_id} is not recorded.",
            )
        ]

        body = SetAppointmentFulfillmentDataRequest(
            fulfillment_time=FulfillmentTime(start_time=booked, end_time=booked + timedelta(hours=1)),
            estimated_arrival_time=DateTimeRange(start_time=booked - timedelta(minutes=30), end_time=booked),
            appointment_resources=[AppointmentResource(resource_id=world.technician_ids[0])],
        )
        result = api.set_appointment_fulfillment_data(job_id, appointment_id, body)
        # The model declares the 204 response as a string; the SDK deserialises the empty body as "".
        assert result == ""

        response = api.complete_service_job_by_service_job_id(job_id)
        assert isinstance(response, CompleteServiceJobByServiceJobIdResponse)
        assert response.errors is None
        assert status_of(api, job_id) == "COMPLETED"
        assert appointments_of(api, job_id)[appointment_id].appointment_status == "COMPLETED"

    def test_bare_error_list(self, world: World, connect: Connect) -> None:
        (job_id,) = world.job(JobStatus.NOT_SERVICED, starts_at=past_booking(world))
        api = connect(world)
        (appointment_id,) = appointments_of(api, job_id)

        # FulfillmentTime's ends are optional in the model, so the SDK sends an end alone.
        end_only = SetAppointmentFulfillmentDataRequest(fulfillment_time=FulfillmentTime(end_time=past_booking(world)))
        with pytest.raises(ApiException) as caught:
            api.set_appointment_fulfillment_data(job_id, appointment_id, end_only)
        # The SDK raises for any non-2xx status and leaves the body as text; it is the model's bare
        # ErrorList (not {"errors": [...]}), which the SDK's own List[Error] reads back whole.
        assert caught.value.status == 422
        assert isinstance(json.loads(caught.value.body), list)
        assert error_list_of(api, caught.value) == [
            error("InvalidInput", "Appointment start time is required. Please check the input again.")
        ]

        # DateTimeRange requires both ends, so an estimatedArrivalTime with one end cannot be
        # built: the SDK refuses it before any request.
        with pytest.raises(ValueError, match="end_time"):
            DateTimeRange(start_time=past_booking(world))

        # No fulfillment artifact at all: 400, bare too.
        with pytest.raises(ApiException) as caught:
            api.set_appointment_fulfillment_data(job_id, appointment_id, SetAppointmentFulfillmentDataRequest())
        assert caught.value.status == 400
        assert error_list_of(api, caught.value) == [
            error("InvalidInput", "No fulfillment artifacts provided in JSON payload.")
        ]
        assert status_of(api, job_id) == "NOT_SERVICED"


def encrypted_for(details: EncryptionDetails, content: bytes) -> bytes:
    """What a caller does with a destination's EncryptionDetails: AES-256-CBC with PKCS#7 padding,
    done here with ``cryptography`` alone (the SDK has no helper for it)."""
    key, iv = base64.b64decode(details.key), base64.b64decode(details.initialization_vector)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(content) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def b64_digest(name: str, data: bytes) -> str:
    return base64.b64encode(hashlib.new(name, data).digest()).decode()


def to_ms(moment: datetime) -> datetime:
    """An instant truncated to the millisecond, the precision of the server's times."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class TestDocuments:
    def test_proof_of_appointment_upload_then_complete(self, world: World, connect: Connect) -> None:
        booked = past_booking(world)
        (job_id,) = world.job(JobStatus.NOT_SERVICED, starts_at=booked)
        api = connect(world)
        (appointment_id,) = appointments_of(api, job_id)

        body = ServiceUploadDocument(content_type="PDF", content_length=len(PDF), content_md5=b64_digest("md5", PDF))
        response = api.create_service_document_upload_destination(body)
        assert isinstance(response, CreateServiceDocumentUploadDestination)
        assert response.errors is None
        destination = response.payload
        assert isinstance(destination, ServiceDocumentUploadDestination)
        destination_id = destination.upload_destination_id
        assert destination.url.startswith(f"{world.server.url}/uploads/{destination_id}?")
        details = destination.encryption_details
        assert isinstance(details, EncryptionDetails)
        assert details.standard == "AES"
        assert len(base64.b64decode(details.key)) == 32
        assert len(base64.b64decode(details.initialization_vector)) == 16
        # ``headers`` is a free-form object in the model: the JSON object as received.
        assert destination.headers == {"Content-Type": "application/pdf"}
        # Nothing of the body was lost on the way into the models (the SDK keeps the raw last response).
        assert as_json(api, response) == normalised(json.loads(api.api_client.last_response.data))

        # The SDK has no upload helper: a plain signed PUT of the encrypted bytes, with the
        # destination's headers.
        data = encrypted_for(details, PDF)
        upload = httpx.put(destination.url, content=data, headers=destination.headers, timeout=30)
        assert upload.status_code == 200, upload.text
        assert upload.headers["etag"] == f'"{hashlib.md5(data).hexdigest()}"'

        tech1 = world.technician_ids[1]
        body = SetAppointmentFulfillmentDataRequest(
            fulfillment_time=FulfillmentTime(start_time=booked, end_time=booked + timedelta(hours=1)),
            appointment_resources=[AppointmentResource(resource_id=tech1)],
            fulfillment_documents=[
                FulfillmentDocument(upload_destination_id=destination_id, content_sha256=b64_digest("sha256", data))
            ],
        )
        before = to_ms(world.server.clock())
        assert api.set_appointment_fulfillment_data(job_id, appointment_id, body) == ""
        after = world.server.clock()

        # The appointment now carries its proof, deserialised into the model's Poa; the crew is
        # the one recorded with the document.
        poa = appointments_of(api, job_id)[appointment_id].poa
        assert isinstance(poa, Poa)
        assert poa.poa_type == "POA_RECEIPT"
        assert before <= instant(poa.upload_time) <= after
        assert [(t.technician_id, t.name) for t in poa.technicians] == [(tech1, "Tech 1")]
        assert poa.uploading_technician == tech1
        assert instant(poa.appointment_time.start_time) == booked
        assert poa.appointment_time.duration_in_minutes == 60
        job_as_on_the_wire(world, api, job_id)

        response = api.complete_service_job_by_service_job_id(job_id)
        assert isinstance(response, CompleteServiceJobByServiceJobIdResponse)
        assert response.errors is None
        assert status_of(api, job_id) == "COMPLETED"
        assert appointments_of(api, job_id)[appointment_id].poa == poa

    def test_destination_errors(self, world: World, connect: Connect) -> None:
        api = connect(world)
        # The model checks contentType against its enum and requires contentLength: neither
        # invalid body can even be built, so the SDK sends nothing.
        with pytest.raises(ValueError, match=r"Invalid value for `content_type` \(PNGr\), must be one of"):
            ServiceUploadDocument(content_type="PNGr", content_length=10)
        with pytest.raises(ValueError, match="Invalid value for `content_length`, must not be `None`"):
            ServiceUploadDocument(content_type="PNG")

        # A plain dict body is serialised as it is, unvalidated: the server's 422.
        with pytest.raises(ApiException) as caught:
            api.create_service_document_upload_destination({"contentType": "PNGr", "contentLength": 10})
        assert caught.value.status == 422
        assert errors_of(api, caught.value, "CreateServiceDocumentUploadDestination") == [
            error("InvalidInput", CONTENT_TYPE_INVALID)
        ]

        # So is a model built with client-side validation off; its unset fields are left out.
        unchecked = Configuration()
        unchecked.client_side_validation = False
        no_length = ServiceUploadDocument(content_type="PNG", _configuration=unchecked)
        assert api.api_client.sanitize_for_serialization(no_length) == {"contentType": "PNG"}
        with pytest.raises(ApiException) as caught:
            api.create_service_document_upload_destination(no_length)
        assert caught.value.status == 400
        assert errors_of(api, caught.value, "CreateServiceDocumentUploadDestination") == [
            error("InvalidInput", "Missing or invalid request parameters: [contentLength].")
        ]


NEW_YORK = ZoneInfo("America/New_York")


def schedule_day(world: World) -> datetime:
    """Midnight, New York time, of the first weekday a week or more ahead."""
    day = (world.server.clock() + timedelta(days=7)).astimezone(NEW_YORK)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=NEW_YORK)


def last_wire(api: ServiceApi) -> Any:
    """The body of the SDK's last response, as received."""
    return normalised(json.loads(api.api_client.last_response.data))


def spans(report: RangeSlotCapacity) -> dict[str, list[tuple[datetime, datetime, int]]]:
    """A range report's capacities as (start, end, capacity) instants per capacity type."""
    return {
        str(c.capacity_type): [(instant(s.start_date_time), instant(s.end_date_time), s.capacity) for s in c.slots]
        for c in report.capacities
    }


class TestCapacity:
    def test_schedule_reports_slots_and_reservations(self, world: World, connect: Connect) -> None:
        api = connect(world)
        day = schedule_day(world)
        opens, closes = day.replace(hour=9), day.replace(hour=17)
        hour = timedelta(hours=1)

        # updateSchedule: marketplaceIds in the query, the records in an UpdateScheduleRequest; the
        # New York datetimes are sent as their isoformat() (``...T09:00:00-05:00``).
        record = AvailabilityRecord(start_time=opens, end_time=closes, capacity=2)
        response = api.update_schedule(world.store_id, [US], UpdateScheduleRequest(schedules=[record]))
        assert isinstance(response, UpdateScheduleResponse)
        assert (response.payload, response.errors) == (None, None)

        # getRangeSlotCapacity: the model's RangeSlotCapacity is the whole body.
        query = RangeSlotCapacityQuery(
            capacity_types=["SCHEDULED_CAPACITY", "AVAILABLE_CAPACITY"],
            start_date_time=opens - hour,
            end_date_time=closes + hour,
        )
        report = api.get_range_slot_capacity(world.store_id, [US], query)
        assert isinstance(report, RangeSlotCapacity)
        assert report.resource_id == world.store_id
        assert report.next_page_token is None
        as_scheduled = [(opens - hour, opens, 0), (opens, closes, 2), (closes, closes + hour, 0)]
        assert spans(report) == {"SCHEDULED_CAPACITY": as_scheduled, "AVAILABLE_CAPACITY": as_scheduled}
        assert as_json(api, report) == last_wire(api)

        # getFixedSlotCapacity.
        fixed_query = FixedSlotCapacityQuery(
            capacity_types=["SCHEDULED_CAPACITY", "AVAILABLE_CAPACITY", "RESERVED_CAPACITY", "ENCUMBERED_CAPACITY"],
            slot_duration=60,
            start_date_time=opens,
            end_date_time=opens + 3 * hour,
        )
        fixed = api.get_fixed_slot_capacity(world.store_id, [US], fixed_query)
        assert isinstance(fixed, FixedSlotCapacity)
        assert (fixed.resource_id, fixed.slot_duration, fixed.next_page_token) == (world.store_id, 60, None)
        assert all(isinstance(s, FixedSlot) for s in fixed.capacities)
        assert [
            (
                instant(s.start_date_time),
                s.scheduled_capacity,
                s.available_capacity,
                s.reserved_capacity,
                s.encumbered_capacity,
            )
            for s in fixed.capacities
        ] == [(opens + i * hour, 2, 2, 0, 0) for i in range(3)]
        assert as_json(api, fixed) == last_wire(api)

        # getAppointmentSlots: asin, storeId and marketplaceIds positional, the window as keywords.
        by_asin = api.get_appointment_slots(world.asin, world.store_id, [US], start_time=opens, end_time=closes)
        assert isinstance(by_asin, GetAppointmentSlotsResponse)
        assert by_asin.errors is None
        slots = by_asin.payload
        assert slots.scheduling_type == "REAL_TIME_SCHEDULING"
        assert (instant(slots.start_time), instant(slots.end_time)) == (opens, closes)
        every_hour = [(opens + i * hour, opens + (i + 1) * hour, 2) for i in range(8)]
        assert [(instant(s.start_time), instant(s.end_time), s.capacity) for s in slots.appointment_slots] == every_hour
        assert as_json(api, by_asin) == last_wire(api)

        # getAppointmmentSlotsByJobId (the model's spelling, kept by the SDK): the job's store and offering.
        (job_id,) = world.job()
        by_job = api.get_appointmment_slots_by_job_id(job_id, [US], start_time=opens, end_time=closes)
        assert isinstance(by_job, GetAppointmentSlotsResponse)
        assert as_json(api, by_job) == as_json(api, by_asin)

        # createReservation: a one-hour break from 10:00 New York takes one of the two units.
        def reservation(start: datetime) -> Reservation:
            availability = AvailabilityRecord(start_time=start, end_time=start + hour, capacity=1)
            return Reservation(type="BREAK", availability=availability)

        created = api.create_reservation(
            [US], CreateReservationRequest(resource_id=world.store_id, reservation=reservation(opens + hour))
        )
        assert isinstance(created, CreateReservationResponse)
        assert created.errors is None
        made = created.payload.reservation
        assert isinstance(made, Reservation)
        first_id = made.reservation_id
        assert made.type == "BREAK"
        assert (instant(made.availability.start_time), instant(made.availability.end_time)) == (
            opens + hour,
            opens + 2 * hour,
        )
        assert made.availability.capacity == 1
        assert as_json(api, created) == last_wire(api)

        available = RangeSlotCapacityQuery(
            capacity_types=["AVAILABLE_CAPACITY"], start_date_time=opens, end_date_time=closes
        )
        assert spans(api.get_range_slot_capacity(world.store_id, [US], available)) == {
            "AVAILABLE_CAPACITY": [
                (opens, opens + hour, 2),
                (opens + hour, opens + 2 * hour, 1),
                (opens + 2 * hour, closes, 2),
            ]
        }

        # updateReservation: moved to 13:00 New York, under a new id.
        updated = api.update_reservation(
            first_id,
            [US],
            UpdateReservationRequest(resource_id=world.store_id, reservation=reservation(opens + 4 * hour)),
        )
        assert isinstance(updated, UpdateReservationResponse)
        moved = updated.payload.reservation
        second_id = moved.reservation_id
        assert second_id != first_id
        assert instant(moved.availability.start_time) == opens + 4 * hour
        assert as_json(api, updated) == last_wire(api)
        assert spans(api.get_range_slot_capacity(world.store_id, [US], available)) == {
            "AVAILABLE_CAPACITY": [
                (opens, opens + 4 * hour, 2),
                (opens + 4 * hour, opens + 5 * hour, 1),
                (opens + 5 * hour, closes, 2),
            ]
        }

        # cancelReservation: 204 with no body, which the SDK deserialises into an empty response model.
        cancelled = api.cancel_reservation(second_id, [US])
        assert isinstance(cancelled, CancelReservationResponse)
        assert cancelled.errors is None
        assert (api.api_client.last_response.status, api.api_client.last_response.data) == (204, "")
        assert api.api_client.last_response.status == 204
        assert spans(api.get_range_slot_capacity(world.store_id, [US], available)) == {
            "AVAILABLE_CAPACITY": [(opens, closes, 2)]
        }

        # The reservation the update replaced is gone.
        with pytest.raises(ApiException) as caught:
            api.cancel_reservation(first_id, [US])
        assert caught.value.status == 404
        assert errors_of(api, caught.value, "CancelReservationResponse") == [
            error("InvalidInput", "Reservation does not exist")
        ]

        # An overlapping record overrides the schedule: 200, the record and its warning deserialised
        # into UpdateScheduleRecord and Warning models.
        noon = AvailabilityRecord(start_time=opens + 3 * hour, end_time=opens + 4 * hour, capacity=5)
        warned = api.update_schedule(world.store_id, [US], UpdateScheduleRequest(schedules=[record, noon]))
        assert isinstance(warned, UpdateScheduleResponse)
        (overridden,) = warned.payload
        assert isinstance(overridden, UpdateScheduleRecord)
        assert instant(overridden.availability.start_time) == opens + 3 * hour
        assert overridden.availability.capacity == 5
        (warning,) = overridden.warnings
        assert isinstance(warning, ModelWarning)
        assert (warning.code, warning.message) == (
            "ScheduleOverride",
            "This AvailabilityRecord will override the current schedule as the time-ranges overlap",
        )
        assert as_json(api, warned) == last_wire(api)
