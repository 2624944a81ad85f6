"""Summary metrics of one replication: a flat dict of metric name -> float.

Every metric is one number per replication, so that replications can be averaged with confidence
intervals (``summary``) and compared pairwise. NaN means "undefined in this replication" (no wins,
no closed deals, ...), never zero: a replication without wins has no time to a win.

Which deals count:
- per-deal metrics use *counted* deals, created in [warmup, horizon - cohort_margin): deals created
  during the warm-up met an empty, unrepresentative system, and deals created just before the
  horizon have had too little time to end;
- *opportunities* are counted deals a seller took (every outcome but unworked);
- work in progress is a time average over the window [warmup, horizon], so it uses *all* deals,
  including those created in the warm-up that are still open in the window.

Cohort caveat: outcome shares, throughput and bookings count counted deals that ended before the
horizon. Without a ``run.cohort_margin_days`` of a few cycle times, deals created near the horizon
are mostly still open, and a variant that ends deals faster shows larger shares of every ending
outcome (no decision included) only because fewer of its deals are still open.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from simsales.model.records import DISQUALIFIED, LOST, NO_DECISION, OPEN, OUTCOMES, WON, RunRecords
from simsales.results._numeric import mean, ratio
from simsales.results.accounts import ACCOUNT_METRICS, AccountTable, account_metrics
from simsales.results.flow import CLOSED_OUTCOMES, cycle_metrics, stage_metrics, wip_metrics
from simsales.results.table import DealTable, stage_keys
from simsales.results.win_loss import WIN_LOSS_METRICS, win_loss_metrics

#: Days per year and per (average) month, for rates and forecast months.
DAYS_PER_YEAR = 365.0
DAYS_PER_MONTH = DAYS_PER_YEAR / 12

#: Metric name -> description with unit. ``<stage>`` stands for each stage's key (``stage_keys``).
METRICS: dict[str, str] = {
    # counts
    "suspects": "suspects created in the counted cohort (counted deals), count",
    "opportunities": "counted deals a seller took (all outcomes but unworked), count",
    "unworked_share": "unworked / suspects: suspects no seller took, share",
    "arrivals_per_day": "suspects created in the cohort / the cohort's length, per day",
    # outcomes
    "share_won": "won / opportunities, share",
    "share_lost": "lost (No Go) / opportunities, share",
    "share_no_decision": "no decision / opportunities, share",
    "share_disqualified": "disqualified / opportunities, share",
    "share_open": "still open at the horizon / opportunities (the five shares add to 1), share",
    "win_rate_decided": "won / (won + lost + no decision): opportunities that ended, share",
    "no_decision_of_not_won": "no decision / (lost + no decision + disqualified), share",
    "purchase_likelihood": "(won + lost) / (won + lost + no decision): the group bought at all, "
    "share",
    "qualified_share": "opportunities that passed qualification / opportunities, share",
    "win_rate_qualified": "won / ended qualified opportunities (the pipeline's win rate), share",
    "no_decision_of_not_won_qualified": "no decision / (lost + no decision) among qualified "
    "opportunities, share",
    "share_closed_lost_crm": "(lost + disqualified) / opportunities: the CRM's closed lost, share",
    # cycle time
    "cycle_median_days": "median cycle (assigned to CRM close), Kaplan–Meier with open deals "
    "censored at the horizon, days",
    "cycle_p90_days": "90th percentile of cycle, Kaplan–Meier (NaN if the curve stays below 0.9), "
    "days",
    "cycle_mean_days": "mean cycle of closed opportunities, days",
    "won_median_days": "median cycle of won deals: the headline time to a win, days",
    "cycle_median_won_days": "median cycle of won deals, days",
    "cycle_mean_won_days": "mean cycle of won deals, days",
    "cycle_median_lost_days": "median cycle of lost deals, days",
    "cycle_mean_lost_days": "mean cycle of lost deals, days",
    "cycle_median_no_decision_days": "median cycle of no-decision deals (to the CRM close), days",
    "cycle_mean_no_decision_days": "mean cycle of no-decision deals (to the CRM close), days",
    "cycle_median_disqualified_days": "median cycle of disqualified deals, days",
    "cycle_mean_disqualified_days": "mean cycle of disqualified deals, days",
    # stages
    "reach_<stage>": "opportunities that entered the stage / opportunities, share",
    "conversion_<stage>": "opportunities that entered the stage / those that entered the one "
    "before (from the second stage on), share",
    "days_in_<stage>": "mean days from entering the stage to leaving it (next stage entered, or "
    "the real end), over opportunities that left it, days",
    # activity
    "calls_per_deal": "calls per opportunity, count",
    "touches_per_deal": "touches per opportunity, count",
    "wrong_activities_per_deal": "activities done wrong (and redone) per opportunity, count",
    "mean_gap_days": "total gap days / total calls (each call ends one gap), days",
    "max_gap_days_mean": "longest gap before a call, averaged over opportunities with a call, days",
    "seller_wait_share": "seller wait / (seller wait + buyer wait), summed over opportunities, "
    "share",
    # seller
    "seller_utilisation": "hours booked / hours available over all sellers in the window, share",
    "seller_hours_per_win": "seller hours (calls, prep, work, touches) on opportunities / wins, "
    "hours",
    # work in progress
    "wip_mean": "time-average open opportunities (assigned to CRM close) in the window, all "
    "deals, count",
    "wip_<stage>": "time-average opportunities in the stage in the window, all deals, count",
    "wip_per_seller": "wip_mean / number of sellers, count",
    "flow_efficiency": "seller hours / 24 over cycle days, summed over closed opportunities, share",
    # money
    "bookings_per_year": "net value (value × (1 − discount)) of won deals per 365 days of cohort, "
    "currency",
    "mean_discount_won": "mean discount of won deals, share",
    "mean_won_value": "mean list value of won deals, currency",
    # forecasting
    "pushes_per_forecast_deal": "mean pushes of closed opportunities that had a forecast, count",
    "share_pushed": "closed opportunities with a forecast that were pushed at least once, share",
    "forecast_accuracy": "closed opportunities with a forecast closed in the month first "
    "forecast (month = 365/12 days), share",
    # throughput
    "throughput_per_year": "opportunities closed (any end) per 365 days of cohort, count",
}


def describe_metrics(
    stage_names: Sequence[str], *, accounts: bool = False, win_loss: bool = False
) -> dict[str, str]:
    """``METRICS`` with ``<stage>`` expanded to each stage's key, in the order they are reported.

    ``accounts``: the scenario has ``[accounts]``, so ``ACCOUNT_METRICS`` follow; ``win_loss``:
    it has ``[win_loss]``, so ``WIN_LOSS_METRICS`` follow.
    """
    if accounts or win_loss:
        extra = (ACCOUNT_METRICS if accounts else {}) | (WIN_LOSS_METRICS if win_loss else {})
        return describe_metrics(stage_names) | extra
    keys = stage_keys(stage_names)
    out: dict[str, str] = {}
    for name, text in METRICS.items():
        if "<stage>" not in name:
            out[name] = text
            continue
        first = 1 if name.startswith("conversion_") else 0
        for number, (key, stage) in enumerate(zip(keys, stage_names, strict=True), start=1):
            if number > first:
                out[name.replace("<stage>", key)] = f"{text} ({stage})"
    return out


def metrics_from_records(records: RunRecords) -> dict[str, float]:
    """Metrics of one replication from its records (with ``[accounts]``, ``[win_loss]``, theirs)."""
    table = DealTable.from_records(records)
    values = replication_metrics(
        table,
        seller_hours=records.seller_hours,
        seller_capacity_hours=records.seller_capacity_hours,
    )
    if records.accounts is not None:
        values |= account_metrics(AccountTable.from_records(records), table)
    if records.win_loss:
        values |= win_loss_metrics(table)
    return values


def replication_metrics(
    table: DealTable, *, seller_hours: ArrayLike, seller_capacity_hours: ArrayLike
) -> dict[str, float]:
    """All metrics of ``METRICS`` for one replication, in ``describe_metrics`` order.

    ``seller_hours`` and ``seller_capacity_hours`` are per seller over the counting window (as in
    ``RunRecords``).
    """
    hours = np.asarray(seller_hours, dtype=float)
    capacity = np.asarray(seller_capacity_hours, dtype=float)
    values: dict[str, float] = {}
    values |= _counts_and_outcomes(table)
    values |= cycle_metrics(table)
    values |= stage_metrics(table)
    values |= _activity(table)
    values |= _seller(table, hours, capacity)
    values |= wip_metrics(table, n_sellers=len(hours))
    values |= _money_and_forecast(table)
    order = describe_metrics(table.stage_names)
    missing = order.keys() - values.keys()
    extra = values.keys() - order.keys()
    if missing or extra:  # a bug here, not a user error: METRICS and the code disagree
        raise AssertionError(f"metrics not computed: {missing}; not documented: {extra}")
    return {name: float(values[name]) for name in order}


def _counts_and_outcomes(table: DealTable) -> dict[str, float]:
    outcome = table["outcome"]
    opp = table.opportunities
    n_suspects = int(table.counted.sum())
    n_opp = int(opp.sum())
    n = {code: int(np.sum(opp & (outcome == code))) for code in range(len(OUTCOMES))}
    qual = opp & (table["qualified"] == 1)
    q = {code: int(np.sum(qual & (outcome == code))) for code in range(len(OUTCOMES))}
    unworked = n_suspects - n_opp
    window = table.cohort_days
    closed = sum(n[code] for code in CLOSED_OUTCOMES)
    return {
        "suspects": n_suspects,
        "opportunities": n_opp,
        "unworked_share": ratio(unworked, n_suspects),
        "arrivals_per_day": n_suspects / window,
        "share_won": ratio(n[WON], n_opp),
        "share_lost": ratio(n[LOST], n_opp),
        "share_no_decision": ratio(n[NO_DECISION], n_opp),
        "share_disqualified": ratio(n[DISQUALIFIED], n_opp),
        "share_open": ratio(n[OPEN], n_opp),
        "win_rate_decided": ratio(n[WON], n[WON] + n[LOST] + n[NO_DECISION]),
        "no_decision_of_not_won": ratio(n[NO_DECISION], n[LOST] + n[NO_DECISION] + n[DISQUALIFIED]),
        "share_closed_lost_crm": ratio(n[LOST] + n[DISQUALIFIED], n_opp),
        "purchase_likelihood": ratio(n[WON] + n[LOST], n[WON] + n[LOST] + n[NO_DECISION]),
        "qualified_share": ratio(int(qual.sum()), n_opp),
        "win_rate_qualified": ratio(q[WON], q[WON] + q[LOST] + q[NO_DECISION]),
        "no_decision_of_not_won_qualified": ratio(q[NO_DECISION], q[LOST] + q[NO_DECISION]),
        "throughput_per_year": closed * DAYS_PER_YEAR / window,
    }


def _activity(table: DealTable) -> dict[str, float]:
    opp = table.opportunities
    calls = table["calls"][opp].astype(float)
    with_call = calls > 0
    seller_wait = float(np.sum(table["seller_wait_days"][opp], dtype=float))
    buyer_wait = float(np.sum(table["buyer_wait_days"][opp], dtype=float))
    return {
        "calls_per_deal": mean(calls),
        "touches_per_deal": mean(table["touches"][opp]),
        "wrong_activities_per_deal": mean(table["wrong_activities"][opp]),
        "mean_gap_days": ratio(np.sum(table["gap_days"][opp], dtype=float), calls.sum()),
        "max_gap_days_mean": mean(table["max_gap_days"][opp][with_call]),
        "seller_wait_share": ratio(seller_wait, seller_wait + buyer_wait),
    }


def _seller(table: DealTable, hours: np.ndarray, capacity: np.ndarray) -> dict[str, float]:
    opp = table.opportunities
    wins = int(np.sum(opp & (table["outcome"] == WON)))
    spent = np.sum(table["call_hours"][opp], dtype=float) + np.sum(
        table["work_hours"][opp], dtype=float
    )
    return {
        "seller_utilisation": ratio(hours.sum(), capacity.sum()),
        "seller_hours_per_win": ratio(spent, wins),
    }


def _money_and_forecast(table: DealTable) -> dict[str, float]:
    opp = table.opportunities
    outcome = table["outcome"]
    won = opp & (outcome == WON)
    value = table["value"][won].astype(float)
    discount = table["discount"][won].astype(float)
    closed = opp & np.isin(outcome, CLOSED_OUTCOMES)
    forecast_at = table["first_forecast_at"]
    forecast = closed & np.isfinite(forecast_at)
    pushes = table["pushes"][forecast]
    same_month = np.floor(table["closed_at"][forecast] / DAYS_PER_MONTH) == np.floor(
        forecast_at[forecast] / DAYS_PER_MONTH
    )
    return {
        "bookings_per_year": np.sum(value * (1 - discount)) * DAYS_PER_YEAR / table.cohort_days,
        "mean_discount_won": mean(discount),
        "mean_won_value": mean(value),
        "pushes_per_forecast_deal": mean(pushes),
        "share_pushed": mean(pushes > 0),
        "forecast_accuracy": mean(same_month),
    }
