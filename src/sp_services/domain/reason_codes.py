"""Cancellation and reschedule reason codes, valid per marketplace country and service type.

Source: Amazon's Services API v1 use-case guide (spec/services-api-use-case-guide.txt),
tables "Cancellation reason codes by marketplace" and "Reschedule reason codes by marketplace",
transcribed literally. "-" in the guide is an empty set here. The cancellation table has no
Recurring column; the guide says to use the Default column unless the type is heavy bulky, so a
recurring job cancels with the Default column.
"""

from __future__ import annotations

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
