"""Reductions that return NaN for "undefined" instead of warning or dividing by zero.

A replication with no wins has no mean won value: that is NaN in the metrics, and with pytest's
warnings-as-errors NumPy's empty-slice warnings would otherwise turn it into a failure.
"""

from __future__ import annotations

import numpy as np


def ratio(num: float, den: float) -> float:
    """num / den, NaN when den is zero: an undefined share, not an error."""
    return float(num) / float(den) if den != 0 else float("nan")


def mean(values: np.ndarray) -> float:
    """Mean in float64, NaN for no values."""
    return float(np.mean(values, dtype=float)) if values.size else float("nan")


def median(values: np.ndarray) -> float:
    """Median, NaN for no values."""
    return float(np.median(np.asarray(values, dtype=float))) if values.size else float("nan")
