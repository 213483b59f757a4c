"""A configuration compiled for routing: rules as plain (field, test) pairs, reps with
their availability, teams with their members, accounts by domain. Compiled once per
Config object and reused, since a Config is not changed once routed (the admin flows
build a new one for each change)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from domain.availability import Availability
from domain.availability_config import AvailabilitySettings
from domain.config import AccountConfig, Config, RepConfig, RuleConfig, TeamConfig
from domain.eligibility import TeamRules
from domain.identity_cache import IdentityCache
from domain.lead import LeadInput
from domain.team_seats import PlannedMember, PlannedRep, TeamSeats


@dataclass(frozen=True)
class PlannedTeam:
    config: TeamConfig
    members: tuple[PlannedMember, ...]
    roster: frozenset[str]
    rules: TeamRules
    seats: TeamSeats


@dataclass(frozen=True)
class CompiledRule:
    name: str
    config: RuleConfig
    tests: tuple[tuple[str, Callable[[Any], bool]], ...]
    matched: str

    @classmethod
    def compile(cls, rule: RuleConfig) -> CompiledRule:
        conditions = rule.conditions()
        matched = ", ".join(condition.describe() for condition in conditions) or "catch-all"
        tests = tuple((condition.field, condition.test) for condition in conditions)
        return cls(rule.name, rule, tests, matched)


class RoutingPlan:
    """A configuration compiled for routing: everything `route` looks up, by key."""

    def __init__(self, config: Config):
        self.rules = tuple(CompiledRule.compile(rule) for rule in config.rules)
        self.settings: AvailabilitySettings = config.availability_settings
        self._reps: dict[str, PlannedRep] = {}
        for rep_config in config.reps:
            rep = PlannedRep(rep_config.key, Availability(rep_config), rep_config.caps)
            for alias in _aliases(rep_config):
                self._reps.setdefault(alias, rep)
        self.teams: dict[str, PlannedTeam] = {}
        self.home_team: dict[str, TeamConfig] = {}
        for team in config.teams:
            members = tuple(self._member(m.user, m.weight) for m in team.members)
            rules = TeamRules(team.name, team.availability, team.caps)
            seats = TeamSeats(members, team_caps=team.caps is not None)
            self.teams.setdefault(team.name, PlannedTeam(team, members, seats.roster, rules, seats))
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
    ) -> Iterator[CompiledRule]:
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

    def rep(self, user: str) -> PlannedRep | None:
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

    def _member(self, user: str, weight: int) -> PlannedMember:
        rep = self.rep(user)
        return PlannedMember(rep.key if rep else user, weight, rep)


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


compile_plan: Callable[[Config], RoutingPlan] = IdentityCache(RoutingPlan)
"""The plan for this Config object, compiled on first use and then reused."""
