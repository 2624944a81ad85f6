"""Stage by stage, the export's history against the fitted scenario's: where a history exists.

A stage history says what the opportunity export cannot: how many opportunities pass each
stage, and how long each stage takes. The fit's search does not use it (its summaries are the
export's own); this check runs the fitted scenario over the export's period and counts its
stages exactly as ``simsales import`` counts the team's (``crm.flow.stage_flow``: conversion of
those that left a stage, Kaplan–Meier days in stage with the open ones censored on the export's
last day), so that a stage the fit gets wrong shows, with the observed value's interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simsales.crm.fit.fitting import Fitted
from simsales.crm.flow import StageFlow, export_stage_flow, stage_flow, stage_pairs
from simsales.crm.history import StageHistory
from simsales.crm.reader import CrmExport
from simsales.model.records import OPEN, WON

__all__ = ["StageCheck", "StageRow", "stage_check"]

#: Replications of the fitted scenario behind the simulated stage flow.
STAGE_REPLICATIONS = 4


@dataclass(frozen=True)
class StageRow:
    """One stage: the observed and simulated conversion (with the observed one's 95% interval)
    and median days in stage."""

    stage: str
    entered: int
    conversion: float
    conversion_low: float
    conversion_high: float
    simulated_conversion: float
    median_days: float
    simulated_median_days: float

    @property
    def conversion_inside(self) -> bool | None:
        """Whether the simulated conversion falls in the observed one's interval (None: one of
        them is undefined, as at the last stage)."""
        if not (math.isfinite(self.conversion) and math.isfinite(self.simulated_conversion)):
            return None
        return self.conversion_low <= self.simulated_conversion <= self.conversion_high


@dataclass(frozen=True)
class StageCheck:
    """The stage history's check of a fit: the two flows and a row per observed stage."""

    observed: StageFlow
    simulated: StageFlow
    rows: tuple[StageRow, ...]
    replications: int


def stage_check(
    fitted: Fitted,
    export: CrmExport,
    history: StageHistory,
    *,
    replications: int = STAGE_REPLICATIONS,
) -> StageCheck:
    """Run the fitted scenario ``replications`` times over the export's period and compare its
    stage flow with the history's. ``ValueError`` when the history names stages the scenario
    has not got (its message names them)."""
    observed = export_stage_flow(export, history)
    simulated = _simulated_flow(fitted, replications)
    rows = []
    for k, j in stage_pairs(observed, simulated):
        left = observed.moved_on[k] + observed.ended_in[k]
        p = observed.conversion[k]
        half = 1.96 * math.sqrt(p * (1 - p) / left) if left and math.isfinite(p) else math.nan
        rows.append(
            StageRow(
                stage=observed.stages[k],
                entered=observed.entered[k],
                conversion=p,
                conversion_low=max(0.0, p - half),
                conversion_high=min(1.0, p + half),
                simulated_conversion=simulated.conversion[j],
                median_days=observed.median_days[k],
                simulated_median_days=simulated.median_days[j],
            )
        )
    return StageCheck(observed, simulated, tuple(rows), replications)


def _simulated_flow(fitted: Fitted, replications: int) -> StageFlow:
    """The stage flow of the fitted scenario's opportunities opened in the export's window,
    seen on its last day (later entries and closes not yet happened), replications pooled."""
    from simsales.model import simulate
    from simsales.results import DealTable

    plan = fitted.plan
    scenario = fitted.scenario
    start, end = plan.window.start, plan.window.start + plan.window.span
    entries, closed, won = [], [], []
    stages: tuple[str, ...] = ()
    for replication in range(replications):
        table = DealTable.from_records(simulate(scenario, seed=plan.seed, replication=replication))
        opened = table.opened_at
        rows = table.opportunity & np.isfinite(opened) & (opened >= start) & (opened < end)
        first = table.opens_stage
        entered = np.array(table["stage_entered"][rows, first:], dtype=float)
        entered[entered > end] = np.nan  # not yet entered on the export's day
        outcome = table["outcome"][rows]
        close = np.array(table["closed_at"][rows], dtype=float)
        close[(outcome == OPEN) | ~(close <= end)] = np.nan  # still open on that day
        entries.append(entered)
        closed.append(close)
        won.append((outcome == WON) & np.isfinite(close))
        stages = tuple(table.stage_names[first:])
    return stage_flow(
        np.concatenate(entries),
        closed=np.concatenate(closed),
        won=np.concatenate(won),
        end_day=end,
        stages=stages,
    )
