"""The simulator's dice (``demo/behaviour.py``) and reason codes (``demo/reasons.py``): each draw has
the distribution its rate says, taking up an appointment half-way leaves the rates as they are,
and every code given is valid for the marketplace and service type, of the cause it stands for."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from sp_services.demo import reasons
from sp_services.demo.behaviour import Behaviour, Fate, at_visit, fate, fate_after, poisson
from sp_services.demo.lives import CHANGES
from sp_services.domain.enums import ServiceType
from sp_services.domain.reason_codes import (
    Cause,
    cancellation_code_valid,
    cause_of,
    reschedule_code_valid,
)

B = Behaviour(cancel_rate=0.1, reschedule_rate=0.12, provider_break_rate=0.05)
N = 200_000


def _close(count: int, n: int, p: float) -> bool:
    return abs(count / n - p) <= 4 * math.sqrt(p * (1 - p) / n)


def test_fates_have_their_rates() -> None:
    rng = random.Random(1)
    counts = Counter(fate(rng, B) for _ in range(N))
    due = 1 - B.cancel_rate - B.reschedule_rate - B.provider_break_rate
    expected = {
        Fate.CANCELLED: B.cancel_rate,
        Fate.RESCHEDULED: B.reschedule_rate,
        Fate.PROVIDER_BREAK: B.provider_break_rate,
        Fate.TECHNICIAN_NO_SHOW: due * B.technician_no_show_rate,
        Fate.BUYER_NO_SHOW: due * B.buyer_no_show_rate,
        Fate.SERVED: due * (1 - B.technician_no_show_rate - B.buyer_no_show_rate),
    }
    assert all(_close(counts[f], N, p) for f, p in expected.items()), counts


@pytest.mark.parametrize("dispatched", [False, True])
def test_taking_up_an_appointment_part_way_keeps_the_rates(dispatched: bool) -> None:
    """One run draws the fate; a change drawn for before ``elapsed`` (or a provider break, at the
    dispatch) has happened, otherwise the next run draws again with ``fate_after``."""
    rng, elapsed = random.Random(2), 0.4
    counts: Counter[Fate] = Counter()
    for _ in range(N):
        first = fate(rng, B)
        changed_early = first in (Fate.CANCELLED, Fate.RESCHEDULED) and rng.random() < elapsed
        if changed_early or (first is Fate.PROVIDER_BREAK and dispatched):
            counts[first] += 1
        else:
            counts[fate_after(rng, B, elapsed=elapsed, dispatched=dispatched)] += 1
    for f, p in ((Fate.CANCELLED, 0.1), (Fate.RESCHEDULED, 0.12), (Fate.PROVIDER_BREAK, 0.05)):
        assert _close(counts[f], N, p), (f, counts)


def test_a_visit_due_is_a_no_show_or_served() -> None:
    rng = random.Random(3)
    counts = Counter(at_visit(rng, B) for _ in range(N))
    assert set(counts) == {Fate.TECHNICIAN_NO_SHOW, Fate.BUYER_NO_SHOW, Fate.SERVED}
    assert _close(counts[Fate.BUYER_NO_SHOW], N, B.buyer_no_show_rate)


def test_poisson_counts_have_their_mean() -> None:
    rng = random.Random(4)
    for mean in (0.02, 0.6, 6.0, 80.0):
        draws = [poisson(rng, mean) for _ in range(20_000)]
        assert abs(sum(draws) / len(draws) - mean) <= 4 * math.sqrt(mean / len(draws))


def test_changes_fall_between_booking_and_start() -> None:
    assert 0 < CHANGES[0] < CHANGES[1] < 1


@pytest.mark.parametrize("service_type", list(ServiceType))
@pytest.mark.parametrize("change", list(reasons.Change))
def test_reason_codes_are_valid_and_of_their_cause(service_type: ServiceType, change: reasons.Change) -> None:
    rng = random.Random(5)
    valid = cancellation_code_valid if change is reasons.Change.CANCEL else reschedule_code_valid
    given = Counter(reasons.buyer_side(rng, change, country="US", service_type=service_type) for _ in range(2000))
    assert all(valid(c, country="US", service_type=service_type) for c in given), given
    assert {cause_of(c) for c in given} <= {Cause.BUYER, Cause.PRODUCT, Cause.SCOPE}
    assert not set(given) & {"S1", "RS11"}
    code = reasons.provider(change, country="US", service_type=service_type)
    assert valid(code, country="US", service_type=service_type) and cause_of(code) is Cause.PROVIDER
    no_show = reasons.buyer_no_show(change, country="US", service_type=service_type)
    assert no_show in ("S1", "RS11") and valid(no_show, country="US", service_type=service_type)
    if change is reasons.Change.CANCEL:
        assert reasons.provider(change, country="US", service_type=service_type, unbooked=True) == "S14"
