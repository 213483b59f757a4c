"""The quarterly review: a healthy setup has no findings; each planted problem is found,
alone, with the modal that fixes it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.config import validate_config
from domain.reports import Tally
from domain.review import Fix, Misroute, Review, ReviewData, build_review, pto_days
from domain.review_config import ReviewConfig, quarter_due
from domain.review_text import review_lines

END = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
START = END - timedelta(days=90)
HOURS = {"mon-fri": "08:00-18:00"}

HEALTHY: dict[str, Any] = {
    "reps": [
        {"user": "U0ANN", "timezone": "America/New_York", "working_hours": HOURS},
        {"user": "U0BEN", "timezone": "America/New_York", "working_hours": HOURS},
        {"user": "U0OLD", "active": True},
    ],
    "teams": [
        {
            "name": "sales",
            "strategy": "round_robin",
            "business_hours": {"timezone": "America/New_York", "hours": {"mon-fri": "09:00-17:00"}},
            "members": [{"user": "U0ANN"}, {"user": "U0BEN"}],
        }
    ],
    "accounts": [{"domain": "acme.com", "owner": "U0ANN"}],
    "rules": [
        {"name": "enterprise", "when": {"employees": {"gte": 500}}, "then": {"team": "sales"}},
        {"name": "north east", "when": {"state": {"in": ["NY", "MA"]}}, "then": {"team": "sales"}},
        {"name": "everyone else", "then": {"team": "sales"}},
    ],
}


def tally(leads: int, sla: float = 0.9, conversion: float = 0.2) -> Tally:
    return Tally(
        leads=leads,
        contacted=leads,
        sla_met=round(leads * sla),
        sla_decided=leads,
        opportunities=round(leads * conversion),
    )


def healthy_data() -> dict[str, Any]:
    return {
        "start": START,
        "end": END,
        "rules": {"enterprise": tally(45), "north east": tally(35), "everyone else": tally(20)},
        "team_leads": {"sales": {"U0ANN": 50, "U0BEN": 50}},
        "slices": [
            (START, {"U0ANN": 17, "U0BEN": 16}),
            (START + timedelta(days=30), {"U0ANN": 17, "U0BEN": 17}),
            (START + timedelta(days=60), {"U0ANN": 16, "U0BEN": 17}),
        ],
    }


def review(config_change: Callable[[dict[str, Any]], None] = lambda c: None, **data: Any) -> Review:
    config = copy.deepcopy(HEALTHY)
    config_change(config)
    return build_review(validate_config(config), ReviewData(**(healthy_data() | data)))


def test_a_healthy_setup_has_no_findings() -> None:
    result = review()
    assert result.findings == []
    assert result.leads == 100
    assert [(line.rule, line.leads, line.share) for line in result.rules] == [
        ("enterprise", 45, 0.45),
        ("north east", 35, 0.35),
        ("everyone else", 20, 0.2),
    ]
    assert result.average.sla_rate == pytest.approx(0.9)


def add_rule(config: dict[str, Any]) -> None:
    rule = {"name": "healthcare", "when": {"industry": "healthcare"}, "then": {"team": "sales"}}
    config["rules"].insert(0, rule)


def set_rep(user: str, **fields: Any) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        next(rep for rep in config["reps"] if rep["user"] == user).update(fields)

    return change


def add_member(config: dict[str, Any]) -> None:
    config["reps"].append({"user": "U0CAT"})
    config["teams"][0]["members"].append({"user": "U0CAT"})


def weigh(config: dict[str, Any]) -> None:
    config["teams"][0]["strategy"] = "weighted"
    config["teams"][0]["members"] = [{"user": "U0ANN", "weight": 3}, {"user": "U0BEN", "weight": 1}]


def orphan_account(config: dict[str, Any]) -> None:
    config["reps"][2]["active"] = False
    config["accounts"][0]["owner"] = "U0OLD"


def late_shifts(config: dict[str, Any]) -> None:
    for rep in config["reps"][:2]:
        rep["working_hours"] = {"mon-fri": "10:00-18:00"}


PLANTED = [
    ("rule_unmatched", add_rule, {}, Fix("rule", "healthcare")),
    (
        "catch_all_share",
        lambda c: None,
        {"rules": {"enterprise": tally(20), "north east": tally(20), "everyone else": tally(60)}},
        Fix("rules"),
    ),
    (
        "rule_sla",
        lambda c: None,
        {"rules": healthy_data()["rules"] | {"north east": tally(35, sla=0.5)}},
        Fix("rule", "north east"),
    ),
    (
        "rule_conversion",
        lambda c: None,
        {"rules": healthy_data()["rules"] | {"north east": tally(35, conversion=0.0)}},
        Fix("rule", "north east"),
    ),
    (
        "misroute_feedback",
        lambda c: None,
        {
            "misroutes": [
                Misroute("enterprise", "not my territory", 3),
                Misroute("enterprise", "other", 1),
            ]
        },
        Fix("rule", "enterprise"),
    ),
    ("rep_gone", lambda c: None, {"slack_status": {"U0BEN": "deactivated"}}, Fix("rep", "U0BEN")),
    ("rep_inactive", set_rep("U0BEN", active=False), {}, Fix("team", "sales")),
    (
        "rep_mostly_away",
        set_rep("U0ANN", pto=[{"from": "2025-12-10", "to": "2026-02-20"}]),
        {},
        Fix("pto", "U0ANN"),
    ),
    ("rep_no_leads", add_member, {}, Fix("team", "sales")),
    ("team_uncovered", late_shifts, {}, Fix("team", "sales")),
    ("weight_drift", weigh, {}, Fix("team", "sales")),
    ("account_orphaned", orphan_account, {}, Fix("import")),
    (
        "gini_rising",
        lambda c: None,
        {
            "slices": [
                (START, {"U0ANN": 10, "U0BEN": 10}),
                (END - timedelta(days=30), {"U0ANN": 18, "U0BEN": 2}),
            ]
        },
        Fix("rules"),
    ),
]


@pytest.mark.parametrize(
    ("kind", "config_change", "data", "fix"), PLANTED, ids=[p[0] for p in PLANTED]
)
def test_each_planted_problem_is_found_alone(
    kind: str, config_change: Callable[[dict[str, Any]], None], data: dict[str, Any], fix: Fix
) -> None:
    findings = review(config_change, **data).findings
    assert [(f.kind, f.fix) for f in findings] == [(kind, fix)], [f.text for f in findings]


def test_findings_read_as_sentences() -> None:
    texts = {p[0]: review(p[1], **p[2]).findings[0].text for p in PLANTED}
    assert texts["team_uncovered"] == (
        "Team sales has nobody on shift for 5h a week of its business hours "
        "(e.g. Mon 09:00 America/New_York)"
    )
    assert texts["weight_drift"] == (
        "Team sales: U0ANN has weight 3 of 4 (75%) but got 50% of 100 leads"
    )
    assert texts["misroute_feedback"] == (
        "Reps flagged 4 leads of rule “enterprise” as wrongly routed: "
        "not my territory (3), other (1)"
    )
    assert texts["rule_sla"] == (
        "Rule “north east”: 51% contacted within SLA against 76% on average (35 leads)"
    )


def test_pto_days_count_overlapping_ranges_once() -> None:
    config = validate_config(
        {
            "reps": [
                {
                    "user": "U0ANN",
                    "pto": [
                        {"from": "2026-01-01", "to": "2026-01-10"},
                        {"from": "2026-01-05", "to": "2026-01-12"},
                    ],
                }
            ]
        }
    )
    rep = config.reps[0]
    assert pto_days(rep, START.date(), END.date()) == 12


def test_the_review_reads_as_a_table_and_numbered_findings() -> None:
    lines = review_lines(review(weigh))
    assert (
        lines[0]
        == "Routing review of the last 90 days (2025-12-02 to 2026-03-02): 100 leads, 1 finding"
    )
    assert lines[2].split() == ["rule", "leads", "share", "in", "SLA", "to", "opportunity"]
    assert lines[-1] == (
        "1. Team sales: U0ANN has weight 3 of 4 (75%) but got 50% of 100 leads  "
        "[fix: Edit team sales]"
    )
    assert review_lines(review())[-1].startswith("Nothing to fix")


@pytest.mark.parametrize(
    ("now", "configured", "due"),
    [
        (datetime(2026, 10, 1, 9, 0, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC), "2026-Q4"),
        (datetime(2026, 12, 20, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC), "2026-Q4"),
        (datetime(2026, 10, 1, 8, 59, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC), None),
        (datetime(2026, 12, 20, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC), None),
        (datetime(2027, 1, 1, 10, 0, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC), "2027-Q1"),
    ],
)
def test_the_quarterly_dm_is_due_from_the_quarters_first_morning_for_configured_installs(
    now: datetime, configured: datetime, due: str | None
) -> None:
    assert quarter_due(ReviewConfig(), now, configured) == due
    assert quarter_due(ReviewConfig(dm_admins=False), now, configured) is None
