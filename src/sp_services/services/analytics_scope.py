"""The stores and technicians an analytics or report request may read: the caller's own, with
the same answers as the rest of the API for ids that are unknown (400 naming them) or another
seller's (403, revealing nothing about them)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from sp_services.domain.analytics_query import AnalyticsQuery
from sp_services.domain.catalog import Store, Technician
from sp_services.domain.errors import InvalidInput, NotAuthorized
from sp_services.persistence.repositories.catalog import CatalogRepository


@dataclass(frozen=True)
class Scope:
    """The stores (in the query's marketplace) and technicians a query covers."""

    stores: tuple[Store, ...]
    technicians: tuple[Technician, ...]

    @property
    def store_ids(self) -> tuple[str, ...]:
        return tuple(s.store_id for s in self.stores)

    @property
    def technician_ids(self) -> tuple[str, ...]:
        return tuple(t.technician_id for t in self.technicians)


def resolve_scope(session: Session, query: AnalyticsQuery) -> Scope:
    """The query's stores and technicians, checked: unknown → 400, another seller's → 403."""
    catalog = CatalogRepository(session)
    if query.store_ids:
        found = catalog.stores(query.store_ids)
        _check(query.store_ids, found, query.seller_id, "storeIds")
        elsewhere = [s for s in query.store_ids if found[s].marketplace_id != query.marketplace_id]
        if elsewhere:
            raise InvalidInput.params(
                ["storeIds"], f"storeIds: not in marketplace {query.marketplace_id}: {', '.join(elsewhere)}"
            )
        stores = tuple(found[s] for s in query.store_ids)
    else:
        stores = tuple(catalog.stores_of(query.seller_id, query.marketplace_id))
    if query.technician_ids:
        known = catalog.technicians(query.technician_ids)
        _check(query.technician_ids, known, query.seller_id, "technicianIds")
        technicians = tuple(known[t] for t in query.technician_ids)
    else:
        technicians = tuple(catalog.technicians_of(query.seller_id))
    return Scope(stores, technicians)


def _check(wanted: tuple[str, ...], found: dict[str, Store] | dict[str, Technician], seller_id: str, name: str) -> None:
    unknown = [i for i in wanted if i not in found]
    if unknown:
        raise InvalidInput.params([name], f"{name}: unknown {', '.join(unknown)}")
    if any(found[i].seller_id != seller_id for i in wanted):
        raise NotAuthorized.action()
