"""Comparing variants: paired differences against scipy, common random numbers, the CLI."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result
from scipy import stats

from simsales import __version__
from simsales.analysis import PairedDifference, paired_difference
from simsales.cli import main
from simsales.experiment import Comparison, compare_scenarios, run_replications
from simsales.experiment import replications as replications_module
from simsales.report.text import fmt_change
from simsales.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
#: The bundled baseline, cut to a short run: about a tenth of a second per replication.
SHORT = ["run.horizon_days=400", "run.warmup_days=100", "run.cohort_margin_days=100"]

WriteScenario = Callable[..., Path]


def short_baseline(*overrides: str) -> Scenario:
    return load_scenario(BASELINE, [*SHORT, *overrides])


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


# --- paired_difference --------------------------------------------------------------------------

BASE = [118.0, 131.5, 97.25, 142.0, 120.5, 109.0, 126.75, 135.0]
VARIANT = [104.5, 121.0, 90.0, 125.25, 113.0, 99.5, 110.0, 128.5]


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_paired_difference_matches_scipy(level: float) -> None:
    diff = paired_difference(BASE, VARIANT, level)
    d = np.subtract(VARIANT, BASE)
    assert diff.n == len(BASE)
    assert diff.mean == pytest.approx(d.mean())
    assert diff.sd == pytest.approx(d.std(ddof=1))
    low, high = stats.t.interval(level, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
    assert (diff.low, diff.high) == pytest.approx((low, high))
    ci = stats.ttest_rel(VARIANT, BASE).confidence_interval(level)
    assert (diff.low, diff.high) == pytest.approx((ci.low, ci.high))
    assert diff.relative == pytest.approx(d.mean() / np.mean(BASE))


def test_distinguishable_agrees_with_the_paired_t_test() -> None:
    shifted = paired_difference(BASE, VARIANT)
    assert shifted.high < 0 and shifted.distinguishable
    assert stats.ttest_rel(VARIANT, BASE).pvalue < 0.05
    # The same changes with their signs mixed: a mean near 0 inside a wide interval.
    signs = np.array([1, -1, 1, -1, -1, 1, -1, 1])
    mixed = np.add(BASE, signs * np.subtract(BASE, VARIANT))
    noise = paired_difference(BASE, mixed)
    assert noise.low < 0 < noise.high and not noise.distinguishable
    assert stats.ttest_rel(mixed, BASE).pvalue > 0.05


def test_paired_difference_drops_pairs_with_a_nan() -> None:
    nan = math.nan
    base = [1.0, nan, 3.0, 4.0, 2.0, 5.0]
    variant = [2.0, 2.0, nan, 5.5, 2.5, 6.0]
    got = paired_difference(base, variant)
    kept = paired_difference([1.0, 4.0, 2.0, 5.0], [2.0, 5.5, 2.5, 6.0])
    assert got == kept and got.n == 4
    assert got.relative == pytest.approx(got.mean / 3.0)  # base mean over the kept pairs


def test_too_few_pairs_give_no_interval() -> None:
    one = paired_difference([1.0, math.nan], [3.0, 4.0])
    assert (one.n, one.mean) == (1, 2.0)
    assert math.isnan(one.half_width) and math.isnan(one.low) and not one.distinguishable
    none = paired_difference([math.nan], [1.0])
    assert none.n == 0 and math.isnan(none.mean) and not none.distinguishable


def test_equal_runs_and_a_zero_base() -> None:
    same = paired_difference([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert (same.mean, same.half_width, same.distinguishable) == (0.0, 0.0, False)
    from_zero = paired_difference([0.0] * 5, [0.1, 0.3, 0.2, 0.25, 0.15])
    assert from_zero.distinguishable and math.isnan(from_zero.relative)


def test_paired_difference_rejects_unpaired_input() -> None:
    with pytest.raises(ValueError, match="one length"):
        paired_difference([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="level"):
        paired_difference([1.0, 2.0], [1.0, 2.0], level=95)


def test_change_is_written_with_unit_relative_change_and_interval() -> None:
    diff = PairedDifference(mean=-14.2, sd=5.5, half_width=3.9, n=10, base_mean=118.3)
    assert fmt_change(diff, "days", "EUR") == "−14.2 days (−12%)\n[−18.1, −10.3]"
    assert fmt_change(diff, "days", "EUR", prose=True) == "−14.2 days (−12%)"
    share = PairedDifference(mean=-0.0134, sd=0.004, half_width=0.0031, n=10, base_mean=0.75)
    assert fmt_change(share, "share", "EUR") == "−1.34 points (−1.8%)\n[−1.65, −1.03]"
    unclear = PairedDifference(mean=2.0, sd=9.0, half_width=6.4, n=10, base_mean=100.0)
    assert fmt_change(unclear, "days", "EUR") == "no detectable difference\n[−4.4, +8.4]"


# --- compare_scenarios on the model ------------------------------------------------------------


@pytest.fixture(scope="module")
def compression() -> Comparison:
    """The short baseline with 1 activity per call against 2 and 4."""
    return compare_scenarios(
        short_baseline(),
        [
            short_baseline("name=two-per-call", "policies.activities_per_call=2"),
            short_baseline("name=four-per-call", "policies.activities_per_call=4"),
        ],
        replications=6,
        seed=1,
    )


def test_more_activities_per_call_shorten_the_cycle(compression: Comparison) -> None:
    cycle = compression.metrics["cycle_mean_days"]
    four = cycle.differences["four-per-call"]
    assert four.n == 6 and four.distinguishable and four.high < 0
    assert four.mean == pytest.approx(
        cycle.summaries["four-per-call"].mean - cycle.summaries["baseline"].mean
    )
    assert compression.metrics["calls_per_opportunity"].differences["four-per-call"].high < 0


def test_comparison_shares_the_random_numbers(compression: Comparison) -> None:
    """The lever does not touch arrivals: every replication sees the same suspects."""
    assert compression.variant_names == ("two-per-call", "four-per-call")
    suspects = compression.metrics["suspects"]
    assert suspects.differences["four-per-call"].sd == 0.0
    assert [r["suspects"] for r in compression.per_replication["four-per-call"]] == [
        r["suspects"] for r in compression.per_replication["baseline"]
    ]
    for scenario in (compression.base, *compression.variants):
        assert (scenario.run.seed, scenario.run.replications) == (1, 6)
    report = compression.to_dict(scenarios=True)
    assert report["variants"] == ["two-per-call", "four-per-call"]
    assert report["scenarios"]["four-per-call"]["policies"]["activities_per_call"] == 4
    assert set(report["metrics"]["cycle_median_won_days"]["differences"]) == {
        "two-per-call",
        "four-per-call",
    }


def test_common_random_numbers_narrow_the_interval(compression: Comparison) -> None:
    """Paired over shared streams, the interval is narrower than between independent runs."""
    base = compression.per_replication["baseline"]
    paired = compression.per_replication["two-per-call"]
    independent = run_replications(
        compression.variants[0], replications=6, seed=1001, keep_records=False
    )
    for metric in ("wip_mean", "seller_utilisation"):
        b = [r[metric] for r in base]
        crn = paired_difference(b, [r[metric] for r in paired])
        assert crn.distinguishable, metric  # a real effect of the lever
        other = [r[metric] for r in independent]
        welch = stats.ttest_ind(other, b, equal_var=False).confidence_interval()
        assert crn.half_width < 0.8 * (welch.high - welch.low) / 2, metric


def test_serial_and_parallel_comparisons_are_identical() -> None:
    short = ("run.horizon_days=250", "run.warmup_days=50", "run.cohort_margin_days=0")
    base = short_baseline(*short)
    variant = short_baseline(*short, "name=v")
    variant = variant.model_copy(
        update={"policies": variant.policies.model_copy(update={"activities_per_call": 3})}
    )
    done: list[int] = []
    serial = compare_scenarios(base, [variant], replications=3, seed=4, progress=done.append)
    parallel = compare_scenarios(base, [variant], replications=3, seed=4, jobs=2)
    assert json.dumps(serial.to_dict()) == json.dumps(parallel.to_dict())
    assert json.dumps(serial.per_replication) == json.dumps(parallel.per_replication)
    assert done == [1, 2, 3, 4, 5, 6]


def test_compare_needs_distinct_names_and_a_variant() -> None:
    base = short_baseline()
    with pytest.raises(ValueError, match="baseline is used more than once"):
        compare_scenarios(base, [base], replications=2, seed=1)
    with pytest.raises(ValueError, match="at least one variant"):
        compare_scenarios(base, [], replications=2, seed=1)


# --- simsales compare --------------------------------------------------------------------------


@pytest.fixture
def pair(write_scenario: WriteScenario, minimal_scenario_toml: str) -> tuple[Path, Path]:
    """The tiny scenario and a variant of it with three activities per call."""
    base = write_scenario(minimal_scenario_toml, "tiny.toml")
    variant = write_scenario(
        'extends = "tiny.toml"\nname = "tiny-compressed"\n[policies]\nactivities_per_call = 3\n',
        "compressed.toml",
    )
    return base, variant


def test_compare_prints_a_table_and_a_statement(pair: tuple[Path, Path]) -> None:
    result = invoke("compare", *pair, "-r", "3")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("tiny vs tiny-compressed: 3 replications each, seed 7, horizon 120")
    assert "common random numbers: replication r of every scenario uses the same streams" in out
    for metric in (
        "win_rate",
        "cycle_median_won_days",
        "calls_per_opportunity",
        "bookings_per_year",
    ):
        assert metric in out
    assert "±" in out and "[" in out
    assert "tiny-compressed against tiny:" in out
    assert "changed: " in out and "calls_per_opportunity −" in out
    assert "no detectable difference" in out


def test_compare_json_is_the_only_thing_on_stdout(pair: tuple[Path, Path]) -> None:
    result = invoke("compare", *pair, "-r", "2", "--seed", "3", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["base"], report["variants"], report["seed"]) == ("tiny", ["tiny-compressed"], 3)
    calls = report["metrics"]["calls_per_opportunity"]
    assert set(calls["summaries"]) == {"tiny", "tiny-compressed"}
    assert {"mean", "half_width", "low", "high", "n", "relative", "distinguishable"} <= set(
        calls["differences"]["tiny-compressed"]
    )


def test_compare_bad_file_exits_2_with_the_key_path(
    pair: tuple[Path, Path], write_scenario: WriteScenario
) -> None:
    broken = write_scenario('extends = "tiny.toml"\nname = "b"\n[team]\nselers = 2\n', "b.toml")
    missing = pair[0].parent / "missing.toml"
    result = invoke("compare", pair[0], broken, pair[1], missing)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{broken}: team.selers: unknown key; did you mean 'sellers'?" in result.stderr
    assert f"{missing}: no such file" in result.stderr  # every bad file is reported
    assert "Traceback" not in result.output


def test_compare_same_names_exit_2(pair: tuple[Path, Path]) -> None:
    result = invoke("compare", pair[0], pair[0])
    assert result.exit_code == 2
    assert "are both named 'tiny'" in result.stderr


def test_compare_unknown_metric_exits_2_with_close_names(pair: tuple[Path, Path]) -> None:
    result = invoke("compare", *pair, "--metric", "won_median_day")
    assert result.exit_code == 2
    assert "unknown metric 'won_median_day'; did you mean" in result.stderr
    assert "'cycle_median_won_days'?" in result.stderr
    stage = invoke("compare", *pair, "--metric", "days_in_discovery", "-r", "2")
    assert stage.exit_code == 0, stage.output  # per-stage metrics count too
    assert "days_in_discovery" in stage.stdout and "win_rate" not in stage.stdout


def test_compare_writes_its_files_and_refuses_a_used_folder(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "cmp"
    result = invoke("compare", *pair, "-r", "2", "--out", out)
    assert result.exit_code == 0, result.output
    assert f"written to {out}/: comparison.json, replications.csv, report.md" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "comparison.json",
        "figures",
        "replications.csv",
        "report.html",
        "report.md",
    ]
    report = json.loads((out / "comparison.json").read_text())
    assert report["simsales_version"] == __version__
    assert report["scenarios"]["tiny-compressed"]["policies"]["activities_per_call"] == 3
    assert report["scenarios"]["tiny-compressed"]["run"]["seed"] == 7
    assert "--replications=2" in report["command"] and str(pair[1]) in report["command"]
    with (out / "replications.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["scenario"], r["replication"]) for r in rows] == [
        ("tiny", "0"),
        ("tiny", "1"),
        ("tiny-compressed", "0"),
        ("tiny-compressed", "1"),
    ]
    assert "calls_per_opportunity" in rows[0]
    # the same command again (as after a kill) may rewrite its own folder; another may not
    assert invoke("compare", *pair, "-r", "2", "--out", out).exit_code == 0
    refused = invoke("compare", *pair, "-r", "3", "--out", out)
    assert refused.exit_code == 2
    assert "not empty" in refused.stderr and "--force" in refused.stderr
    assert invoke("compare", *pair, "-r", "3", "--out", out, "--force").exit_code == 0


def test_compare_ctrl_c_exits_130_and_writes_nothing(
    pair: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = replications_module.simulate

    def interrupted(scenario: Any, *, seed: int, replication: int, event_log: bool) -> Any:
        if scenario.name == "tiny-compressed" and replication == 1:
            raise KeyboardInterrupt
        return real(scenario, seed=seed, replication=replication, event_log=event_log)

    monkeypatch.setattr(replications_module, "simulate", interrupted)
    out = tmp_path / "out"
    result = invoke("compare", *pair, "-r", "2", "--out", out)
    assert result.exit_code == 130
    assert "interrupted; no output files were written" in result.stderr
    assert list(out.iterdir()) == []
