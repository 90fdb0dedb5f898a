"""Resources (capacity that can be scheduled) and reservations against them (DESIGN.md §4-5)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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
