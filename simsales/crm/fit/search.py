"""The search: a space-filling start, then a local derivative-free refinement, on a budget.

The distance is a simulation's, so it has no derivatives and some noise (less with common
random numbers, never none). A Latin hypercube of points (with the base scenario's own point
among them) is evaluated at once, in parallel, so that a poor start cannot trap the search;
then Nelder–Mead, kept inside the bounds, refines the best of them until the budget of
evaluations is spent or the simplex has shrunk below a hundredth of each range. Same seed,
same points, same result.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.stats import qmc

__all__ = ["SearchResult", "search"]

#: distances(points) -> one distance per point, in order.
Evaluate = Callable[[Sequence[np.ndarray]], list[float]]
#: Called after each batch: (evaluations so far, budget, best distance so far).
Progress = Callable[[int, int, float], None]


@dataclass(frozen=True)
class SearchResult:
    """The best point found, its distance, and every evaluation in order."""

    best: np.ndarray
    best_distance: float
    points: tuple[np.ndarray, ...]
    distances: tuple[float, ...]

    @property
    def evaluations(self) -> int:
        return len(self.distances)


class _BudgetSpent(Exception):
    pass


def search(
    evaluate: Evaluate,
    *,
    start: np.ndarray,
    budget: int,
    seed: int,
    progress: Progress | None = None,
) -> SearchResult:
    """Minimise ``evaluate`` over [0, 1]^d from ``start`` (the base's point) within ``budget``
    evaluations (at least ``2 d + 2``)."""
    dim = start.size
    points: list[np.ndarray] = []
    values: list[float] = []
    cache: dict[tuple[float, ...], float] = {}

    def record(batch: Sequence[np.ndarray]) -> list[float]:
        found = evaluate(batch)
        points.extend(np.array(u, dtype=float) for u in batch)
        values.extend(found)
        cache.update((_key(u), d) for u, d in zip(batch, found, strict=True))
        if progress is not None:
            progress(len(values), budget, min(values))
        return found

    n_start = min(budget, max(2 * dim + 2, budget // 3))
    sampler = qmc.LatinHypercube(d=dim, seed=np.random.default_rng(seed))
    first = [np.clip(start, 0.0, 1.0), *sampler.random(n_start - 1)]
    record(first)
    left = budget - len(values)
    if left > dim:  # the simplex's other corners, and a step of the search at least
        best = points[int(np.argmin(values))]

        def one(u: np.ndarray) -> float:
            u = np.clip(u, 0.0, 1.0)
            key = _key(u)
            if key not in cache:
                if len(values) >= budget:
                    raise _BudgetSpent
                cache[key] = record([u])[0]
            return cache[key]

        step = 0.1
        simplex = np.array([best] + [_moved(best, i, step) for i in range(dim)])
        with contextlib.suppress(_BudgetSpent):
            optimize.minimize(
                one,
                best,
                method="Nelder-Mead",
                bounds=[(0.0, 1.0)] * dim,
                options={
                    "initial_simplex": simplex,
                    "xatol": 0.01,
                    "fatol": 0.05,
                    "maxfev": left + dim + 1,
                },
            )
    i = int(np.argmin(values))
    return SearchResult(points[i], values[i], tuple(points), tuple(values))


def _key(u: np.ndarray) -> tuple[float, ...]:
    """A point as a dictionary key (evaluated points are not evaluated again)."""
    return tuple(float(x) for x in np.round(np.asarray(u, dtype=float), 12))


def _moved(u: np.ndarray, i: int, step: float) -> np.ndarray:
    """``u`` moved by ``step`` along axis i, inwards if it would leave [0, 1]."""
    v = u.copy()
    v[i] = v[i] + step if v[i] + step <= 1.0 else v[i] - step
    return v
