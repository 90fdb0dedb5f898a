"""The published OpenAPI (/openapi.json, /docs) and the app's routes, held to Amazon's model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.openapi.utils import get_openapi

from sp_services.api.app import create_app
from sp_services.api.availability import DAYS
from sp_services.domain.documents import ContentType
from sp_services.domain.enums import AppointmentStatus, ItemStatus, JobStatus, ServiceLocationType, SortField, SortOrder
from sp_services.domain.resources import CapacityType, ReservationType
from sp_services.settings import Settings
from tests.operations import OPERATIONS, Operation, each
from tests.support import Server

MODEL = json.loads((Path(__file__).resolve().parents[2] / "spec" / "services.json").read_text())
# Ids of the right shape for every path parameter, none of them an object's.
PLACEHOLDERS = {"serviceJobId": "job-1", "appointmentId": "job-1_a1", "resourceId": "r1", "reservationId": "res-1"}


def model_of(operation: Operation) -> dict[str, Any]:
    """The operation's definition in Amazon's model."""
    return dict(MODEL["paths"][operation.path][operation.method.lower()])


@pytest.fixture(scope="module")
def published(server: Server) -> dict[str, Any]:
    r = httpx.get(f"{server.url}/openapi.json")
    assert r.status_code == 200
    return dict(r.json())


def test_docs_page_is_served(server: Server) -> None:
    r = httpx.get(f"{server.url}/docs")
    assert r.status_code == 200
    assert "swagger-ui" in r.text.lower()


def test_every_model_operation_has_its_route_and_no_other_service_route_exists(tmp_path: Path) -> None:
    """The app's own routing table (as FastAPI describes it, before the model is merged in)."""
    app = create_app(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'x.db'}", secret_key="s"))
    generated = get_openapi(title="t", version="1", routes=app.routes)["paths"]
    routes = {
        (path, method): op["operationId"]
        for path, item in generated.items()
        if path.startswith("/service/v1")
        for method, op in item.items()
    }
    expected = {(o.path, o.method.lower()): o.operation_id for o in OPERATIONS}
    assert routes == expected
    assert len(expected) == 17


@pytest.mark.parametrize("operation", each())
def test_every_model_operation_is_served(server: Server, operation: Operation) -> None:
    """Routed for real: without a token each operation is the platform's 403, never a 404 or 405."""
    url = server.url + operation.fill(**{name: PLACEHOLDERS[name] for name in operation.path_params})
    r = httpx.request(operation.method, url, json={} if operation.method in ("POST", "PUT") else None)
    assert r.status_code == 403, (operation.operation_id, r.status_code, r.text)


@pytest.mark.parametrize("operation", each())
def test_published_operation_matches_the_model(published: dict[str, Any], operation: Operation) -> None:
    op = model_of(operation)
    ours = published["paths"][operation.path][operation.method.lower()]
    assert ours["operationId"] == op["operationId"] == operation.operation_id
    model_params = [p for p in op.get("parameters", []) if p["in"] != "body"]
    assert [(p["name"], p["in"], p.get("required", False)) for p in ours.get("parameters", [])] == [
        (p["name"], p["in"], p.get("required", False)) for p in model_params
    ]
    for mine, theirs in zip(ours.get("parameters", []), model_params, strict=True):
        assert mine["schema"].get("enum") == theirs.get("enum")
        assert mine["schema"].get("items", {}).get("enum") == theirs.get("items", {}).get("enum")
        assert mine["schema"].get("type") == theirs.get("type")
    body = next((p for p in op.get("parameters", []) if p["in"] == "body"), None)
    assert ("requestBody" in ours) == (body is not None)
    assert set(ours["responses"]) == set(op["responses"])


def test_published_schemas_are_the_models(published: dict[str, Any]) -> None:
    schemas = published["components"]["schemas"]
    for name, definition in MODEL["definitions"].items():
        assert json.dumps(schemas[name], sort_keys=True) == json.dumps(definition, sort_keys=True).replace(
            "#/definitions/", "#/components/schemas/"
        ), name


def _enum(path: list[str]) -> list[str]:
    node: Any = MODEL
    for key in path:
        node = node[key]
    return list(node["enum"])


@pytest.mark.parametrize(
    ("model_path", "ours"),
    [
        (["definitions", "ServiceJob", "properties", "serviceJobStatus"], JobStatus),
        (["definitions", "Appointment", "properties", "appointmentStatus"], AppointmentStatus),
        (["definitions", "AssociatedItem", "properties", "itemStatus"], ItemStatus),
        (["definitions", "ServiceLocation", "properties", "serviceLocationType"], ServiceLocationType),
        (["definitions", "Reservation", "properties", "type"], ReservationType),
        (["definitions", "CapacityType"], CapacityType),
        (["definitions", "ServiceUploadDocument", "properties", "contentType"], ContentType),
    ],
)
def test_domain_enums_are_the_models(model_path: list[str], ours: Any) -> None:
    """What the server accepts and emits is exactly the model's enum (in the model's order)."""
    assert [m.value for m in ours] == _enum(model_path)


def test_query_enums_are_the_models() -> None:
    params = {p["name"]: p for p in MODEL["paths"]["/service/v1/serviceJobs"]["get"]["parameters"]}
    assert sorted(params["serviceJobStatus"]["items"]["enum"]) == sorted(s.value for s in JobStatus)
    assert params["sortField"]["enum"] == [s.value for s in SortField]
    assert params["sortOrder"]["enum"] == [s.value for s in SortOrder]
    assert list(DAYS) == MODEL["definitions"]["DayOfWeek"]["enum"]
