"""Figures of changes from a base: a forest plot of paired differences, and a tornado of levers."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from simsales.plots._style import grouped, grouped_axis, new_figure, percent_axis, series_style

if TYPE_CHECKING:  # plots only read a comparison; no need to import the experiment machinery
    from simsales.analysis import PairedDifference
    from simsales.experiment import Comparison

__all__ = ["metric_differences", "tornado", "tradeoff"]

#: A confidence interval (low, high), in the metric's units.
Interval = tuple[float, float]


def metric_differences(
    comparison: Comparison,
    metrics: Sequence[str],
    *,
    labels: Mapping[str, str] | None = None,
    shares: Collection[str] = (),
) -> Figure:
    """Forest plot: each variant's paired difference from the base, relative to the base mean.

    One row per metric and variant: the point is ``(variant − base) / base mean`` over paired
    replications, the bar its confidence interval scaled the same way. Filled markers mark
    differences whose interval excludes zero; hollow markers, "no detectable difference". A metric
    whose base mean is 0 or undefined has no relative difference and is marked "n/a". ``labels``
    renames metrics on the axis (default: the metric name); each shows its base mean below, in
    percent for the metrics of ``shares``.
    """
    if not metrics:
        raise ValueError("nothing to plot: no metrics given")
    unknown = [m for m in metrics if m not in comparison.metrics]
    if unknown:
        raise ValueError(f"the comparison has no metric {', '.join(unknown)}")
    variants = comparison.variant_names
    labels = labels or {}
    per_block = len(variants) + 1  # a blank row between metrics
    fig = new_figure(8.0, 1.6 + 0.32 * per_block * len(metrics))
    ax = fig.axes[0]
    ticks, ticklabels = [], []
    for b, metric in enumerate(metrics):
        diffs = comparison.metrics[metric].differences
        top = -b * per_block
        base_mean = next(iter(diffs.values())).base_mean if diffs else math.nan
        ticks.append(top - (len(variants) - 1) / 2)
        if metric in shares:
            shown = f"{100 * base_mean:.3g}%"
        else:
            shown = f"{base_mean:,.0f}" if abs(base_mean) >= 1e4 else f"{base_mean:.3g}"
        ticklabels.append(f"{labels.get(metric, metric)}\n(base {shown})")
        for i, variant in enumerate(variants):
            d, style, y = diffs[variant], series_style(i + 1), top - i
            rel = d.relative
            if not math.isfinite(rel):
                ax.text(0, y, " n/a", va="center", fontsize=8, color="0.3")
                continue
            ends = sorted((d.low / d.base_mean, d.high / d.base_mean))
            err = [[rel - ends[0]], [ends[1] - rel]] if math.isfinite(d.half_width) else None
            ax.errorbar(
                [rel],
                [y],
                xerr=err,
                fmt=style.marker,
                color=style.colour,
                markersize=8,
                markeredgewidth=1.5,
                markerfacecolor=style.colour if d.distinguishable else "white",
                capsize=3,
            )
    ax.axvline(0, color="black", linewidth=1)
    ax.set_yticks(ticks, ticklabels, fontsize=8)
    ax.set_ylim(-len(metrics) * per_block + 1, 1)
    percent_axis(ax, "x")
    ax.grid(axis="x", alpha=0.4)
    ax.set_xlabel(
        f"difference from the base (% of the base mean), paired, {comparison.level:.0%} CI"
    )
    ax.set_title(f"What does each variant change against {comparison.base_name!r}?")
    handles = [
        Line2D(
            [],
            [],
            marker=series_style(i + 1).marker,
            color=series_style(i + 1).colour,
            linestyle="none",
            markersize=8,
            label=variant,
        )
        for i, variant in enumerate(variants)
    ]
    handles += [
        Line2D([], [], marker="o", color="black", linestyle="none", label="interval excludes 0"),
        Line2D(
            [],
            [],
            marker="o",
            color="black",
            markerfacecolor="white",
            linestyle="none",
            label="no detectable difference",
        ),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=2)
    return fig


def tornado(
    effects: Sequence[tuple[str, float, float]],
    *,
    metric_label: str,
    title: str | None = None,
    down_label: str = "lever one step down",
    up_label: str = "lever one step up",
    intervals: Mapping[str, tuple[Interval | None, Interval | None]] | None = None,
    percent: bool = False,
    level: float = 0.95,
) -> Figure:
    """Tornado chart: the change in a metric when each lever moves one step down and one step up.

    ``effects`` holds ``(lever, change when one step down, change when one step up)``, each change
    from the base value in the metric's units (``metric_label`` names them, e.g. "median cycle
    (days)"). Levers are sorted by total effect ``|down| + |up|``, the largest on top; a NaN
    change draws no bar (a lever that moves one way only). ``intervals`` maps a lever to the
    confidence intervals (low, high) of its down and up changes: each bar then gets an error bar,
    and a change whose interval includes 0 has its value in parentheses. ``percent`` shows the
    changes (of a share) in percentage points; ``level`` is the intervals' confidence level.
    """
    if not effects:
        raise ValueError("nothing to plot: no levers given")
    ordered = sorted(effects, key=lambda e: -(np.nan_to_num(abs(e[1])) + np.nan_to_num(abs(e[2]))))
    levers = [e[0] for e in ordered]
    intervals = intervals or {}
    scale = 100.0 if percent else 1.0
    fig = new_figure(8.0, 1.6 + 0.55 * len(levers))
    ax = fig.axes[0]
    y = np.arange(len(levers))
    ends = [abs(v) for e in ordered for v in e[1:] if math.isfinite(v)]
    ends += [
        abs(b)
        for e in ordered
        for ci in intervals.get(e[0], (None, None))
        if ci is not None
        for b in ci
        if math.isfinite(b)
    ]
    span = scale * max(ends, default=1.0) or 1.0
    for k, (label, offset) in enumerate(((down_label, -0.2), (up_label, 0.2))):
        style = series_style(k)
        values = np.array([e[1 + k] for e in ordered], dtype=float) * scale
        ax.barh(
            y + offset,
            np.nan_to_num(values),
            height=0.4,
            color=style.colour,
            hatch=("", "//")[k],
            edgecolor="black",
            linewidth=0.6,
            label=label,
        )
        for row, v in enumerate(values):
            if not math.isfinite(v):
                continue
            ci = intervals.get(levers[row], (None, None))[k]
            text = grouped(v, sign=True)
            reach = v
            if ci is not None and all(math.isfinite(b) for b in ci):
                low, high = sorted(b * scale for b in ci)
                ax.errorbar(
                    [v],
                    [row + offset],
                    xerr=[[v - low], [high - v]],
                    fmt="none",
                    ecolor="black",
                    elinewidth=1.0,
                    capsize=3,
                )
                reach = high if v >= 0 else low
                if low <= 0 <= high:
                    text = f"({text})"
            pad = 0.02 * span * (1 if v >= 0 else -1)
            ax.text(
                reach + pad,
                row + offset,
                text,
                va="center",
                ha="left" if v >= 0 else "right",
                fontsize=8,
            )
    ax.axvline(0, color="black", linewidth=1)
    ax.set_yticks(y, levers)
    ax.invert_yaxis()  # largest effect on top
    ax.set_xlim(-1.3 * span, 1.3 * span)
    if not percent:
        grouped_axis(ax.xaxis, [span])
    unit = " (points)" if percent else ""
    ax.set_xlabel(f"change in {metric_label} from the base{unit}")
    ax.set_ylabel("lever")
    ax.grid(axis="x", alpha=0.4)
    ax.set_axisbelow(True)
    ax.set_title(title or f"Which lever moves {metric_label} most?")
    handles, labels = ax.get_legend_handles_labels()
    if intervals:
        handles.append(
            Line2D([], [], color="black", marker="|", markersize=8, linestyle="-", linewidth=1)
        )
        labels.append(f"{level:.0%} interval (paired); (value): interval includes 0")
    fig.legend(handles, labels, loc="outside lower center", ncols=2)
    return fig


#: Most variants of ``tradeoff`` whose points are labelled beside them (then only the legend).
ANNOTATED = 5
#: A point of ``tradeoff``: its label, and its paired change of the x and the y metric.
TradeoffPoint = tuple[str, "PairedDifference", "PairedDifference"]


def tradeoff(
    points: Sequence[TradeoffPoint],
    *,
    x_label: str,
    y_label: str,
    x_base: float,
    y_base: float,
    x_unit: str = "",
    y_unit: str = "",
    x_percent: bool = False,
    y_percent: bool = False,
    base_label: str = "base",
    title: str | None = None,
) -> Figure:
    """Two metrics at once: each variant's paired change of both from the base, with intervals.

    The base sits at the origin; each point is a variant (``(label, x change, y change)``),
    with its interval along each axis (paired, on common random numbers). Filled markers
    differ from the base on at least one axis; hollow ones on neither. The top and right axes
    read the same points as levels (the base's mean plus the change), in ``x_unit`` and
    ``y_unit``. ``x_percent`` and ``y_percent``: shares (0..1), shown in % and their changes in
    percentage points. Made for the time to a win against the no-decision rate: down and to
    the left is better on both.
    """
    if not points:
        raise ValueError("nothing to plot: no variants")
    xs, ys = (100.0 if x_percent else 1.0), (100.0 if y_percent else 1.0)
    widest = max(len(label) for label, _, _ in points)
    ncols = max(1, min(4, 110 // (widest + 6)))  # a legend as wide as the figure at most
    rows = math.ceil((len(points) + 1) / ncols)
    fig = new_figure(7.5, 5.2 + 0.2 * rows)
    ax = fig.axes[0]
    ax.axhline(0, color="black", linewidth=0.8)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.plot([0], [0], marker="s", color="black", markersize=9, linestyle="none", zorder=3)
    ax.annotate(
        base_label, (0, 0), xytext=(-6, 6), textcoords="offset points", fontsize=8, ha="right"
    )
    handles = [Line2D([], [], marker="s", color="black", linestyle="none", label=base_label)]
    for i, (label, dx, dy) in enumerate(points):
        style = series_style(i + 1)
        x, y = dx.mean * xs, dy.mean * ys
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        xerr = [[x - dx.low * xs], [dx.high * xs - x]] if math.isfinite(dx.half_width) else None
        yerr = [[y - dy.low * ys], [dy.high * ys - y]] if math.isfinite(dy.half_width) else None
        told = dx.distinguishable or dy.distinguishable
        ax.errorbar(
            [x],
            [y],
            xerr=xerr,
            yerr=yerr,
            fmt=style.marker,
            color=style.colour,
            markeredgecolor="black",
            markerfacecolor=style.colour if told else "white",
            markersize=8,
            capsize=3,
            zorder=3,
        )
        if len(points) <= ANNOTATED:  # more would overlap: the legend names them
            ax.annotate(label, (x, y), xytext=(6, -10), textcoords="offset points", fontsize=7)
        handles.append(
            Line2D(
                [],
                [],
                marker=style.marker,
                color=style.colour,
                markeredgecolor="black",
                linestyle="none",
                label=label,
            )
        )

    def change(label: str, unit: str, percent: bool) -> str:
        unit = "points" if percent else unit
        return f"change in {label} from the base" + (f" ({unit})" if unit else "")

    ax.set_xlabel(change(x_label, x_unit, x_percent))
    ax.set_ylabel(change(y_label, y_unit, y_percent))
    x_shift, y_shift = x_base * xs, y_base * ys
    top = ax.secondary_xaxis("top", functions=(_shifted(x_shift), _shifted(-x_shift)))
    top.set_xlabel(x_label + (f" ({x_unit})" if x_unit else ""))
    right = ax.secondary_yaxis("right", functions=(_shifted(y_shift), _shifted(-y_shift)))
    right.set_ylabel(y_label + (f" ({y_unit})" if y_unit else ""))
    for axis, percent, level in (
        (top.xaxis, x_percent, x_shift),
        (right.yaxis, y_percent, y_shift),
    ):
        if not percent:  # levels in the thousands read as on the change axes: 450,000
            grouped_axis(axis, [abs(level) * 1.5])
    ax.grid(alpha=0.4)
    ax.set_title(title or f"{x_label} against {y_label}: each variant's change from the base")
    fig.legend(handles=handles, loc="outside lower center", ncols=ncols, fontsize=8)
    return fig


def _shifted(shift: float) -> Any:
    """``x + shift``, element by element: a secondary axis that reads a change as a level."""
    return lambda values: np.asarray(values, dtype=float) + shift
