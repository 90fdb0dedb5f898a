"""The CLI as a user runs it: migrations, demo data (idempotent, JSON), and a served process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sp_services.persistence.db import Database, make_engine
from sp_services.persistence.migrate import upgrade
from sp_services.persistence.tables import Base
from sp_services.services.operator import create_seller
from tests.support import database_url, free_port

BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("SP_SERVICES_TEST_POSTGRES_URL") else [])


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sp_services.cli.main", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_match_the_models(backend: str, tmp_path: Path) -> None:
    url = database_url(backend, tmp_path)
    result = _cli("db", "upgrade", "--database-url", url, env={"SP_SERVICES_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_demo_is_idempotent_and_complete(backend: str, tmp_path: Path) -> None:
    url = database_url(backend, tmp_path)
    env = {"SP_SERVICES_DATA_DIR": str(tmp_path)}
    first = _cli("demo", "--json", "--database-url", url, env=env)
    assert first.returncode == 0, first.stderr
    info = json.loads(first.stdout)
    second = json.loads(_cli("demo", "--json", "--database-url", url, env=env).stdout)
    assert second == info
    for key in (
        "client_id",
        "client_secret",
        "refresh_token",
        "seller_id",
        "marketplace_id",
        "store_id",
        "asin",
        "technician_ids",
        "job_ids",
        "operator_key",
        "other_seller",
        "no_role_app",
    ):
        assert info[key], key
    assert info["operator_key"] == (tmp_path / "operator_key").read_text().strip()
    counts = {status: len(ids) for status, ids in info["job_ids"].items()}
    assert sum(counts.values()) >= 50
    assert all(
        counts[s] >= 1
        for s in (
            "PENDING_SCHEDULE",
            "NOT_SERVICED",
            "COMPLETED",
            "CANCELLED",
            "HOLD",
            "PAYMENT_DECLINED",
            "NOT_FULFILLABLE",
        )
    )
    assert counts["PENDING_SCHEDULE"] >= 10
    # technician_ids are assignable to the demo ASIN in the demo store; the others say why not.
    assert set(info["unqualified_technicians"]).isdisjoint(info["technician_ids"])
    assert all(codes for codes in info["unqualified_technicians"].values())
    assert set(info["other_seller"]) >= {"client_id", "client_secret", "refresh_token", "seller_id", "job_ids"}
    assert set(info["no_role_app"]) == {"client_id", "client_secret", "refresh_token"}


def test_serve_process_with_demo_credentials(tmp_path: Path) -> None:
    """`sp-services serve` in its own process, 2 workers, used with the demo's credentials."""
    env = {"SP_SERVICES_DATA_DIR": str(tmp_path)}
    info = json.loads(_cli("demo", "--json", env=env).stdout)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sp_services.cli.main", "serve", "--port", str(port), "--workers", "2"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                token = httpx.post(
                    f"{base}/auth/o2/token",
                    data={
                        "grant_type": "refresh_token",
                        "refresh_token": info["refresh_token"],
                        "client_id": info["client_id"],
                        "client_secret": info["client_secret"],
                    },
                )
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        headers = {"x-amz-access-token": token.json()["access_token"]}
        listing = httpx.get(
            f"{base}/service/v1/serviceJobs",
            headers=headers,
            params={"marketplaceIds": info["marketplace_id"], "createdAfter": "2000-01-01"},
        )
        assert listing.status_code == 200
        assert listing.json()["payload"]["totalResultSize"] == sum(len(v) for v in info["job_ids"].values())
        other_job = info["other_seller"]["job_ids"]["PENDING_SCHEDULE"][0]
        forbidden = httpx.get(f"{base}/service/v1/serviceJobs/{other_job}", headers=headers)
        assert forbidden.status_code == 403
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_demo_if_empty_leaves_a_used_database_alone(tmp_path: Path) -> None:
    env = {"SP_SERVICES_DATA_DIR": str(tmp_path)}
    url = f"sqlite:///{tmp_path / 'used.db'}"
    upgrade(url)
    db = Database(url)
    with db.transaction() as session:
        create_seller(
            session, name="Real", marketplace_ids=["ATVPDKIKX0DER"], seller_id="AREAL1", now=datetime.now(UTC)
        )
    db.dispose()
    result = _cli("demo", "--if-empty", "--database-url", url, env=env)
    assert result.returncode == 0
    assert "demo data not loaded" in result.stdout
    fresh = _cli("demo", "--if-empty", "--json", "--database-url", f"sqlite:///{tmp_path / 'new.db'}", env=env)
    assert json.loads(fresh.stdout)["seller_id"] == "A1DEMOSELLERUS"


def test_documents_purge_deletes_stale_unreferenced_uploads(tmp_path: Path) -> None:
    """The retention command as cron would run it: an upload left unattached for over 30 days goes
    (record and encrypted blob); a fresh one stays."""
    from datetime import timedelta

    from sqlalchemy import select

    from sp_services.blobs import LocalBlobStore
    from sp_services.domain.documents import ContentType, Declared, DocumentKey
    from sp_services.persistence.repositories.documents import DocumentRepository
    from sp_services.persistence.tables import Document

    env = {"SP_SERVICES_DATA_DIR": str(tmp_path)}
    url = f"sqlite:///{tmp_path / 'docs.db'}"
    upgrade(url)
    db = Database(url)
    now = datetime.now(UTC)
    blobs = LocalBlobStore(tmp_path / "blobs")
    with db.transaction() as session:
        create_seller(session, name="S", marketplace_ids=["ATVPDKIKX0DER"], seller_id="ASELLER1", now=now)
        for name, age in (("stale", timedelta(days=31)), ("fresh", timedelta(days=29))):
            DocumentRepository(session).add(
                name,
                seller_id="ASELLER1",
                declared=Declared(ContentType.PDF, 10, None),
                wrapped_key=DocumentKey.new().wrap(b"secret"),
                now=now - age,
                url_expires_at=now - age + timedelta(minutes=5),
            )
            blobs.put(f"documents/{name}", b"x" * 16)
    result = _cli("documents", "purge", "--database-url", url, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "purged 1 upload(s) never attached to an appointment"
    with db.transaction(write=False) as session:
        assert list(session.scalars(select(Document.upload_destination_id))) == ["fresh"]
    db.dispose()
    assert blobs.get("documents/stale") is None
    assert blobs.get("documents/fresh") == b"x" * 16
