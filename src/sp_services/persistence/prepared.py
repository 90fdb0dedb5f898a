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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter


@dataclass
class _Compiled:
    sql: str
    names: tuple[str, ...] | None  # positional parameter order (qmark), or None (named params)
    types: tuple[Any, ...]  # the selected columns' types
    decoders: tuple[Callable[[Any], Any] | None, ...] | None  # made at the first execution
    encoders: Mapping[str, Callable[[Any], Any]]  # parameter -> its type's bind processor, where it has one
    literals: Mapping[str, Any]  # values written into the statement itself


class Prepared:
    """A select compiled once per dialect and IN-list length; see the module docstring."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        binds = [b for b in statement._get_embedded_bindparams() if isinstance(b, BindParameter) and not b.unique]
        self._expanding = tuple(dict.fromkeys(b.key for b in binds if b.expanding))
        self._types = {b.key: b.type for b in binds}  # the parameters named when executing
        self._compiled: dict[tuple[str, tuple[int, ...]], _Compiled] = {}
        self._columns = {str(c.key): i for i, c in enumerate(statement.selected_columns)}

    def _compile(self, dialect: Dialect, sizes: tuple[int, ...]) -> _Compiled:
        key = (dialect.name, sizes)
        found = self._compiled.get(key)
        if found is None:
            # Compiling with IN lists rendered needs a value for every parameter: placeholders here,
            # the real values come with each execution.
            lengths = dict(zip(self._expanding, sizes, strict=True))
            placeholders = {name: [None] * lengths[name] if name in lengths else None for name in self._types}
            stmt = self.statement.params(placeholders) if placeholders else self.statement
            compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
            names = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
            types = tuple(c.type.dialect_impl(dialect) for c in stmt.selected_columns)
            # Literal values written into the statement (a LIMIT, a fixed status) keep theirs.
            literals = {
                name: bind.value
                for name, bind in compiled.binds.items()
                if name not in self._types and not name.startswith("%(")
            }
            encoders = {
                name: encode
                for name, bind in compiled.binds.items()
                if not name.startswith("%(")
                and (encode := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
            }
            found = self._compiled[key] = _Compiled(compiled.string, names, types, None, encoders, literals)
        return found

    def rows(self, session: Session, **params: Any) -> list[tuple[Any, ...]]:
        """Every row, decoded, for these parameter values (lists for IN parameters)."""
        for name in self._expanding:
            if not params[name]:
                return []  # an empty IN list selects nothing
        dialect, driver = _driver_connection(session)
        compiled = self._compile(dialect, tuple(len(params[n]) for n in self._expanding))
        values = _flatten(_encoded({**compiled.literals, **params}, compiled.encoders), self._expanding)
        cursor = driver.cursor()
        try:
            cursor.execute(compiled.sql, [values[n] for n in compiled.names] if compiled.names else values)
            fetched = cursor.fetchall()
            if compiled.decoders is None:
                # A type's decoder may depend on what the driver says it returns (PostgreSQL numerics).
                driver_types = [d[1] for d in cursor.description]
                compiled.decoders = tuple(
                    t.result_processor(dialect, code) for t, code in zip(compiled.types, driver_types, strict=True)
                )
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

    def records(self, session: Session, **params: Any) -> list[Record]:
        """Every row, readable by column name (as a Core row is)."""
        return [Record(row, self._columns) for row in self.rows(session, **params)]

    def record(self, session: Session, **params: Any) -> Record | None:
        """The first row readable by column name, or None."""
        row = self.first(session, **params)
        return None if row is None else Record(row, self._columns)


class Record:
    """A prepared statement's row read by column name, like a Core row."""

    __slots__ = ("_columns", "_values")

    def __init__(self, values: tuple[Any, ...], columns: dict[str, int]) -> None:
        self._values, self._columns = values, columns

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[self._columns[name]]
        except KeyError:
            raise AttributeError(name) from None


def _driver_connection(session: Session) -> tuple[Dialect, Any]:
    """The dialect and the DBAPI connection of the session's transaction (asked once per session:
    going through the session for it costs more than a small query)."""
    found = session.info.get("_driver_connection")
    if found is None:
        connection = session.connection()
        found = session.info["_driver_connection"] = (connection.dialect, connection.connection.driver_connection)
    return found


def _encoded(params: dict[str, Any], encoders: Mapping[str, Callable[[Any], Any]]) -> dict[str, Any]:
    """Values as the columns' types store them (e.g. an aware instant as SQLite's UTC text)."""
    if not encoders:
        return params
    out = dict(params)
    for name, encode in encoders.items():
        if name in out and out[name] is not None:
            value = out[name]
            out[name] = [encode(v) for v in value] if isinstance(value, list) else encode(value)
    return out


def _flatten(params: dict[str, Any], expanding: Sequence[str]) -> dict[str, Any]:
    """IN lists as the numbered parameters postcompile renders (``name_1`` … ``name_n``)."""
    out = {k: v for k, v in params.items() if k not in expanding}
    for name in expanding:
        out.update({f"{name}_{i}": v for i, v in enumerate(params[name], start=1)})
    return out
