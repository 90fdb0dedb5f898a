"""The getServiceJobs query: filters, the count, and keyset pages in either direction.

Keyset pagination: a page is "the N rows after (or before) this sort key", so rows created or
updated between pages neither repeat nor vanish from the pages still to come. Sorting by
JOB_STATUS would break that rule on its own, because a job's status (its sort key) can change
between pages; so a status-sorted walk sorts by each job's status *as of the first page*
(``as_of``, carried in the page token), read from the job's events where it changed since, and
lists the jobs that existed then. Each of them appears exactly once, under the status it had then.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, select, tuple_

from sp_services.domain.enums import AppointmentStatus, SortField, SortOrder
from sp_services.domain.job_query import JobQuery
from sp_services.domain.jobs import Job
from sp_services.domain.times import format_utc, parse_iso
from sp_services.persistence import tables as t

from .base import Repository
from .jobs import JOBS, TAG_PRODUCT_ORDER, TAG_SKILL, TAG_TRACKING, JobRepository, job_from_row

J = t.ServiceJob
Key = tuple[Any, ...]


def _instant_text(instant: datetime) -> str:
    return format_utc(instant)[:-1] + f"{instant.microsecond % 1000:03d}Z"


def key_of(job: Job, status: str, field: SortField) -> Key:
    """The sort key of a listed job (its status as of the walk's instant for JOB_STATUS)."""
    created = _instant_text(job.created_at)
    return (status, created, job.service_job_id) if field is SortField.JOB_STATUS else (created, job.service_job_id)


def _key_values(key: Key, field: SortField) -> list[Any] | None:
    """Turn a cursor key back into column values; None when it does not fit the sort."""
    expected = 3 if field is SortField.JOB_STATUS else 2
    if len(key) != expected or not all(isinstance(k, str) for k in key):
        return None
    parsed = parse_iso(key[-2])
    if parsed is None:
        return None
    return [*key[:-2], parsed[0], key[-1]]


def _status_as_of(as_of: datetime) -> Any:
    """The job's status at ``as_of``: its last event at or before then."""
    E = t.JobEvent
    return (
        select(E.status)
        .where(E.service_job_id == J.service_job_id, E.at <= as_of)
        .order_by(E.at.desc(), E.id.desc())
        .limit(1)
        .scalar_subquery()
    )


class JobListing(Repository):
    def filters(self, seller_id: str, q: JobQuery) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = [J.seller_id == seller_id, J.marketplace_id == q.marketplace_id]
        if q.service_order_ids:
            conds.append(J.service_order_id.in_(q.service_order_ids))
        if q.statuses:
            conds.append(J.status.in_([s.value for s in q.statuses]))
        if q.asins:
            conds.append(J.asin.in_(q.asins))
        if q.store_ids:
            conds.append(J.store_id.in_(q.store_ids))
        if q.created_after:
            conds.append(J.created_at >= q.created_after)
        if q.created_before:
            conds.append(J.created_at <= q.created_before)
        if q.updated_after:
            conds.append(J.updated_at >= q.updated_after)
        if q.updated_before:
            conds.append(J.updated_at <= q.updated_before)
        for kind, values in (
            (TAG_SKILL, q.required_skills),
            (TAG_PRODUCT_ORDER, q.product_order_ids),
            (TAG_TRACKING, q.tracking_ids),
        ):
            if values:
                conds.append(
                    exists().where(
                        t.JobTag.service_job_id == J.service_job_id, t.JobTag.kind == kind, t.JobTag.value.in_(values)
                    )
                )
        if q.schedule_start or q.schedule_end:
            A = t.AppointmentRow
            appt = [A.service_job_id == J.service_job_id, A.status != AppointmentStatus.CANCELLED.value]
            if q.schedule_start:
                appt.append(A.start_time >= q.schedule_start)
            if q.schedule_end:
                appt.append(A.start_time <= q.schedule_end)
            conds.append(exists().where(and_(*appt)))
        return conds

    def count(self, seller_id: str, q: JobQuery, *, as_of: datetime | None = None) -> int:
        """How many jobs the filters select (for a status-sorted walk: of those that existed ``as_of``)."""
        conds = self.filters(seller_id, q) + ([J.created_at <= as_of] if as_of is not None else [])
        return int(self.session.scalar(select(func.count()).select_from(J).where(*conds)) or 0)

    def page(
        self, seller_id: str, q: JobQuery, key: Key | None, *, backwards: bool, as_of: datetime
    ) -> tuple[list[Job], Key | None, Key | None]:
        """One page in the query's order, plus the keys to continue after it and before it.

        ``as_of`` is the instant a JOB_STATUS walk sorts by (ignored for JOB_DATE)."""
        by_status = q.sort_field is SortField.JOB_STATUS
        parts = self._parts(seller_id, q, as_of) if by_status else [(self.filters(seller_id, q), J.status)]
        values = _key_values(key, q.sort_field) if key is not None else None
        ascending = q.sort_order is SortOrder.ASC
        read_ascending = ascending != backwards
        rows = self._read(parts, q.sort_field, values, read_ascending, q.page_size + 1)
        more_in_read_direction = len(rows) > q.page_size
        rows = rows[: q.page_size]
        if backwards:
            rows.reverse()
        if not rows:
            return [], None, None
        appointments = JobRepository(self.session).appointments_of([r.service_job_id for r, _ in rows])
        jobs = [job_from_row(r, appointments[r.service_job_id]) for r, _ in rows]
        first = key_of(jobs[0], rows[0][1], q.sort_field)
        last = key_of(jobs[-1], rows[-1][1], q.sort_field)
        if backwards:
            has_next, has_prev = True, more_in_read_direction
        else:
            before = _key_values(first, q.sort_field) or []
            has_next = more_in_read_direction
            has_prev = values is not None and bool(self._read(parts, q.sort_field, before, not ascending, 1))
        return jobs, (last if has_next else None), (first if has_prev else None)

    def _parts(self, seller_id: str, q: JobQuery, as_of: datetime) -> list[tuple[list[Any], Any]]:
        """A status-sorted walk reads two parts and merges them: jobs unchanged since ``as_of``
        (their status is their status then: the status index serves them), and jobs changed since
        (their status then comes from their events; usually few)."""
        base = [*self.filters(seller_id, q), J.created_at <= as_of]
        return [([*base, J.updated_at <= as_of], J.status), ([*base, J.updated_at > as_of], _status_as_of(as_of))]

    def _read(
        self, parts: Sequence[tuple[list[Any], Any]], field: SortField, key: list[Any] | None, ascending: bool, n: int
    ) -> list[tuple[Any, str]]:
        """The first ``n`` rows after ``key`` in the given direction, over all parts merged."""
        found: list[tuple[Any, str]] = []
        for conds, status in parts:
            found += [
                (row, row[-1]) for row in self.session.execute(self._select(conds, status, field, key, ascending, n))
            ]
        # The parts are each in order; merging in Python agrees with the database's order for these
        # keys (ASCII status names, UTC instants, lowercase hex ids) under any common collation.
        found.sort(key=lambda rs: _row_key(rs[0], rs[1], field), reverse=not ascending)
        return found[:n]

    def _select(
        self, conds: list[Any], status: Any, field: SortField, key: list[Any] | None, ascending: bool, n: int
    ) -> Select[Any]:
        by_status = field is SortField.JOB_STATUS
        cols = [status, J.created_at, J.service_job_id] if by_status else [J.created_at, J.service_job_id]
        stmt = select(JOBS, status).where(*conds)
        if key is not None:
            stmt = stmt.where(tuple_(*cols) > tuple_(*key) if ascending else tuple_(*cols) < tuple_(*key))
        return stmt.order_by(*(c.asc() if ascending else c.desc() for c in cols)).limit(n)


def _row_key(row: Any, status: str, field: SortField) -> tuple[Any, ...]:
    if field is SortField.JOB_STATUS:
        return (status, row.created_at, row.service_job_id)
    return (row.created_at, row.service_job_id)
