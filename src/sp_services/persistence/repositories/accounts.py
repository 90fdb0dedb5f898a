"""Dashboard users and their sessions (docs/design.md §8)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from sp_services.domain.accounts import DashboardUser, LoginState, Role
from sp_services.persistence import tables as t

from .base import Repository

U, S = t.DashboardUser, t.DashboardSession


def _user(row: t.DashboardUser) -> DashboardUser:
    return DashboardUser(row.user_id, row.seller_id, row.email, Role(row.role), row.failed_logins, row.locked_until)


class AccountRepository(Repository):
    # ---- users --------------------------------------------------------------------------------
    def email_taken(self, email: str) -> bool:
        return self.session.scalar(select(U.user_id).where(U.email == email)) is not None

    def add_user(self, user: DashboardUser, *, password_hash: str, now: datetime) -> None:
        self.session.add(
            U(
                user_id=user.user_id,
                seller_id=user.seller_id,
                email=user.email,
                role=user.role.value,
                password_hash=password_hash,
                failed_logins=0,
                created_at=now,
            )
        )
        self.session.flush()

    def user_by_email(self, email: str, *, for_update: bool = False) -> tuple[DashboardUser, str] | None:
        """The user and its password hash; ``for_update`` locks the row, so concurrent guesses are
        each counted (PostgreSQL; SQLite serialises writers anyway)."""
        query = select(U).where(U.email == email)
        row = self.session.scalar(query.with_for_update() if for_update else query)
        return None if row is None else (_user(row), row.password_hash)

    def set_login_state(self, user_id: str, state: LoginState) -> None:
        self.session.execute(
            update(U)
            .where(U.user_id == user_id)
            .values(failed_logins=state.failed_logins, locked_until=state.locked_until)
        )

    def logged_in(self, user_id: str, *, now: datetime, password_hash: str | None = None) -> None:
        """Record a successful login (and a password hash renewed with current parameters)."""
        values: dict[str, object] = {"last_login_at": now, "failed_logins": 0, "locked_until": None}
        if password_hash is not None:
            values["password_hash"] = password_hash
        self.session.execute(update(U).where(U.user_id == user_id).values(**values))

    # ---- sessions -----------------------------------------------------------------------------
    def add_session(self, session_hash: str, user_id: str, *, now: datetime, expires_at: datetime) -> None:
        # Expired sessions are swept here, on the one write path that makes new ones.
        self.session.execute(delete(S).where(S.expires_at <= now))
        self.session.add(S(session_hash=session_hash, user_id=user_id, created_at=now, expires_at=expires_at))
        self.session.flush()

    def user_of_session(self, session_hash: str, *, now: datetime) -> DashboardUser | None:
        """The user of a live session, or None (unknown, ended or expired)."""
        row = self.session.scalar(
            select(U).join(S, S.user_id == U.user_id).where(S.session_hash == session_hash, S.expires_at > now)
        )
        return None if row is None else _user(row)

    def end_session(self, session_hash: str) -> None:
        self.session.execute(delete(S).where(S.session_hash == session_hash))
