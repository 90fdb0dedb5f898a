"""``sp-services users create`` and the demo's dispatcher login, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sp_services.persistence.db import Database
from sp_services.persistence.migrate import upgrade
from sp_services.services.accounts import log_in
from sp_services.services.operator import create_seller
from tests.dashboard.helpers import PASSWORD, US

NOW = datetime.now(UTC)


def _cli(*args: str, data_dir: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sp_services.cli.main", *args],
        env={**os.environ, "SP_SERVICES_DATA_DIR": str(data_dir)},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _logs_in(url: str, email: str, password: str) -> bool:
    db = Database(url)
    try:
        with db.transaction() as session:
            return log_in(session, email=email, password=password, now=NOW).ok
    finally:
        db.dispose()


def test_users_create(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    db = Database(url)
    with db.transaction() as session:
        create_seller(session, name="CLI", marketplace_ids=[US], seller_id="ACLISELLER0001", now=NOW)
    db.dispose()
    base = ("users", "create", "--seller", "ACLISELLER0001", "--database-url", url)

    chosen = _cli(
        *base,
        "--email",
        "Chosen@Example.com",
        "--role",
        "viewer",
        "--password-stdin",
        data_dir=tmp_path,
        stdin=PASSWORD,
    )
    assert chosen.returncode == 0, chosen.stderr
    assert chosen.stdout.startswith("created viewer chosen@example.com for seller ACLISELLER0001")
    assert "password:" not in chosen.stdout
    assert _logs_in(url, "chosen@example.com", PASSWORD)

    # No terminal and no --password-stdin: one is generated and printed, once.
    generated = _cli(*base, "--email", "gen@example.com", "--role", "dispatcher", data_dir=tmp_path, stdin="")
    assert generated.returncode == 0, generated.stderr
    password = generated.stdout.splitlines()[-1].removeprefix("password: ")
    assert len(password) >= 20 and _logs_in(url, "gen@example.com", password)

    again = _cli(*base, "--email", "GEN@example.com", "--role", "viewer", data_dir=tmp_path, stdin="")
    assert again.returncode == 1
    assert again.stderr.strip() == "users create: Dashboard user gen@example.com already exists."
    short = _cli(
        *base, "--email", "s@example.com", "--role", "viewer", "--password-stdin", data_dir=tmp_path, stdin="x"
    )
    assert short.returncode == 1 and "password must be 12 to 1024 characters long." in short.stderr
    bad_role = _cli(*base, "--email", "r@example.com", "--role", "admin", data_dir=tmp_path)
    assert bad_role.returncode == 2 and "invalid choice: 'admin'" in bad_role.stderr


def test_the_demo_prints_a_dispatcher_login(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first = _cli("demo", "--json", "--database-url", url, data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    info = json.loads(first.stdout)
    assert info["dashboard_email"] == "dispatcher@demo.example"
    assert _logs_in(url, info["dashboard_email"], info["dashboard_password"])
    again = json.loads(_cli("demo", "--json", "--database-url", url, data_dir=tmp_path).stdout)
    assert again == info  # the same login every time
    text = _cli("demo", "--database-url", url, data_dir=tmp_path)
    assert f"/dashboard  dispatcher@demo.example / {info['dashboard_password']} (dispatcher)" in text.stdout
