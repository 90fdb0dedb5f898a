"""What a demo buyer's order looks like: the buyer, the address, the product the service goes
with, and the payment (made up with a seeded ``random.Random``, so every fresh load is alike)."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from sp_services.domain.enums import ServiceLocationType
from sp_services.domain.jobs import payment
from sp_services.domain.marketplaces import US
from sp_services.services import operator as op

from .fixtures import FIRST_NAMES, LAST_NAMES, STREETS, DemoOffering, DemoSeller, DemoStore


def _buyer(rng: random.Random, n: int) -> dict[str, Any]:
    return {
        "buyerId": f"B{n:011d}",
        "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        "phone": f"+1206555{rng.randint(1000, 9999)}",
        "isPrimeMember": rng.random() < 0.6,
    }


def _location(rng: random.Random, store: DemoStore, postal: str, name: str) -> dict[str, Any]:
    return {
        "serviceLocationType": ServiceLocationType.IN_HOME.value,
        "address": {
            "name": name,
            "addressLine1": f"{rng.randint(10, 9999)} {rng.choice(STREETS)}",
            "city": store.city,
            "stateOrRegion": store.state,
            "postalCode": postal,
            "countryCode": "US",
        },
    }


def _job(n: int, prefix: int, offering: DemoOffering, preferred: tuple[tuple[datetime, int], ...]) -> op.NewJob:
    product_order_id = f"{prefix + 1:03d}-{2000000 + n:07d}-0000001"
    item = {
        "asin": f"B0ITEM{n % 1000:04d}",
        "title": f"{offering.title} (product)",
        "quantity": 1,
        "orderId": product_order_id,
        "itemStatus": "DELIVERED",
        "brandName": "Acme",
    }
    return op.NewJob(
        asin=offering.asin,
        quantity=1,
        preferred_appointment_times=preferred,
        associated_items=(item,),
        payments=(payment(offering.price, "USD", "CREDIT_CARD"),),
        product_order_ids=(product_order_id,),
        tracking_ids=(f"TBA{prefix}{n:06d}",),
    )


def new_order(
    rng: random.Random,
    *,
    n: int,
    seller: DemoSeller,
    store: DemoStore,
    offering: DemoOffering,
    preferred: tuple[tuple[datetime, int], ...] = (),
) -> op.NewOrder:
    """The seller's ``n``-th demo order: one job of ``offering`` at a buyer's home near ``store``,
    with the buyer's ``preferred`` appointment times (start, minutes)."""
    prefix = seller.order_prefix
    buyer = _buyer(rng, prefix * 1000 + n)
    order_id = f"{prefix:03d}-{1000000 + n:07d}-{rng.randint(1000000, 9999999):07d}"
    return op.NewOrder(
        seller_id=seller.seller_id,
        marketplace_id=US,
        store_id=store.store_id,
        service_order_id=order_id,
        buyer=buyer,
        service_location=_location(rng, store, f"{98100 + n % 90}", buyer["name"]),
        jobs=(_job(n, prefix, offering, preferred),),
    )
