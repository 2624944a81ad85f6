"""Kaplan–Meier quantiles of cycle time, with deals still open at the horizon right-censored.

Taking the median of closed deals only would drop exactly the slow deals (they are the ones still
open), so cycle time would look shorter the shorter the horizon. Kaplan–Meier uses an open deal's
age at the horizon as a lower bound instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

#: Probabilities closer than this count as equal (the KM curve is a product of ratios).
_TOL = 1e-9


def km_quantile(durations: np.ndarray, censored: np.ndarray, q: float) -> float:
    """The q-quantile of the Kaplan–Meier estimate of the duration distribution, days.

    ``censored[i]`` marks ``durations[i]`` as a lower bound (still open). The quantile is the first
    time the estimated CDF reaches q; where the curve sits exactly at q until its next step, the
    midpoint of the two event times is taken (the usual survival-analysis convention, and the one
    that makes the KM median of uncensored data equal ``np.median``). NaN when the curve never
    reaches q: too many deals still open to know, or no data.
    """
    return km_quantiles(durations, censored, (q,))[0]


def km_quantiles(durations: np.ndarray, censored: np.ndarray, qs: Sequence[float]) -> list[float]:
    """``km_quantile`` at each level of ``qs``, from one Kaplan–Meier estimate (fit once)."""
    for q in qs:
        if not 0 < q < 1:
            raise ValueError(f"quantile level must be in (0, 1), got {q}")
    durations = np.asarray(durations, dtype=float)
    censored = np.asarray(censored, dtype=bool)
    if durations.shape != censored.shape:
        raise ValueError("durations and censored must have the same shape")
    if not np.any(~censored):
        return [float("nan")] * len(qs)
    data = stats.CensoredData.right_censored(durations, censored)
    cdf = stats.ecdf(data).cdf
    del data
    times, probs = cdf.quantiles, cdf.probabilities
    return [_quantile_of_steps(times, probs, q) for q in qs]


def _quantile_of_steps(times: np.ndarray, probs: np.ndarray, q: float) -> float:
    reached = np.flatnonzero(probs >= q - _TOL)
    if reached.size == 0:
        return float("nan")
    i = int(reached[0])
    if abs(probs[i] - q) <= _TOL:
        later = np.flatnonzero(probs[i + 1 :] > probs[i] + _TOL)
        if later.size:
            return float((times[i] + times[i + 1 + int(later[0])]) / 2)
    return float(times[i])
