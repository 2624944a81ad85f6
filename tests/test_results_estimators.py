"""Kaplan–Meier quantiles and exact time averages of interval counts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simsales.results import km_quantile, time_average_count
from simsales.results.intervals import next_entry


def test_km_median_by_hand_with_censoring() -> None:
    # events 8 38 50 55 64, censored 39 58: S = 6/7, 5/7, 15/28, 10/28, 0
    t = np.array([8, 38, 39, 50, 55, 58, 64.0])
    c = np.array([False, False, True, False, False, True, False])
    assert km_quantile(t, c, 0.5) == 55
    assert km_quantile(t, c, 0.4) == 50  # F(50) = 13/28 = 0.464
    assert km_quantile(t, c, 0.9) == 64


def test_km_quantile_agrees_with_scipy_survival_function() -> None:
    rng = np.random.default_rng(3)
    t = rng.exponential(30, 200)
    c = rng.random(200) < 0.3
    sf = stats.ecdf(stats.CensoredData.right_censored(t, c)).sf
    for q in (0.25, 0.5, 0.75):
        x = km_quantile(t, c, q)
        assert sf.evaluate(x) <= 1 - q + 1e-12  # reached at x ...
        assert sf.evaluate(np.nextafter(x, -np.inf)) > 1 - q  # ... and not before


def test_km_median_of_uncensored_data_is_the_usual_median() -> None:
    rng = np.random.default_rng(4)
    for n in (1, 2, 7, 10):
        t = rng.exponential(20, n)
        assert km_quantile(t, np.zeros(n, bool), 0.5) == pytest.approx(np.median(t), rel=1e-12)


def test_km_quantile_undefined() -> None:
    assert math.isnan(km_quantile(np.array([]), np.array([], bool), 0.5))
    assert math.isnan(km_quantile(np.array([5.0, 9.0]), np.array([True, True]), 0.5))
    # one event of four, then all censored: the curve stops at F = 0.25
    t, c = np.array([1.0, 2, 3, 4]), np.array([False, True, True, True])
    assert math.isnan(km_quantile(t, c, 0.5))
    with pytest.raises(ValueError, match="quantile level"):
        km_quantile(t, c, 1.0)


def test_time_average_matches_fine_grid_integration() -> None:
    rng = np.random.default_rng(5)
    n, lo, hi = 60, 10.0, 100.0
    start = rng.uniform(-20, 110, n)
    end = start + rng.exponential(30, n)
    start[:5] = np.nan  # never opened
    end[5:12] = np.nan  # still open at the horizon
    dt = 0.0005
    grid = np.arange(lo + dt / 2, hi, dt)
    live = np.isfinite(start)
    e = np.where(np.isfinite(end), end, np.inf)[live]
    count = ((start[live, None] <= grid) & (grid < e[:, None])).sum(axis=0)
    brute = count.mean()
    exact = time_average_count(start, end, lo, hi)
    assert exact == pytest.approx(brute, abs=2 * n * dt / (hi - lo))
    assert exact > 1  # the test data does overlap the window


def test_time_average_by_hand() -> None:
    start = np.array([0.0, 20, 50, np.nan, 95])
    end = np.array([30.0, 40, np.nan, 60, 120])
    # overlaps with [10, 100]: 20, 20, 50, 0, 5
    assert time_average_count(start, end, 10, 100) == pytest.approx(95 / 90)
    with pytest.raises(ValueError, match="positive length"):
        time_average_count(start, end, 10, 10)


def test_next_entry_skips_missing_stages() -> None:
    nan = np.nan
    entered = np.array([[0, 1, 2, 3.0], [0, nan, 2, nan], [0, 1, nan, nan]])
    expected = np.array([[1, 2, 3, nan], [2, 2, nan, nan], [1, nan, nan, nan]])
    np.testing.assert_array_equal(next_entry(entered), expected)
    assert next_entry(np.empty((0, 1))).shape == (0, 1)
