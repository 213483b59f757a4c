"""Routing's fast path (domain.team_seats: only the members who might be away are judged;
rotation in loops that run in C) decides exactly as the straightforward way does: every
member judged by `eligibility.unavailable`, in order, then the quota method and least
loaded written as plain loops. Random teams (hours, PTO, capacity, caps, Slack and away
signals, a member listed twice by id and email) and random states, lead after lead."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.availability import LocalClock
from domain.config import Config, validate_config
from domain.eligibility import RepFacts, unavailable
from domain.rotation import PER_LEAD
from domain.routing import Decision, RoutingState, offer_in_team, route
from domain.routing_memory import RoutingMemory
from domain.routing_plan import compile_plan
from domain.signals import AwayToggle, RepSignals, SlackSnapshot
from tests.domain.builders import MONDAY_NOON, lead

ZONES = ["UTC", "America/New_York", "Asia/Tokyo"]
HOURS = [None, {"mon-fri": "09:00-17:30"}, {"mon-sun": "00:00-12:00"}]
RESOLUTION = 1_000_000

rep_data = st.fixed_dictionaries(
    {
        "timezone": st.sampled_from(ZONES),
        "working_hours": st.sampled_from(HOURS),
        "capacity": st.one_of(st.none(), st.integers(1, 4)),
        "active": st.sampled_from([True, True, True, False]),
        "pto": st.sampled_from(
            [
                None,
                [{"from": "2026-03-02", "to": "2026-03-03"}],
                [{"from": "2026-03-05", "to": "2026-03-09"}],
            ]
        ),
        "caps": st.sampled_from([None, {"per_day": 2}, {"lead_types": {"mql": {"per_week": 1}}}]),
    }
).map(lambda data: {key: value for key, value in data.items() if value is not None})

teams = st.tuples(
    st.lists(st.tuples(st.integers(1, 4), rep_data), min_size=1, max_size=12),
    st.sampled_from(["round_robin", "weighted", "least_loaded"]),
    st.sampled_from([None, {"per_day": 3}]),
    st.sampled_from([None, {"slack_status": True, "dnd": True, "presence": True}]),
    st.booleans(),  # the last member listed again by email
    st.sampled_from([None, "round_robin", "weighted", "least_loaded"]),  # for mql leads
)


def build(team: tuple[Any, ...], method: str | None) -> Config:
    members, strategy, team_caps, signals, twice, mql_strategy = team
    reps = [
        {
            "user": f"U0REP{index}",
            "email": f"rep{index}@acme.io",
            **data,
        }
        for index, (_, data) in enumerate(members)
    ]
    listed = [{"user": f"U0REP{i}", "weight": weight} for i, (weight, _) in enumerate(members)]
    if twice:
        listed.append({"user": f"rep{len(members) - 1}@acme.io", "weight": 2})
    sales: dict[str, Any] = {"name": "sales", "strategy": strategy, "members": listed}
    if team_caps:
        sales["caps"] = team_caps
    if signals:
        sales["availability"] = signals
    if method:
        sales["method"] = method
    override = {"team": "sales", "strategy": mql_strategy}
    overrides = [{"name": "mql", "when": {"lead_type": "mql"}, "then": override}]
    if not mql_strategy:
        overrides = []
    return validate_config(
        {
            "reps": reps,
            "teams": [{"name": "sales", "channel": "C0SALES", "manager": "U0BOSS", **sales}],
            "rules": [*overrides, {"name": "everyone", "then": {"team": "sales"}}],
        }
    )


def signals_for(now: datetime, kinds: Sequence[int]) -> dict[str, RepSignals]:
    """Per rep index, nothing (0), an away toggle (1), a Slack vacation status (2),
    presence away (3) or a status that is not away (4)."""
    fetched = now - timedelta(seconds=30)
    made = {
        1: RepSignals(away=AwayToggle(now - timedelta(hours=1))),
        2: RepSignals(slack=SlackSnapshot(fetched, status_emoji=":palm_tree:")),
        3: RepSignals(slack=SlackSnapshot(fetched, presence="away")),
        4: RepSignals(slack=SlackSnapshot(fetched, status_text="Working remotely")),
    }
    return {f"U0REP{i}": made[kind] for i, kind in enumerate(kinds) if kind}


def reference(
    config: Config,
    state: RoutingState,
    now: datetime,
    lead_type: str,
    push: bool,
    exclude: frozenset[str] = frozenset(),
    strategy: str | None = None,
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...], str | None, dict[str, int] | None]:
    """Candidates, skips, owner and new credits, the straightforward way."""
    plan = compile_plan(config)
    team = plan.teams["sales"]
    clock = LocalClock(now)
    facts = RepFacts(state.open_leads, state.signals, state.assignments)
    strategy = strategy or team.config.strategy
    weighted = strategy == "weighted"
    eligible: list[tuple[str, int]] = []
    skipped: list[tuple[str, str]] = []
    for member in team.members:
        if member.user in exclude:
            reason: str | None = "already offered this lead"
        elif member.rep is None:
            reason = "not a configured rep"
        else:
            rep = member.rep
            reason = unavailable(
                rep.key,
                rep.availability,
                rep.caps,
                team.rules,
                lead_type,
                clock,
                facts,
                plan.settings,
                push,
            )
        if reason:
            skipped.append((member.user, reason))
        else:
            eligible.append((member.user, member.weight if weighted else 1))
    users = tuple(user for user, _ in eligible)
    if not eligible or not push:
        return users, tuple(skipped), None, None
    if strategy == "least_loaded":

        def wait(user: str) -> tuple[int, bool, datetime | None]:
            last = state.last_assigned.get(user)
            return (state.open_leads.get(user, 0), last is not None, last)

        return users, tuple(skipped), min(users, key=wait), None
    owner, credits = quota(eligible, state.credits.get("sales", {}), team.roster)
    return users, tuple(skipped), owner, credits


def quota(
    eligible: list[tuple[str, int]], credits: Mapping[str, int], roster: frozenset[str]
) -> tuple[str, dict[str, int]]:
    """The quota method as domain.rotation describes it, one rep at a time."""
    per_lead = sum(weight for _, weight in eligible) * RESOLUTION
    old = credits.get(PER_LEAD)
    updated: dict[str, int] = {}
    if old and old > 0:
        for user, value in credits.items():
            if user in roster:
                updated[user] = (
                    value if old == per_lead else (2 * value * per_lead + old) // (2 * old)
                )
    gained = [
        (user, updated.get(user, 0) + weight * RESOLUTION, weight) for user, weight in eligible
    ]
    owed = [entry for entry in gained if entry[1] > 0] or gained
    best = owed[0]
    for entry in owed[1:]:
        # Earliest to be owed a whole lead: smallest (per_lead - credit) / weight.
        if (per_lead - entry[1]) * best[2] < (per_lead - best[1]) * entry[2]:
            best = entry
    for user, credit, _ in gained:
        updated[user] = credit
    updated[best[0]] -= per_lead
    updated[PER_LEAD] = per_lead
    return best[0], updated


def assert_same(decision: Decision, expected: tuple[Any, ...]) -> None:
    users, skipped, owner, credits = expected
    assert decision.candidates == users
    assert [(skip.user, skip.reason) for skip in decision.skipped] == list(skipped)
    assert decision.owner == owner
    assert decision.credits == credits
    lines = [line for line in decision.reasons if line.startswith("Skipped ")]
    assert lines == [f"Skipped {user}: {reason}" for user, reason in skipped]
    if owner is not None:
        assert f"Assigned to {owner}" in decision.reasons[-1]


@settings(max_examples=300, deadline=None)
@given(
    team=teams,
    leads=st.lists(
        st.tuples(
            st.integers(0, 900),  # minutes since the previous lead
            st.sampled_from(["demo_request", "mql"]),
            st.lists(st.integers(0, 4), min_size=13, max_size=13),  # signals per rep
            st.sets(st.integers(0, 12), max_size=3),  # reps already offered the lead
        ),
        min_size=1,
        max_size=25,
    ),
    method=st.sampled_from([None, "pull"]),
)
def test_fast_routing_decides_as_judging_every_member_does(
    team: tuple[Any, ...], leads: list[tuple[int, str, list[int], set[int]]], method: str | None
) -> None:
    config = build(team, method)
    memory = RoutingMemory(RoutingState())
    now = MONDAY_NOON
    for gap, lead_type, signal_kinds, offered in leads:
        now += timedelta(minutes=gap)
        memory.signals = signals_for(now, signal_kinds)
        state = memory.state
        push = method is None
        decision = route(lead(lead_type=lead_type), config, state, now)
        routed_by = decision.strategy
        assert_same(decision, reference(config, state, now, lead_type, push, strategy=routed_by))
        if offered:
            exclude = frozenset(f"U0REP{i}" for i in offered)
            offer = offer_in_team("sales", lead_type, config, state, now, exclude, "Offer")
            assert_same(offer, reference(config, state, now, lead_type, True, exclude))
        memory.remember(decision, lead_type, config, now)
