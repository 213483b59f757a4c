"""Block Kit for the evidence features: an experiment's report (with **Promote**), the
routing review (each finding with a button to the modal that fixes it), `/leads why`,
and the **Wrong routing?** modal. Pure functions; the text comes from the domain's own
line renderers, so Slack shows what the CLI prints."""

from __future__ import annotations

import json
from typing import Any

from bot.slack.admin_views import FormError
from bot.slack.views import escape
from domain.experiment_document import summary_lines
from domain.experiment_report import ExperimentReport
from domain.review import Review
from domain.review_text import FIX_LABELS, review_lines

PROMOTE_EXPERIMENT = "experiment_promote"
REVIEW_FIX = "review_fix"
REPORT_MISROUTE = "report_misroute"
MISROUTE_VIEW = "misroute_report"
MISROUTE_REASONS = {
    "territory": "Not my territory",
    "product": "Wrong product",
    "account_owner": "Should be an account owner's",
    "other": "Other",
}
_CODE_LIMIT = 2900  # a section's text is at most 3,000 characters, fences included
MAX_FINDINGS_SHOWN = 40  # each finding is one block; a message holds 50


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _code_blocks(lines: list[str]) -> list[dict[str, Any]]:
    """Aligned text in as few code sections as fit Slack's limit."""
    blocks, chunk = [], ""
    for line in (escape(line) for line in lines):
        if chunk and len(chunk) + len(line) + 1 > _CODE_LIMIT:
            blocks.append(_section(f"```{chunk}```"))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        blocks.append(_section(f"```{chunk}```"))
    return blocks


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}


def experiment_message(report: ExperimentReport, can_promote: bool) -> dict[str, Any]:
    """The report; admins get **Promote** while the experiment runs and an arm won."""
    name = report.experiment.name
    blocks = [_header(f"Experiment {name}"), *_code_blocks(summary_lines(report))]
    winners = [verdict.arm for verdict in report.verdicts if verdict.outcome == "better"]
    if can_promote and report.experiment.state == "running" and len(winners) == 1:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": f"Promote arm {winners[0]}"},
                        "style": "primary",
                        "action_id": PROMOTE_EXPERIMENT,
                        "value": json.dumps({"experiment": name, "arm": winners[0]}),
                        "confirm": {
                            "title": {"type": "plain_text", "text": "Promote this arm?"},
                            "text": {
                                "type": "plain_text",
                                "text": f"Arm {winners[0]} becomes the live routing for the "
                                "segment, as a new configuration version.",
                            },
                            "confirm": {"type": "plain_text", "text": "Promote"},
                            "deny": {"type": "plain_text", "text": "Cancel"},
                        },
                    }
                ],
            }
        )
    verdicts = " ".join(verdict.text for verdict in report.verdicts)
    return {"text": f"Experiment {name}: {verdicts}"[:3000], "blocks": blocks}


def review_message(review: Review) -> dict[str, Any]:
    """The review's table, then one section per finding with its fix button."""
    lines = review_lines(review)
    table = lines[: len(lines) - max(len(review.findings), 1)]
    blocks = [_header("Routing review"), *_code_blocks(table)]
    if not review.findings:
        blocks.append(_section(escape(lines[-1])))
    for number, finding in enumerate(review.findings[:MAX_FINDINGS_SHOWN], start=1):
        fix = FIX_LABELS[finding.fix.modal]
        blocks.append(
            {
                "type": "section",
                "block_id": f"finding:{number}",
                "text": {"type": "mrkdwn", "text": f"{number}. {escape(finding.text)}"[:3000]},
                "accessory": {
                    "type": "button",
                    "text": {"type": "plain_text", "text": fix[:75]},
                    "action_id": REVIEW_FIX,
                    "value": json.dumps({"modal": finding.fix.modal, "key": finding.fix.key}),
                },
            }
        )
    hidden = len(review.findings) - MAX_FINDINGS_SHOWN
    if hidden > 0:
        blocks.append(_section(f"…and {hidden} more: run `leadrouter review` for all."))
    summary = f"Routing review: {len(review.findings)} findings over {review.leads} leads"
    return {"text": summary, "blocks": blocks}


def why_message(lines: list[str]) -> dict[str, Any]:
    return {"text": lines[0][:3000], "blocks": _code_blocks(lines)}


def misroute_modal(lead_id: str) -> dict[str, Any]:
    """Why the routing was wrong; the lead rides in private_metadata."""
    options = [
        {"text": {"type": "plain_text", "text": label}, "value": value}
        for value, label in MISROUTE_REASONS.items()
    ]
    return {
        "type": "modal",
        "callback_id": MISROUTE_VIEW,
        "private_metadata": lead_id,
        "title": {"type": "plain_text", "text": "Wrong routing?"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _section(
                "Tell sales ops why this lead should not have come to you. It counts in the "
                "routing review; the lead itself does not change."
            ),
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Reason"},
                "element": {"type": "radio_buttons", "action_id": "reason", "options": options},
            },
            {
                "type": "input",
                "block_id": "text",
                "optional": True,
                "label": {"type": "plain_text", "text": "Anything to add"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "multiline": True,
                    "max_length": 500,
                },
            },
        ],
    }


def parse_misroute(values: dict[str, Any]) -> tuple[str, str | None]:
    """(reason, text) from the submitted modal, or FormError naming the block to fix."""
    chosen = (values.get("reason", {}).get("reason", {}).get("selected_option") or {}).get("value")
    text = (values.get("text", {}).get("text", {}).get("value") or "").strip() or None
    if chosen not in MISROUTE_REASONS:
        raise FormError({"reason": "Pick a reason."})
    if chosen == "other" and not text:
        raise FormError({"text": "Say what was wrong."})
    return chosen, text
