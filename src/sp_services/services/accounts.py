"""Dashboard accounts: create users, log in and out, find the user of a session (docs/design.md §8).

Passwords are kept only as Argon2id hashes (argon2-cffi's defaults, RFC 9106's second
recommended profile). Session ids are long random strings, so, like access tokens, they are kept
only as SHA-256 hashes: the database alone cannot be replayed as a login.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from sp_services.domain.accounts import (
    MAX_PASSWORD_LENGTH,
    SESSION_LIFETIME,
    DashboardUser,
    Role,
    after_failure,
    check_password,
    is_locked,
    normalised_email,
)
from sp_services.domain.errors import Conflict, ErrorItem, InvalidInput, NotFound
from sp_services.persistence.repositories.accounts import AccountRepository
from sp_services.persistence.repositories.platform import PlatformRepository
from sp_services.services.auth import token_hash

_HASHER = PasswordHasher()


@cache
def _decoy_hash() -> str:
    """A hash to check unknown emails against, so that they cost as much time as known ones."""
    return _HASHER.hash(secrets.token_urlsafe(18))


@dataclass(frozen=True)
class NewUser:
    """A created user; ``password`` only when it was generated (shown once, never stored)."""

    user: DashboardUser
    password: str | None


def create_user(
    session: Session, *, seller_id: str, email: str, role: Role | str, password: str | None, now: datetime
) -> NewUser:
    """A dashboard user of ``seller_id``; a password is generated when none is given."""
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput.params(["role"], "role must be viewer or dispatcher.") from None
    address = normalised_email(email)
    generated = secrets.token_urlsafe(18) if password is None else None
    chosen = generated or password or ""
    check_password(chosen)
    if PlatformRepository(session).get_seller(seller_id) is None:
        raise NotFound(ErrorItem("NotFound", f"Seller {seller_id} does not exist.", ""))
    repo = AccountRepository(session)
    if repo.email_taken(address):
        raise Conflict(ErrorItem("Conflict", f"Dashboard user {address} already exists.", ""))
    user = DashboardUser(str(uuid.uuid4()), seller_id, address, role)
    repo.add_user(user, password_hash=_HASHER.hash(chosen), now=now)
    return NewUser(user, generated)


@dataclass(frozen=True)
class Login:
    """A login attempt's outcome: a new session (its id, for the cookie), or refused, with the
    lock-out's end when the account is locked."""

    session_id: str | None = None
    user: DashboardUser | None = None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.session_id is not None


def log_in(session: Session, *, email: str, password: str, now: datetime, previous: str | None = None) -> Login:
    """Check the password and open a new session; never raises for a refusal, so that the failure
    count it writes is committed with the unit of work.

    A fresh session id every time (no session fixation); ``previous``, the session the browser
    came with, if any, is ended. While the account is locked even the right password is refused."""
    try:
        address = normalised_email(email)
    except InvalidInput:
        address = None
    repo = AccountRepository(session)
    found = repo.user_by_email(address, for_update=True) if address else None
    if found is None or len(password) > MAX_PASSWORD_LENGTH:
        _verify(_decoy_hash(), password[:MAX_PASSWORD_LENGTH])
        return Login()
    user, stored = found
    if is_locked(user, now=now):
        return Login(locked_until=user.locked_until)
    if not _verify(stored, password):
        state = after_failure(user, now=now)
        repo.set_login_state(user.user_id, state)
        return Login(locked_until=state.locked_until)
    renewed = _HASHER.hash(password) if _HASHER.check_needs_rehash(stored) else None
    repo.logged_in(user.user_id, now=now, password_hash=renewed)
    if previous:
        repo.end_session(token_hash(previous))
    session_id = secrets.token_urlsafe(32)
    repo.add_session(token_hash(session_id), user.user_id, now=now, expires_at=now + SESSION_LIFETIME)
    return Login(session_id, user)


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class SignedIn:
    """The user behind a session and the marketplaces its seller sells in."""

    user: DashboardUser
    marketplace_ids: tuple[str, ...]


def signed_in(session: Session, *, session_id: str, now: datetime) -> SignedIn | None:
    """The user of a live session, or None when the session is unknown, ended or expired."""
    user = AccountRepository(session).user_of_session(token_hash(session_id), now=now)
    if user is None:
        return None
    seller = PlatformRepository(session).get_seller(user.seller_id)
    return SignedIn(user, seller.marketplace_ids if seller else ())


def log_out(session: Session, *, session_id: str) -> None:
    """End the session on the server: its cookie is worth nothing afterwards."""
    AccountRepository(session).end_session(token_hash(session_id))
