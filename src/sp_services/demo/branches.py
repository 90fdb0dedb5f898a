"""The demo seller's simulated branches: stores of their own, away from the fixed demo stores, each
with its technicians and the capacity they publish, made through the operator and capacity services.

A branch books as many appointments at a time as it has *crews* (technicians with every skill),
so the dispatcher can always staff what was booked (``visits.py``). Stores take bookings on
weekdays 08:00-12:00 and 13:00-18:00 and on Saturdays 09:00-14:00 (half the crews), store-local;
technicians work weekdays 08:00-18:00 with a lunch BREAK reservation, some also on Saturdays, and
each crew takes a week's VACATION a quarter (the store's capacity drops by one that week).
Bookings need 30 hours' notice: everything on a day is booked by 18:00 the day before, when the
dispatcher assigns technicians.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sp_services.domain.catalog import Store, Technician
from sp_services.domain.enums import ServiceLocationType
from sp_services.domain.marketplaces import US
from sp_services.domain.recurrence import Availability, Recurrence
from sp_services.domain.resources import ReservationType
from sp_services.persistence.repositories.catalog import CatalogRepository
from sp_services.services import operator as op

from .fixtures import EVERYTHING, FIRST_NAMES, LAST_NAMES, MAIN, DemoStore
from .state import SimulationState
from .world import Publisher

STORE_PREFIX = "evergreen-branch-"
# City, state, time zone and the first three digits of its postal codes.
CITIES = (
    ("Portland", "OR", "America/Los_Angeles", "972"),
    ("Denver", "CO", "America/Denver", "802"),
    ("Austin", "TX", "America/Chicago", "787"),
    ("Atlanta", "GA", "America/New_York", "303"),
    ("Phoenix", "AZ", "America/Phoenix", "850"),
    ("Minneapolis", "MN", "America/Chicago", "554"),
)
SPECIALIST = ("CLEANING", "TV_MOUNTING")  # the third technician of a branch: no appliance work
NOTICE_MINUTES = 30 * 60
DISPATCH_HOUR = 18  # the day before, store-local
WEEKDAYS, SATURDAY = frozenset(range(5)), frozenset({5})
MORNING, AFTERNOON, SATURDAY_HOURS, LUNCH = (8, 12), (13, 18), (9, 14), (12, 13)
WORKDAY = (8, 18)
MIN_TECHNICIANS = 2
VACATION_ROTA_WEEKS = 13  # each crew is off one week in thirteen (a quarter)
CHUNK_DAYS = 360  # a reservation may reach at most 366 days past its start (docs/design.md §4)


@dataclass(frozen=True)
class Branch:
    """One simulated store of the demo seller and its technicians."""

    store: Store
    place: DemoStore  # city and state, for buyers' addresses
    postal_prefix: str
    technicians: tuple[Technician, ...]

    @property
    def crews(self) -> tuple[Technician, ...]:
        """The technicians who can do every job (sorted by id): the store's bookable capacity."""
        return tuple(t for t in self.technicians if set(EVERYTHING) <= set(t.skills))


def technician_counts(stores: int, technicians: int) -> list[int]:
    """``technicians`` spread over ``stores`` (the first ones get the remainder)."""
    if stores < 1 or technicians < MIN_TECHNICIANS * stores:
        raise ValueError(f"need at least one store and {MIN_TECHNICIANS} technicians per store")
    return [technicians // stores + (1 if i < technicians % stores else 0) for i in range(stores)]


def _place(i: int) -> tuple[DemoStore, str]:
    city, state, tz, postal = CITIES[i % len(CITIES)]
    name = f"{city} Home Services" + (f" {i // len(CITIES) + 1}" if i >= len(CITIES) else "")
    return DemoStore(f"{STORE_PREFIX}{i + 1:03d}", name, tz, city, state), postal


def technician_id(store: int, k: int) -> str:
    return f"{MAIN.seller_id[:6]}B{store + 1:03d}T{k + 1:02d}"


def open_branches(session: Session, *, counts: Sequence[int], rng: random.Random, now: datetime) -> list[Branch]:
    """The branches, with ``counts[i]`` technicians at least in the i-th; what exists is kept (a
    store never loses a technician), what is missing is created at ``now``."""
    catalog = CatalogRepository(session)
    existing: dict[str, dict[str, Technician]] = {}
    for tech in catalog.technicians_of(MAIN.seller_id):
        if len(tech.store_ids) == 1:
            existing.setdefault(tech.store_ids[0], {})[tech.technician_id] = tech
    branches = []
    for i, wanted in enumerate(counts):
        place, postal = _place(i)
        store = catalog.get_store(place.store_id) or op.create_store(session, store=_new_store(place, postal), now=now)
        technicians = existing.get(store.store_id, {})
        for k in range(wanted):
            if technician_id(i, k) not in technicians:
                made = op.create_technician(session, technician=_new_tech(i, k, rng), now=now)
                technicians[made.technician_id] = made
        ordered = tuple(sorted(technicians.values(), key=lambda t: t.technician_id))
        branches.append(Branch(store, place, postal, ordered))
    return branches


def _new_store(place: DemoStore, postal: str) -> op.NewStore:
    return op.NewStore(
        seller_id=MAIN.seller_id,
        marketplace_id=US,
        name=place.name,
        store_id=place.store_id,
        timezone=place.timezone,
        postal_codes=tuple(f"{postal}{n:02d}" for n in range(1, 21)),
        service_location_types=(ServiceLocationType.IN_HOME,),
        minimum_notice_minutes=NOTICE_MINUTES,
    )


def _new_tech(store: int, k: int, rng: random.Random) -> op.NewTechnician:
    return op.NewTechnician(
        seller_id=MAIN.seller_id,
        name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        technician_id=technician_id(store, k),
        skills=SPECIALIST if k == 2 else EVERYTHING,
        store_ids=(_place(store)[0].store_id,),
        service_location_types=(ServiceLocationType.IN_HOME,),
    )


# ---- capacity ----------------------------------------------------------------------------------


def _at(day: date, hour: int, tz: str) -> datetime:
    return datetime.combine(day, time(hour), ZoneInfo(tz))


def _weekly(
    tz: str, first: date, stop: date, days: frozenset[int], hours: tuple[int, int], capacity: int = 1
) -> Availability:
    """``hours`` on ``days`` of every week from ``first`` up to (not including) ``stop``, local time."""
    last_start = _at(stop, 0, tz) - timedelta(minutes=1)
    return Availability(_at(first, hours[0], tz), _at(first, hours[1], tz), capacity, Recurrence(last_start, days))


def _local_day(instant: datetime, tz: str) -> date:
    return instant.astimezone(ZoneInfo(tz)).date()


def _saturday_crews(crews: int) -> int:
    return math.ceil(crews / 2)


def publish(
    session: Session, branches: Sequence[Branch], state: SimulationState, *, until: datetime, now: datetime
) -> None:
    """Publish at ``now`` what the branches need up to ``until``: store schedules (a new segment from
    ``now`` where the number of crews changed), technicians' hours and breaks, and the vacations of
    the days not published before. Earlier runs' capacity is kept as it was, so past days keep
    their past capacity, and what reaches further than ``until`` already is kept too."""
    publisher = Publisher(session, MAIN.seller_id, now)
    for branch in branches:
        store_id, tz = branch.store.store_id, branch.store.timezone
        done = state.published_until.get(store_id)
        stop = max(_local_day(until, tz) + timedelta(days=1), _local_day(done, tz) if done else date.min)
        segments = state.crews.setdefault(store_id, [])
        if not segments or segments[-1][1] != len(branch.crews):
            segments.append((now, len(branch.crews)))
        publisher.schedule(store_id, _store_records(tz, segments, stop))
        saturday = {t.technician_id for t in branch.crews[: _saturday_crews(len(branch.crews))]}
        for tech in branch.technicians:
            joined = _local_day(state.joined.setdefault(tech.technician_id, now), tz)
            records = [_weekly(tz, joined, stop, WEEKDAYS, WORKDAY)]
            if tech.technician_id in saturday:
                records.append(_weekly(tz, joined, stop, SATURDAY, SATURDAY_HOURS))
            publisher.schedule(tech.technician_id, records)
            _publish_breaks(publisher, tech.technician_id, tz, state, first=joined, stop=stop)
        # Vacations go only where nothing can be booked yet: past the booking horizon.
        unbookable = _local_day(now, tz) + timedelta(days=branch.store.booking_horizon_days + 1)
        _publish_vacations(publisher, branch, first=max(unbookable, _local_day(done or now, tz)), stop=stop)
        state.published_until[store_id] = _at(stop, 0, tz)


def _store_records(tz: str, segments: Sequence[tuple[datetime, int]], stop: date) -> list[Availability]:
    """One weekday morning, weekday afternoon and Saturday record per crew segment."""
    records = []
    for n, (since, crews) in enumerate(segments):
        first = _local_day(since, tz)
        last = _local_day(segments[n + 1][0], tz) if n + 1 < len(segments) else stop
        if last <= first:
            continue  # replaced the same day: the later segment covers it
        records += [
            _weekly(tz, first, last, WEEKDAYS, MORNING, crews),
            _weekly(tz, first, last, WEEKDAYS, AFTERNOON, crews),
            _weekly(tz, first, last, SATURDAY, SATURDAY_HOURS, _saturday_crews(crews)),
        ]
    return records


def _publish_breaks(
    publisher: Publisher, technician_id: str, tz: str, state: SimulationState, *, first: date, stop: date
) -> None:
    """Lunch breaks from where the last run's ended up to ``stop``, in chunks a reservation may span."""
    done = state.published_until.get(technician_id)
    day = _local_day(done, tz) if done is not None else first
    while day < stop:
        chunk_stop = min(stop, day + timedelta(days=CHUNK_DAYS))
        publisher.reserve(technician_id, ReservationType.BREAK, _weekly(tz, day, chunk_stop, WEEKDAYS, LUNCH))
        day = chunk_stop
    state.published_until[technician_id] = _at(stop, 0, tz)


def _publish_vacations(publisher: Publisher, branch: Branch, *, first: date, stop: date) -> None:
    """The vacation rota from ``first`` up to ``stop``: every crew is off one week (Monday to Friday)
    a quarter, never two crews of a store in the same week, and the store takes one booking fewer
    at a time that week. A reservation must fit AVAILABLE, so it covers working hours only (two
    windows a day, around the lunch break)."""
    crews = branch.crews
    if len(crews) < MIN_TECHNICIANS:
        return
    tz, number = branch.store.timezone, int(branch.store.store_id.removeprefix(STORE_PREFIX))
    monday = first + timedelta(days=-first.weekday() % 7)
    while monday + timedelta(days=5) <= stop:
        turn = (monday.toordinal() // 7 + number) % VACATION_ROTA_WEEKS
        if turn < len(crews):
            for hours in (MORNING, AFTERNOON):
                week = _weekly(tz, monday, monday + timedelta(days=5), WEEKDAYS, hours)
                publisher.reserve(crews[turn].technician_id, ReservationType.VACATION, week)
                publisher.reserve(branch.store.store_id, ReservationType.VACATION, week)
        monday += timedelta(days=7)
