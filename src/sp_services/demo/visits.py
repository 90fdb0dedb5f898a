"""Simulated visits from the provider's side: dispatch, arrival estimates, the work and its record,
proof documents, completion, and the provider's answer to a no-show.

The dispatcher works at 18:00 store-local the day before (``branches.DISPATCH_HOUR``): everything on
the next day is booked by then (the stores take 30 hours' notice), and it assigns each visit, in
order of start, a technician qualified for it (``technician_failures`` finds nothing) whose own
capacity is free over the visit (``capacity_views``: on shift, off break and vacation, not on
another appointment), specialists first. In start order that never runs out: a store books no
more visits at once than it has crews. It is also when the provider breaks an appointment it
cannot keep (RS4, or S13).

At the visit a technician no-show leaves the appointment ACTIVE without a fulfillment time; hours
after its window the provider reschedules it (RS4), cancels it (S13) or leaves it. A buyer no-show
is cancelled (S1) or rescheduled (RS11) soon after the start. A served visit is recorded after the
work: its start and end as the technician worked them and who did it, with an encrypted receipt
(``proof.py``) for most, and the job is completed a little later.

A later run takes up the visits an earlier one left under way (``take_up_started``) or recorded
but not completed (``take_up_recorded``), drawing again what was drawn, given what the record shows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sp_services.domain.appointments import JobNeeds, technician_failures
from sp_services.domain.capacity import minimum, to_minute
from sp_services.domain.catalog import Technician
from sp_services.domain.enums import ServiceLocationType
from sp_services.domain.resources import technician_resource
from sp_services.domain.times import format_utc
from sp_services.services import appointments
from sp_services.services import jobs as job_service
from sp_services.services.appointments import FulfillmentInput
from sp_services.services.capacity import capacity_views

from . import behaviour as dice
from . import proof
from .behaviour import Arrival, Fate
from .branches import DISPATCH_HOUR
from .fixtures import MAIN
from .lives import COUNTRY, TAKE_UP_TRIES, Desk, Lives, Visit
from .reasons import Change, buyer_no_show, provider

IN_HOME = ServiceLocationType.IN_HOME.value
ETA_LEAD = timedelta(minutes=45)  # the arrival estimate is sent this long before the window
# How long after what, uniformly: the provider answers its no-show (hours after the window), a
# buyer's absence is settled (minutes after the start), the work is recorded (after it ends), the
# job is completed (after the record).
NO_SHOW_ANSWER_HOURS = (2.0, 20.0)
BUYER_NO_SHOW_MINUTES = (15.0, 40.0)
RECORD_MINUTES = (5.0, 40.0)
COMPLETION_MINUTES = (10.0, 120.0)
NO_SHOW_ANSWERS = (0.6, 0.25)  # the provider moves its no-show (RS4), cancels it (S13), else leaves it


@dataclass(frozen=True)
class Work:
    """A served visit as drawn: how the technician arrived, the work's start and end, when it is
    recorded, and whether with a proof document."""

    arrival: Arrival
    began: datetime
    finished: datetime
    recorded: datetime
    with_proof: bool


def _window(start: datetime, end: datetime) -> dict[str, object]:
    return {"startTime": format_utc(start), "endTime": format_utc(end)}


class Visits:
    """The dispatcher's board (visits by store and local day) and the steps of each visit."""

    def __init__(self, desk: Desk, lives: Lives) -> None:
        self.desk, self.lives = desk, lives
        self.board: dict[tuple[str, date], list[Visit]] = defaultdict(list)
        self.load: Counter[tuple[str, date]] = Counter()  # (technician, day): visits assigned
        lives.planner = self.plan

    def plan(self, visit: Visit, booked_at: datetime) -> None:
        """Put a booked visit on the board of its day (planning that day's dispatch once) and plan
        the visit itself."""
        store = visit.job.branch.store
        day = visit.start.astimezone(ZoneInfo(store.timezone)).date()
        key = (store.store_id, day)
        if key not in self.board:
            dispatch = datetime(day.year, day.month, day.day, DISPATCH_HOUR, tzinfo=ZoneInfo(store.timezone))
            self.desk.agenda.at(dispatch - timedelta(days=1), lambda now: self.dispatch(key, now))
        self.board[key].append(visit)
        d = self.desk
        if d.rng.random() < d.behaviour.eta_rate:
            d.agenda.at(visit.start - ETA_LEAD, lambda now: self._eta(visit, now))
        d.agenda.at(visit.start, lambda now: self._due(visit, now))

    # ---- dispatch ---------------------------------------------------------------------------

    def dispatch(self, key: tuple[str, date], at: datetime) -> None:
        """Staff the day's visits in order of start; break those the provider cannot keep."""
        visits = sorted((v for v in self.board.pop(key, []) if v.current), key=lambda v: v.start)
        for visit in visits:
            if visit.fate is Fate.PROVIDER_BREAK:
                self._break(visit, at)
            elif not visit.technician_ids:
                self._assign(visit, at)

    def _break(self, visit: Visit, at: datetime) -> None:
        d, service_type = self.desk, visit.job.offering.service_type
        d.tally.provider_breaks += 1
        cancel = provider(Change.CANCEL, country=COUNTRY, service_type=service_type)
        if d.rng.random() < 0.6:
            code = provider(Change.RESCHEDULE, country=COUNTRY, service_type=service_type)
            self.lives.reschedule(visit, code, at, or_cancel=cancel)
        else:
            self.lives.cancel(visit.job, cancel, at)

    def _assign(self, visit: Visit, at: datetime) -> None:
        d = self.desk
        technician = self._free_technician(visit)
        if technician is None:  # not expected (see the module's docstring); the provider moves it
            d.tally.unstaffed += 1
            self._break(visit, at)
            return
        warnings = appointments.assign_resources(
            d.db,
            seller_id=MAIN.seller_id,
            job_id=visit.job.job_id,
            appointment_id=visit.appointment_id,
            resource_ids=(technician.technician_id,),
            now=at,
        )
        d.tally.steps += 1
        if warnings:
            raise RuntimeError(f"simulation: {warnings} assigning {technician.technician_id} to {visit.job.job_id}")
        visit.technician_ids = (technician.technician_id,)
        self.load[(technician.technician_id, visit.start.date())] += 1

    def _free_technician(self, visit: Visit) -> Technician | None:
        """A qualified technician with capacity over the whole visit: the fewest skills first (keep
        the all-rounders free), then the least busy that day."""
        branch, job = visit.job.branch, visit.job
        needs = JobNeeds(MAIN.seller_id, branch.store.store_id, job.offering.required_skills, IN_HOME)
        qualified = [t for t in branch.technicians if not technician_failures([t], needs)]
        span = (to_minute(visit.start), to_minute(visit.end))
        resources = [technician_resource(t, branch.store) for t in qualified]
        views = capacity_views(self.desk.db, resources, span)
        self.desk.tally.steps += 1
        free = [
            t
            for t in qualified
            if views[t.technician_id].has_schedule and minimum(views[t.technician_id].available, *span) >= 1
        ]
        day = visit.start.date()
        return min(
            free, key=lambda t: (len(t.skills), self.load[(t.technician_id, day)], t.technician_id), default=None
        )

    # ---- the visit ----------------------------------------------------------------------------

    def _fulfill(self, visit: Visit, data: FulfillmentInput, at: datetime) -> None:
        appointments.set_fulfillment(
            self.desk.db,
            seller_id=MAIN.seller_id,
            job_id=visit.job.job_id,
            appointment_id=visit.appointment_id,
            data=data,
            now=at,
            document_store=self.desk.document_store,
        )
        self.desk.tally.steps += 1

    def _eta(self, visit: Visit, at: datetime) -> None:
        """The technician's arrival estimate: half an hour around the window's start."""
        if visit.current and visit.fate is not Fate.TECHNICIAN_NO_SHOW:
            eta = _window(visit.start - timedelta(minutes=15), visit.start + timedelta(minutes=15))
            self._fulfill(visit, FulfillmentInput(estimated_arrival=eta), at)

    def _due(self, visit: Visit, at: datetime) -> None:
        """The window opens: play out what was drawn for the visit."""
        if not visit.current:
            return
        d = self.desk
        if visit.fate is Fate.TECHNICIAN_NO_SHOW:
            d.tally.technician_no_shows += 1
            self._after_no_show_at(visit, visit.end + timedelta(hours=d.rng.uniform(*NO_SHOW_ANSWER_HOURS)))
        elif visit.fate is Fate.BUYER_NO_SHOW:
            d.tally.buyer_no_shows += 1
            self._buyer_absent(visit, at + timedelta(minutes=d.rng.uniform(*BUYER_NO_SHOW_MINUTES)))
        else:
            work = self._work(visit)
            d.tally.served += 1
            d.tally.late += work.arrival is Arrival.LATE
            d.tally.early += work.arrival is Arrival.EARLY
            self._record_at(visit, work)

    def _after_no_show_at(self, visit: Visit, when: datetime) -> None:
        self.desk.agenda.at(when, lambda now: self._after_no_show(visit, now))

    def _buyer_absent(self, visit: Visit, when: datetime) -> None:
        """The buyer is not there: at ``when`` the provider rebooks the visit (RS11) or cancels the
        job (S1), as ``no_show_rebook_rate`` says."""
        d, service_type = self.desk, visit.job.offering.service_type
        cancel = buyer_no_show(Change.CANCEL, country=COUNTRY, service_type=service_type)
        if d.rng.random() >= d.behaviour.no_show_rebook_rate:
            d.agenda.at(when, lambda now: self.lives.cancel(visit.job, cancel, now))
        else:
            code = buyer_no_show(Change.RESCHEDULE, country=COUNTRY, service_type=service_type)
            d.agenda.at(when, lambda now: self.lives.reschedule(visit, code, now, or_cancel=cancel))

    def _after_no_show(self, visit: Visit, at: datetime) -> None:
        """The provider's answer to its own no-show: move it, cancel it or leave it (``NO_SHOW_ANSWERS``)."""
        if not visit.current:
            return
        d, service_type = self.desk, visit.job.offering.service_type
        cancel = provider(Change.CANCEL, country=COUNTRY, service_type=service_type)
        u = d.rng.random()
        moved, cancelled = NO_SHOW_ANSWERS
        if u < moved:
            code = provider(Change.RESCHEDULE, country=COUNTRY, service_type=service_type)
            self.lives.reschedule(visit, code, at, or_cancel=cancel)
        elif u < moved + cancelled:
            self.lives.cancel(visit.job, cancel, at)

    def _work(self, visit: Visit) -> Work:
        """The technician starts early, on time or late, and works for about the planned time."""
        d = self.desk
        kind, offset = dice.arrival_offset(d.rng, d.behaviour)
        began = visit.start + timedelta(minutes=offset)
        finished = began + timedelta(minutes=dice.work_minutes(d.rng, d.behaviour, visit.job.offering.duration_minutes))
        recorded = finished + timedelta(minutes=d.rng.uniform(*RECORD_MINUTES))
        return Work(kind, began, finished, recorded, d.rng.random() < d.behaviour.proof_rate)

    def _record_at(self, visit: Visit, work: Work) -> None:
        self.desk.agenda.at(
            work.recorded, lambda now: self._record(visit, work.began, work.finished, work.with_proof, now)
        )

    # ---- taking up an earlier run's visits -------------------------------------------------------

    def take_up_started(self, visit: Visit, *, eta_sent: bool, at: datetime) -> None:
        """Follow a visit whose window opened before ``at`` (in an earlier run) and that has no work
        recorded and is still ACTIVE. What that run drew for it is not stored, so it is drawn again
        from the same dice, and again until the draw agrees with the record at ``at``: an arrival
        estimate sent or not, nothing done yet that would have changed the record (rejection
        sampling: the draw kept has the visit's distribution given what is known, so a history
        continued at any instant keeps its rates). What the draw has still to happen is planned;
        it was counted by the run that saw the window open."""
        d, b = self.desk, self.desk.behaviour
        visit.job.visit = visit
        for _ in range(TAKE_UP_TRIES):
            fate = dice.at_visit(d.rng, b)
            # The estimate was drawn at the booking, and sent for every visit but a no-show's.
            if (d.rng.random() < b.eta_rate and fate is not Fate.TECHNICIAN_NO_SHOW) is not eta_sent:
                continue
            visit.fate = fate
            if fate is Fate.TECHNICIAN_NO_SHOW:
                answer = visit.end + timedelta(hours=d.rng.uniform(*NO_SHOW_ANSWER_HOURS))
                if answer > at:
                    self._after_no_show_at(visit, answer)
                    return
                if d.rng.random() >= sum(NO_SHOW_ANSWERS):
                    return  # answered by leaving it as it was: it stays a technician no-show
            elif fate is Fate.BUYER_NO_SHOW:
                answer = visit.start + timedelta(minutes=d.rng.uniform(*BUYER_NO_SHOW_MINUTES))
                if answer > at:
                    self._buyer_absent(visit, answer)
                    return
            else:
                work = self._work(visit)
                if work.recorded > at:
                    self._record_at(visit, work)
                    return
        d.tally.left_as_found += 1  # nothing the dice give agrees (made with other rates): left as it is

    def take_up_recorded(self, visit: Visit, *, recorded_at: datetime, at: datetime) -> None:
        """Follow a visit whose work an earlier run recorded at ``recorded_at`` and whose job it left
        open: completed ``COMPLETION_MINUTES`` after the record, given that it was not by ``at``."""
        visit.job.visit = visit
        waited = (at - recorded_at) / timedelta(minutes=1)
        low, high = max(COMPLETION_MINUTES[0], waited), COMPLETION_MINUTES[1]
        when = recorded_at + timedelta(minutes=self.desk.rng.uniform(low, high)) if low < high else at
        self.desk.agenda.at(max(when, at), partial(self.complete, visit))

    def _record(self, visit: Visit, began: datetime, finished: datetime, with_proof: bool, at: datetime) -> None:
        """The work as done and who did it, with the receipt; the job is completed later."""
        if not visit.current:
            return
        d = self.desk
        documents = None
        if with_proof:
            content = proof.receipt(
                job_id=visit.job.job_id, appointment_id=visit.appointment_id, technician_ids=visit.technician_ids, at=at
            )
            reference = proof.upload(
                d.db,
                seller_id=MAIN.seller_id,
                content=content,
                now=at,
                document_store=d.document_store,
                public_url=d.public_url,
            )
            documents = (reference,)
            d.tally.documents += 1
            d.tally.steps += 2
        data = FulfillmentInput(
            fulfillment_time=_window(began, finished), resource_ids=visit.technician_ids or None, documents=documents
        )
        self._fulfill(visit, data, at)
        d.agenda.at(at + timedelta(minutes=d.rng.uniform(*COMPLETION_MINUTES)), partial(self.complete, visit))

    def complete(self, visit: Visit, at: datetime) -> None:
        if not visit.current:
            return
        job_service.complete_job(self.desk.db, seller_id=MAIN.seller_id, job_id=visit.job.job_id, now=at)
        visit.job.open, visit.job.visit = False, None
        self.desk.tally.completed += 1
        self.desk.tally.steps += 1
