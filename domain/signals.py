"""Availability the rep tells Slack or Leadrouter about: Slack status, do-not-disturb,
presence, and the rep's own away toggle. Each gives a fact with a reason a human reads
("Slack status 'Vacationing' until Fri 17:00").

Slack's facts come from a cache the background refresher fills (never a Slack call on
the intake path). A snapshot older than the configured `stale_after` is ignored, so an
unreachable Slack leaves routing to the configured hours and PTO.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.availability_config import AvailabilitySettings, TeamSignals


@dataclass(frozen=True)
class SlackSnapshot:
    """What Slack said about one user at `fetched_at` (absent parts: not asked or failed)."""

    fetched_at: datetime
    status_text: str = ""
    status_emoji: str = ""
    status_expires_at: datetime | None = None
    dnd_start: datetime | None = None
    dnd_end: datetime | None = None
    snooze_until: datetime | None = None
    presence: str | None = None

    @classmethod
    def from_slack(
        cls,
        fetched_at: datetime,
        profile: dict[str, Any] | None = None,
        dnd: dict[str, Any] | None = None,
        presence: dict[str, Any] | None = None,
    ) -> SlackSnapshot:
        """Read the answers of `users.profile.get` (its `profile`), `dnd.info` and
        `users.getPresence`. Field names and meanings per Slack's reference:
        status_expiration 0 = never; dnd.info's next_dnd_start_ts/next_dnd_end_ts bound
        the scheduled DND window and snooze_endtime ends a manual snooze; getPresence
        reports `active` or `away` for other users."""
        profile = profile or {}
        dnd = dnd or {}
        dnd_on = bool(dnd.get("dnd_enabled"))
        snoozing = bool(dnd.get("snooze_enabled"))
        return cls(
            fetched_at=fetched_at,
            status_text=str(profile.get("status_text") or ""),
            status_emoji=str(profile.get("status_emoji") or ""),
            status_expires_at=_timestamp(profile.get("status_expiration")),
            dnd_start=_timestamp(dnd.get("next_dnd_start_ts")) if dnd_on else None,
            dnd_end=_timestamp(dnd.get("next_dnd_end_ts")) if dnd_on else None,
            snooze_until=_timestamp(dnd.get("snooze_endtime")) if snoozing else None,
            presence=str(presence["presence"]) if presence and presence.get("presence") else None,
        )

    def fresh(self, now: datetime, stale_after: timedelta) -> bool:
        return now - self.fetched_at <= stale_after


@dataclass(frozen=True)
class AwayToggle:
    """`/leads away [until TIME]` or the App Home toggle: no new leads until `until`
    (None: until `/leads back`)."""

    since: datetime
    until: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.until is None or now < self.until


@dataclass(frozen=True)
class RepSignals:
    slack: SlackSnapshot | None = None
    away: AwayToggle | None = None


NO_SIGNALS = RepSignals()


def signal_reason(
    signals: RepSignals,
    team: TeamSignals | None,
    settings: AvailabilitySettings,
    now: datetime,
    zone: str,
    push: bool,
) -> str | None:
    """Why the rep's own toggle or (if the team opted in) Slack says they cannot take a
    lead now, or None. Presence only matters when the lead would be pushed to them."""
    away = signals.away
    if away is not None and away.active(now):
        return "away" + until_text(away.until, now, zone) + " (their own toggle)"
    slack = signals.slack
    if team is None or slack is None or not slack.fresh(now, settings.stale_after):
        return None
    if team.slack_status:
        status = away_status(slack, settings, now)
        if status is not None:
            return f"Slack status '{status}'" + until_text(slack.status_expires_at, now, zone)
    if team.dnd:
        until = dnd_until(slack, now)
        if until is not None:
            return "off shift (do not disturb in Slack" + until_text(until, now, zone) + ")"
    if push and team.presence and slack.presence == "away":
        return "away in Slack"
    return None


def away_status(slack: SlackSnapshot, settings: AvailabilitySettings, now: datetime) -> str | None:
    """The status to show when it is one of the listed away statuses and not expired."""
    if not (slack.status_text or slack.status_emoji):
        return None
    if slack.status_expires_at is not None and slack.status_expires_at <= now:
        return None
    emoji, phrases = settings.away_statuses.folded
    text = slack.status_text.casefold()
    if slack.status_emoji in emoji or any(phrase in text for phrase in phrases):
        return slack.status_text or slack.status_emoji
    return None


def dnd_until(slack: SlackSnapshot, now: datetime) -> datetime | None:
    """When do-not-disturb ends, if it is on at `now` (a snooze or the DND schedule)."""
    ends = []
    if slack.snooze_until is not None and now < slack.snooze_until:
        ends.append(slack.snooze_until)
    start, end = slack.dnd_start, slack.dnd_end
    if start is not None and end is not None and start <= now < end:
        ends.append(end)
    return max(ends) if ends else None


def until_text(moment: datetime | None, now: datetime, zone: str) -> str:
    """` until 17:00` today, ` until Fri 17:00` within a week, else ` until 2026-12-24`,
    in the rep's own timezone; empty when open-ended."""
    if moment is None:
        return ""
    tz = ZoneInfo(zone)
    local, today = moment.astimezone(tz), now.astimezone(tz).date()
    days = (local.date() - today).days
    if days == 0:
        return f" until {local:%H:%M}"
    if 0 < days < 7:
        return f" until {local:%a %H:%M}"
    return f" until {local.date().isoformat()}"


def _timestamp(value: Any) -> datetime | None:
    """Slack's epoch seconds; 0 or absent means none."""
    try:
        seconds = float(value or 0)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(seconds, UTC) if seconds > 0 else None
