"""Post-fulfillment analytics as SQL aggregates (docs/design.md §6): the metrics that
domain/analytics.py defines, grouped by the database (SQLite and PostgreSQL) and held to those
definitions by tests/persistence/test_analytics_sql.py.

The statements (analytics_queries.py) return integer tallies per subject and period; the metrics
are finished from them by the oracle's own arithmetic (domain/analytics_metrics.py), over grouped
rows only. Technicians: 2 statements; stores: 4; payments: 2.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import Select

from sp_services.domain.analytics_metrics import (
    CancelTally,
    PaymentMetrics,
    Picks,
    ServiceMetrics,
    ServiceTally,
    Slice,
    StoreMetrics,
    StoreTally,
    TechnicianShare,
    Tolerances,
    dense,
    labels,
    money,
    service_metrics,
    store_metrics,
    to_money,
)

from . import analytics_queries as q
from .analytics_sql import LocalDays, plain_plans
from .base import Repository

Key = tuple[str, str | None]  # (technician or store, period label)
Money = tuple[str | None, str]  # (period label, currency)


class AnalyticsRepository(Repository):
    def technician_report(
        self, sl: Slice, *, seller_id: str, now: datetime, tolerances: Tolerances
    ) -> dict[Key, ServiceMetrics]:
        """Per technician of the slice and period, every one: domain.analytics.technician_report."""
        days = LocalDays(sl)
        plain_plans(self.session)
        tallies, credited = q.technician_statements(days, seller_id=seller_id, now=now, tolerances=tolerances)
        service = self._service(days, tallies)
        completed: dict[Key, tuple[int, int]] = {}
        revenue: dict[Key, dict[str, Fraction]] = defaultdict(lambda: defaultdict(Fraction))
        for part, key, period, currency, crew, a, b in self.session.execute(credited):
            if part == "jobs":
                completed[key, days.label(period)] = (int(a), int(b))
            else:  # "paid": a share of each job's payments per technician
                revenue[key, days.label(period)][currency] += Fraction(int(a), int(crew))
        found = {}
        for key in set(service) | set(completed) | set(revenue):
            n, first = completed.get(key, (0, 0))
            tally = service[key][0] if key in service else ServiceTally()
            found[key] = service_metrics(
                replace(tally, completed=n, first_visits=first, revenue=money(revenue.get(key, {})))
            )
        return dense([(k, p) for k in sl.technician_ids for p in labels(sl)], found, service_metrics(ServiceTally()))

    def store_report(
        self, sl: Slice, *, seller_id: str, now: datetime, tolerances: Tolerances
    ) -> dict[Key, StoreMetrics]:
        """Per store of the slice and period, every one: domain.analytics.store_report."""
        days = LocalDays(sl)
        plain_plans(self.session)
        tallies, events_of, payments, bookings = q.store_statements(
            days, seller_id=seller_id, now=now, tolerances=tolerances
        )
        service = self._service(days, tallies)
        events = self._job_events(days, events_of)
        revenue: dict[Key, dict[str, int]] = defaultdict(dict)
        for store, kind, period, currency, amount, _jobs in self.session.execute(payments):
            if kind == q.COMPLETED:
                revenue[store, days.label(period)][currency] = int(amount)
        waits = {
            (store, days.label(period)): (int(n), int(total))
            for store, period, n, total in self.session.execute(bookings)
        }
        found = {}
        for key in set(service) | set(events) | set(revenue) | set(waits):
            tally, appointments, lead = service.get(key, (ServiceTally(), 0, 0))
            created, completed, first, codes = events.get(key, (0, 0, 0, {}))
            scheduled, wait = waits.get(key, (0, 0))
            found[key] = store_metrics(
                StoreTally(
                    service=replace(
                        tally, completed=completed, first_visits=first, revenue=money(revenue.get(key, {}))
                    ),
                    appointments=appointments,
                    lead_s=lead,
                    scheduled_jobs=scheduled,
                    schedule_s=wait,
                    created=created,
                    cancelled=CancelTally(tuple(sorted(codes.items()))),
                )
            )
        return dense([(s, p) for s in sl.store_ids for p in labels(sl)], found, store_metrics(StoreTally()))

    def payment_metrics(self, sl: Slice, *, currencies: Sequence[str] = ()) -> dict[Money, PaymentMetrics]:
        """Per period and currency (the currencies seen and ``currencies``, every period):
        domain.analytics.payment_metrics."""
        days = LocalDays(sl)
        plain_plans(self.session)
        by_kind, by_technician = q.payment_statements(days)
        gross: dict[Money, tuple[int, int]] = {}
        lost: dict[Money, int] = {}
        for kind, period, currency, amount, jobs in self.session.execute(by_kind):
            if kind == q.COMPLETED:
                gross[days.label(period), currency] = (int(amount), int(jobs))
            else:
                lost[days.label(period), currency] = int(amount)
        shares: dict[Money, dict[str, tuple[Fraction, int]]] = defaultdict(dict)
        for tech, period, currency, crew, amount, jobs in self.session.execute(by_technician):
            share, n = shares[days.label(period), currency].get(tech, (Fraction(), 0))
            shares[days.label(period), currency][tech] = (share + Fraction(int(amount), int(crew)), n + int(jobs))
        seen = sorted({c for _, c in (*gross, *lost)} | set(currencies))
        keys = [(label, currency) for label in labels(sl) for currency in seen]
        return {
            key: PaymentMetrics(
                currency=key[1],
                gross=to_money(gross.get(key, (0, 0))[0]),
                cancelled_value=to_money(lost.get(key, 0)),
                jobs_paid=gross.get(key, (0, 0))[1],
                technicians=tuple(
                    TechnicianShare(tech, to_money(share), n) for tech, (share, n) in sorted(shares[key].items())
                )
                if key in shares
                else (),
            )
            for key in keys
        }

    def _service(self, days: LocalDays, statement: Select[Any]) -> dict[Key, tuple[ServiceTally, int, int]]:
        """Per (key, period): the service tally, the appointments counted and their lead seconds."""
        out: dict[Key, tuple[ServiceTally, int, int]] = {}
        for key, period, *v in self.session.execute(statement):
            served, early, late, within, worked, planned, absent, buyer, breaks = (int(x) for x in v[:9])
            tally = ServiceTally(
                served=served,
                early=early,
                late=late,
                within=within,
                worked_s=worked,
                planned_s=planned,
                technician_no_shows=absent,
                buyer_no_shows=buyer,
                breaks=breaks,
                median=None if v[9] is None else Picks(int(v[9]), int(v[10])),
                p90=None if v[11] is None else Picks(int(v[11]), int(v[12])),
            )
            out[key, days.label(period)] = (tally, int(v[13]), int(v[14]))
        return out

    def _job_events(self, days: LocalDays, statement: Select[Any]) -> dict[Key, tuple[int, int, int, dict[str, int]]]:
        """Per (store, period): jobs created, completed, first-visit completed, cancelled by code."""
        counts: dict[Key, list[Any]] = defaultdict(lambda: [0, 0, 0, {}])
        for store, period, kind, code, n, first in self.session.execute(statement):
            row = counts[store, days.label(period)]
            if kind == q.CREATED:
                row[0] += int(n)
            elif kind == q.COMPLETED:
                row[1], row[2] = row[1] + int(n), row[2] + int(first)
            else:
                row[3][code or ""] = row[3].get(code or "", 0) + int(n)
        return {key: (row[0], row[1], row[2], row[3]) for key, row in counts.items()}
