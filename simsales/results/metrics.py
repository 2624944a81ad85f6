"""Summary metrics of one replication: a flat dict of metric name -> float.

Every metric is one number per replication, so that replications can be averaged with confidence
intervals (``summary``) and compared pairwise. NaN means "undefined in this replication" (no wins,
no closed opportunities, ...), never zero: a replication without wins has no time to a win. What
each metric is, in which unit and over which records, is its record in
``simsales.results.catalogue``.

Which records count:
- per-record metrics use *counted* records (the ``counted`` column of ``deals.csv``): new-business
  suspects that arrived in [warmup, horizon - cohort_margin). Suspects who arrived during the
  warm-up met an empty, unrepresentative system, and those who arrived just before the horizon
  have had too little time to end;
- *opportunities* are counted records that the CRM opened (``opportunity``: they entered the
  stage ``crm.opens_at``); the pipeline's rates and cycle times are over them, as CRM
  benchmarks count them. Prospecting metrics are over all counted suspects;
- work in progress is a time average over the window [warmup, horizon], so it uses *all*
  records, including those that arrived in the warm-up and are still held in the window.

Cohort caveat: the rates count opportunities by their arrival, ended or not (``open_rate`` is
the share still open). Without a ``run.cohort_margin_days`` of a few cycle times, records that
arrived near the horizon are mostly still open, and a variant that ends deals faster shows
larger shares of every ending outcome (no decision included) only because fewer of its
opportunities are still open.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from simsales.model.records import (
    DISQUALIFIED,
    LOST,
    NO_DECISION,
    NO_RESPONSE,
    OPEN,
    OUTCOMES,
    UNWORKED,
    WON,
    RunRecords,
)
from simsales.results._numeric import mean, ratio
from simsales.results.accounts import AccountTable, account_metrics
from simsales.results.catalogue import metric_catalogue
from simsales.results.flow import CLOSED_OUTCOMES, cycle_metrics, stage_metrics, wip_metrics
from simsales.results.table import DealTable
from simsales.results.win_loss import win_loss_metrics

#: Days per year and per (average) month, for rates and forecast months.
DAYS_PER_YEAR = 365.0
DAYS_PER_MONTH = DAYS_PER_YEAR / 12


def metrics_from_records(records: RunRecords) -> dict[str, float]:
    """Metrics of one replication from its records (with ``[accounts]``, ``[win_loss]``, theirs)."""
    table = DealTable.from_records(records)
    values = replication_metrics(
        table,
        seller_hours=records.seller_hours,
        seller_capacity_hours=records.seller_capacity_hours,
        non_selling_share=records.non_selling_share,
    )
    if records.accounts is not None:
        values |= account_metrics(AccountTable.from_records(records), table)
    if records.win_loss:
        values |= win_loss_metrics(table)
    return values


def replication_metrics(
    table: DealTable,
    *,
    seller_hours: ArrayLike,
    seller_capacity_hours: ArrayLike,
    non_selling_share: float = 0.0,
) -> dict[str, float]:
    """Every metric of the catalogue for one replication (without the account and win/loss
    ones), in report order.

    ``seller_hours`` and ``seller_capacity_hours`` (selling hours) are per seller over the
    counting window (as in ``RunRecords``); ``non_selling_share`` is the share of the working day
    that is not selling time (``team.non_selling_share``).
    """
    hours = np.asarray(seller_hours, dtype=float)
    capacity = np.asarray(seller_capacity_hours, dtype=float)
    # a seller's available hours per calendar day: the working-time basis of flow efficiency
    hours_per_day = ratio(capacity.mean() if capacity.size else np.nan, table.window_days)
    values: dict[str, float] = {}
    values |= _pipeline(table)
    values |= cycle_metrics(table)
    values |= _slippage(table)
    values |= _activity(table, hours_per_day)
    values |= _prospecting(table)
    values |= _sellers(table, hours, capacity, non_selling_share)
    values |= wip_metrics(table, n_sellers=len(hours))
    values |= _money(table)
    values |= stage_metrics(table)
    order = metric_catalogue(table.stage_names)
    missing = order.keys() - values.keys()
    extra = values.keys() - order.keys()
    if missing or extra:  # a bug here, not a user error: the catalogue and the code disagree
        raise AssertionError(f"metrics not computed: {missing}; not in the catalogue: {extra}")
    return {name: float(values[name]) for name in order}


def _outcome_counts(table: DealTable, mask: np.ndarray) -> list[int]:
    """How many records of ``mask`` ended in each outcome (``OUTCOMES`` order)."""
    counts = np.bincount(table["outcome"][mask].astype(np.intp), minlength=len(OUTCOMES))
    return [int(c) for c in counts]


def _pipeline(table: DealTable) -> dict[str, float]:
    """The pipeline's rates, over opportunities (``DealTable.opportunities``)."""
    opp = table.opportunities
    n_opp = int(opp.sum())
    n = _outcome_counts(table, opp)
    q = _outcome_counts(table, opp & (table["qualified"] == 1))
    closed_lost = n[LOST] + (n[DISQUALIFIED] if table.disqualified_as_lost else 0)
    closed = sum(n[code] for code in CLOSED_OUTCOMES)
    return {
        "opportunities": n_opp,
        "win_rate": ratio(n[WON], n_opp),
        "loss_rate": ratio(n[LOST], n_opp),
        "no_decision_rate": ratio(n[NO_DECISION], n_opp),
        "disqualified_rate": ratio(n[DISQUALIFIED], n_opp),
        "open_rate": ratio(n[OPEN], n_opp),
        "closed_lost_rate": ratio(closed_lost, n_opp),
        "no_decision_of_not_won": ratio(n[NO_DECISION], n[LOST] + n[NO_DECISION] + n[DISQUALIFIED]),
        "win_rate_decided": ratio(n[WON], n[WON] + n[LOST]),
        "purchase_likelihood": ratio(n[WON] + n[LOST], n[WON] + n[LOST] + n[NO_DECISION]),
        "purchase_likelihood_from_arrival": ratio(
            int(np.sum(table.worked & np.isin(table["outcome"], (WON, LOST)))),
            int(table.worked.sum()),
        ),
        "qualified_share": ratio(sum(q), n_opp),
        "win_rate_qualified": ratio(q[WON], q[WON] + q[LOST] + q[NO_DECISION]),
        "no_decision_of_not_won_qualified": ratio(q[NO_DECISION], q[LOST] + q[NO_DECISION]),
        "throughput_per_year": closed * DAYS_PER_YEAR / table.cohort_days,
    }


def _prospecting(table: DealTable) -> dict[str, float]:
    """The prospecting funnel, over counted suspects: engaged, opened, or how it ended."""
    counted = table.counted
    n_suspects = int(counted.sum())
    before = counted & ~table.opportunity  # ended (or still) in prospecting
    n = _outcome_counts(table, before)
    worked = table.worked
    reached = table["reached_at"] if "reached_at" in table.columns else table["assigned_at"]
    response_days = reached - table["created_at"]
    response = response_days[worked]
    engaged = table["calls"] > 0
    fast = worked & (response_days <= 1.0)
    slow = worked & (response_days >= 3.0)
    return {
        "suspects": n_suspects,
        "arrivals_per_day": n_suspects / table.cohort_days,
        "response_mean_days": mean(response),
        "engaged_share": ratio(int(np.sum(counted & engaged)), n_suspects),
        "engaged_within_a_day_share": ratio(int(np.sum(fast & engaged)), int(fast.sum())),
        "engaged_after_3_days_share": ratio(int(np.sum(slow & engaged)), int(slow.sum())),
        "opportunity_share": ratio(int(table.opportunities.sum()), n_suspects),
        "no_response_share": ratio(n[NO_RESPONSE], n_suspects),
        "unworked_share": ratio(n[UNWORKED], n_suspects),
        "prospect_disqualified_share": ratio(n[DISQUALIFIED], n_suspects),
        "prospect_open_share": ratio(n[OPEN], n_suspects),
    }


def _activity(table: DealTable, hours_per_day: float) -> dict[str, float]:
    opp = table.opportunities
    calls = table["calls"][opp].astype(float)
    with_call = calls > 0
    seller_wait = float(np.sum(table["seller_wait_days"][opp], dtype=float))
    buyer_wait = float(np.sum(table["buyer_wait_days"][opp], dtype=float))
    closed = opp & np.isin(table["outcome"], CLOSED_OUTCOMES)
    worked_hours = np.sum(table["call_hours"][closed], dtype=float) + np.sum(
        table["work_hours"][closed], dtype=float
    )
    working_time = np.sum(table.cycle_days[closed], dtype=float) * hours_per_day
    return {
        "calls_per_opportunity": mean(calls),
        "touches_per_opportunity": mean(table["touches"][opp]),
        "wrong_activities_per_opportunity": mean(table["wrong_activities"][opp]),
        "mean_gap_days": ratio(np.sum(table["gap_days"][opp], dtype=float), calls.sum()),
        "max_gap_days_mean": mean(table["max_gap_days"][opp][with_call]),
        "seller_wait_share": ratio(seller_wait, seller_wait + buyer_wait),
        "flow_efficiency": ratio(worked_hours, working_time),
    }


def _sellers(
    table: DealTable, hours: np.ndarray, capacity: np.ndarray, non_selling_share: float
) -> dict[str, float]:
    worked = table.worked
    wins = int(np.sum(table.opportunities & (table["outcome"] == WON)))
    spent = np.sum(table["call_hours"][worked], dtype=float) + np.sum(
        table["work_hours"][worked], dtype=float
    )
    return {
        "seller_utilisation": ratio(hours.sum(), capacity.sum()),
        # the capacity is the selling share of the working hours
        "selling_time_share": ratio(hours.sum(), capacity.sum() / (1.0 - non_selling_share)),
        "seller_hours_per_win": ratio(spent, wins),
    }


def _money(table: DealTable) -> dict[str, float]:
    won = table.opportunities & (table["outcome"] == WON)
    value = table["value"][won].astype(float)
    discount = table["discount"][won].astype(float)
    return {
        "bookings_per_year": np.sum(value * (1 - discount)) * DAYS_PER_YEAR / table.cohort_days,
        "mean_won_value": mean(value),
        "mean_discount_won": mean(discount),
    }


def _slippage(table: DealTable) -> dict[str, float]:
    """Forecast close dates of closed opportunities: pushed, and won in the month forecast."""
    outcome = table["outcome"]
    closed = table.opportunities & np.isin(outcome, CLOSED_OUTCOMES)
    forecast_at = table["first_forecast_at"]
    forecast = closed & np.isfinite(forecast_at)
    pushes = table["pushes"][forecast]
    same_month = np.floor(table["closed_at"][forecast] / DAYS_PER_MONTH) == np.floor(
        forecast_at[forecast] / DAYS_PER_MONTH
    )
    return {
        "share_pushed": mean(pushes > 0),
        "pushes_per_forecast_deal": mean(pushes),
        "forecast_accuracy": mean(same_month & (outcome[forecast] == WON)),
    }
