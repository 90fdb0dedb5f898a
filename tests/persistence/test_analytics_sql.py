"""The analytics' SQL aggregates (persistence/repositories/analytics.py) agree with the oracle
(domain/analytics.py) on random histories, on every backend: stores on both sides of three DST
changes, reschedule chains, cancellations, holds, crews and named technicians, odd payments."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from sp_services.domain.analytics import (
    AppointmentRecord,
    History,
    JobRecord,
    payment_metrics,
    store_report,
    technician_report,
)
from sp_services.domain.analytics_metrics import DEFAULT_TOLERANCES, Slice, to_second
from sp_services.domain.analytics_query import GroupBy
from sp_services.domain.enums import AppointmentStatus
from sp_services.persistence.repositories.analytics import AnalyticsRepository
from sp_services.persistence.sql import epoch_second
from sp_services.persistence.tables import UTCDateTime
from tests.persistence.analytics_history import (
    prefixed,
    rolled_back,
    shares_unprefixed,
    unprefixed,
    write_catalog,
    write_jobs,
)
from tests.support import Server

# Three stores whose clocks change on different days of March/April 2026 (US 8 March, UK 29 March,
# Sydney 5 April, backwards there), and one that never changes.
ZONES = (
    ("s-ny", "America/New_York"),
    ("s-ldn", "Europe/London"),
    ("s-syd", "Australia/Sydney"),
    ("s-del", "Asia/Kolkata"),
)
TECHNICIANS = ("T1", "T2", "T3", "T4")
ORIGIN = datetime(2026, 3, 1, tzinfo=UTC)
SPAN_DAYS = 45
MINUTE = timedelta(minutes=1)
RESCHEDULE_CODES = ("RS1", "RS3", "RS4", "RS6", "RS8", "RS9", "RS11", "RS12", "DRS2")
CANCEL_CODES = ("S1", "S2", "S3", "S13", "S14", "S15", "S17", "S30")
ODD_PAYMENTS: tuple[Any, ...] = (
    {"amount": {"value": "12.50", "currency": "USD"}},
    {"amount": {"value": True, "currency": "USD"}},
    {"amount": {"value": 2e9, "currency": "USD"}},
    {"amount": {"value": 12, "currency": 5}},
    {"amount": 5},
    {"value": 3},
    7,
    "x",
    [1, 2],
    None,
)


def _local_midnights() -> list[datetime]:
    """Instants a second either side of each store-local midnight around the DST changes."""
    from zoneinfo import ZoneInfo

    out = []
    for _, zone in ZONES:
        tz = ZoneInfo(zone)
        for day in range(SPAN_DAYS):
            local = datetime.combine(date(2026, 3, 1) + timedelta(days=day), datetime.min.time(), tzinfo=tz)
            midnight = local.astimezone(UTC)
            out += [midnight - timedelta(seconds=1), midnight]
    return out


EDGES = _local_midnights()
instants = st.one_of(
    st.integers(0, SPAN_DAYS * 1440).map(lambda m: ORIGIN + m * MINUTE),
    st.sampled_from(EDGES),
)
amounts = st.builds(
    lambda cents, currency: {"amount": {"value": cents / 100, "currency": currency}, "instrument": "CARD"},
    st.integers(-500, 50_000),
    st.sampled_from(("USD", "EUR")),
)
payments_lists = st.lists(st.one_of(amounts, amounts, amounts, st.sampled_from(ODD_PAYMENTS)), max_size=3)
fulfillment_offsets = st.one_of(
    st.sampled_from((-31 * 60, -30 * 60, -30 * 60 - 1, 0, 15 * 60, 15 * 60 + 1, 16 * 60, 3600)),
    st.integers(-7200, 7200),
)
crews = st.lists(st.sampled_from(TECHNICIANS), unique=True, max_size=3).map(tuple)


@st.composite
def appointment_chain(draw: st.DrawFn, job_id: str, created: datetime) -> tuple[list[AppointmentRecord], str]:
    """A job's appointments, each replacing the one before, and how the last one stands:
    'active', 'completed', 'cancelled' (with its job) or 'held' (cancelled by the marketplace)."""
    n = draw(st.sampled_from((0, 1, 1, 1, 2, 2, 3)))
    out: list[AppointmentRecord] = []
    booked = created + draw(st.integers(0, 3 * 1440)) * MINUTE
    previous: str | None = None
    for i in range(n):
        start = booked + draw(st.integers(-2 * 1440, 6 * 1440)) * MINUTE
        start = start.replace(second=0)
        served = draw(st.integers(0, 3)) > 0
        fs = start + timedelta(seconds=draw(fulfillment_offsets)) if served else None
        fe = fs + draw(st.integers(0, 240)) * MINUTE if fs is not None and draw(st.integers(0, 9)) else None
        moved = previous is not None and draw(st.integers(0, 4)) > 0
        out.append(
            AppointmentRecord(
                appointment_id=f"{job_id}_a{i}",
                job_id=job_id,
                status=AppointmentStatus.CANCELLED,
                start=start,
                duration_minutes=draw(st.sampled_from((5, 30, 60, 90))),
                booked_at=booked,
                fulfillment_start=fs,
                fulfillment_end=fe,
                crew=draw(crews),
                fulfilled_by=draw(crews) if draw(st.integers(0, 2)) == 0 else (),
                rescheduled_from=previous if moved else None,
                reschedule_reason_code=draw(st.sampled_from(RESCHEDULE_CODES)) if moved else None,
            )
        )
        previous = out[-1].appointment_id
        booked = draw(_after(booked, start))
    fate = draw(st.sampled_from(("active", "completed", "cancelled", "held"))) if out else "pending"
    # Fix up: an appointment that was not moved was released by a hold, except the chain's last.
    if out and fate in ("active", "completed"):
        last = out[-1]
        status = AppointmentStatus.ACTIVE if fate == "active" else AppointmentStatus.COMPLETED
        if fate == "completed" and last.fulfillment_start is None:
            last = _replace(last, fulfillment_start=last.start, fulfillment_end=last.start + 50 * MINUTE)
        out[-1] = _replace(last, status=status)
    return out, fate


def _after(booked: datetime, start: datetime) -> st.SearchStrategy[datetime]:
    """When an appointment booked at ``booked`` is moved or cancelled: at its start to the second
    (not after it), a second later, or any time after its booking."""
    later = st.integers(1, 8 * 1440).map(lambda m: booked + m * MINUTE)
    edges = st.sampled_from((start, start + timedelta(seconds=1))).filter(lambda x: x > booked)
    return st.one_of(later, edges)


def _replace(a: AppointmentRecord, **changes: Any) -> AppointmentRecord:
    return AppointmentRecord(**{**a.__dict__, **changes})


@st.composite
def histories(draw: st.DrawFn) -> History:
    jobs: list[JobRecord] = []
    appointments: list[AppointmentRecord] = []
    for j in range(draw(st.integers(0, 12))):
        job_id = f"job{j}"
        created = draw(instants)
        chain, fate = draw(appointment_chain(job_id, created))
        last = chain[-1] if chain else None
        after = draw(_after(last.booked_at, last.start)) if last else created + draw(st.integers(1, 1440)) * MINUTE
        job = JobRecord(
            job_id=job_id,
            store_id=draw(st.sampled_from([s for s, _ in ZONES])),
            created_at=created,
            payments=tuple(draw(payments_lists)),
        )
        if fate == "completed":
            job = JobRecord(**{**job.__dict__, "completed_at": after})
        elif fate in ("cancelled", "pending") and draw(st.booleans()):
            job = JobRecord(
                **{
                    **job.__dict__,
                    "cancelled_at": after,
                    "cancellation_reason_code": draw(st.sampled_from(CANCEL_CODES)),
                    "cancelled_appointment_id": last.appointment_id if last else None,
                }
            )
        jobs.append(job)
        appointments += chain
    return History(tuple(jobs), tuple(appointments))


@st.composite
def slices(draw: st.DrawFn) -> Slice:
    """Half of them the whole history, every store and technician; the rest any part of it."""
    if draw(st.booleans()):
        start, end, zones, techs = date(2026, 2, 27), date(2026, 4, 30), ZONES, TECHNICIANS
    else:
        start = date(2026, 2, 27) + timedelta(days=draw(st.integers(0, SPAN_DAYS)))
        end = start + timedelta(days=draw(st.integers(0, 40)))
        zones = tuple(draw(st.lists(st.sampled_from(ZONES), unique=True, min_size=1)))
        techs = tuple(draw(st.lists(st.sampled_from(TECHNICIANS), unique=True)))
    return Slice(start, end, draw(st.sampled_from(list(GroupBy))), zones, techs)


# Now: mostly after everything (every window over, every no-show threshold passed), else anywhere.
nows = st.one_of(st.just(70 * 1440 * 60), st.integers(0, 60 * 1440).map(lambda m: m * 60 + 30))


@st.composite
def now_for(draw: st.DrawFn, history: History) -> datetime:
    """Now: after everything, anywhere, or exactly when an appointment becomes a no-show (24 hours
    after its window's end) or the second after."""
    ends = [a.start + (a.duration_minutes + 24 * 60) * MINUTE for a in history.appointments]
    if ends and draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(ends)) + timedelta(seconds=draw(st.sampled_from((0, 1))))
    return ORIGIN + timedelta(seconds=draw(nows))


def write(session: Session, history: History, *, seller_id: str, prefix: str) -> None:
    """The seller with every store of ZONES and every technician, then the history."""
    write_catalog(session, seller_id=seller_id, zones=ZONES, technicians=TECHNICIANS, at=ORIGIN, prefix=prefix)
    write_jobs(session, history, seller_id=seller_id, prefix=prefix)


# ---- the properties ----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), histories(), slices())
def test_sql_agrees_with_the_oracle(server: Server, data: st.DataObject, history: History, sl: Slice) -> None:
    now = data.draw(now_for(history))
    prefix = f"x{uuid.uuid4().hex[:6]}"
    seller = f"A{prefix.upper()}"
    with rolled_back(server.db) as session:
        write(session, history, seller_id=seller, prefix=prefix)
        repo, asked = AnalyticsRepository(session), prefixed(sl, prefix)
        tol = DEFAULT_TOLERANCES
        assert unprefixed(repo.technician_report(asked, seller_id=seller, now=now, tolerances=tol), prefix) == (
            technician_report(history, sl, now=now)
        )
        assert unprefixed(repo.store_report(asked, seller_id=seller, now=now, tolerances=tol), prefix) == (
            store_report(history, sl, now=now)
        )
        assert shares_unprefixed(repo.payment_metrics(asked, currencies=("USD",)), prefix) == (
            payment_metrics(history, sl, currencies=("USD",))
        )


def _edge_histories() -> dict[str, tuple[History, datetime]]:
    """Hand-made histories on every boundary of the definitions, with the instant they are read at."""
    start = datetime(2026, 3, 8, 4, 30, tzinfo=UTC)  # 23:30 in New York the day before its 23-hour day

    def visit(n: int, fs: timedelta | None, worked: timedelta = 60 * MINUTE, **more: Any) -> AppointmentRecord:
        first = start + timedelta(days=n)
        return AppointmentRecord(
            f"job{n}_a0", f"job{n}", more.pop("status", AppointmentStatus.COMPLETED), first, 60,
            first - timedelta(days=1), None if fs is None else first + fs,
            None if fs is None else first + fs + worked, ("T1",), **more,
        )  # fmt: skip

    def jobs(*appointments: AppointmentRecord, **more: Any) -> tuple[JobRecord, ...]:
        return tuple(JobRecord(a.job_id, "s-ny", a.booked_at, (), **more) for a in appointments)

    starts = [visit(n, timedelta(seconds=s)) for n, s in enumerate((900, 901, -1800, -1801, 0))]
    ends = [
        visit(n, timedelta(0), worked) for n, worked in enumerate((75 * MINUTE, 75 * MINUTE + timedelta(seconds=1)))
    ]
    active = visit(0, None, status=AppointmentStatus.ACTIVE)
    no_show_at = active.start + 25 * 60 * MINUTE
    moved = visit(0, None, status=AppointmentStatus.CANCELLED)

    def moved_at(delay: timedelta, code: str) -> History:
        successor = AppointmentRecord(
            "job0_a1", "job0", AppointmentStatus.ACTIVE, moved.start + timedelta(days=1), 60, moved.start + delay,
            crew=("T2",), rescheduled_from="job0_a0", reschedule_reason_code=code,
        )  # fmt: skip
        return History(jobs(moved), (moved, successor))

    def cancelled_at(delay: timedelta, code: str) -> History:
        job = JobRecord("job0", "s-ny", moved.booked_at, (), None, moved.start + delay, code, "job0_a0")
        return History((job,), (moved,))

    later = datetime(2026, 4, 30, tzinfo=UTC)
    return {
        "15 and 16 minutes late, 30 and 31 early": (History(jobs(*starts), tuple(starts)), later),
        "ended within the grace or a second past": (History(jobs(*ends), tuple(ends)), later),
        "no-show threshold reached": (History(jobs(active), (active,)), no_show_at),
        "no-show threshold passed": (History(jobs(active), (active,)), no_show_at + timedelta(seconds=1)),
        "moved by the provider at the start": (moved_at(timedelta(0), "RS4"), later),
        "moved by the provider a second after": (moved_at(timedelta(seconds=1), "RS12"), later),
        "moved by the buyer not there": (moved_at(timedelta(hours=1), "RS11"), later),
        "cancelled by the provider at the start": (cancelled_at(timedelta(0), "S13"), later),
        "cancelled by the provider a second after": (cancelled_at(timedelta(seconds=1), "S2"), later),
        "cancelled, the buyer not there": (cancelled_at(timedelta(hours=1), "S1"), later),
    }


EDGES_BY_NAME = _edge_histories()


@pytest.mark.parametrize("name", list(EDGES_BY_NAME))
@pytest.mark.parametrize("group_by", [GroupBy.DAY, GroupBy.NONE])
def test_sql_agrees_with_the_oracle_on_the_boundaries(server: Server, name: str, group_by: GroupBy) -> None:
    history, now = EDGES_BY_NAME[name]
    sl = Slice(date(2026, 3, 6), date(2026, 3, 16), group_by, ZONES[:1], ("T1", "T2"))
    with rolled_back(server.db) as session:
        write(session, history, seller_id="AEDGE", prefix="e")
        repo, asked, tol = AnalyticsRepository(session), prefixed(sl, "e"), DEFAULT_TOLERANCES
        found = unprefixed(repo.technician_report(asked, seller_id="AEDGE", now=now, tolerances=tol), "e")
        assert found == technician_report(history, sl, now=now)
        stores = unprefixed(repo.store_report(asked, seller_id="AEDGE", now=now, tolerances=tol), "e")
        assert stores == store_report(history, sl, now=now)
    totals = [
        sum(getattr(m, f) for m in found.values()) for f in ("late_starts", "early_starts", "technician_no_shows")
    ]
    expected = {
        "15 and 16 minutes late, 30 and 31 early": [1, 1, 0],
        "no-show threshold reached": [0, 0, 0],
        "no-show threshold passed": [0, 0, 1],
        "moved by the provider at the start": [0, 0, 1],  # the successor, unserved, is overdue too
        "moved by the provider a second after": [0, 0, 2],
        "cancelled by the provider at the start": [0, 0, 0],
        "cancelled by the provider a second after": [0, 0, 1],
    }
    assert totals == expected.get(name, totals)


def test_another_sellers_history_is_not_counted(server: Server) -> None:
    """Scoping is by the slice's stores and the seller: the same history written twice under two
    sellers counts once for each."""
    job = JobRecord("job1", "s-ny", ORIGIN, ({"amount": {"value": 10.0, "currency": "USD"}},), ORIGIN + 3 * MINUTE)
    done = AppointmentRecord(
        "job1_a0", "job1", AppointmentStatus.COMPLETED, ORIGIN, 60, ORIGIN, ORIGIN, ORIGIN + 60 * MINUTE, ("T1",)
    )
    history = History((job,), (done,))
    sl = Slice(date(2026, 2, 28), date(2026, 3, 2), GroupBy.NONE, (ZONES[0],), ("T1",))
    with rolled_back(server.db) as session:
        for prefix in ("p1", "p2"):
            write(session, history, seller_id=f"A{prefix}", prefix=prefix)
        repo = AnalyticsRepository(session)
        rows = repo.technician_report(prefixed(sl, "p1"), seller_id="Ap1", now=ORIGIN + timedelta(days=3),
                                      tolerances=DEFAULT_TOLERANCES)  # fmt: skip
        assert rows[("p1T1", None)].appointments_served == 1
        assert rows[("p1T1", None)].jobs_completed == 1
        assert [(m.currency, str(m.value)) for m in rows[("p1T1", None)].revenue] == [("USD", "10")]
        paid = repo.payment_metrics(prefixed(sl, "p2"))
        assert [(k, v.gross, v.jobs_paid) for k, v in paid.items()] == [((None, "USD"), 10, 1)]


def test_payments_text_that_is_no_json_is_skipped(server: Server) -> None:
    """Python's json writes NaN, which SQLite stores as it is (PostgreSQL refuses it on insert): the
    amounts of such a job are skipped, never an error."""
    if server.db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL does not store JSON that is not JSON")
    odd = ({"amount": {"value": float("nan"), "currency": "USD"}}, {"amount": {"value": 5.0, "currency": "USD"}})
    done = AppointmentRecord(
        "job1_a0", "job1", AppointmentStatus.COMPLETED, ORIGIN, 60, ORIGIN, ORIGIN, ORIGIN + 60 * MINUTE, ("T1",)
    )
    history = History((JobRecord("job1", "s-ny", ORIGIN, odd, ORIGIN + 3 * MINUTE),), (done,))
    sl = Slice(date(2026, 2, 28), date(2026, 3, 2), GroupBy.NONE, (ZONES[0],), ("T1",))
    with rolled_back(server.db) as session:
        write(session, history, seller_id="ANAN", prefix="n")
        paid = AnalyticsRepository(session).payment_metrics(prefixed(sl, "n"), currencies=("USD",))
    assert [(v.gross, v.jobs_paid) for v in paid.values()] == [(0, 0)]


EDGE_INSTANTS = [
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC),
    datetime(1900, 1, 1, tzinfo=UTC),
    datetime(2026, 3, 8, 6, 59, 59, 999999, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
]


def test_epoch_second_agrees_with_the_domain(server: Server) -> None:
    with server.db.transaction(write=False) as s:
        found = [s.scalar(select(epoch_second(literal(d, UTCDateTime())))) for d in EDGE_INSTANTS]
    assert found == [to_second(d) for d in EDGE_INSTANTS]
