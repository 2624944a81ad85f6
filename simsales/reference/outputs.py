"""The outputs reference (``docs/reference/outputs.md``): every file and column a run writes.

It reads ``DEAL_FIELDS``, ``OUTCOME_MEANINGS``, ``EVENT_MEANINGS``, ``EXPORT_COLUMNS`` and
the metric catalogue, the header ``write_deals_csv`` really writes, and the keys and columns of what
``simsales compare`` writes, from a probe comparison.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable

import numpy as np

from simsales.analysis import PairedDifference
from simsales.experiment import Comparison, MetricComparison
from simsales.model.records import (
    DARK_CAUSE_MEANINGS,
    DARK_CAUSES,
    DEAL_FIELDS,
    EVENT_MEANINGS,
    EVENTS,
    OUTCOME_MEANINGS,
    OUTCOMES,
    EventLog,
)
from simsales.reference._markdown import GENERATED, md, md_table, metric_table, paragraphs
from simsales.reference.accounts import account_metric_lines, account_section
from simsales.reference.win_loss import win_loss_section
from simsales.report.files import write_scenario_replications
from simsales.report.serialize import comparison_document
from simsales.results import metrics as metrics_module
from simsales.results.catalogue import ACCOUNT_METRIC_NAMES, CATALOGUE, WIN_LOSS_METRIC_NAMES
from simsales.results.csvtext import FORMULA_START, csv_text
from simsales.results.eventlog import EPOCH, EXPORT_COLUMNS, EventLogExport
from simsales.results.summary import MetricSummary
from simsales.results.table import DERIVED_FIELDS, DealTable, write_deals_csv
from simsales.scenario import Scenario

__all__ = ["outputs_reference_markdown"]

#: Stage names of the example header in the outputs reference.
_EXAMPLE_STAGES = ("outreach", "Needs analysis", "proposal")

#: What each column of the exported event log (``EXPORT_COLUMNS``) holds; ``{nan}`` is how NaN
#: is written.
_EVENT_COLUMN_MEANINGS: dict[str, str] = {
    "case_id": "the case: `r<replication>-d<deal_id>`, one per deal and replication",
    "activity": "what happened: the event's name (below); in a stage-level log, `created`, the "
    "stage's name or the outcome",
    "timestamp": "when, as an ISO 8601 date and time (UTC): {epoch} plus `time` days, in every "
    "replication",
    "resource": "who acted, named apart in each replication: `r<replication>-seller <n>`; "
    "`r<replication>-d<deal_id> buyer` (the deal's own buying group) for the buyer's own tasks, "
    "its waits, going dark and its decision; empty for the market (arrival, giving up)",
    "role": "`seller` or `buyer` (empty with the resource): to count over the team rather "
    "than by person",
    "lifecycle": "`complete` for events of a moment; events that last (`buyer_task`, `wait_*`) "
    "have a `start` row when they begin and a `complete` row when they end (where that is "
    "before the deal was closed and before the horizon)",
    "replication": "replication, from 0",
    "deal_id": "the deal, as `deal_id` in `deals.csv`",
    "time": "day of the row, days since the start (exact, unlike the millisecond `timestamp`)",
    "stage": "stage number, from 1; 0 for events outside the stages (created, assigned, touch, "
    "unworked)",
    "stage_name": "the stage's name; empty for stage 0",
    "value": "depends on the event (below)",
    "momentum": "the buyer's momentum, 0 to 1, right after the event, where the model knows it "
    "at that moment (as on `stage_entered`, `call` and `decided`); {nan} otherwise",
    "seller": "the seller's index, from 0 (-1: none yet)",
    "outcome": "how the deal ended (its `outcome` in `deals.csv`), on every row of the case",
    "segment": "the buyer's segment, on every row of the case",
}


def _probe_table() -> DealTable:
    """A one-deal table with example stages: to read the header and cells the CSV really has."""
    cols: dict[str, np.ndarray] = {
        name: np.zeros(1, dtype=np.dtype(code)) for name, (code, _) in DEAL_FIELDS.items()
    }
    cols["stage_entered"] = np.zeros((1, len(_EXAMPLE_STAGES)))
    return DealTable(
        columns=cols,
        stage_names=_EXAMPLE_STAGES,
        segment_names=("core",),
        scenario_name="probe",
        seed=0,
        replication=0,
        horizon_days=1.0,
        warmup_days=0.0,
    )


def _csv_lines(write: Callable[[io.StringIO], None]) -> tuple[list[str], list[str]]:
    buffer = io.StringIO()
    write(buffer)
    head, first = buffer.getvalue().splitlines()[:2]
    return head.split(","), first.split(",")


def _deal_section() -> list[str]:
    probe = _probe_table()
    header, cells = _csv_lines(lambda fh: write_deals_csv([probe], fh))
    own, _ = _csv_lines(probe.to_csv)
    extra = [name for name in header if name not in own]
    stage_cols = header[len(extra) + len(DEAL_FIELDS) + len(DERIVED_FIELDS) :]
    kinds = {
        "b": "integer",
        "h": "integer",
        "i": "integer",
        "l": "integer",
        "f": "number",
        "d": "number",
    }
    first = dict(zip(header, cells, strict=True))
    rows = [(f"`{name}`", "integer", "replication, from 0 (not in `DealTable.to_csv`)")
            for name in extra]  # fmt: skip
    for name, (code, meaning) in DEAL_FIELDS.items():
        if re.fullmatch(r"-?[0-9.e+-]+", first[name]):  # written as the number it holds
            rows.append((f"`{name}`", kinds[code], md(meaning)))
        else:
            rows.append((f"`{name}`", "text", f"{md(meaning)}; written by name"))
    for name, meaning in DERIVED_FIELDS.items():
        kind = "number" if name.endswith("_at") else "integer"
        rows.append((f"`{name}`", kind, md(meaning)))
    rows.append(("`entered_<stage>`", "number", "day the stage was entered (empty: never)"))
    return [
        "## Deals: `deals.csv`",
        "",
        "One row per suspect of every replication, whatever became of it: deals created during "
        "the warm-up, suspects still waiting in the pool and unworked ones are rows too; "
        "`counted` marks the rows the metrics count, and `opportunity` those the CRM opened, so "
        "that a metric recomputed from the file gives the printed number (see "
        "[Metrics](#metrics)). Rows are in order of "
        "arrival (by `deal_id`) within each replication, the replications one after another. "
        "Times are days since the start of the run, kept as 32-bit floats (about seven "
        "significant digits: within 21 seconds of the model's own time up to day 4,096, within "
        "90 seconds up to day 16,384), as are the other real-valued columns but `value`. An "
        "empty cell is a missing value (NaN), such as `assigned_at` of a suspect no seller took.",
        "",
        *md_table(("column", "type", "meaning"), rows),
        "",
        "`entered_<stage>` is one column per stage, in stage order. `<stage>` is the stage's "
        "name in lower case, with each run of characters other than letters and digits turned "
        "into `_`; a name that would be empty or clash with another gets the stage number "
        f"appended. With stages {', '.join(f'`{s}`' for s in _EXAMPLE_STAGES)} the columns are "
        f"{', '.join(f'`{c}`' for c in stage_cols)}, and the whole header is:",
        "",
        "```",
        ",".join(header),
        "```",
        "",
        "In Python, `DealTable.to_csv` writes the same table for one replication, without the "
        "`replication` column.",
    ]


def _events_nan_cell() -> str:
    """How the export writes an unknown momentum (NaN): read from a one-deal log."""
    log = EventLog()
    log.add(0, 0.0, 0, 0, 0.0, -1, math.nan)
    buffer = io.StringIO()
    EventLogExport(buffer, "csv", scenario_name="probe").add(_probe_table(), log)
    row = dict(zip(*csv.reader(io.StringIO(buffer.getvalue())), strict=True))
    return row["momentum"]


def _outcome_section() -> list[str]:
    rows = [(str(code), f"`{name}`", md(OUTCOME_MEANINGS[name]))
            for code, name in enumerate(OUTCOMES)]  # fmt: skip
    return [
        "## Outcomes",
        "",
        "How a record ended, or that it has not. `deals.csv` gives the name; the `decided` and "
        "`closed` events of the event log give the code as their `value`. Every record starts "
        "as a suspect; it becomes an *opportunity* where the team's CRM opens one: when it "
        "enters the stage `crm.opens_at` (by default the second stage, the end of a successful "
        "outreach; `opportunity` and `opened_at` in `deals.csv`). A suspect ends its "
        "prospecting `unworked` (never contacted), `no_response` (contacted, never engaged) or "
        "`disqualified` (if the qualifying stage comes before the opening); an opportunity ends "
        "`won`, `lost`, `no_decision` or `disqualified`. Disqualification is its own outcome "
        "here; `crm.disqualified_as_lost` says whether the rates book it as closed lost.",
        "",
        *md_table(("code", "outcome", "meaning"), rows),
    ]


def _event_section() -> list[str]:
    missing = [name for name in EXPORT_COLUMNS if name not in _EVENT_COLUMN_MEANINGS]
    if missing:
        raise LookupError(f"say what the event log columns {missing} hold in {__name__}")
    cell = _events_nan_cell()
    nan = f"`{cell}`" if cell else "empty"
    epoch = EPOCH.date().isoformat()
    columns = [
        (f"`{name}`", _EVENT_COLUMN_MEANINGS[name].format(nan=nan, epoch=epoch))
        for name in EXPORT_COLUMNS
    ]
    rows = [(str(code), f"`{name}`", md(EVENT_MEANINGS[name][0]), md(EVENT_MEANINGS[name][1]))
            for code, name in enumerate(EVENTS)]  # fmt: skip
    causes = [(str(code), f"`{name}`", md(DARK_CAUSE_MEANINGS[name]))
              for code, name in enumerate(DARK_CAUSES)]  # fmt: skip
    return [
        "## Event log: `events.csv`",
        "",
        "Written by `simsales run --events [FILE]`: every replication's event log, in the layout "
        "process-mining tools read (pm4py, ProM, Disco, Celonis, bupaR): a case id, an activity, "
        "a timestamp, a resource and a lifecycle transition per row, then attributes. `--events` "
        "alone writes `events.csv` into `--out DIR`; `--events FILE` writes FILE, as CSV, IEEE XES "
        "or OCEL 2.0 JSON by its ending (`.csv`, `.xes` or `.json`), into `--out DIR` if FILE is "
        "a bare name. `.jsonocel`, the ending of OCEL 1.0 files, is deprecated: it still writes "
        "OCEL 2.0, with a warning. Rows go case "
        "by case (replication, then `deal_id`), each case's rows in time order; rows of a deal at "
        "the same time keep the order the model logged them in, the end of a lasting event first. "
        "Case ids and resources are named apart in each replication, so a tool counts each "
        "replication's sellers as people of their own; every replication starts on the same "
        "date, so views over calendar time want one replication filtered out.",
        "",
        "`--events-level stage` writes a stage-level log instead: per case, its arrival "
        "(`created`), one row per stage entered with the stage's name as the activity, and, if "
        "the deal closed, one row with its outcome (`won`, `lost`, `no_decision`, "
        "`disqualified`, `no_response`, `unworked`) at the close; a stage whose name is also an "
        "outcome's (or `created`) is written `stage <name>`. Process discovery turns it straight "
        "into the stage model. The columns are the same; `value` is 0 on a stage's row and the "
        "outcome code on the outcome's. [The how-to](../how-to/process-mining.md) reads each "
        "format with pm4py.",
        "",
        *md_table(("column", "meaning"), columns),
        "",
        *md_table(("code", "event", "logged when", "value"), rows),
        "",
        "Why a deal went dark (the `value` of its `went_dark` event):",
        "",
        *md_table(("code", "cause", "meaning"), causes),
        "",
        "In XES each case is a `trace` (with `concept:name`, and the deal's `simsales:outcome`, "
        "`simsales:segment`, `simsales:group_size`, `simsales:list_value`) and each row an "
        "`event` with `concept:name`, `time:timestamp`, `org:resource` and `org:role` (where "
        "there is one), `lifecycle:transition` and the other columns as `simsales:` attributes "
        "(`time` as `simsales:day`). Classifiers: the activity; the activity and stage; the "
        "activity and transition. The log's `simsales:level` says `event` or `stage`.",
        "",
        "In OCEL 2.0 JSON deals and sellers are objects (`r<replication>-d<deal_id>`, "
        "`r<replication>-seller <n>`: the case ids and resources of the other formats); each "
        "event has the activity as its type, the timestamp, the other columns as attributes "
        "(`time` as `day`; `momentum` only where known) and relationships to its deal "
        "(qualifier `deal`) and its seller (qualifier `seller`).",
        "",
        "In Python, `simsales.results.eventlog` has `EventLogExport` (writes a run's records "
        "this way), `read_event_log` (reads any of the formats back into the model's columns) and "
        "`deal_columns` (rebuilds the deal table's outcome, dates, calls, touches, pushes, stage "
        "reached and waits from them; a stage-level log holds too little for that, and is "
        "refused). `RunRecords.events` holds the model's own rows, unsorted "
        "(in the order the model logged them), with the numeric `code` of the event and `case` "
        "for the deal; `write_events_csv` (in `simsales.results`) writes them as they are.",
    ]


def _metric_section() -> list[str]:
    own = set(ACCOUNT_METRIC_NAMES) | set(WIN_LOSS_METRIC_NAMES)  # in their own sections
    metrics = [m for m in CATALOGUE if m.name not in own]
    stats = MetricSummary(mean=0.0, sd=0.0, half_width=0.0, n=1).to_dict()
    lines = [
        "## Metrics",
        "",
        "Every metric is one number per replication. `replications.csv` has one row per "
        "replication: a `replication` column, then one column per metric. `summary.json` gives "
        f"each metric over the replications as {', '.join(f'`{k}`' for k in stats)}: the mean "
        "and standard deviation, the 95% confidence interval `low` to `high` (`mean ∓ "
        "half_width`, Student t) and the number `n` of replications in which the metric is "
        "defined. An undefined value (no wins, so no time to a win) is an empty cell in CSV and "
        "`null` in JSON, never zero. A *share* runs from 0 to 1 (the reports show it in %, as "
        "a share of what its *counts over* column says); `--format json` gives every metric "
        "its `unit`, `cohort` (what it counts over), `better` direction, `group` and "
        "`description` beside its values.",
        "",
    ]
    for paragraph in paragraphs(metrics_module.__doc__)[2:]:
        lines += [paragraph, ""]
    return [
        *lines,
        "`<stage>` in a name stands for each stage's key, as in `entered_<stage>` of "
        "`deals.csv`; `conversion_<stage>` starts at the second stage.",
        "",
        *metric_table(metrics),
    ]


#: What each top-level key of ``comparison.json`` holds.
_COMPARISON_KEY_MEANINGS: dict[str, str] = {
    "base": "name of the base scenario (its `name`)",
    "variants": "names of the variants, in the order given",
    "replications": "replications of each scenario",
    "seed": "root seed, the same for every scenario",
    "level": "confidence level of every interval (0.95: 95%)",
    "pairing": "how the differences are paired: {pairing}",
    "metrics": "for each metric (see [Metrics](#metrics)): `summaries` and `differences`, below",
    "scenarios": "each scenario as run, fully resolved, by name; its `run.replications` and "
    "`run.seed` are the comparison's",
    "files": "each scenario's file, by name",
    "command": "the command line that reproduces the comparison",
    "simsales_version": "version of simsales that ran it",
}
#: What each key of a paired difference (``PairedDifference.to_dict``) holds.
_DIFFERENCE_MEANINGS: dict[str, str] = {
    "mean": "mean of `variant − base` over the paired replications",
    "sd": "standard deviation of the per-replication differences",
    "half_width": "half-width of the confidence interval (Student t on the pairs); `null` with "
    "fewer than 2 pairs",
    "low": "lower end of the interval, `mean − half_width`",
    "high": "upper end of the interval, `mean + half_width`",
    "n": "pairs: replications in which the metric is defined for both scenarios",
    "base_mean": "the base's mean over the same pairs",
    "relative": "`mean / base_mean` (`-0.12`: 12% lower); `null` where `base_mean` is 0",
    "distinguishable": "`true` if the interval excludes 0: the difference is told apart from noise",
    "level": "confidence level of the interval",
}
#: What each key column of ``compare``'s ``replications.csv`` holds (the metrics follow them).
_COMPARE_COLUMN_MEANINGS: dict[str, tuple[str, str]] = {
    "scenario": ("text", "the scenario's name: the base's rows first, then each variant's"),
    "replication": ("integer", "replication, from 0; rows with the same replication ran on the "
                    "same random streams"),
}  # fmt: skip


def _probe_comparison() -> Comparison:
    """A comparison of two scenarios on one metric: to read the keys and columns really written.

    The scenarios are built unvalidated, a name on the defaults and without the keys that have
    none (market, buyers, stages): only their names and the keys of their dump are read.
    """
    base, variant = (
        Scenario.model_construct(name=name)  # type: ignore[call-arg]  # unvalidated on purpose
        for name in ("base", "variant")
    )
    summary = MetricSummary(mean=0.0, sd=0.0, half_width=0.0, n=1)
    difference = PairedDifference(mean=0.0, sd=0.0, half_width=0.0, n=1, base_mean=0.0)
    return Comparison(
        base=base,
        variants=(variant,),
        replications=1,
        seed=0,
        level=0.95,
        per_replication={"base": ({"win_rate": 0.0},), "variant": ({"win_rate": 0.0},)},
        metrics={
            "win_rate": MetricComparison(
                summaries={"base": summary, "variant": summary},
                differences={"variant": difference},
            )
        },
    )


def _meanings(meanings: dict[str, str], keys: list[str], what: str) -> list[tuple[str, str]]:
    missing = [key for key in keys if key not in meanings]
    if missing:
        raise LookupError(f"say what the {what} keys {missing} hold in {__name__}")
    return [(f"`{key}`", meanings[key]) for key in keys]


def _comparison_section() -> list[str]:
    probe = _probe_comparison()
    document = comparison_document(probe, files=["base.toml", "variant.toml"], command=["x"])
    printed = probe.to_dict()
    file_only = [f"`{key}`" for key in document if key not in printed]
    keys = _meanings(_COMPARISON_KEY_MEANINGS, list(document), "comparison.json")
    keys = [(k, m.format(pairing=f"“{document['pairing']}”")) for k, m in keys]
    metric = document["metrics"]["win_rate"]
    stats = ", ".join(f"`{key}`" for key in metric["summaries"]["base"])
    differences = _meanings(
        _DIFFERENCE_MEANINGS, list(metric["differences"]["variant"]), "paired difference"
    )
    header, _ = _csv_lines(lambda fh: write_scenario_replications(fh, probe.per_replication))
    key_columns = [name for name in header if name != "win_rate"]
    if missing := [name for name in key_columns if name not in _COMPARE_COLUMN_MEANINGS]:
        raise LookupError(f"say what the replications.csv columns {missing} hold in {__name__}")
    columns = [(f"`{name}`", *_COMPARE_COLUMN_MEANINGS[name]) for name in key_columns]
    columns.append(("`<metric>`", "number", "one column per metric, as in `simsales run`'s "
                    "`replications.csv`; empty where a scenario does not have it (a stage it "
                    "lacks) or it is undefined"))  # fmt: skip
    return [
        "## Comparisons",
        "",
        "`simsales compare BASE VARIANT... --out DIR` runs every scenario with the same seed and "
        "replications, so that replication r of every scenario uses the same random streams "
        "(common random numbers), and writes these files into `DIR`:",
        "",
        "- `comparison.json`: every metric of every scenario over the replications (mean, 95% "
        "confidence interval) and each variant's paired difference from the base, with the "
        "resolved scenarios, the files, the simsales version and the command line.",
        "- `replications.csv`: every metric, one row per replication of each scenario.",
        "- `report.md`: a Markdown report to read without the tool. It opens with the answer: "
        "a line per variant with the paired change of the headline metrics (the time to a win "
        "and the no-decision rate) and its 95% interval, and the forest plot of every shown "
        "metric's change. Then what was run, the tables of the shown metrics (`--metric`) "
        "with their paired differences, the findings, and the other figures with a caption "
        "each.",
        "- `report.html`: the same report as one self-contained page to open in a browser, "
        "offline: the figures embedded, no script and nothing loaded from elsewhere, and what "
        "reproduces the results (the command line, the seeds, the versions, and each input "
        "file's SHA-256 and text). Names and text from the input files are shown as text.",
        "- `figures/`: the paired differences (`differences`), each variant's change of the "
        "time to a win against its change of the no-decision rate (`tradeoff`), outcome "
        "shares, the funnel and time in stage, each as PNG and SVG (not with `--no-figures`). "
        "`simsales experiment --out` writes these too, with cycle-time curves and, for a "
        "sweep, each point's paired change from the base per metric (a curve for one key, a "
        "heat map for two).",
        "",
        "### `comparison.json`",
        "",
        f"`simsales compare --format json` prints the same, without {', '.join(file_only[:-1])} "
        f"and {file_only[-1]}. An undefined "
        "value is `null`, as in `summary.json`.",
        "",
        *md_table(("key", "meaning"), keys),
        "",
        "`metrics.<metric>.summaries.<scenario>` is the metric over that scenario's "
        f"replications, base first, with the keys of `summary.json`: {stats}. "
        "`metrics.<metric>.differences.<variant>` is the variant's change from the base, paired "
        "replication by replication:",
        "",
        *md_table(("key", "meaning"), differences),
        "",
        "### `replications.csv` of a comparison",
        "",
        *md_table(("column", "type", "meaning"), columns),
        "",
        "Rows go scenario by scenario, each one's replications in order. The metric columns are "
        "every metric any of the scenarios has, in the order they first appear.",
    ]


def _csv_text_section() -> list[str]:
    """How text cells are written: the rule ``csv_text`` applies, shown on examples it makes."""
    starts = ", ".join(f"`{c}`" for c in FORMULA_START if c.isprintable())
    examples = ("=HYPERLINK(...)", "-west", "'=x")
    shown = "; ".join(f"`{text}` is written `{csv_text(text)}`" for text in examples)
    return [
        "## Text cells in CSV files",
        "",
        "Names from the scenario (segments, stages, change events, scenarios) are free text, and "
        f"a spreadsheet reads a cell that starts with {starts}, a tab or a carriage return as a "
        "formula. So every CSV file simsales writes puts a single quote in front of such a text "
        "cell (as OWASP recommends against CSV injection), and one more in front of a text cell "
        f"that is quotes before such a start, so that the rule can be undone exactly: {shown}. "
        "Numbers are never changed (`-3.5` stays a number). "
        "`simsales.results.csvtext.read_csv_text` undoes the rule for one cell; "
        "`simsales.results.eventlog.read_event_log` does it as it reads.",
    ]


def outputs_reference_markdown() -> str:
    """The reference of every output field, as Markdown (``docs/reference/outputs.md``)."""
    lines = [
        "# Output reference",
        "",
        GENERATED,
        "",
        "`simsales run SCENARIO --out DIR` writes these files into `DIR`:",
        "",
        "- `summary.json`: every metric over the replications (mean, 95% confidence interval), "
        "with the fully resolved scenario, the seed, the simsales version and the command line.",
        "- `replications.csv`: every metric, one row per replication.",
        "- `deals.csv`: every deal of every replication, one row each.",
        "- `events.csv`: each deal's event log, in the process-mining layout; only with "
        "`--events`.",
        "- `accounts.csv`: every account of every replication, one row each; only with "
        "`[accounts]` (see [Accounts](#accounts-accountscsv)).",
        "- `figures/`: a cumulative flow diagram (deals in each state, day by day) and work in "
        "progress per stage, open deals per seller and seller utilisation week by week, averaged "
        "over the replications, each as PNG and SVG (not with `--no-figures`).",
        "- `report.html`: the metric and stage tables and the figures as one self-contained page "
        "to open in a browser, offline, with what reproduces them (the command line, the seed, "
        "the versions, the scenario file's SHA-256 and text).",
        "",
        "`simsales compare BASE VARIANT... --out DIR` writes `comparison.json`, a "
        "`replications.csv` of every scenario, `report.md`, `report.html` and `figures/`: see "
        "[Comparisons](#comparisons).",
        "",
        *_csv_text_section(),
        "",
        *_deal_section(),
        "",
        *_outcome_section(),
        "",
        *_event_section(),
        "",
        *account_section(),
        "",
        *_metric_section(),
        "",
        *account_metric_lines(),
        "",
        *win_loss_section(),
        "",
        *_comparison_section(),
    ]
    return "\n".join(lines) + "\n"
