"""Marketplaces: id -> country label, currency and minimum schedule slot.

Source: Amazon's SP-API marketplace-id list. The country label is the one the use-case
guide's reason-code tables use (``UK`` rather than ``GB``). Minimum slot: use-case guide
("five minutes for US marketplaces and 30 mins for UK and DE"), 30 elsewhere (docs/design.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Marketplace:
    marketplace_id: str
    country: str
    currency: str
    default_timezone: str
    min_slot_minutes: int = 30


_ALL = (
    Marketplace("ATVPDKIKX0DER", "US", "USD", "America/New_York", 5),
    Marketplace("A2EUQ1WTGCTBG2", "CA", "CAD", "America/Toronto"),
    Marketplace("A1AM78C64UM0Y8", "MX", "MXN", "America/Mexico_City"),
    Marketplace("A2Q3Y263D00KWC", "BR", "BRL", "America/Sao_Paulo"),
    Marketplace("A1RKKUPIHCS9HS", "ES", "EUR", "Europe/Madrid"),
    Marketplace("A1F83G8C2ARO7P", "UK", "GBP", "Europe/London"),
    Marketplace("AMEN7PMS3EDWL", "BE", "EUR", "Europe/Brussels"),
    Marketplace("A13V1IB3VIYZZH", "FR", "EUR", "Europe/Paris"),
    Marketplace("A1805IZSGTT6HS", "NL", "EUR", "Europe/Amsterdam"),
    Marketplace("A1PA6795UKMFR9", "DE", "EUR", "Europe/Berlin"),
    Marketplace("APJ6JRA9NG5V4", "IT", "EUR", "Europe/Rome"),
    Marketplace("A2NODRKZP88ZB9", "SE", "SEK", "Europe/Stockholm"),
    Marketplace("A1C3SOZRARQ6R3", "PL", "PLN", "Europe/Warsaw"),
    Marketplace("A33AVAJ2PDY3EV", "TR", "TRY", "Europe/Istanbul"),
    Marketplace("A2VIGQ35RCS4UG", "AE", "AED", "Asia/Dubai"),
    Marketplace("A21TJRUUN4KGV", "IN", "INR", "Asia/Kolkata"),
    Marketplace("A28R8C7NBKEWEA", "IE", "EUR", "Europe/Dublin"),
    Marketplace("A19VAU5U5O7RUS", "SG", "SGD", "Asia/Singapore"),
    Marketplace("A39IBJ37TRP1C6", "AU", "AUD", "Australia/Sydney"),
    Marketplace("A1VC38T7YXB528", "JP", "JPY", "Asia/Tokyo"),
)

MARKETPLACES: dict[str, Marketplace] = {m.marketplace_id: m for m in _ALL}

US = "ATVPDKIKX0DER"
UK = "A1F83G8C2ARO7P"
DE = "A1PA6795UKMFR9"
IN = "A21TJRUUN4KGV"


def marketplace(marketplace_id: str) -> Marketplace | None:
    """The marketplace with this id, or None when we do not know it."""
    return MARKETPLACES.get(marketplace_id)
