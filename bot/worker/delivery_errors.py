"""What can go wrong delivering an outbox message, and what the dispatcher does about it:
retry, hold, or dead-letter."""

from __future__ import annotations

from datetime import timedelta

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
    }
)
"""Errors about this message or its target: retrying repeats them forever, so the row is
dead-lettered (and its lead escalated, bot.services.dead_letters)."""
WORKSPACE_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",  # with a bot token: the token's user or workspace is gone
        "token_revoked",
        "token_expired",
        "missing_scope",
        "team_access_not_granted",
    }
)
"""Errors about our credentials, not the message: every row would fail alike, and nothing
could alert anyone through Slack. Rows are held (not dead) until an operator fixes the
token, then go out; the log says so loudly every time."""
HOLD = timedelta(minutes=1)


class PermanentSlackError(Exception):
    """The row can never be sent: dead-letter it."""


class OverBudget(Exception):
    """The workspace budget would hold this send too long to keep its lease safely: the
    row goes back, due when the budget allows, instead of sleeping past its lease."""

    def __init__(self, wait: timedelta):
        super().__init__(f"workspace budget: {wait.total_seconds():.1f}s")
        self.wait = wait


class LeadGone(PermanentSlackError):
    """The lead was erased since the row was queued: nobody to tell, nothing to alert."""
