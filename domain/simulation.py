"""A dry run of routing: replay past leads through a configuration, in memory.

Why: rules change, and sales ops must see what a new configuration would do to a real
month of leads before it goes live: each decision, the balance per rep and team, and
which leads would land elsewhere than under the live configuration. The replay evolves
its state as production would (open leads grow as leads are assigned, rotation credits
carry from lead to lead, last-assignment times move), and writes nothing anywhere.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.config import Config, TeamConfig
from domain.experiments import route_lead
from domain.lead import LeadInput, Method
from domain.routing import Decision, RoutingState
from domain.routing_plan import RoutingPlan, compile_plan
from domain.stats import Share, gini, shares


@dataclass(frozen=True)
class SimulatedLead:
    """A lead to replay, with where it came from and when it arrived."""

    row: int
    lead: LeadInput
    at: datetime

    @property
    def lead_id(self) -> str:
        """What an experiment hashes for its arm: the sender's id when there is one, so a
        replay of the same rows gets the same arms."""
        return self.lead.external_id or f"row-{self.row}"


@dataclass(frozen=True)
class RoutedLead:
    item: SimulatedLead
    decision: Decision


@dataclass(frozen=True)
class TeamSummary:
    """How a team's leads were spread: pushed to members or left for claiming."""

    team: str
    strategy: str
    method: Method
    leads: int
    assigned: int
    queued: int
    members: tuple[Share, ...]
    gini: float


@dataclass(frozen=True)
class RepSummary:
    user: str
    count: int
    share: float


@dataclass(frozen=True)
class Change:
    """A lead whose team or owner differs between the live and the candidate rules."""

    item: SimulatedLead
    live: Decision
    candidate: Decision

    @property
    def team_changed(self) -> bool:
        return self.live.team != self.candidate.team


@dataclass(frozen=True)
class ArmSummary:
    """How an experiment's arm would have routed its share of the segment."""

    experiment: str
    arm: str
    leads: int
    teams: tuple[tuple[str, int], ...]
    """Leads per team, most first."""
    gini: float


@dataclass(frozen=True)
class SimulationResult:
    routed: tuple[RoutedLead, ...]
    teams: tuple[TeamSummary, ...]
    reps: tuple[RepSummary, ...]
    gini: float
    """Of assigned leads across every active rep who is a member of some team: a rep
    who got nothing counts as 0, a rep switched off is not part of the rotation."""
    unrouted: int
    nobody_eligible: int
    changes: tuple[Change, ...] | None
    """None when no live configuration was given."""
    arms: tuple[ArmSummary, ...] = ()
    """Per experiment arm, when leads took part in an experiment."""


class Replay:
    """Routing state kept in memory and advanced after each decision, as storage would.

    `open_for`: how long an assigned lead counts against its owner's capacity; None
    keeps every lead open, as if nobody worked a lead off during the replay.
    """

    def __init__(self, config: Config, version: int = 0, open_for: timedelta | None = None):
        self.config = config
        self.version = version
        self.open_for = open_for
        self.open_leads: Counter[str] = Counter()
        self.last_assigned: dict[str, datetime] = {}
        self.credits: dict[str, dict[str, int]] = {}
        self._closing: list[tuple[datetime, int, str]] = []
        self._state = RoutingState(self.open_leads, self.last_assigned, self.credits)

    def route(self, item: SimulatedLead) -> Decision:
        self._close_until(item.at)
        decision = route_lead(
            item.lead, item.lead_id, self.config, self._state, item.at, self.version
        )
        if decision.credits is not None and decision.team is not None:
            self.credits[decision.team] = decision.credits
        if decision.owner is not None:
            self.open_leads[decision.owner] += 1
            self.last_assigned[decision.owner] = item.at
            if self.open_for is not None:
                closes = (item.at + self.open_for, item.row, decision.owner)
                heapq.heappush(self._closing, closes)
        return decision

    def _close_until(self, now: datetime) -> None:
        while self._closing and self._closing[0][0] <= now:
            _, _, owner = heapq.heappop(self._closing)
            self.open_leads[owner] -= 1


def simulate(
    leads: Iterable[SimulatedLead],
    candidate: Config,
    live: Config | None = None,
    *,
    open_for: timedelta | None = None,
) -> SimulationResult:
    """Route every lead, in arrival order (ties by row), through `candidate` and, when
    given, separately through `live`; summarise the candidate and list what changes.
    Running experiments apply as they would live (see `only_experiment`)."""
    ordered = sorted(leads, key=lambda item: (item.at, item.row))
    replay = Replay(candidate, open_for=open_for)
    routed = tuple(RoutedLead(item, replay.route(item)) for item in ordered)
    changes = None if live is None else _changes(routed, Replay(live, open_for=open_for))
    return summarise(routed, candidate, changes)


def _changes(routed: Sequence[RoutedLead], live: Replay) -> tuple[Change, ...]:
    changes = []
    for entry in routed:
        before = live.route(entry.item)
        if (before.team, before.owner) != (entry.decision.team, entry.decision.owner):
            changes.append(Change(entry.item, before, entry.decision))
    return tuple(changes)


def summarise(
    routed: Sequence[RoutedLead], config: Config, changes: tuple[Change, ...] | None = None
) -> SimulationResult:
    """Counts, shares against weights and Gini, per team and per rep."""
    per_team: dict[str, Counter[str]] = {team.name: Counter() for team in config.teams}
    leads_per_team: Counter[str] = Counter()
    per_rep: Counter[str] = Counter()
    for entry in routed:
        decision = entry.decision
        if decision.team is not None:
            leads_per_team[decision.team] += 1
        if decision.owner is not None:
            per_rep[decision.owner] += 1
            if decision.team in per_team:
                per_team[decision.team][decision.owner] += 1
    plan = compile_plan(config)
    teams = tuple(
        _team_summary(plan, team, per_team[team.name], leads_per_team[team.name])
        for team in config.teams
    )
    members = {
        share.user
        for summary in teams
        for share in summary.members
        if (rep := plan.rep(share.user)) is None or rep.availability.active
    }
    assigned = sum(per_rep.values())
    reps = tuple(
        RepSummary(user, per_rep[user], per_rep[user] / assigned if assigned else 0.0)
        for user in sorted(members | set(per_rep), key=lambda user: (-per_rep[user], user))
    )
    return SimulationResult(
        routed=tuple(routed),
        teams=teams,
        reps=reps,
        gini=gini([per_rep[user] for user in members]),
        unrouted=sum(1 for entry in routed if entry.decision.rule is None),
        nobody_eligible=sum(1 for entry in routed if entry.decision.nobody_eligible),
        changes=changes,
        arms=_arms(routed, config),
    )


def _arms(routed: Sequence[RoutedLead], config: Config) -> tuple[ArmSummary, ...]:
    """Each configured arm's leads, teams and Gini of leads per rep (reps any arm used)."""
    owners = {e.decision.owner for e in routed if e.decision.arm and e.decision.owner}
    summaries = []
    for experiment in config.experiments or ():
        for arm in experiment.arms:
            mine = [
                e.decision
                for e in routed
                if (e.decision.experiment, e.decision.arm) == (experiment.name, arm.name)
            ]
            per_rep = Counter(d.owner for d in mine if d.owner)
            teams = Counter(d.team or "(none)" for d in mine)
            summaries.append(
                ArmSummary(
                    experiment.name,
                    arm.name,
                    len(mine),
                    tuple(teams.most_common()),
                    gini([per_rep[user] for user in owners]),
                )
            )
    return tuple(summaries)


def _team_summary(
    plan: RoutingPlan, team: TeamConfig, counts: Counter[str], leads: int
) -> TeamSummary:
    weighted = team.strategy == "weighted"
    weights = {_member_key(plan, m.user): m.weight if weighted else 1 for m in team.members}
    members = tuple(shares(counts, weights))
    assigned = sum(counts.values())
    return TeamSummary(
        team=team.name,
        strategy=team.strategy,
        method=team.method,
        leads=leads,
        assigned=assigned,
        queued=leads - assigned,
        members=members,
        gini=gini([share.count for share in members]),
    )


def _member_key(plan: RoutingPlan, user: str) -> str:
    rep = plan.rep(user)
    return rep.key if rep else user


def only_experiment(config: Config, name: str) -> Config:
    """The configuration with just this experiment, running whatever its dates and state:
    `simulate --experiment NAME` previews its split on past leads."""
    experiment = config.experiment(name)
    if experiment is None:
        known = ", ".join(e.name for e in config.experiments or ()) or "none"
        raise ValueError(f"no experiment named {name!r} (configured: {known})")
    running = experiment.model_copy(
        update={"state": "running", "start": None, "end": date.max, "promoted_arm": None}
    )
    return config.model_copy(update={"experiments": [running]})
