"""Block Kit for qualification: the card's score line and hand-off buttons, the
Disqualify and Not-ready modals. Pure functions; reason labels are configuration text
and lead text is a stranger's, so both go through `escape`."""

from __future__ import annotations

from typing import Any

from bot.slack import action_ids as ids
from bot.slack.blocks import button, escape, mrkdwn
from domain.handoff import HandOff
from domain.qualification import WATCHED
from domain.records import LeadRecord

ACTIONS = {
    ids.QUALIFY_LEAD: HandOff.QUALIFY,
    ids.DISQUALIFY_LEAD: HandOff.DISQUALIFY,
    ids.RECYCLE_LEAD: HandOff.RECYCLE,
}
_MODALS = {
    HandOff.DISQUALIFY: (ids.DISQUALIFY_LEAD, "Disqualify lead", "Disqualify"),
    HandOff.RECYCLE: (ids.RECYCLE_LEAD, "Back to marketing", "Send back"),
}


def score_block(lead: LeadRecord) -> dict[str, Any] | None:
    """`A2 · 58: +30 500+ employees, +20 healthcare, ...` under the routing reasons."""
    if lead.scoring is None:
        return None
    mql = " · MQL" if lead.scoring.mql else ""
    text = f"*Score:* {escape(lead.scoring.summary())}{mql}"
    return {"type": "context", "elements": [mrkdwn(text)]}


def hand_off_buttons(lead: LeadRecord) -> list[dict[str, Any]]:
    """Shown on scored leads sales has not answered yet."""
    if lead.scoring is None or lead.status not in WATCHED:
        return []
    return [
        button("Qualified", ids.QUALIFY_LEAD, lead.id, style="primary"),
        button("Disqualify…", ids.DISQUALIFY_LEAD, lead.id, style="danger"),
        button("Not ready → back to marketing", ids.RECYCLE_LEAD, lead.id),
    ]


def hand_off_modal(lead: LeadRecord, action: HandOff, reasons: list[str]) -> dict[str, Any]:
    """Pick a reason from the configured list (and add a note); the lead id rides in
    private_metadata, the reason as the option's value."""
    callback_id, title, submit = _MODALS[action]
    # An option's text holds 75 characters, its value 150, a static_select 100 options
    # (api.slack.com/reference/block-kit/composition-objects#option); the configuration
    # allows at most 100 reasons of 60 characters (domain.scoring_config).
    options = [{"text": {"type": "plain_text", "text": r}, "value": r} for r in reasons]
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": lead.id,
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": mrkdwn(f"*{escape(lead.display_name)}*")},
            {
                "type": "input",
                "block_id": ids.HANDOFF_REASON,
                "label": {"type": "plain_text", "text": "Reason"},
                "element": {
                    "type": "static_select",
                    "action_id": ids.HANDOFF_REASON,
                    "options": options,
                    "placeholder": {"type": "plain_text", "text": "Choose a reason"},
                },
            },
            {
                "type": "input",
                "block_id": ids.HANDOFF_NOTE,
                "optional": True,
                "label": {"type": "plain_text", "text": "Note"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.HANDOFF_NOTE,
                    "max_length": 500,
                },
            },
        ],
    }


def modal_answer(values: dict[str, Any]) -> tuple[str | None, str | None]:
    """The chosen reason and the note from a submitted modal's state values."""
    selected = values.get(ids.HANDOFF_REASON, {}).get(ids.HANDOFF_REASON, {}).get("selected_option")
    note = values.get(ids.HANDOFF_NOTE, {}).get(ids.HANDOFF_NOTE, {}).get("value")
    return (selected or {}).get("value"), (note or "").strip() or None
