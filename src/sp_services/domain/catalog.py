"""Sellers and what they publish: stores, technicians and service offerings."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .enums import BackgroundCheck, ServiceLocationType, ServiceType


@dataclass(frozen=True)
class Seller:
    seller_id: str
    name: str
    marketplace_ids: tuple[str, ...]


@dataclass(frozen=True)
class Store:
    """A region scope of one seller in one marketplace (``storeId`` on the wire)."""

    store_id: str
    seller_id: str
    marketplace_id: str
    name: str
    timezone: str
    postal_codes: tuple[str, ...] = ()
    service_location_types: tuple[ServiceLocationType, ...] = (ServiceLocationType.IN_HOME,)
    slot_step_minutes: int = 60
    booking_horizon_days: int = 14
    minimum_notice_minutes: int = 0
    requires_proof: bool = False
    # Grows with every change of the store's capacity: what is computed for one revision stays true.
    capacity_revision: int = 0


@dataclass(frozen=True)
class Technician:
    technician_id: str
    seller_id: str
    name: str
    skills: tuple[str, ...] = ()
    store_ids: tuple[str, ...] = ()
    service_location_types: tuple[ServiceLocationType, ...] = (ServiceLocationType.IN_HOME,)
    background_check: BackgroundCheck = BackgroundCheck.PASSED
    active: bool = True


@dataclass(frozen=True)
class Offering:
    """What a seller sells per ASIN: the pre-configured duration, skills and service type."""

    seller_id: str
    marketplace_id: str
    asin: str
    title: str
    duration_minutes: int
    required_skills: tuple[str, ...] = ()
    service_type: ServiceType = ServiceType.DEFAULT
    price: Decimal = Decimal("0")
    currency: str = "USD"


@dataclass(frozen=True)
class Principal:
    """Who is calling the Services API: the seller an access token was issued for, via which app."""

    seller_id: str
    client_id: str
    roles: tuple[str, ...]
