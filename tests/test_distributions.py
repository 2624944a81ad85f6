"""Distributions: the scalar path (draw / sampler) and the vector path (sample) follow one law.

Each check uses a fixed seed and a tolerance from the sampling error, so it cannot flake and
would catch a wrong parameterisation (a sigma off by a factor, a swapped scale and rate).
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import stats

from simsales.scenario.distributions import (
    Beta,
    Constant,
    Empirical,
    Exponential,
    Gamma,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
)

N = 20_000

CASES = [
    Constant(value=3.5),
    Exponential(mean=4.0),
    Uniform(low=1.0, high=5.0),
    Triangular(low=2.0, mode=3.0, high=9.0),
    Normal(mean=5.0, sd=2.0),
    Normal(mean=1.0, sd=2.0, low=0.0),
    Normal(mean=5.0, sd=3.0, low=2.0, high=6.0),
    LogNormal(median=5.0, p90=12.0),
    Gamma(mean=6.0, shape=2.5),
    Beta(mean=0.3, concentration=8.0),
    Empirical(values=[1.0, 2.0, 7.0]),
    Empirical(values=[1.0, 2.0, 7.0], weights=[1.0, 0.0, 3.0]),
]


def _scalar(dist, seed: int = 1) -> np.ndarray:
    r = random.Random(seed)
    return np.array([dist.draw(r) for _ in range(N)])


@pytest.mark.parametrize("dist", CASES, ids=repr)
def test_sampler_draws_exactly_what_draw_draws(dist) -> None:
    a, b = random.Random(7), random.Random(7)
    sampler = dist.sampler()
    assert [dist.draw(a) for _ in range(200)] == [sampler(b) for _ in range(200)]


@pytest.mark.parametrize("dist", CASES, ids=repr)
def test_means_agree_with_the_documented_mean(dist) -> None:
    scalar = _scalar(dist)
    vector = dist.sample(np.random.default_rng(2), N)
    for x in (scalar, vector):
        se = x.std(ddof=1) / math.sqrt(N)
        assert abs(x.mean() - dist.mean) <= 4.5 * se + 1e-12


@pytest.mark.parametrize("dist", [d for d in CASES if not isinstance(d, Constant)], ids=repr)
def test_scalar_and_vector_paths_follow_one_law(dist) -> None:
    scalar = _scalar(dist, seed=3)
    vector = dist.sample(np.random.default_rng(4), N)
    if isinstance(dist, Empirical):  # discrete: compare frequencies
        values = sorted(set(dist.values))
        counts = [[np.sum(x == v) for v in values] for x in (scalar, vector)]
        keep = [i for i in range(len(values)) if counts[0][i] + counts[1][i] > 0]
        table = np.array([[row[i] for i in keep] for row in counts])
        assert stats.chi2_contingency(table).pvalue > 1e-3
    else:
        assert stats.ks_2samp(scalar, vector).pvalue > 1e-3


@pytest.mark.parametrize("dist", CASES, ids=repr)
def test_values_stay_in_the_support(dist) -> None:
    lo, hi = dist.support
    for x in (_scalar(dist), dist.sample(np.random.default_rng(5), N)):
        assert x.min() >= lo and x.max() <= hi


def test_lognormal_is_given_by_median_and_p90() -> None:
    x = _scalar(LogNormal(median=5.0, p90=12.0))
    assert np.median(x) == pytest.approx(5.0, rel=0.03)
    assert np.quantile(x, 0.9) == pytest.approx(12.0, rel=0.04)


def test_empirical_weights_are_respected() -> None:
    x = _scalar(Empirical(values=[1.0, 2.0, 7.0], weights=[1.0, 0.0, 3.0]))
    assert not np.any(x == 2.0)
    assert np.mean(x == 7.0) == pytest.approx(0.75, abs=0.02)
