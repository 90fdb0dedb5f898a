"""Statements prepared once, run straight on the unit of work's database cursor.

A hot read (one job, a page of jobs, a capacity read) issues a few small queries. Through the
ORM or Core, each costs ~100 µs of Python before and after the database's own few microseconds:
building the statement, computing its cache key, setting up an execution context, wrapping the
result. A :class:`Prepared` statement is written as a Core ``select`` like any other (the SQL
still lives here, in persistence/), compiled once per dialect (and per length of each IN list),
and executed on the DBAPI cursor of the session's own connection, inside its transaction. Rows
are decoded by each column's own type, so they come out exactly as a Core query's would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...] | None  # positional parameter order (qmark), or None (named params)
    decoders: tuple[Callable[[Any], Any] | None, ...]


class Prepared:
    """A select compiled once per dialect and IN-list length; see the module docstring."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._expanding = tuple(
            b.key for b in statement._get_embedded_bindparams() if isinstance(b, BindParameter) and b.expanding
        )
        self._compiled: dict[tuple[str, tuple[int, ...]], _Compiled] = {}

    def _compile(self, dialect: Dialect, sizes: tuple[int, ...]) -> _Compiled:
        key = (dialect.name, sizes)
        found = self._compiled.get(key)
        if found is None:
            placeholders = {name: [None] * n for name, n in zip(self._expanding, sizes, strict=True)}
            stmt = self.statement.params(placeholders) if placeholders else self.statement
            compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
            names = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
            decoders = tuple(
                c.type.dialect_impl(dialect).result_processor(dialect, None) for c in stmt.selected_columns
            )
            found = self._compiled[key] = _Compiled(compiled.string, names, decoders)
        return found

    def rows(self, session: Session, **params: Any) -> list[tuple[Any, ...]]:
        """Every row, decoded, for these parameter values (lists for IN parameters)."""
        for name in self._expanding:
            if not params[name]:
                return []  # an empty IN list selects nothing
        dialect, driver = _driver_connection(session)
        compiled = self._compile(dialect, tuple(len(params[n]) for n in self._expanding))
        values = _flatten(params, self._expanding)
        cursor = driver.cursor()
        try:
            cursor.execute(compiled.sql, [values[n] for n in compiled.names] if compiled.names else values)
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        decoders = compiled.decoders
        if not any(decoders):
            return [tuple(row) for row in fetched]
        return [tuple(d(v) if d is not None else v for d, v in zip(decoders, row, strict=True)) for row in fetched]

    def first(self, session: Session, **params: Any) -> tuple[Any, ...] | None:
        """The first row, or None."""
        found = self.rows(session, **params)
        return found[0] if found else None


def _driver_connection(session: Session) -> tuple[Dialect, Any]:
    """The dialect and the DBAPI connection of the session's transaction (asked once per session:
    going through the session for it costs more than a small query)."""
    found = session.info.get("_driver_connection")
    if found is None:
        connection = session.connection()
        found = session.info["_driver_connection"] = (connection.dialect, connection.connection.driver_connection)
    return found


def _flatten(params: dict[str, Any], expanding: Sequence[str]) -> dict[str, Any]:
    """IN lists as the numbered parameters postcompile renders (``name_1`` … ``name_n``)."""
    out = {k: v for k, v in params.items() if k not in expanding}
    for name in expanding:
        out.update({f"{name}_{i}": v for i, v in enumerate(params[name], start=1)})
    return out
