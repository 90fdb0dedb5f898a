"""The dispatcher's Today queries (docs/design.md §8): counts and keyset pages of the jobs that
need action, as SQL aggregates over indexed columns (never a load of every job).

The five lists, for one seller in one marketplace, at ``now`` (an appointment's window is
[start, start + duration)):
- UNSCHEDULED: jobs in PENDING_SCHEDULE;
- UNASSIGNED: ACTIVE appointments not yet over (end > now) with no technician assigned;
- LATE: ACTIVE appointments whose window is running (start <= now < end) with no fulfillment start;
- AWAITING_FULFILLMENT: ACTIVE appointments whose window is over (end <= now) with no fulfillment end;
- READY_TO_COMPLETE: ACTIVE appointments with a fulfillment end recorded (the job is NOT_SERVICED).
An ACTIVE appointment belongs to a NOT_SERVICED job (cancel, holds and completion end it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
)

from sp_services.domain.enums import AppointmentStatus, JobStatus
from sp_services.domain.times import parse_iso
from sp_services.persistence import tables as t
from sp_services.persistence.sql import epoch_second

from .base import Repository
from .capacity import MAX_SPAN

J, A, AT = t.ServiceJob, t.AppointmentRow, t.AppointmentTechnician


class Need(StrEnum):
    """What a job needs from the dispatcher today (the Today page's lists)."""

    UNSCHEDULED = "unscheduled"
    UNASSIGNED = "unassigned"
    LATE = "late"
    AWAITING_FULFILLMENT = "awaiting-fulfillment"
    READY_TO_COMPLETE = "ready-to-complete"


@dataclass(frozen=True)
class NeedRow:
    """One job of a Today list; the appointment fields are None for an unscheduled job."""

    job_id: str
    status: JobStatus
    store_id: str
    asin: str
    title: str | None
    buyer: dict[str, Any] | None
    created_at: datetime
    appointment_id: str | None
    start: datetime | None
    duration_minutes: int | None
    key: str  # where the next page starts after this row


# The instants the lists are cut at, as parameters (``_at(now)`` gives their values): the counts'
# statement is built once and only executed afterwards.
_NOW = bindparam("now", type_=A.start_time.type)
_SINCE = bindparam("since", type_=A.start_time.type)  # now - MAX_SPAN
_NOW_S = bindparam("now_s", type_=BigInteger())  # now in whole seconds


def _at(now: datetime) -> dict[str, Any]:
    return {"now": now, "since": now - MAX_SPAN, "now_s": int(now.timestamp())}


def _conditions(need: Need) -> list[ColumnElement[bool]]:
    """The appointment conditions of one list (on top of: the seller's ACTIVE appointments)."""
    # Whether a window is over needs its end, computed per row, and only where the start cannot
    # tell: an appointment lasts at most MAX_SPAN, so one that started after now is running, one
    # that started MAX_SPAN ago or earlier is over. Each list is then one range of start times
    # (read in the index's order) with the end a filter inside it; never an OR of ranges, which
    # planners answer with several index reads merged and sorted. (Starts are whole minutes:
    # whole seconds compare exactly.)
    end_s = epoch_second(A.start_time) + A.duration_minutes * 60
    running = and_(A.start_time > _SINCE, or_(A.start_time > _NOW, end_s > _NOW_S))
    over = and_(A.start_time <= _NOW, or_(A.start_time <= _SINCE, end_s <= _NOW_S))
    unassigned = ~exists().where(AT.appointment_id == A.appointment_id)
    lists: dict[Need, list[ColumnElement[bool]]] = {
        Need.UNASSIGNED: [running, unassigned],
        Need.LATE: [A.start_time <= _NOW, running, A.fulfillment_start.is_(None)],
        Need.AWAITING_FULFILLMENT: [over, A.fulfillment_end.is_(None)],
        Need.READY_TO_COMPLETE: [A.fulfillment_end.is_not(None)],
    }
    return lists[need]


def _active() -> list[ColumnElement[bool]]:
    """The seller's (parameter ``seller``) ACTIVE appointments of jobs in the marketplace (``market``)."""
    return [
        A.seller_id == bindparam("seller"),
        A.status == AppointmentStatus.ACTIVE.value,
        J.marketplace_id == bindparam("market"),
        J.status == JobStatus.NOT_SERVICED.value,
    ]


@cache
def _counting() -> Select[Any]:
    """The four appointment lists' counts in one pass over the seller's ACTIVE appointments."""
    needs = [n for n in Need if n is not Need.UNSCHEDULED]
    sums = [func.coalesce(func.sum(case((and_(*_conditions(n)), 1), else_=0)), 0) for n in needs]
    return select(*sums).select_from(A).join(J, J.service_job_id == A.service_job_id).where(*_active())


def _pending(seller_id: str, marketplace_id: str) -> list[ColumnElement[bool]]:
    return [J.seller_id == seller_id, J.marketplace_id == marketplace_id, J.status == JobStatus.PENDING_SCHEDULE.value]


def _split(key: str | None) -> tuple[datetime, str] | None:
    """A page key ``<instant>|<id>`` back into its parts; None when absent or malformed."""
    if not key or "|" not in key:
        return None
    instant, _, row_id = key.partition("|")
    parsed = parse_iso(instant)
    return (parsed[0], row_id) if parsed and row_id else None


def _after(order: tuple[Any, Any], key: tuple[datetime, str]) -> ColumnElement[bool]:
    """Rows after ``key`` in the order (instant, id): one row-value comparison, which SQLite and
    PostgreSQL both read as a range of the index (an OR of two ranges would be merged and sorted)."""
    instant, row_id = order
    return tuple_(instant, row_id) > tuple_(literal(key[0], instant.type), literal(key[1], row_id.type))


class DispatchRepository(Repository):
    def counts(self, seller_id: str, marketplace_id: str, *, now: datetime) -> dict[Need, int]:
        """How many jobs are on each list: two aggregate queries (jobs; ACTIVE appointments)."""
        pending = self.session.scalar(select(func.count()).select_from(J).where(*_pending(seller_id, marketplace_id)))
        needs = [n for n in Need if n is not Need.UNSCHEDULED]
        row = self.session.execute(_counting(), {"seller": seller_id, "market": marketplace_id, **_at(now)}).one()
        return {Need.UNSCHEDULED: int(pending or 0), **{n: int(v) for n, v in zip(needs, row, strict=True)}}

    def page(
        self, need: Need, seller_id: str, marketplace_id: str, *, now: datetime, after: str | None, limit: int
    ) -> tuple[list[NeedRow], str | None]:
        """One page of a list in its order (unscheduled: waiting longest first; the others: by
        appointment start), and the key of the next page (None on the last)."""
        start = _split(after)
        columns = (J.service_job_id, J.status, J.store_id, J.asin, J.title, J.buyer, J.created_at)
        if need is Need.UNSCHEDULED:
            query = select(*columns, literal(None), literal(None), literal(None)).where(
                *_pending(seller_id, marketplace_id)
            )
            if start:
                query = query.where(_after((J.created_at, J.service_job_id), start))
            query = query.order_by(J.created_at, J.service_job_id)
        else:
            query = (
                select(*columns, A.appointment_id, A.start_time, A.duration_minutes)
                .join(A, A.service_job_id == J.service_job_id)
                .where(*_active(), *_conditions(need))
            )
            if start:
                query = query.where(_after((A.start_time, A.appointment_id), start))
            query = query.order_by(A.start_time, A.appointment_id)
        params = {"seller": seller_id, "market": marketplace_id, **_at(now)}
        rows = self.session.execute(query.limit(limit + 1), params).all()
        out = [_row(r, need) for r in rows[:limit]]
        return out, (out[-1].key if len(rows) > limit else None)


def _row(r: Any, need: Need) -> NeedRow:
    job_id, status, store_id, asin, title, buyer, created_at, appointment_id, start, duration = r
    key = f"{created_at.isoformat()}|{job_id}" if need is Need.UNSCHEDULED else f"{start.isoformat()}|{appointment_id}"
    return NeedRow(
        job_id, JobStatus(status), store_id, asin, title, buyer, created_at, appointment_id, start, duration, key
    )
