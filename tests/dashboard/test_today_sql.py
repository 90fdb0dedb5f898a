"""Today's queries read through indexes (SQLite's plans: no full scan of jobs or appointments),
so their cost follows the jobs that need action, not every job the seller ever had."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from sp_services.domain.enums import JobStatus
from sp_services.services import dispatch
from sp_services.services.dispatch import Need
from tests.support import World, database_url, make_world, migrated, start_server

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
    _check_plans(world)


def test_the_plans_hold_with_the_planners_statistics(tmp_path: Path) -> None:
    """As the simulator leaves a database (ANALYZE over several sellers' history): with these
    statistics SQLite answered an OR of two start ranges (the Late list, before it was one range)
    with a MULTI-INDEX OR and a TEMP B-TREE sort. SQLite only: PostgreSQL is held by the test above."""
    db = migrated(database_url("sqlite", tmp_path))
    server = start_server(db, tmp_path)
    try:
        world = make_world(server)
        now = server.clock()
        world.job(order_jobs=3)
        world.job(JobStatus.NOT_SERVICED, order_jobs=80)
        world.job(JobStatus.COMPLETED, created_at=now - timedelta(days=10), order_jobs=8)
        for hours in (0.5, 1.5, 5, 30, 100):  # running, over, and long over
            world.job(starts_at=(now - timedelta(hours=hours)).replace(second=0, microsecond=0))
        for _ in range(2):  # other sellers' history: the seller's rows are a few among many
            make_world(server).job(JobStatus.COMPLETED, created_at=now - timedelta(days=20), order_jobs=250)
        db.analyze()
        _check_plans(world)
    finally:
        server.stop()
        db.dispose()


def _check_plans(world: World) -> None:
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
