"""The Manage Jobs report (docs/design.md §6): the jobs getServiceJobs' filters select, in creation
order, read one batch at a time.

Each batch is its own short read (its own unit of work): a report of a million jobs never holds
a transaction, a connection or a database snapshot for the minutes it takes to download. The price
is that the report is not one snapshot: a job appears at most once (batches follow the creation
order, which never changes), every job that matches the filters for the whole download appears,
and each row shows its job as it was when its batch was read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from sp_services.domain.csv_report import JobReportRow
from sp_services.domain.job_query import JobQuery
from sp_services.persistence.repositories.job_report import JobReport, ReportKey

# Rows per read: large enough that a batch's round trip is small beside its rows, small enough
# that a batch (its rows and its CSV text, about 1 MB) is all the memory a download holds.
BATCH_SIZE = 2000
_EVERYTHING = datetime(1, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ReportBatch:
    rows: list[JobReportRow]
    next_key: ReportKey | None  # where the next batch starts; None after the last one


def check_report_query(query: JobQuery) -> None:
    """getServiceJobs' parameter rules, except one: with neither createdAfter nor lastUpdatedAfter
    the report covers every job (a seller's export of everything), where getServiceJobs asks for one.
    Both together are refused as getServiceJobs refuses them."""
    if query.created_after is None and query.updated_after is None:
        query = replace(query, created_after=_EVERYTHING)
    query.validate()


def report_batch(
    session: Session, *, seller_id: str, query: JobQuery, after: ReportKey | None, size: int = BATCH_SIZE
) -> ReportBatch:
    """The caller's next ``size`` jobs of the report after ``after`` (None: the first batch, whose
    read checks the query first)."""
    if after is None:
        check_report_query(query)
    rows, next_key = JobReport(session).batch(seller_id, query, after=after, size=size)
    return ReportBatch(rows, next_key)
