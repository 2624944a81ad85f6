"""Which fitted parameters the data pin down: profiles of the distance against its noise.

A parameter is pinned down when moving it a step either way from the optimum raises the
distance by more than the distance's own noise between replication sets (and by at least 1, a
chi-square's single degree of freedom). A flat profile means the export cannot tell its values
apart; the fitted value is then the base's story more than the team's, and the report says
which data would tell (``FitParameter.pinned_by``).
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from simsales.crm.fit.fitting import Fitted
from simsales.crm.fit.objective import Simulator, distance

__all__ = ["STEP", "Profile", "profiles"]

#: The step of a profile, as a share of each parameter's (log) range.
STEP = 0.12
#: Replication sets, besides the search's, run at the optimum to measure the noise.
NOISE_SETS = 3


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
            return f"pinned down (a step either way adds {self.rise:.1f} to the distance)"
        return (
            f"not pinned down: a step either way adds {self.rise:.1f}, within the noise "
            f"{self.noise:.1f}"
        )


def profiles(
    fitted: Fitted, *, executor: Executor | None, jobs: int
) -> tuple[list[Profile], float]:
    """Each fitted parameter's profile, and the distance's noise (sd across replication sets)."""
    plan = fitted.plan
    sim = Simulator(plan, executor=executor, jobs=jobs)
    params = plan.parameters
    best_u = np.array([p.position(fitted.values[p.name]) for p in params])
    docs, where = [fitted.document], []
    for i, p in enumerate(params):
        for sign in (-1, 1):
            u = best_u[i] + sign * STEP
            if 0.0 <= u <= 1.0:
                docs.append(fitted.document_at({**fitted.values, p.name: p.value(u)}))
                where.append((i, sign, len(docs) - 1))
    found = [distance(fitted.observed, s) for s in sim.summaries(docs)]
    at_best = found[0]
    noise_docs = [fitted.document] * NOISE_SETS
    noisy = [at_best] + [
        distance(fitted.observed, sim.summaries([doc], first=plan.replications * (k + 1))[0])
        for k, doc in enumerate(noise_docs)
    ]
    noise = float(np.std(noisy, ddof=1))
    out = []
    for i, p in enumerate(params):
        rise = {sign: np.nan for sign in (-1, 1)}
        for j, sign, k in where:
            if j == i:
                rise[sign] = found[k] - at_best
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
