"""``simsales explain``: the process map of a scenario, as text and as a flow chart.

The map must name everything a sales manager needs (every stage, activity count, buyer task, lever
with its value, key paths to change them), and its numbers must be the model's: calls per stage at
the current compression, the consensus formula, the calls a deal really makes when every step goes
right, the chance of going dark in a gap. The flow chart must be written safely and stay readable
(no text overlapping other text or leaving its box) for short and long processes.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result
from conftest import dump_toml
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import FancyBboxPatch
from model_helpers import baseline_dict, make_scenario, minimal_dict, run_table
from PIL import Image

from simsales.analysis.process_map import (
    CONSENSUS_GROUP_SIZES,
    ProcessMap,
    calls_if_all_right,
    dark_risk,
    describe_distribution,
    process_map,
)
from simsales.cli import main
from simsales.model.momentum import hazard
from simsales.plots import process_map_figure
from simsales.report.explain_output import render_text
from simsales.scenario import Scenario, load_scenario
from simsales.scenario.distributions import (
    Beta,
    Constant,
    Empirical,
    LogNormal,
    Triangular,
    Uniform,
)
from simsales.scenario.schema import Policies

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"

WriteScenario = Callable[..., Path]


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def _stages(n: int) -> list[dict[str, Any]]:
    """``n`` stages with a mix of tasks, offline work, a qualifying stage and long names."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        stage: dict[str, Any] = {
            "name": f"stage {i + 1} with a rather long name" if i % 3 == 1 else f"s{i + 1}",
            "activities": (1 + i) % 4,  # the 4th stage has no calls
            "gate": 0.05,  # the baseline's buying group as people: a gate per stage
            "wrong": {"momentum_loss": 0.1, "lag_factor": 1.2, "decision_factor": 0.9},
        }
        if i % 2:
            stage["buyer_tasks"] = [
                {"name": f"task {i}", "duration": {"dist": "lognormal", "median": 3, "p90": 9}}
            ]
        if i % 3 == 2:
            stage["seller_work_hours"] = 4.0
        out.append(stage)
    out[n // 2]["qualification"] = {}
    out[0]["sets_forecast"] = True
    return out


def scenario_with_stages(n: int, *, qualify: bool = True) -> Scenario:
    data = baseline_dict()
    data["stages"] = _stages(n)
    data["crm"].pop("opens_at")  # the baseline's stage names are gone: open at the second stage
    data["name"] = f"{n} stages"
    if not qualify:  # no disqualification, and suspects wait for ever: fewer exits
        del data["stages"][n // 2]["qualification"]
        data["market"]["patience_days"] = 0.0
    return make_scenario(data)


# --- the text ----------------------------------------------------------------------------------


def test_text_names_every_stage_activity_task_and_lever() -> None:
    scenario = load_scenario(BASELINE)
    result = invoke("explain", BASELINE)
    assert result.exit_code == 0, result.output
    text = result.output
    for stage in scenario.stages:
        assert f"{stage.name.upper()}  [stages.{stage.name}]" in text
        assert f"{stage.activities} activities" in text
        for task in stage.buyer_tasks:
            assert f"{task.name}: {describe_distribution(task.duration, 'd')}" in text
    assert "gather data and people: median 5 d, p90 12 d" in text
    assert "8 h of offline work" in text  # the proposal in diagnosis
    levers = text[text.index("LEAN LEVERS") :]
    # one entry per lever: a line with the value at column 4, then its wrapped meaning
    entries = re.split(r"\n(?=   \S)", levers)[1:]
    shown = {re.findall(r"\[([^\]]+)\]", e)[-1]: e.split()[0] for e in entries}
    for name in Policies.model_fields:  # every lever, including ones added after this test
        value = getattr(scenario.policies, name)
        if isinstance(value, str):  # a choice, such as the pool's order
            assert shown[f"policies.{name}"] == value, name
        else:
            assert float(shown[f"policies.{name}"]) == pytest.approx(value), name
    assert re.search(r"\n   8 +Number of sellers in the team\. \[team\.sellers\]", levers)
    assert "least_loaded" in levers and "[team.assignment]" in levers


def test_every_policies_field_is_a_lever_with_its_description() -> None:
    pm = process_map(load_scenario(BASELINE, ["policies.touch_every_days=4"]))
    keys = [lever.key for lever in pm.levers]
    assert keys[: len(Policies.model_fields)] == [f"policies.{k}" for k in Policies.model_fields]
    by_key = {lever.key: lever for lever in pm.levers}
    assert by_key["policies.touch_every_days"].value == "4"
    assert by_key["policies.touch_every_days"].zero_means == ""
    assert by_key["policies.wip_cap"].zero_means == "no cap"
    for name, field in Policies.model_fields.items():
        assert by_key[f"policies.{name}"].meaning == field.description


def test_calls_follow_activities_per_call() -> None:
    def calls(text: str) -> list[tuple[int, int]]:
        return [
            (int(a), int(c)) for a, c in re.findall(r"(\d+) activities → (\d+) calls? at", text)
        ]

    one = invoke("explain", BASELINE)
    four = invoke("explain", BASELINE, "--set", "policies.activities_per_call=4")
    assert one.exit_code == four.exit_code == 0
    scenario = load_scenario(BASELINE)
    activities = [s.activities for s in scenario.stages]
    assert calls(one.output) == [(a, a) for a in activities]
    assert calls(four.output) == [(a, math.ceil(a / 4)) for a in activities]
    assert "at 4 per call" in four.output
    assert re.search(r"\n   4 +Call compression", four.output)


def test_calls_if_all_right_run_on_into_the_next_stage() -> None:
    stages = load_scenario(BASELINE).stages  # 2, 2, 4 + task, 3 + proposal, 2 + task
    assert calls_if_all_right(stages, 1) == 13
    assert calls_if_all_right(stages, 2) == 1 + 1 + 2 + 2 + 1  # full agendas: no run-on
    assert calls_if_all_right(stages, 3) == 5  # 2+1 | 1+2 | 2 (+ task) | 3 (+ proposal) | 2
    assert calls_if_all_right(stages, 20) == 3  # the first three stages in one call


@pytest.mark.parametrize("apc", [1, 3, 5])
def test_calls_if_all_right_is_what_the_model_does(apc: int) -> None:
    """A process where nothing can go wrong: every deal makes exactly that many calls."""
    data = minimal_dict()
    data["run"]["horizon_days"] = 400.0
    data["buyers"]["consensus"] = {"p_one": 1.0, "q_per_extra": 1.0}
    data["buyers"]["comfortable_activities_per_call"] = 10  # no overload: nothing goes wrong
    data["buyers"]["no_decision"] = {"max_hazard_per_day": 0.0}
    data["stages"] = [
        {"name": "a", "activities": 2, "p_right": 1.0, "consensus_share": 0.25},
        {"name": "b", "activities": 3, "p_right": 1.0, "consensus_share": 0.25},
        {"name": "c", "activities": 0, "consensus_share": 0.0, "seller_work_hours": 2.0},
        {"name": "d", "activities": 4, "p_right": 1.0, "consensus_share": 0.25,
         "buyer_tasks": [{"name": "review", "duration": 3.0}]},
        {"name": "e", "activities": 1, "p_right": 1.0, "consensus_share": 0.25},
    ]  # fmt: skip
    scenario = make_scenario(data, policies__activities_per_call=apc)
    cols = run_table(scenario, seed=3)
    decided = cols["calls"][np.isin(cols["outcome"], [1, 2])]  # won or lost
    assert decided.size > 50
    assert set(decided.tolist()) == {calls_if_all_right(scenario.stages, apc)}


def test_consensus_figures_are_the_formula() -> None:
    """Without [buyers.group], the map shows the consensus formula p_one · q^(n−1)."""
    data = minimal_dict()
    data["buyers"]["consensus"] = {"p_one": 0.81, "q_per_extra": 0.7}
    scenario = make_scenario(data)
    pm = process_map(scenario)
    assert not pm.people
    c = scenario.buyers.consensus
    mean = scenario.buyers.group_size.mean
    sizes = [p.group_size for p in pm.consensus]
    assert sizes == [*map(float, CONSENSUS_GROUP_SIZES), mean]
    for point in pm.consensus:
        assert point.probability == pytest.approx(c.p_one * c.q_per_extra ** (point.group_size - 1))
    text = render_text(pm)
    assert "purchase likelihood by group size: 1: 81%" in text
    assert "6: 14%" in text  # 0.81 * 0.7 ** 5 = 0.136


def test_the_buying_group_as_people_shows_its_gates() -> None:
    """With [buyers.group], each stage's gate, and how a group nobody met but the champion fares."""
    scenario = load_scenario(BASELINE)
    group = scenario.buyers.group
    assert group is not None
    pm = process_map(scenario)
    assert pm.people
    for point in pm.consensus:
        expected = 1.0
        for stage in scenario.stages:
            expected *= 1 - stage.gate * (1 - group.champion_alignment)
            expected *= (1 - stage.gate * (1 - group.initial_alignment)) ** (point.group_size - 1)
        assert point.probability == pytest.approx(expected)
    text = " ".join(render_text(pm).split())
    assert "passes every gate, by group size: 1:" in text
    assert "[stages.outreach.gate]" in text and "[buyers.group.align_right]" in text


def test_qualification_and_going_dark_are_shown_with_their_drivers() -> None:
    wrapped = render_text(process_map(load_scenario(BASELINE)))
    for line in wrapped.splitlines():
        assert len(line) <= 100, line
    text = " ".join(wrapped.split())
    assert "disqualifies it below 0.25 [policies.qualification_strictness]" in text
    assert "0.0007 background" in text
    assert "0.008 [buyers.no_decision.max_hazard_per_day]" in text
    assert "halves every 21 days" in text
    assert "25% chance the buyer stops engaging at once" in text  # outreach done wrong
    assert "discount of 5% to 20%" in text  # close done wrong


def test_speed_to_lead_the_sellers_day_and_pace_are_shown() -> None:
    """The v2 mechanisms that act before the first call: the reach-out and the fading chance to
    answer, the selling part of a seller's day, and each deal's pace."""
    text = " ".join(render_text(process_map(load_scenario(BASELINE))).split())
    assert "speed to lead: the seller reaches out first (0.25 h" in text
    assert "answers with 90% if reached the moment it arrives" in text
    assert "halving every 3 days [market.leads.interest_half_life_days]" in text
    assert "45% after 3 d" in text  # 0.9 * 0.5 ** (3 / 3)
    assert "60% of it on non-selling work" in text and "3.2 h for calls" in text
    assert "[buyers.pace]" in text and "pace^0.6 [buyers.pace_on_attention]" in text
    plain = " ".join(render_text(process_map(make_scenario(team__non_selling_share=0.0))).split())
    assert "speed to lead" not in plain and "non-selling" not in plain
    assert "each has 8 h a day for selling" in plain
    assert "pace^" not in plain  # pace_on_attention 0: attention as before


def test_raised_defences_end_as_no_response_before_the_opening_and_no_decision_after() -> None:
    scenario = load_scenario(BASELINE, ["stages.commitment.wrong.end_chance=0.1"])
    pm = process_map(scenario)
    outreach, commitment = pm.stages[0], pm.stages[1]
    assert any("raised defences): no response" in w for w in outreach.wrong)
    assert any("raised defences): no decision" in w for w in commitment.wrong)
    text = " ".join(render_text(pm).split())
    assert "a stakeholder not won over blocks it at the stage's gate" in text
    assert "consensus penalty), and a wrong step" not in text  # no formula with the group


def test_dark_risk_integrates_the_models_hazard() -> None:
    scenario = load_scenario(BASELINE)
    nd = scenario.buyers.no_decision
    h, days, m0 = 21.0, 14.0, 0.9
    t = np.linspace(0.0, days, 20_001)
    rates = [
        hazard(m0, x, math.log(2) / h, nd.max_hazard_per_day, nd.shape,
               nd.background_hazard_per_day)
        for x in t
    ]  # fmt: skip
    expected = 1.0 - math.exp(-float(np.trapezoid(rates, t)))
    assert dark_risk(scenario, h, days, m0) == pytest.approx(expected, rel=1e-6)
    touched = load_scenario(BASELINE, ["policies.touch_every_days=4"])
    assert dark_risk(touched, h, days, m0) < expected  # touches keep momentum up


@pytest.mark.parametrize(
    ("dist", "unit", "words"),
    [
        (LogNormal(median=5, p90=12), "d", "median 5 d, p90 12 d"),
        (Constant(value=3), "", "3"),
        (Uniform(low=0.05, high=0.2), "", "0.05 to 0.2, evenly"),
        (Triangular(low=2, mode=4, high=9), "d", "2 d to 9 d, most likely 4 d"),
        (Beta(mean=0.65, concentration=6), "", "mean 0.65, beta concentration 6"),
        (Empirical(values=[3, 5, 7]), "", "3 to 7, mean 5"),
        (LogNormal(median=40000, p90=90000), "EUR", "median 40,000 EUR, p90 90,000 EUR"),
    ],
)
def test_distributions_in_words(dist: Any, unit: str, words: str) -> None:
    assert describe_distribution(dist, unit) == words


def test_a_narrow_terminal_still_wraps() -> None:
    text = render_text(process_map(load_scenario(BASELINE)), width=70)
    assert max(len(line) for line in text.splitlines()) <= 70


# --- the command -------------------------------------------------------------------------------


def test_bad_scenario_exits_2_with_a_clear_message(
    write_scenario: WriteScenario, minimal_scenario_toml: str
) -> None:
    bad = write_scenario(minimal_scenario_toml.replace("sellers = 2", "sellers = 0"), "bad.toml")
    result = invoke("explain", bad)
    assert result.exit_code == 2
    assert "bad.toml" in result.output and "team.sellers" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    missing = invoke("explain", bad.parent / "nowhere.toml")
    assert missing.exit_code == 2 and "nowhere.toml" in missing.output
    override = invoke("explain", BASELINE, "--set", "policies.activities_per_call=0")
    assert override.exit_code == 2 and "policies.activities_per_call" in override.output


def test_figure_is_written_and_not_overwritten(tmp_path: Path) -> None:
    png = tmp_path / "map.png"
    first = invoke("explain", BASELINE, "--figure", png)
    assert first.exit_code == 0, first.output
    assert f"flow chart written to {png}" in first.output
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 10_000
    with Image.open(png) as image:
        assert image.size[0] > 1000 and image.size[1] > 800
    assert [p.name for p in tmp_path.iterdir()] == ["map.png"]  # no temporary file left

    again = invoke("explain", BASELINE, "--set", "team.sellers=3", "--figure", png)
    assert again.exit_code == 2
    assert "already exists" in again.output and "--force" in again.output
    assert "LEAN LEVERS" not in again.output  # refused before doing anything
    assert png.read_bytes() == data

    forced = invoke("explain", BASELINE, "--set", "team.sellers=3", "--figure", png, "--force")
    assert forced.exit_code == 0, forced.output
    assert png.read_bytes() != data


@pytest.mark.parametrize(("ext", "magic"), [("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_figure_formats(tmp_path: Path, ext: str, magic: bytes) -> None:
    path = tmp_path / f"map.{ext}"
    assert invoke("explain", BASELINE, "--figure", path).exit_code == 0
    assert path.read_bytes().startswith(magic)


def test_figure_with_an_unknown_extension_is_refused(tmp_path: Path) -> None:
    result = invoke("explain", BASELINE, "--figure", tmp_path / "map.jpeg")
    assert result.exit_code == 2 and ".png, .svg, .pdf" in result.output
    assert not any(tmp_path.iterdir())


# --- the flow chart stays readable ---------------------------------------------------------------


def _check_layout(pm: ProcessMap) -> None:
    """No text overlaps another; every text in a box lies inside it; all is on the figure."""
    fig = process_map_figure(pm)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    page = fig.bbox
    boxes = [p.get_window_extent(renderer) for p in ax.patches if isinstance(p, FancyBboxPatch)]
    texts = [(t.get_text(), t.get_window_extent(renderer)) for t in ax.texts if t.get_text()]
    assert len(texts) > 30
    for text, ext in texts:
        assert page.x0 <= ext.x0 and ext.x1 <= page.x1, text
        assert page.y0 <= ext.y0 and ext.y1 <= page.y1, text
    boxed = 0
    for text, ext in texts:
        around = [
            b
            for b in boxes
            if b.x0 <= ext.x0 + 1 and b.y0 <= ext.y1 + 1 and b.y1 >= ext.y1 - 1 and b.x1 >= ext.x0
        ]
        if around:  # a text that starts in a box must end inside it
            boxed += 1
            assert any(b.x1 >= ext.x1 - 0.5 and b.y0 <= ext.y0 + 0.5 for b in around), text
    assert boxed > 0.8 * len(texts)
    for i, (a, ea) in enumerate(texts):
        for b, eb in texts[i + 1 :]:
            overlap_x = min(ea.x1, eb.x1) - max(ea.x0, eb.x0)
            overlap_y = min(ea.y1, eb.y1) - max(ea.y0, eb.y0)
            assert overlap_x <= 0.5 or overlap_y <= 0.5, (a, b)


def test_the_flow_chart_names_going_dark_as_the_crm_counts_it() -> None:
    """Before the stage where the CRM opens an opportunity a deal that goes dark is no response."""
    pm = process_map(load_scenario(BASELINE))
    assert pm.opens_at == 2  # commitment
    fig = process_map_figure(pm)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("goes dark: no response") == 1  # outreach
    assert texts.count("goes dark: no decision") == len(pm.stages) - 1


@pytest.mark.parametrize(("n", "qualify"), [(3, True), (8, True), (4, False)])
def test_flow_chart_is_clean_for_short_and_long_processes(n: int, qualify: bool) -> None:
    pm = process_map(scenario_with_stages(n, qualify=qualify))
    assert len(pm.stages) == n
    assert any(st.activities == 0 for st in pm.stages) == (n > 3)
    _check_layout(pm)
    text = render_text(pm)
    assert ("disqualified:" in text) == qualify and ("unworked:" in text) == qualify


def test_flow_chart_is_clean_for_the_baseline() -> None:
    scenario = load_scenario(BASELINE)
    _check_layout(process_map(scenario))
    fig = process_map_figure(process_map(scenario))
    words = " ".join(t.get_text() for t in fig.axes[0].texts)
    for stage in scenario.stages:
        assert stage.name in words
        for task in stage.buyer_tasks:
            assert task.name in words
    for name in Policies.model_fields:
        assert f"policies.{name} = " in words
    assert "disqualified" in words and "goes dark" in words and "↺" in words


def test_three_and_eight_stage_scenarios_explain(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    """The command with a tiny TOML file, as a user would write one."""
    data = copy.deepcopy(minimal_dict())
    data["stages"] = _stages(3)
    data["buyers"]["group"] = {}  # the stages have gates: the buying group as people
    path = write_scenario(dump_toml(data), "three.toml")
    result = invoke("explain", path, "--figure", tmp_path / "three.svg")
    assert result.exit_code == 0, result.output
    for stage in data["stages"]:
        assert f"{stage['name'].upper()}  [stages.{stage['name']}]" in result.output


@pytest.mark.skipif("accounts" not in Scenario.model_fields, reason="no account lifecycle")
def test_the_account_lifecycle_is_listed_when_there_is_one(write_scenario: WriteScenario) -> None:
    path = write_scenario(f'extends = "{BASELINE.as_posix()}"\nname = "acc"\n[accounts]\n')
    result = invoke("explain", path)
    assert result.exit_code == 0, result.output
    after = " ".join(result.output[result.output.index("AFTER THE SALE") :].split())
    for part in ("contract", "onboarding", "expansion", "churn", "offboarding"):
        assert f"[accounts.{part}]" in after
    assert "AFTER THE SALE" not in invoke("explain", BASELINE).output


def test_the_readme_figure_is_there_and_small() -> None:
    figure = ROOT / "docs" / "figures" / "process-map.png"
    assert 10_000 < figure.stat().st_size < 200_000
    assert "simsales explain scenarios/baseline.toml --figure docs/figures/process-map.png" in (
        ROOT / "README.md"
    ).read_text(encoding="utf-8")
