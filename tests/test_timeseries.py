"""Deals per state over time (``simsales.results.timeseries``): exact on hand-made intervals, and
consistent with the metrics the results layer reports (Little's law view of WIP, utilisation)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simsales.cli import main
from simsales.model import RunRecords, simulate
from simsales.model.records import OUTCOMES
from simsales.plots import cumulative_flow, flow_load
from simsales.results import DealTable, metrics_from_records
from simsales.results.timeseries import (
    END_OUTCOMES,
    POOL,
    average_flow,
    count_at,
    flow_series,
    flow_series_of_records,
    grid_edges,
    mean_count,
    utilisation,
)
from simsales.scenario import Scenario, load_scenario
from tests.model_helpers import BASELINE

SHORT = ["run.horizon_days=400", "run.warmup_days=100", "run.cohort_margin_days=100"]


@cache
def scenario(*overrides: str) -> Scenario:
    return load_scenario(BASELINE, [*SHORT, *overrides])


@cache
def records(replication: int = 0, *overrides: str) -> RunRecords:
    return simulate(scenario(*overrides), seed=11, replication=replication)


# --- the counting functions, by hand ------------------------------------------------------------


def test_count_at_and_mean_count_by_hand() -> None:
    start = np.array([0.5, 1.0, 2.0, np.nan])
    end = np.array([1.5, np.nan, 2.0, 3.0])  # open for good; empty; never opened
    times = np.array([0.0, 1.0, 1.5, 2.0, 3.0])
    assert count_at(start, end, times).tolist() == [0, 2, 1, 1, 1]
    edges = np.array([0.0, 1.0, 2.0, 4.0])
    # [0,1): 0.5 of a day with one deal; [1,2): one all day, one half; [2,4): one all along
    assert mean_count(start, end, edges) == pytest.approx([0.5, 1.5, 1.0])


def test_grid_edges_end_at_the_horizon() -> None:
    assert grid_edges(10, 4).tolist() == [0, 4, 8, 10]
    assert grid_edges(8, 4).tolist() == [0, 4, 8]
    with pytest.raises(ValueError, match="positive"):
        grid_edges(8, 0)


def test_utilisation_by_hand() -> None:
    hours = np.array([[10.0, 20.0, 0.0, 30.0], [0.0, 0.0, 0.0, 30.0]])  # 2 sellers x 4 weeks
    capacity = np.array([30.0, 30.0, 0.0, 30.0])  # week 2 has no working day
    team, busiest = utilisation(hours, capacity, np.array([0.0, 14.0, 21.0, 26.0]))
    assert team[0] == pytest.approx(30 / 120) and busiest[0] == pytest.approx(0.5)
    assert np.isnan(team[1]) and np.isnan(busiest[1])  # no working day in [14, 21)
    assert team[2] == 1.0 and busiest[2] == 1.0  # the last week, cut short by the horizon
    with pytest.raises(ValueError, match="multiples of 7 days"):
        utilisation(hours, capacity, np.array([0.0, 10.0, 26.0]))


# --- one replication of the baseline -----------------------------------------------------------


def test_the_model_records_each_weeks_hours() -> None:
    rec = records(0, "run.warmup_days=98")
    assert rec.seller_week_hours is not None and rec.week_capacity_hours is not None
    assert rec.seller_week_hours.shape == (len(rec.seller_hours), 58)  # 57 weeks and 1 day
    window = rec.seller_week_hours[:, 14:].sum(axis=1)  # days 98 to 399
    assert window == pytest.approx(rec.seller_hours, rel=1e-12)
    assert rec.week_capacity_hours[14:].sum() == pytest.approx(rec.seller_capacity_hours[0])
    # 5 days a week of the selling hours: 8 working hours, 60% of them not selling
    assert rec.week_capacity_hours[:-1] == pytest.approx([5 * 8 * (1 - 0.6)] * 57)
    assert rec.week_capacity_hours[-1] == pytest.approx(3.2)  # day 399 alone, a Monday


def test_time_average_wip_equals_the_wip_metrics() -> None:
    rec = records()
    metrics = metrics_from_records(rec)
    flow = flow_series_of_records(rec)
    keys = DealTable.from_records(rec).stage_keys
    assert flow.window_mean(flow.wip, 100, 400) == pytest.approx(metrics["wip_mean"], rel=1e-9)
    for k, key in enumerate(keys):
        got = flow.window_mean(flow.mean_in[1 + k], 100, 400)
        assert got == pytest.approx(metrics[f"wip_{key}"], rel=1e-9, abs=1e-12)
    per_seller = flow.window_mean(flow.open_per_seller_mean, 100, 400)
    assert per_seller == pytest.approx(metrics["wip_per_seller"], rel=1e-9)
    assert np.all(flow.open_per_seller_max >= flow.open_per_seller_mean - 1e-12)


def test_utilisation_over_the_window_equals_the_metric() -> None:
    rec = records(0, "run.warmup_days=98")
    metrics = metrics_from_records(rec)
    assert rec.seller_week_hours is not None and rec.week_capacity_hours is not None
    edges = np.array([0, 98, 400.0])
    team, _ = utilisation(rec.seller_week_hours, rec.week_capacity_hours, edges)
    assert team[1] == pytest.approx(metrics["seller_utilisation"], rel=1e-9)
    weekly = flow_series_of_records(rec, step_days=7)
    assert weekly.utilisation is not None and weekly.utilisation_max is not None
    team, busiest = weekly.utilisation[:-1], weekly.utilisation_max[:-1]  # [-1]: day 399 alone
    assert np.all((team >= 0) & (team <= 1 + 1e-9))
    assert np.all(busiest >= team - 1e-12)
    assert flow_series_of_records(rec, step_days=1).utilisation is None  # kept by week only


def test_utilisation_leaves_out_the_partial_last_week() -> None:
    """Day 399 alone (a Monday) would be a one-day maximum beside weekly ones: it is left out,
    and the figure says so; a horizon of whole weeks keeps its last week."""
    cut = flow_series_of_records(records(), step_days=7)
    assert cut.edges[-1] - cut.edges[-2] == 1
    for series in (cut.utilisation, cut.utilisation_max):
        assert series is not None
        assert np.isnan(series[-1]) and np.all(np.isfinite(series[-10:-1]))
    panel = flow_load(cut).axes[2]
    assert "the last day (a partial week) left out" in panel.get_title(loc="right")
    whole = flow_series_of_records(records(0, "run.horizon_days=399"), step_days=7)
    assert whole.utilisation is not None and np.isfinite(whole.utilisation[-1])
    assert flow_load(whole).axes[2].get_title(loc="right") == ""


def test_cumulative_flow_bands_add_up_and_never_fall() -> None:
    rec = records()
    table = DealTable.from_records(rec)
    flow = flow_series_of_records(rec)
    assert flow.states[0] == POOL
    assert flow.states[flow.end_rows] == tuple(OUTCOMES[c] for c in END_OUTCOMES)
    created = np.searchsorted(np.sort(table["created_at"]), flow.edges, side="right")
    assert flow.arrived.tolist() == created.tolist()  # every deal in exactly one state
    # a boundary of the diagram: deals in a state or any later one; deals only move forward
    boundaries = np.cumsum(flow.count_at[::-1], axis=0)
    assert np.all(np.diff(boundaries, axis=1) >= 0)
    # the end states hold each outcome's deals closed by then; at the horizon, all of them
    for row, code in zip(
        range(*flow.end_rows.indices(len(flow.states))), END_OUTCOMES, strict=True
    ):
        assert flow.count_at[row, -1] == np.sum(table["outcome"] == code)
    assert np.all(flow.count_at >= 0)
    assert np.all(flow.mean_in >= -1e-9)


def test_average_of_replications_keeps_a_valid_flow() -> None:
    series = [flow_series_of_records(records(r)) for r in (0, 1)]
    mean = average_flow(series)
    assert mean.replications == 2
    np.testing.assert_allclose(mean.count_at, (series[0].count_at + series[1].count_at) / 2)
    assert np.all(np.diff(np.cumsum(mean.count_at[::-1], axis=0), axis=1) >= 0)
    assert mean.utilisation is None  # kept by week: no daily utilisation
    weeks = [flow_series_of_records(records(r), step_days=7) for r in (0, 1)]
    weekly_mean = average_flow(weeks).utilisation
    assert weekly_mean is not None and weeks[0].utilisation is not None
    assert weeks[1].utilisation is not None
    np.testing.assert_allclose(weekly_mean, (weeks[0].utilisation + weeks[1].utilisation) / 2)
    third = flow_series_of_records(records(2))
    running = average_flow([mean, third])  # a running mean weighs by replications
    assert running.replications == 3
    np.testing.assert_allclose(running.mean_in, average_flow([*series, third]).mean_in)
    np.testing.assert_allclose(
        running.mean_in, (series[0].mean_in + series[1].mean_in + third.mean_in) / 3
    )
    weekly = flow_series_of_records(records(), step_days=7)
    with pytest.raises(ValueError, match="share their states and grid"):
        average_flow([series[0], weekly])
    with pytest.raises(ValueError, match="at least one"):
        average_flow([])


def test_a_wip_cap_shows_in_the_busiest_seller() -> None:
    rec = records(0, "policies.wip_cap=5")
    flow = flow_series(DealTable.from_records(rec), n_sellers=len(rec.seller_hours))
    assert flow.utilisation is None  # no daily hours given
    assert flow.open_per_seller_max.max() <= 5 + 1e-9
    assert flow.count_at[0].max() > 0  # suspects wait in the pool for a seller with room


# --- the run figures ----------------------------------------------------------------------------


def test_run_out_writes_the_flow_figures(tmp_path: Path, minimal_scenario_toml: str) -> None:
    tiny = tmp_path / "tiny.toml"
    tiny.write_text(minimal_scenario_toml, "utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(tiny), "-r", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "figures/ (4 files: PNG and SVG)" in result.output
    names = sorted(p.name for p in (out / "figures").iterdir())
    assert names == [
        "cumulative_flow.png",
        "cumulative_flow.svg",
        "flow_over_time.png",
        "flow_over_time.svg",
    ]
    assert (out / "figures" / "cumulative_flow.png").read_bytes()[:4] == b"\x89PNG"
    again = ["run", str(tiny), "-r", "2", "--out", str(out), "--force", "--no-figures"]
    result = CliRunner().invoke(main, again)
    assert result.exit_code == 0, result.output
    assert "figures/" not in result.output
    assert not list((out / "figures").glob("*.png"))  # an earlier run's figures are removed


def test_the_flow_figures_say_what_they_show() -> None:
    series = [flow_series_of_records(records(r), step_days=7) for r in (0, 1)]
    load = flow_load(average_flow(series))
    assert "mean of 2 replications" in load.get_suptitle()
    assert [ax.get_title(loc="left") for ax in load.axes] == [
        "Work in progress per stage",
        "Deals each seller carries",
        "Seller utilisation",
    ]
    cfd = cumulative_flow(flow_series_of_records(records()))
    ax = cfd.axes[0]
    assert "replication 0" in ax.get_title()
    assert ax.get_xlabel() == "day of the run"
    legend = [t.get_text() for t in cfd.legends[0].get_texts()]
    assert legend[0] == POOL and legend[-1] == "won"  # top of the stack first
    assert len(legend) == len(flow_series_of_records(records()).states)
