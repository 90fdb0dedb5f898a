"""Capacity use cases: schedules, reservations, capacity reports (docs/design.md §4)."""

from __future__ import annotations

import operator
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sp_services.domain.capacity import (
    Run,
    combine,
    from_minute,
    minimum,
    overlapping_records,
    scheduled_runs,
    sum_runs,
    to_minute,
)
from sp_services.domain.errors import ErrorItem, InvalidInput, NotAuthorized, NotFound
from sp_services.domain.marketplaces import marketplace
from sp_services.domain.recurrence import Availability, Recurrence, occurrences, whole_minutes
from sp_services.domain.resources import Reservation, ReservationType, Resource, ResourceKind
from sp_services.persistence.repositories.capacity import MAX_SPAN, CapacityRepository


@dataclass(frozen=True)
class CapacityView:
    """The four capacity step functions of one resource over one window (minutes, half-open)."""

    window: tuple[int, int]
    has_schedule: bool  # any schedule at all, even if none of it falls in this window
    scheduled: list[Run]
    reserved: list[Run]
    encumbered: list[Run]
    available: list[Run]


def load_resource(
    session: Session, *, seller_id: str, resource_id: str, marketplace_id: str, for_update: bool = False
) -> Resource:
    """The caller's resource in this marketplace, or the model's answers (400 unknown, 403 foreign)."""
    resource = CapacityRepository(session).resource(resource_id, for_update=for_update)
    if resource is None:
        raise InvalidInput(ErrorItem("InvalidInput", "Invalid request parameters: [resourceId]", ""))
    if resource.seller_id != seller_id:
        raise NotAuthorized.action()
    if marketplace_id not in resource.marketplace_ids:
        raise InvalidInput.params(["marketplaceIds"], "The resource does not operate in this marketplace.")
    return resource


def capacity_views(
    session: Session,
    resources: Sequence[Resource],
    window: tuple[int, int],
    *,
    except_appointment: str | None = None,
) -> dict[str, CapacityView]:
    """Capacity of many resources over one window, with four queries at most (not per resource).

    Only resources with a schedule are capacity-managed: a technician without one is not
    encumbered by its appointments (stores without one still are, against their working hours).
    ``except_appointment`` is counted as free (a job looking for where it could move to)."""
    repo = CapacityRepository(session)
    ids = [r.resource_id for r in resources]
    dt_window = (from_minute(window[0]), from_minute(window[1]))
    schedules = repo.schedules(ids)
    reservations = repo.reserved(ids, dt_window)
    stores = [r.resource_id for r in resources if r.kind is ResourceKind.STORE]
    managed = [r.resource_id for r in resources if r.kind is ResourceKind.TECHNICIAN and schedules.get(r.resource_id)]
    encumbrances = repo.encumbrances(stores, managed, dt_window, except_appointment=except_appointment)
    views: dict[str, CapacityView] = {}
    for resource in resources:
        tz = ZoneInfo(resource.timezone)
        rid = resource.resource_id
        scheduled = scheduled_runs(schedules.get(rid, []), tz=tz, window=window)
        one_off, recurring = reservations.get(rid, ((), ()))
        reserved = sum_runs(
            chain(one_off, ((s, e, a.capacity) for a in recurring for s, e in occurrences(a, tz=tz, window=window))),
            window=window,
        )
        encumbered = sum_runs(encumbrances.get(rid, []), window=window)
        available = scheduled
        for taken in (reserved, encumbered):
            if taken and (len(taken) > 1 or taken[0][2] != 0):  # usually nothing is taken in a window
                available = combine(available, taken, operator.sub)
        views[rid] = CapacityView(window, bool(schedules.get(rid)), scheduled, reserved, encumbered, available)
    return views


# ---- schedules ---------------------------------------------------------------------------------


# A reservation may reach at most this far; schedule overlaps are looked for this far from the
# earliest record. Both keep one request's work bounded (a recurrence may name the year 9999).
MAX_HORIZON = timedelta(days=366)


def _span(records: Sequence[Availability]) -> tuple[int, int]:
    """A window holding every occurrence of the records (within MAX_HORIZON of the first start)."""
    start = min(to_minute(a.start) for a in records)
    end = max(to_minute(a.recurrence.end if a.recurrence else a.end) for a in records)
    limit = start + int(MAX_HORIZON.total_seconds() // 60)
    return start, min(end, limit) + int(MAX_SPAN.total_seconds() // 60)


def min_slot_minutes(marketplace_id: str) -> int:
    """The shortest schedule record a marketplace accepts (use-case guide: 5 US, 30 UK/DE)."""
    market = marketplace(marketplace_id)
    return market.min_slot_minutes if market else 30


def validate_records(
    records: Sequence[Availability], *, min_slot: int, field: str, horizon: timedelta | None = None
) -> None:
    """The model's and the guide's rules for availability records, as one 400 naming each bad record."""
    bad: list[str] = []
    notes: list[str] = []
    for i, a in enumerate(records):
        name = f"{field}[{i}]" if field == "schedules" else field
        if a.end <= a.start:
            bad.append(name)
            notes.append(f"{name}: endTime must be after startTime")
        elif a.end - a.start < timedelta(minutes=min_slot):
            bad.append(name)
            notes.append(f"{name}: shorter than the marketplace's minimum slot of {min_slot} minutes")
        elif a.capacity < 1:
            bad.append(name)
            notes.append(f"{name}: capacity must be at least 1")
        elif a.recurrence is not None and a.recurrence.end < a.start:
            bad.append(name)
            notes.append(f"{name}: recurrence endTime must not be before startTime")
        elif horizon is not None and (a.recurrence.end if a.recurrence else a.end) - a.start > horizon:
            bad.append(name)
            notes.append(f"{name}: may reach at most {horizon.days} days beyond its startTime")
    if bad:
        raise InvalidInput.params(bad, "; ".join(notes))


@dataclass(frozen=True)
class ScheduleUpdate:
    """What updateSchedule reports: records that override earlier ones (by index), and the ACTIVE
    appointments the new schedule leaves over capacity (kept, never dropped)."""

    overridden: list[int]
    over_capacity: list[str]


def update_schedule(
    session: Session,
    *,
    seller_id: str,
    resource_id: str,
    marketplace_id: str,
    records: Sequence[Availability],
    now: datetime,
) -> ScheduleUpdate:
    """Replace the resource's schedule (records taken on whole minutes, inward)."""
    resource = load_resource(
        session, seller_id=seller_id, resource_id=resource_id, marketplace_id=marketplace_id, for_update=True
    )
    if not records:
        raise InvalidInput.params(["schedule"], "A schedule needs at least one availability record.")
    records = [whole_minutes(r, inward=True) for r in records]
    validate_records(records, min_slot=min_slot_minutes(marketplace_id), field="schedules")
    CapacityRepository(session).replace_schedule(resource.resource_id, seller_id, records, now=now)
    overridden = overlapping_records(records, tz=ZoneInfo(resource.timezone), window=_span(records))
    return ScheduleUpdate(overridden, over_capacity(session, resource, now=now))


def over_capacity(session: Session, resource: Resource, *, now: datetime) -> list[str]:
    """ACTIVE appointments on ``resource`` not yet over whose span AVAILABLE goes below zero."""
    start = to_minute(now)
    booked = CapacityRepository(session).active_appointments(resource, since=now)
    if not booked:
        return []
    end = min(max(e for _, _, e in booked), start + int(MAX_HORIZON.total_seconds() // 60))
    view = capacity_views(session, [resource], (start, end))[resource.resource_id]
    return [a for a, s, e in booked if s < end and minimum(view.available, max(s, start), min(e, end)) < 0]


# ---- reservations ------------------------------------------------------------------------------


def _check_fits(session: Session, resource: Resource, availability: Availability) -> None:
    """AVAILABLE must cover the reservation's capacity at every minute of every occurrence."""
    window = _span([availability])
    tz = ZoneInfo(resource.timezone)
    view = capacity_views(session, [resource], window)[resource.resource_id]
    for s, e in occurrences(availability, tz=tz, window=window):
        if minimum(view.available, s, e) < availability.capacity:
            raise InvalidInput(
                ErrorItem(
                    "InvalidInput",
                    "Resource does not have sufficient available capacity for the reservation.",
                    f"Available capacity between {from_minute(s).isoformat()} and {from_minute(e).isoformat()} "
                    f"is below {availability.capacity}.",
                )
            )


def create_reservation(
    session: Session,
    *,
    seller_id: str,
    resource_id: str,
    marketplace_id: str,
    type: ReservationType,
    availability: Availability,
    now: datetime,
) -> Reservation:
    resource = load_resource(
        session, seller_id=seller_id, resource_id=resource_id, marketplace_id=marketplace_id, for_update=True
    )
    availability = whole_minutes(availability, inward=False)
    _validate_reservation(availability, marketplace_id)
    _check_fits(session, resource, availability)
    reservation = Reservation(str(uuid.uuid4()), resource.resource_id, seller_id, type, availability)
    CapacityRepository(session).add_reservation(reservation, now=now)
    return reservation


def _validate_reservation(availability: Availability, marketplace_id: str) -> None:
    """A reservation is an availability record: the marketplace's minimum length applies to it too."""
    min_slot = min_slot_minutes(marketplace_id)
    validate_records([availability], min_slot=min_slot, field="reservation", horizon=MAX_HORIZON)


def _load_reservation(session: Session, *, seller_id: str, reservation_id: str, missing: str) -> Reservation:
    reservation = CapacityRepository(session).get_reservation(reservation_id)
    if reservation is None:
        raise NotFound(ErrorItem("InvalidInput", missing, ""))
    if reservation.seller_id != seller_id:
        raise NotAuthorized.action()
    return reservation


@dataclass(frozen=True)
class Moved:
    """updateReservation's result: the moved reservation (a new id) and what was sent but not taken."""

    reservation: Reservation
    warnings: list[ErrorItem]


def update_reservation(
    session: Session,
    *,
    seller_id: str,
    reservation_id: str,
    resource_id: str,
    marketplace_id: str,
    start: datetime,
    end: datetime,
    capacity: int | None,
    recurrence: Recurrence | None,
    now: datetime,
) -> Moved:
    """Move a reservation in time: only its start and end change (the use-case guide: "No other
    fields can be changed except the start-times and end-times"). Its type, capacity and
    recurrence are kept; a capacity or recurrence sent that differs is not taken and the answer
    says so in ``warnings``. The old reservation is gone afterwards; the moved one has a new id."""
    old = _load_reservation(
        session,
        seller_id=seller_id,
        reservation_id=reservation_id,
        missing=f"Could not find reservation with ID: [{reservation_id}]",
    )
    # The named resource is looked up first: an unknown one gets the model's own answer.
    resource = load_resource(
        session, seller_id=seller_id, resource_id=resource_id, marketplace_id=marketplace_id, for_update=True
    )
    if old.resource_id != resource_id:
        raise InvalidInput.params(["resourceId"], "The reservation belongs to another resource.")
    kept = old.availability
    availability = whole_minutes(Availability(start, end, kept.capacity, kept.recurrence), inward=False)
    _validate_reservation(availability, marketplace_id)
    repo = CapacityRepository(session)
    repo.delete_reservation(old.reservation_id)  # its own capacity must not block its move
    _check_fits(session, resource, availability)
    moved = Reservation(str(uuid.uuid4()), resource.resource_id, seller_id, old.type, availability)
    repo.add_reservation(moved, now=now)
    return Moved(moved, _not_taken(kept, capacity, recurrence))


def _not_taken(kept: Availability, capacity: int | None, recurrence: Recurrence | None) -> list[ErrorItem]:
    ignored = []
    if capacity is not None and capacity != kept.capacity:
        ignored.append(f"capacity (kept {kept.capacity})")
    if recurrence is not None and recurrence != kept.recurrence:
        ignored.append("recurrence (kept " + ("the reservation's" if kept.recurrence else "none") + ")")
    if not ignored:
        return []
    message = "updateReservation changes only startTime and endTime; not taken: " + ", ".join(ignored) + "."
    return [ErrorItem("FieldsNotUpdated", message, "Cancel the reservation and create a new one to change them.")]


def cancel_reservation(session: Session, *, seller_id: str, reservation_id: str, marketplace_id: str) -> None:
    reservation = _load_reservation(
        session, seller_id=seller_id, reservation_id=reservation_id, missing="Reservation does not exist"
    )
    load_resource(
        session,
        seller_id=seller_id,
        resource_id=reservation.resource_id,
        marketplace_id=marketplace_id,
        for_update=True,
    )
    CapacityRepository(session).delete_reservation(reservation_id)
