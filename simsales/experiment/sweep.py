"""Run an experiment: its variants or sweep points against the base, on common random numbers.

A sweep is a comparison whose variants are the sweep points: every point and the base run the
same replications with the same seed, so each point's paired difference from the base is the
lever's effect, not the dice's (``simsales.experiment.compare``). Alongside the metrics, each
scenario keeps the pooled cycle times of its counted opportunities (days, outcome code, censored
flag), which the cycle-time plots need; the deal tables themselves are dropped replication by
replication.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from simsales.experiment.compare import Comparison, compare_scenarios
from simsales.experiment.store import RunStore
from simsales.model.records import OPEN
from simsales.results import DealTable

if TYPE_CHECKING:
    from simsales.experiment.spec import Experiment
    from simsales.model import RunRecords

__all__ = ["CycleSample", "ExperimentResult", "cycle_sample", "run_experiment"]


@dataclass(frozen=True, kw_only=True)
class CycleSample:
    """Cycle times of counted opportunities, pooled over replications (in replication order).

    ``days`` runs from assignment to the CRM close, or to the horizon for a deal still open
    (``censored`` true); ``outcome`` is the code of ``simsales.model.records.OUTCOMES``.
    """

    days: np.ndarray = field(repr=False)
    outcome: np.ndarray = field(repr=False)
    censored: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return len(self.days)


def cycle_sample_of_records(records: RunRecords) -> CycleSample:
    """``cycle_sample`` of one replication's records: what a worker sends back for the curves."""
    return cycle_sample(DealTable.from_records(records))


def cycle_sample(table: DealTable) -> CycleSample:
    """One replication's cycle times, as ``simsales.results.flow.cycle_metrics`` counts them."""
    outcome = table["outcome"]
    is_open = outcome == OPEN
    age = np.where(is_open, table.horizon_days, table["closed_at"]) - table.opened_at
    keep = table.opportunities & np.isfinite(age)
    return CycleSample(
        days=age[keep].astype(float),
        outcome=outcome[keep].astype(np.int8),
        censored=is_open[keep],
    )


@dataclass(frozen=True, kw_only=True)
class ExperimentResult:
    """What ``run_experiment`` gives: the experiment, its comparison and the cycle samples.

    ``comparison`` has the base and every variant or sweep point (as variants, in the order of
    ``experiment.scenarios``); ``cycles`` maps each scenario name to its ``CycleSample``.
    """

    experiment: Experiment
    comparison: Comparison
    cycles: dict[str, CycleSample]

    @property
    def metrics(self) -> list[str]:
        """The metrics the experiment file chose."""
        return list(self.experiment.spec.metrics)

    def to_dict(self, *, scenarios: bool = False) -> dict[str, Any]:
        """Plain dict for JSON (NaN kept): the spec, the points, and the comparison."""
        exp = self.experiment
        out: dict[str, Any] = {
            "experiment": exp.spec.name,
            "kind": exp.kind,
            "file": exp.file,
            "spec": exp.spec.model_dump(mode="json", exclude_none=True),
            "overrides": list(exp.overrides),
            "points": [{"scenario": name, "set": point} for point, name in exp.grid],
        }
        if exp.kind == "sweep":
            out["sweep_keys"] = list(exp.sweep_keys)
        if exp.kind == "sensitivity":
            out["levers"] = [
                {
                    "key": lever.key,
                    "base": lever.base,
                    "low": lever.low,
                    "high": lever.high,
                    "low_scenario": lever.low_name,
                    "high_scenario": lever.high_name,
                }
                for lever in exp.levers
            ]
        return out | self.comparison.to_dict(scenarios=scenarios)


def run_experiment(
    experiment: Experiment,
    *,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
    auto: bool = False,
    executor: Executor | None = None,
    store: RunStore | None = None,
) -> ExperimentResult:
    """Run the base and every variant or sweep point of ``experiment``, and compare them.

    Each scenario runs ``experiment.replications`` replications with ``experiment.seed`` on
    ``jobs`` processes, or on ``executor`` when given (a Dask cluster's,
    ``simsales.experiment.cluster``); the results do not depend on either. ``progress`` is
    called with the replications finished so far over all scenarios. With ``auto``
    (``--replications auto``) the replications run in rounds until the file's ``[precision]``
    targets (default: 5% of |mean|) are met for the chosen metrics, or its cap is reached; the
    comparison's ``precision`` says how many were needed. With a ``store``, finished
    replications are kept there and reused (``simsales.experiment.store``).
    """
    parts: dict[str, list[CycleSample]] = {}

    def keep_cycles(name: str, replication: int, sample: CycleSample) -> None:
        parts.setdefault(name, []).append(sample)

    comparison = compare_scenarios(
        experiment.base,
        experiment.scenarios,
        replications=experiment.precision_targets() if auto else experiment.replications,
        seed=experiment.seed,
        jobs=jobs,
        progress=progress,
        executor=executor,
        on_result=keep_cycles,
        reduce=cycle_sample_of_records,
        metrics=experiment.spec.metrics,
        store=store,
    )
    cycles = {
        name: CycleSample(
            days=np.concatenate([p.days for p in samples]),
            outcome=np.concatenate([p.outcome for p in samples]),
            censored=np.concatenate([p.censored for p in samples]),
        )
        for name, samples in parts.items()
    }
    if auto:  # the replications actually run, for reports and the manifest
        experiment = dataclasses.replace(experiment, replications=comparison.replications)
    return ExperimentResult(experiment=experiment, comparison=comparison, cycles=cycles)
