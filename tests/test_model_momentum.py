"""Momentum and the dark hazard: the closed forms against quadrature, and the piecewise clock.

The hazard of going dark is base + lam * (1 - m(t))^k with m(t) = m0 * 2^(-t/h). These tests check
the closed-form cumulative hazard against numerical integration, its inversion, and the
``BuyerClock`` that integrates it piecewise over gaps with busy periods and touches — against an
independent reference that integrates the hazard numerically along the same momentum path.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from simsales.model.momentum import LN2, BuyerClock, cumulative_hazard, hazard, time_to_budget


def _random_params(n: int, seed: int) -> list[tuple[float, float, float, float, int, float]]:
    """(m0, tau, c, lam, k, base) over the ranges a scenario can produce."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        m0 = float(rng.choice([0.0, 1.0, rng.uniform(), rng.uniform(0.9, 1.0)]))
        tau = float(rng.choice([rng.uniform(0.0, 2.0), rng.uniform(0.0, 400.0)]))
        c = LN2 / float(rng.uniform(0.5, 90.0))
        lam = float(rng.uniform(0.0, 0.3))
        k = int(rng.integers(1, 7))
        base = float(rng.choice([0.0, rng.uniform(0.0, 0.01)]))
        out.append((m0, tau, c, lam, k, base))
    return out


def _quad(f, a: float, b: float) -> float:
    value, _ = integrate.quad(f, a, b, epsabs=1e-15, epsrel=1e-12, limit=200)
    return value


# --- the closed forms --------------------------------------------------------------------------


def test_hazard_runs_from_its_value_after_contact_to_its_maximum() -> None:
    m0, c, lam, k, base = 0.8, LN2 / 14, 0.05, 3, 0.002
    assert hazard(m0, 0.0, c, lam, k, base) == pytest.approx(base + lam * (1 - m0) ** k)
    assert hazard(m0, 14.0, c, lam, k, base) == pytest.approx(base + lam * (1 - m0 / 2) ** k)
    assert hazard(m0, 1e4, c, lam, k, base) == pytest.approx(base + lam)
    ts = np.linspace(0, 100, 50)
    hs = [hazard(m0, t, c, lam, k, base) for t in ts]
    assert np.all(np.diff(hs) > 0), "the hazard must grow as momentum decays"


def test_cumulative_hazard_matches_quadrature() -> None:
    for m0, tau, c, lam, k, base in _random_params(400, seed=1):
        ref = _quad(lambda s, m0=m0, c=c, lam=lam, k=k, b=base: hazard(m0, s, c, lam, k, b), 0, tau)
        got = cumulative_hazard(m0, tau, c, lam, k, base)
        # relative accuracy, plus an absolute floor for the binomial expansion's cancellation
        # when m0 is near 1 and the segment short (values ~1e-12: far below any Exp(1) budget)
        assert got == pytest.approx(ref, rel=1e-7, abs=1e-11), (m0, tau, c, lam, k, base)


def test_cumulative_hazard_of_zero_momentum_is_linear() -> None:
    assert cumulative_hazard(0.0, 37.0, LN2 / 10, 0.04, 2, 0.001) == pytest.approx(37 * 0.041)
    assert cumulative_hazard(0.7, 0.0, LN2 / 10, 0.04, 2, 0.001) == 0.0


def test_time_to_budget_inverts_the_cumulative_hazard() -> None:
    checked = 0
    for m0, tau, c, lam, k, base in _random_params(400, seed=2):
        total = cumulative_hazard(m0, tau, c, lam, k, base)
        if total < 1e-6:  # budgets this small have probability < 1e-6 under Exp(1)
            continue
        for u in (1e-3, 0.1, 0.5, 0.9, 1.0):
            budget = u * total
            t = time_to_budget(m0, tau, c, lam, k, budget, base)
            assert 0.0 <= t <= tau * (1 + 1e-12)
            assert cumulative_hazard(m0, t, c, lam, k, base) == pytest.approx(budget, rel=1e-8)
            checked += 1
    assert checked > 1000


# --- the clock ---------------------------------------------------------------------------------

HALF_LIFE = 14.0
BUSY = 2.0


def _clock(
    start: float,
    m0: float,
    budget: float,
    *,
    touch_every: float = 0.0,
    boost: float = 0.15,
    lam: float = 0.0,
    k: int = 2,
    base: float = 0.0,
) -> BuyerClock:
    return BuyerClock(
        start,
        m0,
        budget,
        busy_factor=BUSY,
        touch_every=touch_every,
        touch_boost=boost,
        lam=lam,
        k=k,
        base=base,
    )


def reference_path(
    start: float, m0: float, busy_until: float, touch_every: float, boost: float, target: float
) -> tuple[list[tuple[float, float, float, float]], list[float]]:
    """Momentum along [start, target]: segments (t0, t1, m(t0), decay rate) and touch times."""
    segments = []
    touches = []
    t, m = start, m0
    next_touch = start + touch_every if touch_every > 0 else math.inf
    while t < target:
        busy = t < busy_until
        end = min(target, next_touch, busy_until if busy else math.inf)
        c = LN2 / (HALF_LIFE * (BUSY if busy else 1.0))
        segments.append((t, end, m, c))
        m *= math.exp(-c * (end - t))
        t = end
        if t == next_touch and t < target:
            m += (1 - m) * boost
            touches.append(t)
            next_touch = t + touch_every
    return segments, touches


def reference_dark(segments, lam: float, k: int, base: float, budget: float) -> float:
    """Where the numerically integrated hazard along the path reaches the budget (-1: never)."""

    def integral(until: float) -> float:
        total = 0.0
        for t0, t1, m, c in segments:
            if until <= t0:
                break
            hi = min(t1, until)
            total += _quad(lambda s, t0=t0, m=m, c=c: hazard(m, s - t0, c, lam, k, base), t0, hi)
        return total

    end = segments[-1][1]
    if integral(end) < budget:
        return -1.0
    return optimize.brentq(lambda x: integral(x) - budget, segments[0][0], end, xtol=1e-12)


def test_without_touches_or_hazard_momentum_halves_every_half_life() -> None:
    for m0, span in ((1.0, 14.0), (0.5, 3.3), (0.83, 100.0)):
        clock = _clock(10.0, m0, 0.7)
        assert clock.advance(10.0 + span, HALF_LIFE) == -1.0
        assert clock.momentum == pytest.approx(m0 * 2 ** (-span / HALF_LIFE), rel=1e-12)
        assert clock.clock == 10.0 + span
        assert clock.budget == 0.7
        assert clock.touch_times == []


def test_no_hazard_never_goes_dark() -> None:
    clock = _clock(0.0, 0.0, 1e-12, touch_every=3.0)
    assert clock.advance(1e5, HALF_LIFE) == -1.0
    assert clock.budget == 1e-12


def test_busy_buyer_decays_slower() -> None:
    clock = _clock(0.0, 0.9, 1.0)
    clock.busy_until = 10.0
    clock.advance(30.0, HALF_LIFE)
    expected = 0.9 * 2 ** (-10 / (HALF_LIFE * BUSY)) * 2 ** (-20 / HALF_LIFE)
    assert clock.momentum == pytest.approx(expected, rel=1e-12)
    assert clock.momentum > 0.9 * 2 ** (-30 / HALF_LIFE)


def test_touches_come_every_touch_every_days_and_raise_momentum() -> None:
    clock = _clock(2.5, 0.9, 1.0, touch_every=4.0)
    assert clock.advance(30.0, HALF_LIFE) == -1.0
    assert clock.touch_times == pytest.approx([6.5, 10.5, 14.5, 18.5, 22.5, 26.5])
    quiet = _clock(2.5, 0.9, 1.0)
    quiet.advance(30.0, HALF_LIFE)
    assert clock.momentum > quiet.momentum
    # after a call the cadence restarts from the call
    clock.touch_times.clear()
    clock.contact(30.0, 0.8)
    clock.advance(40.0, HALF_LIFE)
    assert clock.touch_times == pytest.approx([34.0, 38.0])


def test_contact_moves_momentum_towards_one() -> None:
    clock = _clock(0.0, 0.4, 1.0)
    clock.contact(0.0, 0.5)
    assert clock.momentum == pytest.approx(0.7)
    assert clock.last_contact == 0.0


CASES = [
    # m0, budget, busy_until, touch_every, boost, lam, k, base, target
    (0.9, 0.3, 0.0, 0.0, 0.0, 0.05, 2, 0.0, 200.0),
    (0.5, 1.2, 12.0, 0.0, 0.0, 0.08, 3, 0.0, 300.0),
    (0.95, 0.8, 20.0, 5.0, 0.15, 0.06, 2, 0.002, 400.0),
    (0.3, 2.5, 7.3, 3.0, 0.3, 0.1, 1, 0.0, 500.0),
    (1.0, 0.05, 0.0, 4.0, 0.15, 0.03, 6, 0.0, 400.0),
    (0.0, 0.4, 5.0, 0.0, 0.0, 0.0, 2, 0.004, 400.0),  # background hazard only
    (0.7, 5.0, 30.0, 2.5, 0.5, 0.04, 4, 0.001, 60.0),  # survives: -1
]


@pytest.mark.parametrize("case", CASES)
def test_dark_time_is_where_the_integrated_hazard_reaches_the_budget(case) -> None:
    m0, budget, busy_until, every, boost, lam, k, base, target = case
    start = 1.5
    clock = _clock(start, m0, budget, touch_every=every, boost=boost, lam=lam, k=k, base=base)
    clock.busy_until = start + busy_until
    dark = clock.advance(target, HALF_LIFE)
    segments, touches = reference_path(start, m0, start + busy_until, every, boost, target)
    expected = reference_dark(segments, lam, k, base, budget)
    if expected < 0:
        assert dark == -1.0
        assert clock.touch_times == pytest.approx(touches)
        assert clock.budget > 0
        return
    assert dark == pytest.approx(expected, rel=1e-8, abs=1e-8)
    assert clock.clock == dark and clock.budget == 0.0
    assert clock.touch_times == pytest.approx([t for t in touches if t < dark])
    # the momentum at the dark time follows the same path
    t0, _, m, c = next(s for s in segments if s[0] <= dark <= s[1])
    assert clock.momentum == pytest.approx(m * math.exp(-c * (dark - t0)), rel=1e-9)


def test_advancing_in_pieces_is_the_same_as_in_one_go() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        m0 = float(rng.uniform())
        budget = float(rng.exponential())
        busy = float(rng.uniform(0, 30))
        opts = {
            "touch_every": float(rng.choice([0.0, rng.uniform(1, 8)])),
            "lam": float(rng.uniform(0, 0.1)),
            "k": int(rng.integers(1, 5)),
            "base": 0.001,
        }
        target = 120.0
        cuts = np.sort(rng.uniform(0, target, 3))
        whole = _clock(0.0, m0, budget, **opts)
        whole.busy_until = busy
        dark_whole = whole.advance(target, HALF_LIFE)
        parts = _clock(0.0, m0, budget, **opts)
        parts.busy_until = busy
        dark_parts = -1.0
        for cut in [*cuts, target]:
            dark_parts = parts.advance(float(cut), HALF_LIFE)
            if dark_parts >= 0:
                break
        assert dark_parts == pytest.approx(dark_whole, rel=1e-9, abs=1e-9)
        assert parts.momentum == pytest.approx(whole.momentum, rel=1e-9)
        assert parts.budget == pytest.approx(whole.budget, rel=1e-7, abs=1e-12)
        assert parts.touch_times == pytest.approx(whole.touch_times)


def test_a_touch_due_exactly_where_the_clock_stopped_is_still_sent() -> None:
    """Advancing to a touch time and on must send that touch, as one advance would."""
    whole = _clock(0.5, 0.9, 10.0, touch_every=4.0)
    whole.advance(20.0, HALF_LIFE)
    parts = _clock(0.5, 0.9, 10.0, touch_every=4.0)
    parts.advance(8.5, HALF_LIFE)  # 8.5 is the second touch time
    parts.advance(20.0, HALF_LIFE)
    assert parts.touch_times == whole.touch_times == [4.5, 8.5, 12.5, 16.5]
    assert parts.momentum == pytest.approx(whole.momentum)


# --- Monte Carlo: the dark time's distribution ---------------------------------------------------


def _dark_times(m0: float, lam: float, k: int, n: int, seed: int) -> np.ndarray:
    budgets = np.random.default_rng(seed).exponential(1.0, n)
    out = np.empty(n)
    for i, e in enumerate(budgets):
        out[i] = _clock(0.0, m0, float(e), lam=lam, k=k).advance(1e6, HALF_LIFE)
    return out


def test_with_zero_momentum_the_dark_time_is_exponential() -> None:
    lam = 0.05
    dark = _dark_times(0.0, lam, 2, 3000, seed=11)
    assert np.all(dark > 0)
    assert stats.kstest(dark, "expon", args=(0, 1 / lam)).pvalue > 0.001
    lo, hi = stats.t.interval(0.99, dark.size - 1, dark.mean(), stats.sem(dark))
    assert lo < 1 / lam < hi


def test_dark_time_survival_is_exp_of_minus_the_cumulative_hazard() -> None:
    m0, lam, k = 0.9, 0.06, 2
    c = LN2 / HALF_LIFE
    dark = _dark_times(m0, lam, k, 3000, seed=12)

    def cdf(t):
        return 1 - np.exp(
            -np.array([cumulative_hazard(m0, x, c, lam, k) for x in np.atleast_1d(t)])
        )

    assert stats.kstest(dark, cdf).pvalue > 0.001


def test_the_clock_stops_at_its_last_moment() -> None:
    """A target far beyond ``until`` (a task of ages, an infinite lag) sends no endless touches."""
    clock = BuyerClock(0.0, 0.5, 1.0, touch_every=1.0, touch_boost=0.1, until=10.0)
    assert clock.advance(1e300, 14.0) == -1.0
    assert clock.clock == 10.0
    assert clock.touch_times == [float(day) for day in range(1, 10)]
    assert clock.advance(math.inf, 14.0) == -1.0 and clock.clock == 10.0
    assert clock.advance(math.nan, 14.0) == -1.0 and len(clock.touch_times) == 10
