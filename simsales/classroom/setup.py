"""``simsales class init``: a class folder, ready to play.

It holds the instructor's copy of the market (a scenario file: copied as it is, or written out
resolved when it extends another file or ``--set`` changed it, so that the folder stands on its
own), ``class.toml`` with levers, score, budget and teams (tokens made here, from ``secrets``),
a decision template for the teams, and an empty ``decisions/`` folder.

The default levers are worked out from the market, so that each starts at the market's own
value: call compression, touches, booking the next meeting, a WIP cap, qualification
strictness, sellers (a salary each) and training (every stage's ``p_right`` up, working time
and money spent). Their costs are a starting point to edit, in the market's currency.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simsales.classroom.decisions import DECISIONS, decision_text
from simsales.classroom.spec import CLASS_FILE, Team, load_class
from simsales.experiment.spec import toml_literal
from simsales.output import atomic_write_text, prepare_out_dir
from simsales.scenario import Scenario, load_scenario

__all__ = ["DEFAULT_TEAMS", "TEMPLATE_FILE", "init_class", "scenario_toml", "team_id"]

#: The teams of a class made without ``--team``.
DEFAULT_TEAMS = ("Red", "Blue", "Green", "Amber")
#: The decision template's file name in the class folder.
TEMPLATE_FILE = "decision-template.toml"
MARKET_FILE = "market.toml"


def team_id(name: str) -> str:
    """A team's id from its name: ``North Stars`` → ``north-stars``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:32].strip("-")


@dataclass(frozen=True)
class _Lever:
    """A default lever, before it is written as TOML."""

    name: str
    label: str
    values: list[Any]
    teaches: str
    key: str = ""
    effects: tuple[str, ...] = ()
    cost_up: float = 0.0

    def toml(self) -> str:
        lines = ["[[levers]]", f"name = {toml_literal(self.name)}"]
        lines.append(f"label = {toml_literal(self.label)}")
        if self.key:
            lines.append(f"key = {toml_literal(self.key)}")
        else:
            lines.append("effects = [")
            lines += [f"    {effect}," for effect in self.effects]
            lines.append("]")
        lines.append(f"values = {toml_literal(self.values)}")
        lines.append(f"cost_up = {self.cost_up:g}")
        lines.append(f"teaches = {toml_literal(self.teaches)}")
        return "\n".join(lines)


def _with(values: Sequence[Any], current: Any, *, off_first: bool = False) -> list[Any]:
    """``values`` with the market's ``current`` value among them, in level order: ascending,
    or (``off_first``) 0 first and then descending (a policy that tightens as its days fall)."""
    merged = set(values) | {current}
    if not off_first:
        return sorted(merged)
    rest = sorted((v for v in merged if v != 0), reverse=True)
    return [0, *rest] if 0 in merged else rest


def default_levers(market: Scenario) -> list[_Lever]:
    """The levers of a new class, each starting at the market's value."""
    policies, team = market.policies, market.team
    sellers = team.sellers
    levers = [
        _Lever(
            "activities_per_call",
            "Activities planned into each call (call compression)",
            _with(range(1, 7), policies.activities_per_call),
            "Lesson 1: fewer calls and shorter gaps per deal; but longer calls, harder to "
            "schedule, and an overloaded buyer beyond a comfortable number.",
            key="policies.activities_per_call",
            cost_up=4000,
        ),
        _Lever(
            "touch_every_days",
            "Send a touch after this many days without contact (0: never)",
            _with([0, 14, 10, 7, 5, 3], _whole(policies.touch_every_days), off_first=True),
            "Lesson 2: time kills deals; a touch slows the fading of momentum in long gaps, "
            "and costs seller hours.",
            key="policies.touch_every_days",
            cost_up=3000,
        ),
        _Lever(
            "book_next_within_days",
            "Book the next meeting in the call, within this many days (0: later, by email)",
            _with([0, 14, 10, 7, 5, 3], _whole(policies.book_next_within_days), off_first=True),
            "Lesson 2: a meeting booked before the call ends shortens the gap more than any touch.",
            key="policies.book_next_within_days",
            cost_up=2000,
        ),
        _Lever(
            "wip_cap",
            "Open deals per seller at most (0: no cap)",
            _with([0, 16, 12, 10, 8, 6, 4], policies.wip_cap, off_first=True),
            "Lesson 6: a cap shortens the gaps of an overloaded team; with room to spare it "
            "only turns suspects away.",
            key="policies.wip_cap",
        ),
        _Lever(
            "sellers",
            "Sellers in the team",
            _with(range(max(1, sellers - 2), sellers + 5), sellers),
            "Capacity: more sellers take on more suspects and keep gaps short, for a salary.",
            key="team.sellers",
            cost_up=90000,
        ),
        _Lever(
            "training",
            "Training days per seller this year (0-3 blocks)",
            [0, 1, 2, 3],
            "Doing each stage right (lessons 1 and 3): fewer wrong steps and less rework, "
            "paid in money and in hours taken from selling.",
            effects=(
                '{ key = "stages.*.p_right", add = 0.03, at_most = 0.99 }',
                '{ key = "team.non_selling_share", add = 0.02, at_most = 0.9 }',
            ),
            cost_up=15000,
        ),
    ]
    if any(stage.qualification is not None for stage in market.stages):
        strictness = policies.qualification_strictness
        levers.insert(
            4,
            _Lever(
                "qualification_strictness",
                "Disqualify buyers whose fit, as read in discovery, is below",
                _with([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], round(strictness, 10)),
                "Lesson 4: a cheap early No Go beats a late No Decision; too strict, and good "
                "buyers are turned away.",
                key="policies.qualification_strictness",
            ),
        )
    return levers


def _whole(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _token() -> str:
    return secrets.token_urlsafe(18)


def class_toml(
    *, name: str, market: Scenario, teams: Sequence[Team], replications: int, seed: int
) -> str:
    """The text of a new ``class.toml``, with a comment on every part."""
    currency = market.currency
    lines = [
        "# A class of simsales: teams play rounds against each other on one market.",
        "# Run `simsales class round DIR` to check every decision and play the next round;",
        "# `simsales class serve DIR` for the web page. This file holds the tokens: keep it.",
        f"name = {toml_literal(name)}",
        f'market = "{MARKET_FILE}"        # the scenario every team starts from',
        f"replications = {replications}    # every round, every team: the same replications",
        f"seed = {seed}    # and the same random numbers (a fair comparison)",
        f"budget = 120000    # what each team may spend a round, in {currency}",
        f"instructor_token = {toml_literal(_token())}",
        "",
        "# The score of a team: the sum of weight x metric (metrics from `simsales reference",
        "# --print outputs`: shares count 0..1, days, money), per replication; higher wins.",
        "# E.g. weighted cycle time and no decision: terms = [",
        '#   { metric = "cycle_median_won_days", weight = -1 },',
        '#   { metric = "no_decision_rate", weight = -100 } ]',
        "[score]",
        f"label = {toml_literal(f'bookings per year, thousands of {currency}')}",
        'terms = [{ metric = "bookings_per_year", weight = 0.001 }]',
        "",
        "# What teams may change. `values` in level order; raising a lever costs cost_up per",
        "# level (lowering costs cost_down, default 0), counted from the team's current value.",
        "# A lever sets one scenario `key`, or adds `add` x its value to each key of `effects`",
        "# (stages.*.p_right: every stage).",
    ]
    for lever in default_levers(market):
        lines += ["", lever.toml()]
    for team in teams:
        lines += [
            "",
            "[[teams]]",
            f"id = {toml_literal(team.id)}",
            f"name = {toml_literal(team.name)}",
            f"token = {toml_literal(team.token)}",
        ]
    return "\n".join(lines) + "\n"


def init_class(
    folder: str | os.PathLike[str],
    *,
    market_file: str | os.PathLike[str],
    overrides: Sequence[str] = (),
    team_names: Sequence[str] = DEFAULT_TEAMS,
    name: str | None = None,
    replications: int | None = None,
    seed: int | None = None,
    force: bool = False,
) -> Path:
    """Set up a class folder; ``OutputError`` if it is not empty (without ``force``),
    ``ScenarioError`` for a bad market or team names. Returns the class file's path."""
    from simsales.classroom.spec import _team_id
    from simsales.scenario import Problem, ScenarioError

    market = load_scenario(market_file, overrides)
    teams = []
    for i, team_name in enumerate(team_names):
        try:
            tid = _team_id(team_id(team_name))
        except ValueError as err:
            raise ScenarioError([Problem(f"--team {team_name}", "", None, str(err))]) from None
        teams.append(Team(id=tid, name=team_name or f"Team {i + 1}", token=_token()))
    ids = [t.id for t in teams]
    if len(set(ids)) < len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        msg = f"two teams would share the id {twice[0]!r}: give them names that differ more"
        raise ScenarioError([Problem("--team", "", None, msg)])
    root = prepare_out_dir(folder, force)
    text = Path(market_file).read_text("utf-8")
    plain_copy = not overrides and "extends" not in _top_keys(market_file)
    market_text = text if plain_copy else scenario_toml(market, source=os.fspath(market_file))
    atomic_write_text(root / MARKET_FILE, market_text)
    class_path = root / CLASS_FILE
    atomic_write_text(
        class_path,
        class_toml(
            name=name or f"{market.name} class",
            market=market,
            teams=teams,
            replications=replications or market.run.replications,
            seed=market.run.seed if seed is None else seed,
        ),
    )
    os.chmod(class_path, 0o600)  # it holds the tokens
    (root / DECISIONS).mkdir(exist_ok=True)
    classroom = load_class(root)  # checks what was written
    template = Team(id="your-team-id", name="YOUR TEAM", token="x" * 16)
    atomic_write_text(
        root / TEMPLATE_FILE,
        decision_text(classroom, template, classroom.start, round_number=1),
    )
    return class_path


def _top_keys(path: str | os.PathLike[str]) -> set[str]:
    import tomllib

    with open(path, "rb") as fh:
        return set(tomllib.load(fh))


def scenario_toml(scenario: Scenario, *, source: str = "") -> str:
    """A scenario written out resolved, every key explicit: ``load_scenario`` reads it back as
    the same scenario."""
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    lines = [
        f"# The market of this class: {source or scenario.name}, resolved (every key explicit)."
    ]
    _table(lines, "", data)
    return "\n".join(lines) + "\n"


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_literal(key)


def _is_table(value: Any) -> bool:
    return isinstance(value, dict) and "dist" not in value


def _is_tables(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(_is_table(v) for v in value)


def _table(lines: list[str], path: str, data: dict[str, Any]) -> None:
    """Write ``data`` as TOML: values first, then sub-tables and arrays of tables."""
    for key, value in data.items():
        if not (_is_table(value) or _is_tables(value)):
            lines.append(f"{_key(key)} = {toml_literal(value)}")
    for key, value in data.items():
        here = f"{path}.{_key(key)}" if path else _key(key)
        if _is_table(value):
            lines += ["", f"[{here}]"]
            _table(lines, here, value)
        elif _is_tables(value):
            for item in value:
                lines += ["", f"[[{here}]]"]
                _table(lines, here, item)
