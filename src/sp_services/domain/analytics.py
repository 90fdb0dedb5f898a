"""Post-fulfillment analytics (docs/design.md §6): every metric defined once, as a plain reference
over records of what the API stores.

This module is the oracle: plain Python over frozen records, no I/O, no clock (``now`` is an
argument). persistence/repositories/analytics.py computes the same numbers with SQL aggregates,
and tests/persistence/test_analytics_sql.py holds it to these functions on random histories on
SQLite and PostgreSQL. Both paths end in the same small arithmetic (tallies → metrics,
analytics_metrics.py), so what the SQL must match is which records count, the integer sums and the
order statistics. Instants are read to the whole second, as the SQL reads them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from .analytics_metrics import (
    DEFAULT_TOLERANCES,
    MEDIAN,
    P90,
    CancelTally,
    PaymentMetrics,
    ServiceMetrics,
    ServiceTally,
    Slice,
    StoreMetrics,
    StoreTally,
    TechnicianShare,
    Tolerances,
    cents,
    dense,
    labels,
    money,
    picks,
    service_metrics,
    store_metrics,
    to_money,
    to_second,
)
from .analytics_query import period_of
from .enums import AppointmentStatus
from .reason_codes import Cause, cause_of

__all__ = [
    "AppointmentRecord",
    "History",
    "JobRecord",
    "payment_metrics",
    "store_report",
    "technician_report",
]

# ---- records: what the API stores, plainly --------------------------------------------------


@dataclass(frozen=True)
class JobRecord:
    """A job: where, when it was created, completed or cancelled (and which appointment a
    cancellation ended, with which reason code), and its payments as stored (wire-shaped JSON)."""

    job_id: str
    store_id: str
    created_at: datetime
    payments: tuple[Any, ...] = ()
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancellation_reason_code: str | None = None
    cancelled_appointment_id: str | None = None


@dataclass(frozen=True)
class AppointmentRecord:
    """An appointment: its window, when it was booked, what fulfillment recorded, its crew, and the
    appointment it replaced (with the reschedule's reason code)."""

    appointment_id: str
    job_id: str
    status: AppointmentStatus
    start: datetime
    duration_minutes: int
    booked_at: datetime
    fulfillment_start: datetime | None = None
    fulfillment_end: datetime | None = None
    crew: tuple[str, ...] = ()  # the assigned technicians
    fulfilled_by: tuple[str, ...] = ()  # setAppointmentFulfillmentData's appointmentResources
    rescheduled_from: str | None = None
    reschedule_reason_code: str | None = None

    @property
    def technicians(self) -> tuple[str, ...]:
        """Whose work the appointment is: who fulfillment named, else the assigned crew (the rule
        of the proof of appointment's technicians, docs/design.md §5)."""
        return self.fulfilled_by or self.crew


@dataclass(frozen=True)
class History:
    jobs: tuple[JobRecord, ...] = ()
    appointments: tuple[AppointmentRecord, ...] = ()


# A job counts as first-visit completed unless one of its appointments was moved for these causes.
REVISIT_CAUSES = frozenset({Cause.PROVIDER, Cause.SCOPE})


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def place(sl: Slice, instant: datetime, store_id: str) -> tuple[bool, str | None]:
    """(whether the instant's store-local day is in the slice's range, its period label)."""
    day = instant.astimezone(_zone(dict(sl.zones)[store_id])).date()
    return sl.start <= day <= sl.end, period_of(day, sl.group_by)


# ---- one appointment ------------------------------------------------------------------------


@dataclass(frozen=True)
class Ending:
    """How a CANCELLED appointment ended: moved by a reschedule or cancelled with its job."""

    rescheduled: bool
    reason_code: str | None
    at: datetime


@dataclass(frozen=True)
class Outcome:
    """What one appointment whose window has ended counts for (docs/design.md §6)."""

    served: bool
    early: bool
    late: bool
    lateness_s: int
    within_window: bool
    worked_s: int | None  # fulfillment end - start, when both are recorded
    planned_s: int
    technician_no_show: bool
    buyer_no_show: bool
    fulfillment_break: bool
    lead_s: int


def endings(history: History) -> dict[str, Ending]:
    """Each moved or cancelled appointment's ending: its successor's booking (reason code on the
    successor) or its job's cancellation."""
    out = {
        a.rescheduled_from: Ending(True, a.reschedule_reason_code, a.booked_at)
        for a in history.appointments
        if a.rescheduled_from is not None
    }
    for job in history.jobs:
        if job.cancelled_appointment_id is not None and job.cancelled_at is not None:
            out[job.cancelled_appointment_id] = Ending(False, job.cancellation_reason_code, job.cancelled_at)
    return out


def outcome(a: AppointmentRecord, ending: Ending | None, *, now: datetime, tolerances: Tolerances) -> Outcome | None:
    """The appointment's outcome, or None while its window [start, start + duration) has not ended."""
    start = to_second(a.start)
    end = start + 60 * a.duration_minutes
    if end > to_second(now):
        return None
    early_s, grace_s, threshold = tolerances.seconds()
    fs = None if a.fulfillment_start is None else to_second(a.fulfillment_start)
    fe = None if a.fulfillment_end is None else to_second(a.fulfillment_end)
    served = fs is not None
    early = fs is not None and fs < start - early_s
    late = fs is not None and fs > start + grace_s
    cause = cause_of(ending.reason_code) if ending else None
    provider = cause is Cause.PROVIDER
    abandoned = a.status is AppointmentStatus.ACTIVE and not served and end + threshold < to_second(now)
    broken_late = ending is not None and provider and to_second(ending.at) > start
    buyer_absent = ending is not None and ending.reason_code == ("RS11" if ending.rescheduled else "S1")
    return Outcome(
        served=served,
        early=early,
        late=late,
        lateness_s=(fs - start) if fs is not None and late else 0,
        within_window=fs is not None and fe is not None and fe <= end + grace_s,
        worked_s=(fe - fs) if fs is not None and fe is not None else None,
        planned_s=60 * a.duration_minutes,
        technician_no_show=abandoned or broken_late,
        buyer_no_show=buyer_absent,
        fulfillment_break=provider,
        lead_s=start - to_second(a.booked_at),
    )


def service_tally(outcomes: Sequence[Outcome]) -> ServiceTally:
    """Counts, sums and lateness order statistics of some appointments' outcomes."""
    served = [o for o in outcomes if o.served]
    lateness = sorted(o.lateness_s for o in served if o.late)
    timed = [o for o in served if o.worked_s is not None and o.planned_s > 0]
    return ServiceTally(
        served=len(served),
        early=sum(o.early for o in served),
        late=len(lateness),
        within=sum(o.within_window for o in served),
        worked_s=sum(o.worked_s or 0 for o in timed),
        planned_s=sum(o.planned_s for o in timed),
        technician_no_shows=sum(o.technician_no_show for o in outcomes),
        buyer_no_shows=sum(o.buyer_no_show for o in outcomes),
        breaks=sum(o.fulfillment_break for o in outcomes),
        median=picks(lateness, MEDIAN),
        p90=picks(lateness, P90),
    )


# ---- the reports ----------------------------------------------------------------------------


@dataclass
class _Group:
    outcomes: list[Outcome] = field(default_factory=list)
    completed: int = 0
    first_visits: int = 0
    revenue: dict[str, Fraction] = field(default_factory=lambda: defaultdict(Fraction))


class _Index:
    """The history's lookups: jobs by id, endings, each job's appointments."""

    def __init__(self, history: History, sl: Slice) -> None:
        self.sl = sl
        self.jobs = {j.job_id: j for j in history.jobs if j.store_id in sl.store_ids}
        self.endings = endings(history)
        self.by_job: dict[str, list[AppointmentRecord]] = defaultdict(list)
        for a in history.appointments:
            self.by_job[a.job_id].append(a)

    def appointments(
        self, *, now: datetime, tolerances: Tolerances
    ) -> Iterable[tuple[str | None, AppointmentRecord, Outcome]]:
        """(period, appointment, outcome) of every counted appointment of the slice's stores."""
        for job_id, appointments in self.by_job.items():
            job = self.jobs.get(job_id)
            if job is None:
                continue
            for a in appointments:
                inside, label = place(self.sl, a.start, job.store_id)
                result = outcome(a, self.endings.get(a.appointment_id), now=now, tolerances=tolerances)
                if inside and result is not None:
                    yield label, a, result

    def completed(self) -> Iterable[tuple[str | None, JobRecord, bool, tuple[str, ...]]]:
        """(period, job, first visit?, who completed it) of the jobs completed in the range."""
        for job in self.jobs.values():
            if job.completed_at is None:
                continue
            inside, label = place(self.sl, job.completed_at, job.store_id)
            if not inside:
                continue
            moves = self.by_job[job.job_id]
            first = not any(cause_of(a.reschedule_reason_code) in REVISIT_CAUSES for a in moves)
            done = next((a for a in moves if a.status is AppointmentStatus.COMPLETED), None)
            yield label, job, first, (done.technicians if done else ())


def _payments(job: JobRecord) -> dict[str, int]:
    """The job's counted amounts by currency, in cents."""
    out: dict[str, int] = defaultdict(int)
    for p in job.payments:
        amount = p.get("amount") if isinstance(p, dict) else None
        if not isinstance(amount, dict) or not isinstance(amount.get("currency"), str):
            continue
        value = cents(amount.get("value"))
        if value is not None:
            out[amount["currency"]] += value
    return out


def _service(group: _Group | None) -> ServiceTally:
    if group is None:
        return ServiceTally()
    return replace(
        service_tally(group.outcomes),
        completed=group.completed,
        first_visits=group.first_visits,
        revenue=money(group.revenue),
    )


def technician_report(
    history: History, sl: Slice, *, now: datetime, tolerances: Tolerances = DEFAULT_TOLERANCES
) -> dict[tuple[str, str | None], ServiceMetrics]:
    """Per technician of the slice and period: the appointments it worked (fulfillment's named
    technicians, else the crew) and the jobs it completed, its share of their payments."""
    index, groups = _Index(history, sl), defaultdict[tuple[str, str | None], _Group](_Group)
    wanted = set(sl.technician_ids)
    for label, a, result in index.appointments(now=now, tolerances=tolerances):
        for tech in set(a.technicians) & wanted:
            groups[tech, label].outcomes.append(result)
    for label, job, first, who in index.completed():
        paid = _payments(job)
        for tech in set(who) & wanted:
            group = groups[tech, label]
            group.completed += 1
            group.first_visits += first
            for currency, amount in paid.items():
                group.revenue[currency] += Fraction(amount, len(who))
    keys = [(tech, label) for tech in sl.technician_ids for label in labels(sl)]
    return dense(keys, {k: service_metrics(_service(g)) for k, g in groups.items()}, service_metrics(ServiceTally()))


def store_report(
    history: History, sl: Slice, *, now: datetime, tolerances: Tolerances = DEFAULT_TOLERANCES
) -> dict[tuple[str, str | None], StoreMetrics]:
    """Per store of the slice and period: its appointments, its jobs' lives and revenue."""
    index, groups = _Index(history, sl), defaultdict[tuple[str, str | None], _Group](_Group)
    lead: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for label, a, result in index.appointments(now=now, tolerances=tolerances):
        store = index.jobs[a.job_id].store_id
        groups[store, label].outcomes.append(result)
        lead[store, label].append(result.lead_s)
    for label, job, first, _who in index.completed():
        group = groups[job.store_id, label]
        group.completed += 1
        group.first_visits += first
        for currency, amount in _payments(job).items():
            group.revenue[currency] += amount
    created: dict[tuple[str, str | None], int] = defaultdict(int)
    cancelled: dict[tuple[str, str | None], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    waits: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for job in index.jobs.values():
        inside, label = place(sl, job.created_at, job.store_id)
        if inside:
            created[job.store_id, label] += 1
        if job.cancelled_at is not None:
            inside, label = place(sl, job.cancelled_at, job.store_id)
            if inside:
                cancelled[job.store_id, label][job.cancellation_reason_code or ""] += 1
        booked = [a.booked_at for a in index.by_job[job.job_id]]
        if booked:
            inside, label = place(sl, min(booked), job.store_id)
            if inside:
                waits[job.store_id, label].append(to_second(min(booked)) - to_second(job.created_at))
    keys = [(store, label) for store in sl.store_ids for label in labels(sl)]
    found = {
        key: store_metrics(
            StoreTally(
                service=_service(groups.get(key)),
                appointments=len(lead.get(key, ())),
                lead_s=sum(lead.get(key, ())),
                scheduled_jobs=len(waits.get(key, ())),
                schedule_s=sum(waits.get(key, ())),
                created=created.get(key, 0),
                cancelled=CancelTally(tuple(sorted(cancelled.get(key, {}).items()))),
            )
        )
        for key in set(groups) | set(lead) | set(created) | set(cancelled) | set(waits)
    }
    return dense(keys, found, store_metrics(StoreTally()))


def payment_metrics(
    history: History, sl: Slice, *, currencies: Sequence[str] = ()
) -> dict[tuple[str | None, str], PaymentMetrics]:
    """Per period and currency: gross of the jobs completed, value of the jobs cancelled, and each
    of the slice's technicians' even share of the jobs it completed."""
    index = _Index(history, sl)
    gross: dict[tuple[str | None, str], int] = defaultdict(int)
    paid: dict[tuple[str | None, str], int] = defaultdict(int)
    lost: dict[tuple[str | None, str], int] = defaultdict(int)
    shares: dict[tuple[str | None, str], dict[str, list[Fraction]]] = defaultdict(lambda: defaultdict(list))
    wanted = set(sl.technician_ids)
    for label, job, _first, who in index.completed():
        for currency, amount in _payments(job).items():
            gross[label, currency] += amount
            paid[label, currency] += 1
            for tech in set(who) & wanted:
                shares[label, currency][tech].append(Fraction(amount, len(who)))
    for job in index.jobs.values():
        if job.cancelled_at is not None:
            inside, label = place(sl, job.cancelled_at, job.store_id)
            for currency, amount in _payments(job).items() if inside else ():
                lost[label, currency] += amount
    seen = sorted({c for _, c in (*gross, *lost)} | set(currencies))
    keys = [(label, currency) for label in labels(sl) for currency in seen]
    return {
        key: PaymentMetrics(
            currency=key[1],
            gross=to_money(gross.get(key, 0)),
            cancelled_value=to_money(lost.get(key, 0)),
            jobs_paid=paid.get(key, 0),
            technicians=tuple(
                TechnicianShare(tech, to_money(sum(parts, Fraction())), len(parts))
                for tech, parts in sorted(shares.get(key, {}).items())
            ),
        )
        for key in keys
    }
