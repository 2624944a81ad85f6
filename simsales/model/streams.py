"""Random streams: one ``SeedSequence`` per replication, spawned by purpose.

Replication r of every variant of a scenario gets the same streams, so two variants run on common
random numbers: a change that does not touch a stream leaves its draws unchanged. Draws with a fixed
count per deal (its buyer, its hazard budget, its decision dice) are taken in batches from their
purpose stream in arrival order, so deal i gets the same buyer in every variant. The draws whose
number depends on the policies (lags, task durations, right or wrong steps) come from the deal's
own source (``dealrandom``), drawn for it from the ``behaviour`` stream, so one deal needing an
extra call does not shift the draws of any other deal.

The list is append-only: a new purpose goes at the end, or old results would change.
"""

from __future__ import annotations

import numpy as np

STREAMS: tuple[str, ...] = (
    "arrivals",  # suspect arrival times (thinning)
    "buyers",  # segment, fit, value, group size, pace
    "hazard",  # each deal's budget E ~ Exp(1) of cumulative hazard before going dark
    "decisions",  # consensus and supplier-choice dice, qualification read error
    "crm",  # close-out delays, forecast dates
    "behaviour",  # seeds of per-deal generators (lags, tasks, right/wrong)
    "team",  # seller skills
    "accounts",  # the account lifecycle: each account's own generator is seeded from it
    "win_loss",  # win/loss interviews: interviewed or not, real cause or excuse heard
    "competition",  # each deal's budget E ~ Exp(1) of cumulative competition hazard
    "leads",  # each suspect's die: does it answer the seller's first reach-out?
)


def make_streams(seed: int, replication: int) -> dict[str, np.random.Generator]:
    """Independent generators by purpose for one replication of one seed."""
    root = np.random.SeedSequence(seed, spawn_key=(replication,))
    children = root.spawn(len(STREAMS))
    return {name: np.random.default_rng(ss) for name, ss in zip(STREAMS, children, strict=True)}
