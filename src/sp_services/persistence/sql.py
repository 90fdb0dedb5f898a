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
