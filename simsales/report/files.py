"""The files ``run --out`` and ``compare --out`` write, published together or not at all.

Every file is staged in ``simsales.output.StagedFiles`` and only takes its name when all of a
run's files are complete, so an interrupted run leaves no mix of old and new results. The
functions here raise ``OSError`` when a file cannot be written; the caller says so to the user.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from simsales.report.figures import FIGURE_DIR, comparison_figures
from simsales.report.html import comparison_html, read_input, run_html, stage_figures
from simsales.report.htmlpage import InputFile
from simsales.report.markdown import comparison_markdown
from simsales.report.serialize import to_json
from simsales.results.csvtext import csv_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simsales.experiment import Comparison
    from simsales.experiment.answer import Answer
    from simsales.model import RunRecords
    from simsales.output import StagedFiles
    from simsales.scenario import Scenario

__all__ = [
    "COMPARE_FILES",
    "COMPARE_KEY_COLUMNS",
    "RUN_FILES",
    "commit_with_figures",
    "deal_writer",
    "publish_comparison",
    "publish_run",
    "write_metric_rows",
    "write_replications",
    "write_scenario_replications",
]

#: Files ``run --out`` may write; ones not written this time are removed after a forced rerun.
RUN_FILES = (
    "summary.json",
    "replications.csv",
    "deals.csv",
    "events.csv",
    "accounts.csv",
    "report.html",
)
#: Files ``compare --out`` writes.
COMPARE_FILES = ("comparison.json", "replications.csv", "report.md", "report.html")
#: The columns before the metrics in ``compare``'s ``replications.csv``.
COMPARE_KEY_COLUMNS = ("scenario", "replication")


def write_metric_rows(
    fh: IO[str], keys: Sequence[str], rows: Sequence[tuple[Sequence[Any], dict[str, float]]]
) -> None:
    """CSV of metrics: the ``keys`` columns, then every metric any row has (NaN as empty).

    Each row is its ``keys`` values and its metrics; metric columns are in the order the metrics
    first appear, a metric a row lacks is an empty cell, and numbers are written with ``repr``
    so that they read back exactly. Text cells (a scenario's name) go through ``csv_text``.
    """
    names = list(dict.fromkeys(name for _, rep in rows for name in rep))
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow([csv_text(name) for name in (*keys, *names)])
    for key_values, rep in rows:
        values = (rep.get(name, math.nan) for name in names)
        keyed = (csv_text(v) if isinstance(v, str) else v for v in key_values)
        writer.writerow([*keyed, *("" if math.isnan(v) else repr(v) for v in values)])


def write_replications(fh: IO[str], per_rep: Sequence[dict[str, float]]) -> None:
    """``run``'s ``replications.csv``: a ``replication`` column (from 0), then every metric."""
    write_metric_rows(fh, ["replication"], [([r], rep) for r, rep in enumerate(per_rep)])


def write_scenario_replications(
    fh: IO[str], per_replication: Mapping[str, Sequence[dict[str, float]]]
) -> None:
    """``compare``'s ``replications.csv``: ``COMPARE_KEY_COLUMNS``, then every metric.

    ``per_replication`` maps each scenario name to its metrics, one dict per replication (as
    ``Comparison.per_replication``); rows go scenario by scenario, replications in order.
    """
    rows = [
        ([name, r], rep) for name, reps in per_replication.items() for r, rep in enumerate(reps)
    ]
    write_metric_rows(fh, COMPARE_KEY_COLUMNS, rows)


def deal_writer(
    staged: StagedFiles, *, events: bool
) -> Callable[[int, RunRecords | None, dict[str, float]], None]:
    """An ``on_result`` for ``run_replications`` that writes ``deals.csv`` (and ``events.csv``).

    Each replication's deals (and events) are written as its result arrives, instead of keeping
    every replication's records in memory until the end.
    """
    from simsales.results import DealTable, write_deals_csv, write_events_csv
    from simsales.results.accounts import AccountTable, write_accounts_csv

    deals = staged.open("deals.csv", newline="")
    log = staged.open("events.csv", newline="") if events else None
    accounts: list[IO[str]] = []  # accounts.csv, opened with the first run that has accounts

    def on_result(r: int, records: RunRecords | None, metrics: dict[str, float]) -> None:
        assert records is not None  # records are kept when on_result is given
        first = r == 0
        write_deals_csv([DealTable.from_records(records)], deals, header=first)
        if log is not None and records.events is not None:
            write_events_csv(records.events, r, log, header=first)
        if records.accounts is not None:
            if not accounts:
                accounts.append(staged.open("accounts.csv", newline=""))
            table = AccountTable.from_records(records)
            write_accounts_csv([table], accounts[0], header=first)

    return on_result


def publish_run(
    staged: StagedFiles,
    summary: dict[str, Any],
    per_rep: Sequence[dict[str, float]],
    *,
    scenario: Scenario,
    figures: Mapping[str, Figure] | None = None,
    inputs: Sequence[InputFile] = (),
) -> list[str]:
    """Write ``summary.json``, ``replications.csv``, ``report.html`` and the ``figures``, and
    publish every staged file together; return the names written, relative to the folder.

    Files of ``RUN_FILES`` and figures not written this time (``events.csv`` of an earlier run
    with ``--events``, left in a folder reused with ``--force``) are removed.
    """
    from simsales.results import summarise

    staged.write_text("summary.json", to_json(summary) + "\n")
    write_replications(staged.open("replications.csv", newline=""), per_rep)
    images = stage_figures(staged, figures or {})
    page = run_html(scenario, summarise(per_rep), images, document=summary, inputs=inputs)
    staged.write_text("report.html", page)
    written = commit_with_figures(staged)
    for name in set(RUN_FILES) - set(written):
        (staged.folder / name).unlink(missing_ok=True)
    return written


def publish_comparison(
    staged: StagedFiles,
    report: dict[str, Any],
    comparison: Comparison,
    answer: Answer,
    *,
    files: Sequence[str] = (),
    figures: bool = True,
) -> list[str]:
    """Write ``comparison.json`` (``report``), ``replications.csv``, ``report.md``,
    ``report.html`` and (if ``figures``) the figures, and publish them; return the names written.

    ``answer`` is the comparison's answer on the shown metrics; ``files`` the scenario files
    of the base and the variants, named in the report.
    """
    staged.write_text("comparison.json", to_json(report) + "\n")
    write_scenario_replications(
        staged.open("replications.csv", newline=""), comparison.per_replication
    )
    drawn = comparison_figures(comparison, answer) if figures else {}
    stems = list(drawn)
    images = stage_figures(staged, drawn)
    staged.write_text("report.md", comparison_markdown(comparison, answer, stems, files=files))
    roles = ["Base scenario", *(["Variant scenario"] * (len(files) - 1))]
    inputs = [read_input(f, role) for f, role in zip(files, roles, strict=True) if f]
    page = comparison_html(comparison, answer, images, document=report, inputs=inputs)
    staged.write_text("report.html", page)
    return commit_with_figures(staged)


def commit_with_figures(staged: StagedFiles) -> list[str]:
    """Publish every staged file; remove figures an earlier run left that this one did not write.

    Returns the names written, relative to the output folder, in the order staged.
    """
    written = staged.names
    staged.commit()
    figures = staged.folder / FIGURE_DIR
    if figures.is_dir():
        for path in figures.iterdir():
            if path.suffix in (".png", ".svg") and f"{FIGURE_DIR}/{path.name}" not in written:
                path.unlink()
    return written
