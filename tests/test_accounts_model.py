"""The account lifecycle: invariants of every run, common random numbers, and analytic checks.

Analytic checks run configurations where theory gives the answer: with a constant churn hazard
the time from on-boarding to churn is exponential with the configured mean; with a rate that does
not depend on health, expansion opportunities per account over a year are Poisson.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from model_helpers import baseline_dict, make_scenario, minimal_dict
from scipy import stats

from simsales.model import RunRecords, simulate
from simsales.model.account_records import ACTIVE, END_REASONS, PRICE
from simsales.model.accounts import EXPANSION_ID_BASE
from simsales.model.records import NEW_BUSINESS, ORIGINS, OUTCOMES, WON
from simsales.results import metrics_from_records
from simsales.results.accounts import AccountTable, revenue_by_period
from simsales.results.catalogue import ACCOUNT_METRIC_NAMES
from simsales.results.table import DealTable
from simsales.scenario.schema import Scenario

RENEGOTIATION = ORIGINS.index("renegotiation")


def lively(**accounts: Any) -> Scenario:
    """A short baseline with every part of the lifecycle switched on and busy."""
    data = baseline_dict()
    data["run"].update(horizon_days=900.0, warmup_days=200.0, cohort_margin_days=0.0)
    data["accounts"] = {
        "onboarding": {"team_size": 2, "p_right": 0.7},
        "expansion": {
            "per_year": 3.0,
            "kinds": [
                {"kind": "upsell", "share": 2.0, "start_stage": "diagnosis"},
                {"kind": "cross_sell", "share": 1.0, "start_stage": "discovery"},
                {"kind": "referral", "share": 1.0, "start_stage": "commitment"},
            ],
        },
        "change": {
            "per_year": 1.0,
            "kinds": [
                {"name": "reorganisation", "share": 1.0, "restart_at": 6},
                {"name": "new_executive", "share": 1.0, "restart_at": 5},
                {"name": "merger", "share": 1.0, "restart_at": 7},
            ],
        },
        "contract": {"partner_uplift": 0.05, "vendor_squeeze": 0.1},
        "churn": {"background_per_year": 0.1, "max_per_year": 1.0},
        **accounts,
    }
    return Scenario.model_validate(data)


#: Lifecycles the invariants must hold for: the lively default, one-off contracts, and accounts
#: hit by frequent change events that all restart (renegotiations, on-boarding again, new
#: opportunities) with an operations team of one.
LIFECYCLES: dict[str, dict[str, Any]] = {
    "recurring": {},
    "one_off": {"contract": {"kind": "one_off"}},
    "restless": {
        "onboarding": {"team_size": 1},
        "change": {
            "per_year": 3.0,
            "healthy_threshold": 0.0,
            "kinds": [
                {"name": "budget_cut", "share": 1.0, "restart_at": 5},
                {"name": "reorganisation", "share": 1.0, "restart_at": 6},
                {"name": "merger", "share": 1.0, "restart_at": 7},
            ],
        },
    },
}


@pytest.fixture(scope="module", params=sorted(LIFECYCLES))
def run(request: pytest.FixtureRequest) -> RunRecords:
    return simulate(lively(**LIFECYCLES[request.param]), seed=7, replication=0)


def deal_cols(rec: RunRecords) -> dict[str, np.ndarray]:
    cols = rec.deals.columns()
    order = np.argsort(cols["deal_id"], kind="stable")
    return {name: col[order] for name, col in cols.items()}


def test_revenue_is_never_negative_and_matches_its_log(run: RunRecords) -> None:
    acc = AccountTable.from_records(run)
    assert len(acc) > 20
    assert np.all(acc.log["arr"] >= 0) and np.all(acc.log["amount"] >= 0)
    assert np.all(acc["revenue"] >= 0) and np.all(acc["arr"] >= 0)
    # the revenue each account accrued equals the contract log integrated from 0 to the horizon
    np.testing.assert_allclose(acc.revenue_between(0.0, run.horizon_days), acc["revenue"])
    for lo, hi in ((0.0, 300.0), (300.0, 900.0)):
        assert np.all(acc.revenue_between(lo, hi) >= 0)
    parts = acc.revenue_between(0.0, 300.0) + acc.revenue_between(300.0, 900.0)
    np.testing.assert_allclose(parts, acc["revenue"], rtol=1e-9)  # no amount logged at day 300


def test_every_off_boarding_has_a_reason(run: RunRecords) -> None:
    acc = AccountTable.from_records(run)
    ended = np.isfinite(acc["ended_at"])
    assert ended.any() and (~ended).any()
    real, stated = acc["real_reason"], acc["stated_reason"]
    assert np.all(real[~ended] == ACTIVE) and np.all(stated[~ended] == ACTIVE)
    assert np.all((real[ended] != ACTIVE) & (real[ended] != PRICE)), "a real reason is missing"
    assert np.all((stated[ended] == real[ended]) | (stated[ended] == PRICE))
    assert np.all(acc["arr"][ended] == 0)
    assert np.all(acc["ended_at"][ended] >= acc["created_at"][ended])
    assert set(np.unique(real[ended])) <= set(range(len(END_REASONS)))
    assert np.all(acc["health"] >= 0) and np.all(acc["health"] <= 1)
    onboarded = np.isfinite(acc["onboarded_at"])
    assert np.all(acc["onboarded_at"][onboarded] >= acc["onboarding_started_at"][onboarded])
    assert np.all(acc["onboarding_started_at"][onboarded] >= acc["created_at"][onboarded])
    partner = acc["partner"] == 1
    assert np.all(acc["onboarding_right"][partner] == 1) and np.all(
        acc["onboarding_late"][partner] == 0
    )


def test_opportunities_in_accounts_belong_to_one_and_end_once(run: RunRecords) -> None:
    d = deal_cols(run)
    acc = AccountTable.from_records(run)
    ids = d["deal_id"]
    assert len(np.unique(ids)) == len(ids), "a deal was recorded twice"
    inside = d["origin"] != NEW_BUSINESS
    assert inside.sum() > 20
    assert np.all(ids[inside] >= EXPANSION_ID_BASE) and np.all(ids[~inside] < EXPANSION_ID_BASE)
    owner = d["account_id"][inside]
    assert np.all((owner >= 0) & (owner < len(acc)))
    created = d["created_at"][inside]
    assert np.all(created >= acc["onboarded_at"][owner] - 1e-9), "sold before on-boarding"
    ended_at = acc["ended_at"][owner]
    assert np.all(~(created > ended_at)), "an opportunity in an account that had left"
    assert np.all(np.isin(d["outcome"], range(len(OUTCOMES))))
    # each account was created by exactly one won deal, which carries its id
    founders = d["deal_id"] == acc["deal_id"][:, None]
    assert np.all(founders.sum(axis=1) == 1)
    won_new = (d["origin"] == NEW_BUSINESS) & (d["outcome"] == WON)
    assert np.all(d["account_id"][(d["origin"] == NEW_BUSINESS) & ~won_new] == -1)
    np.testing.assert_array_equal(
        np.sort(d["account_id"][won_new]), np.flatnonzero(acc["deal_id"] < EXPANSION_ID_BASE)
    )
    # an account's counters agree with its opportunities: every one is an expansion (or a
    # restart at 7), or a renegotiation (a restart at 5)
    created_in = np.bincount(owner, minlength=len(acc))
    renegotiations = np.bincount(owner[d["origin"][inside] == RENEGOTIATION], minlength=len(acc))
    np.testing.assert_array_equal(created_in - renegotiations, acc["expansions"])
    assert np.all(renegotiations <= acc["restarts"])


def test_opportunities_run_side_by_side_in_one_account(run: RunRecords) -> None:
    d = deal_cols(run)
    inside = np.flatnonzero(d["origin"] != NEW_BUSINESS)
    end = np.where(np.isnan(d["closed_at"]), run.horizon_days, d["closed_at"])
    overlapping = 0
    for account in np.unique(d["account_id"][inside]):
        rows = inside[d["account_id"][inside] == account]
        starts, stops = d["created_at"][rows], end[rows]
        order = np.argsort(starts)
        overlapping += int(np.sum(starts[order][1:] < np.maximum.accumulate(stops[order])[:-1]))
    assert overlapping > 0
    # and they end independently: an account has both won and not-won opportunities
    outcomes = {
        (a, o == WON) for a, o in zip(d["account_id"][inside], d["outcome"][inside], strict=True)
    }
    accounts_with_both = {a for a, w in outcomes if w} & {a for a, w in outcomes if not w}
    assert accounts_with_both


def test_metrics_are_reported_and_sane(run: RunRecords) -> None:
    m = metrics_from_records(run)
    for name in ACCOUNT_METRIC_NAMES:
        assert name in m
    for name in (
        "partner_share",
        "expansion_share_of_bookings",
        "largest_account_share",
        "exit_reason_agreement",
        "logo_churn_last_year",
        "strategic_share",
    ):
        assert 0 <= m[name] <= 1, name
    assert m["revenue_window"] > 0
    if m["arr_end"] > 0:  # recurring contracts
        assert m["grr"] <= 1 + 1e-12
        assert m["grr"] <= m["nrr"] or math.isclose(m["grr"], m["nrr"])
    else:  # one-off: no recurring revenue, so no revenue retention
        assert math.isnan(m["nrr"]) and math.isnan(m["grr"])
    assert math.isclose(m["mean_lifetime_years"] * m["churn_rate_per_year"], 1.0)
    # every exit has one real reason; the interview hears it or the excuse
    reasons = [m[f"exit_real_{r}"] for r in END_REASONS[1:-1]]
    assert math.isclose(sum(reasons), 1.0)
    assert math.isclose(m["exit_reason_agreement"] + m["exit_stated_price"], 1.0)


def test_same_seed_same_accounts() -> None:
    sc = lively()
    a = simulate(sc, seed=3, replication=1).accounts
    b = simulate(sc, seed=3, replication=1).accounts
    assert a is not None and b is not None
    for name, col in a.columns().items():
        np.testing.assert_array_equal(col, b.columns()[name])


def test_accounts_off_changes_no_draw_of_new_business() -> None:
    """Switching the lifecycle on leaves every new-business deal's buyer as it was."""
    data = baseline_dict()
    data["run"].update(horizon_days=500.0, warmup_days=100.0, cohort_margin_days=0.0)
    off = simulate(make_scenario(data), seed=11, replication=0)
    data["accounts"] = {"onboarding": {"team_size": 50}}  # no expansion: same seller load
    on = simulate(make_scenario(data), seed=11, replication=0)
    assert off.accounts is None
    a, b = deal_cols(off), deal_cols(on)
    assert np.all(a["account_id"] == -1) and np.all(a["origin"] == NEW_BUSINESS)
    for name in a:
        if name != "account_id":
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert np.array_equal(b["account_id"] >= 0, b["outcome"] == WON)
    # expansions load the sellers, but the buyers of new business stay the same
    data["accounts"]["expansion"] = {
        "per_year": 4.0,
        "kinds": [{"kind": "upsell", "share": 1.0, "start_stage": "discovery"}],
    }
    busy = deal_cols(simulate(make_scenario(data), seed=11, replication=0))
    new = busy["origin"] == NEW_BUSINESS
    for name in ("created_at", "value", "fit", "group_size", "pace", "segment"):
        np.testing.assert_array_equal(a[name], busy[name][new], err_msg=name)


# --- analytic checks ------------------------------------------------------------------------------


def _minimal(horizon: float, rate: float, accounts: dict[str, Any]) -> Scenario:
    data = minimal_dict()
    data["run"].update(horizon_days=horizon, warmup_days=0.0)
    data["market"]["suspects_per_day"] = rate
    data["team"] = {"sellers": 20}
    data["accounts"] = {"onboarding": {"team_size": 100}} | accounts  # no queue for on-boarding
    return make_scenario(data)


def test_constant_churn_hazard_gives_exponential_lifetimes() -> None:
    mean_days = 100.0
    sc = _minimal(
        3000.0,
        0.8,
        {"churn": {"background_per_year": 365.0 / mean_days, "max_per_year": 0.0}},
    )
    lifetimes, exposure, ends = [], 0.0, 0
    for r in range(2):
        acc = AccountTable.from_records(simulate(sc, seed=5, replication=r))
        start, end = acc["onboarded_at"], acc["ended_at"]
        done = np.isfinite(start)
        # censoring-aware: exposure and ends over every on-boarded account
        exposure += float(
            np.sum(np.where(np.isnan(end), sc.run.horizon_days, end)[done] - start[done])
        )
        ends += int(np.isfinite(end[done]).sum())
        # uncensored: accounts on-boarded 20 means before the horizon have all ended (e^-20)
        early = done & (start < sc.run.horizon_days - 20 * mean_days)
        assert np.all(np.isfinite(end[early]))
        lifetimes.append(end[early] - start[early])
    x = np.concatenate(lifetimes)
    assert x.size > 400
    assert stats.kstest(x, "expon", args=(0, mean_days)).pvalue > 0.001
    estimate = exposure / ends  # MLE of the mean with right-censoring
    assert abs(estimate - mean_days) < 4 * mean_days / math.sqrt(ends)
    low, high = stats.chi2.ppf([0.0005, 0.9995], 2 * ends) / 2
    assert exposure / high < mean_days < exposure / low


def test_expansion_counts_are_poisson_with_the_configured_rate() -> None:
    per_year = 2.0
    sc = _minimal(
        1500.0,
        0.3,
        {
            "churn": {"background_per_year": 0.0, "max_per_year": 0.0},
            "expansion": {
                "per_year": per_year,
                "health_exponent": 0.0,
                "kinds": [{"kind": "upsell", "share": 1.0, "start_stage": "only"}],
            },
        },
    )
    lo, hi = 1000.0, 1365.0
    counts = []
    for r in range(3):
        rec = simulate(sc, seed=9, replication=r)
        acc = AccountTable.from_records(rec)
        d = rec.deals.columns()
        inside = (d["origin"] != NEW_BUSINESS) & (d["created_at"] >= lo) & (d["created_at"] < hi)
        n = np.bincount(d["account_id"][inside], minlength=len(acc))
        whole = acc["onboarded_at"] < lo  # in the lifecycle for the whole year
        assert np.all(np.isnan(acc["ended_at"]))
        counts.append(n[whole])
    x = np.concatenate(counts).astype(float)
    assert x.size > 200
    expected = per_year * (hi - lo) / 365.0
    assert abs(x.mean() - expected) < 4 * math.sqrt(expected / x.size)
    dispersion = float(((x - x.mean()) ** 2).sum() / x.mean())  # ~ chi2(n - 1) if Poisson
    p = stats.chi2.cdf(dispersion, x.size - 1)
    assert 0.001 < p < 0.999, (x.var(ddof=1) / x.mean(), p)


def test_revenue_and_bookings_by_period_add_up_to_the_window(run: RunRecords) -> None:
    acc = AccountTable.from_records(run)
    deals = DealTable.from_records(run)
    m = metrics_from_records(run)
    years = (run.horizon_days - run.warmup_days) / 365.0
    for period in (365.0, 100.0):
        by = revenue_by_period(acc, deals, period)
        assert by["start"][0] == run.warmup_days and by["end"][-1] == run.horizon_days
        np.testing.assert_allclose(by["end"][:-1], by["start"][1:])
        assert np.all(by["revenue"] >= 0) and np.all(by["arr_end"] >= 0)
        assert math.isclose(by["revenue"].sum(), m["revenue_window"], rel_tol=1e-9)
        assert math.isclose(by["arr_end"][-1], m["arr_end"], rel_tol=1e-12, abs_tol=1e-6)
        new, inside = by["bookings_new"].sum(), by["bookings_expansion"].sum()
        assert math.isclose(new, m["bookings_new_per_year"] * years, rel_tol=1e-9)
        assert math.isclose(inside, m["bookings_expansion_per_year"] * years, rel_tol=1e-9)
