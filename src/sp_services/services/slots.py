"""Appointment slots: for an ASIN in a store, or for a job (docs/design.md §4)."""

from __future__ import annotations

import operator
from bisect import bisect_left
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from threading import Lock
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sp_services.domain.capacity import Run, combine, from_minute, sum_runs, to_minute
from sp_services.domain.catalog import Store
from sp_services.domain.errors import ErrorItem, InvalidInput, NotAuthorized
from sp_services.domain.jobs import TERMINAL, not_allowed
from sp_services.domain.recurrence import Availability, Recurrence, occurrences
from sp_services.domain.resources import store_resource
from sp_services.domain.slots import appointment_slots, grid_starts
from sp_services.domain.times import capacity_instant, parse_iso
from sp_services.persistence.repositories.catalog import CatalogRepository
from sp_services.services.capacity import capacity_views
from sp_services.services.jobs import Wording, load_job

MAX_RANGE = timedelta(days=90)
# Stores without a published schedule take requests in these working hours, one at a time
# (NON_REAL_TIME_SCHEDULING): Monday to Friday, 08:00-18:00 store-local.
WORKING_HOURS = ((8, 0), (18, 0))
WORKING_DAYS = frozenset(range(5))


@dataclass(frozen=True)
class SlotReport:
    start: datetime
    end: datetime
    real_time: bool
    slots: list[tuple[int, int, int]]


@dataclass(frozen=True)
class SlotMessages:
    """The two operations word the same range errors differently (sandbox cases)."""

    start_name: str
    end_name: str


ASIN_MESSAGES = SlotMessages("Range Start Time", "Range End Time")
JOB_MESSAGES = SlotMessages("Start Time", "End Time")


def _invalid(message: str, details: str = "") -> InvalidInput:
    return InvalidInput(ErrorItem("InvalidInput", message, details))


def resolve_window(
    start: str | None, end: str | None, *, store: Store, now: datetime, messages: SlotMessages
) -> tuple[datetime, datetime]:
    """The requested window, or the store's default (now + notice … now + horizon)."""
    parsed_start = parse_iso(start) if start is not None else None
    parsed_end = parse_iso(end) if end is not None else None
    if start is not None and (parsed_start is None or not capacity_instant(parsed_start[0])):
        raise _invalid(f"{messages.start_name} is not a valid ISO date/time object")
    if end is not None and (parsed_end is None or not capacity_instant(parsed_end[0])):
        raise _invalid(f"{messages.end_name} is not a valid ISO date/time object")
    if (parsed_start is None) != (parsed_end is None):
        raise InvalidInput.params(["startTime", "endTime"], "startTime and endTime go together.")
    if parsed_start is None or parsed_end is None:
        begin = now + timedelta(minutes=store.minimum_notice_minutes)
        return begin, now + timedelta(days=store.booking_horizon_days)
    if parsed_end[0] <= parsed_start[0]:
        raise _invalid(f"{messages.end_name} should be after {messages.start_name}")
    if parsed_end[0] - parsed_start[0] > MAX_RANGE:
        raise _invalid(f"{messages.end_name} is beyond the maximum range of 90 days", "endTime - startTime > 90 days")
    return parsed_start[0], parsed_end[0]


def working_hours(store: Store, window: tuple[int, int]) -> list[Run]:
    """What stands in for a schedule in a store without one: WORKING_HOURS on WORKING_DAYS, capacity 1."""
    tz = ZoneInfo(store.timezone)
    first = from_minute(window[0]).astimezone(tz) - timedelta(days=1)
    (h1, m1), (h2, m2) = WORKING_HOURS
    record = Availability(
        first.replace(hour=h1, minute=m1, second=0, microsecond=0),
        first.replace(hour=h2, minute=m2, second=0, microsecond=0),
        1,
        Recurrence(from_minute(window[1]) + timedelta(days=1), WORKING_DAYS, frozenset()),
    )
    return sum_runs(((s, e, 1) for s, e in occurrences(record, tz=tz, window=window)), window=window)


def slots_for(
    session: Session,
    *,
    store: Store,
    duration: int,
    start: datetime,
    end: datetime,
    now: datetime,
    except_appointment: str | None = None,
    reuse: bool = False,
) -> SlotReport:
    """Slots of ``duration`` minutes on the store's grid starting within [start, end), and never
    before now + the store's notice nor at or after now + its booking horizon (what a buyer can
    book; booking checks against this same list). ``except_appointment`` counts as free.

    ``reuse`` (reads only): slots are computed for whole UTC days and kept per worker for the
    store's capacity revision (every capacity change grows it), then cut to the window; a booking
    computes afresh, inside its own transaction's changes."""
    earliest = to_minute(now) + store.minimum_notice_minutes + (1 if now.second or now.microsecond else 0)
    horizon = to_minute(now) + store.booking_horizon_days * _DAY
    first, last = max(to_minute(start), earliest), min(to_minute(end), horizon)
    days = (min(first, last) // _DAY * _DAY, max(-(-last // _DAY) * _DAY, min(first, last) // _DAY * _DAY + _DAY))
    key = (
        store.store_id,
        store.capacity_revision,
        store.slot_step_minutes,
        store.timezone,
        duration,
        except_appointment,
        days,
    )
    computed = _KEPT.get(key) if reuse else None
    if computed is None:
        computed = _compute(session, store, duration, days, except_appointment)
        if reuse:
            _KEPT.put(key, computed)
    lo, hi = bisect_left(computed.starts, first), bisect_left(computed.starts, last) if first < last else 0
    return SlotReport(start, end, computed.real_time, computed.slots[lo : max(lo, hi)])


_DAY = 24 * 60


@dataclass(frozen=True)
class _Computed:
    real_time: bool
    slots: list[tuple[int, int, int]]  # ascending by start
    starts: list[int]


def _compute(
    session: Session, store: Store, duration: int, days: tuple[int, int], except_appointment: str | None
) -> _Computed:
    """Every slot starting within ``days`` (whole UTC days), from one capacity read."""
    window = (days[0], days[1] + duration)
    tz = ZoneInfo(store.timezone)
    starts = grid_starts(days, tz=tz, step_minutes=store.slot_step_minutes)
    view = capacity_views(session, [store_resource(store)], window, except_appointment=except_appointment)[
        store.store_id
    ]
    if view.has_schedule:
        scheduled, available = view.scheduled, view.available
    else:
        # Working hours stand in for a schedule: one job at a time, bookings and reservations counted.
        scheduled = working_hours(store, window)
        available = combine(combine(scheduled, view.reserved, operator.sub), view.encumbered, operator.sub)
    slots = appointment_slots(starts, duration, scheduled=scheduled, available=available)
    return _Computed(view.has_schedule, slots, [s for s, _, _ in slots])


class _Kept:
    """Computed slots per worker, least recently used first out (a lock: PostgreSQL reads run on threads)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[tuple[object, ...], _Computed] = OrderedDict()
        self._lock = Lock()

    def get(self, key: tuple[object, ...]) -> _Computed | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[object, ...], value: _Computed) -> None:
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)


_KEPT = _Kept(512)


def _offering_duration(session: Session, *, seller_id: str, marketplace_id: str, asin: str) -> int:
    offering = CatalogRepository(session).get_offering(seller_id, marketplace_id, asin)
    if offering is None:
        raise InvalidInput.params(["asin"], "No service offering for this ASIN in this marketplace.")
    return offering.duration_minutes


def slots_for_asin(
    session: Session,
    *,
    seller_id: str,
    asin: str,
    store_id: str,
    marketplace_id: str,
    start: str | None,
    end: str | None,
    now: datetime,
    reuse: bool = True,
) -> SlotReport:
    """getAppointmentSlots."""
    store = CatalogRepository(session).get_store(store_id)
    if store is None:
        raise InvalidInput.params(["storeId"], "Unknown store.")
    if store.seller_id != seller_id:
        raise NotAuthorized.action()
    if store.marketplace_id != marketplace_id:
        raise InvalidInput.params(["marketplaceIds"], "The store is in another marketplace.")
    window = resolve_window(start, end, store=store, now=now, messages=ASIN_MESSAGES)
    duration = _offering_duration(session, seller_id=seller_id, marketplace_id=marketplace_id, asin=asin)
    return slots_for(session, store=store, duration=duration, start=window[0], end=window[1], now=now, reuse=reuse)


def slots_for_job(
    session: Session,
    *,
    seller_id: str,
    job_id: str,
    marketplace_id: str,
    start: str | None,
    end: str | None,
    now: datetime,
    reuse: bool = True,
) -> SlotReport:
    """getAppointmmentSlotsByJobId: the job's store and scope of work."""
    job = load_job(session, seller_id=seller_id, job_id=job_id, wording=Wording.APPOINTMENT)
    if job.marketplace_id != marketplace_id:
        raise InvalidInput.params(["marketplaceIds"], "The job is in another marketplace.")
    if job.status in TERMINAL:
        raise not_allowed(job_id, job.status)
    store = CatalogRepository(session).get_store(job.store_id)
    assert store is not None  # a job's store is a foreign key
    window = resolve_window(start, end, store=store, now=now, messages=JOB_MESSAGES)
    duration = _offering_duration(session, seller_id=seller_id, marketplace_id=marketplace_id, asin=job.asin)
    # What this job could move to: its own booking's capacity counts as free (rescheduling frees it).
    own = job.active_appointment()
    return slots_for(
        session,
        store=store,
        duration=duration,
        start=window[0],
        end=window[1],
        now=now,
        except_appointment=own.appointment_id if own else None,
        reuse=reuse,
    )
