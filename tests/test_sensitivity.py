"""Sensitivity (tornado) experiments: the ``[sensitivity]`` table and its errors, the lever settings
around the base, the run on common random numbers, the tornado with intervals, the command's
text, JSON and files, and the bundled ``experiments/sensitivity.toml``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from simsales.analysis import paired_difference
from simsales.cli import main
from simsales.experiment import load_experiment, run_experiment
from simsales.experiment.answer import experiment_answer
from simsales.experiment.sensitivity import (
    DEFAULT_METRICS,
    Lever,
    base_value,
    lever_settings,
    sensitivity_effects,
)
from simsales.plots import tornado
from simsales.report.figures import tornado_figures
from simsales.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent
HEAD = 'name = "sens"\nbase = "tiny.toml"\nreplications = 3\n'
LEVERS = """[sensitivity]
[[sensitivity.levers]]
key = "policies.activities_per_call"
step = 1
[[sensitivity.levers]]
key = "team.sellers"
high = 4
[[sensitivity.levers]]
key = "policies.qualification_strictness"
factor = 2
"""


@pytest.fixture
def folder(tmp_path: Path, minimal_scenario_toml: str) -> Path:
    (tmp_path / "tiny.toml").write_text(minimal_scenario_toml, "utf-8")
    return tmp_path


def write(folder: Path, text: str) -> Path:
    path = folder / "sens.toml"
    path.write_text(text, "utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    return [str(p).replace(f"{path.parent}/", "") for p in info.value.problems]


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def lever_text(**fields: object) -> str:
    body = "".join(f"{k} = {json.dumps(v)}\n" for k, v in fields.items())
    return "[sensitivity]\n[[sensitivity.levers]]\n" + body


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            lever_text(key="policies.wip_cap", low=1, step=1),
            "sens.toml: sensitivity.levers[0]: give low and/or high, or a step, or a factor",
        ),
        (lever_text(key="policies.wip_cap"), "give low and/or high, or a step, or a factor"),
        (lever_text(key="policies.wip_cap", low=5, high=3), "low (5) must be below high (3)"),
        (lever_text(key="policies.wip_cap", step=-1), "levers[0].step: Input should be greater"),
        (lever_text(key="policies.wip_cap", factor=1), "levers[0].factor: Input should be greater"),
        (
            lever_text(key="policies.wip_cap", stepp=1),
            "levers[0].stepp: unknown key; did you mean 'step'?",
        ),
        (
            LEVERS + lever_text(key="team.sellers", step=1).removeprefix("[sensitivity]\n"),
            "sens.toml: sensitivity: each lever once; repeated: team.sellers",
        ),
        (
            lever_text(key="policies.wip_cp", high=3),
            "sensitivity.levers[0].key: the base scenario has no key 'policies.wip_cp'",
        ),
        (
            lever_text(key="team.assignment", step=1),
            'levers[0]: the base value is "least_loaded", not a number',
        ),
        (
            lever_text(key="policies.wip_cap", low=0, high=3),
            "levers[0]: low equals the base value 0: the lever would not move",
        ),
        (lever_text(key="team.sellers", high=1), "high (1) is below the base (2)"),
        (
            # activities_per_call is 2 in the tiny scenario: a step of 2 reaches 0
            lever_text(key="policies.activities_per_call", step=2),
            "sens.toml: sensitivity.levers[0].step: Input should be greater than or equal to 1",
        ),
        (
            LEVERS + '[sweep]\n[[sweep.keys]]\nkey = "team.sellers"\nvalues = [3]\n',
            "sens.toml: sensitivity: give only one of [[variants]], [sweep] and [sensitivity]",
        ),
        (
            HEAD.replace("replications = 3\n", 'metrics = ["cycle_median_won_dayz"]\n') + LEVERS,
            "metrics[0]: unknown metric; did you mean 'cycle_median_won_days'?",
        ),
    ],
)
def test_sensitivity_rules(folder: Path, text: str, expected: str) -> None:
    found = problems(write(folder, HEAD + text if not text.startswith("name") else text))
    assert any(expected in p for p in found), found


def test_the_cli_says_the_problems_and_exits_2(folder: Path) -> None:
    result = invoke("experiment", write(folder, HEAD + lever_text(key="policies.wip_cp", high=3)))
    assert result.exit_code == 2
    assert "sensitivity.levers[0].key: the base scenario has no key" in result.output
    assert "Traceback" not in result.output


# --- lever settings -----------------------------------------------------------------------------


def test_settings_around_the_base() -> None:
    assert lever_settings(Lever(key="k", step=0.1), 0.3) == (0.2, 0.4)  # no float noise
    assert lever_settings(Lever(key="k", step=2), 8) == (6, 10)
    assert lever_settings(Lever(key="k", factor=1.5), 8) == (5, 12)  # a count stays whole
    assert lever_settings(Lever(key="k", factor=2.0), 3.0) == (1.5, 6.0)
    assert lever_settings(Lever(key="k", high=3), 1) == (None, 3)
    with pytest.raises(ValueError, match="would not move"):
        lever_settings(Lever(key="k", factor=1.2), 2)  # rounds back to 2


def test_base_value_reads_stages_by_name_and_constants(folder: Path) -> None:
    tiny = load_scenario(folder / "tiny.toml")
    assert base_value(tiny, "stages.discovery.activities") == 3
    assert base_value(tiny, "stages[0].activities") == 2
    assert base_value(tiny, "market.segments.mid.fit") == 0.7  # a constant distribution
    with pytest.raises(KeyError, match="has no item named"):
        base_value(tiny, "stages.nope.activities")


def test_metrics_default_to_the_time_to_a_win_and_no_decision(folder: Path) -> None:
    exp = load_experiment(write(folder, HEAD + LEVERS))
    assert (
        exp.spec.metrics == list(DEFAULT_METRICS) == ["cycle_median_won_days", "no_decision_rate"]
    )
    assert exp.kind == "sensitivity"


# --- running ------------------------------------------------------------------------------------


def test_each_setting_is_a_paired_variant_of_the_base(folder: Path) -> None:
    exp = load_experiment(write(folder, HEAD + LEVERS))
    assert [s.name for s in exp.scenarios] == [
        "activities_per_call=1",
        "activities_per_call=3",
        "sellers=4",
        "qualification_strictness=0.15",
        "qualification_strictness=0.6",
    ]
    sellers = exp.levers[1]
    assert (sellers.base, sellers.low, sellers.high) == (2, None, 4)
    assert (sellers.low_name, sellers.high_name) == (None, "sellers=4")
    assert exp.scenarios[2].team.sellers == 4 and exp.base.team.sellers == 2
    result = run_experiment(exp)
    comparison = result.comparison
    assert comparison.variant_names == tuple(s.name for s in exp.scenarios)
    for metric in exp.spec.metrics:
        effects = sensitivity_effects(result, metric)
        swings = [e.swing for e in effects]
        assert swings == sorted(swings, reverse=True)
        assert {e.lever.key for e in effects} == {lever.key for lever in exp.levers}
        for effect in effects:
            for side, name in (
                (effect.down, effect.lever.low_name),
                (effect.up, effect.lever.high_name),
            ):
                if name is None:
                    assert side is None
                    continue
                assert side is not None
                reps = comparison.per_replication
                expected = paired_difference(
                    [r[metric] for r in reps[exp.base.name]], [r[metric] for r in reps[name]]
                )
                assert side.mean == pytest.approx(expected.mean, nan_ok=True)
    doc = result.to_dict()
    assert doc["kind"] == "sensitivity"
    assert doc["levers"][1] == {
        "key": "team.sellers",
        "base": 2,
        "low": None,
        "high": 4,
        "low_scenario": None,
        "high_scenario": "sellers=4",
    }
    answer = experiment_answer(result)
    assert {m: [e.lever.key for e in answer.levers[m]] for m in exp.spec.metrics} == {
        m: [e.lever.key for e in sensitivity_effects(result, m)] for m in exp.spec.metrics
    }
    figures = tornado_figures(result, answer)
    assert list(figures) == ["tornado_cycle_median_won_days", "tornado_no_decision_rate"]
    ax = figures["tornado_no_decision_rate"].axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert "sellers\n– ← 2 → 4" in ticks
    assert "(points)" in ax.get_xlabel()


def test_tornado_draws_intervals_and_marks_changes_lost_in_noise() -> None:
    effects = [("a", -10.0, 4.0), ("b", math.nan, 1.0)]
    intervals = {"a": ((-14.0, -6.0), (-1.0, 9.0)), "b": (None, (0.5, 1.5))}
    fig = tornado(effects, metric_label="median (days)", intervals=intervals)
    (ax,) = fig.axes
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == ["(+4)", "+1", "-10"]  # 4's interval includes 0
    assert len([c for c in ax.containers if type(c).__name__ == "ErrorbarContainer"]) == 3
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "95% interval (paired); (value): interval includes 0" in legend
    shares = tornado([("a", -0.02, 0.01)], metric_label="share", percent=True)
    assert [t.get_text() for t in shares.axes[0].texts] == ["-2", "+1"]


def test_cli_text_json_and_files(folder: Path) -> None:
    path = write(folder, HEAD + LEVERS)
    text = invoke("experiment", path, "-r", "2")
    assert text.exit_code == 0, text.output
    assert (
        "sens: sensitivity of 3 levers, 5 settings, from base tiny; 2 replications" in text.output
    )
    assert "cycle_median_won_days (base" in text.output
    assert "one step down" in text.output and "swing" in text.output
    assert "no_decision_rate: " in text.output
    shown = invoke("experiment", path, "-r", "2", "--format", "json")
    assert shown.exit_code == 0, shown.output
    doc = json.loads(shown.stdout)
    assert doc["kind"] == "sensitivity" and len(doc["levers"]) == 3
    out = folder / "out"
    written = invoke("experiment", path, "-r", "2", "--out", out)
    assert written.exit_code == 0, written.output
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures == [
        "tornado_cycle_median_won_days.png",
        "tornado_cycle_median_won_days.svg",
        "tornado_no_decision_rate.png",
        "tornado_no_decision_rate.svg",
    ]
    report = (out / "report.md").read_text()
    assert "- Sensitivity of 3 levers, each moved one step from the base:" in report
    assert "  - `team.sellers`: – ← 2 → 4" in report
    assert "### `cycle_median_won_days`: base" in report
    assert "| lever | base | one step down | one step up | swing |" in report
    assert "![tornado_no_decision_rate](figures/tornado_no_decision_rate.png)" in report
    assert "## Findings" in report


# --- the bundled experiment ---------------------------------------------------------------------


def test_the_bundled_sensitivity_runs_reduced_through_the_cli() -> None:
    path = ROOT / "experiments" / "sensitivity.toml"
    exp = load_experiment(path)
    assert exp.kind == "sensitivity"
    assert {lever.key for lever in exp.levers} >= {
        "policies.activities_per_call",
        "policies.touch_every_days",
        "policies.book_next_within_days",
        "policies.qualification_strictness",
        "policies.wip_cap",
        "team.sellers",
    }
    short = ["run.horizon_days=300", "run.warmup_days=100", "run.cohort_margin_days=60"]
    sets = [arg for s in short for arg in ("--set", s)]
    result = invoke("experiment", path, "--replications", "2", *sets)
    assert result.exit_code == 0, result.output
    assert f"sensitivity of {len(exp.levers)} levers" in result.output
    assert "cycle_median_won_days: " in result.output
