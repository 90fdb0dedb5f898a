"""Portable SQL expressions the repositories share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class epoch_minute(FunctionElement[int]):
    """The minute (since the Unix epoch, floored) of a UTC timestamp column, computed by the database.

    Capacity reads turn hundreds of stored instants into minutes per request; letting the database
    hand back integers skips parsing each one into a datetime first. Equal to
    ``domain.recurrence.to_minute`` of the stored instant (a test holds both backends to that).
    """

    type = BigInteger()
    inherit_cache = True
    name = "epoch_minute"


@compiles(epoch_minute, "sqlite")
def _sqlite(element: epoch_minute, compiler: Any, **kw: Any) -> str:
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff'. strftime rounds fractions to the millisecond (59.9995 s
    # would become the next minute), so the fraction is cut off first: that floors to the second.
    seconds = f"CAST(strftime('%s', substr({compiler.process(element.clauses, **kw)}, 1, 19)) AS INTEGER)"
    # SQLite's integer division truncates toward zero; subtracting the non-negative remainder floors.
    return f"(({seconds} - ((({seconds}) % 60) + 60) % 60) / 60)"


@compiles(epoch_minute, "postgresql")
def _postgresql(element: epoch_minute, compiler: Any, **kw: Any) -> str:
    # Timestamps are stored without a zone, as UTC: EXTRACT(EPOCH ...) reads them as UTC.
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) / 60) AS BIGINT)"


class epoch_second(FunctionElement[int]):
    """The second (since the Unix epoch, floored) of a UTC timestamp column, computed by the database.

    The analytics compare and sum instants as whole seconds (docs/design.md §6), exactly, as
    integers on both databases. Equal to ``domain.analytics.to_second`` of the stored instant.
    """

    type = BigInteger()
    inherit_cache = True
    name = "epoch_second"


@compiles(epoch_second, "sqlite")
def _sqlite_second(element: epoch_second, compiler: Any, **kw: Any) -> str:
    # Cutting the stored text's fraction off floors to the second, before 1970 too.
    return f"CAST(strftime('%s', substr({compiler.process(element.clauses, **kw)}, 1, 19)) AS INTEGER)"


@compiles(epoch_second, "postgresql")
def _postgresql_second(element: epoch_second, compiler: Any, **kw: Any) -> str:
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


def _sqlite_array(document: str) -> str:
    # SQLite's JSON functions raise on malformed text (a NaN written by Python's json): test it first.
    return f"(CASE WHEN json_valid({document}) THEN CASE WHEN json_type({document}) = 'array' THEN {document} END END)"


class json_array_size(FunctionElement[int]):
    """The number of elements of a JSON column holding an array; 0 for anything else (NULL, JSON
    ``null``, an object, malformed text)."""

    type = BigInteger()
    inherit_cache = True
    name = "json_array_size"


@compiles(json_array_size, "sqlite")
def _sqlite_size(element: json_array_size, compiler: Any, **kw: Any) -> str:
    return f"COALESCE(json_array_length({_sqlite_array(compiler.process(element.clauses, **kw))}), 0)"


@compiles(json_array_size, "postgresql")
def _postgresql_size(element: json_array_size, compiler: Any, **kw: Any) -> str:
    document = compiler.process(element.clauses, **kw)
    return f"(CASE WHEN json_typeof({document}) = 'array' THEN json_array_length({document}) ELSE 0 END)"


class json_array_texts(FunctionElement[Any]):
    """Table-valued: the elements of a JSON array column as text, one row each (column ``value``);
    no rows for anything but an array. Join it to the row it reads: ``.table_valued("value")``."""

    inherit_cache = True
    name = "json_array_texts"


@compiles(json_array_texts, "sqlite")
def _sqlite_texts(element: json_array_texts, compiler: Any, **kw: Any) -> str:
    return f"json_each(COALESCE({_sqlite_array(compiler.process(element.clauses, **kw))}, '[]'))"


@compiles(json_array_texts, "postgresql")
def _postgresql_texts(element: json_array_texts, compiler: Any, **kw: Any) -> str:
    document = compiler.process(element.clauses, **kw)
    return f"json_array_elements_text(CASE WHEN json_typeof({document}) = 'array' THEN {document} ELSE '[]' END)"


class json_array_items(FunctionElement[Any]):
    """Table-valued: the elements of a JSON array column, one row each; no rows for anything but an
    array. Declare the columns ``value`` (the element, as PostgreSQL reads it) and ``fullkey``
    (its path in the document, ``$[i]``, as SQLite reads it without parsing an element that may be
    no JSON text); persistence/repositories/analytics.py reads payment amounts this way."""

    inherit_cache = True
    name = "json_array_items"


@compiles(json_array_items, "sqlite")
def _sqlite_items(element: json_array_items, compiler: Any, **kw: Any) -> str:
    return f"json_each(COALESCE({_sqlite_array(compiler.process(element.clauses, **kw))}, '[]'))"


@compiles(json_array_items, "postgresql")
def _postgresql_items(element: json_array_items, compiler: Any, **kw: Any) -> str:
    document = compiler.process(element.clauses, **kw)
    return f"json_array_elements(CASE WHEN json_typeof({document}) = 'array' THEN {document} ELSE '[]' END)"
