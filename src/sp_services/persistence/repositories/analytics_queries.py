"""The statements of the analytics (docs/design.md §6), built per request for a slice's stores,
technicians and local days; persistence/repositories/analytics.py runs them.

Every statement groups in the database and returns integer tallies: counts, sums of epoch
seconds and of cents, and the two order statistics each percentile interpolates (window
functions rank the late starts). The joins follow indexes: appointments by (seller, start),
events by (kind, at), and everything else by job.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    Subquery,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.selectable import CTE

from sp_services.domain.analytics_metrics import MEDIAN, P90, Tolerances, to_second
from sp_services.domain.enums import AppointmentStatus, JobEventKind
from sp_services.domain.reason_codes import CAUSES, Cause
from sp_services.persistence import tables as t
from sp_services.persistence.sql import epoch_second, json_array_items, json_array_size, json_array_texts

from .analytics_sql import LocalDays, cents_of, materialized, payment_amount, payment_currency

A, J, E = t.AppointmentRow.__table__, t.ServiceJob.__table__, t.JobEvent.__table__
AT = t.AppointmentTechnician.__table__
PROVIDER_CODES = sorted(code for code, cause in CAUSES.items() if cause is Cause.PROVIDER)
REVISIT_CODES = sorted(code for code, cause in CAUSES.items() if cause in (Cause.PROVIDER, Cause.SCOPE))
CREATED, BOOKED = JobEventKind.CREATED.value, JobEventKind.BOOKED.value
COMPLETED, CANCELLED = JobEventKind.COMPLETED.value, JobEventKind.CANCELLED.value


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _sum_if(condition: ColumnElement[bool], value: ColumnElement[int]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def _first_visit(job_id: ColumnElement[str]) -> ColumnElement[bool]:
    """The job was never moved for a provider or scope reason (its appointments carry the codes)."""
    X = A.alias("moved")
    return ~exists().where(X.c.service_job_id == job_id, X.c.reschedule_reason_code.in_(REVISIT_CODES))


def _events(days: LocalDays, name: str, kinds: tuple[str, ...], *columns: Any, where: Any = True) -> CTE:
    """The slice's stores' job events of ``kinds`` in the range's coarse bounds, with the epoch
    second they happened (``at_s``) and its job's store, computed once (materialized)."""
    at_s = epoch_second(E.c.at).label("at_s")
    return materialized(
        select(E.c.id, E.c.service_job_id, E.c.kind, E.c.reason_code, J.c.store_id, at_s, *columns)
        .select_from(E.join(J, J.c.service_job_id == E.c.service_job_id))
        .where(E.c.kind.in_(kinds), days.coarse(E.c.at), J.c.store_id.in_(days.slice.store_ids), where),
        name,
    )


def _payments(source: CTE, name: str) -> tuple[CTE, ColumnElement[int]]:
    """One row per amount of ``source``'s payments (its columns, ``amount``, ``currency``), read
    out of the JSON once (materialized); and the amount in cents, NULL when it is no money."""
    items = json_array_items(source.c.payments).table_valued("value", "fullkey").alias("payment")
    amount = payment_amount(source.c.payments, items.c.value, items.c.fullkey)
    currency = payment_currency(source.c.payments, items.c.value, items.c.fullkey)
    rows = materialized(
        select(*source.c, amount.label("amount"), currency.label("currency"))
        .select_from(source.join(items, true()))
        .where(amount.is_not(None), currency.is_not(None)),
        name,
    )
    return rows, cents_of(rows.c.amount)


# ---- appointments -----------------------------------------------------------------------------


def appointment_facts(days: LocalDays, seller_id: str, now: datetime) -> Select[Any]:
    """One row per appointment of the slice's stores whose window has ended, with how it ended:
    moved (its successor holds the reason code) or cancelled with its job (the event does)."""
    successor, cancel = A.alias("successor"), E.alias("cancellation")
    ended = A.c.status == AppointmentStatus.CANCELLED.value  # only those were moved or cancelled: no lookup else
    moved = and_(
        ended,
        successor.c.service_job_id == A.c.service_job_id,
        successor.c.rescheduled_appointment_id == A.c.appointment_id,
    )
    cancelled = and_(
        ended,
        cancel.c.service_job_id == A.c.service_job_id,
        cancel.c.kind == CANCELLED,
        cancel.c.appointment_id == A.c.appointment_id,
    )
    raw = materialized(
        select(
            A.c.appointment_id,
            J.c.store_id,
            A.c.status,
            A.c.duration_minutes.label("duration"),
            epoch_second(A.c.start_time).label("start_s"),
            epoch_second(A.c.fulfillment_start).label("fs"),
            epoch_second(A.c.fulfillment_end).label("fe"),
            epoch_second(A.c.created_at).label("booked_s"),
            A.c.fulfillment_resources.label("resources"),
            successor.c.appointment_id.label("successor"),
            func.coalesce(successor.c.reschedule_reason_code, cancel.c.reason_code).label("reason"),
            func.coalesce(epoch_second(successor.c.created_at), epoch_second(cancel.c.at)).label("ended_s"),
        )
        .select_from(
            A.join(J, J.c.service_job_id == A.c.service_job_id).outerjoin(successor, moved).outerjoin(cancel, cancelled)
        )
        .where(
            A.c.seller_id == seller_id,
            J.c.store_id.in_(days.slice.store_ids),
            days.coarse(A.c.start_time),
            A.c.start_time < now,
        ),
        "appointment",
    )
    day = days.day(raw.c.start_s, raw.c.store_id)
    end = raw.c.start_s + raw.c.duration * 60
    return select(*raw.c, days.period(day).label("period_day"), end.label("end_s")).where(
        days.inside(day), end <= to_second(now)
    )


def by_store(facts: Select[Any]) -> Subquery:
    """Each appointment keyed by its job's store."""
    rows = facts.subquery("facts")
    return select(*rows.c, rows.c.store_id.label("key")).subquery("keyed")


def by_technician(facts: Select[Any], technician_ids: tuple[str, ...]) -> Subquery:
    """Each appointment once per technician of ``technician_ids`` whose work it is: those
    fulfillment named, else the assigned crew."""
    rows = facts.cte("facts")
    named = json_array_texts(rows.c.resources).table_valued("value").alias("named_technician")
    crew = (
        select(*rows.c, AT.c.technician_id.label("key"))
        .select_from(rows.join(AT, AT.c.appointment_id == rows.c.appointment_id))
        .where(json_array_size(rows.c.resources) == 0, AT.c.technician_id.in_(technician_ids))
    )
    by_name = (
        select(*rows.c, named.c.value.label("key"))
        .select_from(rows.join(named, true()))
        .where(named.c.value.in_(technician_ids))
    )
    return union_all(crew, by_name).subquery("keyed")


def service_tallies(keyed: Subquery, tolerances: Tolerances, now: datetime) -> Select[Any]:
    """Per (key, period_day): served, early, late, within window, worked and planned seconds,
    technician and buyer no-shows, breaks, the picks of the lateness median and p90 (low, high
    each), appointments, and their lead seconds summed."""
    early_s, grace_s, threshold_s = tolerances.seconds()
    k = keyed.c
    late = case((k.fs > k.start_s + grace_s, 1), else_=0)
    lateness = k.fs - k.start_s
    part = [k.key, k.period_day, late]
    ranked = select(
        *keyed.c,
        late.label("late"),
        lateness.label("lateness"),
        func.row_number().over(partition_by=part, order_by=lateness).label("rn"),
        func.count().over(partition_by=part).label("n"),
    ).subquery("ranked")
    r = ranked.c
    served = r.fs.is_not(None)
    timed = and_(served, r.fe.is_not(None), r.duration > 0)
    provider = r.reason.in_(PROVIDER_CODES)

    def pick(q: tuple[int, int], upper: bool) -> ColumnElement[Any]:
        # The 1-based ranks of domain.analytics_metrics.ranks: (n - 1) * q, and the next if a rest.
        rank = ((r.n - 1) * q[0]) // q[1] + 1
        if upper:
            rank = rank + case((((r.n - 1) * q[0]) % q[1] > 0, 1), else_=0)
        return func.max(case((and_(r.late == 1, r.rn == rank), r.lateness)))

    abandoned = and_(r.status == AppointmentStatus.ACTIVE.value, r.fs.is_(None), r.end_s + threshold_s < to_second(now))
    buyer_absent = or_(
        and_(r.successor.is_not(None), r.reason == "RS11"), and_(r.successor.is_(None), r.reason == "S1")
    )
    return select(
        r.key,
        r.period_day,
        _count_if(served),
        _count_if(r.fs < r.start_s - early_s),
        _count_if(r.late == 1),
        _count_if(and_(served, r.fe.is_not(None), r.fe <= r.end_s + grace_s)),
        _sum_if(timed, r.fe - r.fs),
        _sum_if(timed, r.duration * 60),
        _count_if(or_(abandoned, and_(provider, r.ended_s > r.start_s))),
        _count_if(buyer_absent),
        _count_if(provider),
        pick(MEDIAN, False),
        pick(MEDIAN, True),
        pick(P90, False),
        pick(P90, True),
        func.count(),
        func.coalesce(func.sum(r.start_s - r.booked_s), 0),
    ).group_by(r.key, r.period_day)


# ---- jobs -------------------------------------------------------------------------------------


def completed_jobs(days: LocalDays, *, first_visits: bool = True) -> Select[Any]:
    """The slice's stores' jobs completed in the range, with their completing appointment."""
    # Whether each was a first visit is looked up only when asked (payments do not need it).
    first = _first_visit(J.c.service_job_id) if first_visits else false()
    done = _events(days, "completion", (COMPLETED,), J.c.payments, first.label("first"))
    day = days.day(done.c.at_s, done.c.store_id)
    finished = and_(A.c.service_job_id == done.c.service_job_id, A.c.status == AppointmentStatus.COMPLETED.value)
    return (
        select(
            done.c.service_job_id.label("job"),
            done.c.payments,
            days.period(day).label("period_day"),
            case((done.c.first, 1), else_=0).label("first"),
            A.c.appointment_id,
            A.c.fulfillment_resources.label("resources"),
            json_array_size(A.c.fulfillment_resources).label("named"),
        )
        .select_from(done.join(A, finished))
        .where(days.inside(day))
    )


def credited_jobs(
    days: LocalDays, technician_ids: tuple[str, ...], *, first_visits: bool = True
) -> CompoundSelect[Any]:
    """Each completed job once per technician of ``technician_ids`` who did it (named by
    fulfillment, else the crew), with the crew size its payment is split by: everyone who did it."""
    done = completed_jobs(days, first_visits=first_visits).cte("done")
    members = AT.alias("member")
    crew_size = select(func.count()).where(members.c.appointment_id == done.c.appointment_id).scalar_subquery()
    named = json_array_texts(done.c.resources).table_valued("value").alias("named_technician")
    columns = (done.c.job, done.c.payments, done.c.period_day, done.c.first)
    by_crew = (
        select(*columns, AT.c.technician_id.label("key"), crew_size.label("crew"))
        .select_from(done.join(AT, AT.c.appointment_id == done.c.appointment_id))
        .where(done.c.named == 0, AT.c.technician_id.in_(technician_ids))
    )
    by_name = (
        select(*columns, named.c.value.label("key"), done.c.named.label("crew"))
        .select_from(done.join(named, true()))
        .where(named.c.value.in_(technician_ids))
    )
    return union_all(by_crew, by_name)


def credited_payments(credited: CTE, *marker: Any) -> Select[Any]:
    """([marker,] technician, period_day, currency, crew size, cents, jobs) of the credited jobs'
    payments."""
    p, cents = _payments(credited, "credited_payment")
    keys = (p.c.key, p.c.period_day, p.c.currency, p.c.crew)
    return (
        select(*marker, *keys, func.sum(cents), func.count(p.c.job.distinct()))
        .where(cents.is_not(None))
        .group_by(*keys)
    )


def credited_totals(credited: CTE) -> CompoundSelect[Any]:
    """Both tallies of the credited jobs in one statement, so that they are found once:
    ``("jobs", technician, period_day, NULL, NULL, jobs completed, first visits)`` and
    ``("paid", technician, period_day, currency, crew size, cents, jobs)``."""
    c = credited.c
    jobs = select(
        literal_column("'jobs'").label("part"), c.key, c.period_day,
        cast(null(), String).label("currency"), cast(null(), BigInteger).label("crew"),
        func.count(), func.sum(c.first),
    ).group_by(c.key, c.period_day)  # fmt: skip
    return union_all(jobs, credited_payments(credited, literal_column("'paid'").label("part")))


def job_events(days: LocalDays) -> Select[Any]:
    """(store, period_day, kind, reason code, jobs, first visits) of the jobs created, completed
    and cancelled in the range."""
    first = case((and_(E.c.kind == COMPLETED, _first_visit(J.c.service_job_id)), 1), else_=0)
    ev = _events(days, "job_event", (CREATED, COMPLETED, CANCELLED), first.label("first"))
    day = days.day(ev.c.at_s, ev.c.store_id)
    period = days.period(day)
    return (
        select(ev.c.store_id, period, ev.c.kind, ev.c.reason_code, func.count(), func.sum(ev.c.first))
        .where(days.inside(day))
        .group_by(ev.c.store_id, *days.grouping(period), ev.c.kind, ev.c.reason_code)
    )


def job_payments(days: LocalDays, *, by_store: bool) -> Select[Any]:
    """([store,] kind, period_day, currency, cents, jobs) of the payments of the jobs completed or
    cancelled in the range."""
    ev = _events(days, "closing", (COMPLETED, CANCELLED), J.c.payments)
    p, cents = _payments(ev, "closing_payment")
    day = days.day(p.c.at_s, p.c.store_id)
    stores, period = [p.c.store_id] if by_store else [], days.period(day)
    return (
        select(*stores, p.c.kind, period, p.c.currency, func.sum(cents), func.count(p.c.service_job_id.distinct()))
        .where(days.inside(day), cents.is_not(None))
        .group_by(*stores, p.c.kind, *days.grouping(period), p.c.currency)
    )


def first_bookings(days: LocalDays) -> Select[Any]:
    """(store, period_day, jobs, seconds from created to first booked) of the jobs first booked in
    the range: a job's earliest BOOKED event is its first appointment's booking."""
    earlier = E.alias("earlier")
    first = ~exists().where(
        earlier.c.service_job_id == E.c.service_job_id,
        earlier.c.kind == BOOKED,
        or_(earlier.c.at < E.c.at, and_(earlier.c.at == E.c.at, earlier.c.id < E.c.id)),
    )
    ev = _events(days, "booking", (BOOKED,), epoch_second(J.c.created_at).label("created_s"), where=first)
    day = days.day(ev.c.at_s, ev.c.store_id)
    period = days.period(day)
    return (
        select(ev.c.store_id, period, func.count(), func.sum(ev.c.at_s - ev.c.created_s))
        .where(days.inside(day))
        .group_by(ev.c.store_id, *days.grouping(period))
    )


# ---- what each report runs --------------------------------------------------------------------


def technician_statements(
    days: LocalDays, *, seller_id: str, now: datetime, tolerances: Tolerances
) -> tuple[Select[Any], CompoundSelect[Any]]:
    """The technician report's statements: service tallies; completed jobs and payment shares."""
    keyed = by_technician(appointment_facts(days, seller_id, now), days.slice.technician_ids)
    credited = materialized(credited_jobs(days, days.slice.technician_ids), "credited")
    return service_tallies(keyed, tolerances, now), credited_totals(credited)


def store_statements(
    days: LocalDays, *, seller_id: str, now: datetime, tolerances: Tolerances
) -> tuple[Select[Any], Select[Any], Select[Any], Select[Any]]:
    """The store report's statements: service tallies, job events, payments, first bookings."""
    keyed = by_store(appointment_facts(days, seller_id, now))
    return (
        service_tallies(keyed, tolerances, now),
        job_events(days),
        job_payments(days, by_store=True),
        first_bookings(days),
    )


def payment_statements(days: LocalDays) -> tuple[Select[Any], Select[Any]]:
    """The payments report's statements: payments by kind, technicians' shares."""
    credited = materialized(credited_jobs(days, days.slice.technician_ids, first_visits=False), "credited")
    return job_payments(days, by_store=False), credited_payments(credited)
