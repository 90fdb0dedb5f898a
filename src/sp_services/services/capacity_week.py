"""A week of one store's or one technician's capacity, hour by store-local hour, for the
dispatcher's calendar (docs/design.md §8): capacity-minutes scheduled, reserved and booked
(ENCUMBERED) in each hour, and, for a store, the slots starting in each hour that are listed,
sold out (capacity 0) or uncovered (no qualified technician free over the whole slot).

The hours are the capacity reports' runs (``services/capacity.py: capacity_views``: what
getRangeSlotCapacity answers) and the capacity analytics' slot counting (``domain/demand.py:
slot_counts``) cut at every local hour instead of at midnight. Beside them each day's measures as
``services/demand.py`` (getCapacityAnalytics) reports them, with the reservations by type; where no
appointment of the week is completed the two agree exactly (a test holds them together).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sp_services.domain.analytics_query import AnalyticsQuery, GroupBy
from sp_services.domain.appointments import JobNeeds, technician_failures
from sp_services.domain.capacity import Run, combine, to_minute
from sp_services.domain.catalog import Offering, Store, Technician
from sp_services.domain.demand import CapacityDay, SlotCount, day_sums, slot_counts
from sp_services.domain.enums import BackgroundCheck
from sp_services.domain.resources import Resource, ResourceKind, store_resource, technician_resource
from sp_services.domain.slots import grid_starts
from sp_services.persistence.repositories.catalog import CatalogRepository
from sp_services.persistence.repositories.demand import DemandRepository
from sp_services.services.capacity import CapacityView, capacity_views
from sp_services.services.demand import UTC_NAME, capacity_demand
from sp_services.services.slots import working_hours

DAYS = 7
HOURS = 24


@dataclass(frozen=True)
class Hour:
    """One store-local hour: capacity-minutes, and (stores only) the slots that start in it."""

    scheduled: int
    reserved: int
    booked: int
    available: int
    slots: SlotCount | None


@dataclass(frozen=True)
class Week:
    """Seven store-local days from ``days[0]`` (a Monday); ``hours[h][d]`` is hour h of day d."""

    store: Store | None  # the store shown, or the technician's home store (None: it has none)
    technician: Technician | None
    timezone: str
    has_schedule: bool
    days: tuple[date, ...]
    hours: tuple[tuple[Hour, ...], ...]
    # Per day, from services/demand.py: its ENCUMBERED counts COMPLETED appointments too (the
    # capacity they used), where the hours, as the capacity reports, count the ACTIVE ones only.
    totals: tuple[CapacityDay, ...]

    @property
    def day_totals(self) -> tuple[Hour, ...]:
        """Each day's hours added up: what getRangeSlotCapacity's runs sum to over that day."""
        return tuple(_sum([row[d] for row in self.hours]) for d in range(DAYS))


def _sum(cells: Sequence[Hour]) -> Hour:
    slots = None
    if all(c.slots is not None for c in cells):
        counted = [c.slots for c in cells if c.slots is not None]
        slots = SlotCount(
            sum(x.listed for x in counted), sum(x.sold_out for x in counted), sum(x.uncovered for x in counted)
        )
    return Hour(
        sum(c.scheduled for c in cells),
        sum(c.reserved for c in cells),
        sum(c.booked for c in cells),
        sum(c.available for c in cells),
        slots,
    )


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _hour_bounds(tz: ZoneInfo, first: date) -> list[int]:
    """The minute of every local hour of the week, and of the midnight after it: hour h of day d
    is [b[24d + h], b[24d + h + 1]). An hour a clock change skips is empty; a repeated one long."""
    bounds = [
        to_minute(datetime.combine(first + timedelta(days=d), time(h), tzinfo=tz))
        for d in range(DAYS)
        for h in range(HOURS)
    ]
    bounds.append(to_minute(datetime.combine(first + timedelta(days=DAYS), time(), tzinfo=tz)))
    return bounds


def store_week(session: Session, *, seller_id: str, store_id: str, first: date, now: datetime) -> Week | None:
    """The store's week from ``first`` (its Monday), or None when the store is not the seller's."""
    catalog = CatalogRepository(session)
    store = catalog.get_store(store_id)
    if store is None or store.seller_id != seller_id:
        return None
    first = monday_of(first)
    tz = ZoneInfo(store.timezone)
    bounds = _hour_bounds(tz, first)
    offerings = DemandRepository(session).offerings(seller_id, store.marketplace_id)
    staff = [
        t
        for t in catalog.technicians_of(seller_id)
        if t.active and t.background_check is BackgroundCheck.PASSED and store.store_id in t.store_ids
    ]
    longest = max((o.duration_minutes for o in offerings), default=0)
    window = (bounds[0], bounds[-1] + longest)
    resources = [store_resource(store), *(technician_resource(t, store) for t in staff)]
    views = capacity_views(session, resources, window)
    own = views[store.store_id]
    counts = _slot_counts(store, own, offerings, staff, views, bounds)
    hours = _hours(own, bounds, counts)
    totals = _totals(session, seller_id, store, None, first, now)
    return Week(store, None, store.timezone, own.has_schedule, _days(first), hours, totals)


def technician_week(session: Session, *, seller_id: str, technician_id: str, first: date, now: datetime) -> Week | None:
    """The technician's week, on its home (first) store's days as its capacity reports have them,
    or None when the technician is not the seller's."""
    catalog = CatalogRepository(session)
    tech = catalog.get_technician(technician_id)
    if tech is None or tech.seller_id != seller_id:
        return None
    first = monday_of(first)
    home = catalog.get_store(tech.store_ids[0]) if tech.store_ids else None
    timezone = home.timezone if home else UTC_NAME
    bounds = _hour_bounds(ZoneInfo(timezone), first)
    resource = (
        technician_resource(tech, home)
        if home
        else Resource(tech.technician_id, seller_id, ResourceKind.TECHNICIAN, UTC_NAME, ())
    )
    view = capacity_views(session, [resource], (bounds[0], bounds[-1]))[tech.technician_id]
    hours = _hours(view, bounds, None)
    totals = _totals(session, seller_id, home, tech, first, now) if home else ()
    return Week(home, tech, timezone, view.has_schedule, _days(first), hours, totals)


def _days(first: date) -> tuple[date, ...]:
    return tuple(first + timedelta(days=d) for d in range(DAYS))


def _hours(view: CapacityView, bounds: list[int], counts: list[SlotCount] | None) -> tuple[tuple[Hour, ...], ...]:
    """The hour cells, hour-major (the calendar's rows)."""
    scheduled, reserved = day_sums(view.scheduled, bounds), day_sums(view.reserved, bounds)
    booked, available = day_sums(view.encumbered, bounds), day_sums(view.available, bounds)

    def cell(i: int) -> Hour:
        return Hour(scheduled[i], reserved[i], booked[i], available[i], counts[i] if counts is not None else None)

    return tuple(tuple(cell(d * HOURS + h) for d in range(DAYS)) for h in range(HOURS))


def _slot_counts(
    store: Store,
    own: CapacityView,
    offerings: Sequence[Offering],
    staff: Sequence[Technician],
    views: dict[str, CapacityView],
    bounds: list[int],
) -> list[SlotCount]:
    """Slots of every offering per hour, listed and counted as the capacity analytics count them
    per day: a store without a schedule sells its working hours (services/slots.py), and a slot is
    covered when a qualified technician's SCHEDULED - RESERVED stays >= 1 over it (or one without a
    schedule, not capacity-managed, is qualified)."""
    scheduled: Sequence[Run] = own.scheduled
    available: Sequence[Run] = own.available
    if not own.has_schedule:
        scheduled = working_hours(store, own.window)
        available = combine(combine(scheduled, own.reserved, operator.sub), own.encumbered, operator.sub)
    starts = grid_starts((bounds[0], bounds[-1]), tz=ZoneInfo(store.timezone), step_minutes=store.slot_step_minutes)
    totals = [SlotCount() for _ in range(len(bounds) - 1)]
    memo: dict[tuple[int, tuple[str, ...]], list[SlotCount]] = {}
    for offering in offerings:
        key = (offering.duration_minutes, tuple(sorted(offering.required_skills)))
        if key not in memo:
            qualified = [t for t in staff if _qualified(t, store, offering)]
            free = (
                None
                if any(not views[t.technician_id].has_schedule for t in qualified)
                else [
                    combine(views[t.technician_id].scheduled, views[t.technician_id].reserved, operator.sub)
                    for t in qualified
                ]
            )
            memo[key] = slot_counts(
                starts, offering.duration_minutes, bounds, scheduled=scheduled, available=available, technicians=free
            )
        totals = [
            SlotCount(a.listed + b.listed, a.sold_out + b.sold_out, a.uncovered + b.uncovered)
            for a, b in zip(totals, memo[key], strict=True)
        ]
    return totals


def _qualified(tech: Technician, store: Store, offering: Offering) -> bool:
    """No hard assignment failure for the offering's jobs at the store, in a location type it offers."""
    return any(
        not technician_failures([tech], JobNeeds(store.seller_id, store.store_id, offering.required_skills, kind.value))
        for kind in store.service_location_types
    )


def _totals(
    session: Session, seller_id: str, store: Store, tech: Technician | None, first: date, now: datetime
) -> tuple[CapacityDay, ...]:
    """Each day's measures as getCapacityAnalytics reports them (the store's row, or the technician's)."""
    query = AnalyticsQuery(
        seller_id,
        store.marketplace_id,
        first,
        first + timedelta(days=DAYS - 1),
        GroupBy.DAY,
        (store.store_id,),
        (tech.technician_id,) if tech else (),
    )
    rows = capacity_demand(session, query=query, now=now).rows
    wanted = tech.technician_id if tech else None
    return tuple(r.period.measures for r in rows if r.technician_id == wanted)
