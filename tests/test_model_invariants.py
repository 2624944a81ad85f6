"""Invariants of whole runs: every deal ends once, nothing before its cause, determinism, CRN.

The checks themselves live in ``model_helpers.check_run``; here they run on the baseline (shortened)
and on variants that exercise every lever: compression, touches, booking ahead, a WIP cap with
impatient suspects, round-robin assignment, stages without calls, a call agenda running on across
stages, and overloaded sellers.
"""

from __future__ import annotations

import numpy as np
import pytest
from model_helpers import (
    EV,
    F32_TOL,
    OPEN,
    UNWORKED,
    baseline,
    baseline_dict,
    check_run,
    make_scenario,
    minimal_dict,
    table,
)

from simsales.model import simulate

VARIANTS: dict[str, dict[str, object]] = {
    "baseline": {},
    "compressed": {"policies.activities_per_call": 5},
    "two_per_call": {"policies.activities_per_call": 2},
    "overloaded": {"team.sellers": 2},
    "touches_and_booking": {
        "policies.touch_every_days": 4.0,
        "policies.book_next_within_days": 3.0,
    },
    "wip_cap": {"policies.wip_cap": 3, "market.patience_days": 20.0},
    "wip_cap_patient": {"policies.wip_cap": 2, "market.patience_days": 0.0},
    "round_robin": {"team.assignment": "round_robin", "team.sellers": 3},
    "strict": {"policies.qualification_strictness": 0.6},
    "weekdays_6": {"team.workdays_per_week": 6, "team.meeting_slots_per_day": 1},
    "competition_and_stale_dates": {
        "buyers.competition.hazard_per_day": 0.01,
        "buyers.competition.wrong_step_factor": 2.0,
        "forecast.stale_half_life_factor": 0.5,
        "forecast.stale_competition_factor": 3.0,
        "buyers.choice.momentum_weight": 0.5,
    },
    "speed_to_lead_and_sellers_time": {
        "market.leads": {"first_touch_hours": 1.0, "interest_half_life_days": 1.5},
        "team.non_selling_share": 0.6,
    },
    "group_as_people": {
        "buyers.group": {"initial_alignment": 0.4, "drift_half_life_days": 15.0},
        "stages.0.gate": 0.2,
        "stages.1.gate": 0.1,
        "stages.4.gate": 0.3,
        "policies.touch_every_days": 5.0,
    },
}


def _with_call_free_stage() -> dict[str, object]:
    """A stage without calls (a buyer-only review) between discovery and diagnosis."""
    stages = baseline_dict()["stages"]
    review = {
        "name": "review",
        "activities": 0,
        "consensus_share": 0.0,
        "buyer_tasks": [{"name": "board", "duration": {"dist": "exponential", "mean": 6}}],
    }
    return {"stages": [*stages[:3], review, *stages[3:]]}


def _flowing_stages() -> dict[str, object]:
    """Stages without tasks or work, so a call's agenda runs on into the next stage."""
    stages = baseline_dict()["stages"]
    for s in stages:
        s.pop("buyer_tasks", None)
        s.pop("seller_work_hours", None)
    return {"stages": stages, "policies.activities_per_call": 4}


VARIANTS["call_free_stage"] = _with_call_free_stage()
VARIANTS["agenda_runs_on"] = _flowing_stages()


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("seed", [1, 2])
def test_invariants_hold_with_the_event_log(name: str, seed: int) -> None:
    sc = baseline(400.0, 100.0, **VARIANTS[name])
    rec = simulate(sc, seed=seed, replication=0, event_log=True)
    cols = check_run(rec, sc)
    assert cols["deal_id"].size > 200
    out = cols["outcome"]
    assert np.any(out == OPEN) and np.any(out != OPEN)
    if name == "wip_cap":
        assert np.any(out == UNWORKED), "a tight WIP cap with impatient suspects leaves some"


def test_the_event_log_does_not_change_the_results() -> None:
    sc = baseline(400.0, 100.0)
    a = table(simulate(sc, seed=5, replication=0, event_log=True))
    b = table(simulate(sc, seed=5, replication=0, event_log=False))
    for name in a:
        assert np.array_equal(a[name], b[name], equal_nan=True), name


def test_tiny_scenarios_keep_the_invariants() -> None:
    for overrides in (
        {},
        {"stages.0.activities": 0},
        {"team.sellers": 1, "policies.wip_cap": 1, "market.patience_days": 3.0},
        {"market.suspects_per_day": 5.0, "team.sellers": 1, "team.meeting_slots_per_day": 1},
    ):
        sc = make_scenario(**overrides)
        check_run(simulate(sc, seed=3, replication=0, event_log=True), sc)


# --- determinism and common random numbers -----------------------------------------------------


def test_same_seed_same_results() -> None:
    sc = baseline(400.0, 100.0, **{"policies.touch_every_days": 5.0})
    a = simulate(sc, seed=9, replication=2, event_log=True)
    b = simulate(sc, seed=9, replication=2, event_log=True)
    ta, tb = table(a), table(b)
    for name in ta:
        assert np.array_equal(ta[name], tb[name], equal_nan=True), name
    assert a.events is not None and b.events is not None
    la, lb = a.events.columns(), b.events.columns()
    for name in la:
        assert np.array_equal(la[name], lb[name], equal_nan=True), name
    np.testing.assert_array_equal(a.seller_hours, b.seller_hours)
    assert a.sim_events == b.sim_events


@pytest.mark.parametrize(("seed", "replication"), [(9, 3), (10, 2)])
def test_another_replication_or_seed_gives_other_results(seed: int, replication: int) -> None:
    sc = baseline(400.0, 100.0)
    a = table(simulate(sc, seed=9, replication=2))
    b = table(simulate(sc, seed=seed, replication=replication))
    assert a["created_at"].size != b["created_at"].size or not np.array_equal(
        a["created_at"], b["created_at"]
    )
    n = min(a["fit"].size, b["fit"].size)
    assert not np.array_equal(a["fit"][:n], b["fit"][:n])


@pytest.mark.parametrize(
    "policy",
    [
        {"policies.activities_per_call": 4},
        {"policies.touch_every_days": 3.0, "policies.book_next_within_days": 2.0},
        {"policies.wip_cap": 2, "policies.qualification_strictness": 0.5},
        {"team.sellers": 4},
    ],
)
def test_common_random_numbers_across_policies(policy: dict[str, object]) -> None:
    """A change of policy leaves the market's draws alone: deal i meets the same buyer."""
    a = table(simulate(baseline(400.0, 100.0), seed=21, replication=1))
    b = table(simulate(baseline(400.0, 100.0, **policy), seed=21, replication=1))
    for name in ("created_at", "segment", "fit", "value", "group_size", "pace"):
        assert np.array_equal(a[name], b[name]), name
    # ... and the behaviour does change
    assert not np.array_equal(a["outcome"], b["outcome"])


def test_common_random_numbers_per_deal_behaviour() -> None:
    """One deal's extra draws do not shift another's. With sellers who never run out of slots
    or hours, all of the same skill, deals do not interact; a deal that never reaches the one
    stage that differs between two variants must then behave identically in both."""
    data = baseline_dict()
    data["run"].update(horizon_days=400.0, warmup_days=100.0, cohort_margin_days=0.0)
    data["team"].update(
        meeting_slots_per_day=100, working_hours_per_day=24.0, non_selling_share=0.0, skill=1.0
    )
    a = table(simulate(make_scenario(data), seed=4, replication=0))
    data["stages"][4]["p_right"] = 0.5  # only the close stage changes
    b = table(simulate(make_scenario(data), seed=4, replication=0))
    early = (a["stage_reached"] < 5) & (a["outcome"] != OPEN)
    assert early.sum() > 100
    for name in ("outcome", "ended_at", "closed_at", "calls", "gap_days", "wrong_activities"):
        assert np.array_equal(a[name][early], b[name][early], equal_nan=True), name
    late = a["stage_reached"] == 5
    assert not np.array_equal(a["calls"][late], b["calls"][late])


def test_open_deals_show_nothing_after_the_horizon() -> None:
    """A deal still open at the horizon is censored there: its recorded stages, gaps and events
    must not come from after the horizon."""
    sc = baseline(400.0, 100.0, **{"policies.touch_every_days": 4.0})
    rec = simulate(sc, seed=1, replication=0, event_log=True)
    cols = table(rec)
    assert rec.events is not None
    late_events = int(np.sum(rec.events.columns()["time"] > sc.run.horizon_days))
    with np.errstate(invalid="ignore"):
        late_stages = int(np.sum(cols["stage_entered"] > sc.run.horizon_days))
    assert late_events == 0, "the log holds events after the horizon"
    assert late_stages == 0, "open deals entered stages after the horizon"
    # the gaps of open deals count only calls held: none to a call booked beyond the horizon
    held = cols["outcome"] == OPEN
    calls = cols["calls"][held]
    assert np.all(cols["gap_days"][held] <= calls * cols["max_gap_days"][held] + F32_TOL)
    assert np.all(cols["gap_days"][held][calls == 0] == 0)


def test_open_deals_are_not_qualified_or_forecast_ahead_of_the_horizon() -> None:
    """A qualifying, forecast-setting stage without calls starts when the previous stage's buyer
    task ends; for a deal whose task runs past the horizon, neither has happened yet."""
    data = minimal_dict()
    data["run"]["horizon_days"] = 100.0
    data["buyers"]["no_decision"] = {"max_hazard_per_day": 0.0}
    data["policies"] = {"qualification_strictness": 0.0}
    data["stages"] = [
        {
            "name": "meet",
            "activities": 1,
            "consensus_share": 1.0,
            "buyer_tasks": [{"name": "think", "duration": 30.0}],
        },
        {
            "name": "qualify",
            "activities": 0,
            "consensus_share": 0.0,
            "sets_forecast": True,
            "qualification": {},
        },
    ]
    cols = table(simulate(make_scenario(data), seed=1, replication=0))
    waiting = (cols["outcome"] == OPEN) & (cols["stage_reached"] == 1)
    assert waiting.sum() > 5
    assert not np.any(cols["qualified"][waiting]), "qualified by a stage not yet started"
    assert np.all(np.isnan(cols["first_forecast_at"][waiting])), "forecast ahead of its stage"


def test_a_deals_story_ends_with_its_close() -> None:
    """A buyer task that would start after the deal went dark and was closed never happens, so
    the log must not show it (two tasks in a row; the deal goes dark during the first)."""
    data = minimal_dict()
    data["buyers"]["momentum"] = {"initial": 0.0, "call_restore_right": 0.0}
    data["buyers"]["no_decision"] = {"max_hazard_per_day": 0.2}
    data["crm"] = {"close_out_delay_days": 0.0}
    data["stages"][0]["buyer_tasks"] = [
        {"name": "first", "duration": 10.0},
        {"name": "second", "duration": 10.0},
    ]
    rec = simulate(make_scenario(data), seed=1, replication=0, event_log=True)
    cols = table(rec)
    assert rec.events is not None
    log = rec.events.columns()
    closed_at = np.where(cols["outcome"] == OPEN, np.inf, cols["closed_at"])
    late = log["time"].astype(np.float32) > closed_at[log["case"]]  # the table's float32 days
    assert not late.any(), "events after the deal's close"
    assert np.sum(log["code"] == EV["buyer_task"]) > 0, "no task was logged at all"
