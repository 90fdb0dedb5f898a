"""``sp-services``: serve, migrate, load demo data, purge stale document uploads."""

from __future__ import annotations

import argparse
import json
import os
import sys

from sp_services.settings import Settings


def _settings(database_url: str | None) -> Settings:
    if database_url:
        os.environ["SP_SERVICES_DATABASE_URL"] = database_url
    return Settings()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

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
        # the exact 400s tests/conformance/test_hostile.py holds) rather than httptools'.
        loop="uvloop",
        http="h11",
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

    documents = sub.add_parser("documents", help="proof-of-appointment documents")
    documents_sub = documents.add_subparsers(dest="documents_command", required=True)
    purge = documents_sub.add_parser(
        "purge", help="delete uploads never attached to an appointment within the reference period (30 days)"
    )
    purge.add_argument("--database-url")
    purge.set_defaults(func=cmd_documents_purge)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
