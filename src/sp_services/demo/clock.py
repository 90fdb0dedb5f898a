"""The simulated clock: what is due when, run strictly in time order.

Every step of every job is an entry in one agenda and runs with ``now`` at its own instant, so the
services see the history as it happened: each booking checks the capacity left at that moment,
with every booking made before it counted and none made after it. Ties run in the order they
were planned, which keeps a seeded run reproducible.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

Step = Callable[[datetime], None]


@dataclass(order=True)
class _Entry:
    at: datetime
    seq: int
    step: Step = field(compare=False)


class Agenda:
    """Steps planned for later instants; ``run_until`` runs those due, in order."""

    def __init__(self) -> None:
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self.now: datetime | None = None

    def __len__(self) -> int:
        return len(self._heap)

    def at(self, when: datetime, step: Step) -> None:
        """Plan ``step`` for ``when`` (never before the step running now: history moves forward).
        Steps run with ``now`` in UTC, however their instant was worked out (often store-local)."""
        when = when.astimezone(UTC)
        if self.now is not None and when < self.now:
            when = self.now
        heapq.heappush(self._heap, _Entry(when, next(self._seq), step))

    def run_until(self, end: datetime) -> int:
        """Run every step due before ``end``, including those they plan; how many ran."""
        ran = 0
        while self._heap and self._heap[0].at < end:
            entry = heapq.heappop(self._heap)
            self.now = entry.at
            entry.step(entry.at)
            ran += 1
        return ran
