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

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sp_api.api import Services
from sp_api.auth import AccessTokenClient
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import ApiResponse, Marketplaces, SellingApiException, SellingApiForbiddenException

from sp_services.domain.enums import JobStatus
from sp_services.domain.rate_limits import RATE_LIMITS
from sp_services.domain.times import format_utc
from tests.support import Server, World, make_world

US = "ATVPDKIKX0DER"
UNAUTHORIZED_ACTION = "Not authorized to access this resource.Please check your input again"
DENIED = "Access to requested resource is denied."


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
        (job_id,) = world.job(JobStatus.NOT_SERVICED)
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
