"""Capacity against demand benchmark: ``GET /analytics/v1/capacity`` over 90 days for all stores,
from ``sp-services serve`` in its own process, against the same request's own queries and
computation run directly in this process (service call + wire rows + JSON), on a large history.

    python benchmarks/demand_bench.py                      # SQLite
    python benchmarks/demand_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

The history is generated in bulk (rows written straight into the tables, in chunks): stores with
weekly schedules, technicians with shifts and daily breaks, reservations, and jobs over two years
in every state with their appointments, crews and events. Prints a table; asserts nothing (the
target, HTTP at most 2x the direct work, lives here).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import World, make_world, migrated, postgres_database, start_process_server

from sp_services.api.routes.capacity_analytics import wire_row
from sp_services.domain.analytics_query import AnalyticsQuery, GroupBy
from sp_services.domain.catalog import Store
from sp_services.domain.demand import day_bounds, day_spans
from sp_services.domain.enums import JobStatus
from sp_services.domain.marketplaces import US
from sp_services.domain.recurrence import Availability, Recurrence
from sp_services.domain.resources import Reservation, ReservationType
from sp_services.persistence import tables as t
from sp_services.persistence.db import Database
from sp_services.persistence.repositories.capacity import CapacityRepository
from sp_services.persistence.repositories.demand import DemandRepository
from sp_services.services import operator as op
from sp_services.services.demand import capacity_demand

TODAY = datetime.now(UTC).date()
FIRST = TODAY - timedelta(days=59)  # the 90 days asked for: the last 60 and the next 30
DAYS = 90
HISTORY_DAYS = 730  # jobs are created over the two years up to now
ZONES = ("America/New_York", "America/Chicago")
OFFERINGS = ((60, ("INSTALL",)), (90, ("INSTALL", "MOUNT")), (120, ("REPAIR",)))
SKILLS = (("INSTALL", "MOUNT"), ("INSTALL",), ("INSTALL", "MOUNT", "REPAIR"), ("REPAIR",))


def _local(day: date, hour: int, zone: str) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(zone))


def build_world(db: Database, world: World, stores: int, technicians_per_store: int) -> list[Store]:
    """The seller's stores, offerings and staff, with schedules and reservations for the range."""
    rng = random.Random(11)
    now = datetime.now(UTC)
    until = _local(FIRST + timedelta(days=DAYS + 7), 23, ZONES[0])
    made: list[Store] = []
    with db.transaction() as s:
        for i, (minutes, skills) in enumerate(OFFERINGS):
            asin = f"D{i}{world.asin[2:]}"
            offering = op.NewOffering(world.seller_id, US, asin, f"Service {i}", minutes, required_skills=skills)
            op.create_offering(s, now=now, offering=offering)
        repo = CapacityRepository(s)
        for n in range(stores):
            zone = ZONES[n % len(ZONES)]
            store = op.create_store(
                s, now=now, store=op.NewStore(world.seller_id, US, f"Store {n}", timezone=zone, slot_step_minutes=30)
            )
            made.append(store)
            opening = _local(FIRST - timedelta(days=7), 8, zone)
            weekly = Recurrence(until, frozenset(range(6)))
            repo.replace_schedule(
                store.store_id, world.seller_id, [Availability(opening, opening.replace(hour=18), 3, weekly)], now=now
            )
            for week in range(DAYS // 7 + 1):
                day = FIRST + timedelta(days=7 * week + rng.randrange(6))
                start = _local(day, rng.choice((9, 13)), zone)
                kind = rng.choice((ReservationType.TRAINING, ReservationType.VACATION, ReservationType.TRAVEL))
                held = Reservation(
                    str(uuid.uuid4()),
                    store.store_id,
                    world.seller_id,
                    kind,
                    Availability(start, start + timedelta(hours=2)),
                )
                repo.add_reservation(held, now=now)
            for k in range(technicians_per_store):
                tech = op.create_technician(
                    s,
                    now=now,
                    technician=op.NewTechnician(
                        world.seller_id, f"Tech {n}.{k}", skills=SKILLS[k % len(SKILLS)], store_ids=(store.store_id,)
                    ),
                )
                shift = _local(FIRST - timedelta(days=7), 8 + k % 2, zone)
                days = Recurrence(until, frozenset(range(5)))
                repo.replace_schedule(
                    tech.technician_id, world.seller_id, [Availability(shift, shift.replace(hour=17), 1, days)], now=now
                )
                lunch = Availability(shift.replace(hour=12), shift.replace(hour=12, minute=30), 1, days)
                repo.add_reservation(
                    Reservation(str(uuid.uuid4()), tech.technician_id, world.seller_id, ReservationType.BREAK, lunch),
                    now=now,
                )
    return made


def _history(
    world: World, stores: list[Store], jobs: int, techs: dict[str, list[str]]
) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Chunks of rows per table: jobs created over HISTORY_DAYS up to now, booked for one to ten
    days later: 75 % completed (or booked, when still ahead), 10 % cancelled, 15 % of those
    created in the last 45 days still waiting (half with a preferred time)."""
    rng = random.Random(5)
    end = datetime.now(UTC)
    asins = [f"D{i}{world.asin[2:]}" for i in range(len(OFFERINGS))]
    chunk: dict[str, list[dict[str, Any]]] = {"orders": [], "jobs": [], "appointments": [], "crews": [], "events": []}
    for i in range(jobs):
        store = stores[i % len(stores)]
        created = end - timedelta(minutes=rng.randrange(HISTORY_DAYS * 1440))
        k = rng.randrange(len(OFFERINGS))
        roll = rng.random()
        start = (created + timedelta(days=rng.randrange(1, 10))).replace(minute=0, second=0, microsecond=0)
        status = JobStatus.CANCELLED if roll < 0.1 else JobStatus.COMPLETED if start < end else JobStatus.NOT_SERVICED
        if roll > 0.85 and end - created < timedelta(days=45):
            status = JobStatus.PENDING_SCHEDULE
        job_id, order_id = str(uuid.uuid4()), f"{i % 1000:03d}-{i:07d}-{rng.randrange(10**7):07d}"
        preferred = (
            [{"startTime": f"{start:%Y-%m-%dT%H:%M:%S}.000Z", "durationInMinutes": 60}] if rng.random() < 0.5 else []
        )
        last = created if status is JobStatus.PENDING_SCHEDULE else min(end, start + timedelta(hours=3))
        chunk["orders"].append(
            {"service_order_id": order_id, "seller_id": world.seller_id, "marketplace_id": US, "status": "ACTIVE",
             "created_at": created, "updated_at": last}
        )  # fmt: skip
        chunk["jobs"].append(
            {"service_job_id": job_id, "service_order_id": order_id, "seller_id": world.seller_id, "marketplace_id": US,
             "store_id": store.store_id, "status": status.value, "service_type": "default", "asin": asins[k],
             "title": "Service", "quantity": 1, "required_skills": list(OFFERINGS[k][1]), "buyer": None,
             "service_location": {"serviceLocationType": "IN_HOME"},
             "preferred_appointment_times": preferred if status is JobStatus.PENDING_SCHEDULE else [],
             "associated_items": [], "payments": [], "cancellation_reason_code": None,
             "created_at": created, "updated_at": last}
        )  # fmt: skip
        chunk["events"].append(
            {"service_job_id": job_id, "at": created, "kind": "CREATED", "status": "PENDING_SCHEDULE"}
        )
        if status is not JobStatus.PENDING_SCHEDULE:
            appointment = f"{job_id}_{uuid.uuid4()}"
            state = {"COMPLETED": "COMPLETED", "CANCELLED": "CANCELLED"}.get(status.value, "ACTIVE")
            chunk["appointments"].append(
                {"appointment_id": appointment, "service_job_id": job_id, "seller_id": world.seller_id, "status": state,
                 "start_time": start, "duration_minutes": OFFERINGS[k][0], "created_at": created, "updated_at": last}
            )  # fmt: skip
            chunk["crews"].append(
                {"appointment_id": appointment, "technician_id": rng.choice(techs[store.store_id]), "position": 0}
            )
            booked = created + timedelta(minutes=5)
            chunk["events"].append({"service_job_id": job_id, "at": booked, "kind": "BOOKED", "status": "NOT_SERVICED"})
            if status is not JobStatus.NOT_SERVICED:
                chunk["events"].append(
                    {"service_job_id": job_id, "at": last, "kind": status.value, "status": status.value}
                )
        if len(chunk["jobs"]) == 20_000:
            yield chunk
            chunk = {name: [] for name in chunk}
    yield chunk


def load_history(db: Database, world: World, stores: list[Store], jobs: int) -> None:
    with db.transaction(write=False) as s:
        techs: dict[str, list[str]] = {}
        for row in s.query(t.Technician).filter(t.Technician.seller_id == world.seller_id):
            for store_id in row.store_ids:
                techs.setdefault(store_id, []).append(row.technician_id)
    tables = (("orders", t.ServiceOrder), ("jobs", t.ServiceJob), ("appointments", t.AppointmentRow),
              ("crews", t.AppointmentTechnician), ("events", t.JobEvent))  # fmt: skip
    for chunk in _history(world, stores, jobs, techs):
        with db.transaction() as s:
            for name, table in tables:
                if chunk[name]:
                    s.execute(insert(table), chunk[name])
    db.analyze()


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        out.append((time.perf_counter() - began) * 1000)
    return sorted(out)


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))]


def run(
    database_url: str | None, *, stores: int, technicians: int, jobs: int, repeat: int
) -> list[tuple[str, str, float, float]]:
    tmp = Path(tempfile.mkdtemp())
    url = (
        postgres_database(database_url, f"sp_services_demand_bench_{os.getpid()}")
        if database_url
        else f"sqlite:///{tmp / 'bench.db'}"
    )
    db = migrated(url)
    server = start_process_server(db, tmp, workers=1)
    world = make_world(server)
    began = time.perf_counter()
    made = build_world(db, world, stores, technicians)
    load_history(db, world, made, jobs)
    took = time.perf_counter() - began
    print(f"  loaded {jobs:,} jobs, {stores} stores, {stores * technicians} technicians in {took:.1f} s")
    last = FIRST + timedelta(days=DAYS - 1)
    params = {"marketplaceIds": US, "startDate": FIRST.isoformat(), "endDate": last.isoformat(), "groupBy": "day"}
    client = httpx.Client(base_url=server.url, headers={"x-amz-access-token": world.token}, timeout=60)

    def over_http() -> None:
        r = client.get("/analytics/v1/capacity", params=params)
        assert r.status_code == 200, r.text

    query = AnalyticsQuery(world.seller_id, US, FIRST, last, GroupBy.DAY)
    now = datetime.now(UTC)

    def direct() -> None:
        with db.transaction(write=False) as s:
            result = capacity_demand(s, query=query, now=now)
        orjson.dumps({"payload": {"days": [wire_row(r, result.group_by) for r in result.rows]}})

    def unserved_only() -> None:
        spans = {z: day_spans(day_bounds(ZoneInfo(z), FIRST, last), FIRST) for z in ZONES}
        with db.transaction(write=False) as s:
            DemandRepository(s).unserved_minutes(world.seller_id, US, [m.store_id for m in made], spans, now=now)

    over_http()  # warm both: caches, the planner, the interpreter
    direct()
    rows = len(client.get("/analytics/v1/capacity", params=params).json()["payload"]["days"])
    http, own, sql = timed(over_http, repeat), timed(direct, repeat), timed(unserved_only, repeat)
    client.close()
    server.stop()
    db.dispose()
    name = "PostgreSQL" if database_url else "SQLite"
    print(f"  {rows} rows ({len(made) + 1} stores x {DAYS} days)")
    return [
        (name, "HTTP GET /analytics/v1/capacity", statistics.median(http), pct(http, 0.95)),
        (name, "direct: service + rows + JSON", statistics.median(own), pct(own, 0.95)),
        (name, "  of which the unserved-demand SQL", statistics.median(sql), pct(sql, 0.95)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="a PostgreSQL server (a fresh database is made on it); else SQLite")
    parser.add_argument("--stores", type=int, default=20)
    parser.add_argument("--technicians", type=int, default=4, help="per store")
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(f"{args.jobs:,} jobs over {HISTORY_DAYS} days; the range: {DAYS} days from {FIRST}, every store, by day")
    results = run(
        args.database_url, stores=args.stores, technicians=args.technicians, jobs=args.jobs, repeat=args.repeat
    )
    print(f"\n{'database':11} {'what':36} {'p50 ms':>9} {'p95 ms':>9}")
    for name, what, p50, p95 in results:
        print(f"{name:11} {what:36} {p50:9.1f} {p95:9.1f}")
    ratio = results[0][2] / results[1][2]
    print(f"\nHTTP / direct (p50): {ratio:.2f}x   (target <= 2x)")


if __name__ == "__main__":
    main()
