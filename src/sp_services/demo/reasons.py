"""Reason codes the simulated people give: only codes valid for the job's marketplace country and
service type (``domain/reason_codes.py``), chosen by whose doing the change was (``CAUSES``)."""

from __future__ import annotations

import random
from collections import Counter
from enum import Enum
from functools import lru_cache

from sp_services.domain.enums import ServiceType
from sp_services.domain.reason_codes import (
    BUYER_NO_SHOW_CODES,
    CANCELLATION_CODES,
    CAUSES,
    RESCHEDULE_CODES,
    Cause,
    cancellation_code_valid,
    reschedule_code_valid,
)

# A buyer's change of plan, by cause: mostly the buyer's own, then the product or its delivery,
# then work that turned out different from what was sold.
BUYER_SIDE = {Cause.BUYER: 0.6, Cause.PRODUCT: 0.25, Cause.SCOPE: 0.15}


class Change(Enum):
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"


@lru_cache(maxsize=64)
def _valid(change: Change, country: str, service_type: ServiceType) -> tuple[str, ...]:
    if change is Change.CANCEL:
        return tuple(
            c for c in CANCELLATION_CODES if cancellation_code_valid(c, country=country, service_type=service_type)
        )
    return tuple(c for c in RESCHEDULE_CODES if reschedule_code_valid(c, country=country, service_type=service_type))


@lru_cache(maxsize=64)
def _buyer_side(change: Change, country: str, service_type: ServiceType) -> tuple[list[str], list[float]]:
    """The valid buyer-side codes and their weights: each cause's weight split among its codes."""
    valid = [c for c in _valid(change, country, service_type) if c not in BUYER_NO_SHOW_CODES]
    codes = [c for c in valid if CAUSES[c] in BUYER_SIDE]
    if not codes:
        raise ValueError(f"no buyer-side {change.value} code for {country} {service_type}")
    per_cause = Counter(CAUSES[c] for c in codes)
    return codes, [BUYER_SIDE[CAUSES[c]] / per_cause[CAUSES[c]] for c in codes]


def buyer_side(rng: random.Random, change: Change, *, country: str, service_type: ServiceType) -> str:
    """A code for a buyer's cancellation or reschedule before the visit (not a no-show)."""
    codes, weights = _buyer_side(change, country, service_type)
    return rng.choices(codes, weights=weights)[0]


def provider(change: Change, *, country: str, service_type: ServiceType, unbooked: bool = False) -> str:
    """The provider's code: it cannot meet the appointment (S13, RS4 or RS12), or, for a job it never
    found a slot for, the buyer's request (S14)."""
    preferred = ("S14", "S13") if unbooked else ("S13", "RS4", "RS12")
    valid = _valid(change, country, service_type)
    candidates: tuple[str, ...] = (*preferred, *valid)
    for code in candidates:
        if code in valid and CAUSES[code] is Cause.PROVIDER:
            return code
    raise ValueError(f"no provider {change.value} code for {country} {service_type}")


def buyer_no_show(change: Change, *, country: str, service_type: ServiceType) -> str:
    """S1 (cancel) or RS11 (reschedule): the buyer was not there."""
    code = "S1" if change is Change.CANCEL else "RS11"
    if code not in _valid(change, country, service_type):
        raise ValueError(f"{code} is not valid for {country} {service_type}")
    return code
