"""The Manage Jobs report through HTTP (docs/design.md §6): ``GET /reports/v1/jobs.csv`` with the
getServiceJobs filters, its exact rows, seller scoping, quoting, formula neutralisation, errors."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from benchmarks.report_bench import Owner, bulk_jobs

from sp_services.domain.enums import JobStatus
from sp_services.domain.job_query import JobQuery
from sp_services.domain.jobs import payment
from sp_services.domain.times import format_utc
from sp_services.persistence.repositories.jobs import JobRepository
from sp_services.services import operator as op
from sp_services.services import reports as report_service
from tests.operations import US, local, z
from tests.scenes import monday
from tests.support import Server, World, make_world

REPORT = "/reports/v1/jobs.csv"
DENIED = "Access to requested resource is denied."
C1 = datetime(2026, 11, 20, 9, 30, 15, 999_600, tzinfo=UTC)  # sub-millisecond: written truncated


def report(world: World, **params: Any) -> httpx.Response:
    with world.client() as c:
        return c.get(REPORT, params={"marketplaceIds": US, **params})


def table(r: httpx.Response) -> list[list[str]]:
    assert r.status_code == 200, r.text
    return list(csv.reader(io.StringIO(r.content.decode("utf-8"), newline="")))


def job_ids(r: httpx.Response) -> list[str]:
    return [row[0] for row in table(r)[1:]]


def wire(world: World, job_id: str) -> dict[str, Any]:
    with world.client() as c:
        r = c.get(f"/service/v1/serviceJobs/{job_id}")
    assert r.status_code == 200, r.text
    return dict(r.json()["payload"])


def updated_at(world: World, job_id: str) -> str:
    with world.server.db.transaction(write=False) as s:
        job = JobRepository(s).get_job(job_id)
    assert job is not None
    return format_utc(job.updated_at)


def order(world: World, *, buyer: str, created_at: datetime, postal_code: str = "98101", payments: Any = ()) -> str:
    """A one-job order as the marketplace hands it over, with this buyer name and postal code."""
    with world.server.db.transaction() as s:
        created = op.create_order(
            s,
            now=created_at,
            order=op.NewOrder(
                seller_id=world.seller_id,
                marketplace_id=US,
                store_id=world.store_id,
                buyer={"buyerId": "B0002", "name": buyer},
                service_location={"serviceLocationType": "IN_HOME", "address": {"postalCode": postal_code}},
                jobs=(op.NewJob(asin=world.asin, created_at=created_at, payments=tuple(payments)),),
            ),
        )
    return created.jobs[0].service_job_id


def http(world: World, method: str, path: str, body: Any) -> dict[str, Any]:
    with world.client() as c:
        r = c.request(method, f"/service/v1/serviceJobs/{path}", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_the_report_of_a_known_history(world: World) -> None:
    t0, t1 = world.technician_ids
    (completed,) = world.job(JobStatus.COMPLETED, created_at=C1)
    (cancelled,) = world.job(JobStatus.CANCELLED, created_at=C1 + timedelta(minutes=1))
    quoted = order(
        world,
        buyer='Doe, "Jo"\nSmith',
        postal_code="=1+1",
        created_at=C1 + timedelta(minutes=2),
        payments=[payment(Decimal("99.5"), "USD"), payment(Decimal(5), "EUR"), payment(Decimal("0.25"), "USD")],
    )
    # Booked, assigned, rescheduled (RS4, which drops the crew) and assigned again, through the API.
    (moved,) = world.job()
    day = monday(world.server)
    first = http(world, "POST", f"{moved}/appointments", {"appointmentTime": {"startTime": z(local(day, 10))}})
    old = first["appointmentId"]
    http(world, "PUT", f"{moved}/appointments/{old}/resources", {"resources": [{"resourceId": t0}]})
    body = {"appointmentTime": {"startTime": z(local(day, 11))}, "rescheduleReasonCode": "RS4"}
    new = http(world, "POST", f"{moved}/appointments/{old}", body)["appointmentId"]
    crew = {"resources": [{"resourceId": t1}, {"resourceId": t0}]}
    http(world, "PUT", f"{moved}/appointments/{new}/resources", crew)

    done, gone, odd, late = (wire(world, j) for j in (completed, cancelled, quoted, moved))
    common = [US, world.store_id, world.asin, "Install"]
    start, end = local(day, 11), local(day, 12)
    assert table(report(world)) == [
        [
            "serviceJobId", "serviceOrderId", "serviceJobStatus", "marketplaceId", "storeId", "asin", "title",
            "buyerName", "buyerPostalCode", "serviceLocationType", "appointmentId", "appointmentStartTime",
            "appointmentEndTime", "technicianIds", "technicianNames", "fulfillmentStartTime", "fulfillmentEndTime",
            "reasonCode", "reasonCause", "paymentAmount", "paymentCurrency", "createTime", "lastUpdatedTime",
        ],
        [
            completed, done["serviceOrderId"], "COMPLETED", *common, "Test Buyer", "", "IN_HOME",
            done["appointments"][0]["appointmentId"], "2026-11-20T11:30:15.000Z", "2026-11-20T12:30:15.000Z",
            t0, "Tech 0", "2026-11-20T11:30:15.000Z", "2026-11-20T12:30:15.000Z", "", "", "99.50", "USD",
            "2026-11-20T09:30:15.999Z", "2026-11-20T14:30:15.000Z",
        ],
        [
            cancelled, gone["serviceOrderId"], "CANCELLED", *common, "Test Buyer", "", "IN_HOME",
            "", "", "", "", "", "", "", "S3", "scope", "99.50", "USD",
            "2026-11-20T09:31:15.999Z", "2026-11-20T09:31:15.999Z",
        ],
        [
            quoted, odd["serviceOrderId"], "PENDING_SCHEDULE", *common, 'Doe, "Jo"\nSmith', "'=1+1", "IN_HOME",
            "", "", "", "", "", "", "", "", "", "99.75; 5.00", "USD; EUR",
            "2026-11-20T09:32:15.999Z", "2026-11-20T09:32:15.999Z",
        ],
        [
            moved, late["serviceOrderId"], "NOT_SERVICED", *common, "Test Buyer", "", "IN_HOME",
            new, f"{z(start)[:-1]}.000Z", f"{z(end)[:-1]}.000Z", f"{t1}; {t0}", "Tech 1; Tech 0", "", "",
            "RS4", "provider", "99.50", "USD", late["createTime"], updated_at(world, moved),
        ],
    ]  # fmt: skip
    assert [done["createTime"], gone["createTime"], odd["createTime"]] == [
        "2026-11-20T09:30:15.999Z",
        "2026-11-20T09:31:15.999Z",
        "2026-11-20T09:32:15.999Z",
    ]
    assert b',"Doe, ""Jo""\nSmith",\'=1+1,IN_HOME,' in report(world).content


def test_response_headers(world: World) -> None:
    r = report(world)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    today = world.server.clock().date().isoformat()
    assert r.headers["content-disposition"] == f'attachment; filename="jobs-{US}-{today}.csv"'
    assert r.headers["x-amzn-ratelimit-limit"] == "500.0"  # getJobsReport's 0.5/s, scaled by the test server
    assert r.content == (
        b"serviceJobId,serviceOrderId,serviceJobStatus,marketplaceId,storeId,asin,title,buyerName,"
        b"buyerPostalCode,serviceLocationType,appointmentId,appointmentStartTime,appointmentEndTime,"
        b"technicianIds,technicianNames,fulfillmentStartTime,fulfillmentEndTime,reasonCode,reasonCause,"
        b"paymentAmount,paymentCurrency,createTime,lastUpdatedTime\r\n"
    )


def test_cells_that_would_run_as_formulas_are_neutralised(world: World) -> None:
    names = ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tTab", "\rReturn", "a=b"]
    made = [order(world, buyer=n, created_at=C1 + timedelta(seconds=i)) for i, n in enumerate(names)]
    r = report(world)
    assert [(row[0], row[7]) for row in table(r)[1:]] == list(
        zip(made, ['\'=HYPERLINK("x")', "'+1", "'-2", "'@SUM(A1)", "'\tTab", "'\rReturn", "a=b"], strict=True)
    )
    lines = r.content.split(b"\r\n")
    assert lines[1].split(b",")[7] == b'"\'=HYPERLINK(""x"")"'
    assert [line.split(b",")[7] for line in lines[2:5]] == [b"'+1", b"'-2", b"'@SUM(A1)"]


def test_filters_are_getservicejobs_filters(world: World, other_world: World) -> None:
    (pending,) = world.job(created_at=C1, tracking_ids=("TRK-1",))
    (completed,) = world.job(JobStatus.COMPLETED, created_at=C1 + timedelta(minutes=1), product_order_ids=("123-4",))
    (cancelled,) = world.job(JobStatus.CANCELLED, created_at=C1 + timedelta(minutes=2))
    every = [pending, completed, cancelled]
    served_at = z(C1 + timedelta(minutes=1, hours=2))
    order_id = wire(world, completed)["serviceOrderId"]
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({}, every),  # neither createdAfter nor lastUpdatedAfter: every job
        ({"serviceJobStatus": "COMPLETED,CANCELLED"}, [completed, cancelled]),
        ({"serviceJobStatus": ["CANCELLED", "COMPLETED"]}, [completed, cancelled]),  # repeated keys
        ({"createdAfter": z(C1 + timedelta(minutes=1)), "createdBefore": z(C1 + timedelta(minutes=1, seconds=1))},
         [completed]),
        ({"lastUpdatedAfter": z(C1 + timedelta(hours=1))}, [completed]),
        ({"lastUpdatedAfter": z(C1), "lastUpdatedBefore": z(C1 + timedelta(minutes=3))}, [pending, cancelled]),
        ({"storeIds": world.store_id}, every),
        ({"storeIds": other_world.store_id}, []),
        ({"asins": world.asin}, every),
        ({"asins": "B000000000"}, []),
        ({"serviceOrderIds": order_id}, [completed]),
        ({"trackingIds": "TRK-1"}, [pending]),
        ({"productOrderIds": "123-4"}, [completed]),
        ({"requiredSkills": "INSTALL"}, every),
        ({"requiredSkills": "PLUMBING"}, []),
        ({"scheduleStartDate": served_at, "scheduleEndDate": served_at}, [completed]),
    ]  # fmt: skip
    for params, expected in cases:
        assert job_ids(report(world, **params)) == expected, params


def test_only_the_callers_jobs(world: World, other_world: World) -> None:
    mine = world.job(created_at=C1)
    theirs = other_world.job(created_at=C1, order_jobs=2)
    assert job_ids(report(world)) == mine
    assert job_ids(report(other_world)) == sorted(theirs)
    their_order = wire(other_world, theirs[0])["serviceOrderId"]
    assert job_ids(report(world, storeIds=other_world.store_id)) == []
    assert job_ids(report(world, serviceOrderIds=their_order)) == []


def test_jobs_created_together_come_in_id_order_across_batches(world: World) -> None:
    made = world.job(created_at=C1, order_jobs=5)
    query = JobQuery(marketplace_id=US)
    seen: list[str] = []
    after = None
    with world.server.db.transaction(write=False) as s:
        while True:
            batch = report_service.report_batch(s, seller_id=world.seller_id, query=query, after=after, size=2)
            seen += [row.service_job_id for row in batch.rows]
            if batch.next_key is None:
                break
            after = batch.next_key
    assert seen == sorted(made)
    assert job_ids(report(world)) == sorted(made)


def test_a_report_of_several_batches(server: Server, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """4,500 generated jobs: three batches of the report, each job once, in creation order."""
    t0, t1 = world.technician_ids
    bulk_jobs(server.db, Owner(world.seller_id, world.store_id, world.asin, (t0, t1)), 4_500)
    rows = table(report(world))
    assert [r[0] for r in rows[1:]] == [f"bench-{i:016d}" for i in range(4_500)]
    fixed = [US, world.store_id, world.asin, 'Install, "deluxe"']
    assert rows[1:5] == [
        ["bench-0000000000000000", "900-0000000-0000000", "COMPLETED", *fixed, "Buyer 0", "10000", "IN_HOME",
         "bench-0000000000000000_a1", "2030-01-02T00:00:00.000Z", "2030-01-02T01:00:00.000Z", t0, "Tech 0",
         "2030-01-02T00:00:00.000Z", "2030-01-02T00:00:00.000Z", "", "", "99.50", "USD",
         "2030-01-01T00:00:00.000Z", "2030-01-02T00:00:00.000Z"],
        ["bench-0000000000000001", "900-0000000-0000001", "NOT_SERVICED", *fixed, "Buyer 1", "10001", "IN_HOME",
         "bench-0000000000000001_a2", "2030-01-02T00:00:01.000Z", "2030-01-02T01:30:01.000Z", t0, "Tech 0",
         "", "", "RS4", "provider", "99.50", "USD", "2030-01-01T00:00:01.000Z", "2030-01-02T00:00:01.000Z"],
        ["bench-0000000000000002", "900-0000000-0000002", "CANCELLED", *fixed, "Buyer 2", "10002", "IN_HOME",
         "bench-0000000000000002_a1", "2030-01-02T00:00:02.000Z", "2030-01-02T01:00:02.000Z", t0, "Tech 0",
         "", "", "S1", "buyer", "99.50", "USD", "2030-01-01T00:00:02.000Z", "2030-01-02T00:00:02.000Z"],
        ["bench-0000000000000003", "900-0000000-0000003", "PENDING_SCHEDULE", *fixed, "Buyer 3", "10003",
         "IN_HOME", "", "", "", "", "", "", "", "", "", "99.50", "USD", "2030-01-01T00:00:03.000Z",
         "2030-01-02T00:00:03.000Z"],
    ]  # fmt: skip

    # A client that goes away mid-download leaves the server as it was: it answers the next one.
    with world.client() as c, c.stream("GET", REPORT, params={"marketplaceIds": US}) as r:
        assert next(r.iter_raw()).startswith(b"serviceJobId,serviceOrderId,")
    assert job_ids(report(world, createdBefore="2030-01-01T00:00:09Z")) == [f"bench-{i:016d}" for i in range(10)]

    # A batch that fails mid-download breaks the transfer: never a short file that looks complete.
    real, calls = report_service.report_batch, []

    def failing(*args: Any, **kwargs: Any) -> report_service.ReportBatch:
        calls.append(kwargs["after"])
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(report_service, "report_batch", failing)
    with pytest.raises(httpx.RemoteProtocolError):
        report(world)


@pytest.mark.parametrize(
    ("params", "names", "details"),
    [
        ({"marketplaceIds": None}, "marketplaceIds", "marketplaceIds: is required"),
        ({"marketplaceIds": "NOPE1"}, "marketplaceIds", "marketplaceIds: unknown marketplace NOPE1"),
        ({"marketplaceIds": f"{US},A1F83G8C2ARO7P"}, "marketplaceIds", "marketplaceIds: accepts at most 1 values"),
        ({"createdAfter": "yesterday"}, "createdAfter", "createdAfter: must be an ISO 8601 date-time"),
        ({"serviceJobStatus": "DONE"}, "serviceJobStatus",
         "serviceJobStatus: accepts only NOT_SERVICED, CANCELLED, COMPLETED, PENDING_SCHEDULE, NOT_FULFILLABLE, "
         "HOLD, PAYMENT_DECLINED"),
        ({"asins": "SHORT"}, "asins", "asins: has an invalid value 'SHORT'"),
        ({"createdAfter": "2026-01-02T00:00:00Z", "lastUpdatedAfter": "2026-01-02T00:00:00Z"},
         "createdAfter, lastUpdatedAfter", "Exactly one of createdAfter or lastUpdatedAfter is required."),
        ({"createdAfter": "2026-01-02T00:00:00Z", "createdBefore": "2026-01-01T00:00:00Z"}, "createdBefore",
         "createdBefore must not be earlier than createdAfter."),
        ({"scheduleStartDate": "2026-01-02T00:00:00Z", "scheduleEndDate": "2026-01-01T00:00:00Z"},
         "scheduleEndDate", "Schedule end date should not be earlier than schedule start date."),
        ({"marketplaceIds": None, "trackingIds": "a b", "storeIds": "x" * 101}, "marketplaceIds, trackingIds, storeIds",
         "marketplaceIds: is required; trackingIds: has an invalid value 'a b'; storeIds: has an invalid value "
         f"'{'x' * 101}'"),
    ],
)  # fmt: skip
def test_bad_parameters_are_400s(world: World, params: dict[str, Any], names: str, details: str) -> None:
    query = {k: v for k, v in {"marketplaceIds": US, **params}.items() if v is not None}
    with world.client() as c:
        r = c.get(REPORT, params=query)
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {
        "errors": [
            {"code": "InvalidInput", "message": f"Missing or invalid request parameters: [{names}]", "details": details}
        ]
    }


def test_callers_without_a_usable_token_are_refused(server: Server) -> None:
    no_token = httpx.get(f"{server.url}{REPORT}", params={"marketplaceIds": US})
    bad_token = httpx.get(f"{server.url}{REPORT}", params={"marketplaceIds": US}, headers={"x-amz-access-token": "x"})
    no_role = make_world(server, roles=("SomethingElse",))
    with no_role.client() as c:
        unroled = c.get(REPORT, params={"marketplaceIds": US})
    details = [
        "Access token is missing in the request header.",
        "The access token you provided is revoked, malformed or invalid.",
        "The application is not granted the Professional Services role.",
    ]
    for r, detail in zip((no_token, bad_token, unroled), details, strict=True):
        assert r.status_code == 403
        assert r.json() == {"errors": [{"code": "Unauthorized", "message": DENIED, "details": detail}]}


def test_published_in_the_openapi_document(server: Server) -> None:
    operation = httpx.get(f"{server.url}/openapi.json").json()["paths"][REPORT]["get"]
    assert operation["operationId"] == "getJobsReport"
    assert [(p["name"], p["in"], p["required"]) for p in operation["parameters"]] == [
        ("serviceOrderIds", "query", False),
        ("productOrderIds", "query", False),
        ("trackingIds", "query", False),
        ("serviceJobStatus", "query", False),
        ("createdAfter", "query", False),
        ("createdBefore", "query", False),
        ("lastUpdatedAfter", "query", False),
        ("lastUpdatedBefore", "query", False),
        ("scheduleStartDate", "query", False),
        ("scheduleEndDate", "query", False),
        ("marketplaceIds", "query", True),
        ("asins", "query", False),
        ("requiredSkills", "query", False),
        ("storeIds", "query", False),
    ]
    assert sorted(operation["responses"]) == ["200", "400", "403", "429", "503"]
    assert operation["responses"]["200"]["content"] == {"text/csv": {"schema": {"type": "string"}}}
    assert httpx.get(f"{server.url}/docs").status_code == 200
