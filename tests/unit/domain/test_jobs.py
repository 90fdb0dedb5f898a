"""The job state machine (docs/design.md §3) as data: TRANSITIONS, transition(), can_transition()."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sp_services.domain.enums import AppointmentStatus, JobStatus, ServiceType
from sp_services.domain.errors import Unprocessable
from sp_services.domain.jobs import (
    TERMINAL,
    TRANSITIONS,
    Appointment,
    Job,
    can_transition,
    payment,
    transition,
)

S = JobStatus
NON_TERMINAL = (S.PENDING_SCHEDULE, S.NOT_SERVICED, S.HOLD, S.PAYMENT_DECLINED, S.NOT_FULFILLABLE)
# NOT_FULFILLABLE is the marketplace's last word: no move leaves it (issue #11, orders that can
# never finish), though it is not one of the two terminal states of the model.
OPEN = tuple(s for s in NON_TERMINAL if s is not S.NOT_FULFILLABLE)
MARKS = {"mark_hold": S.HOLD, "mark_payment_declined": S.PAYMENT_DECLINED, "mark_not_fulfillable": S.NOT_FULFILLABLE}

# Written out independently of the implementation, from docs/design.md §3 and the brief.
EXPECTED: dict[tuple[str, JobStatus], JobStatus] = {
    ("add_appointment", S.PENDING_SCHEDULE): S.NOT_SERVICED,
    ("add_appointment", S.HOLD): S.NOT_SERVICED,
    ("reschedule", S.NOT_SERVICED): S.NOT_SERVICED,
    ("complete", S.NOT_SERVICED): S.COMPLETED,
    ("cancel", S.PENDING_SCHEDULE): S.CANCELLED,
    ("cancel", S.NOT_SERVICED): S.CANCELLED,
    ("cancel", S.HOLD): S.CANCELLED,
    **{(action, source): target for action, target in MARKS.items() for source in OPEN},
    ("release", S.HOLD): S.PENDING_SCHEDULE,
    ("release", S.PAYMENT_DECLINED): S.PENDING_SCHEDULE,
}
ACTIONS = sorted({action for action, _ in EXPECTED})


def _message(job_id: str, status: JobStatus) -> str:
    return f"Operation not allowed on job with jobId : {job_id} and jobState : {status.value}"


def test_terminal_states_are_completed_and_cancelled() -> None:
    assert frozenset({S.COMPLETED, S.CANCELLED}) == TERMINAL
    assert set(NON_TERMINAL) | TERMINAL == set(JobStatus)


def test_transition_table_is_exactly_the_designed_one() -> None:
    assert dict(TRANSITIONS) == EXPECTED


@pytest.mark.parametrize(("action", "source"), sorted(EXPECTED), ids=lambda v: str(v))
def test_every_allowed_transition(action: str, source: JobStatus) -> None:
    assert can_transition(action, source)
    assert transition(action, job_id="job-1", status=source) is EXPECTED[(action, source)]


@pytest.mark.parametrize("terminal", sorted(TERMINAL))
@pytest.mark.parametrize("action", ACTIONS)
def test_terminal_states_refuse_every_action(action: str, terminal: JobStatus) -> None:
    assert not can_transition(action, terminal)
    with pytest.raises(Unprocessable) as info:
        transition(action, job_id="09ba5b3b-job", status=terminal)
    (item,) = info.value.items
    assert item.code == "InvalidInput"
    assert item.message == _message("09ba5b3b-job", terminal)
    assert item.message.endswith(f"jobState : {terminal}")


@pytest.mark.parametrize(
    ("action", "source"),
    [
        ("complete", S.PENDING_SCHEDULE),
        ("complete", S.HOLD),
        ("complete", S.PAYMENT_DECLINED),
        ("add_appointment", S.NOT_SERVICED),
        ("add_appointment", S.PAYMENT_DECLINED),
        ("add_appointment", S.NOT_FULFILLABLE),
        ("reschedule", S.PENDING_SCHEDULE),
        ("reschedule", S.HOLD),
        ("cancel", S.PAYMENT_DECLINED),
        ("cancel", S.NOT_FULFILLABLE),
        ("release", S.PENDING_SCHEDULE),
        ("release", S.NOT_SERVICED),
        ("release", S.NOT_FULFILLABLE),
        ("no_such_action", S.PENDING_SCHEDULE),
    ],
)
def test_disallowed_non_terminal_moves(action: str, source: JobStatus) -> None:
    assert not can_transition(action, source)
    with pytest.raises(Unprocessable) as info:
        transition(action, job_id="J", status=source)
    assert info.value.items[0].code == "InvalidInput"
    assert info.value.items[0].message == _message("J", source)


@given(
    action=st.one_of(st.sampled_from(ACTIONS), st.text(max_size=20)),
    status=st.sampled_from(list(JobStatus)),
    job_id=st.text(min_size=1, max_size=40),
)
def test_transition_raises_iff_not_allowed(action: str, status: JobStatus, job_id: str) -> None:
    allowed = can_transition(action, status)
    assert allowed == ((action, status) in EXPECTED)
    if allowed:
        assert transition(action, job_id=job_id, status=status) is EXPECTED[(action, status)]
    else:
        with pytest.raises(Unprocessable) as info:
            transition(action, job_id=job_id, status=status)
        assert [(i.code, i.message) for i in info.value.items] == [("InvalidInput", _message(job_id, status))]


def _appointment(appointment_id: str, status: AppointmentStatus) -> Appointment:
    return Appointment(appointment_id, "job", status, datetime(2030, 1, 1, tzinfo=UTC), 60)


def test_active_appointment_picks_the_active_one_or_none() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    base = dict(
        service_job_id="job",
        service_order_id="903-3260627-5237451",
        seller_id="A1",
        marketplace_id="ATVPDKIKX0DER",
        store_id="store",
        status=S.NOT_SERVICED,
        service_type=ServiceType.DEFAULT,
        asin="B000000001",
        title=None,
        quantity=1,
        required_skills=(),
        created_at=now,
        updated_at=now,
    )
    old = _appointment("job_1", AppointmentStatus.CANCELLED)
    new = _appointment("job_2", AppointmentStatus.ACTIVE)
    assert Job(**base, appointments=(old, new)).active_appointment() is new  # type: ignore[arg-type]
    assert Job(**base, appointments=(old,)).active_appointment() is None  # type: ignore[arg-type]
    assert Job(**base).active_appointment() is None  # type: ignore[arg-type]


def test_payment_record_shape() -> None:
    assert payment(Decimal("12.50"), "USD") == {"amount": {"value": 12.5, "currency": "USD"}}
    assert payment(Decimal("1"), "EUR", "card") == {"amount": {"value": 1.0, "currency": "EUR"}, "instrument": "card"}
