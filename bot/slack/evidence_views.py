"""Block Kit for the evidence features: an experiment's report (with **Promote**), the
routing review (each finding with a button to the modal that fixes it), `/leads why`,
and the **Wrong routing?** modal. Pure functions; the text comes from the domain's own
line renderers, so Slack shows what the CLI prints."""

from __future__ import annotations

import json
from typing import Any

from bot.slack import action_ids as ids
from bot.slack.admin.forms import (
    FormError,
    Values,
    input_block,
    modal,
    option,
    selected_of,
    string_of,
    text_input,
)
from bot.slack.blocks import SECTION_LIMIT, Blocks, View, button, clip, escape, mrkdwn, plain_text
from domain.experiment_document import summary_lines
from domain.experiment_report import ExperimentReport
from domain.review import Review
from domain.review_text import FIX_LABELS, review_lines

MISROUTE_REASONS = {
    "territory": "Not my territory",
    "product": "Wrong product",
    "account_owner": "Should be an account owner's",
    "other": "Other",
}
_CODE_LIMIT = SECTION_LIMIT - 100  # room for the fences
MAX_FINDINGS_SHOWN = 40  # one block each; a message holds 50


def _text(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def _code_blocks(lines: list[str]) -> Blocks:
    """Aligned text in as few code sections as fit Slack's limit."""
    blocks, chunk = [], ""
    for line in (escape(line) for line in lines):
        if chunk and len(chunk) + len(line) + 1 > _CODE_LIMIT:
            blocks.append(_text(f"```{chunk}```"))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else clip(line, _CODE_LIMIT)
    if chunk:
        blocks.append(_text(f"```{chunk}```"))
    return blocks


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": plain_text(text)}


def experiment_message(report: ExperimentReport, can_promote: bool) -> dict[str, Any]:
    """The report; admins get **Promote** while the experiment runs and one arm won."""
    name = report.experiment.name
    blocks = [_header(f"Experiment {name}"), *_code_blocks(summary_lines(report))]
    winners = [verdict.arm for verdict in report.verdicts if verdict.outcome == "better"]
    if can_promote and report.experiment.state == "running" and len(winners) == 1:
        promote = button(
            f"Promote arm {winners[0]}",
            ids.PROMOTE_EXPERIMENT,
            json.dumps({"experiment": name, "arm": winners[0]}),
            style="primary",
        )
        promote["confirm"] = {
            "title": plain_text("Promote this arm?"),
            "text": plain_text(
                f"Arm {winners[0]} becomes the live routing for the segment, as a new "
                "configuration version."
            ),
            "confirm": plain_text("Promote"),
            "deny": plain_text("Cancel"),
        }
        blocks.append({"type": "actions", "elements": [promote]})
    verdicts = " ".join(verdict.text for verdict in report.verdicts)
    return {"text": clip(f"Experiment {name}: {verdicts}", SECTION_LIMIT), "blocks": blocks}


def review_message(review: Review) -> dict[str, Any]:
    """The review's table, then one section per finding with its fix button."""
    lines = review_lines(review)
    table = lines[: len(lines) - max(len(review.findings), 1)]
    blocks = [_header("Routing review"), *_code_blocks(table)]
    if not review.findings:
        blocks.append(_text(escape(lines[-1])))
    for number, finding in enumerate(review.findings[:MAX_FINDINGS_SHOWN], start=1):
        fix = json.dumps({"modal": finding.fix.modal, "key": finding.fix.key})
        blocks.append(
            {
                **_text(f"{number}. {escape(finding.text)}"),
                "block_id": f"finding:{number}",
                "accessory": button(FIX_LABELS[finding.fix.modal], ids.REVIEW_FIX, fix),
            }
        )
    hidden = len(review.findings) - MAX_FINDINGS_SHOWN
    if hidden > 0:
        blocks.append(_text(f"…and {hidden} more: run `leadrouter review` for all."))
    summary = f"Routing review: {len(review.findings)} findings over {review.leads} leads"
    return {"text": summary, "blocks": blocks}


def why_message(lines: list[str]) -> dict[str, Any]:
    return {"text": clip(lines[0], SECTION_LIMIT), "blocks": _code_blocks(lines)}


def misroute_modal(lead_id: str) -> View:
    """Why the routing was wrong; the lead rides in the metadata."""
    reasons = {
        "type": "radio_buttons",
        "options": [option(value, label) for value, label in MISROUTE_REASONS.items()],
    }
    blocks: Blocks = [
        _text(
            "Tell sales ops why this lead should not have come to you. It counts in the "
            "routing review; the lead itself does not change."
        ),
        input_block("reason", "Reason", reasons),
        input_block("text", "Anything to add", text_input(multiline=True), optional=True),
    ]
    return modal(ids.MISROUTE_REPORT, "Wrong routing?", blocks, {"lead": lead_id}, "Send")


def parse_misroute(values: Values) -> tuple[str, str | None]:
    """(reason, text) from the submitted modal, or FormError naming the block to fix."""
    chosen = selected_of(values, "reason")
    text = string_of(values, "text")
    if chosen not in MISROUTE_REASONS:
        raise FormError({"reason": "Pick a reason."})
    if chosen == "other" and not text:
        raise FormError({"text": "Say what was wrong."})
    return chosen, clip(text, 500) if text else None
