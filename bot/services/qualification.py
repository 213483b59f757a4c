"""The hand-off from the card: Qualified, Disqualify (with a reason), Not ready (back to
marketing's nurture, with a reason). Each is one compare-and-set on the lead's version,
retried on a fresh read, so two reps pressing Qualified and Disqualify at once leave
exactly one outcome and the other is told what happened."""

from __future__ import annotations

from datetime import datetime

from bot.services.leads import LeadActions, LeadNotFound, Outcome
from domain.durations import humanize
from domain.errors import DomainError
from domain.handoff import HandOff, HandOffChange, hand_off, reasons_for, require_may_hand_off
from domain.records import LeadRecord
from storage.uow import UnitOfWork

_DONE = {
    HandOff.QUALIFY: "Qualified",
    HandOff.DISQUALIFY: "Disqualified",
    HandOff.RECYCLE: "Sent back to marketing",
}


class Qualification(LeadActions):
    """Lead actions that answer the marketing-to-sales hand-off."""

    async def hand_off_reasons(
        self, lead_id: str, user: str, action: HandOff
    ) -> tuple[LeadRecord, list[str]]:
        """The lead and the reasons its modal offers; refused before the modal opens when
        the person may not answer for this lead (and checked again on submission)."""
        async with self.db.snapshot() as uow:
            lead = await uow.leads.get(lead_id)
            if lead is None:
                raise LeadNotFound(f"no lead {lead_id}")
            await self._check_may_hand_off(uow, lead, user)
            config = await self.configs.config(uow)
            return lead, reasons_for(action, config.scoring if config else None)

    async def hand_off(
        self, lead_id: str, user: str, action: HandOff, reason: str | None, note: str | None
    ) -> Outcome:
        async def attempt(uow: UnitOfWork, lead: LeadRecord, now: datetime) -> str | None:
            await self._check_may_hand_off(uow, lead, user)
            config = await self.configs.config(uow)
            change = hand_off(action, lead.status, reason, config.scoring if config else None)
            changes, data, message = self._changes(lead, change, now)
            if change.counts_as_contact or change.clears_owner:
                await uow.deadlines.cancel_pending(lead.id, now)
            if not await uow.leads.compare_and_set(lead.id, lead.version, now, **changes):
                return None
            text = _event_text(change, user, note)
            await uow.events.add(lead.id, now, change.event, user, text, data)
            await self._queue_card_update(uow, lead, now)
            return message

        return await self._change(lead_id, attempt)

    @staticmethod
    def _changes(
        lead: LeadRecord, change: HandOffChange, now: datetime
    ) -> tuple[dict[str, object], dict[str, object], str]:
        """The lead's new columns, the event's data and the clicker's message."""
        changes: dict[str, object] = {"status": change.status}
        data: dict[str, object] = {"reason": change.reason} if change.reason else {}
        message = _DONE[HandOff(change.event)]
        if change.stage is not None:
            changes[f"{change.stage}_at"] = now
        if change.clears_owner:
            changes.update(owner=None, assigned_at=None)
            data["from"] = lead.owner
        if change.counts_as_contact and lead.contacted_at is None:
            changes["contacted_at"] = now
            within = lead.sla_due_at is None or now <= lead.sla_due_at
            data.update(response_seconds=(now - lead.created_at).total_seconds(), within_sla=within)
            verdict = "within SLA" if within else "SLA missed"
            message += f" after {humanize(now - lead.created_at)} ({verdict})"
        return changes, data, message

    async def _check_may_hand_off(self, uow: UnitOfWork, lead: LeadRecord, user: str) -> None:
        config = await self.configs.config(uow)
        if config is None:
            raise DomainError("There is no configuration yet.")
        team = config.team(lead.team) if lead.team else None
        require_may_hand_off(user, lead.owner, team.manager if team else None, config.admins)


def _event_text(change: HandOffChange, user: str, note: str | None) -> str:
    verb = {
        "qualified": f"qualified by {user}",
        "disqualified": f"disqualified by {user}",
        "recycled": f"sent back to marketing by {user}",
    }[change.event]
    reason = f": {change.reason}" if change.reason else ""
    return f"{verb}{reason} ({note})" if note else f"{verb}{reason}"
