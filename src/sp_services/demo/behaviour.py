"""How the simulated buyers, dispatchers and technicians behave: rates and distributions as data.

Every rate is the probability of one outcome at one decision point, so a history made with it
holds the rate as ground truth (``tests/demo/test_simulation.py`` recovers each from the recorded
data). The decision points, in a job's life:

- an order arrives (per store and day: Poisson with mean ``orders_per_day`` times the weekday's
  factor; its hour from ``hourly``); the buyer books at checkout, later, or never;
- each appointment, once booked, is cancelled by the buyer (``cancel_rate``), rescheduled by the
  buyer (``reschedule_rate``) or broken by the provider (``provider_break_rate``) before it starts,
  or else its visit is due;
- a visit due is a technician no-show (``technician_no_show_rate``), a buyer no-show
  (``buyer_no_show_rate``; rebooked with RS11 at ``no_show_rebook_rate``, else cancelled with S1),
  or served;
- a served visit starts early (more than 30 minutes before the window, ``early_rate``), late (more
  than 15 minutes after its start, ``late_rate``) or on time: the analytics' default tolerances
  (docs/design.md §6: 30 minutes early tolerance, 15 minutes late grace).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, fields
from enum import Enum

EARLY_TOLERANCE_MINUTES = 30  # arriving earlier than this before the window is "early"
LATE_GRACE_MINUTES = 15  # starting later than this after the window's start is "late"

# Orders by weekday (Monday first), relative to the week's mean: Monday catches up on the
# weekend's shopping, Sunday is quiet.
WEEKLY = (1.15, 1.05, 1.0, 1.0, 0.9, 1.05, 0.85)
# Orders by local hour: online shopping peaks at lunch and in the evening, little at night.
HOURLY = (
    0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.7, 1.0, 1.1, 1.2, 1.3,
    1.5, 1.4, 1.2, 1.1, 1.1, 1.2, 1.5, 1.8, 1.9, 1.6, 1.0, 0.5,
)  # fmt: skip


@dataclass(frozen=True)
class Behaviour:
    """The simulation's rates and distributions (defaults: a plausible home-services business)."""

    orders_per_day: float = 6.0  # per store, the mean over a week
    weekly: tuple[float, ...] = WEEKLY
    hourly: tuple[float, ...] = HOURLY
    offering_mix: tuple[float, ...] = (0.5, 0.3, 0.2)  # weights of the seller's offerings, in order
    checkout_rate: float = 0.6  # the buyer picks a slot at checkout
    never_book_rate: float = 0.03  # the buyer never books (the job waits in PENDING_SCHEDULE)
    booking_delay_hours: float = 5.0  # median delay of a booking made after checkout (log-normal)
    lead_days: float = 3.0  # buyers favour sooner days: a slot d days ahead weighs e^(-d / lead_days)
    cancel_rate: float = 0.06
    reschedule_rate: float = 0.08
    provider_break_rate: float = 0.02
    buyer_no_show_rate: float = 0.04
    technician_no_show_rate: float = 0.02
    no_show_rebook_rate: float = 0.5  # a buyer no-show is rebooked (RS11), else cancelled (S1)
    early_rate: float = 0.03
    late_rate: float = 0.12
    late_minutes: float = 20.0  # mean lateness past the grace (exponential)
    work_spread: float = 0.15  # sigma of log(actual / planned duration)
    eta_rate: float = 0.8  # the technician sends an arrival estimate before the visit
    proof_rate: float = 0.85  # a served visit gets an encrypted proof document

    def problems(self) -> list[str]:
        """What is out of range, as messages (empty: usable)."""
        out = [
            f"{f.name} must be between 0 and 1"
            for f in fields(self)
            if f.name.endswith("_rate") and not 0 <= getattr(self, f.name) <= 1
        ]
        if self.orders_per_day < 0:
            out.append("orders_per_day must not be negative")
        if self.cancel_rate + self.reschedule_rate + self.provider_break_rate > 1:
            out.append("cancel, reschedule and provider-break rates add up to more than 1")
        if self.technician_no_show_rate + self.buyer_no_show_rate > 1:
            out.append("technician and buyer no-show rates add up to more than 1")
        if self.early_rate + self.late_rate > 1:
            out.append("early and late rates add up to more than 1")
        if self.checkout_rate + self.never_book_rate > 1:
            out.append("checkout and never-book rates add up to more than 1")
        if len(self.weekly) != 7 or len(self.hourly) != 24 or min((*self.weekly, *self.hourly)) < 0:
            out.append("weekly needs 7 and hourly 24 non-negative weights")
        if self.lead_days <= 0 or self.booking_delay_hours <= 0 or self.late_minutes <= 0:
            out.append("lead_days, booking_delay_hours and late_minutes must be positive")
        return out


# The behaviour a user may set on the command line (``sp-services simulate --late-rate 0.2``).
OPTIONS = {
    "orders_per_day": "orders per store and day (mean over a week)",
    "checkout_rate": "buyers who book at checkout",
    "never_book_rate": "buyers who never book",
    "cancel_rate": "appointments the buyer cancels before the start",
    "reschedule_rate": "appointments the buyer moves before the start",
    "provider_break_rate": "appointments the provider cancels or moves at dispatch (S13, RS4)",
    "buyer_no_show_rate": "visits due where the buyer is not there (S1, RS11)",
    "technician_no_show_rate": "visits due where no technician comes",
    "no_show_rebook_rate": "buyer no-shows rebooked (RS11) rather than cancelled (S1)",
    "late_rate": "served visits started more than 15 minutes late",
    "early_rate": "served visits started more than 30 minutes early",
    "eta_rate": "visits with an arrival estimate sent",
    "proof_rate": "served visits with an encrypted proof document",
}


class Booking(Enum):
    """When the buyer of a new order books."""

    CHECKOUT = "checkout"
    LATER = "later"
    NEVER = "never"


class Fate(Enum):
    """What becomes of one appointment: decided when it is booked, played out when it happens."""

    CANCELLED = "cancelled"  # by the buyer, before the start
    RESCHEDULED = "rescheduled"  # by the buyer, before the start
    PROVIDER_BREAK = "provider break"  # the provider cancels or moves it at dispatch
    TECHNICIAN_NO_SHOW = "technician no-show"
    BUYER_NO_SHOW = "buyer no-show"
    SERVED = "served"


class Arrival(Enum):
    EARLY = "early"
    ON_TIME = "on time"
    LATE = "late"


def _pick(rng: random.Random, outcomes: Sequence[tuple[float, Enum]], rest: Enum) -> Enum:
    """One draw: each outcome with its probability, ``rest`` with what is left."""
    u = rng.random()
    for p, outcome in outcomes:
        if u < p:
            return outcome
        u -= p
    return rest


def booking(rng: random.Random, b: Behaviour) -> Booking:
    picked = _pick(rng, ((b.checkout_rate, Booking.CHECKOUT), (b.never_book_rate, Booking.NEVER)), Booking.LATER)
    assert isinstance(picked, Booking)
    return picked


def fate(rng: random.Random, b: Behaviour) -> Fate:
    """The appointment's fate: first what may happen before the start, then at the visit."""
    before = _pick(
        rng,
        (
            (b.cancel_rate, Fate.CANCELLED),
            (b.reschedule_rate, Fate.RESCHEDULED),
            (b.provider_break_rate, Fate.PROVIDER_BREAK),
        ),
        Fate.SERVED,
    )
    assert isinstance(before, Fate)
    return before if before is not Fate.SERVED else at_visit(rng, b)


def at_visit(rng: random.Random, b: Behaviour) -> Fate:
    """What happens when a visit is due: a technician no-show, a buyer no-show, or the work."""
    picked = _pick(
        rng,
        ((b.technician_no_show_rate, Fate.TECHNICIAN_NO_SHOW), (b.buyer_no_show_rate, Fate.BUYER_NO_SHOW)),
        Fate.SERVED,
    )
    assert isinstance(picked, Fate)
    return picked


def fate_after(rng: random.Random, b: Behaviour, *, elapsed: float, dispatched: bool) -> Fate:
    """``fate`` for an appointment known to have come through the share ``elapsed`` (0…1) of its
    time for a buyer's change unchanged, and through its dispatch if ``dispatched`` (where provider
    breaks happen): the same distribution, conditioned on that, so taking up a run's open
    appointments leaves every rate as it is."""
    changes = b.cancel_rate + b.reschedule_rate
    survived = 1 - changes * elapsed - (b.provider_break_rate if dispatched else 0)
    if survived <= 0:
        return at_visit(rng, b)
    left = (1 - elapsed) / survived
    before = _pick(
        rng,
        (
            (b.cancel_rate * left, Fate.CANCELLED),
            (b.reschedule_rate * left, Fate.RESCHEDULED),
            (0 if dispatched else b.provider_break_rate / survived, Fate.PROVIDER_BREAK),
        ),
        Fate.SERVED,
    )
    assert isinstance(before, Fate)
    return before if before is not Fate.SERVED else at_visit(rng, b)


def arrival_offset(rng: random.Random, b: Behaviour) -> tuple[Arrival, float]:
    """When a technician starts work, in minutes after the window's start (negative: before it)."""
    kind = _pick(rng, ((b.early_rate, Arrival.EARLY), (b.late_rate, Arrival.LATE)), Arrival.ON_TIME)
    assert isinstance(kind, Arrival)
    if kind is Arrival.EARLY:
        return kind, -(EARLY_TOLERANCE_MINUTES + 1 + rng.expovariate(1 / 15))
    if kind is Arrival.LATE:
        return kind, LATE_GRACE_MINUTES + 1 + rng.expovariate(1 / b.late_minutes)
    # On time: mostly a few minutes early, within the tolerances.
    return kind, min(LATE_GRACE_MINUTES - 1, max(-EARLY_TOLERANCE_MINUTES + 1, rng.gauss(-4, 6)))


def work_minutes(rng: random.Random, b: Behaviour, planned: int) -> float:
    """How long the work takes: log-normal around the planned duration, within 0.6x to 1.8x."""
    return planned * min(1.8, max(0.6, math.exp(rng.gauss(0, b.work_spread))))


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson count (Knuth's method; a normal approximation for large means)."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def weighted_index(rng: random.Random, weights: Sequence[float]) -> int:
    """An index drawn with the given (non-negative, not all zero) weights."""
    return rng.choices(range(len(weights)), weights=weights)[0]
