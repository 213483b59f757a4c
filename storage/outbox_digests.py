"""Digests: a burst of messages for one target folded into one post.

Two families fold the same way: lead cards into a `digest` (a CSV import, a batch), and
manager and admin alerts into an `alert_digest` (a form flooding a team that is full
must not page its manager once per lead). A folded message moves to state `digested`
with the digest row's id; the digest row is an ordinary outbox row, so it is leased,
retried and deduplicated like any other. Folding is one transaction and only touches
messages nobody has leased or tried, so a message is either posted on its own or
counted in exactly one digest, never both.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, func, insert, or_, select, update

from domain.messages import Digest, DigestPart, Kind
from storage import tables as t
from storage.repository import Repository

_o = t.outbox


@dataclass(frozen=True)
class DigestPolicy:
    threshold: int
    """Messages waiting for one target at once that make a burst."""
    quiet: timedelta
    """A digest goes out once no message joined it for this long..."""
    max_hold: timedelta
    """...or this long after it was opened, whichever comes first."""
    item: Kind = Kind.LEAD_CARD
    """What folds (rows of this kind whose `announcement` is set)."""
    digest: type[Digest] = Digest
    """What it folds into."""
    spacing: timedelta = timedelta(0)
    """At most one message of the family per target this often: a target sent one
    within `spacing` is mid-burst, and its next digest waits until `spacing` after it."""


def _announcement(policy: DigestPolicy) -> Any:
    """Messages that may fold (see domain.messages.OutboxMessage.announcement)."""
    return and_(_o.c.kind == policy.item, _o.c.announcement.is_(True))


def _untouched() -> Any:
    """Never left: not leased (so not in flight), never tried, not suspect."""
    return and_(
        _o.c.state == "pending",
        _o.c.attempts == 0,
        _o.c.maybe_sent.is_(False),
        _o.c.lease_until.is_(None),
    )


def _foldable(policy: DigestPolicy) -> Any:
    return and_(_untouched(), _announcement(policy))


def _open_digest(policy: DigestPolicy) -> Any:
    """A digest not yet taken by a sender and never tried: it may still grow."""
    return and_(_untouched(), _o.c.kind == policy.digest.kind)


def _recently_sent(now: datetime, policy: DigestPolicy) -> Any:
    """The family's messages sent to a target within `spacing`."""
    return and_(
        or_(_announcement(policy), _o.c.kind == policy.digest.kind),
        _o.c.state == "sent",
        _o.c.sent_at > now - policy.spacing,
    )


def _bursting(now: datetime, policy: DigestPolicy) -> Any:
    """Targets with a digest opened within `max_hold` (a burst still going on, whose
    stragglers fold however few they are), or sent one of the family within `spacing`."""
    opened = and_(_o.c.kind == policy.digest.kind, _o.c.created_at > now - policy.max_hold)
    if policy.spacing:
        opened = or_(opened, _recently_sent(now, policy))
    return select(_o.c.target).where(opened)


def held_for_digest(now: datetime, *policies: DigestPolicy) -> Any:
    """Foldable messages for a target mid-burst: senders leave them to the next fold, or
    one committed between a fold and a claim would slip out alone. Only foldable ones: a
    message already tried (a retry after a 5xx) can never fold, so holding it would keep
    it from Slack for as long as the target's bursts go on."""
    return or_(
        *(and_(_foldable(policy), _o.c.target.in_(_bursting(now, policy))) for policy in policies)
    )


class DigestRepository(Repository):
    async def bursts(self, now: datetime, policy: DigestPolicy) -> bool:
        """Is there anything to fold? A cheap read, so the write happens only when needed."""
        crowded = (
            select(_o.c.target)
            .where(_foldable(policy))
            .group_by(_o.c.target)
            .having(func.count() >= policy.threshold)
            .limit(1)
        )
        if (await self.connection.execute(crowded)).first() is not None:
            return True
        in_burst = select(_o.c.id).where(
            _o.c.target.in_(_bursting(now, policy)),
            _o.c.target.in_(select(_o.c.target).where(_foldable(policy))),
        )
        return (await self.connection.execute(in_burst.limit(1))).first() is not None

    async def fold(self, now: datetime, policy: DigestPolicy) -> int:
        """Fold waiting messages into digests: into the target's open digest if it has
        one, else into a new one when `threshold` wait or the target is mid-burst.
        Returns how many were folded. A fixed number of statements however many targets
        fold at once (an import spread over 100 reps used to take one UPDATE each, each
        scanning the pending rows, under the write lock intake waits for)."""
        query = select(_o.c.id, _o.c.target, _o.c.created_at, _o.c.next_attempt_at).where(
            _open_digest(policy)
        )
        if self.is_postgres:  # a sender claiming it waits, then finds it taken
            query = query.with_for_update()
        open_digests = {row.target: row for row in await self.connection.execute(query)}
        bursting = set((await self.connection.execute(_bursting(now, policy))).scalars())
        waiting = await self.connection.execute(
            select(_o.c.target, func.count()).where(_foldable(policy)).group_by(_o.c.target)
        )
        digest_of: dict[str, int] = {}
        postponed: list[dict[str, Any]] = []  # one joins: wait `quiet` more, to `max_hold`
        to_open: list[str] = []
        for target, count in waiting.all():
            digest = open_digests.get(target)
            if digest is not None:
                digest_of[target] = digest.id
                due = min(digest.created_at + policy.max_hold, now + policy.quiet)
                # Never earlier than it was due: an alert digest waits out its `spacing`.
                postponed.append({"row_id": digest.id, "due": max(due, digest.next_attempt_at)})
            elif count >= policy.threshold or target in bursting:
                to_open.append(target)
        if not digest_of and not to_open:
            return 0
        if postponed:
            await self.connection.execute(
                update(_o)
                .where(_o.c.id == bindparam("row_id"))
                .values(next_attempt_at=bindparam("due")),
                postponed,
            )
        digest_of |= await self._open(to_open, now, policy)
        result = await self.connection.execute(
            update(_o)
            .where(_foldable(policy), _o.c.target.in_(list(digest_of)))
            .values(state="digested", digest_id=case(digest_of, value=_o.c.target))
        )
        return result.rowcount

    async def _open(
        self, targets: list[str], now: datetime, policy: DigestPolicy
    ) -> dict[str, int]:
        """New digests, one per target: target -> its digest's id. Each is due after
        `quiet`, and not before `spacing` has passed since the target's last one."""
        if not targets:
            return {}
        last_sent: dict[str, datetime] = {}
        if policy.spacing:
            rows = await self.connection.execute(
                select(_o.c.target, func.max(_o.c.sent_at))
                .where(_recently_sent(now, policy), _o.c.target.in_(targets))
                .group_by(_o.c.target)
            )
            last_sent = {target: sent_at for target, sent_at in rows}
        result = await self.connection.execute(
            insert(_o).returning(_o.c.target, _o.c.id),
            [
                {
                    **policy.digest(target, uuid.uuid4().hex).row(),
                    "created_at": now,
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": max(
                        now + policy.quiet,
                        last_sent.get(target, now - policy.spacing) + policy.spacing,
                    ),
                }
                for target in targets
            ],
        )
        return {target: digest_id for target, digest_id in result.all()}

    async def parts(self, digest_id: int) -> Sequence[DigestPart]:
        """What a digest holds, by team and lead type (largest first)."""
        rows = await self.connection.execute(
            select(t.leads.c.team, t.leads.c.lead_type, func.count())
            .select_from(_o.join(t.leads, t.leads.c.id == _o.c.lead_id))
            .where(_o.c.digest_id == digest_id)
            .group_by(t.leads.c.team, t.leads.c.lead_type)
        )
        parts = [DigestPart(team, lead_type, count) for team, lead_type, count in rows]
        return sorted(parts, key=lambda part: (-part.count, part.team or "", part.lead_type))

    async def lead_ids(self, digest_id: int) -> list[str]:
        """The leads a digest announces (to escalate them if it can never be posted)."""
        rows = await self.connection.execute(
            select(_o.c.lead_id).where(_o.c.digest_id == digest_id).order_by(_o.c.id)
        )
        return [lead_id for (lead_id,) in rows if lead_id]
