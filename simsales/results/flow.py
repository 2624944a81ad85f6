"""Flow metrics of one replication: cycle time, stage conversion and time in stage, WIP.

Cycle time is measured as a CRM measures it, from the opportunity's opening (``crm.opens_at``)
to the recorded close, so that a no-decision deal's quiet weeks before the close-out count
(DESIGN §3). Time in stage instead ends at
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

#: Outcomes that end an opportunity (no response and unworked end a suspect before one opens).
CLOSED_OUTCOMES: tuple[int, ...] = (WON, LOST, NO_DECISION, DISQUALIFIED)


def cycle_metrics(table: DealTable) -> dict[str, float]:
    """Cycle time of opportunities, from their opening to the recorded close: Kaplan–Meier median
    and p90 over all, means, and per-outcome medians and means (the won ones' p90 too).

    Open opportunities enter the Kaplan–Meier estimate censored at their age at the horizon;
    per-outcome figures are over closed opportunities of that outcome (an outcome is only known
    at the end).
    """
    opp = table.opportunities
    outcome = table["outcome"]
    is_open = outcome == OPEN
    age = np.where(is_open, table.horizon_days, table["closed_at"]) - table.opened_at
    closed = opp & ~is_open
    known = opp & np.isfinite(age)
    median_days, p90_days = km_quantiles(age[known], is_open[known], (0.5, 0.9))
    won = age[opp & (outcome == WON)]
    out: dict[str, float] = {
        "cycle_median_won_days": median(won),
        "cycle_p90_won_days": float(np.quantile(won, 0.9)) if won.size else np.nan,
        "cycle_mean_won_days": mean(won),
        "cycle_median_days": median_days,
        "cycle_p90_days": p90_days,
        "cycle_mean_days": mean(age[closed]),
    }
    for code in (LOST, NO_DECISION, DISQUALIFIED):
        cycles = age[opp & (outcome == code)]
        out[f"cycle_median_{OUTCOMES[code]}_days"] = median(cycles)
        out[f"cycle_mean_{OUTCOMES[code]}_days"] = mean(cycles)
    return out


def stage_metrics(table: DealTable) -> dict[str, float]:
    """Per stage: reach, conversion from the stage before, and mean days spent in it.

    Over worked suspects (a seller took them on), so that the stages before the opportunity
    opens (outreach) are in the funnel too. Time in stage averages over records that have left
    the stage: by entering a later stage, or by ending (decision, disqualification, going dark)
    while in it. Records still in the stage at the horizon are left out, which understates long
    stays when many are open.
    """
    opp = table.worked
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
    return out
