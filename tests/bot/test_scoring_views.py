"""Qualification on the card and in the report: escaped, within Slack's limits, and the
printed report's exit code says whether the model needs review."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from rich.console import Console

from bot.api.scoring_json import lead_scoring_json, scoring_report_json
from bot.scoring_command import print_scoring_report
from bot.slack import scoring_views
from bot.slack.stats_views import scoring_tables
from domain.config import validate_config
from domain.handoff import HandOff
from domain.lead import LeadStatus, Method, parse_lead
from domain.qualification import score_new_lead
from domain.records import LeadRecord
from domain.scoring_report import ScoredRow, build_scoring_report
from tests.domain.scoring_model import MODEL, NOW

HOSTILE_LABEL = "<!channel> *big* <https://evil.example|click>"


def scored_lead(status: LeadStatus = LeadStatus.ASSIGNED) -> LeadRecord:
    config = validate_config(
        {
            "scoring": {
                **MODEL,
                "fit": [{"label": HOSTILE_LABEL, "when": {"employees": {"gte": 1}}, "points": 30}],
            }
        }
    )
    fields = parse_lead({"email": "jo@x.io", "employees": 10, "first_name": "<@U0BOSS>"})
    return LeadRecord(
        id="L1",
        created_at=NOW - timedelta(minutes=3),
        submitter="web",
        fields=fields,
        status=status,
        owner="U0ALICE",
        team="sales",
        method=Method.PUSH,
        decision={},
        sla_due_at=None,
        assigned_at=NOW,
        contacted_at=None,
        version=1,
        scoring=score_new_lead(config, fields, NOW),
    )


def test_the_score_line_is_escaped() -> None:
    block = scoring_views.score_block(scored_lead())
    assert block is not None
    text = block["elements"][0]["text"]
    assert text.startswith("*Score:* B3 · 30: +30 &lt;!channel&gt;")
    assert "<!channel>" not in text and "<https" not in text


def test_buttons_only_while_sales_has_not_answered() -> None:
    actions = [b["action_id"] for b in scoring_views.hand_off_buttons(scored_lead())]
    assert actions == ["qualify_lead", "disqualify_lead", "recycle_lead"]
    assert scoring_views.hand_off_buttons(scored_lead(LeadStatus.QUALIFIED)) == []


def test_the_modal_offers_the_configured_reasons_and_reads_the_answer() -> None:
    modal = scoring_views.hand_off_modal(scored_lead(), HandOff.DISQUALIFY, ["no budget", "spam"])
    assert modal["callback_id"] == "disqualify_lead" and modal["private_metadata"] == "L1"
    assert "&lt;@U0BOSS&gt;" in modal["blocks"][0]["text"]["text"]
    options = modal["blocks"][1]["element"]["options"]
    assert [o["value"] for o in options] == ["no budget", "spam"]
    values = {
        "reason": {"reason": {"selected_option": options[1]}},
        "note": {"note": {"value": "  bot traffic "}},
    }
    assert scoring_views.modal_answer(values) == ("spam", "bot traffic")
    assert scoring_views.modal_answer({}) == (None, None)


def _rows() -> list[ScoredRow]:
    def row(grade: str, score: int, qualified: bool, **extra: object) -> ScoredRow:
        values: dict = dict(
            grade=grade,
            score=score,
            source="web",
            owner="U0ALICE",
            routed=True,
            contacted=qualified,
            qualified=qualified,
            opportunity=False,
            won=False,
        )
        return ScoredRow(**{**values, **extra})

    rows = [row("A1", 90, q) for q in [True] * 2 + [False] * 18]
    rows += [row("B1", 60, q, owner="U0BOB") for q in [True] * 15 + [False] * 5]
    rows += [row("C3", 5, False, routed=False, owner=None, disqualified_reason="spam")]
    return rows


def test_the_printed_report_flags_the_inversion_and_exits_1() -> None:
    console = Console(record=True, width=160)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    code = print_scoring_report(build_scoring_report(_rows(), 50), console, start, NOW)
    text = console.export_text()
    assert code == 1
    assert "OUT OF ORDER: B1 qualifies 75% of 20, above A1 at 10% of 20" in text
    assert "1 never handed to sales" in text


def test_an_orderly_report_exits_0() -> None:
    rows = [r for r in _rows() if r.grade != "B1"]
    assert print_scoring_report(build_scoring_report(rows, 50), Console(record=True), NOW, NOW) == 0


def test_stats_tables_and_json_carry_the_same_figures() -> None:
    report = build_scoring_report(_rows(), 50, reps=["U0ALICE", "U0BOB"])
    tables = dict(scoring_tables(report))
    assert any("B1 qualifies 75%" in line for title, lines in tables.items() for line in lines)
    body = scoring_report_json(report)
    assert body is not None
    json.dumps(body)
    assert body["grades"][0]["key"] == "A1" and body["grades"][0]["qualified_rate"] == 0.1
    assert body["sources"][0]["disqualify_reasons"] == {"spam": 1}
    assert scoring_report_json(None) is None


def test_lead_json_names_every_scoring_field() -> None:
    body = lead_scoring_json(scored_lead())
    assert body["grade"] == "B3" and body["score_reasons"][0]["points"] == 30
    unscored = lead_scoring_json(LeadRecord(**{**scored_lead().__dict__, "scoring": None}))
    assert unscored == dict.fromkeys(
        ("fit_score", "engagement_score", "grade", "mql", "score_reasons")
    )
