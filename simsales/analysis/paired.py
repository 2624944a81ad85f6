"""Paired differences between two scenarios run on common random numbers.

Replication r of every variant of a scenario draws from the same random streams
(``simsales.model.streams``): the same suspects arrive, with the same buyers, hazard budgets and
dice. Replication r of the base and replication r of a variant are therefore a *pair*, and what
varies between pairs (a busy year, a run of good buyers) moves both sides together. The
difference ``variant − base`` of each pair cancels that shared noise, so a Student-t interval on
the per-pair differences is much narrower than one on two independent samples, and still exact
in the usual t sense: the pairs are independent of each other.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simsales.results.summary import ci_t

__all__ = ["PairedDifference", "paired_difference"]


@dataclass(frozen=True, kw_only=True)
class PairedDifference:
    """Mean of ``variant − base`` over paired replications, with its confidence interval.

    ``half_width`` is NaN with fewer than two pairs (no spread to estimate), and such a difference
    is never ``distinguishable``. ``relative`` is the mean difference over the base's mean on the
    same pairs (``-0.12``: 12% lower), NaN where that base mean is 0.
    """

    mean: float
    sd: float
    half_width: float
    n: int
    base_mean: float
    level: float = 0.95

    @property
    def low(self) -> float:
        """Lower end of the confidence interval."""
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        """Upper end of the confidence interval."""
        return self.mean + self.half_width

    @property
    def relative(self) -> float:
        """Mean difference / base mean over the same pairs; NaN if the base mean is 0."""
        if self.base_mean == 0 or not math.isfinite(self.base_mean):
            return math.nan
        return self.mean / self.base_mean

    @property
    def distinguishable(self) -> bool:
        """Whether the interval excludes 0: the difference is told apart from noise."""
        return bool(self.low > 0 or self.high < 0)  # False when the interval is NaN

    def to_dict(self) -> dict[str, float | int | bool]:
        """Flat dict for tables and JSON (NaN kept as NaN)."""
        return {
            "mean": self.mean,
            "sd": self.sd,
            "half_width": self.half_width,
            "low": self.low,
            "high": self.high,
            "n": self.n,
            "base_mean": self.base_mean,
            "relative": self.relative,
            "distinguishable": self.distinguishable,
            "level": self.level,
        }


def paired_difference(
    base: Sequence[float], variant: Sequence[float], level: float = 0.95
) -> PairedDifference:
    """Student-t interval of the mean of ``variant[r] − base[r]`` over replications r.

    The two sequences are aligned by replication and must have the same length. A pair where
    either side is NaN (the metric undefined in that replication) is dropped; ``n`` counts the
    pairs left. Half-width = t_{(1+level)/2, n−1} · sd / √n, with sd the sample sd (ddof = 1) of
    the differences.
    """
    if not 0 < level < 1:
        raise ValueError(f"confidence level must be in (0, 1), got {level}")
    b = np.asarray(base, dtype=float)
    v = np.asarray(variant, dtype=float)
    if b.shape != v.shape or b.ndim != 1:
        raise ValueError(
            f"base and variant must be 1-d and of one length (one value per replication), "
            f"got shapes {b.shape} and {v.shape}"
        )
    keep = ~(np.isnan(b) | np.isnan(v))
    b, v = b[keep], v[keep]
    # the differences are independent across replications: the one-sample t interval applies
    s = ci_t(v - b, level)
    base_mean = float(b.mean()) if b.size else math.nan
    return PairedDifference(
        mean=s.mean, sd=s.sd, half_width=s.half_width, n=s.n, base_mean=base_mean, level=level
    )
