"""Gini, percentiles and shares against weights."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.stats import gini, percentile, shares


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([], 0.0),
        ([0, 0, 0], 0.0),
        ([5, 5, 5, 5], 0.0),
        ([0, 0, 0, 10], 0.75),
        ([1, 3], 0.25),
        ([0, 10], 0.5),
    ],
)
def test_gini(counts: list[int], expected: float) -> None:
    assert gini(counts) == pytest.approx(expected)


@given(st.lists(st.integers(0, 1000), min_size=1, max_size=50))
def test_gini_matches_the_mean_absolute_difference_definition(counts: list[int]) -> None:
    total = sum(counts)
    n = len(counts)
    expected = sum(abs(a - b) for a in counts for b in counts) / (2 * n * total) if total else 0.0
    assert gini(counts) == pytest.approx(expected)
    assert 0 <= gini(counts) <= 1 - 1 / n + 1e-12


def test_gini_refuses_negative_counts() -> None:
    with pytest.raises(ValueError):
        gini([1, -1])


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 50, None),
        ([7], 90, 7),
        ([1, 2, 3, 4], 50, 2.5),
        ([4, 1, 3, 2], 0, 1),
        ([4, 1, 3, 2], 100, 4),
        ([10, 20, 30, 40, 50], 90, 46),
    ],
)
def test_percentile(values: list[float], q: float, expected: float | None) -> None:
    assert percentile(values, q) == expected


def test_percentile_refuses_q_out_of_range() -> None:
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_shares_against_weights_include_reps_with_no_leads() -> None:
    result = shares({"U0JANE": 6, "U0KEN": 2, "U0GONE": 5}, {"U0JANE": 3, "U0KEN": 1, "U0NEW": 1})
    assert [(s.user, s.count) for s in result] == [("U0JANE", 6), ("U0KEN", 2), ("U0NEW", 0)]
    jane, ken, new = result
    assert jane.share == pytest.approx(0.75) and jane.weight_share == pytest.approx(0.6)
    assert jane.expected == pytest.approx(4.8) and new.expected == pytest.approx(1.6)
    assert ken.share == pytest.approx(0.25)
    assert shares({}, {}) == []
    assert shares({}, {"U0A": 1})[0].share == 0.0
