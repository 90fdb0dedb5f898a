"""Upload destinations and the documents behind them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from sp_services.domain.documents import ContentType, Declared
from sp_services.persistence import tables as t

from .base import Repository


@dataclass(frozen=True)
class StoredDocument:
    upload_destination_id: str
    seller_id: str
    declared: Declared
    wrapped_key: bytes
    created_at: datetime
    url_expires_at: datetime
    uploaded_at: datetime | None
    appointment_id: str | None


def _document(row: t.Document) -> StoredDocument:
    return StoredDocument(
        upload_destination_id=row.upload_destination_id,
        seller_id=row.seller_id,
        declared=Declared(ContentType(row.content_type), row.content_length, row.content_md5),
        wrapped_key=row.wrapped_key,
        created_at=row.created_at,
        url_expires_at=row.url_expires_at,
        uploaded_at=row.uploaded_at,
        appointment_id=row.appointment_id,
    )


class DocumentRepository(Repository):
    def add(
        self,
        destination_id: str,
        *,
        seller_id: str,
        declared: Declared,
        wrapped_key: bytes,
        now: datetime,
        url_expires_at: datetime,
    ) -> None:
        self.session.add(
            t.Document(
                upload_destination_id=destination_id,
                seller_id=seller_id,
                content_type=declared.content_type.value,
                content_length=declared.content_length,
                content_md5=declared.content_md5,
                wrapped_key=wrapped_key,
                created_at=now,
                url_expires_at=url_expires_at,
            )
        )
        self.session.flush()

    def get(self, destination_id: str, *, for_update: bool = False) -> StoredDocument | None:
        stmt = select(t.Document).where(t.Document.upload_destination_id == destination_id)
        row = self.session.scalar(stmt.with_for_update() if for_update else stmt)
        return None if row is None else _document(row)

    def mark_uploaded(self, destination_id: str, *, length: int, now: datetime) -> None:
        self.session.execute(
            update(t.Document)
            .where(t.Document.upload_destination_id == destination_id)
            .values(uploaded_at=now, uploaded_length=length)
        )

    def attach(self, destination_id: str, *, appointment_id: str, content_sha256: str | None, now: datetime) -> None:
        self.session.execute(
            update(t.Document)
            .where(t.Document.upload_destination_id == destination_id)
            .values(appointment_id=appointment_id, attached_at=now, content_sha256=content_sha256)
        )

    def of_appointment(self, appointment_id: str) -> list[StoredDocument]:
        rows = self.session.scalars(
            select(t.Document).where(t.Document.appointment_id == appointment_id).order_by(t.Document.attached_at)
        )
        return [_document(r) for r in rows]

    def unreferenced_before(self, cutoff: datetime, *, limit: int = 1000) -> list[str]:
        """Destinations never attached to an appointment and created before ``cutoff``."""
        rows = self.session.scalars(
            select(t.Document.upload_destination_id)
            .where(t.Document.appointment_id.is_(None), t.Document.created_at < cutoff)
            .order_by(t.Document.created_at)
            .limit(limit)
        )
        return list(rows)

    def delete(self, destination_ids: list[str]) -> None:
        if destination_ids:
            self.session.execute(delete(t.Document).where(t.Document.upload_destination_id.in_(destination_ids)))
