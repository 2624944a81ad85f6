"""The effects the design names, measured on the baseline with common random numbers.

Each test runs a reference variant and a changed one on the same seeds and replications (so deal
i meets the same buyer in both), and asserts that the paired difference's t-interval over the
replications lies entirely on the predicted side of zero. No effect is keyed to a lever in the
model; if one of these fails, the mechanism no longer produces what the design claims.

The reference pins the levers (one activity per call, no touches, no booking ahead, no WIP cap,
eight sellers) so a recalibrated baseline cannot silently change what is compared. Compression is
tested as the design states it, from 1-2 activities per call to 3-5: the cycle shortens from 1 to 4
and from 2 to 4, and fewer suspects go dark from 1 to 4. Going dark is counted over all suspects,
before and after the CRM opens an opportunity (no response and no decision together): these tests
are about the mechanism, not about where a CRM counts it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from model_helpers import (
    LOST,
    NO_DECISION,
    NO_RESPONSE,
    OPEN,
    UNWORKED,
    WON,
    baseline,
    run_table,
    t_interval,
)

NAN = float("nan")
HORIZON, WARMUP, MARGIN = 1000.0, 100.0, 500.0
SEED = 99
REPLICATIONS = 20
LEVEL = 0.95  # two-sided: the predicted side is wrong with probability 2.5% at most

REFERENCE: dict[str, Any] = {
    "policies.activities_per_call": 1,
    "policies.touch_every_days": 0.0,
    "policies.book_next_within_days": 0.0,
    "policies.wip_cap": 0,
    "team.sellers": 8,
}
VARIANTS: dict[str, dict[str, Any]] = {
    "reference": {},
    "two_per_call": {"policies.activities_per_call": 2},
    "four_per_call": {"policies.activities_per_call": 4},
    "touch_every_4": {"policies.touch_every_days": 4.0},
    "book_within_3": {"policies.book_next_within_days": 3.0},
    "two_sellers": {"team.sellers": 2},
    "wip_cap_2": {"policies.wip_cap": 2, "market.patience_days": 30.0},
    "group_of_2": {"buyers.group_size": 2},
    "group_of_8": {"buyers.group_size": 8},
}


@cache
def metrics(variant: str, replication: int) -> dict[str, float]:
    """Per-replication metrics of the deals created in [WARMUP, HORIZON - MARGIN)."""
    sc = baseline(HORIZON, WARMUP, **{**REFERENCE, **VARIANTS[variant]})
    c = run_table(sc, seed=SEED, replication=replication)
    sel = (c["created_at"] >= WARMUP) & (c["created_at"] < HORIZON - MARGIN)
    out = c["outcome"][sel]
    cycle = (c["closed_at"] - c["created_at"])[sel]
    calls = c["calls"][sel]
    return {
        "open": float(np.mean(out == OPEN)),
        # every suspect that went dark: no response before the opportunity opened, no decision
        # after it (the model's fading does not care where the CRM draws that line)
        "dark": float(np.mean((out == NO_DECISION) | (out == NO_RESPONSE))),
        "unworked": float(np.mean(out == UNWORKED)),
        "purchase": float(np.mean((out == WON) | (out == LOST))),
        "median_won_cycle": float(np.median(cycle[out == WON])) if np.any(out == WON) else NAN,
        "mean_closed_cycle": float(np.mean(cycle[out != OPEN])),
        "gap_per_call": float(c["gap_days"][sel].sum() / max(calls.sum(), 1)),
        "seller_wait_per_call": float(c["seller_wait_days"][sel].sum() / max(calls.sum(), 1)),
        "calls": float(calls.mean()),
    }


def paired(before: str, after: str, metric: str) -> tuple[float, float, float]:
    """Mean and t-interval of metric(after) - metric(before) over the replications."""
    diff = np.array(
        [metrics(after, r)[metric] - metrics(before, r)[metric] for r in range(REPLICATIONS)]
    )
    lo, hi = t_interval(diff, LEVEL)
    return float(diff.mean()), lo, hi


def assert_lower(before: str, after: str, metric: str) -> None:
    mean, lo, hi = paired(before, after, metric)
    assert hi < 0, f"{metric}: {after} - {before} = {mean:.4g}, CI ({lo:.4g}, {hi:.4g}) not < 0"


def assert_higher(before: str, after: str, metric: str) -> None:
    mean, lo, hi = paired(before, after, metric)
    assert lo > 0, f"{metric}: {after} - {before} = {mean:.4g}, CI ({lo:.4g}, {hi:.4g}) not > 0"


def test_the_counting_window_is_almost_uncensored() -> None:
    """Deals still open at the horizon would bias the shares; the margin keeps them rare."""
    for variant in VARIANTS:
        assert np.mean([metrics(variant, r)["open"] for r in range(REPLICATIONS)]) < 0.005


def test_more_activities_per_call_shorten_the_cycle() -> None:
    assert_lower("reference", "four_per_call", "calls")
    assert_lower("reference", "four_per_call", "median_won_cycle")
    assert_lower("reference", "four_per_call", "mean_closed_cycle")
    assert_lower("two_per_call", "four_per_call", "median_won_cycle")
    assert_lower("two_per_call", "four_per_call", "mean_closed_cycle")


def test_more_activities_per_call_leave_fewer_deals_in_no_decision() -> None:
    assert_lower("reference", "four_per_call", "dark")


def test_touches_leave_fewer_deals_in_no_decision() -> None:
    assert_lower("reference", "touch_every_4", "dark")


def test_booking_the_next_meeting_shortens_the_gaps() -> None:
    assert_lower("reference", "book_within_3", "gap_per_call")
    assert_lower("reference", "book_within_3", "dark")


def test_a_bigger_buying_group_buys_less_often() -> None:
    assert_lower("group_of_2", "group_of_8", "purchase")
    assert_higher("group_of_2", "group_of_8", "dark")


def test_overloaded_sellers_lengthen_the_gaps_and_lose_deals_to_no_decision() -> None:
    assert_higher("reference", "two_sellers", "seller_wait_per_call")
    assert_higher("reference", "two_sellers", "gap_per_call")
    assert_higher("reference", "two_sellers", "dark")


def test_a_low_wip_cap_leaves_impatient_suspects_unworked() -> None:
    assert max(metrics("reference", r)["unworked"] for r in range(REPLICATIONS)) == 0.0
    assert_higher("reference", "wip_cap_2", "unworked")
