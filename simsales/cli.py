"""The ``simsales`` command: validate scenario files, print their schema, run and compare them.

Thin by design: each command parses its options, builds a request of the library
(``simsales.api``), calls it and prints; the tables, JSON and files are ``simsales.report``'s.
Bad input exits with code 2 and a list of problems, never a traceback; a failed run exits 1;
Ctrl-C exits 130 and SIGTERM 143, both without leaving partial files. The model, results and
report packages are imported only by the commands that need them, so that ``validate`` and
``schema`` stay quick and work on their own.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn

import click
from click.core import ParameterSource

from simsales import __version__
from simsales.output import HOLD_VAR, OutputError, atomic_write_text, hold_for_test
from simsales.scenario import Scenario, ScenarioError, load_scenario, scenario_json_schema
from simsales.scenario.text import printable

if TYPE_CHECKING:
    from rich.console import Console

    from simsales.api import Execution
    from simsales.experiment.store import RunStore


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {printable(message)}", err=True)  # it may quote a file's content
    sys.exit(code)


def _print_problems(head: str, err: ScenarioError) -> None:
    click.echo(printable(head), err=True)
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


class _Replications(click.ParamType):
    """A positive integer, or ``auto``: run rounds until the confidence intervals are tight."""

    name = "N|auto"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int | str:
        if isinstance(value, int) or value == "auto":
            number: int | str = value
        else:
            try:
                number = int(str(value))
            except ValueError:
                self.fail(f"{value!r} is neither a whole number nor 'auto'", param, ctx)
        if isinstance(number, int) and number < 1:
            self.fail(f"{number} is not at least 1", param, ctx)
        return number


_AUTO_HELP = (
    " auto: run rounds until every shown metric's 95% half-width (of each mean and each paired "
    "difference) is within its target, up to a cap"
)

_OUT = click.option(
    "--out", type=click.Path(path_type=Path, file_okay=False), help="Write files here."
)
_FORCE = click.option("--force", is_flag=True, help="Write into --out even if it is not empty.")
_NO_FIGURES = click.option(
    "--no-figures",
    is_flag=True,
    help="With --out: skip the figures (PNG and SVG in DIR/figures/); report.md and "
    "report.html are still written.",
)
_JOBS = click.option(
    "--jobs", "-j", type=click.IntRange(min=0), default=1, help="Processes (0: all CPUs)."
)


def _format_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--format text|json``, with the command's own help."""
    return click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text", help=help_text
    )


_SCHEDULER = click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run the replications on the Dask cluster whose scheduler is at ADDRESS, e.g. "
    "tcp://host:8786, with the same results as locally. Needs the extra simsales[dask], and "
    "simsales installed on the workers. Not with --jobs.",
)


#: The inputs of `import` and `fit`: a CRM export, its mapping, and its stage history.
_EXPORT = click.argument("export_file", metavar="EXPORT", type=click.Path(path_type=Path))
_MAPPING = click.option(
    "--mapping",
    "mapping_file",
    required=True,
    type=click.Path(path_type=Path),
    help="The mapping file (TOML): which column is which, what each status label means.",
)
_STAGE_HISTORY = click.option(
    "--stage-history",
    "stage_history_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A CSV of stage entries (opportunity, stage, entered at); needs [stage_history] and "
    "[stages] in the mapping. Default: the file [stage_history] names, if any. `fit` sets each "
    "stage's conversion and days in it against the fitted scenario's, in its report.",
)
_CACHE_DIR = click.option(
    "--cache-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Keep finished replications in this run store, and reuse them: run the same command "
    "again after an interruption and only the missing replications are computed. Default: "
    "$SIMSALES_CACHE_DIR, else $XDG_CACHE_HOME/simsales/runs, else ~/.cache/simsales/runs.",
)
_NO_CACHE = click.option(
    "--no-cache", is_flag=True, help="Compute every replication; read and write no run store."
)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that a run stops as on Ctrl-C: staged files
    removed, finished replications kept in the run store, the workers stopped, a message."""


def _on_sigterm(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    raise Terminated


def _stopped(exc: KeyboardInterrupt) -> tuple[str, int]:
    """What to say and the exit code (128 + the signal) for Ctrl-C or SIGTERM; a run the
    library stopped (``simsales.api.Interrupted``) adds what it left behind."""
    detail = getattr(exc, "detail", "")
    exc = getattr(exc, "original", exc)
    if isinstance(exc, Terminated):
        return "terminated (SIGTERM)" + detail, 128 + signal.SIGTERM
    return "interrupted" + detail, 128 + signal.SIGINT


class _Main(click.Group):
    """The command group: SIGTERM stops a command as Ctrl-C does, with 143 rather than 130."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            previous = signal.signal(signal.SIGTERM, _on_sigterm)
        except ValueError:  # not the main thread (simsales called from another program)
            pass
        else:  # put back for a program that calls simsales in its own process (tests do)
            restore = signal.SIG_DFL if previous is None else previous
            ctx.call_on_close(lambda: signal.signal(signal.SIGTERM, restore))
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            _fail(*_stopped(exc))


class _Limit(click.ParamType):
    """``--max-work`` (a count, ``1e9``) or ``--max-memory`` (a size, ``16GB``)."""

    def __init__(self, name: str, size: bool) -> None:
        self.name = name
        self.size = size

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        from simsales.experiment.workload import parse_amount, parse_bytes

        try:
            return (parse_bytes if self.size else parse_amount)(str(value))
        except ValueError as err:
            self.fail(str(err), param, ctx)


def _limits(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--max-work`` and ``--max-memory``: the run is refused (exit 2) if it would pass them."""
    command = click.option(
        "--max-memory",
        type=_Limit("SIZE", size=True),
        help="Refuse to start if the tables would need more memory than SIZE (e.g. 16GB), as "
        "estimated from the scenarios. Default: 80% of this machine's memory.",
    )(command)
    return click.option(
        "--max-work",
        type=_Limit("N", size=False),
        help="Refuse to start if it would simulate more than N suspects, over every "
        "replication and scenario (e.g. 5e9). Default: 1e9 (at about 130 µs a suspect, a day "
        "and a half of one core).",
    )(command)


def _check_workload(
    scenarios: Sequence[Scenario],
    replications: int,
    limits: tuple[float | None, float | None],
    *,
    event_log: bool = False,
) -> None:
    """Exit 2, saying by how much and what to do, if the work or memory passes the limits."""
    from simsales.api import Execution, RequestError
    from simsales.api.running import check_workload

    max_work, max_memory = limits
    try:
        check_workload(
            scenarios,
            replications,
            Execution(max_work=max_work, max_memory=max_memory),
            event_log=event_log,
        )
    except RequestError as err:
        _fail(str(err), 2)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
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
            printable(
                f"ok  {path} ({s.name}: {len(s.stages)} stages, "
                f"{len(s.market.segments)} segments, {s.team.sellers} sellers; "
                f"horizon {s.run.horizon_days:g} days, warm-up {s.run.warmup_days:g})"
            )
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


@main.command(
    short_help="Write the reference docs: scenario keys, outputs, class and mapping files."
)
@click.option(
    "--out-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("docs/reference"),
    show_default=True,
    help="Write scenario.md, outputs.md, class.md and crm-mapping.md here.",
)
@click.option(
    "--print",
    "show",
    type=click.Choice(["scenario", "outputs", "class", "crm-mapping"]),
    help="Print one to stdout.",
)
def reference(out_dir: Path, show: str | None) -> None:
    """Write the reference (Markdown) of scenario files, outputs, class files and CRM mapping
    files, generated from the code."""
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


@main.command(short_help="Show a scenario's process map: stages, who does what, levers.")
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(path_type=Path))
@_SET
@click.option(
    "--figure",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also draw the map as a flow chart to FILE (.png, .svg or .pdf).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing --figure file.")
def explain(
    scenario_file: Path, overrides: tuple[str, ...], figure: Path | None, force: bool
) -> None:
    """Print SCENARIO's process map: the stages in order, who does what in each, what a wrong
    step costs, where deals are disqualified or go dark, and the lean levers with their values.

    Nothing is simulated: every number is worked out from the scenario file.
    """
    import shutil

    from simsales.analysis.process_map import process_map
    from simsales.report.explain_output import check_figure_path, render_text, save_figure

    if figure is not None:
        try:
            check_figure_path(figure, force)
        except OutputError as err:
            _fail(str(err), 2)
    (scenario,) = _load(scenario_file, overrides=overrides)
    pm = process_map(scenario)
    text = render_text(pm, min(100, shutil.get_terminal_size((100, 24)).columns))
    click.echo(printable(text), nl=False)
    if figure is not None:
        from simsales.plots.process_map import process_map_figure

        try:
            save_figure(process_map_figure(pm), figure, force)
        except OutputError as err:
            _fail(str(err), 2)
        except OSError as err:
            _fail(f"cannot write {figure}: {err.strerror or err}", 1)
        click.echo(f"flow chart written to {figure}")


@main.command(short_help="Run a scenario and print its metrics.")
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(path_type=Path))
@click.option("--replications", "-r", type=click.IntRange(min=1), help="Default: run.replications.")
@click.option("--seed", type=click.IntRange(min=0), help="Root seed. Default: run.seed.")
@_SET
@_OUT
@_FORCE
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    help="text: tables; json: every metric, and nothing else, on stdout.",
)
@_JOBS
@_SCHEDULER
@_CACHE_DIR
@_NO_CACHE
@click.option(
    "--events",
    "events",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[FILE]",
    help="Also write every replication's event log, in the process-mining layout (case id, "
    "activity, timestamp, resource, lifecycle): FILE.csv, FILE.xes (IEEE XES) or FILE.json "
    "(OCEL 2.0). A bare name goes into --out DIR; --events alone writes DIR/events.csv. Refuses "
    "to overwrite without --force.",
)
@click.option(
    "--events-level",
    type=click.Choice(["event", "stage"]),
    default="event",
    show_default=True,
    help="With --events: every event the model logs (calls, waits, tasks, ...), or only each "
    "deal's arrival, the stages it entered and its outcome, which process discovery turns "
    "straight into the stage model.",
)
@click.option(
    "--no-figures",
    is_flag=True,
    help="With --out: skip the figures (cumulative flow, load over time) in DIR/figures/.",
)
@_limits
def run(
    scenario_file: Path,
    replications: int | None,
    seed: int | None,
    overrides: tuple[str, ...],
    out: Path | None,
    force: bool,
    fmt: str,
    jobs: int,
    scheduler: str | None,
    cache_dir: Path | None,
    no_cache: bool,
    events: str | None,
    events_level: Literal["event", "stage"],
    no_figures: bool,
    max_work: float | None,
    max_memory: float | None,
) -> None:
    """Run SCENARIO's replications and print its metrics with 95% confidence intervals."""
    from simsales import api, report

    where = _check_jobs(jobs, scheduler)
    store = _run_store(cache_dir, no_cache)
    with _api_errors("run", store), _progress_bar() as progress:
        request = api.run_request(
            scenario_file,
            replications=replications,
            seed=seed,
            overrides=overrides,
            execution=_execution(where, scheduler, store, progress, max_work, max_memory),
            out=out,
            force=force,
            figures=not no_figures,
            events=events,
            events_level=events_level,
            keep_deals=False,
        )
        _warn(request.notices)
        result = api.run(request)
    _say_reused(store, result.reused, request.replications, result.store_problem)
    if fmt == "json":
        click.echo(report.to_json(report.run_summary(result.scenario, result.summaries)))
        return
    console = report.terminal_console()
    report.print_run(console, result.scenario, result.summaries)
    _say_written(console, out, result.written, request.events)


@main.command(short_help="Compare variants with a base scenario, on common random numbers.")
@click.argument("base_file", metavar="BASE", type=click.Path(path_type=Path))
@click.argument(
    "variant_files", metavar="VARIANT...", nargs=-1, required=True, type=click.Path(path_type=Path)
)
@click.option(
    "--replications",
    "-r",
    type=_Replications(),
    help="Default: BASE's." + _AUTO_HELP + " (5% of |mean|; 5 to 200 replications).",
)
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
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a key of BASE and of every VARIANT, e.g. run.horizon_days=500 (value read "
    "as TOML). Repeatable.",
)
@_format_option("text: the answer, a table and a summary; json: every metric, on stdout.")
@_OUT
@_FORCE
@_NO_FIGURES
@_JOBS
@_SCHEDULER
@_CACHE_DIR
@_NO_CACHE
@_limits
def compare(
    base_file: Path,
    variant_files: tuple[Path, ...],
    replications: int | Literal["auto"] | None,
    seed: int | None,
    metrics: tuple[str, ...],
    overrides: tuple[str, ...],
    fmt: str,
    out: Path | None,
    force: bool,
    no_figures: bool,
    jobs: int,
    scheduler: str | None,
    cache_dir: Path | None,
    no_cache: bool,
    max_work: float | None,
    max_memory: float | None,
) -> None:
    """Run BASE and each VARIANT on the same random numbers and show what changes.

    Replication r of every scenario uses the same random streams, so each variant's difference
    from BASE is paired replication by replication: its 95% interval is narrower than two
    separate runs would give. Where the interval includes 0 the difference is reported as not
    detectable.
    """
    from simsales import api, report

    where = _check_jobs(jobs, scheduler)
    store = _run_store(cache_dir, no_cache)
    with _api_errors("comparison", store, metric_option=True), _progress_bar() as progress:
        request = api.compare_request(
            base_file,
            *variant_files,
            replications=replications,
            seed=seed,
            metrics=metrics,
            overrides=overrides,
            execution=_execution(where, scheduler, store, progress, max_work, max_memory),
            out=out,
            force=force,
            figures=not no_figures,
        )
        result = api.compare(request)
    runs = result.comparison.replications * len(request.scenarios)
    _say_reused(store, result.reused, runs, result.store_problem)
    if fmt == "json":
        click.echo(report.to_json(result.comparison.to_dict()))
        return
    console = report.terminal_console()
    report.print_comparison(console, result.answer, result.comparison)
    _say_written(console, out, result.written)


@main.command(short_help="Run an experiment file: variants or a sweep against a base.")
@click.argument("experiment_file", metavar="FILE", type=click.Path(path_type=Path))
@click.option(
    "--replications",
    "-r",
    type=_Replications(),
    help="Default: the file's, or its base's."
    + _AUTO_HELP
    + " (the file's [precision], else 5% of |mean|; 5 to 200 replications).",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    help="Root seed of every scenario. Default: the file's, or its base's.",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a key of the base and of every variant or point, e.g. "
    "run.horizon_days=500 (value read as TOML). Repeatable.",
)
@_format_option("text: a table and where each metric is best; json: every metric, on stdout.")
@_OUT
@_FORCE
@_NO_FIGURES
@_JOBS
@_SCHEDULER
@_CACHE_DIR
@_NO_CACHE
@_limits
def experiment(
    experiment_file: Path,
    replications: int | Literal["auto"] | None,
    seed: int | None,
    overrides: tuple[str, ...],
    fmt: str,
    out: Path | None,
    force: bool,
    no_figures: bool,
    jobs: int,
    scheduler: str | None,
    cache_dir: Path | None,
    no_cache: bool,
    max_work: float | None,
    max_memory: float | None,
) -> None:
    """Run the experiment in FILE: its base scenario and its variants or sweep points.

    Every scenario runs the same replications on the same seed (common random numbers), so each
    variant's or point's difference from the base is paired replication by replication.
    """
    from simsales import api, report

    where = _check_jobs(jobs, scheduler)
    store = _run_store(cache_dir, no_cache)
    with _api_errors("experiment", store), _progress_bar() as progress:
        request = api.experiment_request(
            experiment_file,
            replications=replications,
            seed=seed,
            overrides=overrides,
            execution=_execution(where, scheduler, store, progress, max_work, max_memory),
            out=out,
            force=force,
            figures=not no_figures,
        )
        result = api.experiment(request)
    comparison = result.comparison
    runs = comparison.replications * (1 + len(comparison.variants))
    _say_reused(store, result.reused, runs, result.store_problem)
    if fmt == "json":
        click.echo(report.to_json(result.result.to_dict()))
        return
    console = report.terminal_console()
    report.print_experiment(console, result.result, result.answer)
    _say_written(console, out, result.written)


@main.command(short_help="Tell the story of individual deals, day by day.")
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(path_type=Path))
@click.option(
    "--deal",
    "deals",
    multiple=True,
    type=click.IntRange(min=0),
    metavar="N",
    help="Trace this deal (its deal_id in deals.csv). Repeatable.",
)
@click.option(
    "--outcome",
    metavar="OUTCOME",
    help="Trace deals of the counted cohort that ended so: won, lost, no_decision, "
    "disqualified, no_response, unworked or open.",
)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="K",
    help="With --outcome: how many deals, drawn from the seed (the same seed, the same deals).",
)
@click.option(
    "--seed", type=click.IntRange(min=0), metavar="S", help="Root seed. Default: run.seed."
)
@click.option(
    "--replication",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    metavar="R",
    help="The replication to run (from 0).",
)
@_SET
@click.option(
    "--figure",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also draw the deals side by side on one time line to FILE (.png, .svg or .pdf); "
    "at most 12 deals.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing --figure file.")
@_limits
def trace(
    scenario_file: Path,
    deals: tuple[int, ...],
    outcome: str | None,
    sample: int,
    seed: int | None,
    replication: int,
    overrides: tuple[str, ...],
    figure: Path | None,
    force: bool,
    max_work: float | None,
    max_memory: float | None,
) -> None:
    """Tell the story of deals of SCENARIO, day by day, in plain sentences: calls and what they
    covered, gaps and what each waited for, touches, momentum, steps done wrong, forecast pushes,
    and the end with its cause.

    The story is read from the event log of a real run of one replication with the given seed,
    so it agrees with that run's deal table and metrics. Each trace runs the whole replication
    (a second or a few for the bundled scenarios).
    """
    from simsales.report.trace import TraceError, check_figure, trace_deals

    if bool(deals) == (outcome is not None):
        raise click.UsageError("give either --deal N (repeatable) or --outcome OUTCOME")
    try:
        check_figure(figure, force, deals=len(deals) or sample)
    except TraceError as err:
        _fail(str(err), 2)
    (scenario,) = _load(scenario_file, overrides=overrides)
    seed = scenario.run.seed if seed is None else seed
    _check_workload([scenario], 1, (max_work, max_memory), event_log=True)
    with _failing("trace"):
        try:
            text, drawn = trace_deals(
                scenario,
                seed=seed,
                replication=replication,
                deals=deals,
                outcome=outcome,
                sample=sample,
                figure=figure,
            )
        except TraceError as err:
            _fail(str(err), 2)
    click.echo(printable(text), nl=False)
    if drawn is not None:
        click.echo(f"timeline written to {drawn}")


@main.command("import", short_help="Read a CRM export of opportunities: what it holds.")
@_EXPORT
@_MAPPING
@_STAGE_HISTORY
@click.option(
    "--activities",
    "activities_file",
    type=click.Path(path_type=Path),
    help="A CSV of activities (opportunity, type, date); needs [activities] in the mapping. "
    "Default: the file [activities] names, if any.",
)
@_format_option("text: what was read, line by line; json: the same as data, on stdout.")
def import_(
    export_file: Path,
    mapping_file: Path,
    stage_history_file: Path | None,
    activities_file: Path | None,
    fmt: str,
) -> None:
    """Read EXPORT (a CSV of opportunities from a CRM) with the mapping, report every row left
    out or doubted (with its file and line number, on stderr), and say what the export holds:
    outcomes, the period and opportunities per month, how many are still open, owners and
    amounts. With a stage history: per stage, the opportunities that entered it, conversion to
    a later stage and days in it; with an activity log: activities per opportunity by type, for
    the won and the rest."""
    from simsales.crm.importing import import_crm
    from simsales.crm.reader import ExportError

    try:
        read = import_crm(
            export_file, mapping_file, stage_history=stage_history_file, activities=activities_file
        )
    except ScenarioError as err:
        _print_problems(f"{mapping_file}: {len(err.problems)} problem(s):", err)
        sys.exit(2)
    except ExportError as err:
        _fail(str(err), 2)
    for line in read.problem_lines():
        click.echo(printable(line), err=True)
    if fmt == "json":
        click.echo(json.dumps(read.to_dict(), indent=2))
        return
    for line in read.lines():
        click.echo(printable(line))


@main.command(short_help="Write a page that replays a run: deals moving through the stages.")
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(path_type=Path))
@click.option(
    "--compare",
    "variant_file",
    type=click.Path(path_type=Path),
    help="A variant to play side by side, on the same random numbers.",
)
@click.option(
    "--out", type=click.Path(path_type=Path, dir_okay=False), required=True, help="The page."
)
@click.option("--gif", type=click.Path(path_type=Path, dir_okay=False), help="Also a GIF.")
@click.option("--seed", type=click.IntRange(min=0), help="Root seed. Default: run.seed.")
@click.option("--replication", type=click.IntRange(min=0), default=0, show_default=True)
@_SET
@_FORCE
def animate(
    scenario_file: Path,
    variant_file: Path | None,
    out: Path,
    gif: Path | None,
    seed: int | None,
    replication: int,
    overrides: tuple[str, ...],
    force: bool,
) -> None:
    """Write a self-contained page (--out flow.html) replaying one replication of SCENARIO:
    deals as dots moving through the stage lanes, coloured by what they wait for, calls
    flashing, outcome counters, the sellers' load; play, pause, speed and a slider. With
    --compare, the variant plays beside it on the same random numbers."""
    from simsales.report.animate import animate_runs, animation_page

    for target in (out, gif):
        if target is not None and target.exists() and not force:
            _fail(f"{target} exists; choose another file or pass --force to overwrite it", 2)
    files = (scenario_file, *([variant_file] if variant_file else []))
    scenarios = _load(*files, overrides=overrides)
    seed = scenarios[0].run.seed if seed is None else seed
    with _failing("animation"):
        runs = animate_runs(scenarios, seed=seed, replication=replication)
        title = " vs ".join(s.name for s in scenarios)
        page = animation_page(runs, title=title, seed=seed, replication=replication)
    try:
        atomic_write_text(out, page)
        if gif is not None:
            from simsales.plots.animation import replay_gif

            replay_gif(runs, gif)
    except OSError as err:
        _fail(f"cannot write {err.filename or out}: {err.strerror or err}", 1)
    click.echo(f"animation written to {out}" + (f" and {gif}" if gif else ""))


@main.command(short_help="Fit a scenario to a CRM export: a scenario file and a fit report.")
@_EXPORT
@_MAPPING
@click.option(
    "--base",
    "base_file",
    required=True,
    type=click.Path(path_type=Path),
    help="The scenario to start from, e.g. scenarios/baseline.toml.",
)
@click.option(
    "-o",
    "--output",
    "out_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The fitted scenario file to write (.toml); it extends --base.",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder of the fit report. Default: beside -o, named <name>-fit.",
)
@_STAGE_HISTORY
@click.option(
    "--params",
    default="",
    metavar="NAMES",
    help="Parameters to fit, comma-separated (default all): half_life, no_decision, "
    "competition, p_right, pace, group_size.",
)
@click.option(
    "--budget",
    type=click.IntRange(min=4),
    default=48,
    show_default=True,
    help="Evaluations of the search (the held-out fit gets a third).",
)
@click.option(
    "--replications",
    "-r",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Replications per evaluation (common random numbers).",
)
@click.option("--seed", type=click.IntRange(min=0), default=20261202, show_default=True)
@click.option(
    "--sellers",
    type=click.IntRange(min=1),
    help="The team size, when the export cannot say it (one owner, no owner column).",
)
@click.option("--no-holdout", is_flag=True, help="Skip the held-out check (about a third faster).")
@click.option("--force", is_flag=True, help="Replace -o and write into a non-empty --report.")
@_JOBS
@_SCHEDULER
def fit(
    export_file: Path,
    mapping_file: Path,
    base_file: Path,
    out_file: Path,
    report_dir: Path | None,
    stage_history_file: Path | None,
    params: str,
    budget: int,
    replications: int,
    seed: int,
    sellers: int | None,
    no_holdout: bool,
    force: bool,
    jobs: int,
    scheduler: str | None,
) -> None:
    """Fit the base scenario to EXPORT (a CSV of opportunities from a CRM): set what the data
    say directly (arrivals, seasons, sellers, deal values), estimate the behavioural
    parameters by simulation, write the fitted scenario (-o) and a fit report."""
    from simsales.crm.fit import FitRequest, outcome_lines, run_fit

    where = _check_jobs(jobs, scheduler)
    names = tuple(n.strip() for n in params.split(",") if n.strip())
    with _fit_errors(), _fit_progress_bar() as progress:
        outcome = run_fit(
            FitRequest(
                export_file=export_file,
                mapping_file=mapping_file,
                base_file=base_file,
                out_file=out_file,
                report_dir=report_dir,
                stage_history_file=stage_history_file,
                parameters=names,
                budget=budget,
                replications=replications,
                seed=seed,
                sellers=sellers,
                holdout=not no_holdout,
                force=force,
                jobs=where,
                scheduler=scheduler,
                progress=progress,
            )
        )
    for problem in outcome.problems:  # rows left out or doubted, each with its file and line
        click.echo(printable(problem), err=True)
    _warn(outcome.fitted.direct.notices)
    for line in outcome_lines(outcome):
        click.echo(printable(line))


@contextmanager
def _fit_errors() -> Iterator[None]:
    """The fit's errors: bad files, an export that cannot be fitted, an output that exists (exit
    2, no traceback); a cluster that fails (1)."""
    from simsales.crm.fit import FitDataError, FitRequestError
    from simsales.crm.reader import ExportError
    from simsales.experiment.cluster import ClusterError

    try:
        yield
    except ScenarioError as err:
        _print_problems(f"{len(err.problems)} problem(s):", err)
        sys.exit(2)
    except (ExportError, FitDataError, FileExistsError, FitRequestError, OutputError) as err:
        _fail(str(err), 2)
    except ClusterError as err:
        _fail(str(err), 1)


@contextmanager
def _fit_progress_bar() -> Iterator[Callable[[int, int, float], None] | None]:
    """The progress bar of the CLI's style, saying evaluations n/N and the best distance."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import MofNCompleteColumn, Progress

    columns = (*Progress.get_default_columns(), MofNCompleteColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("evaluations", total=None)

        def show(done: int, total: int, best: float) -> None:
            bar.update(
                task,
                completed=done,
                total=total,
                description=f"evaluations (best distance {best:.1f})",
            )

        yield show


def _listing(written: Sequence[str]) -> str:
    """The files written, the figures counted rather than listed one by one."""
    figures = [name for name in written if name.startswith("figures/")]
    files = [name for name in written if not name.startswith("figures/")]
    if figures:
        files.append(f"figures/ ({len(figures)} files: PNG and SVG)")
    return ", ".join(files)


def _say_written(
    console: Console, out: Path | None, written: Sequence[str], events: Path | None = None
) -> None:
    """Say which files were written into ``out``, and where the event log went."""
    if out is not None:
        console.print(f"written to {out}/: {_listing(written)}", soft_wrap=True, markup=False)
    if events is not None and events.parent != out:
        console.print(f"event log written to {events}", soft_wrap=True, markup=False)


def _check_jobs(jobs: int, scheduler: str | None) -> int:
    """The local processes to use (0: all CPUs); exit 2 if ``--jobs`` comes with ``--scheduler``."""
    source = click.get_current_context().get_parameter_source("jobs")
    if scheduler is not None and source not in (None, ParameterSource.DEFAULT):
        _fail("--scheduler and --jobs exclude each other: the cluster's workers run the work", 2)
    return jobs or os.cpu_count() or 1


def _execution(
    jobs: int,
    scheduler: str | None,
    store: RunStore | None,
    progress: Callable[[int, int], None] | None,
    max_work: float | None,
    max_memory: float | None,
) -> Execution:
    """Where the work runs, with the run store, the progress bar and the limits."""
    from simsales.api import Execution

    return Execution(
        jobs=jobs,
        scheduler=scheduler,
        store=store,
        progress=progress,
        max_work=max_work,
        max_memory=max_memory,
    )


def _run_store(cache_dir: Path | None, no_cache: bool) -> RunStore | None:
    """The run store of finished replications (``None`` with ``--no-cache``)."""
    if no_cache:
        if cache_dir is not None:
            _fail("--cache-dir and --no-cache exclude each other", 2)
        return None
    from simsales.experiment.store import RunStore, RunStoreError, default_cache_dir

    try:
        return RunStore(cache_dir if cache_dir is not None else default_cache_dir())
    except RunStoreError as err:
        _fail(f"{err}; or choose another folder (--cache-dir DIR), or none (--no-cache)", 2)


def _say_reused(store: RunStore | None, reused: int, total: int, problem: str | None) -> None:
    """Say on stderr how many replications the run store served, and any trouble writing it."""
    if store is None:
        return
    if reused:
        click.echo(
            printable(f"{reused} of {total} replications reused from the run store {store.folder}"),
            err=True,
        )
    if problem is not None:
        click.echo(f"warning: {printable(problem)}; the results are complete", err=True)


def _warn(notices: Sequence[str]) -> None:
    for notice in notices:
        click.echo(f"warning: {printable(notice)}", err=True)


@contextmanager
def _api_errors(
    what: str, store: RunStore | None = None, *, metric_option: bool = False
) -> Iterator[None]:
    """The library's errors as the command line reports them: files that do not load (their
    problems, exit 2), a request that cannot run (exit 2; an unknown metric as a bad
    ``--metric``), a cluster or a file that fails (exit 1), and any other failure of the run
    (exit 1, or the traceback with ``SIMSALES_DEBUG`` set). An interrupt passes on to
    ``_Main``."""
    from simsales.api import LoadError, RequestError, WriteError
    from simsales.experiment.cluster import ClusterError

    try:
        yield
    except LoadError as err:
        for file, problem in err.failures:
            n = len(problem.problems)
            _print_problems(f"{file}: {n} problem{'s' if n != 1 else ''}:", problem)
        sys.exit(2)
    except RequestError as err:
        if metric_option and str(err).startswith("unknown metric"):
            raise click.BadParameter(str(err), param_hint="'--metric'") from None
        _fail(str(err), 2)
    except (ClusterError, WriteError) as err:
        _fail(str(err), 1)
    except Exception as exc:
        if os.environ.get("SIMSALES_DEBUG"):
            raise
        _fail(f"the {what} failed: {type(exc).__name__}: {exc}{_kept(store)}", 1)


def _kept(store: RunStore | None) -> str:
    """What a failed run leaves for the rerun: '' if nothing was stored."""
    if store is None or not store.computed:
        return ""
    return (
        f"; {store.computed} finished replications are kept in the run store: "
        "run the same command again to resume"
    )


@contextmanager
def _failing(what: str) -> Iterator[None]:
    """Exit 1 if the block fails (with ``SIMSALES_DEBUG`` set: the traceback)."""
    try:
        yield
    except Exception as exc:
        if os.environ.get("SIMSALES_DEBUG"):
            raise
        _fail(f"the {what} failed: {type(exc).__name__}: {exc}", 1)


@contextmanager
def _progress_bar() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr if it is a terminal, saying n/N; nothing in pipes, logs and
    tests."""
    if os.environ.get(HOLD_VAR):  # test-only: hold once a replication is done (and stored)
        yield lambda done, total: hold_for_test("computing")
        return
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import MofNCompleteColumn, Progress

    columns = (*Progress.get_default_columns(), MofNCompleteColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("replications", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _load(*files: Path, overrides: Sequence[str] = ()) -> list[Scenario]:
    """Load every file, or exit 2 listing the problems of each bad one."""
    from simsales.api.requests import LoadError, load_sources

    try:
        scenarios, _ = load_sources(files, overrides)
    except LoadError as err:
        for file, problem in err.failures:
            n = len(problem.problems)
            _print_problems(f"{file}: {n} problem{'s' if n != 1 else ''}:", problem)
        sys.exit(2)
    return scenarios


# --- simsales class: teams play rounds on one market (simsales.classroom) -----------------------


@main.group("class", short_help="A class of teams playing rounds against each other.")
def class_() -> None:
    """A class: teams change levers of one market within a budget, round after round, and are
    ranked on common random numbers. `class init DIR` sets it up; teams save decisions in
    DIR/decisions/ (or on the web page of `class serve DIR`); `class round DIR` plays a round."""


def _class_or_exit(folder: Path) -> Any:
    """The loaded class, or exit 2 listing every problem of its files."""
    from simsales.classroom import load_class

    try:
        return load_class(folder)
    except ScenarioError as err:
        _print_problems(f"{folder}: {len(err.problems)} problem(s):", err)
        sys.exit(2)


@class_.command("init", short_help="Set up a class folder: market, levers, score, teams.")
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--market",
    "market_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("scenarios/baseline.toml"),
    show_default=True,
    help="The scenario every team starts from (copied into DIR).",
)
@_SET
@click.option("--team", "teams", multiple=True, metavar="NAME", help="A team (repeatable).")
@click.option("--name", help="The class's name. Default: the market's name + ' class'.")
@click.option("--replications", "-r", type=click.IntRange(min=2), help="Per round.")
@click.option("--seed", type=click.IntRange(min=0), help="Of every round. Default: the market's.")
@click.option("--force", is_flag=True, help="Write into DIR even if it is not empty.")
def class_init(
    folder: Path,
    market_file: Path,
    overrides: tuple[str, ...],
    teams: tuple[str, ...],
    name: str | None,
    replications: int | None,
    seed: int | None,
    force: bool,
) -> None:
    """Set up the class folder DIR: class.toml (levers, budget, score, teams and their tokens),
    the market, a decision template and decisions/. Edit class.toml before the class."""
    from simsales.classroom import init_class
    from simsales.classroom.setup import DEFAULT_TEAMS

    try:
        path = init_class(
            folder,
            market_file=market_file,
            overrides=overrides,
            team_names=teams or DEFAULT_TEAMS,
            name=name,
            replications=replications,
            seed=seed,
            force=force,
        )
    except ScenarioError as err:
        _print_problems(f"{len(err.problems)} problem(s):", err)
        sys.exit(2)
    except OutputError as err:
        _fail(str(err), 2)
    click.echo(f"class written to {path.parent}/: class.toml (keep it: it holds the tokens), ")
    click.echo("market.toml, decision-template.toml, decisions/")


@class_.command("template", short_help="Print a team's decision file for the next round.")
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path, file_okay=False))
@click.option("--team", "team_id", required=True, metavar="ID", help="The team's id.")
def class_template(folder: Path, team_id: str) -> None:
    """Print TEAM's decision file for the next round, with its current values."""
    from simsales.classroom import current_values, decision_text, finished_rounds

    classroom = _class_or_exit(folder)
    try:
        team = classroom.spec.team(team_id)
    except KeyError:
        ids = ", ".join(t.id for t in classroom.spec.teams)
        _fail(f"no team {team_id!r} in {folder}/class.toml (teams: {ids})", 2)
    done = finished_rounds(classroom)
    last = done[-1] if done else 0
    values = current_values(classroom, last)[team.id]
    click.echo(decision_text(classroom, team, values, round_number=last + 1), nl=False)


@class_.command("round", short_help="Check every decision and play the next round.")
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path, file_okay=False))
@click.option("--round", "number", type=click.IntRange(min=1), help="Default: the next.")
@click.option("--force", is_flag=True, help="Play a finished round again (its files replaced).")
@_JOBS
@_CACHE_DIR
@_NO_CACHE
@_limits
def class_round(
    folder: Path,
    number: int | None,
    force: bool,
    jobs: int,
    cache_dir: Path | None,
    no_cache: bool,
    max_work: float | None,
    max_memory: float | None,
) -> None:
    """Check every team's decision (levers, values, budget), run every team and the base on
    the same replications and random numbers, and write DIR/round-N/: the leaderboard, and per
    team a debrief and the animation of its run beside the base's."""
    from simsales.classroom import plan_round, print_leaderboard, publish_round, run_round
    from simsales.classroom.rounds import class_lock
    from simsales.report import terminal_console

    classroom = _class_or_exit(folder)
    store = _run_store(cache_dir, no_cache)
    with class_lock(folder, ".round.lock", wait=False) as mine:
        if not mine:
            _fail(f"a round of {folder} is being played already (by another simsales)", 2)
        try:
            plan = plan_round(classroom, number, force=force)
        except ScenarioError as err:
            _print_problems(f"{len(err.problems)} problem(s); no round was played:", err)
            sys.exit(2)
        markets = [plan.base, *plan.markets.values()]
        _check_workload(markets, classroom.spec.replications, (max_work, max_memory))
        total = classroom.spec.replications * len(markets)
        with _failing("round"), _progress_bar() as bar:
            progress = None if bar is None else (lambda done: bar(done, total))
            result = run_round(
                classroom, plan, jobs=jobs or os.cpu_count() or 1, store=store, progress=progress
            )
        try:
            written = publish_round(classroom, result, force=force)
        except OutputError as err:
            _fail(str(err), 2)
        except OSError as err:
            _fail(f"cannot write the round: {err}", 1)
    print_leaderboard(terminal_console(), classroom, result)
    click.echo(f"round {result.number} written to {written}/")


@class_.command("serve", short_help="The class's web page: decisions, leaderboard, replays.")
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path, file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="0.0.0.0: the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@_JOBS
def class_serve(folder: Path, host: str, port: int, jobs: int) -> None:
    """Serve the class on HOST:PORT until Ctrl-C: each team logs in with its token (in
    class.toml) and saves its decision in a form showing the budget left; the instructor's
    token closes the round; everyone sees the leaderboard and the replay of their own run.
    Needs the extra simsales[class]."""
    try:
        from simsales.classroom.web import serve
    except ImportError as err:
        _fail(
            f"the web page needs the extra: pip install 'simsales[class]' ({err.name} missing)", 1
        )
    classroom = _class_or_exit(folder)
    click.echo(f"class {classroom.spec.name!r} on http://{host}:{port}/ (Ctrl-C stops it)")
    serve(classroom, host=host, port=port, jobs=jobs or os.cpu_count() or 1)


if __name__ == "__main__":  # python -m simsales.cli
    main()
