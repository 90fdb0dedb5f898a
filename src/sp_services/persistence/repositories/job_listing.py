"""The getServiceJobs query: filters, the count, and keyset pages in either direction.

Keyset pagination: a page is "the N rows after (or before) this sort key", so rows created or
updated between pages neither repeat nor vanish from the pages still to come. Sorting by
JOB_STATUS would break that rule on its own, because a job's status (its sort key) can change
between pages; so a status-sorted walk sorts by each job's status *as of the first page*
(``as_of``, carried in the page token), read from the job's events where it changed since, and
lists the jobs that existed then. Each of them appears exactly once, under the status it had then.

Every statement is prepared once per shape (which filters a request uses, its sort and direction;
persistence/prepared.py): a page is one small query for the keys and revisions, one for the jobs
the caller does not hold at that revision already, and one count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, func, select, tuple_

from sp_services.domain.enums import AppointmentStatus, SortField, SortOrder
from sp_services.domain.job_query import JobQuery
from sp_services.domain.jobs import Job
from sp_services.domain.times import format_utc, parse_iso
from sp_services.persistence import tables as t
from sp_services.persistence.prepared import Prepared

from .base import Repository
from .jobs import JOBS, TAG_PRODUCT_ORDER, TAG_SKILL, TAG_TRACKING, JobRepository

J = JOBS.c
Key = tuple[Any, ...]
# The filters a request may use, each a parameter of the prepared statement (None: not used).
_LISTS = ("service_order_ids", "statuses", "asins", "store_ids", "required_skills", "product_order_ids", "tracking_ids")
_BOUNDS = ("created_after", "created_before", "updated_after", "updated_before", "schedule_start", "schedule_end")
_TAGS = {"required_skills": TAG_SKILL, "product_order_ids": TAG_PRODUCT_ORDER, "tracking_ids": TAG_TRACKING}


@dataclass(frozen=True)
class Listed:
    """One job of a page: its id and revision, and the whole job unless the caller holds it."""

    job_id: str
    revision: int
    job: Job | None


def _instant_text(instant: datetime) -> str:
    return format_utc(instant)[:-1] + f"{instant.microsecond % 1000:03d}Z"


def key_of(created_at: datetime, job_id: str, status: str, field: SortField) -> Key:
    """The sort key of a listed job (its status as of the walk's instant for JOB_STATUS)."""
    created = _instant_text(created_at)
    return (status, created, job_id) if field is SortField.JOB_STATUS else (created, job_id)


def _key_values(key: Key, field: SortField) -> list[Any] | None:
    """Turn a cursor key back into column values; None when it does not fit the sort."""
    expected = 3 if field is SortField.JOB_STATUS else 2
    if len(key) != expected or not all(isinstance(k, str) for k in key):
        return None
    parsed = parse_iso(key[-2])
    if parsed is None:
        return None
    return [*key[:-2], parsed[0], key[-1]]


def _params(seller_id: str, q: JobQuery) -> dict[str, Any]:
    """The query's filter values by parameter name (the used ones only)."""
    values: dict[str, Any] = {"seller_id": seller_id, "marketplace_id": q.marketplace_id}
    lists = {
        "service_order_ids": list(q.service_order_ids),
        "statuses": [s.value for s in q.statuses],
        "asins": list(q.asins),
        "store_ids": list(q.store_ids),
        "required_skills": list(q.required_skills),
        "product_order_ids": list(q.product_order_ids),
        "tracking_ids": list(q.tracking_ids),
    }
    values.update({k: v for k, v in lists.items() if v})
    bounds = {
        "created_after": q.created_after,
        "created_before": q.created_before,
        "updated_after": q.updated_after,
        "updated_before": q.updated_before,
        "schedule_start": q.schedule_start,
        "schedule_end": q.schedule_end,
    }
    values.update({k: v for k, v in bounds.items() if v is not None})
    return values


def filter_conditions(used: frozenset[str]) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a getServiceJobs filter using the parameters ``used`` (bound by name:
    the values come with each execution)."""
    conds: list[ColumnElement[bool]] = [
        J.seller_id == bindparam("seller_id"),
        J.marketplace_id == bindparam("marketplace_id"),
    ]
    for name, column in (
        ("service_order_ids", J.service_order_id),
        ("statuses", J.status),
        ("asins", J.asin),
        ("store_ids", J.store_id),
    ):
        if name in used:
            conds.append(column.in_(bindparam(name, expanding=True)))
    for name, column, op in (
        ("created_after", J.created_at, "ge"),
        ("created_before", J.created_at, "le"),
        ("updated_after", J.updated_at, "ge"),
        ("updated_before", J.updated_at, "le"),
    ):
        if name in used:
            value = bindparam(name, type_=column.type)
            conds.append(column >= value if op == "ge" else column <= value)
    T = t.JobTag.__table__.c
    for name, kind in _TAGS.items():
        if name in used:
            conds.append(
                exists().where(
                    T.service_job_id == J.service_job_id, T.kind == kind, T.value.in_(bindparam(name, expanding=True))
                )
            )
    if "schedule_start" in used or "schedule_end" in used:
        A = t.AppointmentRow.__table__.c
        appt = [A.service_job_id == J.service_job_id, A.status != AppointmentStatus.CANCELLED.value]
        if "schedule_start" in used:
            appt.append(A.start_time >= bindparam("schedule_start", type_=A.start_time.type))
        if "schedule_end" in used:
            appt.append(A.start_time <= bindparam("schedule_end", type_=A.start_time.type))
        conds.append(exists().where(and_(*appt)))
    return conds


def _status_as_of() -> Any:
    """The job's status at ``:as_of``: its last event at or before then."""
    E = t.JobEvent.__table__.c
    return (
        select(E.status)
        .where(E.service_job_id == J.service_job_id, E.at <= bindparam("as_of", type_=E.at.type))
        .order_by(E.at.desc(), E.id.desc())
        .limit(1)
        .scalar_subquery()
    )


@lru_cache(maxsize=1024)
def _count(used: frozenset[str], snapshot: bool) -> Prepared:
    conds = filter_conditions(used)
    if snapshot:
        conds.append(J.created_at <= bindparam("as_of", type_=J.created_at.type))
    return Prepared(select(func.count()).select_from(JOBS).where(*conds))


@lru_cache(maxsize=1024)
def _page(used: frozenset[str], field: SortField, part: str, keyed: bool, ascending: bool, n: int) -> Prepared:
    """Keys and revisions of up to ``n`` jobs in one part of the walk, after ``:k0, :k1[, :k2]``.

    ``part``: "all" (a JOB_DATE walk), or for a JOB_STATUS walk "unchanged" (jobs not updated since
    ``as_of``: their status is their status then, and the status index serves them) and "changed"
    (their status then comes from their events; usually few)."""
    conds = filter_conditions(used)
    status: Any = J.status
    if part != "all":
        as_of = bindparam("as_of", type_=J.created_at.type)
        conds.append(J.created_at <= as_of)
        conds.append(J.updated_at <= as_of if part == "unchanged" else J.updated_at > as_of)
        if part == "changed":
            status = _status_as_of()
    by_status = field is SortField.JOB_STATUS
    cols = [status, J.created_at, J.service_job_id] if by_status else [J.created_at, J.service_job_id]
    stmt: Select[Any] = select(J.service_job_id, J.created_at, status, J.revision).where(*conds)
    if keyed:
        key = tuple_(*(bindparam(f"k{i}", type_=c.type) for i, c in enumerate(cols)))
        stmt = stmt.where(tuple_(*cols) > key if ascending else tuple_(*cols) < key)
    return Prepared(stmt.order_by(*(c.asc() if ascending else c.desc() for c in cols)).limit(n))


class JobListing(Repository):
    def filters(self, seller_id: str, q: JobQuery) -> tuple[list[ColumnElement[bool]], dict[str, Any]]:
        """The query's WHERE conditions, with named parameters, and their values: for other queries
        over the same jobs, such as the jobs report, which bind them with ``statement.params(values)``
        (SQLAlchemy 2.1 binds values on statements only)."""
        params = _params(seller_id, q)
        return filter_conditions(frozenset(params)), params

    def count(self, seller_id: str, q: JobQuery, *, as_of: datetime | None = None) -> int:
        """How many jobs the filters select (for a status-sorted walk: of those that existed ``as_of``)."""
        params = _params(seller_id, q)
        snapshot = as_of is not None
        if snapshot:
            params["as_of"] = as_of
        row = _count(frozenset(params) - {"as_of"}, snapshot).first(self.session, **params)
        return int(row[0]) if row else 0

    def page(
        self,
        seller_id: str,
        q: JobQuery,
        key: Key | None,
        *,
        backwards: bool,
        as_of: datetime,
        known: Callable[[str, int], bool] | None = None,
    ) -> tuple[list[Listed], Key | None, Key | None]:
        """One page in the query's order, plus the keys to continue after it and before it.

        ``as_of`` is the instant a JOB_STATUS walk sorts by (ignored for JOB_DATE); ``known`` says
        which (job, revision) the caller holds already: those are listed without their contents."""
        params = _params(seller_id, q)
        values = _key_values(key, q.sort_field) if key is not None else None
        ascending = q.sort_order is SortOrder.ASC
        read_ascending = ascending != backwards
        rows = self._read(params, q, values, read_ascending, q.page_size + 1, as_of)
        more_in_read_direction = len(rows) > q.page_size
        rows = rows[: q.page_size]
        if backwards:
            rows.reverse()
        if not rows:
            return [], None, None
        listed = self._contents(rows, known)
        first = key_of(rows[0][1], rows[0][0], rows[0][2], q.sort_field)
        last = key_of(rows[-1][1], rows[-1][0], rows[-1][2], q.sort_field)
        if backwards:
            has_next, has_prev = True, more_in_read_direction
        else:
            before = _key_values(first, q.sort_field) or []
            has_next = more_in_read_direction
            has_prev = values is not None and bool(self._read(params, q, before, not ascending, 1, as_of))
        return listed, (last if has_next else None), (first if has_prev else None)

    def _contents(self, rows: list[tuple[Any, ...]], known: Callable[[str, int], bool] | None) -> list[Listed]:
        missing = [r[0] for r in rows if known is None or not known(r[0], r[3])]
        jobs = JobRepository(self.session).jobs_by_ids(missing) if missing else {}
        return [Listed(r[0], r[3], jobs.get(r[0])) for r in rows]

    def _read(
        self, params: dict[str, Any], q: JobQuery, key: list[Any] | None, ascending: bool, n: int, as_of: datetime
    ) -> list[tuple[Any, ...]]:
        """The first ``n`` (id, created, status, revision) rows after ``key``, over all parts merged."""
        used = frozenset(params)
        values = {**params, **({f"k{i}": v for i, v in enumerate(key)} if key is not None else {})}
        parts = ("unchanged", "changed") if q.sort_field is SortField.JOB_STATUS else ("all",)
        if parts != ("all",):
            values["as_of"] = as_of
        found: list[tuple[Any, ...]] = []
        for part in parts:
            found += _page(used, q.sort_field, part, key is not None, ascending, n).rows(self.session, **values)
        if len(parts) > 1:
            # Each part is in order; merging in Python agrees with the database's order for these keys
            # (ASCII status names, UTC instants, lowercase hex ids) under any common collation.
            found.sort(key=lambda r: (r[2], r[1], r[0]), reverse=not ascending)
        return found[:n]
