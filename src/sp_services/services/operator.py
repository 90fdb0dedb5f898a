"""The marketplace side Amazon normally plays: sellers, apps, stores, technicians, offerings, orders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from sp_services.domain import ids
from sp_services.domain.catalog import Offering, Seller, Store, Technician
from sp_services.domain.enums import (
    BackgroundCheck,
    JobStatus,
    OrderStatus,
    ServiceLocationType,
    ServiceType,
)
from sp_services.domain.errors import Conflict, ErrorItem, InvalidInput, NotFound
from sp_services.domain.jobs import Job, transition
from sp_services.domain.marketplaces import Marketplace, marketplace
from sp_services.domain.times import valid_timezone
from sp_services.persistence.repositories.catalog import CatalogRepository
from sp_services.persistence.repositories.jobs import JobRepository
from sp_services.persistence.repositories.platform import PlatformRepository
from sp_services.services.appointments import assign_technicians
from sp_services.services.auth import token_hash
from sp_services.services.booking import Booking, book


def _conflict(what: str, key: str) -> Conflict:
    return Conflict(ErrorItem("Conflict", f"{what} {key} already exists.", ""))


def _not_found(what: str, key: str) -> NotFound:
    return NotFound(ErrorItem("NotFound", f"{what} {key} does not exist.", ""))


def _check_marketplaces(marketplace_ids: Sequence[str]) -> None:
    unknown = [m for m in marketplace_ids if marketplace(m) is None]
    if unknown or not marketplace_ids:
        raise InvalidInput.params(["marketplaceIds"], f"Unknown marketplace ids: {unknown}")


def create_seller(
    session: Session, *, name: str, marketplace_ids: Sequence[str], seller_id: str | None, now: datetime
) -> Seller:
    _check_marketplaces(marketplace_ids)
    repo = PlatformRepository(session)
    seller = Seller(seller_id or ids.new_seller_id(), name, tuple(marketplace_ids))
    if repo.get_seller(seller.seller_id) is not None:
        raise _conflict("Seller", seller.seller_id)
    repo.add_seller(seller, now=now)
    return seller


@dataclass(frozen=True)
class NewApplication:
    client_id: str
    client_secret: str
    roles: tuple[str, ...]


def create_application(
    session: Session,
    *,
    name: str,
    roles: Sequence[str],
    now: datetime,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> NewApplication:
    """Register an LWA application. The secret is returned once and stored only as a hash."""
    repo = PlatformRepository(session)
    app = NewApplication(client_id or ids.new_client_id(), client_secret or ids.new_client_secret(), tuple(roles))
    if repo.application_exists(app.client_id):
        raise _conflict("Application", app.client_id)
    repo.add_application(
        client_id=app.client_id, name=name, secret_hash=token_hash(app.client_secret), roles=list(roles), now=now
    )
    return app


def authorize(
    session: Session, *, seller_id: str, client_id: str, now: datetime, refresh_token: str | None = None
) -> str:
    """The seller authorizes the app; returns the refresh token (stored only as a hash)."""
    repo = PlatformRepository(session)
    if repo.get_seller(seller_id) is None:
        raise _not_found("Seller", seller_id)
    if not repo.application_exists(client_id):
        raise _not_found("Application", client_id)
    token = refresh_token or ids.new_refresh_token()
    repo.add_authorization(seller_id=seller_id, client_id=client_id, refresh_token_hash=token_hash(token), now=now)
    return token


def _require_seller(session: Session, seller_id: str) -> Seller:
    seller = PlatformRepository(session).get_seller(seller_id)
    if seller is None:
        raise _not_found("Seller", seller_id)
    return seller


@dataclass(frozen=True)
class NewStore:
    """A store as the operator describes it; what is left out gets the marketplace's defaults."""

    seller_id: str
    marketplace_id: str
    name: str
    store_id: str | None = None  # generated when absent
    timezone: str | None = None  # the marketplace's timezone when absent
    postal_codes: tuple[str, ...] = ()
    service_location_types: tuple[ServiceLocationType, ...] = (ServiceLocationType.IN_HOME,)
    slot_step_minutes: int = 60
    booking_horizon_days: int = 14
    minimum_notice_minutes: int = 0
    requires_proof: bool = False


def _known_marketplace(marketplace_id: str) -> Marketplace:
    market = marketplace(marketplace_id)
    if market is None:
        raise InvalidInput.params(["marketplaceId"], "Unknown marketplace.")
    return market


def create_store(session: Session, *, store: NewStore, now: datetime) -> Store:
    """Register a store of a seller in one of its marketplaces."""
    market = _known_marketplace(store.marketplace_id)
    timezone = store.timezone or market.default_timezone
    if not valid_timezone(timezone):
        raise InvalidInput.params(["timezone"], f"Unknown IANA timezone {timezone!r}.")
    seller = _require_seller(session, store.seller_id)
    if store.marketplace_id not in seller.marketplace_ids:
        raise InvalidInput.params(["marketplaceId"], "The seller does not sell in this marketplace.")
    created = Store(
        store_id=store.store_id or ids.new_store_id(),
        seller_id=store.seller_id,
        marketplace_id=store.marketplace_id,
        name=store.name,
        timezone=timezone,
        postal_codes=tuple(store.postal_codes),
        service_location_types=tuple(store.service_location_types),
        slot_step_minutes=store.slot_step_minutes,
        booking_horizon_days=store.booking_horizon_days,
        minimum_notice_minutes=store.minimum_notice_minutes,
        requires_proof=store.requires_proof,
    )
    repo = CatalogRepository(session)
    if repo.get_store(created.store_id) is not None:
        raise _conflict("Store", created.store_id)
    repo.add_store(created, now=now)
    return created


@dataclass(frozen=True)
class NewTechnician:
    """A technician as the operator describes it (an id is generated when absent)."""

    seller_id: str
    name: str
    technician_id: str | None = None
    skills: tuple[str, ...] = ()
    store_ids: tuple[str, ...] = ()
    service_location_types: tuple[ServiceLocationType, ...] = (ServiceLocationType.IN_HOME,)
    background_check: BackgroundCheck = BackgroundCheck.PASSED


def create_technician(session: Session, *, technician: NewTechnician, now: datetime) -> Technician:
    """Register a technician of a seller, covering some of the seller's stores."""
    _require_seller(session, technician.seller_id)
    repo = CatalogRepository(session)
    for store_id in technician.store_ids:
        store = repo.get_store(store_id)
        if store is None or store.seller_id != technician.seller_id:
            raise InvalidInput.params(["storeIds"], f"Store {store_id} is not a store of this seller.")
    created = Technician(
        technician_id=technician.technician_id or ids.new_technician_id(),
        seller_id=technician.seller_id,
        name=technician.name,
        skills=tuple(technician.skills),
        store_ids=tuple(technician.store_ids),
        service_location_types=tuple(technician.service_location_types),
        background_check=technician.background_check,
    )
    if repo.get_technician(created.technician_id) is not None:
        raise _conflict("Technician", created.technician_id)
    repo.add_technician(created, now=now)
    return created


@dataclass(frozen=True)
class NewOffering:
    """A service offering as the operator describes it (no price: free, in the marketplace's currency)."""

    seller_id: str
    marketplace_id: str
    asin: str
    title: str
    duration_minutes: int
    required_skills: tuple[str, ...] = ()
    service_type: ServiceType = ServiceType.DEFAULT
    price: Decimal | None = None
    currency: str | None = None


def create_offering(session: Session, *, offering: NewOffering, now: datetime) -> Offering:
    """Register what a seller sells for an ASIN in one marketplace."""
    market = _known_marketplace(offering.marketplace_id)
    seller = _require_seller(session, offering.seller_id)
    if offering.marketplace_id not in seller.marketplace_ids:
        raise InvalidInput.params(["marketplaceId"], "The seller does not sell in this marketplace.")
    created = Offering(
        seller_id=offering.seller_id,
        marketplace_id=offering.marketplace_id,
        asin=offering.asin,
        title=offering.title,
        duration_minutes=offering.duration_minutes,
        required_skills=tuple(offering.required_skills),
        service_type=offering.service_type,
        price=offering.price if offering.price is not None else Decimal("0"),
        currency=offering.currency or market.currency,
    )
    repo = CatalogRepository(session)
    if repo.get_offering(created.seller_id, created.marketplace_id, created.asin) is not None:
        raise _conflict("Service offering", created.asin)
    repo.add_offering(created, now=now)
    return created


@dataclass(frozen=True)
class NewJob:
    """One job of a new service order, as the marketplace hands it over."""

    asin: str
    quantity: int = 1
    preferred_appointment_times: tuple[tuple[datetime, int], ...] = ()
    associated_items: tuple[dict[str, Any], ...] = ()
    payments: tuple[dict[str, Any], ...] = ()
    product_order_ids: tuple[str, ...] = ()
    tracking_ids: tuple[str, ...] = ()
    # A slot the buyer booked at checkout: the job starts NOT_SERVICED with this appointment.
    appointment_start: datetime | None = None
    technician_ids: tuple[str, ...] = ()
    created_at: datetime | None = None


@dataclass(frozen=True)
class NewOrder:
    seller_id: str
    marketplace_id: str
    store_id: str
    buyer: dict[str, Any] | None = None
    service_location: dict[str, Any] | None = None
    jobs: tuple[NewJob, ...] = ()
    service_order_id: str | None = None
    service_job_provider_id: str | None = None


@dataclass(frozen=True)
class CreatedOrder:
    """A new order, its jobs as created (booked ones with their appointment), and the warnings of
    bookings made at checkout (a technician busy elsewhere)."""

    service_order_id: str
    jobs: list[Job]
    warnings: list[tuple[str, ErrorItem]]  # (serviceJobId, warning)


def create_order(session: Session, *, order: NewOrder, now: datetime) -> CreatedOrder:
    """Create a service order and its jobs (what a buyer's purchase produces).

    A job booked at checkout goes through the same booking step as addAppointment (lock, slot,
    time rules, the same texts) and its technicians through the same checks as
    assignAppointmentResources; if any booking fails the whole order is refused."""
    seller = _require_seller(session, order.seller_id)
    catalog, jobs_repo = CatalogRepository(session), JobRepository(session)
    if order.marketplace_id not in seller.marketplace_ids:
        raise InvalidInput.params(["marketplaceId"], "The seller does not sell in this marketplace.")
    store = catalog.get_store(order.store_id)
    if store is None or store.seller_id != order.seller_id or store.marketplace_id != order.marketplace_id:
        raise InvalidInput.params(["storeId"], "The store is not a store of this seller in this marketplace.")
    if not order.jobs:
        raise InvalidInput.params(["jobs"], "An order needs at least one job.")
    location = order.service_location or {"serviceLocationType": ServiceLocationType.IN_HOME.value}
    if location.get("serviceLocationType") not in [t.value for t in store.service_location_types]:
        raise InvalidInput.params(["serviceLocation"], "The store does not offer this service location type.")
    order_id = order.service_order_id or ids.new_service_order_id()
    if jobs_repo.order_exists(order_id):
        raise _conflict("Service order", order_id)
    jobs_repo.add_order(
        service_order_id=order_id, seller_id=seller.seller_id, marketplace_id=order.marketplace_id, now=now
    )
    created: list[Job] = []
    warnings: list[tuple[str, ErrorItem]] = []
    for spec in order.jobs:
        offering = catalog.get_offering(seller.seller_id, order.marketplace_id, spec.asin)
        if offering is None:
            raise InvalidInput.params(["asin"], f"No service offering for ASIN {spec.asin} in this marketplace.")
        job = _new_job(order_id, order, spec, offering, location, now)
        jobs_repo.add_job(job, product_order_ids=spec.product_order_ids, tracking_ids=spec.tracking_ids)
        if spec.appointment_start is not None:
            warnings += [(job.service_job_id, w) for w in _book_at_checkout(session, job, spec, now)]
        created.append(job)
    if any(spec.appointment_start is not None for spec in order.jobs):
        created = [jobs_repo.get_job(j.service_job_id) or j for j in created]  # with their appointments
    return CreatedOrder(order_id, created, warnings)


def _new_job(
    order_id: str, order: NewOrder, spec: NewJob, offering: Offering, location: dict[str, Any], now: datetime
) -> Job:
    created_at = spec.created_at or now
    return Job(
        service_job_id=ids.new_service_job_id(),
        service_order_id=order_id,
        seller_id=order.seller_id,
        marketplace_id=order.marketplace_id,
        store_id=order.store_id,
        status=JobStatus.PENDING_SCHEDULE,
        service_type=offering.service_type,
        asin=offering.asin,
        title=offering.title,
        quantity=spec.quantity,
        required_skills=offering.required_skills,
        created_at=created_at,
        updated_at=created_at,
        service_job_provider_id=order.service_job_provider_id or order.seller_id,
        buyer=order.buyer,
        service_location=location,
        preferred_appointment_times=spec.preferred_appointment_times,
        associated_items=spec.associated_items,
        payments=spec.payments,
    )


def _book_at_checkout(session: Session, job: Job, spec: NewJob, now: datetime) -> list[ErrorItem]:
    """The buyer's slot, booked like addAppointment; the named technicians, assigned like
    assignAppointmentResources. Returns the assignment's warnings."""
    assert spec.appointment_start is not None
    target = transition("add_appointment", job_id=job.service_job_id, status=job.status)
    appointment = book(session, job=job, booking=Booking(spec.appointment_start), status=target, now=now)
    if not spec.technician_ids:
        return []
    booked = replace(job, status=target, appointments=(appointment,))
    return assign_technicians(session, job=booked, appointment=appointment, resource_ids=spec.technician_ids, now=now)


@dataclass(frozen=True)
class OrderSummary:
    """An order's status and its jobs' statuses, in creation order."""

    service_order_id: str
    status: OrderStatus
    jobs: tuple[tuple[str, JobStatus], ...]


def order_summary(session: Session, *, service_order_id: str) -> OrderSummary:
    """An order's status and its jobs' statuses (operator view)."""
    repo = JobRepository(session)
    status = repo.order_status(service_order_id)
    if status is None:
        raise _not_found("Service order", service_order_id)
    return OrderSummary(service_order_id, status, tuple(repo.jobs_of_order(service_order_id)))
