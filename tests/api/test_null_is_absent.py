"""One rule for JSON ``null`` (issue #11, docs/deviations.md): a member sent as ``null`` is the same
as the member left out, for every member of every request body the model defines.

For each operation's valid request (tests/operations.py) and each member of its body schema in
``spec/services.json`` whose parent the valid request sends, the request is sent twice on a fresh
scene — once without the member, once with it ``null`` — and both answers must be the same: the
same status, and for an error the same error body.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.operations import OPERATIONS, Ids, Operation
from tests.scenes import build_scene
from tests.support import Server, make_world

MODEL = json.loads((Path(__file__).parents[2] / "spec" / "services.json").read_text())
Member = tuple[str | int, ...]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = MODEL["definitions"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _members(schema: dict[str, Any], prefix: Member = (), depth: int = 0) -> list[Member]:
    """Every object member under ``schema`` (array items as their first element), to depth 3."""
    schema = _resolve(schema)
    if depth > 3:
        return []
    if schema.get("type") == "array" and "items" in schema:
        return _members(schema["items"], (*prefix, 0), depth + 1)
    out: list[Member] = []
    for name, sub in schema.get("properties", {}).items():
        out.append((*prefix, name))
        out += _members(sub, (*prefix, name), depth + 1)
    return out


def _body_schema(operation: Operation) -> dict[str, Any] | None:
    path = MODEL["paths"][operation.path][operation.method.lower()]
    body = next((p for p in path.get("parameters", []) if p.get("in") == "body"), None)
    return None if body is None else dict(body["schema"])


def _parent(body: Any, member: Member) -> Any:
    node = body
    for key in member[:-1]:
        if isinstance(key, int):
            if not isinstance(node, list) or len(node) <= key:
                return None
        elif not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


# Only the shape of the valid bodies matters when choosing the members: any ids will do.
PLACEHOLDER = Ids(
    "store", "B000000000", ("T1", "T2"), "job", "job", "a", "job", "a", "r", date(2030, 3, 4), "x", datetime.now(UTC)
)


def _cases() -> list[Any]:
    placeholder = PLACEHOLDER
    cases = []
    for operation in OPERATIONS:
        schema = _body_schema(operation)
        body = operation.valid(placeholder).body
        if schema is None or not isinstance(body, dict):
            continue
        for member in _members(schema):
            if isinstance(_parent(body, member), dict):
                name = ".".join(str(k) for k in member)
                cases.append(pytest.param(operation, member, id=f"{operation.operation_id}:{name}"))
    return cases


def _send(server: Server, operation: Operation, member: Member, *, null: bool) -> httpx.Response:
    world = make_world(server)
    call = operation.call(build_scene(world).ids)
    body = copy.deepcopy(call.body)
    parent = _parent(body, member)
    if null:
        parent[member[-1]] = None
    else:
        parent.pop(member[-1], None)
    with world.client() as c:
        return c.request(call.method, call.path, params=call.params, json=body)


CASES = _cases()


def test_every_body_member_of_the_model_is_covered() -> None:
    # 16 operations carry a body in the model; the valid requests reach these members.
    assert len(CASES) >= 30


@pytest.mark.parametrize(("operation", "member"), CASES)
def test_null_is_the_member_left_out(server: Server, operation: Operation, member: Member) -> None:
    absent = _send(server, operation, member, null=False)
    null = _send(server, operation, member, null=True)
    assert null.status_code == absent.status_code, (absent.text, null.text)
    assert null.status_code < 500
    if null.status_code >= 400:
        assert null.json() == absent.json()
