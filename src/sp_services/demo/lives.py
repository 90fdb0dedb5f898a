"""Simulated jobs from the buyer's side, through the real services with the clock at each moment:
an order arrives, the buyer books a listed slot (``slots_for_asin`` as it stands then), and each
appointment's fate plays out: cancelled or moved by the buyer before it starts, or visited
(``visits.py`` dispatches technicians and plays the visit).

Buyers pick among the open slots of the store's booking horizon, sooner days and morning hours
weighing more. A buyer who finds nothing open tries again the next day; after three tries the
provider cancels the job (S14, it cannot meet the request). Reason codes are valid for the
job's marketplace and service type (``reasons.py``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sp_services.domain.capacity import from_minute, to_minute
from sp_services.domain.catalog import Offering
from sp_services.domain.marketplaces import US, marketplace
from sp_services.domain.times import format_utc_seconds
from sp_services.services import appointments
from sp_services.services import jobs as job_service
from sp_services.services import operator as op
from sp_services.services.documents import DocumentStore
from sp_services.services.slots import SlotReport, slots_for_asin, slots_for_job

from . import behaviour as dice
from .behaviour import Behaviour, Booking, Fate
from .branches import Branch
from .clock import Agenda
from .fixtures import MAIN, DemoOffering
from .orders import new_order
from .reasons import Change, buyer_side, provider
from .tally import Tally

ORDER_SELLER = replace(MAIN, order_prefix=333)  # simulated orders are numbered apart from the fixed ones
COUNTRY = marketplace(US).country  # type: ignore[union-attr]
BOOKING_TRIES = 3
NEVER_BOOKED_CANCEL = (0.5, (1.0, 14.0))  # a buyer who never books cancels with this chance, days after
TAKE_UP_TRIES = 1000  # draws tried when taking up an earlier run's job (``take_up_pending``)
# A buyer's change of plan comes this far (as shares of the time from booking to start) after the
# booking: not in the same minute, and not at the door.
CHANGES = (0.05, 0.95)
# How much buyers like each local start hour (others: 1).
HOUR_TASTE = {8: 1.1, 9: 1.4, 10: 1.3, 11: 1.1, 13: 1.0, 14: 1.0, 15: 0.9, 16: 0.7}


@dataclass
class Desk:
    """What every step needs: the day's unit of work, the clock, the dice, the counts."""

    agenda: Agenda
    rng: random.Random
    behaviour: Behaviour
    tally: Tally
    document_store: DocumentStore
    public_url: str
    offerings: tuple[tuple[DemoOffering, Offering], ...]
    orders: int = 0  # orders numbered so far (across runs)
    session: Session | None = None

    @property
    def db(self) -> Session:
        assert self.session is not None, "steps run inside a day's transaction"
        return self.session


@dataclass(eq=False)
class SimJob:
    """A job the simulation follows, and its current ACTIVE appointment."""

    job_id: str
    branch: Branch
    offering: Offering
    visit: Visit | None = None
    tries: int = 0
    open: bool = True


@dataclass(eq=False)
class Visit:
    """One appointment of a job and the fate drawn for it when it was booked."""

    job: SimJob
    appointment_id: str
    start: datetime
    fate: Fate
    technician_ids: tuple[str, ...] = ()

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.job.offering.duration_minutes)

    @property
    def current(self) -> bool:
        """Still the job's ACTIVE appointment (a step planned for a replaced one does nothing)."""
        return self.job.open and self.job.visit is self


Planner = Callable[[Visit, datetime], None]


class Lives:
    """Orders, bookings, cancellations and reschedules. ``planner`` puts a booked visit on the
    dispatcher's board (set by ``visits.Visits``)."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.planner: Planner = lambda visit, at: None

    # ---- orders and bookings ----------------------------------------------------------------

    def arrive(self, branch: Branch, at: datetime) -> None:
        """A buyer orders a service of ``branch``: books at checkout, later, or never."""
        d = self.desk
        spec, offering = d.offerings[dice.weighted_index(d.rng, d.behaviour.offering_mix)]
        how = dice.booking(d.rng, d.behaviour)
        start = self._choose(self._slots(branch, offering, at), branch, at) if how is Booking.CHECKOUT else None
        job, appointment_id = self._place(branch, spec, offering, start, at)
        if start is not None and appointment_id is not None:
            d.tally.booked_at_checkout += 1
            self._booked(job, appointment_id, start, at)
        elif how is Booking.NEVER:
            d.tally.never_booked += 1
            give_up = self._gives_up(at)
            if give_up is not None:
                self._cancel_at(job, give_up)
        else:  # later, or at checkout with nothing open
            d.agenda.at(at + self._booking_delay(), lambda now: self.book(job, now))

    def _booking_delay(self) -> timedelta:
        """How long after the order a buyer who books later does (log-normal around the median)."""
        b = self.desk.behaviour
        return timedelta(hours=self.desk.rng.lognormvariate(math.log(b.booking_delay_hours), 1.0))

    def _gives_up(self, ordered: datetime) -> datetime | None:
        """When a buyer who never books cancels (``NEVER_BOOKED_CANCEL``), or None: it stays pending."""
        d = self.desk
        if d.rng.random() >= NEVER_BOOKED_CANCEL[0]:
            return None
        return ordered + timedelta(days=d.rng.uniform(*NEVER_BOOKED_CANCEL[1]))

    def _cancel_at(self, job: SimJob, when: datetime) -> None:
        code = buyer_side(self.desk.rng, Change.CANCEL, country=COUNTRY, service_type=job.offering.service_type)
        self.desk.agenda.at(when, lambda now: self.cancel(job, code, now))

    def take_up_pending(self, job: SimJob, *, ordered: datetime, at: datetime) -> None:
        """Follow a job an earlier run placed at ``ordered`` and left waiting for a booking at ``at``.
        How its buyer books is drawn again, and again until it agrees with a job still waiting at
        ``at`` (a buyer booking later who has not yet, or one who never books and has not cancelled):
        the rejection sampling of ``Visits.take_up_started``. A buyer whose booking found nothing
        open (which the dice cannot tell) tries again within the day."""
        d = self.desk
        for _ in range(TAKE_UP_TRIES):
            how = dice.booking(d.rng, d.behaviour)
            if how is Booking.LATER and (when := ordered + self._booking_delay()) > at:
                d.agenda.at(when, lambda now: self.book(job, now))
                return
            if how is Booking.NEVER:
                give_up = self._gives_up(ordered)
                if give_up is None or give_up > at:
                    if give_up is not None:
                        self._cancel_at(job, give_up)
                    return
        d.agenda.at(at + timedelta(hours=24 * d.rng.random()), lambda now: self.book(job, now))

    def _place(
        self, branch: Branch, spec: DemoOffering, offering: Offering, start: datetime | None, at: datetime
    ) -> tuple[SimJob, str | None]:
        """The order, with the slot picked at checkout if any (booked by create_order, as Amazon's
        checkout does); the job and its appointment."""
        d = self.desk
        preferred = start or self._wish(branch, at)
        order = new_order(
            d.rng,
            n=d.orders,
            seller=ORDER_SELLER,
            store=branch.place,
            offering=spec,
            preferred=((preferred, spec.duration_minutes),),
        )
        order = replace(order, service_location=_located(order, branch, d.orders))
        if start is not None:
            order = replace(order, jobs=(replace(order.jobs[0], appointment_start=start),))
        d.orders += 1
        placed = op.create_order(d.db, order=order, now=at).jobs[0]
        d.tally.orders += 1
        d.tally.steps += 1
        active = placed.active_appointment()
        return SimJob(placed.service_job_id, branch, offering), active.appointment_id if active else None

    def book(self, job: SimJob, at: datetime) -> None:
        """The buyer books one of the slots listed now, or tries again tomorrow."""
        if not job.open or job.visit is not None:
            return
        d = self.desk
        start = self._choose(self._slots(job.branch, job.offering, at), job.branch, at)
        if start is None:
            job.tries += 1
            if job.tries < BOOKING_TRIES:
                d.agenda.at(at + timedelta(days=1), lambda now: self.book(job, now))
            else:
                d.tally.unbookable += 1
                code = provider(Change.CANCEL, country=COUNTRY, service_type=job.offering.service_type, unbooked=True)
                self.cancel(job, code, at)
            return
        appointment_id = appointments.add_appointment(
            d.db,
            seller_id=MAIN.seller_id,
            job_id=job.job_id,
            start_time=format_utc_seconds(start),
            duration=None,
            now=at,
        )
        d.tally.steps += 1
        self._booked(job, appointment_id, start, at)

    def _slots(self, branch: Branch, offering: Offering, at: datetime) -> SlotReport:
        self.desk.tally.steps += 1
        return slots_for_asin(
            self.desk.db,
            seller_id=MAIN.seller_id,
            asin=offering.asin,
            store_id=branch.store.store_id,
            marketplace_id=US,
            start=None,
            end=None,
            now=at,
        )

    def _choose(
        self, report: SlotReport, branch: Branch, at: datetime, *, avoid: datetime | None = None
    ) -> datetime | None:
        """The slot a buyer picks among those open: sooner days and liked hours weigh more."""
        d = self.desk
        tz, now, lead = ZoneInfo(branch.store.timezone), to_minute(at), d.behaviour.lead_days * 1440
        avoided = to_minute(avoid) if avoid else None
        starts = [s for s, _, capacity in report.slots if capacity >= 1 and s != avoided]
        if not starts:
            return None
        weights = [math.exp(-(s - now) / lead) * HOUR_TASTE.get(from_minute(s).astimezone(tz).hour, 1) for s in starts]
        return from_minute(d.rng.choices(starts, weights=weights)[0])

    def _wish(self, branch: Branch, at: datetime) -> datetime:
        """A buyer's preferred time when not booking at once: a morning a few days ahead."""
        tz = ZoneInfo(branch.store.timezone)
        days = 2 + round(self.desk.rng.expovariate(1 / self.desk.behaviour.lead_days))
        day = at.astimezone(tz).date() + timedelta(days=days)
        return datetime(day.year, day.month, day.day, 10, tzinfo=tz).astimezone(at.tzinfo)

    def _booked(self, job: SimJob, appointment_id: str, start: datetime, at: datetime) -> None:
        """A new ACTIVE appointment: draw its fate and plan what happens before it."""
        d = self.desk
        d.tally.appointments += 1
        self._follow(Visit(job, appointment_id, start, dice.fate(d.rng, d.behaviour)), booked_at=at, now=at)

    def take_up(self, visit: Visit, *, booked_at: datetime, now: datetime) -> None:
        """Follow an appointment an earlier run booked at ``booked_at`` and left open at ``now``: its
        fate is drawn knowing it came this far unchanged (``behaviour.fate_after``)."""
        d, span = self.desk, (visit.start - booked_at).total_seconds()
        reached = (now - booked_at).total_seconds() / span if span > 0 else 1.0
        elapsed = min(1.0, max(0.0, (reached - CHANGES[0]) / (CHANGES[1] - CHANGES[0])))
        visit.fate = dice.fate_after(d.rng, d.behaviour, elapsed=elapsed, dispatched=bool(visit.technician_ids))
        self._follow(visit, booked_at=booked_at, now=now)

    def _follow(self, visit: Visit, *, booked_at: datetime, now: datetime) -> None:
        """Plan the buyer's change of plan, if one was drawn, some time before the start (a uniform
        share of the time from booking to start, within ``CHANGES``), and the visit."""
        d, job = self.desk, visit.job
        job.visit = visit
        span = visit.start - booked_at
        reached = (now - booked_at) / span if span > timedelta(0) else CHANGES[1]
        when = booked_at + span * d.rng.uniform(max(CHANGES[0], reached), CHANGES[1])
        service_type = job.offering.service_type
        if visit.fate is Fate.CANCELLED:
            code = buyer_side(d.rng, Change.CANCEL, country=COUNTRY, service_type=service_type)
            d.agenda.at(when, lambda now: self.cancel(job, code, now) if visit.current else None)
        elif visit.fate is Fate.RESCHEDULED:
            code = buyer_side(d.rng, Change.RESCHEDULE, country=COUNTRY, service_type=service_type)
            d.agenda.at(when, lambda now: self.reschedule(visit, code, now) if visit.current else None)
        self.planner(visit, now)

    # ---- changes ------------------------------------------------------------------------------

    def cancel(self, job: SimJob, code: str, at: datetime) -> None:
        if not job.open:
            return
        job_service.cancel_job(self.desk.db, seller_id=MAIN.seller_id, job_id=job.job_id, reason_code=code, now=at)
        job.open, job.visit = False, None
        self.desk.tally.cancelled += 1
        self.desk.tally.steps += 1

    def reschedule(self, visit: Visit, code: str, at: datetime, *, or_cancel: str | None = None) -> None:
        """Move the visit to a slot listed for the job now; with none open, cancel with ``or_cancel``
        (or, a buyer's own wish, keep the appointment and let its visit happen)."""
        d, job = self.desk, visit.job
        report = slots_for_job(
            d.db, seller_id=MAIN.seller_id, job_id=job.job_id, marketplace_id=US, start=None, end=None, now=at
        )
        d.tally.steps += 1
        start = self._choose(report, job.branch, at, avoid=visit.start)
        if start is None:
            if or_cancel is not None:
                self.cancel(job, or_cancel, at)
            else:
                d.tally.kept += 1
                visit.fate = dice.at_visit(d.rng, d.behaviour)
            return
        moved = appointments.reschedule_appointment(
            d.db,
            seller_id=MAIN.seller_id,
            job_id=job.job_id,
            appointment_id=visit.appointment_id,
            start_time=format_utc_seconds(start),
            duration=None,
            reason_code=code,
            now=at,
        )
        d.tally.rescheduled += 1
        d.tally.steps += 1
        self._booked(job, moved.appointment_id, start, at)


def _located(order: op.NewOrder, branch: Branch, n: int) -> dict[str, object]:
    """The buyer's address in the branch's city (``new_order`` gives it the city and state)."""
    location = dict(order.service_location or {})
    address = dict(location.get("address") or {})
    address["postalCode"] = f"{branch.postal_prefix}{n % 20 + 1:02d}"
    return {**location, "address": address}
