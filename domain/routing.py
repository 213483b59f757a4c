"""Routing: segment first (ordered rules, first match wins), then rotate inside the
segment, skipping reps who cannot take a lead. Every decision says why, in lines a
rep or a manager can read.

A configuration is compiled once into a plan (conditions, availability, lookups by id,
email and account domain) and reused while the same Config object is routed: a Config
is treated as immutable once routed, as the admin flows build a new one for each change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from domain.availability import Availability, LocalClock
from domain.config import AccountConfig, Config, RepConfig, RuleConfig, TeamConfig
from domain.lead import LeadInput, Method
from domain.rotation import Candidate, least_loaded_pick, quota_pick


@dataclass(frozen=True)
class RoutingState:
    """What routing needs from the database, read in the routing transaction.

    `open_leads` and `last_assigned` are keyed by rep (Slack id); `credits` by team, each
    the rotation state that a previous `Decision.credits` returned (see domain.rotation).
    """

    open_leads: Mapping[str, int] = field(default_factory=dict)
    last_assigned: Mapping[str, datetime] = field(default_factory=dict)
    credits: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Skip:
    user: str
    reason: str


@dataclass(frozen=True)
class Decision:
    """Where a lead goes and why; stored with the lead and shown to humans.

    `candidates` are the reps who could take the lead (after skipping); `skipped` says
    who could not and why; `owner` is the one chosen (None for pull, pool and nobody
    eligible). `credits` is the team's new rotation state, to be stored when not None.
    """

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
    experiment: str | None = None
    """The experiment this lead takes part in, and its arm (domain.experiments)."""
    arm: str | None = None

    def to_record(self) -> dict[str, Any]:
        """JSON-ready form for storage and the API. Rotation credits are not shown, and
        are left out before copying: `asdict` would deep-copy a big team's credits only
        to drop them, which was 4% of intake's CPU."""
        record = {part.name: getattr(self, part.name) for part in fields(self)}
        del record["credits"]
        if self.experiment is None:
            del record["experiment"], record["arm"]
        record["method"] = str(self.method)
        record["skipped"] = tuple(asdict(skip) for skip in self.skipped)
        return record


def route(
    lead: LeadInput,
    config: Config,
    state: RoutingState,
    now: datetime,
    config_version: int = 0,
    scores: Mapping[str, Any] | None = None,
) -> Decision:
    """Decide one lead. Pure: the same lead, configuration, state and time give the same
    decision. `now` must be timezone-aware. `scores` are the scoring model's facts
    (`Scoring.facts()`: grade, fit_score, ...) for rules that test them."""
    plan = compile_plan(config)
    clock = LocalClock(now)
    account = plan.account_for(lead)
    reasons: list[str] = []
    for rule in plan.matching_rules(lead, account, scores):
        reasons.append(f"Rule “{rule.name}” matched ({rule.matched})")
        action = rule.config.then
        team_name = action.team
        if action.route_to:
            owner = _direct_owner(rule, lead, plan, state, clock, account, reasons)
            if owner is not None:
                return _direct_decision(rule, owner, plan, reasons, config_version)
            team_name = action.fallback_team
            if team_name is None:
                reasons.append("No fallback team on this rule: trying the next rule")
                continue
            reasons.append(f"Fallback: team {team_name} takes it")
        team = plan.teams.get(team_name or "")
        if team is None:
            reasons.append(f"No team named {team_name!r}: trying the next rule")
            continue
        return _team_decision(rule, team, state, clock, reasons, config_version)
    reasons.append("No rule matched: kept unassigned for an admin to route")
    return Decision(
        rule=None,
        team=None,
        method=Method.PULL,
        strategy=None,
        owner=None,
        channel=None,
        manager=None,
        candidates=(),
        skipped=(),
        reasons=tuple(reasons),
        config_version=config_version,
    )


@dataclass(frozen=True)
class _Rep:
    key: str
    availability: Availability


@dataclass(frozen=True)
class _Member:
    user: str
    weight: int
    rep: _Rep | None


@dataclass(frozen=True)
class _Team:
    config: TeamConfig
    members: tuple[_Member, ...]
    roster: frozenset[str]


@dataclass(frozen=True)
class _Rule:
    name: str
    config: RuleConfig
    tests: tuple[tuple[str, Callable[[Any], bool]], ...]
    matched: str

    @classmethod
    def compile(cls, rule: RuleConfig) -> _Rule:
        conditions = rule.conditions()
        matched = ", ".join(condition.describe() for condition in conditions) or "catch-all"
        tests = tuple((condition.field, condition.test) for condition in conditions)
        return cls(rule.name, rule, tests, matched)


class RoutingPlan:
    """A configuration compiled for routing: everything `route` looks up, by key."""

    def __init__(self, config: Config):
        self.rules = tuple(_Rule.compile(rule) for rule in config.rules)
        self._reps: dict[str, _Rep] = {}
        for rep_config in config.reps:
            rep = _Rep(rep_config.key, Availability(rep_config))
            for alias in _aliases(rep_config):
                self._reps.setdefault(alias, rep)
        self.teams: dict[str, _Team] = {}
        self.home_team: dict[str, TeamConfig] = {}
        for team in config.teams:
            members = tuple(self._member(m.user, m.weight) for m in team.members)
            self.teams.setdefault(
                team.name, _Team(team, members, frozenset(m.user for m in members))
            )
            for member in members:
                self.home_team.setdefault(member.user, team)
        self._accounts: dict[str, tuple[int, AccountConfig]] = {}
        for index, account in enumerate(config.accounts):
            self._accounts.setdefault(account.domain, (index, account))

    def matching_rules(
        self,
        lead: LeadInput,
        account: AccountConfig | None,
        scores: Mapping[str, Any] | None = None,
    ) -> Iterator[_Rule]:
        """The rules whose conditions hold for this lead, in order. The hottest loop of
        routing: 50 rules are tested per lead, so tests are plain (field, function) pairs."""
        facts = lead.facts()
        facts["account_owner"] = account is not None
        if scores:
            facts.update(scores)
        get = facts.get
        for rule in self.rules:
            for name, test in rule.tests:
                if not test(get(name)):
                    break
            else:
                yield rule

    def rep(self, user: str) -> _Rep | None:
        return self._reps.get(user.lower() if "@" in user else user)

    def account_for(self, lead: LeadInput) -> AccountConfig | None:
        """The first configured account owning the lead's email or company domain, or a
        parent of either (`eu.acme.com` belongs to `acme.com`)."""
        hits = [
            self._accounts[suffix]
            for domain in (lead.email_domain, lead.company_domain)
            if domain
            for suffix in _suffixes(domain.lower())
            if suffix in self._accounts
        ]
        return min(hits, key=lambda hit: hit[0])[1] if hits else None

    def _member(self, user: str, weight: int) -> _Member:
        rep = self.rep(user)
        return _Member(rep.key if rep else user, weight, rep)


def _aliases(rep: RepConfig) -> list[str]:
    aliases = [rep.key]
    if rep.user:
        aliases.append(rep.user)
    if rep.email:
        aliases += [rep.email.lower(), f"email:{rep.email.lower()}"]
    return aliases


def _suffixes(domain: str) -> list[str]:
    labels = domain.split(".")
    return [".".join(labels[index:]) for index in range(len(labels) - 1)]


_PLANS: dict[int, tuple[Config, RoutingPlan]] = {}
_MAX_PLANS = 16


def compile_plan(config: Config) -> RoutingPlan:
    """The plan for this Config object, compiled on first use and then reused."""
    cached = _PLANS.get(id(config))
    if cached is not None and cached[0] is config:
        return cached[1]
    plan = RoutingPlan(config)
    if len(_PLANS) >= _MAX_PLANS:
        del _PLANS[next(iter(_PLANS))]
    _PLANS[id(config)] = (config, plan)
    return plan


def _direct_owner(
    rule: _Rule,
    lead: LeadInput,
    plan: RoutingPlan,
    state: RoutingState,
    clock: LocalClock,
    account: AccountConfig | None,
    reasons: list[str],
) -> str | None:
    """Account owner or event attendee, when the rule asks for one and they can take it."""
    if rule.config.then.route_to == "account_owner":
        if account is None:
            reasons.append("No known account for this lead")
            return None
        user, why = account.owner, f"{account.domain} is owned by {account.owner}"
    elif lead.attended_by:
        user, why = lead.attended_by, f"{lead.attended_by} attended the event"
    else:
        reasons.append("No attendee on this lead")
        return None
    rep = plan.rep(user)
    if rep is None:
        reasons.append(f"{why}, but they are not a configured rep")
        return None
    busy = rep.availability.reason(clock, state.open_leads.get(rep.key, 0))
    if busy:
        reasons.append(f"{why}, but they are {busy}")
        return None
    reasons.append(why)
    return rep.key


def _direct_decision(
    rule: _Rule, owner: str, plan: RoutingPlan, reasons: list[str], version: int
) -> Decision:
    """A named owner is pushed to, whatever the rule's method: there is nobody to pull."""
    team = plan.home_team.get(owner)
    reasons.append(f"Assigned to {owner}")
    return Decision(
        rule=rule.name,
        team=team.name if team else None,
        method=Method.PUSH,
        strategy=None,
        owner=owner,
        channel=team.channel if team else None,
        manager=team.manager if team else None,
        candidates=(owner,),
        skipped=(),
        reasons=tuple(reasons),
        config_version=version,
    )


def _team_decision(
    rule: _Rule,
    team: _Team,
    state: RoutingState,
    clock: LocalClock,
    reasons: list[str],
    version: int,
) -> Decision:
    config = team.config
    method = rule.config.then.method or config.method
    strategy = rule.config.then.strategy or config.strategy
    eligible, skipped = _eligible(team, strategy, state, clock)
    reasons.extend(f"Skipped {skip.user}: {skip.reason}" for skip in skipped)

    def decided(
        method: Method,
        owner: str | None,
        credits: dict[str, int] | None = None,
        nobody_eligible: bool = False,
    ) -> Decision:
        """The team's decision: what every outcome shares, and what the method chose."""
        return Decision(
            rule=rule.name,
            team=config.name,
            method=method,
            strategy=strategy,
            owner=owner,
            channel=config.channel,
            manager=config.manager,
            candidates=tuple(candidate.user for candidate in eligible),
            skipped=tuple(skipped),
            reasons=tuple(reasons),
            config_version=version,
            credits=credits,
            nobody_eligible=nobody_eligible,
        )

    where = f"#{config.channel}" if config.channel else "the team queue"
    if not eligible:
        told = f" and {config.manager} told why" if config.manager else ""
        reasons.append(f"Nobody in {config.name} can take it now: posted to {where}{told}")
        return decided(Method.PULL, None, nobody_eligible=True)
    if method is not Method.PUSH:
        reasons.append(f"Team {config.name} works leads by {method}: posted to {where}")
        return decided(method, None)
    credits = None
    if strategy == "least_loaded":
        owner = least_loaded_pick(eligible)
        load = state.open_leads.get(owner, 0)
        reasons.append(f"Assigned to {owner}: fewest open leads ({load}) in {config.name}")
    else:
        stored = state.credits.get(config.name, {})
        owner, credits = quota_pick(eligible, stored, team.roster)
        if strategy == "weighted":
            weight = next(c.weight for c in eligible if c.user == owner)
            total = sum(c.weight for c in eligible)
            reasons.append(
                f"Assigned to {owner}: weighted rotation in {config.name} "
                f"(weight {weight} of {total})"
            )
        else:
            reasons.append(f"Assigned to {owner}: next in round robin for {config.name}")
    return decided(Method.PUSH, owner, credits)


def _eligible(
    team: _Team, strategy: str, state: RoutingState, clock: LocalClock
) -> tuple[list[Candidate], list[Skip]]:
    eligible: list[Candidate] = []
    skipped: list[Skip] = []
    weighted = strategy == "weighted"
    open_leads_of = state.open_leads.get
    last_assigned_of = state.last_assigned.get
    for member in team.members:
        open_leads = open_leads_of(member.user, 0)
        reason = (
            "not a configured rep"
            if member.rep is None
            else member.rep.availability.reason(clock, open_leads)
        )
        if reason:
            skipped.append(Skip(member.user, reason))
        else:
            weight = member.weight if weighted else 1
            last = last_assigned_of(member.user)
            eligible.append(Candidate(member.user, weight, open_leads, last))
    return eligible, skipped
