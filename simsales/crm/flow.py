"""Stage conversion, time in stage and activities per opportunity: what a history says.

The same functions read a CRM's history and the simulator's deal table, so that a fit compares
like with like. ``stage_flow`` works on a matrix of the day each opportunity first entered each
stage; ``export_stage_flow`` builds it from a ``StageHistory``, ``table_stage_flow`` from a
``DealTable`` (the stages from the one ``crm.opens_at`` names, measured as a CRM sees them).

Per stage: how many opportunities entered it; how many **moved on** (entered a later stage: a
process may skip one), **ended in it** (closed without entering a later one) or are **still in
it** (open). **Conversion** is the share of those that left the stage that moved on — open ones
have not left yet, and counting them as lost would make a young pipeline look leaky. **Won** is
the share of those that entered the stage and have ended that were won. **Time in stage** runs
from the first entry to the first entry of a later stage, or to the close; an open opportunity
still in the stage is right-censored at the last day the data knows (Kaplan–Meier, as cycle
times are: ``simsales.results.survival``), so that slow stages are not made to look fast by
leaving out exactly the slow ones. Time in stage ends at the CRM's close, not at the real end the
model knows (``results.flow`` uses that): a no decision sits in its stage until it is closed out.

Activities: per type, the total, the mean per opportunity over all of them, and the means over
the won and over those closed not won (open ones are still collecting activities).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simsales.crm.history import ActivityLog, StageHistory
from simsales.crm.mapping import label_key
from simsales.crm.reader import CRM_OUTCOMES, CrmExport
from simsales.model.records import OPEN, WON
from simsales.results._numeric import mean, ratio
from simsales.results.intervals import next_entry
from simsales.results.survival import km_quantiles
from simsales.results.table import DealTable

__all__ = [
    "ActivitySummary",
    "StageFlow",
    "activity_lines",
    "activity_summary",
    "export_stage_flow",
    "stage_flow",
    "stage_flow_lines",
    "stage_pairs",
    "table_stage_flow",
]

_WON = CRM_OUTCOMES.index("won")

#: What the columns of the stage table mean, printed under it.
_STAGE_NOTES: tuple[str, ...] = (
    "  conversion: of those that left the stage, the share that entered a later one; won: of",
    "  those that entered it and ended, the share won; days in stage (to a later stage or the",
    "  close): Kaplan-Meier median and p90, the open ones still in it right-censored",
)


@dataclass(frozen=True)
class StageFlow:
    """Per stage, in process order; see the module docstring. Shares and days are NaN where
    undefined (no one left the stage; the last stage has no later one to move on to; too many
    still in the stage for the Kaplan–Meier curve to reach the quantile)."""

    stages: tuple[str, ...]
    opportunities: int  # opportunities with at least one stage entered
    entered: tuple[int, ...]
    moved_on: tuple[int, ...]
    ended_in: tuple[int, ...]
    still_in: tuple[int, ...]
    conversion: tuple[float, ...]
    won: tuple[float, ...]
    median_days: tuple[float, ...]
    p90_days: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """One record per stage, for JSON (NaN as None)."""
        fields = ("entered", "moved_on", "ended_in", "still_in", "conversion", "won")
        rows = []
        for k, name in enumerate(self.stages):
            row: dict[str, Any] = {"stage": name}
            row |= {f: _plain(getattr(self, f)[k]) for f in fields}
            row |= {
                "median_days": _plain(self.median_days[k]),
                "p90_days": _plain(self.p90_days[k]),
            }
            rows.append(row)
        return {"opportunities_with_stages": self.opportunities, "stages": rows}


def stage_flow(
    entered: np.ndarray,
    *,
    closed: np.ndarray,
    won: np.ndarray,
    end_day: float,
    stages: tuple[str, ...],
) -> StageFlow:
    """The flow through ``stages`` of opportunities, one row each.

    ``entered`` (opportunities × stages): the day each first entered each stage, NaN if never;
    ``closed``: the day each was closed, NaN while open; ``won``: closed won; ``end_day``: the
    last day the data knows, where open opportunities are censored. Days in any unit of days.
    """
    entered = np.asarray(entered, dtype=float)
    closed = np.asarray(closed, dtype=float)
    won = np.asarray(won, dtype=bool)
    n, k_stages = entered.shape
    if k_stages != len(stages) or closed.shape != (n,) or won.shape != (n,):
        raise ValueError("entered must be (opportunities, stages), closed and won (opportunities,)")
    has = np.isfinite(entered)
    later = next_entry(entered)
    moved = np.isfinite(later)
    ended = np.isfinite(closed)[:, None] & ~moved
    exit_day = np.where(moved, later, np.where(ended, closed[:, None], end_day))
    stay = np.clip(exit_day - entered, 0.0, None)  # out of order entries (warned) count as 0 days
    out: dict[str, list[Any]] = {key: [] for key in ("entered", "moved", "ended", "still")}
    conversion, won_share, medians, p90s = [], [], [], []
    for k in range(k_stages):
        inside = has[:, k]
        n_moved = int(np.sum(inside & moved[:, k]))
        n_ended = int(np.sum(inside & ended[:, k]))
        out["entered"].append(int(inside.sum()))
        out["moved"].append(n_moved)
        out["ended"].append(n_ended)
        out["still"].append(int(inside.sum()) - n_moved - n_ended)
        conversion.append(ratio(n_moved, n_moved + n_ended) if k < k_stages - 1 else np.nan)
        done = inside & np.isfinite(closed)
        won_share.append(ratio(int(np.sum(done & won)), int(done.sum())))
        censored = ~(moved[:, k] | ended[:, k])
        median, p90 = km_quantiles(stay[inside, k], censored[inside], (0.5, 0.9))
        medians.append(median)
        p90s.append(p90)
    return StageFlow(
        stages=stages,
        opportunities=int(np.sum(has.any(axis=1))),
        entered=tuple(out["entered"]),
        moved_on=tuple(out["moved"]),
        ended_in=tuple(out["ended"]),
        still_in=tuple(out["still"]),
        conversion=tuple(conversion),
        won=tuple(won_share),
        median_days=tuple(medians),
        p90_days=tuple(p90s),
    )


def export_stage_flow(export: CrmExport, history: StageHistory) -> StageFlow:
    """The stage flow of an export's opportunities, from their stage history.

    Open opportunities are censored at the last day export and history know of.
    """
    end_day = max(export.end_day, float(history.entered.max()) if len(history) else 0.0)
    return stage_flow(
        history.first_entries(len(export)),
        closed=export.closed,
        won=export.outcome == _WON,
        end_day=end_day,
        stages=history.stages,
    )


def table_stage_flow(
    table: DealTable, *, rows: np.ndarray | None = None, end_day: float | None = None
) -> StageFlow:
    """The stage flow of simulated opportunities, as a CRM's history would show it.

    The stages from the one the CRM opens an opportunity at (``crm.opens_at``); ``rows`` picks
    the records (default: every record that became an opportunity, as ``write_crm_export``
    writes them); open ones are censored at ``end_day`` (default: the horizon).
    """
    pick = table.opportunity if rows is None else np.asarray(rows, dtype=bool)
    first = table.opens_stage
    outcome = table["outcome"][pick]
    return stage_flow(
        table["stage_entered"][pick, first:],
        closed=np.where(outcome == OPEN, np.nan, table["closed_at"][pick]),
        won=outcome == WON,
        end_day=table.horizon_days if end_day is None else end_day,
        stages=table.stage_names[first:],
    )


def stage_pairs(observed: StageFlow, simulated: StageFlow) -> list[tuple[int, int]]:
    """Each stage of ``observed`` with the same stage of ``simulated`` (names matched as labels
    are): (observed index, simulated index), in the observed order, to compare them stage by
    stage. ``ValueError`` names the observed stages the simulation has not got."""
    index = {label_key(name): k for k, name in enumerate(simulated.stages)}
    unknown = [name for name in observed.stages if label_key(name) not in index]
    if unknown:
        raise ValueError(
            f"the history names stages the scenario has not got: {', '.join(map(repr, unknown))} "
            f"(its stages from the opening on: {', '.join(map(repr, simulated.stages))})"
        )
    return [(k, index[label_key(name)]) for k, name in enumerate(observed.stages)]


@dataclass(frozen=True)
class ActivitySummary:
    """Activities per type: totals and means per opportunity, overall and by outcome."""

    types: tuple[str, ...]
    kinds: tuple[str, ...]
    opportunities: int
    won: int  # closed won
    not_won: int  # closed lost, no decision or disqualified
    without_any: int  # opportunities with no activity kept
    total: tuple[int, ...]
    per_opportunity: tuple[float, ...]
    per_won: tuple[float, ...]
    per_not_won: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """Counts and one record per type, for JSON (NaN as None)."""
        head = ("opportunities", "won", "not_won", "without_any")
        rows = [
            {
                "type": name,
                "kind": self.kinds[i],
                "total": self.total[i],
                "per_opportunity": _plain(self.per_opportunity[i]),
                "per_won": _plain(self.per_won[i]),
                "per_not_won": _plain(self.per_not_won[i]),
            }
            for i, name in enumerate(self.types)
        ]
        return {h: getattr(self, h) for h in head} | {"types": rows}


def activity_summary(export: CrmExport, log: ActivityLog) -> ActivitySummary:
    """Activities of an export's opportunities by type, overall and for won and not won."""
    counts = log.counts(len(export))
    closed = np.isfinite(export.closed)
    won = closed & (export.outcome == _WON)
    lost = closed & ~won

    def means(rows: np.ndarray) -> tuple[float, ...]:
        return tuple(mean(counts[rows, i]) for i in range(len(log.types)))

    return ActivitySummary(
        types=log.types,
        kinds=log.kinds,
        opportunities=len(export),
        won=int(won.sum()),
        not_won=int(lost.sum()),
        without_any=int(np.sum(counts.sum(axis=1) == 0)),
        total=tuple(int(c) for c in counts.sum(axis=0)),
        per_opportunity=means(np.ones(len(export), dtype=bool)),
        per_won=means(won),
        per_not_won=means(lost),
    )


def stage_flow_lines(flow: StageFlow, history: StageHistory) -> list[str]:
    """The stage history's summary in plain lines for the terminal."""
    lines = [
        f"{history.path}: {history.rows_read} rows read: {len(history)} stage entries kept, "
        f"{len(history.errors)} left out"
        + (" (each named above, with its line)" if history.errors else "")
        + (f", {len(history.warnings)} kept with a warning" if history.warnings else ""),
        f"  not stages: {history.before_opportunity} before the opportunity opened, "
        f"{history.ignored} ignored",
    ]
    if not flow.opportunities:
        return lines
    lines.append(f"stages of the {flow.opportunities} opportunities with a history:")
    width = max(5, *(len(s) for s in flow.stages))
    lines.append(
        f"  {'stage':<{width}}  entered  moved on  ended in  still in  conversion    won"
        "  median days  p90 days"
    )
    for k, name in enumerate(flow.stages):
        lines.append(
            f"  {name:<{width}}  {flow.entered[k]:7d}  {flow.moved_on[k]:8d}  "
            f"{flow.ended_in[k]:8d}  {flow.still_in[k]:8d}  {_share(flow.conversion[k]):>10}"
            f"  {_share(flow.won[k]):>5}  {_days(flow.median_days[k]):>11}  "
            f"{_days(flow.p90_days[k]):>8}"
        )
    return [*lines, *_STAGE_NOTES]


def activity_lines(summary: ActivitySummary, log: ActivityLog) -> list[str]:
    """The activity log's summary in plain lines for the terminal."""
    lines = [
        f"{log.path}: {log.rows_read} rows read: {len(log)} activities kept, {log.ignored} "
        f"ignored, {len(log.errors)} left out"
        + (" (each named above, with its line)" if log.errors else "")
        + (f", {len(log.warnings)} kept with a warning" if log.warnings else ""),
    ]
    if not summary.types:
        return lines
    s = summary
    lines.append(
        f"activities per opportunity, mean: over all {s.opportunities} ({s.without_any} with "
        f"none), the {s.won} won, the {s.not_won} closed not won:"
    )
    width = max(4, *(len(t) for t in s.types))
    show_kind = any(k != "other" for k in s.kinds)
    kind_head = "  kind   " if show_kind else ""
    lines.append(f"  {'type':<{width}}{kind_head}    total  per opp     won  not won")
    for i, name in enumerate(s.types):
        kind = f"  {s.kinds[i]:<7}" if show_kind else ""
        lines.append(
            f"  {name:<{width}}{kind}  {s.total[i]:7d}  {_count(s.per_opportunity[i]):>7}  "
            f"{_count(s.per_won[i]):>6}  {_count(s.per_not_won[i]):>7}"
        )
    return lines


def _plain(value: float) -> float | int | None:
    return None if isinstance(value, float) and np.isnan(value) else value


def _share(value: float) -> str:
    return "-" if np.isnan(value) else f"{100 * value:.0f}%"


def _days(value: float) -> str:
    return "-" if np.isnan(value) else f"{value:.1f}"


def _count(value: float) -> str:
    return "-" if np.isnan(value) else f"{value:.1f}"
