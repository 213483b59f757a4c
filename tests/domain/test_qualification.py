"""Scoring in a lead's life: nurture at intake, routing once over the line, notices."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from domain.config import validate_config
from domain.lead import LeadStatus, Method, parse_lead
from domain.qualification import goes_to_nurture, rescore, score_new_lead, scored_fields
from domain.records import LeadRecord
from domain.scoring import Activity
from tests.domain.scoring_model import MODEL, NOW

CONFIG = validate_config(
    {
        "scoring": MODEL,
        "accounts": [{"domain": "acme.com", "owner": "U0A"}],
        "reps": [{"user": "U0A"}],
    }
)


def stored(status: LeadStatus, owner: str | None = None, **fields: Any) -> LeadRecord:
    lead = parse_lead({"email": "jo@gmail.com", **fields})
    return LeadRecord(
        id="L1",
        created_at=NOW - timedelta(days=1),
        submitter="web",
        fields=lead,
        status=status,
        owner=owner,
        team=None,
        method=Method.PUSH,
        decision={},
        sla_due_at=None,
        assigned_at=None,
        contacted_at=None,
        version=1,
    )


def test_without_a_model_nothing_is_scored_or_nurtured() -> None:
    config = validate_config({})
    lead = parse_lead({"email": "jo@gmail.com"})
    assert score_new_lead(config, lead, NOW) is None
    assert not goes_to_nurture(config, lead, None)
    assert rescore(config, stored(LeadStatus.NURTURE), None, [], NOW) is None


def test_a_cold_lead_is_nurtured_unless_its_type_always_routes() -> None:
    cold = parse_lead({"email": "jo@gmail.com", "score": 99})
    scoring = score_new_lead(CONFIG, cold, NOW)
    assert scoring is not None and not scoring.mql
    assert goes_to_nurture(CONFIG, cold, scoring)
    demo = parse_lead({"email": "jo@gmail.com", "lead_type": "demo_request"})
    demo_scoring = score_new_lead(CONFIG, demo, NOW)
    assert demo_scoring is not None and "+25 demo request" in demo_scoring.summary()
    assert not goes_to_nurture(CONFIG, demo, demo_scoring)


def test_the_model_replaces_the_senders_score_only_when_it_decides() -> None:
    lead = parse_lead({"email": "jo@gmail.com", "score": 99})
    scoring = score_new_lead(CONFIG, lead, NOW)
    assert scored_fields(CONFIG, lead, scoring).score == 0
    sender_config = validate_config({"scoring": {**MODEL, "decides": "sender"}})
    sender_scoring = score_new_lead(sender_config, lead, NOW)
    assert sender_scoring is not None and sender_scoring.mql
    assert scored_fields(sender_config, lead, sender_scoring).score == 99


def test_fit_may_test_the_known_account() -> None:
    config = validate_config(
        {
            **CONFIG.model_dump(mode="json", by_alias=True, exclude_none=True),
            "scoring": {
                **MODEL,
                "fit": [{"label": "customer", "when": {"account_owner": True}, "points": 40}],
            },
        }
    )
    scoring = score_new_lead(config, parse_lead({"email": "cto@acme.com"}), NOW)
    assert scoring is not None and scoring.summary().startswith("A3 · 40: +40 customer")


def test_a_nurture_lead_over_the_line_is_routed_and_nobody_is_told() -> None:
    lead = stored(LeadStatus.NURTURE, employees=900, industry="healthcare")
    result = rescore(CONFIG, lead, None, [Activity("webinar_attended", NOW)], NOW)
    assert result is not None and result.route_now and result.notices == ()
    assert result.scoring.mql and result.fields.score == result.scoring.score


def test_the_owner_hears_each_threshold_once() -> None:
    lead = stored(LeadStatus.ASSIGNED, owner="U0A", employees=900)
    first = rescore(CONFIG, lead, None, [], NOW)
    assert first is not None and [c.key for c in first.notices] == []
    warm = rescore(CONFIG, lead, first.scoring, [Activity("pricing_page", NOW)] * 2, NOW)
    assert warm is not None and [c.key for c in warm.notices] == ["engagement-2"]
    closed = rescore(
        CONFIG,
        replace(lead, status=LeadStatus.QUALIFIED),
        first.scoring,
        [Activity("webinar_attended", NOW)] * 3,
        NOW,
    )
    assert closed is not None and closed.notices == () and not closed.route_now


def test_a_lead_sent_back_above_the_line_stays_until_it_crosses_again() -> None:
    lead = stored(LeadStatus.NURTURE, employees=900, industry="healthcare")
    above = rescore(CONFIG, lead, None, [Activity("webinar_attended", NOW)], NOW)
    assert above is not None and above.scoring.mql
    still = rescore(CONFIG, lead, above.scoring, [Activity("webinar_attended", NOW)] * 2, NOW)
    assert still is not None and not still.route_now
