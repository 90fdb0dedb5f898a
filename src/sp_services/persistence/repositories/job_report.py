"""The Manage Jobs report's rows (docs/design.md §6): one query per batch, in creation order.

A batch is "the next N jobs after this key" in (created_at, service_job_id) order, the order of
the index ``ix_jobs_seller_created``: each batch is an index range read, however far into the
report it is, and a job is never read twice (its creation time never changes). One statement
reads everything a batch's rows need: the job, its latest appointment (joined by a correlated
lookup of the last one booked), the appointment's technicians (aggregated in order), and the
instants already formatted as the API writes them, so that no Python runs per instant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Interval, Select, String, func, literal, literal_column, select, true, tuple_
from sqlalchemy import type_coerce as as_type
from sqlalchemy.orm import aliased

from sp_services.domain.csv_report import LIST_SEPARATOR, JobReportRow
from sp_services.domain.job_query import JobQuery
from sp_services.persistence import tables as t

from .base import Repository
from .job_listing import JobListing

J, A, AT, TECH = t.ServiceJob, t.AppointmentRow, t.AppointmentTechnician, t.Technician
LATEST = aliased(A, name="latest")
ReportKey = tuple[datetime, str]

# PostgreSQL's to_char truncates to the millisecond, as times.format_utc does.
_PG_ISO = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'
_MINUTE = literal_column("interval '1 minute'", Interval)


def _text(expr: Any) -> ColumnElement[str]:
    return as_type(expr, String)


def _sqlite_iso(stored: Any, *, plus_minutes: Any = None) -> ColumnElement[str]:
    """An instant as SQLite stores it ('YYYY-MM-DD HH:MM:SS.ffffff', UTC) in the API's form, by
    cutting text: SQLite's own date functions round to the millisecond (format_utc truncates).
    With ``plus_minutes``, the date arithmetic sees whole seconds only and the fraction is kept."""
    raw = _text(stored)
    seconds: ColumnElement[str] = _text(func.replace(func.substr(raw, 1, 19), " ", "T"))
    if plus_minutes is not None:
        shift = _text(literal("+")).concat(plus_minutes).concat(" minutes")
        seconds = _text(func.strftime("%Y-%m-%dT%H:%M:%S", func.substr(raw, 1, 19), shift))
    return seconds.concat(".").concat(func.substr(raw.concat(".000"), 21, 3)).concat("Z")


def _iso(stored: Any, dialect: str, *, plus_minutes: Any = None) -> ColumnElement[str]:
    if dialect == "sqlite":
        return _sqlite_iso(stored, plus_minutes=plus_minutes)
    instant = stored if plus_minutes is None else stored + plus_minutes * _MINUTE
    return _text(func.to_char(instant, _PG_ISO))


def _crews(dialect: str) -> tuple[ColumnElement[str], ColumnElement[str], Any]:
    """The latest appointment's technicians, ids and names each joined in assignment order, and
    what the statement must join to read them (None: nothing)."""
    if dialect == "sqlite":
        return _sqlite_crew(AT.technician_id), _sqlite_crew(TECH.name), None
    # PostgreSQL: one lateral subquery per row computes both lists (a third of the cost of two
    # correlated subqueries, each sorting the crew again).
    crew = (
        select(
            func.string_agg(AT.technician_id, literal(LIST_SEPARATOR)).aggregate_order_by(AT.position).label("ids"),
            func.string_agg(TECH.name, literal(LIST_SEPARATOR)).aggregate_order_by(AT.position).label("names"),
        )
        .select_from(AT.__table__.join(TECH.__table__, TECH.technician_id == AT.technician_id))
        .where(AT.appointment_id == LATEST.appointment_id)
        .lateral("crew")
    )
    return _text(crew.c.ids), _text(crew.c.names), crew


def _sqlite_crew(column: Any) -> ColumnElement[str]:
    where = [AT.appointment_id == LATEST.appointment_id]
    if column is TECH.name:
        where.append(TECH.technician_id == AT.technician_id)
    # SQLite before 3.44 has no ORDER BY inside an aggregate; group_concat takes rows in the order
    # an ordered subquery yields them (an aggregate over it is never flattened into it). A subquery
    # in FROM is not correlated unless told: it must see this row's appointment.
    ordered = select(column.label("v")).where(*where).order_by(AT.position).correlate(LATEST).subquery()
    return _text(select(func.group_concat(ordered.c.v, LIST_SEPARATOR)).scalar_subquery())


def _latest_appointment_id() -> Any:
    """The job's last-booked appointment (the order appointments_of lists them in)."""
    return (
        select(A.appointment_id)
        .where(A.service_job_id == J.service_job_id)
        .order_by(A.created_at.desc(), A.appointment_id.desc())
        .limit(1)
        .scalar_subquery()
    )


class JobReport(Repository):
    def statement(self, seller_id: str, query: JobQuery) -> Select[Any]:
        """Every row of the report (the JobReportRow columns, then the key), in creation order."""
        dialect = self.session.get_bind().dialect.name
        crew_ids, crew_names, crew = _crews(dialect)
        columns = [
            J.service_job_id,
            J.service_order_id,
            J.status,
            J.marketplace_id,
            J.store_id,
            J.asin,
            J.title,
            J.buyer["name"].as_string(),
            J.service_location[("address", "postalCode")].as_string(),
            J.service_location["serviceLocationType"].as_string(),
            LATEST.appointment_id,
            _iso(LATEST.start_time, dialect),
            _iso(LATEST.start_time, dialect, plus_minutes=LATEST.duration_minutes),
            crew_ids,
            crew_names,
            _iso(LATEST.fulfillment_start, dialect),
            _iso(LATEST.fulfillment_end, dialect),
            J.cancellation_reason_code,
            LATEST.reschedule_reason_code,
            J.payments,
            _iso(J.created_at, dialect),
            _iso(J.updated_at, dialect),
            J.created_at,  # the key: the last row's is where the next batch starts
        ]
        joined = J.__table__.outerjoin(LATEST, LATEST.appointment_id == _latest_appointment_id())
        if crew is not None:
            joined = joined.outerjoin(crew, true())
        conditions, values = JobListing(self.session).filters(seller_id, query)
        return (
            select(*columns)
            .select_from(joined)
            .where(*conditions)
            .order_by(J.created_at, J.service_job_id)
            .params(values)
        )

    def batch(
        self, seller_id: str, query: JobQuery, *, after: ReportKey | None, size: int
    ) -> tuple[list[JobReportRow], ReportKey | None]:
        """The next ``size`` rows after the key ``after`` (None: from the first), and the key to
        continue after them (None when this was the last batch)."""
        stmt = self.statement(seller_id, query)
        if after is not None:
            stmt = stmt.where(tuple_(J.created_at, J.service_job_id) > tuple_(*after))
        found = self.session.execute(stmt.limit(size)).all()
        rows = [JobReportRow._make(r[:-1]) for r in found]
        if len(found) < size:
            return rows, None
        return rows, (found[-1][-1], found[-1][0])
