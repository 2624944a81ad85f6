"""The bundled land-and-expand scenario and experiment, reduced, through the CLI."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

from simsales.cli import main
from simsales.model.account_records import ACCOUNT_FIELDS
from simsales.results.catalogue import ACCOUNT_METRIC_NAMES

ROOT = Path(__file__).resolve().parents[1]
SHORT = ["--set", "run.horizon_days=700", "--set", "run.warmup_days=200",
         "--set", "run.cohort_margin_days=100"]  # fmt: skip


def test_run_prints_account_metrics_and_writes_accounts_csv(tmp_path: Path) -> None:
    out = tmp_path / "out"
    scenario = ROOT / "scenarios" / "land-and-expand.toml"
    result = CliRunner().invoke(
        main, ["run", str(scenario), "-r", "2", *SHORT, "--out", str(out), "--no-figures"]
    )
    assert result.exit_code == 0, result.output
    for name in ("nrr", "grr", "customer_lifetime_value", "partner_share", "revenue_per_year"):
        assert f" {name} " in result.output
    assert "accounts.csv" in result.output
    with open(out / "accounts.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and list(rows[0]) == ["replication", *ACCOUNT_FIELDS]
    assert {row["replication"] for row in rows} == {"0", "1"}
    assert all(float(row["revenue"]) >= 0 for row in rows)
    with open(out / "replications.csv", newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert set(ACCOUNT_METRIC_NAMES) <= set(header)


def test_baseline_run_has_no_account_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    scenario = ROOT / "scenarios" / "baseline.toml"
    result = CliRunner().invoke(
        main, ["run", str(scenario), "-r", "1", *SHORT, "--out", str(out), "--no-figures"]
    )
    assert result.exit_code == 0, result.output
    assert " nrr " not in result.output and "accounts.csv" not in result.output
    assert not (out / "accounts.csv").exists()


def test_land_and_expand_experiment_runs_reduced(tmp_path: Path) -> None:
    path = ROOT / "experiments" / "land_and_expand.toml"
    result = CliRunner().invoke(main, ["experiment", str(path), "--replications", "2", *SHORT])
    assert result.exit_code == 0, result.output
    assert "9 points from base land-and-expand" in result.output
    # "best" only where the best point is told apart from the runner-up; 2 replications rarely
    assert "revenue_window: best (highest) at " in result.output or (
        "revenue_window: highest at " in result.output and "no single best point" in result.output
    )
