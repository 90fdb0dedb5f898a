"""getRangeSlotCapacity and getFixedSlotCapacity: the capacity step functions, paged by time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from sp_services.domain.capacity import Run, fixed_buckets, to_minute, value_runs
from sp_services.domain.errors import ErrorItem, InvalidInput
from sp_services.domain.paging import Cursor, decode_cursor, encode_cursor
from sp_services.domain.recurrence import ceil_minute
from sp_services.domain.resources import CapacityType
from sp_services.services.capacity import CapacityView, capacity_views, load_resource

PAGE_MINUTES = 35 * 24 * 60  # a page covers at most 35 days …
PAGE_ITEMS = 500  # … or 500 runs of one capacity type / 500 buckets


def report_error(detail: str) -> InvalidInput:
    """The capacity reports' 400 shape: a fixed message and the problems in ``details``."""
    return InvalidInput(
        ErrorItem("InvalidInput", "This is invalid input", f"Received the following errors: [{detail}]")
    )


def _page_start(token: str | None, *, kind: str, resource_id: str, query: tuple[int, ...], secret: bytes) -> int:
    """Where this page starts: the query's start, or where the token's page left off.

    ``query`` is what the token is bound to: (start, end) and, for fixed buckets, the slot duration."""
    if not token:
        return query[0]
    try:
        cursor = decode_cursor(token, secret=secret, param="nextPageToken")
    except InvalidInput:
        raise report_error("nextPageToken is not valid") from None
    # A token only continues the query it was issued for.
    if (cursor.sort, cursor.order, tuple(cursor.key[1:])) != (kind, resource_id, query):
        raise report_error("nextPageToken does not belong to this query")
    return int(cursor.key[0])


def _token(kind: str, resource_id: str, page_end: int, query: tuple[int, ...], secret: bytes) -> str | None:
    if page_end >= query[1]:
        return None
    return encode_cursor(Cursor(kind, resource_id, "next", (page_end, *query)), secret=secret)


def _series(view: CapacityView, kind: CapacityType) -> list[Run]:
    return {
        CapacityType.SCHEDULED: view.scheduled,
        CapacityType.AVAILABLE: view.available,
        CapacityType.ENCUMBERED: view.encumbered,
        CapacityType.RESERVED: view.reserved,
    }[kind]


@dataclass(frozen=True)
class RangeReport:
    resource_id: str
    capacities: list[tuple[CapacityType, list[Run]]]
    next_token: str | None


def range_capacity(
    session: Session,
    *,
    seller_id: str,
    resource_id: str,
    marketplace_id: str,
    types: list[CapacityType],
    start: datetime,
    end: datetime,
    page_token: str | None,
    secret: bytes,
) -> RangeReport:
    """Maximal runs of constant capacity per requested type, clipped to the page's window."""
    q_start, q_end = to_minute(start), to_minute(ceil_minute(end))
    page_start = _page_start(page_token, kind="range", resource_id=resource_id, query=(q_start, q_end), secret=secret)
    page_end = min(q_end, page_start + PAGE_MINUTES)
    resource = load_resource(session, seller_id=seller_id, resource_id=resource_id, marketplace_id=marketplace_id)
    view = capacity_views(session, [resource], (page_start, page_end))[resource_id]
    series = [(kind, _series(view, kind)) for kind in types]
    # Too many runs for one page: end the page where the first type reaches its limit.
    for _, runs in series:
        if len(runs) > PAGE_ITEMS:
            page_end = min(page_end, runs[PAGE_ITEMS][0])
    clipped = [(kind, value_runs(runs, window=(page_start, page_end))) for kind, runs in series]
    return RangeReport(resource_id, clipped, _token("range", resource_id, page_end, (q_start, q_end), secret))


@dataclass(frozen=True)
class FixedReport:
    resource_id: str
    slot_duration: int
    buckets: list[tuple[int, int, int, int, int]]  # (start, scheduled, available, reserved, encumbered)
    next_token: str | None


def fixed_capacity(
    session: Session,
    *,
    seller_id: str,
    resource_id: str,
    marketplace_id: str,
    slot_duration: int,
    start: datetime,
    end: datetime,
    page_token: str | None,
    secret: bytes,
) -> FixedReport:
    """Buckets of ``slot_duration`` minutes: scheduled/available are minima, reserved/encumbered maxima."""
    resource = load_resource(session, seller_id=seller_id, resource_id=resource_id, marketplace_id=marketplace_id)
    q_start, q_end = to_minute(start), to_minute(ceil_minute(end))
    bound = (q_start, q_end, slot_duration)
    page_start = _page_start(page_token, kind="fixed", resource_id=resource_id, query=bound, secret=secret)
    per_page = min(PAGE_ITEMS, PAGE_MINUTES // slot_duration) * slot_duration
    page_end = min(q_end, page_start + per_page)
    view = capacity_views(session, [resource], (page_start, page_end))[resource_id]
    buckets = fixed_buckets(
        (page_start, page_end),
        slot_duration,
        scheduled=view.scheduled,
        reserved=view.reserved,
        encumbered=view.encumbered,
        available=view.available,
    )
    return FixedReport(resource_id, slot_duration, buckets, _token("fixed", resource_id, page_end, bound, secret))
