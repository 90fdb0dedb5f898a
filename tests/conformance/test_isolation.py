"""Isolation matrix (issue #6): every operation of the model against seller A's objects.

* seller B's token gets 403 ``UnauthorizedAction`` (the operation's own wording) and changes
  nothing; the identical request from A then succeeds, so the refusal was about ownership and not
  about a malformed request. The two operations that address no seller-owned object by id
  (getServiceJobs, createServiceDocumentUploadDestination) cannot be refused; for them B must see
  none of A's data (no listing, filter or page token shows A's jobs; A's upload cannot become the
  proof of B's appointment). B's requests on B's own objects that name A's technicians or store
  are refused as well.
* an application without the Professional Services role (one authorized by seller A itself, and
  one of another seller), an access token past its hour (after it was checked and cached), forged
  tokens (random, ``Atza|``-shaped, a refresh token) and a missing token get 403 ``Unauthorized``
  for every operation, and change nothing either.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from sp_services.domain.enums import JobStatus
from sp_services.persistence import tables as t
from sp_services.persistence.repositories.capacity import CapacityRepository
from sp_services.services import operator as op
from tests.operations import (
    BY_ID,
    MP,
    OPERATIONS,
    Call,
    Operation,
    each,
    local,
    report_window,
    reservation_body,
    z,
)
from tests.scenes import Scene, build_scene
from tests.support import Server, World, make_world

DENIED = "Access to requested resource is denied."
MISSING = "Access token is missing in the request header."
INVALID = "The access token you provided is revoked, malformed or invalid."
NO_ROLE = "The application is not granted the Professional Services role."
# The sandbox words the ownership refusal two ways (services/jobs.py UNAUTHORIZED).
CLOSING_UNAUTHORIZED = "Not authorized to access this resource.Please check your input again"
UNAUTHORIZED = "Not authorized to access this resource. Please check your input again."
DOCUMENT_UNKNOWN = (
    "Failed to process proof of appointment input. Reason: Input document id does not exist. Please check the input"
)


# ---- helpers ------------------------------------------------------------------------------------


def mint(world: World) -> str:
    """A fresh access token for ``world``'s app and seller (LWA refresh-token grant)."""
    r = httpx.post(
        f"{world.server.url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": world.refresh_token,
            "client_id": world.client_id,
            "client_secret": world.client_secret,
        },
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def app_without_role(world: World) -> World:
    """``world``'s seller, through a second application that lacks the Professional Services role."""
    now = world.server.clock()
    with world.server.db.transaction() as s:
        app = op.create_application(s, name="inventory-only", roles=["Inventory"], now=now)
        refresh = op.authorize(s, seller_id=world.seller_id, client_id=app.client_id, now=now)
    return replace(world, client_id=app.client_id, client_secret=app.client_secret, refresh_token=refresh, _token=None)


def snapshot(scene: Scene) -> dict[str, Any]:
    """Everything A can observe about its objects, read as A (and, for what no read shows, from the database)."""
    world = scene.world
    window = {"startDateTime": z(local(scene.day, 0)), "endDateTime": z(local(scene.day + timedelta(days=1), 0))}
    with world.client() as c:
        listed = c.get("/service/v1/serviceJobs", params={**MP, "createdAfter": scene.created_after})
        assert listed.status_code == 200, listed.text
        capacity = c.post(f"/service/v1/serviceResources/{world.store_id}/capacity/range", params=MP, json=window)
        assert capacity.status_code == 200, capacity.text
    with scene.server.db.transaction(write=False) as s:
        reservation = CapacityRepository(s).get_reservation(scene.reservation_id)
        document = s.execute(
            select(
                t.Document.seller_id,
                t.Document.uploaded_at,
                t.Document.uploaded_length,
                t.Document.appointment_id,
                t.Document.attached_at,
                t.Document.content_sha256,
            ).where(t.Document.upload_destination_id == scene.document_id)
        ).one()
    return {
        "jobs": {j["serviceJobId"]: j for j in listed.json()["payload"]["jobs"]},
        "capacity": capacity.json(),  # schedule, reservations and bookings of the store
        "reservation": reservation,
        "document": tuple(document),
    }


# ---- the operations (tests/operations.py builds their valid requests) ---------------------------

# These address no seller-owned object by id: B's call is its own, and must only show B's data.
UNADDRESSED = (BY_ID["getServiceJobs"], BY_ID["createServiceDocumentUploadDestination"])
OWNED = [o for o in OPERATIONS if o not in UNADDRESSED]
# The job-closing operations word the ownership refusal as CLOSING_UNAUTHORIZED.
CLOSING = tuple(
    BY_ID[name]
    for name in ("getServiceJobByServiceJobId", "cancelServiceJobByServiceJobId", "completeServiceJobByServiceJobId")
)


# ---- seller B against A's objects ---------------------------------------------------------------


@pytest.fixture(scope="module")
def intruder(server: Server) -> World:
    """Seller B, with an app that has the role (one for the module: building sellers is not free)."""
    b = make_world(server)
    assert b.token
    return b


@pytest.mark.parametrize("operation", each(OWNED))
def test_another_seller_is_refused_and_changes_nothing(world: World, intruder: World, operation: Operation) -> None:
    scene = build_scene(world)
    call = operation.call(scene.ids)
    before = snapshot(scene)
    r = call.send(world.server, intruder.token)
    assert r.status_code == 403, r.text
    message = CLOSING_UNAUTHORIZED if operation in CLOSING else UNAUTHORIZED
    assert operation.errors(r) == [{"code": "UnauthorizedAction", "message": message, "details": ""}]
    assert r.headers["x-amzn-requestid"]
    assert snapshot(scene) == before
    # The very same request from the owner goes through: B was refused for ownership alone.
    again = call.send(world.server, world.token)
    assert again.status_code == operation.status, again.text


def test_another_seller_lists_none_of_a_s_jobs(world: World, other_world: World) -> None:
    scene = build_scene(world)
    a_jobs = {scene.pending, scene.booked, scene.past, *world.job(order_jobs=3)}
    (b_job,) = other_world.job()
    a_view = scene.job(scene.pending)
    filters: list[dict[str, str]] = [
        {"createdAfter": "2000-01-01T00:00:00Z"},
        {"lastUpdatedAfter": "2000-01-01T00:00:00Z"},
        {"createdAfter": scene.created_after, "storeIds": world.store_id},
        {"createdAfter": scene.created_after, "asins": world.asin},
        {"createdAfter": scene.created_after, "serviceOrderIds": a_view["serviceOrderId"]},
        {"createdAfter": scene.created_after, "serviceJobStatus": "NOT_SERVICED,PENDING_SCHEDULE"},
        {"createdAfter": scene.created_after, "requiredSkills": "INSTALL"},
        {
            "createdAfter": scene.created_after,
            "scheduleStartDate": z(local(scene.day, 0)),
            "scheduleEndDate": z(local(scene.day, 23)),
        },
    ]
    with other_world.client() as c:
        for params in filters:
            seen: set[str] = set()
            token: str | None = None
            while True:
                r = c.get(
                    "/service/v1/serviceJobs",
                    params={**MP, "pageSize": "2", **params, **({"pageToken": token} if token else {})},
                )
                assert r.status_code == 200, (params, r.text)
                payload = r.json()["payload"]
                seen |= {j["serviceJobId"] for j in payload["jobs"]}
                assert all(j["seller"]["sellerId"] == other_world.seller_id for j in payload["jobs"]), params
                token = payload.get("nextPageToken")
                if not token:
                    break
            assert not seen & a_jobs, params
            assert seen <= {b_job}, params
    # A's page token, replayed by B, pages through B's jobs only (or is refused).
    with world.client() as c:
        first = c.get("/service/v1/serviceJobs", params={**MP, "createdAfter": scene.created_after, "pageSize": "1"})
    a_token = first.json()["payload"]["nextPageToken"]
    with other_world.client() as c:
        r = c.get(
            "/service/v1/serviceJobs",
            params={**MP, "createdAfter": scene.created_after, "pageSize": "1", "pageToken": a_token},
        )
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        assert {j["serviceJobId"] for j in r.json()["payload"]["jobs"]} <= {b_job}


def test_another_seller_cannot_use_a_s_upload(world: World, other_world: World) -> None:
    scene = build_scene(world)
    before = snapshot(scene)
    mine = BY_ID["createServiceDocumentUploadDestination"].call(scene.ids).send(world.server, other_world.token)
    assert mine.status_code == 200, mine.text  # B may create destinations of its own
    assert mine.json()["payload"]["uploadDestinationId"] != scene.document_id
    # B's own appointment cannot take A's upload as its proof, with or without its digest.
    (b_job,) = other_world.job(
        JobStatus.NOT_SERVICED, starts_at=other_world.server.clock().replace(microsecond=0) - timedelta(hours=6)
    )
    with other_world.client() as c:
        b_appointment = c.get(f"/service/v1/serviceJobs/{b_job}").json()["payload"]["appointments"][0]["appointmentId"]
        for ref in (
            {"uploadDestinationId": scene.document_id, "contentSha256": scene.document_sha},
            {"uploadDestinationId": scene.document_id},
        ):
            r = c.put(
                f"/service/v1/serviceJobs/{b_job}/appointments/{b_appointment}/fulfillment",
                json={"fulfillmentDocuments": [ref]},
            )
            assert r.status_code == 422, r.text
            assert r.json() == [{"code": "InvalidInput", "message": DOCUMENT_UNKNOWN, "details": ""}]
        assert "poa" not in c.get(f"/service/v1/serviceJobs/{b_job}").json()["payload"]["appointments"][0]
    # B's signed upload URL does not open A's destination.
    b_url = httpx.URL(mine.json()["payload"]["url"])
    swapped = b_url.copy_with(path=f"/uploads/{scene.document_id}")
    r = httpx.put(swapped, content=b"\x00" * 32, headers={"Content-Type": "application/pdf"})
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text
    assert snapshot(scene) == before
    # A's upload is intact: A attaches it to A's appointment.
    with world.client() as c:
        r = c.put(
            f"/service/v1/serviceJobs/{scene.past}/appointments/{scene.past_appointment}/fulfillment",
            json={
                "fulfillmentDocuments": [
                    {"uploadDestinationId": scene.document_id, "contentSha256": scene.document_sha}
                ]
            },
        )
    assert r.status_code == 204, r.text


def test_another_seller_cannot_borrow_a_s_technicians_or_store(world: World, other_world: World) -> None:
    """B's requests on B's own objects that name A's technician or store are refused too."""
    scene = build_scene(world)
    before = snapshot(scene)
    b_scene = build_scene(other_world)
    a_tech = world.technician_ids[0]
    with other_world.client() as c:
        r = c.put(
            f"/service/v1/serviceJobs/{b_scene.booked}/appointments/{b_scene.booked_appointment}/resources",
            json={"resources": [{"resourceId": a_tech}]},
        )
        assert r.status_code == 422, r.text
        r = c.put(
            f"/service/v1/serviceJobs/{b_scene.past}/appointments/{b_scene.past_appointment}/fulfillment",
            json={"appointmentResources": [{"resourceId": a_tech}]},
        )
        assert r.status_code == 422, r.text
        assert isinstance(r.json(), list)
        # B's ASIN at A's store; A's technician as a capacity resource.
        r = c.get("/service/v1/appointmentSlots", params={**MP, "asin": other_world.asin, "storeId": world.store_id})
        assert r.status_code == 403, r.text
        for path, body in (
            (
                f"/service/v1/serviceResources/{a_tech}/schedules",
                {"schedules": [{"startTime": z(local(scene.day, 9)), "endTime": z(local(scene.day, 10))}]},
            ),
            (f"/service/v1/serviceResources/{a_tech}/capacity/range", report_window(scene.ids)),
            (f"/service/v1/serviceResources/{a_tech}/capacity/fixed", report_window(scene.ids)),
        ):
            method = "PUT" if path.endswith("schedules") else "POST"
            r = c.request(method, path, params=MP, json=body)
            assert r.status_code == 403, (path, r.text)
            assert r.json()["errors"][0]["code"] == "UnauthorizedAction"
        # B's reservation moved onto A's store: refused (today as "belongs to another resource", 400).
        r = c.put(f"/service/v1/reservation/{b_scene.reservation_id}", params=MP, json=reservation_body(scene.ids, 13))
        assert r.status_code in (400, 403), r.text
    technicians = [t for j in b_scene.job(b_scene.booked)["appointments"] for t in j.get("assignedTechnicians", [])]
    assert a_tech not in {t["technicianId"] for t in technicians}
    assert snapshot(scene) == before


# ---- who may call at all ------------------------------------------------------------------------


@dataclass
class Shared:
    """One scene for the refusals that must stop before any object is looked at, its snapshot, and the
    tokens of each condition (minted once)."""

    scene: Scene
    baseline: dict[str, Any]
    tokens: dict[str, str | None]
    details: dict[str, str]


@pytest.fixture(scope="module")
def shared(server: Server) -> Shared:
    scene = build_scene(make_world(server))
    tokens: dict[str, str | None] = {
        "no-role app of the owner": mint(app_without_role(scene.world)),
        "no-role app of another seller": mint(make_world(server, roles=())),
        "expired": mint(scene.world),
        "forged": secrets.token_hex(24),
        "forged Atza": "Atza|" + secrets.token_urlsafe(48),  # the shape of a real one, never issued
        "refresh token": scene.world.refresh_token,
        "missing": None,
    }
    details = {name: INVALID for name in tokens}
    details.update({"no-role app of the owner": NO_ROLE, "no-role app of another seller": NO_ROLE, "missing": MISSING})
    return Shared(scene, snapshot(scene), tokens, details)


CONDITIONS = [
    "no-role app of the owner",
    "no-role app of another seller",
    "expired",
    "forged",
    "forged Atza",
    "refresh token",
    "missing",
]


@pytest.mark.parametrize("condition", CONDITIONS)
@pytest.mark.parametrize("operation", each())
def test_refused_before_anything_is_looked_at(
    server: Server, shared: Shared, operation: Operation, condition: str
) -> None:
    scene = shared.scene
    call = operation.call(scene.ids)
    token = shared.tokens[condition]
    if condition == "expired":
        assert token is not None
        # Live a moment ago, and so in the server's token cache; then the clock passes its hour.
        assert Call("GET", f"/service/v1/serviceJobs/{scene.pending}").send(server, token).status_code == 200
        server.clock.offset += timedelta(hours=2)
    try:
        r = call.send(server, token)
    finally:
        server.clock.offset = timedelta()
    assert r.status_code == 403, r.text
    assert operation.errors(r) == [{"code": "Unauthorized", "message": DENIED, "details": shared.details[condition]}]
    assert r.headers["x-amzn-requestid"]
    assert "x-amzn-ratelimit-limit" not in r.headers
    assert snapshot(scene) == shared.baseline


def test_a_cached_token_stops_working_when_it_expires(world: World) -> None:
    (job_id,) = world.job()
    token = mint(world)
    check = Call("GET", f"/service/v1/serviceJobs/{job_id}")
    world.server.clock.offset = timedelta(minutes=59, seconds=50)
    assert check.send(world.server, token).status_code == 200  # checked and cached 10 s before expiry
    world.server.clock.offset = timedelta(hours=1, seconds=5)
    r = check.send(world.server, token)
    assert r.status_code == 403, r.text
