"""Block Kit for qualification: the card's score line and hand-off buttons, the
Disqualify and Not-ready modals. Pure functions; reason labels are configuration text
and lead text is a stranger's, so both go through `escape`."""

from __future__ import annotations

from typing import Any

from bot.slack.stats_views import percent
from bot.slack.views import _button, _mrkdwn, escape
from domain.handoff import HandOff
from domain.qualification import WATCHED
from domain.records import LeadRecord
from domain.scoring_report import Conversion, ScoringReport

QUALIFY_ACTION = "qualify_lead"
DISQUALIFY_ACTION = "disqualify_lead"
RECYCLE_ACTION = "recycle_lead"
ACTIONS = {
    QUALIFY_ACTION: HandOff.QUALIFY,
    DISQUALIFY_ACTION: HandOff.DISQUALIFY,
    RECYCLE_ACTION: HandOff.RECYCLE,
}
REASON_BLOCK = "reason"
NOTE_BLOCK = "note"
_MODALS = {
    HandOff.DISQUALIFY: (DISQUALIFY_ACTION, "Disqualify lead", "Disqualify"),
    HandOff.RECYCLE: (RECYCLE_ACTION, "Back to marketing", "Send back"),
}


def score_block(lead: LeadRecord) -> dict[str, Any] | None:
    """`A2 · 58: +30 500+ employees, +20 healthcare, ...` under the routing reasons."""
    if lead.scoring is None:
        return None
    mql = " · MQL" if lead.scoring.mql else ""
    text = f"*Score:* {escape(lead.scoring.summary())}{mql}"
    return {"type": "context", "elements": [_mrkdwn(text)]}


def hand_off_buttons(lead: LeadRecord) -> list[dict[str, Any]]:
    """Shown on scored leads sales has not answered yet."""
    if lead.scoring is None or lead.status not in WATCHED:
        return []
    return [
        _button("Qualified", QUALIFY_ACTION, lead.id, style="primary"),
        _button("Disqualify…", DISQUALIFY_ACTION, lead.id, style="danger"),
        _button("Not ready → back to marketing", RECYCLE_ACTION, lead.id),
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
            {"type": "section", "text": _mrkdwn(f"*{escape(lead.display_name)}*")},
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "label": {"type": "plain_text", "text": "Reason"},
                "element": {
                    "type": "static_select",
                    "action_id": REASON_BLOCK,
                    "options": options,
                    "placeholder": {"type": "plain_text", "text": "Choose a reason"},
                },
            },
            {
                "type": "input",
                "block_id": NOTE_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "Note"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": NOTE_BLOCK,
                    "max_length": 500,
                },
            },
        ],
    }


def modal_answer(values: dict[str, Any]) -> tuple[str | None, str | None]:
    """The chosen reason and the note from a submitted modal's state values."""
    selected = values.get(REASON_BLOCK, {}).get(REASON_BLOCK, {}).get("selected_option")
    note = values.get(NOTE_BLOCK, {}).get(NOTE_BLOCK, {}).get("value")
    return (selected or {}).get("value"), (note or "").strip() or None


def stats_tables(report: ScoringReport) -> list[tuple[str, list[str]]]:
    """The scoring section of `/leadstats` and the digest, as (title, lines) tables:
    conversion by grade and band, lead quality by source, the spread of A-leads."""
    graded = [line for line in report.grades if line.leads]
    banded = [line for line in report.bands if line.leads]
    tables = [
        (
            f"Qualification: {report.leads} scored, {report.nurtured} in nurture "
            f"(MQL line {report.mql_at})",
            [_conversion_line(line) for line in graded],
        ),
        ("By score band", [_conversion_line(line) for line in banded]),
    ]
    flagged = [inversion for inversion in report.inversions if inversion.significant]
    if flagged:
        tables.append(
            (
                ":warning: Converting out of order (review the model: `leadrouter scoring report`)",
                [
                    f"• {i.worse.key} qualifies {percent(i.worse.qualified_rate)}, above "
                    f"{i.better.key} at {percent(i.better.qualified_rate)} (p = {i.p_value:.3f})"
                    for i in flagged
                ],
            )
        )
    tables.append(
        (
            "Lead quality by source",
            [
                f"• {escape(line.conversion.key)}: {line.conversion.leads} leads · "
                f"{percent(line.conversion.qualified_rate)} qualified · "
                f"{line.disqualified} disqualified"
                + (f" ({_reasons(line.reasons)})" if line.reasons else "")
                for line in report.sources
            ],
        )
    )
    gini = report.mix.a_gini
    spread = "no A-grade leads" if gini is None else f"Gini {gini:.2f} (0 = evenly shared)"
    tables.append(
        (
            f"A-grade leads per rep: {spread}",
            [
                f"• <@{rep}>: {mix['A']} A · {mix['B']} B · {mix['C']} C"
                for rep, mix in sorted(report.mix.letters.items(), key=lambda i: -i[1]["A"])
            ],
        )
    )
    return tables


def _conversion_line(line: Conversion) -> str:
    return (
        f"• {line.key}: {line.leads} leads, {line.worked} worked · "
        f"{percent(line.contact_rate)} contacted · {percent(line.qualified_rate)} qualified · "
        f"{percent(line.opportunity_rate)} to opportunity · {percent(line.won_rate)} won"
    )


def _reasons(reasons: dict[str, int]) -> str:
    return ", ".join(f"{escape(reason)} {count}" for reason, count in reasons.items())
