"""The demo world as data: two sellers with their apps, stores, schedules, offerings, technicians,
and the jobs to make (how many of each kind, and what happens to them).

Nothing here runs: ``world.py`` opens the sellers' accounts and publishes their schedules,
``history.py`` takes the jobs through their lives with the real services.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from sp_services.domain.enums import BackgroundCheck, JobStatus, ServiceType

SEED = 20261128  # the same names, addresses and order of jobs on every fresh load
FIRST_NAMES = ("Ava", "Liam", "Noah", "Mia", "Zoe", "Omar", "Ivy", "Leo", "Nora", "Eli", "Ruth", "Sam")
LAST_NAMES = ("Garcia", "Smith", "Chen", "Patel", "Okafor", "Kim", "Novak", "Silva", "Brown", "Ali")
STREETS = ("Pine St", "Maple Ave", "2nd Ave", "Lake Dr", "Cedar Rd", "Market St", "Union St")
WEST, EAST = "America/Los_Angeles", "America/New_York"
WEEKDAYS, WEEKEND, SATURDAY = frozenset(range(5)), frozenset({5, 6}), frozenset({5})

# The sellers open their accounts (and publish their schedules) this many days before the demo's
# "now"; their jobs are created over the HISTORY_DAYS before it.
OPENED_DAYS_AGO = 35
HISTORY_DAYS = 30
# Published schedules start this many days back (past appointments lie in them) and recur for
# SCHEDULE_DAYS_AHEAD days after "now".
SCHEDULE_DAYS_BACK = 14
SCHEDULE_DAYS_AHEAD = 120
# Appointments to come lie in the days after today up to this one: inside the default booking
# horizon of 14 days (Store.booking_horizon_days), so each could be booked before "now".
APPOINTMENT_DAYS_AHEAD = 13


@dataclass(frozen=True)
class WeeklyHours:
    """Local hours on some days of every week (Monday = 0): ``start`` to ``end`` o'clock."""

    days: frozenset[int]
    start: int
    end: int
    capacity: int = 1


@dataclass(frozen=True)
class DemoApp:
    name: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class DemoStore:
    store_id: str
    name: str
    timezone: str
    city: str
    state: str
    # Where demo appointments go, store-local: days of the week and start hours. Each must be a
    # listed slot: inside the schedule (or the working hours without one) and off its breaks.
    open_days: frozenset[int] = WEEKDAYS
    start_hours: tuple[int, ...] = (9, 14)
    # None published: the store books in NON_REAL_TIME working hours (services/slots.py).
    schedule: tuple[WeeklyHours, ...] = ()
    breaks: tuple[WeeklyHours, ...] = ()  # BREAK reservations on the schedule


@dataclass(frozen=True)
class DemoOffering:
    asin: str
    title: str
    duration_minutes: int
    required_skills: tuple[str, ...]
    service_type: ServiceType
    price: Decimal


@dataclass(frozen=True)
class DemoTechnician:
    skills: tuple[str, ...]
    background_check: BackgroundCheck = BackgroundCheck.PASSED
    vacation: bool = False  # off next Monday to Wednesday (a VACATION over its working hours)


class When(Enum):
    """Where a job's appointment lies: before the demo's "now", or after it."""

    PAST = "past"
    FUTURE = "future"


@dataclass(frozen=True)
class DemoJob:
    """``count`` jobs alike: their final status, store and offering (None: the seller's first), and
    what happened to them on the way there."""

    count: int
    status: JobStatus
    store: DemoStore | None = None
    offering: DemoOffering | None = None
    when: When | None = None  # the appointment (None: never booked)
    technician: bool = False  # a technician qualified for the job was assigned at booking
    eta: bool = False  # the arrival estimate was recorded, before the visit
    work: bool = False  # the work time (and who did it) was recorded, after the visit


@dataclass(frozen=True)
class DemoSeller:
    seller_id: str
    name: str
    app: DemoApp
    stores: tuple[DemoStore, ...]
    offerings: tuple[DemoOffering, ...]
    technicians: tuple[DemoTechnician, ...]
    jobs: tuple[DemoJob, ...]
    order_prefix: int
    # Published for every technician, in the first store's time zone (empty: none published, and
    # then the technicians are not capacity-managed).
    technician_hours: tuple[WeeklyHours, ...] = ()


PS, NS, DONE = JobStatus.PENDING_SCHEDULE, JobStatus.NOT_SERVICED, JobStatus.COMPLETED
CANCELLED, HOLD = JobStatus.CANCELLED, JobStatus.HOLD
PAST, FUTURE = When.PAST, When.FUTURE
PRICE = Decimal("129.00")
EVERYTHING = ("APPLIANCE_INSTALL", "CLEANING", "TV_MOUNTING")

# The main seller. Appointments start at 09:00 and 14:00 on weekdays in Seattle (three hours at
# most: off the lunch break, inside the technicians' hours) and at 10:00 and 13:00 on weekends in
# Brooklyn; technicians only take Seattle appointments.
SEATTLE = DemoStore(
    "evergreen-seattle",
    "Seattle Installations",
    WEST,
    "Seattle",
    "WA",
    open_days=WEEKDAYS,
    start_hours=(9, 14),
    schedule=(WeeklyHours(WEEKDAYS, 8, 18, capacity=3), WeeklyHours(SATURDAY, 9, 13)),
    breaks=(WeeklyHours(WEEKDAYS, 12, 13),),
)
BROOKLYN = DemoStore(
    "evergreen-brooklyn",
    "Brooklyn Repairs",
    EAST,
    "Brooklyn",
    "NY",
    open_days=WEEKEND,
    start_hours=(10, 13),
    schedule=(WeeklyHours(WEEKEND, 10, 16, capacity=2),),
)
TV_MOUNTING = DemoOffering("B0DEMOTV01", "TV Wall Mounting", 120, ("TV_MOUNTING",), ServiceType.DEFAULT, PRICE)
WASHER = DemoOffering("B0DEMOWM01", "Washer Installation", 90, ("APPLIANCE_INSTALL",), ServiceType.HEAVY_BULKY, PRICE)
CLEANING = DemoOffering("B0DEMOCL01", "Monthly Home Cleaning", 180, ("CLEANING",), ServiceType.RECURRING, PRICE)

MAIN = DemoSeller(
    seller_id="A1DEMOSELLERUS",
    name="Evergreen Home Services",
    app=DemoApp("Evergreen Home Services integration", ("ProfessionalServices",)),
    stores=(SEATTLE, BROOKLYN),  # the first is the demo store
    offerings=(TV_MOUNTING, WASHER, CLEANING),  # the first is the demo ASIN
    technicians=(
        DemoTechnician(EVERYTHING),
        DemoTechnician(("APPLIANCE_INSTALL", "TV_MOUNTING")),
        DemoTechnician(("CLEANING", "TV_MOUNTING")),
        DemoTechnician(("TV_MOUNTING",)),
        DemoTechnician(EVERYTHING),
        DemoTechnician(("APPLIANCE_INSTALL",)),  # no TV_MOUNTING: not for the demo ASIN
        # Not assignable until the check passes; on vacation next week.
        DemoTechnician(EVERYTHING, BackgroundCheck.PENDING, vacation=True),
    ),
    technician_hours=(WeeklyHours(WEEKDAYS, 8, 17),),
    order_prefix=111,
    jobs=(
        DemoJob(15, PS),
        DemoJob(2, PS, offering=WASHER),
        DemoJob(1, PS, offering=CLEANING),
        DemoJob(1, PS, store=BROOKLYN),
        DemoJob(1, PS, store=BROOKLYN, offering=WASHER),
        # The appointment is over and the job is still open: ready to be closed. Completing needs
        # the work time, so the ones without it show the 422 until setAppointmentFulfillmentData.
        DemoJob(2, NS, when=PAST, technician=True, eta=True, work=True),
        DemoJob(1, NS, offering=WASHER, when=PAST, technician=True, work=True),
        DemoJob(1, NS, when=PAST, technician=True, eta=True),
        DemoJob(1, NS, offering=CLEANING, when=PAST, technician=True),
        DemoJob(1, NS, when=PAST),
        DemoJob(1, NS, store=BROOKLYN, when=PAST),
        DemoJob(3, NS, when=FUTURE, technician=True),
        DemoJob(2, NS, when=FUTURE),
        DemoJob(1, NS, offering=WASHER, when=FUTURE, technician=True),
        DemoJob(1, NS, offering=CLEANING, when=FUTURE),
        DemoJob(2, NS, store=BROOKLYN, when=FUTURE),
        DemoJob(4, DONE, when=PAST, technician=True, eta=True, work=True),
        DemoJob(2, DONE, offering=WASHER, when=PAST, technician=True, eta=True, work=True),
        DemoJob(1, DONE, offering=CLEANING, when=PAST, technician=True, work=True),
        DemoJob(3, DONE, when=PAST, work=True),
        DemoJob(2, DONE, store=BROOKLYN, offering=WASHER, when=PAST, work=True),
        DemoJob(2, CANCELLED, when=FUTURE, technician=True),
        DemoJob(1, CANCELLED, offering=WASHER, when=FUTURE),
        DemoJob(1, CANCELLED, store=BROOKLYN, when=FUTURE),
        DemoJob(2, CANCELLED),
        DemoJob(1, CANCELLED, offering=WASHER),
        DemoJob(1, CANCELLED, store=BROOKLYN, offering=CLEANING),
        DemoJob(1, HOLD, when=FUTURE),  # held after booking: the appointment was cancelled
        DemoJob(1, HOLD, offering=CLEANING),
        DemoJob(1, JobStatus.PAYMENT_DECLINED),
        DemoJob(1, JobStatus.NOT_FULFILLABLE, offering=WASHER),
    ),
)

# Another seller, for isolation: its stores publish no schedule, so they book within working hours
# one job at a time; its technicians publish no hours.
OAKLAND = DemoStore("bayapp-oakland", "Oakland", WEST, "Oakland", "CA")
SAN_JOSE = DemoStore("bayapp-sanjose", "San Jose", WEST, "San Jose", "CA")
DISHWASHER = DemoOffering(
    "B0DEMOAP01", "Dishwasher Installation", 120, ("APPLIANCE_INSTALL",), ServiceType.DEFAULT, PRICE
)

OTHER = DemoSeller(
    seller_id="A2OTHERSELLER",
    name="Bay Appliance Pros",
    app=DemoApp("Bay Appliance Pros integration", ("ProfessionalServices",)),
    stores=(OAKLAND, SAN_JOSE),
    offerings=(DISHWASHER,),
    technicians=(
        DemoTechnician(("APPLIANCE_INSTALL",)),
        DemoTechnician(("APPLIANCE_INSTALL",)),
        DemoTechnician(("APPLIANCE_INSTALL",), BackgroundCheck.PENDING),
    ),
    order_prefix=222,
    jobs=(
        DemoJob(3, PS),
        DemoJob(1, PS, store=SAN_JOSE),
        DemoJob(1, NS, when=PAST, technician=True, eta=True, work=True),
        DemoJob(1, NS, store=SAN_JOSE, when=PAST),
        DemoJob(1, NS, when=FUTURE, technician=True),
        DemoJob(1, NS, store=SAN_JOSE, when=FUTURE, technician=True),
        DemoJob(2, DONE, when=PAST, technician=True, eta=True, work=True),
        DemoJob(1, CANCELLED),
        DemoJob(1, HOLD),
    ),
)

# Authorized by the main seller, without the Professional Services role: every call is refused.
NO_ROLE_APP = DemoApp("Reporting app (no Professional Services role)", ("Inventory",))
