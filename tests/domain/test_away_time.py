"""`/leads away [until TIME]` read in the rep's own timezone, across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.away_time import away_until
from domain.errors import DomainError

NY = "America/New_York"
# Wednesday 2 December 2026, 15:00 UTC = 10:00 in New York.
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("for 2h", NOW + timedelta(hours=2)),
        ("90m", NOW + timedelta(minutes=90)),
        ("until 17:30", datetime(2026, 12, 2, 22, 30, tzinfo=UTC)),  # today 17:30 EST
        ("until 09:00", datetime(2026, 12, 3, 14, 0, tzinfo=UTC)),  # passed: tomorrow
        ("until tomorrow", datetime(2026, 12, 3, 5, 0, tzinfo=UTC)),  # Thu 00:00 EST
        ("until fri 09:00", datetime(2026, 12, 4, 14, 0, tzinfo=UTC)),
        ("until wed", datetime(2026, 12, 9, 5, 0, tzinfo=UTC)),  # next Wednesday, not today
        ("until 2026-12-24", datetime(2026, 12, 24, 5, 0, tzinfo=UTC)),
    ],
)
def test_away_until_reads_the_reps_local_time(text: str, expected: datetime | None) -> None:
    assert away_until(text.split(), NOW, NY) == expected


def test_a_day_after_the_dst_change_uses_that_days_offset() -> None:
    # Friday 6 March 2026 (EST); New York springs forward on Sunday 8 March.
    friday = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
    assert away_until(["until", "mon", "09:00"], friday, NY) == datetime(
        2026, 3, 9, 13, 0, tzinfo=UTC
    )  # 09:00 EDT


@pytest.mark.parametrize(
    "text", ["until", "until 25:00", "until someday", "soon please", "for -2h", "until 2026-01-01"]
)
def test_anything_else_is_refused_with_the_usage(text: str) -> None:
    with pytest.raises(DomainError, match="Usage"):
        away_until(text.split(), NOW, NY)
