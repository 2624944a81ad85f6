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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

import click

from simsales import __version__
from simsales.output import OutputError, StagedFiles, atomic_write_text, prepare_out_dir
from simsales.scenario import Scenario, ScenarioError, load_scenario, scenario_json_schema

if TYPE_CHECKING:
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
    names = list(dict.fromkeys(name for rep in per_rep for name in rep))
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(["replication", *names])
    for r, rep in enumerate(per_rep):
        values = (rep.get(name, math.nan) for name in names)
        writer.writerow([r, *("" if math.isnan(v) else repr(v) for v in values)])


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

    from simsales.results import describe_metrics, stage_keys

    names = tuple(stage.name for stage in scenario.stages)
    # The unit ends each description: "..., days"; per-stage ones add " (stage name)".
    units = {
        name: re.sub(r" \(.*\)$", "", text.rsplit(", ", 1)[-1])
        for name, text in describe_metrics(names).items()
    }
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
    if math.isfinite(half) and half > 0:
        digits = 1 - math.floor(math.log10(half))
    else:
        digits = 2 - math.floor(math.log10(abs(mean))) if mean else 0
    digits = max(0, min(digits, 4))
    text = f"{mean:,.{digits}f}"
    if math.isfinite(half):
        text += f" ± {half:,.{digits}f}"
    return text


if __name__ == "__main__":  # python -m simsales.cli
    main()
