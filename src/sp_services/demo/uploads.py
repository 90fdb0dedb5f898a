"""Proof documents written in parallel while a simulated day runs.

A blob store makes each write durable before it returns (the local store fsyncs file and
directory), which for a bulk load of history is most of the time spent on documents. This
wrapper hands writes to a few threads, serves reads of blobs still in flight from memory (the
fulfillment step reads an upload right back to verify it), and ``flush`` waits until every write
is on disk: the simulation flushes before it commits each day, so no committed document lacks its
bytes, as with the store used directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from sp_services.blobs import BlobStore

WORKERS = 8  # concurrent fsyncs share the disk's flushes: about 20x the throughput of one writer


class ParallelBlobs:
    """A ``BlobStore`` whose puts run in the background until ``flush``."""

    def __init__(self, inner: BlobStore, *, workers: int = WORKERS) -> None:
        self.inner = inner
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="simulated-uploads")
        self._pending: dict[str, bytes] = {}
        self._writes: list[Future[None]] = []

    def put(self, key: str, data: bytes) -> None:
        self._pending[key] = data
        self._writes.append(self._pool.submit(self.inner.put, key, data))

    def get(self, key: str) -> bytes | None:
        pending = self._pending.get(key)
        return pending if pending is not None else self.inner.get(key)

    def delete(self, key: str) -> None:
        self.flush()
        self.inner.delete(key)

    def keys(self, prefix: str = "") -> Iterator[str]:
        self.flush()
        return self.inner.keys(prefix)

    def flush(self) -> None:
        """Wait for every write so far; the first failure is raised."""
        writes, self._writes = self._writes, []
        try:
            for write in writes:
                write.result()
        finally:
            self._pending.clear()

    def close(self) -> None:
        self.flush()
        self._pool.shutdown()
