"""Seller A with one object of every kind an operation can address: what the registry's valid
requests (tests/operations.py) are sent against by the isolation, hostile-input and null suites."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx

from sp_services.domain import documents as docs
from sp_services.domain.enums import JobStatus
from tests.operations import MP, PDF, Ids, local, z
from tests.support import Server, World


def monday(server: Server) -> date:
    """A Monday at least a week after the server's now: bookable, within the 365-day horizon."""
    day = (server.clock() + timedelta(days=7)).date()
    while day.weekday() != 0:
        day += timedelta(days=1)
    return day


# ---- seller A's objects -------------------------------------------------------------------------


@dataclass
class Scene:
    """Seller A with one object of every kind an operation can address."""

    world: World
    day: date
    pending: str  # PENDING_SCHEDULE, no appointment
    booked: str  # NOT_SERVICED, a future appointment booked through the API
    booked_appointment: str
    past: str  # NOT_SERVICED, an appointment six hours ago with its fulfillment time recorded
    past_appointment: str
    reservation_id: str
    document_id: str  # uploaded, not attached to any appointment
    document_sha: str
    created_after: str

    @property
    def server(self) -> Server:
        return self.world.server

    @property
    def ids(self) -> Ids:
        """What the registry's valid requests address (tests/operations.py), as of the server's now."""
        return Ids(
            store_id=self.world.store_id,
            asin=self.world.asin,
            technician_ids=tuple(self.world.technician_ids),
            pending=self.pending,
            booked=self.booked,
            booked_appointment=self.booked_appointment,
            past=self.past,
            past_appointment=self.past_appointment,
            reservation_id=self.reservation_id,
            day=self.day,
            created_after=self.created_after,
            now=self.server.clock(),
        )

    def job(self, job_id: str) -> dict[str, Any]:
        with self.world.client() as c:
            r = c.get(f"/service/v1/serviceJobs/{job_id}")
        assert r.status_code == 200, r.text
        return dict(r.json()["payload"])


def build_scene(world: World) -> Scene:
    server = world.server
    created_after = z(server.clock() - timedelta(minutes=1))
    day = monday(server)
    with world.client() as c:
        r = c.put(
            f"/service/v1/serviceResources/{world.store_id}/schedules",
            params=MP,
            json={"schedules": [{"startTime": z(local(day, 9)), "endTime": z(local(day, 17)), "capacity": 2}]},
        )
        assert r.status_code == 200, r.text
        (pending,) = world.job()
        (booked,) = world.job()
        r = c.post(
            f"/service/v1/serviceJobs/{booked}/appointments", json={"appointmentTime": {"startTime": z(local(day, 10))}}
        )
        assert r.status_code == 200, r.text
        booked_appointment = r.json()["appointmentId"]
        (past,) = world.job(
            JobStatus.NOT_SERVICED, starts_at=server.clock().replace(microsecond=0) - timedelta(hours=6), fulfilled=True
        )
        past_appointment = c.get(f"/service/v1/serviceJobs/{past}").json()["payload"]["appointments"][0][
            "appointmentId"
        ]
        r = c.post(
            "/service/v1/reservation",
            params=MP,
            json={
                "resourceId": world.store_id,
                "reservation": {
                    "type": "BREAK",
                    "availability": {"startTime": z(local(day, 15)), "endTime": z(local(day, 15, 30)), "capacity": 1},
                },
            },
        )
        assert r.status_code == 200, r.text
        reservation_id = r.json()["payload"]["reservation"]["reservationId"]
        r = c.post(
            "/service/v1/documents",
            json={
                "contentType": "PDF",
                "contentLength": len(PDF),
                "contentMD5": base64.b64encode(hashlib.md5(PDF).digest()).decode(),
            },
        )
        assert r.status_code == 200, r.text
        dest = r.json()["payload"]
    details = dest["encryptionDetails"]
    key = docs.DocumentKey(base64.b64decode(details["key"]), base64.b64decode(details["initializationVector"]))
    data = docs.encrypt(PDF, key)
    r = httpx.put(dest["url"], content=data, headers=dest["headers"])
    assert r.status_code == 200, r.text
    return Scene(
        world=world,
        day=day,
        pending=pending,
        booked=booked,
        booked_appointment=booked_appointment,
        past=past,
        past_appointment=past_appointment,
        reservation_id=reservation_id,
        document_id=dest["uploadDestinationId"],
        document_sha=base64.b64encode(hashlib.sha256(data).digest()).decode(),
        created_after=created_after,
    )
