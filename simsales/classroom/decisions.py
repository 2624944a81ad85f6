"""A team's decision: the levers it sets for a round, checked, costed and applied to its market.

A decision file is small TOML, one per team, ``decisions/<team id>.toml``::

    team = "red"
    round = 2            # optional: if given, it must be the round being run
    [levers]
    activities_per_call = 3
    sellers = 9

Each lever takes one of the values the class file allows; a lever left out keeps its current
value, and a team with no file keeps its whole market. A decision's values are where the team
wants to be, not steps: a file left from an earlier round changes nothing and costs nothing.

A team's market is always the class's market with the team's lever values applied
(``team_market``): a ``key`` lever sets its key, an ``effects`` lever adds ``add × value`` to
each of its keys. So round 2 starts from round 1's values, and a change costs the levels it
moves from the team's current values (``Lever.cost``), against each round's budget.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simsales.classroom.spec import (
    BASE,
    Classroom,
    Lever,
    Number,
    Team,
    TeamId,
    class_problems,
    expand_key,
)
from simsales.scenario import Problem, Scenario, ScenarioError, load_scenario
from simsales.scenario.errors import format_value
from simsales.scenario.loading import read_toml

__all__ = [
    "DECISIONS",
    "Change",
    "CheckedDecision",
    "check_decision",
    "check_values",
    "decision_path",
    "decision_text",
    "market_overrides",
    "money",
    "team_market",
]

#: The folder of the current round's decisions, inside the class folder.
DECISIONS = "decisions"


def money(amount: float, currency: str) -> str:
    """``12,500 EUR``: an amount as the class pages write it."""
    return f"{amount:,.0f} {currency}"


class _Decision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    team: TeamId
    round: Annotated[int, Field(ge=1)] | None = None
    levers: dict[str, int | float] = Field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Change:
    """One lever moved this round: from ``before`` to ``after``, at ``cost``."""

    lever: str
    label: str
    before: Number
    after: Number
    cost: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "lever": self.lever,
            "label": self.label,
            "before": self.before,
            "after": self.after,
            "cost": self.cost,
        }


@dataclass(frozen=True, kw_only=True)
class CheckedDecision:
    """A team's decision for a round, checked: its lever values after the round, the changes
    with their costs, and the text of its file (``""`` with none)."""

    team: Team
    values: dict[str, Number]
    changes: tuple[Change, ...]
    text: str = ""

    @property
    def cost(self) -> float:
        return sum(c.cost for c in self.changes)


def decision_path(classroom: Classroom, team_id: str) -> Path:
    """Where a team's decision for the coming round is kept."""
    return classroom.folder / DECISIONS / f"{team_id}.toml"


def check_decision(
    classroom: Classroom, team: Team, current: Mapping[str, Number], round_number: int
) -> CheckedDecision:
    """Read and check the team's decision file (if any) against its ``current`` values; raise
    ``ScenarioError`` with every problem (file and key path named)."""
    path = decision_path(classroom, team.id)
    if not path.exists():
        return CheckedDecision(team=team, values=dict(current), changes=())
    display = os.fspath(path)
    text = path.read_text("utf-8") if path.is_file() else ""
    data = read_toml(path, display, kind="decision file")
    try:
        decision = _Decision.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(class_problems(err, data, display)) from None
    problems = []
    if decision.team != team.id:
        msg = f"this is {team.id}'s file (decisions/{team.id}.toml), not {decision.team}'s"
        problems.append(Problem(display, "team", decision.team, msg))
    if decision.round is not None and decision.round != round_number:
        msg = f"the decision is for round {decision.round}, and round {round_number} is next"
        problems.append(Problem(display, "round", decision.round, msg))
    if problems:
        raise ScenarioError(problems)
    checked = check_values(classroom, team, current, decision.levers, file=display)
    return CheckedDecision(team=team, values=checked.values, changes=checked.changes, text=text)


def check_values(
    classroom: Classroom,
    team: Team,
    current: Mapping[str, Number],
    wanted: Mapping[str, Any],
    *,
    file: str,
) -> CheckedDecision:
    """Check the lever values a team wants (from a file or a form): known levers, allowed
    values, within the budget, and a valid market; ``ScenarioError`` lists every problem,
    each at ``levers.<name>`` of ``file``."""
    spec = classroom.spec
    problems = []
    values = dict(current)
    for name, value in wanted.items():
        where = f"levers.{name}"
        try:
            lever = spec.lever(name)
        except KeyError:
            known = ", ".join(lever.name for lever in spec.levers)
            problems.append(Problem(file, where, None, f"unknown lever; the levers: {known}"))
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(Problem(file, where, value, "must be a number"))
            continue
        try:
            lever.level(value)
        except ValueError as err:
            problems.append(Problem(file, where, value, str(err)))
            continue
        values[name] = lever.values[lever.level(value)]
    if problems:
        raise ScenarioError(problems)
    changes = tuple(
        Change(
            lever=lever.name,
            label=lever.label,
            before=current[lever.name],
            after=values[lever.name],
            cost=lever.cost(current[lever.name], values[lever.name]),
        )
        for lever in spec.levers
        if lever.level(values[lever.name]) != lever.level(current[lever.name])
    )
    cost = sum(c.cost for c in changes)
    if cost > spec.budget + 1e-9:
        currency = classroom.currency
        parts = "; ".join(f"{c.lever} → {format_value(c.after)}: {c.cost:,.0f}" for c in changes)
        msg = (
            f"the changes cost {money(cost, currency)}, {money(cost - spec.budget, currency)} "
            f"over the round's budget of {money(spec.budget, currency)} ({parts})"
        )
        raise ScenarioError([Problem(file, "levers", None, msg)])
    team_market(classroom, values, name=team.id, file=file)  # raises if the market is invalid
    return CheckedDecision(team=team, values=values, changes=changes)


def market_overrides(classroom: Classroom, values: Mapping[str, Number]) -> dict[str, str]:
    """The ``--set`` texts that turn the market into the one with these lever values, each
    with the lever that wrote it."""
    from simsales.experiment.sensitivity import base_value
    from simsales.experiment.spec import toml_literal

    market = classroom.market
    out: dict[str, str] = {}
    for lever in classroom.spec.levers:
        value = values[lever.name]
        if lever.key is not None:
            if lever.level(value) != lever.level(classroom.start[lever.name]):
                out[f"{lever.key}={toml_literal(value)}"] = lever.name
            continue
        if value == 0:
            continue
        for effect in lever.effects or ():
            for key in expand_key(effect.key, market):
                old = base_value(market, key)
                new = old + effect.add * value
                # a cap never takes a value below where the market has it (nor a floor above)
                if effect.at_most is not None:
                    new = min(new, max(effect.at_most, old))
                if effect.at_least is not None:
                    new = max(new, min(effect.at_least, old))
                new = round(new) if isinstance(old, int) else round(new, 10)
                if new != old:
                    out[f"{key}={toml_literal(new)}"] = lever.name
    return out


def team_market(
    classroom: Classroom, values: Mapping[str, Number], *, name: str, file: str = ""
) -> Scenario:
    """The market with the lever values applied, named ``name``; a market the values make
    invalid raises ``ScenarioError`` at ``file``'s ``levers.<lever>``."""
    overrides = market_overrides(classroom, values)
    texts = [*overrides, f"name={_quoted(name)}"]
    try:
        return load_scenario(classroom.market_file, texts)
    except ScenarioError as err:
        problems = []
        for p in err.problems:
            lever = overrides.get(p.file.removeprefix("--set "))
            if lever is None or not file:
                problems.append(p)
                continue
            said = f"{p.key_path}: {p.message}" if p.key_path else p.message
            msg = f"with this value the market is not valid: {said}"
            problems.append(Problem(file, f"levers.{lever}", values[lever], msg))
        raise ScenarioError(problems) from None


def base_market(classroom: Classroom) -> Scenario:
    """The class's market, unchanged, named ``base`` (as results name it)."""
    return load_scenario(classroom.market_file, [f"name={_quoted(BASE)}"])


def _quoted(text: str) -> str:
    from simsales.experiment.spec import toml_literal

    return toml_literal(text)


def decision_text(
    classroom: Classroom,
    team: Team,
    values: Mapping[str, Number],
    *,
    round_number: int,
    current: Mapping[str, Number] | None = None,
) -> str:
    """A decision file (the template when ``values`` are the current ones): each lever with
    its label, allowed values and costs in a comment."""
    from simsales.experiment.spec import toml_literal

    spec = classroom.spec
    currency = classroom.currency
    lines = [
        f"# Decision of team {team.name} ({team.id}) for round {round_number} of",
        f"# {spec.name} (simsales class).",
        f"# Save it as decisions/{team.id}.toml in the class folder. Each lever takes one of the",
        "# values listed; a lever left out keeps its current value. What a change costs is",
        "# counted from your current value, against the round's budget of "
        f"{money(spec.budget, currency)}.",
        f"team = {toml_literal(team.id)}",
        f"round = {round_number}",
        "",
        "[levers]",
    ]
    for lever in spec.levers:
        now = (current or values)[lever.name]
        allowed = ", ".join(format_value(v) for v in lever.values)
        costs = _cost_words(lever, currency)
        lines.append(f"# {_one_line(lever.label)}: one of {allowed}; now {format_value(now)}.")
        if costs:
            lines.append(f"# {costs}")
        lines.append(f"{lever.name} = {toml_literal(values[lever.name])}")
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cost_words(lever: Lever, currency: str) -> str:
    parts = []
    if lever.cost_up:
        parts.append(f"each level up costs {money(lever.cost_up, currency)}")
    if lever.cost_down:
        parts.append(f"each level down costs {money(lever.cost_down, currency)}")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "." if text else ""
