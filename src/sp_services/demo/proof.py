"""A technician's proof of appointment, made the way a client makes one (docs/design.md §5): an
upload destination, the document encrypted with its key (AES-256-CBC, PKCS#7), the upload, and
the reference that setAppointmentFulfillmentData then verifies and attaches."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from sp_services.domain import documents as docs
from sp_services.domain.times import format_utc
from sp_services.services import documents
from sp_services.services.documents import DocumentStore


def receipt(*, job_id: str, appointment_id: str, technician_ids: tuple[str, ...], at: datetime) -> bytes:
    """A one-page PDF work receipt."""
    text = f"Service receipt: job {job_id}, appointment {appointment_id}, by {', '.join(technician_ids) or '-'}, "
    text += f"signed by the customer at {format_utc(at)}"
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
        + f"% {text}\n".encode()
        + b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def upload(
    session: Session,
    *,
    seller_id: str,
    content: bytes,
    now: datetime,
    document_store: DocumentStore,
    public_url: str,
) -> Mapping[str, object]:
    """Upload ``content`` as a PDF; the document reference to send with the fulfillment data."""
    declared = docs.Declared(
        docs.ContentType.PDF, len(content), _b64(hashlib.md5(content, usedforsecurity=False).digest())
    )
    destination = documents.create_destination(
        session, seller_id=seller_id, declared=declared, now=now, document_store=document_store, public_url=public_url
    )
    body = docs.encrypt(content, destination.key)
    documents.receive_upload(
        session,
        destination_id=destination.destination_id,
        content_type=destination.content_type,
        body=body,
        now=now,
        document_store=document_store,
    )
    # Amazon's sample hashes the encrypted bytes.
    return {"uploadDestinationId": destination.destination_id, "contentSha256": _b64(hashlib.sha256(body).digest())}
