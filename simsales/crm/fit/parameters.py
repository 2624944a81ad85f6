"""The behavioural parameters a fit estimates by simulation, and how each is read and set.

The data identify arrivals, owners, deal values and outcome shares directly; these do not: they
act through the deals' stories (how fast interest fades, how often a rival wins, how often a
step goes right, how much deals differ in pace, how large the buying group is). Each is a
``FitParameter``: its scenario key, its bounds, and how a value is set in a scenario document
(the plain dict a scenario file loads into). The search works on ``u`` in [0, 1] per
parameter, spread on a log scale between the bounds, so that a step means the same relative
change wherever it is taken.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["PARAMETERS", "FitParameter", "parameter_names", "parameters_named"]

Document = dict[str, Any]


@dataclass(frozen=True)
class FitParameter:
    """One behavioural parameter: ``name`` (as ``--params`` takes it), the ``key`` it sets in
    the scenario file, bounds (``low`` < ``high``, both > 0), what it means and which data
    would pin it down when the export does not."""

    name: str
    key: str
    low: float
    high: float
    meaning: str
    pinned_by: str
    read: Callable[[Document], float]
    write: Callable[[Document, float], None]

    def value(self, u: float) -> float:
        """The value at ``u`` in [0, 1] (log scale between the bounds)."""
        u = min(max(float(u), 0.0), 1.0)
        return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))

    def position(self, value: float) -> float:
        """The ``u`` of ``value`` (clipped into the bounds)."""
        value = min(max(value, self.low), self.high)
        return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))


def _at(doc: Document, *path: str) -> Any:
    node: Any = doc
    for step in path:
        node = node[step]
    return node


def _set(doc: Document, value: float, *path: str) -> None:
    node: Any = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


def _stage_factor_read(doc: Document) -> float:
    return 1.0  # the factor is relative to the base's own p_right


def _stage_factor_write(doc: Document, factor: float) -> None:
    for stage in doc["stages"]:
        stage["p_right"] = min(0.99, stage["p_right"] * factor)


def _pace_read(doc: Document) -> float:
    pace = doc["buyers"]["pace"]
    if pace.get("dist") == "lognormal":
        return float(pace["p90"]) / float(pace["median"])
    return 3.0


def _pace_write(doc: Document, spread: float) -> None:
    pace = doc["buyers"]["pace"]
    median = float(pace["median"]) if pace.get("dist") == "lognormal" else 1.0
    doc["buyers"]["pace"] = {
        "dist": "lognormal",
        "median": median,
        "p90": round(median * spread, 4),
    }


def _group_read(doc: Document) -> float:
    return 1.0  # the factor is relative to the base's own group sizes


def _group_write(doc: Document, factor: float) -> None:
    group = doc["buyers"]["group_size"]
    if group.get("dist") == "empirical":
        values = [max(1.0, round(v * factor, 2)) for v in group["values"]]
        doc["buyers"]["group_size"] = {**group, "values": values}
    elif group.get("dist") == "constant":
        doc["buyers"]["group_size"] = {
            **group,
            "value": max(1.0, round(group["value"] * factor, 2)),
        }
    else:
        raise ValueError("the group-size factor needs an empirical or constant buyers.group_size")


PARAMETERS: tuple[FitParameter, ...] = (
    FitParameter(
        name="half_life",
        key="buyers.momentum.half_life_days",
        low=3.0,
        high=150.0,
        meaning="days for a buyer's momentum to halve without contact",
        pinned_by="the dates of calls and e-mails (an activity log): the gaps between contacts "
        "and what followed them",
        read=lambda doc: float(_at(doc, "buyers", "momentum", "half_life_days")),
        write=lambda doc, v: _set(doc, round(v, 3), "buyers", "momentum", "half_life_days"),
    ),
    FitParameter(
        name="no_decision",
        key="buyers.no_decision.max_hazard_per_day",
        low=3e-4,
        high=0.08,
        meaning="daily hazard of going dark at zero momentum",
        pinned_by="more closed no-decision deals, booked apart from losses, with the date they "
        "went quiet",
        read=lambda doc: float(_at(doc, "buyers", "no_decision", "max_hazard_per_day")),
        write=lambda doc, v: _set(
            doc, float(f"{v:.4g}"), "buyers", "no_decision", "max_hazard_per_day"
        ),
    ),
    FitParameter(
        name="competition",
        key="buyers.competition.hazard_per_day",
        low=1e-5,
        high=0.01,
        meaning="daily hazard that an alternative wins the deal",
        pinned_by="more closed lost deals, with the stage each was lost at (stage history) and "
        "the reason",
        read=lambda doc: float(_at(doc, "buyers", "competition", "hazard_per_day")),
        write=lambda doc, v: _set(
            doc, float(f"{v:.4g}"), "buyers", "competition", "hazard_per_day"
        ),
    ),
    FitParameter(
        name="p_right",
        key="stages.*.p_right",
        low=0.6,
        high=1.2,
        meaning="factor on every stage's chance of doing an activity right (p_right, at most 0.99)",
        pinned_by="stage history: how many opportunities pass each stage, and how many calls "
        "each stage takes",
        read=_stage_factor_read,
        write=_stage_factor_write,
    ),
    FitParameter(
        name="pace",
        key="buyers.pace",
        low=1.2,
        high=10.0,
        meaning="spread of deals' pace: p90 over median of the lognormal pace factor",
        pinned_by="more closed deals over a longer period: the slow tail of cycle times",
        read=_pace_read,
        write=_pace_write,
    ),
    FitParameter(
        name="group_size",
        key="buyers.group_size",
        low=0.4,
        high=2.0,
        meaning="factor on the buying group's size (stakeholders per deal)",
        pinned_by="the contacts (roles) attached to each opportunity: how many people buy",
        read=_group_read,
        write=_group_write,
    ),
)


def parameter_names() -> tuple[str, ...]:
    return tuple(p.name for p in PARAMETERS)


def parameters_named(names: Sequence[str]) -> tuple[FitParameter, ...]:
    """The parameters of ``names`` in the order of ``PARAMETERS``; ``ValueError`` naming any
    unknown one."""
    known = {p.name: p for p in PARAMETERS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(known)}")
    if not names:
        raise ValueError(f"no parameters to fit; known: {', '.join(known)}")
    return tuple(p for p in PARAMETERS if p.name in names)


def values_at(parameters: Sequence[FitParameter], u: np.ndarray) -> dict[str, float]:
    """Each parameter's value at the point ``u`` of the search space."""
    return {p.name: p.value(float(x)) for p, x in zip(parameters, u, strict=True)}
