"""What an analytics or report request asks for (docs/design.md §6): whose data, which store-local
days, grouped how, and for which stores and technicians. Pure: parsing is the API's, ownership
checks the services'."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

MAX_DAYS = 366  # the longest range one request may cover


class GroupBy(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    NONE = "none"


@dataclass(frozen=True)
class AnalyticsQuery:
    """A range of store-local days [start, end] (both included), grouped by ``group_by``.

    Empty ``store_ids`` / ``technician_ids`` mean all of the seller's."""

    seller_id: str
    marketplace_id: str
    start: date
    end: date
    group_by: GroupBy = GroupBy.NONE
    store_ids: tuple[str, ...] = ()
    technician_ids: tuple[str, ...] = ()

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def period_of(day: date, group_by: GroupBy) -> str | None:
    """The label of the period a store-local day falls in: ``2026-11-30`` (day), ``2026-W49``
    (ISO week, Monday first), ``2026-11`` (month); None when not grouped."""
    if group_by is GroupBy.DAY:
        return day.isoformat()
    if group_by is GroupBy.WEEK:
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if group_by is GroupBy.MONTH:
        return f"{day.year:04d}-{day.month:02d}"
    return None


def periods(start: date, end: date, group_by: GroupBy) -> list[str | None]:
    """Every period label of [start, end], in order (one None when not grouped)."""
    if group_by is GroupBy.NONE:
        return [None]
    labels: list[str | None] = []
    # Day ordinals rather than dates: the walk may end on 9999-12-31, past which no date exists.
    for ordinal in range(start.toordinal(), end.toordinal() + 1):
        label = period_of(date.fromordinal(ordinal), group_by)
        if not labels or labels[-1] != label:
            labels.append(label)
    return labels
