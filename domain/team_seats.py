"""Who in a team can take a lead now, without judging every member on every lead.

A team's members are compiled once per configuration. On each decision, the members
who might be unable to take the lead are gathered with set operations and loops that
run in C: left out by the caller, inactive, not a configured rep, under caps, on PTO or
off shift (judged once per zone and shift pattern, not per rep), at capacity, or with
an away toggle or a Slack signal. Only they are judged one by one, by the caller's
exact rule (`eligibility.unavailable`), except those off shift with nothing else to say,
whose reason is their shift group's; everyone else can take the lead. A decision
then costs little per member: with teams of 100, judging every member was most of
routing's time (issue 20).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import compress, repeat
from operator import ge, not_
from typing import NamedTuple

from domain.availability import Availability, LocalClock
from domain.availability_config import PeriodCaps


@dataclass(frozen=True)
class PlannedRep:
    key: str
    availability: Availability
    caps: PeriodCaps | None


@dataclass(frozen=True)
class PlannedMember:
    user: str
    weight: int
    rep: PlannedRep | None


class Skip(NamedTuple):
    """A member who cannot take the lead, and why (a tuple: a decision may hold a
    hundred)."""

    user: str
    reason: str


class Judged(NamedTuple):
    """A team split for one decision, both parts in member order."""

    users: tuple[str, ...]
    weights: tuple[int, ...]
    skipped: tuple[Skip, ...]
    lines: tuple[str, ...]
    """The decision's reasons for the skipped: `Skipped U0X: on PTO until …`."""


class TeamSeats:
    """A team's members compiled for eligibility (see the module's docstring)."""

    def __init__(self, members: Sequence[PlannedMember], team_caps: bool):
        self.users = tuple(member.user for member in members)
        self.weights = tuple(member.weight for member in members)
        self.ones = (1,) * len(members)
        self.roster = frozenset(self.users)
        self._positions: dict[str, list[int]] = {}
        for index, user in enumerate(self.users):
            self._positions.setdefault(user, []).append(index)
        self._reps = {member.user: member.rep for member in members}
        always: set[str] = set()
        capped: list[tuple[str, int]] = []
        shift_groups: dict[tuple[object, ...], tuple[Availability, list[str]]] = {}
        pto_zones: dict[str, list[tuple[str, Availability]]] = {}
        for member in members:
            rep = member.rep
            if rep is None or not rep.availability.active or rep.caps is not None or team_caps:
                always.add(member.user)
                continue
            availability = rep.availability
            if availability.capacity is not None:
                capped.append((member.user, availability.capacity))
            if availability.shifts is not None:
                pattern = (availability.zone, tuple(sorted(availability.shifts.items())))
                shift_groups.setdefault(pattern, (availability, []))[1].append(member.user)
            if availability.pto:
                pto_zones.setdefault(availability.zone, []).append((member.user, availability))
        self._always = frozenset(always)
        self._capped_users = tuple(user for user, _ in capped)
        self._capacities = tuple(capacity for _, capacity in capped)
        self._shift_groups = tuple(
            (availability, tuple(users)) for availability, users in shift_groups.values()
        )
        self._pto_zones = {zone: tuple(holders) for zone, holders in pto_zones.items()}
        self._on_pto: dict[str, tuple[date, frozenset[str]]] = {}
        """Per zone, the last local day asked and who is on PTO then."""
        self._everyone = (
            Judged(self.users, self.ones, (), ()),
            Judged(self.users, self.weights, (), ()),
        )
        self._last: tuple[bool, dict[str, str], Judged] | None = None
        """The last split made: the next decision (of a batch, or in the same minute)
        mostly skips the same members for the same reasons."""

    def suspects(
        self,
        clock: LocalClock,
        open_leads: Mapping[str, int],
        signals: Collection[str],
        exclude: frozenset[str],
    ) -> dict[str, str | None]:
        """Every member who might not take a lead now (a superset of those who cannot),
        with why when it is known already: off shift, and nothing that comes first
        (left out, inactive, caps, PTO) to judge; None for those to judge one by one."""
        found: dict[str, str | None] = {}
        for availability, users in self._shift_groups:
            off_shift = availability.off_shift(clock.local(availability.zone))
            if off_shift:
                found.update(zip(users, repeat(off_shift)))
        if self._always:
            found.update(dict.fromkeys(self._always))
        if exclude:
            found.update(dict.fromkeys(exclude & self.roster))
        for zone in self._pto_zones:
            found.update(dict.fromkeys(self._pto_on(zone, clock.local(zone).date())))
        # Capacity and signals come after shifts: an off-shift reason stands.
        if self._capped_users:
            held = map(open_leads.get, self._capped_users, repeat(0))
            for user in compress(self._capped_users, map(ge, held, self._capacities)):
                found.setdefault(user)
        if signals:
            for user in filter(signals.__contains__, self.users):
                found.setdefault(user)
        return found

    def judge(
        self,
        suspects: Mapping[str, str | None],
        why_not: Callable[[str, PlannedRep | None], str | None],
        weighted: bool,
    ) -> Judged:
        """Split the team, asking `why_not` of the suspects not yet known; weights are 1
        each unless `weighted`."""
        reasons = {}
        for user, known in suspects.items():
            reason = known or why_not(user, self._reps[user])
            if reason:
                reasons[user] = reason
        if not reasons:
            return self._everyone[weighted]
        last = self._last
        if last is not None and last[0] is weighted and last[1] == reasons:
            return last[2]
        judged = self._split(reasons, self.weights if weighted else self.ones)
        self._last = (weighted, reasons, judged)
        return judged

    def _split(self, reasons: dict[str, str], weights: tuple[int, ...]) -> Judged:
        order = sorted(index for user in reasons for index in self._positions[user])
        skipped = tuple(Skip(self.users[index], reasons[self.users[index]]) for index in order)
        lines = tuple(f"Skipped {skip.user}: {skip.reason}" for skip in skipped)
        keep = list(map(not_, map(reasons.__contains__, self.users)))
        users, weights = tuple(compress(self.users, keep)), tuple(compress(weights, keep))
        return Judged(users, weights, skipped, lines)

    def _pto_on(self, zone: str, today: date) -> frozenset[str]:
        cached = self._on_pto.get(zone)
        if cached is None or cached[0] != today:
            holders = self._pto_zones[zone]
            away = frozenset(user for user, rules in holders if rules.pto_end(today) is not None)
            cached = self._on_pto[zone] = (today, away)
        return cached[1]
