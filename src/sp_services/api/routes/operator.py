"""Operator API (``/operator/v1``, our extension): the marketplace side, behind the operator key."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from sp_services.api import wire
from sp_services.api.context import AppContext, context, require_operator_key
from sp_services.domain import ids
from sp_services.domain.enums import BackgroundCheck, ServiceLocationType, ServiceType
from sp_services.domain.errors import InvalidInput
from sp_services.services import accounts as account_service
from sp_services.services import documents as document_service
from sp_services.services import jobs as job_service
from sp_services.services import operator as service

router = APIRouter(prefix="/operator/v1", tags=["operator"], dependencies=[Depends(require_operator_key)])


class Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _finite_numbers(cls, data: Any) -> Any:
        """JSON has no NaN or Infinity (Python's parser accepts them): refuse them anywhere in a body,
        also inside free-form members (payments, buyer), which are stored as JSON."""
        if _non_finite(data):
            raise ValueError("numbers must be finite (NaN and Infinity are not JSON)")
        return data


class SellerIn(Model):
    name: str = Field(min_length=1, max_length=200)
    marketplace_ids: list[str] = Field(min_length=1, max_length=20)
    seller_id: str | None = Field(default=None, pattern=ids.SELLER_ID.pattern)


class ApplicationIn(Model):
    name: str = Field(min_length=1, max_length=200)
    roles: list[str] = Field(default_factory=lambda: ["ProfessionalServices"], max_length=20)


class AuthorizationIn(Model):
    seller_id: str
    client_id: str


class StoreIn(Model):
    seller_id: str
    marketplace_id: str
    name: str = Field(min_length=1, max_length=200)
    store_id: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._\-]+$")
    timezone: str | None = None
    postal_codes: list[str] = Field(default_factory=list, max_length=10000)
    service_location_types: list[ServiceLocationType] = Field(
        default_factory=lambda: [ServiceLocationType.IN_HOME], min_length=1
    )
    slot_step_minutes: int = Field(default=60, ge=5, le=1440, multiple_of=5)
    booking_horizon_days: int = Field(default=14, ge=1, le=90)
    minimum_notice_minutes: int = Field(default=0, ge=0, le=43200)
    requires_proof: bool = False


class TechnicianIn(Model):
    seller_id: str
    name: str = Field(min_length=1, max_length=200)
    technician_id: str | None = Field(default=None, pattern=ids.TECHNICIAN_ID.pattern)
    skills: list[str] = Field(default_factory=list, max_length=100)
    store_ids: list[str] = Field(default_factory=list, max_length=100)
    service_location_types: list[ServiceLocationType] = Field(
        default_factory=lambda: [ServiceLocationType.IN_HOME], min_length=1
    )
    background_check_status: BackgroundCheck = BackgroundCheck.PASSED


class Money(Model):
    value: Decimal = Field(ge=0, le=Decimal("9999999999"))
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class OfferingIn(Model):
    seller_id: str
    marketplace_id: str
    asin: str = Field(pattern=ids.ASIN.pattern)
    title: str = Field(min_length=1, max_length=500)
    duration_minutes: int = Field(ge=5, le=1440)
    required_skills: list[str] = Field(default_factory=list, max_length=20)
    service_type: ServiceType = ServiceType.DEFAULT
    price: Money | None = None


class AppointmentTimeIn(Model):
    start_time: datetime
    duration_in_minutes: int = Field(ge=1, le=1440)


class JobIn(Model):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")
    asin: str = Field(pattern=ids.ASIN.pattern)
    quantity: int = Field(default=1, ge=1, le=1000)
    preferred_appointment_times: list[AppointmentTimeIn] = Field(default_factory=list, max_length=10)
    associated_items: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    payments: list[dict[str, Any]] = Field(default_factory=list, max_length=20)
    product_order_ids: list[str] = Field(default_factory=list, max_length=20)
    tracking_ids: list[str] = Field(default_factory=list, max_length=20)
    appointment_start_time: datetime | None = None
    technician_ids: list[str] = Field(default_factory=list, max_length=20)


class OrderIn(Model):
    seller_id: str
    marketplace_id: str
    store_id: str
    service_order_id: str | None = Field(default=None, pattern=ids.SERVICE_ORDER_ID.pattern)
    buyer: dict[str, Any] | None = None
    service_location: dict[str, Any] | None = None
    jobs: list[JobIn] = Field(min_length=1, max_length=50)


class JobStatusIn(Model):
    action: Literal["HOLD", "PAYMENT_DECLINED", "NOT_FULFILLABLE", "RELEASE"]


class DashboardUserIn(Model):
    seller_id: str
    email: str = Field(min_length=3, max_length=254)
    role: Literal["viewer", "dispatcher"]
    password: str | None = Field(default=None, min_length=12, max_length=1024)


def _non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_non_finite(v) for v in value)
    return False


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput.params([name], "Times must carry a zone (Z or an offset).")
    return value


@router.post("/sellers", status_code=201)
async def create_seller(body: SellerIn, ctx: AppContext = Depends(context)) -> dict[str, Any]:
    seller = await ctx.run(
        lambda s, now: service.create_seller(
            s, name=body.name, marketplace_ids=body.marketplace_ids, seller_id=body.seller_id, now=now
        ),
    )
    return {"sellerId": seller.seller_id, "name": seller.name, "marketplaceIds": list(seller.marketplace_ids)}


@router.post("/applications", status_code=201)
async def create_application(body: ApplicationIn, ctx: AppContext = Depends(context)) -> dict[str, Any]:
    app = await ctx.run(lambda s, now: service.create_application(s, name=body.name, roles=body.roles, now=now))
    return {"clientId": app.client_id, "clientSecret": app.client_secret, "roles": list(app.roles)}


@router.post("/authorizations", status_code=201)
async def create_authorization(body: AuthorizationIn, ctx: AppContext = Depends(context)) -> dict[str, Any]:
    token = await ctx.run(
        lambda s, now: service.authorize(s, seller_id=body.seller_id, client_id=body.client_id, now=now)
    )
    return {"sellerId": body.seller_id, "clientId": body.client_id, "refreshToken": token}


@router.post("/stores", status_code=201)
async def create_store(body: StoreIn, ctx: AppContext = Depends(context)) -> dict[str, Any]:
    draft = service.NewStore(
        seller_id=body.seller_id,
        marketplace_id=body.marketplace_id,
        name=body.name,
        store_id=body.store_id,
        timezone=body.timezone,
        postal_codes=tuple(body.postal_codes),
        service_location_types=tuple(body.service_location_types),
        slot_step_minutes=body.slot_step_minutes,
        booking_horizon_days=body.booking_horizon_days,
        minimum_notice_minutes=body.minimum_notice_minutes,
        requires_proof=body.requires_proof,
    )
    store = await ctx.run(lambda s, now: service.create_store(s, store=draft, now=now))
    return wire.store(store)


@router.post("/technicians", status_code=201)
async def create_technician(body: TechnicianIn, ctx: AppContext = Depends(context)) -> dict[str, Any]:
    draft = service.NewTechnician(
        seller_id=body.seller_id,
        name=body.name,
        technician_id=body.technician_id,
        skills=tuple(body.skills),
        store_ids=tuple(body.store_ids),
        service_location_types=tuple(body.service_location_types),
        background_check=body.background_check_status,
    )
    tech = await ctx.run(lambda s, now: service.create_technician(s, technician=draft, now=now))
    return {"technicianId": tech.technician_id, "sellerId": tech.seller_id, "name": tech.name}


@router.post("/serviceOfferings", status_code=201)
async def create_offering(body: OfferingIn, ctx: AppContext = Depends(context)) -> dict[str, Any]:
    draft = service.NewOffering(
        seller_id=body.seller_id,
        marketplace_id=body.marketplace_id,
        asin=body.asin,
        title=body.title,
        duration_minutes=body.duration_minutes,
        required_skills=tuple(body.required_skills),
        service_type=body.service_type,
        price=body.price.value if body.price else None,
        currency=body.price.currency if body.price else None,
    )
    offering = await ctx.run(lambda s, now: service.create_offering(s, offering=draft, now=now))
    return {"sellerId": offering.seller_id, "marketplaceId": offering.marketplace_id, "asin": offering.asin}


@router.post("/serviceOrders", status_code=201)
async def create_order(body: OrderIn, ctx: AppContext = Depends(context)) -> dict[str, Any]:
    jobs = tuple(
        service.NewJob(
            asin=j.asin,
            quantity=j.quantity,
            preferred_appointment_times=tuple(
                (_aware(p.start_time, "preferredAppointmentTimes"), p.duration_in_minutes)
                for p in j.preferred_appointment_times
            ),
            associated_items=tuple(j.associated_items),
            payments=tuple(j.payments),
            product_order_ids=tuple(j.product_order_ids),
            tracking_ids=tuple(j.tracking_ids),
            appointment_start=(
                _aware(j.appointment_start_time, "appointmentStartTime") if j.appointment_start_time else None
            ),
            technician_ids=tuple(j.technician_ids),
        )
        for j in body.jobs
    )
    order = service.NewOrder(
        seller_id=body.seller_id,
        marketplace_id=body.marketplace_id,
        store_id=body.store_id,
        buyer=body.buyer,
        service_location=body.service_location,
        jobs=jobs,
        service_order_id=body.service_order_id,
    )
    created = await ctx.run(lambda s, now: service.create_order(s, order=order, now=now))
    response: dict[str, Any] = {
        "serviceOrderId": created.service_order_id,
        "jobs": [wire.service_job(j) for j in created.jobs],
    }
    if created.warnings:
        response["warnings"] = [
            {"serviceJobId": job_id, "code": w.code, "message": w.message} for job_id, w in created.warnings
        ]
    return response


@router.post("/dashboardUsers", status_code=201)
async def create_dashboard_user(body: DashboardUserIn, ctx: AppContext = Depends(context)) -> dict[str, Any]:
    """A dispatcher-dashboard account of one seller (docs/design.md §8); a password is generated
    when none is sent, and then shown in this answer only."""
    created = await ctx.run(
        lambda s, now: account_service.create_user(
            s, seller_id=body.seller_id, email=body.email, role=body.role, password=body.password, now=now
        )
    )
    user = created.user
    answer: dict[str, Any] = {
        "userId": user.user_id,
        "sellerId": user.seller_id,
        "email": user.email,
        "role": user.role.value,
    }
    if created.password is not None:
        answer["password"] = created.password
    return answer


@router.put("/serviceJobs/{serviceJobId}/status")
async def set_job_status(serviceJobId: str, body: JobStatusIn, ctx: AppContext = Depends(context)) -> dict[str, Any]:
    action = "release" if body.action == "RELEASE" else f"mark_{body.action.lower()}"
    status = await ctx.run(
        lambda s, now: job_service.set_marketplace_status(s, job_id=serviceJobId, action=action, now=now)
    )
    return {"serviceJobId": serviceJobId, "serviceJobStatus": status.value}


@router.get("/serviceOrders/{serviceOrderId}")
async def get_order(serviceOrderId: str, ctx: AppContext = Depends(context)) -> dict[str, Any]:
    summary = await ctx.run(lambda s, _now: service.order_summary(s, service_order_id=serviceOrderId), write=False)
    return wire.order_summary(summary)


@router.get("/documents/{uploadDestinationId}")
async def download_document(uploadDestinationId: str, ctx: AppContext = Depends(context)) -> Response:
    """The decrypted proof-of-appointment document, as uploaded (operator view)."""
    document = await ctx.run(
        lambda s, _now: document_service.document_content(
            s, destination_id=uploadDestinationId, document_store=ctx.document_store
        ),
        write=False,
    )
    headers = {"Content-MD5": document.content_md5}
    if document.appointment_id:
        headers["X-Appointment-Id"] = document.appointment_id
    return Response(document.content, media_type=document.mime_type, headers=headers)
