"""The SP-API platform layer: LWA, access tokens, roles, error envelope, 404/405/413/415."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from sp_services.domain.enums import JobStatus
from tests.support import Server, World, make_world, start_server

DENIED = "Access to requested resource is denied."


def _token(server: Server, **form: str) -> httpx.Response:
    return httpx.post(f"{server.url}/auth/o2/token", data=form)


class TestLwa:
    def test_refresh_token_grant(self, world: World) -> None:
        r = _token(
            world.server,
            grant_type="refresh_token",
            refresh_token=world.refresh_token,
            client_id=world.client_id,
            client_secret=world.client_secret,
        )
        assert r.status_code == 200
        body = r.json()
        assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
        assert body["access_token"].startswith("Atza|")
        assert body["token_type"] == "bearer" and body["expires_in"] == 3600
        assert body["refresh_token"] == world.refresh_token
        assert r.headers["cache-control"] == "no-store"

    def test_json_body_is_accepted(self, world: World) -> None:
        r = httpx.post(
            f"{world.server.url}/auth/o2/token",
            json={
                "grant_type": "refresh_token",
                "refresh_token": world.refresh_token,
                "client_id": world.client_id,
                "client_secret": world.client_secret,
            },
        )
        assert r.status_code == 200

    @pytest.mark.parametrize(
        ("change", "status", "error"),
        [
            ({"client_secret": "wrong"}, 401, "invalid_client"),
            ({"client_id": "amzn1.application-oa2-client.nobody"}, 401, "invalid_client"),
            ({"refresh_token": "Atzr|forged"}, 400, "invalid_grant"),
            ({"grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
            ({"grant_type": ""}, 400, "invalid_request"),
        ],
    )
    def test_errors(self, world: World, change: dict[str, str], status: int, error: str) -> None:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": world.refresh_token,
            "client_id": world.client_id,
            "client_secret": world.client_secret,
            **change,
        }
        r = _token(world.server, **form)
        assert r.status_code == status
        assert r.json()["error"] == error
        assert r.json()["error_description"]

    def test_refresh_token_of_another_app(self, world: World, other_world: World) -> None:
        r = _token(
            world.server,
            grant_type="refresh_token",
            refresh_token=other_world.refresh_token,
            client_id=world.client_id,
            client_secret=world.client_secret,
        )
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


class TestAccessTokens:
    def _get(self, server: Server, job_id: str, headers: dict[str, str]) -> httpx.Response:
        return httpx.get(f"{server.url}/service/v1/serviceJobs/{job_id}", headers=headers)

    def test_missing_token(self, world: World) -> None:
        (job_id,) = world.job()
        r = self._get(world.server, job_id, {})
        assert r.status_code == 403
        assert r.json() == {
            "errors": [
                {"code": "Unauthorized", "message": DENIED, "details": "Access token is missing in the request header."}
            ]
        }
        assert "x-amzn-ratelimit-limit" not in r.headers
        assert r.headers["x-amzn-requestid"]

    @pytest.mark.parametrize("token", ["Atza|forged", "", "x" * 5000])
    def test_forged_token(self, world: World, token: str) -> None:
        (job_id,) = world.job()
        r = self._get(world.server, job_id, {"x-amz-access-token": token})
        assert r.status_code == 403
        assert r.json()["errors"][0]["code"] == "Unauthorized"

    def test_expired_token(self, world: World) -> None:
        (job_id,) = world.job()
        token = world.token
        world.server.clock.offset = timedelta(hours=1, seconds=1)
        r = self._get(world.server, job_id, {"x-amz-access-token": token})
        assert r.status_code == 403
        assert r.json()["errors"][0]["details"] == "The access token you provided is revoked, malformed or invalid."

    def test_sigv4_header_is_ignored(self, world: World) -> None:
        (job_id,) = world.job()
        r = self._get(
            world.server,
            job_id,
            {"x-amz-access-token": world.token, "Authorization": "AWS4-HMAC-SHA256 Credential=x/y, Signature=z"},
        )
        assert r.status_code == 200

    def test_app_without_role(self, server: Server, world: World) -> None:
        no_role = make_world(server, roles=("Inventory",))
        (job_id,) = no_role.job()
        r = self._get(server, job_id, {"x-amz-access-token": no_role.token})
        assert r.status_code == 403
        assert r.json()["errors"][0]["code"] == "Unauthorized"


class TestEnvelope:
    def test_unknown_path_gets_error_body(self, world: World) -> None:
        with world.client() as c:
            r = c.get("/service/v1/nothing-here")
        assert r.status_code == 404
        assert r.json() == {
            "errors": [{"code": "NotFound", "message": "The resource specified does not exist.", "details": ""}]
        }
        assert r.headers["x-amzn-requestid"]

    def test_wrong_method_gets_error_body(self, world: World) -> None:
        (job_id,) = world.job()
        with world.client() as c:
            r = c.delete(f"/service/v1/serviceJobs/{job_id}")
        assert r.status_code == 405
        assert r.json()["errors"][0]["code"] == "MethodNotAllowed"

    def test_too_large(self, world: World) -> None:
        (job_id,) = world.job()
        with world.client() as c:
            r = c.put(
                f"/service/v1/serviceJobs/{job_id}/cancellations",
                params={"cancellationReasonCode": "S1"},
                content=b"{" + b" " * (1024 * 1024 + 10) + b"}",
                headers={"content-type": "application/json"},
            )
        assert r.status_code == 413
        assert r.json()["errors"][0]["code"] == "RequestEntityTooLarge"
        assert self._status(world, job_id) == "PENDING_SCHEDULE"

    def test_chunked_too_large(self, world: World) -> None:
        (job_id,) = world.job()

        def chunks():  # type: ignore[no-untyped-def]
            for _ in range(300):
                yield b" " * 4096

        with world.client() as c:
            r = c.put(
                f"/service/v1/serviceJobs/{job_id}/cancellations",
                params={"cancellationReasonCode": "S1"},
                content=chunks(),
                headers={"content-type": "application/json"},
            )
        assert r.status_code == 413
        assert self._status(world, job_id) == "PENDING_SCHEDULE"

    def test_chunked_get_body_is_bounded_too(self, world: World) -> None:
        def chunks():  # type: ignore[no-untyped-def]
            for _ in range(300):
                yield b" " * 4096

        with world.client() as c:
            r = c.request(
                "GET",
                "/service/v1/serviceJobs",
                params={"marketplaceIds": "ATVPDKIKX0DER"},
                content=chunks(),
                headers={"content-type": "application/json"},
            )
        assert r.status_code == 413

    def test_unsupported_media_type(self, world: World) -> None:
        (job_id,) = world.job()
        with world.client() as c:
            r = c.put(
                f"/service/v1/serviceJobs/{job_id}/cancellations",
                params={"cancellationReasonCode": "S1"},
                content=b"cancellationReasonCode=S1",
                headers={"content-type": "text/plain"},
            )
        assert r.status_code == 415
        assert r.json()["errors"][0]["code"] == "UnsupportedMediaType"
        assert self._status(world, job_id) == "PENDING_SCHEDULE"

    @pytest.mark.parametrize(
        "body", [b"{not json", b"\xff\xfe", b"[1,2", b"null", b'"text"', b"[]", b"[" * 200_000 + b"]" * 200_000]
    )
    def test_malformed_json_bodies(self, world: World, body: bytes) -> None:
        (job_id,) = world.job()
        with world.client() as c:
            r = c.put(
                f"/service/v1/serviceJobs/{job_id}/cancellations",
                content=body,
                headers={"content-type": "application/json"},
            )
        assert r.status_code == 400
        assert r.json()["errors"][0]["code"] == "InvalidInput"
        assert self._status(world, job_id) == "PENDING_SCHEDULE"

    def test_failed_request_leaves_no_trace(self, world: World) -> None:
        """A rejected cancel must not have half-cancelled the appointment."""
        (job_id,) = world.job(JobStatus.NOT_SERVICED)
        with world.client() as c:
            r = c.put(f"/service/v1/serviceJobs/{job_id}/cancellations", params={"cancellationReasonCode": "S2"})
            job = c.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"]
        assert r.status_code == 422
        assert job["serviceJobStatus"] == "NOT_SERVICED"
        assert [a["appointmentStatus"] for a in job["appointments"]] == ["ACTIVE"]

    @staticmethod
    def _status(world: World, job_id: str) -> str:
        with world.client() as c:
            return str(c.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"]["serviceJobStatus"])


def test_unreachable_redis_is_503_not_500(world: World, tmp_path: Path) -> None:
    srv = start_server(world.server.db, tmp_path, rate_limit="on", redis_url="redis://127.0.0.1:1/0")
    try:
        (job_id,) = world.job()
        r = httpx.get(f"{srv.url}/service/v1/serviceJobs/{job_id}", headers={"x-amz-access-token": world.token})
    finally:
        srv.stop()
    assert r.status_code == 503
    assert r.json()["errors"][0]["code"] == "ServiceUnavailable"


def test_unexpected_error_is_500_with_body_and_request_id(server: Server, tmp_path: Path) -> None:
    def add_broken_route(app: FastAPI) -> None:
        @app.get("/boom")
        def boom() -> None:
            raise RuntimeError("secret internals")

    srv = start_server(server.db, tmp_path, configure=add_broken_route)
    try:
        r = httpx.get(f"{srv.url}/boom")
    finally:
        srv.stop()
    assert r.status_code == 500
    assert r.json() == {
        "errors": [
            {"code": "InternalFailure", "message": "We encountered an internal error. Please try again.", "details": ""}
        ]
    }
    assert "secret" not in r.text
    assert len(r.headers["x-amzn-requestid"]) == 36
