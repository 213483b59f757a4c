"""Outbox messages as typed values: one class per kind, each owning its dedup key.

Every notification is written to the one durable outbox in the transaction that caused
it. The key makes a message exist once however often its cause is replayed (a retried
click, a timer firing on two replicas), so the key's shape is part of the contract and
is built here only (what a routing, an SLA step or a dead letter sends is built from
these in domain.message_plans). Storage stores `OutboxMessage.row()`; the dispatcher reads `Kind`
to choose a renderer and a transport. A new channel (webhooks) is one more kind here,
one renderer and one transport in the dispatcher.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol

UNDELIVERABLE_STEP = "undeliverable"
"""The step name of cards handing a lead over after Slack refused its first."""


class Kind(StrEnum):
    """What an outbox row is; stored in its `kind` column."""

    LEAD_CARD = "lead_card"
    CARD_UPDATE = "card_update"
    ALERT = "alert"
    DEAD_LETTER_ALERT = "dead_letter_alert"
    DIGEST = "digest"
    ALERT_DIGEST = "alert_digest"
    WEEKLY_DIGEST = "weekly_digest"
    WEEKLY_DIGEST_CHART = "weekly_digest_chart"
    ROUTING_REVIEW = "routing_review"
    WEBHOOK = "webhook"


LEAD_ROUTES = frozenset({Kind.LEAD_CARD, Kind.DIGEST})
"""Kinds that are a lead's way to a human: when one dies, its leads escalate."""


class QueuedMessage(Protocol):
    """A message as the outbox holds it (a row leased by a dispatcher)."""

    @property
    def id(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def dedup_key(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def lead_id(self) -> str | None: ...
    @property
    def payload(self) -> dict[str, Any]: ...
    @property
    def attempts(self) -> int: ...
    @property
    def maybe_sent(self) -> bool: ...


def merged_card_updates(rows: Iterable[QueuedMessage]) -> set[int]:
    """The card updates made redundant by a later one for the same lead among `rows`
    (claimed together): an edit draws the lead as it is when sent, read after every
    claimed row committed, so the last edit shows what the earlier ones would have. A
    claim, a contact and an SLA step a moment apart are one `chat.update` per card."""
    last: dict[str, int] = {}
    updates = [row for row in rows if row.kind == Kind.CARD_UPDATE and row.lead_id]
    for row in updates:
        last[row.target] = row.id
    return {row.id for row in updates if last[row.target] != row.id}


@dataclass(frozen=True)
class OutboxMessage:
    """One message to deliver: `target` is a Slack user or channel id (or, for a card
    update, the lead whose cards are edited)."""

    kind: ClassVar[Kind]

    @property
    def dedup_key(self) -> str:
        raise NotImplementedError

    @property
    def target(self) -> str:
        raise NotImplementedError

    @property
    def lead_id(self) -> str | None:
        return None

    @property
    def announcement(self) -> bool:
        """May fold into a digest with others to the same target (see LeadCard)."""
        return False

    def payload(self) -> dict[str, Any]:
        return {}

    def row(self) -> dict[str, Any]:
        """The outbox columns this message sets (storage adds state and times)."""
        return {
            "dedup_key": self.dedup_key,
            "kind": str(self.kind),
            "target": self.target,
            "lead_id": self.lead_id,
            "payload": self.payload(),
            "announcement": self.announcement,
        }


@dataclass(frozen=True)
class LeadCard(OutboxMessage):
    """A lead's card posted to its owner's DM or its team's channel. `occasion` is None
    for the first announcement, else what caused another post (an SLA step, a
    reassignment `v<version>`, or an `undeliverable:<row>` handover)."""

    kind: ClassVar[Kind] = Kind.LEAD_CARD
    lead: str
    to: str
    occasion: str | None = None

    @property
    def dedup_key(self) -> str:
        key = f"lead_card:{self.lead}:{self.to}"
        return key if self.occasion is None else f"{key}:{self.occasion}"

    @property
    def target(self) -> str:
        return self.to

    @property
    def lead_id(self) -> str | None:
        return self.lead

    @property
    def announcement(self) -> bool:
        """A first announcement, or a handover after Slack refused the first (a broken
        channel hands thousands to one backup at once), may fold into a digest. A card
        from an SLA escalation or a reassignment is urgent and stays on its own."""
        return self.occasion is None or self.occasion.startswith(f"{UNDELIVERABLE_STEP}:")


@dataclass(frozen=True)
class CardUpdate(OutboxMessage):
    """Edit every posted card of a lead to show it as it is now; `occasion` tells apart
    the changes (a version, an SLA step)."""

    kind: ClassVar[Kind] = Kind.CARD_UPDATE
    lead: str
    occasion: str

    @property
    def dedup_key(self) -> str:
        return f"card_update:{self.lead}:{self.occasion}"

    @property
    def target(self) -> str:
        return self.lead

    @property
    def lead_id(self) -> str | None:
        return self.lead


@dataclass(frozen=True)
class ErasureRedraw(CardUpdate):
    """A card update redrawing a lead's cards as erased; `late` is the second pass, for
    a card a dispatcher may have been posting while the lead was erased."""

    occasion: str = ""
    late: bool = False

    @property
    def dedup_key(self) -> str:
        return f"erase:{self.lead}:late" if self.late else f"erase:{self.lead}"


@dataclass(frozen=True)
class Alert(OutboxMessage):
    """A plain-text DM or channel post; `key` says what it is about, so the same alert
    for the same cause is sent once. `folds`: one of many a stranger's form can cause
    (nobody could take the lead, no rule matched, a manager's SLA notice), which fold
    into an AlertDigest when they come faster than one per target per window."""

    kind: ClassVar[Kind] = Kind.ALERT
    key: str
    to: str
    text: str
    lead: str | None = None
    folds: bool = False

    @property
    def announcement(self) -> bool:
        return self.folds

    @property
    def dedup_key(self) -> str:
        return self.key

    @property
    def target(self) -> str:
        return self.to

    @property
    def lead_id(self) -> str | None:
        return self.lead

    def payload(self) -> dict[str, Any]:
        return {"text": self.text}


@dataclass(frozen=True)
class DeadLetterAlert(Alert):
    """An admin alert about a dead letter; when one dies itself, nobody is alerted again."""

    kind: ClassVar[Kind] = Kind.DEAD_LETTER_ALERT


@dataclass(frozen=True)
class Digest(OutboxMessage):
    """One post announcing a burst of folded lead cards to one target; `nonce` makes
    each digest its own row."""

    kind: ClassVar[Kind] = Kind.DIGEST
    to: str
    nonce: str

    @property
    def dedup_key(self) -> str:
        return f"digest:{self.to}:{self.nonce}"

    @property
    def target(self) -> str:
        return self.to


@dataclass(frozen=True)
class AlertDigest(Digest):
    """One post summing up the alerts folded for one target within a window."""

    kind: ClassVar[Kind] = Kind.ALERT_DIGEST

    @property
    def dedup_key(self) -> str:
        return f"alert_digest:{self.to}:{self.nonce}"


@dataclass(frozen=True)
class DigestPart:
    """What a digest holds: a count of leads of one type for one team."""

    team: str | None
    lead_type: str
    count: int


def weekly_digest_key(team: str, week: str) -> str:
    """A team's digest exists once per week (the service checks it before computing)."""
    return f"weekly_digest:{team}:{week}"


@dataclass(frozen=True)
class RoutingReview(OutboxMessage):
    """The quarter's routing review to an admin, rendered when queued; one per admin and
    quarter (`2026-Q4`) however many replicas queue it."""

    kind: ClassVar[Kind] = Kind.ROUTING_REVIEW
    quarter: str
    to: str
    message: dict[str, Any]

    @property
    def dedup_key(self) -> str:
        return f"routing_review:{self.quarter}:{self.to}"

    @property
    def target(self) -> str:
        return self.to

    def payload(self) -> dict[str, Any]:
        return self.message


@dataclass(frozen=True)
class WeeklyDigest(OutboxMessage):
    """A team's week in figures to its manager, rendered when queued (the figures as
    they were that week)."""

    kind: ClassVar[Kind] = Kind.WEEKLY_DIGEST
    team: str
    week: str
    to: str
    message: dict[str, Any]

    @property
    def dedup_key(self) -> str:
        return weekly_digest_key(self.team, self.week)

    @property
    def target(self) -> str:
        return self.to

    def payload(self) -> dict[str, Any]:
        return self.message


@dataclass(frozen=True)
class Leaderboard(WeeklyDigest):
    """A team's weekly leaderboard to its channel (domain.leaderboard), once per week."""

    @property
    def dedup_key(self) -> str:
        return f"leaderboard:{self.team}:{self.week}"


@dataclass(frozen=True)
class WeeklyDigestChart(OutboxMessage):
    """The weekly digest's chart, a PNG uploaded into the manager's DM."""

    kind: ClassVar[Kind] = Kind.WEEKLY_DIGEST_CHART
    team: str
    week: str
    to: str
    content_base64: str

    @property
    def dedup_key(self) -> str:
        return f"weekly_digest_chart:{self.team}:{self.week}"

    @property
    def target(self) -> str:
        return self.to

    def payload(self) -> dict[str, Any]:
        return {
            "filename": f"leads-{self.team}-{self.week}.png",
            "title": f"{self.team}: leads per rep and response times, {self.week}",
            "content_base64": self.content_base64,
        }


@dataclass(frozen=True)
class WebhookDelivery(OutboxMessage):
    """One outbound webhook event for one endpoint (bot.worker.webhook_dispatcher sends
    it). `message_id` is its Standard Webhooks `webhook-id`: kept by every retry and
    replay, so the key is unique per delivery; `body` is what the receiver gets."""

    kind: ClassVar[Kind] = Kind.WEBHOOK
    endpoint: str
    message_id: str
    lead: str
    body: dict[str, Any]

    @property
    def dedup_key(self) -> str:
        return f"webhook:{self.endpoint}:{self.message_id}"

    @property
    def target(self) -> str:
        return self.endpoint

    @property
    def lead_id(self) -> str | None:
        return self.lead

    def payload(self) -> dict[str, Any]:
        return {"id": self.message_id, "body": self.body}
