"""Loading scenario files: every validation rule, extends, --set, and what the errors say.

Each bad-input test checks the three things a user needs to fix a file: the file, the key path
(in the syntax ``--set`` accepts) and the rule broken.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simsales.scenario import Problem, Scenario, ScenarioError, load_scenario, scenario_json_schema
from simsales.scenario.errors import format_value, render_path

WriteScenario = Callable[..., Path]


def put(doc: dict[str, Any], steps: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """Set ``value`` at ``steps`` in ``doc``, creating tables on the way."""
    node: Any = doc
    for step in steps[:-1]:
        node = node.setdefault(step, {}) if isinstance(node, dict) else node[step]
    node[steps[-1]] = value
    return doc


def problems_of(path: Path, overrides: tuple[str, ...] = ()) -> list[Problem]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides)
    return caught.value.problems


def the_problem(path: Path, overrides: tuple[str, ...] = ()) -> Problem:
    problems = problems_of(path, overrides)
    assert len(problems) == 1, problems
    return problems[0]


LN = {"dist": "lognormal", "median": 5, "p90": 12}

# (where, bad value, key path shown, words of the rule). One row per rule of the schema.
RULES: list[tuple[tuple[str | int, ...], Any, str, str]] = [
    # run
    (("run", "horizon_days"), 0, "run.horizon_days", "greater than 0"),
    (("run", "warmup_days"), -1, "run.warmup_days", "greater than or equal to 0"),
    (("run", "replications"), 0, "run.replications", "greater than or equal to 1"),
    (("run", "seed"), -5, "run.seed", "greater than or equal to 0"),
    (("run", "warmup_days"), 500, "run", "must be shorter than horizon_days"),
    # market
    (("market", "suspects_per_day"), 0, "market.suspects_per_day", "greater than 0"),
    (("market", "patience_days"), -1, "market.patience_days", "greater than or equal to 0"),
    (("market", "segments"), [], "market.segments", "at least 1 item"),
    (("market", "segments", 0, "name"), "", "market.segments[0].name", "at least 1 character"),
    (("market", "segments", 0, "share"), 0, "market.segments[0] (mid).share", "greater than 0"),
    (("market", "segments", 0, "fit"), 1.5, "market.segments[0] (mid).fit", "between 0 and 1"),
    (("market", "segments", 0, "deal_value"), -3, "market.segments[0] (mid).deal_value",
     "an amount of money must be at least 0"),
    (("market", "schedule", "by_month"), [1.0] * 11, "market.schedule.by_month",
     "at least 12 items"),
    (("market", "schedule", "by_month"), [1.0] * 13, "market.schedule.by_month",
     "at most 12 items"),
    (("market", "schedule", "by_month"), [-1.0] + [1.0] * 11, "market.schedule.by_month",
     "January's multiplier (by_month[0]) must not be negative"),
    (("market", "schedule", "by_month"), [0.0] * 12, "market.schedule",
     "the arrival rate is zero all year"),
    (("market", "schedule", "quarter_end_push"), -1, "market.schedule.quarter_end_push",
     "greater than or equal to 0"),
    (("market", "schedule", "quarter_end_days"), 100, "market.schedule.quarter_end_days",
     "less than or equal to 91.25"),
    # buyers
    (("buyers", "group_size"), 0, "buyers.group_size", "a head count must be between 1 and 1000"),
    (("buyers", "group_size"), 32768, "buyers.group_size", "between 1 and 1000"),
    (("buyers", "pace"), 0, "buyers.pace", "a factor must be above 0"),
    (("buyers", "meeting_lag_days"), {"dist": "uniform", "low": -1, "high": 2},
     "buyers.meeting_lag_days", "a duration (days) must be at least 0"),
    (("buyers", "lag_per_extra_attendee"), -0.1, "buyers.lag_per_extra_attendee",
     "greater than or equal to 0"),
    (("buyers", "comfortable_activities_per_call"), 0, "buyers.comfortable_activities_per_call",
     "greater than or equal to 1"),
    (("buyers", "overload_factor"), 0, "buyers.overload_factor", "greater than 0"),
    (("buyers", "overload_factor"), 1.1, "buyers.overload_factor", "less than or equal to 1"),
    (("buyers", "attendees_per_extra_activity"), 2, "buyers.attendees_per_extra_activity",
     "less than or equal to 1"),
    (("buyers", "momentum", "initial"), 1.2, "buyers.momentum.initial", "less than or equal to 1"),
    (("buyers", "momentum", "half_life_days"), 0, "buyers.momentum.half_life_days",
     "greater than or equal to 0.01"),
    (("buyers", "momentum", "busy_half_life_factor"), 0.5,
     "buyers.momentum.busy_half_life_factor", "greater than or equal to 1"),
    (("buyers", "momentum", "call_restore_right"), -0.1, "buyers.momentum.call_restore_right",
     "greater than or equal to 0"),
    (("buyers", "momentum", "call_restore_wrong"), 1.1, "buyers.momentum.call_restore_wrong",
     "less than or equal to 1"),
    (("buyers", "momentum", "touch_boost"), 2, "buyers.momentum.touch_boost",
     "less than or equal to 1"),
    (("buyers", "no_decision", "max_hazard_per_day"), -1,
     "buyers.no_decision.max_hazard_per_day", "greater than or equal to 0"),
    (("buyers", "no_decision", "shape"), 0, "buyers.no_decision.shape",
     "greater than or equal to 1"),
    (("buyers", "no_decision", "shape"), 7, "buyers.no_decision.shape",
     "less than or equal to 6"),
    (("crm", "close_out_delay_days"), -2,
     "crm.close_out_delay_days", "a duration (days) must be at least 0"),
    (("buyers", "consensus", "p_one"), 0, "buyers.consensus.p_one", "greater than 0"),
    (("buyers", "consensus", "q_per_extra"), 1.5, "buyers.consensus.q_per_extra",
     "less than or equal to 1"),
    (("buyers", "consensus", "fit_weight"), -1, "buyers.consensus.fit_weight",
     "greater than or equal to 0"),
    (("buyers", "choice", "win_base"), 1.5, "buyers.choice.win_base", "less than or equal to 1"),
    (("buyers", "choice", "fit_weight"), 2, "buyers.choice.fit_weight",
     "less than or equal to 1"),
    # team
    (("team", "sellers"), 0, "team.sellers", "greater than or equal to 1"),
    (("team", "sellers"), 10_001, "team.sellers", "less than or equal to 10000"),
    (("team", "skill"), {"dist": "uniform", "low": 0.5, "high": 1.5}, "team.skill",
     "a share or probability must be between 0 and 1"),
    (("team", "working_hours_per_day"), 25, "team.working_hours_per_day",
     "less than or equal to 24"),
    (("team", "non_selling_share"), 0.99, "team.non_selling_share", "less than or equal to 0.95"),
    (("team", "selling_hours_per_day"), 6, "team", "now working_hours_per_day and"),
    (("team", "meeting_slots_per_day"), 0, "team.meeting_slots_per_day",
     "greater than or equal to 1"),
    (("team", "workdays_per_week"), 8, "team.workdays_per_week", "less than or equal to 7"),
    (("team", "call_hours"), 0, "team.call_hours", "greater than or equal to 0.05"),
    (("team", "call_hours_per_extra_activity"), -1, "team.call_hours_per_extra_activity",
     "greater than or equal to 0"),
    (("team", "prep_hours"), -1, "team.prep_hours", "greater than or equal to 0"),
    (("team", "touch_hours"), -1, "team.touch_hours", "greater than or equal to 0"),
    (("team", "assignment"), "random", "team.assignment", "'least_loaded' or 'round_robin'"),
    (("team", "call_hours"), 7, "team", "does not fit in the selling time of a day"),
    # policies
    (("policies", "activities_per_call"), 0, "policies.activities_per_call",
     "greater than or equal to 1"),
    (("policies", "activities_per_call"), 21, "policies.activities_per_call",
     "less than or equal to 20"),
    (("policies", "touch_every_days"), -1, "policies.touch_every_days",
     "greater than or equal to 0"),
    (("policies", "book_next_within_days"), -1, "policies.book_next_within_days",
     "greater than or equal to 0"),
    (("policies", "qualification_strictness"), 1.5, "policies.qualification_strictness",
     "less than or equal to 1"),
    (("policies", "wip_cap"), -1, "policies.wip_cap", "greater than or equal to 0"),
    # stages
    (("stages",), [], "stages", "at least 1 item"),
    (("stages", 0, "name"), "", "stages[0].name", "at least 1 character"),
    (("stages", 0, "activities"), -1, "stages[0] (outreach).activities",
     "greater than or equal to 0"),
    (("stages", 0, "activities"), 51, "stages[0] (outreach).activities",
     "less than or equal to 50"),
    (("stages", 0, "p_right"), 0, "stages[0] (outreach).p_right", "greater than 0"),
    (("stages", 0, "p_right"), 1.2, "stages[0] (outreach).p_right", "less than or equal to 1"),
    (("stages", 0, "seller_work_hours"), -1, "stages[0] (outreach).seller_work_hours",
     "greater than or equal to 0"),
    (("stages", 0, "attendee_share"), 1.5, "stages[0] (outreach).attendee_share",
     "less than or equal to 1"),
    (("stages", 0, "half_life_factor"), 0, "stages[0] (outreach).half_life_factor",
     "greater than or equal to 0.01"),
    (("stages", 0, "consensus_share"), -0.5, "stages[0] (outreach).consensus_share",
     "greater than or equal to 0"),
    (("stages", 0, "sets_forecast"), "often", "stages[0] (outreach).sets_forecast",
     "valid boolean"),
    (("stages", 1, "buyer_tasks", 0, "name"), "", "stages[1] (discovery).buyer_tasks[0].name",
     "at least 1 character"),
    (("stages", 1, "buyer_tasks", 0, "duration"), {"dist": "lognormal", "median": 5, "p90": 3},
     "stages[1] (discovery).buyer_tasks[0] (review).duration", "p90 (3.0) must be above"),
    (("stages", 1, "buyer_tasks", 0, "duration", "median"), -5,
     "stages[1] (discovery).buyer_tasks[0] (review).duration.median", "greater than 0"),
    (("stages", 1, "qualification", "read_error_sd_right"), -1,
     "stages[1] (discovery).qualification.read_error_sd_right", "greater than or equal to 0"),
    (("stages", 1, "qualification", "read_error_sd_wrong"), -1,
     "stages[1] (discovery).qualification.read_error_sd_wrong", "greater than or equal to 0"),
    (("stages", 0, "wrong", "momentum_loss"), 2, "stages[0] (outreach).wrong.momentum_loss",
     "less than or equal to 1"),
    (("stages", 0, "wrong", "end_chance"), -1, "stages[0] (outreach).wrong.end_chance",
     "greater than or equal to 0"),
    (("stages", 0, "wrong", "lag_factor"), 0.5, "stages[0] (outreach).wrong.lag_factor",
     "greater than or equal to 1"),
    (("stages", 0, "wrong", "decision_factor"), 0, "stages[0] (outreach).wrong.decision_factor",
     "greater than 0"),
    (("stages", 0, "wrong", "discount"), 1.5, "stages[0] (outreach).wrong.discount",
     "a share or probability must be between 0 and 1"),
    (("stages", 1, "name"), "outreach", "stages", "stage names must be unique"),
    (("stages", 0, "consensus_share"), 0.2, "stages", "consensus_share must add up to 1"),
    (("stages", 0, "qualification"), {}, "stages", "at most one stage may have a qualification"),
    (("stages", 0, "sets_forecast"), True, "stages", "at most one stage may set the forecast"),
    # forecast and the scenario itself
    (("forecast", "first_forecast_days"), -1, "forecast.first_forecast_days",
     "a duration (days) must be at least 0"),
    (("forecast", "push_days"), 0, "forecast.push_days", "greater than or equal to 1"),
    (("forecast", "push_days"), 1e-9, "forecast.push_days", "greater than or equal to 1"),
    (("name",), "", "name", "at least 1 character"),
    # distributions
    (("buyers", "meeting_lag_days"), {"dist": "exponential", "mean": 0},
     "buyers.meeting_lag_days.mean", "greater than 0"),
    (("buyers", "meeting_lag_days"), {"dist": "uniform", "low": 3, "high": 2},
     "buyers.meeting_lag_days", "low (3.0) must be below high (2.0)"),
    (("buyers", "meeting_lag_days"), {"dist": "triangular", "low": 1, "mode": 5, "high": 3},
     "buyers.meeting_lag_days", "need low <= mode <= high"),
    (("buyers", "meeting_lag_days"), {"dist": "normal", "mean": 5, "sd": 0},
     "buyers.meeting_lag_days.sd", "greater than 0"),
    (("buyers", "meeting_lag_days"), {"dist": "normal", "mean": 5, "sd": 1, "low": 6, "high": 5},
     "buyers.meeting_lag_days", "low (6.0) must be below high (5.0)"),
    (("buyers", "meeting_lag_days"), {"dist": "normal", "mean": 0, "sd": 1, "low": 10},
     "buyers.meeting_lag_days", "keeps less than 1%"),
    (("buyers", "meeting_lag_days"), {"dist": "lognormal", "median": 0, "p90": 3},
     "buyers.meeting_lag_days.median", "greater than 0"),
    (("buyers", "meeting_lag_days"), {"dist": "lognormal", "median": 3, "p90": 0},
     "buyers.meeting_lag_days.p90", "greater than 0"),
    (("buyers", "meeting_lag_days"), {"dist": "gamma", "mean": 0, "shape": 2},
     "buyers.meeting_lag_days.mean", "greater than 0"),
    (("buyers", "meeting_lag_days"), {"dist": "gamma", "mean": 2, "shape": 0},
     "buyers.meeting_lag_days.shape", "greater than 0"),
    (("team", "skill"), {"dist": "beta", "mean": 1, "concentration": 5}, "team.skill.mean",
     "less than 1"),
    (("team", "skill"), {"dist": "beta", "mean": 0.5, "concentration": 0},
     "team.skill.concentration", "greater than 0"),
    (("buyers", "meeting_lag_days"), {"dist": "empirical", "values": []},
     "buyers.meeting_lag_days.values", "at least 1 item"),
    (("buyers", "meeting_lag_days"), {"dist": "empirical", "values": [1, 2], "weights": [1]},
     "buyers.meeting_lag_days", "weights has 1 entries but values has 2"),
    (("buyers", "meeting_lag_days"), {"dist": "empirical", "values": [1, 2], "weights": [0, 0]},
     "buyers.meeting_lag_days", "weights must be non-negative and not all zero"),
    (("buyers", "meeting_lag_days"), {"dist": "weibull", "shape": 2},
     "buyers.meeting_lag_days", "unknown distribution 'weibull'"),
    (("buyers", "meeting_lag_days"), {"median": 5, "p90": 12},
     "buyers.meeting_lag_days", "a distribution needs a dist key"),
    (("buyers", "meeting_lag_days"), {"dist": "lognormal", "median": 5, "p90": 12, "mean": 6},
     "buyers.meeting_lag_days.mean", "unknown key"),
]  # fmt: skip


@pytest.mark.parametrize(("steps", "value", "key_path", "rule"), RULES)
def test_each_rule_names_file_key_and_rule(
    minimal_scenario: dict[str, Any],
    write_scenario: WriteScenario,
    steps: tuple[str | int, ...],
    value: Any,
    key_path: str,
    rule: str,
) -> None:
    path = write_scenario(put(minimal_scenario, steps, value))
    problem = the_problem(path)
    assert problem.file == str(path)
    assert problem.key_path == key_path
    assert rule in problem.message
    assert rule in str(problem)


@pytest.mark.parametrize("section", ["market", "buyers", "stages"])
def test_required_sections(
    minimal_scenario: dict[str, Any], write_scenario: WriteScenario, section: str
) -> None:
    del minimal_scenario[section]
    problem = the_problem(write_scenario(minimal_scenario))
    assert (problem.key_path, problem.message) == (section, "required key is missing")
    assert problem.value is None


def test_required_key_inside_a_stage(
    minimal_scenario: dict[str, Any], write_scenario: WriteScenario
) -> None:
    del minimal_scenario["stages"][1]["activities"]
    problem = the_problem(write_scenario(minimal_scenario))
    assert problem.key_path == "stages[1] (discovery).activities"
    assert problem.message == "required key is missing"


def test_minimal_scenario_is_valid(
    write_scenario: WriteScenario, minimal_scenario_toml: str
) -> None:
    scenario = load_scenario(write_scenario(minimal_scenario_toml))
    assert isinstance(scenario, Scenario)
    assert [s.name for s in scenario.stages] == ["outreach", "discovery"]


def test_the_value_is_shown_as_written(
    minimal_scenario: dict[str, Any], write_scenario: WriteScenario
) -> None:
    path = write_scenario(put(minimal_scenario, ("stages", 0, "p_right"), 1.2))
    assert str(the_problem(path)) == (
        f"{path}: stages[0] (outreach).p_right: Input should be less than or equal to 1 (got 1.2)"
    )


def test_wrong_type_is_reported_with_the_value(
    minimal_scenario: dict[str, Any], write_scenario: WriteScenario
) -> None:
    path = write_scenario(put(minimal_scenario, ("policies", "activities_per_call"), "four"))
    problem = the_problem(path)
    assert problem.key_path == "policies.activities_per_call"
    assert problem.value == "four"
    assert "valid integer" in problem.message
    assert '(got "four")' in str(problem)


@pytest.mark.parametrize(
    ("steps", "key_path", "hint"),
    [
        (("polices",), "polices", "did you mean 'policies'?"),
        (("team", "selers"), "team.selers", "did you mean 'sellers'?"),
        (("stages", 0, "p_rigth"), "stages[0] (outreach).p_rigth", "did you mean 'p_right'?"),
        (("buyers", "meeting_lag_days", "medain"), "buyers.meeting_lag_days.medain",
         "did you mean 'median'?"),
        (("run", "zzz"), "run.zzz", "known keys here: cohort_margin_days, horizon_days"),
    ],
)  # fmt: skip
def test_unknown_keys_are_errors_with_a_hint(
    minimal_scenario: dict[str, Any],
    write_scenario: WriteScenario,
    steps: tuple[str | int, ...],
    key_path: str,
    hint: str,
) -> None:
    if steps[-1] == "medain":
        minimal_scenario["buyers"]["meeting_lag_days"] = dict(LN)
    problem = the_problem(write_scenario(put(minimal_scenario, steps, 1)))
    assert problem.key_path == key_path
    assert problem.message.startswith("unknown key")
    assert hint in problem.message


def test_all_errors_are_reported_at_once(
    minimal_scenario: dict[str, Any], write_scenario: WriteScenario
) -> None:
    put(minimal_scenario, ("run", "horizon_days"), -1)
    put(minimal_scenario, ("team", "sellers"), 0)
    put(minimal_scenario, ("stages", 1, "buyer_tasks", 0, "duration", "median"), -5)
    put(minimal_scenario, ("policies", "bogus"), 1)
    problems = problems_of(write_scenario(minimal_scenario))
    assert {p.key_path for p in problems} == {
        "run.horizon_days",
        "team.sellers",
        "stages[1] (discovery).buyer_tasks[0] (review).duration.median",
        "policies.bogus",
    }


def test_scenario_error_lists_every_problem(
    minimal_scenario: dict[str, Any], write_scenario: WriteScenario
) -> None:
    put(minimal_scenario, ("team", "sellers"), 0)
    put(minimal_scenario, ("policies", "wip_cap"), -1)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write_scenario(minimal_scenario))
    text = str(caught.value)
    assert text.startswith("2 problems in the scenario:")
    assert "team.sellers" in text and "policies.wip_cap" in text


# --- reading files ----------------------------------------------------------------------------


def test_toml_syntax_error_gives_line_and_column(write_scenario: WriteScenario) -> None:
    path = write_scenario('name = "x"\n[run]\nhorizon_days = = 3\n')
    problem = the_problem(path)
    assert (problem.file, problem.line) == (str(path), 3)
    assert problem.column is not None
    assert problem.message.startswith("invalid TOML")
    assert str(problem).startswith(f"{path}:3:{problem.column}: invalid TOML")


def test_missing_file(tmp_path: Path) -> None:
    problem = the_problem(tmp_path / "nope.toml")
    assert problem.file == str(tmp_path / "nope.toml")
    assert problem.message == "no such file"


def test_a_folder_is_not_a_scenario(tmp_path: Path) -> None:
    assert "folder" in the_problem(tmp_path).message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "Müller"\n'.encode("latin-1"))
    assert "not UTF-8" in the_problem(path).message


# --- extends ----------------------------------------------------------------------------------


def test_extends_merges_tables_and_replaces_arrays(
    write_scenario: WriteScenario, minimal_scenario_toml: str
) -> None:
    write_scenario(minimal_scenario_toml, "base.toml")
    child = write_scenario(
        'extends = "base.toml"\nname = "child"\n[team]\nmeeting_slots_per_day = 5\n'
        '[market]\nsegments = [{ name = "big", share = 1, fit = 0.9, deal_value = 90000 }]\n',
        "child.toml",
    )
    scenario = load_scenario(child)
    assert scenario.name == "child"
    assert (scenario.team.sellers, scenario.team.meeting_slots_per_day) == (2, 5)  # merged
    assert [s.name for s in scenario.market.segments] == ["big"]  # replaced whole
    assert scenario.market.suspects_per_day == 0.5  # inherited beside the replaced array
    assert scenario.run.horizon_days == 120


def test_extends_chain_and_relative_paths(
    write_scenario: WriteScenario, minimal_scenario_toml: str
) -> None:
    write_scenario(minimal_scenario_toml, "lib/base.toml")
    write_scenario('extends = "base.toml"\n[policies]\nactivities_per_call = 4\n', "lib/mid.toml")
    leaf = write_scenario(
        'extends = "lib/mid.toml"\n[policies]\ntouch_every_days = 4\n', "leaf.toml"
    )
    policies = load_scenario(leaf).policies
    assert (policies.activities_per_call, policies.touch_every_days) == (4, 4.0)


def test_stages_by_name_merges_into_one_stage(
    write_scenario: WriteScenario, minimal_scenario_toml: str
) -> None:
    write_scenario(minimal_scenario_toml, "base.toml")
    child = write_scenario(
        'extends = "base.toml"\n[stages_by_name.discovery]\np_right = 0.8\n'
        "wrong = { momentum_loss = 0.2 }\n",
        "child.toml",
    )
    discovery = load_scenario(child).stages[1]
    assert discovery.name == "discovery"
    assert discovery.p_right == 0.8
    assert discovery.wrong.momentum_loss == 0.2
    assert discovery.activities == 3 and discovery.qualification is not None  # kept


def test_stages_by_name_unknown_stage(
    write_scenario: WriteScenario, minimal_scenario_toml: str
) -> None:
    write_scenario(minimal_scenario_toml, "base.toml")
    child = write_scenario(
        'extends = "base.toml"\n[stages_by_name.diagnosis]\np_right = 0.8\n', "child.toml"
    )
    problem = the_problem(child)
    assert (problem.file, problem.key_path) == (str(child), "stages_by_name.diagnosis")
    assert "no stage named 'diagnosis'" in problem.message
    assert "outreach, discovery" in problem.message


def test_extends_cycle(write_scenario: WriteScenario) -> None:
    write_scenario('extends = "b.toml"\n', "a.toml")
    write_scenario('extends = "c.toml"\n', "b.toml")
    c = write_scenario('extends = "a.toml"\n', "c.toml")
    problem = the_problem(c.parent / "a.toml")
    assert problem.key_path == "extends"
    assert "extends cycle: a.toml → b.toml → c.toml → a.toml" in problem.message


def test_extends_itself(write_scenario: WriteScenario) -> None:
    path = write_scenario('extends = "self.toml"\n', "self.toml")
    assert "extends cycle" in the_problem(path).message


def test_extends_missing_target(write_scenario: WriteScenario) -> None:
    path = write_scenario('extends = "nowhere.toml"\n', "child.toml")
    problem = the_problem(path)
    assert (problem.file, problem.key_path, problem.value) == (str(path), "extends", "nowhere.toml")
    assert "does not exist" in problem.message and "nowhere.toml" in problem.message


def test_extends_must_be_a_string(write_scenario: WriteScenario) -> None:
    problem = the_problem(write_scenario("extends = 3\n"))
    assert problem.key_path == "extends"


def test_inherited_error_names_the_file_it_was_written_in(
    write_scenario: WriteScenario, minimal_scenario: dict[str, Any]
) -> None:
    base = write_scenario(put(minimal_scenario, ("stages", 0, "p_right"), 3), "base.toml")
    child = write_scenario('extends = "base.toml"\n[team]\nsellers = 0\n', "child.toml")
    problems = {p.key_path: p for p in problems_of(child)}
    inherited = problems["stages[0] (outreach).p_right"]
    assert inherited.file == str(base)
    assert inherited.via == f"in {child} extending {base}"
    assert f"{base} (in {child} extending {base})" in str(inherited)
    own = problems["team.sellers"]
    assert (own.file, own.via) == (str(child), None)


def test_syntax_error_in_a_base_file(write_scenario: WriteScenario) -> None:
    base = write_scenario("x = = 1\n", "base.toml")
    problem = the_problem(write_scenario('extends = "base.toml"\n', "child.toml"))
    assert (problem.file, problem.line) == (str(base), 1)


# --- --set ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "get", "expected"),
    [
        ("policies.activities_per_call=4", lambda s: s.policies.activities_per_call, 4),
        ("policies.touch_every_days=3.5", lambda s: s.policies.touch_every_days, 3.5),
        ("name=My variant", lambda s: s.name, "My variant"),
        ('name="quoted"', lambda s: s.name, "quoted"),
        ("stages[1].p_right=0.8", lambda s: s.stages[1].p_right, 0.8),
        ("stages.1.p_right=0.7", lambda s: s.stages[1].p_right, 0.7),
        ("stages.discovery.p_right=0.6", lambda s: s.stages[1].p_right, 0.6),
        ("stages.outreach.sets_forecast=false", lambda s: s.stages[0].sets_forecast, False),
        ("stages[1].buyer_tasks[0].duration.median=2",
         lambda s: s.stages[1].buyer_tasks[0].duration.median, 2),
        ('buyers.group_size={ dist = "constant", value = 4 }', lambda s: s.buyers.group_size.value,
         4),
        ("market.schedule.by_month=[1,1,1,1,1,1,1,1,1,1,1,2]",
         lambda s: s.market.schedule.by_month[-1], 2),
        ("forecast.push_days=10", lambda s: s.forecast.push_days, 10),  # table not in the file
        (" team.sellers = 5 ", lambda s: s.team.sellers, 5),
    ],
)  # fmt: skip
def test_set_overrides(
    write_scenario: WriteScenario,
    minimal_scenario_toml: str,
    override: str,
    get: Callable[[Scenario], Any],
    expected: Any,
) -> None:
    assert get(load_scenario(write_scenario(minimal_scenario_toml), [override])) == expected


def test_set_applies_after_extends(
    write_scenario: WriteScenario, minimal_scenario_toml: str
) -> None:
    write_scenario(minimal_scenario_toml, "base.toml")
    child = write_scenario('extends = "base.toml"\n[team]\nsellers = 4\n', "child.toml")
    assert load_scenario(child, ["team.sellers=6"]).team.sellers == 6


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("policies.activities_per_call", "expected KEY=VALUE"),
        ("=4", "expected KEY=VALUE"),
        ("stages[9].p_right=1", "has 2 items, so no index 9"),
        ("stages.closing.p_right=1", "no item named 'closing' (names: outreach, discovery)"),
        ("name.first=1", "is a value"),
        ("team[0]=1", "is a table, not an array"),
        ("stages..p_right=1", "cannot read the key path"),
        ("[0].x=1", "starts with a key"),
        ("extends=other.toml", "cannot be set on the command line"),
        ("stages_by_name.discovery.p_right=1", "use stages.<name>.<key>=value"),
    ],
)
def test_bad_set_paths(
    write_scenario: WriteScenario, minimal_scenario_toml: str, override: str, words: str
) -> None:
    problem = the_problem(write_scenario(minimal_scenario_toml), (override,))
    assert problem.file == f"--set {override}"
    assert words in problem.message


def test_set_value_errors_name_the_override(
    write_scenario: WriteScenario, minimal_scenario_toml: str
) -> None:
    problems = problems_of(
        write_scenario(minimal_scenario_toml),
        ("policies.activities_per_call=0", "stages.discovery.p_right=high", "team.selers=3"),
    )
    by_path = {p.key_path: p for p in problems}
    assert by_path["policies.activities_per_call"].file == "--set policies.activities_per_call=0"
    assert by_path["stages[1] (discovery).p_right"].file == "--set stages.discovery.p_right=high"
    assert by_path["stages[1] (discovery).p_right"].value == "high"
    assert "did you mean 'sellers'" in by_path["team.selers"].message


def test_set_replacing_a_table_forgets_what_was_in_it(
    write_scenario: WriteScenario, minimal_scenario_toml: str
) -> None:
    problem = the_problem(
        write_scenario(minimal_scenario_toml), ('stages[1].buyer_tasks=[{ name = "x" }]',)
    )
    assert problem.key_path == "stages[1] (discovery).buyer_tasks[0] (x).duration"
    assert problem.file == '--set stages[1].buyer_tasks=[{ name = "x" }]'


# --- JSON Schema and rendering ----------------------------------------------------------------


def test_json_schema() -> None:
    schema = scenario_json_schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"] == "simsales scenario"
    assert "activities_per_call" in json.dumps(schema)
    assert {"extends", "stages_by_name", "market", "stages"} <= set(schema["properties"])
    assert schema["else"]["required"] == ["market", "buyers", "stages"]
    deal_value = schema["$defs"]["Segment"]["properties"]["deal_value"]
    assert {"type": "number", "description": "a constant"} in deal_value["anyOf"]
    json.dumps(schema)  # serialisable


def test_render_path_and_values() -> None:
    assert render_path(("stages", 3, "buyer_tasks", 0, "duration", "median")) == (
        "stages[3].buyer_tasks[0].duration.median"
    )
    assert (
        render_path(("stages", 3, "p_right"), {1: "discovery"}) == "stages[3] (discovery).p_right"
    )
    assert format_value({"dist": "lognormal", "median": 5}) == '{ dist = "lognormal", median = 5 }'
    assert format_value(True) == "true"
    assert format_value("x" * 100).endswith("…")


@pytest.mark.parametrize(
    ("steps", "value", "key_path"),
    [
        (("team", "sellers"), True, "team.sellers"),
        (("stages", 0, "p_right"), "0.8", "stages[0] (outreach).p_right"),
        (("run", "horizon_days"), float("inf"), "run.horizon_days"),
        (("market", "suspects_per_day"), float("nan"), "market.suspects_per_day"),
    ],
)
def test_wrong_types_and_infinities_are_errors_not_coerced(
    minimal_scenario: dict[str, Any],
    write_scenario: WriteScenario,
    steps: tuple[str | int, ...],
    value: Any,
    key_path: str,
) -> None:
    problem = the_problem(write_scenario(put(minimal_scenario, steps, value)))
    assert problem.key_path == key_path


def test_stage_list_rules_reported_beside_field_errors(
    minimal_scenario: dict[str, Any], write_scenario: WriteScenario
) -> None:
    put(minimal_scenario, ("stages", 0, "consensus_share"), 0.2)
    put(minimal_scenario, ("team", "sellers"), 0)
    paths = {p.key_path for p in problems_of(write_scenario(minimal_scenario))}
    assert paths == {"stages", "team.sellers"}


def test_a_set_inside_a_key_in_error_is_named_as_the_source(
    minimal_scenario: dict[str, Any], write_scenario: WriteScenario
) -> None:
    path = write_scenario(minimal_scenario)
    problem = the_problem(path, ("buyers.meeting_lag_days.dist=poisson",))
    assert problem.file == "--set buyers.meeting_lag_days.dist=poisson"
    assert problem.key_path == "buyers.meeting_lag_days"
