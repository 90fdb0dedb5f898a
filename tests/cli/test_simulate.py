"""``sp-services simulate`` as a user runs it: on a fresh database it loads the demo, makes the
history and prints the summary; the demo's credentials still work the same; the same seed makes
the same history; ``--if-empty`` leaves a simulated database alone."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli.test_cli import BACKENDS, _cli
from tests.support import database_url

DEMO_KEYS = {
    "client_id",
    "client_secret",
    "refresh_token",
    "seller_id",
    "marketplace_id",
    "store_id",
    "store_ids",
    "asin",
    "technician_ids",
    "unqualified_technicians",
    "job_ids",
    "other_seller",
    "no_role_app",
    "operator_key",
    "dashboard_email",
    "dashboard_password",
}


def _run(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    return _cli(*args, env={"SP_SERVICES_DATA_DIR": str(tmp)})


@pytest.mark.parametrize("backend", BACKENDS)
def test_simulate_on_a_fresh_database_prints_the_summary_and_keeps_the_demo(backend: str, tmp_path: Path) -> None:
    url = database_url(backend, tmp_path)
    result = _run("simulate", "--days", "3", "--seed", "1", "--database-url", url, tmp=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Simulated 2.") and lines[0].endswith("in 3 stores with 12 technicians:")
    labels = [line.split("  ")[1].strip() if line.startswith("  ") else "" for line in lines[1:]]
    assert labels == [
        "jobs created",
        "appointments",
        "jobs completed",
        "jobs cancelled",
        "visits served",
        "no-shows",
        "provider breaks",
        "proof documents",
        "time taken",
    ]
    assert "ms per simulated job" in lines[-1]
    assert result.stderr == ""  # no progress bar without a terminal
    demo = _run("demo", "--json", "--database-url", url, tmp=tmp_path)
    assert demo.returncode == 0, demo.stderr
    info = json.loads(demo.stdout)
    assert set(info) == DEMO_KEYS
    assert info["store_ids"] == ["evergreen-seattle", "evergreen-brooklyn"]


def test_the_same_seed_makes_the_same_history(tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b", "c"):
        url = f"sqlite:///{tmp_path / f'{name}.db'}"
        seed = "5" if name != "c" else "6"
        result = _run(
            "simulate", "--days", "7", "--until", "2026-03-10", "--seed", seed, "--json", "--database-url", url,
            tmp=tmp_path / name,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        runs.append({k: v for k, v in summary.items() if k not in ("seconds", "ms_per_job")})
    assert runs[0] == runs[1]
    assert runs[0]["orders"] > 50 and runs[0]["end"] == "2026-03-11T00:00:00+00:00"
    assert runs[2] != runs[0]


def test_if_empty_leaves_a_simulated_database_alone_and_a_rerun_continues(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sim.db'}"
    first = _run("simulate", "--days", "2", "--until", "2026-03-10", "--json", "--database-url", url, tmp=tmp_path)
    assert first.returncode == 0, first.stderr
    again = _run("simulate", "--days", "2", "--if-empty", "--database-url", url, tmp=tmp_path)
    assert again.returncode == 0
    assert again.stdout.strip() == "The database holds simulated history already; no history simulated."
    # Without --if-empty, history continues from where it stopped: no day is made twice.
    more = _run("simulate", "--days", "5", "--until", "2026-03-12", "--json", "--database-url", url, tmp=tmp_path)
    assert more.returncode == 0, more.stderr
    assert json.loads(more.stdout)["start"] == json.loads(first.stdout)["end"] == "2026-03-11T00:00:00+00:00"


def test_simulate_refuses_a_database_of_real_data(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from sp_services.persistence.db import Database
    from sp_services.persistence.migrate import upgrade
    from sp_services.services.operator import create_seller

    url = f"sqlite:///{tmp_path / 'used.db'}"
    upgrade(url)
    db = Database(url)
    with db.transaction() as session:
        create_seller(
            session, name="Real", marketplace_ids=["ATVPDKIKX0DER"], seller_id="AREAL1", now=datetime.now(UTC)
        )
    db.dispose()
    result = _run("simulate", "--days", "1", "--database-url", url, tmp=tmp_path)
    assert result.returncode == 1
    assert result.stdout.strip() == "The database holds data other than the demo; no history simulated."
    assert _run("simulate", "--days", "1", "--if-empty", "--database-url", url, tmp=tmp_path).returncode == 0


def test_the_rates_are_options(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rates.db'}"
    zero = ("cancel", "reschedule", "provider-break", "buyer-no-show", "technician-no-show", "never-book", "early")
    rates = [arg for name in zero for arg in (f"--{name}-rate", "0")]
    result = _run(
        "simulate", "--days", "4", "--until", "2026-03-12", "--late-rate", "1", *rates, "--json", "--database-url", url,
        tmp=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    made = json.loads(result.stdout)
    assert made["served"] > 10 and made["late"] == made["served"] and made["early"] == 0
    assert made["cancelled"] == made["rescheduled"] == made["buyer_no_shows"] == made["technician_no_shows"] == 0
    assert made["provider_breaks"] == made["never_booked"] == 0


def test_a_rate_out_of_range_is_refused(tmp_path: Path) -> None:
    result = _run(
        "simulate", "--late-rate", "1.5", "--cancel-rate", "0.6", "--reschedule-rate", "0.5",
        tmp=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "simulate: late_rate must be between 0 and 1; "
        "cancel, reschedule and provider-break rates add up to more than 1; "
        "early and late rates add up to more than 1\n"
    )
