"""``POST /operator/v1/dashboardUsers``: dashboard accounts made by the operator."""

from __future__ import annotations

from contextlib import closing

import httpx

from tests.dashboard.helpers import PASSWORD, User, http_login, operator
from tests.support import Server, World


def _create(server: Server, **body: object) -> httpx.Response:
    with operator(server) as op:
        return op.post("/operator/v1/dashboardUsers", json=body)


def test_a_generated_password_is_shown_once_and_logs_in(server: Server, world: World) -> None:
    response = _create(server, sellerId=world.seller_id, email="New.Dispatcher@Example.com", role="dispatcher")
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"userId", "sellerId", "email", "role", "password"}
    assert body["sellerId"] == world.seller_id and body["email"] == "new.dispatcher@example.com"
    assert body["role"] == "dispatcher" and len(body["password"]) >= 20
    client, login = http_login(server, User("NEW.dispatcher@example.com", body["password"], world.seller_id))
    with closing(client):
        assert login.status_code == 303
        assert "new.dispatcher@example.com (dispatcher)" in client.get("/dashboard/today").text


def test_a_chosen_password_is_not_echoed(server: Server, world: World) -> None:
    response = _create(server, sellerId=world.seller_id, email="viewer@example.org", role="viewer", password=PASSWORD)
    assert response.status_code == 201, response.text
    assert "password" not in response.json()
    client, login = http_login(server, User("viewer@example.org", PASSWORD, world.seller_id))
    with closing(client):
        assert login.status_code == 303
        assert "viewer@example.org (viewer)" in client.get("/dashboard/today").text


def test_refusals(server: Server, world: World) -> None:
    ok = {"sellerId": world.seller_id, "email": f"dup-{world.seller_id}@example.com", "role": "viewer"}
    assert _create(server, **ok).status_code == 201
    duplicate = _create(server, **{**ok, "email": ok["email"].upper()})
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0] == {
        "code": "Conflict",
        "message": f"Dashboard user {ok['email'].lower()} already exists.",
        "details": "",
    }
    unknown = _create(server, **{**ok, "email": "x@example.com", "sellerId": "ANOSUCHSELLER1"})
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["message"] == "Seller ANOSUCHSELLER1 does not exist."
    for bad, field in (
        ({"role": "admin"}, "role"),
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"colour": "blue"}, "colour"),
    ):
        response = _create(server, **{**ok, "email": "fresh@example.com", **bad})
        assert response.status_code == 400, bad
        assert field in response.json()["errors"][0]["message"], response.text
    no_key = httpx.post(f"{server.url}/operator/v1/dashboardUsers", json={**ok, "email": "y@example.com"})
    assert no_key.status_code == 403
    assert no_key.json()["errors"][0]["code"] == "Unauthorized"
