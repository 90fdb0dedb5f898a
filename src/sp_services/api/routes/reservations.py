"""Reservations: createReservation, updateReservation, cancelReservation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from sp_services.api.availability import availability_wire, parse_availability
from sp_services.api.context import authorize
from sp_services.api.params import Params, json_body, marketplace_of
from sp_services.domain import ids
from sp_services.domain.errors import ErrorItem, InvalidInput
from sp_services.domain.recurrence import Availability
from sp_services.domain.resources import Reservation, ReservationType
from sp_services.services import capacity as service

router = APIRouter(prefix="/service/v1", tags=["service"])


def _reservation_body(body: Any) -> tuple[str, ReservationType, Availability]:
    """resourceId and reservation {type, availability} of a create/update body, or the model's 400s."""
    data = body if isinstance(body, dict) else {}
    resource_id = data.get("resourceId")
    if not isinstance(resource_id, str) or not ids.RESOURCE_ID.match(resource_id):
        raise InvalidInput.params(["resourceId"])
    reservation = data.get("reservation")
    # A member sent as null is a member left out (docs/deviations.md).
    if not isinstance(reservation, dict) or reservation.get("availability") is None or reservation.get("type") is None:
        raise InvalidInput.params(["reservation"])
    if reservation["type"] not in ReservationType.__members__.values():
        raise InvalidInput.params(["reservation.type"], f"type must be one of {', '.join(ReservationType)}")
    return (
        resource_id,
        ReservationType(reservation["type"]),
        parse_availability(reservation["availability"], "reservation.availability"),
    )


def _payload(reservation: Reservation, warnings: list[ErrorItem] | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "reservation": {
            "reservationId": reservation.reservation_id,
            "type": reservation.type.value,
            "availability": availability_wire(reservation.availability),
        }
    }
    if warnings:
        record["warnings"] = [{"code": w.code, "message": w.message, "details": w.details} for w in warnings]
    return {"payload": record}


@router.post("/reservation", operation_id="createReservation")
async def create_reservation(request: Request) -> dict[str, Any]:
    principal, ctx = await authorize(request, "createReservation")
    body = await json_body(request)
    resource_id, kind, availability = _reservation_body(body)
    marketplace_id = marketplace_of(Params(request, body, body_fallbacks=("marketplaceIds",)))
    reservation = await ctx.run(
        lambda s, now: service.create_reservation(
            s,
            seller_id=principal.seller_id,
            resource_id=resource_id,
            marketplace_id=marketplace_id,
            type=kind,
            availability=availability,
            now=now,
        )
    )
    return _payload(reservation)


@router.put("/reservation/{reservationId}", operation_id="updateReservation")
async def update_reservation(request: Request, reservationId: str) -> dict[str, Any]:
    principal, ctx = await authorize(request, "updateReservation")
    body = await json_body(request)
    if not ids.RESERVATION_ID.match(reservationId):
        raise InvalidInput.params(["reservationId"])
    resource_id, _kind, availability = _reservation_body(body)
    marketplace_id = marketplace_of(Params(request, body, body_fallbacks=("marketplaceIds",)))
    sent = body["reservation"]["availability"]  # an object: _reservation_body parsed it
    moved = await ctx.run(
        lambda s, now: service.update_reservation(
            s,
            seller_id=principal.seller_id,
            reservation_id=reservationId,
            resource_id=resource_id,
            marketplace_id=marketplace_id,
            start=availability.start,
            end=availability.end,
            capacity=availability.capacity if sent.get("capacity") is not None else None,
            recurrence=availability.recurrence,
            now=now,
        )
    )
    return _payload(moved.reservation, moved.warnings)


@router.delete("/reservation/{reservationId}", operation_id="cancelReservation", status_code=204)
async def cancel_reservation(request: Request, reservationId: str) -> Response:
    principal, ctx = await authorize(request, "cancelReservation")
    if not ids.RESERVATION_ID.match(reservationId):
        raise InvalidInput.params(["reservationId"])
    marketplace_id = marketplace_of(Params(request, await json_body(request), body_fallbacks=("marketplaceIds",)))
    await ctx.run(
        lambda s, _now: service.cancel_reservation(
            s, seller_id=principal.seller_id, reservation_id=reservationId, marketplace_id=marketplace_id
        )
    )
    return Response(status_code=204)
