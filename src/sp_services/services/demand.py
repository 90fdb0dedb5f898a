"""Capacity against demand (getCapacityAnalytics, docs/design.md §7): per store, and per
technician when asked, per store-local day or period."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sp_services.domain.analytics_query import AnalyticsQuery, GroupBy
from sp_services.domain.appointments import JobNeeds, technician_failures
from sp_services.domain.capacity import Run, combine, from_minute, scheduled_runs, sum_runs
from sp_services.domain.catalog import Offering, Store, Technician
from sp_services.domain.demand import (
    COMPUTABLE,
    RESERVATION_TYPES,
    CapacityDay,
    Period,
    ResourceRuns,
    SlotCount,
    capacity_days,
    day_bounds,
    day_spans,
    periods,
    slot_counts,
    with_slots,
    within,
)
from sp_services.domain.enums import BackgroundCheck
from sp_services.domain.recurrence import Availability, occurrences
from sp_services.domain.resources import Reservation
from sp_services.domain.slots import grid_starts
from sp_services.persistence.repositories.capacity import CapacityRepository
from sp_services.persistence.repositories.catalog import CatalogRepository
from sp_services.persistence.repositories.demand import DemandRepository
from sp_services.services.analytics_scope import resolve_scope
from sp_services.services.slots import working_hours

UTC_NAME = "UTC"  # the days of a technician without a store


@dataclass(frozen=True)
class DemandRow:
    """One resource over one period: a store's row (``technician_id`` None) or a technician's,
    on its home store's days (``store_id`` None when it covers no store)."""

    store_id: str | None
    technician_id: str | None
    has_schedule: bool
    period: Period


@dataclass(frozen=True)
class CapacityDemand:
    group_by: GroupBy
    rows: tuple[DemandRow, ...]


@dataclass(frozen=True)
class _Capacity:
    """What the rows are computed from, read once for every resource of the request."""

    window: tuple[int, int]
    schedules: dict[str, list[Availability]]
    reservations: dict[str, list[Reservation]]
    booked: dict[str, list[tuple[int, int, int]]]

    def runs(self, resource_id: str, timezone: str) -> ResourceRuns:
        """The resource's capacity with its recurrences expanded in ``timezone``."""
        tz, window = ZoneInfo(timezone), self.window
        held = self.reservations.get(resource_id, [])
        return ResourceRuns(
            scheduled=scheduled_runs(self.schedules.get(resource_id, []), tz=tz, window=window),
            reserved={
                kind: sum_runs(
                    (
                        (s, e, r.availability.capacity)
                        for r in held
                        if r.type is kind
                        for s, e in occurrences(r.availability, tz=tz, window=window)
                    ),
                    window=window,
                )
                for kind in RESERVATION_TYPES
            },
            encumbered=sum_runs(self.booked.get(resource_id, []), window=window),
        )


def capacity_demand(session: Session, *, query: AnalyticsQuery, now: datetime) -> CapacityDemand:
    """Capacity-minutes, waiting demand and slot counts per store (and technician, when the query
    names technicians) per store-local day, summed into the query's periods."""
    scope = resolve_scope(session, query)
    catalog, repo = CatalogRepository(session), DemandRepository(session)
    offerings = repo.offerings(query.seller_id, query.marketplace_id)
    named = scope.technicians if query.technician_ids else ()
    # Coverage asks every technician of the seller, whichever ones the rows are for.
    staff = catalog.technicians_of(query.seller_id) if query.technician_ids else list(scope.technicians)
    staff = [t for t in staff if t.active and t.background_check is BackgroundCheck.PASSED]
    homes = _home_stores(catalog, named, scope.stores)

    zones = {s.timezone for s in scope.stores} | {h.timezone if h else UTC_NAME for h in homes.values()}
    bounds = {tz: day_bounds(ZoneInfo(tz), query.start, query.end) for tz in zones}
    longest = max((o.duration_minutes for o in offerings), default=0)
    lo, hi = COMPUTABLE
    first = min(max(min((b[0] for b in bounds.values()), default=lo), lo), hi - 1)
    last = min(max((b[-1] for b in bounds.values()), default=lo) + longest, hi)
    window = (first, max(last, first + 1))  # never empty (a lone skipped date, the calendar's ends)
    capacity = _read(
        session, scope.store_ids, [t.technician_id for t in staff], [t.technician_id for t in named], window
    )

    store_ids = scope.store_ids
    spans = {
        s.timezone: [c for d in day_spans(bounds[s.timezone], query.start) if (c := within(d, *window))]
        for s in scope.stores
    }
    unserved = repo.unserved_minutes(query.seller_id, query.marketplace_id, store_ids, spans, now=now)
    rows: list[DemandRow] = []
    for store in scope.stores:
        waiting = [unserved.get((store.store_id, query.start + timedelta(days=i)), 0) for i in range(query.days)]
        days = _store_days(store, capacity, bounds[store.timezone], offerings, staff, waiting)
        has_schedule = bool(capacity.schedules.get(store.store_id))
        rows += [DemandRow(store.store_id, None, has_schedule, p) for p in periods(query.start, days, query.group_by)]
    for tech in named:
        home = homes[tech.technician_id]
        timezone = home.timezone if home else UTC_NAME
        days = capacity_days(capacity.runs(tech.technician_id, timezone), bounds[timezone])
        has_schedule = bool(capacity.schedules.get(tech.technician_id))
        rows += [
            DemandRow(home.store_id if home else None, tech.technician_id, has_schedule, p)
            for p in periods(query.start, days, query.group_by)
        ]
    return CapacityDemand(query.group_by, tuple(rows))


def _home_stores(
    catalog: CatalogRepository, technicians: Sequence[Technician], stores: Sequence[Store]
) -> dict[str, Store | None]:
    """Each technician's first store: its capacity reports expand its schedule in that store's
    timezone (persistence/repositories/capacity.py: resource), so its days are that store's."""
    known = {s.store_id: s for s in stores}
    missing = [t.store_ids[0] for t in technicians if t.store_ids and t.store_ids[0] not in known]
    known |= catalog.stores(missing)
    return {t.technician_id: known.get(t.store_ids[0]) if t.store_ids else None for t in technicians}


def _read(
    session: Session, stores: Sequence[str], staff: Sequence[str], named: Sequence[str], window: tuple[int, int]
) -> _Capacity:
    """Schedules and typed reservations of every resource, and the bookings of the stores and of
    the technicians with rows (coverage needs none: SCHEDULED - RESERVED), at once (four queries)."""
    ids = list(dict.fromkeys([*stores, *staff, *named]))
    instants = (from_minute(window[0]), from_minute(window[1]))
    schedules = CapacityRepository(session).schedules(ids) if ids else {}
    reservations = DemandRepository(session).reservations(ids, instants) if ids else {}
    # A technician without a schedule is not capacity-managed: nothing encumbers it (§4).
    managed = [t for t in dict.fromkeys(named) if schedules.get(t)]
    booked = DemandRepository(session).booked(stores, managed, instants) if ids else {}
    return _Capacity(window, schedules, reservations, booked)


def _store_days(
    store: Store,
    capacity: _Capacity,
    bounds: list[int],
    offerings: Sequence[Offering],
    staff: Sequence[Technician],
    waiting: Sequence[int],
) -> list[CapacityDay]:
    """A store's days: capacity-minutes, the demand ``waiting`` on each, and the slot counts of
    every offering on its grid."""
    own = capacity.runs(store.store_id, store.timezone)
    days = capacity_days(own, bounds)
    scheduled: Sequence[Run] = own.scheduled
    available = own.available
    if not capacity.schedules.get(store.store_id):
        # Without a schedule the store sells its working hours, one job at a time (services/slots.py).
        scheduled = working_hours(store, capacity.window)
        available = combine(combine(scheduled, own.reserved_total, operator.sub), own.encumbered, operator.sub)
    days_in = (max(bounds[0], capacity.window[0]), min(bounds[-1], capacity.window[1]))
    starts = grid_starts(days_in, tz=ZoneInfo(store.timezone), step_minutes=store.slot_step_minutes)
    free = _free_of(store, capacity, staff)
    memo: dict[tuple[int, tuple[str, ...]], list[SlotCount]] = {}
    counts = []
    for offering in offerings:
        key = (offering.duration_minutes, tuple(sorted(offering.required_skills)))
        if key not in memo:
            memo[key] = slot_counts(
                starts,
                offering.duration_minutes,
                bounds,
                scheduled=scheduled,
                available=available,
                technicians=free(offering),
            )
        counts.append(memo[key])
    return with_slots(days, counts, waiting)


def _free_of(
    store: Store, capacity: _Capacity, staff: Sequence[Technician]
) -> Callable[[Offering], list[list[Run]] | None]:
    """For an offering, the free capacity of each technician qualified for it at ``store`` (None
    when one of them has no schedule and so can take any slot)."""
    cache: dict[str, list[Run]] = {}
    here = [t for t in staff if store.store_id in t.store_ids]

    def free(offering: Offering) -> list[list[Run]] | None:
        out = []
        for tech in here:
            if not _qualified(tech, store, offering):
                continue
            if not capacity.schedules.get(tech.technician_id):
                return None
            if tech.technician_id not in cache:
                # Expanded in the store's timezone, as assigning to this store's jobs does.
                cache[tech.technician_id] = list(capacity.runs(tech.technician_id, store.timezone).free)
            out.append(cache[tech.technician_id])
        return out

    return free


def _qualified(tech: Technician, store: Store, offering: Offering) -> bool:
    """No hard assignment failure for a job of ``offering`` at ``store`` in some location type the
    store offers (domain/appointments.py: technician_failures; time is checked separately)."""
    return any(
        not technician_failures([tech], JobNeeds(store.seller_id, store.store_id, offering.required_skills, kind.value))
        for kind in store.service_location_types
    )
