"""The 17 operations of the Services API model, in one registry that every cross-cutting suite reads.

Each :class:`Operation` is named as ``spec/services.json`` names it (operationId, method, path
template), carries the few facts about it the suites need, and builds a valid request against the
objects a test has (:class:`Ids`). The isolation matrix, the hostile-input fuzzers, the OpenAPI
checks and the sandbox suites all take their operations from here;
``tests/conformance/test_operations.py`` holds the registry to the model and the sandbox cases.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support import Server

US = "ATVPDKIKX0DER"
MP = {"marketplaceIds": US}
NEW_YORK = ZoneInfo("America/New_York")  # the test store's timezone (tests/support.py make_world)
PDF = b"%PDF-1.7\n" + b"proof of appointment " * 40 + b"\n%%EOF\n"

# The sandbox suite of an operation: tests/conformance/test_sandbox_<area>.py, docs/conformance/<area>.md.
Area = Literal["jobs", "capacity", "fulfillment"]


def z(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """New York wall time on ``day`` as a UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK).astimezone(UTC)


@dataclass(frozen=True)
class Ids:
    """The objects of one seller that valid requests address, and the server's time when they are built."""

    store_id: str  # schedule 09:00-17:00 New York time on ``day``, capacity 2
    asin: str  # the store's offering: 60 minutes, skill INSTALL
    technician_ids: tuple[str, ...]  # two, both with the skill, at the store
    pending: str  # a PENDING_SCHEDULE job, no appointment
    booked: str  # NOT_SERVICED, a future appointment on ``day``
    booked_appointment: str
    past: str  # NOT_SERVICED, an appointment six hours ago with its fulfillment time recorded
    past_appointment: str
    reservation_id: str  # a BREAK at 15:00-15:30 on ``day``
    day: date  # a bookable Monday, within the 365-day horizon
    created_after: str  # before every job above was created
    now: datetime


@dataclass(frozen=True)
class Parts:
    """What a request of an operation fills in: its path parameters, query and JSON body."""

    path: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class Call:
    """One HTTP request of an operation."""

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None

    def send(self, server: Server, token: str | None) -> httpx.Response:
        headers = {} if token is None else {"x-amz-access-token": token}
        return httpx.request(
            self.method, f"{server.url}{self.path}", params=self.params, json=self.body, headers=headers, timeout=30
        )


@dataclass(frozen=True)
class Operation:
    """One operation of the model: how it is called, the facts about it the suites need, its valid request."""

    operation_id: str
    method: str  # upper case
    path: str  # the model's template, e.g. /service/v1/serviceJobs/{serviceJobId}
    area: Area
    status: int  # what a valid request gets: the model's one 2xx
    valid: Callable[[Ids], Parts] = field(repr=False)
    # Reads a JSON body. Every operation but two does, the reads too: clients put marketplaceIds
    # (and page tokens, reason codes) there (api/params.py).
    reads_body: bool = True
    # Changes the objects it addresses (a job, an appointment, a store's schedule or reservations);
    # createServiceDocumentUploadDestination only makes a new destination of the caller's own.
    mutates: bool = False
    # The model declares a bare ErrorList (``[{...}]``) as its error body, not ``{"errors": [...]}``.
    bare_errors: bool = False

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(name for _, name, _, _ in string.Formatter().parse(self.path) if name)

    def fill(self, **values: str) -> str:
        """The path with its parameters (exactly the template's) filled in."""
        assert set(values) == set(self.path_params), (self.operation_id, values)
        return self.path.format(**values)

    def call(self, ids: Ids) -> Call:
        """A valid request against ``ids``; its owner gets :attr:`status` for it."""
        parts = self.valid(ids)
        return Call(self.method, self.fill(**parts.path), parts.query, parts.body)

    def errors(self, response: httpx.Response) -> list[dict[str, str]]:
        """The error list of ``response``, checking the operation's envelope."""
        body = response.json()
        if self.bare_errors:
            assert isinstance(body, list), body
            return body
        assert isinstance(body, dict) and set(body) == {"errors"}, body
        return list(body["errors"])


# ---- valid requests -----------------------------------------------------------------------------


def reservation_body(ids: Ids, hour: int) -> dict[str, Any]:
    return {
        "resourceId": ids.store_id,
        "reservation": {
            "type": "BREAK",
            "availability": {"startTime": z(local(ids.day, hour)), "endTime": z(local(ids.day, hour, 30))},
        },
    }


def report_window(ids: Ids, **extra: Any) -> dict[str, Any]:
    """A capacity report's body: the store's opening hours on ``ids.day``."""
    return {"startDateTime": z(local(ids.day, 9)), "endDateTime": z(local(ids.day, 17)), **extra}


def _job(job_id: str) -> dict[str, str]:
    return {"serviceJobId": job_id}


def _appointment(job_id: str, appointment_id: str) -> dict[str, str]:
    return {"serviceJobId": job_id, "appointmentId": appointment_id}


def _fulfillment(ids: Ids) -> Parts:
    return Parts(
        _appointment(ids.past, ids.past_appointment),
        body={
            "estimatedArrivalTime": {
                "startTime": z(ids.now - timedelta(hours=7)),
                "endTime": z(ids.now - timedelta(hours=6)),
            },
            "appointmentResources": [{"resourceId": ids.technician_ids[1]}],
        },
    )


# In the model's order.
OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "getServiceJobByServiceJobId",
        "GET",
        "/service/v1/serviceJobs/{serviceJobId}",
        "jobs",
        200,
        lambda ids: Parts(_job(ids.pending)),
        reads_body=False,
    ),
    Operation(
        "cancelServiceJobByServiceJobId",
        "PUT",
        "/service/v1/serviceJobs/{serviceJobId}/cancellations",
        "jobs",
        200,
        lambda ids: Parts(_job(ids.pending), {"cancellationReasonCode": "S1"}),
        mutates=True,
    ),
    Operation(
        "completeServiceJobByServiceJobId",
        "PUT",
        "/service/v1/serviceJobs/{serviceJobId}/completions",
        "jobs",
        200,
        lambda ids: Parts(_job(ids.past)),
        reads_body=False,
        mutates=True,
    ),
    Operation(
        "getServiceJobs",
        "GET",
        "/service/v1/serviceJobs",
        "jobs",
        200,
        lambda ids: Parts(query={**MP, "createdAfter": ids.created_after}),
    ),
    Operation(
        "addAppointmentForServiceJobByServiceJobId",
        "POST",
        "/service/v1/serviceJobs/{serviceJobId}/appointments",
        "jobs",
        200,
        lambda ids: Parts(
            _job(ids.pending),
            body={"appointmentTime": {"startTime": z(local(ids.day, 11)), "durationInMinutes": 60}},
        ),
        mutates=True,
    ),
    Operation(
        "rescheduleAppointmentForServiceJobByServiceJobId",
        "POST",
        "/service/v1/serviceJobs/{serviceJobId}/appointments/{appointmentId}",
        "jobs",
        200,
        lambda ids: Parts(
            _appointment(ids.booked, ids.booked_appointment),
            body={"appointmentTime": {"startTime": z(local(ids.day, 12))}, "rescheduleReasonCode": "RS4"},
        ),
        mutates=True,
    ),
    Operation(
        "assignAppointmentResources",
        "PUT",
        "/service/v1/serviceJobs/{serviceJobId}/appointments/{appointmentId}/resources",
        "jobs",
        200,
        lambda ids: Parts(
            _appointment(ids.booked, ids.booked_appointment),
            body={"resources": [{"resourceId": ids.technician_ids[0]}]},
        ),
        mutates=True,
    ),
    Operation(
        "setAppointmentFulfillmentData",
        "PUT",
        "/service/v1/serviceJobs/{serviceJobId}/appointments/{appointmentId}/fulfillment",
        "fulfillment",
        204,
        _fulfillment,
        mutates=True,
        bare_errors=True,
    ),
    Operation(
        "getRangeSlotCapacity",
        "POST",
        "/service/v1/serviceResources/{resourceId}/capacity/range",
        "capacity",
        200,
        lambda ids: Parts({"resourceId": ids.store_id}, MP, report_window(ids)),
    ),
    Operation(
        "getFixedSlotCapacity",
        "POST",
        "/service/v1/serviceResources/{resourceId}/capacity/fixed",
        "capacity",
        200,
        lambda ids: Parts({"resourceId": ids.store_id}, MP, report_window(ids, slotDuration=30)),
    ),
    Operation(
        "updateSchedule",
        "PUT",
        "/service/v1/serviceResources/{resourceId}/schedules",
        "capacity",
        200,
        lambda ids: Parts(
            {"resourceId": ids.store_id},
            MP,
            {"schedules": [{"startTime": z(local(ids.day, 8)), "endTime": z(local(ids.day, 18)), "capacity": 3}]},
        ),
        mutates=True,
    ),
    Operation(
        "createReservation",
        "POST",
        "/service/v1/reservation",
        "capacity",
        200,
        lambda ids: Parts(query=MP, body=reservation_body(ids, 16)),
        mutates=True,
    ),
    Operation(
        "updateReservation",
        "PUT",
        "/service/v1/reservation/{reservationId}",
        "capacity",
        200,
        lambda ids: Parts({"reservationId": ids.reservation_id}, MP, reservation_body(ids, 13)),
        mutates=True,
    ),
    Operation(
        "cancelReservation",
        "DELETE",
        "/service/v1/reservation/{reservationId}",
        "capacity",
        204,
        lambda ids: Parts({"reservationId": ids.reservation_id}, MP),
        mutates=True,
    ),
    Operation(
        "getAppointmmentSlotsByJobId",
        "GET",
        "/service/v1/serviceJobs/{serviceJobId}/appointmentSlots",
        "capacity",
        200,
        lambda ids: Parts(
            _job(ids.pending), {**MP, "startTime": z(local(ids.day, 0)), "endTime": z(local(ids.day, 23))}
        ),
    ),
    Operation(
        "getAppointmentSlots",
        "GET",
        "/service/v1/appointmentSlots",
        "capacity",
        200,
        lambda ids: Parts(
            query={
                **MP,
                "asin": ids.asin,
                "storeId": ids.store_id,
                "startTime": z(local(ids.day, 0)),
                "endTime": z(local(ids.day, 23)),
            }
        ),
    ),
    Operation(
        "createServiceDocumentUploadDestination",
        "POST",
        "/service/v1/documents",
        "fulfillment",
        200,
        lambda ids: Parts(body={"contentType": "PDF", "contentLength": len(PDF)}),
    ),
)
BY_ID: dict[str, Operation] = {o.operation_id: o for o in OPERATIONS}


def operation_ids(*, area: Area | None = None) -> tuple[str, ...]:
    """The operationIds (of one sandbox area), in the model's order."""
    return tuple(o.operation_id for o in OPERATIONS if area is None or o.area == area)


def each(operations: tuple[Operation, ...] | list[Operation] = OPERATIONS) -> list[Any]:
    """``operations`` as pytest parameters named by operationId."""
    return [pytest.param(o, id=o.operation_id) for o in operations]
