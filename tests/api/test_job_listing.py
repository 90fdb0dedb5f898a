"""getServiceJobs and getServiceJobByServiceJobId through HTTP: filters, rules, shapes, keyset paging."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from sp_services.domain.enums import JobStatus
from sp_services.domain.times import format_utc
from tests.support import World, iter_pages

US = "ATVPDKIKX0DER"
EPOCH = "2020-01-01T00:00:00Z"


def _list(world: World, **params: Any) -> Any:
    with world.client() as c:
        return c.get("/service/v1/serviceJobs", params={"marketplaceIds": US, **params})


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [j["serviceJobId"] for j in response.json()["payload"]["jobs"]]


class TestRead:
    def test_full_shape(self, world: World) -> None:
        (job_id,) = world.job(JobStatus.NOT_SERVICED, product_order_ids=("111-2222222-3333333",))
        with world.client() as c:
            r = c.get(f"/service/v1/serviceJobs/{job_id}")
        assert r.status_code == 200
        assert r.headers["x-amzn-ratelimit-limit"] == "20000.0"
        assert len(r.headers["x-amzn-requestid"]) == 36
        job = r.json()["payload"]
        assert set(job) == {
            "createTime",
            "serviceJobId",
            "serviceJobStatus",
            "scopeOfWork",
            "seller",
            "serviceJobProvider",
            "appointments",
            "serviceOrderId",
            "marketplaceId",
            "storeId",
            "buyer",
            "serviceLocation",
            "payments",
        }
        assert job["serviceJobId"] == job_id
        assert job["scopeOfWork"] == {
            "asin": world.asin,
            "title": "Install",
            "quantity": 1,
            "requiredSkills": ["INSTALL"],
        }
        assert job["seller"] == {"sellerId": world.seller_id}
        assert job["storeId"] == world.store_id and job["marketplaceId"] == US
        assert job["payments"] == [{"amount": {"value": 99.5, "currency": "USD"}, "instrument": "CREDIT_CARD"}]
        (appointment,) = job["appointments"]
        assert appointment["appointmentId"].startswith(f"{job_id}_")
        assert appointment["appointmentStatus"] == "ACTIVE"
        assert appointment["appointmentTime"]["durationInMinutes"] == 60
        assert appointment["assignedTechnicians"] == [{"technicianId": world.technician_ids[0], "name": "Tech 0"}]
        assert job["createTime"].endswith("Z") and len(job["createTime"]) == 24

    def test_pending_job_has_no_appointments_key(self, world: World) -> None:
        (job_id,) = world.job()
        with world.client() as c:
            job = c.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"]
        assert "appointments" not in job
        assert job["serviceJobStatus"] == "PENDING_SCHEDULE"

    def test_unknown_and_foreign(self, world: World, other_world: World) -> None:
        (foreign,) = other_world.job()
        with world.client() as c:
            missing = c.get("/service/v1/serviceJobs/does-not-exist")
            forbidden = c.get(f"/service/v1/serviceJobs/{foreign}")
        assert missing.status_code == 422
        assert missing.json()["errors"][0]["message"] == "Job not found for jobId does-not-exist"
        assert forbidden.status_code == 403
        assert forbidden.json()["errors"][0]["code"] == "UnauthorizedAction"


class TestFilters:
    def test_seller_scoping_and_marketplace(self, world: World, other_world: World) -> None:
        mine = world.job()
        other_world.job()
        assert _ids(_list(world, createdAfter=EPOCH)) == mine
        assert _ids(_list(world, createdAfter=EPOCH, marketplaceIds="A1F83G8C2ARO7P")) == []

    def test_status_filter_comma_and_repeated(self, world: World) -> None:
        pending = world.job()
        cancelled = world.job(JobStatus.CANCELLED)
        world.job(JobStatus.COMPLETED)
        assert _ids(_list(world, createdAfter=EPOCH, serviceJobStatus="PENDING_SCHEDULE")) == pending
        both = set(pending + cancelled)
        assert set(_ids(_list(world, createdAfter=EPOCH, serviceJobStatus="PENDING_SCHEDULE,CANCELLED"))) == both
        assert set(_ids(_list(world, createdAfter=EPOCH, serviceJobStatus=["PENDING_SCHEDULE", "CANCELLED"]))) == both

    def test_created_and_updated_windows(self, world: World) -> None:
        now = world.server.clock()
        old = world.job(created_at=now - timedelta(days=10))
        new = world.job(created_at=now - timedelta(days=1))
        assert _ids(_list(world, createdAfter=format_utc(now - timedelta(days=5)))) == new
        assert _ids(_list(world, createdAfter=EPOCH, createdBefore=format_utc(now - timedelta(days=5)))) == old
        assert _ids(_list(world, lastUpdatedAfter=format_utc(now - timedelta(days=5)))) == new
        # An update moves lastUpdated but not creation.
        with world.client() as c:
            assert (
                c.put(
                    f"/service/v1/serviceJobs/{old[0]}/cancellations", params={"cancellationReasonCode": "S1"}
                ).status_code
                == 200
            )
        assert set(_ids(_list(world, lastUpdatedAfter=format_utc(now - timedelta(days=5))))) == set(old + new)
        assert _ids(_list(world, createdAfter=format_utc(now - timedelta(days=5)))) == new

    def test_offsets_and_naive_times_are_utc(self, world: World) -> None:
        now = world.server.clock().replace(microsecond=0)
        (job_id,) = world.job(created_at=now)
        offset_before = (now - timedelta(seconds=1)).astimezone(timezone(timedelta(hours=5, minutes=30)))
        naive_after = (now + timedelta(seconds=1)).replace(tzinfo=None)
        assert _ids(_list(world, createdAfter=offset_before.isoformat())) == [job_id]
        assert _ids(_list(world, createdAfter=naive_after.isoformat())) == []
        assert _ids(_list(world, createdAfter=(naive_after - timedelta(seconds=2)).isoformat())) == [job_id]

    def test_schedule_window(self, world: World) -> None:
        now = world.server.clock()
        soon = world.job(JobStatus.NOT_SERVICED, starts_at=now + timedelta(days=1))
        later = world.job(JobStatus.NOT_SERVICED, starts_at=now + timedelta(days=5))
        world.job()
        start, mid, end = (format_utc(now + timedelta(days=d)) for d in (0, 3, 7))
        assert _ids(_list(world, createdAfter=EPOCH, scheduleStartDate=start, scheduleEndDate=mid)) == soon
        assert _ids(_list(world, createdAfter=EPOCH, scheduleStartDate=mid)) == later
        assert set(_ids(_list(world, createdAfter=EPOCH, scheduleEndDate=end))) == set(soon + later)

    def test_order_asin_store_skill_product_tracking(self, world: World) -> None:
        a = world.job(product_order_ids=("111-0000001-0000001",), tracking_ids=("TBA001",))
        b = world.job(product_order_ids=("111-0000002-0000002",), tracking_ids=("TBA002",))
        with world.client() as c:
            order_a = c.get(f"/service/v1/serviceJobs/{a[0]}").json()["payload"]["serviceOrderId"]
        assert _ids(_list(world, createdAfter=EPOCH, serviceOrderIds=order_a)) == a
        assert _ids(_list(world, createdAfter=EPOCH, productOrderIds="111-0000002-0000002")) == b
        assert _ids(_list(world, createdAfter=EPOCH, trackingIds="TBA001")) == a
        assert set(_ids(_list(world, createdAfter=EPOCH, asins=world.asin))) == set(a + b)
        assert _ids(_list(world, createdAfter=EPOCH, asins="B000000000")) == []
        assert set(_ids(_list(world, createdAfter=EPOCH, storeIds=world.store_id))) == set(a + b)
        assert _ids(_list(world, createdAfter=EPOCH, storeIds="elsewhere")) == []
        assert set(_ids(_list(world, createdAfter=EPOCH, requiredSkills="INSTALL,PLUMBING"))) == set(a + b)
        assert _ids(_list(world, createdAfter=EPOCH, requiredSkills="PLUMBING")) == []

    def test_total_result_size_counts_all_pages(self, world: World) -> None:
        world.job(order_jobs=7)
        r = _list(world, createdAfter=EPOCH, pageSize=3)
        payload = r.json()["payload"]
        assert payload["totalResultSize"] == 7
        assert len(payload["jobs"]) == 3
        assert "previousPageToken" not in payload


class TestRules:
    @pytest.mark.parametrize(
        ("params", "names"),
        [
            ({}, "createdAfter, lastUpdatedAfter"),
            ({"createdAfter": EPOCH, "lastUpdatedAfter": EPOCH}, "createdAfter, lastUpdatedAfter"),
            ({"createdAfter": "TEST_CASE_400"}, "createdAfter"),
            ({"createdAfter": EPOCH, "pageSize": "0"}, "pageSize"),
            ({"createdAfter": EPOCH, "pageSize": "21"}, "pageSize"),
            ({"createdAfter": EPOCH, "pageSize": "ten"}, "pageSize"),
            ({"createdAfter": EPOCH, "sortField": "PRICE"}, "sortField"),
            ({"createdAfter": EPOCH, "sortOrder": "UP"}, "sortOrder"),
            ({"createdAfter": EPOCH, "serviceJobStatus": "DONE"}, "serviceJobStatus"),
            ({"createdAfter": EPOCH, "serviceOrderIds": "ABC"}, "serviceOrderIds"),
            ({"createdAfter": EPOCH, "asins": "SHORT"}, "asins"),
            ({"createdAfter": EPOCH, "storeIds": ",".join(f"s{i}" for i in range(51))}, "storeIds"),
            ({"createdAfter": EPOCH, "serviceOrderIds": ",".join(f"{i}" for i in range(21))}, "serviceOrderIds"),
            ({"createdAfter": EPOCH, "pageToken": "garbage"}, "pageToken"),
            (
                {
                    "createdAfter": EPOCH,
                    "scheduleStartDate": "2021-01-02T00:00:00Z",
                    "scheduleEndDate": "2021-01-01T00:00:00Z",
                },
                "scheduleEndDate",
            ),
        ],
    )
    def test_bad_requests(self, world: World, params: dict[str, str], names: str) -> None:
        r = _list(world, **params)
        assert r.status_code == 400
        (error,) = r.json()["errors"]
        assert error["code"] == "InvalidInput"
        assert error["message"] == f"Missing or invalid request parameters: [{names}]"
        assert r.headers["x-amzn-ratelimit-limit"] == "10000.0"

    def test_marketplace_required_and_single(self, world: World) -> None:
        with world.client() as c:
            none = c.get("/service/v1/serviceJobs", params={"createdAfter": EPOCH})
            two = c.get(
                "/service/v1/serviceJobs", params={"createdAfter": EPOCH, "marketplaceIds": f"{US},A1F83G8C2ARO7P"}
            )
            body = c.request(
                "GET", "/service/v1/serviceJobs", params={"createdAfter": EPOCH}, json={"marketplaceIds": [US]}
            )
        assert none.status_code == 400 and "[marketplaceIds]" in none.json()["errors"][0]["message"]
        assert two.status_code == 400 and "[marketplaceIds]" in two.json()["errors"][0]["message"]
        assert body.status_code == 200


class TestPaging:
    @pytest.mark.parametrize(
        ("sort_field", "sort_order"),
        [("JOB_DATE", "ASC"), ("JOB_DATE", "DESC"), ("JOB_STATUS", "ASC"), ("JOB_STATUS", "DESC")],
    )
    def test_pages_cover_everything_once_in_order(self, world: World, sort_field: str, sort_order: str) -> None:
        now = world.server.clock()
        expected: list[tuple[str, datetime, str]] = []
        for i, status in enumerate([JobStatus.PENDING_SCHEDULE, JobStatus.CANCELLED, JobStatus.COMPLETED] * 9):
            created = now - timedelta(hours=100 - i)
            (job_id,) = world.job(status, created_at=created)
            expected.append((status.value, created, job_id))
        params = {
            "marketplaceIds": US,
            "createdAfter": EPOCH,
            "pageSize": 4,
            "sortField": sort_field,
            "sortOrder": sort_order,
        }
        with world.client() as c:
            pages = list(iter_pages(c, params))
        seen = [j["serviceJobId"] for p in pages for j in p["jobs"]]
        key = (lambda e: (e[0], e[1], e[2])) if sort_field == "JOB_STATUS" else (lambda e: (e[1], e[2]))
        ordered = sorted(expected, key=key, reverse=sort_order == "DESC")
        assert seen == [e[2] for e in ordered]
        assert len(pages) == 7
        assert all(p["totalResultSize"] == 27 for p in pages)
        assert "previousPageToken" not in pages[0]
        assert all("previousPageToken" in p for p in pages[1:])

    def test_previous_page_token_goes_back(self, world: World) -> None:
        world.job(order_jobs=9)
        with world.client() as c:
            params = {"marketplaceIds": US, "createdAfter": EPOCH, "pageSize": 4}
            first = c.get("/service/v1/serviceJobs", params=params).json()["payload"]
            second = c.get("/service/v1/serviceJobs", params={**params, "pageToken": first["nextPageToken"]}).json()[
                "payload"
            ]
            back = c.get("/service/v1/serviceJobs", params={**params, "pageToken": second["previousPageToken"]}).json()[
                "payload"
            ]
        assert [j["serviceJobId"] for j in back["jobs"]] == [j["serviceJobId"] for j in first["jobs"]]
        assert "previousPageToken" not in back
        assert back["nextPageToken"]

    def test_stable_while_jobs_are_created_and_updated(self, world: World) -> None:
        now = world.server.clock()
        original = [world.job(created_at=now - timedelta(minutes=60 - i))[0] for i in range(10)]
        params = {"marketplaceIds": US, "createdAfter": EPOCH, "pageSize": 3}
        seen: list[str] = []
        with world.client() as c:
            token = None
            while True:
                page = c.get(
                    "/service/v1/serviceJobs", params={**params, **({"pageToken": token} if token else {})}
                ).json()["payload"]
                seen += [j["serviceJobId"] for j in page["jobs"]]
                if len(seen) == 3:
                    # Between pages: a job already seen is updated, one not yet seen is cancelled,
                    # and new jobs arrive (created now, so they sort after the originals).
                    c.put(
                        f"/service/v1/serviceJobs/{original[0]}/cancellations", params={"cancellationReasonCode": "S1"}
                    )
                    c.put(
                        f"/service/v1/serviceJobs/{original[7]}/cancellations", params={"cancellationReasonCode": "S1"}
                    )
                    world.job(order_jobs=2)
                token = page.get("nextPageToken")
                if not token:
                    break
        assert seen[:10] == original
        assert len(seen) == len(set(seen)) == 12

    def test_token_bound_to_sort(self, world: World) -> None:
        world.job(order_jobs=3)
        with world.client() as c:
            params = {"marketplaceIds": US, "createdAfter": EPOCH, "pageSize": 1}
            token = c.get("/service/v1/serviceJobs", params=params).json()["payload"]["nextPageToken"]
            r = c.get("/service/v1/serviceJobs", params={**params, "pageToken": token, "sortOrder": "DESC"})
        assert r.status_code == 400
        assert r.json()["errors"][0]["message"] == "Missing or invalid request parameters: [pageToken]"
        assert all(ch.isalnum() or ch in "-_." for ch in token)
