"""Lenient parameter reading with strict meaning (docs/design.md §2).

Array parameters accept both ``a,b`` and repeated keys; some parameters may also come from the
JSON body when absent from the query (python-amazon-sp-api puts them there on PUT/POST). Every bad
parameter of a request is collected and reported together in one 400.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from fastapi import Request

from sp_services.domain import ids
from sp_services.domain.enums import JobStatus
from sp_services.domain.errors import InvalidInput
from sp_services.domain.job_query import JobQuery
from sp_services.domain.marketplaces import marketplace
from sp_services.domain.times import parse_iso

E = TypeVar("E", bound=StrEnum)


async def json_body(request: Request) -> Any:
    """The parsed JSON body, None when empty; 400 when it is not JSON."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        body = json.loads(raw)
        # JSON escapes can spell lone surrogates ("\ud800"), which are not text: refuse them here
        # rather than fail later when a message echoes them or a database stores them.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError, RecursionError):
        raise InvalidInput.params(["body"], "The request body is not valid JSON.") from None
    return body


class Params:
    """Reads query parameters (with optional JSON-body fallbacks) and collects what is wrong."""

    def __init__(self, request: Request, body: Any = None, body_fallbacks: Sequence[str] = ()) -> None:
        self._query = request.query_params
        self._body = body if isinstance(body, dict) else {}
        self._fallbacks = set(body_fallbacks)
        self.bad: list[str] = []
        self.notes: list[str] = []

    def _fail(self, name: str, note: str) -> None:
        if name not in self.bad:
            self.bad.append(name)
            self.notes.append(f"{name}: {note}")

    def _raw_values(self, name: str) -> list[str] | None:
        values = self._query.getlist(name)
        if values:
            return values
        if name in self._fallbacks and name in self._body:
            value = self._body[name]
            if isinstance(value, list):
                return [v if isinstance(v, str) else json.dumps(v) for v in value]
            return [value if isinstance(value, str) else json.dumps(value)]
        return None

    def string(
        self,
        name: str,
        *,
        required: bool = False,
        max_length: int | None = None,
        pattern: re.Pattern[str] | None = None,
    ) -> str | None:
        values = self._raw_values(name)
        if values is None:
            if required:
                self._fail(name, "is required")
            return None
        value = values[-1] if values else ""
        if value == "" or (max_length and len(value) > max_length) or (pattern and not pattern.match(value)):
            self._fail(name, "is not a valid value")
            return None
        return value

    def array(
        self,
        name: str,
        *,
        required: bool = False,
        max_items: int | None = None,
        item_pattern: re.Pattern[str] | None = None,
        item_min: int = 1,
        item_max: int | None = None,
    ) -> tuple[str, ...]:
        raw = self._raw_values(name)
        if raw is None:
            if required:
                self._fail(name, "is required")
            return ()
        items = [part.strip() for value in raw for part in value.split(",")]
        items = [i for i in items if i]
        if not items:
            self._fail(name, "needs at least one value")
            return ()
        if max_items is not None and len(items) > max_items:
            self._fail(name, f"accepts at most {max_items} values")
            return ()
        for item in items:
            if (
                len(item) < item_min
                or (item_max and len(item) > item_max)
                or (item_pattern and not item_pattern.match(item))
            ):
                self._fail(name, f"has an invalid value {item!r}")
                return ()
        return tuple(dict.fromkeys(items))

    def enum_array(self, name: str, enum: type[E], *, max_items: int | None = None) -> tuple[E, ...]:
        values = self.array(name, max_items=max_items)
        try:
            return tuple(enum(v) for v in values)
        except ValueError:
            self._fail(name, f"accepts only {', '.join(e.value for e in enum)}")
            return ()

    def enum(self, name: str, enum: type[E], default: E) -> E:
        value = self.string(name)
        if value is None:
            return default
        try:
            return enum(value)
        except ValueError:
            self._fail(name, f"accepts only {', '.join(e.value for e in enum)}")
            return default

    def integer(self, name: str, *, default: int, minimum: int, maximum: int) -> int:
        value = self.string(name)
        if value is None:
            return default
        if not re.fullmatch(r"[+-]?\d{1,9}", value.strip()) or not minimum <= int(value) <= maximum:
            self._fail(name, f"must be an integer from {minimum} to {maximum}")
            return default
        return int(value)

    def instant(self, name: str) -> datetime | None:
        value = self.string(name)
        if value is None:
            return None
        parsed = parse_iso(value)
        if parsed is None:
            self._fail(name, "must be an ISO 8601 date-time")
            return None
        return parsed[0]

    def check(self) -> None:
        """Raise one 400 naming every bad parameter seen so far."""
        if self.bad:
            raise InvalidInput.params(self.bad, "; ".join(self.notes))


def marketplace_of(p: Params) -> str:
    """The one marketplace id of a request (query, or the JSON body as a fallback); 400 otherwise."""
    values = p.array("marketplaceIds", required=True, max_items=1, item_pattern=ids.MARKETPLACE_ID)
    p.check()
    return values[0]


def job_filters(p: Params) -> JobQuery:
    """getServiceJobs' filters, read as leniently as getServiceJobs reads them (its sorting and
    paging parameters aside); bad ones are collected in ``p``."""
    marketplace_ids = p.array("marketplaceIds", required=True, max_items=1, item_pattern=ids.MARKETPLACE_ID)
    if marketplace_ids and marketplace(marketplace_ids[0]) is None:
        p.bad.append("marketplaceIds")
        p.notes.append(f"marketplaceIds: unknown marketplace {marketplace_ids[0]}")
    return JobQuery(
        marketplace_id=marketplace_ids[0] if marketplace_ids else "",
        service_order_ids=p.array("serviceOrderIds", max_items=20, item_pattern=ids.ORDER_ID_FILTER),
        product_order_ids=p.array("productOrderIds", max_items=20, item_pattern=ids.ORDER_ID_FILTER),
        tracking_ids=p.array("trackingIds", max_items=20, item_pattern=ids.TRACKING_ID),
        statuses=p.enum_array("serviceJobStatus", JobStatus),
        asins=p.array("asins", max_items=20, item_min=10, item_max=10),
        required_skills=p.array("requiredSkills", max_items=20, item_max=50),
        store_ids=p.array("storeIds", max_items=50, item_max=100),
        created_after=p.instant("createdAfter"),
        created_before=p.instant("createdBefore"),
        updated_after=p.instant("lastUpdatedAfter"),
        updated_before=p.instant("lastUpdatedBefore"),
        schedule_start=p.instant("scheduleStartDate"),
        schedule_end=p.instant("scheduleEndDate"),
    )
