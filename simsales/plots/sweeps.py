"""Figures of a sweep: one metric against one swept value (a curve), or against two (a heat map)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.typing import ArrayLike

from simsales.analysis import PairedDifference
from simsales.plots._style import grouped, grouped_axis, new_figure, percent_axis, series_style
from simsales.results import MetricSummary

__all__ = ["sweep_curve", "sweep_differences", "sweep_heatmap"]

#: A metric label longer than this is split before its unit, so it fits beside a figure's axis.
_LABEL_WIDTH = 32


def _axis_label(label: str) -> str:
    """A long metric label on two lines, its unit or cohort ("(% of worked suspects)") below."""
    name, sep, unit = label.partition(" (")
    return f"{name}\n({unit}" if sep and len(label) > _LABEL_WIDTH else label


def sweep_curve(
    xs: Sequence[float],
    summaries: Sequence[MetricSummary],
    *,
    x_label: str,
    metric_label: str,
    percent: bool = False,
    title: str | None = None,
) -> Figure:
    """A metric's mean against the swept value, with its confidence band.

    ``summaries[i]`` is the metric at ``xs[i]``; labels should carry units ("touch cadence
    (days)"). ``percent`` shows a share (0..1) as a percentage. Points without an interval (one
    replication) draw no band.
    """
    if len(xs) != len(summaries):
        raise ValueError(f"{len(xs)} swept values but {len(summaries)} summaries")
    if not xs:
        raise ValueError("nothing to plot: no sweep points")
    order = np.argsort(np.asarray(xs, dtype=float))
    x = np.asarray(xs, dtype=float)[order]
    sums = [summaries[i] for i in order]
    mean = np.array([s.mean for s in sums])
    low = np.array([s.low for s in sums])
    high = np.array([s.high for s in sums])
    level = sums[0].level
    style = series_style(0)
    fig = new_figure(7.0, 4.4)
    ax = fig.axes[0]
    ax.fill_between(
        x,
        low,
        high,
        where=np.isfinite(low) & np.isfinite(high),
        facecolor=to_rgba(style.colour, 0.2),
        edgecolor=to_rgba(style.colour, 0.6),
        hatch="///",
        linewidth=0.0,
        label=f"{level:.0%} confidence interval",
    )
    ax.plot(x, mean, color=style.colour, marker=style.marker, markeredgecolor="black", label="mean")
    ax.set_xlabel(x_label)
    ax.set_ylabel(_axis_label(metric_label))
    if percent:
        percent_axis(ax)
    else:  # money and counts: 4,800,000, not 4.8 under a 1e6 offset
        grouped_axis(ax.yaxis, np.concatenate([mean, low, high]))
    ax.grid(alpha=0.4)
    ax.set_title(title or f"How does {metric_label} change with {x_label}?")
    fig.legend(loc="outside lower center", ncols=2)
    return fig


def sweep_heatmap(
    x_values: Sequence[float | str],
    y_values: Sequence[float | str],
    grid_means: ArrayLike,
    *,
    x_label: str,
    y_label: str,
    metric_label: str,
    percent: bool = False,
    fmt: str | None = None,
    title: str | None = None,
    labels: Sequence[Sequence[str]] | None = None,
) -> Figure:
    """Heat map of a metric's mean over two swept values, each cell annotated with its value.

    ``labels[i][j]``, if given, replaces the text of a cell (a paired change: ``−12``, ``≈0``).

    ``grid_means[i, j]`` is the mean at ``y_values[i]`` and ``x_values[j]``; NaN cells (undefined)
    are grey and read "n/a". ``percent`` shows a share (0..1) as a percentage on the colour bar and
    in the cells; ``fmt`` overrides the cells' format (default: three significant digits, with
    thousands separators from 10,000 on, or ``"{:.0%}"``). The
    colour map (viridis) runs from dark to light, so it also reads in black and white.
    """
    grid = np.asarray(grid_means, dtype=float)
    if grid.shape != (len(y_values), len(x_values)):
        raise ValueError(
            f"grid_means must have shape (len(y_values), len(x_values)) = "
            f"{(len(y_values), len(x_values))}, got {grid.shape}"
        )
    fmt = fmt or ("{:.0%}" if percent else "")
    fig = new_figure(2.4 + 0.9 * max(len(x_values), 5), 1.6 + 0.6 * max(len(y_values), 3))
    ax = fig.axes[0]
    masked = np.ma.masked_invalid(grid)
    cmap = colormaps["viridis"].with_extremes(bad="0.85")
    image = ax.imshow(masked, cmap=cmap, aspect="auto", origin="lower")
    finite = grid[np.isfinite(grid)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            value = grid[i, j]
            text = (
                labels[i][j]
                if labels is not None
                else "n/a"
                if not math.isfinite(value)
                else fmt.format(value)
                if fmt
                else grouped(value)
            )
            dark = math.isfinite(value) and value < middle  # viridis is dark at the low end
            ax.text(
                j, i, text, ha="center", va="center", fontsize=9, color="white" if dark else "black"
            )
    ax.set_xticks(np.arange(len(x_values)), [str(v) for v in x_values])
    ax.set_yticks(np.arange(len(y_values)), [str(v) for v in y_values])
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    bar = fig.colorbar(image, ax=ax)
    bar.set_label(_axis_label(metric_label))
    if percent:
        percent_axis(bar.ax)
    else:
        grouped_axis(bar.ax.yaxis, grid)
    # three short lines: a metric with its cohort and two key paths overflow one line's width
    fig.suptitle(
        title or f"How do the two levers combine?\n{metric_label}\nby {x_label} and {y_label}"
    )
    return fig


def sweep_differences(
    xs: Sequence[float],
    changes: Sequence[PairedDifference | None],
    *,
    base_mean: float,
    x_label: str,
    metric_label: str,
    percent: bool = False,
    title: str | None = None,
    base_label: str = "base",
) -> Figure:
    """Each sweep point's paired change of a metric from the base, with its interval.

    ``changes[i]`` is the paired difference at ``xs[i]`` (``variant − base``), ``None`` at the
    point that is the base itself (drawn at 0, a square). Filled markers are changes whose
    interval excludes 0; hollow ones are not told apart from the base. The differences are
    paired on common random numbers, so their intervals are the ones that say whether a point
    differs from the base, not the wider bands of each mean. The right-hand axis reads the same
    points as the metric's level (the base's mean plus the change). ``percent``: a share (0..1)
    whose changes show in percentage points.
    """
    if len(xs) != len(changes):
        raise ValueError(f"{len(xs)} swept values but {len(changes)} changes")
    if not xs:
        raise ValueError("nothing to plot: no sweep points")
    scale = 100.0 if percent else 1.0
    order = np.argsort(np.asarray(xs, dtype=float))
    x = np.asarray(xs, dtype=float)[order]
    picked = [changes[i] for i in order]
    mean = np.array([0.0 if d is None else d.mean for d in picked]) * scale
    low = np.array([0.0 if d is None else d.low for d in picked]) * scale
    high = np.array([0.0 if d is None else d.high for d in picked]) * scale
    style = series_style(0)
    fig = new_figure(7.0, 4.4)
    ax = fig.axes[0]
    ax.axhline(0, color="black", linewidth=1)
    ax.plot(x, mean, color=style.colour, linewidth=1.2, zorder=2)
    level = next((d.level for d in picked if d is not None), 0.95)
    for xi, m, lo, hi, d in zip(x, mean, low, high, picked, strict=True):
        if d is None:
            ax.plot(
                [xi], [0.0], marker="s", color="black", markersize=8, linestyle="none", zorder=3
            )
            continue
        finite = math.isfinite(lo) and math.isfinite(hi)
        ax.errorbar(
            [xi],
            [m],
            yerr=[[m - lo], [hi - m]] if finite else None,
            fmt=style.marker,
            color=style.colour,
            markeredgecolor="black",
            markerfacecolor=style.colour if d.distinguishable else "white",
            markersize=8,
            capsize=4,
            zorder=3,
        )
    unit = " (points)" if percent else ""
    ax.set_xlabel(x_label)
    ax.set_ylabel(f"change in {metric_label} from the base{unit}")
    level_scale = base_mean * scale
    right = ax.secondary_yaxis(
        "right",
        functions=(
            lambda d: np.asarray(d, dtype=float) + level_scale,
            lambda v: np.asarray(v, dtype=float) - level_scale,
        ),
    )
    right.set_ylabel(f"{metric_label}" + (" (%)" if percent else ""))
    if not percent:
        grouped_axis(ax.yaxis, np.concatenate([mean, low, high]))
        grouped_axis(right.yaxis, np.concatenate([mean, low, high]) + level_scale)
    ax.grid(alpha=0.4)
    ax.set_title(title or f"How does {metric_label} change with {x_label}?")
    handles = [
        Line2D([], [], marker="s", color="black", linestyle="none", label=base_label),
        Line2D(
            [],
            [],
            marker=style.marker,
            color=style.colour,
            markeredgecolor="black",
            linestyle="none",
            label=f"paired change, {level:.0%} interval excludes 0",
        ),
        Line2D(
            [],
            [],
            marker=style.marker,
            color=style.colour,
            markeredgecolor="black",
            markerfacecolor="white",
            linestyle="none",
            label="not told apart from the base",
        ),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=8)
    return fig
