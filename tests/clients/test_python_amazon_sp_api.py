"""python-amazon-sp-api (``sp_api.api.Services``), unmodified, against our server.

How the client is pointed at us, through what it lets callers configure:

* LWA: ``Services(auth_token_client_class=...)`` takes the token client class; a subclass of its
  ``AccessTokenClient`` with the class attributes ``scheme = "http://"`` and ``host = "127.0.0.1:<port>"``
  makes it POST the refresh-token grant to ``<base>/auth/o2/token`` (``path`` is already that).
* API: ``client.endpoint`` is a public attribute holding the base URL (``scheme://host``), set to ours.
  The client also sends ``Host: endpoint[8:]``, which is wrong for an ``http://`` URL; the server
  ignores Host, so that is harmless.

The client caches access tokens in a module-level TTLCache keyed by refresh token; every world has its
own refresh token, so tests never share a token.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sp_api.api import Services
from sp_api.auth import AccessTokenClient
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import (
    ApiResponse,
    Marketplaces,
    SellingApiBadRequestException,
    SellingApiException,
    SellingApiForbiddenException,
    SellingApiNotFoundException,
)
from sp_api.base.helpers import create_md5

from sp_services.domain.enums import JobStatus
from sp_services.domain.rate_limits import RATE_LIMITS
from sp_services.domain.times import format_utc, format_utc_seconds
from tests.support import Server, World, make_world

US = "ATVPDKIKX0DER"
UNAUTHORIZED_ACTION = "Not authorized to access this resource.Please check your input again"
DENIED = "Access to requested resource is denied."
PDF = b"%PDF-1.7\n" + b"proof of appointment " * 40 + b"\n%%EOF\n"


def token_client_class(server: Server) -> type[AccessTokenClient]:
    """The library's own LWA client, re-aimed through its class attributes at ``<base>/auth/o2/token``."""
    parts = urlsplit(server.url)
    return type("LocalAccessTokenClient", (AccessTokenClient,), {"scheme": f"{parts.scheme}://", "host": parts.netloc})


Connect = Callable[..., Services]


@pytest.fixture
def connect() -> Iterator[Connect]:
    """``connect(world)``: a ``Services`` client with the world's LWA credentials, aimed at our server.

    Each client owns two httpx clients (API and LWA); they are closed at teardown so that no socket
    is left for the garbage collector to report as a ResourceWarning in some later test.
    """
    opened: list[Services] = []

    def _connect(world: World, *, client_secret: str | None = None) -> Services:
        client = Services(
            Marketplaces.US,
            refresh_token=world.refresh_token,
            credentials={"lwa_app_id": world.client_id, "lwa_client_secret": client_secret or world.client_secret},
            auth_token_client_class=token_client_class(world.server),
            timeout=30,
        )
        client.endpoint = world.server.url
        opened.append(client)
        return client

    yield _connect
    for client in opened:
        client.close()  # the API transport
        client._auth._transport.close()  # the library has no public way to close its LWA transport


def created_after(world: World) -> str:
    """A createdAfter a little before now, in the ISO 8601 form the client passes through as-is."""
    return format_utc(world.server.clock() - timedelta(minutes=1))


def raw_job(world: World, job_id: str) -> dict[str, Any]:
    """The job as it is on the wire, read without the client under test."""
    with world.client() as c:
        response = c.get(f"/service/v1/serviceJobs/{job_id}")
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()["payload"]
    return payload


def status_of(client: Services, job_id: str) -> str:
    response = client.get_service_job_by_service_job_id(job_id)
    assert response.payload["serviceJobId"] == job_id
    return str(response.payload["serviceJobStatus"])


def one_error(exc: SellingApiException) -> dict[str, str]:
    assert len(exc.error) == 1, exc.error
    error: dict[str, str] = exc.error[0]
    assert (exc.amzn_code, exc.message) == (error["code"], error["message"])
    return error


def invalid(message: str) -> dict[str, str]:
    return {"code": "InvalidInput", "message": message, "details": ""}


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


def appointments_of(client: Services, job_id: str) -> dict[str, dict[str, Any]]:
    job = client.get_service_job_by_service_job_id(job_id).payload
    return {a["appointmentId"]: a for a in job["appointments"]}


def wire_put(world: World, path: str, body: Any) -> tuple[int, Any]:
    """A PUT made without the client under test: what the server really answered."""
    with world.client() as c:
        response = c.put(path, json=body)
    return response.status_code, response.json() if response.content else None


class TestLwa:
    def test_token_comes_from_our_token_endpoint(self, world: World, connect: Connect) -> None:
        client = connect(world)
        auth = client.auth
        assert auth.access_token.startswith("Atza|")
        assert auth.refresh_token == world.refresh_token
        assert auth.token_type == "bearer"
        assert auth.expires_in == world.server.settings.access_token_ttl_seconds
        # The token the client sends is that token, and our server accepts it.
        assert client.headers["x-amz-access-token"] == auth.access_token
        (job_id,) = world.job()
        assert status_of(client, job_id) == "PENDING_SCHEDULE"

    def test_wrong_client_secret_is_an_lwa_error(self, world: World, connect: Connect) -> None:
        client = connect(world, client_secret="amzn1.oa2-cs.v1.wrong")
        with pytest.raises(AuthorizationError) as caught:
            _ = client.auth
        assert (caught.value.status_code, caught.value.error_code, caught.value.message) == (
            401,
            "invalid_client",
            "Client authentication failed",
        )


class TestList:
    def test_lists_created_jobs(self, world: World, connect: Connect) -> None:
        since = created_after(world)
        pending = world.job(JobStatus.PENDING_SCHEDULE, order_jobs=2)
        booked = world.job(JobStatus.NOT_SERVICED)
        response = connect(world).get_service_jobs(marketplaceIds=[US], createdAfter=since)
        assert isinstance(response, ApiResponse)
        assert response.errors is None
        assert response.next_token is None
        assert response.payload["totalResultSize"] == 3
        assert "nextPageToken" not in response.payload
        assert "previousPageToken" not in response.payload
        jobs = {j["serviceJobId"]: j for j in response.payload["jobs"]}
        assert set(jobs) == {*pending, *booked}
        assert {j: jobs[j]["serviceJobStatus"] for j in jobs} == {
            pending[0]: "PENDING_SCHEDULE",
            pending[1]: "PENDING_SCHEDULE",
            booked[0]: "NOT_SERVICED",
        }
        # The parsed listing entries are exactly the wire jobs.
        assert jobs[booked[0]] == raw_job(world, booked[0])

    def test_status_filter_and_default_marketplace(self, world: World, connect: Connect) -> None:
        since = created_after(world)
        world.job(JobStatus.PENDING_SCHEDULE)
        (booked,) = world.job(JobStatus.NOT_SERVICED)
        (cancelled,) = world.job(JobStatus.CANCELLED)
        # No marketplaceIds given: the client adds its own marketplace (US) under several spellings,
        # marketplaceIds among them. A list is sent as repeated keys (serviceJobStatus=A&serviceJobStatus=B).
        response = connect(world).get_service_jobs(createdAfter=since, serviceJobStatus=["NOT_SERVICED", "CANCELLED"])
        assert response.payload["totalResultSize"] == 2
        assert sorted(j["serviceJobId"] for j in response.payload["jobs"]) == sorted([booked, cancelled])
        assert {j["marketplaceId"] for j in response.payload["jobs"]} == {US}

    def test_pages_with_the_clients_next_token(self, world: World, connect: Connect) -> None:
        since = created_after(world)
        created = world.job(order_jobs=13) + world.job(order_jobs=12)
        assert len(set(created)) == 25
        client = connect(world)
        seen: list[str] = []
        sizes: list[int] = []
        previous_tokens: list[bool] = []
        token: str | None = None
        for _ in range(10):  # a bound, so a paging bug cannot loop forever
            kwargs: dict[str, Any] = {"marketplaceIds": [US], "createdAfter": since, "pageSize": 10}
            if token:
                kwargs["pageToken"] = token
            response = client.get_service_jobs(**kwargs)
            assert response.payload["totalResultSize"] == 25
            page = [j["serviceJobId"] for j in response.payload["jobs"]]
            seen += page
            sizes.append(len(page))
            previous_tokens.append("previousPageToken" in response.payload)
            # ApiResponse.next_token is how this client exposes the model's nextPageToken.
            assert response.next_token == response.payload.get("nextPageToken")
            token = response.next_token
            if not token:
                break
        assert sizes == [10, 10, 5]
        assert previous_tokens == [False, True, True]
        assert sorted(seen) == sorted(created)
        assert len(seen) == len(set(seen)) == 25


class TestRead:
    def test_reads_one_job(self, world: World, connect: Connect) -> None:
        (job_id,) = world.job(JobStatus.NOT_SERVICED)
        response = connect(world).get_service_job_by_service_job_id(job_id)
        assert isinstance(response, ApiResponse)
        rate, _ = RATE_LIMITS["getServiceJobByServiceJobId"]
        assert response.rate_limit == f"{rate * world.server.settings.rate_limit_scale:.1f}"
        job = response.payload
        assert job["serviceJobId"] == job_id
        assert job["serviceJobStatus"] == "NOT_SERVICED"
        assert job["scopeOfWork"]["asin"] == world.asin
        assert job["storeId"] == world.store_id
        assert job["marketplaceId"] == US
        assert job["seller"] == {"sellerId": world.seller_id}
        (appointment,) = job["appointments"]
        assert appointment["appointmentStatus"] == "ACTIVE"
        assert appointment["assignedTechnicians"] == [{"technicianId": world.technician_ids[0], "name": "Tech 0"}]
        assert job == raw_job(world, job_id)


class TestCompleteAndCancel:
    def test_complete_then_complete_again(self, world: World, connect: Connect) -> None:
        (job_id,) = world.job(JobStatus.NOT_SERVICED, fulfilled=True)
        client = connect(world)
        response = client.complete_service_job_by_service_job_id(job_id)
        assert isinstance(response, ApiResponse)
        assert response.payload == {}
        assert response.errors is None
        assert status_of(client, job_id) == "COMPLETED"

        # 422 has no exception class of its own in this client: it raises the base SellingApiException.
        with pytest.raises(SellingApiException) as caught:
            client.complete_service_job_by_service_job_id(job_id)
        assert type(caught.value) is SellingApiException
        assert one_error(caught.value) == {
            "code": "InvalidInput",
            "message": f"Operation not allowed on job with jobId : {job_id} and jobState : COMPLETED",
            "details": "",
        }
        assert status_of(client, job_id) == "COMPLETED"

    def test_cancel_with_reason_code(self, world: World, connect: Connect) -> None:
        (job_id,) = world.job(JobStatus.PENDING_SCHEDULE)
        client = connect(world)
        # This client sends cancellationReasonCode in the JSON body of the PUT, not in the query.
        response = client.cancel_service_job_by_service_job_id(job_id, cancellationReasonCode="S3")
        assert isinstance(response, ApiResponse)
        assert response.payload == {}
        assert status_of(client, job_id) == "CANCELLED"

        with pytest.raises(SellingApiException) as caught:
            client.cancel_service_job_by_service_job_id(job_id, cancellationReasonCode="S3")
        assert type(caught.value) is SellingApiException
        assert one_error(caught.value) == {
            "code": "InvalidInput",
            "message": f"Job with jobId {job_id} and jobStatus CANCELLED cannot be cancelled",
            "details": "",
        }


class TestForbidden:
    def test_other_sellers_job(self, world: World, other_world: World, connect: Connect) -> None:
        (job_id,) = world.job(JobStatus.NOT_SERVICED)
        intruder = connect(other_world)
        calls = {
            "get": lambda: intruder.get_service_job_by_service_job_id(job_id),
            "complete": lambda: intruder.complete_service_job_by_service_job_id(job_id),
            "cancel": lambda: intruder.cancel_service_job_by_service_job_id(job_id, cancellationReasonCode="S3"),
        }
        for name, call in calls.items():
            with pytest.raises(SellingApiForbiddenException) as caught:
                call()
            assert one_error(caught.value) == {
                "code": "UnauthorizedAction",
                "message": UNAUTHORIZED_ACTION,
                "details": "",
            }, name
        assert raw_job(world, job_id)["serviceJobStatus"] == "NOT_SERVICED"

    def test_app_without_the_role(self, server: Server, connect: Connect) -> None:
        inventory_only = make_world(server, roles=("Inventory",))
        (job_id,) = inventory_only.job()
        client = connect(inventory_only)
        # The LWA exchange itself succeeds; the API refuses the token.
        assert client.auth.access_token.startswith("Atza|")
        calls = {
            "list": lambda: client.get_service_jobs(marketplaceIds=[US], createdAfter=created_after(inventory_only)),
            "get": lambda: client.get_service_job_by_service_job_id(job_id),
            "complete": lambda: client.complete_service_job_by_service_job_id(job_id),
        }
        for name, call in calls.items():
            with pytest.raises(SellingApiForbiddenException) as caught:
                call()
            assert one_error(caught.value) == {
                "code": "Unauthorized",
                "message": DENIED,
                "details": "The application is not granted the Professional Services role.",
            }, name


class TestAddAppointment:
    def test_books_an_open_slot(self, world: World, connect: Connect) -> None:
        (job_id,) = world.job(JobStatus.PENDING_SCHEDULE)
        start = open_slot(world)
        client = connect(world)
        # The request body's fields are the method's keyword arguments. The client also adds
        # marketplaceIds and MarketplaceIds to every POST/PUT body; the server ignores them.
        response = client.add_appointment_for_service_job_by_service_job_id(
            job_id, appointmentTime={"startTime": format_utc(start), "durationInMinutes": 60}
        )
        assert isinstance(response, ApiResponse)
        assert response.errors is None
        appointment_id = response.payload["appointmentId"]
        assert response.payload == {"appointmentId": appointment_id}
        assert appointment_id.startswith(f"{job_id}_")

        job = client.get_service_job_by_service_job_id(job_id).payload
        assert job["serviceJobStatus"] == "NOT_SERVICED"
        assert job["appointments"] == [
            {
                "appointmentId": appointment_id,
                "appointmentStatus": "ACTIVE",
                "appointmentTime": {"startTime": format_utc(start), "durationInMinutes": 60},
            }
        ]

        with pytest.raises(SellingApiException) as caught:
            client.add_appointment_for_service_job_by_service_job_id(
                job_id, appointmentTime={"startTime": format_utc(open_slot(world, hour=16))}
            )
        assert type(caught.value) is SellingApiException
        assert one_error(caught.value) == invalid(
            f"Failed to add appointment for jobId : {job_id}, reason : Job already has an active appointmentId."
        )

    def test_errors(self, world: World, connect: Connect) -> None:
        (job_id, other_id) = world.job(JobStatus.PENDING_SCHEDULE, order_jobs=2)
        start = open_slot(world)
        client = connect(world)
        local = start.astimezone(ZoneInfo("America/New_York")).isoformat()
        with pytest.raises(SellingApiException) as caught:
            client.add_appointment_for_service_job_by_service_job_id(job_id, appointmentTime={"startTime": local})
        assert type(caught.value) is SellingApiException
        assert one_error(caught.value) == invalid(f"ISO8601 time {local} is not in UTC.")

        # The method's docstring names the request model ``body``, but a ``body=`` keyword is sent
        # as a field named "body": the server sees no appointmentTime.
        with pytest.raises(SellingApiBadRequestException) as caught_bad:
            client.add_appointment_for_service_job_by_service_job_id(
                job_id, body={"appointmentTime": {"startTime": format_utc(start)}}
            )
        assert one_error(caught_bad.value) == invalid("Missing or invalid request parameters: [appointmentTime]")

        # The store takes one job at a time: once the slot is booked it is gone for the other job.
        client.add_appointment_for_service_job_by_service_job_id(
            job_id, appointmentTime={"startTime": format_utc(start)}
        )
        with pytest.raises(SellingApiException) as caught:
            client.add_appointment_for_service_job_by_service_job_id(
                other_id, appointmentTime={"startTime": format_utc(start)}
            )
        assert one_error(caught.value) == invalid(
            f"Failed to add appointment for jobId : {other_id}, reason : Appointment slot is not available."
        )
        assert status_of(client, other_id) == "PENDING_SCHEDULE"


class TestAssignAndReschedule:
    def test_assign_technicians_then_reschedule(self, world: World, connect: Connect) -> None:
        (job_id,) = world.job(JobStatus.PENDING_SCHEDULE)
        client = connect(world)
        first = client.add_appointment_for_service_job_by_service_job_id(
            job_id, appointmentTime={"startTime": format_utc(open_slot(world))}
        ).payload["appointmentId"]
        tech0, tech1 = world.technician_ids

        assigned = client.assign_appointment_resources(
            job_id, first, resources=[{"resourceId": tech0}, {"resourceId": tech1}]
        )
        assert isinstance(assigned, ApiResponse)
        assert assigned.payload == {}
        assert assigned.errors is None
        assert appointments_of(client, job_id)[first]["assignedTechnicians"] == [
            {"technicianId": tech0, "name": "Tech 0"},
            {"technicianId": tech1, "name": "Tech 1"},
        ]

        # RS4 ("Provider cannot meet original appointment") is valid for a default US job.
        later = open_slot(world, hour=16)
        response = client.reschedule_appointment_for_service_job_by_service_job_id_post(
            job_id, first, appointmentTime={"startTime": format_utc(later)}, rescheduleReasonCode="RS4"
        )
        assert isinstance(response, ApiResponse)
        assert response.errors is None
        second = response.payload["appointmentId"]
        assert second != first
        # The model's top-level ``warnings`` arrive untouched in the payload (and as an attribute).
        unassigned = [{"code": "RESOURCES_UNASSIGNED", "message": f"Unassigned resources : {tech0},{tech1}"}]
        assert response.payload == {"appointmentId": second, "warnings": unassigned}
        assert response.warnings == unassigned

        appointments = appointments_of(client, job_id)
        assert appointments[first]["appointmentStatus"] == "CANCELLED"
        assert appointments[second] == {
            "appointmentId": second,
            "appointmentStatus": "ACTIVE",
            "appointmentTime": {"startTime": format_utc(later), "durationInMinutes": 60},
            "rescheduledAppointmentId": first,
        }
        assert status_of(client, job_id) == "NOT_SERVICED"

    def test_reschedule_errors(self, world: World, connect: Connect) -> None:
        (job_id,) = world.job(JobStatus.NOT_SERVICED)
        client = connect(world)
        (appointment_id,) = appointments_of(client, job_id)
        body = {"appointmentTime": {"startTime": format_utc(open_slot(world))}}

        # The client's reschedule method without the ``_post`` suffix has no appointmentId and POSTs
        # to /serviceJobs/{serviceJobId}, a path that only answers GET.
        with pytest.raises(SellingApiException) as caught:
            client.reschedule_appointment_for_service_job_by_service_job_id(job_id, **body, rescheduleReasonCode="RS4")
        assert type(caught.value) is SellingApiException
        assert one_error(caught.value) == {
            "code": "MethodNotAllowed",
            "message": "The method is not allowed for the requested resource.",
            "details": "",
        }

        # RS1 is a heavy-bulky code of DE only.
        with pytest.raises(SellingApiException) as caught:
            client.reschedule_appointment_for_service_job_by_service_job_id_post(
                job_id, appointment_id, **body, rescheduleReasonCode="RS1"
            )
        assert type(caught.value) is SellingApiException
        assert one_error(caught.value) == invalid(
            f"Failed to add appointment for jobId : {job_id}, reason : Appointment reschedule reason code is not valid."
        )
        assert appointments_of(client, job_id)[appointment_id]["appointmentStatus"] == "ACTIVE"

    def test_assign_warning_and_errors(self, world: World, other_world: World, connect: Connect) -> None:
        # Two jobs booked into the same hour, Tech 0 on both.
        first_job, job_id = world.job(JobStatus.NOT_SERVICED, order_jobs=2)
        client = connect(world)
        (appointment_id,) = appointments_of(client, job_id)
        tech0 = world.technician_ids[0]

        response = client.assign_appointment_resources(job_id, appointment_id, resources=[{"resourceId": tech0}])
        assert response.errors is None
        # The model nests assign's warnings under ``payload``; ApiResponse takes that object as its payload.
        assert response.payload == {
            "warnings": [{"code": "RESOURCES_OVERBOOKED", "message": "Resources overbooked for this time window."}]
        }

        stranger = other_world.technician_ids[0]
        with pytest.raises(SellingApiException) as caught:
            client.assign_appointment_resources(job_id, appointment_id, resources=[{"resourceId": stranger}])
        assert type(caught.value) is SellingApiException
        assert one_error(caught.value) == {
            "code": "RESOURCES_NOT_REGISTERED_UNDER_MERCHANT",
            "message": f"Resources are not registered under this Merchant. Applicable resources: {stranger}",
            "details": "",
        }
        with pytest.raises(SellingApiException) as caught:
            client.assign_appointment_resources(job_id, appointment_id, resources=[{"resourceId": "TNOBODY"}])
        assert one_error(caught.value) == invalid("Invalid resourceId : TNOBODY provided in the input.")
        assert appointments_of(client, job_id)[appointment_id]["assignedTechnicians"] == [
            {"technicianId": tech0, "name": "Tech 0"}
        ]
        assert status_of(client, first_job) == "NOT_SERVICED"


class TestFulfillment:
    def test_record_fulfillment_then_complete(self, world: World, connect: Connect) -> None:
        booked = past_booking(world)
        (job_id,) = world.job(JobStatus.NOT_SERVICED, starts_at=booked)
        client = connect(world)
        (appointment_id,) = appointments_of(client, job_id)

        # Completing needs the work recorded first.
        with pytest.raises(SellingApiException) as caught:
            client.complete_service_job_by_service_job_id(job_id)
        assert one_error(caught.value) == invalid(
            f"Failed to complete job with jobId : {job_id}, reason : Fulfillment time of appointment "
            f"{appointment_id} is not recorded."
        )

        response = client.set_appointment_fulfillment_data(
            job_id,
            appointment_id,
            fulfillmentTime={"startTime": format_utc(booked), "endTime": format_utc(booked + timedelta(hours=1))},
            estimatedArrivalTime={
                "startTime": format_utc(booked - timedelta(minutes=30)),
                "endTime": format_utc(booked),
            },
            appointmentResources=[{"resourceId": world.technician_ids[0]}],
        )
        # 204 with no body: the client's JSON decoding fails quietly and it answers an empty payload.
        assert isinstance(response, ApiResponse)
        assert response.payload == {}
        assert response.errors is None

        assert client.complete_service_job_by_service_job_id(job_id).payload == {}
        assert status_of(client, job_id) == "COMPLETED"
        assert appointments_of(client, job_id)[appointment_id]["appointmentStatus"] == "COMPLETED"

    def test_bare_error_list_is_taken_for_a_success(self, world: World, connect: Connect) -> None:
        (job_id,) = world.job(JobStatus.NOT_SERVICED, starts_at=past_booking(world))
        client = connect(world)
        (appointment_id,) = appointments_of(client, job_id)
        path = f"/service/v1/serviceJobs/{job_id}/appointments/{appointment_id}/fulfillment"
        end_only = {"fulfillmentTime": {"endTime": format_utc(past_booking(world))}}
        start_missing = invalid("Appointment start time is required. Please check the input again.")

        # On the wire: 422 and, as the model declares for this operation, a bare ErrorList.
        assert wire_put(world, path, end_only) == (422, [start_missing])

        # The client reads a JSON list as its first element and raises only for a body with an
        # "errors" key, so the 422 comes back as an ordinary ApiResponse whose payload is the first
        # error object. No exception; the status is not on ApiResponse.
        response = client.set_appointment_fulfillment_data(job_id, appointment_id, **end_only)
        assert isinstance(response, ApiResponse)
        assert response.errors is None
        assert response.payload == start_missing

        # With two errors the second is dropped.
        both = {**end_only, "estimatedArrivalTime": {"startTime": format_utc(past_booking(world))}}
        eta_missing = invalid(
            "Failed to process input. Reason: ETA start and end time both are mandatory field as part of "
            "estimatedArrivalTime object. Please check the input again"
        )
        assert wire_put(world, path, both) == (422, [start_missing, eta_missing])
        assert client.set_appointment_fulfillment_data(job_id, appointment_id, **both).payload == start_missing

        # A 400 is swallowed the same way (the client's marketplaceIds make the body non-empty,
        # but it carries no fulfillment artifact).
        no_artifacts = invalid("No fulfillment artifacts provided in JSON payload.")
        assert wire_put(world, path, {}) == (400, [no_artifacts])
        assert client.set_appointment_fulfillment_data(job_id, appointment_id).payload == no_artifacts

        # Nothing was recorded: the job still cannot be completed.
        with pytest.raises(SellingApiException):
            client.complete_service_job_by_service_job_id(job_id)
        assert status_of(client, job_id) == "NOT_SERVICED"


def encrypted_for(destination: dict[str, Any], content: bytes) -> bytes:
    """What a caller does with a destination's encryptionDetails: AES-256-CBC with PKCS#7 padding,
    done here with ``cryptography`` alone (the client has no helper for it)."""
    details = destination["encryptionDetails"]
    assert details["standard"] == "AES"
    key, iv = base64.b64decode(details["key"]), base64.b64decode(details["initializationVector"])
    padder = padding.PKCS7(128).padder()
    padded = padder.update(content) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def to_ms(moment: datetime) -> datetime:
    """An instant truncated to the millisecond, the precision of the server's times."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class TestDocuments:
    def test_proof_of_appointment_upload_then_complete(self, world: World, connect: Connect) -> None:
        booked = past_booking(world)
        (job_id,) = world.job(JobStatus.NOT_SERVICED, starts_at=booked)
        client = connect(world)
        (appointment_id,) = appointments_of(client, job_id)

        # The body's fields are keyword arguments (the client adds marketplaceIds to the body; the
        # server ignores them). The client's own create_md5 helper gives the base64 MD5 the model wants.
        md5 = create_md5(BytesIO(PDF))
        assert md5 == base64.b64encode(hashlib.md5(PDF).digest()).decode()
        response = client.create_service_document_upload_destination(
            contentType="PDF", contentLength=len(PDF), contentMD5=md5
        )
        assert isinstance(response, ApiResponse)
        assert response.errors is None
        rate, _ = RATE_LIMITS["createServiceDocumentUploadDestination"]
        assert response.rate_limit == f"{rate * world.server.settings.rate_limit_scale:.1f}"
        # The payload is the model's ServiceDocumentUploadDestination, as a plain dict.
        destination = response.payload
        destination_id = destination["uploadDestinationId"]
        details = destination["encryptionDetails"]
        assert destination == {
            "uploadDestinationId": destination_id,
            "url": destination["url"],
            "encryptionDetails": {
                "standard": "AES",
                "initializationVector": details["initializationVector"],
                "key": details["key"],
            },
            "headers": {"Content-Type": "application/pdf"},
        }
        assert destination["url"].startswith(f"{world.server.url}/uploads/{destination_id}?")
        assert len(base64.b64decode(details["key"])) == 32
        assert len(base64.b64decode(details["initializationVector"])) == 16

        # The client has no way to upload to a Services destination: its Upload class is the Uploads
        # API (POST /uploads/2020-11-01/uploadDestinations/{resource}, not served here), and only the
        # Feeds client PUTs, unencrypted, to its own feed-document URL. So a plain signed PUT, with
        # the destination's headers.
        data = encrypted_for(destination, PDF)
        upload = httpx.put(destination["url"], content=data, headers=destination["headers"], timeout=30)
        assert upload.status_code == 200, upload.text
        assert upload.headers["etag"] == f'"{hashlib.md5(data).hexdigest()}"'

        before = to_ms(world.server.clock())
        recorded = client.set_appointment_fulfillment_data(
            job_id,
            appointment_id,
            fulfillmentTime={"startTime": format_utc(booked), "endTime": format_utc(booked + timedelta(hours=1))},
            fulfillmentDocuments=[{"uploadDestinationId": destination_id, "contentSha256": sha256_b64(data)}],
        )
        after = world.server.clock()
        assert isinstance(recorded, ApiResponse)
        assert (recorded.payload, recorded.errors) == ({}, None)

        # The appointment now carries its proof; with no appointmentResources in the request, the
        # crew is the appointment's assigned technician.
        appointment = appointments_of(client, job_id)[appointment_id]
        poa = appointment["poa"]
        assert before <= datetime.fromisoformat(poa["uploadTime"]) <= after
        tech0 = world.technician_ids[0]
        assert poa == {
            "appointmentTime": appointment["appointmentTime"],
            "technicians": [{"technicianId": tech0, "name": "Tech 0"}],
            "uploadingTechnician": tech0,
            "uploadTime": poa["uploadTime"],
            "poaType": "POA_RECEIPT",
        }
        assert poa["appointmentTime"] == {"startTime": format_utc(booked), "durationInMinutes": 60}
        assert client.get_service_job_by_service_job_id(job_id).payload == raw_job(world, job_id)

        assert client.complete_service_job_by_service_job_id(job_id).payload == {}
        assert status_of(client, job_id) == "COMPLETED"
        assert appointments_of(client, job_id)[appointment_id]["poa"] == poa

    def test_destination_errors(self, world: World, connect: Connect) -> None:
        client = connect(world)
        # 422 has no exception class of its own in this client: the base SellingApiException, whose
        # ``code`` is its class's 999; the status itself is not kept.
        with pytest.raises(SellingApiException) as caught:
            client.create_service_document_upload_destination(contentType="PNGr", contentLength=10)
        assert type(caught.value) is SellingApiException
        assert caught.value.code == 999
        assert one_error(caught.value) == invalid(
            "contentType parameter is invalid. Use one of ['TIFF', 'JPG', 'PNG', 'JPEG', 'GIF', 'PDF']"
        )

        # The client validates nothing: a body without contentLength is sent, and the 400 raised.
        with pytest.raises(SellingApiBadRequestException) as caught_bad:
            client.create_service_document_upload_destination(contentType="PNG")
        assert caught_bad.value.code == 400
        assert one_error(caught_bad.value) == invalid("Missing or invalid request parameters: [contentLength].")


NEW_YORK = ZoneInfo("America/New_York")


def schedule_day(world: World) -> datetime:
    """Midnight, New York time, of the first weekday a week or more ahead."""
    day = (world.server.clock() + timedelta(days=7)).astimezone(NEW_YORK)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=NEW_YORK)


def spans(report: dict[str, Any]) -> dict[str, list[tuple[str, str, int]]]:
    """A range report's capacities as (start, end, capacity) per capacity type."""
    return {
        c["capacityType"]: [(s["startDateTime"], s["endDateTime"], s["capacity"]) for s in c["slots"]]
        for c in report["capacities"]
    }


class TestCapacity:
    def test_schedule_reports_slots_and_reservations(self, world: World, connect: Connect) -> None:
        client = connect(world)
        day = schedule_day(world)
        opens, closes = day.replace(hour=9), day.replace(hour=17)
        z = format_utc_seconds
        hour = timedelta(hours=1)

        # What the client puts on the wire, seen through its httpx client (no public hook for it).
        sent: list[httpx.Request] = []
        client._transport._client.event_hooks["request"].append(sent.append)

        # updateSchedule: the body's ``schedules`` is a keyword argument. The model wants marketplaceIds
        # in the query; the client puts its marketplace into the PUT body instead (under four
        # spellings), and the server reads marketplaceIds from the body when the query has none.
        record = {"startTime": opens.isoformat(), "endTime": closes.isoformat(), "capacity": 2}
        response = client.update_schedule(world.store_id, schedules=[record])
        assert isinstance(response, ApiResponse)
        assert (response.payload, response.errors) == ({}, None)
        assert sent[-1].url.query == b""
        assert json.loads(sent[-1].content) == {
            "schedules": [record],
            "MarketplaceId": US,
            "MarketplaceIds": [US],
            "marketplace_ids": [US],
            "marketplaceIds": [US],
        }

        # getRangeSlotCapacity: the report is the whole body, so ApiResponse takes it as the payload.
        report_range = {
            "capacityTypes": ["SCHEDULED_CAPACITY", "AVAILABLE_CAPACITY"],
            "startDateTime": z(opens - hour),
            "endDateTime": z(closes + hour),
        }
        report = client.get_range_slot_capacity(world.store_id, **report_range)
        assert isinstance(report, ApiResponse)
        assert report.errors is None
        assert report.payload["resourceId"] == world.store_id
        assert report.next_token is None
        as_scheduled = [(z(opens - hour), z(opens), 0), (z(opens), z(closes), 2), (z(closes), z(closes + hour), 0)]
        assert spans(report.payload) == {"SCHEDULED_CAPACITY": as_scheduled, "AVAILABLE_CAPACITY": as_scheduled}

        # getFixedSlotCapacity: slotDuration joins the body.
        fixed = client.get_fixed_slot_capacity(
            world.store_id,
            capacityTypes=["SCHEDULED_CAPACITY", "AVAILABLE_CAPACITY", "RESERVED_CAPACITY", "ENCUMBERED_CAPACITY"],
            startDateTime=z(opens),
            endDateTime=z(opens + 3 * hour),
            slotDuration=60,
        )
        assert isinstance(fixed, ApiResponse)
        assert fixed.payload == {
            "resourceId": world.store_id,
            "slotDuration": 60,
            "capacities": [
                {
                    "startDateTime": z(opens + i * hour),
                    "scheduledCapacity": 2,
                    "availableCapacity": 2,
                    "reservedCapacity": 0,
                    "encumberedCapacity": 0,
                }
                for i in range(3)
            ],
        }

        # getAppointmentSlots: a GET, so the client's marketplace spellings go in the query.
        window = {"startTime": z(opens), "endTime": z(closes)}
        every_hour = [
            {"startTime": z(opens + i * hour), "endTime": z(opens + (i + 1) * hour), "capacity": 2} for i in range(8)
        ]
        by_asin = client.get_appointment_slots(asin=world.asin, storeId=world.store_id, **window)
        assert isinstance(by_asin, ApiResponse)
        assert by_asin.payload == {**window, "schedulingType": "REAL_TIME_SCHEDULING", "appointmentSlots": every_hour}

        # getAppointmmentSlotsByJobId (the model's spelling, kept by the client): the job's store and offering.
        (job_id,) = world.job()
        by_job = client.get_appointmment_slots_by_job_id(job_id, **window)
        assert isinstance(by_job, ApiResponse)
        assert by_job.payload == by_asin.payload

        # createReservation: a one-hour break from 10:00 New York takes one of the two units.
        def reservation(start: datetime) -> dict[str, Any]:
            return {"type": "BREAK", "availability": {"startTime": z(start), "endTime": z(start + hour), "capacity": 1}}

        created = client.create_reservation(resourceId=world.store_id, reservation=reservation(opens + hour))
        # A POST gets two spellings in the body, again none in the query.
        assert sent[-1].url.query == b""
        assert json.loads(sent[-1].content) == {
            "resourceId": world.store_id,
            "reservation": reservation(opens + hour),
            "marketplaceIds": [US],
            "MarketplaceIds": [US],
        }
        assert isinstance(created, ApiResponse)
        assert created.errors is None
        first_id = created.payload["reservation"]["reservationId"]
        assert created.payload == {
            "reservation": {
                "reservationId": first_id,
                "type": "BREAK",
                "availability": {
                    "startTime": format_utc(opens + hour),
                    "endTime": format_utc(opens + 2 * hour),
                    "capacity": 1,
                },
            }
        }
        available = {"capacityTypes": ["AVAILABLE_CAPACITY"], "startDateTime": z(opens), "endDateTime": z(closes)}
        assert spans(client.get_range_slot_capacity(world.store_id, **available).payload) == {
            "AVAILABLE_CAPACITY": [
                (z(opens), z(opens + hour), 2),
                (z(opens + hour), z(opens + 2 * hour), 1),
                (z(opens + 2 * hour), z(closes), 2),
            ]
        }

        # updateReservation: moved to 13:00 New York, under a new id.
        updated = client.update_reservation(
            first_id, resourceId=world.store_id, reservation=reservation(opens + 4 * hour)
        )
        assert isinstance(updated, ApiResponse)
        second_id = updated.payload["reservation"]["reservationId"]
        assert second_id != first_id
        assert updated.payload["reservation"]["availability"] == {
            "startTime": format_utc(opens + 4 * hour),
            "endTime": format_utc(opens + 5 * hour),
            "capacity": 1,
        }
        assert spans(client.get_range_slot_capacity(world.store_id, **available).payload) == {
            "AVAILABLE_CAPACITY": [
                (z(opens), z(opens + 4 * hour), 2),
                (z(opens + 4 * hour), z(opens + 5 * hour), 1),
                (z(opens + 5 * hour), z(closes), 2),
            ]
        }

        # cancelReservation: a DELETE answered 204 with no body; the client makes that a payload
        # holding the status code.
        cancelled = client.cancel_reservation(second_id)
        # A DELETE carries them in the query, where the model has marketplaceIds.
        assert sent[-1].method == "DELETE"
        assert sent[-1].url.params.get_list("marketplaceIds") == [US]
        assert isinstance(cancelled, ApiResponse)
        assert (cancelled.payload, cancelled.errors) == ({"status_code": 204}, None)
        assert spans(client.get_range_slot_capacity(world.store_id, **available).payload) == {
            "AVAILABLE_CAPACITY": [(z(opens), z(closes), 2)]
        }

        # The reservation the update replaced is gone.
        with pytest.raises(SellingApiNotFoundException) as caught:
            client.cancel_reservation(first_id)
        assert caught.value.code == 404
        assert one_error(caught.value) == invalid("Reservation does not exist")

        # An overlapping record overrides the schedule: 200, with the record warned about in the
        # payload (a list, which the client takes whole since it sits under ``payload``).
        noon = {"startTime": (opens + 3 * hour).isoformat(), "endTime": (opens + 4 * hour).isoformat(), "capacity": 5}
        warned = client.update_schedule(world.store_id, schedules=[record, noon])
        assert warned.payload == [
            {
                "availability": {
                    "startTime": format_utc(opens + 3 * hour),
                    "endTime": format_utc(opens + 4 * hour),
                    "capacity": 5,
                },
                "warnings": [
                    {
                        "code": "ScheduleOverride",
                        "message": "This AvailabilityRecord will override the current schedule "
                        "as the time-ranges overlap",
                    }
                ],
            }
        ]
