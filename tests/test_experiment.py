"""Experiment files: validation and its errors, sweeps and variants on common random numbers,
the ``experiment`` command and its files, and the bundled experiments."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from simsales.cli import main
from simsales.experiment import load_experiment, run_experiment
from simsales.experiment.spec import toml_literal
from simsales.scenario import ScenarioError
from simsales.scenario.distributions import Constant
from simsales.scenario.loading import parse_override_value

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted((ROOT / "experiments").glob("*.toml"))
SHORT = ["run.horizon_days=400", "run.warmup_days=100", "run.cohort_margin_days=100"]

HEAD = 'name = "exp"\nbase = "tiny.toml"\nmetrics = ["win_rate", "suspects"]\nreplications = 2\n'
SWEEP = '[sweep]\n[[sweep.keys]]\nkey = "policies.activities_per_call"\nvalues = [2, 3]\n'
VARIANTS = '[[variants]]\nname = "fast"\nset = { "policies.activities_per_call" = 3 }\n'


@pytest.fixture
def folder(tmp_path: Path, minimal_scenario_toml: str) -> Path:
    (tmp_path / "tiny.toml").write_text(minimal_scenario_toml, "utf-8")
    return tmp_path


def write(folder: Path, text: str, name: str = "exp.toml") -> Path:
    path = folder / name
    path.write_text(text, "utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    return [str(p).replace(f"{path.parent}/", "") for p in info.value.problems]


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEAD + SWEEP + VARIANTS, "exp.toml: sweep: give either [[variants]] or [sweep], not both"),
        (HEAD, "exp.toml: give [[variants]], a [sweep] or a [sensitivity]: there is nothing to"),
        ('base = "tiny.toml"\nmetrics = ["win_rate"]\n' + SWEEP, "name: required key is missing"),
        ('name = "e"\nmetrics = ["win_rate"]\n' + SWEEP, "base: required key is missing"),
        ('name = "e"\nbase = "tiny.toml"\n' + SWEEP, "metrics: required key is missing"),
        (HEAD + "replicatons = 3\n" + SWEEP, "replicatons: unknown key; did you mean"),
        (HEAD.replace("= 2", "= 0") + SWEEP, "replications: Input should be greater than"),
        (HEAD + 'seed = "1"\n' + SWEEP, 'seed: Input should be a valid integer (got "1")'),
        (
            HEAD + VARIANTS + VARIANTS,
            "variant names must differ",
        ),
        (HEAD + SWEEP.replace("[2, 3]", "[2, 2]"), "sweep.keys[0]: values must differ"),
        (HEAD + SWEEP.replace("[2, 3]", "[]"), "sweep.keys[0].values: List should have at least"),
        (HEAD + SWEEP + SWEEP[8:] + SWEEP[8:], "sweep.keys: List should have at most 2"),
        (HEAD + SWEEP + SWEEP[8:], "sweep: the two keys must differ"),
        (
            HEAD + '[[variants]]\nname = "x"\nsett = {}\n',
            "variants[0] (x).sett: unknown key; did you mean 'set'?",
        ),
        (HEAD.replace("tiny.toml", "none.toml") + SWEEP, "base: no such scenario file"),
        (HEAD + "[sweep\n", "exp.toml:5:7: invalid TOML"),
    ],
)
def test_spec_rules(folder: Path, text: str, expected: str) -> None:
    found = problems(write(folder, text))
    assert any(expected in p for p in found), found


def test_unknown_metric_has_its_index(folder: Path) -> None:
    text = HEAD.replace('"suspects"]', '"suspects", "win_rat"]') + SWEEP
    assert problems(write(folder, text)) == [
        "exp.toml: metrics[2]: unknown metric; did you mean 'win_rate'? (got \"win_rat\")"
    ]


def test_stage_metrics_are_known_by_the_base_stages(folder: Path) -> None:
    text = HEAD.replace('"suspects"]', '"reach_discovery", "reach_closing"]') + SWEEP
    assert problems(write(folder, text)) == [
        'exp.toml: metrics[2]: unknown metric; see `simsales reference` (got "reach_closing")'
    ]


def test_bad_variant_override_points_at_the_variant(folder: Path) -> None:
    bad = VARIANTS.replace("activities_per_call", "activities_per_cal")
    bad = bad.replace("= 3 }", '= 3, "policies.wip_cap" = -1 }')
    assert problems(write(folder, HEAD + bad)) == [
        'exp.toml: variants[0] (fast).set."policies.wip_cap": Input should be greater than or '
        "equal to 0 (got -1)",
        'exp.toml: variants[0] (fast).set."policies.activities_per_cal": unknown key; did you '
        "mean 'activities_per_call'? (got 3)",
    ]


def test_bad_sweep_key_is_said_once_and_bad_values_by_index(folder: Path) -> None:
    text = HEAD + SWEEP.replace("activities_per_call", "activities_per_cal")
    text += '[[sweep.keys]]\nkey = "policies.wip_cap"\nvalues = [1, -2]\n'
    assert problems(write(folder, text)) == [
        "exp.toml: sweep.keys[0].key: unknown key; did you mean 'activities_per_call'? "
        '(got "policies.activities_per_cal")',
        "exp.toml: sweep.keys[1].values[1]: Input should be greater than or equal to 0 (got -2)",
    ]


def test_bad_common_override_points_at_set(folder: Path) -> None:
    text = HEAD + '[set]\n"run.horizon_days" = -5\n' + SWEEP
    found = problems(write(folder, text))
    assert found[0].startswith('exp.toml: set."run.horizon_days": Input should be greater than 0')


@pytest.mark.parametrize(
    "value", [4, 0.25, -1.5, True, "least_loaded", 'say "hi"\n', [1, 2], {"dist": "constant"}]
)
def test_toml_literal_reads_back(value: object) -> None:
    assert parse_override_value(toml_literal(value)) == value


# --- running ------------------------------------------------------------------------------------


def test_one_key_sweep_runs_every_point_on_the_same_random_numbers(folder: Path) -> None:
    exp = load_experiment(write(folder, HEAD + SWEEP))
    # the base has 2 activities per call: that point is the base, run once, not twice
    assert [s.name for s in exp.scenarios] == ["activities_per_call=3"]
    assert [s.policies.activities_per_call for s in exp.scenarios] == [3]
    assert exp.base_at == 0 and exp.base_point == {"policies.activities_per_call": 2}
    assert exp.point_names == ("tiny", "activities_per_call=3")
    result = run_experiment(exp)
    comparison = result.comparison
    assert comparison.variant_names == ("activities_per_call=3",)
    assert {s.run.seed for s in (comparison.base, *comparison.variants)} == {7}
    suspects = {
        name: [rep["suspects"] for rep in reps] for name, reps in comparison.per_replication.items()
    }
    assert len(suspects["tiny"]) == 2
    assert suspects["tiny"] == suspects["activities_per_call=3"]
    assert [p["scenario"] for p in result.to_dict()["points"]] == list(exp.point_names)
    for sample in result.cycles.values():
        assert len(sample) > 0
        assert sample.days.shape == sample.outcome.shape == sample.censored.shape
        assert np.all(sample.days >= 0)


def test_a_sweep_point_equal_to_the_base_gives_the_base_numbers(folder: Path) -> None:
    """Leaving the base's point out of a sweep changes no number: that point, run as a
    variant of its own, gives exactly the base's metrics."""
    same = VARIANTS.replace("= 3 }", "= 2 }")  # the base's own value, as a named variant
    result = run_experiment(load_experiment(write(folder, HEAD + same)))
    per = result.comparison.per_replication
    np.testing.assert_equal(per["tiny"], per["fast"])
    swept = run_experiment(load_experiment(write(folder, HEAD + SWEEP, "sweep.toml")))
    np.testing.assert_equal(swept.comparison.per_replication["tiny"], per["tiny"])


def test_two_key_sweep_runs_the_full_grid(folder: Path) -> None:
    text = HEAD + SWEEP + '[[sweep.keys]]\nkey = "policies.wip_cap"\nvalues = [0, 2, 4]\n'
    exp = load_experiment(write(folder, text), replications=1)
    assert exp.replications == 1
    # the first point (2 activities per call, no cap) is the base: the grid holds it once
    assert exp.point_names[:2] == ("tiny", "activities_per_call=2, wip_cap=2")
    assert len(exp.scenarios) == 5 and len(exp.grid) == 6
    assert exp.points[-1] == {"policies.activities_per_call": 3, "policies.wip_cap": 4}
    result = run_experiment(exp)
    assert len(result.comparison.variants) == 5
    suspects = {reps[0]["suspects"] for reps in result.comparison.per_replication.values()}
    assert len(suspects) == 1


def test_variants_and_common_overrides(folder: Path) -> None:
    text = HEAD + '[set]\n"team.sellers" = 3\n' + VARIANTS
    exp = load_experiment(write(folder, text), ["run.horizon_days=100"])
    assert exp.kind == "variants"
    assert exp.base.team.sellers == exp.scenarios[0].team.sellers == 3
    assert exp.scenarios[0].run.horizon_days == 100
    assert exp.scenarios[0].policies.activities_per_call == 3
    result = run_experiment(exp)
    assert result.comparison.variant_names == ("fast",)
    assert result.to_dict()["points"] == [
        {"scenario": "fast", "set": {"policies.activities_per_call": 3}}
    ]


def test_a_bare_number_sweeps_a_distribution(folder: Path) -> None:
    text = HEAD + '[sweep]\n[[sweep.keys]]\nkey = "buyers.group_size"\nvalues = [1, 4]\n'
    exp = load_experiment(write(folder, text))
    assert [s.buyers.group_size for s in exp.scenarios] == [Constant(value=1), Constant(value=4)]


# --- the command --------------------------------------------------------------------------------


def test_cli_sweep_text_json_and_files(folder: Path) -> None:
    path = write(folder, HEAD + SWEEP)
    text = invoke("experiment", path)
    assert text.exit_code == 0, text.output
    assert "sweep of policies.activities_per_call over 2 points" in text.output
    assert "2 (base)" in text.output  # the base is the sweep's first point, shown once
    assert text.output.count("activities_per_call=3: win rate ") == 1  # the answer, first
    assert "win_rate: " in text.output and "suspects: highest at" in text.output

    shown = invoke("experiment", path, "--format", "json")
    assert shown.exit_code == 0, shown.output
    doc = json.loads(shown.stdout)  # stderr says the run store served the replications
    assert doc["kind"] == "sweep"
    assert doc["variants"] == ["activities_per_call=3"]  # the point at 2 is the base
    assert [p["scenario"] for p in doc["points"]] == ["tiny", "activities_per_call=3"]
    assert doc["sweep_keys"] == ["policies.activities_per_call"]

    out = folder / "out"
    written = invoke("experiment", path, "--out", out)
    assert written.exit_code == 0, written.output
    assert sorted(p.name for p in out.iterdir()) == [
        "cycles.csv",
        "experiment.json",
        "figures",
        "replications.csv",
        "report.html",
        "report.md",
    ]
    saved = json.loads((out / "experiment.json").read_text())
    assert saved["seeds"]["root"] == 7
    assert saved["command"].startswith("simsales experiment")
    assert set(saved["scenarios"]) == {"tiny", "activities_per_call=3"}
    assert "numpy" in saved["versions"]
    with open(out / "replications.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["scenario"], r["replication"]) for r in rows][:3] == [
        ("tiny", "0"),
        ("tiny", "1"),
        ("activities_per_call=3", "0"),
    ]
    assert len(rows) == 4
    with open(out / "cycles.csv", newline="") as fh:
        cycles = list(csv.DictReader(fh))
    assert list(cycles[0]) == ["scenario", "cycle_days", "outcome", "censored"]
    assert {c["scenario"] for c in cycles} == set(saved["scenarios"])
    assert {c["censored"] for c in cycles} <= {"0", "1"}

    # the same command again (as after a kill) may rewrite its own folder; another may not
    before = (out / "experiment.json").read_bytes()
    assert invoke("experiment", path, "--out", out).exit_code == 0
    assert (out / "experiment.json").read_bytes() == before
    again = invoke("experiment", path, "-r", "3", "--out", out)
    assert again.exit_code == 2
    assert "--force" in again.output
    assert invoke("experiment", path, "-r", "3", "--out", out, "--force").exit_code == 0


def test_cli_variants_print_the_comparison(folder: Path) -> None:
    result = invoke("experiment", write(folder, HEAD + VARIANTS))
    assert result.exit_code == 0, result.output
    assert "tiny vs fast: 2 replications each" in result.output
    assert "fast against tiny:" in result.output


def test_cli_bad_file_exits_2_with_the_problems(folder: Path) -> None:
    path = write(folder, HEAD.replace('"suspects"]', '"nope"]') + SWEEP)
    result = invoke("experiment", path)
    assert result.exit_code == 2
    assert "1 problem:" in result.output
    assert "metrics[1]: unknown metric" in result.output


# --- bundled experiments ------------------------------------------------------------------------


def test_the_bundled_experiments_are_there() -> None:
    names = {p.stem for p in BUNDLED}
    assert {"call_compression", "contact_gap", "buying_group", "qualification", "wip_limit"} <= (
        names
    )


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_experiment_validates(path: Path) -> None:
    exp = load_experiment(path, SHORT)
    assert exp.kind in ("sweep", "sensitivity", "variants")
    assert len(exp.grid) >= (2 if exp.kind == "variants" else 5)  # variants: named choices
    assert all(s.run.horizon_days == 400 for s in (exp.base, *exp.scenarios))


def test_a_bundled_experiment_runs_reduced_through_the_cli() -> None:
    sets = [arg for s in SHORT for arg in ("--set", s)]
    path = ROOT / "experiments" / "call_compression.toml"
    result = invoke("experiment", path, "--replications", "2", *sets)
    assert result.exit_code == 0, result.output
    assert "5 points from base baseline; 2 replications each" in result.output
    first = result.output.splitlines()[1]  # the answer comes first: a line per point
    assert first.startswith("activities_per_call=2: time to a win ")
    assert "cycle_median_won_days: " in result.output
    assert "activities_per_call=1, the base" in result.output or "best (lowest)" in result.output
