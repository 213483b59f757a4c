"""Slack's rate limits as token buckets: per channel for posts, per method for the
workspace. Each replica keeps to its share (bot.worker.outbox's heartbeat sets it)."""

from __future__ import annotations

from datetime import datetime, timedelta

TIERS: dict[str, tuple[float, int]] = {
    "chat.postMessage": (5.0, 30),  # beside the per-channel limit; "several hundred a minute"
    "chat.update": (50 / 60, 50),  # tier 3: 50+ a minute, bursts allowed
    "conversations.history": (50 / 60, 50),  # tier 3
    "conversations.open": (50 / 60, 50),  # tier 3
}
"""Slack's workspace-wide budget per Web API method: (calls per second, burst)."""


class RateBudget:
    """A token bucket per key. Per channel: about one post a second with a small burst,
    Slack's own limit."""

    def __init__(self, per_second: float = 1.0, burst: int = 3):
        self._limit = (per_second, burst)
        self.per_second = per_second
        self.burst = burst
        self._tokens: dict[str, tuple[float, datetime]] = {}

    def share(self, fraction: float) -> None:
        """Keep to `fraction` of the limit: the rest belongs to the other replicas. A
        burst of at least one, or nothing could ever be sent."""
        per_second, burst = self._limit
        self.per_second = per_second * fraction
        self.burst = max(1, round(burst * fraction))

    def _refilled(self, key: str, now: datetime) -> float:
        tokens, stamp = self._tokens.get(key, (float(self.burst), now))
        return min(self.burst, tokens + (now - stamp).total_seconds() * self.per_second)

    def wait_needed(self, key: str, now: datetime) -> timedelta:
        """Zero (and one token spent) if a call may go now, else how long until it may."""
        tokens = self._refilled(key, now)
        if tokens >= 1:
            self._tokens[key] = (tokens - 1, now)
            return timedelta(0)
        self._tokens[key] = (tokens, now)
        return timedelta(seconds=(1 - tokens) / self.per_second)

    def reserve(self, key: str, now: datetime, longest: timedelta) -> timedelta:
        """Spend a token even if the bucket is short (going into debt) and say how long to
        wait before using it: callers queue up in order instead of all retrying at once.
        A wait over `longest` is only reported, and nothing is spent."""
        tokens = self._refilled(key, now)
        wait = timedelta(seconds=max(0.0, (1 - tokens) / self.per_second))
        self._tokens[key] = (tokens if wait > longest else tokens - 1, now)
        return wait

    def pause(self, key: str, now: datetime, seconds: float) -> None:
        """Slack said 429 with `Retry-After: seconds`: nothing for `key` goes before then
        (a debt of tokens, so the bucket refills from there at its normal pace)."""
        debt = 1 - seconds * self.per_second
        self._tokens[key] = (min(self._refilled(key, now), debt), now)


class WorkspaceBudget:
    """Slack's workspace-wide limit per method (its rate-limit tiers), shared by every
    sender of this process: a burst is allowed, then the tier's pace. `scale` adapts the
    tiers to a workspace Slack granted more (or a test's fake)."""

    def __init__(self, scale: float = 1.0, tiers: dict[str, tuple[float, int]] = TIERS):
        self._budgets = {
            method: RateBudget(rate * scale, max(1, round(burst * scale)))
            for method, (rate, burst) in tiers.items()
        }

    def share(self, fraction: float) -> None:
        for budget in self._budgets.values():
            budget.share(fraction)

    def reserve(self, method: str, now: datetime, longest: timedelta) -> timedelta:
        """How long to wait before calling `method`; up to `longest`, the call's token is
        already spent, beyond it nothing is (the caller comes back later)."""
        budget = self._budgets.get(method)
        return budget.reserve(method, now, longest) if budget else timedelta(0)

    def pause(self, method: str, now: datetime, seconds: float) -> None:
        budget = self._budgets.get(method)
        if budget is not None:
            budget.pause(method, now, seconds)
