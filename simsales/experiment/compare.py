"""Compare variants of a scenario with a base, on common random numbers.

Every scenario runs the same replications ``0 .. n − 1`` with the same root seed, so replication
r of each variant draws from the same random streams as replication r of the base
(``simsales.model.streams``): the same suspects arrive with the same buyers, and a difference
between them is the lever's, not the dice's. Each metric then gets every scenario's mean with its
confidence interval (``simsales.results.summary``) and each variant's paired difference from the
base (``simsales.analysis.paired``), whose interval is narrower than two independent runs' would be.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from simsales.analysis import PairedDifference, paired_difference
from simsales.experiment.precision import (
    Check,
    PrecisionOutcome,
    PrecisionTargets,
    check_precision,
    replications_needed,
    worst_metric,
)
from simsales.experiment.replications import Replications, run_scenarios
from simsales.experiment.store import RunStore
from simsales.model import RunRecords
from simsales.results import MetricSummary, ci_t
from simsales.results.catalogue import metric_record
from simsales.scenario import Scenario

__all__ = ["Comparison", "MetricComparison", "compare_scenarios"]

#: What makes the differences paired, as said in reports.
CRN_NOTE = "common random numbers: replication r of every scenario uses the same streams"


@dataclass(frozen=True, kw_only=True)
class MetricComparison:
    """One metric across a comparison: each scenario's summary, each variant's difference.

    ``summaries`` is keyed by scenario name, base first; ``differences`` by variant name, each
    ``variant − base`` over paired replications.
    """

    summaries: dict[str, MetricSummary]
    differences: dict[str, PairedDifference]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON (NaN kept as NaN)."""
        return {
            "summaries": {name: s.to_dict() for name, s in self.summaries.items()},
            "differences": {name: d.to_dict() for name, d in self.differences.items()},
        }


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """The result of ``compare_scenarios``: what was run, per-replication metrics, and per metric
    the summaries and paired differences.

    ``base`` and ``variants`` are the scenarios as run (their ``run.replications`` and
    ``run.seed`` set to the comparison's). ``per_replication`` maps each scenario name to its
    metrics, one dict per replication in replication order. ``metrics`` holds every metric any
    scenario reported, in report order; a metric a scenario lacks (a stage it does not have) is
    NaN there. Treat the dicts as read-only.
    """

    base: Scenario
    variants: tuple[Scenario, ...]
    replications: int
    seed: int
    level: float
    per_replication: dict[str, tuple[dict[str, float], ...]]
    metrics: dict[str, MetricComparison]
    precision: PrecisionOutcome | None = None

    @property
    def base_name(self) -> str:
        return self.base.name

    @property
    def variant_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variants)

    def to_dict(self, *, scenarios: bool = False) -> dict[str, Any]:
        """Plain dict for JSON (NaN kept as NaN); ``scenarios`` adds each resolved scenario.

        Each metric carries its unit, cohort, better direction, group and description (from the
        catalogue) beside its summaries and differences.
        """
        out: dict[str, Any] = {
            "base": self.base_name,
            "variants": list(self.variant_names),
            "replications": self.replications,
            "seed": self.seed,
            "level": self.level,
            "pairing": CRN_NOTE,
            "metrics": {name: _kind(name) | m.to_dict() for name, m in self.metrics.items()},
        }
        if self.precision is not None:
            out["precision"] = self.precision.to_dict()
        if scenarios:
            out["scenarios"] = {
                s.name: s.model_dump(mode="json", by_alias=True)
                for s in (self.base, *self.variants)
            }
        return out


def compare_scenarios(
    base: Scenario,
    variants: Sequence[Scenario],
    *,
    replications: int | PrecisionTargets,
    seed: int,
    jobs: int = 1,
    level: float = 0.95,
    progress: Callable[[int], None] | None = None,
    executor: Executor | None = None,
    on_result: Callable[[str, int, Any], None] | None = None,
    metrics: Sequence[str] = (),
    reduce: Callable[[RunRecords], Any] | None = None,
    store: RunStore | None = None,
) -> Comparison:
    """Run ``base`` and each of ``variants`` on the same seed and replications, and compare.

    Every scenario's replications go through one ``run_scenarios`` (``jobs`` processes, or
    ``executor`` when given); the results are the same for any ``jobs``. ``progress`` is called
    with the number of replications finished so far over all scenarios (``replications`` times
    the number of scenarios in all). ``on_result(scenario name, replication, records)`` sees each
    replication's records, in order, for what the metrics do not keep (cycle-time samples), or
    ``reduce(records)`` if ``reduce`` is given (computed in the worker; see ``run_replications``);
    without ``on_result`` no records leave the workers. Scenario names must differ: they label
    the results.

    With ``PrecisionTargets`` for ``replications`` (``--replications auto``), replications run
    in rounds until the half-widths of ``metrics`` (means and paired differences) are within
    their targets or the cap is reached (``simsales.experiment.precision``); the result's
    ``precision`` says how it went. Replication r still uses the streams of (seed, r), so the
    result equals a fixed run with the replications it ended with. ``progress`` then counts on
    over the rounds, up to ``max_replications`` times the number of scenarios.

    With a ``store``, finished replications are kept there and reused (``run_replications``).
    """
    if not variants:
        raise ValueError("compare needs at least one variant besides the base")
    scenarios = [base, *variants]
    names = [s.name for s in scenarios]
    if len(set(names)) < len(names):
        twice = sorted(n for n, k in Counter(names).items() if k > 1)
        raise ValueError(
            f"scenario names must differ, they label the results: {', '.join(twice)} is used "
            "more than once (set `name` in each variant's file)"
        )
    targets = replications if isinstance(replications, PrecisionTargets) else None
    n = replications if isinstance(replications, int) else replications.min_replications
    per_rep: dict[str, list[dict[str, float]]] = {s.name: [] for s in scenarios}
    done = 0
    rounds: list[int] = []
    before: list[Check] | None = None
    while True:
        start = rounds[-1] if rounds else 0
        # one stream of work for all scenarios: no worker waits between two of them
        results = run_scenarios(
            [Replications(s, n, start) for s in scenarios],
            seed=seed,
            jobs=jobs,
            on_result=None if on_result is None else _named(on_result, names),
            keep_records=on_result is not None,
            reduce=reduce,
            progress=None if progress is None else _offset(progress, done),
            executor=executor,
            store=store,
        )
        for name, reps in zip(names, results, strict=True):
            per_rep[name] += reps
        done += (n - start) * len(scenarios)
        rounds.append(n)
        frozen = {name: tuple(reps) for name, reps in per_rep.items()}
        compared = _compare_metrics(frozen, base.name, level)
        if targets is None:
            outcome = None
            break
        checks = check_precision(compared, targets, list(metrics))
        wanted = replications_needed(checks, n, targets.max_replications)
        if wanted is None or n >= targets.max_replications:
            last = worst_metric(before if before is not None else checks)
            outcome = PrecisionOutcome(
                targets=targets,
                replications=n,
                rounds=tuple(rounds),
                checks=tuple(checks),
                last=last if wanted is None else None,
            )
            break
        before = [c for c in checks if c.status == "missed"]
        n = wanted
    settings = {"replications": n, "seed": seed}
    as_run = [s.model_copy(update={"run": s.run.model_copy(update=settings)}) for s in scenarios]
    return Comparison(
        base=as_run[0],
        variants=tuple(as_run[1:]),
        replications=n,
        seed=seed,
        level=level,
        per_replication=frozen,
        metrics=compared,
        precision=outcome,
    )


def _offset(progress: Callable[[int], None], before: int) -> Callable[[int], None]:
    return lambda done: progress(before + done)


def _named(
    on_result: Callable[[str, int, Any], None], names: Sequence[str]
) -> Callable[[int, int, Any, dict[str, float]], None]:
    def hook(batch: int, r: int, records: Any, metrics: dict[str, float]) -> None:
        assert records is not None  # kept whenever on_result is given
        on_result(names[batch], r, records)

    return hook


def _compare_metrics(
    per_rep: dict[str, tuple[dict[str, float], ...]], base: str, level: float
) -> dict[str, MetricComparison]:
    names: dict[str, None] = {}
    for reps in per_rep.values():
        for rep in reps:
            names.update(dict.fromkeys(rep))
    nan = float("nan")
    out = {}
    for metric in names:
        values = {s: [rep.get(metric, nan) for rep in reps] for s, reps in per_rep.items()}
        out[metric] = MetricComparison(
            summaries={s: ci_t(v, level) for s, v in values.items()},
            differences={
                s: paired_difference(values[base], v, level) for s, v in values.items() if s != base
            },
        )
    return out


def _kind(name: str) -> dict[str, str]:
    """What JSON says of a metric beside its values: unit, cohort, direction, group, meaning."""
    record = metric_record(name)
    return {} if record is None else record.to_dict()
