"""domain/accounts.py: roles, the lock-out arithmetic, emails and passwords."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sp_services.domain.accounts import (
    AFTER_SUCCESS,
    LOCKOUT,
    MAX_FAILED_LOGINS,
    DashboardUser,
    LoginState,
    Role,
    after_failure,
    check_password,
    is_locked,
    normalised_email,
)
from sp_services.domain.errors import InvalidInput

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _user(failed: int = 0, locked_until: datetime | None = None) -> DashboardUser:
    return DashboardUser("u1", "S1", "a@b.example", Role.DISPATCHER, failed, locked_until)


def test_only_a_dispatcher_acts() -> None:
    assert Role.DISPATCHER.can_act and not Role.VIEWER.can_act


def test_nine_failures_count_and_the_tenth_locks_for_fifteen_minutes() -> None:
    user = _user()
    for n in range(1, MAX_FAILED_LOGINS):
        state = after_failure(user, now=NOW)
        assert state == LoginState(n, None)
        user = _user(state.failed_logins, state.locked_until)
    locked = after_failure(user, now=NOW)
    assert locked == LoginState(0, NOW + timedelta(minutes=15)) and LOCKOUT == timedelta(minutes=15)
    assert is_locked(_user(0, locked.locked_until), now=NOW + timedelta(minutes=14, seconds=59))
    assert not is_locked(_user(0, locked.locked_until), now=NOW + LOCKOUT)


def test_attempts_while_locked_change_nothing_and_counting_restarts_after() -> None:
    until = NOW + timedelta(minutes=5)
    assert after_failure(_user(0, until), now=NOW) == LoginState(0, until)
    # After the lock-out has run out, a failure counts from one and clears the old lock.
    assert after_failure(_user(0, until), now=until) == LoginState(1, None)
    assert AFTER_SUCCESS == LoginState(0, None)


@pytest.mark.parametrize(
    ("given", "stored"), [(" Dispatcher@Example.COM ", "dispatcher@example.com"), ("a@b.c", "a@b.c")]
)
def test_emails_are_stored_trimmed_and_lower_case(given: str, stored: str) -> None:
    assert normalised_email(given) == stored


@pytest.mark.parametrize(
    "bad", ["", "no-at-sign", "a@b", "two@@example.com", "sp ace@example.com", "x" * 250 + "@e.com"]
)
def test_what_is_not_an_email_is_a_400(bad: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        normalised_email(bad)
    assert raised.value.items[0].message == "Missing or invalid request parameters: [email]"


def test_passwords_are_twelve_to_1024_characters() -> None:
    check_password("x" * 12)
    check_password("x" * 1024)
    for bad in ("x" * 11, "x" * 1025):
        with pytest.raises(InvalidInput):
            check_password(bad)
