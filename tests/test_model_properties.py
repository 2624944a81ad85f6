"""Property tests: any valid scenario runs without error and keeps the invariants of a run.

Hypothesis writes scenarios the way a user would — a dict like a TOML file, validated by the
schema — over small but varied processes: one to five stages with 0-5 activities each (at least
one stage with calls), random distributions for lags, tasks and shares, random policies and teams,
and short horizons. Every run is checked with ``model_helpers.check_run``, event log included.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_helpers import check_run, make_scenario

from simsales.model import simulate
from simsales.scenario.schema import Consensus, NoDecision

# Hypothesis' pytest plugin imports its patch writer (libcst) only once a test has failed; here that
# import raises a DeprecationWarning (from mypy_extensions), which `filterwarnings = error` turns
# into an INTERNALERROR hiding the falsifying example. Import it up front, quietly.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    with contextlib.suppress(ImportError):
        import hypothesis.extra._patching  # noqa: F401

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure is a bug, never a fluke
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def durations(hi: float = 10.0) -> st.SearchStrategy[Any]:
    """Non-negative distributions of days, in every form a file may give them."""
    return st.one_of(
        floats(0.0, hi),  # a bare number: constant
        st.builds(lambda m: {"dist": "exponential", "mean": m}, floats(0.1, hi)),
        st.builds(
            lambda lo, w: {"dist": "uniform", "low": lo, "high": lo + w},
            floats(0.0, hi / 2),
            floats(0.1, hi / 2),
        ),
        st.builds(
            lambda lo, a, b: {"dist": "triangular", "low": lo, "mode": lo + a, "high": lo + a + b},
            floats(0.0, hi / 3),
            floats(0.0, hi / 3),
            floats(0.1, hi / 3),
        ),
        st.builds(
            lambda m, sd: {"dist": "normal", "mean": m, "sd": sd},  # truncated at 0
            floats(0.5, hi),
            floats(0.1, hi / 2),
        ),
        st.builds(
            lambda med, f: {"dist": "lognormal", "median": med, "p90": med * f},
            floats(0.2, hi / 2),
            floats(1.1, 4.0),
        ),
        st.builds(
            lambda m, k: {"dist": "gamma", "mean": m, "shape": k}, floats(0.1, hi), floats(0.3, 5)
        ),
        st.builds(
            lambda v: {"dist": "empirical", "values": v},
            st.lists(floats(0.0, hi), min_size=1, max_size=4),
        ),
    )


def shares() -> st.SearchStrategy[Any]:
    """Distributions on [0, 1]."""
    return st.one_of(
        floats(0.0, 1.0),
        st.builds(
            lambda lo, w: {"dist": "uniform", "low": lo, "high": min(1.0, lo + w)},
            floats(0.0, 0.8),
            floats(0.05, 0.5),
        ),
        st.builds(
            lambda m, k: {"dist": "beta", "mean": m, "concentration": k},
            floats(0.05, 0.95),
            floats(0.5, 20.0),
        ),
    )


def group_sizes() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.integers(1, 10),
        st.builds(
            lambda v: {"dist": "empirical", "values": v},
            st.lists(st.integers(1, 10), min_size=1, max_size=6),
        ),
        st.builds(
            lambda lo, w: {"dist": "uniform", "low": lo, "high": lo + w},
            floats(1.0, 6.0),
            floats(0.5, 4.0),
        ),
    )


@st.composite
def stages(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(1, 5))
    activities = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    if not any(activities):
        activities[draw(st.integers(0, n - 1))] = draw(st.integers(1, 5))
    weights = draw(st.lists(floats(0.0, 1.0), min_size=n, max_size=n))
    if sum(weights) <= 0:
        weights[-1] = 1.0
    total = sum(weights)
    consensus = [w / total for w in weights]
    consensus[-1] = 1.0 - sum(consensus[:-1])  # add up to 1 exactly
    qualifying = draw(st.none() | st.integers(0, n - 1))
    forecasting = draw(st.none() | st.integers(0, n - 1))
    out = []
    for i in range(n):
        stage: dict[str, Any] = {
            "name": f"stage{i + 1}",
            "activities": activities[i],
            "p_right": draw(floats(0.3, 1.0).filter(lambda p: p > 0.3)),
            "seller_work_hours": draw(st.sampled_from([0.0, 0.0, 2.0, 8.0, 20.0])),
            "buyer_tasks": [
                {"name": f"task{j}", "duration": d}
                for j, d in enumerate(draw(st.lists(durations(15.0), max_size=2)))
            ],
            "attendee_share": draw(floats(0.0, 1.0)),
            "half_life_factor": draw(floats(0.3, 3.0)),
            "consensus_share": max(consensus[i], 0.0),
            "gate": draw(floats(0.0, 0.5)),
            "competition_weight": draw(floats(0.0, 2.0)),
            "sets_forecast": i == forecasting,
            "wrong": {
                "momentum_loss": draw(floats(0.0, 1.0)),
                "end_chance": draw(floats(0.0, 0.5)),
                "lag_factor": draw(floats(1.0, 2.0)),
                "decision_factor": draw(floats(0.5, 1.0)),
                "discount": draw(shares()),
            },
        }
        if i == qualifying:
            stage["qualification"] = {
                "read_error_sd_right": draw(floats(0.0, 0.3)),
                "read_error_sd_wrong": draw(floats(0.0, 0.6)),
            }
        out.append(stage)
    return out


@st.composite
def scenario_dicts(draw: st.DrawFn) -> dict[str, Any]:
    horizon = draw(floats(60.0, 200.0))
    call_hours = draw(floats(0.5, 2.0))
    prep_hours = draw(floats(0.0, 1.0))
    consensus: dict[str, Any] = {
        "p_one": draw(floats(0.05, 1.0)),
        "q_per_extra": draw(floats(0.5, 1.0)),
        "fit_weight": draw(floats(0.0, 1.0)),
    }
    if "momentum_weight" in Consensus.model_fields:
        consensus["momentum_weight"] = draw(floats(0.0, 2.0))
    no_decision: dict[str, Any] = {
        "max_hazard_per_day": draw(st.sampled_from([0.0, 0.01, 0.05, 0.2])),
        "shape": draw(st.integers(1, 6)),
    }
    close_out = draw(durations(30.0))
    if "background_hazard_per_day" in NoDecision.model_fields:
        no_decision["background_hazard_per_day"] = draw(st.sampled_from([0.0, 0.002, 0.01]))
    by_month = draw(st.lists(floats(0.0, 2.0), min_size=12, max_size=12))
    if max(by_month) <= 0:
        by_month[0] = 1.0
    scenario = {
        "name": "generated",
        "crm": {"close_out_delay_days": close_out},
        "run": {
            "horizon_days": horizon,
            "warmup_days": draw(floats(0.0, horizon / 2)),
            "replications": 1,
            "seed": 1,
        },
        "market": {
            "suspects_per_day": draw(floats(0.1, 3.0)),
            "patience_days": draw(st.sampled_from([0.0, 0.0, 5.0, 30.0])),
            **(
                {
                    "leads": {
                        "first_touch_hours": draw(floats(0.0, 2.0)),
                        "interest_half_life_days": draw(floats(0.1, 10.0)),
                        "answer_chance": draw(floats(0.0, 1.0)),
                    }
                }
                if draw(st.booleans())
                else {}
            ),
            "schedule": {
                "by_month": by_month,
                "quarter_end_push": draw(floats(0.0, 3.0)),
                "quarter_end_days": draw(floats(0.0, 30.0)),
            },
            "segments": [
                {
                    "name": f"seg{i}",
                    "share": draw(floats(0.1, 1.0)),
                    "fit": draw(shares()),
                    "deal_value": draw(durations(1e5)),
                }
                for i in range(draw(st.integers(1, 3)))
            ],
        },
        "buyers": {
            "group_size": draw(group_sizes()),
            "pace": draw(
                st.one_of(
                    floats(0.2, 3.0),
                    st.builds(
                        lambda m, f: {"dist": "lognormal", "median": m, "p90": m * f},
                        floats(0.3, 2.0),
                        floats(1.1, 3.0),
                    ),
                )
            ),
            "meeting_lag_days": draw(durations(10.0)),
            "lag_per_extra_attendee": draw(floats(0.0, 0.3)),
            "comfortable_activities_per_call": draw(st.integers(1, 5)),
            "overload_factor": draw(floats(0.5, 1.0)),
            "attendees_per_extra_activity": draw(floats(0.0, 0.5)),
            "momentum": {
                "initial": draw(floats(0.0, 1.0)),
                "half_life_days": draw(floats(2.0, 60.0)),
                "busy_half_life_factor": draw(floats(1.0, 3.0)),
                "call_restore_right": draw(floats(0.0, 1.0)),
                "call_restore_wrong": draw(floats(0.0, 1.0)),
                "touch_boost": draw(floats(0.0, 1.0)),
            },
            "no_decision": no_decision,
            "consensus": consensus,
            "choice": {
                "win_base": draw(floats(0.0, 1.0)),
                "fit_weight": draw(floats(0.0, 1.0)),
                "momentum_weight": draw(floats(0.0, 1.0)),
            },
            **(
                {
                    "group": {
                        "initial_alignment": draw(floats(0.0, 1.0)),
                        "champion_alignment": draw(floats(0.0, 1.0)),
                        "align_right": draw(floats(0.0, 1.0)),
                        "align_wrong": draw(floats(0.0, 1.0)),
                        "drift_half_life_days": draw(floats(1.0, 100.0)),
                        "touch_align": draw(floats(0.0, 0.5)),
                    }
                }
                if draw(st.booleans())
                else {}
            ),
            "competition": {
                "hazard_per_day": draw(st.sampled_from([0.0, 0.0, 0.005, 0.03])),
                "fit_weight": draw(floats(0.0, 1.0)),
                "wrong_step_factor": draw(floats(1.0, 3.0)),
            },
        },
        "team": {
            "sellers": draw(st.integers(1, 5)),
            "skill": draw(shares()),
            "working_hours_per_day": max(draw(floats(3.0, 9.0)), call_hours + prep_hours),
            "non_selling_share": 0.0,
            "meeting_slots_per_day": draw(st.integers(1, 5)),
            "workdays_per_week": draw(st.integers(1, 7)),
            "call_hours": call_hours,
            "call_hours_per_extra_activity": draw(floats(0.0, 0.5)),
            "prep_hours": prep_hours,
            "touch_hours": draw(floats(0.0, 0.3)),
            "assignment": draw(st.sampled_from(["least_loaded", "round_robin"])),
        },
        "policies": {
            "activities_per_call": draw(st.integers(1, 6)),
            "touch_every_days": draw(st.sampled_from([0.0, 0.0, 1.0, 3.0, 4.5, 10.0])),
            "book_next_within_days": draw(st.sampled_from([0.0, 0.0, 1.0, 3.0, 5.0])),
            "qualification_strictness": draw(floats(0.0, 1.0)),
            "wip_cap": draw(st.integers(0, 5)),
        },
        "stages": draw(stages()),
        "forecast": {
            "first_forecast_days": draw(durations(90.0)),
            "push_days": draw(floats(5.0, 60.0)),
            "stale_half_life_factor": draw(floats(0.2, 1.0)),
            "stale_competition_factor": draw(floats(1.0, 5.0)),
        },
    }
    if "group" in scenario["buyers"]:  # the buying group as people: gates, no consensus shares
        for stage in scenario["stages"]:
            stage["consensus_share"] = 0.0
    return scenario


@SETTINGS
@given(data=scenario_dicts(), seed=st.integers(0, 2**32 - 1))
def test_any_valid_scenario_runs_and_keeps_the_invariants(data: dict[str, Any], seed: int) -> None:
    sc = make_scenario(data)
    rec = simulate(sc, seed=seed, replication=0, event_log=True)
    check_run(rec, sc)


@SETTINGS
@given(data=scenario_dicts(), seed=st.integers(0, 2**32 - 1))
def test_any_valid_scenario_is_deterministic(data: dict[str, Any], seed: int) -> None:
    sc = make_scenario(data)
    a = simulate(sc, seed=seed, replication=1).deals.columns()
    b = simulate(sc, seed=seed, replication=1).deals.columns()
    for name in a:
        assert a[name].tobytes() == b[name].tobytes(), name
