"""What the lifecycle's levers do, on paired replications (common random numbers), reduced size.

Each test asserts a direction with the 95% interval of the paired difference, so it can fail: a
better on-boarding raises net revenue retention; heavy discounts at the close lower start health
and customer lifetime value; change events hitting unhealthy accounts raise churn.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from model_helpers import baseline_dict, t_interval

from simsales.model import simulate
from simsales.results import metrics_from_records
from simsales.scenario.schema import Scenario

REPS = 6


def scenario(accounts: dict[str, Any], **stage_close: Any) -> Scenario:
    """The baseline, shortened, with an account lifecycle where health matters."""
    data = baseline_dict()
    data["run"].update(horizon_days=800.0, warmup_days=200.0, cohort_margin_days=0.0)
    close = data["stages"][-1]
    close.update({k: v for k, v in stage_close.items() if k != "wrong"})
    close["wrong"] = close["wrong"] | stage_close.get("wrong", {})
    data["accounts"] = {
        "churn": {"background_per_year": 0.05, "max_per_year": 1.5, "shape": 2},
        "health": {"partner_level": 0.85, "vendor_level": 0.3, "drift_half_life_days": 120},
        "expansion": {
            "per_year": 2.0,
            "health_exponent": 2.0,
            "kinds": [{"kind": "upsell", "share": 1.0, "start_stage": "diagnosis"}],
        },
        "contract": {"vendor_squeeze": 0.1, "partner_uplift": 0.03},
    }
    for key, value in accounts.items():
        data["accounts"][key] = data["accounts"].get(key, {}) | value
    return Scenario.model_validate(data)


def paired(
    base: Scenario, variant: Scenario, *metrics: str, reps: int = REPS
) -> dict[str, tuple[float, float]]:
    """95% interval of the paired mean difference variant − base of each metric."""
    diffs: dict[str, list[float]] = {m: [] for m in metrics}
    for r in range(reps):
        a = metrics_from_records(simulate(base, seed=2026, replication=r))
        b = metrics_from_records(simulate(variant, seed=2026, replication=r))
        for m in metrics:
            diffs[m].append(b[m] - a[m])
    assert all(np.all(np.isfinite(d)) for d in diffs.values()), diffs
    return {m: t_interval(np.array(d), 0.95) for m, d in diffs.items()}


def test_better_onboarding_raises_net_revenue_retention() -> None:
    poor = scenario({"onboarding": {"team_size": 1, "p_right": 0.4}})
    good = scenario({"onboarding": {"team_size": 6, "p_right": 0.95}})
    found = paired(poor, good, "nrr", "partner_share")
    assert found["nrr"][0] > 0, found
    assert found["partner_share"][0] > 0, found


def test_heavy_discounts_lower_health_and_lifetime_value() -> None:
    at_list = scenario({}, p_right=0.5)
    discounted = scenario(
        {}, p_right=0.5, wrong={"discount": {"dist": "uniform", "low": 0.4, "high": 0.6}}
    )
    found = paired(at_list, discounted, "mean_start_health", "customer_lifetime_value")
    assert found["mean_start_health"][1] < 0, found
    assert found["customer_lifetime_value"][1] < 0, found


def test_change_events_with_low_health_raise_churn() -> None:
    def health(level: float, changes: float) -> Scenario:
        return scenario(
            {
                "health": {"start": level, "partner_level": level, "vendor_level": level},
                "churn": {"max_per_year": 0.0},  # health alone moves no churn...
                "expansion": {"per_year": 0.0},
                "change": {  # ...only change events do, at an unhealthy account
                    "per_year": changes,
                    "kinds": [{"name": "reorganisation", "share": 1.0, "restart_at": 6}],
                },
            }
        )

    found = paired(health(0.9, 1.5), health(0.3, 1.5), "churn_rate_per_year")
    assert found["churn_rate_per_year"][0] > 0, found
    # the control: without change events, health alone changes nothing here
    found = paired(health(0.9, 0.0), health(0.3, 0.0), "churn_rate_per_year", reps=2)
    assert found["churn_rate_per_year"] == (0.0, 0.0), found
