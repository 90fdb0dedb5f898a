"""Capacity engine benchmark (`make bench`): the engine vs a naive per-slot scan in the same run
(target: at least 500x), and 1,000 resources x 90 days through the batched reads (reported).
End-to-end HTTP figures are benchmarks/http_bench.py's.

Prints figures and ratios; asserts nothing (targets live here, not in the test suite).
"""

from __future__ import annotations

import operator
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sp_services.domain.capacity import (
    combine,
    fixed_buckets,
    scheduled_runs,
    sum_runs,
    to_minute,
)
from sp_services.domain.recurrence import Availability, Recurrence, occurrences
from sp_services.domain.slots import appointment_slots, grid_starts

TZ = ZoneInfo("America/New_York")
START = datetime(2030, 3, 4, tzinfo=UTC)
DAYS = 90
DURATION = 60
STEP = 60


def weekly_schedule() -> list[Availability]:
    local = START.astimezone(TZ).replace(hour=8, minute=0)
    until = START + timedelta(days=DAYS + 1)
    return [
        Availability(local, local.replace(hour=18), 4, Recurrence(until, frozenset(range(5)), frozenset())),
        Availability(local.replace(hour=9), local.replace(hour=13), 2, Recurrence(until, frozenset({5}), frozenset())),
    ]


def reservations(n: int, rng: random.Random) -> list[Availability]:
    result = []
    for _ in range(n):
        day = rng.randrange(DAYS)
        start = START + timedelta(days=day, hours=rng.randrange(13, 22), minutes=rng.choice((0, 15, 30, 45)))
        result.append(Availability(start, start + timedelta(minutes=rng.choice((15, 30, 60, 90))), 1))
    return result


def as_loaded(reserved: list[Availability]) -> list[tuple[int, int, int]]:
    """One-off reservations as the repository hands them to the engine: minute intervals."""
    return [(to_minute(r.start), to_minute(r.end), r.capacity) for r in reserved]


def engine(schedule: list[Availability], reserved: list[tuple[int, int, int]]) -> tuple[int, int]:
    window = (to_minute(START), to_minute(START + timedelta(days=DAYS)) + DURATION)
    sched = scheduled_runs(schedule, tz=TZ, window=window)
    res = sum_runs(reserved, window=window)
    enc = sum_runs([], window=window)
    # As services.capacity.capacity_views does: nothing is booked here, so only reservations subtract.
    avail = combine(sched, res, operator.sub)
    starts = grid_starts((window[0], window[1] - DURATION), tz=TZ, step_minutes=STEP)
    slots = appointment_slots(starts, DURATION, scheduled=sched, available=avail)
    buckets = fixed_buckets(
        (window[0], window[1] - DURATION), 30, scheduled=sched, reserved=res, encumbered=enc, available=avail
    )
    return len(slots), len(buckets)


def naive(schedule: list[Availability], reserved: list[Availability]) -> tuple[int, int]:
    """What one writes first: for every slot and bucket, scan every interval minute by minute."""
    window = (to_minute(START), to_minute(START + timedelta(days=DAYS)) + DURATION)
    sched = [(s, e, a.capacity) for a in schedule for s, e in occurrences(a, tz=TZ, window=window)]
    res = [(s, e, r.capacity) for r in reserved for s, e in occurrences(r, tz=TZ, window=window)]

    def at(minute: int) -> tuple[int, int]:
        scheduled = 0
        for s, e, c in sched:  # later records override earlier ones
            if s <= minute < e:
                scheduled = c
        reserved_now = sum(c for s, e, c in res if s <= minute < e)
        return scheduled, scheduled - reserved_now

    slots = 0
    for start in grid_starts((window[0], window[1] - DURATION), tz=TZ, step_minutes=STEP):
        values = [at(m) for m in range(start, start + DURATION)]
        if all(v[0] > 0 for v in values):
            slots += 1
    buckets = 0
    for b in range(window[0], window[1] - DURATION, 30):
        [at(m) for m in range(b, min(b + 30, window[1] - DURATION))]
        buckets += 1
    return slots, buckets


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return sorted(out)


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))]


def main() -> None:
    rng = random.Random(7)
    schedule, reserved = weekly_schedule(), reservations(300, rng)
    loaded = as_loaded(reserved)
    # The engine is timed first: after the naive scan's millions of short-lived objects the
    # allocator is measurably slower for a while, which is the naive scan's cost, not the engine's.
    e = timed(lambda: engine(schedule, loaded), 200)
    results: list[tuple[int, int]] = []
    n = timed(lambda: results.append(naive(schedule, reserved)), 3)
    assert engine(schedule, loaded) == results[0], "engine and naive scan disagree"
    print("machine:", _machine())
    print(f"1 resource, {DAYS} days, weekly schedule, 300 reservations: slots (60 min on a 60 min grid) + fixed 30-min")
    print(f"  engine        p50 {statistics.median(e):8.2f} ms   p95 {pct(e, 0.95):8.2f} ms   min {e[0]:6.2f} ms")
    print(f"  naive scan    p50 {statistics.median(n):8.2f} ms")
    ratio = statistics.median(n) / statistics.median(e)
    print(f"  ratio naive/engine: {ratio:.0f}x   (target >= 500x: {'met' if ratio >= 500 else 'MISSED'})")
    many_resources()


def _machine() -> str:
    import os
    import platform

    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _server() -> tuple[object, object]:
    """A server on a fresh SQLite database (only its database and world are used)."""
    from tests.support import make_world, migrated, start_server

    tmp = Path(tempfile.mkdtemp())
    db = migrated(f"sqlite:///{tmp / 'bench.db'}")
    server = start_server(db, tmp, rate_limit="off")
    return server, make_world(server)


def many_resources() -> None:
    from sp_services.domain.marketplaces import US
    from sp_services.domain.resources import Resource, ResourceKind
    from sp_services.persistence.repositories.capacity import CapacityRepository
    from sp_services.services.capacity import capacity_views

    server, world = _server()
    now = server.clock()  # type: ignore[attr-defined]
    schedule = weekly_schedule()
    ids = [f"R{i:05d}" for i in range(1000)]
    with server.db.transaction() as s:  # type: ignore[attr-defined]
        repo = CapacityRepository(s)
        for rid in ids:
            repo.replace_schedule(rid, world.seller_id, schedule, now=now)  # type: ignore[attr-defined]
    resources = [
        Resource(rid, world.seller_id, ResourceKind.TECHNICIAN, "America/New_York", (US,))  # type: ignore[attr-defined]
        for rid in ids
    ]
    window = (to_minute(START), to_minute(START + timedelta(days=DAYS)))

    def run() -> None:
        with server.db.transaction(write=False) as s:  # type: ignore[attr-defined]
            views = capacity_views(s, resources, window)
            assert len(views) == 1000

    t = timed(run, 5)
    print(f"1,000 resources x {DAYS} days (batched: 3 queries): p50 {statistics.median(t):.0f} ms")
    server.stop()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
