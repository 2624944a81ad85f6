"""What a library call asks for: frozen requests, built and checked before anything runs.

A request holds the scenarios as they will run (loaded, validated, seed and replications set),
where the work runs (``Execution``: processes, a Dask cluster or any executor, a run store, a
progress callback, the work limits) and what is written (``Output``). The builders
(``run_request``, ``compare_request``, ``experiment_request``) read the files and resolve every
default the way the command line does, so that a request built from a notebook and one built
by ``simsales run`` are the same object and write the same files. Building a request runs
nothing and writes nothing; a bad request raises ``RequestError`` (or ``LoadError`` for files
that do not load) with a message meant for a person.

Each request knows its ``command``: the ``simsales`` command line that asks for the same
results. It is recorded in the files written (``summary.json``, ...), and a folder written for
the same command may be rewritten without ``force`` (the same request run again after a kill).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from simsales.results.catalogue import COMPARE_METRICS, catalogue_for
from simsales.scenario import Scenario, ScenarioError, load_scenario

if TYPE_CHECKING:
    from simsales.experiment import Experiment
    from simsales.experiment.store import RunStore

__all__ = [
    "CompareRequest",
    "Execution",
    "ExperimentRequest",
    "LoadError",
    "Output",
    "Progress",
    "RequestError",
    "RunRequest",
    "Source",
    "compare_request",
    "experiment_request",
    "run_request",
]

#: A scenario: a file to read, or a scenario already loaded.
Source = str | os.PathLike[str] | Scenario
#: Called as replications finish: (finished so far, most there will be).
Progress = Callable[[int, int], None]
EventsLevel = Literal["event", "stage"]


class RequestError(ValueError):
    """A request that cannot run as asked; the message says why and what to do."""


class LoadError(RequestError):
    """Scenario or experiment files that do not load: each file with its problems."""

    def __init__(self, failures: Sequence[tuple[str, ScenarioError]]) -> None:
        self.failures = tuple(failures)
        super().__init__(
            "; ".join(f"{file}: {len(err.problems)} problem(s)" for file, err in self.failures)
        )


@dataclass(frozen=True, kw_only=True)
class Execution:
    """Where the replications run, what is kept between runs, and what may not be passed.

    ``jobs`` processes on this machine (0: one per CPU), or the Dask cluster whose scheduler is
    at ``scheduler``, or an ``executor`` the caller opened; the results are the same on any.
    ``store`` keeps finished replications and serves them to a later run of the same request
    (``simsales.experiment.store``). ``progress(done, total)`` is called as replications finish.
    ``max_work`` (suspects) and ``max_memory`` (bytes) refuse a request whose estimate passes
    them (``simsales.experiment.workload``; default limits when ``None``).
    """

    jobs: int = 1
    scheduler: str | None = None
    executor: Executor | None = None
    store: RunStore | None = None
    progress: Progress | None = field(default=None, compare=False)
    max_work: float | None = None
    max_memory: float | None = None

    def __post_init__(self) -> None:
        if self.jobs < 0:
            raise RequestError(f"jobs must be 0 (every CPU) or more, not {self.jobs}")
        if self.jobs == 0:
            object.__setattr__(self, "jobs", os.cpu_count() or 1)
        if self.scheduler is not None and self.executor is not None:
            raise RequestError("give a scheduler address or an executor, not both")

    @property
    def at_once(self) -> int:
        """Replications held in memory side by side, for the memory estimate."""
        return 1 if self.scheduler is not None or self.executor is not None else self.jobs

    def where(self) -> str:
        """The option of the recorded command that says where the work ran."""
        if self.scheduler is not None:
            return f"--scheduler={self.scheduler}"
        return f"--jobs={self.jobs}"


@dataclass(frozen=True, kw_only=True)
class Output:
    """Files to write into ``folder``: refused if it holds anything unless ``force`` (or the
    same request wrote it); ``figures``: also the PNG and SVG figures."""

    folder: Path
    force: bool = False
    figures: bool = True


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    """``simsales run``: one scenario's replications, its metrics, and optionally its files.

    ``scenario`` is as it will run (``run.replications`` and ``run.seed`` set); ``file`` the
    file it was read from, ``overrides`` the ``--set`` strings applied to it. ``events`` is the
    event-log file to write (``.csv``, ``.xes`` or ``.json``), at ``events_level`` detail.
    ``keep_deals`` keeps every replication's deal table in the result (``RunResult.deals``).
    ``notices`` are warnings found while building the request, to show the user.
    """

    scenario: Scenario
    file: str | None = None
    overrides: tuple[str, ...] = ()
    execution: Execution = Execution()
    output: Output | None = None
    events: Path | None = None
    events_level: EventsLevel = "event"
    keep_deals: bool = True
    notices: tuple[str, ...] = ()

    @property
    def replications(self) -> int:
        return self.scenario.run.replications

    @property
    def seed(self) -> int:
        return self.scenario.run.seed

    @property
    def command(self) -> list[str]:
        """The ``simsales run`` command line that asks for these results."""
        out, where = self.output, self.execution.where()
        words = ["simsales", "run", _source_word(self.file, self.scenario)]
        words += [f"--replications={self.replications}", f"--seed={self.seed}"]
        words += [f"--set={o}" for o in self.overrides] + [where]
        words += [f"--out={out.folder}"] if out is not None else []
        words += [f"--events={self.events}"] if self.events is not None else []
        words += [f"--events-level={self.events_level}"] if self.events_level != "event" else []
        words += ["--no-figures"] if out is not None and not out.figures else []
        return words


@dataclass(frozen=True, kw_only=True)
class CompareRequest:
    """``simsales compare``: a base and its variants on common random numbers.

    ``scenarios`` are the base then the variants, as loaded; ``files`` where each came from.
    ``replications`` is a count, or ``"auto"``: rounds until the shown metrics' intervals are
    tight (``simsales.experiment.precision``). ``metrics`` are the metrics asked for (none: the
    catalogue's compare defaults, ``shown``).
    """

    scenarios: tuple[Scenario, ...]
    files: tuple[str | None, ...]
    replications: int | Literal["auto"]
    seed: int
    metrics: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    execution: Execution = Execution()
    output: Output | None = None

    @property
    def base(self) -> Scenario:
        return self.scenarios[0]

    @property
    def variants(self) -> tuple[Scenario, ...]:
        return self.scenarios[1:]

    @property
    def shown(self) -> tuple[str, ...]:
        """The metrics the tables, findings and figures show."""
        return self.metrics or COMPARE_METRICS

    @property
    def command(self) -> list[str]:
        """The ``simsales compare`` command line that asks for these results."""
        out = self.output
        sources = zip(self.files, self.scenarios, strict=True)
        words = ["simsales", "compare", *(_source_word(f, s) for f, s in sources)]
        words += [f"--replications={self.replications}", f"--seed={self.seed}"]
        words += [self.execution.where()] + [f"--metric={m}" for m in self.metrics]
        words += [f"--set={o}" for o in self.overrides]
        words += [f"--out={out.folder}"] if out is not None else []
        words += ["--no-figures"] if out is not None and not out.figures else []
        return words


@dataclass(frozen=True, kw_only=True)
class ExperimentRequest:
    """``simsales experiment``: an experiment file's base and variants, sweep or levers.

    ``experiment`` is the file resolved into scenarios (``simsales.experiment.spec``);
    ``auto``: replications run in rounds until the file's ``[precision]`` targets are met.
    ``seed_given``: the seed was asked for, rather than the file's or its base's.
    """

    experiment: Experiment
    auto: bool = False
    seed_given: bool = False
    execution: Execution = Execution()
    output: Output | None = None

    @property
    def command(self) -> list[str]:
        """The ``simsales experiment`` command line that asks for these results."""
        exp, out = self.experiment, self.output
        words = ["simsales", "experiment", exp.file]
        words += [f"--replications={'auto' if self.auto else exp.replications}"]
        words += [f"--seed={exp.seed}"] if self.seed_given else []
        words += [self.execution.where()] + [f"--set={o}" for o in exp.overrides]
        words += [f"--out={out.folder}"] if out is not None else []
        words += ["--no-figures"] if out is not None and not out.figures else []
        return words


# --- builders ----------------------------------------------------------------------------------


def run_request(
    source: Source,
    *,
    replications: int | None = None,
    seed: int | None = None,
    overrides: Sequence[str] = (),
    execution: Execution | None = None,
    out: str | os.PathLike[str] | None = None,
    force: bool = False,
    figures: bool = True,
    events: str | os.PathLike[str] | None = None,
    events_level: EventsLevel = "event",
    keep_deals: bool = True,
) -> RunRequest:
    """A ``RunRequest`` for ``source``: the file loaded with ``overrides``, the replications and
    seed defaulting to its ``[run]``; raises ``LoadError`` or ``RequestError``.

    ``events`` is a file name (a bare name goes into ``out``), or ``""`` for ``out/events.csv``.
    """
    (scenario,), (file,) = load_sources([source], overrides)
    _check_count("replications", replications)
    reps = replications or scenario.run.replications
    seed = scenario.run.seed if seed is None else seed
    settings = scenario.run.model_copy(update={"replications": reps, "seed": seed})
    folder = None if out is None else Path(out)
    if events is None and events_level != "event":
        raise RequestError(
            "--events-level stage needs --events [FILE]: it says what the event log holds"
        )
    events_file, notice = _events_file(events, folder, force)
    return RunRequest(
        scenario=scenario.model_copy(update={"run": settings}),
        file=file,
        overrides=tuple(overrides),
        execution=execution or Execution(),
        output=None if folder is None else Output(folder=folder, force=force, figures=figures),
        events=events_file,
        events_level=events_level,
        keep_deals=keep_deals,
        notices=() if notice is None else (notice,),
    )


def compare_request(
    base: Source,
    *variants: Source,
    replications: int | Literal["auto"] | None = None,
    seed: int | None = None,
    metrics: Sequence[str] = (),
    overrides: Sequence[str] = (),
    execution: Execution | None = None,
    out: str | os.PathLike[str] | None = None,
    force: bool = False,
    figures: bool = True,
) -> CompareRequest:
    """A ``CompareRequest`` of ``base`` and ``variants`` (each loaded with ``overrides``);
    replications and seed default to the base's. Raises ``LoadError`` or ``RequestError``."""
    if not variants:
        raise RequestError("compare needs at least one variant besides the base")
    scenarios, files = load_sources([base, *variants], overrides)
    _check_count("replications", replications if isinstance(replications, int) else None)
    check_metrics(metrics, scenarios)
    reps = replications or scenarios[0].run.replications
    folder = None if out is None else Path(out)
    return CompareRequest(
        scenarios=tuple(scenarios),
        files=tuple(files),
        replications=reps,
        seed=scenarios[0].run.seed if seed is None else seed,
        metrics=tuple(dict.fromkeys(metrics)),
        overrides=tuple(overrides),
        execution=execution or Execution(),
        output=None if folder is None else Output(folder=folder, force=force, figures=figures),
    )


def experiment_request(
    file: str | os.PathLike[str],
    *,
    replications: int | Literal["auto"] | None = None,
    seed: int | None = None,
    overrides: Sequence[str] = (),
    execution: Execution | None = None,
    out: str | os.PathLike[str] | None = None,
    force: bool = False,
    figures: bool = True,
) -> ExperimentRequest:
    """An ``ExperimentRequest`` of the experiment ``file`` (``overrides`` on its base and every
    point); raises ``LoadError`` if the file or a scenario it makes does not load."""
    from simsales.experiment import load_experiment

    _check_count("replications", replications if isinstance(replications, int) else None)
    fixed = replications if isinstance(replications, int) else None
    try:
        exp = load_experiment(file, overrides, replications=fixed, seed=seed)
    except ScenarioError as err:
        raise LoadError([(os.fspath(file), err)]) from None
    folder = None if out is None else Path(out)
    return ExperimentRequest(
        experiment=exp,
        auto=replications == "auto",
        seed_given=seed is not None,
        execution=execution or Execution(),
        output=None if folder is None else Output(folder=folder, force=force, figures=figures),
    )


def load_sources(
    sources: Sequence[Source], overrides: Sequence[str] = ()
) -> tuple[list[Scenario], list[str | None]]:
    """Each source as a scenario (a file loaded with ``overrides``) and its file name.

    Every file is read before any problem is raised, so that one ``LoadError`` lists them all;
    two scenarios of one name are refused (the name labels the results).
    """
    scenarios: list[Scenario] = []
    files: list[str | None] = []
    failures = []
    for source in sources:
        if isinstance(source, Scenario):
            if overrides:
                raise RequestError("overrides apply to scenario files; set them on the scenario")
            scenarios.append(source)
            files.append(None)
            continue
        try:
            scenarios.append(load_scenario(source, overrides))
        except ScenarioError as err:
            failures.append((os.fspath(source), err))
        files.append(os.fspath(source))
    if failures:
        raise LoadError(failures)
    seen: dict[str, str] = {}
    for scenario, file in zip(scenarios, files, strict=True):
        where = file or f"the scenario {scenario.name!r}"
        if scenario.name in seen:
            raise RequestError(
                f"{seen[scenario.name]} and {where} are both named {scenario.name!r}; "
                "the name labels the results, so give each file its own `name = ...`"
            )
        seen[scenario.name] = where
    return scenarios, files


def check_metrics(names: Sequence[str], scenarios: Sequence[Scenario]) -> None:
    """Raise ``RequestError`` for a metric no scenario reports, with the closest names."""
    import difflib

    known = catalogue_for(*scenarios)
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
            hint = (
                f"did you mean {', '.join(map(repr, close[:-1]))}"
                f"{' or ' if len(close) > 1 else ''}{close[-1]!r}?"
                if close
                else "`simsales reference --print outputs` lists every metric"
            )
            raise RequestError(f"unknown metric {name!r}; {hint}")


def _check_count(name: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or value < 1):
        raise RequestError(f"{name} must be at least 1, not {value!r}")


def _source_word(file: str | None, scenario: Scenario) -> str:
    """A scenario in the recorded command: its file, or its name if it was built in memory."""
    return file if file is not None else f"<scenario {scenario.name}>"


def _events_file(
    events: str | os.PathLike[str] | None, out: Path | None, force: bool
) -> tuple[Path | None, str | None]:
    """Where the event log goes (a bare name into ``out``) and any notice about its name."""
    if events is None:
        return None, None
    from simsales.results.eventlog import event_log_format, legacy_ending_notice

    if not os.fspath(events):  # --events alone
        if out is None:
            raise RequestError(
                "--events needs --out DIR (to write DIR/events.csv) or a FILE: log.xes, ..."
            )
        events = "events.csv"
    path = Path(events)
    if out is not None and path.parent == Path("."):
        path = out / path
    try:
        event_log_format(path)
    except ValueError as err:
        raise RequestError(str(err)) from None
    if path.parent != out and path.exists() and not force:
        raise RequestError(f"{path} exists; choose another file or pass --force to overwrite it")
    if path.parent != out and not path.parent.is_dir():
        raise RequestError(f"cannot write {path}: no folder {path.parent}")
    return path, legacy_ending_notice(path)


def quoted(command: Sequence[str]) -> str:
    """A command line as one string, as the files record it."""
    return shlex.join(command)
