"""Configuration of availability beyond hours and PTO: which Slack signals a team trusts,
caps per period, the accept window of push teams and the weekly leaderboard.

The root section (`availability:`) says what a Slack status means and how fresh Slack's
facts must be; each team opts in to each signal separately, so a team that has never
heard of this section routes exactly as before.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from domain.durations import Duration
from domain.errors import FieldError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _emoji(value: Any) -> str:
    """`palm_tree` and `:palm_tree:` are the same emoji; Slack reports the colon form."""
    if not isinstance(value, str) or not value.strip(":").strip():
        raise ValueError(f"expected an emoji name like :palm_tree:, got {value!r}")
    return f":{value.strip().strip(':')}:"


Emoji = Annotated[str, BeforeValidator(_emoji)]

DEFAULT_AWAY_EMOJI = (":palm_tree:", ":face_with_thermometer:", ":airplane:")
"""Slack's own "Vacationing" and "Out sick" statuses, and travel."""
DEFAULT_AWAY_TEXT = ("vacationing", "out sick", "ooo", "out of office", "on leave")


class AwayStatuses(_Strict):
    """A Slack status whose emoji is listed, or whose text contains a listed phrase
    (case-insensitive), counts as away until the status expires."""

    emoji: list[Emoji] = Field(default_factory=lambda: list(DEFAULT_AWAY_EMOJI))
    text: list[str] = Field(default_factory=lambda: list(DEFAULT_AWAY_TEXT))

    @cached_property
    def folded(self) -> tuple[frozenset[str], tuple[str, ...]]:
        """The emoji as a set and the phrases case-folded: routing asks per rep per lead."""
        return frozenset(self.emoji), tuple(phrase.casefold() for phrase in self.text if phrase)


class AvailabilitySettings(_Strict):
    """The root `availability:` section."""

    away_statuses: AwayStatuses = Field(default_factory=AwayStatuses)
    # How often the background refresher asks Slack about each rep.
    refresh_every: Duration = timedelta(minutes=1)
    # Slack facts older than this are ignored: routing falls back to the configured
    # hours and PTO (an unreachable Slack never blocks or skews intake).
    stale_after: Duration = timedelta(minutes=5)
    # How long `/leads away` lasts when no time is given (absent: until `/leads back`).
    away_default: Duration | None = None


class TeamSignals(_Strict):
    """A team's opt-in to each Slack signal (each off unless set)."""

    slack_status: bool = False  # a listed status emoji/text counts as away
    dnd: bool = False  # do-not-disturb counts as off shift
    presence: bool = False  # presence `away` counts as unavailable for push
    # Queued leads nobody could take are handed to a member who becomes available
    # (back on shift, back from PTO or away, below a cap), oldest first, within the SLA.
    backfill: bool = True


class PeriodLimits(_Strict):
    per_day: int | None = Field(default=None, ge=0)
    per_week: int | None = Field(default=None, ge=0)


class PeriodCaps(PeriodLimits):
    """Leads a rep may receive per day and per week (their own timezone, ISO weeks from
    Monday), optionally tighter per lead type. On a rep: across every team; on a team:
    what that team gives each member."""

    lead_types: dict[str, PeriodLimits] = Field(default_factory=dict)

    @property
    def empty(self) -> bool:
        limits = [self, *self.lead_types.values()]
        return all(limit.per_day is None and limit.per_week is None for limit in limits)


class TeamCaps(PeriodCaps):
    # Pull and pool teams: claims a rep may make in any rolling hour.
    claims_per_hour: int | None = Field(default=None, ge=1)


def _accept_window(value: Any) -> Any:
    """`accept_within: 5m` is shorthand for `{within: 5m}`."""
    return {"within": value} if isinstance(value, str | timedelta) else value


class AcceptWindow(_Strict):
    """Push teams: the offered rep has `within` to press Accept; unanswered (or declined),
    the lead is offered to the next rep in rotation, at most `max_offers` offers in all,
    then it goes to the team channel for anyone to claim."""

    within: Duration
    max_offers: int = Field(default=3, ge=1, le=20)
    # Does a timed-out or declined offer use up the rep's turn in the rotation?
    # `charge`: yes (the rotation moves on); `refund`: their credit is given back.
    unanswered: Literal["charge", "refund"] = "charge"


AcceptWithin = Annotated[AcceptWindow, BeforeValidator(_accept_window)]


class LeaderboardSchedule(_Strict):
    """When the weekly leaderboard is posted to the team channel, in UTC."""

    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    hour: int = Field(default=9, ge=0, le=23)


class TeamAvailability(TeamSignals):
    """A team's `availability:` block."""

    leaderboard: LeaderboardSchedule | None = None


def slack_signal_names(team: TeamSignals | None) -> tuple[str, ...]:
    """The Slack signals a team opted in to, for the refresher and the docs."""
    if team is None:
        return ()
    return tuple(name for name in ("slack_status", "dnd", "presence") if getattr(team, name))


def check_team_availability(team: dict[str, Any], path: str) -> list[FieldError]:
    """What the team's fields alone cannot say: an accept window needs a push team."""
    method = team.get("method", "push")
    if team.get("accept_within") is not None and method != "push":
        return [FieldError(f"{path}.accept_within", f"only push teams offer leads, not {method}")]
    return []
