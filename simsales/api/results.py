"""What ``run``, ``compare`` and ``experiment`` return: results that read as DataFrames and show
themselves in Jupyter.

Each result keeps the request that made it, the numbers (the experiment layer's objects, for
code that wants them), and the files written. ``.metrics``, ``.replications`` (and a run's
``.deals``, a comparison's ``.differences``) are pandas DataFrames (``simsales.api.frames``;
pandas is the optional extra ``simsales[pandas]``); ``to_pandas()`` gives the main one, and
``to_parquet(folder)`` writes them all. In a notebook a result shows itself as a short HTML
summary, and ``figures()`` as its figures, without ``%matplotlib``: they are drawn to PNG.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simsales.api import frames

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from simsales.api.requests import CompareRequest, ExperimentRequest, RunRequest
    from simsales.experiment import Comparison, ExperimentResult
    from simsales.experiment.answer import Answer
    from simsales.results import DealTable, MetricSummary
    from simsales.results.catalogue import Metric
    from simsales.results.timeseries import FlowSeries

__all__ = ["CompareResult", "ExperimentOutcome", "FigureSet", "FigureView", "RunResult"]


class FigureView:
    """A figure that shows itself in Jupyter as a PNG (no ``%matplotlib`` needed); ``figure`` is
    the ``matplotlib.figure.Figure`` itself, ``savefig`` saves it."""

    def __init__(self, figure: Figure) -> None:
        self.figure = figure

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()

    def savefig(self, *args: Any, **kwargs: Any) -> None:
        self.figure.savefig(*args, **kwargs)


class FigureSet(Mapping[str, FigureView]):
    """Figures by name; in Jupyter, all of them one under the other."""

    def __init__(self, figures: Mapping[str, Figure]) -> None:
        self._figures = {name: FigureView(fig) for name, fig in figures.items()}

    def __getitem__(self, name: str) -> FigureView:
        return self._figures[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._figures)

    def __len__(self) -> int:
        return len(self._figures)

    def __repr__(self) -> str:
        return f"FigureSet({', '.join(self._figures)})"

    def _repr_html_(self) -> str:
        from simsales.report.htmlpage import esc

        parts = []
        for name, view in self._figures.items():
            data = base64.b64encode(view._repr_png_()).decode("ascii")
            parts.append(
                f"<figure><img src='data:image/png;base64,{data}' alt='{esc(name)}'>"
                f"<figcaption><code>{esc(name)}</code></figcaption></figure>"
            )
        return "".join(parts)


@dataclass(frozen=True, kw_only=True)
class _Written:
    """What every result says about its files and the run store."""

    written: tuple[str, ...] = ()
    reused: int = 0
    store_problem: str | None = None


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class RunResult(_Written):
    """A run: ``request`` as run, each replication's metrics (``per_replication``) and, if kept,
    deal table (``deal_tables``); ``summaries`` are the means with 95% intervals."""

    request: RunRequest
    per_replication: tuple[dict[str, float], ...]
    deal_tables: tuple[DealTable, ...] | None = field(default=None, repr=False)
    flow: tuple[FlowSeries, FlowSeries] | None = field(default=None, repr=False)

    @property
    def scenario(self) -> Any:
        """The scenario as run (its replications and seed set)."""
        return self.request.scenario

    @cached_property
    def summaries(self) -> dict[str, MetricSummary]:
        """Each metric's mean over replications with its 95% interval."""
        from simsales.results import summarise

        return summarise(self.per_replication)

    @cached_property
    def catalogue(self) -> dict[str, Metric]:
        from simsales.results import catalogue_for

        return catalogue_for(self.scenario)

    @property
    def deals(self) -> pd.DataFrame:
        """Every replication's deals (``simsales.api.frames.deals_frame``)."""
        if self.deal_tables is None:
            raise ValueError("the deals were not kept: run with keep_deals=True")
        return frames.deals_frame(self.deal_tables)

    @property
    def replications(self) -> pd.DataFrame:
        """One row per replication, a column per metric."""
        frame = frames.replications_frame({self.scenario.name: self.per_replication})
        return frame.drop(columns="scenario")

    @property
    def metrics(self) -> pd.DataFrame:
        """One row per metric: mean, 95% interval, n, unit, cohort, better direction."""
        found = frames.summaries_frame({self.scenario.name: self.summaries}, self.catalogue)
        return found.drop(columns="scenario").set_index("metric")

    def __repr__(self) -> str:
        run = self.scenario.run
        return f"<RunResult {self.scenario.name}: {run.replications} replications, seed {run.seed}>"

    def to_pandas(self) -> pd.DataFrame:
        """The metrics (``.metrics``)."""
        return self.metrics

    def to_parquet(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Write ``metrics``, ``replications`` and (if kept) ``deals`` as Parquet into
        ``folder``."""
        tables = {"metrics": self.metrics.reset_index(), "replications": self.replications}
        if self.deal_tables is not None:
            tables["deals"] = self.deals
        return frames.write_parquet(tables, folder)

    def figures(self) -> FigureSet:
        """The cumulative flow and the load over time (needs the deals kept)."""
        if self.flow is None:
            raise ValueError("no flow was kept: run with keep_deals=True")
        from simsales.report.figures import run_figures

        return FigureSet(run_figures(*self.flow))

    def _repr_html_(self) -> str:
        from simsales.report.notebook import run_summary_html

        return run_summary_html(self.scenario, self.summaries)


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class CompareResult(_Written):
    """A comparison: ``request`` as run, the ``comparison`` (every metric's summaries and paired
    differences) and its ``answer`` on the shown metrics (the findings, worked out once)."""

    request: CompareRequest
    comparison: Comparison
    answer: Answer

    @property
    def shown(self) -> tuple[str, ...]:
        """The metrics the tables, findings and figures show."""
        return self.request.shown

    def __repr__(self) -> str:
        return _answer_repr("CompareResult", self.answer)

    @cached_property
    def catalogue(self) -> dict[str, Metric]:
        from simsales.results import catalogue_for

        return catalogue_for(self.comparison.base, *self.comparison.variants)

    @property
    def replications(self) -> pd.DataFrame:
        """One row per scenario and replication, a column per metric."""
        return frames.replications_frame(self.comparison.per_replication)

    @property
    def metrics(self) -> pd.DataFrame:
        """One row per scenario and metric: its mean and 95% interval."""
        return frames.summaries_frame(_by_scenario(self.comparison), self.catalogue)

    @property
    def differences(self) -> pd.DataFrame:
        """One row per variant and metric: the paired difference from the base."""
        return frames.differences_frame(_by_variant(self.comparison), self.catalogue)

    def to_pandas(self) -> pd.DataFrame:
        """The paired differences of the shown metrics: what changes, with intervals."""
        found = self.differences
        return found[found["metric"].isin(self.shown)].reset_index(drop=True)

    def to_parquet(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Write ``metrics``, ``differences`` and ``replications`` as Parquet into ``folder``."""
        tables = {
            "metrics": self.metrics,
            "differences": self.differences,
            "replications": self.replications,
        }
        return frames.write_parquet(tables, folder)

    def figures(self) -> FigureSet:
        """The comparison's figures: the answer, the forest plot, outcomes, funnel, ..."""
        from simsales.report.figures import comparison_figures

        return FigureSet(comparison_figures(self.comparison, self.answer))

    def _repr_html_(self) -> str:
        from simsales.report.notebook import answer_summary_html

        return answer_summary_html(self.answer)


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class ExperimentOutcome(_Written):
    """An experiment: ``request`` as run, the experiment layer's ``result`` (its comparison,
    cycle samples and points) and its ``answer``."""

    request: ExperimentRequest
    result: ExperimentResult
    answer: Answer

    @property
    def comparison(self) -> Comparison:
        return self.result.comparison

    def __repr__(self) -> str:
        return _answer_repr("ExperimentOutcome", self.answer)

    @cached_property
    def catalogue(self) -> dict[str, Metric]:
        from simsales.results import catalogue_for

        return catalogue_for(self.comparison.base, *self.comparison.variants)

    @property
    def replications(self) -> pd.DataFrame:
        """One row per scenario and replication, a column per metric."""
        return frames.replications_frame(self.comparison.per_replication)

    @property
    def metrics(self) -> pd.DataFrame:
        """One row per scenario and metric: its mean and 95% interval."""
        return frames.summaries_frame(_by_scenario(self.comparison), self.catalogue)

    @property
    def differences(self) -> pd.DataFrame:
        """One row per variant (or point) and metric: the paired difference from the base."""
        return frames.differences_frame(_by_variant(self.comparison), self.catalogue)

    def to_pandas(self) -> pd.DataFrame:
        """The paired differences of the experiment's metrics."""
        found = self.differences
        return found[found["metric"].isin(self.result.metrics)].reset_index(drop=True)

    def to_parquet(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Write ``metrics``, ``differences`` and ``replications`` as Parquet into ``folder``."""
        tables = {
            "metrics": self.metrics,
            "differences": self.differences,
            "replications": self.replications,
        }
        return frames.write_parquet(tables, folder)

    def figures(self) -> FigureSet:
        """The experiment's figures, as ``--out`` writes them."""
        from simsales.report.figures import experiment_figures

        return FigureSet(experiment_figures(self.result, self.answer))

    def _repr_html_(self) -> str:
        from simsales.report.notebook import answer_summary_html

        return answer_summary_html(self.answer)


def _by_scenario(comparison: Comparison) -> dict[str, dict[str, MetricSummary]]:
    names = (comparison.base_name, *comparison.variant_names)
    return {
        name: {metric: found.summaries[name] for metric, found in comparison.metrics.items()}
        for name in names
    }


def _by_variant(comparison: Comparison) -> dict[str, dict[str, Any]]:
    return {
        name: {metric: found.differences[name] for metric, found in comparison.metrics.items()}
        for name in comparison.variant_names
    }


def _answer_repr(kind: str, answer: Answer) -> str:
    """A result in a console: what was run, then its finding lines."""
    from simsales.report.findings import finding_lines

    head = f"<{kind} {answer.title}: {answer.replications} replications each, seed {answer.seed}>"
    return "\n".join([head, *finding_lines(answer)])
