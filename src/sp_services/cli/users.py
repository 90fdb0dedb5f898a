"""``sp-services users create``: a dispatcher-dashboard account of one seller (docs/design.md §8).

The password is read from standard input with ``--password-stdin`` (for scripts), asked for on a
terminal (twice, not echoed; empty to have one generated), or else generated and printed once.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import UTC, datetime

from sp_services.settings import Settings


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = sub.add_parser("users", help="dispatcher-dashboard accounts")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    create = users_sub.add_parser("create", help="create a dashboard user of a seller")
    create.add_argument("--seller", required=True, metavar="SELLER_ID", help="the seller whose data the user sees")
    create.add_argument("--email", required=True, help="the login (stored in lower case)")
    create.add_argument("--role", required=True, choices=("viewer", "dispatcher"), help="viewer reads; dispatcher acts")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create.add_argument("--database-url")
    create.set_defaults(func=cmd_users_create)


def _password(args: argparse.Namespace) -> str | None:
    """The chosen password, or None to have one generated."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if sys.stdin.isatty():
        first = getpass.getpass("Password (empty: generate one): ")
        if not first:
            return None
        if getpass.getpass("Password again: ") != first:
            raise SystemExit("users create: the two passwords differ")
        return first
    return None


def cmd_users_create(args: argparse.Namespace) -> int:
    from sp_services.domain.errors import ServiceError
    from sp_services.persistence.db import Database
    from sp_services.persistence.migrate import upgrade
    from sp_services.services.accounts import create_user

    if args.database_url:
        os.environ["SP_SERVICES_DATABASE_URL"] = args.database_url
    settings = Settings()
    password = _password(args)
    upgrade(settings.resolved_database_url)
    db = Database.configured(settings)
    try:
        with db.transaction() as session:
            created = create_user(
                session,
                seller_id=args.seller,
                email=args.email,
                role=args.role,
                password=password,
                now=datetime.now(UTC),
            )
    except ServiceError as error:
        print(f"users create: {'; '.join(f'{i.message} {i.details}'.strip() for i in error.items)}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    user = created.user
    where = f"{settings.public_url.rstrip('/')}/dashboard"
    print(f"created {user.role.value} {user.email} for seller {user.seller_id} (log in at {where})")
    if created.password is not None:
        print(f"password: {created.password}")
    return 0
