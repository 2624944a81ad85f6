"""The per-deal random source: its block first, then its own seeded generator, same laws."""

from __future__ import annotations

import math
import random
from array import array

import numpy as np
from scipy import stats

from simsales.model.dealrandom import BLOCK, DealRandom
from simsales.scenario.distributions import Gamma, LogNormal, Triangular


def _source(seed: int) -> DealRandom:
    block = array("d", np.random.default_rng(seed).random(BLOCK).tobytes())
    return DealRandom(block, seed)


def test_block_first_then_the_deals_own_generator() -> None:
    r = _source(3)
    first = [r.random() for _ in range(BLOCK)]
    assert first == np.random.default_rng(3).random(BLOCK).tolist()
    then = [r.random() for _ in range(5)]
    fallback = random.Random(3)
    assert then == [fallback.random() for _ in range(5)]
    again = _source(3)
    assert [again.random() for _ in range(BLOCK + 5)] == first + then  # deterministic


def test_stdlib_algorithms_on_the_block_follow_their_laws() -> None:
    # one draw per deal-like source, as the model uses them: a new block each time
    for dist, n in ((LogNormal(median=5.0, p90=12.0), 4000), (Gamma(mean=3.0, shape=2.0), 4000)):
        sampler = dist.sampler()
        x = np.array([sampler(_source(seed)) for seed in range(n)])
        assert abs(x.mean() - dist.mean) < 4.5 * x.std() / math.sqrt(n)
    tri = Triangular(low=1.0, mode=2.0, high=6.0)
    x = np.array([tri.sampler()(_source(seed)) for seed in range(4000)])
    cdf = stats.triang(c=(2.0 - 1.0) / 5.0, loc=1.0, scale=5.0).cdf
    assert stats.kstest(x, cdf).pvalue > 1e-3
