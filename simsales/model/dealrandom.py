"""A deal's own random numbers: small, cheap, and its own (common random numbers by deal).

Each deal needs a variable number of draws (one per call lag, per activity done right or wrong,
per buyer task), so they must come from a stream of its own: one deal needing an extra call must
not shift another deal's draws. A ``random.Random`` per deal does that, but costs 2.5 kB of state
and 5 µs to seed, for every open deal. Instead each deal gets a block of uniforms drawn in a
vectorised batch with its buyer (a few hundred bytes), and only a deal that uses them all up
seeds a generator of its own from its seed. The normal, exponential, triangular, gamma, beta and
weighted-choice draws are the standard library's own algorithms, run on these uniforms.
"""

from __future__ import annotations

import random as stdlib_random
from array import array

#: Uniforms drawn up front per deal; a typical deal uses fewer.
BLOCK = 64


class DealRandom:
    """The ``random.Random`` methods the model's samplers use, fed from a block of uniforms."""

    __slots__ = ("_block", "_more", "_next", "_seed", "gauss_next")

    def __init__(self, block: array, seed: int) -> None:
        self._block = block
        self._next = 0
        self._seed = seed
        self._more: stdlib_random.Random | None = None
        self.gauss_next: float | None = None  # used by gauss(), as in random.Random

    def random(self) -> float:
        """A uniform draw in [0, 1): from the block while it lasts, then from the deal's seed."""
        i = self._next
        if i < BLOCK:
            self._next = i + 1
            return self._block[i]
        if self._more is None:
            self._more = stdlib_random.Random(self._seed)
        return self._more.random()

    # The standard library's pure-Python algorithms, which draw only through self.random().
    gauss = stdlib_random.Random.gauss
    expovariate = stdlib_random.Random.expovariate
    triangular = stdlib_random.Random.triangular
    gammavariate = stdlib_random.Random.gammavariate
    betavariate = stdlib_random.Random.betavariate
    choices = stdlib_random.Random.choices
