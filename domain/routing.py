"""Routing: segment first (ordered rules, first match wins), then rotate inside the
segment, skipping reps who cannot take a lead. Every decision says why, in lines a
rep or a manager can read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from domain.availability import unavailable_reason
from domain.config import Config, RuleConfig, TeamConfig
from domain.lead import LeadInput, Method
from domain.rotation import Candidate, least_loaded_pick, smooth_weighted_pick


@dataclass(frozen=True)
class RoutingState:
    """What routing needs from the database, read in the routing transaction."""

    open_leads: Mapping[str, int] = field(default_factory=dict)
    last_assigned: Mapping[str, datetime] = field(default_factory=dict)
    credits: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Skip:
    user: str
    reason: str


@dataclass(frozen=True)
class Decision:
    """Where a lead goes and why; stored with the lead and shown to humans."""

    rule: str | None
    team: str | None
    method: Method
    strategy: str | None
    owner: str | None
    channel: str | None
    manager: str | None
    candidates: tuple[str, ...]
    skipped: tuple[Skip, ...]
    reasons: tuple[str, ...]
    config_version: int
    credits: dict[str, int] | None = None
    nobody_eligible: bool = False

    def to_record(self) -> dict[str, Any]:
        """JSON-ready form for storage and the API (rotation credits are not shown)."""
        record = asdict(self)
        record.pop("credits")
        record["method"] = str(self.method)
        return record


def route(
    lead: LeadInput,
    config: Config,
    state: RoutingState,
    now: datetime,
    config_version: int = 0,
) -> Decision:
    """Decide one lead. Pure: the same lead, configuration, state and time give the same
    decision."""
    facts = lead.facts()
    account = config.account_owner(lead.email_domain, lead.company_domain)
    facts["account_owner"] = account is not None
    reasons: list[str] = []
    for rule in config.rules:
        conditions = rule.conditions()
        if not all(condition.matches(facts) for condition in conditions):
            continue
        matched = ", ".join(condition.describe() for condition in conditions) or "catch-all"
        reasons.append(f"Rule “{rule.name}” matched ({matched})")
        direct = _direct_owner(rule, lead, config, state, now, account, reasons)
        if direct is not None:
            return _direct_decision(rule, direct, config, reasons, config_version)
        team_name = rule.then.fallback_team if rule.then.route_to else rule.then.team
        if team_name is None:
            reasons.append("No fallback team on this rule; trying the next rule")
            continue
        team = config.team(team_name)
        if team is None:
            continue
        return _team_decision(rule, team, config, state, now, reasons, config_version)
    reasons.append("No rule matched: kept unassigned for an admin to route")
    return Decision(
        rule=None, team=None, method=Method.PULL, strategy=None, owner=None, channel=None,
        manager=None, candidates=(), skipped=(), reasons=tuple(reasons),
        config_version=config_version,
    )


def _direct_owner(
    rule: RuleConfig,
    lead: LeadInput,
    config: Config,
    state: RoutingState,
    now: datetime,
    account: Any,
    reasons: list[str],
) -> str | None:
    """Account owner or event attendee, when the rule asks for one and they can take it."""
    if rule.then.route_to == "account_owner" and account is not None:
        user, why = account.owner, f"{account.domain} is owned by {account.owner}"
    elif rule.then.route_to == "attendee" and lead.attended_by:
        user, why = lead.attended_by, f"{lead.attended_by} attended the event"
    else:
        return None
    rep = config.rep(user)
    if rep is None:
        reasons.append(f"{why}, but they are not a configured rep")
        return None
    busy = unavailable_reason(rep, now, state.open_leads.get(rep.key, 0))
    if busy:
        reasons.append(f"{why}, but they are {busy}")
        return None
    reasons.append(why)
    return rep.key


def _direct_decision(
    rule: RuleConfig, owner: str, config: Config, reasons: list[str], version: int
) -> Decision:
    team = _team_of(owner, config)
    reasons.append(f"Assigned to {owner}")
    return Decision(
        rule=rule.name, team=team.name if team else None,
        method=rule.then.method or Method.PUSH, strategy=None, owner=owner,
        channel=team.channel if team else None, manager=team.manager if team else None,
        candidates=(owner,), skipped=(), reasons=tuple(reasons), config_version=version,
    )


def _team_of(user: str, config: Config) -> TeamConfig | None:
    return next(
        (team for team in config.teams if any(m.user == user for m in team.members)), None
    )


def _team_decision(
    rule: RuleConfig,
    team: TeamConfig,
    config: Config,
    state: RoutingState,
    now: datetime,
    reasons: list[str],
    version: int,
) -> Decision:
    method = rule.then.method or team.method
    strategy = rule.then.strategy or team.strategy
    base = dict(
        rule=rule.name, team=team.name, strategy=strategy, channel=team.channel,
        manager=team.manager, config_version=version,
    )
    members = tuple(member.user for member in team.members)
    if method is not Method.PUSH:
        where = f"#{team.channel}" if team.channel else "the team queue"
        reasons.append(f"Team {team.name} works leads by {method}: posted to {where}")
        return Decision(
            method=method, owner=None, candidates=members, skipped=(),
            reasons=tuple(reasons), **base,
        )
    eligible, skipped = _eligible(team, strategy, config, state, now)
    reasons.extend(f"Skipped {skip.user}: {skip.reason}" for skip in skipped)
    if not eligible:
        reasons.append(
            f"Nobody in {team.name} can take it now: posted for claiming"
            + (f" and {team.manager} told" if team.manager else "")
        )
        return Decision(
            method=Method.PULL, owner=None, candidates=members, skipped=tuple(skipped),
            reasons=tuple(reasons), nobody_eligible=True, **base,
        )
    credits = None
    if strategy == "least_loaded":
        owner = least_loaded_pick(eligible)
        load = state.open_leads.get(owner, 0)
        reasons.append(f"Assigned to {owner}: fewest open leads ({load}) in {team.name}")
    else:
        owner, credits = smooth_weighted_pick(eligible, state.credits.get(team.name, {}))
        if strategy == "weighted":
            weight = next(c.weight for c in eligible if c.user == owner)
            total = sum(c.weight for c in eligible)
            reasons.append(
                f"Assigned to {owner}: weighted rotation in {team.name} "
                f"(weight {weight} of {total})"
            )
        else:
            reasons.append(f"Assigned to {owner}: next in round robin for {team.name}")
    return Decision(
        method=Method.PUSH, owner=owner, candidates=tuple(c.user for c in eligible),
        skipped=tuple(skipped), reasons=tuple(reasons), credits=credits, **base,
    )


def _eligible(
    team: TeamConfig, strategy: str, config: Config, state: RoutingState, now: datetime
) -> tuple[list[Candidate], list[Skip]]:
    eligible: list[Candidate] = []
    skipped: list[Skip] = []
    for member in team.members:
        rep = config.rep(member.user)
        open_leads = state.open_leads.get(member.user, 0)
        reason = "not a configured rep" if rep is None else unavailable_reason(rep, now, open_leads)
        if reason:
            skipped.append(Skip(member.user, reason))
            continue
        weight = member.weight if strategy == "weighted" else 1
        eligible.append(
            Candidate(member.user, weight, open_leads, state.last_assigned.get(member.user))
        )
    return eligible, skipped
