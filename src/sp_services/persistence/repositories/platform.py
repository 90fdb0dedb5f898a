"""Sellers, applications, authorizations and tokens (the SP-API platform)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from sp_services.domain.catalog import Principal, Seller
from sp_services.persistence import tables as t

from .base import Repository


class PlatformRepository(Repository):
    # sellers
    def get_seller(self, seller_id: str) -> Seller | None:
        row = self.session.get(t.Seller, seller_id)
        return None if row is None else Seller(row.seller_id, row.name, tuple(row.marketplace_ids))

    def add_seller(self, seller: Seller, *, now: datetime) -> None:
        self.session.add(
            t.Seller(
                seller_id=seller.seller_id,
                name=seller.name,
                marketplace_ids=list(seller.marketplace_ids),
                created_at=now,
            )
        )
        self.session.flush()

    # applications
    def application_exists(self, client_id: str) -> bool:
        return self.session.get(t.Application, client_id) is not None

    def add_application(self, *, client_id: str, name: str, secret_hash: str, roles: list[str], now: datetime) -> None:
        self.session.add(
            t.Application(client_id=client_id, name=name, secret_hash=secret_hash, roles=roles, created_at=now)
        )
        self.session.flush()

    def application_secret_hash(self, client_id: str) -> str | None:
        row = self.session.get(t.Application, client_id)
        return None if row is None else row.secret_hash

    # authorizations and tokens
    def add_authorization(self, *, seller_id: str, client_id: str, refresh_token_hash: str, now: datetime) -> int:
        row = t.Authorization(
            seller_id=seller_id, client_id=client_id, refresh_token_hash=refresh_token_hash, created_at=now
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def authorization_for_refresh_token(self, refresh_token_hash: str) -> tuple[int, str] | None:
        """(authorization id, client id) of a live authorization with this refresh token."""
        row = self.session.scalar(
            select(t.Authorization).where(
                t.Authorization.refresh_token_hash == refresh_token_hash, t.Authorization.revoked_at.is_(None)
            )
        )
        return None if row is None else (row.id, row.client_id)

    def add_access_token(self, *, token_hash: str, authorization_id: int, expires_at: datetime, now: datetime) -> None:
        # Expired tokens are swept here, on the write path that makes new ones.
        self.session.execute(delete(t.AccessToken).where(t.AccessToken.expires_at < now))
        self.session.add(t.AccessToken(token_hash=token_hash, authorization_id=authorization_id, expires_at=expires_at))
        self.session.flush()

    def principal_for_access_token(self, token_hash: str, *, now: datetime) -> tuple[Principal, datetime] | None:
        """The caller behind a live access token and when the token expires, or None when it is
        unknown, expired or revoked."""
        row = self.session.execute(
            select(t.Authorization.seller_id, t.Authorization.client_id, t.Application.roles, t.AccessToken.expires_at)
            .join(t.AccessToken, t.AccessToken.authorization_id == t.Authorization.id)
            .join(t.Application, t.Application.client_id == t.Authorization.client_id)
            .where(
                t.AccessToken.token_hash == token_hash,
                t.AccessToken.expires_at > now,
                t.Authorization.revoked_at.is_(None),
            )
        ).first()
        return None if row is None else (Principal(row[0], row[1], tuple(row[2])), row[3])

    def ping(self) -> None:
        """A round trip to the database (readiness)."""
        self.session.execute(select(1)).scalar()

    # small server-side state (the demo data's printed credentials)
    def get_value(self, key: str) -> str | None:
        row = self.session.get(t.KeyValue, key)
        return None if row is None else row.value

    def put_value(self, key: str, value: str) -> None:
        self.session.merge(t.KeyValue(key=key, value=value))
        self.session.flush()

    def has_sellers(self) -> bool:
        return self.session.scalar(select(t.Seller.seller_id).limit(1)) is not None
