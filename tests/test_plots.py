"""Figures: each plotting function on small real results returns a readable, saveable Figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure

from simsales import plots
from simsales.experiment import Comparison, compare_scenarios
from simsales.model import simulate
from simsales.model.records import OPEN, WON
from simsales.plots._style import grouped, series_style
from simsales.results import DealTable, MetricSummary, ci_t, stage_keys
from simsales.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
SHORT = [
    "run.horizon_days=500",
    "run.warmup_days=100",
    "run.cohort_margin_days=100",
    "run.replications=3",
]
VARIANT = "four activities"


@pytest.fixture(scope="module")
def scenarios() -> tuple[Scenario, Scenario]:
    base = load_scenario(BASELINE, SHORT)
    variant = load_scenario(
        BASELINE, [*SHORT, "policies.activities_per_call=4", f'name="{VARIANT}"']
    )
    return base, variant


@pytest.fixture(scope="module")
def comparison(scenarios: tuple[Scenario, Scenario]) -> Comparison:
    base, variant = scenarios
    return compare_scenarios(base, [variant], replications=3, seed=11)


@pytest.fixture(scope="module")
def stage_names(scenarios: tuple[Scenario, Scenario]) -> list[str]:
    return [stage.name for stage in scenarios[0].stages]


def saved(fig: Figure, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    fig.savefig(path)
    assert path.stat().st_size > 1000
    return path


def legend_texts(fig: Figure) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def test_scenario_summaries_regroup_a_comparison(comparison: Comparison) -> None:
    sums = plots.scenario_summaries(comparison)
    assert list(sums) == ["baseline", VARIANT]
    assert sums[VARIANT]["win_rate"] is comparison.metrics["win_rate"].summaries[VARIANT]


def test_outcome_shares(comparison: Comparison, tmp_path: Path) -> None:
    fig = plots.outcome_shares(plots.scenario_summaries(comparison))
    (ax,) = fig.axes
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(bars) == 2 and all(len(b) == 5 for b in bars)  # 2 scenarios × 5 outcomes
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "still open"
    assert "%" in ax.get_ylabel() and "%" in ax.get_yticklabels()[1].get_text()
    assert "?" in ax.get_title()
    assert legend_texts(fig) == ["baseline", VARIANT]
    # error bars drawn from the CI: the base's won bar ends at its mean
    won = comparison.metrics["win_rate"].summaries["baseline"]
    assert bars[0][0].get_height() == pytest.approx(won.mean)
    saved(fig, tmp_path, "outcomes")
    fig = plots.outcome_shares(plots.scenario_summaries(comparison), include_open=False)
    bars = [c for c in fig.axes[0].containers if isinstance(c, BarContainer)]
    assert [len(b) for b in bars] == [4, 4]


def test_outcome_shares_names_what_is_missing() -> None:
    with pytest.raises(ValueError, match="'x' has no summary of open_rate"):
        plots.outcome_shares({"x": {m: ci_t([0.1, 0.2]) for m in list(plots.OUTCOME_SHARES)[:4]}})


def test_metric_differences(comparison: Comparison, tmp_path: Path) -> None:
    metrics = ["win_rate", "no_decision_rate", "cycle_median_days", "calls_per_opportunity"]
    fig = plots.metric_differences(comparison, metrics, labels={"win_rate": "won share"})
    (ax,) = fig.axes
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == len(metrics)  # one variant, one point per metric
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks[0].startswith("won share") and ticks[2].startswith("cycle_median_days")
    assert "% of the base mean" in ax.get_xlabel()
    texts = legend_texts(fig)
    assert VARIANT in texts and "no detectable difference" in texts
    # hollow markers exactly where the interval includes 0
    for metric, container in zip(metrics, bars, strict=True):
        diff = comparison.metrics[metric].differences[VARIANT]
        face = container.lines[0].get_markerfacecolor()
        assert (face != "white") == diff.distinguishable
        assert container.lines[0].get_xdata()[0] == pytest.approx(diff.relative)
    saved(fig, tmp_path, "differences")


def test_metric_differences_rejects_unknown_metrics(comparison: Comparison) -> None:
    with pytest.raises(ValueError, match="no metric nope"):
        plots.metric_differences(comparison, ["win_rate", "nope"])


def test_funnel(comparison: Comparison, stage_names: list[str], tmp_path: Path) -> None:
    fig = plots.funnel(plots.scenario_summaries(comparison), stage_names)
    reach, conversion = fig.axes
    assert len(reach.containers) == 2 and len(conversion.containers) == 2
    assert len(reach.lines[0].get_xdata()) == len(stage_names)
    assert len(conversion.lines[0].get_xdata()) == len(stage_names) - 1
    assert "(% of the suspects taken on)" in reach.get_ylabel()
    assert "(% of those in the stage before)" in conversion.get_ylabel()
    assert legend_texts(fig) == ["baseline", VARIANT]
    saved(fig, tmp_path, "funnel")


def test_funnel_of_many_scenarios_keeps_stages_and_scenarios_apart(
    comparison: Comparison, stage_names: list[str]
) -> None:
    """Eleven scenarios (a sweep of ten values and the base): each stage's points stay within
    half a stage of it, and no two scenarios share colour and marker."""
    base = plots.scenario_summaries(comparison)["baseline"]
    fig = plots.funnel({f"group_size={i}": base for i in range(11)}, stage_names)
    reach, _ = fig.axes
    lines = [c.lines[0] for c in reach.containers if isinstance(c, ErrorbarContainer)]
    assert len(lines) == 11
    xs = np.array([line.get_xdata() for line in lines])
    assert np.all(np.abs(xs - np.arange(len(stage_names))) <= 0.25 + 1e-9)
    looks = {(line.get_color(), line.get_marker()) for line in lines}
    assert len(looks) == 11


def test_series_styles_do_not_repeat() -> None:
    looks = [(s.colour, s.marker) for s in map(series_style, range(64))]
    assert len(set(looks)) == 64
    assert series_style(0) == series_style(0) and series_style(1).colour != series_style(0).colour


def test_large_numbers_have_thousands_separators(tmp_path: Path) -> None:
    assert grouped(5_274_331.4) == "5,274,331" and grouped(-12_500.0, sign=True) == "-12,500"
    assert grouped(0.25) == "0.25" and grouped(131.2) == "131" and grouped(3.0, sign=True) == "+3"
    xs = [0.6, 0.8, 0.95]
    sums = [ci_t(x * 1e6 + np.array([0.0, 2e4, -1e4, 5e3])) for x in xs]
    fig = plots.sweep_curve(xs, sums, x_label="p_right", metric_label="bookings (EUR)")
    fig.savefig(tmp_path / "bookings.png")  # the ticks are labelled when drawn
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_text()]
    assert ticks and all("," in t for t in ticks), ticks
    fig = plots.sweep_heatmap(
        [1, 2], [1], np.array([[5_274_331.4, 4_861_000.0]]), x_label="x", y_label="y",
        metric_label="revenue (EUR)",
    )  # fmt: skip
    fig.savefig(tmp_path / "heatmap.png")
    ax, bar = fig.axes
    assert sorted(t.get_text() for t in ax.texts) == ["4,861,000", "5,274,331"]
    assert all("," in t.get_text() for t in bar.get_yticklabels() if t.get_text())


def test_time_in_stage(comparison: Comparison, stage_names: list[str], tmp_path: Path) -> None:
    sums = plots.scenario_summaries(comparison)
    fig = plots.time_in_stage(sums, stage_names)
    (ax,) = fig.axes
    assert len(ax.containers) == len(stage_names)
    assert all(len(c) == 2 for c in ax.containers)  # one segment per scenario
    assert [t.get_text() for t in ax.get_yticklabels()] == ["baseline", VARIANT]
    assert "(days)" in ax.get_xlabel() and "not a cycle time" in ax.get_xlabel()
    assert legend_texts(fig) == stage_names
    # the bar's end is the sum of means over different deals: never labelled as days of a total
    ends = [t.get_text() for t in ax.texts if t.get_text().startswith("Σ")]
    assert len(ends) == 2 and not any("days" in t.get_text() for t in ax.texts)
    # segments are stacked: the last one ends at the sum of the stage means
    total = sum(sums["baseline"][f"days_in_{k}"].mean for k in stage_keys(stage_names))
    last = ax.containers[-1][0]
    assert last.get_x() + last.get_width() == pytest.approx(total)
    saved(fig, tmp_path, "time_in_stage")


def test_cycle_ecdf(scenarios: tuple[Scenario, Scenario], tmp_path: Path) -> None:
    cycles = {
        s.name: plots.cycles_from_tables(
            [DealTable.from_records(simulate(s, seed=3, replication=0))]
        )
        for s in scenarios
    }
    days, censored, outcomes = cycles["baseline"]
    assert days.shape == censored.shape == outcomes.shape
    assert np.array_equal(censored, outcomes == OPEN) and np.all(days >= 0)
    fig = plots.cycle_ecdf(cycles)
    assert len(fig.axes) == 3
    assert all(len(ax.get_lines()) == 2 + 1 for ax in fig.axes)  # a step per scenario + median
    assert all("(days)" in ax.get_xlabel() for ax in fig.axes)
    texts = legend_texts(fig)
    assert len(texts) == 2 and texts[0].startswith("baseline") and VARIANT in texts[1]
    # the won panel is the plain ECDF of closed won deals: it reaches 100%
    won_line = fig.axes[1].get_lines()[0]
    assert won_line.get_ydata()[-1] == pytest.approx(1.0)
    assert won_line.get_xdata()[-1] == pytest.approx(days[outcomes == WON].max())
    saved(fig, tmp_path, "cycles")
    fig = plots.cycle_ecdf({name: (c[0], c[1]) for name, c in cycles.items()})
    assert len(fig.axes) == 1
    saved(fig, tmp_path, "cycles_all")


def test_cycle_ecdf_km_matches_scipy_with_censoring() -> None:
    days = np.array([5.0, 8.0, 8.0, 12.0, 20.0, 30.0])
    censored = np.array([False, False, True, False, True, False])
    fig = plots.cycle_ecdf({"toy": (days, censored)})
    line = fig.axes[0].get_lines()[0]
    # KM: S drops by 1/6 at 5, by 1/5 at 8, by 1/3 at 12 (one left at risk censored at 8), flat
    # over the censored 20, and to 0 at 30 (the last one at risk)
    assert list(line.get_xdata()) == [0.0, 5.0, 8.0, 12.0, 20.0, 30.0]
    expected = 1 - np.cumprod([1.0, 5 / 6, 4 / 5, 2 / 3, 1.0, 0.0])
    assert line.get_ydata() == pytest.approx(expected)
    with pytest.raises(ValueError, match="every scenario or for none"):
        plots.cycle_ecdf({"a": (days, censored), "b": (days, censored, np.ones(6))})


def sweep_summaries(xs: list[float]) -> list[MetricSummary]:
    rng = np.random.default_rng(5)
    return [ci_t(0.2 + 0.03 * x + rng.normal(0, 0.02, 4)) for x in xs]


def test_sweep_curve(tmp_path: Path) -> None:
    xs = [4.0, 1.0, 2.0, 3.0]  # unsorted on purpose: the curve is drawn in x order
    sums = sweep_summaries(xs)
    fig = plots.sweep_curve(
        xs, sums, x_label="activities per call (count)", metric_label="share won (%)", percent=True
    )
    (ax,) = fig.axes
    (line,) = ax.get_lines()
    assert list(line.get_xdata()) == [1.0, 2.0, 3.0, 4.0]
    assert line.get_ydata()[-1] == pytest.approx(sums[0].mean)
    assert any(isinstance(c, PolyCollection) for c in ax.collections)  # the CI band
    assert ax.get_xlabel() == "activities per call (count)"
    assert legend_texts(fig) == ["95% confidence interval", "mean"]
    saved(fig, tmp_path, "sweep_curve")
    with pytest.raises(ValueError, match="4 swept values but 3 summaries"):
        plots.sweep_curve(xs, sums[:3], x_label="x", metric_label="y")


def test_sweep_heatmap(tmp_path: Path) -> None:
    grid = np.array([[0.1, 0.2, 0.3], [0.4, np.nan, 0.6]])
    fig = plots.sweep_heatmap(
        [2, 7, 14],
        [1, 4],
        grid,
        x_label="touch cadence (days)",
        y_label="activities per call (count)",
        metric_label="share won (%)",
        percent=True,
    )
    ax, bar = fig.axes
    assert sorted(t.get_text() for t in ax.texts) == sorted(
        ["10%", "20%", "30%", "40%", "n/a", "60%"]
    )
    assert bar.get_ylabel() == "share won (%)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "7", "14"]
    saved(fig, tmp_path, "heatmap")
    with pytest.raises(ValueError, match="shape"):
        plots.sweep_heatmap([1], [1, 2], grid, x_label="x", y_label="y", metric_label="z")


def test_a_sweeps_long_metric_label_fits_beside_its_axis() -> None:
    # a metric named with its cohort, as the reports label a share
    sums = sweep_summaries([1.0, 3.0, 6.0])
    label = "purchase_likelihood_from_arrival (% of worked suspects)"
    fig = plots.sweep_curve(
        [1, 3, 6], sums, x_label="buyers.group_size", metric_label=label, percent=True
    )
    fig.canvas.draw()
    (ax,) = fig.axes
    assert ax.get_ylabel() == "purchase_likelihood_from_arrival\n(% of worked suspects)"
    box = ax.yaxis.label.get_window_extent()
    height = fig.get_figheight() * fig.dpi
    assert box.y0 >= 0 and box.y1 <= height, (box.y0, box.y1, height)
    short = plots.sweep_curve([1, 3, 6], sums, x_label="x", metric_label="win_rate (%)")
    assert short.axes[0].get_ylabel() == "win_rate (%)"  # short labels stay on one line


def test_a_heatmaps_title_fits_its_figure_with_long_key_paths() -> None:
    # the labels of the bundled contact-gap experiment: a cohort and two long key paths
    fig = plots.sweep_heatmap(
        [2, 3, 5, 7, 14, 21],
        [0, 5],
        np.full((2, 6), 0.3),
        x_label="policies.touch_every_days",
        y_label="policies.book_next_within_days",
        metric_label="no_decision_rate (% of opportunities)",
        percent=True,
    )
    fig.canvas.draw()
    title = fig.get_suptitle()
    assert title.startswith("How do the two levers combine?")
    box = fig._suptitle.get_window_extent()  # type: ignore[union-attr]
    width = fig.get_figwidth() * fig.dpi
    assert box.x0 >= 0 and box.x1 <= width, (box.x0, box.x1, width)


def test_tornado_sorts_by_total_effect(tmp_path: Path) -> None:
    effects = [("small", 1.0, -2.0), ("large", -30.0, 41.0), ("middle", 20.0, -5.0)]
    fig = plots.tornado(effects, metric_label="median cycle (days)")
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["large", "middle", "small"]
    down, up = ax.containers
    assert [b.get_width() for b in down] == [-30.0, 20.0, 1.0]
    assert [b.get_width() for b in up] == [41.0, -5.0, -2.0]
    assert "median cycle (days)" in ax.get_xlabel()
    assert legend_texts(fig) == ["lever one step down", "lever one step up"]
    saved(fig, tmp_path, "tornado")
