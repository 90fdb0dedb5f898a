"""Post-fulfillment analytics (docs/design.md §6): technician and store performance and payments,
per store-local day, ISO week, month or the whole range, for the caller's stores and technicians.

Each use case checks the scope (services/analytics_scope.py), asks the repository for the
metrics (SQL aggregates held to domain/analytics.py), and returns one row per subject and
period, every period included: a subject with nothing in a period has counts 0 and rates null.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from sp_services.domain.analytics_metrics import (
    DEFAULT_TOLERANCES,
    PaymentMetrics,
    Period,
    ServiceMetrics,
    Slice,
    StoreMetrics,
    Tolerances,
    period_spans,
)
from sp_services.domain.analytics_query import AnalyticsQuery
from sp_services.domain.marketplaces import marketplace
from sp_services.persistence.repositories.analytics import AnalyticsRepository
from sp_services.services.analytics_scope import Scope, resolve_scope

R = TypeVar("R")


@dataclass(frozen=True)
class TechnicianRow:
    technician_id: str
    name: str
    period: Period
    metrics: ServiceMetrics


@dataclass(frozen=True)
class StoreRow:
    store_id: str
    name: str
    period: Period
    metrics: StoreMetrics


@dataclass(frozen=True)
class PaymentRow:
    period: Period
    metrics: PaymentMetrics


@dataclass(frozen=True)
class Report(Generic[R]):
    """The query as answered (its range and grouping) and its rows."""

    query: AnalyticsQuery
    rows: tuple[R, ...]


def _slice(query: AnalyticsQuery, scope: Scope) -> Slice:
    zones = tuple((s.store_id, s.timezone) for s in scope.stores)
    return Slice(query.start, query.end, query.group_by, zones, scope.technician_ids)


def _periods(query: AnalyticsQuery) -> dict[str | None, Period]:
    return {p.label: p for p in period_spans(query.start, query.end, query.group_by)}


def technician_performance(
    session: Session, *, query: AnalyticsQuery, now: datetime, tolerances: Tolerances = DEFAULT_TOLERANCES
) -> Report[TechnicianRow]:
    """getTechnicianPerformance: per technician (the query's, else all the seller's) and period."""
    scope = resolve_scope(session, query)
    metrics = AnalyticsRepository(session).technician_report(
        _slice(query, scope), seller_id=query.seller_id, now=now, tolerances=tolerances
    )
    names, spans = {t.technician_id: t.name for t in scope.technicians}, _periods(query)
    rows = tuple(TechnicianRow(tech, names[tech], spans[label], m) for (tech, label), m in metrics.items())
    return Report(query, rows)


def store_performance(
    session: Session, *, query: AnalyticsQuery, now: datetime, tolerances: Tolerances = DEFAULT_TOLERANCES
) -> Report[StoreRow]:
    """getStorePerformance: per store (the query's, else all the seller's in the marketplace) and
    period. ``technicianIds`` is checked but does not narrow a store's figures."""
    scope = resolve_scope(session, query)
    metrics = AnalyticsRepository(session).store_report(
        _slice(query, scope), seller_id=query.seller_id, now=now, tolerances=tolerances
    )
    names, spans = {s.store_id: s.name for s in scope.stores}, _periods(query)
    rows = tuple(StoreRow(store, names[store], spans[label], m) for (store, label), m in metrics.items())
    return Report(query, rows)


def payment_analytics(session: Session, *, query: AnalyticsQuery, now: datetime) -> Report[PaymentRow]:
    """getPaymentAnalytics: per period and currency (the marketplace's always, others as paid)."""
    scope = resolve_scope(session, query)
    market = marketplace(query.marketplace_id)
    currencies = (market.currency,) if market else ()
    metrics = AnalyticsRepository(session).payment_metrics(_slice(query, scope), currencies=currencies)
    spans = _periods(query)
    return Report(query, tuple(PaymentRow(spans[label], m) for (label, _), m in metrics.items()))
