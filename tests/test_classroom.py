"""``simsales class``: a class folder, decisions checked, rounds played and carried over, the
leaderboard's ranks and the debriefs (the web page: ``test_classroom_web.py``)."""

from __future__ import annotations

import json
import math
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from simsales.analysis import paired_difference
from simsales.classroom import load_class, standings
from simsales.classroom.debrief import story_deal
from simsales.classroom.setup import scenario_toml
from simsales.cli import main
from simsales.model import simulate
from simsales.results.table import DealTable
from simsales.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
EXAMPLE = ROOT / "classes" / "example"
#: A short market: the suite plays whole rounds of five entries in seconds.
SHORT = ["run.horizon_days=300", "run.warmup_days=60", "run.cohort_margin_days=40"]


def _cli(*args: str) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args])


def _shrink(folder: Path, replications: int = 3) -> None:
    """Make a class folder quick: the short market, few replications."""
    market = load_scenario(folder / "market.toml", SHORT)
    (folder / "market.toml").write_text(scenario_toml(market), "utf-8")
    text = (folder / "class.toml").read_text("utf-8")
    lines = [
        f"replications = {replications}" if line.startswith("replications =") else line
        for line in text.splitlines()
    ]
    (folder / "class.toml").write_text("\n".join(lines) + "\n", "utf-8")


def _sets() -> list[str]:
    return [arg for override in SHORT for arg in ("--set", override)]


def _decide(folder: Path, team: str, round_number: int | None = None, **levers: Any) -> None:
    lines = [f'team = "{team}"']
    lines += [f"round = {round_number}"] if round_number is not None else []
    lines += ["[levers]", *(f"{k} = {v!r}" for k, v in levers.items())]
    (folder / "decisions").mkdir(exist_ok=True)
    (folder / "decisions" / f"{team}.toml").write_text("\n".join(lines) + "\n", "utf-8")


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bundled example, shrunk, with its two rounds of decisions played from the CLI."""
    folder = tmp_path_factory.mktemp("class") / "example"
    shutil.copytree(EXAMPLE, folder)
    _shrink(folder)
    for number in (1, 2):
        plays = folder / "plays" / f"round-{number}"
        (folder / "decisions").mkdir(exist_ok=True)
        for file in plays.glob("*.toml"):
            shutil.copy(file, folder / "decisions" / file.name)
        result = _cli("class", "round", folder, "--no-cache")
        assert result.exit_code == 0, result.output
        assert f"round {number} written to" in result.output
    yield folder


def _record(folder: Path, number: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / f"round-{number}" / "round.json").read_text())
    return data


# --- class init --------------------------------------------------------------------------------


def test_init_makes_a_class_that_loads(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    args = ["class", "init", folder, "--market", ROOT / "scenarios" / "call-compression.toml"]
    result = _cli(*args, "--team", "North Stars", "--team", "South", "-r", "4")
    assert result.exit_code == 0, result.output
    classroom = load_class(folder)
    assert [t.id for t in classroom.spec.teams] == ["north-stars", "south"]
    assert classroom.spec.replications == 4
    # a market that extends another is written resolved, and is the same scenario
    assert classroom.market == load_scenario(ROOT / "scenarios" / "call-compression.toml")
    # every lever starts at the market's own value
    assert classroom.start["activities_per_call"] == classroom.market.policies.activities_per_call
    assert classroom.start["sellers"] == classroom.market.team.sellers
    assert stat.S_IMODE(os.stat(folder / "class.toml").st_mode) == 0o600  # it holds tokens
    tokens = {t.token for t in classroom.spec.teams} | {classroom.spec.instructor_token}
    assert len(tokens) == 3 and all(len(t) >= 16 for t in tokens)
    again = _cli(*args)
    assert again.exit_code == 2 and "not empty" in again.stderr
    twins = _cli("class", "init", tmp_path / "d", "--team", "Red", "--team", "red!")
    assert twins.exit_code == 2 and "share the id 'red'" in twins.stderr
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_a_resolved_market_reads_back_as_the_same_scenario(tmp_path: Path, path: Path) -> None:
    scenario = load_scenario(path)
    written = tmp_path / "market.toml"
    written.write_text(scenario_toml(scenario), "utf-8")
    assert load_scenario(written) == scenario


def test_the_template_is_a_valid_decision_of_no_change(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    assert _cli("class", "init", folder, *_sets()).exit_code == 0
    text = _cli("class", "template", folder, "--team", "red").output
    (folder / "decisions").mkdir(exist_ok=True)
    (folder / "decisions" / "red.toml").write_text(text, "utf-8")
    from simsales.classroom import plan_round

    plan = plan_round(load_class(folder))
    assert plan.decisions["red"].changes == () and plan.decisions["red"].text == text
    assert plan.markets["red"].model_copy(update={"name": "base"}) == plan.base


# --- bad files: every problem, with its file and key path, exit 2 --------------------------------


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    folder = tmp_path / "c"
    assert _cli("class", "init", folder, *_sets(), "-r", "3").exit_code == 0
    return folder


def _edit_class(folder: Path, old: str, new: str) -> None:
    path = folder / "class.toml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (
            'metric = "bookings_per_year", weight = 0.001',
            'metric = "bookings_per_yaer", weight = 0.001',
            "score.terms[0].metric: unknown metric; did you mean 'bookings_per_year'?",
        ),
        (
            'metric = "bookings_per_year", weight = 0.001',
            'metric = "cycle_median_won_days", weight = 1',
            "score.terms[0].weight: cycle_median_won_days is better lower",
        ),
        (
            'key = "policies.wip_cap"',
            'key = "policies.wip_limit"',
            "levers[3] (wip_cap).key: the base scenario has no key 'policies.wip_limit'",
        ),
        (
            "values = [6, 7, 8, 9, 10, 11, 12]",
            "values = [9, 10, 11, 12]",
            "levers[5] (sellers).values: the market's value, 8, is not one of them",
        ),
        ("budget = 120000", "budgett = 120000", "budgett: unknown key; did you mean 'budget'?"),
        ('name = "sellers"', 'name = "Sellers!"', "levers[5] (Sellers!).name: a lever name"),
    ],
    ids=["metric", "direction", "key", "start value", "typo", "lever name"],
)
def test_a_bad_class_file_is_reported_by_key(fresh: Path, old: str, new: str, said: str) -> None:
    _edit_class(fresh, old, new)
    result = _cli("class", "round", fresh)
    assert result.exit_code == 2, result.output
    assert f"{fresh / 'class.toml'}: {said}" in result.stderr
    assert "Traceback" not in result.output and not (fresh / "round-1").exists()


def test_tokens_are_not_echoed_in_errors(fresh: Path) -> None:
    text = (fresh / "class.toml").read_text("utf-8")
    token = load_class(fresh).spec.teams[0].token
    (fresh / "class.toml").write_text(text.replace(token, token[:5] + "!!" + token[7:]), "utf-8")
    result = _cli("class", "round", fresh)
    assert result.exit_code == 2 and "teams[0] (Red).token: a token is" in result.stderr
    assert token[:5] + "!!" not in result.stderr


def test_every_bad_decision_is_named_and_no_round_is_played(fresh: Path) -> None:
    _decide(fresh, "red", sellers=12, training=3)  # 4 x 90,000 + 3 x 15,000: over budget
    _decide(fresh, "blue", activities_per_call=7, speed=3)  # not a value; not a lever
    _decide(fresh, "green", round_number=2, wip_cap=8)  # round 1 is next
    (fresh / "decisions" / "amber.toml").write_text('team = "red"\n[levers]\n', "utf-8")
    result = _cli("class", "round", fresh)
    assert result.exit_code == 2, result.output
    err = result.stderr
    decisions = fresh / "decisions"
    assert (
        f"{decisions / 'red.toml'}: levers: the changes cost 405,000 EUR, 285,000 EUR over" in err
    )
    assert f"{decisions / 'blue.toml'}: levers.activities_per_call: must be one of 1, 2" in err
    assert f"{decisions / 'blue.toml'}: levers.speed: unknown lever" in err
    assert f"{decisions / 'green.toml'}: round: the decision is for round 2" in err
    assert f"{decisions / 'amber.toml'}: team: this is amber's file" in err
    assert "no round was played" in err and not (fresh / "round-1").exists()


def test_a_round_past_the_work_limit_is_refused_before_it_runs(fresh: Path) -> None:
    result = _cli("class", "round", fresh, "--max-work", "1000")
    assert result.exit_code == 2, result.output
    assert "too large to start" in result.stderr and "--max-work" in result.stderr
    assert "Traceback" not in result.output and not (fresh / "round-1").exists()


def test_a_decision_that_breaks_the_market_is_named_at_its_lever(fresh: Path) -> None:
    # training's working time, on a day with no selling time to spare
    market = load_scenario(fresh / "market.toml", ["team.non_selling_share=0.8"])
    (fresh / "market.toml").write_text(scenario_toml(market), "utf-8")
    _decide(fresh, "red", training=3)
    result = _cli("class", "round", fresh)
    assert result.exit_code == 2, result.output
    assert f"{fresh / 'decisions' / 'red.toml'}: levers.training: with this value" in result.stderr


def test_a_finished_round_is_never_replaced_silently(played: Path) -> None:
    before = (played / "round-1" / "round.json").read_bytes()
    result = _cli("class", "round", played, "--round", "1", "--force")
    assert result.exit_code == 2 and "only the last round can be run again" in result.stderr
    result = _cli("class", "round", played, "--round", "2")
    assert result.exit_code == 2 and "round 2 is finished; pass --force" in result.stderr
    assert (played / "round-1" / "round.json").read_bytes() == before


# --- two rounds of the bundled example -----------------------------------------------------------


def test_two_rounds_carry_over(played: Path) -> None:
    one, two = _record(played, 1), _record(played, 2)
    red1, red2 = one["teams"]["red"], two["teams"]["red"]
    assert red1["values"]["activities_per_call"] == 3
    assert red2["values_before"] == red1["values"]  # round 2 starts from round 1's market
    assert red2["values"]["activities_per_call"] == 4
    # costs count from the current market: one level up (3 -> 4) and booking 0 -> 7 (3 levels)
    assert red2["cost"] == 4000 + 3 * 2000
    blue2 = two["teams"]["blue"]
    assert blue2["values"]["sellers"] == 9 and blue2["cost"] == 2 * 15000  # sellers kept, free
    amber1 = one["teams"]["amber"]
    assert not amber1["decision_file"] and amber1["changes"] == [] and amber1["cost"] == 0
    # with no change, amber's market is the base: the same scores, replication by replication
    assert amber1["scores"] == one["base_scores"]
    # the same seed every round: the base scores the same in both
    assert one["base_scores"] == two["base_scores"]
    # the decisions used are filed with the round and leave decisions/
    assert sorted(p.name for p in (played / "round-2" / "decisions").glob("*.toml")) == [
        "amber.toml",
        "blue.toml",
        "green.toml",
        "red.toml",
    ]
    assert list((played / "decisions").glob("*.toml")) == []


def test_a_teams_market_is_its_overrides(played: Path) -> None:
    """The market the round ran for red is the class market with red's overrides: rerunning
    it with ``simsales run --set`` gives red's scores."""
    from simsales.classroom import score_values
    from simsales.experiment import run_replications

    classroom = load_class(played)
    red = _record(played, 2)["teams"]["red"]
    market = load_scenario(played / "market.toml", red["market_overrides"])
    per_rep = run_replications(market, replications=3, seed=classroom.spec.seed)
    assert score_values(per_rep, classroom.spec.score) == red["scores"]


def test_ranks_follow_the_paired_differences(played: Path) -> None:
    for number in (1, 2):
        record = _record(played, number)
        scores = {"base": record["base_scores"]}
        scores |= {tid: team["scores"] for tid, team in record["teams"].items()}
        _check_ranks(record["leaderboard"], scores)


def _check_ranks(board: list[dict[str, Any]], scores: dict[str, list[float]]) -> None:
    """Best first; each entry ties with its group's leader exactly when the paired difference's
    interval includes 0; ranks are leaders' positions; ``tied_with`` is every such pair."""
    means = [float(np.mean(scores[row["name"]])) for row in board]
    assert means == sorted(means, reverse=True)
    leader_position = {}
    for position, row in enumerate(board, start=1):
        name, leader = row["name"], row["rank_group_leader"]
        if leader == name:
            leader_position[name] = position
            assert row["rank"] == position
            if position > 1:  # told apart from the group above's leader
                above = board[position - 2]["rank_group_leader"]
                assert paired_difference(scores[above], scores[name]).distinguishable
        else:
            assert not paired_difference(scores[leader], scores[name]).distinguishable
            assert row["rank"] == leader_position[leader]
        tied = {
            other
            for other in scores
            if other != name and not paired_difference(scores[name], scores[other]).distinguishable
        }
        assert set(row["tied_with"]) == tied
        vs_base = row["vs_base"]
        if name != "base":
            diff = paired_difference(scores["base"], scores[name])
            assert vs_base["mean"] == pytest.approx(diff.mean)
            assert vs_base["distinguishable"] == diff.distinguishable


def test_ranks_on_made_up_scores() -> None:
    """Clear gaps make groups, noise inside a gap shares a rank; on random boards the rule
    holds whatever the scores."""
    rng = np.random.default_rng(5)
    noise = rng.normal(0, 1, 8)
    scores = {
        "base": list(100 + noise),
        "a": list(130 + noise + rng.normal(0, 0.5, 8)),
        "b": list(130.2 + noise + rng.normal(0, 0.5, 8)),
        "c": list(100 + noise),  # no change at all
    }
    board = standings(scores, {}, base="base")
    assert [(s.name, s.rank) for s in board][:2] in ([("b", 1), ("a", 1)], [("a", 1), ("b", 1)])
    assert {s.name: s.rank for s in board[2:]} == {"base": 3, "c": 3}
    for _ in range(30):
        n = int(rng.integers(3, 7))
        shared = rng.normal(0, 5, 6)
        made = {f"t{i}": list(rng.normal(rng.normal(0, 2), 1, 6) + shared) for i in range(n)}
        made["base"] = list(shared + rng.normal(0, 1, 6))
        _check_ranks([s.to_dict() for s in standings(made, {}, base="base")], made)


def test_the_leaderboard_and_debriefs(played: Path) -> None:
    folder = played / "round-2"
    board = (folder / "leaderboard.html").read_text("utf-8")
    assert "Content-Security-Policy" in board and "default-src 'none'" in board
    assert board.count("data-rank=") == 5  # four teams and the base
    assert (folder / "leaderboard.txt").read_text().count("│") > 10
    record = _record(played, 2)
    for team in ("red", "blue", "green", "amber"):
        debrief = (folder / "teams" / team / "debrief.html").read_text("utf-8")
        assert "What you changed this round" in debrief and 'href="flow.html"' in debrief
        for change in record["teams"][team]["changes"]:
            assert change["label"].replace("(", "").split()[0] in debrief
        flow = (folder / "teams" / team / "flow.html").read_text("utf-8")
        assert '"name":"base"' in flow and f'"name":"{team}"' in flow


def test_the_debrief_deal_is_the_one_whose_story_changed_most(played: Path) -> None:
    classroom = load_class(played)
    record = _record(played, 1)
    red = load_scenario(played / "market.toml", record["teams"]["red"]["market_overrides"])
    seed = classroom.spec.seed
    base = DealTable.from_records(simulate(classroom.market, seed=seed, replication=0))
    team = DealTable.from_records(simulate(red, seed=seed, replication=0))
    deal = story_deal(base, team)
    assert deal is not None
    row = int(np.flatnonzero(base["deal_id"] == deal)[0])
    won = base.outcome_names == "won", team.outcome_names == "won"
    assert base["created_at"][row] == team["created_at"][row]  # the same buyer in both
    if np.any(base.counted & (won[0] != won[1])):  # a win gained or lost: that is the story
        assert won[0][row] != won[1][row]
    debrief = (played / "round-1" / "teams" / "red" / "debrief.html").read_text("utf-8")
    assert f"Deal {deal} of base (seed {seed}, replication 0)" in debrief
    assert f"Deal {deal} of red (seed {seed}, replication 0)" in debrief


def test_names_are_shown_as_text(fresh: Path) -> None:
    _edit_class(fresh, 'name = "Red"', 'name = "<script>alert(1)</script>"')
    _edit_class(fresh, "replications = 3", "replications = 2")
    result = _cli("class", "round", fresh, "--no-cache")
    assert result.exit_code == 0, result.output
    board = (fresh / "round-1" / "leaderboard.html").read_text("utf-8")
    assert "<script>alert" not in board and "&lt;script&gt;alert(1)&lt;/script&gt;" in board
    debrief = (fresh / "round-1" / "teams" / "red" / "debrief.html").read_text("utf-8")
    assert "<script>alert" not in debrief
    assert math.isfinite(_record(fresh, 1)["leaderboard"][0]["score"]["mean"])
