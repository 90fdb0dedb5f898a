"""Serialised jobs kept per worker, by (job id, revision).

A job's revision grows with every change its wire shape shows (persistence/repositories/jobs.py:
``record``, ``set_job_status``), so the JSON of one revision never goes stale: a read that finds
the revision it holds sends those bytes instead of reading, decoding and mapping the job again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from threading import Lock

DEFAULT_CAPACITY = 20_000


class JobDocuments:
    """A bounded least-recently-used map (job id → (revision, JSON bytes))."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[str, tuple[int, bytes]] = OrderedDict()
        self._lock = Lock()  # reads of PostgreSQL run on worker threads

    def get(self, job_id: str, revision: int) -> bytes | None:
        with self._lock:
            entry = self._entries.get(job_id)
            if entry is None or entry[0] != revision:
                return None
            self._entries.move_to_end(job_id)
            return entry[1]

    def put(self, job_id: str, revision: int, body: bytes) -> bytes:
        with self._lock:
            self._entries[job_id] = (revision, body)
            self._entries.move_to_end(job_id)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        return body

    def taking(self, held: dict[str, bytes]) -> Callable[[str, int], bool]:
        """A ``known`` predicate for the services that also takes the bytes it vouches for into
        ``held``, so an entry evicted meanwhile cannot leave a hole."""

        def known(job_id: str, revision: int) -> bool:
            body = self.get(job_id, revision)
            if body is not None:
                held[job_id] = body
            return body is not None

        return known
