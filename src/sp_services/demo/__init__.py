"""Demo data: two sellers with stores, technicians, offerings and jobs in every status.

The main seller's demo store (``store_id``) and ASIN (``asin``) have jobs waiting to be scheduled
and open slots in the default booking horizon; jobs whose appointment is over, ready to be
closed (some with fulfillment data recorded); appointments on past and coming days, some with
technicians; and technicians (``technician_ids``) qualified for that ASIN in that store. The
others are listed in ``unqualified_technicians`` with the RESOURCES_* failures they would cause.

Everything is made through the services, with the clock at the moment it happened: the accounts
and schedules first (``world.py``), then each job's life (``history.py``), from the data in
``fixtures.py``. Bookings go through the slot check, so no store or technician is booked past
its capacity.

Idempotent: the first run creates everything and keeps the printed credentials in the database
(they are demo credentials, meant to be shown); later runs print the same object again.

Simulated history (``sp-services simulate``, ``simulation.py``) goes into branch stores of the main
seller of its own (``branches.py``), so nothing here changes: the same credentials read both.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from sp_services.domain.accounts import Role
from sp_services.domain.marketplaces import US
from sp_services.persistence.db import Database
from sp_services.persistence.repositories.platform import PlatformRepository
from sp_services.services import accounts
from sp_services.services.documents import DocumentStore

from .fixtures import MAIN, NO_ROLE_APP, OPENED_DAYS_AGO, OTHER, SEED, DemoSeller
from .history import NO_DOCUMENTS, SellerHistory
from .world import SellerWorld, open_account, open_app, publish_capacity, qualification

__all__ = ["demo_or_empty", "load_demo"]

DEMO_KEY = "demo"
DASHBOARD_EMAIL = "dispatcher@demo.example"


def demo_or_empty(db: Database) -> bool:
    """True when the database holds the demo data or no sellers at all."""
    with db.transaction(write=False) as session:
        repo = PlatformRepository(session)
        return repo.get_value(DEMO_KEY) is not None or not repo.has_sellers()


def load_demo(
    db: Database, *, operator_key: str, now: datetime | None = None, document_store: DocumentStore | None = None
) -> dict[str, Any]:
    """Create the demo world once; return its credentials and ids (the same on every call).

    ``document_store`` is the server's (the demo attaches no documents, so by default none is used)."""
    now = now or datetime.now(UTC)
    with db.transaction() as session:
        repo = PlatformRepository(session)
        stored = repo.get_value(DEMO_KEY)
        if stored is None:
            info = _create(session, present=now, document_store=document_store or NO_DOCUMENTS)
            repo.put_value(DEMO_KEY, json.dumps(info))
        else:
            info = json.loads(stored)
        if "dashboard_email" not in info:  # also for a demo loaded before the dashboard existed
            info |= _dashboard_login(session, seller_id=info["seller_id"], now=now)
            repo.put_value(DEMO_KEY, json.dumps(info))
    db.analyze()
    return {**info, "operator_key": operator_key}


def _dashboard_login(session: Session, *, seller_id: str, now: datetime) -> dict[str, str]:
    """A dispatcher of the main seller, with a generated password (demo credentials, meant to be shown)."""
    created = accounts.create_user(
        session, seller_id=seller_id, email=DASHBOARD_EMAIL, role=Role.DISPATCHER, password=None, now=now
    )
    assert created.password is not None
    return {"dashboard_email": created.user.email, "dashboard_password": created.password}


@dataclass(frozen=True)
class _Made:
    world: SellerWorld
    job_ids: dict[str, list[str]]


def _seller(
    session: Session, seller: DemoSeller, *, rng: random.Random, present: datetime, document_store: DocumentStore
) -> _Made:
    """One seller: its account and schedules when it opened, then its jobs' history up to ``present``."""
    opened = present - timedelta(days=OPENED_DAYS_AGO)
    world = open_account(session, seller, rng=rng, now=opened)
    publish_capacity(session, seller, world, present=present, now=opened)
    history = SellerHistory(session, seller, world, rng=rng, present=present, document_store=document_store)
    return _Made(world, history.make())


def _create(session: Session, *, present: datetime, document_store: DocumentStore) -> dict[str, Any]:
    rng = random.Random(SEED)
    main = _seller(session, MAIN, rng=rng, present=present, document_store=document_store)
    other = _seller(session, OTHER, rng=rng, present=present, document_store=document_store)
    no_role = open_app(session, NO_ROLE_APP, seller_id=MAIN.seller_id, now=present - timedelta(days=OPENED_DAYS_AGO))
    store, offering = main.world.stores[0], main.world.offerings[0]
    qualified, unqualified = qualification(main.world, offering, store.store_id)
    return {
        **asdict(main.world.credentials),
        "seller_id": main.world.seller_id,
        "marketplace_id": US,
        "store_id": store.store_id,
        "store_ids": [s.store_id for s in main.world.stores],
        "asin": offering.asin,
        # Qualified for ``asin`` in ``store_id``; the seller's other technicians and why not.
        "technician_ids": qualified,
        "unqualified_technicians": unqualified,
        "job_ids": main.job_ids,
        "other_seller": {
            **asdict(other.world.credentials),
            "seller_id": other.world.seller_id,
            "job_ids": other.job_ids,
        },
        "no_role_app": asdict(no_role),
    }
