"""Unserved demand as one SQL aggregate (persistence/repositories/demand.py) agrees with its
reference definition (domain/demand.py: unserved_demand), on every backend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from sp_services.domain.demand import DemandJob, day_bounds, day_spans, unserved_demand
from sp_services.domain.enums import JobEventKind, JobStatus
from sp_services.domain.jobs import JobEvent
from sp_services.domain.marketplaces import US
from sp_services.persistence.repositories.demand import DemandRepository
from sp_services.persistence.repositories.jobs import JobRepository
from sp_services.services import operator as op
from tests.support import Server, make_world

BASE = datetime(2026, 3, 6, tzinfo=UTC)  # days around New York's and Havana's spring forward
ZONES = ("America/New_York", "America/Havana", "Australia/Lord_Howe", "UTC")
STATUSES = [JobStatus.PENDING_SCHEDULE, JobStatus.NOT_SERVICED, JobStatus.CANCELLED, JobStatus.HOLD]


@dataclass(frozen=True)
class Shop:
    seller_id: str
    stores: dict[str, ZoneInfo]  # store id -> timezone
    minutes: dict[str, int]  # ASIN -> the offering's duration


@pytest.fixture(scope="module")
def shop(server: Server) -> Shop:
    world = make_world(server)
    stores = {world.store_id: ZoneInfo("America/New_York")}
    with server.db.transaction() as s:
        for zone in ZONES[1:]:
            store = op.create_store(
                s, now=BASE, store=op.NewStore(seller_id=world.seller_id, marketplace_id=US, name=zone, timezone=zone)
            )
            stores[store.store_id] = ZoneInfo(zone)
        asin = ("C" + world.asin[1:])[:10]
        op.create_offering(
            s,
            now=BASE,
            offering=op.NewOffering(world.seller_id, US, asin, "Long install", duration_minutes=90),
        )
    return Shop(world.seller_id, stores, {world.asin: 60, asin: 90})


@dataclass(frozen=True)
class Plan:
    """A job to write: its store and ASIN (indices), minutes after BASE it was created, the buyer's
    preferred start (minutes after BASE) and its later status changes (minutes after creation)."""

    store: int
    asin: int
    created: int
    preferred: int | None
    changes: tuple[tuple[int, JobStatus], ...]


plans = st.builds(
    Plan,
    st.integers(0, 3),
    st.integers(0, 1),
    st.integers(-1440, 5 * 1440),
    st.none() | st.integers(0, 6 * 1440),
    st.lists(st.tuples(st.integers(1, 2 * 1440), st.sampled_from(STATUSES)), max_size=3).map(tuple),
)


class _RollBack(Exception):
    pass


def _write(s: Session, shop: Shop, plan: Plan, now: datetime) -> DemandJob | None:
    """Write the job as it stands at ``now`` (nothing has happened after it); its reference record."""
    created = BASE + timedelta(minutes=plan.created, seconds=17)
    if created > now:
        return None
    store_id, asin = list(shop.stores)[plan.store], list(shop.minutes)[plan.asin]
    preferred = None if plan.preferred is None else BASE + timedelta(minutes=plan.preferred, seconds=41)
    (job,) = op.create_order(
        s,
        now=created,
        order=op.NewOrder(
            seller_id=shop.seller_id,
            marketplace_id=US,
            store_id=store_id,
            jobs=(op.NewJob(asin=asin, preferred_appointment_times=((preferred, 60),) if preferred else ()),),
        ),
    ).jobs
    events = [(created, JobStatus.PENDING_SCHEDULE)]
    at = created
    for delta, status in plan.changes:
        at += timedelta(minutes=delta)
        if at > now:
            break
        JobRepository(s).set_job_status(job.service_job_id, JobEvent(JobEventKind.UPDATED, at, status))
        events.append((at, status))
    return DemandJob(store_id, created, preferred, shop.minutes[asin], tuple(events))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(plans, min_size=3, max_size=12),
    st.integers(1440, 10 * 1440),
    st.integers(-1, 2),
    st.integers(2, 8),
    st.sets(st.integers(0, 3), min_size=2),
)
def test_sql_matches_the_reference(
    server: Server, shop: Shop, jobs: list[Plan], now_minutes: int, first_day: int, days: int, chosen: set[int]
) -> None:
    now = BASE + timedelta(minutes=now_minutes, seconds=5)
    first = BASE.date() + timedelta(days=first_day)
    last = first + timedelta(days=days - 1)
    store_ids = [s for i, s in enumerate(shop.stores) if i in chosen]
    spans = {zone.key: day_spans(day_bounds(zone, first, last), first) for zone in {shop.stores[s] for s in store_ids}}
    try:
        with server.db.transaction() as s:
            written = [w for plan in jobs if (w := _write(s, shop, plan, now)) is not None]
            found = DemandRepository(s).unserved_minutes(shop.seller_id, US, store_ids, spans, now=now)
            expected = unserved_demand(
                written, timezones={k: shop.stores[k] for k in store_ids}, first=first, last=last, now=now
            )
            assert found == expected
            raise _RollBack
    except _RollBack:
        pass


def test_a_known_case(server: Server, shop: Shop) -> None:
    """New York's 23-hour day: a job that wanted it and was booked after midnight, one booked
    before, and one of another store; Havana's day begins at 01:00 and counts its own."""
    ny, havana = list(shop.stores)[:2]
    asin60, asin90 = list(shop.minutes)
    march8 = date(2026, 3, 8)
    now = datetime(2026, 3, 20, tzinfo=UTC)

    def job(s: Session, store: str, asin: str, created: datetime, *changes: tuple[datetime, JobStatus]) -> None:
        (made,) = op.create_order(
            s, now=created, order=op.NewOrder(shop.seller_id, US, store, jobs=(op.NewJob(asin=asin),))
        ).jobs
        for at, status in changes:
            JobRepository(s).set_job_status(made.service_job_id, JobEvent(JobEventKind.UPDATED, at, status))

    try:
        with server.db.transaction() as s:
            # 2026-03-08 in New York is 05:00Z to 04:00Z next day (EST, then EDT).
            job(
                s,
                ny,
                asin60,
                datetime(2026, 3, 8, 5, tzinfo=UTC),
                (datetime(2026, 3, 9, 4, tzinfo=UTC), JobStatus.NOT_SERVICED),
            )
            job(
                s,
                ny,
                asin90,
                datetime(2026, 3, 8, 12, tzinfo=UTC),
                (datetime(2026, 3, 9, 3, 59, tzinfo=UTC), JobStatus.NOT_SERVICED),
            )
            job(s, ny, asin90, datetime(2026, 3, 9, 3, 59, tzinfo=UTC))
            job(s, ny, asin60, datetime(2026, 3, 8, 4, 59, tzinfo=UTC))  # 23:59 on the 7th
            # Havana: the 8th runs from 05:00Z (00:00 CST is skipped: 01:00 CDT) to 04:00Z.
            job(s, havana, asin90, datetime(2026, 3, 8, 5, tzinfo=UTC))
            spans = {
                "America/New_York": day_spans(day_bounds(ZoneInfo("America/New_York"), march8, march8), march8),
                "America/Havana": day_spans(day_bounds(ZoneInfo("America/Havana"), march8, march8), march8),
            }
            found = DemandRepository(s).unserved_minutes(shop.seller_id, US, [ny, havana], spans, now=now)
            assert found == {(ny, march8): 150, (havana, march8): 90}
            raise _RollBack
    except _RollBack:
        pass
