"""Simulator benchmark: ``sp-services simulate`` as a user runs it, on a fresh SQLite file and a
fresh PostgreSQL database, with the time per simulated job (every job's whole life through the
real services: order, booking, changes, dispatch, visit, documents, completion).

    python benchmarks/simulate_bench.py                      # 30 days, SQLite, and PostgreSQL if reachable
    python benchmarks/simulate_bench.py --days 60 --jobs 100000 --no-sqlite --keep \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres   # a 100k-job history, kept

``--jobs`` asks for about that many jobs: the seller gets as many branch stores as keep each one
as busy as a real one (six orders a day). ``--keep`` leaves the databases in place and prints
their URLs, for the analytics and report benchmarks to read. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import postgres_database  # noqa: E402

CLI = str(Path(sys.executable).parent / "sp-services")
DEFAULT_POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def reachable(url: str) -> bool:
    engine = create_engine(url, connect_args={"connect_timeout": 2})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def run(label: str, url: str, data: Path, args: argparse.Namespace) -> dict[str, object]:
    """One ``simulate`` on a fresh database; its summary plus the command's own wall time."""
    command = [CLI, "simulate", "--days", str(args.days), "--seed", str(args.seed), "--json", "--database-url", url]
    if args.jobs:
        command += ["--jobs", str(args.jobs)]
    started, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        command, env={**os.environ, "SP_SERVICES_DATA_DIR": str(data)}, capture_output=True, text=True, check=False
    )
    wall, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        raise SystemExit(f"{label}: simulate failed:\n{result.stderr}")
    summary: dict[str, object] = json.loads(result.stdout)
    return {"backend": label, "url": url, "wall": wall, "cpu": cpu, **summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--jobs", type=int, help="about this many jobs (more branch stores)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url", default=DEFAULT_POSTGRES, help="a PostgreSQL server (a fresh database is made)"
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the databases and print their URLs")
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="simulate-bench-"))
    targets: list[tuple[str, str]] = []
    if not args.no_sqlite:
        targets.append(("SQLite", f"sqlite:///{data / 'simulated.db'}"))
    if not args.no_postgres and reachable(args.database_url):
        targets.append(("PostgreSQL", postgres_database(args.database_url, f"sp_services_simulated_{os.getpid()}")))
    rows = [run(label, url, data / label.lower(), args) for label, url in targets]

    print(f"sp-services simulate --days {args.days}" + (f" --jobs {args.jobs}" if args.jobs else ""))
    print(
        f"{'backend':12} {'stores':>6} {'jobs':>8} {'appts':>8} {'docs':>7} {'sim s':>8} {'ms/job':>7} {'wall s':>8}"
        f" {'CPU ms/job':>11}"
    )
    for r in rows:
        jobs = int(r["orders"])  # type: ignore[call-overload]
        print(
            f"{r['backend']!s:12} {r['stores']!s:>6} {jobs:>8} {r['appointments']!s:>8} {r['documents']!s:>7} "
            f"{float(r['seconds']):8.1f} {float(r['ms_per_job']):7.2f} {float(r['wall']):8.1f}"  # type: ignore[arg-type]
            f" {1000 * float(r['cpu']) / max(jobs, 1):11.2f}"  # type: ignore[arg-type]
        )
    print(
        "sim s, ms/job: the simulation's own time per job made (sp-services' summary); wall: the whole command;"
        "\nCPU ms/job: the command's CPU time per job (the database server's not included): on a shared machine"
        "\nthe figure that others' load changes least."
    )
    if args.keep:
        for r in rows:
            print(f"kept {r['backend']}: {r['url']} (documents under {data / str(r['backend']).lower()})")
        return
    for label, url in targets:
        if label == "PostgreSQL":
            drop(url)
    shutil.rmtree(data, ignore_errors=True)


def drop(url: str) -> None:
    base, name = url.rsplit("/", 1)
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    main()
