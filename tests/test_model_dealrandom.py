"""The per-deal random source: its block first, then its own seeded generator, same laws."""

from __future__ import annotations

import math
import random
from array import array

import numpy as np
from scipy import stats

from simsales.model.dealrandom import BLOCK, PREFIX, DealRandom
from simsales.model.market import BatchRest
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


def test_a_prefix_and_the_rest_drawn_again_give_the_whole_block() -> None:
    """A deal holding only its first PREFIX uniforms draws exactly what the whole block gives.

    The rest is drawn again from a copy of the stream moved to the deal's row, in any order of
    rows (deals end in any order), then the deal's own generator takes over as before.
    """
    rng = np.random.default_rng(np.random.SeedSequence(11))
    rng.integers(0, 2**63 - 1, 7)  # the stream is somewhere in the middle, as in a batch
    rest = BatchRest(rng.bit_generator.state)
    full = rng.random((7, BLOCK))
    for row in (5, 0, 6, 2, 2, 1):
        prefix = array("d", full[row, :PREFIX].tobytes())
        r = DealRandom(prefix, 100 + row, rest, row)
        whole = DealRandom(array("d", full[row].tobytes()), 100 + row)
        assert [r.random() for _ in range(BLOCK + 4)] == [whole.random() for _ in range(BLOCK + 4)]


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
