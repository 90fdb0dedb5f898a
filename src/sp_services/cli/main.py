"""``sp-services``: serve, migrate, load demo data, purge stale document uploads."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

from sp_services.settings import Settings

if TYPE_CHECKING:
    from sp_services.demo.simulation import Plan, Progress
    from sp_services.demo.tally import Tally


def _settings(database_url: str | None) -> Settings:
    if database_url:
        os.environ["SP_SERVICES_DATABASE_URL"] = database_url
    return Settings()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from sp_services.api.http_protocol import GatheringH11Protocol

    settings = _settings(args.database_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Workers are separate processes: they read the same environment, so settings travel with it.
    os.environ.setdefault("SP_SERVICES_OPERATOR_KEY", settings.resolved_operator_key)
    os.environ.setdefault("SP_SERVICES_SECRET_KEY", settings.resolved_secret_key.decode())
    if args.workers > 1 and settings.rate_limit == "on" and not settings.redis_url:
        print("note: several workers without SP_SERVICES_REDIS_URL keep separate rate-limit buckets", file=sys.stderr)
    uvicorn.run(
        "sp_services.api.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        access_log=args.access_log,
        proxy_headers=False,
        # uvloop's event loop; h11's strict HTTP parser (limits on request lines and headers, and
        # the exact 400s tests/conformance/test_hostile.py holds) rather than httptools', with each
        # answer sent in one write (api/http_protocol.py).
        loop="uvloop",
        http=GatheringH11Protocol,
    )
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from sp_services.persistence.migrate import upgrade

    settings = _settings(args.database_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    print(f"database at head: {settings.resolved_database_url}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from sp_services.demo import demo_or_empty, load_demo
    from sp_services.persistence.db import Database
    from sp_services.persistence.migrate import upgrade
    from sp_services.services.documents import DocumentStore

    settings = _settings(args.database_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    db = Database.configured(settings)
    try:
        if args.if_empty and not demo_or_empty(db):
            print("The database holds data other than the demo; demo data not loaded.")
            return 0
        info = load_demo(
            db, operator_key=settings.resolved_operator_key, document_store=DocumentStore.configured(settings)
        )
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(info))
    else:
        print(
            "Demo data is loaded. Credentials (LWA token URL: {0}/auth/o2/token, API base: {0}):".format(
                settings.public_url.rstrip("/")
            )
        )
        for key in (
            "client_id",
            "client_secret",
            "refresh_token",
            "seller_id",
            "marketplace_id",
            "store_id",
            "asin",
            "operator_key",
        ):
            print(f"  {key:14} {info[key]}")
        counts = ", ".join(f"{k}: {len(v)}" for k, v in info["job_ids"].items())
        print(f"  jobs           {counts}")
        dashboard = f"{settings.public_url.rstrip('/')}/dashboard"
        print(f"  dashboard      {dashboard}  {info['dashboard_email']} / {info['dashboard_password']} (dispatcher)")
    return 0


def cmd_documents_purge(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from sp_services.blobs import blob_store
    from sp_services.persistence.db import Database
    from sp_services.services.documents import purge_unreferenced

    settings = _settings(args.database_url)
    db = Database.configured(settings)
    try:
        with db.transaction() as session:
            purged = purge_unreferenced(session, now=datetime.now(UTC), blobs=blob_store(settings))
    finally:
        db.dispose()
    print(f"purged {purged} upload(s) never attached to an appointment")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from sp_services.demo import demo_or_empty, load_demo
    from sp_services.demo.simulation import Simulation, simulated
    from sp_services.persistence.db import Database
    from sp_services.persistence.migrate import upgrade
    from sp_services.services.documents import DocumentStore

    plan = _simulation_plan(args)
    problems = plan.problems()
    if problems:
        print("simulate: " + "; ".join(problems), file=sys.stderr)
        return 2
    settings = _settings(args.database_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    db = Database.configured(settings)
    document_store = DocumentStore.configured(settings)
    try:
        if not demo_or_empty(db):
            print("The database holds data other than the demo; no history simulated.")
            return 0 if args.if_empty else 1
        if args.if_empty and simulated(db):
            print("The database holds simulated history already; no history simulated.")
            return 0
        load_demo(db, operator_key=settings.resolved_operator_key, document_store=document_store)
        simulation = Simulation(db, plan, document_store=document_store, public_url=settings.public_url)
        summary = simulation.run(now=datetime.now(UTC), progress=_progress_bar() if sys.stderr.isatty() else None)
    finally:
        db.dispose()
    print(json.dumps(summary.as_dict()) if args.json else "\n".join(summary.lines()))
    return 0


def _simulation_plan(args: argparse.Namespace) -> Plan:
    from dataclasses import replace

    from sp_services.demo.behaviour import OPTIONS, Behaviour
    from sp_services.demo.simulation import Plan

    overrides = {name: getattr(args, name) for name in OPTIONS if getattr(args, name) is not None}
    plan = Plan(
        days=args.days,
        until=args.until,
        stores=3 if args.stores is None else args.stores,
        technicians=args.technicians,
        seed=args.seed,
        behaviour=replace(Behaviour(), **overrides),
    )
    return plan if args.jobs is None else plan.sized_for(args.jobs, keep_stores=args.stores is not None)


def _progress_bar() -> Progress:
    """A one-line progress bar on stderr (a terminal only): days done and jobs made."""

    def show(done: int, total: int, tally: Tally) -> None:
        filled = 30 * done // max(total, 1)
        line = f"\r[{'#' * filled}{'.' * (30 - filled)}] day {done}/{total}, {tally.orders} jobs"
        sys.stderr.write(line + ("\n" if done == total else ""))
        sys.stderr.flush()

    return show


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sp-services", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--database-url")
    serve.add_argument("--access-log", action="store_true", help="log every request (costs ~15%% of throughput)")
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="apply migrations up to head")
    up.add_argument("--database-url")
    up.set_defaults(func=cmd_db_upgrade)

    demo = sub.add_parser("demo", help="load demo data (idempotent) and print credentials")
    demo.add_argument("--database-url")
    demo.add_argument("--json", action="store_true", help="print one JSON object")
    demo.add_argument("--if-empty", action="store_true", help="load only into an empty (or demo) database")
    demo.set_defaults(func=cmd_demo)

    from datetime import date

    from sp_services.demo.behaviour import OPTIONS, Behaviour

    simulate = sub.add_parser(
        "simulate", help="simulate days of history for the demo seller's branches through the real services"
    )
    simulate.add_argument("--database-url", metavar="URL")
    simulate.add_argument("--days", type=int, default=60, metavar="N", help="days to simulate, to --until (default 60)")
    simulate.add_argument(
        "--until", type=date.fromisoformat, metavar="DATE", help="the last day (default: today, to now)"
    )
    simulate.add_argument("--stores", type=int, metavar="N", help="branch stores of the demo seller (default 3)")
    simulate.add_argument("--technicians", type=int, metavar="N", help="technicians in all (default 4 per store)")
    simulate.add_argument("--seed", type=int, default=1, metavar="N", help="same seed, same history (default 1)")
    simulate.add_argument("--jobs", type=int, metavar="N", help="about N jobs: more stores (or orders per store)")
    for name, text in OPTIONS.items():
        option, default = f"--{name.replace('_', '-')}", getattr(Behaviour(), name)
        simulate.add_argument(option, dest=name, type=float, metavar="X", help=f"{text} (default {default})")
    simulate.add_argument("--if-empty", action="store_true", help="only into a database with no simulated history")
    simulate.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    simulate.set_defaults(func=cmd_simulate)

    documents = sub.add_parser("documents", help="proof-of-appointment documents")
    documents_sub = documents.add_subparsers(dest="documents_command", required=True)
    purge = documents_sub.add_parser(
        "purge", help="delete uploads never attached to an appointment within the reference period (30 days)"
    )
    purge.add_argument("--database-url")
    purge.set_defaults(func=cmd_documents_purge)

    from sp_services.cli import users

    users.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
