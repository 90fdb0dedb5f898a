"""Identifier formats and generators."""

from __future__ import annotations

import re
import secrets
import string
import uuid

SERVICE_JOB_ID = re.compile(r"^[A-Za-z0-9._\-]{1,100}$")
APPOINTMENT_ID = re.compile(r"^[A-Za-z0-9._\-]{5,100}$")
SERVICE_ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")
SELLER_ID = re.compile(r"^[A-Z0-9]{1,32}$")
TECHNICIAN_ID = re.compile(r"^[A-Z0-9]{1,50}$")
# Resources are stores (any store id) or technicians; reservations get UUIDs.
RESOURCE_ID = re.compile(r"^[A-Za-z0-9._\-]{1,100}$")
RESERVATION_ID = re.compile(r"^[A-Za-z0-9._\-]{1,100}$")
ASIN = re.compile(r"^[A-Z0-9]{10}$")
MARKETPLACE_ID = re.compile(r"^[A-Z0-9]{1,20}$")
REASON_CODE = re.compile(r"^[A-Z0-9_]{1,100}$")
# getServiceJobs filter items (services.json patterns).
ORDER_ID_FILTER = re.compile(r"^[0-9\-]+$")
TRACKING_ID = re.compile(r"^[A-Za-z0-9\-]+$")

_UPPER_DIGITS = string.ascii_uppercase + string.digits


def new_service_order_id() -> str:
    """An order id in Amazon's 3-7-7 format."""
    d = "".join(secrets.choice(string.digits) for _ in range(17))
    return f"{d[:3]}-{d[3:10]}-{d[10:]}"


def new_service_job_id() -> str:
    return str(uuid.uuid4())


def new_appointment_id(service_job_id: str) -> str:
    """``<serviceJobId>_<uuid>`` as Amazon's appointment ids look."""
    return f"{service_job_id}_{uuid.uuid4()}"


def new_seller_id() -> str:
    return "A" + "".join(secrets.choice(_UPPER_DIGITS) for _ in range(13))


def new_technician_id() -> str:
    return "T" + "".join(secrets.choice(_UPPER_DIGITS) for _ in range(11))


def new_store_id() -> str:
    return str(uuid.uuid4())


def new_client_id() -> str:
    return "amzn1.application-oa2-client." + secrets.token_hex(16)


def new_client_secret() -> str:
    return "amzn1.oa2-cs.v1." + secrets.token_hex(32)


def new_refresh_token() -> str:
    return "Atzr|" + secrets.token_urlsafe(48)


def new_access_token() -> str:
    return "Atza|" + secrets.token_urlsafe(48)
