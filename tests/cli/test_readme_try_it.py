"""The README's "Try it" shell block, run as printed (only the address and the venv's path
adjusted) against ``sp-services serve`` in its own process on a fresh data directory."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent


def _block() -> str:
    text = README.read_text()
    match = re.search(r"<!-- try-it:start -->\n```sh\n(.*?)```\n<!-- try-it:end -->", text, re.S)
    assert match, "README lost its try-it markers"
    return match.group(1)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SP_SERVICES_DATA_DIR": str(tmp_path),
        "SP_SERVICES_DATABASE_URL": f"sqlite:///{tmp_path / 'try.db'}",
        "SP_SERVICES_PUBLIC_URL": url,
    }
    env.pop("SP_SERVICES_OPERATOR_KEY", None)
    subprocess.run([str(BIN / "sp-services"), "db", "upgrade"], env=env, check=True, capture_output=True)
    with (tmp_path / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [str(BIN / "sp-services"), "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()
            time.sleep(0.2)
        yield url, env
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_try_it_block_runs_as_printed(served: tuple[str, dict[str, str]]) -> None:
    url, env = served
    script = _block().replace("http://127.0.0.1:8000", url).replace(".venv/bin/sp-services", str(BIN / "sp-services"))
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # Three JSON bodies back to back, then the CSV's first three lines.
    decoder, text, answers = json.JSONDecoder(), result.stdout, []
    position = 0
    for _ in range(3):
        answer, position = decoder.raw_decode(text, position)
        answers.append(answer)
    jobs, booked, scorecards = answers
    assert jobs["payload"]["totalResultSize"] > 0 and len(jobs["payload"]["jobs"]) == 5
    assert set(booked) == {"appointmentId"}, booked  # SetAppointmentResponse: no payload wrapper
    assert scorecards["payload"]["groupBy"] == "week" and scorecards["payload"]["technicians"], scorecards
    assert all("onTimeStartRate" in row and "period" in row for row in scorecards["payload"]["technicians"])
    rows = list(csv.reader(io.StringIO(text[position:].lstrip())))
    assert len(rows) == 3 and rows[0][0] == "serviceJobId", rows
    assert all(len(row) == len(rows[0]) for row in rows)
