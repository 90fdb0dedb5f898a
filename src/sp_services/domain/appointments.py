"""Appointment rules that need no I/O: booking times, technician eligibility, fulfillment data.

Every text here is the sandbox's (spec/sandbox-cases.md) where the sandbox has one; the
few conditions it does not cover are worded in the same frame and listed in the README.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .catalog import Technician
from .enums import BackgroundCheck
from .errors import ErrorItem, Unprocessable, unprocessable
from .ids import TECHNICIAN_ID
from .times import parse_iso

MAX_BOOKING_AHEAD = timedelta(days=365)


def booking_failure(job_id: str, reason: str) -> Unprocessable:
    """The add/reschedule family's 422: ``Failed to add appointment for jobId : X, reason : R``."""
    return unprocessable(f"Failed to add appointment for jobId : {job_id}, reason : {reason}")


SLOT_NOT_AVAILABLE = "Appointment slot is not available."
ALREADY_ACTIVE = "Job already has an active appointmentId."
BAD_RESCHEDULE_CODE = "Appointment reschedule reason code is not valid."


def check_booking_time(job_id: str, start: datetime, *, now: datetime) -> None:
    """A booking starts in the future and at most 365 days ahead."""
    if start <= now:
        raise booking_failure(job_id, "Start time of appointment should be in the future.")
    if start - now > MAX_BOOKING_AHEAD:
        raise booking_failure(job_id, "Start time for appointment is beyond the maximum allowed period of 365 days.")


def check_duration(job_id: str, requested: int | None, *, offering_minutes: int) -> None:
    """``durationInMinutes`` may be left out; if given it must be the service's own duration."""
    if requested is not None and requested != offering_minutes:
        raise booking_failure(
            job_id, f"Appointment duration must be the service duration of {offering_minutes} minutes."
        )


# ---- technician assignment ---------------------------------------------------------------------


@dataclass(frozen=True)
class JobNeeds:
    """What a job asks of a technician."""

    seller_id: str
    store_id: str
    required_skills: tuple[str, ...]
    location_type: str | None


# The sandbox lists the hard failures in this order.
RESOURCE_CHECKS: tuple[tuple[str, str], ...] = (
    ("RESOURCES_MISMATCHED_SERVICE_LOCATION_TYPE", "Resources do not have same service location type as job."),
    ("RESOURCES_MISSING_REQUIRED_SKILLS", "Resources Missing required {skills} skills."),
    ("RESOURCES_NOT_AVAILABLE_IN_LOCATION", "Resources are not available in the store."),
    ("RESOURCES_NOT_REGISTERED_UNDER_MERCHANT", "Resources are not registered under this Merchant."),
    ("RESOURCES_BACKGROUND_CHECK_INCOMPLETE", "Resources background check is incomplete."),
    ("RESOURCES_NOT_AVAILABLE_IN_TIME_WINDOW", "Resources do not have sufficient available capacity."),
)
OVERBOOKED = ErrorItem("RESOURCES_OVERBOOKED", "Resources overbooked for this time window.", "")


def invalid_resource(resource_id: str) -> Unprocessable:
    """An id that names no usable technician (bad format, unknown, or deleted)."""
    return unprocessable(f"Invalid resourceId : {resource_id} provided in the input.")


def technician_failures(
    technicians: Sequence[Technician], needs: JobNeeds, *, unavailable: Sequence[str] = ()
) -> list[ErrorItem]:
    """The ``RESOURCES_*`` hard failures for assigning ``technicians`` to a job, one item per kind
    of failure naming every offending technician. ``unavailable`` are those whose own schedule
    leaves them no capacity at the appointment's time (decided by the capacity engine).

    Another seller's technician is only reported as such: nothing else about it is revealed.
    """
    offenders: dict[str, list[str]] = {code: [] for code, _ in RESOURCE_CHECKS}
    missing: list[str] = []
    for tech in technicians:
        tid = tech.technician_id
        if tech.seller_id != needs.seller_id:
            offenders["RESOURCES_NOT_REGISTERED_UNDER_MERCHANT"].append(tid)
            continue
        offered = {t.value for t in tech.service_location_types}
        if needs.location_type is not None and needs.location_type not in offered:
            offenders["RESOURCES_MISMATCHED_SERVICE_LOCATION_TYPE"].append(tid)
        lacking = [s for s in needs.required_skills if s not in tech.skills]
        if lacking:
            offenders["RESOURCES_MISSING_REQUIRED_SKILLS"].append(tid)
            missing += [s for s in lacking if s not in missing]
        if needs.store_id not in tech.store_ids:
            offenders["RESOURCES_NOT_AVAILABLE_IN_LOCATION"].append(tid)
        if tech.background_check is not BackgroundCheck.PASSED:
            offenders["RESOURCES_BACKGROUND_CHECK_INCOMPLETE"].append(tid)
        if tid in unavailable:
            offenders["RESOURCES_NOT_AVAILABLE_IN_TIME_WINDOW"].append(tid)
    skills = ",".join(missing)
    return [
        ErrorItem(code, f"{text.format(skills=skills)} Applicable resources: {','.join(offenders[code])}", "")
        for code, text in RESOURCE_CHECKS
        if offenders[code]
    ]


def unassigned_warning(technician_ids: Sequence[str]) -> ErrorItem:
    """Rescheduling drops the assigned technicians; the response says which."""
    return ErrorItem("RESOURCES_UNASSIGNED", f"Unassigned resources : {','.join(technician_ids)}", "")


# ---- fulfillment data --------------------------------------------------------------------------

NO_ARTIFACTS = "No fulfillment artifacts provided in JSON payload."
RESOURCES_INVALID = "One or more resources provided is invalid. Please check the input again."
RESOURCES_UNKNOWN = "One or more resources provided does not exist or is deleted. Please check the input again."
_ETA_BOTH = (
    "Failed to process input. Reason: ETA start and end time both are mandatory field as part of "
    "estimatedArrivalTime object. Please check the input again"
)
_ETA_ORDER = (
    "Failed to process input. Reason: ETA end time should be after ETA start time. Please check the input again"
)


def _fail(message: str) -> ErrorItem:
    return ErrorItem("InvalidInput", message, "")


def _parse(text: str) -> tuple[datetime, bool] | ErrorItem:
    parsed = parse_iso(text)
    if parsed is None or "T" not in text.upper():
        return _fail(f"Could not parse given time input {text}. Please provide time in ISO8601 format")
    return parsed[0], _is_utc(text)


def _is_utc(text: str) -> bool:
    t = text.strip()
    if t.endswith(("Z", "z")):
        return True
    zone = t[-6:] if len(t) >= 6 and t[-6] in "+-" else t[-5:] if len(t) >= 5 and t[-5] in "+-" else ""
    return zone != "" and zone[1:].replace(":", "").strip("0") == ""


def _not_utc(text: str) -> ErrorItem:
    return _fail(f"ISO8601 time {text} is not in UTC format. Please provide time in UTC")


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime


def fulfillment_time(raw: Mapping[str, object], *, now: datetime) -> TimeRange | ErrorItem:
    """``fulfillmentTime``: both ends required, parseable, not in the future, end after start, UTC.

    Checked in the order that reproduces every sandbox case (a non-UTC start is reported only
    when nothing else is wrong).
    """
    start_text, end_text = raw.get("startTime"), raw.get("endTime")
    if not isinstance(start_text, str):
        return _fail("Appointment start time is required. Please check the input again.")
    if not isinstance(end_text, str):
        return _fail("Appointment end time is required. Please check the input again.")
    start, end = _parse(start_text), _parse(end_text)
    if isinstance(start, ErrorItem):
        return start
    if isinstance(end, ErrorItem):
        return end
    if start[0] > now:
        return _fail("Appointment start time should not be in future. Please check the input again")
    if end[0] > now:
        return _fail("Appointment end time should not be in future. Please check the input again")
    if end[0] < start[0]:
        return _fail("Appointment end time should be after start time. Please check the input again.")
    for (_, utc), text in ((start, start_text), (end, end_text)):
        if not utc:
            return _not_utc(text)
    return TimeRange(start[0], end[0])


def arrival_window(raw: Mapping[str, object]) -> TimeRange | ErrorItem:
    """``estimatedArrivalTime``: both ends required, parseable, UTC, end after start (may be future)."""
    start_text, end_text = raw.get("startTime"), raw.get("endTime")
    if not isinstance(start_text, str) or not isinstance(end_text, str):
        return _fail(_ETA_BOTH)
    start, end = _parse(start_text), _parse(end_text)
    if isinstance(start, ErrorItem):
        return start
    if isinstance(end, ErrorItem):
        return end
    for (_, utc), text in ((start, start_text), (end, end_text)):
        if not utc:
            return _not_utc(text)
    if end[0] < start[0]:
        return _fail(_ETA_ORDER)
    return TimeRange(start[0], end[0])


def fulfillment_resources(
    resource_ids: Sequence[str], known: Mapping[str, Technician], *, seller_id: str
) -> ErrorItem | None:
    """``appointmentResources``: every id a technician of this seller that still exists.

    A malformed id or another seller's technician is "invalid"; an unknown or deleted one "does
    not exist or is deleted" (another seller's is not called unknown: that would reveal nothing
    more, and "invalid" is the truthful answer for this caller).
    """
    if any(not TECHNICIAN_ID.match(r) or (r in known and known[r].seller_id != seller_id) for r in resource_ids):
        return _fail(RESOURCES_INVALID)
    if any(r not in known or not known[r].active for r in resource_ids):
        return _fail(RESOURCES_UNKNOWN)
    return None
