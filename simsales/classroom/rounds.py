"""A round of the class: check every decision, run every team and the base, keep the results.

``plan_round`` reads each team's decision against its current values (the values after the
last finished round, or the starting values) and collects every problem of every file into one
``ScenarioError``, so that an instructor sees all of them at once. ``run_round`` runs the base
(the market unchanged) and every team on the same replications and seed with
``simsales.experiment.compare_scenarios`` (common random numbers, the run store, ``--jobs``),
scores them, ranks them (``simsales.classroom.leaderboard``), and runs replication 0 of each
once more with its event log for the debriefs: the deal whose story changed most, and the
animation of the team's run beside the base's. ``publish_round`` writes it all into
``round-N/`` (``simsales.classroom.pages``).

A round is finished when ``round-N/round.json`` exists: it is written last, and it holds each
team's lever values after the round, from which the next round starts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simsales.classroom.debrief import DealPair, deal_pair
from simsales.classroom.decisions import (
    DECISIONS,
    CheckedDecision,
    base_market,
    check_decision,
    decision_path,
    market_overrides,
    team_market,
)
from simsales.classroom.leaderboard import Standing, score_values, standings
from simsales.classroom.spec import BASE, Classroom, Number
from simsales.experiment import Comparison, compare_scenarios
from simsales.experiment.store import RunStore
from simsales.scenario import Problem, Scenario, ScenarioError

__all__ = [
    "ROUND_RECORD",
    "RoundPlan",
    "RoundResult",
    "class_lock",
    "current_values",
    "finished_rounds",
    "plan_round",
    "round_folder",
    "run_round",
]

#: The file that marks a round finished and carries its results.
ROUND_RECORD = "round.json"
#: The lock file in the class folder (decisions and rounds are written under it).
LOCK_FILE = ".class.lock"


def round_folder(classroom: Classroom, number: int) -> Path:
    """``DIR/round-N``."""
    return classroom.folder / f"round-{number}"


def finished_rounds(classroom: Classroom) -> list[int]:
    """The numbers of the finished rounds, in order."""
    found = []
    for entry in classroom.folder.glob("round-*"):
        number = entry.name.removeprefix("round-")
        if number.isdigit() and (entry / ROUND_RECORD).is_file():
            found.append(int(number))
    return sorted(found)


def read_record(classroom: Classroom, number: int) -> dict[str, Any]:
    """A finished round's ``round.json``."""
    path = round_folder(classroom, number) / ROUND_RECORD
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def current_values(classroom: Classroom, after_round: int) -> dict[str, dict[str, Number]]:
    """Each team's lever values after round ``after_round`` (0: the starting values); a team
    or lever the round did not know starts where the class starts it."""
    start = classroom.start
    values = {team.id: dict(start) for team in classroom.spec.teams}
    if after_round == 0:
        return values
    record = read_record(classroom, after_round)
    path = os.fspath(round_folder(classroom, after_round) / ROUND_RECORD)
    problems = []
    for team_id, kept in values.items():
        saved = record.get("teams", {}).get(team_id, {}).get("values", {})
        for name, value in saved.items():
            if name not in kept:
                continue  # a lever the class no longer has
            try:
                classroom.spec.lever(name).level(value)
            except ValueError as err:
                where = f"teams.{team_id}.values.{name}"
                problems.append(Problem(path, where, value, f"{err} (the class file changed?)"))
                continue
            kept[name] = value
    if problems:
        raise ScenarioError(problems)
    return values


@dataclass(frozen=True, kw_only=True)
class RoundPlan:
    """A round ready to run: its number, the base, each team's checked decision and market."""

    number: int
    base: Scenario
    decisions: dict[str, CheckedDecision]
    markets: dict[str, Scenario]
    before: dict[str, dict[str, Number]]


def plan_round(
    classroom: Classroom, number: int | None = None, *, force: bool = False
) -> RoundPlan:
    """Check every team's decision for round ``number`` (default: the next) and build the
    markets; ``ScenarioError`` lists every problem of every file, and says when the round is
    finished already (``force`` runs it again) or cannot be run (a later round exists)."""
    done = finished_rounds(classroom)
    following = (done[-1] if done else 0) + 1
    number = following if number is None else number
    where = os.fspath(round_folder(classroom, number))
    if number > following:
        msg = f"round {following} comes first: rounds are played in order"
        raise ScenarioError([Problem(where, "", None, msg)])
    if number < following - 1:
        msg = f"round {number + 1} was played after it: only the last round can be run again"
        raise ScenarioError([Problem(where, "", None, msg)])
    if number in done and not force:
        msg = (
            f"round {number} is finished; pass --force to run it again (its files are replaced), "
            f"or play round {following}"
        )
        raise ScenarioError([Problem(where, "", None, msg)])
    before = current_values(classroom, number - 1)
    decisions: dict[str, CheckedDecision] = {}
    markets: dict[str, Scenario] = {}
    problems: list[Problem] = []
    for team in classroom.spec.teams:
        try:
            with _archived_decision(classroom, team.id, number):
                decision = check_decision(classroom, team, before[team.id], number)
            decisions[team.id] = decision
            markets[team.id] = team_market(classroom, decision.values, name=team.id)
        except ScenarioError as err:
            problems += err.problems
    if problems:
        raise ScenarioError(problems)
    return RoundPlan(
        number=number,
        base=base_market(classroom),
        decisions=decisions,
        markets=markets,
        before=before,
    )


@contextmanager
def _archived_decision(classroom: Classroom, team_id: str, number: int) -> Iterator[None]:
    """Running a finished round again: a team's decision comes from ``decisions/`` if it has a
    new one there, else from the round's own copy (put back for the check, then removed)."""
    path = decision_path(classroom, team_id)
    kept = round_folder(classroom, number) / DECISIONS / f"{team_id}.toml"
    if path.exists() or not kept.is_file():
        yield
        return
    from simsales.output import atomic_write_text

    path.parent.mkdir(exist_ok=True)
    atomic_write_text(path, kept.read_text("utf-8"))
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


@dataclass(frozen=True, kw_only=True)
class RoundResult:
    """A round as run: the plan, the comparison (every metric of every entry, per replication),
    the scores, the leaderboard, and per team the deal pair and the two runs' replays."""

    plan: RoundPlan
    comparison: Comparison
    scores: dict[str, list[float]]
    board: list[Standing]
    deals: dict[str, DealPair | None]
    replays: dict[str, Any]

    @property
    def number(self) -> int:
        return self.plan.number

    def standing(self, name: str) -> Standing:
        return next(s for s in self.board if s.name == name)


def run_round(
    classroom: Classroom,
    plan: RoundPlan,
    *,
    jobs: int = 1,
    executor: Executor | None = None,
    store: RunStore | None = None,
    progress: Callable[[int], None] | None = None,
) -> RoundResult:
    """Run the base and every team (the class's replications and seed), score and rank them,
    and tell each team's debrief deal from replication 0."""
    from simsales.model import simulate
    from simsales.results.replay import replay_of

    spec = classroom.spec
    teams = [plan.markets[team.id] for team in spec.teams]
    comparison = compare_scenarios(
        plan.base,
        teams,
        replications=spec.replications,
        seed=spec.seed,
        jobs=jobs,
        executor=executor,
        store=store,
        progress=progress,
    )
    scores = {
        name: score_values(reps, spec.score) for name, reps in comparison.per_replication.items()
    }
    labels = {BASE: "base (no change)"} | {t.id: t.name for t in spec.teams}
    board = standings(scores, labels, base=BASE)
    seed = spec.seed
    base_run = simulate(plan.base, seed=seed, replication=0, event_log=True)
    base_replay = replay_of(base_run)
    deals: dict[str, DealPair | None] = {}
    replays: dict[str, Any] = {}
    for team in spec.teams:
        run = simulate(plan.markets[team.id], seed=seed, replication=0, event_log=True)
        deals[team.id] = deal_pair(base_run, run)
        replays[team.id] = (base_replay, replay_of(run))
    return RoundResult(
        plan=plan,
        comparison=comparison,
        scores=scores,
        board=board,
        deals=deals,
        replays=replays,
    )


def round_record(classroom: Classroom, result: RoundResult) -> dict[str, Any]:
    """``round.json``: what was run and what came of it; the next round reads ``values``."""
    from simsales import __version__

    spec = classroom.spec
    plan = result.plan
    teams = {}
    for team in spec.teams:
        decision = plan.decisions[team.id]
        teams[team.id] = {
            "name": team.name,
            "values_before": plan.before[team.id],
            "values": decision.values,
            "changes": [c.to_dict() for c in decision.changes],
            "cost": decision.cost,
            "decision_file": bool(decision.text),
            "market_overrides": list(market_overrides(classroom, decision.values)),
            "scores": result.scores[team.id],
        }
    return {
        "class": spec.name,
        "round": result.number,
        "market": spec.market,
        "seed": spec.seed,
        "replications": spec.replications,
        "budget": spec.budget,
        "currency": classroom.currency,
        "score": spec.score.model_dump(mode="json"),
        "base_scores": result.scores[BASE],
        "leaderboard": [s.to_dict() for s in result.board],
        "teams": teams,
        "comparison": result.comparison.to_dict(),
        "simsales_version": __version__,
    }


@contextmanager
def class_lock(
    classroom_folder: Path, name: str = LOCK_FILE, *, wait: bool = True
) -> Iterator[bool]:
    """Hold the class folder's lock (``flock`` on a file in it): decisions are written and read
    under it, so that two teams saving at once, or a round reading them, never see half a file.
    With ``wait=False`` yields False at once if another holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: writes are still atomic
        yield True
        return
    fd = os.open(classroom_folder / name, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def archive_decisions(classroom: Classroom, used: Mapping[str, CheckedDecision]) -> None:
    """After a round is published, remove each decision it used from ``decisions/`` (a copy is
    in the round's folder); one changed meanwhile is for the next round and stays."""
    with class_lock(classroom.folder):
        for team_id, decision in used.items():
            path = decision_path(classroom, team_id)
            try:
                if decision.text and path.read_text("utf-8") == decision.text:
                    path.unlink()
            except FileNotFoundError:
                continue
