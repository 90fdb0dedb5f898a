"""Enumerations of the wire model (services.json) and of our own domain."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    NOT_SERVICED = "NOT_SERVICED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    PENDING_SCHEDULE = "PENDING_SCHEDULE"
    NOT_FULFILLABLE = "NOT_FULFILLABLE"
    HOLD = "HOLD"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"


class AppointmentStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"


class OrderStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class ServiceType(StrEnum):
    """Service type of an offering; selects the reason-code column (use-case guide)."""

    DEFAULT = "default"
    HEAVY_BULKY = "heavybulky"
    RECURRING = "recurring"


class ServiceLocationType(StrEnum):
    IN_HOME = "IN_HOME"
    IN_STORE = "IN_STORE"
    ONLINE = "ONLINE"


class BackgroundCheck(StrEnum):
    PASSED = "PASSED"
    PENDING = "PENDING"


class ItemStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"


class JobEventKind(StrEnum):
    """What happened to a job (one row of its timeline)."""

    CREATED = "CREATED"
    BOOKED = "BOOKED"
    RESCHEDULED = "RESCHEDULED"
    ASSIGNED = "ASSIGNED"
    FULFILLMENT_RECORDED = "FULFILLMENT_RECORDED"
    DOCUMENT_ATTACHED = "DOCUMENT_ATTACHED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    HOLD = "HOLD"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    NOT_FULFILLABLE = "NOT_FULFILLABLE"
    RELEASED = "RELEASED"
    UPDATED = "UPDATED"  # a status change of a job older than the event log (migration 0005)


class SortField(StrEnum):
    JOB_DATE = "JOB_DATE"
    JOB_STATUS = "JOB_STATUS"


class SortOrder(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


PROFESSIONAL_SERVICES_ROLE = "ProfessionalServices"
