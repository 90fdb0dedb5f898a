"""Demo data: two sellers with stores, technicians, offerings and jobs in every status.

The main seller's demo store (``store_id``) and ASIN (``asin``) have jobs waiting to be scheduled
and open slots in the default booking horizon; jobs whose appointment is over, ready to be
closed (some with fulfillment data recorded); appointments on past and coming days, some with
technicians; and technicians (``technician_ids``) qualified for that ASIN in that store. The
others are listed in ``unqualified_technicians`` with the RESOURCES_* failures they would cause.
Appointments are laid out where the published schedules have capacity, one at a time per store,
so no store or technician is booked past its capacity.

Idempotent: the first run creates everything and keeps the printed credentials in the database
(they are demo credentials, meant to be shown); later runs print the same object again.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from sp_services.domain.appointments import JobNeeds, technician_failures
from sp_services.domain.catalog import Offering, Store, Technician
from sp_services.domain.enums import BackgroundCheck, JobStatus, ServiceLocationType, ServiceType
from sp_services.domain.jobs import Appointment, Fulfillment, payment
from sp_services.domain.marketplaces import US
from sp_services.domain.recurrence import Availability, Recurrence
from sp_services.domain.resources import ReservationType
from sp_services.persistence import tables as t
from sp_services.persistence.db import Database
from sp_services.persistence.repositories.jobs import JobRepository
from sp_services.services import capacity
from sp_services.services import jobs as job_service
from sp_services.services import operator as op

DEMO_KEY = "demo"
FIRST_NAMES = ["Ava", "Liam", "Noah", "Mia", "Zoe", "Omar", "Ivy", "Leo", "Nora", "Eli", "Ruth", "Sam"]
LAST_NAMES = ["Garcia", "Smith", "Chen", "Patel", "Okafor", "Kim", "Novak", "Silva", "Brown", "Ali"]
STREETS = ["Pine St", "Maple Ave", "2nd Ave", "Lake Dr", "Cedar Rd", "Market St", "Union St"]
WEST, EAST = "America/Los_Angeles", "America/New_York"
WEEKDAYS, WEEKEND = frozenset(range(5)), frozenset({5, 6})


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


@dataclass(frozen=True)
class DemoStore:
    store_id: str
    name: str
    timezone: str
    city: str
    state: str
    # Where demo appointments go, store-local: days of the week (Monday = 0) and start hours. They
    # must lie where the store has capacity (its published schedule, or working hours without one).
    open_days: frozenset[int] = WEEKDAYS
    start_hours: tuple[int, ...] = (9, 14)


@dataclass(frozen=True)
class DemoTechnician:
    skills: tuple[str, ...]
    background_check: BackgroundCheck = BackgroundCheck.PASSED


@dataclass(frozen=True)
class DemoJob:
    """One demo job: its status, store and offering (indexes), and how it was booked."""

    status: JobStatus
    store: int = 0
    offering: int = 0
    when: str | None = None  # the appointment: "past" or "future" (None: never booked)
    technician: bool = False  # a technician qualified for the job is assigned
    fulfillment: str = ""  # recorded: "eta" (arrival estimate), "time" (work time, technicians), "full" (both)


def _jobs(*groups: tuple[int, DemoJob]) -> list[DemoJob]:
    return [job for count, job in groups for _ in range(count)]


PS, NS, DONE = JobStatus.PENDING_SCHEDULE, JobStatus.NOT_SERVICED, JobStatus.COMPLETED
CANCELLED, HOLD = JobStatus.CANCELLED, JobStatus.HOLD

# The main seller: store 0 is Seattle (the demo store), 1 Brooklyn; offering 0 is the demo ASIN.
MAIN_JOBS = _jobs(
    (15, DemoJob(PS)),
    (2, DemoJob(PS, offering=1)),
    (1, DemoJob(PS, offering=2)),
    (1, DemoJob(PS, store=1)),
    (1, DemoJob(PS, store=1, offering=1)),
    # The appointment is over and the job is still open: ready to be closed. Completing needs the
    # fulfillment time, so the ones without it show the 422 until setAppointmentFulfillmentData.
    (2, DemoJob(NS, when="past", technician=True, fulfillment="full")),
    (1, DemoJob(NS, offering=1, when="past", technician=True, fulfillment="time")),
    (1, DemoJob(NS, when="past", technician=True, fulfillment="eta")),
    (1, DemoJob(NS, offering=2, when="past", technician=True)),
    (1, DemoJob(NS, when="past")),
    (1, DemoJob(NS, store=1, when="past")),
    (3, DemoJob(NS, when="future", technician=True)),
    (2, DemoJob(NS, when="future")),
    (1, DemoJob(NS, offering=1, when="future", technician=True)),
    (1, DemoJob(NS, offering=2, when="future")),
    (2, DemoJob(NS, store=1, when="future")),
    (4, DemoJob(DONE, when="past", technician=True, fulfillment="full")),
    (2, DemoJob(DONE, offering=1, when="past", technician=True, fulfillment="full")),
    (1, DemoJob(DONE, offering=2, when="past", technician=True, fulfillment="time")),
    (3, DemoJob(DONE, when="past", fulfillment="time")),
    (2, DemoJob(DONE, store=1, offering=1, when="past", fulfillment="time")),
    (2, DemoJob(CANCELLED, when="future", technician=True)),
    (1, DemoJob(CANCELLED, offering=1, when="future")),
    (1, DemoJob(CANCELLED, store=1, when="future")),
    (2, DemoJob(CANCELLED)),
    (1, DemoJob(CANCELLED, offering=1)),
    (1, DemoJob(CANCELLED, store=1, offering=2)),
    (1, DemoJob(HOLD, when="future")),  # held after booking: the appointment was cancelled
    (1, DemoJob(HOLD, offering=2)),
    (1, DemoJob(JobStatus.PAYMENT_DECLINED)),
    (1, DemoJob(JobStatus.NOT_FULFILLABLE, offering=1)),
)
OTHER_JOBS = _jobs(
    (3, DemoJob(PS)),
    (1, DemoJob(PS, store=1)),
    (1, DemoJob(NS, when="past", technician=True, fulfillment="full")),
    (1, DemoJob(NS, store=1, when="past")),
    (1, DemoJob(NS, when="future", technician=True)),
    (1, DemoJob(NS, store=1, when="future", technician=True)),
    (2, DemoJob(DONE, when="past", technician=True, fulfillment="full")),
    (1, DemoJob(CANCELLED)),
    (1, DemoJob(HOLD)),
)


class _Calendar:
    """Appointment starts for one store: on its open days at its start hours, store-local, each
    start used once, so a store never has two demo appointments at a time (and is never booked
    past its capacity). Past starts lie in the 14 days before today (the published schedules
    reach back that far), future ones in the 13 days after it (inside the default booking
    horizon); today is left alone, so "past" and "future" hold wherever in the day ``now`` is."""

    def __init__(self, now: datetime, store: DemoStore) -> None:
        today = now.astimezone(ZoneInfo(store.timezone)).date()

        def starts(days: range) -> list[datetime]:
            return [
                _local(now, store.timezone, d, hour).astimezone(UTC)
                for d in days
                if (today + timedelta(days=d)).weekday() in store.open_days
                for hour in store.start_hours
            ]

        self.past = starts(range(-1, -15, -1))  # the most recent first
        self.future = starts(range(1, 14))
        self.upcoming = tuple(self.future)  # for buyers' preferred times (not booked)

    def take(self, when: str) -> datetime:
        return (self.past if when == "past" else self.future).pop(0)


class _Crew:
    """Picks a technician for a booking: qualified for the job (technician_failures finds nothing)
    and not already on another appointment at that time; takes turns among those."""

    def __init__(self, technicians: list[Technician]) -> None:
        self.technicians = technicians
        self.busy: dict[str, list[tuple[datetime, datetime]]] = {t.technician_id: [] for t in technicians}
        self.turn = 0

    def pick(self, needs: JobNeeds, start: datetime, end: datetime) -> str:
        for i in range(len(self.technicians)):
            tech = self.technicians[(self.turn + i) % len(self.technicians)]
            busy = any(s < end and start < e for s, e in self.busy[tech.technician_id])
            if not busy and not technician_failures([tech], needs):
                self.turn += i + 1
                self.busy[tech.technician_id].append((start, end))
                return tech.technician_id
        raise RuntimeError(f"demo data: no technician free for {needs} at {start}")


def _fulfillment(appointment: Appointment, kind: str) -> Fulfillment:
    """What the technician recorded: the arrival estimate (a half hour around the start) for "eta"
    and "full"; the work time (the appointment's own window) and who did it for "time" and "full"."""
    eta_start = eta_end = start = end = None
    resources: tuple[str, ...] = ()
    if kind in ("eta", "full"):
        eta_start = appointment.start_time - timedelta(minutes=15)
        eta_end = appointment.start_time + timedelta(minutes=15)
    if kind in ("time", "full"):
        start, end = appointment.start_time, appointment.end_time
        resources = tuple(t.technician_id for t in appointment.technicians)
    return Fulfillment(start=start, end=end, eta_start=eta_start, eta_end=eta_end, resources=resources)


def _seller(
    session: Session,
    rng: random.Random,
    *,
    seller_id: str,
    name: str,
    now: datetime,
    stores: list[DemoStore],
    offerings: list[tuple[str, str, int, list[str], str]],
    technicians: list[DemoTechnician],
    jobs: list[DemoJob],
    order_prefix: int,
) -> dict[str, Any]:
    op.create_seller(session, name=name, marketplace_ids=[US], seller_id=seller_id, now=now)
    app = op.create_application(session, name=f"{name} integration", roles=["ProfessionalServices"], now=now)
    refresh = op.authorize(session, seller_id=seller_id, client_id=app.client_id, now=now)
    store_ids = [s.store_id for s in stores]
    for store in stores:
        op.create_store(
            session,
            now=now,
            store=Store(
                store_id=store.store_id,
                seller_id=seller_id,
                marketplace_id=US,
                name=store.name,
                timezone=store.timezone,
                postal_codes=(),
                service_location_types=(ServiceLocationType.IN_HOME, ServiceLocationType.IN_STORE),
            ),
        )
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
    techs = []
    for i, tech_spec in enumerate(technicians):
        tech = op.create_technician(
            session,
            now=now,
            technician=Technician(
                technician_id=f"{seller_id[:6]}T{i + 1:03d}",
                seller_id=seller_id,
                name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                skills=tech_spec.skills,
                store_ids=tuple(store_ids),
                service_location_types=(ServiceLocationType.IN_HOME,),
                background_check=tech_spec.background_check,
            ),
        )
        techs.append(tech)

    calendars = [_Calendar(now, store) for store in stores]
    crew = _Crew(techs)
    plan = list(jobs)
    rng.shuffle(plan)  # statuses interleave in creation order, as they would in a real account
    job_ids: dict[str, list[str]] = {s.value: [] for s in JobStatus}
    for n, spec in enumerate(plan):
        store, calendar = stores[spec.store], calendars[spec.store]
        asin, title, duration, skills, _stype = offerings[spec.offering]
        created = (
            now
            - timedelta(days=30)
            + timedelta(days=29) * n / len(plan)
            - timedelta(hours=rng.randint(0, 12), minutes=rng.randint(0, 59))
        )
        start = calendar.take(spec.when) if spec.when else None
        if start is not None and start < now:
            created = min(created, start - timedelta(days=rng.randint(2, 6), hours=rng.randint(0, 12)))
        technician_ids: tuple[str, ...] = ()
        if start is not None and spec.technician:
            needs = JobNeeds(seller_id, store.store_id, tuple(skills), ServiceLocationType.IN_HOME.value)
            technician_ids = (crew.pick(needs, start, start + timedelta(minutes=duration)),)
        buyer = _buyer(rng, order_prefix * 1000 + n)
        preferred = ((calendar.upcoming[(n * 5) % len(calendar.upcoming)], duration),) if spec.status is PS else ()
        order_id = f"{order_prefix:03d}-{1000000 + n:07d}-{rng.randint(1000000, 9999999):07d}"
        _, created_jobs = op.create_order(
            session,
            now=created,
            order=op.NewOrder(
                seller_id=seller_id,
                marketplace_id=US,
                store_id=store.store_id,
                service_order_id=order_id,
                buyer=buyer,
                service_location=_location(rng, store.city, store.state, f"{98100 + n % 90}", buyer["name"]),
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
                        appointment_start=start,
                        technician_ids=technician_ids,
                        created_at=created,
                    ),
                ),
            ),
        )
        job = created_jobs[0]
        job_id = job.service_job_id
        if spec.fulfillment:
            appointment = job.appointments[0]
            # Recorded by the technician: the ETA before the visit, the work time after it.
            recorded_at = (
                appointment.start_time - timedelta(minutes=30) if spec.fulfillment == "eta" else appointment.end_time
            )
            JobRepository(session).set_fulfillment(
                appointment.appointment_id, _fulfillment(appointment, spec.fulfillment), now=recorded_at
            )
        if spec.status is DONE:
            assert job.appointments, "a completed demo job needs a past appointment"
            job_service.complete_job(
                session, seller_id=seller_id, job_id=job_id, now=job.appointments[0].end_time + timedelta(minutes=30)
            )
        elif spec.status is CANCELLED:
            job_service.cancel_job(
                session, seller_id=seller_id, job_id=job_id, reason_code="S3", now=created + timedelta(hours=1)
            )
        elif spec.status in (HOLD, JobStatus.PAYMENT_DECLINED, JobStatus.NOT_FULFILLABLE):
            job_service.set_marketplace_status(
                session, job_id=job_id, action=f"mark_{spec.status.value.lower()}", now=created + timedelta(hours=1)
            )
        job_ids[spec.status.value].append(job_id)
    return {
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "refresh_token": refresh,
        "seller_id": seller_id,
        "store_ids": store_ids,
        "technicians": techs,
        "technician_ids": [t.technician_id for t in techs],
        "job_ids": job_ids,
    }


def _local(now: datetime, tz: str, days: int, hour: int, minute: int = 0) -> datetime:
    """``days`` from today at hour:minute, store-local."""
    day = now.astimezone(ZoneInfo(tz)).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tz))


def _publish_capacity(session: Session, seller: dict[str, Any], *, now: datetime) -> None:
    """Schedules that make slots interesting: weekday crews with a lunch break in Seattle, a weekend-only
    Brooklyn store, technician hours, and one technician's vacation next week.

    The demo appointments (SEATTLE, BROOKLYN) start at 09:00 and 14:00 on weekdays in Seattle and
    at 10:00 and 13:00 on weekends in Brooklyn, three hours at most, one at a time per store, and
    technicians only take Seattle appointments: all of it inside what is published here."""
    seattle, brooklyn = seller["store_ids"]
    horizon = now + timedelta(days=120)

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

    publish(seattle, [daily(WEST, (8, 0), (18, 0), WEEKDAYS, 3), daily(WEST, (9, 0), (13, 0), frozenset({5}), 1)])
    publish(brooklyn, [daily(EAST, (10, 0), (16, 0), WEEKEND, 2)])
    for tech_id in seller["technician_ids"]:
        publish(tech_id, [daily(WEST, (8, 0), (17, 0), WEEKDAYS, 1)])
    capacity.create_reservation(
        session,
        seller_id=seller["seller_id"],
        resource_id=seattle,
        marketplace_id=US,
        type=ReservationType.BREAK,
        availability=daily(WEST, (12, 0), (13, 0), WEEKDAYS, 1),
        now=now,
    )
    # A reservation must fit AVAILABLE at every minute, so a vacation covers working hours: next
    # Monday to Wednesday, for the technician whose background check is pending (never assigned).
    pending = next(t for t in seller["technicians"] if t.background_check is not BackgroundCheck.PASSED)
    monday = 7 - now.astimezone(ZoneInfo(WEST)).weekday()
    capacity.create_reservation(
        session,
        seller_id=seller["seller_id"],
        resource_id=pending.technician_id,
        marketplace_id=US,
        type=ReservationType.VACATION,
        availability=Availability(
            _local(now, WEST, monday, 8),
            _local(now, WEST, monday, 17),
            1,
            Recurrence(_local(now, WEST, monday + 2, 8), frozenset(), frozenset()),
        ),
        now=now,
    )


def _qualification(
    seller: dict[str, Any], offering: tuple[str, str, int, list[str], str], store_id: str
) -> tuple[list[str], dict[str, list[str]]]:
    """The seller's technicians qualified for ``offering`` in ``store_id`` (for an IN_HOME job), and
    the others with the RESOURCES_* failure codes assigning them would give."""
    needs = JobNeeds(seller["seller_id"], store_id, tuple(offering[3]), ServiceLocationType.IN_HOME.value)
    qualified: list[str] = []
    others: dict[str, list[str]] = {}
    for tech in seller["technicians"]:
        failures = technician_failures([tech], needs)
        if failures:
            others[tech.technician_id] = [f.code for f in failures]
        else:
            qualified.append(tech.technician_id)
    return qualified, others


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
        main_offerings = [
            ("B0DEMOTV01", "TV Wall Mounting", 120, ["TV_MOUNTING"], "default"),
            ("B0DEMOWM01", "Washer Installation", 90, ["APPLIANCE_INSTALL"], "heavybulky"),
            ("B0DEMOCL01", "Monthly Home Cleaning", 180, ["CLEANING"], "recurring"),
        ]
        everything = ("APPLIANCE_INSTALL", "CLEANING", "TV_MOUNTING")
        main = _seller(
            session,
            rng,
            seller_id="A1DEMOSELLERUS",
            name="Evergreen Home Services",
            now=now,
            stores=[
                DemoStore("evergreen-seattle", "Seattle Installations", WEST, "Seattle", "WA", WEEKDAYS, (9, 14)),
                DemoStore("evergreen-brooklyn", "Brooklyn Repairs", EAST, "Brooklyn", "NY", WEEKEND, (10, 13)),
            ],
            offerings=main_offerings,
            technicians=[
                DemoTechnician(everything),
                DemoTechnician(("APPLIANCE_INSTALL", "TV_MOUNTING")),
                DemoTechnician(("CLEANING", "TV_MOUNTING")),
                DemoTechnician(("TV_MOUNTING",)),
                DemoTechnician(everything),
                DemoTechnician(("APPLIANCE_INSTALL",)),  # no TV_MOUNTING: not for the demo ASIN
                DemoTechnician(everything, BackgroundCheck.PENDING),  # not assignable until it passes
            ],
            jobs=MAIN_JOBS,
            order_prefix=111,
        )
        other = _seller(
            session,
            rng,
            seller_id="A2OTHERSELLER",
            name="Bay Appliance Pros",
            now=now,
            # No published schedule: these stores book within working hours, one job at a time.
            stores=[
                DemoStore("bayapp-oakland", "Oakland", WEST, "Oakland", "CA"),
                DemoStore("bayapp-sanjose", "San Jose", WEST, "San Jose", "CA"),
            ],
            offerings=[("B0DEMOAP01", "Dishwasher Installation", 120, ["APPLIANCE_INSTALL"], "default")],
            technicians=[
                DemoTechnician(("APPLIANCE_INSTALL",)),
                DemoTechnician(("APPLIANCE_INSTALL",)),
                DemoTechnician(("APPLIANCE_INSTALL",), BackgroundCheck.PENDING),
            ],
            jobs=OTHER_JOBS,
            order_prefix=222,
        )
        _publish_capacity(session, main, now=now)
        no_role = op.create_application(
            session, name="Reporting app (no Professional Services role)", roles=["Inventory"], now=now
        )
        no_role_refresh = op.authorize(session, seller_id=main["seller_id"], client_id=no_role.client_id, now=now)
        store_id, (asin, *_) = main["store_ids"][0], main_offerings[0]
        qualified, unqualified = _qualification(main, main_offerings[0], store_id)
        info = {
            **{k: main[k] for k in ("client_id", "client_secret", "refresh_token", "seller_id")},
            "marketplace_id": US,
            "store_id": store_id,
            "store_ids": main["store_ids"],
            "asin": asin,
            # Qualified for ``asin`` in ``store_id``; the seller's other technicians and why not.
            "technician_ids": qualified,
            "unqualified_technicians": unqualified,
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
