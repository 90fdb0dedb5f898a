"""The demo sellers' accounts, made through the operator and capacity services: the seller, its
app and authorization, stores, offerings, technicians, and the schedules and reservations they
publish."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sp_services.domain.appointments import JobNeeds, technician_failures
from sp_services.domain.catalog import Offering, Store, Technician
from sp_services.domain.enums import ServiceLocationType
from sp_services.domain.marketplaces import US
from sp_services.domain.recurrence import Availability, Recurrence
from sp_services.domain.resources import ReservationType
from sp_services.services import capacity
from sp_services.services import operator as op

from .fixtures import FIRST_NAMES, LAST_NAMES, SCHEDULE_DAYS_AHEAD, SCHEDULE_DAYS_BACK, DemoApp, DemoSeller, WeeklyHours


@dataclass(frozen=True)
class Credentials:
    """An app authorized by a seller: what a client needs to get an access token."""

    client_id: str
    client_secret: str
    refresh_token: str


@dataclass(frozen=True)
class SellerWorld:
    """What opening a demo seller's account made."""

    seller_id: str
    credentials: Credentials
    stores: tuple[Store, ...]
    offerings: tuple[Offering, ...]
    technicians: tuple[Technician, ...]


def local_time(present: datetime, tz: str, days: int, hour: int) -> datetime:
    """``days`` after the local date of ``present``, at ``hour`` o'clock local time."""
    day = present.astimezone(ZoneInfo(tz)).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(tz))


def open_app(session: Session, app: DemoApp, *, seller_id: str, now: datetime) -> Credentials:
    """Register ``app`` and have the seller authorize it."""
    made = op.create_application(session, name=app.name, roles=app.roles, now=now)
    refresh = op.authorize(session, seller_id=seller_id, client_id=made.client_id, now=now)
    return Credentials(made.client_id, made.client_secret, refresh)


def open_account(session: Session, seller: DemoSeller, *, rng: random.Random, now: datetime) -> SellerWorld:
    """Create the seller with its app, stores, offerings and technicians (named with ``rng``)."""
    op.create_seller(session, name=seller.name, marketplace_ids=[US], seller_id=seller.seller_id, now=now)
    credentials = open_app(session, seller.app, seller_id=seller.seller_id, now=now)
    stores = tuple(op.create_store(session, store=store, now=now) for store in _stores(seller))
    offerings = tuple(op.create_offering(session, offering=offering, now=now) for offering in _offerings(seller))
    technicians = tuple(
        op.create_technician(session, technician=technician, now=now) for technician in _technicians(seller, rng)
    )
    return SellerWorld(seller.seller_id, credentials, stores, offerings, technicians)


def _stores(seller: DemoSeller) -> list[op.NewStore]:
    return [
        op.NewStore(
            seller_id=seller.seller_id,
            marketplace_id=US,
            name=store.name,
            store_id=store.store_id,
            timezone=store.timezone,
            service_location_types=(ServiceLocationType.IN_HOME, ServiceLocationType.IN_STORE),
        )
        for store in seller.stores
    ]


def _offerings(seller: DemoSeller) -> list[op.NewOffering]:
    return [
        op.NewOffering(
            seller_id=seller.seller_id,
            marketplace_id=US,
            asin=offering.asin,
            title=offering.title,
            duration_minutes=offering.duration_minutes,
            required_skills=offering.required_skills,
            service_type=offering.service_type,
            price=offering.price,
            currency="USD",
        )
        for offering in seller.offerings
    ]


def _technicians(seller: DemoSeller, rng: random.Random) -> list[op.NewTechnician]:
    # Every technician works in every store of the seller, in the buyer's home.
    return [
        op.NewTechnician(
            seller_id=seller.seller_id,
            name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            technician_id=f"{seller.seller_id[:6]}T{i + 1:03d}",
            skills=technician.skills,
            store_ids=tuple(store.store_id for store in seller.stores),
            service_location_types=(ServiceLocationType.IN_HOME,),
            background_check=technician.background_check,
        )
        for i, technician in enumerate(seller.technicians)
    ]


def _weekly(hours: WeeklyHours, tz: str, *, present: datetime) -> Availability:
    """``hours`` as a record recurring from SCHEDULE_DAYS_BACK before ``present`` to SCHEDULE_DAYS_AHEAD after it."""
    return Availability(
        local_time(present, tz, -SCHEDULE_DAYS_BACK, hours.start),
        local_time(present, tz, -SCHEDULE_DAYS_BACK, hours.end),
        hours.capacity,
        Recurrence(present + timedelta(days=SCHEDULE_DAYS_AHEAD), hours.days, frozenset()),
    )


@dataclass(frozen=True)
class Publisher:
    """Publishes one seller's capacity through the capacity services at ``now``."""

    session: Session
    seller_id: str
    now: datetime

    def schedule(self, resource_id: str, records: list[Availability]) -> None:
        capacity.update_schedule(
            self.session,
            seller_id=self.seller_id,
            resource_id=resource_id,
            marketplace_id=US,
            records=records,
            now=self.now,
        )

    def reserve(self, resource_id: str, kind: ReservationType, availability: Availability) -> None:
        capacity.create_reservation(
            self.session,
            seller_id=self.seller_id,
            resource_id=resource_id,
            marketplace_id=US,
            type=kind,
            availability=availability,
            now=self.now,
        )


def publish_capacity(
    session: Session, seller: DemoSeller, world: SellerWorld, *, present: datetime, now: datetime
) -> None:
    """Publish the stores' schedules and breaks and the technicians' hours and vacations at ``now``,
    laid out around ``present``. Each reservation follows its schedule: it must fit AVAILABLE."""
    publisher = Publisher(session, seller.seller_id, now)
    for store in seller.stores:
        if store.schedule:
            publisher.schedule(store.store_id, [_weekly(h, store.timezone, present=present) for h in store.schedule])
        for hours in store.breaks:
            publisher.reserve(store.store_id, ReservationType.BREAK, _weekly(hours, store.timezone, present=present))
    tz = seller.stores[0].timezone
    for spec, technician in zip(seller.technicians, world.technicians, strict=True):
        if seller.technician_hours:
            records = [_weekly(h, tz, present=present) for h in seller.technician_hours]
            publisher.schedule(technician.technician_id, records)
        if spec.vacation:
            off = _next_week_off(seller, tz, present=present)
            publisher.reserve(technician.technician_id, ReservationType.VACATION, off)


def _next_week_off(seller: DemoSeller, tz: str, *, present: datetime) -> Availability:
    """Next Monday to Wednesday, over the technician's working hours: a reservation must fit
    AVAILABLE at every minute, so it cannot reach outside them."""
    hours = seller.technician_hours[0]
    monday = 7 - present.astimezone(ZoneInfo(tz)).weekday()
    return Availability(
        local_time(present, tz, monday, hours.start),
        local_time(present, tz, monday, hours.end),
        1,
        Recurrence(local_time(present, tz, monday + 2, hours.start), frozenset(), frozenset()),
    )


def qualification(world: SellerWorld, offering: Offering, store_id: str) -> tuple[list[str], dict[str, list[str]]]:
    """The seller's technicians qualified for ``offering`` in ``store_id`` (for an IN_HOME job), and
    the others with the RESOURCES_* failure codes assigning them would give."""
    needs = JobNeeds(world.seller_id, store_id, offering.required_skills, ServiceLocationType.IN_HOME.value)
    qualified: list[str] = []
    others: dict[str, list[str]] = {}
    for technician in world.technicians:
        failures = technician_failures([technician], needs)
        if failures:
            others[technician.technician_id] = [f.code for f in failures]
        else:
            qualified.append(technician.technician_id)
    return qualified, others
