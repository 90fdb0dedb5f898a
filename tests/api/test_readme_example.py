"""The README's document example, run exactly as printed against a live server."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from sp_services.domain.enums import JobStatus
from tests.support import OPERATOR_KEY, World

README = Path(__file__).resolve().parents[2] / "README.md"


def _example() -> str:
    text = README.read_text()
    match = re.search(r"<!-- worked-example:start -->\n```python\n(.*?)```\n<!-- worked-example:end -->", text, re.S)
    assert match, "README lost its worked example markers"
    return match.group(1)


def test_readme_worked_example(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = world.server.clock().replace(microsecond=0)
    (job_id,) = world.job(JobStatus.NOT_SERVICED, starts_at=now - timedelta(hours=3))
    with world.client() as c:
        appointment_id = c.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"]["appointments"][0][
            "appointmentId"
        ]
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    (tmp_path / "proof.pdf").write_bytes(pdf)
    monkeypatch.chdir(tmp_path)
    namespace = {
        "BASE_URL": world.server.url,
        "ACCESS_TOKEN": world.token,
        "JOB_ID": job_id,
        "APPOINTMENT_ID": appointment_id,
        "STARTED": (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "FINISHED": (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    exec(compile(_example(), str(README), "exec"), namespace)

    with world.client() as c:
        job = c.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"]
    assert job["serviceJobStatus"] == "COMPLETED"
    poa = job["appointments"][0]["poa"]
    assert poa["poaType"] == "POA_RECEIPT"
    destination_id = namespace["destination"]["uploadDestinationId"]  # type: ignore[index]
    back = httpx.get(
        f"{world.server.url}/operator/v1/documents/{destination_id}",
        headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
    )
    assert back.status_code == 200 and back.content == pdf
    assert os.path.exists("proof.pdf")
