"""getServiceJobs cross-parameter rules (JobQuery.validate)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sp_services.domain.errors import InvalidInput
from sp_services.domain.job_query import MAX_PAGE_SIZE, JobQuery

T0 = datetime(2021, 1, 1, 10, tzinfo=UTC)
HOUR = timedelta(hours=1)
US = "ATVPDKIKX0DER"


def _rejected(query: JobQuery) -> tuple[str, str, str]:
    with pytest.raises(InvalidInput) as info:
        query.validate()
    (item,) = info.value.items
    return item.code, item.message, item.details


def test_defaults() -> None:
    query = JobQuery(US)
    assert query.page_size == MAX_PAGE_SIZE == 20


@pytest.mark.parametrize(
    "query",
    [
        JobQuery(US, created_after=T0),
        JobQuery(US, updated_after=T0),
        JobQuery(US, created_after=T0, created_before=T0),
        JobQuery(US, created_after=T0, created_before=T0 + HOUR),
        JobQuery(US, updated_after=T0, updated_before=T0 + HOUR),
        JobQuery(US, created_after=T0, schedule_start=T0, schedule_end=T0),
        JobQuery(US, created_after=T0, schedule_start=T0, schedule_end=T0 + HOUR),
        JobQuery(US, created_after=T0, schedule_end=T0 - HOUR),
        JobQuery(US, updated_after=T0, created_before=T0 - HOUR),
    ],
)
def test_valid_queries_pass(query: JobQuery) -> None:
    assert query.validate() is None


@pytest.mark.parametrize(
    "query",
    [
        JobQuery(US),
        JobQuery(US, created_after=T0, updated_after=T0),
        JobQuery(US, created_before=T0, updated_before=T0),
    ],
)
def test_exactly_one_of_created_after_or_last_updated_after(query: JobQuery) -> None:
    code, message, details = _rejected(query)
    assert code == "InvalidInput"
    assert message == "Missing or invalid request parameters: [createdAfter, lastUpdatedAfter]"
    assert details == "Exactly one of createdAfter or lastUpdatedAfter is required."


def test_created_before_earlier_than_created_after() -> None:
    code, message, _ = _rejected(JobQuery(US, created_after=T0, created_before=T0 - timedelta(microseconds=1)))
    assert (code, message) == ("InvalidInput", "Missing or invalid request parameters: [createdBefore]")


def test_updated_before_earlier_than_updated_after() -> None:
    _, message, _ = _rejected(JobQuery(US, updated_after=T0, updated_before=T0 - HOUR))
    assert message == "Missing or invalid request parameters: [lastUpdatedBefore]"


def test_schedule_end_before_schedule_start() -> None:
    code, message, details = _rejected(
        JobQuery(US, created_after=T0, schedule_start=T0, schedule_end=T0 - timedelta(minutes=1))
    )
    assert code == "InvalidInput"
    assert message == "Missing or invalid request parameters: [scheduleEndDate]"
    assert details == "Schedule end date should not be earlier than schedule start date."


_instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@given(after=_instants, before=_instants, start=_instants, end=_instants, by_update=st.booleans())
def test_ordering_rules(after: datetime, before: datetime, start: datetime, end: datetime, by_update: bool) -> None:
    window = (
        {"updated_after": after, "updated_before": before}
        if by_update
        else {"created_after": after, "created_before": before}
    )
    query = JobQuery(US, schedule_start=start, schedule_end=end, **window)  # type: ignore[arg-type]
    if before < after:
        expected = "[lastUpdatedBefore]" if by_update else "[createdBefore]"
        assert _rejected(query)[1].endswith(expected)
    elif end < start:
        assert _rejected(query)[1].endswith("[scheduleEndDate]")
    else:
        query.validate()
