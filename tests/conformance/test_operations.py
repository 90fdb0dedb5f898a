"""The operations registry (tests/operations.py) is Amazon's model: exactly the 17 operationIds of
spec/services.json with their methods, paths, success statuses and error envelopes; the sandbox
cases (spec/sandbox-cases.md) name the same operations, and each falls to one sandbox suite."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, get_args

import pytest

from tests.conformance.cases import SPEC, all_cases, cases_in
from tests.operations import BY_ID, OPERATIONS, Area, Ids, Operation, each

ROOT = Path(__file__).resolve().parents[2]
MODEL = json.loads((SPEC / "services.json").read_text())
# (operationId, method, path template, definition) in the model's order.
MODEL_OPERATIONS = [
    (op["operationId"], method.upper(), path, op)
    for path, item in MODEL["paths"].items()
    for method, op in item.items()
    if isinstance(op, dict)
]


def test_the_registry_holds_exactly_the_models_operations() -> None:
    ids = {operation_id for operation_id, _, _, _ in MODEL_OPERATIONS}
    assert len(ids) == 17
    assert set(BY_ID) == ids
    assert len(OPERATIONS) == len(BY_ID)
    assert [(o.operation_id, o.method, o.path) for o in OPERATIONS] == [
        (operation_id, method, path) for operation_id, method, path, _ in MODEL_OPERATIONS
    ]


@pytest.mark.parametrize("operation", each())
def test_status_envelope_and_path_parameters_are_the_models(operation: Operation) -> None:
    model: dict[str, Any] = MODEL["paths"][operation.path][operation.method.lower()]
    assert [int(code) for code in model["responses"] if code.startswith("2")] == [operation.status]
    assert operation.bare_errors == (model["responses"]["400"]["schema"] == {"$ref": "#/definitions/ErrorList"})
    assert operation.path_params == tuple(p["name"] for p in model.get("parameters", []) if p["in"] == "path")


def test_every_sandbox_case_names_a_registry_operation_and_falls_to_one_suite() -> None:
    cases = all_cases()
    assert {(c.operation, c.method, c.path) for c in cases} == {(o.operation_id, o.method, o.path) for o in OPERATIONS}
    areas: tuple[Area, ...] = get_args(Area)
    assert sorted(c.id for area in areas for c in cases_in(area)) == sorted(c.id for c in cases)
    for area in areas:
        assert (ROOT / "tests" / "conformance" / f"test_sandbox_{area}.py").is_file(), area
        assert (ROOT / "docs" / "conformance" / f"{area}.md").is_file(), area


def test_a_valid_request_fills_its_operations_template() -> None:
    ids = Ids(
        store_id="store-1",
        asin="B000000001",
        technician_ids=("T1", "T2"),
        pending="job-pending",
        booked="job-booked",
        booked_appointment="job-booked_a1",
        past="job-past",
        past_appointment="job-past_a1",
        reservation_id="res-1",
        day=date(2030, 3, 4),
        created_after="2030-03-01T00:00:00Z",
        now=datetime(2030, 3, 1, 12, tzinfo=UTC),
    )
    for operation in OPERATIONS:
        call = operation.call(ids)
        template = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(operation.path))
        assert call.method == operation.method
        assert re.fullmatch(template, call.path), (operation.operation_id, call.path)
        assert (call.body is not None) <= operation.reads_body, operation.operation_id
