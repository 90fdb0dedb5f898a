"""Schedules, reservations and the appointments that encumber resources, read in batches."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, and_, case, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from sp_services.domain.enums import AppointmentStatus
from sp_services.domain.recurrence import Availability, Recurrence, to_minute
from sp_services.domain.resources import Reservation, ReservationType, Resource, ResourceKind
from sp_services.persistence import tables as t
from sp_services.persistence.sql import epoch_minute

from .base import Repository

# No appointment or occurrence lasts longer than this; it bounds look-behind when windowing.
MAX_SPAN = timedelta(days=2)


def _recurrence(end: datetime | None, dow: list[int], dom: list[int]) -> Recurrence | None:
    return None if end is None else Recurrence(end, frozenset(dow), frozenset(dom))


def _availability_columns(a: Availability) -> dict[str, object]:
    r = a.recurrence
    return {
        "start_time": a.start,
        "end_time": a.end,
        "capacity": a.capacity,
        "recurrence_end": r.end if r else None,
        "days_of_week": sorted(r.days_of_week) if r else [],
        "days_of_month": sorted(r.days_of_month) if r else [],
    }


def _reservation(row: t.Reservation) -> Reservation:
    return Reservation(
        reservation_id=row.reservation_id,
        resource_id=row.resource_id,
        seller_id=row.seller_id,
        type=ReservationType(row.type),
        availability=Availability(
            row.start_time,
            row.end_time,
            row.capacity,
            _recurrence(row.recurrence_end, row.days_of_week, row.days_of_month),
        ),
    )


def capacity_changed(session: Session, store_id: Any) -> None:
    """Grow the store's capacity revision (``store_id`` a value or a scalar subquery; not a store: no-op).

    Every write that changes what a store's capacity reads (its schedule, its reservations, the
    ACTIVE appointments of its jobs) calls this, so computed slots kept for a revision stay true."""
    S = t.Store
    session.execute(update(S).where(S.store_id == store_id).values(capacity_revision=S.capacity_revision + 1))


class CapacityRepository(Repository):
    # ---- resources ----------------------------------------------------------------------------
    def resource(self, resource_id: str, *, for_update: bool = False) -> Resource | None:
        """The store or technician with this id. ``for_update`` locks its row until commit, which
        serialises every capacity-changing request on that resource (PostgreSQL; SQLite writers are
        serialised by BEGIN IMMEDIATE)."""
        store_stmt = select(t.Store).where(t.Store.store_id == resource_id)
        store = self.session.scalar(store_stmt.with_for_update() if for_update else store_stmt)
        if store is not None:
            return Resource(
                store.store_id, store.seller_id, ResourceKind.STORE, store.timezone, (store.marketplace_id,)
            )
        tech_stmt = select(t.Technician).where(t.Technician.technician_id == resource_id)
        tech = self.session.scalar(tech_stmt.with_for_update() if for_update else tech_stmt)
        if tech is None:
            return None
        stores = (
            self.session.scalars(select(t.Store).where(t.Store.store_id.in_(tech.store_ids))).all()
            if tech.store_ids
            else []
        )
        timezone = stores[0].timezone if stores else "UTC"
        markets = tuple(dict.fromkeys(s.marketplace_id for s in stores))
        return Resource(tech.technician_id, tech.seller_id, ResourceKind.TECHNICIAN, timezone, markets)

    # ---- schedules ----------------------------------------------------------------------------
    def replace_schedule(
        self, resource_id: str, seller_id: str, records: Sequence[Availability], *, now: datetime
    ) -> None:
        self.session.execute(delete(t.ScheduleRecord).where(t.ScheduleRecord.resource_id == resource_id))
        capacity_changed(self.session, resource_id)
        self.session.add_all(
            t.ScheduleRecord(
                resource_id=resource_id, seller_id=seller_id, position=i, created_at=now, **_availability_columns(a)
            )
            for i, a in enumerate(records)
        )
        self.session.flush()

    def schedules(self, resource_ids: Sequence[str]) -> dict[str, list[Availability]]:
        """Every resource's schedule records in their override order (one query for all)."""
        result: dict[str, list[Availability]] = defaultdict(list)
        S = t.ScheduleRecord
        rows = self.session.execute(
            select(
                S.resource_id, S.start_time, S.end_time, S.capacity, S.recurrence_end, S.days_of_week, S.days_of_month
            )
            .where(S.resource_id.in_(resource_ids))
            .order_by(S.resource_id, S.position)
        )
        for resource_id, begin, finish, capacity, rec_end, dow, dom in rows:
            result[resource_id].append(Availability(begin, finish, capacity, _recurrence(rec_end, dow, dom)))
        return result

    # ---- reservations -------------------------------------------------------------------------
    def add_reservation(self, reservation: Reservation, *, now: datetime) -> None:
        capacity_changed(self.session, reservation.resource_id)
        self.session.add(
            t.Reservation(
                reservation_id=reservation.reservation_id,
                resource_id=reservation.resource_id,
                seller_id=reservation.seller_id,
                type=reservation.type.value,
                created_at=now,
                **_availability_columns(reservation.availability),
            )
        )
        self.session.flush()

    def get_reservation(self, reservation_id: str) -> Reservation | None:
        row = self.session.get(t.Reservation, reservation_id)
        return None if row is None else _reservation(row)

    def delete_reservation(self, reservation_id: str) -> None:
        R = t.Reservation
        owner = select(R.resource_id).where(R.reservation_id == reservation_id).scalar_subquery()
        self.session.execute(
            update(t.Store).where(t.Store.store_id == owner).values(capacity_revision=t.Store.capacity_revision + 1)
        )
        self.session.execute(delete(R).where(R.reservation_id == reservation_id))

    def reserved(
        self, resource_ids: Sequence[str], window: tuple[datetime, datetime]
    ) -> dict[str, tuple[list[tuple[int, int, int]], list[Availability]]]:
        """Reservations that can touch the window, per resource (one query for all): one-off ones as
        ``(start, end, capacity)`` minute intervals, recurring ones as records still to expand.

        The hot read of every slot and capacity query, so it asks only for what capacity needs and
        decodes the day lists only of recurring rows.
        """
        start, end = window
        R = t.Reservation
        one_off = R.recurrence_end.is_(None)
        rows = self.session.execute(
            select(
                R.resource_id,
                epoch_minute(R.start_time),
                epoch_minute(R.end_time),
                R.capacity,
                # Only recurring rows need their instants and day lists as values.
                case((one_off, None), else_=R.start_time),
                case((one_off, None), else_=R.end_time),
                R.recurrence_end,
                cast(R.days_of_week, Text),
                cast(R.days_of_month, Text),
            ).where(
                R.resource_id.in_(resource_ids),
                R.start_time < end,
                or_(R.end_time > start, and_(R.recurrence_end.is_not(None), R.recurrence_end >= start - MAX_SPAN)),
            )
        )
        result: dict[str, tuple[list[tuple[int, int, int]], list[Availability]]] = {}
        for resource_id, first, last, capacity, begin, finish, rec_end, dow, dom in rows:
            intervals, recurring = result.setdefault(resource_id, ([], []))
            if rec_end is None:
                intervals.append((first, last, capacity))
            else:
                recurring.append(
                    Availability(begin, finish, capacity, _recurrence(rec_end, json.loads(dow), json.loads(dom)))
                )
        return result

    # ---- encumbrance --------------------------------------------------------------------------
    def encumbrances(
        self,
        stores: Sequence[str],
        technicians: Sequence[str],
        window: tuple[datetime, datetime],
        *,
        except_appointment: str | None = None,
    ) -> dict[str, list[tuple[int, int, int]]]:
        """ACTIVE appointments as (start, end, 1) minute intervals: on their job's store resource,
        and on each assigned technician resource (at most two queries for any number of resources).
        ``except_appointment`` is left out (a job's own booking, when it looks for another slot)."""
        start, end = window
        A, J, AT = t.AppointmentRow, t.ServiceJob, t.AppointmentTechnician
        live = [A.status == AppointmentStatus.ACTIVE.value, A.start_time < end, A.start_time > start - MAX_SPAN]
        if except_appointment is not None:
            live.append(A.appointment_id != except_appointment)
        result: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
        if stores:
            for store_id, m, minutes in self.session.execute(
                select(J.store_id, epoch_minute(A.start_time), A.duration_minutes)
                .join(J, J.service_job_id == A.service_job_id)
                .where(J.store_id.in_(stores), *live)
            ):
                result[store_id].append((m, m + minutes, 1))
        if technicians:
            for tech_id, m, minutes in self.session.execute(
                select(AT.technician_id, epoch_minute(A.start_time), A.duration_minutes)
                .join(A, A.appointment_id == AT.appointment_id)
                .where(AT.technician_id.in_(technicians), *live)
            ):
                result[tech_id].append((m, m + minutes, 1))
        return result

    def active_appointments(self, resource: Resource, *, since: datetime) -> list[tuple[str, int, int]]:
        """(appointment id, start minute, end minute) of the ACTIVE appointments on ``resource``
        (its store's, or those it is assigned to) that end after ``since``."""
        A, J, AT = t.AppointmentRow, t.ServiceJob, t.AppointmentTechnician
        stmt = select(A.appointment_id, epoch_minute(A.start_time), A.duration_minutes).where(
            A.status == AppointmentStatus.ACTIVE.value, A.start_time > since - MAX_SPAN
        )
        if resource.kind is ResourceKind.STORE:
            stmt = stmt.join(J, J.service_job_id == A.service_job_id).where(J.store_id == resource.resource_id)
        else:
            stmt = stmt.join(AT, AT.appointment_id == A.appointment_id).where(AT.technician_id == resource.resource_id)
        rows = self.session.execute(stmt.order_by(A.start_time, A.appointment_id))
        return [(a, m, m + d) for a, m, d in rows if m + d > to_minute(since)]
