"""The stats views stay within Slack's limits however big the team, say what to do when
empty, and the digest chart is a real PNG."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from bot.charts import digest_chart
from bot.slack.stats_views import (
    HOME_BLOCKS,
    MESSAGE_BLOCKS,
    digest_message,
    home_view,
    queue_with_figures,
    report_view,
)
from domain.lead import LeadInput, LeadStatus, Method
from domain.records import LeadRecord
from domain.reports import (
    Aggregates,
    GroupTally,
    QueueRow,
    Ranked,
    Scope,
    StageRow,
    Tally,
    build_report,
    changes,
)

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
START = NOW - timedelta(days=30)


def _big_report(reps: int = 300) -> object:
    groups = [
        GroupTally(
            f"U0REP{i:03d}", f"source_{i % 40}", "push", f"rule {i % 30}",
            Tally(leads=i + 1, contacted=i, sla_met=i // 2, sla_decided=i, opportunities=1,
                  won=1, response_seconds=60.0 * i),
        )
        for i in range(reps)
    ]  # fmt: skip
    owners = {g.owner: Ranked(3, {0: 10.0, 1: 20.0, 2: 30.0}) for g in groups}
    queues = [
        QueueRow("pull", f"type_{i}", 3, Ranked(1, {0: 60.0}), 2, START + timedelta(hours=i))
        for i in range(40)
    ]
    stages = [StageRow("awaiting contact", 10, 5, 500.0, 5)]
    aggregates = Aggregates(groups, owners, Ranked(1, {0: 42.0}), queues, stages)
    weights = {g.owner: 1 + i % 3 for i, g in enumerate(groups) if g.owner}
    return build_report(Scope("team", "big"), "30d", START, NOW, aggregates, weights)


def _lead(index: int) -> LeadRecord:
    created = NOW - timedelta(minutes=index)
    return LeadRecord(
        id=uuid.uuid4().hex, created_at=created, submitter="t",
        fields=LeadInput(email=f"l{index}@x.io", company=f"Co {index}", lead_type="mql"),
        status=LeadStatus.ASSIGNED, owner="U0ME", team="t", method=Method.PUSH, decision={},
        sla_due_at=created + timedelta(hours=2), assigned_at=created, contacted_at=None,
        version=1,
    )  # fmt: skip


def _text(payload: object) -> str:
    return json.dumps(payload, ensure_ascii=False)


def _within_limits(blocks: list[dict], most: int) -> None:
    assert len(blocks) <= most
    for block in blocks:
        if "text" in block and block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        for field in block.get("fields", []):
            assert len(field["text"]) <= 2000


def test_a_huge_team_is_summarised_within_one_message() -> None:
    report = _big_report()
    message = report_view(report)  # type: ignore[arg-type]
    _within_limits(message["blocks"], MESSAGE_BLOCKS)
    text = _text(message)
    assert "…and 285 more" in text and "`GET /api/stats`" in text
    assert "U0REP299" in text  # the busiest rep comes first
    digest = digest_message("big", report, changes(report, report))  # type: ignore[arg-type]
    _within_limits(digest["blocks"], MESSAGE_BLOCKS)
    assert "Leads: 45150 (+0)" in _text(digest)


def test_home_and_leads_fit_their_limits_with_many_open_leads() -> None:
    report = _big_report(1)
    leads = [_lead(i) for i in range(120)]
    home = home_view(leads, report, NOW)  # type: ignore[arg-type]
    _within_limits(home["blocks"], HOME_BLOCKS)
    assert "…and 90 more" in _text(home)
    queue = queue_with_figures(leads, report, NOW)  # type: ignore[arg-type]
    _within_limits(queue["blocks"], MESSAGE_BLOCKS)
    assert "Your last 30 days" in _text(queue)


def test_empty_figures_say_what_to_do() -> None:
    empty = build_report(
        Scope("source", "billboard"), "7d", START, NOW, Aggregates([], {}, Ranked(0, {}), [], [])
    )
    text = _text(report_view(empty))
    assert "No leads for source billboard" in text and "/leadstats source billboard 90d" in text


def test_the_digest_chart_is_a_png() -> None:
    png = digest_chart(_big_report(12), [3, 5, 8, 2, 0, 1, 0, 0, 1])  # type: ignore[arg-type]
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
