"""The distance between an export and a scenario's simulated export, and the runs behind it.

``distance`` adds up squared standardised differences, one per summary both sides have:
(simulated − observed)² / (SE_observed² + SE_simulated²). With independent summaries it reads
as a chi-square with as many degrees of freedom as terms: around the number of terms when the
scenario could have written the export, far above it when it could not.

``Simulator`` turns points of the search space into scenarios and runs them on common random
numbers (the same seed and replications for every point, so that the distance changes smoothly
with the parameters), in parallel on the executor given (processes or a Dask cluster, through
``simsales.experiment.run_scenarios``); each replication is reduced to its simulated export in
the worker.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from simsales.crm.fit.observed import (
    SimulatedOpportunities,
    SimulatedWindow,
    Summaries,
    simulated_export,
    summarise,
)
from simsales.crm.fit.parameters import FitParameter
from simsales.crm.reader import CrmExport
from simsales.scenario import Scenario

__all__ = ["MISSING_TERM", "Simulator", "distance", "terms"]

#: The term of a summary the simulation cannot compute (see ``terms``).
MISSING_TERM = 9.0


def terms(observed: Summaries, simulated: Summaries) -> dict[str, float]:
    """Each summary's squared standardised difference. Summaries the export lacks are left
    out; one the simulation lacks (a quartile its curve does not reach in the period) counts
    ``MISSING_TERM``: three standard errors off, not the end of the period, which would let the
    noise of one curve's tail swamp every other term."""
    out = {}
    for name, obs in observed.items.items():
        sim = simulated.items.get(name)
        if sim is None or not math.isfinite(obs.value) or not math.isfinite(obs.se):
            continue
        if not math.isfinite(sim.value):
            out[name] = MISSING_TERM
            continue
        se = sim.se if math.isfinite(sim.se) else obs.se
        variance = obs.se**2 + se**2
        if variance > 0:
            out[name] = (sim.value - obs.value) ** 2 / variance
    return out


def distance(observed: Summaries, simulated: Summaries) -> float:
    """The sum of ``terms``: 0 for a perfect match."""
    return float(sum(terms(observed, simulated).values()))


@dataclass(frozen=True, kw_only=True)
class SimulationPlan:
    """How a point becomes runs: the base document (direct estimates and the run's period
    set), the parameters searched, the window of the export in simulated time, the export's
    first day, the replications per evaluation and the seed."""

    document: dict[str, Any]
    parameters: tuple[FitParameter, ...]
    window: SimulatedWindow
    epoch: date
    replications: int
    seed: int
    merge_disqualified: bool


class Simulator:
    """Runs scenarios of a ``SimulationPlan`` and summarises their simulated exports."""

    def __init__(
        self,
        plan: SimulationPlan,
        *,
        executor: Executor | None,
        jobs: int,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.plan = plan
        self.executor = executor
        self.jobs = jobs
        self.on_batch = on_batch
        self.runs_done = 0

    def document_at(self, values: dict[str, float]) -> dict[str, Any]:
        """The base document with the parameters' ``values`` set."""
        doc = copy.deepcopy(self.plan.document)
        for p in self.plan.parameters:
            if p.name in values:
                p.write(doc, values[p.name])
        return doc

    def runs(
        self,
        documents: Sequence[dict[str, Any]],
        *,
        replications: int | None = None,
        first: int = 0,
        window: SimulatedWindow | None = None,
    ) -> list[list[SimulatedOpportunities]]:
        """Each document's replications ``first .. first + replications - 1`` (run in one
        stream of work), each reduced to its simulated opportunities."""
        from simsales.experiment.replications import Replications, run_scenarios

        reps = replications or self.plan.replications
        scenarios = [Scenario.model_validate(doc) for doc in documents]
        found: list[list[SimulatedOpportunities]] = [[] for _ in scenarios]

        def keep(i: int, r: int, reduced: Any, metrics: dict[str, float]) -> None:
            found[i].append(reduced)

        run_scenarios(
            [Replications(s, first + reps, first) for s in scenarios],
            seed=self.plan.seed,
            jobs=self.jobs,
            on_result=keep,
            executor=self.executor,
            reduce=window or self.plan.window,
        )
        self.runs_done += len(scenarios) * reps
        return found

    def exports(self, documents: Sequence[dict[str, Any]], **options: Any) -> list[CrmExport]:
        """``runs`` pooled into one simulated export per document."""
        return [self.export(r) for r in self.runs(documents, **options)]

    def export(self, runs: Sequence[SimulatedOpportunities]) -> CrmExport:
        return simulated_export(runs, epoch=self.plan.epoch)

    def summaries(self, documents: Sequence[dict[str, Any]], **options: Any) -> list[Summaries]:
        """``exports`` summarised as the export is."""
        end = self.plan.window.span
        return [
            summarise(e, end_day=end, merge_disqualified=self.plan.merge_disqualified)
            for e in self.exports(documents, **options)
        ]

    def distances(self, observed: Summaries, points: Sequence[np.ndarray]) -> list[float]:
        """The distance at each point of the search space (``u`` in [0, 1] per parameter)."""
        docs = [
            self.document_at(
                {p.name: p.value(float(x)) for p, x in zip(self.plan.parameters, u, strict=True)}
            )
            for u in points
        ]
        found = [distance(observed, s) for s in self.summaries(docs)]
        if self.on_batch is not None:
            self.on_batch(len(points))
        return found
