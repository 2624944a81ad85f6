"""Shared look of every figure: colour-blind-safe colours, each paired with a hatch, a marker and a
line style, so that a figure printed in black and white still tells its series apart.

Figures are built on ``matplotlib.figure.Figure`` directly, never through ``pyplot``: a plotting
function leaves no global state behind (no open-figure registry, no current axes), and works
under any backend, or none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, PercentFormatter
from scipy import stats

from simsales.results import MetricSummary
from simsales.scenario.text import CONTROL_CHARACTERS, printable

#: Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
HATCHES = ("", "//", "..", "xx", "\\\\", "++", "oo", "--")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", ":", "-.")


@dataclass(frozen=True)
class SeriesStyle:
    """How the i-th series of a figure is drawn: colour plus a black-and-white cue."""

    colour: str
    hatch: str
    marker: str
    linestyle: str


def series_style(i: int) -> SeriesStyle:
    """Style of the i-th series (0-based), cycling when there are more series than styles.

    After each round of the colours the markers and hatches move on by one, so that series i
    and i + 8 share a colour but not a marker: no two of the first 64 series look alike (a
    sweep of eleven scenarios is common).
    """
    turn = i // len(COLOURS)
    return SeriesStyle(
        colour=COLOURS[i % len(COLOURS)],
        hatch=HATCHES[(i + turn) % len(HATCHES)],
        marker=MARKERS[(i + turn) % len(MARKERS)],
        linestyle=LINESTYLES[i % len(LINESTYLES)],
    )


#: From this size on a number is written with thousands separators (12,500), never 1.25e+04.
GROUPED_FROM = 10_000.0


def grouped(x: float, *, sign: bool = False) -> str:
    """``x`` for a label: with thousands separators when large (5,274,331), else to three
    significant digits (0.25, 131) as before."""
    plus = "+" if sign else ""
    if math.isfinite(x) and abs(x) >= GROUPED_FROM:
        return f"{x:{plus},.0f}"
    return f"{x:{plus}.3g}"


def grouped_axis(axis: Axis, values: Sequence[float] | np.ndarray) -> None:
    """Thousands separators on ``axis`` if ``values`` (what it shows) reach ``GROUPED_FROM``:
    "4,800,000" rather than "4.8" under a "1e6" offset a reader can miss. Smaller values keep
    matplotlib's own ticks."""
    found = np.abs(np.asarray(values, dtype=float))
    found = found[np.isfinite(found)]
    if found.size and found.max() >= GROUPED_FROM:
        axis.set_major_formatter(FuncFormatter(lambda x, pos: f"{x:,.0f}"))


def new_figure(width: float, height: float, *, ncols: int = 1, sharey: bool = False) -> Figure:
    """A constrained-layout figure of ``width`` × ``height`` inches with ``ncols`` axes in a row."""
    fig = Figure(figsize=(width, height), layout="constrained")
    fig.subplots(1, ncols, sharey=sharey, squeeze=False)
    return fig


def printable_figure(fig: Figure) -> Figure:
    """``fig`` with every control character in its text shown as an escape (``\\x1b``).

    Called just before a figure is saved: labels come from names in scenario files, and a
    control character makes an SVG file malformed XML (and prints as a missing glyph). Titles,
    legends, annotations and tick labels are all covered; text without control characters,
    and so any ordinary figure, is left exactly as it was.
    """
    for text in fig.findobj(Text):
        shown = text.get_text()
        if CONTROL_CHARACTERS.search(shown):
            text.set_text(printable(shown))
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            _printable_ticks(axis, minor=False)
            _printable_ticks(axis, minor=True)
    return fig


def _printable_ticks(axis: Axis, *, minor: bool) -> None:
    """Tick labels are made again from the axis' formatter at each draw: if any holds a control
    character, the formatter is replaced by the printable labels at the same places."""
    labels = axis.get_ticklabels(minor=minor)
    if not any(CONTROL_CHARACTERS.search(label.get_text()) for label in labels):
        return
    shown = {
        float(loc): printable(label.get_text())
        for loc, label in zip(axis.get_ticklocs(minor=minor), labels, strict=False)
    }
    formatter = FuncFormatter(lambda x, pos: shown.get(float(x), ""))
    if minor:
        axis.set_minor_formatter(formatter)
    else:
        axis.set_major_formatter(formatter)


def percent_axis(ax: Axes, which: str = "y") -> None:
    """Show shares (0..1) on ``which`` axis as percentages."""
    axis = ax.yaxis if which == "y" else ax.xaxis
    axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))


def level_of(summaries: Mapping[str, Mapping[str, MetricSummary]]) -> float:
    """The confidence level the summaries share (0.95 if they hold none)."""
    for by_metric in summaries.values():
        for s in by_metric.values():
            return s.level
    return 0.95


def pick(
    summaries_by_scenario: Mapping[str, Mapping[str, MetricSummary]], metrics: Sequence[str]
) -> dict[str, list[MetricSummary]]:
    """Each scenario's summaries of ``metrics``, in order; a clear error naming what is missing."""
    if not summaries_by_scenario:
        raise ValueError("nothing to plot: no scenarios given")
    out: dict[str, list[MetricSummary]] = {}
    for scenario, by_metric in summaries_by_scenario.items():
        missing = [m for m in metrics if m not in by_metric]
        if missing:
            raise ValueError(f"scenario {scenario!r} has no summary of {', '.join(missing)}")
        out[scenario] = [by_metric[m] for m in metrics]
    return out


def half_widths(summaries: Sequence[MetricSummary]) -> list[float]:
    """Error-bar half-widths; 0 where there is no interval (a single replication)."""
    return [s.half_width if math.isfinite(s.half_width) else 0.0 for s in summaries]


def km_step(
    ax: Axes,
    days: np.ndarray,
    censored: np.ndarray | None,
    i: int,
    label: str | None,
    *,
    markersize: float = 5,
) -> None:
    """Draw the (Kaplan–Meier) CDF of ``days`` as a step line in the i-th series style."""
    if days.size == 0 or (censored is not None and censored.all()):
        return
    flags = np.zeros(days.shape, bool) if censored is None else censored
    cdf = stats.ecdf(stats.CensoredData.right_censored(days, flags)).cdf
    x = np.concatenate([[0.0], cdf.quantiles])
    y = np.concatenate([[0.0], cdf.probabilities])
    style = series_style(i)
    ax.step(
        x,
        y,
        where="post",
        color=style.colour,
        linestyle=style.linestyle,
        marker=style.marker,
        markevery=max(1, x.size // 8),
        markersize=markersize,
        markeredgecolor="black",
        label=label,
    )
