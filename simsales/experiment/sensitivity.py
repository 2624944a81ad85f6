"""Sensitivity (tornado) experiments: move each lever one step down and one step up from the base.

A ``[sensitivity]`` table lists levers, each a scenario key with either explicit ``low`` and
``high`` values or a ``step`` (base ± step) or ``factor`` (base ÷ factor, base × factor) around
the base scenario's value. Every low and high setting becomes a variant of one comparison, so they
all run on the base's replications and seed (common random numbers) and each change from the base
is a paired difference with its confidence interval. A lever whose base sits at the end of its
range (activities per call at 1, a policy that is off at 0) may give only ``low`` or only
``high``: its tornado bar is one-sided.

``sensitivity_effects`` turns an experiment's result into the rows of a tornado chart: per lever
the paired change of a metric at the low and at the high setting, sorted by the total swing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simsales.analysis import PairedDifference
from simsales.results.catalogue import HEADLINE_METRICS
from simsales.scenario import Scenario
from simsales.scenario.errors import format_value
from simsales.scenario.loading import _list_index, _parse_steps
from simsales.scenario.text import PlainText

if TYPE_CHECKING:
    from simsales.experiment.sweep import ExperimentResult

__all__ = [
    "DEFAULT_METRICS",
    "Lever",
    "LeverEffect",
    "LeverRun",
    "Sensitivity",
    "base_value",
    "lever_settings",
    "sensitivity_effects",
]

#: Metrics of a sensitivity file that names none: the median time to a win and no decision.
DEFAULT_METRICS: tuple[str, ...] = HEADLINE_METRICS

Number = int | float

#: Most levers in one file: two settings each, the 10,000 scenarios an experiment may ask for.
MAX_LEVERS = 5_000


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


class Lever(_Frozen):
    """One lever: a scenario key and its low and high settings, given or around the base."""

    key: PlainText = Field(min_length=1, description="A scenario key path, as given to --set.")
    low: Number | None = Field(None, description="Value one step down.")
    high: Number | None = Field(None, description="Value one step up.")
    step: Number | None = Field(None, gt=0, description="Low = base − step, high = base + step.")
    factor: Number | None = Field(
        None, gt=1, description="Low = base ÷ factor, high = base × factor (rounded for whole)."
    )

    @model_validator(mode="after")
    def _one_way(self) -> Lever:
        given = [self.low is not None or self.high is not None, self.step is not None]
        given.append(self.factor is not None)
        if sum(given) != 1:
            raise ValueError("give low and/or high, or a step, or a factor (one of the three)")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(
                f"low ({format_value(self.low)}) must be below high ({format_value(self.high)})"
            )
        return self


class Sensitivity(_Frozen):
    """``[sensitivity]``: the levers to move one at a time, each down and up from the base."""

    levers: list[Lever] = Field(
        min_length=1,
        max_length=MAX_LEVERS,
        description="[[sensitivity.levers]] tables, at most 5,000 (each runs two scenarios).",
    )

    @model_validator(mode="after")
    def _distinct(self) -> Sensitivity:
        keys = [lever.key for lever in self.levers]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(f"each lever once; repeated: {', '.join(twice)}")
        return self


@dataclass(frozen=True, kw_only=True)
class LeverRun:
    """A lever as run: its key, label, base value, and the low and high settings with the names
    of their scenarios (``None`` where the lever has no such side)."""

    key: str
    label: str
    base: Any
    low: Number | None
    high: Number | None
    low_name: str | None
    high_name: str | None


def base_value(scenario: Scenario, key: str) -> Any:
    """The value at ``key`` (a ``--set`` key path) in the resolved scenario; a constant
    distribution reads as its value. Raises ``KeyError`` naming what is not there."""
    node: Any = scenario.model_dump(mode="python", by_alias=True)
    for step in _parse_steps(key):
        if isinstance(node, dict):
            if step not in node:
                raise KeyError(f"the base scenario has no key {key!r}")
            node = node[step]
        elif isinstance(node, list):
            found = _list_index(node, step)
            if isinstance(found, str):
                raise KeyError(f"{key!r}: the array {found}")
            node = node[found]
        else:
            raise KeyError(f"the base scenario has no key {key!r}")
    if isinstance(node, dict) and node.get("dist") == "constant":
        return node.get("value")
    return node


def lever_settings(lever: Lever, base: Any) -> tuple[Number | None, Number | None]:
    """(low, high) of ``lever`` around the base value; raises ``ValueError`` saying why not.

    A whole-number base stays whole: a factor's settings are rounded, and must still move.
    """
    if lever.step is None and lever.factor is None:
        low, high = lever.low, lever.high
    else:
        if isinstance(base, bool) or not isinstance(base, int | float):
            raise ValueError(
                f"the base value is {format_value(base)}, not a number, so a step or factor has "
                "nothing to move; give low and high"
            )
        if lever.step is not None:
            low, high = base - lever.step, base + lever.step
        else:
            assert lever.factor is not None
            low, high = base / lever.factor, base * lever.factor
            if isinstance(base, int):
                low, high = round(low), round(high)
        if isinstance(base, float) or isinstance(low, float):  # 0.3 − 0.1 is 0.2, not 0.19999…
            low, high = _tidy(low), _tidy(high)
    same = [side for side, v in (("low", low), ("high", high)) if v is not None and v == base]
    if same:
        raise ValueError(
            f"{' and '.join(same)} equals the base value {format_value(base)}: the lever would "
            "not move (leave that side out, or take a larger step)"
        )
    numeric = isinstance(base, int | float) and not isinstance(base, bool)
    if numeric and low is not None and low > base:
        raise ValueError(f"low ({format_value(low)}) is above the base ({format_value(base)})")
    if numeric and high is not None and high < base:
        raise ValueError(f"high ({format_value(high)}) is below the base ({format_value(base)})")
    return low, high


@dataclass(frozen=True, kw_only=True)
class LeverEffect:
    """A lever's paired change of one metric from the base, one step down and one step up."""

    lever: LeverRun
    down: PairedDifference | None
    up: PairedDifference | None

    @property
    def swing(self) -> float:
        """|change down| + |change up|: the length of the tornado bar, the sort key."""
        return sum(abs(d.mean) for d in (self.down, self.up) if d is not None and _finite(d))


def sensitivity_effects(result: ExperimentResult, metric: str) -> list[LeverEffect]:
    """Per lever, the paired differences of ``metric`` at its low and high settings, sorted by
    swing, largest first (levers with no finite change last, in file order)."""
    exp, comparison = result.experiment, result.comparison
    diffs = comparison.metrics[metric].differences
    effects = [
        LeverEffect(
            lever=lever,
            down=diffs.get(lever.low_name) if lever.low_name else None,
            up=diffs.get(lever.high_name) if lever.high_name else None,
        )
        for lever in exp.levers
    ]
    return sorted(effects, key=lambda e: -e.swing)


def _tidy(value: float) -> float:
    """A computed setting without the float noise of its arithmetic (12 significant digits)."""
    return float(f"{value:.12g}")


def _finite(d: PairedDifference) -> bool:
    return math.isfinite(d.mean)
