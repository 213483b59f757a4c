"""Durations as people write them, and back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.durations import format_duration, humanize, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("5m", timedelta(minutes=5)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        (" 15 m ", timedelta(minutes=15)),
    ],
)
def test_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "5", "5 minutes", "-5m", "1.5h", "m5"])
def test_parse_refuses_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match="like 90s, 5m, 2h or 1d"):
        parse_duration(text)


@given(st.integers(0, 10_000_000))
def test_format_round_trips(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


def test_format_picks_the_largest_exact_unit() -> None:
    assert format_duration(timedelta(minutes=120)) == "2h"
    assert format_duration(timedelta(seconds=90)) == "90s"
    assert format_duration(timedelta(days=2)) == "2d"


def test_humanize_shows_two_units() -> None:
    assert humanize(timedelta(seconds=272)) == "4m 32s"
    assert humanize(timedelta(hours=26, minutes=5, seconds=9)) == "1d 2h"
    assert humanize(timedelta(0)) == "0s"
    assert humanize(timedelta(seconds=-75)) == "1m 15s"
