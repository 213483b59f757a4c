"""Block Kit for the evidence features: within Slack's limits, names escaped, Promote only
for admins while one arm won, and the Wrong routing? form parsed or refused by block."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.slack.admin.forms import FormError
from bot.slack.evidence_views import (
    experiment_message,
    misroute_modal,
    parse_misroute,
    review_message,
    why_message,
)
from domain.experiment_config import ExperimentConfig
from domain.experiment_report import ExperimentLead, build_experiment_report
from domain.review import Finding, Fix, Review, RuleLine

END = datetime(2026, 12, 1, tzinfo=UTC)


def report(rate_b: float) -> object:
    experiment = ExperimentConfig.model_validate(
        {"name": "x", "arms": [{"name": "A"}, {"name": "B"}], "end": "2027-01-01"}
    )
    rng = random.Random(1)
    leads = [
        ExperimentLead(arm, "U1", True, 60.0, True, hit, hit, False)
        for arm, rate in (("A", 0.1), ("B", rate_b))
        for _ in range(400)
        for hit in [rng.random() < rate]
    ]
    return build_experiment_report(experiment, leads)


def test_promote_is_offered_to_admins_only_when_one_arm_won() -> None:
    won = report(0.4)
    actions = [b for b in experiment_message(won, True)["blocks"] if b["type"] == "actions"]
    [promote] = actions[0]["elements"]
    assert json.loads(promote["value"]) == {"experiment": "x", "arm": "B"}
    assert "confirm" in promote
    assert not [b for b in experiment_message(won, False)["blocks"] if b["type"] == "actions"]
    tied = experiment_message(report(0.1), True)
    assert not [b for b in tied["blocks"] if b["type"] == "actions"]


def test_a_long_review_stays_within_slacks_limits_and_escapes_names() -> None:
    rule = "<!channel> & friends"
    findings = [
        Finding("rule_unmatched", rule, f"Rule “{rule}” matched no lead", Fix("rule", rule))
        for _ in range(60)
    ]
    lines = [RuleLine(f"rule {i} <b>", 1, 0.01, None, None) for i in range(100)]
    review = Review(END - timedelta(days=90), END, 100, lines, lines[0], [(END, 0.2)], findings)
    message = review_message(review)
    blocks = message["blocks"]
    assert len(blocks) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    text = "\n".join(b["text"]["text"] for b in blocks)  # what Slack renders
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "…and 20 more" in text
    first = next(b for b in blocks if b.get("block_id") == "finding:1")
    assert json.loads(first["accessory"]["value"]) == {"modal": "rule", "key": rule}


def test_why_is_one_code_block_of_escaped_lines() -> None:
    message = why_message(["Rules that can route to you:", "  1. a <b> rule"])
    assert message["blocks"][0]["text"]["text"] == (
        "```Rules that can route to you:\n  1. a &lt;b&gt; rule```"
    )


@pytest.mark.parametrize(
    ("reason", "text", "expected"),
    [
        ("territory", None, ("territory", None)),
        ("other", "  sold by a partner  ", ("other", "sold by a partner")),
        (None, None, {"reason": "Pick a reason."}),
        ("other", "", {"text": "Say what was wrong."}),
    ],
)
def test_the_wrong_routing_form(reason: str | None, text: str | None, expected: object) -> None:
    values = {
        "reason": {"reason": {"selected_option": {"value": reason} if reason else None}},
        "text": {"text": {"value": text}},
    }
    if isinstance(expected, dict):
        with pytest.raises(FormError) as refused:
            parse_misroute(values)
        assert refused.value.errors == expected
    else:
        assert parse_misroute(values) == expected
    modal = misroute_modal("L1")
    assert json.loads(modal["private_metadata"]) == {"lead": "L1"}
    assert [b.get("block_id") for b in modal["blocks"][1:]] == ["reason", "text"]
