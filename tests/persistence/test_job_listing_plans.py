"""getServiceJobs filtered by store and status reads one index range (SQLite's plans): its count
never visits the seller's other stores' jobs, and its page needs no sort. (On the dashboard bench's
100k-job database, with statistics, the same plans: the count 140 ms -> 0.3 ms.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sp_services.domain.enums import SortField
from sp_services.persistence.repositories.job_listing import _count, _page
from tests.support import migrated

PARAMS: dict[str, Any] = {
    "seller_id": "S1",
    "marketplace_id": "ATVPDKIKX0DER",
    "statuses": ["COMPLETED"],
    "store_ids": ["store-1"],
}


def _plan(db: Any, prepared: Any) -> list[str]:
    compiled = prepared._compile(db.engine.dialect, tuple(len(PARAMS[n]) for n in prepared._expanding))
    values = {**compiled.literals, **PARAMS}
    flat: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, list):
            flat.update({f"{name}_{i + 1}": v for i, v in enumerate(value)})
        else:
            flat[name] = value
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled.sql, tuple(flat[n] for n in compiled.names))
        return [row[-1] for row in rows]


def test_one_store_of_one_status_is_one_index_range(tmp_path: Path) -> None:
    db = migrated(f"sqlite:///{tmp_path / 'plans.db'}")
    try:
        used = frozenset(PARAMS)
        count = _plan(db, _count(used, False))
        page = _plan(db, _page(used, SortField.JOB_DATE, "all", False, True, 21))
    finally:
        db.dispose()
    assert any("ix_jobs_seller_store_status" in step for step in count), count
    assert any("ix_jobs_seller_store_status" in step for step in page), page
    assert not any("TEMP B-TREE" in step for step in page), page
