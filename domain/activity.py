"""Behaviour after intake, as a sender reports it: `POST /api/leads/{id}/activity` with
`{"type": "pricing_page", "at"?, "points"?, "attributes"?}`. The scoring model decides
what it is worth (domain.scoring); this module only says whether it is well formed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.errors import FieldError, InvalidInput
from domain.lead import validate_input
from domain.scoring import Activity

MAX_CLOCK_SKEW = timedelta(minutes=5)


class ActivityInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    at: datetime | None = None
    points: int | None = Field(default=None, ge=-100, le=100)
    attributes: dict[str, Any] = Field(default_factory=dict, max_length=50)

    @field_validator("type")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a timezone, e.g. 2026-03-02T17:00:00Z")
        return value

    def activity(self, received_at: datetime) -> Activity:
        return Activity(self.type, self.at or received_at, self.points)


def parse_activity(data: Any, now: datetime) -> ActivityInput:
    """Validate raw activity data; raise InvalidInput listing every problem. An activity
    from the future (beyond a few minutes of clock skew) is refused: it would never decay."""
    activity = validate_input(ActivityInput, data)
    if activity.at is not None and activity.at > now + MAX_CLOCK_SKEW:
        raise InvalidInput([FieldError("at", "is in the future")])
    return activity
