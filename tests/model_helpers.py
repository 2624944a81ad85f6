"""Helpers for the model tests: scenarios from small dicts, runs, and the invariants of a run.

Scenarios are built the way a user writes them — a dict like a TOML file — and validated with
``Scenario.model_validate``, so the tests go through the same rules as a scenario file. Overrides
use dotted key paths (``"policies.wip_cap"``, ``"stages.2.activities"``); in keyword form a double
underscore stands for a dot (``policies__wip_cap=1``).

``check_run`` asserts everything that must hold for any run of any scenario: every deal once, valid
outcomes, time ordering, stage bookkeeping, calendar limits, the WIP cap, and (with an event log)
that the log tells the same story as the deal table.
"""

from __future__ import annotations

import copy
import math
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from simsales.model import OUTCOMES, RunRecords, simulate
from simsales.model.records import EVENTS
from simsales.scenario.schema import Scenario

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"

OPEN, WON, LOST, NO_DECISION, DISQUALIFIED, NO_RESPONSE, UNWORKED = (
    OUTCOMES.index(name)
    for name in ("open", "won", "lost", "no_decision", "disqualified", "no_response", "unworked")
)
EV = {name: code for code, name in enumerate(EVENTS)}
#: Float32 columns (gaps, hours) are compared with this absolute tolerance, in days or hours.
F32_TOL = 1e-3


# --- scenarios ---------------------------------------------------------------------------------


def minimal_dict() -> dict[str, Any]:
    """The smallest valid scenario: one segment, one stage with one activity, constant buyers."""
    return {
        "name": "minimal",
        "run": {"horizon_days": 200.0, "warmup_days": 0.0, "replications": 1, "seed": 1},
        "market": {
            "suspects_per_day": 1.0,
            "segments": [{"name": "all", "share": 1.0, "fit": 0.5, "deal_value": 1000.0}],
        },
        "buyers": {"group_size": 1, "pace": 1.0, "meeting_lag_days": 2.0},
        "stages": [{"name": "only", "activities": 1, "consensus_share": 1.0}],
    }


@cache
def _baseline_raw() -> dict[str, Any]:
    with BASELINE.open("rb") as f:
        return tomllib.load(f)


def baseline_dict() -> dict[str, Any]:
    """A deep copy of the bundled baseline scenario as a plain dict."""
    return copy.deepcopy(_baseline_raw())


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``data[a][b][0][c] = value`` for the path ``"a.b.0.c"``, creating missing tables."""
    keys = path.replace("__", ".").split(".")
    node: Any = data
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    last = keys[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def make_scenario(base: dict[str, Any] | None = None, /, **overrides: Any) -> Scenario:
    """A validated scenario: ``base`` (default: ``minimal_dict()``) with dotted-path overrides."""
    data = copy.deepcopy(base) if base is not None else minimal_dict()
    for path, value in overrides.items():
        set_path(data, path, value)
    return Scenario.model_validate(data)


def baseline(horizon: float = 400.0, warmup: float = 100.0, **overrides: Any) -> Scenario:
    """The baseline scenario, shortened, with overrides."""
    data = baseline_dict()
    data["run"]["horizon_days"] = horizon
    data["run"]["warmup_days"] = warmup
    data["run"]["cohort_margin_days"] = 0.0  # the callers choose the deals they look at
    return make_scenario(data, **overrides)


# --- runs and tables ---------------------------------------------------------------------------


def table(rec: RunRecords) -> dict[str, np.ndarray]:
    """The deal table's columns, rows sorted by deal id."""
    cols = rec.deals.columns()
    order = np.argsort(cols["deal_id"], kind="stable")
    return {name: col[order] for name, col in cols.items()}


def counted(rec: RunRecords, cols: dict[str, np.ndarray]) -> np.ndarray:
    """Mask of the deals the metrics count: created after the warm-up."""
    return cols["created_at"] >= rec.warmup_days


def run_table(scenario: Scenario, seed: int, replication: int = 0) -> dict[str, np.ndarray]:
    return table(simulate(scenario, seed=seed, replication=replication))


# --- statistics --------------------------------------------------------------------------------


def t_interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    """Student-t confidence interval of the mean of iid samples."""
    x = np.asarray(samples, dtype=float)
    n = x.size
    half = stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n)
    return float(x.mean() - half), float(x.mean() + half)


# --- invariants --------------------------------------------------------------------------------


def check_run(rec: RunRecords, scenario: Scenario) -> dict[str, np.ndarray]:
    """Assert the invariants of one run (and of its event log, if it has one); return the table."""
    cols = table(rec)
    _check_table(cols, rec, scenario)
    _check_wip(cols, scenario)
    if rec.events is not None:
        _check_log(cols, rec, scenario)
    return cols


def _check_table(c: dict[str, np.ndarray], rec: RunRecords, sc: Scenario) -> None:
    n = c["deal_id"].size
    n_stages = len(sc.stages)
    horizon = sc.run.horizon_days
    patience = sc.market.patience_days
    wip_cap = sc.policies.wip_cap
    apc = sc.policies.activities_per_call
    acts = np.array([s.activities for s in sc.stages])
    q_stage = next((i + 1 for i, s in enumerate(sc.stages) if s.qualification is not None), 0)
    f_stage = next((i + 1 for i, s in enumerate(sc.stages) if s.sets_forecast), 0)

    # every deal exactly once, in arrival order
    assert np.array_equal(c["deal_id"], np.arange(n)), "deal ids are not 0..n-1, each once"
    created = c["created_at"]
    assert np.all(np.diff(created) >= 0), "ids are not in order of arrival"
    assert np.all((created >= 0) & (created < horizon))
    out = c["outcome"]
    assert np.all((out >= 0) & (out < len(OUTCOMES))), "invalid outcome code"
    shares = np.bincount(out, minlength=len(OUTCOMES)) / max(n, 1)
    assert n == 0 or math.isclose(shares.sum(), 1.0)

    is_open = out == OPEN
    unworked = out == UNWORKED
    # a lost deal was lost at the decision, or along the way to competition (then the seller
    # learned of it at the next contact: closed after it ended)
    midway = (out == LOST) & (c["closed_at"] > c["ended_at"])
    if sc.buyers.competition.hazard_per_day == 0:
        assert not midway.any(), "lost along the way without competition"
    decided = ((out == WON) | (out == LOST)) & ~midway
    closed = ~is_open
    worked = closed & ~unworked
    assigned = ~np.isnan(c["assigned_at"])
    ended, closed_at, assigned_at = c["ended_at"], c["closed_at"], c["assigned_at"]

    # open deals have no end; every other deal has one, within the horizon
    assert np.all(np.isnan(closed_at[is_open])) and np.all(np.isnan(ended[is_open]))
    assert np.all(np.isfinite(closed_at[closed])) and np.all(np.isfinite(ended[closed]))
    assert np.all(closed_at[closed] <= horizon + 1e-9)

    # the suspect pool
    assert np.array_equal(assigned, c["seller"] >= 0), "assigned_at and seller disagree"
    assert np.all(c["seller"] < sc.team.sellers)
    assert np.all(assigned[worked]), "a worked deal was never assigned"
    assert np.all(assigned_at[assigned] >= created[assigned] - 1e-9)
    if wip_cap == 0:
        np.testing.assert_allclose(assigned_at[assigned], created[assigned], rtol=1e-12)
        assert not unworked.any()
    if patience > 0:
        assert np.all(assigned_at[assigned] - created[assigned] <= patience + 1e-9)
    else:
        assert not unworked.any(), "unworked deals although suspects wait for ever"
    if unworked.any():
        assert np.all(~assigned[unworked]) and np.all(c["stage_reached"][unworked] == 0)
        assert np.all(c["calls"][unworked] == 0)
        np.testing.assert_allclose(ended[unworked], created[unworked] + patience, atol=F32_TOL)
        np.testing.assert_array_equal(closed_at[unworked], ended[unworked])
    assert np.all(c["stage_reached"][~assigned] == 0)

    # the seller reaches out after taking the suspect on (at once without [market.leads])
    reached_at = c["reached_at"]
    if sc.market.leads is None:
        np.testing.assert_array_equal(reached_at[assigned], assigned_at[assigned])
    assert np.all(reached_at[assigned] >= assigned_at[assigned])
    assert np.all(np.isnan(reached_at[~assigned]))

    # time ordering of a worked deal
    assert np.all(ended[worked] >= assigned_at[worked]), "ended before assigned"
    assert np.all(closed_at[worked] >= ended[worked]), "closed before ended"
    same = decided | (out == DISQUALIFIED)
    np.testing.assert_array_equal(closed_at[same], ended[same])

    # stage bookkeeping: entries form a prefix, in time order, inside [assigned, end]
    st = c["stage_entered"]
    assert st.shape == (n, n_stages)
    reached = c["stage_reached"].astype(int)
    assert np.all((reached >= 0) & (reached <= n_stages))
    prefix = np.arange(n_stages)[None, :] < reached[:, None]
    assert np.array_equal(~np.isnan(st), prefix), "stage_reached disagrees with entry times"
    assert np.all(reached[assigned] >= 1), "an assigned deal never entered stage 1"
    with np.errstate(invalid="ignore"):
        assert not np.any(np.diff(st, axis=1) < 0), "stage entries out of order"
        assert not np.any(st < assigned_at[:, None]), "stage entered before assignment"
        assert not np.any(st[closed] > ended[closed][:, None]), "stage entered after the end"
        assert not np.any(st > horizon), "a stage entered after the horizon"
    np.testing.assert_array_equal(st[assigned, 0], assigned_at[assigned])
    assert np.all(reached[decided] == n_stages), "won or lost before the last stage"
    assert np.all(reached[midway] > sc.opens_at_index), "lost to competition before the opening"
    # the CRM opens an opportunity on entering stage crm.opens_at: going dark before it is no
    # response (prospecting), after it no decision
    opens = sc.opens_at_index
    assert np.all(reached[out == NO_RESPONSE] <= opens), "no response after the opening"
    assert np.all(reached[out == NO_DECISION] > opens), "no decision before the opening"
    if q_stage:
        assert np.all(reached[out == DISQUALIFIED] == q_stage), "disqualified off its stage"
        assert np.all(c["qualified"][decided] == 1), "decided without being qualified"
        assert np.all(c["qualified"][out == DISQUALIFIED] == 0)
        assert np.all(c["qualified"][reached < q_stage] == 0), "qualified before its stage"
        assert np.all(c["qualified"][reached > q_stage] == 1)
    else:
        assert not np.any(out == DISQUALIFIED), "disqualified without a qualifying stage"
        assert np.all(c["qualified"][assigned] == 1)

    # calls: each covers at most activities_per_call activities, right or wrong, and at least one
    cum = np.concatenate([[0], np.cumsum(acts)])
    done = np.where(decided | (out == DISQUALIFIED), cum[reached], cum[np.maximum(reached - 1, 0)])
    calls = c["calls"].astype(int)
    wrong = c["wrong_activities"].astype(int)
    assert np.all(calls * apc >= done + wrong), "too few calls for the activities done"
    assert np.all(calls <= cum[reached] + wrong), "more calls than activities to cover"
    assert np.array_equal(wrong > 0, c["wrong_stages"] != 0)
    assert np.all(c["wrong_stages"] < (1 << reached)), "a wrong step in a stage never entered"
    assert np.all(c["touches"] >= 0)
    if sc.policies.touch_every_days == 0:
        assert not np.any(c["touches"]), "touches without a touch cadence"

    # gaps and waits (float32 columns)
    gap, max_gap = c["gap_days"], c["max_gap_days"]
    s_wait, b_wait = c["seller_wait_days"], c["buyer_wait_days"]
    assert np.all(gap >= -F32_TOL) and np.all(max_gap >= -F32_TOL)
    assert np.all(max_gap <= gap + F32_TOL)
    assert np.all(gap <= calls * max_gap + F32_TOL * np.maximum(1, gap)), "a gap without a call"
    assert np.all(s_wait >= -F32_TOL), "negative wait for the seller"
    assert np.all(b_wait >= -F32_TOL), "negative wait for the buyer"
    np.testing.assert_allclose(s_wait + b_wait, gap, rtol=1e-5, atol=F32_TOL)
    assert np.all(gap[calls == 0] == 0)

    # money, hours, forecast, momentum
    assert np.all((c["discount"] >= 0) & (c["discount"] <= 1))
    assert np.all(c["value"] >= 0) and np.all((c["fit"] >= 0) & (c["fit"] <= 1))
    assert np.all(c["group_size"] >= 1) and np.all(c["pace"] > 0)
    team = sc.team
    per_call = team.call_hours + team.prep_hours
    assert np.all(c["call_hours"] >= calls * per_call * (1 - 1e-6) - F32_TOL)
    assert np.all(c["work_hours"] >= -F32_TOL)
    ff = c["first_forecast_at"]
    assert np.all(c["pushes"] >= 0) and np.all(c["pushes"][np.isnan(ff)] == 0)
    if f_stage:
        passed = (reached > f_stage) | ((reached == f_stage) & (decided | (out == DISQUALIFIED)))
        passed &= ~((out == DISQUALIFIED) & (q_stage <= f_stage))  # qualified before forecast
        assert np.all(np.isfinite(ff[passed])), "forecast stage passed without a forecast"
        assert not np.any(ff < st[:, f_stage - 1]), "forecast set before its stage"
        assert np.all(np.isnan(ff[reached < f_stage])), "forecast by a stage not yet entered"
    else:
        assert np.all(np.isnan(ff))
    mom = c["final_momentum"][worked]
    assert np.all((mom >= -1e-6) & (mom <= 1 + 1e-6)), "momentum outside [0, 1]"


def _check_wip(c: dict[str, np.ndarray], sc: Scenario) -> None:
    """No seller ever holds more than wip_cap open deals; queued suspects are served in order."""
    cap = sc.policies.wip_cap
    if cap == 0:
        return
    assigned = ~np.isnan(c["assigned_at"])
    start = c["assigned_at"][assigned]
    # a place handed on is taken at env.now, which may precede the recorded close by an ulp
    end = np.where(np.isnan(c["closed_at"]), np.inf, c["closed_at"] - 1e-9)[assigned]
    seller = c["seller"][assigned]
    for s in np.unique(seller):
        mine = seller == s
        times = np.concatenate([start[mine], end[mine]])
        delta = np.concatenate([np.ones(mine.sum()), -np.ones(mine.sum())])
        order = np.lexsort((delta, times))  # at equal times, a release before an assignment
        assert np.cumsum(delta[order]).max() <= cap, f"seller {s} above the WIP cap"
    # first come, first served: deals are assigned in order of arrival
    assert np.all(np.diff(start) >= 0), "a later suspect was assigned before an earlier one"


def _check_log(c: dict[str, np.ndarray], rec: RunRecords, sc: Scenario) -> None:
    """The event log tells the same story as the deal table, and nothing precedes its cause."""
    assert rec.events is not None
    log = rec.events.columns()
    n = c["deal_id"].size
    n_stages = len(sc.stages)
    case, time, code = log["case"], log["time"], log["code"]
    assert np.all((case >= 0) & (case < n))
    assert np.all((code >= 0) & (code < len(EVENTS)))
    assert np.all(time <= sc.run.horizon_days + 1e-9), "the log holds events after the horizon"
    order = np.lexsort((time, case))  # stable: same-time events keep the order they were logged
    case, time, code = case[order], time[order], code[order]
    # the log keeps the model's float64 times, the table the same times rounded to float32
    # (``TIME_FIELDS``): compare them as the table stores them (rounding keeps their order)
    time = time.astype(np.float32).astype(np.float64)
    stage, value, seller = log["stage"][order], log["value"][order], log["seller"][order]
    out = c["outcome"]

    def per_deal(name: str) -> np.ndarray:
        return np.bincount(case[code == EV[name]], minlength=n)

    def only_time(name: str, mask: np.ndarray) -> np.ndarray:
        """The time of the event ``name`` of each deal in ``mask``, which has exactly one."""
        sel = code == EV[name]
        assert np.array_equal(per_deal(name) == 1, mask), f"'{name}' is not once per such deal"
        t = np.full(n, np.nan)
        t[case[sel]] = time[sel]
        return t[mask]

    # the first event of every deal is its creation; assignment comes next
    first = np.flatnonzero(np.diff(case, prepend=-1))
    assert np.array_equal(case[first], np.arange(n)), "a deal without events"
    assert np.all(code[first] == EV["created"]), "a deal's story does not start with 'created'"
    # the log stamps env.now, which can differ from the arrival time by an ulp
    np.testing.assert_allclose(time[first], c["created_at"], rtol=1e-12)
    assigned = ~np.isnan(c["assigned_at"])
    np.testing.assert_array_equal(only_time("assigned", assigned), c["assigned_at"][assigned])

    # counts agree with the table
    assert np.array_equal(per_deal("call"), c["calls"]), "calls in the log != calls column"
    assert np.array_equal(per_deal("touch"), c["touches"]), "touches in the log != column"
    assert np.array_equal(per_deal("stage_entered"), c["stage_reached"])
    sel = code == EV["stage_entered"]
    st = c["stage_entered"]
    np.testing.assert_array_equal(time[sel], st[case[sel], stage[sel] - 1])

    # each end once, at the table's times
    closed = out != OPEN
    ended = c["ended_at"]
    for name, outcomes in (
        ("decided", (WON, LOST)),
        ("went_dark", (NO_DECISION, NO_RESPONSE)),
        ("disqualified", (DISQUALIFIED,)),
        ("unworked", (UNWORKED,)),
    ):
        mask = np.isin(out, outcomes)
        if name in ("went_dark", "decided"):  # an open deal may have gone dark (or been lost
            # along the way), and not yet been closed out
            mask |= (out == OPEN) & (per_deal(name) == 1)
            np.testing.assert_array_equal(only_time(name, mask)[closed[mask]], ended[mask & closed])
        else:
            np.testing.assert_array_equal(only_time(name, mask), ended[mask])
    sel = (code == EV["decided"]) & (out[case] != OPEN)  # a loss not yet learned is open
    np.testing.assert_array_equal(value[sel], out[case[sel]])
    with_close = closed & (out != UNWORKED)
    np.testing.assert_array_equal(only_time("closed", with_close), c["closed_at"][with_close])
    sel = code == EV["closed"]
    np.testing.assert_array_equal(value[sel], out[case[sel]])

    # nothing happens after a deal's end: its calls, touches and stages lie before it
    end_of = np.where(closed, ended, np.inf)
    acts = np.isin(code, [EV[x] for x in ("call", "touch", "stage_entered", "wrong_step")])
    assert np.all(time[acts] <= end_of[case[acts]] + 1e-9), "an action after the deal's end"
    closed_of = np.where(closed, c["closed_at"], np.inf)
    assert np.all(time <= closed_of[case] + 1e-9), "an event after the deal was closed"
    calls = code == EV["call"]
    assert np.all(time[calls] > c["assigned_at"][case[calls]]), "a call before assignment"

    # calls are held at midday on working days, within each seller's slots and hours
    team = sc.team
    t_call, s_call, k_call = time[calls], seller[calls], value[calls]
    np.testing.assert_allclose(t_call % 1.0, 0.5)
    day = np.floor(t_call).astype(np.int64)
    assert np.all(day % 7 < team.workdays_per_week), "a call on a day off"
    key = s_call.astype(np.int64) * (1 << 32) + day
    _, per_slot = np.unique(key, return_counts=True)
    assert per_slot.max(initial=0) <= team.meeting_slots_per_day, "more calls than slots a day"
    hours = team.call_hours + team.call_hours_per_extra_activity * (k_call - 1) + team.prep_hours
    hours = np.minimum(hours, team.selling_hours_per_day)
    uniq, inv = np.unique(key, return_inverse=True)
    per_day = np.bincount(inv, weights=hours, minlength=uniq.size)
    assert per_day.max(initial=0) <= team.selling_hours_per_day + 1e-6, "calls beyond the hours"
    assert np.all(k_call >= 1) and np.all(k_call <= sc.policies.activities_per_call)
    np.testing.assert_array_equal(s_call, c["seller"][case[calls]])

    # with calls in every stage, the gaps add up from the assignment to the last call
    if all(s.activities > 0 for s in sc.stages):
        last_call = _last_per_case(case[calls], t_call, n)
        has = closed & (c["calls"] > 0)
        np.testing.assert_allclose(
            c["gap_days"][has],
            last_call[has] - c["assigned_at"][has],
            rtol=1e-5,
            atol=F32_TOL,
            err_msg="gap_days is not the time from assignment to the last call",
        )
    assert n_stages == c["stage_entered"].shape[1]


def _last_per_case(case: np.ndarray, t: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, np.nan)
    out[case] = t  # case is sorted by time within a case: the last write wins
    return out
