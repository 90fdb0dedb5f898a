"""Post-fulfillment analytics benchmark (docs/design.md §6): each /analytics/v1 endpoint over 90
days for all technicians and stores, over HTTP against ``sp-services serve`` in its own process,
beside the time of the SQL statements it runs, executed directly in the same run.

    .venv/bin/python benchmarks/analytics_bench.py --jobs 100000
    .venv/bin/python benchmarks/analytics_bench.py --jobs 100000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python benchmarks/analytics_bench.py --simulated --jobs 5000   # made by sp-services simulate

The jobs are written directly by default (``history``: 100,000 in a minute or two). With
``--simulated`` they are made by ``sp-services simulate`` through the real services, for the demo
seller, which is truer but slow (tens of milliseconds per job: 100,000 take about an hour on a
2-core machine). On the PostgreSQL server of --database-url the database sp_analytics_bench is
dropped and made afresh (the one named in the URL is not touched). Prints a table with PASS or MISS
per endpoint (the target: endpoint ≤ 2 x its statements' own time).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.persistence.analytics_history import write_catalog, write_jobs
from tests.support import migrated, postgres_database, start_process_server

from sp_services.domain.analytics import AppointmentRecord, History, JobRecord
from sp_services.domain.analytics_metrics import DEFAULT_TOLERANCES, Slice
from sp_services.domain.analytics_query import GroupBy
from sp_services.domain.enums import AppointmentStatus
from sp_services.domain.marketplaces import US
from sp_services.persistence.db import Database
from sp_services.persistence.repositories import analytics_queries as q
from sp_services.persistence.repositories.analytics import AnalyticsRepository
from sp_services.persistence.repositories.analytics_sql import LocalDays, plain_plans
from sp_services.persistence.repositories.catalog import CatalogRepository
from sp_services.services import operator as op
from sp_services.settings import Settings

SELLER = "ABENCHANALYTICS"
ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles")
HOUR = timedelta(hours=1)
BENCH_DATABASE = "sp_analytics_bench"  # made afresh on the PostgreSQL server of --database-url
TARGET = 2.0  # the endpoint at most this many times its statements' own time
DEFAULT_TIMEOUT = Settings.model_fields["request_timeout"].default
CLI = str(Path(sys.executable).parent / "sp-services")


def history(
    n: int, first: int, *, stores: list[str], technicians: list[str], now: datetime, rng: random.Random
) -> History:
    """``n`` jobs numbered from ``first``, created over the 120 days before ``now``: booked within
    hours, started within a week, mostly served (some early or late), completed or cancelled; a
    few moved by the buyer or the provider; one USD payment each."""
    jobs, appointments = [], []
    for i in range(first, first + n):
        job_id = f"job{i}"
        created = (now - timedelta(seconds=rng.randrange(120 * 86400))).replace(microsecond=0)
        store = rng.choice(stores)
        payment = ({"amount": {"value": rng.randrange(5000, 50000) / 100, "currency": "USD"}},)
        if rng.random() < 0.03:  # never booked
            jobs.append(JobRecord(job_id, store, created, payment))
            continue
        booked = created + timedelta(seconds=int(rng.expovariate(1 / 18000)))
        chain: list[AppointmentRecord] = []
        while True:
            start = (booked + timedelta(days=rng.randint(1, 7))).replace(minute=0, second=0) + 2 * HOUR
            crew = tuple(rng.sample(technicians, 1 if rng.random() < 0.8 else 2))
            previous = chain[-1] if chain else None
            moved = previous is not None
            a = AppointmentRecord(
                f"{job_id}_a{len(chain)}", job_id, AppointmentStatus.CANCELLED, start, 60, booked, crew=crew,
                rescheduled_from=previous.appointment_id if previous else None,
                reschedule_reason_code=rng.choice(("RS1", "RS1", "RS4", "RS11")) if moved else None,
            )  # fmt: skip
            chain.append(a)
            if len(chain) < 3 and rng.random() < 0.08:
                booked = start - timedelta(hours=rng.randint(-2, 48))
                continue
            break
        last = chain[-1]
        if last.start + HOUR > now:
            chain[-1] = _with(last, status=AppointmentStatus.ACTIVE)
            jobs.append(JobRecord(job_id, store, created, payment))
        elif rng.random() < 0.9:
            fs = last.start + timedelta(minutes=rng.choice((-40, -10, 0, 0, 0, 5, 10, 20, 45)))
            fe = fs + timedelta(minutes=int(60 * rng.lognormvariate(0, 0.15)))
            named = crew if rng.random() < 0.3 else ()
            chain[-1] = _with(last, status=AppointmentStatus.COMPLETED, fulfillment_start=fs, fulfillment_end=fe,
                              fulfilled_by=named)  # fmt: skip
            jobs.append(JobRecord(job_id, store, created, payment, completed_at=min(fe + HOUR, now)))
        else:
            code = rng.choice(("S1", "S13", "S17"))
            cancelled = last.start + timedelta(minutes=rng.randint(-600, 60))
            jobs.append(JobRecord(job_id, store, created, payment, None, cancelled, code, last.appointment_id))
        appointments += chain
    return History(tuple(jobs), tuple(appointments))


def _with(a: AppointmentRecord, **changes: Any) -> AppointmentRecord:
    return AppointmentRecord(**{**a.__dict__, **changes})


def load(db: Database, jobs: int, *, now: datetime, stores: int, technicians: int) -> tuple[str, str, str]:
    """The seller, its stores and technicians, ``jobs`` jobs in chunks, an app; its credentials."""
    rng = random.Random(7)
    store_ids = [f"store{i}" for i in range(stores)]
    technician_ids = [f"T{i:04d}" for i in range(technicians)]
    with db.transaction() as s:
        zones = [(store, ZONES[i % len(ZONES)]) for i, store in enumerate(store_ids)]
        write_catalog(s, seller_id=SELLER, zones=zones, technicians=technician_ids, at=now - timedelta(days=200))
        app = op.create_application(s, name="bench", roles=["ProfessionalServices"], now=now)
        refresh = op.authorize(s, seller_id=SELLER, client_id=app.client_id, now=now)
    chunk = 5000
    for first in range(0, jobs, chunk):
        part = history(min(chunk, jobs - first), first, stores=store_ids, technicians=technician_ids, now=now, rng=rng)
        with db.transaction() as s:
            write_jobs(s, part, seller_id=SELLER)
    db.analyze()
    return app.client_id, app.client_secret, refresh


def load_simulated(db: Database, jobs: int, *, days: int, data_dir: Path) -> tuple[str, str, str, str]:
    """``sp-services simulate`` into the database (the demo first, then ``days`` days of about
    ``jobs`` jobs in as many branch stores as that needs); the demo seller and its credentials."""
    command = [CLI, "simulate", "--days", str(days), "--jobs", str(jobs), "--json", "--database-url", db.url]
    env = {**os.environ, "SP_SERVICES_DATA_DIR": str(data_dir)}
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"simulate failed:\n{result.stderr}")
    made = json.loads(result.stdout)
    print(f"simulated {made['orders']:,} jobs in {made['stores']} stores ({made['ms_per_job']} ms per job)")
    shown = subprocess.run(
        [CLI, "demo", "--json", "--database-url", db.url], env=env, capture_output=True, text=True, check=True
    )
    demo = json.loads(shown.stdout)
    return demo["seller_id"], demo["client_id"], demo["client_secret"], demo["refresh_token"]


def timed(work: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds of ``repeat`` runs (after one warm-up), and the last result."""
    result = work()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--technicians", type=int, default=50)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--database-url", help="a PostgreSQL server to bench on (default: a fresh SQLite file in a temporary directory)"
    )
    parser.add_argument("--simulated", action="store_true", help="make the jobs with sp-services simulate (slow)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="analytics-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    if url.startswith("postgresql"):
        url = postgres_database(url, BENCH_DATABASE)
    db = migrated(url)
    now = datetime.now(UTC).replace(microsecond=0)
    t0 = time.perf_counter()
    if args.simulated:
        seller, client_id, secret, refresh = load_simulated(db, args.jobs, days=args.days + 1, data_dir=tmp)
        print(f"{db.engine.dialect.name}: loaded in {time.perf_counter() - t0:.1f} s")
    else:
        seller = SELLER
        client_id, secret, refresh = load(db, args.jobs, now=now, stores=args.stores, technicians=args.technicians)
        print(f"{db.engine.dialect.name}: {args.jobs:,} jobs, {args.stores} stores, {args.technicians} technicians "
              f"loaded in {time.perf_counter() - t0:.1f} s")  # fmt: skip

    # The endpoints' own cost is measured: the server's bounds (REQUEST_TIMEOUT, 5 s by default) are
    # raised so that a slow run is timed rather than answered 503, and a median past them is flagged.
    for bound in ("SP_SERVICES_REQUEST_TIMEOUT", "SP_SERVICES_DB_STATEMENT_TIMEOUT"):
        os.environ.setdefault(bound, "300")
    server = start_process_server(db, tmp, workers=1)
    try:
        token = httpx.post(
            f"{server.url}/auth/o2/token",
            data={"grant_type": "refresh_token", "refresh_token": refresh, "client_id": client_id,
                  "client_secret": secret},
        ).json()["access_token"]  # fmt: skip
        end = now.date() - timedelta(days=1)
        start = end - timedelta(days=args.days - 1)
        print(f"range {start} .. {end} ({args.days} store-local days), median of {args.repeat}\n")
        rows = run(db, server.url, token, seller, start, end, now, args.repeat)
    finally:
        server.stop()
        db.dispose()
    print(f"{'endpoint':<34}{'rows':>6}{'HTTP ms':>10}{'SQL ms':>9}{'repo ms':>9}{'HTTP/SQL':>10}  target ≤ {TARGET:g}")
    for name, n, http_s, sql_s, repo_s in rows:
        ratio = http_s / sql_s
        slow = f" (past the default {DEFAULT_TIMEOUT:g} s request timeout)" if http_s > DEFAULT_TIMEOUT else ""
        print(f"{name:<34}{n:>6}{http_s * 1000:>10.1f}{sql_s * 1000:>9.1f}{repo_s * 1000:>9.1f}{ratio:>10.2f}  "
              f"{'PASS' if ratio <= TARGET else 'MISS'}{slow}")  # fmt: skip
    print("\nSQL: the endpoint's statements executed and fetched in this process; repo: the same plus the")
    print("metrics finished from their rows; HTTP: the whole request (token, scope, statements, JSON).")
    return 0


def run(
    db: Database, url: str, token: str, seller: str, start: date, end: date, now: datetime, repeat: int
) -> list[Any]:
    with db.transaction(write=False) as s:
        catalog = CatalogRepository(s)
        zones = tuple((st.store_id, st.timezone) for st in catalog.stores_of(seller, US))
        techs = tuple(t.technician_id for t in catalog.technicians_of(seller))
    with httpx.Client(base_url=url, headers={"x-amz-access-token": token}, timeout=120) as client:
        return [
            measure(db, client, path, seller, Slice(start, end, group_by, zones, techs), now, repeat)
            for group_by in (GroupBy.NONE, GroupBy.DAY)
            for path in ("technicians", "stores", "payments")
        ]


def measure(
    db: Database, client: httpx.Client, path: str, seller: str, sl: Slice, now: datetime, repeat: int
) -> tuple[str, int, float, float, float]:
    """(endpoint, rows, HTTP, statements alone, repository call) for one endpoint and grouping."""
    params = {"marketplaceIds": US, "startDate": sl.start.isoformat(), "endDate": sl.end.isoformat(),
              "groupBy": sl.group_by.value}  # fmt: skip
    listed = {"technicians": "technicians", "stores": "stores", "payments": "periods"}[path]

    def http() -> Any:
        r = client.get(f"/analytics/v1/{path}", params=params)
        if r.status_code != 200:
            raise SystemExit(f"{path}: {r.status_code} {r.text[:300]}")
        return r.json()["payload"][listed]

    def sql() -> None:
        with db.transaction(write=False) as s:
            plain_plans(s)
            for statement in statements(path, seller, LocalDays(sl), now):
                s.execute(statement).all()

    def repo() -> None:
        with db.transaction(write=False) as s:
            r, tol = AnalyticsRepository(s), DEFAULT_TOLERANCES
            if path == "technicians":
                r.technician_report(sl, seller_id=seller, now=now, tolerances=tol)
            elif path == "stores":
                r.store_report(sl, seller_id=seller, now=now, tolerances=tol)
            else:
                r.payment_metrics(sl, currencies=("USD",))

    http_s, payload = timed(http, repeat)
    sql_s, _ = timed(sql, repeat)
    repo_s, _ = timed(repo, repeat)
    return f"GET /analytics/v1/{path} ({sl.group_by.value})", len(payload), http_s, sql_s, repo_s


def statements(path: str, seller: str, days: LocalDays, now: datetime) -> tuple[Any, ...]:
    """What the endpoint's repository call runs (persistence/repositories/analytics_queries.py)."""
    if path == "technicians":
        return q.technician_statements(days, seller_id=seller, now=now, tolerances=DEFAULT_TOLERANCES)
    if path == "stores":
        return q.store_statements(days, seller_id=seller, now=now, tolerances=DEFAULT_TOLERANCES)
    return q.payment_statements(days)


if __name__ == "__main__":
    raise SystemExit(main())
