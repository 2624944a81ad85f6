"""Reports of runs and comparisons: text for the terminal, JSON, and the result files.

- ``text``: the numbers and the tables ``simsales run`` prints, on a ``rich.console.Console``
  the caller gives; ``compare_text``: what ``simsales compare`` prints, the answer first.
- ``findings``: the answer (``simsales.experiment.answer``) in words, for every writer.
- ``serialize``: the JSON of ``--format json``, ``summary.json`` and ``comparison.json``.
- ``files``: the CSV and JSON files of ``--out``, published together or not at all.
- ``experiment``: what ``simsales experiment`` prints and writes (sweep tables, its files).

Reports read results, analyses and experiments; they never run a simulation.
"""

from simsales.report.compare_text import print_comparison
from simsales.report.experiment import (
    EXPERIMENT_FILES,
    experiment_document,
    experiment_request,
    print_experiment,
    publish_experiment,
)
from simsales.report.figures import RunFlow, save_figures
from simsales.report.files import (
    COMPARE_FILES,
    RUN_FILES,
    deal_writer,
    publish_comparison,
    publish_run,
    write_metric_rows,
    write_replications,
    write_scenario_replications,
)
from simsales.report.serialize import (
    comparison_document,
    holds_request,
    jsonable,
    run_request,
    run_summary,
    scenarios_request,
    summary_document,
    to_json,
)
from simsales.report.text import (
    COMPARE_METRICS,
    fmt_change,
    fmt_summary,
    metric_units,
    print_run,
    terminal_console,
)

__all__ = [
    "COMPARE_FILES",
    "COMPARE_METRICS",
    "EXPERIMENT_FILES",
    "RUN_FILES",
    "RunFlow",
    "comparison_document",
    "deal_writer",
    "experiment_document",
    "experiment_request",
    "fmt_change",
    "fmt_summary",
    "holds_request",
    "jsonable",
    "metric_units",
    "print_comparison",
    "print_experiment",
    "print_run",
    "publish_comparison",
    "publish_experiment",
    "publish_run",
    "run_request",
    "run_summary",
    "save_figures",
    "scenarios_request",
    "summary_document",
    "terminal_console",
    "to_json",
    "write_metric_rows",
    "write_replications",
    "write_scenario_replications",
]
