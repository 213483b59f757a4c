"""The statistics behind an experiment's report, all from `scipy.stats`.

- a rate's interval: Wilson's score interval (`binomtest(...).proportion_ci`);
- a percentile's interval: the order-statistic interval of `quantile_test`;
- the Gini of leads per rep: a bootstrap interval over the leads (`bootstrap`);
- a difference of rates or means against control: Welch's t-test (`ttest_ind`, which
  gives both the p-value and the interval, so the two never disagree); on 0/1 outcomes
  it is the unpooled two-proportion z-test with a t reference;
- a difference of medians or of Ginis: a bootstrap interval and a permutation p-value;
- the sample size a difference needs: the normal-approximation formula for two
  independent groups (Fleiss, *Statistical Methods for Rates and Proportions*, 3rd ed.,
  eq. 4.14 without continuity correction), with quantiles from `norm.ppf`.

Randomised procedures use a fixed seed: the same rows always give the same report.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from domain.stats import gini, percentile

SEED = 20261201
RESAMPLES = 999
_BATCH = 64


@dataclass(frozen=True)
class Estimate:
    """A figure with its confidence interval; None where the data cannot say."""

    value: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0


@dataclass(frozen=True)
class Difference:
    """Treatment minus control, its interval and the p-value of "no difference"."""

    value: float | None
    low: float | None = None
    high: float | None = None
    p_value: float | None = None


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def proportion(successes: int, trials: int, confidence: float = 0.95) -> Estimate:
    """A rate with Wilson's interval; no trials: no data."""
    if trials == 0:
        return Estimate(None)
    interval = stats.binomtest(successes, trials).proportion_ci(
        confidence_level=confidence, method="wilson"
    )
    return Estimate(successes / trials, float(interval.low), float(interval.high), trials)


def quantile(values: Sequence[float], q: float, confidence: float = 0.95) -> Estimate:
    """The q-th percentile (as /leadstats computes it) and a distribution-free interval
    from order statistics; a side the sample is too small to bound is None."""
    if not values:
        return Estimate(None)
    point = float(percentile(values, q) or 0.0)
    if len(values) < 2:
        return Estimate(point, n=len(values))
    test = stats.quantile_test(np.asarray(values, dtype=float), q=point, p=q / 100)
    interval = test.confidence_interval(confidence_level=confidence)
    return Estimate(point, _finite(interval.low), _finite(interval.high), len(values))


def _indices(owners: Sequence[str], roster: Sequence[str]) -> np.ndarray:
    place = {user: index for index, user in enumerate(roster)}
    return np.fromiter((place[owner] for owner in owners), dtype=np.int64, count=len(owners))


def _gini_of(size: int) -> Callable[[np.ndarray], float]:
    return lambda sample: gini(np.bincount(sample, minlength=size).tolist())


def gini_estimate(
    owners: Sequence[str], roster: Sequence[str], confidence: float = 0.95
) -> Estimate:
    """Gini of leads per rep over `roster` (reps with none count as 0) and a bootstrap
    interval from resampling the leads."""
    if not owners or len(roster) < 2:
        return Estimate(None, n=len(owners))
    sample = _indices(owners, roster)
    point = _gini_of(len(roster))(sample)
    if len(owners) < 2:
        return Estimate(point, n=len(owners))
    result = stats.bootstrap(
        (sample,),
        _gini_of(len(roster)),
        vectorized=False,
        n_resamples=RESAMPLES,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(SEED),
    )
    interval = result.confidence_interval
    return Estimate(point, _finite(interval.low), _finite(interval.high), len(owners))


def difference_in_means(
    treatment: Sequence[float], control: Sequence[float], confidence: float = 0.95
) -> Difference:
    """Welch's t-test of treatment against control; fewer than two values a side, or no
    variation anywhere, says nothing."""
    a = np.asarray(treatment, dtype=float)
    b = np.asarray(control, dtype=float)
    if len(a) < 2 or len(b) < 2:
        return Difference(None)
    value = float(a.mean() - b.mean())
    if a.var() == 0 and b.var() == 0:
        return Difference(value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.ttest_ind(a, b, equal_var=False)
        interval = result.confidence_interval(confidence_level=confidence)
    return Difference(value, _finite(interval.low), _finite(interval.high), _finite(result.pvalue))


def _median_gap(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.median(x, axis=axis) - np.median(y, axis=axis)


def difference_in_medians(
    treatment: Sequence[float], control: Sequence[float], confidence: float = 0.95
) -> Difference:
    """Median of treatment minus median of control: bootstrap interval, permutation p."""
    a = np.asarray(treatment, dtype=float)
    b = np.asarray(control, dtype=float)
    if len(a) < 2 or len(b) < 2:
        return Difference(None)
    return _resampled((a, b), _median_gap, confidence, vectorized=True)


def difference_in_gini(
    treatment: Sequence[str], control: Sequence[str], roster: Sequence[str], confidence: float
) -> Difference:
    """Gini of treatment's leads per rep minus control's, over the same roster."""
    if len(treatment) < 2 or len(control) < 2 or len(roster) < 2:
        return Difference(None)
    of = _gini_of(len(roster))
    return _resampled(
        (_indices(treatment, roster), _indices(control, roster)),
        lambda x, y: of(x) - of(y),
        confidence,
        vectorized=False,
    )


def _resampled(
    samples: tuple[np.ndarray, np.ndarray],
    statistic: Callable[..., float | np.ndarray],
    confidence: float,
    vectorized: bool,
) -> Difference:
    value = float(statistic(*samples))
    options = dict(vectorized=vectorized, n_resamples=RESAMPLES, batch=_BATCH)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        interval = stats.bootstrap(
            samples,
            statistic,
            confidence_level=confidence,
            method="percentile",
            rng=np.random.default_rng(SEED),
            **options,
        ).confidence_interval
        test = stats.permutation_test(
            samples, statistic, rng=np.random.default_rng(SEED + 1), **options
        )
    return Difference(value, _finite(interval.low), _finite(interval.high), _finite(test.pvalue))


def _z_sum(alpha: float, power: float) -> float:
    return float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))


def leads_per_arm_for_rates(
    baseline: float | None, effect: float, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Leads each arm needs to find a change of `effect` (a fraction, 0.05 = 5 points)
    from `baseline` with the given power. No baseline yet: the worst case, 50%."""
    p1 = 0.5 if baseline is None else baseline
    p2 = p1 + effect if p1 + effect <= 1 else p1 - effect
    variance = p1 * (1 - p1) + p2 * (1 - p2)
    return math.ceil(_z_sum(alpha, power) ** 2 * variance / effect**2)


def leads_per_arm_for_means(
    spread: float, effect: float, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Values each arm needs to find a shift of `effect` in a mean with standard
    deviation `spread` (the same formula, both variances equal)."""
    return math.ceil(_z_sum(alpha, power) ** 2 * 2 * spread**2 / effect**2)
