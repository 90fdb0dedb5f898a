"""Token buckets per (seller, application, operation): in-process for one worker, Redis for many.

Taking a token is awaited on the event loop: in-process it is a few arithmetic steps (no lock is
needed, the loop runs one at a time), through Redis a round trip on an asyncio connection."""

from __future__ import annotations

import time
from typing import Protocol

import redis.asyncio

# A Redis that stalls must not hold requests: each round trip is bounded (then 503).
REDIS_TIMEOUT_SECONDS = 1.0


class Limiter(Protocol):
    async def acquire(self, key: str, rate: float, burst: int) -> bool:
        """Take one token from the bucket ``key``; False when it is empty."""

    async def aclose(self) -> None:
        """Release connections (at shutdown)."""

    async def ping(self) -> bool | None:
        """Whether a shared store answers (readiness); None when there is none to ask."""


class MemoryLimiter:
    """Buckets in this process. Correct for a single worker; use :class:`RedisLimiter` for several."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}

    async def acquire(self, key: str, rate: float, burst: int) -> bool:
        now = time.monotonic()
        tokens, stamp = self._buckets.get(key, (float(burst), now))
        tokens = min(float(burst), tokens + (now - stamp) * rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1.0, now)
        return True

    async def aclose(self) -> None:
        return None

    async def ping(self) -> bool | None:
        return None


# Atomic refill-and-take in Redis, timed by the Redis server's clock so all workers agree.
_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or burst
local stamp = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - stamp) * rate)
local ok = 0
if tokens >= 1 then tokens = tokens - 1; ok = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return ok
"""


class RedisLimiter:
    """Buckets shared by every worker and host that uses the same Redis."""

    def __init__(self, url: str, prefix: str = "sp-services:rl:") -> None:
        self._redis = redis.asyncio.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
        )
        self._script = self._redis.register_script(_LUA)
        self._prefix = prefix

    async def acquire(self, key: str, rate: float, burst: int) -> bool:
        return bool(await self._script(keys=[self._prefix + key], args=[rate, burst]))

    async def aclose(self) -> None:
        await self._redis.aclose()

    async def ping(self) -> bool:
        """True when Redis answers (readiness)."""
        return bool(await self._redis.ping())
