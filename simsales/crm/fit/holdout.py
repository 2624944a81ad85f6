"""The held-out check: fit on the first two thirds of the period, predict the last third.

The export is cut on the day two thirds into its period, as if it had been pulled then
(opportunities created later left out, those closed later still open); the fit on that part
then simulates the whole period, and the opportunities created in the last third are compared
with the export's: their outcome shares and time to each outcome. Simulated values come with
the range where one export of the team's size would fall (mean ± 1.96 sd across replications),
observed ones with their standard errors.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace

import numpy as np

from simsales.crm.fit.fitting import FitOptions, Fitted, fit_export
from simsales.crm.fit.objective import Simulator
from simsales.crm.fit.observed import SimulatedWindow, Summaries, summarise
from simsales.crm.reader import CrmExport
from simsales.scenario import Scenario

__all__ = ["Holdout", "holdout_check", "truncated"]

OPEN = 0


@dataclass(frozen=True)
class Holdout:
    """The split day, the fit on the part before it, and the last third observed and
    predicted (each replication's summaries, for the ranges)."""

    split_day: float
    fitted: Fitted
    observed: Summaries
    predicted: Summaries
    per_replication: tuple[Summaries, ...]


def truncated(export: CrmExport, day: float) -> CrmExport:
    """``export`` as pulled on ``day``: later creations left out, later closes still open."""
    keep = export.created < day
    closed = export.closed[keep]
    late = np.isfinite(closed) & (closed > day)
    outcome = np.where(late, OPEN, export.outcome[keep]).astype(np.int8)
    idx = np.flatnonzero(keep)
    return replace(
        export,
        ids=tuple(export.ids[i] for i in idx),
        created=export.created[keep],
        closed=np.where(late, np.nan, closed),
        forecast=export.forecast[keep],
        outcome=outcome,
        amount=export.amount[keep],
        owner=export.owner[keep],
        meetings=export.meetings[keep],
        accounts=None,
        products=None,
        problems=(),
    )


def holdout_check(
    export: CrmExport,
    base: Scenario,
    options: FitOptions,
    fitted_full: Fitted,
    *,
    executor: Executor | None,
    jobs: int,
    progress: Callable[[int, int, float], None] | None = None,
    budget_offset: int = 0,
    budget_total: int | None = None,
) -> Holdout:
    """Fit the first two thirds of ``export``, predict its last third (see the module)."""
    span = fitted_full.direct.span_days
    split = span * 2.0 / 3.0
    train = truncated(export, split)
    fitted = fit_export(
        train,
        base,
        options,
        executor=executor,
        jobs=jobs,
        progress=progress,
        budget_offset=budget_offset,
        budget_total=budget_total,
    )
    doc = fitted.document
    start = fitted.plan.window.start
    doc["run"]["horizon_days"] = start + float(np.ceil(span))
    plan = replace(fitted.plan, document=doc, window=SimulatedWindow(start=start, span=span))
    sim = Simulator(plan, executor=executor, jobs=jobs)
    merge = fitted_full.direct.merge_disqualified

    def last_third(e: CrmExport) -> Summaries:
        return summarise(e, end_day=span, merge_disqualified=merge, start_day=split)

    (runs,) = sim.runs([doc], replications=options.final_replications)
    pooled = sim.export(runs)
    return Holdout(
        split_day=split,
        fitted=fitted,
        observed=last_third(export),
        predicted=last_third(pooled),
        per_replication=tuple(last_third(sim.export([r])) for r in runs),
    )
