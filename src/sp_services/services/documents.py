"""Document use cases: upload destinations, receiving uploads, verifying and attaching them as
proof of appointment, operator download, and retention (docs/design.md §5)."""

from __future__ import annotations

import base64
import hashlib
import importlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from sp_services.blobs import BlobStore, blob_store
from sp_services.domain import documents as docs
from sp_services.domain.errors import ErrorItem, NotFound, UploadRefused
from sp_services.domain.jobs import Appointment
from sp_services.domain.times import format_utc
from sp_services.persistence.repositories.catalog import CatalogRepository
from sp_services.persistence.repositories.documents import DocumentRepository, StoredDocument
from sp_services.persistence.repositories.jobs import JobRepository
from sp_services.settings import Settings


@dataclass(frozen=True)
class DocumentStore:
    """What document work needs besides the database: the server secret, the blob store, and the
    optional content scanner (the malware-check hook)."""

    secret: bytes
    blobs: BlobStore
    scanner: docs.Scanner | None = None

    @classmethod
    def configured(cls, settings: Settings) -> DocumentStore:
        """The store the settings describe: their secret, blob store and content scanner."""
        return cls(settings.resolved_secret_key, blob_store(settings), load_scanner(settings.content_scanner))


def load_scanner(path: str | None) -> docs.Scanner | None:
    """The content scanner named ``package.module:function`` (SP_SERVICES_CONTENT_SCANNER), if any.

    It is called with the decrypted bytes and the declared content type and returns True when the
    document is clean; False refuses it with the sandbox's malware-check message."""
    if not path:
        return None
    module_name, _, attribute = path.partition(":")
    if not attribute:
        raise ValueError(f"content scanner {path!r} is not 'module:function'")
    scanner = getattr(importlib.import_module(module_name), attribute)
    if not callable(scanner):
        raise ValueError(f"content scanner {path!r} is not callable")
    return cast(docs.Scanner, scanner)


def blob_key(destination_id: str) -> str:
    return f"documents/{destination_id}"


@dataclass(frozen=True)
class UploadDestination:
    """Where and how to upload one document: a signed URL on this server, the key and IV to
    encrypt with, and the Content-Type the upload must carry."""

    destination_id: str
    url: str
    key: docs.DocumentKey
    content_type: str


def create_destination(
    session: Session,
    *,
    seller_id: str,
    declared: docs.Declared,
    now: datetime,
    document_store: DocumentStore,
    public_url: str,
) -> UploadDestination:
    """createServiceDocumentUploadDestination: a fresh key and IV and a signed URL on this server."""
    destination_id = str(uuid.uuid4())
    key = docs.DocumentKey.new()
    expires = now + timedelta(seconds=docs.UPLOAD_URL_SECONDS)
    DocumentRepository(session).add(
        destination_id,
        seller_id=seller_id,
        declared=declared,
        wrapped_key=key.wrap(document_store.secret),
        now=now,
        url_expires_at=expires,
    )
    epoch = int(expires.timestamp())
    query = urlencode(
        {"expires": epoch, "signature": docs.upload_signature(document_store.secret, destination_id, epoch)}
    )
    url = f"{public_url.rstrip('/')}/uploads/{destination_id}?{query}"
    return UploadDestination(destination_id, url, key, docs.MIME[declared.content_type])


def check_upload_url(
    destination_id: str, expires: str | None, signature: str | None, *, now: datetime, secret: bytes
) -> None:
    """The URL's signature and expiry, before any body is read."""
    if not expires or not signature or not (expires.isascii() and expires.isdigit() and len(expires) <= 12):
        raise UploadRefused.access_denied("Query-string authentication requires the expires and signature.")
    if not (signature.isascii() and len(signature) == 64):
        raise UploadRefused.signature_mismatch()
    if not docs.signature_valid(secret, destination_id, int(expires), signature):
        raise UploadRefused.signature_mismatch()
    if now.timestamp() > int(expires):
        raise UploadRefused.access_denied("Request has expired")


def receive_upload(
    session: Session,
    *,
    destination_id: str,
    content_type: str | None,
    body: bytes,
    now: datetime,
    document_store: DocumentStore,
) -> str:
    """Store the encrypted bytes PUT to a signed URL (already checked); returns the S3-style ETag."""
    repo = DocumentRepository(session)
    stored = repo.get(destination_id, for_update=True)
    if stored is None or stored.appointment_id is not None:
        # Once verified and attached, a document is proof: its bytes cannot be replaced.
        raise UploadRefused.access_denied()
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime not in docs.upload_content_types(stored.declared.content_type):
        # The content type is part of what the URL was issued for, as in a presigned S3 PUT.
        raise UploadRefused.signature_mismatch()
    if len(body) > docs.encrypted_length(stored.declared.content_length):
        raise UploadRefused.too_large()
    document_store.blobs.put(blob_key(destination_id), body)
    repo.mark_uploaded(destination_id, length=len(body), now=now)
    return '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'


@dataclass(frozen=True)
class Verified:
    document: StoredDocument
    content_sha256: str | None


def verify_references(
    session: Session,
    *,
    seller_id: str,
    appointment_id: str,
    references: Sequence[Mapping[str, object]],
    now: datetime,
    document_store: DocumentStore,
) -> list[Verified] | ErrorItem:
    """Check every referenced upload; the first failure, in the sandbox's words, or all of them."""
    repo = DocumentRepository(session)
    out: list[Verified] = []
    for ref in references:
        destination_id = str(ref.get("uploadDestinationId"))
        sha = ref.get("contentSha256")
        content_sha256 = sha if isinstance(sha, str) else None
        stored = repo.get(destination_id, for_update=True)
        if stored is None or stored.seller_id != seller_id:
            return _fail(docs.Rejection.UNKNOWN)
        # Expired for reference, or already the proof of another appointment.
        if now - stored.created_at > timedelta(days=docs.REFERENCE_DAYS) or stored.appointment_id not in (
            None,
            appointment_id,
        ):
            return _fail(docs.Rejection.INVALID)
        ciphertext = document_store.blobs.get(blob_key(destination_id)) if stored.uploaded_at is not None else None
        key = docs.DocumentKey.unwrap(stored.wrapped_key, document_store.secret)
        _, rejection = docs.verify(ciphertext, key, stored.declared, content_sha256, scanner=document_store.scanner)
        if rejection is not None:
            return _fail(rejection)
        out.append(Verified(stored, content_sha256))
    return out


def _fail(rejection: docs.Rejection) -> ErrorItem:
    return ErrorItem("InvalidInput", rejection.value, "")


POA_TYPE = "POA_RECEIPT"


def attach(
    session: Session,
    *,
    appointment: Appointment,
    verified: Sequence[Verified],
    technician_ids: Sequence[str],
    now: datetime,
) -> None:
    """Make the verified uploads the appointment's proof: linked to it, and its ``poa`` set."""
    repo = DocumentRepository(session)
    for v in verified:
        repo.attach(
            v.document.upload_destination_id,
            appointment_id=appointment.appointment_id,
            content_sha256=v.content_sha256,
            now=now,
        )
    known = CatalogRepository(session).technicians(list(technician_ids))
    technicians = [{"technicianId": tid, "name": known[tid].name} for tid in technician_ids if tid in known]
    poa: dict[str, Any] = {
        "appointmentTime": {
            "startTime": format_utc(appointment.start_time),
            "durationInMinutes": appointment.duration_minutes,
        },
        "uploadTime": format_utc(now),
        "poaType": POA_TYPE,
    }
    if technicians:
        poa["technicians"] = technicians
        poa["uploadingTechnician"] = technicians[0]["technicianId"]
    JobRepository(session).set_poa(appointment.appointment_id, poa, now=now)


def has_proof(session: Session, appointment_id: str) -> bool:
    return bool(DocumentRepository(session).of_appointment(appointment_id))


@dataclass(frozen=True)
class DocumentContent:
    """A decrypted document as uploaded, and what is known about it (operator view)."""

    mime_type: str
    content: bytes
    seller_id: str
    appointment_id: str | None
    content_md5: str  # base64 MD5 of the plain bytes


def document_content(session: Session, *, destination_id: str, document_store: DocumentStore) -> DocumentContent:
    """Operator: the decrypted document and what is known about it."""
    stored = DocumentRepository(session).get(destination_id)
    blobs = document_store.blobs
    ciphertext = blobs.get(blob_key(destination_id)) if stored and stored.uploaded_at else None
    if stored is None or ciphertext is None:
        raise NotFound(ErrorItem("NotFound", f"No uploaded document {destination_id}.", ""))
    plaintext = docs.decrypt(ciphertext, docs.DocumentKey.unwrap(stored.wrapped_key, document_store.secret))
    md5 = base64.b64encode(hashlib.md5(plaintext, usedforsecurity=False).digest()).decode()
    mime = docs.MIME[stored.declared.content_type]
    return DocumentContent(mime, plaintext, stored.seller_id, stored.appointment_id, md5)


def purge_unreferenced(session: Session, *, now: datetime, blobs: BlobStore) -> int:
    """Retention: uploads never attached to an appointment within the reference period are deleted
    (blob and record). Returns how many."""
    repo = DocumentRepository(session)
    purged = 0
    while ids := repo.unreferenced_before(now - timedelta(days=docs.REFERENCE_DAYS)):
        for destination_id in ids:
            blobs.delete(blob_key(destination_id))
        repo.delete(ids)
        purged += len(ids)
    return purged
