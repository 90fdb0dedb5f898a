"""Demo data: two sellers with stores, technicians, offerings and jobs in every status.

Idempotent: the first run creates everything and keeps the printed credentials in the database
(they are demo credentials, meant to be shown); later runs print the same object again.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from sp_services.domain.catalog import Offering, Store, Technician
from sp_services.domain.enums import BackgroundCheck, JobStatus, ServiceLocationType, ServiceType
from sp_services.domain.jobs import payment
from sp_services.domain.marketplaces import US
from sp_services.domain.recurrence import Availability, Recurrence
from sp_services.domain.resources import ReservationType
from sp_services.persistence import tables as t
from sp_services.persistence.db import Database
from sp_services.services import capacity
from sp_services.services import jobs as job_service
from sp_services.services import operator as op

DEMO_KEY = "demo"
FIRST_NAMES = ["Ava", "Liam", "Noah", "Mia", "Zoe", "Omar", "Ivy", "Leo", "Nora", "Eli", "Ruth", "Sam"]
LAST_NAMES = ["Garcia", "Smith", "Chen", "Patel", "Okafor", "Kim", "Novak", "Silva", "Brown", "Ali"]
STREETS = ["Pine St", "Maple Ave", "2nd Ave", "Lake Dr", "Cedar Rd", "Market St", "Union St"]


def _buyer(rng: random.Random, n: int) -> dict[str, Any]:
    return {
        "buyerId": f"B{n:011d}",
        "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        "phone": f"+1206555{rng.randint(1000, 9999)}",
        "isPrimeMember": rng.random() < 0.6,
    }


def _location(rng: random.Random, city: str, state: str, postal: str, name: str) -> dict[str, Any]:
    return {
        "serviceLocationType": "IN_HOME",
        "address": {
            "name": name,
            "addressLine1": f"{rng.randint(10, 9999)} {rng.choice(STREETS)}",
            "city": city,
            "stateOrRegion": state,
            "postalCode": postal,
            "countryCode": "US",
        },
    }


def _seller(
    session: Session,
    rng: random.Random,
    *,
    seller_id: str,
    name: str,
    now: datetime,
    stores: list[tuple[str, str, str, str, str]],
    offerings: list[tuple[str, str, int, list[str], str]],
    technicians: int,
    jobs: int,
    order_prefix: int,
) -> dict[str, Any]:
    op.create_seller(session, name=name, marketplace_ids=[US], seller_id=seller_id, now=now)
    app = op.create_application(session, name=f"{name} integration", roles=["ProfessionalServices"], now=now)
    refresh = op.authorize(session, seller_id=seller_id, client_id=app.client_id, now=now)
    store_ids = []
    for store_id, store_name, tz, _city, _state in stores:
        op.create_store(
            session,
            now=now,
            store=Store(
                store_id=store_id,
                seller_id=seller_id,
                marketplace_id=US,
                name=store_name,
                timezone=tz,
                postal_codes=(),
                service_location_types=(ServiceLocationType.IN_HOME, ServiceLocationType.IN_STORE),
            ),
        )
        store_ids.append(store_id)
    for asin, title, duration, skills, stype in offerings:
        op.create_offering(
            session,
            now=now,
            offering=Offering(
                seller_id=seller_id,
                marketplace_id=US,
                asin=asin,
                title=title,
                duration_minutes=duration,
                required_skills=tuple(skills),
                service_type=ServiceType(stype),
                price=Decimal("129.00"),
                currency="USD",
            ),
        )
    all_skills = sorted({s for o in offerings for s in o[3]})
    tech_ids = []
    for i in range(technicians):
        tech_id = f"{seller_id[:6]}T{i + 1:03d}"
        op.create_technician(
            session,
            now=now,
            technician=Technician(
                technician_id=tech_id,
                seller_id=seller_id,
                name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                skills=tuple(all_skills if i % 3 else all_skills[:1]),
                store_ids=tuple(store_ids),
                service_location_types=(ServiceLocationType.IN_HOME,),
                background_check=BackgroundCheck.PENDING if i == technicians - 1 else BackgroundCheck.PASSED,
            ),
        )
        tech_ids.append(tech_id)

    # Status mix: the first store + first ASIN gets plenty of schedulable jobs.
    plan = (
        [JobStatus.PENDING_SCHEDULE] * 14
        + [JobStatus.NOT_SERVICED] * 12
        + [JobStatus.COMPLETED] * 12
        + [JobStatus.CANCELLED] * 8
        + [JobStatus.HOLD] * 2
        + [JobStatus.PAYMENT_DECLINED] * 1
        + [JobStatus.NOT_FULFILLABLE] * 1
    )
    plan = (plan * (jobs // len(plan) + 1))[:jobs]
    job_ids: dict[str, list[str]] = {s.value: [] for s in JobStatus}
    for n, status in enumerate(plan):
        store_index = 0 if n % 4 else 1
        store = stores[store_index]
        asin, title, duration, _skills, _stype = offerings[
            0 if (n % 3 or status is JobStatus.PENDING_SCHEDULE) else n % len(offerings)
        ]
        if status is JobStatus.PENDING_SCHEDULE and n % 5:
            store = stores[0]
        created = now - timedelta(
            days=30 - (n * 29) // max(1, jobs), hours=rng.randint(0, 12), minutes=rng.randint(0, 59)
        )
        booked = status in (JobStatus.NOT_SERVICED, JobStatus.COMPLETED) or (
            status is JobStatus.CANCELLED and n % 2 == 0
        )
        # NOT_SERVICED: half in the past (ready to close), half ahead; COMPLETED: in the past.
        if status is JobStatus.COMPLETED or (status is JobStatus.NOT_SERVICED and n % 2 == 0):
            start = (now - timedelta(days=rng.randint(1, 10))).replace(minute=0, second=0, microsecond=0, hour=16)
        else:
            start = (now + timedelta(days=rng.randint(1, 10))).replace(minute=0, second=0, microsecond=0, hour=17)
        start = max(start, created + timedelta(hours=2)) if start < now else start
        start = start.replace(minute=0, second=0, microsecond=0)
        buyer = _buyer(rng, order_prefix * 1000 + n)
        preferred = ((start + timedelta(days=1), duration),) if status is JobStatus.PENDING_SCHEDULE else ()
        order_id = f"{order_prefix:03d}-{1000000 + n:07d}-{rng.randint(1000000, 9999999):07d}"
        _, created_jobs = op.create_order(
            session,
            now=created,
            order=op.NewOrder(
                seller_id=seller_id,
                marketplace_id=US,
                store_id=store[0],
                service_order_id=order_id,
                buyer=buyer,
                service_location=_location(rng, store[3], store[4], f"{98100 + n % 90}", buyer["name"]),
                jobs=(
                    op.NewJob(
                        asin=asin,
                        quantity=1,
                        preferred_appointment_times=preferred,
                        associated_items=(
                            {
                                "asin": f"B0ITEM{n % 1000:04d}",
                                "title": f"{title} (product)",
                                "quantity": 1,
                                "orderId": f"{order_prefix + 1:03d}-{2000000 + n:07d}-0000001",
                                "itemStatus": "DELIVERED",
                                "brandName": "Acme",
                            },
                        ),
                        payments=(payment(Decimal("129.00"), "USD", "CREDIT_CARD"),),
                        product_order_ids=(f"{order_prefix + 1:03d}-{2000000 + n:07d}-0000001",),
                        tracking_ids=(f"TBA{order_prefix}{n:06d}",),
                        appointment_start=start if booked else None,
                        technician_ids=(tech_ids[n % (len(tech_ids) - 1)],) if booked and n % 3 else (),
                        created_at=created,
                    ),
                ),
            ),
        )
        job_id = created_jobs[0].service_job_id
        if status is JobStatus.COMPLETED:
            job_service.complete_job(session, seller_id=seller_id, job_id=job_id, now=start + timedelta(hours=3))
        elif status is JobStatus.CANCELLED:
            job_service.cancel_job(
                session, seller_id=seller_id, job_id=job_id, reason_code="S3", now=created + timedelta(hours=1)
            )
        elif status in (JobStatus.HOLD, JobStatus.PAYMENT_DECLINED, JobStatus.NOT_FULFILLABLE):
            job_service.set_marketplace_status(
                session, job_id=job_id, action=f"mark_{status.value.lower()}", now=created + timedelta(hours=1)
            )
        job_ids[status.value].append(job_id)
    return {
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "refresh_token": refresh,
        "seller_id": seller_id,
        "store_ids": store_ids,
        "technician_ids": tech_ids,
        "job_ids": job_ids,
    }


def _local(now: datetime, tz: str, days: int, hour: int, minute: int = 0) -> datetime:
    """``days`` from today at hour:minute, store-local."""
    day = now.astimezone(ZoneInfo(tz)).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tz))


def _publish_capacity(session: Session, seller: dict[str, Any], *, now: datetime) -> None:
    """Schedules that make slots interesting: weekday crews with a lunch break in Seattle, a weekend-only
    Brooklyn store, technician hours, and one technician's vacation next week."""
    seattle, brooklyn = seller["store_ids"]
    west, east = "America/Los_Angeles", "America/New_York"
    horizon = now + timedelta(days=120)
    weekdays, weekend = frozenset(range(5)), frozenset({5, 6})

    def daily(
        tz: str, start: tuple[int, int], end: tuple[int, int], days: frozenset[int], capacity: int
    ) -> Availability:
        return Availability(
            _local(now, tz, -14, *start), _local(now, tz, -14, *end), capacity, Recurrence(horizon, days, frozenset())
        )

    def publish(resource_id: str, records: list[Availability]) -> None:
        capacity.update_schedule(
            session, seller_id=seller["seller_id"], resource_id=resource_id, marketplace_id=US, records=records, now=now
        )

    publish(seattle, [daily(west, (8, 0), (18, 0), weekdays, 3), daily(west, (9, 0), (13, 0), frozenset({5}), 1)])
    publish(brooklyn, [daily(east, (10, 0), (16, 0), weekend, 2)])
    for tech_id in seller["technician_ids"]:
        publish(tech_id, [daily(west, (8, 0), (17, 0), weekdays, 1)])
    capacity.create_reservation(
        session,
        seller_id=seller["seller_id"],
        resource_id=seattle,
        marketplace_id=US,
        type=ReservationType.BREAK,
        availability=daily(west, (12, 0), (13, 0), weekdays, 1),
        now=now,
    )
    # A reservation must fit AVAILABLE at every minute, so a vacation covers working hours: next
    # Monday to Wednesday, for the one technician who is never assigned in the demo.
    monday = 7 - now.astimezone(ZoneInfo(west)).weekday()
    capacity.create_reservation(
        session,
        seller_id=seller["seller_id"],
        resource_id=seller["technician_ids"][-1],
        marketplace_id=US,
        type=ReservationType.VACATION,
        availability=Availability(
            _local(now, west, monday, 8),
            _local(now, west, monday, 17),
            1,
            Recurrence(_local(now, west, monday + 2, 8), frozenset(), frozenset()),
        ),
        now=now,
    )


def demo_or_empty(db: Database) -> bool:
    """True when the database holds the demo data or no sellers at all."""
    with db.transaction(write=False) as session:
        if session.get(t.KeyValue, DEMO_KEY) is not None:
            return True
        return session.scalar(select(t.Seller.seller_id).limit(1)) is None


def load_demo(db: Database, *, operator_key: str, now: datetime | None = None) -> dict[str, Any]:
    """Create the demo world once; return its credentials and ids (the same on every call)."""
    now = now or datetime.now(UTC)
    info = _load(db, operator_key=operator_key, now=now)
    db.analyze()
    return info


def _load(db: Database, *, operator_key: str, now: datetime) -> dict[str, Any]:
    with db.transaction() as session:
        existing = session.get(t.KeyValue, DEMO_KEY)
        if existing is not None:
            info: dict[str, Any] = json.loads(existing.value)
            info["operator_key"] = operator_key
            return info
        rng = random.Random(20261128)
        main = _seller(
            session,
            rng,
            seller_id="A1DEMOSELLERUS",
            name="Evergreen Home Services",
            now=now,
            stores=[
                ("evergreen-seattle", "Seattle Installations", "America/Los_Angeles", "Seattle", "WA"),
                ("evergreen-brooklyn", "Brooklyn Repairs", "America/New_York", "Brooklyn", "NY"),
            ],
            offerings=[
                ("B0DEMOTV01", "TV Wall Mounting", 120, ["TV_MOUNTING"], "default"),
                ("B0DEMOWM01", "Washer Installation", 90, ["APPLIANCE_INSTALL"], "heavybulky"),
                ("B0DEMOCL01", "Monthly Home Cleaning", 180, ["CLEANING"], "recurring"),
            ],
            technicians=6,
            jobs=60,
            order_prefix=111,
        )
        other = _seller(
            session,
            rng,
            seller_id="A2OTHERSELLER",
            name="Bay Appliance Pros",
            now=now,
            stores=[
                ("bayapp-oakland", "Oakland", "America/Los_Angeles", "Oakland", "CA"),
                ("bayapp-sanjose", "San Jose", "America/Los_Angeles", "San Jose", "CA"),
            ],
            offerings=[("B0DEMOAP01", "Dishwasher Installation", 120, ["APPLIANCE_INSTALL"], "default")],
            technicians=3,
            jobs=12,
            order_prefix=222,
        )
        _publish_capacity(session, main, now=now)
        no_role = op.create_application(
            session, name="Reporting app (no Professional Services role)", roles=["Inventory"], now=now
        )
        no_role_refresh = op.authorize(session, seller_id=main["seller_id"], client_id=no_role.client_id, now=now)
        info = {
            **{k: main[k] for k in ("client_id", "client_secret", "refresh_token", "seller_id")},
            "marketplace_id": US,
            "store_id": main["store_ids"][0],
            "store_ids": main["store_ids"],
            "asin": "B0DEMOTV01",
            "technician_ids": main["technician_ids"],
            "job_ids": main["job_ids"],
            "other_seller": {
                k: other[k] for k in ("client_id", "client_secret", "refresh_token", "seller_id", "job_ids")
            },
            "no_role_app": {
                "client_id": no_role.client_id,
                "client_secret": no_role.client_secret,
                "refresh_token": no_role_refresh,
            },
        }
        session.add(t.KeyValue(key=DEMO_KEY, value=json.dumps(info)))
        info["operator_key"] = operator_key
        return info
