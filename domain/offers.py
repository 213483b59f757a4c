"""The accept window of push teams (Salesforce Omni-Channel's push timeout, in Slack).

A pushed lead is an offer: the rep has `within` to press Accept. Unanswered (the
offer's deadline row fires) or declined, it is offered to the next rep in the team's
rotation who can take it and has not been offered it yet; after `max_offers` offers,
or when nobody else can take it, it goes to the team channel for anyone to claim.

An offer is one deadline row named `offer:<n>:<user>`: unique per (lead, step) like
every timer, so a timeout fires once, and its name says which offer it ends and whose
it was, without another read. Accepting cancels the pending offer row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.availability_config import AcceptWindow
from domain.config import Config
from domain.durations import humanize
from domain.lead import LeadStatus, Method
from domain.records import LeadRecord
from domain.rotation import refund
from domain.routing import Decision, RoutingState, offer_in_team
from domain.sla import PlannedStep

OFFER_ACTION = "offer_timeout"
_PREFIX = "offer:"


def offer_step(number: int, user: str, offered_at: datetime, window: AcceptWindow) -> PlannedStep:
    """The deadline row of the `number`th offer (from 1) of a lead to `user`."""
    return PlannedStep(f"{_PREFIX}{number}:{user}", OFFER_ACTION, offered_at + window.within)


def parse_offer_step(step: str) -> tuple[int, str] | None:
    """`offer:2:U0BOB` -> (2, "U0BOB"); None for any other step."""
    if not step.startswith(_PREFIX):
        return None
    number, _, user = step.removeprefix(_PREFIX).partition(":")
    return (int(number), user) if number.isdigit() and user else None


def window_for(config: Config, decision: Decision) -> AcceptWindow | None:
    """The accept window that applies to a decision: a team push with a window set."""
    if decision.owner is None or decision.method is not Method.PUSH or decision.team is None:
        return None
    if decision.strategy is None:  # a direct route (account owner, attendee): theirs by right
        return None
    team = config.team(decision.team)
    return team.accept_within if team is not None else None


@dataclass(frozen=True)
class OfferOutcome:
    """What ending an offer does. `fired=False`: nothing (the offer was moot)."""

    fired: bool
    event: str
    reason: str
    assign_to: str | None = None
    release: bool = False
    repost_channel: str | None = None
    next_step: PlannedStep | None = None
    credits: dict[str, int] | None = None
    notify: str | None = None
    """The manager to tell when the lead fell through to the channel."""


def end_offer(
    lead: LeadRecord,
    number: int,
    user: str,
    offered: frozenset[str],
    cause: str,
    config: Config,
    state: RoutingState,
    now: datetime,
) -> OfferOutcome:
    """The `number`th offer of `lead` to `user` ended unanswered (`cause` "timeout") or
    declined (`cause` "declined"). `offered`: everyone offered it so far."""
    if lead.status is not LeadStatus.ASSIGNED or lead.contacted_at is not None:
        return OfferOutcome(False, "cancelled", f"lead already {lead.status}")
    if lead.owner != user:
        return OfferOutcome(False, "cancelled", f"{user} no longer holds the lead")
    team = config.team(lead.team) if lead.team else None
    window = team.accept_within if team is not None else None
    if team is None or window is None:
        return OfferOutcome(False, "cancelled", "the team no longer has an accept window")
    event = "offer_timeout" if cause == "timeout" else "declined"
    what = (
        f"{user} did not accept within {humanize(window.within)}"
        if cause == "timeout"
        else f"{user} declined"
    )
    credits = None
    if window.unanswered == "refund":
        credits = refund(state.credits.get(team.name, {}), user)
        state = RoutingState(
            state.open_leads,
            state.last_assigned,
            {**state.credits, team.name: credits},
            state.signals,
            state.assignments,
        )
    if number < window.max_offers:
        decision = offer_in_team(
            team.name, lead.fields.lead_type, config, state, now, offered | {user}, what
        )
        if decision.owner is not None:
            chosen = decision.owner
            return OfferOutcome(
                True,
                event,
                f"{what}; offered to {chosen} (offer {number + 1} of {window.max_offers})",
                assign_to=chosen,
                next_step=offer_step(number + 1, chosen, now, window),
                credits=decision.credits if decision.credits is not None else credits,
            )
        why = "nobody else in the team can take it now"
    else:
        why = f"{window.max_offers} offers went unaccepted"
    if team.channel is None:
        return OfferOutcome(
            True,
            event,
            f"{what}; {why} and the team has no channel: it stays with {user}",
            credits=credits,
            notify=team.manager,
        )
    return OfferOutcome(
        True,
        event,
        f"{what}; {why}: posted to {team.channel} for anyone to claim",
        release=True,
        repost_channel=team.channel,
        credits=credits,
        notify=team.manager,
    )


OFFER_EVENT = "offer_made"
"""The timeline event of each offer: data `{"to", "offer", "expires_at"}`."""


@dataclass(frozen=True)
class PendingOffer:
    number: int
    user: str
    expires_at: datetime


def offer_event(number: int, user: str, expires_at: datetime) -> tuple[str, str, dict[str, Any]]:
    """The (type, reason, data) of the timeline event recording an offer."""
    return (
        OFFER_EVENT,
        f"offered to {user} (offer {number}); accept by {expires_at:%H:%M} UTC",
        {"to": user, "offer": number, "expires_at": expires_at.isoformat()},
    )


def pending_offer(lead: LeadRecord) -> PendingOffer | None:
    """The offer the owner has not accepted yet, read from the lead's timeline; None once
    accepted, contacted, or if the lead is no longer with the offered rep."""
    if lead.status is not LeadStatus.ASSIGNED or lead.owner is None:
        return None
    found: PendingOffer | None = None
    for event in lead.events:
        data = event.data or {}
        if event.type == OFFER_EVENT and "to" in data:
            found = PendingOffer(
                int(data["offer"]), str(data["to"]), datetime.fromisoformat(data["expires_at"])
            )
        elif event.type in ("accepted", "declined", "offer_timeout", "contacted"):
            found = None
    return found if found is not None and found.user == lead.owner else None
