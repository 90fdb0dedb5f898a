"""LWA token exchange and access-token checks (docs/design.md §1)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sp_services.domain import ids
from sp_services.domain.catalog import Principal
from sp_services.persistence.repositories.platform import PlatformRepository


def token_hash(secret: str) -> str:
    """Stored form of a client secret or token. They are long random strings, so a plain SHA-256
    suffices (no dictionary to attack); a password-style slow hash would only slow every request."""
    return hashlib.sha256(secret.encode()).hexdigest()


class LwaError(Exception):
    """An LWA error: ``{"error": code, "error_description": description}`` with its HTTP status."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    refresh_token: str
    expires_in: int


def exchange_refresh_token(
    session: Session,
    *,
    client_id: str | None,
    client_secret: str | None,
    refresh_token: str | None,
    ttl_seconds: int,
    now: datetime,
) -> IssuedToken:
    """``grant_type=refresh_token``: check the client and the grant, mint a 1-hour access token."""
    repo = PlatformRepository(session)
    if not client_id or not client_secret:
        raise LwaError(400, "invalid_request", "The request is missing a required parameter : client_id/client_secret.")
    stored = repo.application_secret_hash(client_id)
    if stored is None or not hmac.compare_digest(stored, token_hash(client_secret)):
        raise LwaError(401, "invalid_client", "Client authentication failed")
    if not refresh_token:
        raise LwaError(400, "invalid_request", "The request is missing a required parameter : refresh_token.")
    grant = repo.authorization_for_refresh_token(token_hash(refresh_token))
    if grant is None or grant[1] != client_id:
        raise LwaError(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
    access = ids.new_access_token()
    repo.add_access_token(
        token_hash=token_hash(access),
        authorization_id=grant[0],
        expires_at=now + timedelta(seconds=ttl_seconds),
        now=now,
    )
    return IssuedToken(access, refresh_token, ttl_seconds)


def principal_for(session: Session, *, access_token: str, now: datetime) -> tuple[Principal, datetime] | None:
    """The caller behind a live access token and the token's expiry, or None."""
    return PlatformRepository(session).principal_for_access_token(token_hash(access_token), now=now)
