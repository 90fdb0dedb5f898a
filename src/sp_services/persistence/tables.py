"""SQLAlchemy table definitions. The Alembic migrations are the source of truth for the schema;
these mirror them for the ORM and are checked against them by a test."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, hands out aware UTC: the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC instant")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], datetime | None] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff' text; the C parser reads it ten times faster than
        # the generic regular expression (instants are decoded on every read).
        def from_text(value: Any) -> datetime | None:
            return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)

        return from_text


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Seller(Base):
    __tablename__ = "sellers"
    seller_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    marketplace_ids: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class Application(Base):
    __tablename__ = "applications"
    client_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    roles: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class Authorization(Base):
    __tablename__ = "authorizations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.seller_id"))
    client_id: Mapped[str] = mapped_column(ForeignKey("applications.client_id"))
    refresh_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AccessToken(Base):
    __tablename__ = "access_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    authorization_id: Mapped[int] = mapped_column(ForeignKey("authorizations.id"))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Store(Base):
    __tablename__ = "stores"
    store_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.seller_id"), index=True)
    marketplace_id: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    postal_codes: Mapped[list[Any]] = mapped_column(JSON)
    service_location_types: Mapped[list[Any]] = mapped_column(JSON)
    slot_step_minutes: Mapped[int] = mapped_column(Integer)
    booking_horizon_days: Mapped[int] = mapped_column(Integer)
    minimum_notice_minutes: Mapped[int] = mapped_column(Integer)
    requires_proof: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    # Grows with every change of the store's capacity (migration 0006): computed slots may be kept.
    capacity_revision: Mapped[int] = mapped_column(Integer, server_default="1")


class Technician(Base):
    __tablename__ = "technicians"
    technician_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.seller_id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    skills: Mapped[list[Any]] = mapped_column(JSON)
    store_ids: Mapped[list[Any]] = mapped_column(JSON)
    service_location_types: Mapped[list[Any]] = mapped_column(JSON)
    background_check: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]


class ServiceOffering(Base):
    __tablename__ = "service_offerings"
    __table_args__ = (UniqueConstraint("seller_id", "marketplace_id", "asin"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.seller_id"))
    marketplace_id: Mapped[str] = mapped_column(String(20))
    asin: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(500))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    required_skills: Mapped[list[Any]] = mapped_column(JSON)
    service_type: Mapped[str] = mapped_column(String(16))
    price_value: Mapped[Any] = mapped_column(Numeric(12, 2))
    price_currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime]


class ServiceOrder(Base):
    __tablename__ = "service_orders"
    service_order_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.seller_id"), index=True)
    marketplace_id: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ServiceJob(Base):
    __tablename__ = "service_jobs"
    __table_args__ = (
        Index("ix_jobs_seller_created", "seller_id", "marketplace_id", "created_at", "service_job_id"),
        Index("ix_jobs_seller_updated", "seller_id", "marketplace_id", "updated_at"),
        Index("ix_jobs_seller_status", "seller_id", "marketplace_id", "status", "created_at"),
    )
    service_job_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    service_order_id: Mapped[str] = mapped_column(ForeignKey("service_orders.service_order_id"), index=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.seller_id"))
    marketplace_id: Mapped[str] = mapped_column(String(20))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.store_id"))
    status: Mapped[str] = mapped_column(String(20))
    service_type: Mapped[str] = mapped_column(String(16))
    asin: Mapped[str] = mapped_column(String(10))
    title: Mapped[str | None] = mapped_column(String(500))
    quantity: Mapped[int] = mapped_column(Integer)
    required_skills: Mapped[list[Any]] = mapped_column(JSON)
    service_job_provider_id: Mapped[str | None] = mapped_column(String(32))
    buyer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    service_location: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    preferred_appointment_times: Mapped[list[Any]] = mapped_column(JSON)
    associated_items: Mapped[list[Any]] = mapped_column(JSON)
    payments: Mapped[list[Any]] = mapped_column(JSON)
    cancellation_reason_code: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Grows with every event of the job (migration 0006): a worker may keep its serialised form.
    revision: Mapped[int] = mapped_column(Integer, server_default="1")

    appointments: Mapped[list[AppointmentRow]] = relationship(
        back_populates="job", order_by="AppointmentRow.created_at", lazy="raise"
    )


class JobTag(Base):
    """Searchable multi-valued job attributes: skills, product order ids, tracking ids."""

    __tablename__ = "job_tags"
    __table_args__ = (Index("ix_job_tags_lookup", "kind", "value", "service_job_id"),)
    service_job_id: Mapped[str] = mapped_column(ForeignKey("service_jobs.service_job_id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(100), primary_key=True)


class AppointmentRow(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        Index("ix_appointments_job", "service_job_id", "status"),
        Index("ix_appointments_start", "seller_id", "start_time"),
        Index("ix_appointments_status_start", "status", "start_time"),
    )
    appointment_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    service_job_id: Mapped[str] = mapped_column(ForeignKey("service_jobs.service_job_id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.seller_id"))
    status: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(Integer)
    rescheduled_appointment_id: Mapped[str | None] = mapped_column(String(100))
    reschedule_reason_code: Mapped[str | None] = mapped_column(String(100))
    fulfillment_start: Mapped[datetime | None]
    fulfillment_end: Mapped[datetime | None]
    eta_start: Mapped[datetime | None]
    eta_end: Mapped[datetime | None]
    poa: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    fulfillment_resources: Mapped[list[Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    job: Mapped[ServiceJob] = relationship(back_populates="appointments", lazy="raise")
    technicians: Mapped[list[AppointmentTechnician]] = relationship(
        order_by="AppointmentTechnician.position", lazy="raise", cascade="all, delete-orphan"
    )


class JobEvent(Base):
    """One change of a job, with the job's status after it (append-only)."""

    __tablename__ = "job_events"
    __table_args__ = (
        Index("ix_job_events_job", "service_job_id", "at", "id"),
        Index("ix_job_events_kind_at", "kind", "at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_job_id: Mapped[str] = mapped_column(ForeignKey("service_jobs.service_job_id"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(20))
    appointment_id: Mapped[str | None] = mapped_column(String(100))
    reason_code: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AppointmentTechnician(Base):
    __tablename__ = "appointment_technicians"
    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.appointment_id"), primary_key=True)
    technician_id: Mapped[str] = mapped_column(ForeignKey("technicians.technician_id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class KeyValue(Base):
    """Small server-side state: the demo data's printed credentials."""

    __tablename__ = "key_values"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ScheduleRecord(Base):
    """One availability record of a resource's schedule; ``position`` keeps the request order,
    which decides overrides (a later record wins where records overlap)."""

    __tablename__ = "schedule_records"
    __table_args__ = (Index("ix_schedule_records_resource", "resource_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resource_id: Mapped[str] = mapped_column(String(100))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.seller_id"))
    position: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[datetime]
    end_time: Mapped[datetime]
    capacity: Mapped[int] = mapped_column(Integer)
    recurrence_end: Mapped[datetime | None]
    days_of_week: Mapped[list[Any]] = mapped_column(JSON)
    days_of_month: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class Reservation(Base):
    __tablename__ = "reservations"
    __table_args__ = (Index("ix_reservations_resource", "resource_id", "start_time"),)
    reservation_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(100))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.seller_id"))
    type: Mapped[str] = mapped_column(String(16))
    start_time: Mapped[datetime]
    end_time: Mapped[datetime]
    capacity: Mapped[int] = mapped_column(Integer)
    recurrence_end: Mapped[datetime | None]
    days_of_week: Mapped[list[Any]] = mapped_column(JSON)
    days_of_month: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class Document(Base):
    """An upload destination and, once the client has PUT it, the encrypted document behind it.

    The per-document AES key and IV are stored only wrapped (AES-GCM under the server secret)."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_appointment", "appointment_id"),
        Index("ix_documents_unreferenced", "appointment_id", "created_at"),
    )
    upload_destination_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.seller_id"))
    content_type: Mapped[str] = mapped_column(String(8))
    content_length: Mapped[int] = mapped_column(Integer)
    content_md5: Mapped[str | None] = mapped_column(String(32))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    url_expires_at: Mapped[datetime]
    uploaded_at: Mapped[datetime | None]
    uploaded_length: Mapped[int | None] = mapped_column(Integer)
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointments.appointment_id"))
    attached_at: Mapped[datetime | None]
    content_sha256: Mapped[str | None] = mapped_column(String(64))


# ---- the dispatcher dashboard (migration 0007) ----------------------------------------------

# The Today page's lists and counts, in their order: one seller's ACTIVE appointments by start, and
# its jobs of one status by creation (the index by creation alone would be walked through every
# job of the seller to find a few pending ones), whatever else the seller has.
Index(
    "ix_appointments_seller_status_start",
    AppointmentRow.seller_id,
    AppointmentRow.status,
    AppointmentRow.start_time,
    AppointmentRow.appointment_id,
)
Index(
    "ix_jobs_seller_status_created_id",
    ServiceJob.seller_id,
    ServiceJob.marketplace_id,
    ServiceJob.status,
    ServiceJob.created_at,
    ServiceJob.service_job_id,
)
# getServiceJobs (and the report) filtered by store: one index range per store and status, in the
# listing's order (migration 0008).
Index(
    "ix_jobs_seller_store_status",
    ServiceJob.seller_id,
    ServiceJob.marketplace_id,
    ServiceJob.store_id,
    ServiceJob.status,
    ServiceJob.created_at,
    ServiceJob.service_job_id,
)


class DashboardUser(Base):
    """A person who logs in to one seller's dashboard; the password is kept as an Argon2id hash."""

    __tablename__ = "dashboard_users"
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.seller_id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(Integer, server_default="0")
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class DashboardSession(Base):
    """A logged-in browser: only the SHA-256 of its random session id is kept (the cookie holds the id)."""

    __tablename__ = "dashboard_sessions"
    session_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("dashboard_users.user_id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
