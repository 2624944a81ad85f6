"""The class file (``class.toml``): the market, the levers teams may pull, the score, the teams.

One TOML file in the class folder says everything an instructor decides before the class:

- ``market``: the scenario every team starts from (a file beside ``class.toml``), and the
  ``replications`` and ``seed`` every round runs with (common random numbers: replication r of
  every team draws the same suspects, buyers and dice);
- ``budget``: what a team may spend each round, in the market's currency;
- ``[[levers]]``: what a team may change, each with the values it may take (in order, from the
  first "level" to the last) and a cost per level raised (``cost_up``) or lowered
  (``cost_down``). A lever either sets one scenario key (``key``) or adds to several per level
  (``effects``: training raises every stage's ``p_right`` and takes working time);
- ``[score]``: a weighted sum of metrics of the catalogue (``simsales.results.catalogue``),
  higher is better;
- ``[[teams]]``: each team's id (its file names), name and token (its login on the web page),
  and the instructor's token.

Validated like a scenario (frozen, strict, unknown keys refused), and every problem reported at
once with its key path (``levers[2] (training).effects[0].key``); ``load_class`` then checks
what needs the market too: the keys exist, the market's value is one of a lever's values, the
metrics exist.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from simsales.scenario import Problem, Scenario, ScenarioError, load_scenario
from simsales.scenario.errors import format_value, render_path
from simsales.scenario.loading import not_toml, read_toml
from simsales.scenario.text import PlainText

__all__ = [
    "CLASS_FILE",
    "ClassSpec",
    "Classroom",
    "Effect",
    "Lever",
    "Score",
    "ScoreTerm",
    "Team",
    "load_class",
]

#: The class file's name inside the class folder.
CLASS_FILE = "class.toml"
#: A wildcard step in an effect's key: every stage (``stages.*.p_right``).
EVERY = "*"
#: The base's name in results: a team id can never be it.
BASE = "base"

Number = int | float

_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
_LEVER_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _team_id(text: str) -> str:
    if not _ID.fullmatch(text):
        raise ValueError(
            "a team id is 1 to 32 lower-case letters, digits and '-', starting with a letter or "
            "digit: it names the team's files (decisions/<id>.toml)"
        )
    if text == BASE:
        raise ValueError(f"{BASE!r} is the unchanged market's name in the results")
    return text


def _lever_name(text: str) -> str:
    if not _LEVER_NAME.fullmatch(text):
        raise ValueError(
            "a lever name is 1 to 40 lower-case letters, digits and '_', starting with a letter: "
            "it is the key in decision files"
        )
    return text


def _token(text: str) -> str:
    if len(text) < 16 or not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise ValueError(
            "a token is at least 16 letters, digits, '-' or '_' (class init makes them): it is "
            "a password, and a short one is guessed"
        )
    return text


TeamId = Annotated[str, AfterValidator(_team_id)]
LeverName = Annotated[str, AfterValidator(_lever_name)]
Token = Annotated[str, AfterValidator(_token)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


class Effect(_Frozen):
    """What one level of a lever adds to one scenario key (``stages.*.p_right``: every stage)."""

    key: PlainText = Field(min_length=1, description="A scenario key path, as given to --set.")
    add: float = Field(description="Added to the market's value per level of the lever.")
    at_most: float | None = Field(None, description="The sum is capped here.")
    at_least: float | None = Field(None, description="The sum is kept at least here.")


class Lever(_Frozen):
    """One thing a team may change, the values it may take, and what a change costs."""

    name: LeverName = Field(description="The lever's key in decision files, e.g. sellers.")
    label: PlainText = Field(min_length=1, description="What the lever is, for the teams.")
    key: PlainText | None = Field(
        None, description="The scenario key the lever sets (its value is the key's value)."
    )
    effects: list[Effect] | None = Field(
        None,
        min_length=1,
        max_length=20,
        description="Instead of key: what each level adds to scenario keys (a lever starting "
        "at its first value, usually 0).",
    )
    values: list[Number] = Field(
        min_length=2,
        max_length=100,
        description="The values a team may choose, in order of level (the first is level 0): "
        "raising the level costs cost_up per level, lowering it cost_down.",
    )
    cost_up: float = Field(0.0, ge=0, description="Cost of each level raised, in currency.")
    cost_down: float = Field(0.0, ge=0, description="Cost of each level lowered, in currency.")
    teaches: PlainText = Field("", description="What the lever teaches, in a line or two.")

    @model_validator(mode="after")
    def _one_way(self) -> Lever:
        if (self.key is None) == (self.effects is None):
            raise ValueError("give either key (the lever sets it) or effects (added per level)")
        shown = [format_value(v) for v in self.values]
        twice = sorted({v for v in shown if shown.count(v) > 1})
        if twice:
            raise ValueError(f"values must differ; repeated: {', '.join(twice)}")
        if any(isinstance(v, bool) for v in self.values):
            raise ValueError("values are numbers, not true or false")
        return self

    def level(self, value: Number) -> int:
        """The level of ``value`` (its index in ``values``); ``ValueError`` if not one."""
        for i, allowed in enumerate(self.values):
            if math.isclose(allowed, value, rel_tol=1e-9, abs_tol=1e-12):
                return i
        raise ValueError(f"must be one of {', '.join(format_value(v) for v in self.values)}")

    def cost(self, before: Number, after: Number) -> float:
        """What moving from ``before`` to ``after`` costs (both allowed values)."""
        steps = self.level(after) - self.level(before)
        return steps * self.cost_up if steps > 0 else -steps * self.cost_down

    @property
    def start(self) -> Number | None:
        """The value an ``effects`` lever starts at (its first), or None for a ``key`` lever
        (it starts at the market's value)."""
        return self.values[0] if self.effects is not None else None


class ScoreTerm(_Frozen):
    """One metric of the score and its weight (points per unit of the metric)."""

    metric: PlainText = Field(min_length=1, description="A metric name from the catalogue.")
    weight: float = Field(
        description="Points per unit of the metric (shares count 0..1, days, currency); "
        "negative where lower is better."
    )

    @model_validator(mode="after")
    def _weighs(self) -> ScoreTerm:
        if self.weight == 0:
            raise ValueError("a weight of 0 leaves the metric out: drop the term instead")
        return self


class Score(_Frozen):
    """The score of a team: Σ weight × metric, per replication; higher is better."""

    label: PlainText = Field(min_length=1, description="What the score is, for the teams.")
    terms: list[ScoreTerm] = Field(min_length=1, max_length=10)


class Team(_Frozen):
    """A team: its id (file names), its name (shown) and its token (its web login)."""

    id: TeamId = Field(
        description="1 to 32 lower-case letters, digits and '-', starting with a letter or a "
        "digit, not 'base': it names the team's files (decisions/<id>.toml)."
    )
    name: PlainText = Field(min_length=1, max_length=60, description="The team, as pages show it.")
    token: Token = Field(
        description="The team's password for the web page: at least 16 letters, digits, '-' or "
        "'_' (class init makes them)."
    )


class ClassSpec(_Frozen):
    """A class file: its market, the replications and seed of every round, the budget, the
    score, the levers and the teams. (Validated without the market: see ``load_class``.)"""

    name: PlainText = Field(min_length=1, description="The class, as pages show it.")
    market: PlainText = Field(
        "market.toml", description="The market scenario file, beside class.toml."
    )
    replications: int = Field(
        10, ge=2, le=1000, description="Replications of every round (at least 2: intervals)."
    )
    seed: int = Field(ge=0, description="Root seed of every round: the same dice each round.")
    budget: float = Field(ge=0, description="What each team may spend a round, in currency.")
    instructor_token: Token = Field(
        description="The instructor's password for the web page (closes rounds): at least 16 "
        "letters, digits, '-' or '_'."
    )
    score: Score
    levers: list[Lever] = Field(min_length=1, max_length=30)
    teams: list[Team] = Field(min_length=1, max_length=60)

    @model_validator(mode="after")
    def _distinct(self) -> ClassSpec:
        problems = []
        for what, items in (
            ("lever names", [lever.name for lever in self.levers]),
            ("team ids", [t.id for t in self.teams]),
            ("team names", [t.name for t in self.teams]),
            ("tokens", [t.token for t in self.teams] + [self.instructor_token]),
        ):
            twice = sorted(k for k, n in Counter(items).items() if n > 1)
            if twice:
                shown = "(not shown)" if what == "tokens" else ", ".join(twice)
                problems.append(f"{what} must differ; repeated: {shown}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def team(self, team_id: str) -> Team:
        """The team of that id (``KeyError`` if none)."""
        for team in self.teams:
            if team.id == team_id:
                return team
        raise KeyError(team_id)

    def lever(self, name: str) -> Lever:
        """The lever of that name (``KeyError`` if none)."""
        for lever in self.levers:
            if lever.name == name:
                return lever
        raise KeyError(name)


@dataclass(frozen=True, kw_only=True)
class Classroom:
    """A loaded class: its folder, its validated file, the market as a scenario, and each
    lever's starting value (the market's for a ``key`` lever, the first value otherwise)."""

    folder: Path
    spec: ClassSpec
    market_file: Path
    market: Scenario
    start: dict[str, Number]

    @property
    def currency(self) -> str:
        return self.market.currency


def load_class(folder: str | os.PathLike[str]) -> Classroom:
    """Read and check ``folder/class.toml`` and its market; ``ScenarioError`` lists every
    problem, each with the file and key path."""
    root = Path(folder)
    path = root / CLASS_FILE
    display = os.fspath(path)
    if not root.is_dir():
        raise ScenarioError([Problem(os.fspath(root), "", None, "no such class folder")])
    data = read_toml(path, display, kind="class file")
    try:
        spec = ClassSpec.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(class_problems(err, data, display)) from None
    market_file = root / spec.market
    if (why := not_toml(market_file, os.fspath(market_file))) is not None:
        raise ScenarioError([Problem(display, "market", spec.market, why)])
    if market_file.resolve().parent != root.resolve():
        msg = "the market file must be in the class folder, beside class.toml"
        raise ScenarioError([Problem(display, "market", spec.market, msg)])
    market = load_scenario(market_file)
    problems = _metric_problems(spec, market, display)
    start: dict[str, Number] = {}
    for i, lever in enumerate(spec.levers):
        where = render_path(("levers", i), {1: lever.name})
        found = _lever_problems(lever, market, display, where)
        problems += found
        if not found:
            start[lever.name] = lever.start if lever.start is not None else _value(market, lever)
    problems += _overlap_problems(spec, market, display)
    if problems:
        raise ScenarioError(problems)
    return Classroom(folder=root, spec=spec, market_file=market_file, market=market, start=start)


def _value(market: Scenario, lever: Lever) -> Number:
    from simsales.experiment.sensitivity import base_value

    assert lever.key is not None
    value: Number = base_value(market, lever.key)
    return lever.values[lever.level(value)]  # as the class file writes it (0, not 0.0)


def expand_key(key: str, market: Scenario) -> list[str]:
    """``stages.*.p_right`` as ``stages[0].p_right``, ``stages[1].p_right``, ...; other keys
    as they are."""
    head, star, tail = key.partition(f".{EVERY}.")
    if not star:
        return [key]
    if head != "stages":
        raise ValueError(f"'{EVERY}' stands for every stage: stages.{EVERY}.<key>")
    return [f"stages[{i}].{tail}" for i in range(len(market.stages))]


def _lever_problems(lever: Lever, market: Scenario, file: str, where: str) -> list[Problem]:
    """What is wrong with a lever given the market: a key it does not have, a value that is
    not a number there, the market's value not among the lever's values."""
    from simsales.experiment.sensitivity import base_value

    if lever.key is not None:
        try:
            value = base_value(market, lever.key)
        except KeyError as err:
            return [Problem(file, f"{where}.key", lever.key, str(err.args[0]))]
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = f"the market's value there is {format_value(value)}, not a number"
            return [Problem(file, f"{where}.key", lever.key, msg)]
        try:
            lever.level(value)
        except ValueError:
            msg = (
                f"the market's value, {format_value(value)}, is not one of them: a team starts "
                "there, so it must be a value it may keep"
            )
            return [Problem(file, f"{where}.values", None, msg)]
        if isinstance(value, int) and any(isinstance(v, float) for v in lever.values):
            msg = f"{lever.key} is a whole number: every value must be one"
            return [Problem(file, f"{where}.values", None, msg)]
        return []
    problems = []
    assert lever.effects is not None
    for j, effect in enumerate(lever.effects):
        try:
            keys = expand_key(effect.key, market)
            values = [base_value(market, k) for k in keys]
        except (KeyError, ValueError) as err:
            problems.append(Problem(file, f"{where}.effects[{j}].key", effect.key, str(err)))
            continue
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
            msg = "the market's value there is not a number: an effect adds to a number"
            problems.append(Problem(file, f"{where}.effects[{j}].key", effect.key, msg))
    return problems


def _overlap_problems(spec: ClassSpec, market: Scenario, file: str) -> list[Problem]:
    """Two levers may not change the same scenario key: the second would undo the first."""
    seen: dict[str, str] = {}
    problems = []
    for i, lever in enumerate(spec.levers):
        keys = [lever.key] if lever.key else [e.key for e in lever.effects or ()]
        for key in keys:
            try:
                expanded = expand_key(key, market)
            except ValueError:
                continue  # reported with the lever
            for one in expanded:
                if one in seen and seen[one] != lever.name:
                    msg = f"{one} is changed by lever {seen[one]!r} too: one lever per key"
                    where = render_path(("levers", i), {1: lever.name})
                    problems.append(Problem(file, where, None, msg))
                seen[one] = lever.name
    return problems


def _metric_problems(spec: ClassSpec, market: Scenario, file: str) -> list[Problem]:
    from simsales.results import catalogue_for

    known = catalogue_for(market)
    problems = []
    for i, term in enumerate(spec.score.terms):
        where = f"score.terms[{i}].metric"
        record = known.get(term.metric)
        if record is None:
            close = difflib.get_close_matches(term.metric, known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else "see `simsales reference`"
            problems.append(Problem(file, where, term.metric, f"unknown metric; {hint}"))
        elif record.better == "higher" and term.weight < 0:
            msg = f"{term.metric} is better higher: give it a positive weight (higher scores win)"
            problems.append(Problem(file, f"score.terms[{i}].weight", term.weight, msg))
        elif record.better == "lower" and term.weight > 0:
            msg = f"{term.metric} is better lower: give it a negative weight (higher scores win)"
            problems.append(Problem(file, f"score.terms[{i}].weight", term.weight, msg))
    return problems


def class_problems(err: ValidationError, data: dict[str, Any], file: str) -> list[Problem]:
    """Pydantic's errors as problems on the class file's key paths (levers and teams named)."""
    problems = []
    for error in err.errors(include_url=False):
        steps = [s for s in error["loc"] if not (isinstance(s, str) and "[" in s)]
        names: dict[int, str] = {}
        node: Any = data
        for pos, step in enumerate(steps):
            if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
                node = node[step]
                label = node.get("name", node.get("id")) if isinstance(node, dict) else None
                if isinstance(label, str):
                    names[pos] = label
            else:
                node = node.get(step) if isinstance(node, dict) else None
        kind = error["type"]
        value = error.get("input")
        secret = any(s in ("token", "instructor_token") for s in steps if isinstance(s, str))
        if kind in ("missing", "extra_forbidden") or isinstance(value, dict | list) or secret:
            value = None
        problems.append(Problem(file, render_path(steps, names), value, _message(error, steps)))
    return problems


def _message(error: Any, steps: Sequence[str | int]) -> str:
    kind = error["type"]
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
    model: type[BaseModel] = ClassSpec
    if keys[:1] == ["levers"]:
        model = Effect if keys[1:2] == ["effects"] else Lever
    elif keys[:1] == ["score"]:
        model = ScoreTerm if keys[1:2] == ["terms"] else Score
    elif keys[:1] == ["teams"]:
        model = Team
    return sorted(model.model_fields)
