"""The Manage Jobs report streams in constant memory (docs/design.md §6): the peak RSS of a served
process is the same whether it streams 5,000 rows or 50,000."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks.report_bench import Owner, bulk_jobs, download, peak_rss_kb

from tests.support import Server, World, database_url, make_world, migrated, start_process_server

ROWS = 50_000
# Were rows held, 45,000 more would take tens of megabytes (a row and its CSV line are ~1 KB);
# a batch in flight is ~2 MB whatever the report's size.
TOLERANCE_KB = 8 * 1024


@pytest.fixture(scope="module")
def served(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, World]]:
    tmp: Path = tmp_path_factory.mktemp(f"report-memory-{backend}")
    db = migrated(database_url(backend, tmp))
    server = start_process_server(db, tmp, workers=1)
    world = make_world(server)
    t0, t1 = world.technician_ids
    bulk_jobs(db, Owner(world.seller_id, world.store_id, world.asin, (t0, t1)), ROWS)
    yield server, world
    server.stop()
    db.dispose()


def test_peak_rss_does_not_grow_with_the_rows_streamed(served: tuple[Server, World]) -> None:
    server, world = served
    assert server._process is not None
    pid = server._process.pid
    for _ in range(2):  # the first report also loads what any report needs (modules, pools, caches)
        assert download(server.url, world.token, 5_000)[0] == 5_000
    small = peak_rss_kb(pid)
    assert download(server.url, world.token, ROWS)[0] == ROWS
    large = peak_rss_kb(pid)
    print(f"peak RSS: {small / 1024:.1f} MB after 5,000 rows, {large / 1024:.1f} MB after {ROWS:,}")
    assert large - small < TOLERANCE_KB
