"""The database's minute arithmetic agrees with the domain's, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import literal, select

from sp_services.domain.recurrence import to_minute
from sp_services.persistence.sql import epoch_minute
from sp_services.persistence.tables import UTCDateTime
from tests.support import Server

EDGES = [
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 30, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 0, 500000, tzinfo=UTC),
    datetime(1960, 1, 1, tzinfo=UTC),
    datetime(2030, 3, 10, 7, 0, 59, 999999, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
]


def _in_db(server: Server, instant: datetime) -> int:
    with server.db.transaction(write=False) as s:
        return int(s.scalar(select(epoch_minute(literal(instant, UTCDateTime())))))


def test_edges(server: Server) -> None:
    assert [_in_db(server, d) for d in EDGES] == [to_minute(d) for d in EDGES]


@settings(max_examples=60, deadline=None)
@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9999, 1, 1)))
def test_any_instant(server: Server, naive: datetime) -> None:
    instant = naive.replace(tzinfo=UTC)
    assert _in_db(server, instant) == to_minute(instant)
