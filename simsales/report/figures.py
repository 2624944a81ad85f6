"""The figures of ``run --out``, ``experiment --out`` and ``compare --out``, and how they are saved.

``experiment_figures`` and ``comparison_figures`` pick the plots of ``simsales.plots`` that fit a
result and give them file stems; ``save_figures`` writes each as PNG and SVG into ``figures/``
of a ``StagedFiles``, so that they are published with the other files or not at all. Every
figure has a one-line caption (``caption``) saying what to look at, which the Markdown report
prints under it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure

from simsales.analysis import PairedDifference
from simsales.experiment.sensitivity import LeverRun
from simsales.plots import (
    cumulative_flow,
    cycle_ecdf,
    flow_load,
    funnel,
    metric_differences,
    outcome_shares,
    scenario_summaries,
    sweep_differences,
    sweep_heatmap,
    time_in_stage,
    tornado,
    tradeoff,
)
from simsales.plots._style import grouped, printable_figure
from simsales.plots.differences import Interval
from simsales.report.text import shown_unit
from simsales.results.catalogue import HEADLINE_METRICS, metric_record
from simsales.results.table import DealTable
from simsales.results.timeseries import FlowSeries, average_flow, flow_series_of_records

if TYPE_CHECKING:
    from simsales.experiment import Comparison, ExperimentResult, OnResult
    from simsales.experiment.answer import Answer
    from simsales.model import RunRecords
    from simsales.output import StagedFiles

__all__ = [
    "FIGURE_DIR",
    "FIGURE_FORMATS",
    "RunFlow",
    "caption",
    "comparison_figures",
    "experiment_figures",
    "figure_files",
    "run_figures",
    "save_figures",
    "tornado_figures",
    "tradeoff_figure",
]

#: The subfolder of ``--out`` that holds the figures.
FIGURE_DIR = "figures"
#: Each figure is written in these formats; PNG for reports, SVG for slides and print.
FIGURE_FORMATS = ("png", "svg")
#: Resolution of the PNG files, dots per inch.
PNG_DPI = 120
#: The joint figure's metrics: the time to a win (x) against the no-decision rate (y).
TRADEOFF_METRICS: tuple[str, str] = (HEADLINE_METRICS[0], HEADLINE_METRICS[1])

_CAPTIONS = {
    "outcome_shares": "How opportunities end in each scenario: look for bars whose intervals "
    "do not overlap the base's.",
    "funnel": "How far deals get (left) and which step loses them (right): the steepest drop "
    "is where deals die.",
    "time_in_stage": "Where the days go: the longest segment is the stage to work on first. "
    "Each segment is a stage's mean over the deals that left it; the bar's end (Σ) adds means "
    "over different deals, so it is no cycle time (the cycle_* metrics are).",
    "cycle_times": "Share of deals closed by each cycle day: a curve further left closes deals "
    "sooner; the dotted line marks the median.",
    "differences": "Each variant's paired change from the base, in % of the base mean: filled "
    "markers are changes whose 95% interval excludes zero.",
    "tradeoff": "Each variant's paired change of the time to a win (across) and of the "
    "no-decision rate (up), with 95% intervals: lower left is faster and fewer deals lost to "
    "no decision; hollow markers are not told apart from the base on either.",
    "cumulative_flow": "Deals in each state day by day, stacked in flow order: a band's height "
    "is the deals in that state; a band that keeps widening is a queue that grows.",
    "flow_over_time": "Weekly averages of the deals in each stage, the deals each seller carries "
    "and the hours they have booked: look for a pipeline that keeps filling after the warm-up.",
}

#: Grids of the run figures, days: the cumulative flow day by day, the load week by week.
CFD_STEP_DAYS = 1.0
LOAD_STEP_DAYS = 7.0


class RunFlow:
    """An ``on_result`` for ``run_replications`` that keeps the running mean of the flow series.

    Each replication's records are reduced to a daily and a weekly ``FlowSeries`` as they
    arrive and folded into a mean, so memory does not grow with the replications; ``then`` (the
    deal writer) sees every result afterwards. ``figures`` draws the run figures from the mean.
    """

    def __init__(self, then: OnResult | None = None) -> None:
        self.then = then
        self.daily: FlowSeries | None = None
        self.weekly: FlowSeries | None = None

    def __call__(
        self, replication: int, records: RunRecords | None, metrics: dict[str, float]
    ) -> None:
        assert records is not None  # records are kept when on_result is given
        table = DealTable.from_records(records)
        daily = flow_series_of_records(records, step_days=CFD_STEP_DAYS, table=table)
        weekly = flow_series_of_records(records, step_days=LOAD_STEP_DAYS, table=table)
        del table
        self.daily = daily if self.daily is None else average_flow([self.daily, daily])
        self.weekly = weekly if self.weekly is None else average_flow([self.weekly, weekly])
        if self.then is not None:
            self.then(replication, records, metrics)

    def figures(self) -> dict[str, Figure]:
        """``run_figures`` of the replications seen so far (none before the first)."""
        if self.daily is None or self.weekly is None:
            return {}
        return run_figures(self.daily, self.weekly)


def run_figures(daily: FlowSeries, weekly: FlowSeries) -> dict[str, Figure]:
    """The figures of ``run --out``, by file stem: the cumulative flow diagram from ``daily``,
    and WIP, deals per seller and utilisation over time from ``weekly``."""
    return {"cumulative_flow": cumulative_flow(daily), "flow_over_time": flow_load(weekly)}


def comparison_figures(comparison: Comparison, answer: Answer) -> dict[str, Figure]:
    """The figures of a comparison that need no cycle times, by file stem, the answer first.

    A forest plot of the paired differences of the answer's metrics (``differences``), each
    variant's change of the time to a win against the no-decision rate (``tradeoff``), then
    outcome shares, the funnel and time in stage per scenario.
    """
    figures: dict[str, Figure] = {}
    shown = [m.name for m in answer.metrics]
    if shown:
        shares = {m.name for m in answer.metrics if m.unit == "share"}
        figures["differences"] = metric_differences(comparison, shown, shares=shares)
    joint = tradeoff_figure(comparison, answer)
    if joint is not None:
        figures["tradeoff"] = joint
    by_scenario = scenario_summaries(comparison)
    stages = [stage.name for stage in comparison.base.stages]
    figures["outcome_shares"] = outcome_shares(by_scenario)
    figures["funnel"] = funnel(by_scenario, stages)
    figures["time_in_stage"] = time_in_stage(by_scenario, stages)
    return figures


def tradeoff_figure(
    comparison: Comparison, answer: Answer, labels: Mapping[str, str] | None = None
) -> Figure | None:
    """``tradeoff`` of the two headline metrics (time to a win, no decision) over the
    variants, or ``None`` if the comparison lacks one. ``labels`` names the variants."""
    x_name, y_name = TRADEOFF_METRICS
    if x_name not in comparison.metrics or y_name not in comparison.metrics:
        return None
    x_found, y_found = comparison.metrics[x_name], comparison.metrics[y_name]
    labels = labels or {}
    points = [
        (labels.get(v, v), x_found.differences[v], y_found.differences[v])
        for v in comparison.variant_names
    ]
    x_record, y_record = metric_record(x_name), metric_record(y_name)
    assert x_record is not None and y_record is not None
    return tradeoff(
        points,
        x_label=x_record.short,
        y_label=y_record.short,
        x_unit=x_record.unit_label(answer.currency),
        y_unit=y_record.unit_label(answer.currency),
        x_base=x_found.summaries[comparison.base_name].mean,
        y_base=y_found.summaries[comparison.base_name].mean,
        x_percent=x_record.unit == "share",
        y_percent=y_record.unit == "share",
        base_label=f"base: {comparison.base_name}",
        title=f"Faster wins, fewer deals lost to no decision?\n(paired changes from "
        f"{comparison.base_name}, {answer.level:.0%} intervals; lower left is better)",
    )


def experiment_figures(result: ExperimentResult, answer: Answer) -> dict[str, Figure]:
    """Every figure of an experiment, by file stem, the answer first.

    Those of ``comparison_figures``; for a sweep one figure per metric of the answer, the
    paired change from the base against the swept value (``sweep_<metric>``) for one key, a
    heat map of the change over both (``heatmap_<metric>``) for two; and the Kaplan–Meier
    cycle-time curves (``cycle_times``). A sensitivity run has a tornado per metric
    (``tornado_<metric>``) and nothing else: with a variant per lever setting, the per-scenario
    figures would only repeat it less clearly.
    """
    comparison = result.comparison
    if result.experiment.kind == "sensitivity":  # the tornados hold every paired difference
        return tornado_figures(result, answer)
    figures = comparison_figures(comparison, answer)
    if result.experiment.kind == "sweep":  # the sweep's own figures after the answer's
        lead = {k: figures.pop(k) for k in ("differences", "tradeoff") if k in figures}
        figures = lead | _sweep_figures(result, answer) | figures
    names = (comparison.base_name, *comparison.variant_names)
    cycles = {
        name: (c.days, c.censored, c.outcome)
        for name in names
        if (c := result.cycles.get(name)) is not None
    }
    if cycles:
        figures["cycle_times"] = cycle_ecdf(cycles)
    return figures


def _sweep_figures(result: ExperimentResult, answer: Answer) -> dict[str, Figure]:
    """A sweep's figure per metric: the paired change from the base at each point."""
    exp = result.experiment
    currency = answer.currency
    figures = {}
    grid = exp.grid
    if len(exp.sweep_keys) == 1:
        (key,) = exp.sweep_keys
        values = [point[key] for point, _ in grid]
        numeric = all(_is_number(v) for v in values)
        xs = [float(v) for v in values] if numeric else list(range(len(values)))
        for metric in answer.metrics:
            changes = [
                None if name == answer.base else answer.effects[name][metric.name].change
                for _, name in grid
            ]
            fig = sweep_differences(
                xs,
                changes,
                base_mean=answer.summaries[answer.base][metric.name].mean,
                x_label=key,
                metric_label=_metric_label(metric.name, metric.unit, currency),
                percent=metric.unit == "share",
                title=f"How does {metric.name} change with {key.rsplit('.', 1)[-1]}?\n"
                f"(paired change from {answer.base}, {answer.level:.0%} intervals)",
                base_label=f"base: {answer.base}",
            )
            if not numeric or len(values) <= 12:  # a tick at each swept value, as written
                fig.axes[0].set_xticks(xs, [_text(v) for v in values])
            figures[f"sweep_{metric.name}"] = fig
        return figures
    x_key, y_key = exp.sweep_keys
    xs_, ys_ = _distinct(p[x_key] for p, _ in grid), _distinct(p[y_key] for p, _ in grid)
    for metric in answer.metrics:
        scale = 100.0 if metric.unit == "share" else 1.0
        cells = np.full((len(ys_), len(xs_)), math.nan)
        labels = [["n/a"] * len(xs_) for _ in ys_]
        for point, name in grid:
            i, j = ys_.index(point[y_key]), xs_.index(point[x_key])
            if name == answer.base:
                cells[i, j], labels[i][j] = 0.0, "base"
                continue
            diff = answer.effects[name][metric.name].change
            cells[i, j] = diff.mean * scale
            labels[i][j] = fmt_delta_short(diff, metric.unit)
        unit = "points" if metric.unit == "share" else shown_unit(metric.unit, currency)
        figures[f"heatmap_{metric.name}"] = sweep_heatmap(
            [_text(v) for v in xs_],
            [_text(v) for v in ys_],
            cells,
            x_label=x_key,
            y_label=y_key,
            metric_label="change from the base" + (f" ({unit})" if unit else ""),
            labels=labels,
            title=f"How do the two levers combine?\nchange in {metric.name} from "
            f"{answer.base} (≈0: interval includes 0)\nby {x_key} and {y_key}",
        )
    return figures


def fmt_delta_short(diff: PairedDifference, unit: str) -> str:
    """A heat-map cell: the change (points for a share), ``≈0`` if not detectable."""
    scale = 100.0 if unit == "share" else 1.0
    if diff.n < 2 or not math.isfinite(diff.half_width):
        return "–"
    if not diff.distinguishable:
        return "≈0"
    return grouped(diff.mean * scale, sign=True)


def tornado_figures(result: ExperimentResult, answer: Answer) -> dict[str, Figure]:
    """A sensitivity run's tornado of each metric (``tornado_<metric>``): each lever's paired
    change from the base one step down and one step up, with its interval, largest swing on top."""
    comparison = result.comparison
    figures = {}
    for metric in answer.metrics:
        rows: list[tuple[str, float, float]] = []
        intervals: dict[str, tuple[Interval | None, Interval | None]] = {}
        for effect in answer.levers[metric.name]:
            label = lever_label(effect.lever)
            down, up = effect.down, effect.up
            rows.append((label, _mean_of(down), _mean_of(up)))
            intervals[label] = (_interval_of(down), _interval_of(up))
        unit = metric.unit
        base_mean = answer.summaries[answer.base][metric.name].mean
        shown = shown_unit(unit, answer.currency)
        base_text = f"{100 * base_mean:.3g}%" if unit == "share" else f"{base_mean:.3g} {shown}"
        figures[f"tornado_{metric.name}"] = tornado(
            rows,
            metric_label=_metric_label(
                metric.name, "" if unit == "share" else unit, answer.currency
            ),
            title=f"Which lever moves {metric.name} most?\n(base {base_text.strip()}, "
            f"{comparison.replications} replications; one lever at a time)",
            down_label="lever one step down",
            up_label="lever one step up",
            intervals=intervals,
            percent=unit == "share",
            level=comparison.level,
        )
    return figures


def _mean_of(diff: PairedDifference | None) -> float:
    return diff.mean if diff is not None else math.nan


def _interval_of(diff: PairedDifference | None) -> Interval | None:
    return (diff.low, diff.high) if diff is not None and math.isfinite(diff.half_width) else None


def lever_label(lever: LeverRun) -> str:
    """A lever's tick label: its name, then low ← base → high ("–" where it does not move)."""
    low = "–" if lever.low is None else _text(lever.low)
    high = "–" if lever.high is None else _text(lever.high)
    return f"{lever.label}\n{low} ← {_text(lever.base)} → {high}"


def caption(stem: str, *, sweep_keys: Sequence[str] = ()) -> str:
    """One line under a figure in the report: what it shows and what to look at."""
    if stem in _CAPTIONS:
        return _CAPTIONS[stem]
    if stem.startswith("tornado_"):
        return (
            f"`{stem.removeprefix('tornado_')}`: each lever's paired change from the base one step "
            "down and one step up, with its 95% interval, the largest swing on top: the levers "
            "worth trying first."
        )
    swept = " and ".join(f"`{k}`" for k in sweep_keys) or "the swept value"
    for prefix in ("sweep_", "heatmap_"):
        if stem.startswith(prefix):
            metric = f"`{stem.removeprefix(prefix)}`"
            if prefix == "sweep_":
                return (
                    f"{metric}: each point's paired change from the base against {swept}, "
                    "with its 95% interval (the right axis reads the level): look for where "
                    "the curve flattens, past which more of the lever buys little."
                )
            return (
                f"{metric}: each combination of {swept}, its paired change from the base "
                "(≈0: the 95% interval includes 0): compare along each row."
            )
    return stem


def figure_files(stems: Sequence[str]) -> list[str]:
    """The file names, relative to ``--out``, that ``save_figures`` writes for ``stems``."""
    return [f"{FIGURE_DIR}/{stem}.{ext}" for stem in stems for ext in FIGURE_FORMATS]


def save_figures(staged: StagedFiles, figures: Mapping[str, Figure]) -> list[str]:
    """Stage each figure as ``figures/<stem>.png`` and ``.svg``; return the names written.

    The files are reproducible byte for byte: no date in the SVG, fixed SVG element ids. Each
    figure is cleared once written, so that its memory is freed while the next is drawn.
    """
    names = []
    png_meta: dict[str, Any] = {"Software": None}
    svg_meta: dict[str, Any] = {"Date": None, "Creator": None}
    with rc_context({"svg.hashsalt": "simsales", "svg.fonttype": "path"}):
        for stem, fig in figures.items():
            printable_figure(fig)  # names as labels: no control character in an SVG file
            for ext in FIGURE_FORMATS:
                name = f"{FIGURE_DIR}/{stem}.{ext}"
                fh = staged.open(name, binary=True)
                meta = png_meta if ext == "png" else svg_meta
                fig.savefig(fh, format=ext, dpi=PNG_DPI, metadata=meta)
                names.append(name)
            fig.clear()
    return names


def _metric_label(metric: str, unit: str, currency: str) -> str:
    """An axis label: the metric and its unit, a share as what it is a share of."""
    record = metric_record(metric)
    shown = record.unit_label(currency) if record is not None else shown_unit(unit, currency)
    return f"{metric} ({shown})" if shown else metric


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _distinct(values: Any) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)
