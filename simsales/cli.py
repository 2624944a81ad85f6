"""The ``simsales`` command: validate scenario files, print their schema, run them.

Thin by design: each command parses its options, calls one library function and prints or
writes. Bad input exits with code 2 and a list of problems, never a traceback; a failed run exits
1; Ctrl-C exits 130 without leaving partial files. The model and results packages are imported
only by ``run`` and ``reference``, so that ``validate`` and ``schema`` stay quick and work on their
own.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import shlex
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

import click

from simsales import __version__
from simsales.output import OutputError, StagedFiles, atomic_write_text, prepare_out_dir
from simsales.scenario import Scenario, ScenarioError, load_scenario, scenario_json_schema

if TYPE_CHECKING:
    from simsales.analysis import PairedDifference
    from simsales.experiment import Comparison
    from simsales.model import RunRecords
    from simsales.results import MetricSummary

#: Files ``run --out`` may write; ones not written this time are removed after a forced rerun.
OUTPUT_FILES = ("summary.json", "replications.csv", "deals.csv", "events.csv")

#: Rows of the text table, by group. Every metric (per stage too) is in the JSON and CSV output.
TABLE_GROUPS: dict[str, tuple[str, ...]] = {
    "outcomes": ("opportunities", "share_won", "share_lost", "share_no_decision",
                 "share_disqualified", "share_open", "unworked_share"),
    "pipeline": ("qualified_share", "win_rate_qualified", "no_decision_of_not_won_qualified",
                 "purchase_likelihood", "win_rate_decided", "no_decision_of_not_won"),
    "cycle time": ("won_median_days", "cycle_median_days", "cycle_p90_days",
                   "cycle_median_lost_days", "cycle_median_no_decision_days"),
    "activity": ("calls_per_deal", "touches_per_deal", "wrong_activities_per_deal",
                 "mean_gap_days", "max_gap_days_mean", "flow_efficiency"),
    "sellers": ("seller_utilisation", "seller_hours_per_win", "wip_mean", "wip_per_seller",
                "seller_wait_share", "throughput_per_year"),
    "money": ("bookings_per_year", "mean_won_value", "mean_discount_won"),
    "forecast": ("share_pushed", "pushes_per_forecast_deal", "forecast_accuracy"),
}  # fmt: skip
#: Per-stage metrics, shown as the columns of the stage table.
STAGE_COLUMNS = ("reach", "conversion", "days_in", "wip")


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _load(path: Path, overrides: Sequence[str]) -> Scenario:
    """Load a scenario or exit 2 listing its problems."""
    try:
        return load_scenario(path, overrides)
    except ScenarioError as err:
        n = len(err.problems)
        _print_problems(f"{path}: {n} problem{'s' if n != 1 else ''}:", err)
        sys.exit(2)


def _print_problems(head: str, err: ScenarioError) -> None:
    click.echo(head, err=True)
    for problem in err.problems:
        click.echo(f"  {problem}", err=True)


_SET = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a key after loading, e.g. policies.activities_per_call=4 or "
    "stages.discovery.p_right=0.8 (value read as TOML). Repeatable.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="simsales")
def main() -> None:
    """simsales: simulate B2B sales processes, buyer and seller as joint actors."""


@main.command(short_help="Check scenario files without running them.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@_SET
def validate(files: tuple[Path, ...], overrides: tuple[str, ...]) -> None:
    """Check scenario FILES without running them; exit 2 if any is invalid."""
    bad = 0
    for path in files:
        try:
            s = load_scenario(path, overrides)
        except ScenarioError as err:
            bad += 1
            _print_problems(f"FAIL {path}", err)
            continue
        click.echo(
            f"ok  {path} ({s.name}: {len(s.stages)} stages, {len(s.market.segments)} segments, "
            f"{s.team.sellers} sellers; horizon {s.run.horizon_days:g} days, "
            f"warm-up {s.run.warmup_days:g})"
        )
    if bad:
        sys.exit(2)


@main.command(short_help="Print the JSON Schema of scenario files.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write to FILE.")
def schema(out: Path | None) -> None:
    """Print the JSON Schema of scenario files (for editor completion and checks)."""
    text = json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        atomic_write_text(out, text)
    except OSError as err:
        _fail(f"cannot write {out}: {err.strerror or err}", 1)


@main.command(short_help="Write the reference docs of scenario keys and outputs.")
@click.option(
    "--out-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("docs/reference"),
    show_default=True,
    help="Write scenario.md and outputs.md here.",
)
@click.option(
    "--print", "show", type=click.Choice(["scenario", "outputs"]), help="Print one to stdout."
)
def reference(out_dir: Path, show: str | None) -> None:
    """Write the scenario and output reference (Markdown), generated from the code."""
    from simsales.reference import REFERENCES

    if show is not None:
        click.echo(REFERENCES[show](), nl=False)
        return
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, render in REFERENCES.items():
            atomic_write_text(out_dir / f"{name}.md", render())
    except OSError as err:
        _fail(f"cannot write to {out_dir}: {err.strerror or err}", 1)
    click.echo(f"wrote {', '.join(str(out_dir / f'{name}.md') for name in REFERENCES)}")


@main.command(short_help="Run a scenario and print its metrics.")
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(path_type=Path))
@click.option("--replications", "-r", type=click.IntRange(min=1), help="Default: run.replications.")
@click.option("--seed", type=click.IntRange(min=0), help="Root seed. Default: run.seed.")
@_SET
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Write files here.")
@click.option("--force", is_flag=True, help="Write into --out even if it is not empty.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    help="text: tables; json: every metric, and nothing else, on stdout.",
)
@click.option(
    "--jobs", "-j", type=click.IntRange(min=0), default=1, help="Processes (0: all CPUs)."
)
@click.option("--events", is_flag=True, help="Also write the event log (needs --out).")
def run(
    scenario_file: Path,
    replications: int | None,
    seed: int | None,
    overrides: tuple[str, ...],
    out: Path | None,
    force: bool,
    fmt: str,
    jobs: int,
    events: bool,
) -> None:
    """Run SCENARIO's replications and print its metrics with 95% confidence intervals."""
    from simsales.results import summarise

    scenario = _load(scenario_file, overrides)
    reps = replications or scenario.run.replications
    seed = scenario.run.seed if seed is None else seed
    # The resolved scenario written to summary.json must say what was run.
    settings = scenario.run.model_copy(update={"replications": reps, "seed": seed})
    scenario = scenario.model_copy(update={"run": settings})
    jobs = jobs or os.cpu_count() or 1
    if events and out is None:
        _fail("--events needs --out DIR: the event log is written to DIR/events.csv", 2)
    try:
        folder = prepare_out_dir(out, force) if out is not None else None
    except OutputError as err:
        _fail(str(err), 2)
    command = ["simsales", "run", str(scenario_file), f"--replications={reps}", f"--seed={seed}"]
    command += [f"--set={o}" for o in overrides] + [f"--jobs={jobs}"]
    command += [f"--out={out}"] if out is not None else []
    command += ["--events"] if events else []
    try:
        with StagedFiles(folder) if folder is not None else nullcontext() as staged:
            per_rep = _simulate(scenario, jobs, events, staged)
            summaries = summarise(per_rep)
            report = _report(scenario, summaries)
            if staged is not None:
                provenance = {
                    "scenario_file": str(scenario_file),
                    "overrides": list(overrides),
                    "command": shlex.join(command),
                    "simsales_version": __version__,
                    "resolved_scenario": scenario.model_dump(mode="json", by_alias=True),
                }
                _publish(staged, report | provenance, per_rep)
    except KeyboardInterrupt:
        _fail("interrupted; no output files were written", 130)
    if fmt == "json":
        click.echo(json.dumps(_jsonable(report), indent=2))
    else:
        _print_table(scenario, summaries, out)


def _simulate(
    scenario: Scenario, jobs: int, events: bool, staged: StagedFiles | None
) -> list[dict[str, float]]:
    """Run the replications, streaming deals to ``staged``; exit 1 if the model fails."""
    from simsales.experiment import run_replications

    on_result = _streamers(staged, events) if staged is not None else None
    try:
        with _progress_bar(scenario.run.replications) as progress:
            return run_replications(
                scenario,
                replications=scenario.run.replications,
                seed=scenario.run.seed,
                jobs=jobs,
                event_log=events,
                on_result=on_result,
                progress=progress,
            )
    except Exception as exc:
        if os.environ.get("SIMSALES_DEBUG"):
            raise
        _fail(f"the run failed: {type(exc).__name__}: {exc}", 1)


def _publish(staged: StagedFiles, summary: dict[str, Any], per_rep: list[dict[str, float]]) -> None:
    """Write the summary files and publish every staged file together."""
    try:
        staged.write_text("summary.json", json.dumps(_jsonable(summary), indent=2) + "\n")
        _write_replications(staged.open("replications.csv", newline=""), per_rep)
        written = set(staged.names)
        staged.commit()
    except OSError as err:
        _fail(f"cannot write to {staged.folder}: {err}", 1)
    for name in set(OUTPUT_FILES) - written:  # left over from an earlier run (--force)
        (staged.folder / name).unlink(missing_ok=True)


@contextmanager
def _progress_bar(total: int) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr if it is a terminal; nothing in pipes, logs and tests."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("replications", total=total)
        yield lambda done: bar.update(task, completed=done)


def _streamers(
    staged: StagedFiles, events: bool
) -> Callable[[int, RunRecords | None, dict[str, float]], None]:
    """Write each replication's deals (and events) as it arrives, instead of keeping them all."""
    from simsales.results import DealTable, write_deals_csv, write_events_csv

    deals = staged.open("deals.csv", newline="")
    log = staged.open("events.csv", newline="") if events else None

    def on_result(r: int, records: RunRecords | None, metrics: dict[str, float]) -> None:
        assert records is not None  # records are kept when on_result is given
        first = r == 0
        write_deals_csv([DealTable.from_records(records)], deals, header=first)
        if log is not None and records.events is not None:
            write_events_csv(records.events, r, log, header=first)

    return on_result


def _write_replications(fh: IO[str], per_rep: list[dict[str, float]]) -> None:
    _write_metric_rows(fh, ["replication"], [([r], rep) for r, rep in enumerate(per_rep)])


def _write_metric_rows(
    fh: IO[str], keys: list[str], rows: Sequence[tuple[list[Any], dict[str, float]]]
) -> None:
    """CSV of metrics: the ``keys`` columns, then every metric any row has (NaN as empty)."""
    names = list(dict.fromkeys(name for _, rep in rows for name in rep))
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow([*keys, *names])
    for key_values, rep in rows:
        values = (rep.get(name, math.nan) for name in names)
        writer.writerow([*key_values, *("" if math.isnan(v) else repr(v) for v in values)])


def _report(scenario: Scenario, summaries: dict[str, MetricSummary]) -> dict[str, Any]:
    return {
        "scenario": scenario.name,
        "seed": scenario.run.seed,
        "replications": scenario.run.replications,
        "metrics": {name: s.to_dict() for name, s in summaries.items()},
    }


def _jsonable(value: Any) -> Any:
    """NaN and infinity are not JSON: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _print_table(scenario: Scenario, summaries: dict[str, MetricSummary], out: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    from simsales.results import stage_keys

    names = tuple(stage.name for stage in scenario.stages)
    units = _units(scenario)
    run = scenario.run
    console = Console(highlight=False)
    console.print(
        f"[bold]{scenario.name}[/bold]: {run.replications} replications, seed {run.seed}, "
        f"horizon {run.horizon_days:g} days, warm-up {run.warmup_days:g} days"
    )
    table = Table(title="mean ± 95% confidence half-width over replications", title_justify="left")
    table.add_column("group")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for group, metrics in TABLE_GROUPS.items():
        rows = [m for m in metrics if m in summaries]
        for i, metric in enumerate(rows):
            unit = units.get(metric, "")
            shown_unit = (
                "%" if unit == "share" else scenario.currency if unit == "currency" else unit
            )
            table.add_row(
                group if i == 0 else "", metric, _fmt(summaries[metric], unit), shown_unit
            )
        if rows:
            table.add_section()
    console.print(table)
    stages = Table(title="stages", title_justify="left")
    stages.add_column("stage")
    for column in STAGE_COLUMNS:
        unit = "%" if column in ("reach", "conversion") else "days" if column == "days_in" else ""
        stages.add_column(f"{column} ({unit})" if unit else column, justify="right")
    for key, name in zip(stage_keys(names), names, strict=True):
        cells = []
        for column in STAGE_COLUMNS:
            metric = f"{column}_{key}"
            found = summaries.get(metric)
            cells.append(_fmt(found, units.get(metric, "")) if found is not None else "")
        stages.add_row(name, *cells)
    console.print(stages)
    if out is not None:
        console.print(f"written to {out}/: summary.json, replications.csv, deals.csv")


def _fmt(summary: MetricSummary, unit: str) -> str:
    """``mean ± half-width``, to the precision the half-width supports (shares in percent)."""
    scale = 100.0 if unit == "share" else 1.0
    mean, half = summary.mean * scale, summary.half_width * scale
    if not math.isfinite(mean):
        return "–"
    digits = _digits(mean, half)
    text = f"{mean:,.{digits}f}"
    if math.isfinite(half):
        text += f" ± {half:,.{digits}f}"
    return text


def _digits(mean: float, half: float) -> int:
    """Decimals to show: two significant digits of the half-width (three of the mean if none)."""
    if math.isfinite(half) and half > 0:
        digits = 1 - math.floor(math.log10(half))
    else:
        digits = 2 - math.floor(math.log10(abs(mean))) if mean else 0
    return max(0, min(digits, 4))


def _units(scenario: Scenario) -> dict[str, str]:
    """Each metric's unit (share, days, count, currency, ...), from its description."""
    from simsales.results import describe_metrics

    names = tuple(stage.name for stage in scenario.stages)
    # The unit ends each description: "..., days"; per-stage ones add " (stage name)".
    return {
        name: re.sub(r" \(.*\)$", "", text.rsplit(", ", 1)[-1])
        for name, text in describe_metrics(names).items()
    }


# --- compare ------------------------------------------------------------------------------------

#: Metrics ``compare`` shows unless ``--metric`` is given; JSON and files hold every metric.
COMPARE_METRICS = (
    "share_won", "share_no_decision", "win_rate_qualified", "no_decision_of_not_won_qualified",
    "won_median_days", "cycle_median_days", "calls_per_deal", "mean_gap_days",
    "seller_utilisation", "bookings_per_year",
)  # fmt: skip
COMPARE_FILES = ("comparison.json", "replications.csv")


@main.command(short_help="Compare variants with a base scenario, on common random numbers.")
@click.argument("base_file", metavar="BASE", type=click.Path(path_type=Path))
@click.argument(
    "variant_files", metavar="VARIANT...", nargs=-1, required=True, type=click.Path(path_type=Path)
)
@click.option("--replications", "-r", type=click.IntRange(min=1), help="Default: BASE's.")
@click.option(
    "--seed", type=click.IntRange(min=0), help="Root seed of every scenario. Default: BASE's."
)
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    metavar="NAME",
    help="Show this metric (repeatable). Default: ten headline metrics. JSON and files hold all.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    help="text: a table and a summary; json: every metric, and nothing else, on stdout.",
)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Write files here.")
@click.option("--force", is_flag=True, help="Write into --out even if it is not empty.")
@click.option(
    "--jobs", "-j", type=click.IntRange(min=0), default=1, help="Processes (0: all CPUs)."
)
def compare(
    base_file: Path,
    variant_files: tuple[Path, ...],
    replications: int | None,
    seed: int | None,
    metrics: tuple[str, ...],
    fmt: str,
    out: Path | None,
    force: bool,
    jobs: int,
) -> None:
    """Run BASE and each VARIANT on the same random numbers and show what changes.

    Replication r of every scenario uses the same random streams, so each variant's difference
    from BASE is paired replication by replication: its 95% interval is narrower than two
    separate runs would give. Where the interval includes 0 the difference is reported as not
    detectable.
    """
    from simsales.experiment import compare_scenarios

    files = (base_file, *variant_files)
    scenarios = _load_all(files)
    shown = _check_metrics(metrics or COMPARE_METRICS, scenarios)
    reps = replications or scenarios[0].run.replications
    seed = scenarios[0].run.seed if seed is None else seed
    jobs = jobs or os.cpu_count() or 1
    try:
        folder = prepare_out_dir(out, force) if out is not None else None
    except OutputError as err:
        _fail(str(err), 2)
    command = ["simsales", "compare", *map(str, files), f"--replications={reps}", f"--seed={seed}"]
    command += [f"--jobs={jobs}"] + [f"--metric={m}" for m in metrics]
    command += [f"--out={out}"] if out is not None else []
    try:
        with StagedFiles(folder) if folder is not None else nullcontext() as staged:
            try:
                with _progress_bar(reps * len(scenarios)) as progress:
                    result = compare_scenarios(
                        scenarios[0],
                        scenarios[1:],
                        replications=reps,
                        seed=seed,
                        jobs=jobs,
                        progress=progress,
                    )
            except Exception as exc:
                if os.environ.get("SIMSALES_DEBUG"):
                    raise
                _fail(f"the comparison failed: {type(exc).__name__}: {exc}", 1)
            if staged is not None:
                provenance = {
                    "files": {s.name: str(f) for s, f in zip(scenarios, files, strict=True)},
                    "command": shlex.join(command),
                    "simsales_version": __version__,
                }
                _publish_comparison(staged, result.to_dict(scenarios=True) | provenance, result)
    except KeyboardInterrupt:
        _fail("interrupted; no output files were written", 130)
    if fmt == "json":
        click.echo(json.dumps(_jsonable(result.to_dict()), indent=2))
    else:
        _print_comparison(result, shown, out)


def _load_all(files: Sequence[Path]) -> list[Scenario]:
    """Load every file, or exit 2 listing the problems of each bad one (and duplicate names)."""
    scenarios, bad = [], False
    for path in files:
        try:
            scenarios.append(load_scenario(path))
        except ScenarioError as err:
            n = len(err.problems)
            _print_problems(f"{path}: {n} problem{'s' if n != 1 else ''}:", err)
            bad = True
    if bad:
        sys.exit(2)
    seen: dict[str, Path] = {}
    for scenario, path in zip(scenarios, files, strict=True):
        if scenario.name in seen:
            _fail(
                f"{seen[scenario.name]} and {path} are both named {scenario.name!r}; "
                "the name labels the results, so give each file its own `name = ...`",
                2,
            )
        seen[scenario.name] = path
    return scenarios


def _check_metrics(names: Sequence[str], scenarios: Sequence[Scenario]) -> list[str]:
    """The metrics to show, each checked to exist in one of the scenarios."""
    import difflib

    known: dict[str, str] = {}
    for scenario in scenarios:
        known |= _units(scenario)
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
            hint = (
                f"did you mean {', '.join(map(repr, close[:-1]))}"
                f"{' or ' if len(close) > 1 else ''}{close[-1]!r}?"
                if close
                else "`simsales reference --print outputs` lists every metric"
            )
            raise click.BadParameter(f"unknown metric {name!r}; {hint}", param_hint="'--metric'")
    return list(dict.fromkeys(names))


def _publish_comparison(staged: StagedFiles, report: dict[str, Any], result: Comparison) -> None:
    rows = [
        ([name, r], rep)
        for name, reps in result.per_replication.items()
        for r, rep in enumerate(reps)
    ]
    try:
        staged.write_text("comparison.json", json.dumps(_jsonable(report), indent=2) + "\n")
        _write_metric_rows(
            staged.open("replications.csv", newline=""), ["scenario", "replication"], rows
        )
        staged.commit()
    except OSError as err:
        _fail(f"cannot write to {staged.folder}: {err}", 1)


def _print_comparison(result: Comparison, shown: Sequence[str], out: Path | None) -> None:
    """A table (one row per metric, each variant's cell with its change) and a summary."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from simsales.experiment.compare import CRN_NOTE

    base, variants = result.base, result.variants
    units: dict[str, str] = {}
    for scenario in (base, *variants):
        units = _units(scenario) | units
    table = Table()
    table.add_column("metric", no_wrap=True)
    table.add_column("unit")
    for name in (base.name, *(v.name for v in variants)):
        table.add_column(escape(name), justify="right")
    for metric in shown:
        found = result.metrics[metric]
        unit = units.get(metric, "")
        cells = [metric, _shown_unit(unit, base.currency)]
        for name, summary in found.summaries.items():
            cell = _fmt(summary, unit)
            if name != base.name:
                cell += "\n" + _fmt_change(found.differences[name], unit, base.currency)
            cells.append(cell)
        table.add_row(*cells, end_section=True)
    console = Console(highlight=False)
    piped = not console.is_terminal  # a file or a pipe: as wide as the table, lines unbroken
    if piped:
        unlimited = console.options.update_width(10_000)
        console.width = max(80, console.measure(table, options=unlimited).maximum)
    run = base.run
    console.print(
        f"[bold]{escape(base.name)}[/bold] vs {escape(', '.join(v.name for v in variants))}: "
        f"{result.replications} replication{'s' if result.replications != 1 else ''} each, "
        f"seed {result.seed}, horizon {run.horizon_days:g} days, "
        f"warm-up {run.warmup_days:g} days",
        soft_wrap=piped,
    )
    for v in variants:
        if (v.run.horizon_days, v.run.warmup_days) != (run.horizon_days, run.warmup_days):
            console.print(
                f"note: {escape(v.name)} runs a horizon of {v.run.horizon_days:g} days, "
                f"warm-up {v.run.warmup_days:g} days"
            )
    console.print(CRN_NOTE)
    console.print(
        f"mean ± 95% half-width; under each variant its change from {escape(base.name)}: "
        "the paired difference and its [95% interval]"
    )
    console.print(table)
    for v in variants:
        console.print(f"[bold]{escape(v.name)}[/bold] against {escape(base.name)}:")
        for line in _findings(result, v.name, shown, units):
            wrapped = textwrap.fill(
                line, console.width, initial_indent="  ", subsequent_indent="    "
            )
            console.print(wrapped, markup=False, soft_wrap=True)
    if result.replications < 2:
        console.print("With one replication there is no interval: run at least 2 (-r).")
    else:
        console.print(
            "Each interval is 95% on its own: of many differences that are really zero, "
            "about 1 in 20 will still look detectable.",
            soft_wrap=piped,
        )
    if out is not None:
        console.print(f"written to {out}/: {', '.join(COMPARE_FILES)}", soft_wrap=True)


def _findings(
    result: Comparison, variant: str, shown: Sequence[str], units: dict[str, str]
) -> list[str]:
    """The detectable changes of ``variant``, then the metrics lost in noise."""
    changes, noise, unknown = [], [], []
    for metric in shown:
        diff = result.metrics[metric].differences[variant]
        if diff.n < 2 or math.isnan(diff.half_width):
            unknown.append(metric)
        elif diff.distinguishable:
            text = _fmt_change(diff, units.get(metric, ""), result.base.currency, prose=True)
            changes.append(f"{metric} {text}")
        else:
            noise.append(metric)
    lines = [f"changed: {', '.join(changes)}"] if changes else []
    if noise:
        lines.append(f"no detectable difference: {', '.join(noise)}")
    if unknown:
        lines.append(f"no interval (fewer than 2 replications with a value): {', '.join(unknown)}")
    return lines


def _shown_unit(unit: str, currency: str) -> str:
    return "%" if unit == "share" else currency if unit == "currency" else unit


def _fmt_change(diff: PairedDifference, unit: str, currency: str, *, prose: bool = False) -> str:
    """``−14.2 days (−12%)`` and a line ``[−18.1, −10.3]`` (shares in percentage points), or
    ``no detectable difference`` where the interval includes 0. ``prose``: one line, no
    interval, three significant digits at most."""
    scale = 100.0 if unit == "share" else 1.0
    mean, half = diff.mean * scale, diff.half_width * scale
    if diff.n < 2 or not math.isfinite(half):
        return "–"
    digits = _digits(mean, half)
    if prose and mean:
        digits = max(0, min(digits, 2 - math.floor(math.log10(abs(mean)))))

    def signed(x: float, d: int = digits) -> str:
        return f"{x:+,.{d}f}".replace("-", "−")

    bounds = f"[{signed(diff.low * scale)}, {signed(diff.high * scale)}]"
    if not diff.distinguishable:
        if half == 0 and mean == 0:
            return "no difference: equal in every replication"
        return "no detectable difference" + ("" if prose else f"\n{bounds}")
    word = {"share": "points", "currency": currency, "count": ""}.get(unit, unit)
    text = signed(mean) + (f" {word}" if word else "")
    if math.isfinite(diff.relative):
        percent = 100 * diff.relative
        text += f" ({signed(percent, 0 if abs(percent) >= 10 else 1)}%)"
    return text + ("" if prose else f"\n{bounds}")


if __name__ == "__main__":  # python -m simsales.cli
    main()
