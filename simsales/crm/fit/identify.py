"""Which fitted parameters the data pin down: profiles of the distance against its noise.

A parameter is pinned down when moving it a step either way from the optimum raises the
distance by more than twice the noise of such a rise between replication sets (and by at least
1, a chi-square's single degree of freedom). A flat profile means the export cannot tell its values
apart; the fitted value is then the base's story more than the team's, and the report says
which data would tell (``FitParameter.pinned_by``).
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np

from simsales.crm.fit.fitting import Fitted
from simsales.crm.fit.objective import Simulator, distance

__all__ = ["STEP", "Profile", "profiles"]

#: The step of a profile, as a share of each parameter's (log) range.
STEP = 0.12


@dataclass(frozen=True)
class Profile:
    """One parameter's profile: its value, the values a step below and above, the rise of the
    distance at each (NaN where the step would leave the bounds), the noise and the verdict."""

    name: str
    value: float
    low: float
    high: float
    rise_low: float
    rise_high: float
    noise: float
    pinned: bool

    @property
    def rise(self) -> float:
        rises = [r for r in (self.rise_low, self.rise_high) if np.isfinite(r)]
        return min(rises) if rises else float("nan")

    def note(self) -> str:
        if self.pinned:
            return (
                f"pinned down: a step either way raises the distance by {self.rise:.1f} or "
                f"more (noise {self.noise:.1f})"
            )
        return (
            f"not pinned down: a step away changes the distance by only {self.rise:+.1f} "
            f"(noise {self.noise:.1f})"
        )


def profiles(
    fitted: Fitted, *, executor: Executor | None, jobs: int
) -> tuple[list[Profile], float]:
    """Each fitted parameter's profile, and the noise of a rise (its sd between replication
    sets): the profile is run on the search's replications, and the optimum and a step up of
    each parameter again on the next replications; the two sets' rises differ by noise alone."""
    plan = fitted.plan
    sim = Simulator(plan, executor=executor, jobs=jobs)
    params = plan.parameters
    best_u = np.array([p.position(fitted.values[p.name]) for p in params])
    docs: list[dict[str, Any]] = [fitted.document]
    where: dict[tuple[int, int], int] = {}
    for i, p in enumerate(params):
        for sign in (-1, 1):
            u = best_u[i] + sign * STEP
            if 0.0 <= u <= 1.0:
                where[(i, sign)] = len(docs)
                docs.append(fitted.document_at({**fitted.values, p.name: p.value(u)}))
    found = [distance(fitted.observed, s) for s in sim.summaries(docs)]
    # the second set: the optimum and one step per parameter (up, or down at the bound)
    steps = {i: (i, 1) if (i, 1) in where else (i, -1) for i in range(len(params))}
    steps = {i: key for i, key in steps.items() if key in where}
    again_docs = [fitted.document, *(docs[where[key]] for key in steps.values())]
    again = [
        distance(fitted.observed, s) for s in sim.summaries(again_docs, first=plan.replications)
    ]
    first_rises = [found[where[key]] - found[0] for key in steps.values()]
    second_rises = [d - again[0] for d in again[1:]]
    gaps = np.subtract(first_rises, second_rises)
    noise = float(np.sqrt(np.mean(gaps**2) / 2)) if gaps.size else float("nan")
    out = []
    for i, p in enumerate(params):
        rise = {
            sign: found[where[(i, sign)]] - found[0] if (i, sign) in where else np.nan
            for sign in (-1, 1)
        }
        low, high = p.value(max(best_u[i] - STEP, 0.0)), p.value(min(best_u[i] + STEP, 1.0))
        finite = [r for r in rise.values() if np.isfinite(r)]
        least = min(finite) if finite else np.nan
        pinned = bool(np.isfinite(least) and least > max(1.0, 2.0 * noise))
        out.append(
            Profile(
                p.name,
                fitted.values[p.name],
                low,
                high,
                float(rise[-1]),
                float(rise[1]),
                noise,
                pinned,
            )
        )
    return out, noise
