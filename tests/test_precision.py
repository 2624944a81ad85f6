"""``--replications auto``: the stopping rule, the [precision] table, rounds that equal one run,
and the commands' statements of how many replications were needed or what missed at the cap."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from simsales.analysis import PairedDifference
from simsales.cli import main
from simsales.experiment import (
    MetricComparison,
    PrecisionTargets,
    load_experiment,
    replications_needed,
    run_experiment,
)
from simsales.experiment.precision import check_precision
from simsales.results import MetricSummary
from simsales.scenario import ScenarioError

HEAD = 'name = "exp"\nbase = "tiny.toml"\nmetrics = ["win_rate", "suspects"]\n'
VARIANTS = '[[variants]]\nname = "fast"\nset = { "policies.activities_per_call" = 3 }\n'


def same(
    a: dict[str, tuple[dict[str, float], ...]], b: dict[str, tuple[dict[str, float], ...]]
) -> bool:
    """Per-replication metrics equal, NaN equal to NaN (a metric undefined in both)."""
    return repr(a) == repr(b) and len(a) > 0


def summary(mean: float, hw: float, n: int = 10) -> MetricSummary:
    return MetricSummary(mean=mean, sd=1.0, half_width=hw, n=n)


def diff(mean: float, hw: float, base_mean: float, n: int = 10) -> PairedDifference:
    return PairedDifference(mean=mean, sd=1.0, half_width=hw, n=n, base_mean=base_mean)


def metric(base: MetricSummary, var: MetricSummary, d: PairedDifference) -> MetricComparison:
    return MetricComparison(summaries={"base": base, "v": var}, differences={"v": d})


# --- the stopping rule (pure) -------------------------------------------------------------------


def test_all_met_needs_no_more() -> None:
    m = {"x": metric(summary(100, 4), summary(90, 4.4), diff(-10, 2, 100))}
    checks = check_precision(m, PrecisionTargets(relative=0.05), ["x"])
    assert [c.status for c in checks] == ["met", "met", "met"]
    assert replications_needed(checks, 10, 200) is None


def test_needed_grows_with_the_square_of_the_ratio_and_is_capped() -> None:
    # difference half-width 10 against 5% of |base mean| 100 = 5: twice too wide -> 4 n
    m = {"x": metric(summary(100, 4), summary(90, 4), diff(-10, 10, 100))}
    checks = check_precision(m, PrecisionTargets(relative=0.05), ["x"])
    assert [c.status for c in checks] == ["met", "met", "missed"]
    assert replications_needed(checks, 10, 200) == 40
    assert replications_needed(checks, 10, 25) == 25


def test_a_round_at_most_quadruples_the_replications() -> None:
    # ten times too wide would ask for 100 n from a noisy pilot: grow by 4x per round instead
    m = {"x": metric(summary(100, 4), summary(90, 4), diff(-10, 50, 100))}
    checks = check_precision(m, PrecisionTargets(relative=0.05), ["x"])
    assert replications_needed(checks, 5, 200) == 20


def test_a_near_miss_still_adds_a_real_round() -> None:
    m = {"x": metric(summary(100, 5.01), summary(100, 1), diff(0, 1, 100))}
    checks = check_precision(m, PrecisionTargets(relative=0.05), ["x"])
    assert replications_needed(checks, 50, 200) == 55  # not 51: at least n / 10 more


def test_absolute_target_overrides_relative_and_applies_to_differences() -> None:
    m = {"x": metric(summary(100, 2.5), summary(1, 2.5), diff(-99, 3.5, 100))}
    targets = PrecisionTargets(relative=0.05, absolute={"x": 3.0})
    checks = check_precision(m, targets, ["x"])
    assert [c.status for c in checks] == ["met", "met", "missed"]
    assert checks[2].target == 3.0
    assert replications_needed(checks, 10, 200) == math.ceil(10 * (3.5 / 3) ** 2)


def test_zero_mean_skips_the_relative_target_and_nan_metric_is_skipped() -> None:
    nan = math.nan
    m = {
        "zero": metric(summary(0.0, 0.0), summary(0.0, 0.0), diff(0.0, 0.0, 0.0)),
        "never": metric(summary(nan, nan, 0), summary(nan, nan, 0), diff(nan, nan, nan, 0)),
    }
    checks = check_precision(m, PrecisionTargets(), ["zero", "never"])
    assert {c.status for c in checks} == {"skipped"}
    assert "relative target means nothing" in checks[0].note
    assert "undefined" in checks[3].note
    assert replications_needed(checks, 5, 200) is None


def test_unknown_half_width_doubles_and_unchosen_metrics_are_ignored() -> None:
    m = {
        "x": metric(summary(5, math.nan, 1), summary(5, 0.1), diff(0, 0.1, 5)),
        "y": metric(summary(5, 100), summary(5, 100), diff(0, 100, 5)),
    }
    checks = check_precision(m, PrecisionTargets(), ["x"])
    assert replications_needed(checks, 5, 200) == 10


def test_targets_are_validated() -> None:
    with pytest.raises(ValueError, match="min_replications"):
        PrecisionTargets(min_replications=10, max_replications=5)
    with pytest.raises(ValueError, match="positive"):
        PrecisionTargets(relative=0)


# --- the [precision] table ----------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path: Path, minimal_scenario_toml: str) -> Path:
    (tmp_path / "tiny.toml").write_text(minimal_scenario_toml, "utf-8")
    return tmp_path


def problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    return [str(p).replace(f"{path.parent}/", "") for p in info.value.problems]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("relative = -0.1", "precision.relative: Input should be greater than 0"),
        ("relative = 0.1\nmin_replications = 9\nmax_replications = 8", "is above max"),
        ("absolute = { win_rate = 0.0 }", "absolute targets must be positive: win_rate"),
        ("absolute = { win_rat = 0.1 }", "did you mean 'win_rate'?"),
        ("absolute = { loss_rate = 0.1 }", "not one of the experiment's metrics"),
        ("min_replications = 3", "give relative = ... and/or absolute"),
        ("relative = 0.1\nmax_replication = 8", "unknown key; did you mean 'max_replications'?"),
        ('relative = "5%"', "precision.relative: Input should be a valid number"),
    ],
)
def test_bad_precision_tables(folder: Path, table: str, expected: str) -> None:
    path = folder / "exp.toml"
    path.write_text(HEAD + VARIANTS + "[precision]\n" + table + "\n", "utf-8")
    found = problems(path)
    assert any(expected in p for p in found), found


def test_precision_table_and_its_default(folder: Path) -> None:
    path = folder / "exp.toml"
    path.write_text(HEAD + VARIANTS, "utf-8")
    assert load_experiment(path).precision_targets() == PrecisionTargets()
    table = "[precision]\nabsolute = { win_rate = 0.02 }\nmax_replications = 30\n"
    path.write_text(HEAD + VARIANTS + table, "utf-8")
    targets = load_experiment(path).precision_targets()
    assert targets.relative is None and targets.absolute == {"win_rate": 0.02}
    assert (targets.min_replications, targets.max_replications) == (5, 30)


# --- runs ---------------------------------------------------------------------------------------


def test_auto_stops_below_the_cap_and_equals_a_fixed_run(folder: Path) -> None:
    table = "[precision]\nrelative = 0.1\nmin_replications = 3\nmax_replications = 80\n"
    path = folder / "exp.toml"
    path.write_text(HEAD + VARIANTS + table, "utf-8")
    exp = load_experiment(path)
    auto = run_experiment(exp, auto=True)
    outcome = auto.comparison.precision
    assert outcome is not None and outcome.met
    n = auto.comparison.replications
    assert 3 <= n < 80 and outcome.rounds[-1] == n and outcome.rounds[0] == 3
    assert all(c.status in ("met", "skipped") for c in outcome.checks)
    assert auto.experiment.replications == n
    fixed = run_experiment(load_experiment(path, replications=n))
    assert fixed.comparison.precision is None
    assert same(auto.comparison.per_replication, fixed.comparison.per_replication)
    for name, sample in fixed.cycles.items():
        assert (auto.cycles[name].days == sample.days).all()


def test_rounds_take_more_than_one_and_still_equal_a_fixed_run(folder: Path) -> None:
    table = "[precision]\nrelative = 0.001\nmin_replications = 2\nmax_replications = 7\n"
    path = folder / "exp.toml"
    path.write_text(HEAD + VARIANTS + table, "utf-8")
    auto = run_experiment(load_experiment(path), auto=True)
    outcome = auto.comparison.precision
    assert outcome is not None and not outcome.met and outcome.misses
    assert outcome.rounds[0] == 2 and outcome.rounds[-1] == 7 and len(outcome.rounds) >= 2
    fixed = run_experiment(load_experiment(path, replications=7))
    assert same(auto.comparison.per_replication, fixed.comparison.per_replication)


def test_cli_auto_says_how_many_and_what_missed_at_the_cap(folder: Path) -> None:
    runner = CliRunner()
    path = folder / "exp.toml"
    path.write_text(HEAD + VARIANTS + "[precision]\nrelative = 0.2\nmax_replications = 40\n")
    result = runner.invoke(main, ["experiment", str(path), "-r", "auto"])
    assert result.exit_code == 0, result.output
    assert "replications were enough for every target" in result.output
    assert "last to converge: " in result.output
    tight = "[precision]\nrelative = 0.001\nmin_replications = 2\nmax_replications = 3\n"
    path.write_text(HEAD + VARIANTS + tight)
    result = runner.invoke(main, ["experiment", str(path), "-r", "auto", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert '"met": false' in result.output
    result = runner.invoke(main, ["experiment", str(path), "--replications", "auto"])
    assert result.exit_code == 0, result.output
    assert "stopped at the cap of 3 replications" in result.output
    assert "still above target" in result.output and "×)" in result.output
    bad = runner.invoke(main, ["experiment", str(path), "-r", "many"])
    assert bad.exit_code == 2 and "neither a whole number nor 'auto'" in bad.output


def test_cli_compare_auto(folder: Path, minimal_scenario_toml: str) -> None:
    other = folder / "other.toml"
    other.write_text(minimal_scenario_toml.replace('name = "tiny"', 'name = "other"', 1), "utf-8")
    result = CliRunner().invoke(
        main,
        ["compare", str(folder / "tiny.toml"), str(other), "-r", "auto", "--metric", "suspects"],
    )
    assert result.exit_code == 0, result.output
    assert "replications were enough for every target" in result.output
    assert "last to converge: suspects" in result.output


def test_replications_from_start_equal_those_of_one_run(folder: Path) -> None:
    from simsales.experiment import run_replications
    from simsales.scenario import load_scenario

    scenario = load_scenario(folder / "tiny.toml")
    whole = run_replications(scenario, replications=5, seed=3, keep_records=False)
    head = run_replications(scenario, replications=2, seed=3)
    tail = run_replications(scenario, replications=5, seed=3, start=2, jobs=2)
    assert repr(head + tail) == repr(whole)
    with pytest.raises(ValueError, match="start"):
        run_replications(scenario, replications=2, seed=3, start=2)
