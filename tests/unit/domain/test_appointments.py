"""Appointment rules without I/O (domain/appointments.py): booking times and duration, technician
eligibility, the fulfillment data's times and resources, each failure with its exact text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sp_services.domain import appointments as a
from sp_services.domain.appointments import (
    MAX_BOOKING_AHEAD,
    OVERBOOKED,
    RESOURCE_CHECKS,
    JobNeeds,
    TimeRange,
    arrival_window,
    booking_failure,
    check_booking_time,
    check_duration,
    fulfillment_resources,
    fulfillment_time,
    invalid_resource,
    technician_failures,
    unassigned_warning,
)
from sp_services.domain.catalog import Technician
from sp_services.domain.enums import BackgroundCheck, ServiceLocationType
from sp_services.domain.errors import ErrorItem, Unprocessable

SANDBOX = (Path(__file__).resolve().parents[3] / "spec" / "sandbox-cases.md").read_text()
NOW = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)
JOB = "job-1"
SELLER = "ASELLER1"
STORE = "store-1"
NEEDS = JobNeeds(seller_id=SELLER, store_id=STORE, required_skills=("INSTALL",), location_type="IN_HOME")


def items(error: Unprocessable) -> list[ErrorItem]:
    return list(error.items)


def booking(reason: str) -> list[ErrorItem]:
    return [ErrorItem("InvalidInput", f"Failed to add appointment for jobId : {JOB}, reason : {reason}", "")]


def invalid(message: str) -> ErrorItem:
    return ErrorItem("InvalidInput", message, "")


def tech(technician_id: str, **changes: Any) -> Technician:
    """A technician of SELLER who meets every need of NEEDS, with ``changes``."""
    eligible = Technician(technician_id, SELLER, technician_id, skills=("INSTALL",), store_ids=(STORE,))
    return replace(eligible, **changes)


# The RESOURCES_* failures in the sandbox's order, written out here rather than read from the module.
FAILURES = {
    "location-type": (
        "RESOURCES_MISMATCHED_SERVICE_LOCATION_TYPE",
        "Resources do not have same service location type as job.",
    ),
    "skills": ("RESOURCES_MISSING_REQUIRED_SKILLS", "Resources Missing required {skills} skills."),
    "store": ("RESOURCES_NOT_AVAILABLE_IN_LOCATION", "Resources are not available in the store."),
    "merchant": ("RESOURCES_NOT_REGISTERED_UNDER_MERCHANT", "Resources are not registered under this Merchant."),
    "background-check": ("RESOURCES_BACKGROUND_CHECK_INCOMPLETE", "Resources background check is incomplete."),
    "time-window": ("RESOURCES_NOT_AVAILABLE_IN_TIME_WINDOW", "Resources do not have sufficient available capacity."),
}


def failure(kind: str, offenders: str, *, skills: str = "INSTALL") -> ErrorItem:
    code, text = FAILURES[kind]
    return ErrorItem(code, f"{text.format(skills=skills)} Applicable resources: {offenders}", "")


# ---- booking ------------------------------------------------------------------------------------


def test_booking_failure_is_the_add_familys_422() -> None:
    error = booking_failure(JOB, "Appointment slot is not available.")
    assert isinstance(error, Unprocessable)
    assert items(error) == booking("Appointment slot is not available.")


def test_booking_texts_are_the_sandboxs() -> None:
    for text in (a.SLOT_NOT_AVAILABLE, a.ALREADY_ACTIVE, a.BAD_RESCHEDULE_CODE):
        assert text in SANDBOX, text


@pytest.mark.parametrize(
    "start",
    [NOW + timedelta(microseconds=1), NOW + timedelta(days=1), NOW + MAX_BOOKING_AHEAD],
    ids=["just-after-now", "tomorrow", "exactly-365-days"],
)
def test_a_booking_in_the_future_within_365_days_is_accepted(start: datetime) -> None:
    assert MAX_BOOKING_AHEAD == timedelta(days=365)
    check_booking_time(JOB, start, now=NOW)


@pytest.mark.parametrize(
    "start", [NOW, NOW - timedelta(microseconds=1), NOW - timedelta(days=400)], ids=["now", "just-before", "long-ago"]
)
def test_a_booking_must_start_in_the_future(start: datetime) -> None:
    with pytest.raises(Unprocessable) as raised:
        check_booking_time(JOB, start, now=NOW)
    assert items(raised.value) == booking("Start time of appointment should be in the future.")


@pytest.mark.parametrize("beyond", [timedelta(microseconds=1), timedelta(days=1), timedelta(days=3650)])
def test_a_booking_at_most_365_days_ahead(beyond: timedelta) -> None:
    with pytest.raises(Unprocessable) as raised:
        check_booking_time(JOB, NOW + MAX_BOOKING_AHEAD + beyond, now=NOW)
    assert items(raised.value) == booking(
        "Start time for appointment is beyond the maximum allowed period of 365 days."
    )


@given(offset=st.timedeltas(min_value=timedelta(days=-800), max_value=timedelta(days=800)))
def test_booking_time_rule_is_exactly_the_half_open_window(offset: timedelta) -> None:
    accepted = timedelta(0) < offset <= MAX_BOOKING_AHEAD
    try:
        check_booking_time(JOB, NOW + offset, now=NOW)
    except Unprocessable:
        assert not accepted
    else:
        assert accepted


@pytest.mark.parametrize("requested", [None, 90])
def test_duration_may_be_left_out_or_be_the_services(requested: int | None) -> None:
    check_duration(JOB, requested, offering_minutes=90)


@pytest.mark.parametrize("requested", [0, 60, 89, 91, 180])
def test_any_other_duration_is_refused(requested: int) -> None:
    with pytest.raises(Unprocessable) as raised:
        check_duration(JOB, requested, offering_minutes=90)
    assert items(raised.value) == booking("Appointment duration must be the service duration of 90 minutes.")


# ---- technician assignment ----------------------------------------------------------------------


def test_resource_check_order_is_the_sandboxs() -> None:
    assert RESOURCE_CHECKS == tuple(FAILURES.values())
    for code, text in RESOURCE_CHECKS:
        assert code in SANDBOX and text.split("{")[0] in SANDBOX, code
    assert OVERBOOKED == ErrorItem("RESOURCES_OVERBOOKED", "Resources overbooked for this time window.", "")


def test_eligible_technicians_have_no_failures() -> None:
    assert technician_failures([tech("T1"), tech("T2")], NEEDS) == []
    assert technician_failures([], NEEDS) == []


@pytest.mark.parametrize(
    ("technician", "unavailable", "kind"),
    [
        (tech("T1", service_location_types=(ServiceLocationType.IN_STORE,)), (), "location-type"),
        (tech("T1", skills=("REPAIR",)), (), "skills"),
        (tech("T1", store_ids=("store-2",)), (), "store"),
        (tech("T1", seller_id="AOTHER"), (), "merchant"),
        (tech("T1", background_check=BackgroundCheck.PENDING), (), "background-check"),
        (tech("T1"), ("T1",), "time-window"),
    ],
    ids=list(FAILURES),
)
def test_each_failure_kind(technician: Technician, unavailable: tuple[str, ...], kind: str) -> None:
    assert technician_failures([technician], NEEDS, unavailable=unavailable) == [failure(kind, "T1")]


def test_one_item_per_kind_naming_every_offender_in_order() -> None:
    technicians = [
        tech("T3", store_ids=()),
        tech("T1"),
        tech("T2", store_ids=("store-2",), background_check=BackgroundCheck.PENDING),
        tech("T4", background_check=BackgroundCheck.PENDING, service_location_types=(ServiceLocationType.ONLINE,)),
    ]
    assert technician_failures(technicians, NEEDS, unavailable=("T1", "T4")) == [
        failure("location-type", "T4"),
        failure("store", "T3,T2"),
        failure("background-check", "T2,T4"),
        failure("time-window", "T1,T4"),
    ]


def test_one_technician_failing_every_own_rule_appears_in_each_item() -> None:
    worst = tech(
        "T9",
        skills=(),
        store_ids=(),
        service_location_types=(ServiceLocationType.ONLINE,),
        background_check=BackgroundCheck.PENDING,
    )
    failures = technician_failures([worst], NEEDS, unavailable=("T9",))
    assert [f.code for f in failures] == [
        code for code, _ in RESOURCE_CHECKS if code != "RESOURCES_NOT_REGISTERED_UNDER_MERCHANT"
    ]
    assert all(f.message.endswith(" Applicable resources: T9") for f in failures)


def test_another_sellers_technician_is_reported_only_as_not_registered() -> None:
    """Nothing else about it is revealed, however many other rules it would fail."""
    foreign = tech(
        "T8",
        seller_id="AOTHER",
        skills=(),
        store_ids=(),
        service_location_types=(ServiceLocationType.ONLINE,),
        background_check=BackgroundCheck.PENDING,
    )
    assert technician_failures([foreign, tech("T1", store_ids=())], NEEDS, unavailable=("T8",)) == [
        failure("store", "T1"),
        failure("merchant", "T8"),
    ]


def test_missing_skills_are_listed_once_each_in_the_order_first_missed() -> None:
    needs = JobNeeds(SELLER, STORE, required_skills=("INSTALL", "WIRING", "MOUNT"), location_type="IN_HOME")
    technicians = [
        tech("T1", skills=("INSTALL", "WIRING")),  # lacks MOUNT
        tech("T2", skills=("MOUNT",)),  # lacks INSTALL, WIRING
        tech("T3", skills=("INSTALL", "WIRING", "MOUNT")),
        tech("T4", skills=("WIRING",)),  # lacks INSTALL, MOUNT: both listed already
    ]
    assert technician_failures(technicians, needs) == [failure("skills", "T1,T2,T4", skills="MOUNT,INSTALL,WIRING")]


def test_a_job_without_a_location_type_accepts_any_technicians() -> None:
    needs = JobNeeds(SELLER, STORE, required_skills=(), location_type=None)
    online = tech("T1", skills=(), service_location_types=(ServiceLocationType.ONLINE,))
    assert technician_failures([online], needs) == []


def test_invalid_resource_and_unassigned_warning() -> None:
    assert items(invalid_resource("bad id")) == [invalid("Invalid resourceId : bad id provided in the input.")]
    assert unassigned_warning(["T1", "T2"]) == ErrorItem("RESOURCES_UNASSIGNED", "Unassigned resources : T1,T2", "")
    assert unassigned_warning(["T1"]) == ErrorItem("RESOURCES_UNASSIGNED", "Unassigned resources : T1", "")


# ---- fulfillment time ---------------------------------------------------------------------------

PAST_START, PAST_END = "2030-03-04T10:00:00Z", "2030-03-04T11:00:00Z"
FUTURE = "2030-03-04T16:00:00Z"  # an hour after NOW


def at(hour: int, minute: int = 0) -> datetime:
    return NOW.replace(hour=hour, minute=minute)


def unparseable(text: str) -> ErrorItem:
    return invalid(f"Could not parse given time input {text}. Please provide time in ISO8601 format")


def not_utc(text: str) -> ErrorItem:
    return invalid(f"ISO8601 time {text} is not in UTC format. Please provide time in UTC")


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (PAST_START, PAST_END, TimeRange(at(10), at(11))),
        (PAST_START, PAST_START, TimeRange(at(10), at(10))),  # zero length: the end is not before the start
        ("2030-03-04T10:00:00.000Z", "2030-03-04T15:00:00Z", TimeRange(at(10), NOW)),  # ends exactly now
        ("2030-03-04T10:00:00z", "2030-03-04T11:00:00+00:00", TimeRange(at(10), at(11))),
        ("2030-03-04T10:00:00-00:00", "2030-03-04T11:30:00+0000", TimeRange(at(10), at(11, 30))),
    ],
    ids=["Z", "zero-length", "ends-now", "z-and-offset", "minus-zero-and-basic-offset"],
)
def test_fulfillment_time_in_utc_in_the_past(start: str, end: str, expected: TimeRange) -> None:
    assert fulfillment_time({"startTime": start, "endTime": end}, now=NOW) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"endTime": PAST_END}, invalid("Appointment start time is required. Please check the input again.")),
        (
            {"startTime": 5, "endTime": PAST_END},
            invalid("Appointment start time is required. Please check the input again."),
        ),
        ({"startTime": PAST_START}, invalid("Appointment end time is required. Please check the input again.")),
        (
            {"startTime": PAST_START, "endTime": None},
            invalid("Appointment end time is required. Please check the input again."),
        ),
        ({"startTime": "yesterday", "endTime": PAST_END}, unparseable("yesterday")),
        ({"startTime": "2030-03-04", "endTime": PAST_END}, unparseable("2030-03-04")),  # a date, no time
        ({"startTime": PAST_START, "endTime": "2030-02-30T10:00:00Z"}, unparseable("2030-02-30T10:00:00Z")),
        (
            {"startTime": FUTURE, "endTime": FUTURE},
            invalid("Appointment start time should not be in future. Please check the input again"),
        ),
        (
            {"startTime": PAST_START, "endTime": FUTURE},
            invalid("Appointment end time should not be in future. Please check the input again"),
        ),
        (
            {"startTime": PAST_END, "endTime": PAST_START},
            invalid("Appointment end time should be after start time. Please check the input again."),
        ),
        ({"startTime": "2030-03-04T10:00:00", "endTime": PAST_END}, not_utc("2030-03-04T10:00:00")),
        ({"startTime": "2030-03-04T05:00:00-05:00", "endTime": PAST_END}, not_utc("2030-03-04T05:00:00-05:00")),
        ({"startTime": PAST_START, "endTime": "2030-03-04T12:00:00+01:00"}, not_utc("2030-03-04T12:00:00+01:00")),
    ],
    ids=[
        "start-missing",
        "start-not-text",
        "end-missing",
        "end-null",
        "start-unparseable",
        "start-a-date",
        "end-unparseable",
        "start-future",
        "end-future",
        "end-before-start",
        "start-zoneless",
        "start-offset",
        "end-offset",
    ],
)
def test_each_fulfillment_time_failure(raw: dict[str, object], expected: ErrorItem) -> None:
    assert fulfillment_time(raw, now=NOW) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # start required → end required → start parses → end parses → start past → end past →
        # end after start → start UTC → end UTC: each pair below fails two, the earlier is reported.
        ({}, invalid("Appointment start time is required. Please check the input again.")),
        ({"startTime": "bad"}, invalid("Appointment end time is required. Please check the input again.")),
        ({"startTime": "bad", "endTime": "worse"}, unparseable("bad")),
        ({"startTime": "2030-03-04T10:00:00+01:00", "endTime": "worse"}, unparseable("worse")),
        (
            {"startTime": FUTURE, "endTime": "2030-03-04T09:00:00Z"},
            invalid("Appointment start time should not be in future. Please check the input again"),
        ),
        (
            {"startTime": "2030-03-04T10:00:00", "endTime": FUTURE},
            invalid("Appointment end time should not be in future. Please check the input again"),
        ),
        (
            {"startTime": "2030-03-04T12:00:00", "endTime": PAST_START},
            invalid("Appointment end time should be after start time. Please check the input again."),
        ),
        (
            {"startTime": "2030-03-04T10:00:00+01:00", "endTime": "2030-03-04T11:00:00+01:00"},
            not_utc("2030-03-04T10:00:00+01:00"),
        ),
    ],
    ids=[
        "start-missing-and-end-missing",
        "end-missing-and-start-unparseable",
        "start-and-end-unparseable",
        "end-unparseable-and-start-not-utc",
        "start-future-and-end-before-start",
        "end-future-and-start-not-utc",
        "end-before-start-and-start-not-utc",
        "start-and-end-not-utc",
    ],
)
def test_fulfillment_time_check_order(raw: dict[str, object], expected: ErrorItem) -> None:
    """A non-UTC start is reported only when nothing else is wrong."""
    assert fulfillment_time(raw, now=NOW) == expected


# ---- estimated arrival window -------------------------------------------------------------------

ETA_BOTH = invalid(
    "Failed to process input. Reason: ETA start and end time both are mandatory field as part of "
    "estimatedArrivalTime object. Please check the input again"
)
ETA_ORDER = invalid(
    "Failed to process input. Reason: ETA end time should be after ETA start time. Please check the input again"
)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (PAST_START, PAST_END, TimeRange(at(10), at(11))),
        (FUTURE, "2030-03-05T10:00:00Z", TimeRange(at(16), at(10) + timedelta(days=1))),
        (FUTURE, FUTURE, TimeRange(at(16), at(16))),
        ("2030-03-04T10:00:00+00:00", PAST_END, TimeRange(at(10), at(11))),
    ],
    ids=["past", "future", "zero-length", "utc-offset"],
)
def test_arrival_window_in_utc_may_be_in_the_future(start: str, end: str, expected: TimeRange) -> None:
    assert arrival_window({"startTime": start, "endTime": end}) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, ETA_BOTH),
        ({"startTime": PAST_START}, ETA_BOTH),
        ({"endTime": PAST_END}, ETA_BOTH),
        ({"startTime": PAST_START, "endTime": 1}, ETA_BOTH),
        ({"startTime": "soon", "endTime": PAST_END}, unparseable("soon")),
        ({"startTime": PAST_START, "endTime": "later"}, unparseable("later")),
        ({"startTime": "2030-03-04T10:00:00", "endTime": PAST_END}, not_utc("2030-03-04T10:00:00")),
        ({"startTime": PAST_START, "endTime": "2030-03-04T07:00:00-04:00"}, not_utc("2030-03-04T07:00:00-04:00")),
        ({"startTime": PAST_END, "endTime": PAST_START}, ETA_ORDER),
    ],
    ids=[
        "both-missing",
        "end-missing",
        "start-missing",
        "end-not-text",
        "start-unparseable",
        "end-unparseable",
        "start-zoneless",
        "end-offset",
        "end-before-start",
    ],
)
def test_each_arrival_window_failure(raw: dict[str, object], expected: ErrorItem) -> None:
    assert arrival_window(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # both required → start parses → end parses → start UTC → end UTC → end after start.
        ({"startTime": "soon"}, ETA_BOTH),
        ({"startTime": "soon", "endTime": "later"}, unparseable("soon")),
        ({"startTime": "2030-03-04T12:00:00", "endTime": "later"}, unparseable("later")),
        ({"startTime": "2030-03-04T12:00:00", "endTime": "2030-03-04T13:00:00+02:00"}, not_utc("2030-03-04T12:00:00")),
        ({"startTime": PAST_END, "endTime": "2030-03-04T09:00:00"}, not_utc("2030-03-04T09:00:00")),
    ],
    ids=[
        "end-missing-and-start-unparseable",
        "start-and-end-unparseable",
        "end-unparseable-and-start-not-utc",
        "start-and-end-not-utc",
        "end-not-utc-and-before-start",
    ],
)
def test_arrival_window_check_order(raw: dict[str, object], expected: ErrorItem) -> None:
    """Unlike fulfillment time, zones are checked before the order of the ends."""
    assert arrival_window(raw) == expected


# ---- fulfillment resources ----------------------------------------------------------------------

KNOWN = {
    "T1": tech("T1"),
    "T2": tech("T2"),
    "T3": tech("T3", seller_id="AOTHER"),
    "T4": tech("T4", active=False),
}
RESOURCES_INVALID = invalid("One or more resources provided is invalid. Please check the input again.")
RESOURCES_UNKNOWN = invalid(
    "One or more resources provided does not exist or is deleted. Please check the input again."
)


@pytest.mark.parametrize(
    ("resource_ids", "expected"),
    [
        ([], None),
        (["T1", "T2"], None),
        (["t1"], RESOURCES_INVALID),  # lower case: not a technician id
        (["T-1"], RESOURCES_INVALID),
        (["T" * 51], RESOURCES_INVALID),
        (["T1", "T3"], RESOURCES_INVALID),  # another seller's: invalid, not "unknown"
        (["T9"], RESOURCES_UNKNOWN),  # never existed
        (["T1", "T4"], RESOURCES_UNKNOWN),  # deleted
        (["T9", "bad id"], RESOURCES_INVALID),  # invalid is checked over all ids first
        (["T4", "T3"], RESOURCES_INVALID),
    ],
    ids=[
        "none",
        "own",
        "lower-case",
        "punctuation",
        "too-long",
        "another-sellers",
        "unknown",
        "deleted",
        "unknown-then-malformed",
        "deleted-then-foreign",
    ],
)
def test_fulfillment_resources(resource_ids: list[str], expected: ErrorItem | None) -> None:
    assert fulfillment_resources(resource_ids, KNOWN, seller_id=SELLER) == expected


def test_fulfillment_texts_are_the_sandboxs() -> None:
    for text in (a.NO_ARTIFACTS, a.RESOURCES_INVALID, a.RESOURCES_UNKNOWN, ETA_BOTH.message):
        assert text in SANDBOX, text
