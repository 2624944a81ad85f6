"""An account's health between events, and its churn as a competing risk drawn without polling.

Between two events health relaxes towards its level L (the partner's or the vendor's) with a
half-life: h(s) = L + (h0 − L) e^{−cs}, c = ln 2 / half-life, s days after the last event. The churn
hazard per year is ``background + max × (1 − h)^k``; with 1 − h(s) = A − B e^{−cs} (A = 1 − L,
B = h0 − L) the binomial expansion gives the cumulative hazard in closed form, as for momentum.
Each account draws one budget E ~ Exp(1); it churns when its cumulative hazard reaches E. Health may
rise or fall towards its level, so the cumulative hazard is increasing but not always convex: the
root is found by Newton steps kept inside a shrinking bracket (bisection when a step leaves it).
"""

from __future__ import annotations

import math

LN2 = math.log(2.0)
DAYS_PER_YEAR = 365.0


def health_at(h0: float, level: float, half_life: float, s: float) -> float:
    """Health ``s`` days after it was ``h0``, relaxing towards ``level``."""
    return level + (h0 - level) * math.exp(-LN2 * s / half_life)


def churn_rate(h: float, background: float, top: float, k: int) -> float:
    """Churn hazard per day at health ``h`` (``background`` and ``top`` are per year)."""
    return (background + top * (1.0 - h) ** k) / DAYS_PER_YEAR


def cumulative_churn(
    h0: float, level: float, half_life: float, s: float, background: float, top: float, k: int
) -> float:
    """Integral of the churn hazard over [0, s] days along the health path from ``h0``."""
    c = LN2 / half_life
    a = 1.0 - level
    b = h0 - level
    total = 0.0
    coef = 1.0  # C(k, j) (−b)^j, built up term by term
    for j in range(k + 1):
        if j:
            coef *= -b * (k - j + 1) / j
        integral = s if j == 0 else -math.expm1(-j * c * s) / (j * c)
        total += coef * a ** (k - j) * integral
    return (background * s + top * total) / DAYS_PER_YEAR


def time_to_churn(
    h0: float,
    level: float,
    half_life: float,
    budget: float,
    within: float,
    background: float,
    top: float,
    k: int,
) -> float:
    """Days until the cumulative hazard reaches ``budget``, or ``inf`` if not within ``within``."""
    if within <= 0.0 or not math.isfinite(within):
        return math.inf

    def excess(t: float) -> float:
        return cumulative_churn(h0, level, half_life, t, background, top, k) - budget

    if excess(within) < 0.0:
        return math.inf
    lo, hi = 0.0, within
    t = within
    for _ in range(100):
        f = excess(t)
        if f > 0.0:
            hi = t
        else:
            lo = t
        rate = churn_rate(health_at(h0, level, half_life, t), background, top, k)
        step = f / rate if rate > 0.0 else math.inf
        nxt = t - step
        if not lo < nxt < hi:
            nxt = 0.5 * (lo + hi)
        if abs(nxt - t) < 1e-9 or hi - lo < 1e-9:
            return nxt
        t = nxt
    return t
