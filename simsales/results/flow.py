"""Flow metrics of one replication: cycle time, stage conversion and time in stage, WIP.

Cycle time is measured as a CRM measures it, from assignment to the recorded close, so that a
no-decision deal's quiet weeks before the close-out count (DESIGN §3). Time in stage instead ends at
the *real* end (``ended_at``) of a deal's last stage: it describes the process, not the CRM.
Work in progress, on the other hand, lasts until the CRM close: an unrecorded dead deal still sits
in the seller's pipeline.
"""

from __future__ import annotations

import numpy as np

from simsales.model.records import DISQUALIFIED, LOST, NO_DECISION, OPEN, OUTCOMES, WON
from simsales.results._numeric import mean, median, ratio
from simsales.results.intervals import next_entry, time_average_count
from simsales.results.survival import km_quantiles
from simsales.results.table import DealTable

#: Outcomes that end an opportunity (everything but open and unworked).
CLOSED_OUTCOMES: tuple[int, ...] = (WON, LOST, NO_DECISION, DISQUALIFIED)

#: Hours in a day, to put seller hours and cycle days on one scale (flow efficiency).
HOURS_PER_DAY = 24.0


def cycle_metrics(table: DealTable) -> dict[str, float]:
    """Cycle-time metrics: Kaplan–Meier median and p90, means, per-outcome medians and means.

    Open opportunities enter the Kaplan–Meier estimate censored at their age at the horizon;
    per-outcome figures are over closed deals of that outcome (an outcome is only known at the end).
    """
    opp = table.opportunities
    outcome = table["outcome"]
    is_open = outcome == OPEN
    age = np.where(is_open, table.horizon_days, table["closed_at"]) - table["assigned_at"]
    closed = opp & ~is_open
    known = opp & np.isfinite(age)
    median_days, p90_days = km_quantiles(age[known], is_open[known], (0.5, 0.9))
    out: dict[str, float] = {
        "cycle_median_days": median_days,
        "cycle_p90_days": p90_days,
        "cycle_mean_days": mean(age[closed]),
    }
    for code in CLOSED_OUTCOMES:
        cycles = age[opp & (outcome == code)]
        out[f"cycle_median_{OUTCOMES[code]}_days"] = median(cycles)
        out[f"cycle_mean_{OUTCOMES[code]}_days"] = mean(cycles)
    out["won_median_days"] = out["cycle_median_won_days"]
    return out


def stage_metrics(table: DealTable) -> dict[str, float]:
    """Per stage: reach, conversion from the stage before, and mean days spent in it.

    Time in stage averages over opportunities that have left the stage: by entering a later
    stage, or by ending (decision, disqualification, going dark) while in it. Deals still in the
    stage at the horizon are left out, which understates long stays when many deals are open.
    """
    opp = table.opportunities
    entered = table["stage_entered"][opp]
    ended = table["ended_at"][opp]
    ended = np.where(np.isfinite(ended), ended, table["closed_at"][opp])
    is_open = table["outcome"][opp] == OPEN
    later = next_entry(entered)
    exit_at = np.where(
        np.isfinite(later), later, np.where(is_open[:, None], np.nan, ended[:, None])
    )
    has_entered = np.isfinite(entered)
    n_entered = has_entered.sum(axis=0)
    n_opp = int(opp.sum())
    out: dict[str, float] = {}
    for k, key in enumerate(table.stage_keys):
        out[f"reach_{key}"] = ratio(n_entered[k], n_opp)
    for k, key in enumerate(table.stage_keys[1:], start=1):
        out[f"conversion_{key}"] = ratio(n_entered[k], n_entered[k - 1])
    stay = exit_at - entered
    for k, key in enumerate(table.stage_keys):
        left = stay[:, k][np.isfinite(stay[:, k])]
        out[f"days_in_{key}"] = mean(left)
    return out


def wip_metrics(table: DealTable, *, n_sellers: int) -> dict[str, float]:
    """Time-average work in progress over the window, overall, per stage and per seller.

    Uses every deal, counted or not: a deal created in the warm-up and still open in the window is
    work in progress in the window. A deal holds WIP from assignment to its CRM close (or the
    horizon), and sits in stage k from entering it until entering a later stage or the close.
    Also flow efficiency, which shares the seller-hours-over-elapsed-time view.
    """
    lo, hi = table.warmup_days, table.horizon_days
    closed_at = table["closed_at"]
    out: dict[str, float] = {
        "wip_mean": time_average_count(table["assigned_at"], closed_at, lo, hi)
    }
    entered = table["stage_entered"]
    later = next_entry(entered)
    leave = np.where(np.isfinite(later), later, closed_at[:, None])
    for k, key in enumerate(table.stage_keys):
        out[f"wip_{key}"] = time_average_count(entered[:, k], leave[:, k], lo, hi)
    out["wip_per_seller"] = ratio(out["wip_mean"], n_sellers)
    closed = table.opportunities & np.isin(table["outcome"], CLOSED_OUTCOMES)
    hours = np.sum(table["call_hours"][closed], dtype=float) + np.sum(
        table["work_hours"][closed], dtype=float
    )
    out["flow_efficiency"] = ratio(hours / HOURS_PER_DAY, np.sum(table.cycle_days[closed]))
    return out
