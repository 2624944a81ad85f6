"""Experiment files: a base scenario and named variants, a sweep of one or two keys, or a
sensitivity (tornado) run of levers moved one step down and up
(``simsales.experiment.sensitivity``).

An experiment file is TOML, validated like a scenario (frozen, strict, unknown keys refused) and
reported like one: every problem with the file, its key path (``variants[1] (fast).name``,
``metrics[2]``) and the rule broken, in one ``ScenarioError``. Each variant and each sweep point
becomes a scenario by applying overrides to the base file with the machinery of ``--set``
(``simsales.scenario.load_scenario``), so an override is checked exactly as a ``--set`` is; a
bad one is reported at the experiment file's key that wrote it.

Loading gives an ``Experiment``: the validated file and the scenarios it resolves to, ready to
run with ``simsales.experiment.run_experiment``.
"""

from __future__ import annotations

import difflib
import itertools
import json
import math
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from simsales.experiment.precision import PrecisionTargets
from simsales.experiment.sensitivity import (
    DEFAULT_METRICS,
    Lever,
    LeverRun,
    Sensitivity,
    base_value,
    lever_settings,
)
from simsales.results import catalogue_for
from simsales.scenario import Problem, Scenario, ScenarioError, load_scenario
from simsales.scenario.errors import format_value, render_path
from simsales.scenario.loading import not_toml, read_toml
from simsales.scenario.text import PlainText

__all__ = [
    "Experiment",
    "ExperimentSpec",
    "Precision",
    "Sweep",
    "SweepKey",
    "Variant",
    "load_experiment",
    "toml_literal",
]

#: Most scenarios one experiment file may ask for (sweep points, variants, lever settings): a
#: 100 × 100 grid. Each is resolved (and checked) when the file is loaded, and run as many times
#: as there are replications; more is a slip (a value list pasted twice, a grid of 1000 × 1000).
MAX_POINTS = 10_000

_BOTH = "give either [[variants]] or [sweep], not both"
_ONE = "give only one of [[variants]], [sweep] and [sensitivity]"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


class Variant(_Frozen):
    """A named change of the base: ``set`` maps scenario key paths to values, as ``--set``."""

    name: PlainText = Field(min_length=1, description="Labels the variant's results.")
    set: dict[PlainText, Any] = Field(
        min_length=1, description='Key path -> value, e.g. { "policies.activities_per_call" = 4 }.'
    )


class SweepKey(_Frozen):
    """One swept scenario key and the values it takes, in the order they are reported."""

    key: PlainText = Field(min_length=1, description="A scenario key path, as given to --set.")
    values: list[int | float | PlainText | bool] = Field(
        min_length=1, max_length=MAX_POINTS, description="Values to run (at most 10,000)."
    )

    @model_validator(mode="after")
    def _distinct(self) -> SweepKey:
        counts = Counter(format_value(v) for v in self.values)
        twice = sorted(v for v, n in counts.items() if n > 1)
        if twice:
            raise ValueError(f"values must differ; repeated: {', '.join(twice)}")
        return self


class Sweep(_Frozen):
    """One or two keys; with two, every combination of their values (the full grid) is run."""

    keys: list[SweepKey] = Field(
        min_length=1,
        max_length=2,
        description="[[sweep.keys]] tables; the grid has at most 10,000 points.",
    )

    @model_validator(mode="after")
    def _distinct(self) -> Sweep:
        if len({k.key for k in self.keys}) < len(self.keys):
            raise ValueError("the two keys must differ")
        sizes = [len(k.values) for k in self.keys]
        if math.prod(sizes) > MAX_POINTS:
            grid = " × ".join(f"{n:,}" for n in sizes)
            raise ValueError(
                f"the grid has {grid} = {math.prod(sizes):,} points; at most {MAX_POINTS:,} "
                "(each point is a scenario run with every replication)"
            )
        return self


class Precision(_Frozen):
    """``[precision]``: half-width targets for ``--replications auto``
    (``simsales.experiment.precision``)."""

    relative: float | None = Field(
        None, gt=0, description="Half-width at most this share of |mean|, e.g. 0.05."
    )
    absolute: dict[PlainText, float] = Field(
        default_factory=dict,
        description="Metric -> largest half-width in its unit, e.g. "
        "{ cycle_median_won_days = 3.0 }.",
    )
    min_replications: int = Field(5, ge=2, description="Pilot round's replications.")
    max_replications: int = Field(200, ge=2, description="Cap on the replications.")

    @model_validator(mode="after")
    def _sensible(self) -> Precision:
        bad = sorted(k for k, v in self.absolute.items() if not v > 0)
        if bad:
            raise ValueError(f"absolute targets must be positive: {', '.join(bad)}")
        if self.min_replications > self.max_replications:
            raise ValueError(
                f"min_replications ({self.min_replications}) is above max_replications "
                f"({self.max_replications})"
            )
        if self.relative is None and not self.absolute:
            raise ValueError("give relative = ... and/or absolute = { metric = ... }")
        return self

    def targets(self) -> PrecisionTargets:
        return PrecisionTargets(
            relative=self.relative,
            absolute=dict(self.absolute),
            min_replications=self.min_replications,
            max_replications=self.max_replications,
        )


class ExperimentSpec(_Frozen):
    """An experiment file, validated: what to run (base and variants or sweep), and how."""

    name: PlainText = Field(min_length=1, description="Names the experiment.")
    description: PlainText = Field("", description="What the experiment asks.")
    base: PlainText = Field(min_length=1, description="Base scenario file, relative to this file.")
    replications: int | None = Field(None, ge=1, description="Default: the base's.")
    seed: int | None = Field(None, ge=0, description="Root seed. Default: the base's.")
    metrics: list[PlainText] = Field(
        min_length=1,
        description="Metrics to report (`simsales reference` lists them). Default with "
        "[sensitivity] only: " + ", ".join(DEFAULT_METRICS) + ".",
    )
    set: dict[PlainText, Any] = Field(
        default_factory=dict, description="Overrides applied to the base and to every variant."
    )
    variants: list[Variant] | None = Field(
        None, min_length=1, max_length=MAX_POINTS, description="[[variants]], at most 10,000."
    )
    sweep: Sweep | None = Field(None, description="[sweep] with one or two [[sweep.keys]].")
    sensitivity: Sensitivity | None = Field(
        None, description="[sensitivity] with [[sensitivity.levers]]: a tornado run."
    )
    precision: Precision | None = Field(
        None, description="[precision]: targets for --replications auto."
    )

    @model_validator(mode="before")
    @classmethod
    def _default_metrics(cls, data: Any) -> Any:
        if isinstance(data, dict) and "sensitivity" in data and "metrics" not in data:
            return {**data, "metrics": list(DEFAULT_METRICS)}
        return data

    @model_validator(mode="after")
    def _one_design(self) -> ExperimentSpec:
        designs = [d for d in (self.variants, self.sweep, self.sensitivity) if d is not None]
        if len(designs) != 1:
            raise ValueError(
                "give [[variants]], a [sweep] or a [sensitivity]: there is nothing to compare"
                if not designs
                else _BOTH
                if self.sensitivity is None
                else _ONE
            )
        if self.variants is not None:
            counts = Counter(v.name for v in self.variants)
            twice = sorted(n for n, k in counts.items() if k > 1)
            if twice:
                raise ValueError(f"variant names must differ, they label results: {twice}")
        return self

    @property
    def kind(self) -> Literal["variants", "sweep", "sensitivity"]:
        if self.sensitivity is not None:
            return "sensitivity"
        return "variants" if self.variants is not None else "sweep"


@dataclass(frozen=True, kw_only=True)
class Experiment:
    """An experiment file resolved into scenarios: the base and one per variant or sweep point.

    ``points`` holds, for a sweep, each point's key values in the order of ``scenarios``
    (``{"policies.activities_per_call": 3}``); for variants, each variant's ``set``; for a
    sensitivity run, each lever setting's one key. ``levers`` (a sensitivity run only) says which
    scenarios are each lever's low and high settings. All scenarios share ``replications`` and
    ``seed`` (common random numbers).

    A sweep point that is the base itself (its values are the base's) is not run twice: it is
    left out of ``scenarios`` and ``points``, and ``base_at`` says where it stands in the grid
    (``base_point`` its values); ``grid`` lists every point with the scenario that holds it.
    """

    spec: ExperimentSpec
    file: str
    overrides: tuple[str, ...]
    base: Scenario
    scenarios: tuple[Scenario, ...]
    points: tuple[dict[str, Any], ...]
    replications: int
    seed: int
    levers: tuple[LeverRun, ...] = ()
    base_at: int | None = None
    base_point: dict[str, Any] | None = None

    @property
    def grid(self) -> tuple[tuple[dict[str, Any], str], ...]:
        """Every point in the file's order, with the name of the scenario that holds its
        results: the base's for the point that is the base."""
        rows = [(point, s.name) for point, s in zip(self.points, self.scenarios, strict=True)]
        if self.base_at is not None and self.base_point is not None:
            rows.insert(self.base_at, (self.base_point, self.base.name))
        return tuple(rows)

    @property
    def point_names(self) -> tuple[str, ...]:
        """The scenario of each point of ``grid``, in order."""
        return tuple(name for _, name in self.grid)

    @property
    def kind(self) -> Literal["variants", "sweep", "sensitivity"]:
        return self.spec.kind

    def precision_targets(self) -> PrecisionTargets:
        """The file's ``[precision]`` targets, or relative 0.05 on every metric without one."""
        if self.spec.precision is None:
            return PrecisionTargets()
        return self.spec.precision.targets()

    @property
    def sweep_keys(self) -> tuple[str, ...]:
        return tuple(k.key for k in self.spec.sweep.keys) if self.spec.sweep else ()


def load_experiment(
    path: str | os.PathLike[str],
    overrides: Sequence[str] = (),
    *,
    replications: int | None = None,
    seed: int | None = None,
) -> Experiment:
    """Read, validate and resolve an experiment file; raise ``ScenarioError`` listing problems.

    ``overrides`` (``--set`` strings) apply to the base and every variant or point, after the
    file's own top-level ``set`` and before each variant's or point's. ``replications`` and
    ``seed`` replace the file's (and the base's).
    """
    display = os.fspath(path)
    data = read_toml(Path(path), display, kind="experiment file")
    both = []
    if "variants" in data and "sweep" in data:  # said even when other keys are wrong too
        both = [Problem(display, "sweep", None, _BOTH)]
    if "sensitivity" in data and ("variants" in data or "sweep" in data):
        both = [Problem(display, "sensitivity", None, _ONE)]
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as err:
        problems = [p for p in _problems(err, data, display) if p.message not in (_BOTH, _ONE)]
        raise ScenarioError(both + problems) from None
    base_path = Path(path).parent / spec.base
    base_display = os.path.normpath(os.path.join(os.path.dirname(display), spec.base))
    if (why := not_toml(base_path, base_display)) is not None:
        raise ScenarioError([Problem(display, "base", spec.base, why)])
    if not base_path.is_file():
        msg = f"no such scenario file: {base_display} (relative to the experiment's folder)"
        raise ScenarioError([Problem(display, "base", spec.base, msg)])
    common = _override_texts(spec.set)
    labels = {text: f"set.{json.dumps(key)}" for key, text in zip(spec.set, common, strict=True)}
    first = [*common, *overrides]
    base = _load(base_path, display, first, labels)
    problems = _metric_problems(spec.metrics, base, display)
    if spec.precision is not None:
        problems += _precision_problems(spec.precision, spec.metrics, base, display)
    if spec.sweep is not None:
        problems += _sweep_value_problems(spec.sweep, base_path, display, first)
        if problems:
            raise ScenarioError(problems)
    levers: tuple[LeverRun, ...] = ()
    changes: Iterable[tuple[dict[str, Any], str, list[str]]]
    if spec.sensitivity is not None:
        changes, levers, lever_problems = _lever_changes(spec.sensitivity, base, display)
        problems += lever_problems
        if problems:
            raise ScenarioError(problems)
    else:
        changes = _changes(spec)
    scenarios, points = [], []
    base_at, base_point = None, None
    at_base = _base_values(spec, base)
    for index, (change, name, where) in enumerate(changes):
        texts = _override_texts(change)
        labels = dict(zip(texts, where, strict=True))
        try:
            scenario = _load(base_path, display, [*first, *texts], labels)
        except ScenarioError as err:
            problems.extend(err.problems)
            continue
        if base_at is None and _is_base(change, at_base, scenario, base):
            base_at, base_point = index, change  # the base itself: run once, as the base
            continue
        scenarios.append(scenario.model_copy(update={"name": name}))
        points.append(change)
    if not problems and base.name in {s.name for s in scenarios}:
        what = spec.kind
        problems.append(Problem(display, what, base.name, "a name equals the base's name"))
    if problems:
        raise ScenarioError(problems)
    reps = replications or spec.replications or base.run.replications
    if seed is None:
        seed = base.run.seed if spec.seed is None else spec.seed
    return Experiment(
        spec=spec,
        file=display,
        overrides=tuple(overrides),
        base=base,
        scenarios=tuple(scenarios),
        points=tuple(points),
        replications=reps,
        seed=seed,
        levers=levers,
        base_at=base_at,
        base_point=base_point,
    )


def _base_values(spec: ExperimentSpec, base: Scenario) -> dict[str, Any] | None:
    """The base's values at a sweep's keys (``None`` unless it is a sweep, or a key is not
    in the base as such)."""
    if spec.sweep is None:
        return None
    try:
        return {k.key: base_value(base, k.key) for k in spec.sweep.keys}
    except KeyError:
        return None


def _is_base(
    change: dict[str, Any], at_base: dict[str, Any] | None, scenario: Scenario, base: Scenario
) -> bool:
    """Whether a sweep point is the base: its values are the base's, and so is the scenario."""
    if at_base is None or any(
        type(at_base.get(k)) is not type(v) or at_base.get(k) != v for k, v in change.items()
    ):
        return False
    return scenario.model_copy(update={"name": base.name}) == base


def toml_literal(value: Any) -> str:
    """A value written as TOML, so that ``--set key=<this>`` reads it back unchanged."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return (
            ("nan" if math.isnan(value) else "inf" if value > 0 else "-inf")
            if (not math.isfinite(value))
            else repr(value)
        )
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))} = {toml_literal(v)}" for k, v in value.items())
        return "{ " + ", ".join(items) + " }"
    raise TypeError(f"cannot write {value!r} as a TOML value")


# --- helpers ------------------------------------------------------------------------------------


def _problems(err: ValidationError, data: dict[str, Any], file: str) -> list[Problem]:
    """Pydantic's errors as problems on the file's key paths (variants named)."""
    problems = []
    for error in err.errors(include_url=False):
        steps = [s for s in error["loc"] if not (isinstance(s, str) and "[" in s)]
        names = {}
        node: Any = data
        for pos, step in enumerate(steps):
            if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
                node = node[step]
                if isinstance(node, dict) and isinstance(node.get("name"), str):
                    names[pos] = node["name"]
            else:
                node = node.get(step) if isinstance(node, dict) else None
        kind = error["type"]
        value = error.get("input")
        if kind in ("missing", "extra_forbidden") or isinstance(value, dict | list) or not steps:
            value = None
        problems.append(
            Problem(file, render_path(steps, names), value, _message(kind, error, steps))
        )
    return problems


def _message(kind: str, error: Any, steps: Sequence[str | int]) -> str:
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        known = _known_keys(steps[:-1])
        close = difflib.get_close_matches(str(steps[-1]), known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys here: {', '.join(known)}"
        return f"unknown key; {hint}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "must be a table"
    if kind == "list_type":
        return "must be an array"
    msg: str = error["msg"]
    return msg.removeprefix("Value error, ")


def _known_keys(steps: Sequence[str | int]) -> list[str]:
    keys = [s for s in steps if isinstance(s, str)]
    model: type[BaseModel] = ExperimentSpec
    if keys[:1] == ["variants"]:
        model = Variant
    elif keys[:1] == ["precision"]:
        model = Precision
    elif keys[:1] == ["sweep"]:
        model = SweepKey if keys[1:2] == ["keys"] else Sweep
    elif keys[:1] == ["sensitivity"]:
        model = Lever if keys[1:2] == ["levers"] else Sensitivity
    return sorted(model.model_fields)


def _override_texts(change: dict[str, Any]) -> list[str]:
    return [f"{key}={toml_literal(value)}" for key, value in change.items()]


def _load(path: Path, file: str, overrides: list[str], labels: dict[str, str]) -> Scenario:
    """Load the base with ``overrides``; problems of ``labels``' overrides point at the file."""
    try:
        return load_scenario(path, overrides)
    except ScenarioError as err:
        raise ScenarioError([_relabel(p, file, labels) for p in err.problems]) from None


def _relabel(problem: Problem, file: str, labels: dict[str, str]) -> Problem:
    text = problem.file.removeprefix("--set ")
    if problem.file == text or text not in labels:
        return problem
    key = text.partition("=")[0]
    message = problem.message
    if problem.key_path and problem.key_path != key:
        message = f"{problem.key_path}: {message}"
    return Problem(file, labels[text], problem.value, message)


def _metric_problems(metrics: Sequence[str], base: Scenario, file: str) -> list[Problem]:
    known = catalogue_for(base)
    problems = []
    for i, name in enumerate(metrics):
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else "see `simsales reference`"
            problems.append(Problem(file, f"metrics[{i}]", name, f"unknown metric; {hint}"))
    if len(set(metrics)) < len(metrics):
        problems.append(Problem(file, "metrics", None, "a metric is listed twice"))
    return problems


def _precision_problems(
    precision: Precision, metrics: Sequence[str], base: Scenario, file: str
) -> list[Problem]:
    """``[precision.absolute]`` may only name metrics the experiment reports."""
    known = catalogue_for(base)
    problems = []
    for name in precision.absolute:
        where = f"precision.absolute.{name}"
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else "see `simsales reference`"
            problems.append(Problem(file, where, None, f"unknown metric; {hint}"))
        elif name not in metrics:
            msg = "not one of the experiment's metrics; add it to `metrics` or drop the target"
            problems.append(Problem(file, where, None, msg))
    return problems


def _changes(spec: ExperimentSpec) -> Iterator[tuple[dict[str, Any], str, list[str]]]:
    """Each variant or sweep point, one at a time: its overrides, scenario name, and each
    override's key path. The grid is walked, never built."""
    if spec.variants is not None:
        for i, v in enumerate(spec.variants):
            at = render_path(("variants", i), {1: v.name})
            yield dict(v.set), v.name, [f"{at}.set.{json.dumps(k)}" for k in v.set]
        return
    assert spec.sweep is not None
    keys = spec.sweep.keys
    labels = key_labels([k.key for k in keys])
    for combo in itertools.product(*(enumerate(k.values) for k in keys)):
        change = {k.key: value for k, (_, value) in zip(keys, combo, strict=True)}
        where = [f"sweep.keys[{i}].values[{j}]" for i, (j, _) in enumerate(combo)]
        if len(where) > 1:  # a problem of the combination: name both values
            where = [" × ".join(where)] * len(where)
        name = ", ".join(
            f"{label}={_shown(value)}" for label, (_, value) in zip(labels, combo, strict=True)
        )
        yield change, name, where


def _lever_changes(
    sensitivity: Sensitivity, base: Scenario, file: str
) -> tuple[list[tuple[dict[str, Any], str, list[str]]], tuple[LeverRun, ...], list[Problem]]:
    """Each lever's low and high settings as changes (overrides, scenario name, key path), the
    levers as run, and the problems of levers whose settings cannot be worked out."""
    leaves = key_labels([lever.key for lever in sensitivity.levers])
    changes, runs, problems = [], [], []
    for i, lever in enumerate(sensitivity.levers):
        where = f"sensitivity.levers[{i}]"
        label = leaves[i]
        try:
            value = base_value(base, lever.key)
            low, high = lever_settings(lever, value)
        except KeyError as err:
            problems.append(Problem(file, f"{where}.key", lever.key, str(err.args[0])))
            continue
        except ValueError as err:
            problems.append(Problem(file, where, None, str(err)))
            continue
        named = {}
        for side, setting in (("low", low), ("high", high)):
            if setting is None:
                continue
            given = side if lever.step is None and lever.factor is None else None
            path = f"{where}.{given or ('step' if lever.step is not None else 'factor')}"
            name = f"{label}={_shown(setting)}"
            named[side] = name
            changes.append(({lever.key: setting}, name, [path]))
        runs.append(
            LeverRun(
                key=lever.key,
                label=label,
                base=value,
                low=low,
                high=high,
                low_name=named.get("low"),
                high_name=named.get("high"),
            )
        )
    return changes, tuple(runs), problems


def _sweep_value_problems(
    sweep: Sweep, base_path: Path, file: str, first: list[str]
) -> list[Problem]:
    """Check each swept value alone; a key every value of which fails the same way is reported
    once, at the key (a misspelt key path), not once per value."""
    problems = []
    for i, swept in enumerate(sweep.keys):
        found: list[Problem] = []
        for j, value in enumerate(swept.values):
            text = f"{swept.key}={toml_literal(value)}"
            try:
                _load(base_path, file, [*first, text], {text: f"sweep.keys[{i}].values[{j}]"})
            except ScenarioError as err:
                found.extend(err.problems)
        messages = {p.message for p in found}
        if len(found) == len(swept.values) > 1 and len(messages) == 1:
            problems.append(Problem(file, f"sweep.keys[{i}].key", swept.key, messages.pop()))
        else:
            problems.extend(found)
    return problems


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else format_value(value)


def key_labels(keys: Sequence[str]) -> list[str]:
    """Short labels for scenario keys: the shortest dotted tails that tell them apart.

    ``stages.close.p_right`` and ``accounts.onboarding.p_right`` become ``close.p_right`` and
    ``onboarding.p_right``; keys whose last parts already differ keep only the last part.
    """
    parts = [k.split(".") for k in keys]
    depth = 1
    while True:
        labels = [".".join(p[-depth:]) for p in parts]
        if len(set(labels)) == len(labels) or depth >= max((len(p) for p in parts), default=1):
            return labels
        depth += 1
