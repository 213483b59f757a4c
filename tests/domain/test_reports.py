"""Report arithmetic: percentiles from ranks only, Gini properties, arguments and periods."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.reports import (
    QUANTILES,
    Ranked,
    Scope,
    StatsUsageError,
    Tally,
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
    ],
)
def test_arguments(text: str, scope: Scope, period: str) -> None:
    assert parse_stats_args(text, "U0ME") == (scope, period)


@pytest.mark.parametrize(
    "text", ["team", "team a b", "rep bob", "weekly", "me 14d", "source <script>", "30d 7d"]
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
