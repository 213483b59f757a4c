"""`/leads why`: the rules that decide a rep's leads, shown to the rep.

Reps accept an uneven distribution when the rules are visible, and resent a hidden
algorithm. This explains one rep's routing as Leadrouter sees it now: the rules that can
route to them in order, their teams with weight and place in each rotation, their
capacity, hours and PTO, and for their latest leads why they got each one or were
skipped. Pure and read-only: the caller passes the configuration, the routing state and
the recent decisions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.availability import unavailable_reason
from domain.config import Config, RepConfig, RuleConfig, TeamConfig
from domain.rotation import credit_in_leads
from domain.routing import RoutingState


@dataclass(frozen=True)
class RouteToMe:
    position: int
    rule: str
    when: str
    how: str


@dataclass(frozen=True)
class TeamPlace:
    team: str
    method: str
    strategy: str
    weight: int
    total_weight: int
    place: int | None
    """1 = next in line; None where reps claim (pull, pool) instead of being picked."""
    members: int


@dataclass(frozen=True)
class RecentLead:
    lead_id: str
    at: datetime
    outcome: str
    """`assigned`, `skipped` or `passed over`."""
    reason: str


@dataclass(frozen=True)
class Explanation:
    user: str
    configured: bool
    routes: list[RouteToMe]
    teams: list[TeamPlace]
    open_leads: int
    capacity: int | None
    hours: str
    timezone: str
    pto: list[str]
    available_now: str | None
    """Why the rep cannot take a lead right now, or None when they can."""
    recent: list[RecentLead]


def explain(
    config: Config,
    user: str,
    state: RoutingState,
    now: datetime,
    recent: Sequence[tuple[str, datetime, Mapping[str, Any]]] = (),
) -> Explanation:
    """Why `user` gets the leads they get. `recent` holds (lead id, received at, stored
    decision record) of the latest leads that named the rep, newest first."""
    rep = config.rep(user)
    key = rep.key if rep else user
    teams = [team for team in config.teams if _member(team, key, rep)]
    open_leads = state.open_leads.get(key, 0)
    return Explanation(
        user=key,
        configured=rep is not None,
        routes=_routes(config, key, teams),
        teams=[_place(team, key, rep, state) for team in teams],
        open_leads=open_leads,
        capacity=rep.capacity if rep else None,
        hours=_hours(rep),
        timezone=rep.timezone if rep else "UTC",
        pto=[
            f"{p.start.isoformat()} to {p.end.isoformat()}" for p in rep.pto if p.end >= now.date()
        ]
        if rep
        else [],
        available_now=unavailable_reason(rep, now, open_leads) if rep else "not a configured rep",
        recent=[_recent(key, lead_id, at, decision) for lead_id, at, decision in recent],
    )


def _member(team: TeamConfig, key: str, rep: RepConfig | None) -> bool:
    names = {key} | ({rep.user, rep.email, f"email:{rep.email}"} if rep else set())
    return any(member.user in names for member in team.members)


def _routes(config: Config, key: str, teams: list[TeamConfig]) -> list[RouteToMe]:
    mine = {team.name for team in teams}
    owned = [account.domain for account in config.accounts if _same(config, account.owner, key)]
    routes = []
    for position, rule in enumerate(config.rules, start=1):
        how = _how(rule, mine, owned)
        if how:
            routes.append(RouteToMe(position, rule.name, _when(rule), how))
    for experiment in config.experiments or ():
        for arm in experiment.arms:
            if arm.team in mine and experiment.state == "running":
                routes.append(
                    RouteToMe(
                        0,
                        f"experiment {experiment.name}, arm {arm.name}",
                        _conditions_text(experiment.conditions()),
                        f"to team {arm.team} for this arm's share of the segment",
                    )
                )
    return routes


def _same(config: Config, owner: str, key: str) -> bool:
    rep = config.rep(owner)
    return (rep.key if rep else owner) == key


def _how(rule: RuleConfig, mine: set[str], owned: list[str]) -> str | None:
    action = rule.then
    if action.route_to == "account_owner" and owned:
        return f"to you, as owner of {', '.join(owned)}"
    if action.route_to == "attendee":
        return "to you, for events you attended"
    for target, label in ((action.team, "to team"), (action.fallback_team, "fallback: team")):
        if target in mine:
            method = f", {action.method}" if action.method else ""
            return f"{label} {target}{method}"
    return None


def _when(rule: RuleConfig) -> str:
    return _conditions_text(rule.conditions())


def _conditions_text(conditions: Sequence[Any]) -> str:
    return ", ".join(condition.describe() for condition in conditions) or "every other lead"


def _place(team: TeamConfig, key: str, rep: RepConfig | None, state: RoutingState) -> TeamPlace:
    weighted = team.strategy == "weighted"
    weights = {member.user: member.weight if weighted else 1 for member in team.members}
    me = next(user for user in weights if user in (key, rep and rep.user, rep and rep.email))
    place = None
    if team.method == "push":
        if team.strategy == "least_loaded":
            order = sorted(weights, key=lambda user: state.open_leads.get(user, 0))
        else:
            credits = state.credits.get(team.name, {})
            # Next in line: the rep soonest owed a whole lead (domain.rotation).
            order = sorted(
                weights, key=lambda user: (1 - credit_in_leads(credits, user)) / weights[user]
            )
        place = order.index(me) + 1
    return TeamPlace(
        team=team.name,
        method=str(team.method),
        strategy=team.strategy,
        weight=weights[me],
        total_weight=sum(weights.values()),
        place=place,
        members=len(weights),
    )


def _hours(rep: RepConfig | None) -> str:
    if rep is None or not rep.working_hours:
        return "always on shift"
    return ", ".join(f"{days} {hours}" for days, hours in rep.working_hours.items())


def _recent(key: str, lead_id: str, at: datetime, decision: Mapping[str, Any]) -> RecentLead:
    reasons = list(decision.get("reasons") or [])
    rule = decision.get("rule")
    ruled = f"rule “{rule}”" if rule else "no rule"
    if decision.get("owner") == key:
        return RecentLead(lead_id, at, "assigned", f"{ruled}: {reasons[-1] if reasons else ''}")
    for skip in decision.get("skipped") or ():
        if skip.get("user") == key:
            return RecentLead(lead_id, at, "skipped", f"{ruled}: you were {skip.get('reason')}")
    owner = decision.get("owner")
    went = f"went to {owner}" if owner else f"posted to team {decision.get('team')} for claiming"
    return RecentLead(lead_id, at, "passed over", f"{ruled}: {went}")


def why_lines(explanation: Explanation) -> list[str]:
    """The explanation as plain lines (mrkdwn-safe apart from the names in it)."""
    me = explanation
    if not me.configured:
        return [f"{me.user} is not a configured rep: no rule routes leads to them."]
    lines = ["Rules that can route to you, in the order they are tried:"]
    lines += [f"  {r.position or '·'}. {r.rule} (when {r.when}) → {r.how}" for r in me.routes] or [
        "  none: ask an admin to add you to a team"
    ]
    lines.append("Your teams:")
    for team in me.teams:
        if team.place is None:
            where = f"{team.method}: you claim leads from the team's channel"
        else:
            where = f"you are {_ordinal(team.place)} of {team.members} in line"
        share = (
            f"weight {team.weight} of {team.total_weight}" if team.strategy == "weighted" else ""
        )
        how = ", ".join(filter(None, (team.strategy.replace("_", " "), share, where)))
        lines.append(f"  {team.team}: {how}")
    capacity = (
        f"{me.open_leads} of {me.capacity}"
        if me.capacity is not None
        else f"{me.open_leads} (no cap)"
    )
    lines.append(f"Open leads: {capacity}. Hours: {me.hours} ({me.timezone}).")
    lines.append(f"PTO: {'; '.join(me.pto) if me.pto else 'none coming up'}.")
    lines.append(
        "Right now you can take a lead."
        if me.available_now is None
        else f"Right now you are skipped: {me.available_now}."
    )
    if me.recent:
        lines.append("Your latest leads:")
        lines += [f"  {r.at:%Y-%m-%d %H:%M} {r.outcome}: {r.reason}" for r in me.recent]
    return lines


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"
