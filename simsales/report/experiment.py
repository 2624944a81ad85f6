"""Reports of experiments: the sweep table, ``experiment.json`` and the files of ``--out``.

An experiment of variants prints as a comparison (``simsales.report.text.print_comparison``). A
sweep prints one row per sweep point: its key values, then for each chosen metric its mean ± 95%
half-width over the change from the base (the paired difference, ``≈0`` where its interval
includes 0), and after the table a line per metric saying where it is best.
"""

from __future__ import annotations

import csv
import math
import os
import platform
import shlex
from collections.abc import Sequence
from importlib import metadata
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from simsales import __version__
from simsales.analysis import PairedDifference
from simsales.experiment.compare import CRN_NOTE
from simsales.experiment.spec import key_labels
from simsales.model.records import OUTCOMES
from simsales.report.compare_text import print_answer, print_comparison
from simsales.report.figures import experiment_figures
from simsales.report.files import commit_with_figures, write_scenario_replications
from simsales.report.findings import best_line
from simsales.report.html import experiment_html, read_input, stage_figures
from simsales.report.markdown import experiment_markdown
from simsales.report.sensitivity import print_sensitivity
from simsales.report.serialize import scenarios_request, to_json
from simsales.report.text import (
    decimals,
    fit_console,
    fmt_summary,
    plain,
    print_precision,
    split_to_fit,
)
from simsales.report.text import shown_unit as _shown_unit
from simsales.results import Metric
from simsales.results.csvtext import csv_text

if TYPE_CHECKING:
    from simsales.experiment import Experiment, ExperimentResult
    from simsales.experiment.answer import Answer
    from simsales.output import StagedFiles

__all__ = [
    "EXPERIMENT_FILES",
    "experiment_document",
    "experiment_request",
    "fmt_delta",
    "print_experiment",
    "publish_experiment",
    "sweep_tables",
    "write_cycles",
]

#: Files ``experiment --out`` writes.
EXPERIMENT_FILES = ("experiment.json", "replications.csv", "cycles.csv", "report.md", "report.html")


def fmt_delta(diff: PairedDifference, unit: str) -> str:
    """A paired difference in a few characters: ``−14 (−12%)``, ``≈0`` if not detectable."""
    scale = 100.0 if unit == "share" else 1.0
    mean, half = diff.mean * scale, diff.half_width * scale
    if diff.n < 2 or not math.isfinite(half):
        return "–"
    if half == 0 and mean == 0:
        return "same"
    if not diff.distinguishable:
        return "≈0"
    text = f"{mean:+,.{decimals(mean, half)}f}".replace("-", "−")
    if math.isfinite(diff.relative):
        percent = 100 * diff.relative
        text += f" ({percent:+.{0 if abs(percent) >= 10 else 1}f}%)".replace("-", "−")
    return text


def sweep_tables(result: ExperimentResult, answer: Answer, console: Console) -> list[Table]:
    """One row per sweep point in the file's order (the base's point marked; a base off the
    grid first); per metric its value over its change from the base. Metrics beyond what fits
    100 columns go to further tables, each with the key columns."""
    exp = result.experiment
    keys = exp.sweep_keys
    rows: list[tuple[dict[str, Any] | None, str]] = list(exp.grid)
    if exp.base_at is None:
        rows.insert(0, (None, answer.base))

    def build(metrics: Sequence[Metric]) -> Table:
        table = Table()
        for label in key_labels(keys):
            table.add_column(escape(label), justify="right", no_wrap=True)
        for metric in metrics:
            unit = _shown_unit(metric.unit, answer.currency)
            head = f"{metric.name} ({unit})" if unit else metric.name
            table.add_column(escape(head), justify="right", no_wrap=True)
        for point, name in rows:
            is_base = name == answer.base
            if point is None:
                cells = [f"base ({name})", *([""] * (len(keys) - 1))]
            else:
                cells = [_value(point[key]) for key in keys]
                if is_base:
                    cells[-1] += " (base)"
            for metric in metrics:
                summary = fmt_summary(answer.summaries[name][metric.name], metric.unit)
                if is_base:
                    cells.append(summary)
                else:
                    change = fmt_delta(answer.effects[name][metric.name].change, metric.unit)
                    cells.append(f"{summary}\n{change}")
            table.add_row(*plain(*cells), end_section=is_base and point is None)
        return table

    return split_to_fit(answer.metrics, build, console)


def print_experiment(console: Console, result: ExperimentResult, answer: Answer) -> None:
    """The answer first; then variants as a comparison, a sweep as ``sweep_tables`` and where
    each metric is best, a sensitivity run as its tables of levers."""
    comparison, exp = result.comparison, result.experiment
    if exp.kind == "variants":
        print_comparison(console, answer, comparison)
        return
    if exp.kind == "sensitivity":
        print_sensitivity(console, result, answer)
        return
    tables = sweep_tables(result, answer, console)
    piped = fit_console(console, tables)
    run = comparison.base.run
    console.print(
        f"[bold]{escape(exp.spec.name)}[/bold]: sweep of {escape(', '.join(exp.sweep_keys))} "
        f"over {len(exp.grid)} points from base {escape(comparison.base_name)}; "
        f"{comparison.replications} replications each, seed {comparison.seed}, "
        f"horizon {run.horizon_days:g} days, warm-up {run.warmup_days:g} days",
        soft_wrap=piped,
    )
    print_answer(console, answer)
    console.print(CRN_NOTE, soft_wrap=piped)
    console.print(
        "mean ± 95% half-width; under it the paired difference from the base "
        "(≈0: its 95% interval includes 0; same: equal in every replication)",
        soft_wrap=piped,
    )
    for table in tables:
        console.print(table)
    for best in answer.best:
        console.print(escape(best_line(best, answer.currency, answer.labels)), soft_wrap=True)
    print_precision(console, comparison)


def experiment_document(result: ExperimentResult, *, command: Sequence[str]) -> dict[str, Any]:
    """``experiment.json``: the spec, every result, the resolved scenarios, seeds, versions and
    the command line, so that the experiment can be rerun and checked."""
    exp = result.experiment
    return result.to_dict(scenarios=True) | {
        "seeds": {
            "root": exp.seed,
            "replications": list(range(exp.replications)),
            "rule": "replication r of every scenario uses SeedSequence(root, spawn_key=(r,))",
        },
        "command": shlex.join(command),
        "simsales_version": __version__,
        "versions": _versions(),
    }


def experiment_request(experiment: Experiment, *, command: Sequence[str]) -> dict[str, Any]:
    """The request of ``simsales experiment`` before it runs: what ``request_of`` reads from the
    ``experiment.json`` it will write (see ``simsales.report.serialize``)."""
    return scenarios_request(
        [experiment.base, *experiment.scenarios],
        seed=experiment.seed,
        command=command,
        spec=experiment.spec.model_dump(mode="json", exclude_none=True),
    )


def write_cycles(fh: IO[str], result: ExperimentResult) -> None:
    """``cycles.csv``: scenario, cycle_days, outcome (by name), censored (1: open at horizon)."""
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(["scenario", "cycle_days", "outcome", "censored"])
    for scenario, sample in result.cycles.items():
        name = csv_text(scenario)  # free text: kept from being read as a spreadsheet formula
        for days, code, censored in zip(
            sample.days.tolist(), sample.outcome.tolist(), sample.censored.tolist(), strict=True
        ):
            writer.writerow([name, repr(days), OUTCOMES[code], int(censored)])


def publish_experiment(
    staged: StagedFiles,
    result: ExperimentResult,
    answer: Answer,
    document: dict[str, Any],
    *,
    figures: bool = True,
) -> list[str]:
    """Write ``EXPERIMENT_FILES`` and (if ``figures``) the figures; publish them.

    Returns the names written, relative to the output folder. Figures of an earlier run left in
    a folder reused with ``--force`` are removed, so that the folder holds one run's results.
    """
    staged.write_text("experiment.json", to_json(document) + "\n")
    write_scenario_replications(
        staged.open("replications.csv", newline=""), result.comparison.per_replication
    )
    write_cycles(staged.open("cycles.csv", newline=""), result)
    drawn = experiment_figures(result, answer) if figures else {}
    stems = list(drawn)
    images = stage_figures(staged, drawn)
    staged.write_text("report.md", experiment_markdown(result, answer, stems))
    exp = result.experiment
    base = os.path.normpath(os.path.join(os.path.dirname(exp.file), exp.spec.base))
    inputs = [read_input(exp.file, "Experiment file"), read_input(base, "Base scenario")]
    page = experiment_html(result, answer, images, document=document, inputs=inputs)
    staged.write_text("report.html", page)
    return commit_with_figures(staged)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "simsales": __version__}
    for package in ("numpy", "scipy", "simpy", "pydantic"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:  # pragma: no cover
            out[package] = "not installed"
    return out
