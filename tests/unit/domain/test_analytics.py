"""The analytics' definitions (domain/analytics.py, domain/analytics_metrics.py) on hand-made
histories with known answers (docs/design.md §6)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sp_services.domain.analytics import (
    AppointmentRecord,
    History,
    JobRecord,
    payment_metrics,
    store_report,
    technician_report,
)
from sp_services.domain.analytics_metrics import (
    Money,
    Slice,
    TechnicianShare,
)
from sp_services.domain.analytics_query import GroupBy
from sp_services.domain.enums import AppointmentStatus
from sp_services.domain.reason_codes import Cause

NY = ("s1", "America/New_York")
START = datetime(2026, 6, 1, 14, tzinfo=UTC)  # 10:00 in New York
NOW = datetime(2026, 6, 10, tzinfo=UTC)
JUNE = Slice(date(2026, 6, 1), date(2026, 6, 30), GroupBy.NONE, (NY,), ("T1", "T2", "T3"))
SPRING = Slice(date(2026, 5, 1), date(2026, 6, 30), GroupBy.NONE, (NY,), ("T1",))  # jobs are created in May
M = timedelta(minutes=1)
ACTIVE, COMPLETED, CANCELLED = AppointmentStatus.ACTIVE, AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED


def usd(value: float, currency: str = "USD") -> dict[str, Any]:
    return {"amount": {"value": value, "currency": currency}, "instrument": "CARD"}


def appointment(
    n: int,
    *,
    job: str = "j1",
    start: datetime = START,
    started: timedelta | None = None,
    worked: timedelta = 60 * M,
    status: AppointmentStatus = COMPLETED,
    crew: tuple[str, ...] = ("T1",),
    **more: Any,
) -> AppointmentRecord:
    """Appointment ``n`` of ``job``: 60 minutes at ``start``, booked a day before, fulfillment
    starting ``started`` after the start (None: not served) and lasting ``worked``."""
    fs = None if started is None else start + started
    return AppointmentRecord(
        appointment_id=f"{job}_a{n}",
        job_id=job,
        status=status,
        start=start,
        duration_minutes=60,
        booked_at=start - timedelta(days=1),
        fulfillment_start=fs,
        fulfillment_end=None if fs is None else fs + worked,
        crew=crew,
        **more,
    )


def job(job_id: str = "j1", **more: Any) -> JobRecord:
    return JobRecord(job_id=job_id, store_id="s1", created_at=START - timedelta(days=2), **more)


def served_history(*offsets_minutes: int) -> History:
    """One completed job per offset: its fulfillment started that many minutes after the start."""
    jobs = tuple(job(f"j{i}", completed_at=START + 2 * 60 * M) for i in range(len(offsets_minutes)))
    appointments = tuple(
        appointment(0, job=f"j{i}", started=off * M) for i, off in enumerate(offsets_minutes)
    )  # fmt: skip
    return History(jobs, appointments)


# ---- on time, early, late -------------------------------------------------------------------


def test_a_start_at_plus_15_minutes_is_on_time_and_at_plus_16_late() -> None:
    t1 = technician_report(served_history(15, 16), JUNE, now=NOW)["T1", None]
    assert (t1.appointments_served, t1.early_starts, t1.late_starts) == (2, 0, 1)
    assert t1.on_time_start_rate == 0.5
    assert (t1.lateness_minutes_median, t1.lateness_minutes_p90) == (16.0, 16.0)


def test_a_second_past_the_grace_is_late() -> None:
    history = History(
        (job(completed_at=START + 2 * 60 * M),), (appointment(0, started=timedelta(minutes=15, seconds=1)),)
    )
    assert technician_report(history, JUNE, now=NOW)["T1", None].late_starts == 1


def test_30_minutes_early_is_on_time_and_31_early() -> None:
    t1 = technician_report(served_history(-30, -31, 0), JUNE, now=NOW)["T1", None]
    assert (t1.early_starts, t1.late_starts, t1.on_time_start_rate) == (1, 0, 0.6667)
    assert t1.lateness_minutes_median is None


def test_lateness_median_and_p90_interpolate_between_ranks() -> None:
    t1 = technician_report(served_history(16, 20, 30, 60, 5), JUNE, now=NOW)["T1", None]
    assert t1.late_starts == 4
    assert t1.lateness_minutes_median == 25.0  # between 20 and 30
    assert t1.lateness_minutes_p90 == 51.0  # rank 2.7 of 0..3: 30 + 0.7 x 30


def test_completed_within_the_window_allows_the_grace() -> None:
    # 60-minute window from the start: ending 15 minutes after its end is within, 16 is not.
    kept = appointment(0, job="j0", started=0 * M, worked=75 * M)
    overrun = appointment(0, job="j1", started=0 * M, worked=76 * M)
    history = History((job("j0"), job("j1")), (kept, overrun))
    t1 = technician_report(history, JUNE, now=NOW)["T1", None]
    assert t1.completed_within_window_rate == 0.5
    assert t1.duration_adherence == round(151 / 120, 4)


def test_duration_adherence_is_minutes_worked_over_minutes_planned() -> None:
    history = History((job("j0"), job("j1")), (appointment(0, job="j0", started=0 * M, worked=90 * M),
                                               appointment(0, job="j1", started=0 * M, worked=60 * M)))  # fmt: skip
    assert technician_report(history, JUNE, now=NOW)["T1", None].duration_adherence == 1.25


def test_a_window_not_yet_ended_counts_for_nothing() -> None:
    history = History((job(),), (appointment(0, started=0 * M, status=ACTIVE),))
    early = technician_report(history, JUNE, now=START + 59 * M)["T1", None]
    assert early.appointments_served == 0
    assert technician_report(history, JUNE, now=START + 60 * M)["T1", None].appointments_served == 1


# ---- empty sets are null --------------------------------------------------------------------


def test_a_technician_with_no_appointments_has_null_rates_not_zero() -> None:
    t3 = technician_report(served_history(0), JUNE, now=NOW)["T3", None]
    assert t3.appointments_served == 0
    assert t3.on_time_start_rate is None
    assert t3.completed_within_window_rate is None
    assert t3.duration_adherence is None
    assert t3.lateness_minutes_median is None and t3.lateness_minutes_p90 is None
    assert t3.first_visit_completion_rate is None
    assert t3.revenue == ()


def test_every_technician_and_period_has_a_row() -> None:
    weekly = Slice(date(2026, 6, 1), date(2026, 6, 14), GroupBy.WEEK, (NY,), ("T2", "T1"))
    rows = technician_report(served_history(0), weekly, now=NOW)
    assert list(rows) == [("T2", "2026-W23"), ("T2", "2026-W24"), ("T1", "2026-W23"), ("T1", "2026-W24")]
    assert [m.appointments_served for m in rows.values()] == [0, 0, 1, 0]


# ---- no-shows and breaks --------------------------------------------------------------------


def test_an_unserved_active_appointment_is_a_technician_no_show_after_24_hours() -> None:
    history = History((job(),), (appointment(0, status=ACTIVE),))
    window_end = START + 60 * M
    at_24h = technician_report(history, JUNE, now=window_end + timedelta(hours=24))["T1", None]
    past = technician_report(history, JUNE, now=window_end + timedelta(hours=24, seconds=1))["T1", None]
    assert (at_24h.technician_no_shows, past.technician_no_shows) == (0, 1)
    assert past.appointments_served == 0


def _cancelled(code: str, at: datetime) -> History:
    return History(
        (job(cancelled_at=at, cancellation_reason_code=code, cancelled_appointment_id="j1_a0"),),
        (appointment(0, status=CANCELLED),),
    )


def test_s1_is_a_buyer_no_show_and_s13_a_fulfillment_break() -> None:
    s1 = technician_report(_cancelled("S1", START + 10 * M), JUNE, now=NOW)["T1", None]
    s13 = technician_report(_cancelled("S13", START - 60 * M), JUNE, now=NOW)["T1", None]
    assert (s1.buyer_no_shows, s1.fulfillment_breaks, s1.technician_no_shows) == (1, 0, 0)
    assert (s13.buyer_no_shows, s13.fulfillment_breaks, s13.technician_no_shows) == (0, 1, 0)


def test_a_provider_cancellation_after_the_start_is_also_a_technician_no_show() -> None:
    s13 = technician_report(_cancelled("S13", START + M), JUNE, now=NOW)["T1", None]
    assert (s13.fulfillment_breaks, s13.technician_no_shows) == (1, 1)


def test_cancellations_by_cause_per_store() -> None:
    history = History(
        (
            job("j1", cancelled_at=START, cancellation_reason_code="S1"),
            job("j2", cancelled_at=START, cancellation_reason_code="S13"),
            job("j3", cancelled_at=START, cancellation_reason_code="S13"),
            job("j4", cancelled_at=START, cancellation_reason_code="S3"),
        )
    )
    s1 = store_report(history, SPRING, now=NOW)["s1", None]
    assert s1.jobs_cancelled == 4
    assert dict(s1.cancelled_by_cause) == {
        Cause.BUYER: 1,
        Cause.PROVIDER: 2,
        Cause.PRODUCT: 0,
        Cause.SCOPE: 1,
        Cause.MARKETPLACE: 0,
        Cause.UNUSED: 0,
    }
    assert s1.jobs_created == 4


# ---- reschedules and first visits -----------------------------------------------------------


def _rescheduled_twice(first: str, second: str) -> History:
    a0 = appointment(0, status=CANCELLED)
    a1 = appointment(1, status=CANCELLED, start=START + timedelta(days=1), rescheduled_from="j1_a0",
                     reschedule_reason_code=first)  # fmt: skip
    a2 = appointment(2, start=START + timedelta(days=2), started=5 * M, rescheduled_from="j1_a1",
                     reschedule_reason_code=second, crew=("T1", "T2"))  # fmt: skip
    # Each is booked a day before its own start: a1 at a0's start, a2 at a1's start (not after it).
    return History((job(completed_at=START + timedelta(days=2, hours=2), payments=(usd(90.0),)),), (a0, a1, a2))


def test_a_job_moved_twice_by_the_buyer_then_completed_is_a_first_visit() -> None:
    t1 = technician_report(_rescheduled_twice("RS1", "RS8"), JUNE, now=NOW)["T1", None]
    assert (t1.jobs_completed, t1.first_visit_completion_rate) == (1, 1.0)
    assert (t1.fulfillment_breaks, t1.buyer_no_shows, t1.appointments_served) == (0, 0, 1)


def test_a_provider_reschedule_on_the_way_makes_it_no_first_visit_and_a_break() -> None:
    history = _rescheduled_twice("RS1", "RS4")
    t1 = technician_report(history, JUNE, now=NOW)["T1", None]
    assert (t1.first_visit_completion_rate, t1.fulfillment_breaks, t1.technician_no_shows) == (0.0, 1, 0)
    store = store_report(history, JUNE, now=NOW)["s1", None]
    assert store.service.jobs_completed == 1 and store.service.first_visit_completion_rate == 0.0


def test_a_buyer_no_show_reschedule_and_a_scope_reschedule() -> None:
    rs11 = technician_report(_rescheduled_twice("RS11", "RS1"), JUNE, now=NOW)["T1", None]
    assert (rs11.buyer_no_shows, rs11.first_visit_completion_rate) == (1, 1.0)
    rs3 = technician_report(_rescheduled_twice("RS1", "RS3"), JUNE, now=NOW)["T1", None]
    assert (rs3.fulfillment_breaks, rs3.first_visit_completion_rate) == (0, 0.0)


def test_the_completed_jobs_revenue_is_split_between_who_did_it() -> None:
    rows = technician_report(_rescheduled_twice("RS1", "RS8"), JUNE, now=NOW)
    assert rows["T1", None].revenue == (Money("USD", Decimal("45")),)
    assert rows["T2", None].revenue == (Money("USD", Decimal("45")),)


def test_fulfillment_named_technicians_take_the_crews_place() -> None:
    done = appointment(0, started=0 * M, crew=("T1",), fulfilled_by=("T2", "T3"))
    rows = technician_report(History((job(completed_at=NOW, payments=(usd(100.0),)),), (done,)), JUNE, now=NOW)
    assert rows["T1", None].appointments_served == 0
    assert rows["T2", None].appointments_served == 1
    assert rows["T3", None].revenue == (Money("USD", Decimal("50")),)


# ---- store-local days ------------------------------------------------------------------------


def test_a_store_day_across_the_spring_forward_change() -> None:
    # New York's 8 March 2026 lasts 23 hours: 05:00Z to 04:00Z the next day.
    days = Slice(date(2026, 3, 7), date(2026, 3, 9), GroupBy.DAY, (NY,), ("T1",))
    before = appointment(0, job="j0", start=datetime(2026, 3, 8, 4, 30, tzinfo=UTC), started=0 * M)  # 23:30 EST 7th
    last = appointment(0, job="j1", start=datetime(2026, 3, 9, 3, 30, tzinfo=UTC), started=0 * M)  # 23:30 EDT 8th
    after = appointment(0, job="j2", start=datetime(2026, 3, 9, 4, 30, tzinfo=UTC), started=0 * M)  # 00:30 EDT 9th
    history = History((job("j0"), job("j1"), job("j2")), (before, last, after))
    rows = technician_report(history, days, now=NOW)
    assert [(label, m.appointments_served) for (_, label), m in rows.items()] == [
        ("2026-03-07", 1),
        ("2026-03-08", 1),
        ("2026-03-09", 1),
    ]


def test_a_store_day_across_the_fall_back_change() -> None:
    # 1 November 2026 lasts 25 hours in New York: 04:00Z to 05:00Z the next day.
    days = Slice(date(2026, 11, 1), date(2026, 11, 1), GroupBy.DAY, (NY,), ("T1",))
    first = appointment(0, job="j0", start=datetime(2026, 11, 1, 4, 0, tzinfo=UTC), started=0 * M)
    last = appointment(0, job="j1", start=datetime(2026, 11, 2, 4, 59, tzinfo=UTC), started=0 * M)
    outside = appointment(0, job="j2", start=datetime(2026, 11, 2, 5, 0, tzinfo=UTC), started=0 * M)
    history = History((job("j0"), job("j1"), job("j2")), (first, last, outside))
    now = datetime(2026, 11, 5, tzinfo=UTC)
    assert technician_report(history, days, now=now)["T1", "2026-11-01"].appointments_served == 2


# ---- lead time and time to schedule ---------------------------------------------------------


def test_lead_time_and_time_to_schedule() -> None:
    # Created 2 days before the start, booked 1 day before it: 24 h to schedule, 24 h of lead.
    history = History((job(completed_at=START + 2 * 60 * M),), (appointment(0, started=0 * M),))
    store = store_report(history, SPRING, now=NOW)["s1", None]
    assert (store.mean_time_to_schedule_hours, store.mean_lead_time_hours) == (24.0, 24.0)
    assert store_report(history, JUNE, now=NOW)["s1", None].mean_time_to_schedule_hours is None  # booked in May
    assert store.service.jobs_completed == 1
    empty = store_report(History(), SPRING, now=NOW)["s1", None]
    assert (empty.mean_time_to_schedule_hours, empty.mean_lead_time_hours) == (None, None)


# ---- payments -------------------------------------------------------------------------------


def test_payments_in_two_currencies() -> None:
    a = appointment(0, job="ja", started=0 * M, crew=("T1", "T2"))
    b = appointment(0, job="jb", started=0 * M, crew=("T1",))
    c = appointment(0, job="jc", started=0 * M, status=CANCELLED)
    done = START + 3 * 60 * M
    history = History(
        (
            job("ja", completed_at=done, payments=(usd(99.5),)),
            job("jb", completed_at=done, payments=(usd(40.0, "EUR"), usd(10.0))),
            job("jc", cancelled_at=START, cancellation_reason_code="S17", cancelled_appointment_id="jc_a0",
                payments=(usd(25.25),)),
        ),
        (a, b, c),
    )  # fmt: skip
    rows = payment_metrics(history, JUNE, currencies=("USD",))
    assert list(rows) == [(None, "EUR"), (None, "USD")]
    eur, dollars = rows[None, "EUR"], rows[None, "USD"]
    assert (eur.gross, eur.cancelled_value, eur.jobs_paid) == (Decimal("40"), Decimal("0"), 1)
    assert eur.technicians == (TechnicianShare("T1", Decimal("40"), 1),)
    assert (dollars.gross, dollars.cancelled_value, dollars.jobs_paid) == (Decimal("109.5"), Decimal("25.25"), 2)
    assert dollars.technicians == (
        TechnicianShare("T1", Decimal("59.75"), 2),
        TechnicianShare("T2", Decimal("49.75"), 1),
    )
    t1 = technician_report(history, JUNE, now=NOW)["T1", None]
    assert t1.revenue == (Money("EUR", Decimal("40")), Money("USD", Decimal("59.75")))


def test_an_even_split_is_rounded_once_at_the_end() -> None:
    crew = ("T1", "T2", "T3")
    jobs = tuple(job(f"j{i}", completed_at=NOW, payments=(usd(100.0),)) for i in range(2))
    appointments = tuple(appointment(0, job=f"j{i}", started=0 * M, crew=crew) for i in range(2))
    shares = payment_metrics(History(jobs, appointments), JUNE)[None, "USD"].technicians
    assert [s.gross for s in shares] == [Decimal("66.67")] * 3  # 2 x 33.333…, not 2 x 33.33


def test_the_marketplace_currency_has_a_row_without_payments() -> None:
    rows = payment_metrics(History(), JUNE, currencies=("USD",))
    assert list(rows) == [(None, "USD")]
    assert (rows[None, "USD"].gross, rows[None, "USD"].jobs_paid, rows[None, "USD"].technicians) == (0, 0, ())
    assert payment_metrics(History(), JUNE) == {}


def test_odd_payment_records_are_not_money() -> None:
    odd = (usd(10.0), {"amount": {"value": "5", "currency": "USD"}}, {"amount": 5}, 7, "x", None, {"value": 1})
    history = History((job(completed_at=NOW, payments=odd),), (appointment(0, started=0 * M),))
    assert payment_metrics(history, JUNE)[None, "USD"].gross == Decimal("10")
