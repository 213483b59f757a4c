"""Block Kit rendering: pure functions from domain records to Slack payloads.

Nothing here talks to Slack or the database, so tests assert on blocks directly.
Limits respected: section text 3,000 characters, 10 fields of 2,000, button values
2,000, 50 blocks per message.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.slack import action_ids as ids
from bot.slack.blocks import (
    FIELD_LIMIT,
    SECTION_LIMIT,
    Blocks,
    button,
    clip,
    escape,
    mention_users,
    mrkdwn,
    slack_date,
)
from bot.slack.scoring_views import hand_off_buttons, score_block
from domain.durations import humanize
from domain.lead import LeadStatus, Method
from domain.lifecycle import OUTCOME_EVENTS
from domain.records import OPEN_STATUSES, LeadEvent, LeadRecord


def _lead_fields(lead: LeadRecord) -> list[dict[str, str]]:
    f = lead.fields
    place = ", ".join(filter(None, (f.city, f.state, f.region, f.country)))
    pairs = [
        (
            "Company",
            f.company and (f.company + (f" ({f.company_domain})" if f.company_domain else "")),
        ),
        ("Email", f.email),
        ("Phone", f.phone),
        ("Type", f.lead_type.replace("_", " ")),
        ("Source", f.source and f.source.replace("_", " ")),
        ("Score", None if f.score is None else str(f.score)),
        ("Employees", None if f.employees is None else f"{f.employees:,}"),
        ("Industry", f.industry),
        ("Location", place or None),
        ("Interest", f.product_interest),
    ]
    return [
        {
            "type": "mrkdwn",
            "text": clip(f"*{label}*\n{escape(value)}", FIELD_LIMIT),
            "verbatim": True,
        }
        for label, value in pairs
        if value
    ][:10]


def sla_line(lead: LeadRecord, now: datetime) -> str:
    """Due time as a date token plus what it means right now."""
    state = lead.sla_state(now)
    if state["state"] == "none":
        return "No response SLA"
    due = slack_date(lead.sla_due_at)  # type: ignore[arg-type]
    if state["state"] in ("met", "missed"):
        response = humanize_seconds(state["response_seconds"])
        verdict = "within SLA" if state["state"] == "met" else "SLA missed"
        return f":white_check_mark: Contacted after {response} ({verdict}; due {due})"
    if state["state"] == "running":
        return f":stopwatch: Respond by {due} ({humanize_seconds(state['seconds_left'])} left)"
    if state["state"] == "breached":
        overdue = humanize_seconds(-state["seconds_left"])
        return f":rotating_light: SLA breached: was due {due}, overdue by {overdue}"
    return f"Closed ({lead.status})"


def humanize_seconds(seconds: float) -> str:
    return humanize(timedelta(seconds=seconds))


def _status_line(lead: LeadRecord) -> str:
    if lead.owner and lead.status is LeadStatus.ASSIGNED:
        return f"Owner: <@{lead.owner}>"
    if lead.owner:
        return f"Owner: <@{lead.owner}> · {lead.status}"
    if lead.method is Method.POOL:
        return "In the team pool: claim it to work it"
    return "Unclaimed: first to claim owns it"


_HISTORY = {
    "claimed": "Claimed by {actor} {reason}",
    "released": "Released by {actor}",
    "reassigned": "Reassigned: {reason}",
    "reposted": "Reposted for claiming",
    "contacted": "Contacted by {actor}",
    "breached": ":rotating_light: SLA breached",
}


def _actor(event: LeadEvent, lead: LeadRecord) -> str:
    """Who acted, as a mention only when Slack said so: an event the API can also record
    (a CRM's `contacted`, with any `by` it likes) mentions nobody but the lead's owner."""
    if event.type in OUTCOME_EVENTS and event.actor != lead.owner:
        return escape(event.actor)
    return mention_users(escape(event.actor))


def history_line(lead: LeadRecord) -> str | None:
    """Who held the lead and when it changed hands, newest last (at most five steps)."""
    steps = []
    for event in lead.events:
        template = _HISTORY.get(event.type)
        if template is None:
            continue
        actor = _actor(event, lead)
        reason = mention_users(escape(event.reason or ""))
        steps.append(template.format(actor=actor, reason=reason).strip())
    return " → ".join(steps[-5:]) or None


def _buttons(lead: LeadRecord) -> list[dict[str, Any]]:
    if lead.status not in OPEN_STATUSES:
        return hand_off_buttons(lead)
    buttons: list[dict[str, Any]] = []
    if lead.owner is None:
        buttons.append(button("Claim", ids.CLAIM_LEAD, lead.id, style="primary"))
    buttons.append(
        button(
            "Mark contacted",
            ids.MARK_CONTACTED,
            lead.id,
            style=None if lead.owner is None else "primary",
        )
    )
    if lead.owner is not None:
        buttons.append(button("Release", ids.RELEASE_LEAD, lead.id))
    buttons.append(button("Reassign", ids.REASSIGN_LEAD, lead.id))
    buttons += hand_off_buttons(lead)
    if lead.decision.get("rule"):  # feedback on the rule that routed it (the review)
        buttons.append(button("Wrong routing?", ids.REPORT_MISROUTE, lead.id))
    return buttons


def lead_card(lead: LeadRecord, now: datetime) -> dict[str, Any]:
    """The lead message: who, what, why it is yours, when the SLA runs out, and buttons."""
    title = escape(lead.display_name)
    if lead.fields.company:
        title += f" — {escape(lead.fields.company)}"
    reasons = [mention_users(escape(reason)) for reason in lead.decision.get("reasons", [])]
    blocks: Blocks = [
        {"type": "section", "text": mrkdwn(f"*New lead: {title}*\n{_status_line(lead)}")},
        {"type": "section", "fields": _lead_fields(lead)},
        {"type": "context", "elements": [mrkdwn("*Why:* " + (" · ".join(reasons) or "—"))]},
        *filter(None, [score_block(lead)]),
        {"type": "section", "text": mrkdwn(sla_line(lead, now))},
    ]
    history = history_line(lead)
    if history:
        blocks.append({"type": "context", "elements": [mrkdwn(history)]})
    buttons = _buttons(lead)
    if buttons:
        blocks.append({"type": "actions", "block_id": f"lead:{lead.id}", "elements": buttons})
    blocks.append(
        {
            "type": "context",
            "elements": [mrkdwn(f"Lead `{lead.id}` · received {slack_date(lead.created_at)}")],
        }
    )
    text = f"New lead: {escape(lead.display_name)}"
    if lead.fields.company:
        text += f" ({escape(lead.fields.company)})"
    return {"text": clip(text, SECTION_LIMIT), "blocks": blocks}


def alert(text: str, lead: LeadRecord | None) -> dict[str, Any]:
    """A DM to a manager or admin about a lead that needs a human. `text` is the app's
    own (domain.escalation never quotes the lead), so its Slack ids become mentions; the
    lead is named beside it, escaped."""
    body = f":warning: {mention_users(escape(text))}"
    if lead is not None:
        kind = escape(lead.fields.lead_type.replace("_", " "))
        body += f"\n*{escape(lead.display_name)}* (`{lead.id}`, {kind})"
    return {
        "text": clip(escape(text), SECTION_LIMIT),
        "blocks": [{"type": "section", "text": mrkdwn(body)}],
    }


MAX_QUEUE_LEADS = 15  # three blocks a lead keeps a message well under Slack's 50 blocks


def queue_view(
    title: str,
    leads: list[LeadRecord],
    now: datetime,
    empty: str,
    limit: int = MAX_QUEUE_LEADS,
) -> dict[str, Any]:
    """A list of leads with their SLA state and buttons (`/leads`, `/leads team`, App
    Home); at most `limit` leads, three blocks each."""
    blocks: Blocks = [{"type": "header", "text": {"type": "plain_text", "text": clip(title, 150)}}]
    if not leads:
        blocks.append({"type": "section", "text": mrkdwn(empty)})
        return {"text": title, "blocks": blocks}
    for lead in leads[:limit]:
        f = lead.fields
        facts = " · ".join(
            filter(
                None,
                (
                    f.company and escape(f.company),
                    f.lead_type.replace("_", " "),
                    f.source and f.source.replace("_", " "),
                ),
            )
        )
        age = humanize(now - lead.created_at)
        text = f"*{escape(lead.display_name)}* — {facts}\nWaiting {age} · {sla_line(lead, now)}"
        blocks.append({"type": "section", "text": mrkdwn(text)})
        buttons = _buttons(lead)
        if buttons:
            blocks.append({"type": "actions", "block_id": f"q:{lead.id}", "elements": buttons})
        blocks.append({"type": "divider"})
    if len(leads) > limit:
        more = len(leads) - limit
        blocks.append({"type": "context", "elements": [mrkdwn(f"…and {more} more")]})
    return {"text": title, "blocks": blocks}


def reassign_modal(lead: LeadRecord, now: datetime) -> dict[str, Any]:
    """Pick the new owner; the lead id rides in private_metadata."""
    select: dict[str, Any] = {
        "type": "users_select",
        "action_id": ids.NEW_OWNER,
        "placeholder": {"type": "plain_text", "text": "Choose a rep"},
    }
    if lead.owner:
        select["initial_user"] = lead.owner
    return {
        "type": "modal",
        "callback_id": ids.REASSIGN_LEAD,
        "private_metadata": lead.id,
        "title": {"type": "plain_text", "text": "Reassign lead"},
        "submit": {"type": "plain_text", "text": "Reassign"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "section",
                "text": mrkdwn(f"*{escape(lead.display_name)}*\n{sla_line(lead, now)}"),
            },
            {
                "type": "input",
                "block_id": ids.NEW_OWNER,
                "label": {"type": "plain_text", "text": "New owner"},
                "element": select,
            },
        ],
    }
