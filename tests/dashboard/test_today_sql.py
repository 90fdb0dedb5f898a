"""Today's queries read through indexes (SQLite's plans: no full scan of jobs or appointments),
so their cost follows the jobs that need action, not every job the seller ever had."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from sp_services.services import dispatch
from sp_services.services.dispatch import Need
from tests.support import World

OURS = ("ix_jobs_seller_status", "ix_appointments_seller_status_start")


@contextmanager
def _statements(world: World) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    engine = world.server.db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_todays_counts_and_lists_use_indexes(world: World) -> None:
    world.job()
    with _statements(world) as seen, world.server.db.transaction(write=False) as session:
        now = world.server.clock()
        dispatch.needs_today(session, seller_id=world.seller_id, marketplace_id="ATVPDKIKX0DER", now=now)
        # Each list's first page, and a later one (after a key: the next page starts in the index too).
        for need in Need:
            for after in (None, f"{now.isoformat()}|x"):
                dispatch.needs_page(
                    session, seller_id=world.seller_id, marketplace_id="ATVPDKIKX0DER", need=need, after=after, now=now
                )
    assert len(seen) == 2 + 2 * len(Need)
    with world.server.db.engine.connect() as conn:
        for statement, parameters in seen:
            if world.server.db.embedded:
                plan = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
                assert [step for step in plan if step.startswith("SCAN ") and "USING" not in step] == [], plan
                assert not any("TEMP B-TREE" in step for step in plan), plan  # each list is read in its order
                assert any(index in step for step in plan for index in OURS), plan
            else:
                # PostgreSQL picks by its statistics (a tiny table is scanned whole): asked to avoid
                # scans and sorts, it must find an index that serves the query, in its order.
                conn.exec_driver_sql("SET enable_seqscan = off")
                conn.exec_driver_sql("SET enable_sort = off")
                plan = [row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters)]
                conn.exec_driver_sql("RESET ALL")
                assert not any("Seq Scan" in step or "Sort" in step for step in plan), plan
                assert _every_index_scan_is_a_search(plan), plan


def _every_index_scan_is_a_search(plan: list[str]) -> bool:
    """No index is walked whole: each index scan node of PostgreSQL's plan has an Index Cond."""
    nodes: list[list[str]] = []
    for line in plan:
        if "->" in line or not nodes:
            nodes.append([line])
        else:
            nodes[-1].append(line)
    scans = [n for n in nodes if "Index Scan" in n[0] or "Index Only Scan" in n[0]]
    return bool(scans) and all(any("Index Cond" in line for line in n) for n in scans)
