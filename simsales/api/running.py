"""``run``, ``compare`` and ``experiment``: a request in, a result out, files written on the way.

What ``simsales run``, ``compare`` and ``experiment`` do, as library functions: estimate the
work and refuse a runaway, open the Dask cluster if asked, stage the output folder (nothing is
published unless every file is complete; a folder the same request wrote may be rewritten),
run the replications with the run store and the progress callback, write the event log, the
provenance (``summary.json``, ...), the reports and the figures, and hand back the result.

Errors are exceptions, never exits: ``RequestError`` for a request that cannot run as asked,
``ClusterError`` for a cluster that cannot be reached, ``WriteError`` for an output file that
cannot be written, ``Interrupted`` (a ``KeyboardInterrupt``) for Ctrl-C or SIGTERM, saying what
was left behind. Anything else raised is the simulation's own failure, passed on as it is.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import ExitStack, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simsales import report
from simsales.api.requests import (
    CompareRequest,
    Execution,
    ExperimentRequest,
    Output,
    Progress,
    RequestError,
    RunRequest,
    Source,
    compare_request,
    experiment_request,
    run_request,
)
from simsales.api.results import CompareResult, ExperimentOutcome, RunResult
from simsales.output import OutputError, StagedFiles, atomic_open, hold_for_test, prepare_out_dir
from simsales.scenario import Scenario

if TYPE_CHECKING:
    from simsales.experiment.store import RunStore
    from simsales.model import RunRecords
    from simsales.results import DealTable
    from simsales.results.eventlog import EventLogExport

__all__ = ["Interrupted", "WriteError", "check_workload", "compare", "experiment", "run"]

OnResult = Callable[[int, "RunRecords | None", dict[str, float]], None]

#: Options of the convenience forms that belong to ``Execution``.
_EXECUTION = ("jobs", "scheduler", "executor", "store", "progress", "max_work", "max_memory")


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a run; ``detail`` says what it left behind, ``original`` is the
    interrupt itself (a ``KeyboardInterrupt``, or the CLI's ``Terminated``)."""

    def __init__(self, detail: str, original: KeyboardInterrupt) -> None:
        super().__init__(detail)
        self.detail = detail
        self.original = original


class WriteError(OSError):
    """A file of the output folder could not be written."""


def run(request: RunRequest | Source, /, **options: Any) -> RunResult:
    """Run a scenario's replications: ``run(RunRequest)``, or ``run(path_or_scenario, **options)``
    with the options of ``run_request`` and ``Execution`` (``replications=3, jobs=2, out=...``).

    Returns a ``RunResult``: the metrics over replications, each replication's metrics and (with
    ``keep_deals``, the default) deal table, and the files written.
    """
    req = _request(request, RunRequest, run_request, options)
    ex = req.execution
    check_workload(
        [req.scenario],
        req.replications,
        ex,
        event_log=req.events is not None,
        deals=req.keep_deals,
    )
    before = _counts(ex.store)
    tables: list[DealTable] = []
    identity = report.run_request(req.scenario, command=req.command)
    with (
        _executor(ex) as executor,
        _staged(req.output, ex.store, record="summary.json", request=identity) as staged,
        _event_log_export(req, staged) as export,
    ):
        keep = _keeper(tables) if req.keep_deals else None
        writer = report.deal_writer(staged, events=False) if staged is not None else None
        on_result = _chain(writer, keep, export)
        figures = staged is not None and req.output is not None and req.output.figures
        flow = report.RunFlow(on_result) if figures or req.keep_deals else None
        per_rep = _run_replications(req, executor, flow or on_result)
        written = _publish_run(req, staged, per_rep, flow if figures else None, export)
    series = None
    if flow is not None and flow.daily is not None and flow.weekly is not None:
        series = (flow.daily, flow.weekly)
    return RunResult(
        request=req,
        per_replication=tuple(per_rep),
        deal_tables=tuple(tables) if req.keep_deals else None,
        flow=series,
        written=tuple(written),
        reused=_counts(ex.store)[0] - before[0],
        store_problem=None if ex.store is None else ex.store.problem,
    )


def compare(*sources: CompareRequest | Source, **options: Any) -> CompareResult:
    """Compare variants with a base on common random numbers: ``compare(CompareRequest)``, or
    ``compare(base, variant, ..., **options)`` with the options of ``compare_request`` and
    ``Execution``. Returns a ``CompareResult``: the comparison and its answer."""
    from simsales.experiment import PrecisionTargets, compare_scenarios
    from simsales.experiment.answer import comparison_answer

    if len(sources) == 1 and isinstance(sources[0], CompareRequest):
        req = _request(sources[0], CompareRequest, compare_request, options)
    else:
        plain = [s for s in sources if not isinstance(s, CompareRequest)]
        if len(plain) != len(sources):
            raise TypeError("compare takes one CompareRequest, or scenario files and options")
        req = compare_request(*plain, **_with_execution(options))
    ex = req.execution
    targets = PrecisionTargets() if req.replications == "auto" else None
    most = targets.max_replications if targets else int(req.replications)
    check_workload(req.scenarios, most, ex)
    before = _counts(ex.store)
    identity = report.scenarios_request(req.scenarios, seed=req.seed, command=req.command)
    written: list[str] = []
    with (
        _executor(ex) as executor,
        _staged(req.output, ex.store, record="comparison.json", request=identity) as staged,
    ):
        result = compare_scenarios(
            req.base,
            req.variants,
            replications=targets or most,
            seed=req.seed,
            jobs=_slots(executor, ex.jobs),
            progress=_progress(ex.progress, most * len(req.scenarios)),
            executor=executor,
            metrics=req.shown,
            store=ex.store,
        )
        answer = comparison_answer(result, req.shown)
        if staged is not None:
            written = _publish_comparison(req, staged, result, answer)
    return CompareResult(
        request=req,
        comparison=result,
        answer=answer,
        written=tuple(written),
        reused=_counts(ex.store)[0] - before[0],
        store_problem=None if ex.store is None else ex.store.problem,
    )


def experiment(
    request: ExperimentRequest | str | os.PathLike[str], /, **options: Any
) -> ExperimentOutcome:
    """Run an experiment file: ``experiment(ExperimentRequest)``, or ``experiment(path,
    **options)`` with the options of ``experiment_request`` and ``Execution``. Returns an
    ``ExperimentOutcome``: the experiment's result and its answer."""
    from simsales.experiment import run_experiment
    from simsales.experiment.answer import experiment_answer

    req = _request(request, ExperimentRequest, experiment_request, options)
    ex, exp = req.execution, req.experiment
    per_scenario = exp.precision_targets().max_replications if req.auto else exp.replications
    scenarios = [exp.base, *exp.scenarios]
    check_workload(scenarios, per_scenario, ex, cycles=True)
    before = _counts(ex.store)
    identity = report.experiment_request(exp, command=req.command)
    written: list[str] = []
    with (
        _executor(ex) as executor,
        _staged(req.output, ex.store, record="experiment.json", request=identity) as staged,
    ):
        result = run_experiment(
            exp,
            jobs=_slots(executor, ex.jobs),
            progress=_progress(ex.progress, per_scenario * len(scenarios)),
            auto=req.auto,
            executor=executor,
            store=ex.store,
        )
        answer = experiment_answer(result)
        if staged is not None and req.output is not None:
            document = report.experiment_document(result, command=req.command)
            with _writing(staged):
                written = report.publish_experiment(
                    staged, result, answer, document, figures=req.output.figures
                )
    return ExperimentOutcome(
        request=req,
        result=result,
        answer=answer,
        written=tuple(written),
        reused=_counts(ex.store)[0] - before[0],
        store_problem=None if ex.store is None else ex.store.problem,
    )


# --- the steps ---------------------------------------------------------------------------------


def _request(given: Any, kind: type, build: Callable[..., Any], options: dict[str, Any]) -> Any:
    """``given`` if it is a request of ``kind`` (and no options came with it), else one built
    from it and ``options``."""
    if isinstance(given, kind):
        if options:
            raise TypeError(f"options come with a source, not with a {kind.__name__}")
        return given
    return build(given, **_with_execution(options))


def _with_execution(options: dict[str, Any]) -> dict[str, Any]:
    """The builder's options, the ``Execution`` ones gathered into one ``execution``."""
    given = {k: options.pop(k) for k in _EXECUTION if k in options}
    if given and "execution" in options:
        raise TypeError(f"give {', '.join(given)} in the Execution, or without one")
    if given:
        options["execution"] = Execution(**given)
    return options


def check_workload(
    scenarios: Sequence[Scenario],
    replications: int,
    execution: Execution,
    *,
    event_log: bool = False,
    cycles: bool = False,
    deals: bool = False,
) -> None:
    """Raise ``RequestError``, saying by how much and what to do, if the estimated work or
    memory passes the limits."""
    from simsales.experiment.workload import WorkLimits, estimate_workload

    given = {"max_work": execution.max_work, "max_memory": execution.max_memory}
    limit = WorkLimits(**{k: v for k, v in given.items() if v is not None})
    load = estimate_workload(
        scenarios,
        replications=replications,
        at_once=execution.at_once,
        event_log=event_log,
        cycles=cycles,
        deals=deals,
    )
    problems = load.problems(limit)
    if problems:
        said = ";\n  ".join(problems)
        raise RequestError(f"too large to start:\n  {said}.\n  {load.advice(limit)}")


@contextmanager
def _executor(execution: Execution) -> Iterator[Executor | None]:
    """The caller's executor, one on the Dask cluster at ``scheduler``, or ``None`` (local
    processes); raises ``ClusterError`` if the cluster cannot be reached."""
    if execution.scheduler is None:
        yield execution.executor
        return
    from simsales.experiment.cluster import dask_executor

    with ExitStack() as stack:
        yield stack.enter_context(dask_executor(execution.scheduler))


def _slots(executor: Executor | None, jobs: int) -> int:
    """Replications to keep running at once: the cluster's worker threads, or ``jobs``."""
    if executor is None:
        return jobs
    from simsales.experiment.cluster import executor_threads

    return executor_threads(executor)


def _progress(progress: Progress | None, total: int) -> Callable[[int], None] | None:
    return None if progress is None else (lambda done: progress(done, total))


def _counts(store: RunStore | None) -> tuple[int, int]:
    return (0, 0) if store is None else (store.reused, store.computed)


@contextmanager
def _staged(
    output: Output | None,
    store: RunStore | None,
    *,
    record: str,
    request: dict[str, Any],
) -> Iterator[StagedFiles | None]:
    """The files of ``output``, discarded unless published. A folder whose ``record``
    (``summary.json``, ...) says it was written for this same ``request`` is rewritten without
    ``force``: the same request, run again after it was killed, resumes whenever the kill came.
    An interrupt becomes ``Interrupted``, saying what is left."""

    def rewritable(folder: Path) -> bool:
        return report.holds_request(folder, record, request)

    folder = None
    if output is not None:
        try:
            folder = prepare_out_dir(output.folder, output.force, rewritable=rewritable)
        except OutputError as err:
            raise RequestError(str(err)) from None
    staged = None if folder is None else StagedFiles(folder, record=record)
    try:
        with staged if staged is not None else nullcontext():
            yield staged
    except KeyboardInterrupt as exc:
        if staged is not None and staged.published:
            detail = (
                f" while publishing; {staged.folder} holds part of the files: run the same "
                f"command again to complete it{_kept(store)}"
            )
        else:
            detail = f"; no output files were written{_kept(store)}"
        raise Interrupted(detail, exc) from exc
    hold_for_test("published")


def _kept(store: RunStore | None) -> str:
    """What an interrupted run leaves for the rerun: '' if nothing was stored."""
    if store is None or not store.computed:
        return ""
    return (
        f"; {store.computed} finished replications are kept in the run store: "
        "run the same command again to resume"
    )


@contextmanager
def _writing(staged: StagedFiles) -> Iterator[None]:
    """``WriteError`` if a file of ``staged`` cannot be written."""
    try:
        yield
    except OSError as err:
        raise WriteError(f"cannot write to {staged.folder}: {err}") from err


@contextmanager
def _event_log_export(
    req: RunRequest, staged: StagedFiles | None
) -> Iterator[EventLogExport | None]:
    """The event-log file, staged with the output folder's files or written atomically on its
    own."""
    path = req.events
    if path is None:
        yield None
        return
    from simsales.results.eventlog import EventLogExport, event_log_format

    fmt, name, level = event_log_format(path), req.scenario.name, req.events_level
    if staged is not None and path.parent == staged.folder:
        export = EventLogExport(
            staged.open(path.name, newline=""), fmt, scenario_name=name, level=level
        )
        yield export
        export.close()
        return
    with atomic_open(path, newline="") as fh:
        export = EventLogExport(fh, fmt, scenario_name=name, level=level)
        yield export
        export.close()


def _keeper(tables: list[DealTable]) -> OnResult:
    """An ``on_result`` that keeps each replication's deal table."""
    from simsales.results import DealTable

    def keep(r: int, records: RunRecords | None, metrics: dict[str, float]) -> None:
        assert records is not None  # records are kept when on_result is given
        tables.append(DealTable.from_records(records))

    return keep


def _chain(*steps: OnResult | EventLogExport | None) -> OnResult | None:
    """One ``on_result`` calling each step in turn (an event-log export adds the records)."""
    from simsales.results.eventlog import EventLogExport

    calls: list[OnResult] = []
    for step in steps:
        if isinstance(step, EventLogExport):
            calls.append(_exporting(step))
        elif step is not None:
            calls.append(step)
    if not calls:
        return None
    if len(calls) == 1:
        return calls[0]

    def on_result(r: int, records: RunRecords | None, metrics: dict[str, float]) -> None:
        for call in calls:
            call(r, records, metrics)

    return on_result


def _exporting(export: EventLogExport) -> OnResult:
    def add(r: int, records: RunRecords | None, metrics: dict[str, float]) -> None:
        assert records is not None  # records are kept when on_result is given
        export.add_records(records)

    return add


def _run_replications(
    req: RunRequest, executor: Executor | None, on_result: OnResult | None
) -> list[dict[str, float]]:
    from simsales.experiment import run_replications

    ex = req.execution
    return run_replications(
        req.scenario,
        replications=req.replications,
        seed=req.seed,
        jobs=_slots(executor, ex.jobs),
        event_log=req.events is not None,
        on_result=on_result,
        progress=_progress(ex.progress, req.replications),
        executor=executor,
        store=ex.store,
    )


def _publish_run(
    req: RunRequest,
    staged: StagedFiles | None,
    per_rep: list[dict[str, float]],
    flow: Any,
    export: EventLogExport | None,
) -> list[str]:
    """Write ``summary.json``, ``report.html``, the figures and the rest of the output folder;
    publish them."""
    if staged is None:
        return []
    from simsales.report.htmlpage import read_input
    from simsales.results import summarise

    document = report.summary_document(
        req.scenario,
        summarise(per_rep),
        scenario_file=req.file,
        overrides=req.overrides,
        command=req.command,
    )
    inputs = [read_input(req.file, "Scenario file")] if req.file is not None else []
    with _writing(staged):
        if export is not None:
            export.close()  # before its file is published with the others
        return report.publish_run(
            staged,
            document,
            per_rep,
            scenario=req.scenario,
            figures=flow.figures() if flow is not None else None,
            inputs=inputs,
        )


def _publish_comparison(
    req: CompareRequest, staged: StagedFiles, result: Any, answer: Any
) -> list[str]:
    """Write ``comparison.json``, the reports and the figures of a comparison; publish them."""
    assert req.output is not None
    document = report.comparison_document(result, files=req.files, command=req.command)
    with _writing(staged):
        return report.publish_comparison(
            staged,
            document,
            result,
            answer,
            files=[f or "" for f in req.files],
            figures=req.output.figures,
        )
