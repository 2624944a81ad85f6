"""How many replications are enough: the stopping rule of ``--replications auto``.

A comparison runs in rounds: a pilot of ``min_replications``, then more, until every chosen
metric's 95% confidence half-width is within its target, both for each scenario's mean and for
each variant's paired difference from the base, or until ``max_replications``. Replication r of
every scenario always uses the streams of (seed, r), so a comparison grown in rounds has exactly
the per-replication results of one run with that many replications.

A metric's target is absolute when ``absolute`` names it, else relative when ``relative`` is set
(else it has none). A relative target is a share of a scale: ``|mean|`` for a scenario's mean and
``|base mean|`` for a paired difference (the difference itself may well be 0: no effect). Where
that scale is 0 or tiny (a share that never happens, say) a relative target means nothing and is
skipped, and said so; so is a metric undefined (NaN) in every replication. A half-width that
cannot be estimated yet (fewer than two replications with a value) is a miss that asks to double.

Between rounds the replications needed are estimated from the current half-width, which shrinks
as 1/√n: ``n_needed ≈ n · (half-width / target)²``, rounded up, at least ``n + max(1, n / 10)``
(no string of tiny rounds) and at most the cap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from simsales.experiment.compare import MetricComparison

__all__ = [
    "Check",
    "PrecisionOutcome",
    "PrecisionTargets",
    "check_precision",
    "replications_needed",
]

#: Below this, ``|mean|`` is taken as 0 and a relative target is skipped.
TINY = 1e-9


@dataclass(frozen=True, kw_only=True)
class PrecisionTargets:
    """Half-width targets: ``relative`` (a share of |mean|) and/or ``absolute`` per metric."""

    relative: float | None = 0.05
    absolute: Mapping[str, float] = field(default_factory=dict)
    min_replications: int = 5
    max_replications: int = 200

    def __post_init__(self) -> None:
        if self.relative is not None and not self.relative > 0:
            raise ValueError(f"relative target must be positive, got {self.relative}")
        if any(not v > 0 for v in self.absolute.values()):
            raise ValueError("absolute targets must be positive")
        if not 2 <= self.min_replications <= self.max_replications:
            raise ValueError(
                "need 2 <= min_replications <= max_replications, got "
                f"{self.min_replications} and {self.max_replications}"
            )

    def target(self, metric: str, scale: float) -> float | None:
        """The half-width allowed for ``metric`` at ``scale`` (None: no target, or skipped)."""
        if metric in self.absolute:
            return self.absolute[metric]
        if self.relative is None or not math.isfinite(scale) or abs(scale) < TINY:
            return None
        return self.relative * abs(scale)

    def describe(self, metric: str) -> str:
        """The target in words: ``± 3 (absolute)`` or ``± 5% of |mean|``."""
        if metric in self.absolute:
            return f"± {self.absolute[metric]:g}"
        if self.relative is not None:
            return f"± {self.relative:.0%} of |mean|"
        return "none"


@dataclass(frozen=True, kw_only=True)
class Check:
    """One half-width against its target: a scenario's mean or a variant's difference.

    ``status`` is ``met``, ``missed``, or ``skipped`` (no target applies: ``note`` says why).
    ``ratio`` is half-width / target (NaN when the half-width cannot be estimated yet).
    """

    metric: str
    what: str
    kind: Literal["mean", "difference"]
    half_width: float
    target: float | None
    status: Literal["met", "missed", "skipped"]
    note: str = ""

    @property
    def ratio(self) -> float:
        if self.target is None:
            return math.nan
        return self.half_width / self.target

    def describe(self) -> str:
        """``cycle_median_won_days, fast − base: half-width 4.1 vs target 3 (1.37×)``."""
        head = f"{self.metric}, {self.what}"
        if self.status == "skipped":
            return f"{head}: {self.note}"
        if math.isnan(self.half_width):
            return f"{head}: no half-width yet (fewer than 2 replications with a value)"
        return (
            f"{head}: half-width {self.half_width:.4g} vs target {self.target:.4g} "
            f"({self.ratio:.2f}×)"
        )


def check_precision(
    metrics: Mapping[str, MetricComparison], targets: PrecisionTargets, chosen: list[str]
) -> list[Check]:
    """Every half-width of the ``chosen`` metrics (means, then differences) against its target."""
    checks = []
    for metric in chosen:
        comparison = metrics.get(metric)
        if comparison is None:
            continue
        for name, s in comparison.summaries.items():
            checks.append(_check(metric, name, "mean", s.half_width, s.n, s.mean, targets))
        base = next(iter(comparison.summaries), "base")
        for name, d in comparison.differences.items():
            what = f"{name} − {base}"
            checks.append(
                _check(metric, what, "difference", d.half_width, d.n, d.base_mean, targets)
            )
    return checks


def _check(
    metric: str,
    what: str,
    kind: Literal["mean", "difference"],
    half_width: float,
    n: int,
    scale: float,
    targets: PrecisionTargets,
) -> Check:
    if n == 0:
        note = "undefined (NaN) in every replication; no target applies"
        return Check(
            metric=metric, what=what, kind=kind, half_width=half_width, target=None,
            status="skipped", note=note,
        )  # fmt: skip
    target = targets.target(metric, scale)
    if target is None:
        note = (
            "no target set for it"
            if targets.relative is None
            else "|mean| is 0, so a relative target means nothing; skipped"
        )
        return Check(
            metric=metric, what=what, kind=kind, half_width=half_width, target=None,
            status="skipped", note=note,
        )  # fmt: skip
    met = not math.isnan(half_width) and half_width <= target
    return Check(
        metric=metric, what=what, kind=kind, half_width=half_width, target=target,
        status="met" if met else "missed",
    )  # fmt: skip


#: A round at most multiplies the replications by this (see ``replications_needed``).
GROWTH = 4


def replications_needed(checks: list[Check], n: int, cap: int) -> int | None:
    """The total replications to run next, or None when every target is met.

    From the worst miss, ``n · (half-width / target)²`` rounded up, at least ``n + max(1, n //
    10)``, at most ``GROWTH · n`` and at most ``cap``; a half-width that cannot be estimated yet
    asks for ``2 n``. The growth limit matters: a half-width estimated from a 5-replication pilot
    is so noisy that the raw estimate often overshoots straight to the cap. At the cap with
    targets still missed it returns ``cap``: the caller stops there.
    """
    missed = [c for c in checks if c.status == "missed"]
    if not missed:
        return None
    want = n + max(1, n // 10)
    for c in missed:
        ratio = c.ratio
        if math.isnan(ratio):
            want = max(want, 2 * n)
        else:
            want = max(want, math.ceil(n * ratio * ratio - 1e-9))
    return min(max(want, n), GROWTH * n, cap)


@dataclass(frozen=True, kw_only=True)
class PrecisionOutcome:
    """How ``--replications auto`` went: replications run, rounds, and the final checks.

    ``rounds`` holds the total replications after each round. ``last`` is the metric that
    converged last (the worst one in the check before the final round), or, if the pilot was
    enough, the one closest to its target. ``misses`` is empty unless the cap was hit.
    """

    targets: PrecisionTargets
    replications: int
    rounds: tuple[int, ...]
    checks: tuple[Check, ...]
    last: str | None

    @property
    def met(self) -> bool:
        return not self.misses

    @property
    def misses(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == "missed")

    @property
    def skipped(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == "skipped")

    def lines(self) -> list[str]:
        """Plain statements for reports: how many were needed, or what missed at the cap."""
        n = self.replications
        rounds = " → ".join(map(str, self.rounds))
        if self.met:
            out = [
                f"--replications auto: {n} replications were enough for every target "
                f"(rounds: {rounds}); last to converge: {self.last or 'none'}."
            ]
        else:
            out = [
                f"--replications auto: stopped at the cap of {n} replications (rounds: {rounds}); "
                f"{len(self.misses)} half-width{'s' if len(self.misses) != 1 else ''} "
                "still above target:"
            ]
            out += [f"  {c.describe()}" for c in self.misses]
        if self.skipped:
            out.append("no target applied to: " + "; ".join(c.describe() for c in self.skipped))
        return out

    def to_dict(self) -> dict[str, object]:
        """Plain dict for JSON."""
        return {
            "replications": self.replications,
            "rounds": list(self.rounds),
            "met": self.met,
            "last_to_converge": self.last,
            "relative": self.targets.relative,
            "absolute": dict(self.targets.absolute),
            "min_replications": self.targets.min_replications,
            "max_replications": self.targets.max_replications,
            "misses": [
                {"metric": c.metric, "what": c.what, "half_width": c.half_width, "target": c.target}
                for c in self.misses
            ],
            "skipped": [{"metric": c.metric, "what": c.what, "note": c.note} for c in self.skipped],
        }


def worst_metric(checks: list[Check]) -> str | None:
    """The metric with the largest half-width / target among ``checks`` (NaN counts as worst)."""
    scored = [c for c in checks if c.target is not None]
    if not scored:
        return None
    return max(scored, key=lambda c: math.inf if math.isnan(c.ratio) else c.ratio).metric
