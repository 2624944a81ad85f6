"""Summaries of opportunities that a fit compares: the same code for the export and the model.

A simulated run is first turned into what the team's CRM would have exported over the same
period (``simulated_export``: opportunities as ``crm.opens_at`` opens them, created in the
export's window, those not ended by its last day still open), and then summarised by
``summarise`` exactly as the export is. Observed and simulated numbers thus differ only by what
happened, never by how they were counted.

The summaries: the share of each outcome (open included: the simulated export is censored on
the same day); time to each outcome as Kaplan–Meier quartiles on a log scale (open deals
right-censored at their age); the pipeline's age (the share still open among opportunities
created in the last 90 days, 90-180 days and earlier). Each carries a standard error, so that a
difference can be read in standard errors: binomial for shares, the asymptotic one for a
quantile (the binomial error of the level, carried through the curve's slope).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from simsales.crm.reader import CRM_OUTCOMES, CrmExport
from simsales.results.survival import km_quantiles

__all__ = [
    "CYCLE_LEVELS",
    "SimulatedWindow",
    "Summaries",
    "Summary",
    "closed_outcomes",
    "seen_on",
    "simulated_export",
    "summarise",
]

OPEN, WON, LOST, NO_DECISION, DISQUALIFIED = range(len(CRM_OUTCOMES))
#: The Kaplan–Meier levels of time to each outcome compared.
CYCLE_LEVELS: tuple[float, ...] = (0.25, 0.5, 0.75)
#: Age bands of the open pipeline, days before the export's last day.
AGE_BANDS: tuple[tuple[float, float], ...] = ((0.0, 90.0), (90.0, 180.0), (180.0, math.inf))


@dataclass(frozen=True)
class Summary:
    """One compared number: ``value`` (NaN: cannot be computed from these data) and its
    standard error; ``unit`` is "share" or "log days"; ``n`` the opportunities behind it."""

    name: str
    label: str
    value: float
    se: float
    unit: str
    n: int


@dataclass(frozen=True)
class Summaries:
    """The summaries of one export (or of a run's simulated export), by name."""

    items: dict[str, Summary]
    opportunities: int
    closed: int
    span_days: float

    def __getitem__(self, name: str) -> Summary:
        return self.items[name]


def closed_outcomes(merge_disqualified: bool) -> tuple[int, ...]:
    """The closed outcome codes compared: disqualified joins lost when the export books none."""
    return (
        (WON, LOST, NO_DECISION) if merge_disqualified else (WON, LOST, NO_DECISION, DISQUALIFIED)
    )


def summarise(
    export: CrmExport, *, end_day: float, merge_disqualified: bool, start_day: float = 0.0
) -> Summaries:
    """The summaries of the opportunities of ``export`` created in ``[start_day, end_day)``,
    seen on ``end_day`` (later closes count as still open)."""
    created = export.created
    keep = (created >= start_day) & (created < end_day)
    outcome, is_open, age = seen_on(export, end_day, merge_disqualified, keep)
    created = created[keep]
    n = int(keep.sum())
    items: dict[str, Summary] = {}
    for code in (*closed_outcomes(merge_disqualified), OPEN):
        name = CRM_OUTCOMES[code]
        label = "lost (disqualified included)" if code == LOST and merge_disqualified else name
        items[f"share_{name}"] = _share(
            f"share_{name}", f"share {label}", int((outcome == code).sum()), n
        )
    for code in closed_outcomes(merge_disqualified):
        items.update(_cycle(CRM_OUTCOMES[code], age, outcome == code, is_open))
    ages = end_day - created
    for low, high in AGE_BANDS:
        band = (ages >= low) & (ages < high)
        shown = f"{low:.0f}+" if math.isinf(high) else f"{low:.0f}-{high:.0f}"
        name = f"open_aged_{shown.replace('+', 'plus').replace('-', '_')}"
        items[name] = _share(
            name,
            f"still open, created {shown} days before the end",
            int((band & is_open).sum()),
            int(band.sum()),
        )
    return Summaries(
        items=items, opportunities=n, closed=int((~is_open).sum()), span_days=end_day - start_day
    )


def seen_on(
    export: CrmExport,
    end_day: float,
    merge_disqualified: bool,
    keep: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(outcome, open, age) of the opportunities of ``export`` (``keep``: those picked) as the
    CRM showed them on ``end_day``: a later close is still open, an open one is aged to that
    day, and with ``merge_disqualified`` disqualified counts as lost."""
    pick = slice(None) if keep is None else keep
    outcome = export.outcome[pick].astype(int)
    closed = export.closed[pick]
    late = np.isfinite(closed) & (closed > end_day)
    outcome = np.where(late, OPEN, outcome)
    if merge_disqualified:
        outcome = np.where(outcome == DISQUALIFIED, LOST, outcome)
    is_open = outcome == OPEN
    age = np.where(is_open, end_day, closed) - export.created[pick]
    return outcome, is_open, age


def _share(name: str, label: str, count: int, n: int) -> Summary:
    if n == 0:
        return Summary(name, label, math.nan, math.nan, "share", 0)
    p = count / n
    floor = 0.5 / n  # a share of 0 or 1 still has an error: a count of zero is not certain
    se = math.sqrt(max(p * (1 - p), floor * (1 - floor)) / n)
    return Summary(name, label, p, se, "share", n)


def _cycle(
    outcome: str, age: np.ndarray, event: np.ndarray, is_open: np.ndarray
) -> dict[str, Summary]:
    """KM quartiles of log days to ``outcome`` (deals with that outcome are the events, open
    deals censored at their age, other outcomes left out)."""
    use = event | is_open
    days, censored = np.maximum(age[use], 0.5), is_open[use]
    events = int(event.sum())
    levels = sorted({*CYCLE_LEVELS, *(round(x + d, 6) for x in CYCLE_LEVELS for d in (-_DQ, _DQ))})
    found = km_quantiles(days, censored, levels) if events else [math.nan] * len(levels)
    q = dict(zip(levels, found, strict=True))
    out = {}
    for level in CYCLE_LEVELS:
        name = f"cycle_{outcome}_p{round(level * 100)}"
        # a quartile the curve only just reaches moves with every deal: compared only when
        # the curve reaches a tenth beyond it
        reached = np.isfinite(q[level]) and np.isfinite(q[round(level + _DQ, 6)])
        value = math.log(q[level]) if reached else math.nan
        slope = _log_slope(q, level)
        se = slope * math.sqrt(level * (1 - level) / events) if events else math.nan
        label = f"days to {outcome}, p{round(level * 100)} (KM)"
        out[name] = Summary(name, label, value, se, "log days", events)
    return out


#: Half the width of the probability band over which a quantile's slope is read.
_DQ = 0.1


def _log_slope(q: dict[float, float], level: float) -> float:
    """Log days per unit of probability around ``level`` (a quantile's error is the level's
    binomial error times this slope): read over level ± 0.1, or one side of it, so that a
    quantile in a gap between two humps of the curve gets the large error it has."""
    low, high = round(level - _DQ, 6), round(level + _DQ, 6)
    for a, b in ((low, high), (level, high), (low, level)):
        qa, qb = q.get(a, math.nan), q.get(b, math.nan)
        if np.isfinite(qa) and np.isfinite(qb) and qb > qa:
            return (math.log(qb) - math.log(qa)) / (b - a)
    return 2.5  # about a lognormal's with p90/p50 = 3, when the curve says too little


# --- the model's opportunities as the CRM would have exported them ------------------------------


@dataclass(frozen=True)
class SimulatedWindow:
    """The export's period inside a run: opportunities opened in ``[start, start + span)`` of
    simulated time, seen on day ``start + span``. Picklable: it reduces a run in the worker."""

    start: float
    span: float

    def __call__(self, records: object) -> SimulatedOpportunities:
        from simsales.results import DealTable

        table = DealTable.from_records(records)  # type: ignore[arg-type]
        return simulated_opportunities(table, self)


@dataclass(frozen=True)
class SimulatedOpportunities:
    """The compact columns of a run's simulated export (what crosses the process boundary)."""

    created: np.ndarray
    closed: np.ndarray
    outcome: np.ndarray
    amount: np.ndarray
    owner: np.ndarray


def simulated_opportunities(table: object, window: SimulatedWindow) -> SimulatedOpportunities:
    """The opportunities of a deal table opened in ``window``, in its days (see the class)."""
    opened = table.opened_at  # type: ignore[attr-defined]
    end = window.start + window.span
    keep = np.isfinite(opened) & (opened >= window.start) & (opened < end)
    outcome = table["outcome"][keep].astype(np.int8)  # type: ignore[index]
    closed = table["closed_at"][keep].astype(float)  # type: ignore[index]
    ended = (outcome != OPEN) & np.isfinite(closed) & (closed <= end) & (outcome <= DISQUALIFIED)
    outcome = np.where(ended, outcome, OPEN).astype(np.int8)
    value = table["value"][keep]  # type: ignore[index]
    discount = table["discount"][keep]  # type: ignore[index]
    amount = np.where(outcome == WON, value * (1.0 - np.nan_to_num(discount)), value)
    return SimulatedOpportunities(
        created=opened[keep] - window.start,
        closed=np.where(ended, closed - window.start, np.nan),
        outcome=outcome,
        amount=amount.astype(float),
        owner=table["seller"][keep].astype(np.int32),  # type: ignore[index]
    )


def simulated_export(
    runs: Sequence[SimulatedOpportunities], *, epoch: date, name: str = "(simulated)"
) -> CrmExport:
    """One ``CrmExport`` of the pooled replications (each a team of its own), for ``summarise``."""
    parts = list(runs)
    created = np.concatenate([r.created for r in parts]) if parts else np.zeros(0)
    owners_per = [int(r.owner.max()) + 1 if r.owner.size else 0 for r in parts]
    offsets = np.cumsum([0, *owners_per])[:-1]
    owner = (
        np.concatenate([r.owner + off for r, off in zip(parts, offsets, strict=True)])
        if parts
        else np.zeros(0, np.int32)
    )
    n = created.size
    return CrmExport(
        path=name,
        epoch=epoch,
        ids=tuple(str(i) for i in range(n)),
        created=created,
        closed=np.concatenate([r.closed for r in parts]) if parts else np.zeros(0),
        forecast=np.full(n, np.nan),
        outcome=np.concatenate([r.outcome for r in parts]) if parts else np.zeros(0, np.int8),
        amount=np.concatenate([r.amount for r in parts]) if parts else np.zeros(0),
        owner=owner.astype(np.int32),
        owners=tuple(f"seller {i}" for i in range(sum(owners_per))),
        meetings=np.full(n, np.nan),
        accounts=None,
        products=None,
        rows_read=n,
        prospects=0,
    )
