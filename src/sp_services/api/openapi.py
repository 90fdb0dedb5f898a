"""The OpenAPI document at /openapi.json: Amazon's own model for /service/v1, plus ours.

The Services API part is not re-described from our route signatures (they read parameters
leniently, see api/params.py): it is Amazon's model itself (``services.json``, bundled), turned
from Swagger 2.0 into OpenAPI 3.1 so it sits with the generated description of the operator API,
the LWA token endpoint and the rest. A test holds the app's routes to the same model.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

SERVICE_PREFIX = "/service/v1"
_SCHEMA_KEYS = (
    "type",
    "items",
    "enum",
    "format",
    "default",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
)


@cache
def official_model() -> dict[str, Any]:
    """Amazon's services.json (Swagger 2.0), as bundled with the package."""
    return dict(json.loads(files("sp_services.api").joinpath("services.json").read_text()))


def _refs(node: Any) -> Any:
    """Rewrite Swagger 2.0 ``#/definitions/X`` references to OpenAPI 3 ``#/components/schemas/X``."""
    if isinstance(node, dict):
        return {
            k: (v.replace("#/definitions/", "#/components/schemas/") if k == "$ref" else _refs(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_refs(v) for v in node]
    return node


def _ref_text(ref: str) -> str:
    return ref.replace("#/definitions/", "#/components/schemas/")


def _parameter(p: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: p[k] for k in ("name", "in", "description", "required") if k in p}
    out["schema"] = _refs({k: p[k] for k in _SCHEMA_KEYS if k in p})
    if p.get("type") == "array":
        out["style"], out["explode"] = "form", False  # Swagger 2.0's default collectionFormat: csv
    return out


def _operation(op: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: op[k] for k in ("tags", "operationId", "description") if k in op}
    params = [p for p in op.get("parameters", []) if p.get("in") != "body"]
    if params:
        out["parameters"] = [_parameter(p) for p in params]
    body = next((p for p in op.get("parameters", []) if p.get("in") == "body"), None)
    if body is not None:
        out["requestBody"] = {
            "required": bool(body.get("required")),
            "description": body.get("description", ""),
            "content": {"application/json": {"schema": _refs(body["schema"])}},
        }
    out["responses"] = {
        code: {
            "description": r.get("description", ""),
            **({"content": {"application/json": {"schema": _refs(r["schema"])}}} if "schema" in r else {}),
        }
        for code, r in op.get("responses", {}).items()
    }
    return out


def service_paths() -> tuple[dict[str, Any], dict[str, Any]]:
    """The model's paths and schemas in OpenAPI 3 form."""
    model = official_model()
    paths = {
        path: {method: _operation(op) for method, op in item.items() if isinstance(op, dict)}
        for path, item in model["paths"].items()
    }
    return paths, _refs(model["definitions"])


def install(app: FastAPI) -> None:
    """Serve the merged document at /openapi.json (and so at /docs)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            generated = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            paths, schemas = service_paths()
            generated["paths"] = {
                **{p: v for p, v in generated.get("paths", {}).items() if not p.startswith(SERVICE_PREFIX)},
                **paths,
            }
            components = generated.setdefault("components", {}).setdefault("schemas", {})
            components.update(schemas)
            app.openapi_schema = generated
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
