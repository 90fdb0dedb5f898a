"""Dashboard accounts (docs/design.md §8): who may log in to the dispatcher dashboard, what each
role may do, how long a session lives, and the lock-out after repeated failed logins.

Pure: the clock is an argument. Hashing passwords and making session ids are the services' work
(``services/accounts.py``); the cookie is the web layer's (``dashboard/auth.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .errors import InvalidInput

# Ten failed logins in a row lock the account for fifteen minutes; while locked, even the right
# password is refused, so guessing gains nothing by going on.
MAX_FAILED_LOGINS = 10
LOCKOUT = timedelta(minutes=15)
# A session ends this long after login (or at logout), whatever happens in between.
SESSION_LIFETIME = timedelta(hours=12)
# Argon2 takes any length; a bound keeps one login's work bounded too.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Role(StrEnum):
    """``viewer`` reads; ``dispatcher`` also acts (books, reschedules, assigns, cancels)."""

    VIEWER = "viewer"
    DISPATCHER = "dispatcher"

    @property
    def can_act(self) -> bool:
        return self is Role.DISPATCHER


@dataclass(frozen=True)
class DashboardUser:
    """A person who logs in to one seller's dashboard."""

    user_id: str
    seller_id: str
    email: str
    role: Role
    failed_logins: int = 0
    locked_until: datetime | None = None


def normalised_email(email: str) -> str:
    """The email as it is stored and looked up (trimmed, lower case); 400 when it is not one."""
    value = email.strip().lower()
    if len(value) > MAX_EMAIL_LENGTH or not _EMAIL.match(value):
        raise InvalidInput.params(["email"], "email must be an email address.")
    return value


def check_password(password: str) -> None:
    """400 for a password too short to resist guessing, or too long to hash cheaply."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput.params(
            ["password"], f"password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long."
        )


def is_locked(user: DashboardUser, *, now: datetime) -> bool:
    """True while a lock-out runs (it ends by itself at ``locked_until``)."""
    return user.locked_until is not None and now < user.locked_until


@dataclass(frozen=True)
class LoginState:
    """What a login attempt leaves on the account: the failures counted and any lock-out."""

    failed_logins: int
    locked_until: datetime | None


def after_failure(user: DashboardUser, *, now: datetime) -> LoginState:
    """A wrong password: one more failure; the tenth in a row locks the account for LOCKOUT and
    starts the count again, so after the lock-out the next ten guesses are counted afresh.
    Attempts while locked change nothing (they are refused before the password is looked at)."""
    if is_locked(user, now=now):
        return LoginState(user.failed_logins, user.locked_until)
    failed = user.failed_logins + 1
    if failed >= MAX_FAILED_LOGINS:
        return LoginState(0, now + LOCKOUT)
    return LoginState(failed, None)


AFTER_SUCCESS = LoginState(0, None)
