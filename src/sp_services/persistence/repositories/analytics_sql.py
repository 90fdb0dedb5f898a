"""SQL pieces of the analytics (docs/design.md §6): placing an instant in its store-local day and
period, and reading payment amounts out of the jobs' JSON, the same on SQLite and PostgreSQL.

Store-local days: the database knows no timezones (SQLite) or other ones than Python's
(PostgreSQL's own tz database), so each request hands it, per timezone of the stores asked
about, the UTC offset as a step function over the range (``domain.analytics_metrics.utc_offsets``,
exact to the second across DST). An instant's local day is then integer arithmetic:
``floor((epoch second + offset) / 86400)``. A handful of stores share a few timezones, so the
expression stays a small CASE; a coarse UTC bound two days wider keeps the indexes in use.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, CompoundSelect, Select, String, and_, case, literal, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import CTE

from sp_services.domain.analytics_metrics import MAX_AMOUNT, Slice, to_second, utc_offsets
from sp_services.domain.analytics_query import GroupBy, period_of

EPOCH_DAY = date(1970, 1, 1)
DAY_S = 86_400
_SLACK = 2  # days of coarse bound on each side: wider than any UTC offset (±26 h at most)


def day_number(day: date) -> int:
    """Days since 1970-01-01."""
    return (day - EPOCH_DAY).days


_SHIFT = 10**6  # n x this is more than any |x| below (year 1 is -6.2e10 seconds): x + shift > 0


def floor_div(x: ColumnElement[Any], n: int) -> ColumnElement[int]:
    """floor(x / n) for integers on both databases. Their division truncates toward zero, which is
    the floor for the shifted, positive dividend; ``x`` appears once, so a database that inlines
    expressions evaluates it once."""
    return (x + n * _SHIFT) // n - _SHIFT


def materialized(statement: Select[Any] | CompoundSelect[Any], name: str) -> CTE:
    """``statement`` as a CTE the database computes once (``AS MATERIALIZED``, PostgreSQL 12 and
    SQLite 3.35 on), so that expressions over its columns do not repeat its per-row work (SQLite
    otherwise inlines a subquery's expressions into every place that reads them)."""
    cte = statement.cte(name)
    if sqlite3.sqlite_version_info >= (3, 35):
        return cte.prefix_with("MATERIALIZED", dialect="sqlite").prefix_with("MATERIALIZED", dialect="postgresql")
    return cte.prefix_with("MATERIALIZED", dialect="postgresql")


def plain_plans(session: Session) -> None:
    """Run this transaction's statements without PostgreSQL's JIT compiler. The planner cannot see
    how many rows the JSON functions yield (it assumes 100 each), so its cost estimates pass the JIT
    threshold, and compiling then took longer (~0.5 s) than the aggregates themselves."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


class LocalDays:
    """The store-local days and periods of a slice, as SQL expressions over epoch seconds."""

    def __init__(self, sl: Slice) -> None:
        self.slice = sl
        self.first, self.last = day_number(sl.start), day_number(sl.end)
        lo = date.fromordinal(max(sl.start.toordinal() - _SLACK, 1))
        hi = date.fromordinal(min(sl.end.toordinal() + _SLACK + 1, date.max.toordinal()))
        self.lo = datetime.combine(lo, datetime.min.time(), tzinfo=UTC)
        self.hi = datetime.combine(hi, datetime.min.time(), tzinfo=UTC)
        stores: dict[str, list[str]] = defaultdict(list)
        for store_id, zone in sl.zones:
            stores[zone].append(store_id)
        lo_s, hi_s = to_second(self.lo), to_second(self.hi)
        self._zones = [(ids, utc_offsets(zone, lo_s, hi_s)) for zone, ids in stores.items()]

    def coarse(self, column: ColumnElement[datetime]) -> ColumnElement[bool]:
        """The UTC bounds that hold every instant of the range's local days (an index range)."""
        return and_(column >= self.lo, column < self.hi)

    def day(self, second: ColumnElement[int], store_id: ColumnElement[str]) -> ColumnElement[int]:
        """The store-local day number of an epoch second at the store ``store_id`` names."""
        offsets: list[tuple[ColumnElement[bool], ColumnElement[int]]] = []
        for ids, steps in self._zones:
            offsets.append((store_id.in_(ids), _step(second, steps)))
        if not offsets:
            offset: ColumnElement[int] = literal(0, BigInteger())
        elif len(offsets) == 1:
            offset = offsets[0][1]
        else:
            offset = case(*offsets, else_=literal(0, BigInteger()))
        return floor_div(second + offset, DAY_S)

    def inside(self, day: ColumnElement[int]) -> ColumnElement[bool]:
        return day.between(self.first, self.last)

    def period(self, day: ColumnElement[int]) -> ColumnElement[int]:
        """The day number of the first day of ``day``'s period (a Monday, a month's first day)."""
        group_by = self.slice.group_by
        if group_by is GroupBy.DAY:
            return day
        if group_by is GroupBy.WEEK:
            return floor_div(day + 3, 7) * 7 - 3  # 1970-01-01 was a Thursday: day + 3 is 0 on Mondays
        if group_by is GroupBy.MONTH:
            starts = _month_starts(self.slice.start, self.slice.end)
            if len(starts) == 1:
                return literal(starts[0], BigInteger())
            whens = [(day < nxt, literal(this, BigInteger())) for this, nxt in pairwise(starts)]
            return case(*whens, else_=literal(starts[-1], BigInteger()))
        return literal(self.first, BigInteger())

    def grouping(self, period: ColumnElement[int]) -> list[ColumnElement[int]]:
        """What to GROUP BY for ``period``: nothing when it is one constant (not grouped), since a
        constant there may be read as a column's position."""
        return [] if self.slice.group_by is GroupBy.NONE else [period]

    def label(self, period_day: Any) -> str | None:
        """The period label of a period's first day number, as SQL returned it."""
        return period_of(EPOCH_DAY + timedelta(days=int(period_day)), self.slice.group_by)


def _step(second: ColumnElement[int], steps: Sequence[tuple[int, int]]) -> ColumnElement[int]:
    if len(steps) == 1:
        return literal(steps[0][1], BigInteger())
    whens = [(second < nxt[0], literal(this[1], BigInteger())) for this, nxt in pairwise(steps)]
    return case(*whens, else_=literal(steps[-1][1], BigInteger()))


def _month_starts(start: date, end: date) -> list[int]:
    out, (year, month) = [], (start.year, start.month)
    while (year, month) <= (end.year, end.month):
        out.append(day_number(date(year, month, 1)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


# ---- payment amounts --------------------------------------------------------------------------

# The JSON number texts PostgreSQL is asked to read as numeric (all that Python's json writes).
_NUMBER = r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]{1,3})?$"


class payment_amount(FunctionElement[Any]):
    """``amount.value`` of one element of a payments array when it is a JSON number, else NULL.
    Arguments: the document, and the element's ``value`` and ``fullkey`` columns of
    ``json_array_items`` (persistence/sql.py). Read once per element (materialized), then
    :class:`cents_of` turns it into cents without parsing JSON again."""

    inherit_cache = True
    name = "payment_amount"


class payment_currency(FunctionElement[str]):
    """``amount.currency`` of one element of a payments array; NULL unless a string."""

    type = String()
    inherit_cache = True
    name = "payment_currency"


class cents_of(FunctionElement[int]):
    """An amount in cents as domain.analytics_metrics ``cents`` takes it: half a cent up (after
    rounding binary noise off at six places), NULL beyond ±MAX_AMOUNT."""

    type = BigInteger()
    inherit_cache = True
    name = "cents_of"


def _parts(element: FunctionElement[Any], compiler: Any, **kw: Any) -> list[str]:
    return [compiler.process(c, **kw) for c in element.clauses.clauses]


@compiles(payment_amount, "sqlite")
def _sqlite_amount(element: payment_amount, compiler: Any, **kw: Any) -> str:
    document, _, key = _parts(element, compiler, **kw)
    path = f"{key} || '.amount.value'"  # read from the document: an element may be no JSON text
    return f"(CASE WHEN json_type({document}, {path}) IN ('integer', 'real') THEN json_extract({document}, {path}) END)"


@compiles(payment_amount, "postgresql")
def _postgresql_amount(element: payment_amount, compiler: Any, **kw: Any) -> str:
    _, value, _ = _parts(element, compiler, **kw)
    text = f"({value} #>> '{{amount,value}}')"
    # Nested CASEs: PostgreSQL does not promise to evaluate AND's operands in order.
    return (
        f"(CASE WHEN json_typeof({value} #> '{{amount,value}}') = 'number' THEN "
        f"CASE WHEN {text} ~ '{_NUMBER}' THEN CAST({text} AS NUMERIC) END END)"
    )


@compiles(cents_of, "sqlite")
def _sqlite_cents(element: cents_of, compiler: Any, **kw: Any) -> str:
    (amount,) = _parts(element, compiler, **kw)
    half_up = f"(round({amount} * 100, 6) + 0.5)"  # floor() of it, without the optional math functions
    return (
        f"(CASE WHEN abs({amount}) <= {MAX_AMOUNT} THEN "
        f"CAST({half_up} AS INTEGER) - (CAST({half_up} AS INTEGER) > {half_up}) END)"
    )


@compiles(cents_of, "postgresql")
def _postgresql_cents(element: cents_of, compiler: Any, **kw: Any) -> str:
    (amount,) = _parts(element, compiler, **kw)
    return f"(CASE WHEN abs({amount}) <= {MAX_AMOUNT} THEN CAST(FLOOR(ROUND({amount} * 100, 6) + 0.5) AS BIGINT) END)"


@compiles(payment_currency, "sqlite")
def _sqlite_currency(element: payment_currency, compiler: Any, **kw: Any) -> str:
    document, _, key = _parts(element, compiler, **kw)
    path = f"{key} || '.amount.currency'"
    return f"(CASE WHEN json_type({document}, {path}) = 'text' THEN json_extract({document}, {path}) END)"


@compiles(payment_currency, "postgresql")
def _postgresql_currency(element: payment_currency, compiler: Any, **kw: Any) -> str:
    _, value, _ = _parts(element, compiler, **kw)
    return (
        f"(CASE WHEN json_typeof({value} #> '{{amount,currency}}') = 'string' "
        f"THEN {value} #>> '{{amount,currency}}' END)"
    )
