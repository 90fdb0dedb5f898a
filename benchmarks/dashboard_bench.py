"""The dispatcher dashboard's pages beside the API calls each wraps (`make bench`), on ~100k jobs.

For each page: the server's answer time (median over interleaved rounds, one keep-alive client,
`sp-services serve` in its own process, one worker, rate limits and the read cache off so both
sides compute afresh), the same for the Services / analytics API calls that fetch what the page
shows, summed, and the ratio page / API against the target (<= 2x): PASS or MISS per page.

The database: `sp-services simulate --jobs 10000` once (about 5 minutes on two cores; 100k
simulated jobs would take about an hour), then its finished jobs (completed and cancelled, with
their orders, appointments, technicians, tags and events) copied into earlier 60-day spans
until the demo seller has ~100k jobs, then ANALYZE. Both are kept in .cache/dashboard-bench/ and
reused. The open work (pending, booked) stays the simulation's own, as a real seller's would be:
what grows with a seller's history is the finished jobs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CACHE = ROOT / ".cache" / "dashboard-bench"
US = "ATVPDKIKX0DER"
TARGET = 2.0
SEED_JOBS = 10_000
SPAN_DAYS = 60  # the simulation's span: each copy goes this much further back
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# ---- the database ------------------------------------------------------------------------------


def _cli(*args: str, database: Path, data: Path) -> str:
    env = {**os.environ, "SP_SERVICES_DATA_DIR": str(data)}
    url = f"sqlite:///{database}"
    done = subprocess.run(
        [str(BIN / "sp-services"), *args, "--database-url", url], env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def _shifted(column: str, days: int) -> str:
    """A stored UTC instant (``YYYY-MM-DD HH:MM:SS.ffffff``) ``days`` earlier, in the same form (NULL stays NULL)."""
    return f"(datetime({column}, '-{days} days') || substr({column}, 20))"


def _finished(conn: sqlite3.Connection, seller_id: str) -> int:
    """The jobs each copy is made of (temp.copied): the seller's completed and cancelled ones."""
    conn.execute(
        "CREATE TEMP TABLE copied AS SELECT service_job_id, service_order_id FROM service_jobs "
        "WHERE seller_id = ? AND status IN ('COMPLETED', 'CANCELLED')",
        (seller_id,),
    )
    count: int = conn.execute("SELECT count(*) FROM copied").fetchone()[0]
    return count


def _copy_finished(conn: sqlite3.Connection, k: int) -> None:
    """Copy ``k`` (1 to 35): the finished jobs (temp.copied) k spans earlier, under new
    ids (the first two characters of each id replaced, their lengths kept)."""
    days = k * SPAN_DAYS
    prefix = "z" + "0123456789abcdefghijklmnopqrstuvwxyz"[k]  # ids are UUIDs (hex): none starts with z

    def new_id(column: str) -> str:
        return f"('{prefix}' || substr({column}, 3))"

    order = f"('{200 + k:03d}' || substr(o.service_order_id, 4))"
    conn.execute(
        f"INSERT INTO service_orders SELECT {order}, o.seller_id, o.marketplace_id, o.status, "
        f"{_shifted('o.created_at', days)}, {_shifted('o.updated_at', days)} FROM service_orders o "
        "WHERE o.service_order_id IN (SELECT service_order_id FROM copied)"
    )
    job_columns = [row[1] for row in conn.execute("PRAGMA table_info(service_jobs)")]
    replaced = {
        "service_job_id": new_id("j.service_job_id"),
        "service_order_id": order.replace("o.", "j."),
        "created_at": _shifted("j.created_at", days),
        "updated_at": _shifted("j.updated_at", days),
    }
    selected = ", ".join(replaced.get(c, f"j.{c}") for c in job_columns)
    conn.execute(
        f"INSERT INTO service_jobs ({', '.join(job_columns)}) SELECT {selected} FROM service_jobs j "
        "WHERE j.service_job_id IN (SELECT service_job_id FROM copied)"
    )
    conn.execute(
        f"INSERT INTO job_tags SELECT {new_id('t.service_job_id')}, t.kind, t.value FROM job_tags t "
        "WHERE t.service_job_id IN (SELECT service_job_id FROM copied)"
    )
    appointment_columns = [row[1] for row in conn.execute("PRAGMA table_info(appointments)")]
    instants = (
        "start_time",
        "fulfillment_start",
        "fulfillment_end",
        "eta_start",
        "eta_end",
        "created_at",
        "updated_at",
    )
    replaced = {
        "appointment_id": new_id("a.appointment_id"),
        "service_job_id": new_id("a.service_job_id"),
        "rescheduled_appointment_id": new_id("a.rescheduled_appointment_id"),
        **{c: _shifted(f"a.{c}", days) for c in instants},
    }
    selected = ", ".join(replaced.get(c, f"a.{c}") for c in appointment_columns)
    conn.execute(
        f"INSERT INTO appointments ({', '.join(appointment_columns)}) SELECT {selected} FROM appointments a "
        "WHERE a.service_job_id IN (SELECT service_job_id FROM copied)"
    )
    conn.execute(
        f"INSERT INTO appointment_technicians SELECT {new_id('x.appointment_id')}, x.technician_id, x.position "
        "FROM appointment_technicians x JOIN appointments a ON a.appointment_id = x.appointment_id "
        "WHERE a.service_job_id IN (SELECT service_job_id FROM copied)"
    )
    conn.execute(
        "INSERT INTO job_events (service_job_id, at, kind, status, appointment_id, reason_code, detail) "
        f"SELECT {new_id('e.service_job_id')}, {_shifted('e.at', days)}, e.kind, e.status, "
        f"{new_id('e.appointment_id')}, e.reason_code, e.detail FROM job_events e "
        "WHERE e.service_job_id IN (SELECT service_job_id FROM copied)"
    )


def database(jobs: int) -> Path:
    """The benchmark's database with about ``jobs`` jobs (built once into .cache/, then reused)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    data = CACHE / "data"
    big = CACHE / f"jobs-{jobs}.db"
    if big.exists():
        return big
    seed = CACHE / f"seed-{SEED_JOBS}.db"
    if not seed.exists():
        print(f"Simulating {SEED_JOBS} jobs once into {seed} (about 5 minutes) …", flush=True)
        started = time.monotonic()
        _cli("simulate", "--jobs", str(SEED_JOBS), database=seed, data=data)
        print(f"  done in {time.monotonic() - started:.0f} s", flush=True)
    started = time.monotonic()
    building = big.with_suffix(".building")
    for leftover in (building, *(Path(f"{building}{s}") for s in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)  # an interrupted build
    with closing(sqlite3.connect(seed)) as source, closing(sqlite3.connect(building)) as target:
        source.backup(target)
    with closing(sqlite3.connect(building)) as conn:
        seller_id = json.loads(conn.execute("SELECT value FROM key_values WHERE key = 'demo'").fetchone()[0])[
            "seller_id"
        ]
        have = conn.execute("SELECT count(*) FROM service_jobs WHERE seller_id = ?", (seller_id,)).fetchone()[0]
        finished = _finished(conn, seller_id)
        copies = max(0, math.ceil((jobs - have) / max(finished, 1)))
        for k in range(1, copies + 1):
            _copy_finished(conn, k)
        conn.commit()
        conn.execute("ANALYZE")
        conn.commit()
        total = conn.execute("SELECT count(*) FROM service_jobs").fetchone()[0]
        # One file before the rename: the write-ahead log checkpointed into it and removed.
        conn.execute("PRAGMA journal_mode=DELETE")
    building.rename(big)
    print(f"Built {big.name}: {total} jobs ({copies} earlier copies of {finished} finished ones) "
          f"in {time.monotonic() - started:.0f} s", flush=True)  # fmt: skip
    return big


# ---- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(db: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "SP_SERVICES_DATA_DIR": str(CACHE / "data"),
        "SP_SERVICES_DATABASE_URL": f"sqlite:///{db}",
        "SP_SERVICES_RATE_LIMIT": "off",
        "SP_SERVICES_READ_CACHE": "off",
    }
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "sp-services"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode})")
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the server did not answer")


def api_client(base: str, demo: dict[str, str]) -> httpx.Client:
    token = httpx.post(
        f"{base}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": demo["refresh_token"],
            "client_id": demo["client_id"],
            "client_secret": demo["client_secret"],
        },
    ).json()["access_token"]
    return httpx.Client(base_url=base, headers={"x-amz-access-token": token}, timeout=120)


def dashboard_client(base: str, demo: dict[str, str]) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120)
    form = client.get("/dashboard/login")
    token = CSRF.search(form.text)
    assert token, "no CSRF token on the login page"
    done = client.post(
        "/dashboard/login",
        data={"email": demo["dashboard_email"], "password": demo["dashboard_password"], "csrf_token": token.group(1)},
    )
    assert done.status_code == 303, done.text
    return client


# ---- what is measured --------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    page: str
    api: tuple[str, ...]
    wraps: str


def _q(**params: object) -> str:
    return urlencode({"marketplaceIds": US, **params}, doseq=True)


def cases(db: Path, demo: dict[str, str]) -> list[Case]:
    """Each page, and the API calls that fetch what it shows (the same parameters)."""
    seller, store = demo["seller_id"], demo["store_id"]
    with closing(sqlite3.connect(db)) as conn:

        def column(sql: str, *params: object) -> list[str]:
            return [row[0] for row in conn.execute(sql, params)]

        (timezone,) = column("SELECT timezone FROM stores WHERE store_id = ?", store)
        asins = column("SELECT asin FROM service_offerings WHERE seller_id = ? AND marketplace_id = ?", seller, US)
        # The first page of each list page, in its order (by name, then id).
        technicians = column(
            "SELECT technician_id FROM technicians WHERE seller_id = ? ORDER BY name, technician_id LIMIT 20", seller
        )
        stores = column(
            "SELECT store_id FROM stores WHERE seller_id = ? AND marketplace_id = ? ORDER BY name, store_id LIMIT 5",
            seller,
            US,
        )
        # A job booked in the future: its page offers rescheduling, so it lists slots.
        (booked, *_) = column(
            "SELECT j.service_job_id FROM service_jobs j JOIN appointments a ON a.service_job_id = j.service_job_id "
            "WHERE j.seller_id = ? AND j.status = 'NOT_SERVICED' AND a.status = 'ACTIVE' AND a.start_time > ? "
            "ORDER BY a.start_time LIMIT 1",
            seller,
            datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        )
    zone = ZoneInfo(timezone)
    today = datetime.now(zone).date()
    monday = today - timedelta(days=today.weekday())
    week = [datetime.combine(monday + timedelta(days=d), datetime.min.time(), tzinfo=zone) for d in (0, 7)]
    week_z = [w.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for w in week]
    listed = _q(createdAfter="2000-01-01T00:00:00Z", sortField="JOB_DATE", sortOrder="DESC", pageSize=20)
    jobs = "/service/v1/serviceJobs"
    analytics = "/analytics/v1"
    return [
        Case(
            "Today",
            "/dashboard/today",
            (
                f"{jobs}?{_q(serviceJobStatus='PENDING_SCHEDULE', createdAfter='2000-01-01T00:00:00Z', pageSize=20)}",
                f"{jobs}?{_q(serviceJobStatus='NOT_SERVICED', createdAfter='2000-01-01T00:00:00Z', pageSize=20)}",
            ),
            "a getServiceJobs page of each status its lists come from (PENDING_SCHEDULE, NOT_SERVICED)",
        ),
        Case("Jobs", "/dashboard/jobs", (f"{jobs}?{listed}",), "getServiceJobs, newest first, 20"),
        Case(
            "Jobs, filtered",
            f"/dashboard/jobs?serviceJobStatus=COMPLETED&storeIds={store}",
            (f"{jobs}?{listed}&serviceJobStatus=COMPLETED&storeIds={store}",),
            "getServiceJobs, COMPLETED in one store",
        ),
        Case(
            "Job",
            f"/dashboard/jobs/{booked}",
            (f"{jobs}/{booked}", f"{jobs}/{booked}/appointmentSlots?{_q()}"),
            "getServiceJobByServiceJobId + getAppointmmentSlotsByJobId (its reschedule slots)",
        ),
        Case(
            "Capacity",
            f"/dashboard/capacity?store={store}&week={monday.isoformat()}",
            (
                f"POST /service/v1/serviceResources/{store}/capacity/range?{_q()}|"
                + json.dumps(
                    {
                        "startDateTime": week_z[0],
                        "endDateTime": week_z[1],
                        "capacityTypes": ["SCHEDULED_CAPACITY", "RESERVED_CAPACITY", "ENCUMBERED_CAPACITY"],
                    }
                ),
                f"{analytics}/capacity?"
                + _q(
                    storeIds=store,
                    startDate=monday.isoformat(),
                    endDate=(monday + timedelta(days=6)).isoformat(),
                    groupBy="day",
                ),
                *(
                    "/service/v1/appointmentSlots?" + _q(asin=a, storeId=store, startTime=week_z[0], endTime=week_z[1])
                    for a in asins
                ),
            ),
            "getRangeSlotCapacity (3 types) + getCapacityAnalytics (the week) + getAppointmentSlots per offering",
        ),
        Case(
            "Technicians",
            "/dashboard/technicians",
            (
                f"{analytics}/technicians?{_q(technicianIds=','.join(technicians), groupBy='none')}",
                f"{analytics}/technicians?{_q(technicianIds=','.join(technicians), groupBy='week')}",
            ),
            "getTechnicianPerformance for the page's 20 technicians: the range, and per week",
        ),
        Case(
            "Demand vs capacity",
            "/dashboard/demand",
            (f"{analytics}/capacity?{_q(storeIds=','.join(stores), groupBy='day')}",),
            "getCapacityAnalytics for the page's 5 stores, per day",
        ),
        Case(
            "Payments",
            "/dashboard/payments",
            (f"{analytics}/payments?{_q(groupBy='week')}",),
            "getPaymentAnalytics per week",
        ),
    ]


def _timed(client: httpx.Client, call: str) -> float:
    method, path, body = "GET", call, None
    if call.startswith("POST "):
        target, _, text = call[5:].partition("|")
        method, path, body = "POST", target, json.loads(text)
    started = time.perf_counter()
    response = client.request(method, path, json=body)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
    return elapsed


def measure(case: Case, page: httpx.Client, api: httpx.Client, rounds: int) -> tuple[float, float]:
    """Median page time and median summed API time (ms), interleaved round by round (after one
    warm-up of each), so both see the same machine."""
    _timed(page, case.page)
    for call in case.api:
        _timed(api, call)
    pages, apis = [], []
    for _ in range(rounds):
        pages.append(_timed(page, case.page))
        apis.append(sum(_timed(api, call) for call in case.api))
    return statistics.median(pages) * 1000, statistics.median(apis) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs in the database (default 100000)")
    parser.add_argument("--rounds", type=int, default=9, help="measured rounds per page (default 9)")
    args = parser.parse_args()
    db = database(args.jobs)
    demo = json.loads(_cli("demo", "--json", database=db, data=CACHE / "data"))
    with closing(sqlite3.connect(db)) as conn:
        total = conn.execute("SELECT count(*) FROM service_jobs").fetchone()[0]
    process, base = serve(db)
    try:
        page, api = dashboard_client(base, demo), api_client(base, demo)
        print(f"Dashboard pages against the API calls they wrap: {total} jobs, SQLite, one worker, "
              f"median of {args.rounds} rounds (target page <= {TARGET:g}x API)")  # fmt: skip
        print(f"{'page':20} {'page ms':>9} {'API ms':>9} {'ratio':>6}  result  API calls")
        missed = 0
        for case in cases(db, demo):
            page_ms, api_ms = measure(case, page, api, args.rounds)
            ratio = page_ms / api_ms
            verdict = "PASS" if ratio <= TARGET else "MISS"
            missed += verdict == "MISS"
            print(f"{case.name:20} {page_ms:9.1f} {api_ms:9.1f} {ratio:5.2f}x  {verdict:6}  {case.wraps}", flush=True)
        print(f"{'all pages':20} {'':9} {'':9} {'':6}  {'PASS' if not missed else f'{missed} MISS'}")
    finally:
        process.terminate()
        process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
