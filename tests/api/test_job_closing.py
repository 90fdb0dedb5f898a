"""completeServiceJobByServiceJobId and cancelServiceJobByServiceJobId through HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sp_services.domain.enums import JobStatus, ServiceType
from tests.support import Server, World, make_world

UNAUTHORIZED = "Not authorized to access this resource.Please check your input again"


def _status(world: World, job_id: str) -> str:
    with world.client() as c:
        r = c.get(f"/service/v1/serviceJobs/{job_id}")
    assert r.status_code == 200, r.text
    return str(r.json()["payload"]["serviceJobStatus"])


def _order_status(server: Server, order_id: str) -> str:
    import httpx

    r = httpx.get(
        f"{server.url}/operator/v1/serviceOrders/{order_id}", headers={"Authorization": "Bearer test-operator-key"}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["status"])


def _errors(response: object) -> list[dict[str, str]]:
    body = response.json()  # type: ignore[attr-defined]
    return list(body["errors"])


class TestComplete:
    def test_completes_a_booked_job_and_its_appointment(self, world: World) -> None:
        (job_id,) = world.job(
            JobStatus.NOT_SERVICED, starts_at=world.server.clock() - timedelta(hours=5), fulfilled=True
        )
        with world.client() as c:
            r = c.put(f"/service/v1/serviceJobs/{job_id}/completions")
            assert r.status_code == 200
            assert r.json() == {}
            assert r.headers["x-amzn-ratelimit-limit"] == f"{5.0 * 1000:.1f}"
            job = c.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"]
        assert job["serviceJobStatus"] == "COMPLETED"
        assert [a["appointmentStatus"] for a in job["appointments"]] == ["COMPLETED"]

    def test_needs_the_recorded_fulfillment_time(self, world: World) -> None:
        """A job closes after the work is recorded: without fulfillmentTime it stays NOT_SERVICED."""
        (job_id,) = world.job(JobStatus.NOT_SERVICED, starts_at=world.server.clock() - timedelta(hours=5))
        with world.client() as c:
            appointment_id = c.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"]["appointments"][0][
                "appointmentId"
            ]
            r = c.put(f"/service/v1/serviceJobs/{job_id}/completions")
            assert r.status_code == 422
            assert _errors(r) == [
                {
                    "code": "InvalidInput",
                    "details": "",
                    "message": f"Failed to complete job with jobId : {job_id}, reason : Fulfillment time of "
                    f"appointment {appointment_id} is not recorded.",
                }
            ]
            assert _status(world, job_id) == "NOT_SERVICED"
            now = world.server.clock()
            recorded = c.put(
                f"/service/v1/serviceJobs/{job_id}/appointments/{appointment_id}/fulfillment",
                json={
                    "fulfillmentTime": {
                        "startTime": (now - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "endTime": (now - timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                },
            )
            assert recorded.status_code == 204, recorded.text
            assert c.put(f"/service/v1/serviceJobs/{job_id}/completions").status_code == 200
        assert _status(world, job_id) == "COMPLETED"

    @pytest.mark.parametrize(
        "status", ["COMPLETED", "CANCELLED", "PENDING_SCHEDULE", "HOLD", "PAYMENT_DECLINED", "NOT_FULFILLABLE"]
    )
    def test_not_allowed_outside_not_serviced(self, world: World, status: str) -> None:
        (job_id,) = world.job(JobStatus(status))
        with world.client() as c:
            r = c.put(f"/service/v1/serviceJobs/{job_id}/completions")
        assert r.status_code == 422
        assert _errors(r) == [
            {
                "code": "InvalidInput",
                "details": "",
                "message": f"Operation not allowed on job with jobId : {job_id} and jobState : {status}",
            }
        ]
        assert _status(world, job_id) == status

    def test_unknown_job(self, world: World) -> None:
        with world.client() as c:
            r = c.put("/service/v1/serviceJobs/invalidJobId-48b6d5a3-b708-dbe9-038d-dd95e8d74iut/completions")
        assert r.status_code == 422
        assert _errors(r)[0]["message"] == "Job not found for jobId invalidJobId-48b6d5a3-b708-dbe9-038d-dd95e8d74iut"

    def test_invalid_job_id(self, world: World) -> None:
        with world.client() as c:
            r = c.put(f"/service/v1/serviceJobs/{'x' * 101}/completions")
        assert r.status_code == 400
        assert _errors(r) == [
            {"code": "InvalidInput", "details": "", "message": "Missing or invalid request parameters: [serviceJobId]"}
        ]

    def test_other_sellers_job_is_forbidden_and_untouched(self, world: World, other_world: World) -> None:
        (job_id,) = other_world.job(JobStatus.NOT_SERVICED)
        with world.client() as c:
            r = c.put(f"/service/v1/serviceJobs/{job_id}/completions")
        assert r.status_code == 403
        assert _errors(r) == [{"code": "UnauthorizedAction", "message": UNAUTHORIZED, "details": ""}]
        assert _status(other_world, job_id) == "NOT_SERVICED"

    def test_order_completes_with_its_last_job(self, world: World, server: Server) -> None:
        first, second = world.job(JobStatus.NOT_SERVICED, order_jobs=2, fulfilled=True)
        with world.client() as c:
            order_id = c.get(f"/service/v1/serviceJobs/{first}").json()["payload"]["serviceOrderId"]
            assert c.put(f"/service/v1/serviceJobs/{first}/completions").status_code == 200
            assert _order_status(server, order_id) == "ACTIVE"
            assert (
                c.put(
                    f"/service/v1/serviceJobs/{second}/cancellations", params={"cancellationReasonCode": "S1"}
                ).status_code
                == 200
            )
        assert _order_status(server, order_id) == "COMPLETED"


class TestCancel:
    @pytest.mark.parametrize("status", ["PENDING_SCHEDULE", "NOT_SERVICED", "HOLD"])
    def test_cancels_from_cancellable_states(self, world: World, status: str) -> None:
        (job_id,) = world.job(JobStatus(status))
        with world.client() as c:
            r = c.put(f"/service/v1/serviceJobs/{job_id}/cancellations", params={"cancellationReasonCode": "S1"})
            assert r.status_code == 200, r.text
            assert r.json() == {}
            job = c.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"]
        assert job["serviceJobStatus"] == "CANCELLED"
        assert all(a["appointmentStatus"] == "CANCELLED" for a in job.get("appointments", []))

    @pytest.mark.parametrize("status", ["COMPLETED", "CANCELLED", "PAYMENT_DECLINED", "NOT_FULFILLABLE"])
    def test_cannot_cancel(self, world: World, status: str) -> None:
        (job_id,) = world.job(JobStatus(status))
        with world.client() as c:
            r = c.put(f"/service/v1/serviceJobs/{job_id}/cancellations", params={"cancellationReasonCode": "S1"})
        assert r.status_code == 422
        assert _errors(r) == [
            {
                "code": "InvalidInput",
                "details": "",
                "message": f"Job with jobId {job_id} and jobStatus {status} cannot be cancelled",
            }
        ]
        assert _status(world, job_id) == status

    @pytest.mark.parametrize("code", ["S2", "S99", "V1", "RS1", "S20"])
    def test_reason_code_not_valid_for_us_default(self, world: World, code: str) -> None:
        (job_id,) = world.job()
        with world.client() as c:
            r = c.put(f"/service/v1/serviceJobs/{job_id}/cancellations", params={"cancellationReasonCode": code})
        assert r.status_code == 422
        assert _errors(r)[0]["message"] == f"Received invalid input reason code {code} for jobId {job_id}"
        assert _status(world, job_id) == "PENDING_SCHEDULE"

    @pytest.mark.parametrize("service_type", [ServiceType.HEAVY_BULKY, ServiceType.RECURRING])
    def test_other_service_types(self, server: Server, service_type: ServiceType) -> None:
        """Heavy bulky uses its own column; recurring has none for cancellations and uses Default."""
        w = make_world(server, service_type=service_type)
        (ok_job,) = w.job()
        (bad_job,) = w.job()
        with w.client() as c:
            assert (
                c.put(
                    f"/service/v1/serviceJobs/{ok_job}/cancellations", params={"cancellationReasonCode": "S14"}
                ).status_code
                == 200
            )
            # S31 is valid for IN default only.
            r = c.put(f"/service/v1/serviceJobs/{bad_job}/cancellations", params={"cancellationReasonCode": "S31"})
        assert r.status_code == 422
        assert _errors(r)[0]["message"] == f"Received invalid input reason code S31 for jobId {bad_job}"

    @pytest.mark.parametrize(
        ("query", "bad"),
        [
            ({}, "[cancellationReasonCode]"),
            ({"cancellationReasonCode": "s1"}, "[cancellationReasonCode]"),
            ({"cancellationReasonCode": ""}, "[cancellationReasonCode]"),
            ({"cancellationReasonCode": "A" * 101}, "[cancellationReasonCode]"),
        ],
    )
    def test_missing_or_malformed_reason(self, world: World, query: dict[str, str], bad: str) -> None:
        (job_id,) = world.job()
        with world.client() as c:
            r = c.put(f"/service/v1/serviceJobs/{job_id}/cancellations", params=query)
        assert r.status_code == 400
        assert _errors(r)[0]["message"] == f"Missing or invalid request parameters: {bad}"
        assert r.headers["x-amzn-ratelimit-limit"] == "5000.0"

    def test_bad_job_id_and_reason_together(self, world: World) -> None:
        with world.client() as c:
            r = c.put(f"/service/v1/serviceJobs/{'%20' * 3}/cancellations")
        assert r.status_code == 400
        assert _errors(r)[0]["message"] == (
            "Missing or invalid request parameters: [serviceJobId, cancellationReasonCode]"
        )

    def test_reason_code_from_json_body(self, world: World) -> None:
        """python-amazon-sp-api sends cancellationReasonCode in the JSON body of the PUT."""
        (job_id,) = world.job()
        with world.client() as c:
            r = c.put(
                f"/service/v1/serviceJobs/{job_id}/cancellations",
                json={"cancellationReasonCode": "S3", "marketplaceIds": ["ATVPDKIKX0DER"]},
            )
        assert r.status_code == 200, r.text
        assert _status(world, job_id) == "CANCELLED"

    def test_unknown_job(self, world: World) -> None:
        with world.client() as c:
            r = c.put("/service/v1/serviceJobs/nope-123/cancellations", params={"cancellationReasonCode": "S1"})
        assert r.status_code == 422
        assert _errors(r)[0]["message"] == "Job not found for jobId nope-123"

    def test_other_sellers_job(self, world: World, other_world: World) -> None:
        (job_id,) = other_world.job()
        with world.client() as c:
            r = c.put(f"/service/v1/serviceJobs/{job_id}/cancellations", params={"cancellationReasonCode": "S1"})
        assert r.status_code == 403
        assert _errors(r)[0] == {"code": "UnauthorizedAction", "message": UNAUTHORIZED, "details": ""}
        assert _status(other_world, job_id) == "PENDING_SCHEDULE"

    def test_order_cancels_when_all_jobs_cancel(self, world: World, server: Server) -> None:
        first, second = world.job(order_jobs=2)
        with world.client() as c:
            order_id = c.get(f"/service/v1/serviceJobs/{first}").json()["payload"]["serviceOrderId"]
            for job_id in (first, second):
                assert (
                    c.put(
                        f"/service/v1/serviceJobs/{job_id}/cancellations", params={"cancellationReasonCode": "S1"}
                    ).status_code
                    == 200
                )
        assert _order_status(server, order_id) == "CANCELLED"
