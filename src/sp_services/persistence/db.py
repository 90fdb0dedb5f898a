"""Engines and transactions for SQLite and PostgreSQL.

SQLite: WAL, a busy timeout, and ``BEGIN IMMEDIATE`` for write transactions so that two writers
serialise at the start of the transaction instead of failing at commit. PostgreSQL: row locks
(``SELECT … FOR UPDATE``) taken by the repositories.

Every wait on the database is bounded (``Timeouts``): connecting, a statement, a lock, a free
connection of the pool. A database that stalls or a lock held elsewhere then ends a request with
an ``OperationalError`` (503 at the API) instead of holding it for as long as the stall lasts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from sp_services.settings import Settings


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


@dataclass(frozen=True)
class Timeouts:
    """Bounds on waiting for the database, in seconds (settings ``DB_*_TIMEOUT``)."""

    connect: float = 3.0
    statement: float = 5.0
    lock: float = 2.0  # PostgreSQL lock_timeout; SQLite's busy timeout
    pool: float = 2.0  # waiting for a free pooled connection
    pool_size: int = 8  # connections kept open: as many as threads may do database work at once


def make_engine(url: str, *, timeouts: Timeouts | None = None, **kwargs: Any) -> Engine:
    """Create an engine configured for request-per-transaction work on either database."""
    limits = timeouts or Timeouts()
    if is_sqlite(url):
        busy_ms = int(limits.lock * 1000)
        engine = create_engine(
            url,
            json_deserializer=orjson.loads,
            connect_args={"check_same_thread": False, "timeout": limits.lock},
            pool_size=limits.pool_size,
            max_overflow=limits.pool_size,
            pool_timeout=limits.pool,
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control away from pysqlite so BEGIN is ours to emit.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    url = url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    options = f"-c statement_timeout={int(limits.statement * 1000)} -c lock_timeout={int(limits.lock * 1000)}"
    return create_engine(
        url,
        json_deserializer=orjson.loads,
        pool_size=limits.pool_size,
        max_overflow=2 * limits.pool_size,
        pool_pre_ping=True,
        pool_timeout=limits.pool,
        connect_args={"connect_timeout": max(1, round(limits.connect)), "options": options},
        **kwargs,
    )


class Abandoned(Exception):
    """A unit of work whose request was answered before it finished: rolled back, never committed."""


class Database:
    """An engine plus the two kinds of transaction a request can open."""

    @classmethod
    def configured(cls, settings: Settings) -> Database:
        """The database the settings name, with their timeouts."""
        timeouts = Timeouts(
            connect=settings.db_connect_timeout,
            statement=settings.db_statement_timeout,
            lock=settings.db_lock_timeout,
            pool=settings.db_pool_timeout,
            pool_size=settings.db_threads,
        )
        return cls(settings.resolved_database_url, timeouts=timeouts)

    def __init__(self, url: str, *, timeouts: Timeouts | None = None) -> None:
        self.url = url
        self.embedded = is_sqlite(url)
        self.engine = make_engine(url, timeouts=timeouts)
        self._read = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        self._write = sessionmaker(
            self.engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False, autoflush=True
        )
        self._kept = threading.local()  # per thread: (connection, session) for kept_read()
        self._kept_all: list[Connection] = []
        self._kept_lock = threading.Lock()

    @contextmanager
    def transaction(self, *, write: bool = True, abandoned: Callable[[], bool] | None = None) -> Iterator[Session]:
        """One unit of work: commits once on success, rolls back on any exception.

        ``abandoned`` is asked just before the commit: a request that has already been answered
        (it ran past its deadline) rolls back instead, so its caller's 503 leaves no trace."""
        session = (self._write if write else self._read)()
        try:
            yield session
            if abandoned is not None and abandoned():
                raise Abandoned("the request ran past its deadline and was answered already")
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def kept_read(self) -> Iterator[Session]:
        """A read-only unit of work on a connection and session this thread keeps (embedded SQLite).

        Taking a pooled connection, beginning, committing and handing it back costs ~90 µs of
        SQLAlchemy per unit of work, more than a key lookup itself; a connection kept open and a
        session kept bound to it cost ~25 µs (BEGIN, COMMIT, the session's reset). Each unit is its
        own transaction (a fresh snapshot: WAL readers never wait) and the session is closed after
        it, so nothing read survives into the next one. For the event loop's short reads, which
        never overlap on one thread; a database error drops the kept pair (a new one next time)."""
        kept: tuple[Connection, Session] | None = getattr(self._kept, "unit", None)
        if kept is None:
            connection = self.engine.connect()
            session = Session(bind=connection, join_transaction_mode="rollback_only", expire_on_commit=False)
            kept = self._kept.unit = (connection, session)
            with self._kept_lock:
                self._kept_all.append(connection)
        connection, session = kept
        transaction = connection.begin()
        try:
            yield session
            session.close()
            transaction.commit()
        except BaseException as exc:
            session.close()
            transaction.rollback()
            if isinstance(exc, DBAPIError):
                self._drop_kept(connection)
            raise

    def _drop_kept(self, connection: Connection) -> None:
        self._kept.unit = None
        with self._kept_lock:
            if connection in self._kept_all:
                self._kept_all.remove(connection)
        connection.close()

    def analyze(self) -> None:
        """Refresh the planner's statistics after a bulk load: on a fresh PostgreSQL table the planner
        otherwise guesses "tiny" and picks nested seq-scans (seconds instead of milliseconds)."""
        with self.engine.connect() as conn:
            if is_sqlite(self.url):
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
            else:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")

    def dispose(self) -> None:
        with self._kept_lock:
            kept, self._kept_all = self._kept_all, []
        for connection in kept:
            connection.close()
        self._kept = threading.local()
        self.engine.dispose()
