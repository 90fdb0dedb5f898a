"""The getServiceJobs filter and its documented rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .enums import JobStatus, SortField, SortOrder
from .errors import InvalidInput

MAX_PAGE_SIZE = 20


@dataclass(frozen=True)
class JobQuery:
    """Everything getServiceJobs can filter, sort and page by (services.json)."""

    marketplace_id: str
    service_order_ids: tuple[str, ...] = ()
    product_order_ids: tuple[str, ...] = ()
    tracking_ids: tuple[str, ...] = ()
    statuses: tuple[JobStatus, ...] = ()
    asins: tuple[str, ...] = ()
    required_skills: tuple[str, ...] = ()
    store_ids: tuple[str, ...] = ()
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    schedule_start: datetime | None = None
    schedule_end: datetime | None = None
    sort_field: SortField = SortField.JOB_DATE
    sort_order: SortOrder = SortOrder.ASC
    page_size: int = MAX_PAGE_SIZE

    def validate(self) -> None:
        """Raise 400 for the cross-parameter rules of the model's parameter descriptions."""
        if (self.created_after is None) == (self.updated_after is None):
            raise InvalidInput.params(
                ["createdAfter", "lastUpdatedAfter"],
                "Exactly one of createdAfter or lastUpdatedAfter is required.",
            )
        if self.created_after and self.created_before and self.created_before < self.created_after:
            raise InvalidInput.params(["createdBefore"], "createdBefore must not be earlier than createdAfter.")
        if self.updated_after and self.updated_before and self.updated_before < self.updated_after:
            raise InvalidInput.params(
                ["lastUpdatedBefore"], "lastUpdatedBefore must not be earlier than lastUpdatedAfter."
            )
        if self.schedule_start and self.schedule_end and self.schedule_end < self.schedule_start:
            raise InvalidInput.params(
                ["scheduleEndDate"], "Schedule end date should not be earlier than schedule start date."
            )
