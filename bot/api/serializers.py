"""JSON shapes of the intake API (CONTRACT.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.api.scoring_json import lead_scoring_json
from domain.records import LeadRecord


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def lead_json(lead: LeadRecord, now: datetime, *, timeline: bool = False) -> dict[str, Any]:
    decision = lead.decision
    body: dict[str, Any] = {
        "id": lead.id,
        "status": str(lead.status),
        "team": lead.team,
        "owner": lead.owner,
        "method": str(lead.method),
        "decision": {
            "rule": decision.get("rule"),
            "reasons": list(decision.get("reasons", [])),
            "config_version": decision.get("config_version"),
            "candidates": list(decision.get("candidates", [])),
            "skipped": list(decision.get("skipped", [])),
            # Only for a lead that took part in an experiment (docs/experiments.md).
            **{key: decision[key] for key in ("experiment", "arm") if decision.get(key)},
        },
        "sla_due_at": iso(lead.sla_due_at),
        "created_at": iso(lead.created_at),
        "submitter": lead.submitter,
        "lead": lead.fields.model_dump(mode="json", exclude_none=True),
        **lead_scoring_json(lead),
    }
    if lead.erased_at is not None:
        body["erased_at"] = iso(lead.erased_at)
    if timeline:
        sla = dict(lead.sla_state(now))
        sla["due_at"] = iso(sla.get("due_at"))
        body["sla"] = sla
        body["contacted_at"] = iso(lead.contacted_at)
        body["timeline"] = [
            {
                "at": iso(event.at),
                "type": event.type,
                "actor": event.actor,
                "reason": event.reason,
                **({"data": event.data} if event.data else {}),
            }
            for event in lead.events
        ]
    return body
