"""Metrics of one replication against hand-computed values on a small, hand-built deal table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simsales.model.records import (
    DEAL_FIELDS,
    DISQUALIFIED,
    LOST,
    NO_DECISION,
    OPEN,
    UNWORKED,
    WON,
    DealRecords,
    RunRecords,
)
from simsales.results import (
    CATALOGUE,
    DealTable,
    metric_catalogue,
    metrics_from_records,
    replication_metrics,
)

NAN = float("nan")
STAGES = ("Discovery", "Diagnosis", "Close")
HORIZON, WARMUP = 100.0, 10.0
WINDOW = HORIZON - WARMUP
TIMES = {"assigned_at", "reached_at", "ended_at", "closed_at", "first_forecast_at"}


def add_deal(deals: DealRecords, entered: tuple[float, ...], **values: float) -> None:
    """Append one deal; unspecified times are NaN, everything else 0."""
    values.setdefault("deal_id", len(deals))
    values.setdefault("reached_at", values.get("assigned_at", NAN))  # reached when taken on
    for name in DEAL_FIELDS:
        deals.cols[name].append(values.pop(name, NAN if name in TIMES else 0))
    assert not values, f"unknown fields {values}"
    deals.stage_entered.extend(entered)


def make_records(
    add: list[tuple[tuple[float, ...], dict[str, float]]],
    *,
    seller_hours: tuple[float, ...] = (300.0, 200.0),
    capacity: tuple[float, ...] = (800.0, 700.0),
    stages: tuple[str, ...] = STAGES,
    horizon: float = HORIZON,
    warmup: float = WARMUP,
) -> RunRecords:
    deals = DealRecords(n_stages=len(stages))
    for entered, values in add:
        add_deal(deals, entered, **values)
    return RunRecords(
        scenario_name="hand",
        stage_names=stages,
        segment_names=("smb", "ent"),
        seed=7,
        replication=3,
        horizon_days=horizon,
        warmup_days=warmup,
        deals=deals,
        seller_hours=np.array(seller_hours),
        seller_capacity_hours=np.array(capacity),
    )


def _d(**kw: float) -> dict[str, float]:
    return kw


#: Ten deals: two from the warm-up (0, 9), one unworked (7), two open at the horizon (6, 8).
HAND: list[tuple[tuple[float, ...], dict[str, float]]] = [
    # 0: warm-up, won; not counted, but in WIP over [10, 30)
    ((2, 10, 20), _d(created_at=0, assigned_at=2, ended_at=30, closed_at=30, outcome=WON,
                     value=99999, calls=50, call_hours=100, first_forecast_at=25, pushes=9)),
    # 1: won, cycle 38, forecast right
    ((12, 20, 40), _d(created_at=12, assigned_at=12, ended_at=50, closed_at=50, outcome=WON,
                      qualified=1, value=1000, discount=0.1, calls=5, touches=2, wrong_activities=1,
                      gap_days=20, max_gap_days=8, seller_wait_days=4, buyer_wait_days=12,
                      call_hours=6, work_hours=2, first_forecast_at=45, pushes=0)),
    # 2: won, cycle 64, forecast wrong month, pushed once
    ((16, 30, 60), _d(created_at=15, assigned_at=16, ended_at=80, closed_at=80, outcome=WON,
                      qualified=1, value=2000, discount=0.2, calls=7, touches=1, gap_days=35,
                      max_gap_days=10,
                      seller_wait_days=6, buyer_wait_days=20, call_hours=9, work_hours=3,
                      first_forecast_at=55, pushes=1)),
    # 3: lost, cycle 50, pushed twice
    ((20, 35, 55), _d(created_at=20, assigned_at=20, ended_at=70, closed_at=70, outcome=LOST,
                      qualified=1, value=500, calls=6, wrong_activities=2, gap_days=30,
                      max_gap_days=9,
                      seller_wait_days=3, buyer_wait_days=15, call_hours=7, work_hours=1,
                      first_forecast_at=50, pushes=2)),
    # 4: went dark at 60 in stage 2, CRM close at 81: cycle 55
    ((26, 40, NAN), _d(created_at=25, assigned_at=26, ended_at=60, closed_at=81,
                       qualified=1, outcome=NO_DECISION, calls=3, touches=4, gap_days=25,
                       max_gap_days=15,
                       seller_wait_days=2, buyer_wait_days=10, call_hours=4, work_hours=2)),
    # 5: disqualified in stage 1, cycle 8
    ((30, NAN, NAN), _d(created_at=30, assigned_at=30, ended_at=38, closed_at=38,
                        outcome=DISQUALIFIED, calls=2, gap_days=6, max_gap_days=4,
                        seller_wait_days=1, buyer_wait_days=2, call_hours=2, work_hours=0.5)),
    # 6: open in stage 2, age 58 at the horizon; its forecast does not count (not closed)
    ((42, 70, NAN), _d(created_at=40, assigned_at=42, qualified=1, outcome=OPEN, calls=4, touches=1,
                       wrong_activities=1, gap_days=20, max_gap_days=7, seller_wait_days=5,
                       buyer_wait_days=5, call_hours=5, work_hours=1, first_forecast_at=95)),
    # 7: unworked suspect
    ((NAN, NAN, NAN), _d(created_at=50, outcome=UNWORKED)),
    # 8: open in stage 1, age 39
    ((61, NAN, NAN), _d(created_at=60, assigned_at=61, outcome=OPEN, calls=1, gap_days=3,
                        max_gap_days=3, buyer_wait_days=3, call_hours=1)),
    # 9: warm-up, still open: WIP over the whole window
    ((6, 50, NAN), _d(created_at=5, assigned_at=6, outcome=OPEN, calls=9, call_hours=40)),
]  # fmt: skip

EXPECTED: dict[str, float] = {
    "suspects": 8,
    "opportunities": 7,
    "unworked_share": 1 / 8,
    "arrivals_per_day": 8 / WINDOW,
    # the seller took 1..6 and 8 on after 0, 1, 0, 1, 0, 2 and 1 days
    "response_mean_days": 5 / 7,
    # all reached within a day but deal 6 (2 days); every one of them had a call
    "engaged_within_a_day_share": 1.0,
    "engaged_after_3_days_share": NAN,
    "engaged_share": 7 / 8,
    "opportunity_share": 7 / 8,
    "no_response_share": 0,
    "prospect_disqualified_share": 0,
    "prospect_open_share": 0,
    "win_rate": 2 / 7,
    "loss_rate": 1 / 7,
    "no_decision_rate": 1 / 7,
    "disqualified_rate": 1 / 7,
    "open_rate": 2 / 7,
    "purchase_likelihood": 3 / 4,
    "purchase_likelihood_from_arrival": 3 / 7,
    "qualified_share": 5 / 7,
    "win_rate_qualified": 2 / 4,
    "no_decision_of_not_won_qualified": 1 / 2,
    "win_rate_decided": 2 / 3,
    "no_decision_of_not_won": 1 / 3,
    "closed_lost_rate": 2 / 7,
    # KM over 8e 38e 39c 50e 55e 58c 64e: S = 6/7, 5/7, (39 censored), 15/28, 10/28, (58), 0
    "cycle_median_days": 55,
    "cycle_p90_days": 64,
    "cycle_mean_days": (38 + 64 + 50 + 55 + 8) / 5,
    "cycle_median_won_days": 51,
    "cycle_p90_won_days": 38 + 0.9 * (64 - 38),
    "cycle_mean_won_days": 51,
    "cycle_median_lost_days": 50,
    "cycle_mean_lost_days": 50,
    "cycle_median_no_decision_days": 55,
    "cycle_mean_no_decision_days": 55,
    "cycle_median_disqualified_days": 8,
    "cycle_mean_disqualified_days": 8,
    "reach_discovery": 1,
    "reach_diagnosis": 5 / 7,
    "reach_close": 3 / 7,
    "conversion_diagnosis": 5 / 7,
    "conversion_close": 3 / 5,
    # stage 1 left by 1, 2, 3, 4, 6 (next entry) and 5 (disqualified at 38); 8 still in it
    "days_in_discovery": (8 + 14 + 15 + 14 + 8 + 28) / 6,
    # deal 4 went dark at 60 in stage 2 (its real end, not the CRM close at 81); 6 still in it
    "days_in_diagnosis": (20 + 30 + 20 + 20) / 4,
    "days_in_close": (10 + 20 + 15) / 3,
    "calls_per_opportunity": 28 / 7,
    "touches_per_opportunity": 8 / 7,
    "wrong_activities_per_opportunity": 4 / 7,
    "mean_gap_days": 139 / 28,
    "max_gap_days_mean": 56 / 7,
    "seller_wait_share": 21 / (21 + 67),
    "seller_utilisation": 500 / 1500,
    "selling_time_share": 500 / 1500,  # no non-selling share in these records
    "seller_hours_per_win": (34 + 9.5) / 2,
    # assigned -> CRM close (or horizon), clipped to [10, 100], all ten deals
    "wip_mean": (20 + 38 + 64 + 50 + 55 + 8 + 58 + 39 + 90) / WINDOW,
    "wip_discovery": (0 + 8 + 14 + 15 + 14 + 8 + 28 + 39 + 40) / WINDOW,
    "wip_diagnosis": (10 + 20 + 30 + 20 + 41 + 30 + 50) / WINDOW,
    "wip_close": (10 + 10 + 20 + 15) / WINDOW,
    "wip_per_seller": 422 / WINDOW / 2,
    # hours worked on closed opportunities / their 215 cycle days at 750/90 hours a day
    "flow_efficiency": (8 + 12 + 8 + 6 + 2.5) / (215 * 750 / WINDOW),
    "bookings_per_year": (1000 * 0.9 + 2000 * 0.8) * 365 / WINDOW,
    "mean_discount_won": 0.15,
    "mean_won_value": 1500,
    "pushes_per_forecast_deal": 1,
    "share_pushed": 2 / 3,
    "forecast_accuracy": 1 / 3,
    "throughput_per_year": 5 * 365 / WINDOW,
}


@pytest.fixture(scope="module")
def hand() -> dict[str, float]:
    return metrics_from_records(make_records(HAND))


def test_names_are_the_documented_ones_in_order(hand: dict[str, float]) -> None:
    assert list(hand) == list(metric_catalogue(STAGES))
    assert set(hand) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_metric_matches_hand_computation(hand: dict[str, float], name: str) -> None:
    # float32 fields (discount, hours, gaps) carry ~1e-7 relative error
    assert hand[name] == pytest.approx(EXPECTED[name], rel=1e-6, nan_ok=True), name


def test_outcome_shares_add_to_one(hand: dict[str, float]) -> None:
    shares = ["win_rate", "loss_rate", "no_decision_rate", "disqualified_rate", "open_rate"]
    assert sum(hand[s] for s in shares) == pytest.approx(1.0, abs=1e-12)


def test_stage_wip_adds_to_total_when_stage_one_starts_at_assignment(
    hand: dict[str, float],
) -> None:
    stages = hand["wip_discovery"] + hand["wip_diagnosis"] + hand["wip_close"]
    assert stages == pytest.approx(hand["wip_mean"], rel=1e-12)


def test_undefined_metrics_are_nan_without_warnings() -> None:
    """No deals at all: counts are 0, everything else NaN (and no NumPy warning, see pytest cfg)."""
    got = metrics_from_records(make_records([], seller_hours=(), capacity=()))
    zero = {"suspects", "opportunities", "arrivals_per_day", "throughput_per_year"}
    zero |= {"bookings_per_year"} | {
        k for k in got if k.startswith("wip_") and k != "wip_per_seller"
    }
    for name, value in got.items():
        if name in zero:
            assert value == 0, name
        else:
            assert math.isnan(value), name


def test_no_wins_gives_nan_time_to_win_and_hours_per_win() -> None:
    lost_only = [rec for rec in HAND if rec[1]["outcome"] != WON]
    got = metrics_from_records(make_records(lost_only))
    for name in (
        "cycle_median_won_days",
        "seller_hours_per_win",
        "mean_won_value",
        "mean_discount_won",
    ):
        assert math.isnan(got[name]), name
    assert got["win_rate"] == 0
    assert got["bookings_per_year"] == 0


def test_km_median_is_nan_when_too_many_are_open() -> None:
    """Half the deals still open at the horizon, longer than any closed one: median unknown."""
    rows = [((t, NAN, NAN), _d(created_at=t, assigned_at=t, outcome=OPEN)) for t in (20, 30, 40)]
    rows.append(((20, NAN, NAN), _d(created_at=20, assigned_at=20, closed_at=30, ended_at=30,
                                     outcome=LOST)))  # fmt: skip
    got = metrics_from_records(make_records(rows))
    assert math.isnan(got["cycle_median_days"])
    assert got["cycle_mean_days"] == 10


def test_littles_law_holds_on_intervals_inside_the_window() -> None:
    """All deals assigned and closed inside the window: L = λ W exactly, overall and per stage."""
    rng = np.random.default_rng(1)
    n = 400
    start = rng.uniform(20, 60, n)
    ends = start + rng.uniform(0, 39, n)
    cuts = start[:, None] + np.sort(rng.uniform(0, 1, (n, 2)), axis=1) * (ends - start)[:, None]
    entered = np.column_stack([start, cuts])
    entered[rng.random(n) < 0.5, 2] = NAN  # half skip the last stage: end in stage 2
    rows = [
        (tuple(entered[i]), _d(created_at=start[i], assigned_at=start[i], ended_at=ends[i],
                               closed_at=ends[i], outcome=LOST))
        for i in range(n)
    ]  # fmt: skip
    got = metrics_from_records(make_records(rows))
    arrival_rate = got["throughput_per_year"] / 365  # all closed: throughput = arrivals
    assert got["wip_mean"] == pytest.approx(arrival_rate * got["cycle_mean_days"], rel=1e-12)
    for key in ("discovery", "diagnosis", "close"):
        in_stage = arrival_rate * got[f"reach_{key}"] * got[f"days_in_{key}"]
        assert got[f"wip_{key}"] == pytest.approx(in_stage, rel=1e-12), key


def test_replication_metrics_takes_a_table() -> None:
    records = make_records(HAND)
    table = DealTable.from_records(records)
    got = replication_metrics(table, seller_hours=np.array([1.0]), seller_capacity_hours=[4.0])
    assert got["seller_utilisation"] == 0.25
    assert got["wip_per_seller"] == pytest.approx(422 / WINDOW)


def test_every_metric_has_a_unit_a_cohort_and_a_direction() -> None:
    units = {"count", "share", "days", "hours", "years", "currency", "per_day", "per_year", "score"}
    names = [m.name for m in CATALOGUE]
    assert len(names) == len(set(names)), "a metric is named twice"
    for metric in CATALOGUE:
        assert metric.unit in units, metric.name
        assert metric.cohort and metric.description, metric.name
        assert metric.better in ("higher", "lower", "neither"), metric.name
        # the unit is the record's, never written into the prose
        assert not metric.description.rstrip().endswith((", share", ", days", ", count")), metric
