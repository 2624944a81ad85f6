"""Means and Student-t confidence intervals over replications."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simsales.results import MetricSummary, ci_t, summarise


def test_ci_matches_scipy_t_interval() -> None:
    x = np.array([3.1, 2.7, 3.9, 3.3, 2.5, 3.6])
    s = ci_t(x)
    low, high = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (s.low, s.high) == (pytest.approx(low, rel=1e-12), pytest.approx(high, rel=1e-12))
    assert s.mean == pytest.approx(3.18333333333333)
    assert s.sd == pytest.approx(np.std(x, ddof=1))
    assert s.n == 6
    s90 = ci_t(x, level=0.9)
    low90, _ = stats.t.interval(0.9, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert s90.low == pytest.approx(low90, rel=1e-12)


def test_known_half_width() -> None:
    # t(0.975, 3) = 3.182446305284263
    s = ci_t([1.0, 2.0, 3.0, 2.0])  # sd = sqrt(2/3)
    assert s.mean == 2
    assert s.half_width == pytest.approx(3.182446305284263 * math.sqrt(2 / 3) / 2, rel=1e-12)


def test_nan_replicates_are_ignored() -> None:
    s = ci_t([1.0, float("nan"), 3.0])
    assert s.n == 2
    assert s.mean == 2
    assert s.half_width == pytest.approx(12.706204736174698)  # t(0.975, 1) * sqrt(2) / sqrt(2)


def test_one_or_no_values() -> None:
    one = ci_t([4.0])
    assert (one.mean, one.n) == (4.0, 1)
    assert math.isnan(one.half_width) and math.isnan(one.low) and math.isnan(one.sd)
    none = ci_t([float("nan")])
    assert none.n == 0 and math.isnan(none.mean)
    with pytest.raises(ValueError, match="confidence level"):
        ci_t([1.0, 2.0], level=95)


def test_summarise_per_metric_with_missing_keys() -> None:
    reps = [{"a": 1.0, "b": 5.0}, {"a": 3.0}, {"a": 2.0, "b": float("nan"), "c": 1.0}]
    got = summarise(reps)
    assert list(got) == ["a", "b", "c"]
    assert got["a"] == ci_t([1.0, 3.0, 2.0])
    assert (got["b"].n, got["b"].mean) == (1, 5.0)
    assert got["c"].n == 1


def test_to_dict() -> None:
    s = MetricSummary(mean=2.0, sd=1.0, half_width=0.5, n=4)
    assert s.to_dict() == {
        "mean": 2.0,
        "sd": 1.0,
        "half_width": 0.5,
        "n": 4,
        "level": 0.95,
        "low": 1.5,
        "high": 2.5,
    }
