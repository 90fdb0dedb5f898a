"""Cancellation and reschedule reason codes, valid per marketplace country and service type.

Source: Amazon's Services API v1 use-case guide (spec/services-api-use-case-guide.txt),
tables "Cancellation reason codes by marketplace" and "Reschedule reason codes by marketplace",
transcribed literally. "-" in the guide is an empty set here. The cancellation table has no
Recurring column; the guide says to use the Default column unless the type is heavy bulky, so a
recurring job cancels with the Default column.
"""

from __future__ import annotations

from enum import StrEnum

from .enums import ServiceType

_D, _H, _R = ServiceType.DEFAULT, ServiceType.HEAVY_BULKY, ServiceType.RECURRING


def _c(s: str) -> frozenset[str]:
    return frozenset(x.strip() for x in s.split(",") if x.strip() and x.strip() != "-")


# code: (description, Default countries, Heavy bulky countries)
CANCELLATION_CODES: dict[str, tuple[str, frozenset[str], frozenset[str]]] = {
    "S1": ("Customer didn't show up.", _c("US, IN, UK, DE"), _c("US, IN, UK, DE")),
    "S2": ("Customer outside service area.", _c("-"), _c("DE")),
    "S3": ("Work is different than scoped and order cannot be completed.", _c("US, IN, UK, DE"), _c("US, IN, UK, DE")),
    "S4": ("Provider unable to contact customer.", _c("-"), _c("DE")),
    "S5": ("Provider cannot meet customer's schedule.", _c("-"), _c("DE")),
    "S6": ("Job requires professional trade license.", _c("-"), _c("DE")),
    "S13": ("Provider cannot meet original appointment.", _c("US, IN, UK, DE"), _c("US, IN, UK")),
    "S14": ("Provider cannot meet new appointment request.", _c("US"), _c("US")),
    "S15": ("Problem with Amazon product or its delivery.", _c("US, IN, UK, DE"), _c("US, IN, UK")),
    "S16": ("Problem with non-Amazon product, delivery, or service.", _c("US, UK, DE"), _c("US, UK")),
    "S17": ("I don't need this service.", _c("US, IN"), _c("US, IN")),
    "S20": ("Too expensive.", _c("IN"), _c("IN")),
    "S27": ("Brand installed.", _c("IN"), _c("IN")),
    "S28": ("Coverage area changed.", _c("-"), _c("-")),
    "S29": ("Pricing mistake.", _c("-"), _c("-")),
    "S30": ("No longer works with customer schedule.", _c("-"), _c("-")),
    "S31": ("Product damaged.", _c("IN"), _c("-")),
    "S32": ("Risky site.", _c("IN"), _c("-")),
    "S33": ("Customer wants cancellation.", _c("IN"), _c("-")),
    "S34": ("Site not ready.", _c("IN"), _c("-")),
    "S35": ("Product not delivered.", _c("IN"), _c("-")),
    "S36": ("Additional material needed.", _c("IN"), _c("-")),
    "S37": ("Customer wants reschedule.", _c("IN"), _c("-")),
    "S38": ("Product returned.", _c("IN"), _c("-")),
    "S39": ("We could not reach you.", _c("IN"), _c("-")),
    "S40": ("Service already completed.", _c("IN"), _c("-")),
    "S41": ("Service in another location.", _c("IN"), _c("-")),
    "S42": ("Needs revisit.", _c("IN"), _c("-")),
    "S43": ("Documents not available.", _c("IN"), _c("-")),
    "S44": ("Slot missed.", _c("IN"), _c("-")),
    "S45": ("Parts not available.", _c("IN"), _c("-")),
    "S46": ("Wrong completion.", _c("IN"), _c("-")),
    "S47": ("Need customer approval for repair.", _c("IN"), _c("-")),
    "S51": ("Installation done by third party and customer does not require installation.", _c("IN"), _c("-")),
    "S52": (
        "Product damaged, non-installable product, customer returned the product, or product gifted.",
        _c("IN"),
        _c("-"),
    ),
    "S55": ("Restriction on visit.", _c("IN"), _c("-")),
}

# code: (description, Default, Heavy bulky, Recurring)
RESCHEDULE_CODES: dict[str, tuple[str, frozenset[str], frozenset[str], frozenset[str]]] = {
    "RS1": ("Customer requested", _c("-"), _c("DE"), _c("-")),
    "RS2": ("Product will not be delivered in time", _c("-"), _c("DE"), _c("-")),
    "RS3": ("Need follow-up visit", _c("-"), _c("DE"), _c("-")),
    "RS4": ("Provider cannot meet original appointment", _c("US, AE, JP"), _c("US, DE, JP"), _c("US, JP")),
    "RS5": ("Product incompatible or broken", _c("-"), _c("DE"), _c("-")),
    "RS6": ("Work is different than scoped", _c("US, IN, UK, DE, AE, JP"), _c("US, IN, UK, JP"), _c("-")),
    "RS7": ("Code not in use", _c("-"), _c("-"), _c("-")),
    "RS8": ("No longer works with customer schedule", _c("UK, DE"), _c("US, UK, JP"), _c("US, JP")),
    "RS9": ("Problem with Amazon product or its delivery", _c("US, IN, UK, DE, AE, JP"), _c("US, IN, UK, JP"), _c("-")),
    "RS10": (
        "Problem with non-Amazon product, delivery, or service",
        _c("US, UK, DE, AE, JP"),
        _c("US, UK, JP"),
        _c("-"),
    ),
    "RS11": ("Customer didn't show up", _c("US, IN, UK, DE, AE, JP"), _c("US, IN, UK, JP"), _c("US, JP")),
    "RS12": ("Provider cannot meet original appointment", _c("IN, UK, DE"), _c("IN, UK"), _c("-")),
    "DRS1": ("Unable to access location", _c("-"), _c("US, JP"), _c("-")),
    "DRS2": ("Customer requested a future date", _c("-"), _c("US, JP"), _c("-")),
    "DRS3": ("Customer declined", _c("-"), _c("US, JP"), _c("-")),
    "DRS4": ("Delivery will be too late", _c("-"), _c("US, JP"), _c("-")),
    "DRS5": ("Can't find access", _c("-"), _c("US, JP"), _c("-")),
    "DRS6": ("Business closed", _c("-"), _c("US, JP"), _c("-")),
    "SRS1": ("Customer requested cancellation", _c("-"), _c("US, JP"), _c("-")),
}


class Cause(StrEnum):
    """Whose doing a cancellation or reschedule was (the analytics' fulfillment breaks, no-shows)."""

    BUYER = "buyer"
    PROVIDER = "provider"
    PRODUCT = "product"  # the product or its delivery
    SCOPE = "scope"  # the work differs from what was sold, or needs another visit
    MARKETPLACE = "marketplace"
    UNUSED = "unused"


_B, _P, _PR, _S, _M, _U = Cause.BUYER, Cause.PROVIDER, Cause.PRODUCT, Cause.SCOPE, Cause.MARKETPLACE, Cause.UNUSED

# Every code of the two tables above -> its cause (docs/design.md §6). Read from the guide's
# descriptions; where one was open to reading, the choice is marked.
CAUSES: dict[str, Cause] = {
    "S1": _B, "S2": _P, "S3": _S, "S4": _P, "S5": _P, "S6": _P, "S13": _P, "S14": _P, "S15": _PR,
    "S16": _PR, "S17": _B, "S20": _B,
    "S27": _PR,  # "Brand installed": the product's brand did the work
    "S28": _P, "S29": _P, "S30": _B, "S31": _PR,
    "S32": _P,  # "Risky site": the provider declines the visit
    "S33": _B,
    "S34": _B,  # "Site not ready": the buyer's site
    "S35": _PR,
    "S36": _S,  # "Additional material needed": more than was scoped
    "S37": _B, "S38": _PR,
    "S39": _B,  # "We could not reach you": the buyer was unreachable
    "S40": _M,  # "Service already completed": a duplicate order
    "S41": _S,  # "Service in another location"
    "S42": _S,  # "Needs revisit"
    "S43": _B,  # "Documents not available": the buyer's documents
    "S44": _P, "S45": _P, "S46": _P,
    "S47": _B,  # "Need customer approval for repair"
    "S51": _B,  # installed by a third party: the buyer no longer needs the service
    "S52": _PR,
    "S55": _B,  # "Restriction on visit": at the buyer's site
    "RS1": _B, "RS2": _PR, "RS3": _S, "RS4": _P, "RS5": _PR, "RS6": _S, "RS7": _U, "RS8": _B, "RS9": _PR,
    "RS10": _PR, "RS11": _B, "RS12": _P, "DRS1": _PR, "DRS2": _B, "DRS3": _B, "DRS4": _PR, "DRS5": _PR,
    "DRS6": _PR, "SRS1": _B,
}  # fmt: skip

# The no-show codes: the buyer was not there (cancelled with S1 or rescheduled with RS11).
BUYER_NO_SHOW_CODES = frozenset({"S1", "RS11"})


def cause_of(code: str | None) -> Cause | None:
    """The cause of a cancellation or reschedule reason code (None for no code or an unknown one)."""
    return CAUSES.get(code) if code else None


def cancellation_code_valid(code: str, *, country: str, service_type: ServiceType) -> bool:
    """True when ``code`` may cancel a job of this marketplace country and service type."""
    row = CANCELLATION_CODES.get(code)
    if row is None:
        return False
    countries = row[2] if service_type is _H else row[1]
    return country in countries


def reschedule_code_valid(code: str, *, country: str, service_type: ServiceType) -> bool:
    """True when ``code`` may reschedule an appointment of this marketplace country and service type."""
    row = RESCHEDULE_CODES.get(code)
    if row is None:
        return False
    column = {_D: 1, _H: 2, _R: 3}[service_type]
    countries: frozenset[str] = row[column]  # type: ignore[assignment]
    return country in countries
