"""Proof-of-appointment documents through HTTP: destinations, the signed upload, verification, POA."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy import select, update

from sp_services.blobs import blob_store
from sp_services.domain import documents as docs
from sp_services.domain.enums import JobStatus
from sp_services.persistence import tables as t
from sp_services.services import documents as document_service
from tests.support import OPERATOR_KEY, Server, World, make_world, start_server

PDF = b"%PDF-1.7\n" + b"proof of appointment " * 40 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
PREFIX = "Failed to process proof of appointment input. Reason: "


def destination(world: World, content: bytes = PDF, content_type: str = "PDF", md5: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"contentType": content_type, "contentLength": len(content)}
    if md5:
        body["contentMD5"] = base64.b64encode(hashlib.md5(content).digest()).decode()
    with world.client() as c:
        r = c.post("/service/v1/documents", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json()["payload"])


def encrypted(dest: dict[str, Any], content: bytes) -> bytes:
    details = dest["encryptionDetails"]
    key = docs.DocumentKey(base64.b64decode(details["key"]), base64.b64decode(details["initializationVector"]))
    return docs.encrypt(content, key)


def badly_padded(dest: dict[str, Any], blocks: int) -> bytes:
    """Whole AES blocks under the destination's key whose plaintext ends in a zero byte: never valid
    PKCS#7, so decrypting always fails (random bytes would pass as padded about once in 256)."""
    details = dest["encryptionDetails"]
    cipher = Cipher(
        algorithms.AES(base64.b64decode(details["key"])), modes.CBC(base64.b64decode(details["initializationVector"]))
    ).encryptor()
    return cipher.update(bytes(16 * blocks)) + cipher.finalize()


def put(dest: dict[str, Any], data: bytes, **headers: str) -> httpx.Response:
    return httpx.put(dest["url"], content=data, headers={**dest["headers"], **headers})


def uploaded(world: World, content: bytes = PDF, content_type: str = "PDF") -> tuple[dict[str, Any], bytes]:
    dest = destination(world, content, content_type)
    data = encrypted(dest, content)
    r = put(dest, data)
    assert r.status_code == 200, r.text
    return dest, data


def sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def past_job(world: World) -> tuple[str, str]:
    booked = world.server.clock().replace(microsecond=0) - timedelta(hours=6)
    (job_id,) = world.job(JobStatus.NOT_SERVICED, starts_at=booked)
    with world.client() as c:
        appointment_id = c.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"]["appointments"][0][
            "appointmentId"
        ]
    return job_id, appointment_id


def attach(world: World, job_id: str, appointment_id: str, destination_id: str, digest: str | None) -> httpx.Response:
    ref: dict[str, str] = {"uploadDestinationId": destination_id}
    if digest is not None:
        ref["contentSha256"] = digest
    with world.client() as c:
        return c.put(
            f"/service/v1/serviceJobs/{job_id}/appointments/{appointment_id}/fulfillment",
            json={"fulfillmentDocuments": [ref]},
        )


def refused(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 422, response.text
    assert response.json() == [{"code": "InvalidInput", "message": PREFIX + reason, "details": ""}]


class TestDestination:
    def test_shape(self, world: World) -> None:
        with world.client() as c:
            r = c.post("/service/v1/documents", json={"contentType": "PNG", "contentLength": 1386437})
        assert r.status_code == 200, r.text
        assert r.headers["x-amzn-ratelimit-limit"] == f"{5.0 * 1000:.1f}"
        payload = r.json()["payload"]
        assert set(payload) == {"uploadDestinationId", "url", "encryptionDetails", "headers"}
        assert payload["url"].startswith(
            f"{world.server.settings.public_url}/uploads/{payload['uploadDestinationId']}?"
        )
        details = payload["encryptionDetails"]
        assert details["standard"] == "AES"
        assert len(base64.b64decode(details["key"])) == 32
        assert len(base64.b64decode(details["initializationVector"])) == 16
        assert payload["headers"] == {"Content-Type": "image/png"}
        # The key is kept only wrapped under the server secret.
        with world.server.db.transaction(write=False) as s:
            row = s.scalar(select(t.Document).where(t.Document.upload_destination_id == payload["uploadDestinationId"]))
        assert row is not None
        assert base64.b64decode(details["key"]) not in row.wrapped_key

    def test_every_destination_has_its_own_key(self, world: World) -> None:
        a, b = destination(world), destination(world)
        assert a["encryptionDetails"]["key"] != b["encryptionDetails"]["key"]
        assert a["uploadDestinationId"] != b["uploadDestinationId"]

    @pytest.mark.parametrize(
        ("body", "status", "message"),
        [
            ({}, 400, "Missing or invalid request parameters: [contentType, contentLength]."),
            ({"contentType": "PNG"}, 400, "Missing or invalid request parameters: [contentLength]."),
            ({"contentLength": 123}, 400, "Missing or invalid request parameters: [contentType]."),
            (
                {"contentType": "PNG", "contentLength": 0},
                400,
                "Missing or invalid request parameters: [contentLength].",
            ),
            (
                {"contentType": "PNG", "contentLength": 5242881},
                400,
                "Missing or invalid request parameters: [contentLength].",
            ),
            (
                {"contentType": "PNG", "contentLength": 10, "contentMD5": "not-md5"},
                400,
                "Missing or invalid request parameters: [contentMD5].",
            ),
            (
                {"contentType": "PNGr", "contentLength": 1386437, "contentMD5": "97WrSKv9ffHkDopCdB32mw=="},
                422,
                "contentType parameter is invalid. Use one of ['TIFF', 'JPG', 'PNG', 'JPEG', 'GIF', 'PDF']",
            ),
        ],
    )
    def test_body_rules(self, world: World, body: dict[str, Any], status: int, message: str) -> None:
        with world.client() as c:
            r = c.post("/service/v1/documents", json=body)
        assert r.status_code == status
        assert r.json() == {"errors": [{"code": "InvalidInput", "message": message, "details": ""}]}


def stored_upload(world: World, destination_id: str) -> tuple[bytes | None, Any]:
    with world.server.db.transaction(write=False) as s:
        row = s.scalar(select(t.Document).where(t.Document.upload_destination_id == destination_id))
    blob = blob_store(world.server.settings).get(document_service.blob_key(destination_id))
    return blob, row.uploaded_at if row else None


def s3_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/xml")
    assert f"<Code>{code}</Code>" in response.text
    assert "<RequestId>" in response.text


class TestUpload:
    def test_put_stores_the_encrypted_bytes(self, world: World) -> None:
        dest = destination(world)
        data = encrypted(dest, PDF)
        r = put(dest, data)
        assert r.status_code == 200
        assert r.headers["etag"] == f'"{hashlib.md5(data).hexdigest()}"'
        blob, uploaded_at = stored_upload(world, dest["uploadDestinationId"])
        assert blob == data and uploaded_at is not None

    def test_refusals_store_nothing(self, world: World) -> None:
        dest = destination(world)
        data = encrypted(dest, PDF)
        url = httpx.URL(dest["url"])
        forged = url.copy_set_param("signature", "0" * 64)
        s3_error(httpx.put(forged, content=data, headers=dest["headers"]), 403, "SignatureDoesNotMatch")
        other = destination(world)
        swapped = url.copy_with(path=httpx.URL(other["url"]).path)
        s3_error(httpx.put(swapped, content=data, headers=dest["headers"]), 403, "SignatureDoesNotMatch")
        s3_error(httpx.put(url.copy_remove_param("signature"), content=data), 403, "AccessDenied")
        s3_error(put(dest, data, **{"Content-Type": "text/plain"}), 403, "SignatureDoesNotMatch")
        s3_error(put(dest, data + b"\x00" * 16), 400, "EntityTooLarge")
        s3_error(put(dest, b"\x00" * (docs.encrypted_length(docs.MAX_CONTENT_LENGTH) + 1)), 400, "EntityTooLarge")
        assert stored_upload(world, dest["uploadDestinationId"]) == (None, None)
        world.server.clock.offset += timedelta(seconds=docs.UPLOAD_URL_SECONDS + 1)
        s3_error(put(dest, data), 403, "AccessDenied")
        assert stored_upload(world, dest["uploadDestinationId"]) == (None, None)

    def test_the_enum_name_as_content_type_is_accepted(self, world: World) -> None:
        """Amazon's Java sample sends the contentType value itself as the Content-Type header."""
        dest = destination(world, PNG, "PNG")
        assert put(dest, encrypted(dest, PNG), **{"Content-Type": "PNG"}).status_code == 200


class TestVerification:
    def test_a_verified_document_becomes_the_poa(self, world: World) -> None:
        job_id, appointment_id = past_job(world)
        dest, data = uploaded(world)
        now = world.server.clock()
        with world.client() as c:
            r = c.put(
                f"/service/v1/serviceJobs/{job_id}/appointments/{appointment_id}/fulfillment",
                json={
                    "fulfillmentTime": {
                        "startTime": (now - timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "endTime": (now - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    },
                    "appointmentResources": [{"resourceId": world.technician_ids[1]}],
                    "fulfillmentDocuments": [
                        {"uploadDestinationId": dest["uploadDestinationId"], "contentSha256": sha(data)}
                    ],
                },
            )
            assert r.status_code == 204, r.text
            appointment = c.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"]["appointments"][0]
        poa = appointment["poa"]
        assert poa["poaType"] == "POA_RECEIPT"
        assert poa["technicians"] == [{"technicianId": world.technician_ids[1], "name": "Tech 1"}]
        assert poa["uploadingTechnician"] == world.technician_ids[1]
        assert poa["appointmentTime"] == appointment["appointmentTime"]
        assert poa["uploadTime"].endswith("Z")
        operator = httpx.get(
            f"{world.server.url}/operator/v1/documents/{dest['uploadDestinationId']}",
            headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
        )
        assert operator.status_code == 200
        assert operator.content == PDF
        assert operator.headers["content-type"] == "application/pdf"
        with world.client() as c:
            assert c.put(f"/service/v1/serviceJobs/{job_id}/completions").status_code == 200

    def test_plaintext_hash_and_no_hash_are_accepted(self, world: World) -> None:
        job_id, appointment_id = past_job(world)
        dest, _ = uploaded(world, PNG, "PNG")
        assert attach(world, job_id, appointment_id, dest["uploadDestinationId"], sha(PNG)).status_code == 204
        dest, _ = uploaded(world, PNG, "PNG")
        assert attach(world, job_id, appointment_id, dest["uploadDestinationId"], None).status_code == 204

    def test_each_failure_with_the_sandbox_text(self, world: World, other_world: World) -> None:
        job_id, appointment_id = past_job(world)

        def check(dest: dict[str, Any], data: bytes | None, reason: str, digest: str | None = None) -> None:
            if data is not None:
                assert put(dest, data).status_code == 200
            refused(attach(world, job_id, appointment_id, dest["uploadDestinationId"], digest), reason)

        refused(
            attach(world, job_id, appointment_id, "no-such-destination", None),
            "Input document id does not exist. Please check the input",
        )
        theirs, _ = uploaded(other_world)
        refused(
            attach(world, job_id, appointment_id, theirs["uploadDestinationId"], None),
            "Input document id does not exist. Please check the input",
        )
        check(destination(world), None, "Document encrypted not found or exist. Please review document uploaded")
        dest = destination(world)
        check(
            dest,
            encrypted(dest, PDF)[:-1],
            "Failed to retrieve document content length. Please review document uploaded",
        )
        dest = destination(world)
        check(
            dest,
            badly_padded(dest, len(encrypted(dest, PDF)) // 16),
            "Document failed to decrypt or decipher. Please review the uploaded document",
        )
        dest = destination(world, PDF, md5=False)
        check(
            dest,
            encrypted(dest, PDF[:-16]),
            "Document failed to meet content length restrictions. Please review document uploaded",
        )
        dest = destination(world)
        tampered = PDF[:-1] + b"!"
        check(
            dest,
            encrypted(dest, tampered),
            "Document failed to meet sanity check. Content MD5 does not match. Please review document uploaded",
        )
        png_as_pdf = PNG[: len(PDF)].ljust(len(PDF), b"\x00")
        dest = destination(world, png_as_pdf, "PDF")
        check(
            dest,
            encrypted(dest, png_as_pdf),
            "Document failed to meet content type restrictions. Please review document uploaded",
        )
        dest = destination(world)
        check(
            dest,
            encrypted(dest, PDF),
            "Document failed to meet sanity check. Could not get a Sha256 Message Digest instance. "
            "Please review document uploaded",
            digest="InvalidSHA256GiDNVqcxMqYEr7n0BCS9EtNN7szHe0RT=",
        )
        dest, data = uploaded(world)
        with world.server.db.transaction() as s:  # uploaded longer ago than an upload may be referenced
            s.execute(
                update(t.Document)
                .where(t.Document.upload_destination_id == dest["uploadDestinationId"])
                .values(created_at=world.server.clock() - timedelta(days=docs.REFERENCE_DAYS, minutes=1))
            )
        check(dest, None, "Input document parameters are invalid. Please check the input.", digest=sha(data))
        # Nothing was attached by any of these.
        with world.client() as c:
            appointment = c.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"]["appointments"][0]
        assert "poa" not in appointment

    def test_a_document_proves_one_appointment_only(self, world: World) -> None:
        first, first_appointment = past_job(world)
        second, second_appointment = past_job(world)
        dest, data = uploaded(world)
        assert attach(world, first, first_appointment, dest["uploadDestinationId"], sha(data)).status_code == 204
        assert attach(world, first, first_appointment, dest["uploadDestinationId"], sha(data)).status_code == 204
        refused(
            attach(world, second, second_appointment, dest["uploadDestinationId"], sha(data)),
            "Input document parameters are invalid. Please check the input.",
        )

    def test_an_attached_document_cannot_be_overwritten(self, world: World) -> None:
        """The upload URL is still valid for minutes after the document was verified: a second PUT
        must not replace the proof's bytes (issue #11 review)."""
        job_id, appointment_id = past_job(world)
        dest, data = uploaded(world)
        assert attach(world, job_id, appointment_id, dest["uploadDestinationId"], sha(data)).status_code == 204
        other = encrypted(dest, PDF.replace(b"proof", b"fake!"))
        refusal = put(dest, other)
        s3_error(refusal, 403, "AccessDenied")
        assert "<Message>Access Denied</Message>" in refusal.text
        assert stored_upload(world, dest["uploadDestinationId"])[0] == data


@pytest.fixture
def scanned(server: Server, tmp_path: Path) -> Iterator[Server]:
    """A server whose content scanner refuses anything containing the EICAR test string."""

    def configure(app: Any) -> None:
        from dataclasses import replace

        ctx = app.state.ctx
        ctx.document_store = replace(ctx.document_store, scanner=lambda content, _type: b"EICAR" not in content)

    srv = start_server(server.db, tmp_path, configure=configure)
    yield srv
    srv.stop()


def test_the_content_scanner_can_refuse_a_document(scanned: Server) -> None:
    world = make_world(scanned)
    job_id, appointment_id = past_job(world)
    infected = PDF + b"EICAR"
    dest, data = uploaded(world, infected)
    refused(
        attach(world, job_id, appointment_id, dest["uploadDestinationId"], sha(data)),
        "Document failed to meet malware check. Please review document uploaded",
    )
    clean, data = uploaded(world)
    assert attach(world, job_id, appointment_id, clean["uploadDestinationId"], sha(data)).status_code == 204


def test_purge_removes_old_unreferenced_uploads_only(world: World) -> None:
    job_id, appointment_id = past_job(world)
    kept, data = uploaded(world)
    assert attach(world, job_id, appointment_id, kept["uploadDestinationId"], sha(data)).status_code == 204
    stale, _ = uploaded(world)
    later = world.server.clock() + timedelta(days=docs.REFERENCE_DAYS, minutes=1)
    with world.server.db.transaction() as s:
        purged = document_service.purge_unreferenced(s, now=later, blobs=blob_store(world.server.settings))
    assert purged >= 1
    assert stored_upload(world, stale["uploadDestinationId"]) == (None, None)
    blob, uploaded_at = stored_upload(world, kept["uploadDestinationId"])
    assert blob is not None and uploaded_at is not None


def test_a_store_that_requires_proof_completes_only_with_a_document(world: World) -> None:
    with world.server.db.transaction() as s:
        s.execute(update(t.Store).where(t.Store.store_id == world.store_id).values(requires_proof=True))
    booked = world.server.clock().replace(microsecond=0) - timedelta(hours=6)
    (job_id,) = world.job(JobStatus.NOT_SERVICED, starts_at=booked, fulfilled=True)
    with world.client() as c:
        appointment_id = c.get(f"/service/v1/serviceJobs/{job_id}").json()["payload"]["appointments"][0][
            "appointmentId"
        ]
        r = c.put(f"/service/v1/serviceJobs/{job_id}/completions")
        assert r.status_code == 422
        assert r.json()["errors"][0]["message"] == (
            f"Failed to complete job with jobId : {job_id}, reason : The store requires a proof of appointment "
            f"document for appointment {appointment_id}."
        )
        dest, data = uploaded(world)
        assert attach(world, job_id, appointment_id, dest["uploadDestinationId"], sha(data)).status_code == 204
        assert c.put(f"/service/v1/serviceJobs/{job_id}/completions").status_code == 200
