"""Report arithmetic: percentiles from ranks only, Gini properties, arguments and periods."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.config import DigestSchedule, validate_config
from domain.errors import InvalidInput
from domain.reports import (
    QUANTILES,
    Aggregates,
    GroupTally,
    Ranked,
    Scope,
    StatsUsageError,
    Tally,
    build_report,
    changes,
    digest_window,
    needed_ranks,
    parse_stats_args,
    percentile_from_ranks,
    period_bounds,
)
from domain.stats import gini, percentile


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=200))
def test_percentiles_from_the_needed_ranks_equal_percentiles_over_every_value(
    values: list[int],
) -> None:
    ordered = sorted(values)
    ranked = Ranked(len(ordered), {rank: ordered[rank] for rank in needed_ranks(len(ordered))})
    for q in QUANTILES:
        assert percentile_from_ranks(ranked, q) == pytest.approx(percentile(values, q))


def test_no_values_have_no_percentile() -> None:
    assert percentile_from_ranks(Ranked(0, {}), 50) is None


@given(st.integers(1, 1000), st.integers(1, 60))
def test_gini_is_zero_when_every_rep_gets_the_same(count: int, reps: int) -> None:
    assert gini([count] * reps) == pytest.approx(0.0, abs=1e-12)


@given(st.integers(1, 1000), st.integers(2, 500))
def test_gini_approaches_one_when_one_rep_gets_everything(count: int, reps: int) -> None:
    # (n - 1) / n: the most unequal split of n reps, tending to 1 as the team grows.
    assert gini([0] * (reps - 1) + [count]) == pytest.approx(1 - 1 / reps)


@given(st.lists(st.integers(0, 1000), min_size=1, max_size=40), st.randoms())
def test_gini_does_not_depend_on_order(counts: list[int], random: object) -> None:
    shuffled = list(counts)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    assert gini(shuffled) == pytest.approx(gini(counts))


def test_rates_are_none_without_data_and_tallies_add() -> None:
    assert Tally().sla_rate is None and Tally().win_rate is None
    total = Tally(leads=4, sla_met=1, sla_decided=2) + Tally(leads=1, sla_met=1, sla_decided=2)
    assert (total.leads, total.sla_rate) == (5, 0.5)


@pytest.mark.parametrize(
    ("text", "scope", "period"),
    [
        ("", Scope("rep", "U0ME"), "30d"),
        ("me", Scope("rep", "U0ME"), "30d"),
        ("7d", Scope("rep", "U0ME"), "7d"),
        ("me 90D", Scope("rep", "U0ME"), "90d"),
        ("team enterprise 30d", Scope("team", "enterprise"), "30d"),
        ("rep <@U0BOB|bob> 7d", Scope("rep", "U0BOB"), "7d"),
        ("rep U0BOB", Scope("rep", "U0BOB"), "30d"),
        ("source paid_ads", Scope("source", "paid_ads"), "30d"),
        ("team a b", Scope("team", "a b"), "30d"),
        ("TEAM North   America 7d", Scope("team", "North America"), "7d"),
        ("Team <#C0NA|north-america>", Scope("team", "<#C0NA|north-america>"), "30d"),
        ("REP <@U0BOB>", Scope("rep", "U0BOB"), "30d"),
    ],
)
def test_arguments(text: str, scope: Scope, period: str) -> None:
    assert parse_stats_args(text, "U0ME") == (scope, period)


@pytest.mark.parametrize(
    "text", ["team", "rep bob", "weekly", "me 14d", "source <script>", "30d 7d", "me you"]
)
def test_bad_arguments_are_refused(text: str) -> None:
    with pytest.raises(StatsUsageError):
        parse_stats_args(text, "U0ME")


def test_periods_start_at_local_midnight_of_the_readers_timezone() -> None:
    now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # still Nov 23, 22:00 in New York
    start, end = period_bounds("7d", now, ZoneInfo("America/New_York"))
    assert end == now
    assert start == datetime(2026, 11, 17, 5, 0, tzinfo=UTC)  # Nov 17 00:00 EST
    start, _ = period_bounds("7d", now, ZoneInfo("Asia/Tokyo"))  # already Nov 24 12:00
    assert start == datetime(2026, 11, 17, 15, 0, tzinfo=UTC)  # Nov 18 00:00 JST


def test_the_digest_is_due_from_the_managers_local_day_and_hour_until_the_week_ends() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    # Monday Nov 23 2026, 08:59 in Tokyo: not yet; 09:00: due, for ISO week 48.
    assert digest_window("mon", 9, datetime(2026, 11, 22, 23, 59, tzinfo=UTC), tokyo) is None
    window = digest_window("mon", 9, datetime(2026, 11, 23, 0, 0, tzinfo=UTC), tokyo)
    assert window is not None and window.week == "2026-W48"
    assert window.due_at == datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    assert window.current == (datetime(2026, 11, 16, tzinfo=UTC), window.due_at)
    assert window.previous == (datetime(2026, 11, 9, tzinfo=UTC), window.current[0])
    # A replica that was down on Monday sends it on Saturday, still as week 48.
    late = digest_window("mon", 9, datetime(2026, 11, 28, 12, 0, tzinfo=UTC), tokyo)
    assert late is not None and late.week == "2026-W48" and late.due_at == window.due_at
    # The same instant is still Sunday in New York: that manager's week 48 digest waits;
    # the one due is still week 47's.
    new_york = digest_window("mon", 9, datetime(2026, 11, 23, 0, 0, tzinfo=UTC), NEW_YORK)
    assert new_york is not None and new_york.week == "2026-W47"


def test_changes_against_the_previous_week() -> None:
    report = build_report(Scope("team", "a"), "7d", T, T, _aggregates(Tally(leads=4)))
    before = build_report(Scope("team", "a"), "7d", T, T, _aggregates(Tally(leads=6)))
    moves = {change.name: change for change in changes(report, before)}
    assert moves["Leads"].delta == -2 and moves["Median response"].delta is None


def test_team_config_takes_an_optional_digest_schedule() -> None:
    members = [{"user": "U0REP"}]
    team = {
        "name": "a",
        "manager": "U0MGR",
        "members": members,
        "digest": {"day": "fri", "hour": 16},
    }
    base = {
        "version": 1,
        "reps": [{"user": "U0REP"}],
        "rules": [{"name": "all", "then": {"team": "a"}}],
    }
    config = validate_config({**base, "teams": [team]})
    assert config.teams[0].digest == DigestSchedule(day="fri", hour=16)
    plain = validate_config({**base, "teams": [{"name": "a", "members": members}]})
    assert plain.teams[0].digest is None
    late = {**team, "digest": {"day": "fri", "hour": 24}}
    with pytest.raises(InvalidInput) as refused:
        validate_config({**base, "teams": [late]})
    assert "teams[0].digest.hour" in str(refused.value.errors[0].path)


NEW_YORK = ZoneInfo("America/New_York")
T = datetime(2026, 11, 23, tzinfo=UTC)


def _aggregates(tally: Tally) -> Aggregates:
    return Aggregates([GroupTally("U0A", "web", "push", "r", tally)], {}, Ranked(0, {}), [], [])
