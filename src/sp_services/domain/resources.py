"""Resources (capacity that can be scheduled) and reservations against them (docs/design.md §3-4)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .catalog import Store, Technician
from .recurrence import Availability


class ResourceKind(StrEnum):
    STORE = "STORE"  # the store's bookable capacity: resourceId == storeId
    TECHNICIAN = "TECHNICIAN"


class ReservationType(StrEnum):
    APPOINTMENT = "APPOINTMENT"
    TRAVEL = "TRAVEL"
    VACATION = "VACATION"
    BREAK = "BREAK"
    TRAINING = "TRAINING"


class CapacityType(StrEnum):
    SCHEDULED = "SCHEDULED_CAPACITY"
    AVAILABLE = "AVAILABLE_CAPACITY"
    ENCUMBERED = "ENCUMBERED_CAPACITY"
    RESERVED = "RESERVED_CAPACITY"


@dataclass(frozen=True)
class Resource:
    resource_id: str
    seller_id: str
    kind: ResourceKind
    timezone: str
    marketplace_ids: tuple[str, ...]


@dataclass(frozen=True)
class Reservation:
    reservation_id: str
    resource_id: str
    seller_id: str
    type: ReservationType
    availability: Availability


def store_resource(store: Store) -> Resource:
    """The store's own bookable capacity (``resourceId == storeId``)."""
    return Resource(store.store_id, store.seller_id, ResourceKind.STORE, store.timezone, (store.marketplace_id,))


def technician_resource(technician: Technician, store: Store) -> Resource:
    """A technician's capacity as seen from one of its stores (the store's timezone and marketplace)."""
    return Resource(
        technician.technician_id, technician.seller_id, ResourceKind.TECHNICIAN, store.timezone, (store.marketplace_id,)
    )
