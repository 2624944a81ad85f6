"""The account table of one replication, and the account and revenue metrics.

Only a scenario with ``[accounts]`` has them. Account metrics look at the *window*
[warmup, horizon] in calendar time (revenue is earned over time, not per cohort of deals):

- *exposure*: account-years in the window, from each account's close to its end (or the horizon);
- *churn rate*: accounts that left in the window / exposure — the maximum-likelihood rate of an
  exponential lifetime with right-censoring at the horizon, so *mean lifetime* = exposure / ends;
- *revenue*: recurring value accrued day by day plus one-off amounts, integrated exactly from the
  contract log;
- *retention* (gross and net revenue retention, GRR and NRR): the cohort of accounts with
  recurring revenue one year before the horizon (or at the warm-up's end, if the window is
  shorter); NRR = their recurring revenue at the horizon / at the start; GRR the same with each
  account capped at its start value (expansion does not count, down-scoping and churn do);
- *customer lifetime value*: revenue per account-year × mean lifetime = revenue in the window /
  accounts that left in it (NaN if none left).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import IO

import numpy as np

from simsales.model.account_records import ACCOUNT_FIELDS, END_REASONS, PRICE, AccountRecords
from simsales.model.records import (
    DISQUALIFIED,
    LOST,
    NEW_BUSINESS,
    NO_DECISION,
    ORIGINS,
    WON,
    RunRecords,
)
from simsales.results._numeric import mean, ratio
from simsales.results.csvtext import csv_text
from simsales.results.table import DealTable, _as_cells, to_text_file

DAYS_PER_YEAR = 365.0
_RESTART = ORIGINS.index("restart")
_RENEGOTIATION = ORIGINS.index("renegotiation")


@dataclass(frozen=True, kw_only=True, eq=False)
class AccountTable:
    """One replication's accounts (``ACCOUNT_FIELDS``) and contract log, read-only NumPy arrays."""

    columns: Mapping[str, np.ndarray]
    log: Mapping[str, np.ndarray]
    segment_names: tuple[str, ...]
    change_kinds: tuple[str, ...]
    replication: int
    horizon_days: float
    warmup_days: float

    @classmethod
    def from_records(cls, records: RunRecords) -> AccountTable:
        """The accounts of a run; raises ``ValueError`` if the run had no ``[accounts]``."""
        if records.accounts is None:
            raise ValueError("this run has no accounts: its scenario has no [accounts] section")
        return cls.build(records.accounts, records)

    @classmethod
    def build(cls, accounts: AccountRecords, records: RunRecords) -> AccountTable:
        return cls(
            columns=_frozen(accounts.columns()),
            log=_frozen(accounts.log_columns()),
            segment_names=records.segment_names,
            change_kinds=accounts.change_kinds,
            replication=records.replication,
            horizon_days=float(records.horizon_days),
            warmup_days=float(records.warmup_days),
        )

    def __len__(self) -> int:
        return len(self.columns["account_id"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def arr_at(self, t: float) -> np.ndarray:
        """Each account's recurring revenue per year at day ``t`` (0 before its close)."""
        out = np.zeros(len(self))
        acc, time, arr = self.log["account_id"], self.log["time"], self.log["arr"]
        idx = np.flatnonzero(time <= t)
        if idx.size:
            last = idx[::-1][np.unique(acc[idx][::-1], return_index=True)[1]]
            out[acc[last]] = arr[last]
        return out

    def revenue_between(self, lo: float, hi: float) -> np.ndarray:
        """Each account's revenue recognised in [lo, hi]: recurring accrual and one-off amounts."""
        acc, time = self.log["account_id"], self.log["time"]
        order = np.lexsort((time, acc))  # by account, then time (stable: log order within)
        a, t = acc[order], time[order]
        arr, amount = self.log["arr"][order], self.log["amount"][order]
        end = np.append(t[1:], self.horizon_days)
        end[:-1][a[1:] != a[:-1]] = self.horizon_days  # an account's last row runs to the horizon
        overlap = np.clip(np.minimum(end, hi) - np.maximum(t, lo), 0.0, None)
        earned = arr * overlap / DAYS_PER_YEAR + np.where((t >= lo) & (t <= hi), amount, 0.0)
        return np.bincount(a, weights=earned, minlength=len(self)).astype(float)

    def to_csv(self, file: str | Path | IO[str]) -> None:
        write_accounts_csv([self], file, replication_column=False)


def _frozen(cols: dict[str, np.ndarray]) -> Mapping[str, np.ndarray]:
    for arr in cols.values():
        arr.flags.writeable = False
    return MappingProxyType(cols)


def write_accounts_csv(
    tables: Sequence[AccountTable],
    file: str | Path | IO[str],
    *,
    replication_column: bool = True,
    header: bool = True,
) -> None:
    """One row per account (``ACCOUNT_FIELDS``); reasons, segment and change kind by name."""
    to_text_file(file, lambda fh: _write(tables, fh, replication_column, header))


def _write(
    tables: Sequence[AccountTable], fh: IO[str], replication_column: bool, header: bool
) -> None:
    writer = csv.writer(fh, lineterminator="\n")
    if header:
        writer.writerow((["replication"] if replication_column else []) + list(ACCOUNT_FIELDS))
    for table in tables:
        # free text (segments, change kinds): kept from being read as a spreadsheet formula
        segments = [csv_text(name) for name in table.segment_names]
        kinds = [csv_text(name) for name in table.change_kinds]
        cols: list[list[object]] = []
        if replication_column:
            cols.append([table.replication] * len(table))
        for name in ACCOUNT_FIELDS:
            values = table.columns[name]
            if name in ("real_reason", "stated_reason"):
                cols.append([END_REASONS[int(v)] for v in values])
            elif name == "segment":
                cols.append([segments[int(v)] for v in values])
            elif name == "change_kind":
                cols.append(["" if v < 0 else kinds[int(v)] for v in values])
            else:
                cols.append(_as_cells(values))
        writer.writerows(zip(*cols, strict=True))


def account_metrics(accounts: AccountTable, deals: DealTable) -> dict[str, float]:
    """Every account metric (``catalogue.ACCOUNT_METRIC_NAMES``) of one replication."""
    lo, hi = accounts.warmup_days, accounts.horizon_days
    years = (hi - lo) / DAYS_PER_YEAR
    created = accounts["created_at"]
    ended = accounts["ended_at"]
    active = np.isnan(ended)
    until = np.where(active, hi, ended)
    exposure = float(np.clip(np.minimum(until, hi) - np.maximum(created, lo), 0.0, None).sum())
    exposure /= DAYS_PER_YEAR
    new = (created >= lo) & (created <= hi)
    left = ~active & (ended >= lo)
    onboarded = accounts["onboarded_at"]
    done = (onboarded >= lo) & (onboarded <= hi)
    started_at = accounts["onboarding_started_at"]
    started = (started_at >= lo) & (started_at <= hi)

    start = max(lo, hi - DAYS_PER_YEAR)
    arr0, arr1 = accounts.arr_at(start), accounts.arr_at(hi)
    cohort = arr0 > 0.0
    base = float(arr0[cohort].sum())
    customers_then = (created <= start) & (active | (ended > start))
    revenue = accounts.revenue_between(lo, hi)
    total_revenue = float(revenue.sum())
    n_left = int(left.sum())
    mature = active & (accounts["mature"] == 1)

    origin = deals["origin"]
    outcome = deals["outcome"]
    in_window = (deals["created_at"] >= lo) & (deals["created_at"] <= hi)
    expansion = in_window & (origin != NEW_BUSINESS) & (origin < _RESTART)
    ended_exp = expansion & np.isin(outcome, (WON, LOST, NO_DECISION, DISQUALIFIED))
    won_in = (outcome == WON) & (deals["closed_at"] >= lo) & (deals["closed_at"] <= hi)
    net = deals["value"].astype(float) * (1.0 - deals["discount"].astype(float))
    booked_new = float(net[won_in & (origin == NEW_BUSINESS)].sum())
    inside = (origin != NEW_BUSINESS) & (origin != _RENEGOTIATION)  # a renewal is no new money
    booked_inside = float(net[won_in & inside].sum())
    return {
        "accounts_new": float(new.sum()),
        "accounts_active_end": float(active.sum()),
        "partner_share": mean(accounts["partner"][done]),
        "onboarding_wait_days": mean((started_at - created)[started]),
        "onboarding_days": mean((onboarded - created)[done]),
        "mean_start_health": mean(accounts["start_health"][new]),
        "mean_health_end": mean(accounts["health"][active]),
        "churn_rate_per_year": ratio(n_left, exposure),
        "mean_lifetime_years": ratio(exposure, n_left),
        "logo_churn_last_year": ratio(
            int((customers_then & ~active).sum()), int(customers_then.sum())
        ),
        "expansions_per_account_year": ratio(int(expansion.sum()), exposure),
        "expansion_win_rate": ratio(
            int((ended_exp & (outcome == WON)).sum()), int(ended_exp.sum())
        ),
        "bookings_new_per_year": booked_new / years,
        "bookings_expansion_per_year": booked_inside / years,
        "expansion_share_of_bookings": ratio(booked_inside, booked_new + booked_inside),
        "revenue_window": total_revenue,
        "revenue_per_year": total_revenue / years,
        "arr_end": float(arr1.sum()),
        "grr": ratio(float(np.minimum(arr1, arr0)[cohort].sum()), base),
        "nrr": ratio(float(arr1[cohort].sum()), base),
        "customer_lifetime_value": ratio(total_revenue, n_left),
        "largest_account_share": ratio(float(revenue.max(initial=0.0)), total_revenue),
        "strategic_share": mean(accounts["strategic"][mature]),
        "exit_reason_agreement": mean(
            accounts["stated_reason"][left] == accounts["real_reason"][left]
        ),
        **{
            f"exit_real_{reason}": mean(accounts["real_reason"][left] == code)
            for code, reason in enumerate(END_REASONS[1:-1], start=1)
        },
        "exit_stated_price": mean(accounts["stated_reason"][left] == PRICE),
    }


def revenue_by_period(
    accounts: AccountTable, deals: DealTable, period_days: float = DAYS_PER_YEAR
) -> dict[str, np.ndarray]:
    """Revenue, recurring revenue and bookings per period, from the warm-up's end on.

    Periods are [warmup + i × period_days, warmup + (i + 1) × period_days), the last one cut at
    the horizon. Returns arrays, one value per period: ``start`` and ``end`` (days), ``revenue``
    (recognised in the period), ``arr_end`` (recurring revenue per year at its end),
    ``bookings_new`` and ``bookings_expansion`` (net value won in it: new business, and inside
    accounts but for renegotiations), all in currency. Over the whole window they add up to
    ``revenue_window`` and the yearly bookings × years.
    """
    if not period_days > 0:
        raise ValueError(f"period_days must be positive, got {period_days}")
    lo, hi = accounts.warmup_days, accounts.horizon_days
    n = max(1, int(np.ceil((hi - lo) / period_days - 1e-9)))
    start = lo + period_days * np.arange(n)
    end = np.minimum(start + period_days, hi)
    origin, outcome = deals["origin"], deals["outcome"]
    net = deals["value"].astype(float) * (1.0 - deals["discount"].astype(float))
    closed = deals["closed_at"]
    new = (outcome == WON) & (origin == NEW_BUSINESS)
    inside = (outcome == WON) & (origin != NEW_BUSINESS) & (origin != _RENEGOTIATION)
    last = np.arange(n) == n - 1

    def booked(mask: np.ndarray, a: float, b: float, final: bool) -> float:
        within = (closed >= a) & ((closed <= b) if final else (closed < b))
        return float(net[mask & within].sum())

    revenue = np.empty(n)
    for i in range(n):  # revenue_between counts an amount on a boundary in both: split it here
        earned = accounts.revenue_between(start[i], end[i]).sum()
        if not last[i]:
            at_end = accounts.log["time"] == end[i]
            earned -= float(accounts.log["amount"][at_end].sum())
        revenue[i] = earned
    return {
        "start": start,
        "end": end,
        "revenue": revenue,
        "arr_end": np.array([accounts.arr_at(t).sum() for t in end]),
        "bookings_new": np.array(
            [booked(new, a, b, f) for a, b, f in zip(start, end, last, strict=True)]
        ),
        "bookings_expansion": np.array(
            [booked(inside, a, b, f) for a, b, f in zip(start, end, last, strict=True)]
        ),
    }
