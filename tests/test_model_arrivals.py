"""The arrival process of suspects: a Poisson process whose rate follows the year.

Thinning is exact, so over many years the count of arrivals in each month is Poisson with mean
rate * factor * days in that window; the quarter-end push multiplies the rate in its window only.
"""

from __future__ import annotations

import numpy as np
import pytest
from model_helpers import make_scenario, minimal_dict
from scipy import stats

from simsales.model.market import DAYS_PER_MONTH, DAYS_PER_QUARTER, DAYS_PER_YEAR, arrival_times

YEARS = 200
RATE = 2.0


def _times(schedule: dict[str, object]) -> np.ndarray:
    data = minimal_dict()
    data["market"]["suspects_per_day"] = RATE
    data["market"]["schedule"] = schedule
    scenario = make_scenario(data)
    rng = np.random.default_rng(11)
    return np.fromiter(arrival_times(scenario, rng, YEARS * DAYS_PER_YEAR), dtype=float)


def test_monthly_counts_follow_the_schedule() -> None:
    factors = [1.0, 0.5, 2.0, 1.0, 0.0, 1.5, 1.0, 0.25, 1.0, 1.0, 3.0, 1.0]
    t = _times({"by_month": factors})
    month = np.minimum(((t % DAYS_PER_YEAR) / DAYS_PER_MONTH).astype(int), 11)
    observed = np.bincount(month, minlength=12)
    expected = np.array(factors) * RATE * DAYS_PER_MONTH * YEARS
    assert observed[4] == 0  # a zero factor means no arrivals at all
    keep = expected > 0
    chi2 = float(np.sum((observed[keep] - expected[keep]) ** 2 / expected[keep]))
    assert stats.chi2.sf(chi2, df=int(keep.sum())) > 1e-3, (observed, expected.round())


def test_gaps_of_a_flat_schedule_are_exponential() -> None:
    t = _times({})
    assert stats.kstest(np.diff(t), stats.expon(scale=1 / RATE).cdf).pvalue > 1e-3
    assert len(t) / (YEARS * DAYS_PER_YEAR) == pytest.approx(RATE, rel=0.01)


def test_quarter_end_push_raises_the_rate_in_its_window_only() -> None:
    t = _times({"quarter_end_push": 3.0, "quarter_end_days": 10.0})
    in_push = (t % DAYS_PER_QUARTER) >= DAYS_PER_QUARTER - 10.0
    days_push = 4 * 10.0 * YEARS
    days_rest = YEARS * DAYS_PER_YEAR - days_push
    rate_push = in_push.sum() / days_push
    rate_rest = (~in_push).sum() / days_rest
    for observed, expected, days in (
        (rate_push, 3 * RATE, days_push),
        (rate_rest, RATE, days_rest),
    ):
        se = np.sqrt(expected / days)
        assert abs(observed - expected) < 4 * se
