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

    def __len__(self) -> int:
        """Buckets held (keys seen and not yet forgotten)."""
        return len(self._buckets)

    def _tokens(self, limit: RateLimit, key: str, now: float) -> float:
        """`key`'s requests available at `now` (a full bucket when it has none yet)."""
        tokens, at = self._buckets.get(key, (float(limit.requests), now))
        return min(float(limit.requests), tokens + (now - at) * limit.requests / limit.per_seconds)

    def wait(self, key: str) -> float:
        """The seconds until `key` has a request to spend (0: now), spending nothing."""
        if self.limit is None:
            return 0.0
        tokens = self._tokens(self.limit, key, self.clock())
        return 0.0 if tokens >= 1 else (1 - tokens) * self.limit.per_seconds / self.limit.requests

    def forget_full(self) -> None:
        """Drop buckets that have refilled: they behave exactly as absent ones, and keys
        such as client addresses are unbounded in number."""
        if self.limit is None:
            return
        now = self.clock()
        full = [
            key
            for key in self._buckets
            if self._tokens(self.limit, key, now) >= self.limit.requests
        ]
        for key in full:
            del self._buckets[key]

    def take(self, key: str) -> float:
        """Spend one request of `key`'s budget: 0 when allowed, else the seconds until
        one is available (the `Retry-After`). A full bucket allows a burst of the whole
        period's requests."""
        if self.limit is None:
            return 0.0
        now = self.clock()
        tokens = self._tokens(self.limit, key, now)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) * self.limit.per_seconds / self.limit.requests
