"""Across replications: means with Student-t confidence intervals.

Each replication is one independent observation of every metric, so a metric's mean over
replications has a t-distributed error with n − 1 degrees of freedom. A replication where a metric
is undefined (NaN: no wins, say) is left out of that metric only; ``n`` says how many remained.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True, kw_only=True)
class MetricSummary:
    """Mean of a metric over replications with its confidence interval.

    ``half_width`` is NaN with a single replication (no spread to estimate); ``low``/``high`` are
    ``mean ∓ half_width``.
    """

    mean: float
    sd: float
    half_width: float
    n: int
    level: float = 0.95

    @property
    def low(self) -> float:
        """Lower end of the confidence interval."""
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        """Upper end of the confidence interval."""
        return self.mean + self.half_width

    def to_dict(self) -> dict[str, float]:
        """Flat dict for tables and JSON: mean, sd, half_width, low, high, n, level."""
        return asdict(self) | {"low": self.low, "high": self.high}


def ci_t(values: Iterable[float], level: float = 0.95) -> MetricSummary:
    """Mean and Student-t confidence interval of independent values; NaNs are ignored.

    Half-width = t_{(1+level)/2, n-1} · sd / √n with the sample sd (ddof = 1).
    """
    if not 0 < level < 1:
        raise ValueError(f"confidence level must be in (0, 1), got {level}")
    arr = np.asarray(list(values), dtype=float)
    arr = arr[~np.isnan(arr)]
    n = int(arr.size)
    nan = float("nan")
    if n == 0:
        return MetricSummary(mean=nan, sd=nan, half_width=nan, n=0, level=level)
    mean = float(arr.mean())
    if n == 1:
        return MetricSummary(mean=mean, sd=nan, half_width=nan, n=1, level=level)
    sd = float(arr.std(ddof=1))
    t = float(stats.t.ppf((1 + level) / 2, n - 1))
    return MetricSummary(mean=mean, sd=sd, half_width=t * sd / np.sqrt(n), n=n, level=level)


def summarise(
    per_rep: Sequence[Mapping[str, float]], *, level: float = 0.95
) -> dict[str, MetricSummary]:
    """Summarise each metric over replications, in the order metrics first appear.

    A metric missing from a replication's dict counts as NaN there (undefined), not as an error,
    so that replications of variants with different stages can still be summarised together.
    """
    names: dict[str, None] = {}
    for rep in per_rep:
        names.update(dict.fromkeys(rep))
    nan = float("nan")
    return {name: ci_t((rep.get(name, nan) for rep in per_rep), level) for name in names}
