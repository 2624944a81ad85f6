"""``run_fit``: what ``simsales fit`` does, as a library call.

Read the mapping, the export and the base scenario; fit (``fitting``); profile each parameter
(``identify``); fit the first two thirds and predict the last (``holdout``); write the fitted
scenario file (``scenario_file``) and the fit report (``report``). Output paths are checked
before any simulation starts, and nothing is overwritten without ``force``.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from simsales.crm.fit.direct import FitDataError, check_export
from simsales.crm.fit.fitting import FitOptions, Fitted, fit_export
from simsales.crm.fit.holdout import Holdout, holdout_check, truncated
from simsales.crm.fit.identify import Profile, profiles
from simsales.crm.fit.parameters import parameter_names, parameters_named
from simsales.crm.fit.scenario_file import scenario_text, write_scenario
from simsales.crm.fit.stages import StageCheck, stage_check
from simsales.crm.importing import import_crm
from simsales.crm.reader import CrmExport
from simsales.scenario import Scenario, load_scenario

__all__ = ["FitOutcome", "FitRequest", "FitRequestError", "run_fit"]

Progress = Callable[[int, int, float], None]


class FitRequestError(ValueError):
    """Options that cannot run as asked (a parameter not known, a budget too small, an output
    path that cannot be used); the message says what to do."""


@dataclass(frozen=True, kw_only=True)
class FitRequest:
    """What ``simsales fit`` was asked: the files, the parameters and the search's size, where
    it runs (``jobs`` processes, or the Dask cluster at ``scheduler``)."""

    export_file: Path
    mapping_file: Path
    base_file: Path
    out_file: Path
    report_dir: Path | None = None
    stage_history_file: Path | None = None  # else the one the mapping names, if any
    parameters: tuple[str, ...] = ()
    budget: int = 48
    replications: int = 2
    final_replications: int = 6
    seed: int = 20261202
    sellers: int | None = None
    holdout: bool = True
    force: bool = False
    jobs: int = 1
    scheduler: str | None = None
    progress: Progress | None = field(default=None, compare=False)

    @property
    def report_folder(self) -> Path:
        """``report_dir``, or ``<out file>-fit/`` beside the scenario file."""
        if self.report_dir is not None:
            return self.report_dir
        return self.out_file.with_name(f"{self.out_file.stem}-fit")

    @property
    def command(self) -> str:
        words = [
            "simsales",
            "fit",
            str(self.export_file),
            "--mapping",
            str(self.mapping_file),
            "--base",
            str(self.base_file),
            "-o",
            str(self.out_file),
            "--budget",
            str(self.budget),
            "--replications",
            str(self.replications),
            "--seed",
            str(self.seed),
        ]
        if self.parameters:
            words += ["--params", ",".join(self.parameters)]
        if self.stage_history_file is not None:
            words += ["--stage-history", str(self.stage_history_file)]
        if self.sellers is not None:
            words += ["--sellers", str(self.sellers)]
        if not self.holdout:
            words.append("--no-holdout")
        return shlex.join(words)


@dataclass(frozen=True)
class FitOutcome:
    """What ``run_fit`` did: the fit, its profiles and held-out check, the stage check (with a
    stage history), the files written, and the rows of the files left out or doubted."""

    request: FitRequest
    export: CrmExport
    base: Scenario
    fitted: Fitted
    profiles: tuple[Profile, ...]
    noise: float
    holdout: Holdout | None
    holdout_skipped: str | None
    scenario: Scenario
    written: tuple[str, ...]
    stages: StageCheck | None = None
    stages_skipped: str | None = None
    problems: tuple[str, ...] = ()


def run_fit(request: FitRequest) -> FitOutcome:
    """Fit, check, write; see the module docstring. Raises ``ScenarioError`` (mapping or base),
    ``ExportError``, ``FitDataError``, ``FileExistsError`` or ``FitRequestError``."""
    from simsales.crm.fit.report import write_report

    _check_outputs(request)
    read = import_crm(
        request.export_file, request.mapping_file, stage_history=request.stage_history_file
    )
    export = read.export
    base = load_scenario(request.base_file)
    names = request.parameters or parameter_names()
    try:
        chosen = parameters_named(names)
    except ValueError as err:
        raise FitRequestError(f"--params: {err}") from None
    for parameter in chosen:  # a base this parameter cannot be set in: said before any work
        trial = base.model_dump(by_alias=True)
        try:
            parameter.write(trial, parameter.read(trial))
        except (KeyError, TypeError, ValueError) as err:
            raise FitRequestError(
                f"--params {parameter.name}: cannot set {parameter.key} in {request.base_file}: "
                f"{err}"
            ) from None
    options = FitOptions(
        parameters=chosen,
        budget=request.budget,
        replications=request.replications,
        final_replications=request.final_replications,
        seed=request.seed,
        sellers=request.sellers,
    )
    dim = len(options.parameters)
    if request.budget < 2 * dim + 2:
        raise FitRequestError(
            f"--budget {request.budget} is too small for {dim} parameters: give at "
            f"least {2 * dim + 2} (a start of 2 d + 2 points)"
        )
    held = replace(options, budget=max(2 * dim + 2, request.budget // 3))
    check_export(export, sellers=request.sellers)  # before any work: nothing to wait for
    skipped = _holdout_problem(export, request) if request.holdout else None
    run_holdout = request.holdout and skipped is None
    total = options.budget + (held.budget if run_holdout else 0)
    with _executor(request) as executor:
        fitted = fit_export(
            export,
            base,
            options,
            executor=executor,
            jobs=request.jobs,
            progress=request.progress,
            budget_total=total,
        )
        found, noise = profiles(fitted, executor=executor, jobs=request.jobs)
        holdout = None
        if run_holdout:
            holdout = holdout_check(
                export,
                base,
                held,
                fitted,
                executor=executor,
                jobs=request.jobs,
                progress=request.progress,
                budget_offset=options.budget,
                budget_total=total,
            )
    stages, stages_skipped = None, None
    if read.history is not None:
        try:
            stages = stage_check(fitted, export, read.history)
        except ValueError as err:  # the history names stages the scenario has not got
            stages_skipped = str(err)
    notes = {p.name: p.note() for p in found}
    text = scenario_text(
        fitted,
        base_file=request.base_file,
        out_file=request.out_file,
        command=request.command,
        notes=notes,
    )
    scenario = write_scenario(text, request.out_file, force=request.force)
    outcome = FitOutcome(
        request,
        export,
        base,
        fitted,
        tuple(found),
        noise,
        holdout,
        skipped,
        scenario,
        (),
        stages=stages,
        stages_skipped=stages_skipped,
        problems=tuple(read.problem_lines()),
    )
    written = write_report(outcome, request.report_folder, force=request.force)
    return replace(outcome, written=(str(request.out_file), *written))


def _holdout_problem(export: CrmExport, request: FitRequest) -> str | None:
    """Why the first two thirds of ``export`` cannot be fitted on their own, or ``None``."""
    part = truncated(export, export.end_day * 2.0 / 3.0)
    try:
        check_export(part, sellers=request.sellers)
    except FitDataError as err:
        return str(err).removeprefix(f"{export.path}: ")
    return None


def _check_outputs(request: FitRequest) -> None:
    """Refuse, before any work, to overwrite the scenario file or a report folder."""
    if request.out_file.suffix != ".toml":
        raise FitRequestError(f"-o {request.out_file}: the fitted scenario is a .toml file")
    if request.out_file.resolve() == request.base_file.resolve():
        raise FitRequestError("-o names the base scenario itself: choose another file")
    if request.out_file.exists() and not request.force:
        raise FileExistsError(f"{request.out_file} exists: give --force to replace it")
    folder = request.report_folder
    if folder.exists() and any(folder.iterdir()) and not request.force:
        raise FileExistsError(
            f"{folder}/ is not empty: give --force to write into it, or "
            "another folder with --report"
        )


@contextmanager
def _executor(request: FitRequest) -> Iterator[Executor | None]:
    """One pool for the whole fit (processes started once), or the Dask cluster's executor."""
    if request.scheduler is not None:
        from simsales.experiment.cluster import dask_executor

        with dask_executor(request.scheduler) as executor:
            yield executor
        return
    if request.jobs <= 1:
        yield None
        return
    from simsales.experiment.workers import start_worker

    pool = ProcessPoolExecutor(
        max_workers=request.jobs, initializer=start_worker, initargs=(os.getpid(),)
    )
    try:
        yield pool
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
