"""The per-key token bucket, on a clock the test moves.

Why: a runaway sender must get 429s with an honest Retry-After, while every other key
and the same key after waiting go through.
"""

from __future__ import annotations

import pytest

from bot.api.rate_limit import RateLimiter
from bot.settings import RateLimit, parse_rate_limit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_the_whole_period_then_one_per_interval() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimit(60, 60.0), clock)
    assert [limiter.take("webform") for _ in range(60)] == [0.0] * 60
    assert limiter.take("webform") == pytest.approx(1.0)
    assert limiter.take("crm") == 0.0  # buckets are per key
    clock.now += 0.5
    assert limiter.take("webform") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.take("webform") == 0.0
    assert limiter.take("webform") == pytest.approx(1.0)
    clock.now += 3600
    assert [limiter.take("webform") for _ in range(60)] == [0.0] * 60  # refilled, capped
    assert limiter.take("webform") > 0


def test_no_limit_allows_everything() -> None:
    limiter = RateLimiter(None, Clock())
    assert all(limiter.take("k") == 0.0 for _ in range(10_000))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("600/min", RateLimit(600, 60.0)),
        ("20/s", RateLimit(20, 1.0)),
        (" 5000/H ", RateLimit(5000, 3600.0)),
        ("off", None),
        ("", None),
    ],
)
def test_parses_rate_limits(text: str, expected: RateLimit | None) -> None:
    assert parse_rate_limit(text) == expected


@pytest.mark.parametrize("text", ["600", "0/min", "ten/min", "5/fortnight", "-1/s"])
def test_refuses_malformed_rate_limits(text: str) -> None:
    with pytest.raises(ValueError, match="N/s, N/min or N/h"):
        parse_rate_limit(text)
