"""Figures of flow over time: a cumulative flow diagram, and WIP and seller load over time.

Both read a ``simsales.results.timeseries.FlowSeries`` (one replication, or the mean of several:
the subtitle says which) and shade the warm-up, whose deals the metrics do not count: the
pipeline is still filling up then. Bands and lines differ in grey level, hatch and line style as
well as colour, and the bands are labelled where they end, so that a black-and-white print reads.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from simsales.plots._style import COLOURS, LINESTYLES, percent_axis
from simsales.results.timeseries import FlowSeries

__all__ = ["cumulative_flow", "flow_load"]

#: End states, bottom up: colour and hatch (won solid, the losses hatched).
_END_STYLE = {
    "won": ("#009E73", ""),
    "lost": ("#D55E00", "//"),
    "no_decision": ("#E69F00", "xx"),
    "disqualified": ("#CC79A7", "\\\\"),
    "no_response": ("#BBBBBB", ".."),
    "unworked": ("#FFFFFF", "oo"),
}


def _source(series: FlowSeries) -> str:
    n = series.replications
    return "replication 0" if n == 1 else f"mean of {n} replications"


def _shade_warmup(ax: Axes, series: FlowSeries, *, over: bool = False) -> None:
    """Grey the warm-up days; ``over`` draws a veil on top (for filled areas) instead of under."""
    if series.warmup_days <= 0:
        return
    if over:
        ax.axvspan(0, series.warmup_days, color="white", alpha=0.45, zorder=3, linewidth=0)
    else:
        ax.axvspan(0, series.warmup_days, color="0.88", zorder=0, linewidth=0)
    ax.axvline(series.warmup_days, color="black", linestyle="--", linewidth=0.8, zorder=4)


def cumulative_flow(series: FlowSeries, *, title: str | None = None) -> Figure:
    """Cumulative flow diagram: deals in each state over time, stacked in flow order.

    From the bottom: the end states by outcome, then the stages from the last to the first, then
    the suspect pool, so that the top edge is every suspect that has arrived. The vertical
    thickness of a band is the number of deals in that state at that day (its WIP); the
    horizontal distance between two boundaries is roughly the time deals take between them. A
    band that keeps widening is a queue that grows.
    """
    edges = series.edges
    counts = series.count_at
    n_stages = series.n_stages
    stage_names = series.states[series.stage_rows]
    end_names = series.states[series.end_rows]
    layers: list[tuple[str, np.ndarray, str, str]] = []  # bottom first: name, row, colour, hatch
    for i, name in enumerate(end_names):
        colour, hatch = _END_STYLE.get(name, ("0.5", ""))
        layers.append((name.replace("_", " "), counts[series.end_rows][i], colour, hatch))
    greys = np.linspace(0.35, 0.85, max(n_stages, 1))
    for k in range(n_stages - 1, -1, -1):  # the last stage sits on the ended deals
        grey = f"{greys[k]:.2f}"
        layers.append((f"{k + 1} {stage_names[k]}", counts[series.stage_rows][k], grey, ""))
    layers.append((series.states[0], counts[0], "#FFFFFF", ".."))
    fig = Figure(figsize=(9.0, 5.6), layout="constrained")
    ax = fig.subplots()
    bottom = np.zeros_like(edges)
    for label, row, colour, hatch in layers:
        top = bottom + row
        ax.fill_between(
            edges,
            bottom,
            top,
            facecolor=colour,
            hatch=hatch,
            edgecolor="black",
            linewidth=0.4,
            step=None,
            label=label,
            zorder=2,
        )
        if row[-1] >= 0.03 * max(series.arrived[-1], 1):  # label bands thick enough at the end
            ax.annotate(
                label,
                (edges[-1], (bottom[-1] + top[-1]) / 2),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        bottom = top
    _shade_warmup(ax, series, over=True)
    ax.text(
        series.warmup_days / 2,
        0.97,
        "warm-up\n(not counted)",
        transform=ax.get_xaxis_transform(),
        ha="center",
        va="top",
        fontsize=8,
        zorder=5,
    )
    ax.set_xlim(0, edges[-1])
    ax.set_ylim(0, None)
    ax.set_xlabel("day of the run")
    ax.set_ylabel("deals (cumulative arrivals)")
    ax.set_title(
        (title or "Where are the deals? Cumulative flow by state") + f"\n({_source(series)})",
        fontsize=11,
    )
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles[::-1], labels[::-1], loc="outside right upper", fontsize=8, title="state")
    return fig


def _partial_last_days(edges: np.ndarray) -> float:
    """Days in the grid's last interval if the horizon cut it short of the others, else 0."""
    if edges.size < 3:
        return 0.0
    last, step = float(edges[-1] - edges[-2]), float(edges[1] - edges[0])
    return last if last < step else 0.0


def flow_load(series: FlowSeries, *, title: str | None = None) -> Figure:
    """Work in progress per stage, open deals per seller, and seller utilisation over time.

    Three panels over the same days, each value a time average over one interval of the
    series' grid (a weekly grid reads best). Utilisation (hours booked / hours available) is
    left out when the series has none; it stops at the last whole week (``flow_series`` leaves
    out the partial week the horizon cuts), which the panel says.
    """
    edges = series.edges
    has_util = series.utilisation is not None
    fig = Figure(figsize=(9.0, 8.2 if has_util else 6.0), layout="constrained")
    axes = fig.subplots(3 if has_util else 2, 1, sharex=True, squeeze=False)[:, 0]
    wip_ax, seller_ax = axes[0], axes[1]
    stage_names = series.states[series.stage_rows]
    for k, name in enumerate(stage_names):
        wip_ax.stairs(
            series.mean_in[series.stage_rows][k],
            edges,
            color=COLOURS[k % len(COLOURS)],
            linestyle=LINESTYLES[k % len(LINESTYLES)],
            linewidth=1.4,
            label=f"{k + 1} {name}",
            baseline=None,  # a line, not closed down to 0 at both ends
        )
    wip_ax.stairs(
        series.wip, edges, color="black", linewidth=2.0, label="all stages", baseline=None
    )
    wip_ax.set_ylabel("open deals")
    wip_ax.set_title("Work in progress per stage", fontsize=10, loc="left")
    wip_ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    seller_ax.stairs(
        series.open_per_seller_max,
        edges,
        color=COLOURS[3],
        linestyle="--",
        linewidth=1.4,
        label="busiest seller",
        baseline=None,
    )
    seller_ax.stairs(
        series.open_per_seller_mean,
        edges,
        color="black",
        linewidth=1.8,
        label="mean per seller",
        baseline=None,
    )
    seller_ax.set_ylabel("open deals per seller")
    seller_ax.set_title("Deals each seller carries", fontsize=10, loc="left")
    seller_ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if has_util:
        util_ax = axes[2]
        assert series.utilisation is not None and series.utilisation_max is not None
        util_ax.stairs(
            series.utilisation_max,
            edges,
            color=COLOURS[3],
            linestyle="--",
            linewidth=1.4,
            label="busiest seller",
            baseline=None,
        )
        util_ax.stairs(
            series.utilisation, edges, color="black", linewidth=1.8, label="team", baseline=None
        )
        percent_axis(util_ax, "y")
        util_ax.set_ylim(0, 1.05)
        util_ax.set_ylabel("hours booked / available")
        util_ax.set_title("Seller utilisation", fontsize=10, loc="left")
        cut = _partial_last_days(edges)
        if cut and np.isnan(series.utilisation[-1]):
            days = "day" if cut == 1 else f"{cut:g} days"
            util_ax.set_title(
                f"whole weeks only: the last {days} (a partial week) left out",
                fontsize=8,
                loc="right",
                color="0.3",
            )
        util_ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    for ax in axes:
        _shade_warmup(ax, series)
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.4)
    axes[-1].set_xlim(0, edges[-1])
    step = float(np.median(np.diff(edges)))
    axes[-1].set_xlabel(f"day of the run (each step: a {step:g}-day average)")
    handle = Patch(facecolor="0.88", label="warm-up (not counted)")
    fig.legend(handles=[handle], loc="outside lower right", fontsize=8)
    fig.suptitle(
        (title or "How loaded is the pipeline over time?") + f" ({_source(series)})", fontsize=11
    )
    return fig
