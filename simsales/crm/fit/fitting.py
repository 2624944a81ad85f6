"""``fit_export``: a base scenario fitted to a CRM export, step by step.

1. Check the export (``direct.check_export``) and estimate what it says directly: arrivals
   per day and their calendar months, the sellers at once, the amounts.
2. Set the simulation's period: four months of warm-up (so the pipeline is full when the
   export begins, as a real team's is), then the export's span, the months' pattern turned to
   the export's calendar; what the CRM would have exported is read from that window.
3. Calibrate the scale: the suspects per day (the share of suspects that become opportunities
   depends on behaviour, so the rate is scaled by observed over simulated opportunities per
   day) and the segments' deal values (scaled so the simulated amounts' median and p90 match).
4. Search the behavioural parameters (``search``), on common random numbers.
5. At the best point, scale the rate again, and run more replications for the report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from simsales.crm.fit.direct import DirectEstimates, check_export, day_of_year, direct_estimates
from simsales.crm.fit.objective import SimulationPlan, Simulator, distance
from simsales.crm.fit.observed import SimulatedWindow, Summaries, summarise
from simsales.crm.fit.parameters import FitParameter
from simsales.crm.fit.search import SearchResult, search
from simsales.crm.reader import CrmExport
from simsales.scenario import Scenario

__all__ = ["FitOptions", "FitResult", "Fitted", "fit_export"]

#: Progress: (evaluations so far, evaluations in all, best distance so far).
Progress = Callable[[int, int, float], None]
#: Months of warm-up before the export's period begins: sellers carry a full pipeline when the
#: export begins, as a real team's do (the deals opened before are not in the export).
WARMUP_MONTHS = 4
DAYS_PER_MONTH = 365.0 / 12


@dataclass(frozen=True, kw_only=True)
class FitOptions:
    """How a fit runs: the parameters searched, the budget of evaluations, replications per
    evaluation, the seed, ``sellers`` (the team size when the export cannot say it)."""

    parameters: tuple[FitParameter, ...]
    budget: int = 48
    replications: int = 2
    final_replications: int = 6
    seed: int = 20261202
    sellers: int | None = None


@dataclass(frozen=True, kw_only=True)
class Fitted:
    """A fit of one export: the fitted document, its parameters and how it was reached."""

    export: CrmExport
    direct: DirectEstimates
    observed: Summaries
    plan: SimulationPlan
    base_values: dict[str, float]
    values: dict[str, float]
    document: dict[str, Any]
    search: SearchResult
    rate_ratio: float
    value_scale: tuple[float, float]
    simulated: Summaries
    final_distance: float
    simulated_export: CrmExport
    per_replication: tuple[Summaries, ...]

    @property
    def scenario(self) -> Scenario:
        return Scenario.model_validate(self.document)

    def document_at(self, values: dict[str, float]) -> dict[str, Any]:
        """The fitted document with other parameter ``values`` (the final rate kept)."""
        doc = Simulator(self.plan, executor=None, jobs=1).document_at(values)
        doc["market"]["suspects_per_day"] = self.document["market"]["suspects_per_day"]
        return doc


@dataclass(frozen=True, kw_only=True)
class FitResult:
    """``fit_export``'s answer: the fit, and what ``identification`` and ``holdout`` add."""

    fitted: Fitted
    base: Scenario
    options: FitOptions
    extras: dict[str, Any] = field(default_factory=dict)


def fit_export(
    export: CrmExport,
    base: Scenario,
    options: FitOptions,
    *,
    executor: Executor | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
    budget_offset: int = 0,
    budget_total: int | None = None,
) -> Fitted:
    """Fit ``base``'s behavioural parameters (``options.parameters``) to ``export``; see the
    module docstring. Raises ``FitDataError`` for an export that cannot be fitted."""
    check_export(export, sellers=options.sellers)
    direct = direct_estimates(export, sellers=options.sellers)
    observed = summarise(
        export, end_day=direct.span_days, merge_disqualified=direct.merge_disqualified
    )
    plan = _plan(export, base, direct, options)
    sim = Simulator(plan, executor=executor, jobs=jobs)
    doc, ratio, scale = _calibrate(sim, plan.document, export, direct)
    plan = replace(plan, document=doc)
    sim = Simulator(plan, executor=executor, jobs=jobs)
    params = options.parameters
    base_values = {p.name: p.read(doc) for p in params}
    start = np.array([p.position(base_values[p.name]) for p in params])
    total = budget_total or options.budget

    def shown(done: int, budget: int, best: float) -> None:
        if progress is not None:
            progress(budget_offset + done, total, best)

    found = search(
        lambda points: sim.distances(observed, points),
        start=start,
        budget=options.budget,
        seed=options.seed,
        progress=shown,
    )
    values = {p.name: p.value(float(x)) for p, x in zip(params, found.best, strict=True)}
    best_doc = sim.document_at(values)
    best_doc, more, _ = _calibrate(sim, best_doc, export, direct, values_too=False)
    ratio *= more
    final = Simulator(replace(plan, document=best_doc), executor=executor, jobs=jobs)
    (runs,) = final.runs([best_doc], replications=options.final_replications)
    per_rep = tuple(
        summarise(
            final.export([r]),
            end_day=direct.span_days,
            merge_disqualified=direct.merge_disqualified,
        )
        for r in runs
    )
    pooled_export = final.export(runs)
    pooled = summarise(
        pooled_export, end_day=direct.span_days, merge_disqualified=direct.merge_disqualified
    )
    return Fitted(
        export=export,
        direct=direct,
        observed=observed,
        plan=plan,
        base_values=base_values,
        values=values,
        document=best_doc,
        search=found,
        rate_ratio=ratio,
        value_scale=scale,
        simulated=pooled,
        final_distance=distance(observed, pooled),
        simulated_export=pooled_export,
        per_replication=per_rep,
    )


def _plan(
    export: CrmExport, base: Scenario, direct: DirectEstimates, options: FitOptions
) -> SimulationPlan:
    """The base document with the direct estimates and the simulation's period set.

    The model's year starts on 1 January (``market.schedule.by_month``). Rather than run most
    of a year before the export's first day comes round, the warm-up is ``WARMUP_MONTHS``
    months and the months' pattern is turned so that the export's first month falls where the
    warm-up ends (with a quarter-end push in the base, which cannot be turned so, the warm-up
    runs from 1 January instead).
    """
    doc = base.model_dump(by_alias=True)
    schedule = doc["market"]["schedule"]
    if direct.by_month is not None:
        schedule["by_month"] = direct.by_month
        schedule["quarter_end_push"] = 1.0
    epoch = export.epoch
    if schedule["quarter_end_push"] == 1.0:
        warmup = WARMUP_MONTHS * DAYS_PER_MONTH + (epoch.day - 1)
        first = epoch.month - 1
        by_month = list(schedule["by_month"])
        schedule["by_month"] = [by_month[(j - WARMUP_MONTHS + first) % 12] for j in range(12)]
    else:
        warmup = 365.0 + day_of_year(epoch)
    span = math.ceil(direct.span_days)
    doc["run"].update(
        horizon_days=warmup + span,
        warmup_days=warmup,
        cohort_margin_days=0.0,
        replications=options.replications,
        seed=options.seed,
    )
    doc["team"]["sellers"] = direct.sellers
    return SimulationPlan(
        document=doc,
        parameters=options.parameters,
        window=SimulatedWindow(start=warmup, span=direct.span_days),
        epoch=epoch,
        replications=options.replications,
        seed=options.seed,
        merge_disqualified=direct.merge_disqualified,
    )


def _calibrate(
    sim: Simulator,
    doc: dict[str, Any],
    export: CrmExport,
    direct: DirectEstimates,
    *,
    values_too: bool = True,
    rounds: int = 2,
) -> tuple[dict[str, Any], float, tuple[float, float]]:
    """``doc`` with the suspects per day (and the deal values) scaled to the export's; the rate
    ratio applied and the (median, p90-spread) scale of the deal values."""
    ratio, scale = 1.0, (1.0, 1.0)
    for round_ in range(rounds):
        (simulated,) = sim.exports([doc])
        per_day = len(simulated) / sim.plan.replications / direct.span_days
        step = direct.per_day / per_day if per_day > 0 else 4.0
        step = min(max(step, 0.05), 20.0)
        ratio *= step
        doc["market"]["suspects_per_day"] = round(doc["market"]["suspects_per_day"] * step, 4)
        if values_too and round_ == 0 and math.isfinite(direct.amount_p50):
            scale = _scale_values(doc, simulated.amount, direct)
    return doc, ratio, scale


def _scale_values(
    doc: dict[str, Any], amounts: np.ndarray, direct: DirectEstimates
) -> tuple[float, float]:
    """Scale every segment's lognormal deal value so the simulated amounts' median and p90
    move to the export's: the medians by the ratio of medians, the p90/median spreads by the
    ratio of spreads."""
    amounts = amounts[np.isfinite(amounts) & (amounts > 0)]
    if amounts.size < 10:
        return 1.0, 1.0
    p50, p90 = (float(x) for x in np.quantile(amounts, (0.5, 0.9)))
    median_scale = direct.amount_p50 / p50
    spread_scale = (direct.amount_p90 / direct.amount_p50) / (p90 / p50)
    for segment in doc["market"]["segments"]:
        value = segment["deal_value"]
        if value.get("dist") != "lognormal":
            continue
        median = float(value["median"]) * median_scale
        spread = max(1.05, float(value["p90"]) / float(value["median"]) * spread_scale)
        segment["deal_value"] = {
            "dist": "lognormal",
            "median": round(median, 2),
            "p90": round(median * spread, 2),
        }
    return median_scale, spread_scale


def values_of(parameters: Sequence[FitParameter], u: np.ndarray) -> dict[str, float]:
    return {p.name: p.value(float(x)) for p, x in zip(parameters, u, strict=True)}
