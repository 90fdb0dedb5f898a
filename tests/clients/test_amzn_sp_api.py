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

python-dateutil is not a dependency of the SDK; without it the SDK leaves ``date-time`` fields as the
strings it received. The comparisons below read times as instants, so they hold either way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from spapi import ApiException, SPAPIClient, SPAPIConfig
from spapi.api.services_v1.service_api import ServiceApi
from spapi.models.services_v1 import (
    Appointment,
    CancelServiceJobByServiceJobIdResponse,
    CompleteServiceJobByServiceJobIdResponse,
    GetServiceJobByServiceJobIdResponse,
    GetServiceJobsResponse,
    JobListing,
    ServiceJob,
)

from sp_services.domain.enums import JobStatus
from sp_services.domain.times import format_utc
from tests.support import Server, World, make_world

US = "ATVPDKIKX0DER"
UNAUTHORIZED_ACTION = "Not authorized to access this resource.Please check your input again"
DENIED = "Access to requested resource is denied."
TIME_KEYS = frozenset({"createTime", "startTime", "endTime"})

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
        (job_id,) = world.job(JobStatus.NOT_SERVICED)
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
