"""The demo jobs' lives, made by the real services with the clock at the moment things happened.

A buyer places an order; the job is booked into a listed slot of its store, inside the booking
horizon (the slot check of services/booking.py applies, so the demo cannot overbook), and a
qualified technician is assigned; the arrival estimate is recorded before the visit and the work
time after it; the job is completed, cancelled or held. Each job's steps run in the order they
happened, and jobs run one after another: the capacity checks count every ACTIVE booking
whenever it was made, so running jobs out of time order can only refuse more, never less.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sp_services.domain.appointments import JobNeeds, technician_failures
from sp_services.domain.catalog import Store, Technician
from sp_services.domain.enums import JobStatus, ServiceLocationType
from sp_services.domain.times import format_utc, format_utc_seconds
from sp_services.services import appointments
from sp_services.services import jobs as job_service
from sp_services.services import operator as op
from sp_services.services.appointments import FulfillmentInput
from sp_services.services.documents import DocumentStore

from .fixtures import APPOINTMENT_DAYS_AHEAD, HISTORY_DAYS, SCHEDULE_DAYS_BACK, DemoJob, DemoSeller, DemoStore, When
from .orders import new_order
from .world import SellerWorld, local_time

IN_HOME = ServiceLocationType.IN_HOME.value
# Marketplace-side moves (services/jobs.py set_marketplace_status), by the status they lead to.
MARKETPLACE_ACTIONS = {
    JobStatus.HOLD: "mark_hold",
    JobStatus.PAYMENT_DECLINED: "mark_payment_declined",
    JobStatus.NOT_FULFILLABLE: "mark_not_fulfillable",
}


class _NoBlobs:
    """The blob store of a history that attaches no documents: nothing is ever put in it."""

    def put(self, key: str, data: bytes) -> None:
        raise RuntimeError("the demo history attaches no documents")

    def get(self, key: str) -> bytes | None:
        return None

    def delete(self, key: str) -> None:
        return None

    def keys(self, prefix: str = "") -> Iterator[str]:
        return iter(())


# set_fulfillment needs a document store; what the demo records has no documents in it.
NO_DOCUMENTS = DocumentStore(secret=b"", blobs=_NoBlobs())


class _Calendar:
    """Appointment starts for one store: on its open days at its start hours, store-local, each
    start used once, so a store never has two demo appointments at a time (and is never booked
    past its capacity). Past starts lie in the days the published schedules reach back over, the
    most recent first; future ones up to APPOINTMENT_DAYS_AHEAD. Today is left alone, so "past"
    and "future" hold wherever in the day ``present`` is."""

    def __init__(self, present: datetime, store: DemoStore) -> None:
        today = present.astimezone(ZoneInfo(store.timezone)).date()

        def starts(days: range) -> list[datetime]:
            return [
                local_time(present, store.timezone, d, hour).astimezone(UTC)
                for d in days
                if (today + timedelta(days=d)).weekday() in store.open_days
                for hour in store.start_hours
            ]

        self.past = starts(range(-1, -SCHEDULE_DAYS_BACK - 1, -1))
        self.future = starts(range(1, APPOINTMENT_DAYS_AHEAD + 1))
        self.upcoming = tuple(self.future)  # for buyers' preferred times (not booked)

    def take(self, when: When) -> datetime:
        return (self.past if when is When.PAST else self.future).pop(0)


class _Crew:
    """Picks a technician for a booking: qualified for the job (technician_failures finds nothing)
    and not already on another appointment at that time; takes turns among those."""

    def __init__(self, technicians: tuple[Technician, ...]) -> None:
        self.technicians = technicians
        self.busy: dict[str, list[tuple[datetime, datetime]]] = {t.technician_id: [] for t in technicians}
        self.turn = 0

    def pick(self, needs: JobNeeds, start: datetime, end: datetime) -> str:
        for i in range(len(self.technicians)):
            tech = self.technicians[(self.turn + i) % len(self.technicians)]
            busy = any(s < end and start < e for s, e in self.busy[tech.technician_id])
            if not busy and not technician_failures([tech], needs):
                self.turn += i + 1
                self.busy[tech.technician_id].append((start, end))
                return tech.technician_id
        raise RuntimeError(f"demo data: no technician free for {needs} at {start}")


@dataclass(frozen=True)
class Booked:
    """A job's appointment as booked: when, its window, and who was assigned."""

    appointment_id: str
    booked_at: datetime
    start: datetime
    end: datetime
    technician_ids: tuple[str, ...]


def _window(start: datetime, end: datetime) -> dict[str, object]:
    return {"startTime": format_utc(start), "endTime": format_utc(end)}


class SellerHistory:
    """One seller's demo jobs, ordered over the HISTORY_DAYS before ``present``, through the services."""

    def __init__(
        self,
        session: Session,
        seller: DemoSeller,
        world: SellerWorld,
        *,
        rng: random.Random,
        present: datetime,
        document_store: DocumentStore,
    ) -> None:
        self.session, self.seller, self.rng = session, seller, rng
        self.present, self.document_store = present, document_store
        self.stores = {store.store_id: store for store in world.stores}
        self.calendars = {store.store_id: _Calendar(present, store) for store in seller.stores}
        self.crew = _Crew(world.technicians)

    def make(self) -> dict[str, list[str]]:
        """Create every job of the seller's plan and live its life; the job ids by final status."""
        plan = [job for group in self.seller.jobs for job in [group] * group.count]
        self.rng.shuffle(plan)  # statuses interleave in creation order, as they would in a real account
        job_ids: dict[str, list[str]] = {s.value: [] for s in JobStatus}
        for n, spec in enumerate(plan):
            job_ids[spec.status.value].append(self._live(n, len(plan), spec))
        return job_ids

    def _live(self, n: int, total: int, spec: DemoJob) -> str:
        store = spec.store or self.seller.stores[0]
        calendar = self.calendars[store.store_id]
        start = calendar.take(spec.when) if spec.when else None
        created = self._created(n, total, start)
        job_id = self._order(n, spec, store, created)
        booked = None
        if start is not None:
            booked = self._book(job_id, spec, self.stores[store.store_id], start, after=created)
            self._record(job_id, spec, booked)
        self._settle(job_id, spec, booked, created)
        return job_id

    def _happened(self, at: datetime) -> datetime:
        """``at``, checked to lie before the demo's present: history does not run ahead of it."""
        if at > self.present:
            raise RuntimeError(f"demo data: a step at {at} is after the demo's now ({self.present})")
        return at

    def _created(self, n: int, total: int, start: datetime | None) -> datetime:
        """When the n-th of ``total`` jobs was ordered: spread over the history, at any hour; an
        appointment already over was booked days ahead, so its order came before that."""
        created = (
            self.present
            - timedelta(days=HISTORY_DAYS)
            + timedelta(days=HISTORY_DAYS - 1) * n / total
            - timedelta(hours=self.rng.randint(0, 12), minutes=self.rng.randint(0, 59))
        )
        if start is not None and start < self.present:
            created = min(created, start - timedelta(days=self.rng.randint(2, 6), hours=self.rng.randint(0, 12)))
        return created

    def _order(self, n: int, spec: DemoJob, store: DemoStore, created: datetime) -> str:
        """The buyer's order of one job, placed at ``created``; the job id."""
        offering = spec.offering or self.seller.offerings[0]
        preferred: tuple[tuple[datetime, int], ...] = ()
        if spec.status is JobStatus.PENDING_SCHEDULE:  # the buyer's preferred time: a slot not booked
            upcoming = self.calendars[store.store_id].upcoming
            preferred = ((upcoming[(n * 5) % len(upcoming)], offering.duration_minutes),)
        order = new_order(self.rng, n=n, seller=self.seller, store=store, offering=offering, preferred=preferred)
        placed = op.create_order(self.session, order=order, now=self._happened(created))
        return placed.jobs[0].service_job_id

    def _book(self, job_id: str, spec: DemoJob, store: Store, start: datetime, *, after: datetime) -> Booked:
        """Book ``start`` as a client does (a listed slot, in UTC) an hour after the order, or an
        hour after the slot came into the store's booking horizon; assign a technician if asked."""
        horizon = timedelta(days=store.booking_horizon_days)
        at = self._happened(max(after, start - horizon) + timedelta(hours=1))
        offering = spec.offering or self.seller.offerings[0]
        end = start + timedelta(minutes=offering.duration_minutes)
        appointment_id = appointments.add_appointment(
            self.session,
            seller_id=self.seller.seller_id,
            job_id=job_id,
            start_time=format_utc_seconds(start),
            duration=None,
            now=at,
        )
        technician_ids: tuple[str, ...] = ()
        if spec.technician:
            needs = JobNeeds(self.seller.seller_id, store.store_id, offering.required_skills, IN_HOME)
            technician_ids = (self.crew.pick(needs, start, end),)
            self._assign(job_id, appointment_id, technician_ids, at=at)
        return Booked(appointment_id, at, start, end, technician_ids)

    def _assign(self, job_id: str, appointment_id: str, technician_ids: tuple[str, ...], *, at: datetime) -> None:
        warnings = appointments.assign_resources(
            self.session,
            seller_id=self.seller.seller_id,
            job_id=job_id,
            appointment_id=appointment_id,
            resource_ids=technician_ids,
            now=at,
        )
        if warnings:  # the crew never puts a technician on two appointments at a time
            raise RuntimeError(f"demo data: {warnings} assigning {technician_ids} to {job_id}")

    def _record(self, job_id: str, spec: DemoJob, booked: Booked) -> None:
        """What the technician recorded: the arrival estimate (a half hour around the start), sent
        half an hour before the visit; the work time (the appointment's own window) and who did
        it, sent after the visit."""
        if spec.eta:
            eta = _window(booked.start - timedelta(minutes=15), booked.start + timedelta(minutes=15))
            self._fulfill(
                job_id, booked, FulfillmentInput(estimated_arrival=eta), at=booked.start - timedelta(minutes=30)
            )
        if spec.work:
            worked = FulfillmentInput(
                fulfillment_time=_window(booked.start, booked.end), resource_ids=booked.technician_ids or None
            )
            self._fulfill(job_id, booked, worked, at=booked.end + timedelta(minutes=10))

    def _fulfill(self, job_id: str, booked: Booked, data: FulfillmentInput, *, at: datetime) -> None:
        appointments.set_fulfillment(
            self.session,
            seller_id=self.seller.seller_id,
            job_id=job_id,
            appointment_id=booked.appointment_id,
            data=data,
            now=self._happened(at),
            document_store=self.document_store,
        )

    def _settle(self, job_id: str, spec: DemoJob, booked: Booked | None, created: datetime) -> None:
        """Take the job to its final status: completed half an hour after the visit; cancelled or
        moved by the marketplace an hour after it was ordered (or booked)."""
        seller_id, later = self.seller.seller_id, (booked.booked_at if booked else created) + timedelta(hours=1)
        if spec.status is JobStatus.COMPLETED:
            if booked is None:
                raise RuntimeError(f"demo data: a completed job needs an appointment ({spec})")
            at = self._happened(booked.end + timedelta(minutes=30))
            job_service.complete_job(self.session, seller_id=seller_id, job_id=job_id, now=at)
        elif spec.status is JobStatus.CANCELLED:
            at = self._happened(later)
            job_service.cancel_job(self.session, seller_id=seller_id, job_id=job_id, reason_code="S3", now=at)
        elif spec.status in MARKETPLACE_ACTIONS:
            at = self._happened(later)
            job_service.set_marketplace_status(
                self.session, job_id=job_id, action=MARKETPLACE_ACTIONS[spec.status], now=at
            )
