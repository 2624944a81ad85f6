"""The answer of a comparison or an experiment, worked out once: what each variant changes.

A comparison holds numbers; a reader wants the answer first: "call compression: time to a win
−54 d [−61, −48] (−46%); no decision −1.2 pts [−1.9, −0.5]". ``Answer`` is that answer as
typed data, built here and only rendered by the writers (the terminal, ``report.md``,
``report.html``, a notebook): each variant's paired effect on every shown metric (``Effect``,
with the metric's catalogue record for its unit, cohort, label and better direction), one
``Finding`` per variant on the headline metrics, for a sweep where each metric is best and
whether that point is told apart from the runner-up (``Best``), and for a sensitivity run the
levers ranked by swing. Nothing here formats text; nothing in the writers recomputes a number.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from simsales.analysis import PairedDifference, paired_difference
from simsales.experiment.compare import Comparison
from simsales.experiment.sensitivity import LeverEffect, sensitivity_effects
from simsales.experiment.spec import key_labels
from simsales.results import Metric, MetricSummary, catalogue_for
from simsales.results.catalogue import HEADLINE_METRICS

if TYPE_CHECKING:
    from simsales.experiment.sweep import ExperimentResult

__all__ = [
    "Answer",
    "Best",
    "Effect",
    "Finding",
    "Kind",
    "comparison_answer",
    "experiment_answer",
    "headline_metrics",
]

Kind = Literal["comparison", "variants", "sweep", "sensitivity"]


@dataclass(frozen=True, kw_only=True)
class Effect:
    """One variant's paired change of one metric from the base.

    ``change`` is ``variant − base`` over paired replications with its interval; ``base`` and
    ``value`` the two means with their own intervals; ``metric`` the catalogue's record.
    """

    variant: str
    metric: Metric
    base: MetricSummary
    value: MetricSummary
    change: PairedDifference

    @property
    def known(self) -> bool:
        """Whether the change has an interval (two or more pairs with a value)."""
        return self.change.n >= 2 and math.isfinite(self.change.half_width)

    @property
    def distinguishable(self) -> bool:
        """Whether the interval excludes 0."""
        return self.change.distinguishable

    @property
    def verdict(self) -> Literal["better", "worse", "changed", "noise", "unknown"]:
        """``better`` or ``worse`` by the metric's better direction, ``changed`` where neither
        is better, ``noise`` if the interval includes 0, ``unknown`` without an interval."""
        if not self.known:
            return "unknown"
        if not self.distinguishable:
            return "noise"
        if self.metric.better == "neither":
            return "changed"
        up = self.change.mean > 0
        return "better" if up == (self.metric.better == "higher") else "worse"


@dataclass(frozen=True, kw_only=True)
class Finding:
    """A variant's answer: its effects on the headline metrics, and the setting it stands for
    (a sweep point's key values, a variant's ``set``; empty for a scenario file)."""

    variant: str
    effects: tuple[Effect, ...]
    point: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class Best:
    """Where a metric is best over a sweep's points, and whether that is told apart.

    ``best`` and ``runner_up`` are scenario names (the base's where the base is a point);
    ``gap`` is the paired difference ``runner_up − best``; ``distinguishable`` whether its
    interval excludes 0. For a metric where neither direction is better, ``best`` is the
    highest point and ``lowest`` the lowest; ``direction`` says which.
    """

    metric: Metric
    direction: Literal["lowest", "highest", "neither"]
    best: str | None
    value: MetricSummary | None
    change: PairedDifference | None
    runner_up: str | None = None
    runner_value: MetricSummary | None = None
    gap: PairedDifference | None = None
    lowest: str | None = None
    lowest_value: MetricSummary | None = None

    @property
    def distinguishable(self) -> bool:
        """Whether the best point is told apart from the runner-up (interval excludes 0)."""
        return self.gap is not None and self.gap.distinguishable


@dataclass(frozen=True, kw_only=True)
class Answer:
    """A comparison's or an experiment's answer, ready to render.

    ``metrics`` are the shown metrics' records, ``headline`` those of the finding lines;
    ``effects[variant][metric]`` every variant's effect on every shown metric; ``findings``
    one per variant, in order; ``best`` (a sweep) one per shown metric; ``levers`` (a
    sensitivity run) per metric the levers sorted by swing. ``summaries[scenario][metric]``
    are the means of the shown metrics, base first. ``labels`` names a scenario where its name
    does not say it: the base, where it is a sweep's point, by that point's values.
    """

    kind: Kind
    title: str
    base: str
    variants: tuple[str, ...]
    metrics: tuple[Metric, ...]
    headline: tuple[Metric, ...]
    effects: Mapping[str, Mapping[str, Effect]]
    findings: tuple[Finding, ...]
    summaries: Mapping[str, Mapping[str, MetricSummary]]
    currency: str
    level: float
    replications: int
    seed: int
    best: tuple[Best, ...] = ()
    levers: Mapping[str, tuple[LeverEffect, ...]] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)


def headline_metrics(shown: Sequence[str]) -> tuple[str, ...]:
    """The metrics of the finding lines: the headline ones (time to a win, no decision) among
    ``shown``, else the first two shown."""
    found = tuple(m for m in HEADLINE_METRICS if m in shown)
    return found or tuple(shown[:2])


def comparison_answer(
    comparison: Comparison,
    shown: Sequence[str],
    *,
    kind: Kind = "comparison",
    title: str = "",
    points: Sequence[Mapping[str, Any]] = (),
) -> Answer:
    """The answer of a comparison on the ``shown`` metrics (those it has); ``points`` are the
    variants' settings, in order, if they have any."""
    catalogue = catalogue_for(comparison.base, *comparison.variants)
    names = [m for m in shown if m in comparison.metrics]
    records = {m: catalogue[m] for m in names}
    base = comparison.base_name
    effects = {
        variant: {
            m: Effect(
                variant=variant,
                metric=records[m],
                base=comparison.metrics[m].summaries[base],
                value=comparison.metrics[m].summaries[variant],
                change=comparison.metrics[m].differences[variant],
            )
            for m in names
        }
        for variant in comparison.variant_names
    }
    headline = headline_metrics(names)
    settings = list(points) or [{} for _ in comparison.variant_names]
    findings = tuple(
        Finding(variant=v, effects=tuple(effects[v][m] for m in headline), point=point)
        for v, point in zip(comparison.variant_names, settings, strict=True)
    )
    every = (base, *comparison.variant_names)
    summaries = {s: {m: comparison.metrics[m].summaries[s] for m in names} for s in every}
    return Answer(
        kind=kind,
        title=title or f"{base} against {', '.join(comparison.variant_names)}",
        base=base,
        variants=comparison.variant_names,
        metrics=tuple(records.values()),
        headline=tuple(records[m] for m in headline),
        effects=effects,
        findings=findings,
        summaries=summaries,
        currency=comparison.base.currency,
        level=comparison.level,
        replications=comparison.replications,
        seed=comparison.seed,
    )


def experiment_answer(result: ExperimentResult) -> Answer:
    """The answer of an experiment: a comparison's, plus where each metric is best (a sweep) or
    the levers ranked by swing (a sensitivity run)."""
    exp, comparison = result.experiment, result.comparison
    shown = result.metrics
    answer = comparison_answer(
        comparison, shown, kind=exp.kind, title=exp.spec.name, points=exp.points
    )
    if exp.kind == "sweep":
        candidates = exp.point_names
        best = tuple(_best(comparison, answer, m, candidates) for m in answer.metrics)
        labels = {}
        if exp.base_point is not None:
            keys = key_labels(exp.sweep_keys)
            values = ", ".join(
                f"{label}={_shown(exp.base_point[k])}"
                for label, k in zip(keys, exp.sweep_keys, strict=True)
            )
            labels[answer.base] = f"{values}, the base"
        return _replace(answer, best=best, labels=labels)
    if exp.kind == "sensitivity":
        levers = {m.name: tuple(sensitivity_effects(result, m.name)) for m in answer.metrics}
        return _replace(answer, levers=levers)
    return answer


def _best(comparison: Comparison, answer: Answer, metric: Metric, names: Sequence[str]) -> Best:
    """Where ``metric`` is best among the scenarios ``names``, and the runner-up's gap."""
    found = comparison.metrics[metric.name]
    ranked = sorted(
        (n for n in names if math.isfinite(found.summaries[n].mean)),
        key=lambda n: found.summaries[n].mean,
        reverse=metric.better == "higher",
    )
    if not ranked:
        return Best(metric=metric, direction="neither", best=None, value=None, change=None)
    if metric.better == "neither":
        high, low = ranked[-1], ranked[0]
        return Best(
            metric=metric,
            direction="neither",
            best=high,
            value=found.summaries[high],
            change=_change(found, high, comparison),
            lowest=low,
            lowest_value=found.summaries[low],
        )
    top = ranked[0]
    runner = ranked[1] if len(ranked) > 1 else None
    gap = None
    if runner is not None:
        per = comparison.per_replication
        nan = math.nan
        gap = paired_difference(
            [rep.get(metric.name, nan) for rep in per[top]],
            [rep.get(metric.name, nan) for rep in per[runner]],
            comparison.level,
        )
    return Best(
        metric=metric,
        direction="lowest" if metric.better == "lower" else "highest",
        best=top,
        value=found.summaries[top],
        change=_change(found, top, comparison),
        runner_up=runner,
        runner_value=None if runner is None else found.summaries[runner],
        gap=gap,
    )


def _change(found: Any, name: str, comparison: Comparison) -> PairedDifference | None:
    return None if name == comparison.base_name else found.differences[name]


def _replace(answer: Answer, **changes: Any) -> Answer:
    import dataclasses

    return dataclasses.replace(answer, **changes)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)
