"""Per-key intake rate limit: a token bucket per API key, in this process.

Why per replica and in memory: the limit protects this process (and the database
behind it) from one runaway sender, and a check that needs no database round trip
costs nothing on the hot path. With N replicas behind a balancer a key can reach N
times the limit; set LEADROUTER_RATE_LIMIT to the global figure divided by N.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.settings import RateLimit


class RateLimiter:
    def __init__(self, limit: RateLimit | None, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> float:
        """Spend one request of `key`'s budget: 0 when allowed, else the seconds until
        one is available (the `Retry-After`). A full bucket allows a burst of the whole
        period's requests."""
        if self.limit is None:
            return 0.0
        capacity = float(self.limit.requests)
        rate = self.limit.requests / self.limit.per_seconds
        now = self.clock()
        tokens, at = self._buckets.get(key, (capacity, now))
        tokens = min(capacity, tokens + (now - at) * rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / rate
