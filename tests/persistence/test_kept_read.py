"""Database.kept_read: the event loop's short reads on a kept SQLite connection. Each unit is its
own transaction (it sees what others committed before it began), keeps nothing from the last one,
and a database error drops the kept connection for a new one."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tests.support import migrated


def test_each_unit_sees_what_was_committed_before_it(tmp_path: Path) -> None:
    db = migrated(f"sqlite:///{tmp_path / 'kept.db'}")
    try:
        with db.transaction() as s:
            s.execute(text("INSERT INTO key_values (key, value) VALUES ('k', 'one')"))
        with db.kept_read() as s:
            assert s.execute(text("SELECT value FROM key_values WHERE key = 'k'")).scalar_one() == "one"
            kept = s.connection()
        with db.transaction() as s:
            s.execute(text("UPDATE key_values SET value = 'two' WHERE key = 'k'"))
        with db.kept_read() as s:
            assert s.connection() is kept  # the same connection, kept
            assert s.execute(text("SELECT value FROM key_values WHERE key = 'k'")).scalar_one() == "two"
            assert len(s.identity_map) == 0
        assert not kept.in_transaction()  # between units nothing is held: writers never wait on it
    finally:
        db.dispose()


def test_a_database_error_drops_the_kept_connection(tmp_path: Path) -> None:
    db = migrated(f"sqlite:///{tmp_path / 'kept.db'}")
    try:
        with db.kept_read() as s:
            first = s.connection()
        with pytest.raises(OperationalError), db.kept_read() as s:
            s.execute(text("SELECT * FROM no_such_table"))
        assert first.closed
        with db.kept_read() as s:
            assert s.connection() is not first
            assert s.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        db.dispose()


def test_each_thread_keeps_its_own_and_dispose_closes_them(tmp_path: Path) -> None:
    db = migrated(f"sqlite:///{tmp_path / 'kept.db'}")
    seen = []

    def read() -> None:
        with db.kept_read() as s:
            seen.append(s.connection())

    read()
    other = threading.Thread(target=read)
    other.start()
    other.join()
    assert len(seen) == 2 and seen[0] is not seen[1]
    db.dispose()
    assert all(connection.closed for connection in seen)
