"""Manage Jobs report benchmark: ``GET /reports/v1/jobs.csv`` from ``sp-services serve`` in its own
process against PostgreSQL's ``COPY (the same SELECT) TO STDOUT WITH CSV`` in the same run (the
report's own statement, its filters and joins, in one piece; it writes the payments JSON where we
write two computed cells), and the server's peak RSS streaming 10k, 100k and 1M rows (a fresh server
per size); the same on SQLite.

    python benchmarks/report_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench
    python benchmarks/report_bench.py --sizes 10000,100000 --no-sqlite --database-url …

Rows are generated in bulk by SQL (``generate_series`` / a recursive CTE) for speed. Prints a
table; asserts nothing (the target, our rate at least 25 % of COPY's, lives here).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from string import Template
from typing import Any

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sp_services.domain.job_query import JobQuery
from sp_services.domain.marketplaces import US
from sp_services.persistence.db import Database

T0 = datetime(2030, 1, 1, tzinfo=UTC)  # job i is created at T0 + i seconds
SIZES = (10_000, 100_000, 1_000_000)

# One statement per table, over the integers [start, end): job i's order, the job, its appointments
# (three jobs in four have one; one in forty was rescheduled into a second), and their crews.
_STATEMENTS = tuple(
    Template("$with " + sql)
    for sql in (
        """INSERT INTO service_orders (service_order_id, seller_id, marketplace_id, status, created_at, updated_at)
           SELECT $order, :seller, :marketplace, 'ACTIVE', $at, $at FROM n""",
        """INSERT INTO service_jobs (service_job_id, service_order_id, seller_id, marketplace_id, store_id, status,
             service_type, asin, title, quantity, required_skills, buyer, service_location,
             preferred_appointment_times, associated_items, payments, cancellation_reason_code, created_at, updated_at)
           SELECT $job, $order, :seller, :marketplace, :store,
                  CASE i % 4 WHEN 0 THEN 'COMPLETED' WHEN 1 THEN 'NOT_SERVICED' WHEN 2 THEN 'CANCELLED'
                  ELSE 'PENDING_SCHEDULE' END,
                  'default', :asin, 'Install, "deluxe"', 1, CAST('["INSTALL"]' AS $json),
                  CAST('{"buyerId": "B0001", "name": "Buyer ' || i || '"}' AS $json),
                  CAST('{"serviceLocationType": "IN_HOME", "address": {"postalCode": "'
                       || (10000 + i % 89999) || '"}}' AS $json),
                  CAST('[]' AS $json), CAST('[]' AS $json),
                  CAST('[{"amount": {"value": 99.5, "currency": "USD"}}]' AS $json),
                  CASE WHEN i % 4 = 2 THEN 'S1' END, $at, $later FROM n""",
        """INSERT INTO appointments (appointment_id, service_job_id, seller_id, status, start_time,
             duration_minutes, fulfillment_start, fulfillment_end, created_at, updated_at)
           SELECT $job || '_a1', $job, :seller,
                  CASE i % 4 WHEN 0 THEN 'COMPLETED' WHEN 1 THEN 'ACTIVE' ELSE 'CANCELLED' END,
                  $later, 60, CASE WHEN i % 4 = 0 THEN $later END, CASE WHEN i % 4 = 0 THEN $later END, $at, $at
           FROM n WHERE i % 4 <> 3""",
        """INSERT INTO appointments (appointment_id, service_job_id, seller_id, status, start_time,
             duration_minutes, reschedule_reason_code, created_at, updated_at)
           SELECT $job || '_a2', $job, :seller, 'ACTIVE', $later, 90, 'RS4', $later, $later
           FROM n WHERE i % 40 = 1""",
        """INSERT INTO appointment_technicians (appointment_id, technician_id, position)
           SELECT $job || '_a' || k, :tech0, 0 FROM n, (SELECT 1 AS k UNION ALL SELECT 2) AS ks
           WHERE (k = 1 AND i % 4 <> 3) OR (k = 2 AND i % 40 = 1)
           UNION ALL SELECT $job || '_a1', :tech1, 1 FROM n WHERE i % 4 = 1""",
    )
)


def _dialect_parts(sqlite: bool, base: str) -> dict[str, str]:
    """The row-number source and the expressions of job i's ids and instants, per dialect. Instants
    are stored as SQLAlchemy stores them (naive UTC; on SQLite 'YYYY-MM-DD HH:MM:SS.ffffff' text)."""
    if sqlite:
        pad = "printf('%016d', i)"
        parts = {
            "with": "WITH RECURSIVE n(i) AS (SELECT :start UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :end)",
            "at": f"strftime('%Y-%m-%d %H:%M:%S', '{base}', '+' || i || ' seconds') || '.000000'",
            "later": f"strftime('%Y-%m-%d %H:%M:%S', '{base}', '+' || (i + 86400) || ' seconds') || '.000000'",
        }
    else:
        pad = "lpad(i::text, 16, '0')"
        parts = {
            "with": "WITH n(i) AS (SELECT generate_series(CAST(:start AS bigint), CAST(:end AS bigint) - 1))",
            "at": f"TIMESTAMP '{base}' + i * INTERVAL '1 second'",
            "later": f"TIMESTAMP '{base}' + (i + 86400) * INTERVAL '1 second'",
        }
    parts["json"] = "TEXT" if sqlite else "json"
    order = f"'9' || substr({pad}, 1, 2) || '-' || substr({pad}, 3, 7) || '-' || substr({pad}, 10, 7)"
    return {**parts, "job": f"'bench-' || {pad}", "order": order}


@dataclass(frozen=True)
class Owner:
    """Whose jobs the generated rows are: a seller's ids, one store, one offering, two technicians."""

    seller_id: str
    store_id: str
    asin: str
    technician_ids: tuple[str, str]


def bulk_jobs(db: Database, owner: Owner, count: int, *, chunk: int = 200_000) -> None:
    """Add ``count`` jobs of ``owner`` (created T0, T0 + 1 s, …) straight into the tables, with their
    orders, appointments and technicians: for tests and benchmarks that need many rows fast. Job
    ids are the row numbers, so one database takes one call."""
    parts = _dialect_parts(db.embedded, T0.strftime("%Y-%m-%d %H:%M:%S"))
    values = {
        "seller": owner.seller_id,
        "marketplace": US,
        "store": owner.store_id,
        "asin": owner.asin,
        "tech0": owner.technician_ids[0],
        "tech1": owner.technician_ids[1],
    }
    with db.engine.begin() as conn:
        if not db.embedded:  # a chunk takes longer than a request's statement may
            conn.execute(text("SET LOCAL statement_timeout = 0"))
        for start in range(0, count, chunk):
            for statement in _STATEMENTS:
                conn.execute(
                    text(statement.substitute(parts)), {**values, "start": start, "end": min(count, start + chunk)}
                )
    db.analyze()


def peak_rss_kb(pid: int) -> int:
    """The process's peak resident set size so far (Linux), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def _until(rows: int) -> str:
    """createdBefore selecting the first ``rows`` generated jobs."""
    return (T0 + timedelta(seconds=rows - 1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def download(url: str, token: str, rows: int) -> tuple[int, int, float]:
    """Stream the report of the first ``rows`` jobs; (lines, bytes, seconds)."""
    params = {"marketplaceIds": US, "createdBefore": _until(rows)}
    lines = size = 0
    began = time.perf_counter()
    with httpx.stream(
        "GET", f"{url}/reports/v1/jobs.csv", params=params, headers={"x-amz-access-token": token}, timeout=600
    ) as r:
        assert r.status_code == 200, r.read()
        for data in r.iter_raw(1 << 20):
            size += len(data)
            lines += data.count(b"\n")
    return lines - 1, size, time.perf_counter() - began


def copy_rate(db: Database, owner: Owner, rows: int) -> tuple[int, float]:
    """PostgreSQL's COPY of the report's own SELECT (every filter and join, no batches); (bytes, s)."""
    from sp_services.persistence.repositories.job_report import JobReport

    query = JobQuery(marketplace_id=US, created_before=T0 + timedelta(seconds=rows - 1))
    with db.transaction(write=False) as session:
        statement = JobReport(session).statement(owner.seller_id, query)
        sql = statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}).string
        session.execute(text("SET LOCAL statement_timeout = 0"))  # one statement for the whole report
        cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        size = 0
        began = time.perf_counter()
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH CSV") as copy:
            for data in copy:
                size += len(data)
        return size, time.perf_counter() - began


@contextmanager
def served(db: Database, data_dir: Path) -> Iterator[Any]:
    from tests.support import start_process_server

    server = start_process_server(db, data_dir, workers=1)
    try:
        yield server
    finally:
        server.stop()


def run(url: str, label: str, sizes: tuple[int, ...], with_copy: bool) -> None:
    from tests.support import make_world

    from sp_services.persistence.migrate import upgrade

    upgrade(url)
    db = Database(url)
    data_dir = Path(tempfile.mkdtemp())
    with served(db, data_dir) as server:
        world = make_world(server)
    owner = Owner(world.seller_id, world.store_id, world.asin, (world.technician_ids[0], world.technician_ids[1]))
    began = time.perf_counter()
    bulk_jobs(db, owner, max(sizes))
    print(f"{label}: {max(sizes):,} jobs generated in {time.perf_counter() - began:.1f} s")
    copy_head = f"  {'COPY rows/s':>12}  {'ours/COPY':>9}" if with_copy else ""
    print(f"  {'rows':>9}  {'ours rows/s':>12}  {'MB/s':>6}  {'peak RSS':>9}{copy_head}")
    for rows in sizes:
        with served(db, data_dir) as server:
            world.server = server
            world._token = None
            lines, size, seconds = download(server.url, world.token, rows)
            assert lines == rows, (lines, rows)
            peak = peak_rss_kb(server._process.pid)  # type: ignore[union-attr]
        ours = rows / seconds
        copy = ""
        if with_copy:
            _, copy_seconds = copy_rate(db, owner, rows)
            theirs = rows / copy_seconds
            copy = f"  {theirs:12,.0f}  {ours / theirs:8.0%}"
        print(f"  {rows:9,}  {ours:12,.0f}  {size / seconds / 1e6:6.1f}  {peak / 1024:7.1f}MB{copy}")
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (a fresh database is made on it)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="report sizes in rows, comma-separated")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    if args.database_url:
        from tests.support import postgres_database

        run(postgres_database(args.database_url, "sp_services_report_bench"), "PostgreSQL", sizes, with_copy=True)
    if not args.no_sqlite:
        run(f"sqlite:///{Path(tempfile.mkdtemp()) / 'report-bench.db'}", "SQLite", sizes, with_copy=False)


if __name__ == "__main__":
    main()
