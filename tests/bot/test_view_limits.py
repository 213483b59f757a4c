"""Every view the app renders stays inside Slack's limits with the most extreme inputs the
schemas allow: the longest names, unicode, 300 leads, 200 reps, 100 rules, many teams
and lead types. Each payload is checked by the local workspace's own validator (the one
that answers ``invalid_blocks`` in every end-to-end test), so a renderer that overflows
fails here before a real workspace refuses it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.localslack.blockkit import message_problems, view_problems
from bot.services.admin import HistoryEntry, Saved
from bot.slack import digest_views, privacy_views, stats_views, views
from bot.slack.admin import forms, menu, rep, rules, sla, yaml_io
from bot.slack.admin import history as history_screen
from bot.slack.admin import team as team_screen
from domain.config import Config, validate_config
from domain.errors import FieldError
from domain.lead import LeadInput, LeadStatus, Method
from domain.records import LeadRecord
from domain.reports import (
    Aggregates,
    GroupTally,
    QueueRow,
    Ranked,
    Report,
    Scope,
    StageRow,
    Tally,
    build_report,
    changes,
)
from storage.outbox_digests import DigestPart

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
START = NOW - timedelta(days=30)
EXTREME = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_chars = st.characters(blacklist_categories=("Cs", "Cc"))


def names(most: int) -> st.SearchStrategy[str]:
    """Names a schema allows: unicode, often exactly as long as the maximum."""
    text = st.text(_chars, min_size=1, max_size=most).filter(lambda s: s.strip() == s and s)
    longest = text.map(lambda s: (s * most)[:most].strip() or "x" * most)
    return st.one_of(longest, text)


lead_types = st.from_regex(r"[a-z][a-z0-9_]{0,63}", fullmatch=True)
counts = st.sampled_from([1, 2, 30, 150])
"""How many teams or lead types: one, a few, and more than a select or a message holds."""


def many_names(name: str, count: int, most: int) -> list[str]:
    """``count`` distinct names as long as allowed, all built from one drawn name."""
    return [f"{index:03d} {name}"[:most] for index in range(count)]


def many_types(lead_type: str, count: int) -> list[str]:
    return [f"t{index:03d}_{lead_type}"[:64] for index in range(count)]


def _user(index: int) -> str:
    return f"U0REP{index:04d}"


def _lead(index: int, text: str, lead_type: str) -> LeadRecord:
    created = NOW - timedelta(minutes=index)
    fields = LeadInput(
        email=f"lead{index}@example.com",
        first_name=(text * 100)[:100],
        last_name=(text * 100)[:100],
        company=(text * 200)[:200],
        industry=(text * 100)[:100],
        source=(text * 64)[:64],
        lead_type=lead_type,
        product_interest=(text * 200)[:200],
    )
    return LeadRecord(
        id=uuid.uuid4().hex, created_at=created, submitter="webform", fields=fields,
        status=LeadStatus.ASSIGNED if index % 2 else LeadStatus.QUEUED,
        owner=_user(index % 200) if index % 2 else None, team=text[:80],
        method=Method.PULL if index % 3 else Method.PUSH, decision={"reasons": [text] * 20},
        sla_due_at=created + timedelta(hours=2), assigned_at=created, contacted_at=None,
        version=1,
    )  # fmt: skip


def _config(team_names: list[str], rule_name: str, types: list[str]) -> Config:
    teams = [
        {
            "name": name,
            "channel": f"C0T{index:04d}",
            "method": "pull",
            "manager": _user(0),
            "members": [{"user": _user(i)} for i in range(200 if index == 0 else 2)],
        }
        for index, name in enumerate(team_names)
    ]
    rules = [
        {
            "name": f"{index} {rule_name}"[:120],
            "when": {"country": rule_name[:60]} if index < 99 else None,
            "then": {"team": team_names[index % len(team_names)]},
        }
        for index in range(100)
    ]
    for rule in rules:
        if rule["when"] is None:
            del rule["when"]
    slas = {kind: {"respond_within": "1h"} for kind in types}
    reps = [{"user": _user(i), "name": rule_name[:80]} for i in range(200)]
    return validate_config({"reps": reps, "teams": teams, "rules": rules, "slas": slas})


def _report(scope_name: str, source: str) -> Report:
    groups = [
        GroupTally(_user(i), f"{source[:60]}{i}", "push", f"rule {source[:100]} {i}",
                   Tally(leads=i + 1, contacted=i, sla_met=i // 2, sla_decided=i,
                         opportunities=1, won=1, response_seconds=60.0 * i))
        for i in range(200)
    ]  # fmt: skip
    owners = {g.owner: Ranked(3, {0: 10.0, 1: 20.0, 2: 30.0}) for g in groups}
    queues = [
        QueueRow("pull", f"type_{i}", 3, Ranked(1, {0: 60.0}), 2, START + timedelta(hours=i))
        for i in range(60)
    ]
    stages = [StageRow(f"stage {i}", 10, 5, 500.0, 5) for i in range(12)]
    aggregates = Aggregates(groups, owners, Ranked(1, {0: 42.0}), queues, stages)
    return build_report(Scope("team", scope_name), "30d", START, NOW, aggregates)


def assert_message_fits(message: dict[str, Any], what: str) -> None:
    problems = message_problems(message, options_url=True)
    assert not problems, f"{what}: " + "; ".join(map(str, problems[:5]))


def assert_view_fits(view: dict[str, Any], what: str) -> None:
    problems = view_problems(view, options_url=True)
    assert not problems, f"{what}: " + "; ".join(map(str, problems[:5]))


@EXTREME
@given(text=names(120), lead_type=lead_types)
def test_cards_queues_and_alerts_fit(text: str, lead_type: str) -> None:
    leads = [_lead(i, text, lead_type) for i in range(300)]
    assert_message_fits(views.lead_card(leads[1], NOW), "lead card")
    assert_message_fits(views.lead_card(leads[0], NOW), "unassigned lead card")
    assert_message_fits(views.alert(text * 400, leads[1]), "alert")
    assert_message_fits(views.queue_view(text * 3, leads, NOW, text), "queue")
    assert_view_fits(views.reassign_modal(leads[1], NOW), "reassign modal")
    assert_message_fits(privacy_views.erased_card(leads[0].id, NOW), "erased card")


@EXTREME
@given(team=names(80), source=names(64), lead_type=lead_types)
def test_stats_home_and_digests_fit(team: str, source: str, lead_type: str) -> None:
    report = _report(team, source)
    leads = [_lead(i, source, lead_type) for i in range(300)]
    assert_message_fits(stats_views.report_view(report), "/leadstats")
    assert_view_fits(stats_views.home_view(leads, report, NOW), "App Home")
    assert_message_fits(stats_views.queue_with_figures(leads, report, NOW), "/leads")
    digest = stats_views.digest_message(team, report, changes(report, report))
    assert_message_fits(digest, "weekly digest")


@EXTREME
@given(team=names(80), teams=counts, lead_type=lead_types, types=counts)
def test_burst_digests_fit_however_many_teams_and_types(
    team: str, teams: int, lead_type: str, types: int
) -> None:
    team_names, type_names = many_names(team, teams, 80), many_types(lead_type, types)
    parts = [
        DigestPart(team_names[i % teams], type_names[i % types], 1000 + i)
        for i in range(max(teams, types))
    ]
    assert_message_fits(digest_views.digest(parts, to_channel=True), "channel digest")
    assert_message_fits(digest_views.digest(parts, to_channel=False), "rep digest")


@EXTREME
@given(team=names(80), teams=counts, rule_name=names(120), lead_type=lead_types, types=counts)
def test_admin_modals_fit(
    team: str, teams: int, rule_name: str, lead_type: str, types: int
) -> None:
    team_names, type_names = many_names(team, teams, 80), many_types(lead_type, types)
    config = _config(team_names, rule_name, type_names)
    big_team = config.teams[0]  # the one with 200 members
    assert_view_fits(menu.admin_menu(7, config, admin=True, teams=team_names), "menu")
    assert_view_fits(rules.rules_modal(7, config, rule_name), "rules")
    assert_view_fits(rules.rule_modal(7, config, config.rules[-1], 99), "rule")
    assert_view_fits(team_screen.team_modal(7, config, big_team), "team")
    assert_view_fits(rep.rep_modal(7, config.reps[-1], _user(199)), "rep")
    assert_view_fits(sla.sla_modal(7, config, type_names[0]), "sla")
    for option in menu.team_options(team_names, ""):
        assert len(option["text"]["text"]) <= 75 and option["value"] in team_names
    history = [
        HistoryEntry(v, NOW, _user(v), rule_name, [f"{rule_name} changed"] * 40) for v in range(30)
    ]
    assert_message_fits(history_screen.history_message(history, 29), "history")
    saved = Saved(8, [rule_name] * 300)
    assert_view_fits(forms.saved_view(rule_name, saved), "saved")
    errors = [FieldError(f"rules[{i}].name", rule_name) for i in range(50)]
    blocks = yaml_io.import_errors(errors, 500)
    assert_view_fits(forms.info_modal(rule_name, blocks), "import errors")


def test_a_fresh_install_opens_every_admin_modal() -> None:
    """No configuration yet: the menu, the rules list and "Add rule" all open."""
    assert_view_fits(menu.admin_menu(None, None, admin=True, teams=[]), "menu")
    assert_view_fits(rules.rules_modal(None, None), "rules")
    assert_view_fits(rules.rule_modal(None, None, None, None), "new rule")
    assert_view_fits(team_screen.team_modal(None, None, None), "new team")
    assert_view_fits(sla.sla_modal(None, None, None), "sla")
    assert_view_fits(yaml_io.import_modal(), "import")
    assert_view_fits(rep.pto_modal(_user(1)), "pto")
