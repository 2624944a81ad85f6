"""Figures of summaries side by side, one series per scenario: outcomes, funnel, time in stage.

Each function takes ``summaries_by_scenario``: scenario name -> metric name -> ``MetricSummary``
(a mean over replications with its confidence interval), in the order the scenarios should be
shown, base first. ``scenario_summaries`` makes that from a ``Comparison``; a sweep makes it from
its points' summaries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from simsales.plots._style import (
    half_widths,
    level_of,
    new_figure,
    percent_axis,
    pick,
    series_style,
)
from simsales.results import MetricSummary, stage_keys

if TYPE_CHECKING:  # plots only read a comparison; no need to import the experiment machinery
    from simsales.experiment import Comparison

__all__ = ["OUTCOME_SHARES", "funnel", "outcome_shares", "scenario_summaries", "time_in_stage"]

SummariesByScenario = Mapping[str, Mapping[str, MetricSummary]]

#: The widest spread of the funnel's points at one stage, in distances between two stages.
FUNNEL_SPREAD = 0.5

#: Outcome share metrics and how figures name them, in the order they are shown.
OUTCOME_SHARES: dict[str, str] = {
    "win_rate": "won",
    "loss_rate": "lost",
    "no_decision_rate": "no decision",
    "disqualified_rate": "disqualified",
    "open_rate": "still open",
}


def scenario_summaries(comparison: Comparison) -> dict[str, dict[str, MetricSummary]]:
    """A comparison's summaries regrouped by scenario (base first), then by metric."""
    names = (comparison.base_name, *comparison.variant_names)
    return {
        name: {metric: mc.summaries[name] for metric, mc in comparison.metrics.items()}
        for name in names
    }


def outcome_shares(
    summaries_by_scenario: SummariesByScenario, *, include_open: bool = True
) -> Figure:
    """Grouped bars: how opportunities end in each scenario, with confidence intervals.

    One group per outcome (won, lost, no decision, disqualified, and still open unless
    ``include_open`` is false), one bar per scenario; shares of opportunities on a percent axis.
    """
    metrics = [m for m in OUTCOME_SHARES if include_open or m != "open_rate"]
    picked = pick(summaries_by_scenario, metrics)
    fig = new_figure(8.0, 4.6)
    ax = fig.axes[0]
    x = np.arange(len(metrics))
    width = 0.8 / len(picked)
    for i, (scenario, sums) in enumerate(picked.items()):
        style = series_style(i)
        ax.bar(
            x + (i - (len(picked) - 1) / 2) * width,
            [s.mean for s in sums],
            width,
            yerr=half_widths(sums),
            capsize=3,
            color=style.colour,
            hatch=style.hatch,
            edgecolor="black",
            linewidth=0.6,
            label=scenario,
        )
    ax.set_xticks(x, [OUTCOME_SHARES[m] for m in metrics])
    ax.set_xlabel("outcome")
    ax.set_ylabel("share of opportunities (%)")
    percent_axis(ax)
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.4)
    ax.set_axisbelow(True)
    level = level_of(summaries_by_scenario)
    ax.set_title(f"How do opportunities end? Share per outcome ({level:.0%} CI)")
    fig.legend(loc="outside lower center", ncols=min(len(picked), 3), title="scenario")
    return fig


def funnel(summaries_by_scenario: SummariesByScenario, stage_names: Sequence[str]) -> Figure:
    """The funnel per scenario: reach of each stage (left) and conversion from the one before.

    Reach is the share of the suspects a seller took on that entered a stage
    (``reach_<stage>``); conversion the share of those in the stage before that entered it
    (``conversion_<stage>``, from the second stage). Markers and line styles tell the scenarios
    apart; bars are confidence intervals. The scenarios' points at a stage are spread over at
    most ``FUNNEL_SPREAD`` of the distance between two stages, however many there are, so that
    they never reach a neighbouring stage.
    """
    keys = stage_keys(stage_names)
    reach = pick(summaries_by_scenario, [f"reach_{k}" for k in keys])
    conversion = pick(summaries_by_scenario, [f"conversion_{k}" for k in keys[1:]])
    fig = new_figure(10.0, 4.6, ncols=2)
    left, right = fig.axes
    n = len(reach)
    shift = min(0.08, FUNNEL_SPREAD / (n - 1)) if n > 1 else 0.0
    for i, scenario in enumerate(reach):
        style = series_style(i)
        dx = (i - (n - 1) / 2) * shift
        for ax, sums, start in ((left, reach[scenario], 0), (right, conversion[scenario], 1)):
            ax.errorbar(
                np.arange(start, len(keys)) + dx,
                [s.mean for s in sums],
                yerr=half_widths(sums),
                capsize=3,
                color=style.colour,
                marker=style.marker,
                linestyle=style.linestyle,
                markeredgecolor="black",
                label=scenario if ax is left else None,
            )
    level = level_of(summaries_by_scenario)
    left.set_title("How far do the suspects taken on get?")
    left.set_ylabel("entered the stage\n(% of the suspects taken on)")
    right.set_title("Which step loses them?")
    right.set_ylabel("entered the stage\n(% of those in the stage before)")
    left.set_xticks(np.arange(len(keys)), list(stage_names), rotation=20, ha="right")
    right.set_xticks(np.arange(1, len(keys)), list(stage_names[1:]), rotation=20, ha="right")
    for ax in (left, right):
        ax.set_xlabel("stage")
        ax.set_ylim(0, 1.05)
        percent_axis(ax)
        ax.grid(axis="y", alpha=0.4)
    right.set_xlim(left.get_xlim())
    fig.suptitle(f"Sales funnel per scenario ({level:.0%} CI)")
    fig.legend(loc="outside lower center", ncols=min(n, 4), title="scenario")
    return fig


def time_in_stage(summaries_by_scenario: SummariesByScenario, stage_names: Sequence[str]) -> Figure:
    """Stacked horizontal bars: where the days go, mean days in each stage per scenario.

    Each segment is ``days_in_<stage>``: the mean days from entering the stage to leaving it, over
    records that left it. Each stage's mean is over its own deals (most deals end before the
    later stages), so the bar's length adds means over different deals: it is no deal's cycle
    time, and is marked ``Σ`` (the sum of the stage means), never "days" of a total, at the
    end of each bar. A stage no deal left (NaN) draws as zero.
    """
    keys = stage_keys(stage_names)
    picked = pick(summaries_by_scenario, [f"days_in_{k}" for k in keys])
    scenarios = list(picked)
    days = np.array([[s.mean for s in picked[name]] for name in scenarios], dtype=float)
    days = np.nan_to_num(days, nan=0.0)
    totals = days.sum(axis=1)
    fig = new_figure(9.0, 1.6 + 0.6 * len(scenarios))
    ax = fig.axes[0]
    y = np.arange(len(scenarios))
    left = np.zeros(len(scenarios))
    widest = float(totals.max()) if totals.size and totals.max() > 0 else 1.0
    for j, stage in enumerate(stage_names):
        style = series_style(j)
        ax.barh(
            y,
            days[:, j],
            left=left,
            height=0.6,
            color=style.colour,
            hatch=style.hatch,
            edgecolor="black",
            linewidth=0.6,
            label=stage,
        )
        for row, value in enumerate(days[:, j]):
            if value >= 0.07 * widest:  # label only segments wide enough to hold it
                ax.text(
                    left[row] + value / 2,
                    row,
                    f"{value:.0f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "linewidth": 0},
                )
        left += days[:, j]
    for row, total in enumerate(totals):
        ax.text(total + 0.01 * widest, row, f"Σ {total:.0f}", va="center", fontsize=9)
    ax.set_yticks(y, scenarios)
    ax.invert_yaxis()  # first scenario (the base) on top
    ax.set_xlim(0, widest * 1.15)
    ax.set_xlabel(
        "mean days in each stage, of the records that left it (days)\n"
        "Σ: the sum of the stage means, each over its own deals; not a cycle time"
    )
    ax.set_ylabel("scenario")
    ax.set_title("Where do the days go? Mean days spent in each stage")
    ax.grid(axis="x", alpha=0.4)
    ax.set_axisbelow(True)
    fig.legend(loc="outside lower center", ncols=min(len(stage_names), 6), title="stage")
    return fig
