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
from collections.abc import Iterable
from dataclasses import dataclass, field
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
    """The decisions kept (all of them unless the simulation was told to keep fewer)."""
    teams: tuple[TeamSummary, ...]
    reps: tuple[RepSummary, ...]
    gini: float
    """Of assigned leads across every active rep who is a member of some team: a rep
    who got nothing counts as 0, a rep switched off is not part of the rotation."""
    unrouted: int
    nobody_eligible: int
    changes: tuple[Change, ...] | None
    """None when no live configuration was given; the first ones kept, like `routed`."""
    arms: tuple[ArmSummary, ...] = ()
    """Per experiment arm, when leads took part in an experiment."""
    leads: int = 0
    """How many leads were routed, kept or not."""
    changed: int = 0
    """How many leads would change owner or team against the live configuration."""
    moved: int = 0
    """How many of those would change team."""


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

    def route(self, item: SimulatedLead) -> Decision:
        self._close_until(item.at)
        # A state per lead: what routing memoises in a state holds for one moment's
        # decisions only (one state for the whole replay kept every rep's verdict of
        # every moment, and reused one after that rep's capacity had filled).
        state = RoutingState(self.open_leads, self.last_assigned, self.credits)
        decision = route_lead(item.lead, item.lead_id, self.config, state, item.at, self.version)
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


class OutOfOrder(ValueError):
    """A lead fed to a Simulation arrived before the one fed just before it."""


class Simulation:
    """A dry run fed one lead at a time, in arrival order, folded into running totals.

    Why: a year of leads is a million rows; holding every decision to summarise it at
    the end cost about 5 KB per lead. Only the counts the report shows are kept, plus
    the first `keep` decisions and changes to list (None keeps them all), so memory does
    not grow with the number of leads.
    """

    def __init__(
        self,
        candidate: Config,
        live: Config | None = None,
        *,
        open_for: timedelta | None = None,
        keep: int | None = None,
    ):
        self.config = candidate
        self._candidate = Replay(candidate, open_for=open_for)
        self._live = None if live is None else Replay(live, open_for=open_for)
        self._keep = keep
        self._last: tuple[datetime, int] | None = None
        self.routed: list[RoutedLead] = []
        self.changes: list[Change] = []
        self.leads = self.changed = self.moved = self.unrouted = self.nobody_eligible = 0
        self._leads_per_team: Counter[str] = Counter()
        self._per_rep: Counter[str] = Counter()
        self._per_team: dict[str, Counter[str]] = {t.name: Counter() for t in candidate.teams}
        self._arm_owners: set[str] = set()
        self._per_arm: dict[tuple[str | None, str], _ArmTally] = {}

    def add(self, item: SimulatedLead) -> None:
        """Route `item` through both configurations and count it; OutOfOrder if it
        arrived before the previous lead (the replay's state only moves forward)."""
        order = (item.at, item.row)
        if self._last is not None and order < self._last:
            raise OutOfOrder(f"row {item.row} arrived before row {self._last[1]}")
        self._last = order
        decision = self._candidate.route(item)
        self.leads += 1
        if self._keep is None or len(self.routed) < self._keep:
            self.routed.append(RoutedLead(item, decision))
        self._count(decision)
        if self._live is not None:
            before = self._live.route(item)
            if (before.team, before.owner) != (decision.team, decision.owner):
                change = Change(item, before, decision)
                self.changed += 1
                self.moved += change.team_changed
                if self._keep is None or len(self.changes) < self._keep:
                    self.changes.append(change)

    def _count(self, decision: Decision) -> None:
        owner, team = decision.owner, decision.team
        if team is not None:
            self._leads_per_team[team] += 1
        if owner is not None:
            self._per_rep[owner] += 1
            if team in self._per_team:
                self._per_team[team][owner] += 1
        self.unrouted += decision.rule is None
        self.nobody_eligible += decision.nobody_eligible
        if decision.arm:
            tally = self._per_arm.setdefault((decision.experiment, decision.arm), _ArmTally())
            tally.leads += 1
            tally.teams[team or "(none)"] += 1
            if owner:
                tally.per_rep[owner] += 1
                self._arm_owners.add(owner)

    def result(self) -> SimulationResult:
        """Counts, shares against weights and Gini, per team and per rep."""
        config, per_rep = self.config, self._per_rep
        plan = compile_plan(config)
        teams = tuple(
            _team_summary(plan, team, self._per_team[team.name], self._leads_per_team[team.name])
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
            routed=tuple(self.routed),
            teams=teams,
            reps=reps,
            gini=gini([per_rep[user] for user in members]),
            unrouted=self.unrouted,
            nobody_eligible=self.nobody_eligible,
            changes=None if self._live is None else tuple(self.changes),
            arms=self._arms(),
            leads=self.leads,
            changed=self.changed,
            moved=self.moved,
        )

    def _arms(self) -> tuple[ArmSummary, ...]:
        """Each configured arm's leads, teams and Gini of leads per rep (reps any arm used)."""
        summaries = []
        for experiment in self.config.experiments or ():
            for arm in experiment.arms:
                tally = self._per_arm.get((experiment.name, arm.name), _ArmTally())
                summaries.append(
                    ArmSummary(
                        experiment.name,
                        arm.name,
                        tally.leads,
                        tuple(tally.teams.most_common()),
                        gini([tally.per_rep[user] for user in self._arm_owners]),
                    )
                )
        return tuple(summaries)


@dataclass
class _ArmTally:
    leads: int = 0
    teams: Counter[str] = field(default_factory=Counter)
    per_rep: Counter[str] = field(default_factory=Counter)


def simulate(
    leads: Iterable[SimulatedLead],
    candidate: Config,
    live: Config | None = None,
    *,
    open_for: timedelta | None = None,
) -> SimulationResult:
    """Route every lead, in arrival order (ties by row), through `candidate` and, when
    given, separately through `live`; summarise the candidate and list what changes.
    Running experiments apply as they would live (see `only_experiment`). Sorts in
    memory: a caller with more leads than memory feeds a `Simulation` in order."""
    simulation = Simulation(candidate, live, open_for=open_for)
    for item in sorted(leads, key=arrival):
        simulation.add(item)
    return simulation.result()


def arrival(item: SimulatedLead) -> tuple[datetime, int]:
    """The replay order: arrival time, ties by row."""
    return item.at, item.row


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
