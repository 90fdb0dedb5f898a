"""Operator API: the marketplace side, end to end through HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support import OPERATOR_KEY, Server

US = "ATVPDKIKX0DER"
NEW_YORK = ZoneInfo("America/New_York")


def next_weekday_at(server: Server, hour: int) -> str:
    """A weekday at least a day after the server's now, ``hour``:00 New York, as UTC text."""
    day = (server.clock() + timedelta(days=1)).astimezone(NEW_YORK).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    start = datetime.combine(day, time(hour), tzinfo=NEW_YORK).astimezone(UTC)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ")


def _op(server: Server) -> httpx.Client:
    return httpx.Client(base_url=f"{server.url}/operator/v1", headers={"Authorization": f"Bearer {OPERATOR_KEY}"})


def test_requires_operator_key(server: Server) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": OPERATOR_KEY}):
        r = httpx.post(f"{server.url}/operator/v1/sellers", json={"name": "x", "marketplaceIds": [US]}, headers=headers)
        assert r.status_code == 403
        assert r.json()["errors"][0]["code"] == "Unauthorized"


def test_marketplace_onboarding_to_first_api_call(server: Server) -> None:
    with _op(server) as op:
        seller = op.post("/sellers", json={"name": "Acme Installers", "marketplaceIds": [US]})
        assert seller.status_code == 201, seller.text
        seller_id = seller.json()["sellerId"]
        app = op.post("/applications", json={"name": "Acme app"}).json()
        grant = op.post("/authorizations", json={"sellerId": seller_id, "clientId": app["clientId"]})
        assert grant.status_code == 201
        store = op.post("/stores", json={"sellerId": seller_id, "marketplaceId": US, "name": "Austin"}).json()
        assert store["timezone"] == "America/New_York"
        tech = op.post(
            "/technicians",
            json={"sellerId": seller_id, "name": "Dee", "skills": ["TV"], "storeIds": [store["storeId"]]},
        )
        assert tech.status_code == 201, tech.text
        offering = op.post(
            "/serviceOfferings",
            json={
                "sellerId": seller_id,
                "marketplaceId": US,
                "asin": "B0ACME0001",
                "title": "TV mount",
                "durationMinutes": 90,
                "requiredSkills": ["TV"],
                "price": {"value": "99.00", "currency": "USD"},
            },
        )
        assert offering.status_code == 201, offering.text
        # The store has no schedule: it takes bookings in working hours (weekdays 08-18 New York).
        slot = next_weekday_at(server, 10)
        order = op.post(
            "/serviceOrders",
            json={
                "sellerId": seller_id,
                "marketplaceId": US,
                "storeId": store["storeId"],
                "buyer": {"name": "Pat"},
                "jobs": [
                    {
                        "asin": "B0ACME0001",
                        "preferredAppointmentTimes": [{"startTime": "2030-01-02T15:00:00Z", "durationInMinutes": 90}],
                    },
                    {
                        "asin": "B0ACME0001",
                        "appointmentStartTime": slot,
                        "technicianIds": [tech.json()["technicianId"]],
                    },
                ],
            },
        )
        assert order.status_code == 201, order.text
        body = order.json()
        pending, booked = body["jobs"]
        assert pending["serviceJobStatus"] == "PENDING_SCHEDULE"
        assert pending["preferredAppointmentTimes"] == [
            {"startTime": "2030-01-02T15:00:00.000Z", "durationInMinutes": 90}
        ]
        assert booked["serviceJobStatus"] == "NOT_SERVICED"
        assert booked["appointments"][0]["appointmentTime"] == {
            "startTime": slot.replace(":00Z", ":00.000Z"),
            "durationInMinutes": 90,
        }
        hold = op.put(f"/serviceJobs/{pending['serviceJobId']}/status", json={"action": "HOLD"})
        assert hold.json() == {"serviceJobId": pending["serviceJobId"], "serviceJobStatus": "HOLD"}
        summary = op.get(f"/serviceOrders/{body['serviceOrderId']}").json()
        assert summary["status"] == "ACTIVE"
        assert {j["serviceJobId"]: j["serviceJobStatus"] for j in summary["jobs"]} == {
            pending["serviceJobId"]: "HOLD",
            booked["serviceJobId"]: "NOT_SERVICED",
        }
    token = httpx.post(
        f"{server.url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": grant.json()["refreshToken"],
            "client_id": app["clientId"],
            "client_secret": app["clientSecret"],
        },
    ).json()["access_token"]
    r = httpx.get(
        f"{server.url}/service/v1/serviceJobs/{booked['serviceJobId']}", headers={"x-amz-access-token": token}
    )
    assert r.status_code == 200
    assert r.json()["payload"]["appointments"][0]["assignedTechnicians"][0]["name"] == "Dee"


@pytest.mark.parametrize(
    ("path", "body", "name"),
    [
        ("/sellers", {"name": "x", "marketplaceIds": ["NOPE"]}, "marketplaceIds"),
        ("/sellers", {"name": "x"}, "marketplaceIds"),
        ("/sellers", {"name": "x", "marketplaceIds": [US], "unknown": 1}, "unknown"),
        ("/stores", {"sellerId": "A1", "marketplaceId": US, "name": "s", "timezone": "Mars/Olympus"}, "timezone"),
        (
            "/serviceOfferings",
            {"sellerId": "A1", "marketplaceId": US, "asin": "short", "title": "t", "durationMinutes": 60},
            "asin",
        ),
    ],
)
def test_bad_operator_input_is_400(server: Server, path: str, body: dict[str, object], name: str) -> None:
    with _op(server) as op:
        r = op.post(path, json=body)
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["code"] == "InvalidInput"
    assert name in r.json()["errors"][0]["message"]


def test_duplicates_conflict_and_missing_things(server: Server) -> None:
    seller_id = "AD" + uuid.uuid4().hex[:12].upper()
    with _op(server) as op:
        first = op.post("/sellers", json={"name": "x", "marketplaceIds": [US], "sellerId": seller_id})
        again = op.post("/sellers", json={"name": "x", "marketplaceIds": [US], "sellerId": seller_id})
        missing = op.post("/authorizations", json={"sellerId": "ANOBODY", "clientId": "nobody"})
        bad_transition = op.put("/serviceJobs/unknown-job/status", json={"action": "HOLD"})
    assert first.status_code == 201
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "Conflict"
    assert missing.status_code == 404 and missing.json()["errors"][0]["message"] == "Seller ANOBODY does not exist."
    assert bad_transition.status_code == 422


def test_non_finite_numbers_are_refused_anywhere_in_an_operator_body(server: Server) -> None:
    """JSON has no NaN or Infinity; Python's parser accepts them, and stored in a free-form member
    (payments) they would break every later read of the job."""
    body = (
        '{"sellerId": "ANYONE", "marketplaceId": "ATVPDKIKX0DER", "storeId": "s", '
        '"jobs": [{"asin": "B0ACME0001", "payments": [{"amount": {"value": NaN, "currency": "USD"}}]}]}'
    )
    with _op(server) as op:
        r = op.post("/serviceOrders", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    (error,) = r.json()["errors"]
    assert error["code"] == "InvalidInput"
    assert error["message"] == "Missing or invalid request parameters: [body]"
    assert "NaN and Infinity are not JSON" in error["details"]
