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
from typing import Protocol

#: Uniforms drawn per deal before its own generator takes over; a typical deal uses fewer.
BLOCK = 64
#: Of those, the ones a deal holds from its creation; the rest are drawn again if it needs them.
PREFIX = 16


class BlockRest(Protocol):
    """Where a deal's uniforms beyond its prefix come from (``market.BatchRest``)."""

    def rest(self, row: int) -> array: ...


class DealRandom:
    """The ``random.Random`` methods the model's samplers use, fed from a block of uniforms.

    The block may be a prefix of the deal's ``BLOCK`` uniforms: an open deal then holds 16
    numbers, not 64, and most deals never need more. A deal that does gets the rest of its block
    from ``rest`` (the same numbers, drawn again from its batch's stream position), and after
    ``BLOCK`` uniforms in all, its own generator seeded from its seed.
    """

    __slots__ = ("_block", "_more", "_next", "_rest", "_row", "_seed", "_size", "gauss_next")

    def __init__(
        self, block: array, seed: int, rest: BlockRest | None = None, row: int = 0, start: int = 0
    ) -> None:
        self._block = block  # its uniforms from ``start`` on (a deal's packed draws: see market)
        self._size = len(block)
        self._next = start
        self._seed = seed
        self._rest = rest
        self._row = row
        self._more: stdlib_random.Random | None = None
        self.gauss_next: float | None = None  # used by gauss(), as in random.Random

    def random(self) -> float:
        """A uniform draw in [0, 1): from the block while it lasts, then from the deal's seed."""
        i = self._next
        if i < self._size:
            self._next = i + 1
            return self._block[i]
        return self._beyond()

    def _beyond(self) -> float:
        """The block is used up: the rest of the deal's block, if any, then its own generator."""
        rest = self._rest
        if rest is not None:
            self._rest = None
            block = self._block = rest.rest(self._row)
            self._size = len(block)
            self._next = 1
            return block[0]
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
