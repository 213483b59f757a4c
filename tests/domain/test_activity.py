"""Activity input: well formed or refused whole, with every problem named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.activity import parse_activity
from domain.errors import InvalidInput

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def test_an_activity_defaults_to_now_and_lowercases_its_type() -> None:
    parsed = parse_activity({"type": "Pricing_Page", "points": 5}, NOW)
    activity = parsed.activity(NOW)
    assert (activity.kind, activity.at, activity.points) == ("pricing_page", NOW, 5)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "type", "Field required"),
        ({"type": "x", "score": 3}, "score", "unknown field"),
        ({"type": "a b"}, "type", "pattern"),
        ({"type": "x", "points": 500}, "points", "less than or equal"),
        ({"type": "x", "at": "2026-03-02T10:00:00"}, "at", "needs a timezone"),
        ({"type": "x", "at": (NOW + timedelta(hours=1)).isoformat()}, "at", "in the future"),
        ([], "", "expected a JSON object"),
    ],
)
def test_bad_activity_is_refused_with_its_field(data: object, field: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_activity(data, NOW)
    (error,) = caught.value.errors
    assert error.path == (field or "") and message in error.message
