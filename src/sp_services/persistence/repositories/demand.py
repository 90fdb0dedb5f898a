"""The reads of capacity against demand (docs/design.md §7): the seller's offerings, reservations
with their type, the appointments that took capacity, and the unserved demand as one aggregate."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    column,
    func,
    literal_column,
    or_,
    select,
    union_all,
    values,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from sp_services.domain.catalog import Offering
from sp_services.domain.demand import DaySpan
from sp_services.domain.enums import AppointmentStatus, JobStatus
from sp_services.domain.recurrence import from_minute
from sp_services.domain.resources import Reservation
from sp_services.persistence import tables as t
from sp_services.persistence.sql import epoch_minute

from .base import Repository
from .capacity import MAX_SPAN, _reservation
from .catalog import _offering

# Appointments that took capacity at their time: still ACTIVE, or carried out (COMPLETED).
# Cancelled and rescheduled-away ones gave it back (docs/design.md §7).
BOOKED = (AppointmentStatus.ACTIVE.value, AppointmentStatus.COMPLETED.value)
PENDING = JobStatus.PENDING_SCHEDULE.value


class preferred_start_minute(FunctionElement[int]):
    """The minute of a job's first preferred appointment start (JSON text
    ``YYYY-MM-DDTHH:MM:SS.mmmZ``, persistence/repositories/jobs.py), NULL when it has none."""

    type = BigInteger()
    inherit_cache = True
    name = "preferred_start_minute"


@compiles(preferred_start_minute, "sqlite")
def _sqlite(element: preferred_start_minute, compiler: Any, **kw: Any) -> str:
    # SQLite's date functions read 'YYYY-MM-DDTHH:MM:SS' as UTC: epoch_minute's own text form.
    text = f"json_extract({compiler.process(element.clauses, **kw)}, '$[0].startTime')"
    return str(compiler.process(epoch_minute(literal_column(text)), **kw))


@compiles(preferred_start_minute, "postgresql")
def _postgresql(element: preferred_start_minute, compiler: Any, **kw: Any) -> str:
    # The text without its zone, as a timestamp without time zone: epoch_minute reads those as UTC.
    text = f"CAST(substr({compiler.process(element.clauses, **kw)} -> 0 ->> 'startTime', 1, 19) AS TIMESTAMP)"
    return str(compiler.process(epoch_minute(literal_column(text)), **kw))


class minute_instant(FunctionElement[datetime]):
    """The start of an epoch minute as the databases store instants (naive UTC), so a timestamp
    column is compared with it directly, through its index (the inverse of ``epoch_minute``)."""

    inherit_cache = True
    name = "minute_instant"


@compiles(minute_instant, "sqlite")
def _sqlite_instant(element: minute_instant, compiler: Any, **kw: Any) -> str:
    # 'YYYY-MM-DD HH:MM:SS': the stored text of an instant adds '.ffffff', so it sorts at or after it.
    return f"datetime(({compiler.process(element.clauses, **kw)}) * 60, 'unixepoch')"


@compiles(minute_instant, "postgresql")
def _postgresql_instant(element: minute_instant, compiler: Any, **kw: Any) -> str:
    return f"(to_timestamp(({compiler.process(element.clauses, **kw)}) * 60) AT TIME ZONE 'UTC')"


class DemandRepository(Repository):
    def offerings(self, seller_id: str, marketplace_id: str) -> list[Offering]:
        """The seller's service offerings in one marketplace, by ASIN."""
        Off = t.ServiceOffering
        rows = self.session.scalars(
            select(Off).where(Off.seller_id == seller_id, Off.marketplace_id == marketplace_id).order_by(Off.asin)
        )
        return [_offering(row) for row in rows]

    def reservations(
        self, resource_ids: Sequence[str], window: tuple[datetime, datetime]
    ) -> dict[str, list[Reservation]]:
        """Reservations that can touch the window, with their type, per resource (one query)."""
        start, end = window
        R = t.Reservation
        rows = self.session.scalars(
            select(R).where(
                R.resource_id.in_(resource_ids),
                R.start_time < end,
                or_(R.end_time > start, and_(R.recurrence_end.is_not(None), R.recurrence_end >= start - MAX_SPAN)),
            )
        )
        result: dict[str, list[Reservation]] = defaultdict(list)
        for row in rows:
            result[row.resource_id].append(_reservation(row))
        return result

    def booked(
        self, stores: Sequence[str], technicians: Sequence[str], window: tuple[datetime, datetime]
    ) -> dict[str, list[tuple[int, int, int]]]:
        """ACTIVE and COMPLETED appointments as (start, end, 1) minute intervals, on their job's
        store and on each assigned technician among ``technicians`` (one query for all)."""
        start, end = window
        A, J, AT = t.AppointmentRow, t.ServiceJob, t.AppointmentTechnician
        taken = [A.status.in_(BOOKED), A.start_time < end, A.start_time > start - MAX_SPAN]
        parts = []
        if stores:
            parts.append(
                select(J.store_id.label("resource_id"), epoch_minute(A.start_time), A.duration_minutes)
                .join(J, J.service_job_id == A.service_job_id)
                .where(J.store_id.in_(stores), *taken)
            )
        if technicians:
            parts.append(
                select(AT.technician_id, epoch_minute(A.start_time), A.duration_minutes)
                .join(A, A.appointment_id == AT.appointment_id)
                .where(AT.technician_id.in_(technicians), *taken)
            )
        result: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
        if parts:
            for resource_id, m, minutes in self.session.execute(union_all(*parts)):
                result[resource_id].append((m, m + minutes, 1))
        return result

    def unserved_minutes(
        self,
        seller_id: str,
        marketplace_id: str,
        store_ids: Sequence[str],
        spans: Mapping[str, Sequence[DaySpan]],
        *,
        now: datetime,
    ) -> dict[tuple[str, date], int]:
        """Unserved demand per (store, store-local day), as domain/demand.py: unserved_demand
        defines it, aggregated by the database.

        ``spans`` are each timezone's days as plain minute arithmetic, joined to the jobs through
        their store's timezone, so both backends place an instant in its local day the same way.
        Only jobs that could have been waiting at some day's end are read, through two indexes:
        those changed since the first day began (a job's ``updated_at`` is its last change), and
        older ones still waiting."""
        rows = [(tz, s.start, s.end, s.first_day.toordinal(), s.length) for tz, some in spans.items() for s in some]
        if not rows or not store_ids:
            return {}
        days = (
            values(
                column("tz", String),
                column("lo", BigInteger),
                column("hi", BigInteger),
                column("day0", Integer),
                column("length", Integer),
                name="days",
            )
            .data(rows)
            .cte("days")
        )
        since, until = from_minute(min(r[1] for r in rows)), from_minute(max(r[2] for r in rows))
        J, E = t.ServiceJob, t.JobEvent
        mine = [J.seller_id == seller_id, J.marketplace_id == marketplace_id, J.store_id.in_(store_ids)]
        # A compound of two index reads: the database computes each job's day once, before the join.
        jobs = union_all(
            _demand(*mine, J.updated_at >= since, J.created_at < until),
            # updated_at < since implies created_at < since: the (status, created_at) index reads them.
            _demand(*mine, J.status == PENDING, J.created_at < since, J.updated_at < since),
        ).subquery("jobs")
        k = (jobs.c.wanted - days.c.lo) // days.c.length  # the day's index in its span (never negative)
        day_end = days.c.lo + (k + 1) * days.c.length
        status_then = (
            select(E.status)
            .where(E.service_job_id == jobs.c.service_job_id, E.at < minute_instant(day_end), E.at <= now)
            .order_by(E.at.desc(), E.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        day = days.c.day0 + k
        stmt = (
            select(jobs.c.store_id, day, func.sum(jobs.c.minutes))
            .join_from(
                jobs,
                days,
                and_(days.c.tz == jobs.c.timezone, jobs.c.wanted >= days.c.lo, jobs.c.wanted < days.c.hi),
            )
            .where(status_then == PENDING)
            .group_by(jobs.c.store_id, day)
        )
        return {
            (store_id, date.fromordinal(ordinal)): int(minutes)
            for store_id, ordinal, minutes in self.session.execute(stmt)
            if minutes
        }


def _demand(*conditions: ColumnElement[bool]) -> Select[str, str, str, int, int]:
    """Jobs as demand: id, store, the store's timezone, the offering's minutes and the minute
    they want (the first preferred start, else creation)."""
    J, S, Off = t.ServiceJob, t.Store, t.ServiceOffering
    wanted = func.coalesce(preferred_start_minute(J.preferred_appointment_times), epoch_minute(J.created_at))
    minutes = func.coalesce(Off.duration_minutes, 0)  # an offering is never deleted; 0 if it were
    return (
        select(J.service_job_id, J.store_id, S.timezone, minutes.label("minutes"), wanted.label("wanted"))
        .join(S, S.store_id == J.store_id)
        # An outer join: SQLite then reads the jobs by their index and looks each offering up,
        # rather than reading the jobs' index once per offering.
        .outerjoin(Off, and_(Off.seller_id == J.seller_id, Off.marketplace_id == J.marketplace_id, Off.asin == J.asin))
        .where(*conditions)
    )
