"""Time averages of counts over a window, exactly, from intervals: work in progress.

A deal holds work in progress over an interval of days; the number of open deals is a step
function of time, and its time average over a window is the integral of the count divided by the
window's length — which is the sum of each interval's overlap with the window. No daily sampling:
exact, and linear in the number of deals.
"""

from __future__ import annotations

import numpy as np


def time_average_count(start: np.ndarray, end: np.ndarray, lo: float, hi: float) -> float:
    """Time-average number of intervals [start, end) open during the window [lo, hi].

    Intervals with a NaN start (never opened) contribute nothing; a NaN end means still open at
    ``hi``. Units: a count (deals), averaged over days.
    """
    if not hi > lo:
        raise ValueError(f"window must have positive length, got [{lo}, {hi}]")
    start = np.asarray(start, dtype=float)
    end = np.asarray(end, dtype=float)
    live = np.isfinite(start)
    s = np.maximum(start[live], lo)
    e = np.minimum(np.where(np.isfinite(end[live]), end[live], hi), hi)
    return float(np.clip(e - s, 0.0, None).sum() / (hi - lo))


def next_entry(stage_entered: np.ndarray) -> np.ndarray:
    """For each deal and stage k, the first entry time of any later stage; NaN if none.

    The stage after k is normally k+1, but a process may skip a stage: taking the earliest later
    entry keeps the stage intervals back to back either way. Shape (n, n_stages).
    """
    entered = np.asarray(stage_entered, dtype=float)
    later = np.full_like(entered, np.nan)
    if entered.shape[1] > 1:
        # fmin ignores NaN: a reverse running minimum over the later columns.
        later[:, :-1] = np.fmin.accumulate(entered[:, :0:-1], axis=1)[:, ::-1]
    return later
