"""The hand-off between marketing and sales, both ways.

A rep answers a lead from its card: **Qualified** (sales takes it), **Disqualify...**
(with a reason from the configured list, so "lead quality" can be argued with data) or
**Not ready** (back to marketing's nurture, with a reason). Only the lead's owner, its
team's manager or an admin may answer. A nurture lead that crosses the MQL line goes the
other way: it is routed, once.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import DomainError
from domain.lead import LeadStatus
from domain.lifecycle import TransitionRefused, advance, stage_reached
from domain.scoring_config import (
    DEFAULT_DISQUALIFY_REASONS,
    DEFAULT_RECYCLE_REASONS,
    ScoringConfig,
)

RECYCLABLE = frozenset(
    {LeadStatus.NEW, LeadStatus.QUEUED, LeadStatus.ASSIGNED, LeadStatus.CONTACTED}
)
"""A lead sales has not yet qualified may go back to marketing; a qualified one may not."""


class HandOff(StrEnum):
    QUALIFY = "qualified"
    DISQUALIFY = "disqualified"
    RECYCLE = "recycled"


class HandOffRefused(DomainError):
    """Not allowed, or not a reason on the list; the message says what is."""


@dataclass(frozen=True)
class HandOffChange:
    """What a hand-off does to the lead; the service applies it with one compare-and-set."""

    status: LeadStatus
    event: str
    reason: str | None
    clears_owner: bool
    """Recycling hands the lead back to marketing: nobody in sales owns it any more."""
    stage: str | None
    """The lifecycle stage entered (its first time is kept), from domain.lifecycle."""
    counts_as_contact: bool
    """Qualifying or disqualifying a lead means someone spoke to it: the response SLA is
    met or missed there. Recycling stops the clock without claiming a contact."""


def may_hand_off(
    actor: str, owner: str | None, manager: str | None, admins: Collection[str]
) -> bool:
    return actor == owner or (manager is not None and actor == manager) or actor in admins


def require_may_hand_off(
    actor: str, owner: str | None, manager: str | None, admins: Collection[str]
) -> None:
    if may_hand_off(actor, owner, manager, admins):
        return
    whose = f"<@{owner}>'s" if owner else "not yet anyone's"
    raise HandOffRefused(
        f"This lead is {whose}; only its owner, the team's manager or an admin can "
        "qualify, disqualify or send it back to marketing."
    )


def reasons_for(action: HandOff, model: ScoringConfig | None) -> list[str]:
    """The reasons the modal offers (and the only ones accepted)."""
    if action is HandOff.DISQUALIFY:
        return model.disqualify_reasons if model else list(DEFAULT_DISQUALIFY_REASONS)
    if action is HandOff.RECYCLE:
        return model.recycle_reasons if model else list(DEFAULT_RECYCLE_REASONS)
    return []


def hand_off(
    action: HandOff, current: LeadStatus, reason: str | None, model: ScoringConfig | None
) -> HandOffChange:
    """The change `action` makes to a lead in `current`, or HandOffRefused /
    TransitionRefused saying why not."""
    allowed = reasons_for(action, model)
    if allowed and reason not in allowed:
        raise HandOffRefused(f"Pick a reason from the list: {', '.join(allowed)}.")
    if action is HandOff.RECYCLE:
        if current not in RECYCLABLE:
            raise TransitionRefused(
                f"the lead is already {current}; only a lead sales has not qualified "
                "can go back to marketing"
            )
        return HandOffChange(
            LeadStatus.NURTURE, str(action), reason, True, None, counts_as_contact=False
        )
    status = advance(current, str(action))
    return HandOffChange(
        status, str(action), reason, False, stage_reached(str(action)), counts_as_contact=True
    )


def leaves_nurture(current: LeadStatus, was_mql: bool, is_mql: bool) -> bool:
    """Whether a re-scored lead goes from nurture to routing now: it is in nurture and has
    just crossed the MQL line. Crossing, not being above: a lead a rep sent back while
    above the line stays with marketing until its behaviour carries it over again."""
    return current is LeadStatus.NURTURE and is_mql and not was_mql


def starts_in_nurture(mql: bool, always_routes: bool) -> bool:
    """A scored lead below the MQL line is marketing's unless its type always routes."""
    return not mql and not always_routes
