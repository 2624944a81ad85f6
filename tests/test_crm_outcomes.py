"""Outcomes as a CRM counts them: suspects, opportunities, and metrics a user can recompute.

A suspect becomes an opportunity when it enters the stage ``crm.opens_at``; a suspect who stops
answering before that is ``no_response``, not a no decision. The headline rates are over
opportunities, and ``deals.csv`` marks the rows they count, so that a user who recomputes a
metric from the file gets the printed number.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simsales.cli import main
from simsales.model import simulate
from simsales.model.records import NO_DECISION, NO_RESPONSE, OUTCOMES
from simsales.results import CATALOGUE, DealTable, metrics_from_records
from simsales.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
SHORT = ["run.horizon_days=600", "run.warmup_days=100", "run.cohort_margin_days=150"]


def _table(*overrides: str, replication: int = 0) -> tuple[DealTable, dict[str, float]]:
    scenario = load_scenario(BASELINE, [*SHORT, *overrides])
    records = simulate(scenario, seed=5, replication=replication)
    return DealTable.from_records(records), metrics_from_records(records)


def test_outreach_failures_are_no_response_and_no_decisions_are_opportunities() -> None:
    table, metrics = _table()
    outcome, reached = table["outcome"], table["stage_reached"]
    opens = 2  # the baseline opens an opportunity at commitment, its second stage
    no_response = outcome == NO_RESPONSE
    assert no_response.sum() > 50, "the baseline loses suspects in outreach"
    assert np.all(reached[no_response] < opens)
    assert np.all(reached[outcome == NO_DECISION] >= opens)
    assert not np.any(table.opportunity[no_response])
    assert np.all(table.opportunity[outcome == NO_DECISION])
    # the shares of each funnel add up
    prospecting = ("opportunity_share", "no_response_share", "unworked_share")
    prospecting += ("prospect_disqualified_share", "prospect_open_share")
    assert sum(metrics[m] for m in prospecting) == pytest.approx(1.0)
    pipeline = ("win_rate", "loss_rate", "no_decision_rate", "disqualified_rate", "open_rate")
    assert sum(metrics[m] for m in pipeline) == pytest.approx(1.0)


def test_opening_at_the_first_stage_makes_every_worked_suspect_an_opportunity() -> None:
    # competition acts from the opening on: without it, moving the opening changes only the count
    table, metrics = _table("crm.opens_at='outreach'", "buyers.competition.hazard_per_day=0")
    assert not np.any(table["outcome"] == NO_RESPONSE)
    np.testing.assert_array_equal(table.opportunities, table.worked)
    assert metrics["opportunity_share"] == 1.0
    # the same run, counted from the later opening: the same deals, fewer opportunities
    later, later_metrics = _table("buyers.competition.hazard_per_day=0")
    np.testing.assert_array_equal(later["ended_at"], table["ended_at"])
    assert later_metrics["opportunities"] < metrics["opportunities"]
    dark = (later["outcome"] == NO_DECISION) | (later["outcome"] == NO_RESPONSE)
    np.testing.assert_array_equal(dark, table["outcome"] == NO_DECISION)


def test_disqualified_as_lost_moves_only_the_crms_closed_lost() -> None:
    _, booked = _table()
    _, apart = _table("crm.disqualified_as_lost=false")
    assert booked["disqualified_rate"] > 0
    assert booked["closed_lost_rate"] == pytest.approx(
        booked["loss_rate"] + booked["disqualified_rate"]
    )
    assert apart["closed_lost_rate"] == apart["loss_rate"]
    for name in ("win_rate", "loss_rate", "no_decision_rate", "disqualified_rate"):
        assert booked[name] == apart[name], name


def test_opens_at_must_name_a_stage(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(BASELINE), "--set", "crm.opens_at='pitch'"])
    assert result.exit_code == 2
    assert "crm" in result.stderr and "'pitch'" in result.stderr
    assert "commitment" in result.stderr  # the stages it could name


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _num(cell: str) -> float:
    return float(cell) if cell else float("nan")


def _recompute(rows: list[dict[str, str]]) -> dict[str, float]:
    """The headline metrics from deals.csv's counted rows, as a user would work them out."""
    counted = [r for r in rows if r["counted"] == "1"]
    opp = [r for r in counted if r["opportunity"] == "1"]
    n = len(opp)

    def share(rows_: list[dict[str, str]], outcome: str) -> float:
        return sum(r["outcome"] == outcome for r in rows_) / len(rows_)

    not_won = [r for r in opp if r["outcome"] in ("lost", "no_decision", "disqualified")]
    won_cycles = [_num(r["closed_at"]) - _num(r["opened_at"]) for r in opp if r["outcome"] == "won"]
    forecast = [
        r
        for r in opp
        if r["outcome"] in ("won", "lost", "no_decision", "disqualified") and r["first_forecast_at"]
    ]
    return {
        "opportunities": n,
        "win_rate": share(opp, "won"),
        "loss_rate": share(opp, "lost"),
        "no_decision_rate": share(opp, "no_decision"),
        "no_decision_of_not_won": share(not_won, "no_decision"),
        "cycle_median_won_days": float(np.median(won_cycles)),
        "calls_per_opportunity": sum(int(r["calls"]) for r in opp) / n,
        "share_pushed": sum(int(r["pushes"]) > 0 for r in forecast) / len(forecast),
        "suspects": len(counted),
        "opportunity_share": n / len(counted),
        "no_response_share": share(counted, "no_response"),
    }


def test_headline_metrics_recomputed_from_deals_csv_are_the_printed_ones(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["run", str(BASELINE), "-r", "2", "--no-cache", "--no-figures", "--out", str(out)]
    for override in SHORT:
        args += ["--set", override]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    deals = _read(out / "deals.csv")
    printed = _read(out / "replications.csv")
    for rep in ("0", "1"):
        mine = [r for r in deals if r["replication"] == rep]
        mine_printed = next(r for r in printed if r["replication"] == rep)
        for name, value in _recompute(mine).items():
            # days are written as float32 text: a median of differences agrees to 1e-3 days
            assert float(mine_printed[name]) == pytest.approx(value, rel=1e-9, abs=1e-3), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counted"]["opportunity_opens_at"] == "commitment"
    assert summary["counted"]["arrived_before_day"] == 450


def test_json_gives_every_metric_a_unit_and_a_cohort() -> None:
    args = ["run", str(BASELINE), "-r", "2", "--no-cache", "--format", "json"]
    for override in SHORT:
        args += ["--set", override]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)["metrics"]
    assert metrics["win_rate"]["cohort"] == "opportunities"
    assert metrics["no_response_share"]["cohort"] == "suspects"
    for name, entry in metrics.items():
        assert entry["unit"] and entry["cohort"], name
        assert entry["better"] in ("higher", "lower", "neither"), name


def test_metrics_that_cannot_move_leave_the_table() -> None:
    base = ["run", str(BASELINE), "-r", "2", "--no-cache"]
    for override in SHORT:
        base += ["--set", override]
    plain = CliRunner().invoke(main, base)
    assert plain.exit_code == 0, plain.output
    for name in ("touches_per_opportunity", "unworked_share"):
        assert name not in plain.stdout, name  # no touches, no WIP cap in the baseline
    assert "no_decision_rate" in plain.stdout and "no_response_share" in plain.stdout
    busy = CliRunner().invoke(
        main,
        [
            *base,
            "--set",
            "policies.touch_every_days=4",
            "--set",
            "policies.wip_cap=6",
            "--set",
            "market.patience_days=20",
        ],
    )
    assert busy.exit_code == 0, busy.output
    for name in ("touches_per_opportunity", "unworked_share"):
        assert name in busy.stdout, name


def test_every_outcome_has_a_meaning_and_the_catalogue_names_are_unique() -> None:
    names = [m.name for m in CATALOGUE]
    assert len(names) == len(set(names))
    assert "no_response" in OUTCOMES and "unworked" in OUTCOMES
