"""Behaviour after intake (`POST /api/leads/{id}/activity`): store it and re-score the
lead in one transaction, holding the lead's row lock, so concurrent activities on one
lead queue rather than race. A nurture lead that crosses the MQL line is routed then,
once (the compare-and-set on the lead's version makes a retried activity see it routed
already); the owner of a lead still being worked hears about each threshold
it rises past, once (the notice's key carries the lead version of that crossing)."""

from __future__ import annotations

from datetime import datetime

from bot.services.leads import LeadActions, LeadNotFound
from domain.activity import ActivityInput
from domain.config import Config
from domain.lead import LeadStatus
from domain.messages import Alert, CardUpdate, OutboxMessage
from domain.qualification import Handover, Rescore, hand_over, rescore
from domain.records import LeadRecord
from domain.routing import RoutingState, route
from domain.routing_memory import assignment_day
from storage.leads import scoring_columns
from storage.uow import UnitOfWork


class ActivityService(LeadActions):
    async def record(self, lead_id: str, activity: ActivityInput, submitter: str) -> LeadRecord:
        """Store the activity and re-score; returns the lead as it now is."""

        async def attempt(uow: UnitOfWork, lead: LeadRecord, now: datetime) -> str | None:
            if lead.status is LeadStatus.NURTURE:
                await uow.routing.lock()  # it may be routed: serialise with intake
            # Read again under the lead's lock: concurrent activities on one lead queue
            # here, each re-scoring the version the one before wrote, instead of losing
            # compare-and-set races until the retries run out.
            fresh = await uow.leads.get_locked(lead.id)
            assert fresh is not None  # leads are erased, never deleted
            lead = fresh
            if lead.erased_at is not None:
                raise LeadNotFound(f"lead {lead_id} was erased")
            current = await self.configs.current(uow)
            version, config = current if current else (0, Config())
            history = await uow.activities.for_lead(lead.id)
            result = rescore(config, lead, lead.scoring, [*history, activity.activity(now)], now)
            if result is not None and not await self._apply(
                uow, config, version, lead, result, now
            ):
                return None
            await uow.activities.add(lead.id, activity, now)
            scored = f": {result.summary()}" if result is not None else ""
            await uow.events.add(
                lead.id,
                activity.at or now,
                "activity",
                submitter,
                f"{activity.type.replace('_', ' ')}{scored}",
                {"kind": activity.type, **({"points": activity.points} if activity.points else {})},
            )
            return "recorded"

        return (await self._change(lead_id, attempt)).lead

    async def _apply(
        self,
        uow: UnitOfWork,
        config: Config,
        version: int,
        lead: LeadRecord,
        result: Rescore,
        now: datetime,
    ) -> bool:
        """Write the new score (and, over the line, the routing) with one compare-and-set;
        False when another change won."""
        changes: dict[str, object] = dict(scoring_columns(result.scoring))
        if result.fields != lead.fields:
            changes["fields"] = result.fields.model_dump(mode="json", exclude_none=True)
        handover: Handover | None = None
        if result.route_now:
            state = RoutingState(
                await uow.leads.workload(),
                await uow.routing.last_assigned(),
                await uow.routing.credits(),
            )
            decision = route(result.fields, config, state, now, version, result.scoring.facts())
            handover = hand_over(config, lead, decision, now)
            changes.update(handover.changes)
            if changes.get("owner") is not None:  # what the owner's caps count it against
                changes["assigned_day"] = assignment_day(str(changes["owner"]), config, now)
        if not await uow.leads.compare_and_set(lead.id, lead.version, now, **changes):
            return False
        messages: list[OutboxMessage] = []
        if handover is not None:
            decision = handover.decision
            await uow.deadlines.clear(lead.id)
            await uow.deadlines.add_plans([(lead.id, handover.steps)])
            await uow.events.add_many([event.row() for event in handover.routed.events])
            messages += handover.routed.messages
            if decision.credits is not None and decision.team is not None:
                await uow.routing.save_credits(decision.team, decision.credits)
            if decision.owner is not None:
                await uow.routing.record_assignment(decision.owner, now)
        elif lead.status is not LeadStatus.NURTURE:
            messages.append(CardUpdate(lead.id, f"v{lead.version + 1}"))  # the score line
        if lead.owner is not None:
            messages += [
                Alert(
                    f"notice:{lead.id}:heat:{crossing.key}:v{lead.version + 1}",
                    lead.owner,
                    f"Your lead heats up: {crossing.text} ({result.scoring.summary()})",
                    lead.id,
                )
                for crossing in result.notices
            ]
        await uow.outbox.queue(messages, now)
        return True
