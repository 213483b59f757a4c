"""Routing: segment first (ordered rules, first match wins), then rotate inside the
segment, skipping reps who cannot take a lead. Every decision says why, in lines a
rep or a manager can read.

A configuration is compiled once into a plan (conditions, availability, lookups by id,
email and account domain) and reused while the same Config object is routed: a Config
is treated as immutable once routed, as the admin flows build a new one for each change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cached_property
from typing import Any

from domain.availability import LocalClock
from domain.caps import AssignmentCounts
from domain.config import AccountConfig, Config
from domain.eligibility import NO_TEAM, RepFacts, TeamRules, unavailable
from domain.lead import LeadInput, Method
from domain.rotation import least_loaded_choice, quota_choice
from domain.routing_plan import CompiledRule, PlannedTeam, RoutingPlan, compile_plan
from domain.signals import RepSignals
from domain.team_seats import Judged, PlannedRep, Skip


@dataclass(frozen=True)
class RoutingState:
    """What routing needs from the database, read in the routing transaction.

    `open_leads`, `last_assigned`, `signals` (Slack cache, own away toggle) and
    `assignments` (per-period counts for caps) are keyed by rep (Slack id); `credits` by
    team, each the rotation state that a previous `Decision.credits` returned (see
    domain.rotation).
    """

    open_leads: Mapping[str, int] = field(default_factory=dict)
    last_assigned: Mapping[str, datetime] = field(default_factory=dict)
    credits: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    signals: Mapping[str, RepSignals] = field(default_factory=dict)
    assignments: Mapping[str, AssignmentCounts] = field(default_factory=dict)

    @property
    def facts(self) -> RepFacts:
        return RepFacts(self.open_leads, self.signals, self.assignments)


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

    @classmethod
    def unrouted(cls, reasons: tuple[str, ...], config_version: int) -> Decision:
        """A decision that sends the lead to nobody (no rule matched, or it waits in
        nurture): no team, no owner, nobody paged."""
        return cls(
            rule=None,
            team=None,
            method=Method.PULL,
            strategy=None,
            owner=None,
            channel=None,
            manager=None,
            candidates=(),
            skipped=(),
            reasons=reasons,
            config_version=config_version,
        )

    def to_record(self) -> dict[str, Any]:
        """JSON-ready form for storage and the API. Rotation credits are not shown, and
        are left out before copying: `asdict` would deep-copy a big team's credits only
        to drop them, which was 4% of intake's CPU. Skips become objects."""
        record = {part.name: getattr(self, part.name) for part in fields(self)}
        del record["credits"]
        if self.experiment is None:
            del record["experiment"], record["arm"]
        record["method"] = str(self.method)
        record["skipped"] = tuple(skip._asdict() for skip in self.skipped)
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
    context = _Context(plan, state, LocalClock(now), lead.lead_type)
    account = plan.account_for(lead)
    reasons: list[str] = []
    for rule in plan.matching_rules(lead, account, scores):
        reasons.append(f"Rule “{rule.name}” matched ({rule.matched})")
        action = rule.config.then
        team_name = action.team
        if action.route_to:
            owner = _direct_owner(rule, lead, context, account, reasons)
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
        method = rule.config.then.method or team.config.method
        strategy = rule.config.then.strategy or team.config.strategy
        return _team_decision(rule.name, team, method, strategy, context, reasons, config_version)
    reasons.append("No rule matched: kept unassigned for an admin to route")
    return Decision.unrouted(tuple(reasons), config_version)


def offer_in_team(
    team_name: str,
    lead_type: str,
    config: Config,
    state: RoutingState,
    now: datetime,
    exclude: frozenset[str],
    why: str,
    config_version: int = 0,
) -> Decision:
    """Push a lead to the next rep of a team's rotation who can take it, leaving out
    `exclude` (reps already offered it): the accept window's next offer and backfill.
    `why` opens the reasons. A team without eligible reps gives `nobody_eligible`."""
    plan = compile_plan(config)
    team = plan.teams.get(team_name)
    if team is None:
        raise ValueError(f"no team named {team_name!r}")
    context = _Context(plan, state, LocalClock(now), lead_type, exclude)
    return _team_decision(
        None, team, Method.PUSH, team.config.strategy, context, [why], config_version
    )


@dataclass(frozen=True)
class _Context:
    """One decision's inputs: the plan, what storage knows, the time, the lead's type and
    the reps left out (already offered the lead)."""

    plan: RoutingPlan
    state: RoutingState
    clock: LocalClock
    lead_type: str
    exclude: frozenset[str] = frozenset()

    @cached_property
    def facts(self) -> RepFacts:
        return self.state.facts

    def why_not(self, rep: PlannedRep, team: TeamRules, push: bool) -> str | None:
        return unavailable(
            rep.key,
            rep.availability,
            rep.caps,
            team,
            self.lead_type,
            self.clock,
            self.facts,
            self.plan.settings,
            push,
        )


def _direct_owner(
    rule: CompiledRule,
    lead: LeadInput,
    context: _Context,
    account: AccountConfig | None,
    reasons: list[str],
) -> str | None:
    """Account owner or event attendee, when the rule asks for one and they can take it
    (judged with their home team's Slack signals and caps)."""
    plan = context.plan
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
    home = plan.home_team.get(rep.key)
    rules = plan.teams[home.name].rules if home is not None else NO_TEAM
    busy = context.why_not(rep, rules, push=True)
    if busy:
        reasons.append(f"{why}, but they are {busy}")
        return None
    reasons.append(why)
    return rep.key


def _direct_decision(
    rule: CompiledRule, owner: str, plan: RoutingPlan, reasons: list[str], version: int
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
    rule: str | None,
    team: PlannedTeam,
    method: Method,
    strategy: str,
    context: _Context,
    reasons: list[str],
    version: int,
) -> Decision:
    config = team.config
    state = context.state
    eligible = _eligible(team, strategy, context, push=method is Method.PUSH)
    reasons.extend(eligible.lines)

    def decided(
        method: Method,
        owner: str | None,
        credits: dict[str, int] | None = None,
        nobody_eligible: bool = False,
    ) -> Decision:
        """The team's decision: what every outcome shares, and what the method chose."""
        return Decision(
            rule=rule,
            team=config.name,
            method=method,
            strategy=strategy,
            owner=owner,
            channel=config.channel,
            manager=config.manager,
            candidates=eligible.users,
            skipped=eligible.skipped,
            reasons=tuple(reasons),
            config_version=version,
            credits=credits,
            nobody_eligible=nobody_eligible,
        )

    where = f"#{config.channel}" if config.channel else "the team queue"
    if not eligible.users:
        told = f" and {config.manager} told why" if config.manager else ""
        reasons.append(f"Nobody in {config.name} can take it now: posted to {where}{told}")
        return decided(Method.PULL, None, nobody_eligible=True)
    if method is not Method.PUSH:
        reasons.append(f"Team {config.name} works leads by {method}: posted to {where}")
        return decided(method, None)
    credits = None
    if strategy == "least_loaded":
        owner = least_loaded_choice(eligible.users, state.open_leads, state.last_assigned)
        load = state.open_leads.get(owner, 0)
        reasons.append(f"Assigned to {owner}: fewest open leads ({load}) in {config.name}")
    else:
        stored = state.credits.get(config.name, {})
        owner, credits = quota_choice(eligible.users, eligible.weights, stored, team.roster)
        if strategy == "weighted":
            weight = eligible.weights[eligible.users.index(owner)]
            total = sum(eligible.weights)
            reasons.append(
                f"Assigned to {owner}: weighted rotation in {config.name} "
                f"(weight {weight} of {total})"
            )
        else:
            reasons.append(f"Assigned to {owner}: next in round robin for {config.name}")
    return decided(Method.PUSH, owner, credits)


def _eligible(team: PlannedTeam, strategy: str, context: _Context, push: bool) -> Judged:
    """Who in the team can take the lead, and why the others cannot: only the members
    who might not (domain.team_seats) are judged."""
    exclude = context.exclude
    rules = team.rules

    def why_not(user: str, rep: PlannedRep | None) -> str | None:
        if user in exclude:
            return "already offered this lead"
        if rep is None:
            return "not a configured rep"
        return context.why_not(rep, rules, push)

    state = context.state
    suspects = team.seats.suspects(context.clock, state.open_leads, state.signals, exclude)
    return team.seats.judge(suspects, why_not, weighted=strategy == "weighted")
