"""Stores, technicians and service offerings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select

from sp_services.domain.catalog import Offering, Store, Technician
from sp_services.domain.enums import BackgroundCheck, ServiceLocationType, ServiceType
from sp_services.persistence import tables as t
from sp_services.persistence.prepared import Prepared

from .base import Repository

_STORES, _OFFERINGS = t.Store.__table__, t.ServiceOffering.__table__
STORE_BY_ID = Prepared(select(_STORES).where(_STORES.c.store_id == bindparam("store_id")))
OFFERING = Prepared(
    select(_OFFERINGS).where(
        _OFFERINGS.c.seller_id == bindparam("seller_id"),
        _OFFERINGS.c.marketplace_id == bindparam("marketplace_id"),
        _OFFERINGS.c.asin == bindparam("asin"),
    )
)


def _store(row: Any) -> Store:
    return Store(
        store_id=row.store_id,
        seller_id=row.seller_id,
        marketplace_id=row.marketplace_id,
        name=row.name,
        timezone=row.timezone,
        postal_codes=tuple(row.postal_codes),
        service_location_types=tuple(ServiceLocationType(x) for x in row.service_location_types),
        slot_step_minutes=row.slot_step_minutes,
        booking_horizon_days=row.booking_horizon_days,
        minimum_notice_minutes=row.minimum_notice_minutes,
        requires_proof=row.requires_proof,
        capacity_revision=row.capacity_revision,
    )


def _technician(row: t.Technician) -> Technician:
    return Technician(
        technician_id=row.technician_id,
        seller_id=row.seller_id,
        name=row.name,
        skills=tuple(row.skills),
        store_ids=tuple(row.store_ids),
        service_location_types=tuple(ServiceLocationType(x) for x in row.service_location_types),
        background_check=BackgroundCheck(row.background_check),
        active=row.active,
    )


def _offering(row: Any) -> Offering:
    return Offering(
        seller_id=row.seller_id,
        marketplace_id=row.marketplace_id,
        asin=row.asin,
        title=row.title,
        duration_minutes=row.duration_minutes,
        required_skills=tuple(row.required_skills),
        service_type=ServiceType(row.service_type),
        price=Decimal(row.price_value),
        currency=row.price_currency,
    )


class CatalogRepository(Repository):
    def get_store(self, store_id: str, *, for_update: bool = False) -> Store | None:
        """The store; ``for_update`` locks its row until commit, the lock every request that takes
        capacity from the store holds (see ``CapacityRepository.resource``)."""
        if not for_update:
            found = STORE_BY_ID.record(self.session, store_id=store_id)
            return None if found is None else _store(found)
        row = self.session.scalar(select(t.Store).where(t.Store.store_id == store_id).with_for_update())
        return None if row is None else _store(row)

    def add_store(self, store: Store, *, now: datetime) -> None:
        self.session.add(
            t.Store(
                store_id=store.store_id,
                seller_id=store.seller_id,
                marketplace_id=store.marketplace_id,
                name=store.name,
                timezone=store.timezone,
                postal_codes=list(store.postal_codes),
                service_location_types=[x.value for x in store.service_location_types],
                slot_step_minutes=store.slot_step_minutes,
                booking_horizon_days=store.booking_horizon_days,
                minimum_notice_minutes=store.minimum_notice_minutes,
                requires_proof=store.requires_proof,
                created_at=now,
            )
        )
        self.session.flush()

    def get_technician(self, technician_id: str) -> Technician | None:
        row = self.session.get(t.Technician, technician_id)
        return None if row is None else _technician(row)

    def stores(self, store_ids: Sequence[str]) -> dict[str, Store]:
        """The stores among ``store_ids`` that exist (one query)."""
        if not store_ids:
            return {}
        rows = self.session.scalars(select(t.Store).where(t.Store.store_id.in_(set(store_ids))))
        return {row.store_id: _store(row) for row in rows}

    def stores_of(self, seller_id: str, marketplace_id: str) -> list[Store]:
        """The seller's stores in one marketplace, by id."""
        rows = self.session.scalars(
            select(t.Store)
            .where(t.Store.seller_id == seller_id, t.Store.marketplace_id == marketplace_id)
            .order_by(t.Store.store_id)
        )
        return [_store(row) for row in rows]

    def technicians_of(self, seller_id: str) -> list[Technician]:
        """The seller's technicians, by id."""
        rows = self.session.scalars(
            select(t.Technician).where(t.Technician.seller_id == seller_id).order_by(t.Technician.technician_id)
        )
        return [_technician(row) for row in rows]

    def technicians(self, technician_ids: Sequence[str]) -> dict[str, Technician]:
        """The technicians among ``technician_ids`` that exist (one query)."""
        if not technician_ids:
            return {}
        rows = self.session.scalars(select(t.Technician).where(t.Technician.technician_id.in_(set(technician_ids))))
        return {row.technician_id: _technician(row) for row in rows}

    def add_technician(self, tech: Technician, *, now: datetime) -> None:
        self.session.add(
            t.Technician(
                technician_id=tech.technician_id,
                seller_id=tech.seller_id,
                name=tech.name,
                skills=list(tech.skills),
                store_ids=list(tech.store_ids),
                service_location_types=[x.value for x in tech.service_location_types],
                background_check=tech.background_check.value,
                active=tech.active,
                created_at=now,
            )
        )
        self.session.flush()

    def get_offering(self, seller_id: str, marketplace_id: str, asin: str) -> Offering | None:
        row = OFFERING.record(self.session, seller_id=seller_id, marketplace_id=marketplace_id, asin=asin)
        return None if row is None else _offering(row)

    def add_offering(self, offering: Offering, *, now: datetime) -> None:
        self.session.add(
            t.ServiceOffering(
                seller_id=offering.seller_id,
                marketplace_id=offering.marketplace_id,
                asin=offering.asin,
                title=offering.title,
                duration_minutes=offering.duration_minutes,
                required_skills=list(offering.required_skills),
                service_type=offering.service_type.value,
                price_value=offering.price,
                price_currency=offering.currency,
                created_at=now,
            )
        )
        self.session.flush()
