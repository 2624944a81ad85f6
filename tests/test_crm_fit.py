"""Fitting a scenario to a CRM export: parameters recovered, degenerate exports refused.

The recovery tests write exports with the simulator itself, from known parameters, in two CRM
layouts, and fit them with the bundled baseline as the base. Tolerances (stated in
docs/how-to/your-own-team.md too): with two parameters fitted on about 700 opportunities, a
budget of 14 evaluations and 2 replications each, every fitted value lies within 35% of the
truth, and moved from the base towards it. Same seed, same fit: these cannot flake.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from crm_layouts import HUBSPOT

from simsales.cli import main
from simsales.crm import CrmExport, load_mapping, read_export
from simsales.crm.fit.direct import direct_estimates
from simsales.crm.fit.fitting import FitOptions, _plan, fit_export
from simsales.crm.fit.holdout import truncated
from simsales.crm.fit.objective import Simulator
from simsales.crm.fit.observed import summarise
from simsales.crm.fit.parameters import parameters_named
from simsales.crm.synthetic import ExportLayout, write_crm_export
from simsales.model import simulate
from simsales.results import DealTable
from simsales.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
#: The truth: interest fades half as fast, rivals win four times as often, as the baseline.
TRUTH = {"half_life": 45.0, "competition": 0.0012}
BASE = {"half_life": 21.0, "competition": 0.0003}
TOLERANCE = 0.35
MARKET = ["run.horizon_days=1095", "market.suspects_per_day=3", "team.sellers=12"]
TRUE_KEYS = [
    f"buyers.momentum.half_life_days={TRUTH['half_life']}",
    f"buyers.competition.hazard_per_day={TRUTH['competition']}",
]


def _export(tmp_path: Path, layout: ExportLayout, seed: int) -> tuple[Path, Path]:
    truth = load_scenario(BASELINE, [*MARKET, *TRUE_KEYS])
    table = DealTable.from_records(simulate(truth, seed=seed, replication=0))
    csv, mapping = tmp_path / "export.csv", tmp_path / "mapping.toml"
    write_crm_export([table], csv, layout)
    mapping.write_text(layout.mapping_toml(), "utf-8")
    return csv, mapping


def _check_recovered(fitted: dict[str, float]) -> None:
    for name, truth in TRUTH.items():
        assert abs(fitted[name] / truth - 1) <= TOLERANCE, (name, fitted[name], truth)
        # moved from the base towards the truth (both truths lie well above the base)
        assert fitted[name] > BASE[name] * 1.5, (name, fitted[name])


def test_recovers_known_parameters_salesforce_layout(tmp_path: Path) -> None:
    csv, mapping = _export(tmp_path, ExportLayout(), seed=7)
    export = read_export(csv, load_mapping(mapping))
    options = FitOptions(
        parameters=parameters_named(list(TRUTH)), budget=14, replications=2, final_replications=2
    )
    fitted = fit_export(export, load_scenario(BASELINE), options)
    _check_recovered(fitted.values)
    assert fitted.direct.sellers == 12  # the owners active at once
    assert 2.5 < fitted.document["market"]["suspects_per_day"] < 3.6  # the truth's 3 a day


def test_recovers_known_parameters_through_the_command(tmp_path: Path) -> None:
    csv, mapping = _export(tmp_path, HUBSPOT, seed=11)
    rows = csv.read_text("utf-8").splitlines()
    csv.write_text("\n".join([*rows, rows[1]]) + "\n", "utf-8")  # a duplicate id: left out, said
    out = tmp_path / "ours.toml"
    args = ["fit", str(csv), "--mapping", str(mapping), "--base", str(BASELINE), "-o", str(out),
            "--params", "half_life,competition", "--budget", "14", "--no-holdout"]  # fmt: skip
    ran = CliRunner().invoke(main, args)
    assert ran.exit_code == 0, ran.output
    assert f"line {len(rows) + 1}" in ran.stderr and "error:" in ran.stderr, ran.stderr
    assert "buyers.momentum.half_life_days" in ran.output
    with open(out, "rb") as fh:
        written = tomllib.load(fh)
    assert written["extends"].endswith("baseline.toml")
    assert set(written) == {"extends", "name", "description", "market", "team", "buyers"}
    _check_recovered(
        {
            "half_life": written["buyers"]["momentum"]["half_life_days"],
            "competition": written["buyers"]["competition"]["hazard_per_day"],
        }
    )
    assert CliRunner().invoke(main, ["validate", str(out)]).exit_code == 0
    report = tmp_path / "ours-fit"
    for name in ("report.md", "report.html", "figures/time_to_outcome.png"):
        assert (report / name).is_file(), name
    assert "Observed and simulated" in (report / "report.md").read_text("utf-8")
    again = CliRunner().invoke(main, args)  # never overwritten silently
    assert again.exit_code == 2 and "--force" in again.output


def test_same_seed_same_distances_serial_or_parallel(tmp_path: Path) -> None:
    from concurrent.futures import ProcessPoolExecutor

    csv, mapping = _export(tmp_path, ExportLayout(), seed=7)
    export = read_export(csv, load_mapping(mapping))
    options = FitOptions(parameters=parameters_named(list(TRUTH)), replications=2)
    direct = direct_estimates(export)
    plan = _plan(export, load_scenario(BASELINE), direct, options)
    observed = summarise(export, end_day=direct.span_days, merge_disqualified=False)
    points = [np.array([0.2, 0.7]), np.array([0.6, 0.4])]
    serial = Simulator(plan, executor=None, jobs=1).distances(observed, points)
    with ProcessPoolExecutor(max_workers=2) as pool:
        parallel = Simulator(plan, executor=pool, jobs=2).distances(observed, points)
    assert serial == parallel
    assert serial != serial[::-1]  # the points differ in distance: not a constant


# --- degenerate exports: a clear message, exit 2, no traceback ----------------------------------

HEADER = "Opportunity ID,Created Date,Close Date,Stage,Amount,Opportunity Owner\n"
MAPPING = ExportLayout(meetings=None).mapping_toml()


def _rows(n: int, *, status: str, months: int = 12, owners: int = 4, closed: bool = True) -> str:
    rng = np.random.default_rng(1)
    lines = []
    for i in range(n):
        created = date(2024, 1, 1).toordinal() + int(rng.integers(0, months * 30))
        close = date.fromordinal(created + 30 + int(rng.integers(0, 60)))
        made = date.fromordinal(created)
        label = ["Closed Won", "Closed Lost"][i % 2] if status == "mixed" else status
        lines.append(
            f"O{i},{made:%m/%d/%Y},{close:%m/%d/%Y},{label if closed else 'Open'},1000,"
            f"Seller {i % owners}\n"
        )
    return HEADER + "".join(lines)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (_rows(80, status="Closed Won"), "all 80 closed opportunities are won"),
        (_rows(80, status="Open", closed=False), "none of the 80 opportunities has closed"),
        (_rows(80, status="mixed", months=1), "within 29 days (less than 3 months)"),
        (_rows(80, status="mixed", owners=1), "every opportunity has one owner"),
        (_rows(12, status="mixed"), "only 12 closed opportunities"),
    ],
    ids=["only-won", "none-closed", "one-month", "one-owner", "too-few"],
)
def test_degenerate_exports_are_refused_clearly(tmp_path: Path, text: str, said: str) -> None:
    csv, mapping = tmp_path / "export.csv", tmp_path / "mapping.toml"
    csv.write_text(text, "utf-8")
    mapping.write_text(MAPPING, "utf-8")
    out = tmp_path / "ours.toml"
    ran = CliRunner().invoke(
        main,
        ["fit", str(csv), "--mapping", str(mapping), "--base", str(BASELINE), "-o", str(out)],
    )
    assert ran.exit_code == 2, ran.output
    assert said in ran.output
    assert "Traceback" not in ran.output
    assert isinstance(ran.exception, SystemExit)  # a clean exit, not an exception
    assert not out.exists()


def test_unknown_parameter_is_a_clear_error(tmp_path: Path) -> None:
    csv, mapping = tmp_path / "export.csv", tmp_path / "mapping.toml"
    csv.write_text(_rows(80, status="mixed"), "utf-8")
    mapping.write_text(MAPPING, "utf-8")
    args = ["fit", str(csv), "--mapping", str(mapping), "--base", str(BASELINE),
            "-o", str(tmp_path / "ours.toml"), "--params", "half_life,charm"]  # fmt: skip
    ran = CliRunner().invoke(main, args)
    assert ran.exit_code == 2
    assert "unknown parameter(s) charm" in ran.output


def _read(tmp_path: Path, text: str) -> CrmExport:
    csv, mapping = tmp_path / "export.csv", tmp_path / "mapping.toml"
    csv.write_text(text, "utf-8")
    mapping.write_text(MAPPING, "utf-8")
    return read_export(csv, load_mapping(mapping))


def test_direct_estimates_say_what_they_could_not_estimate(tmp_path: Path) -> None:
    short = direct_estimates(_read(tmp_path, _rows(200, status="mixed", months=8, owners=5)))
    assert short.by_month is None
    assert any("less than 12" in n for n in short.notices)
    assert short.sellers == 5
    assert short.merge_disqualified  # no row is booked disqualified: they count as lost
    year = direct_estimates(_read(tmp_path, _rows(600, status="mixed", months=14)))
    assert year.by_month is not None and len(year.by_month) == 12
    assert abs(float(np.mean(year.by_month)) - 1.0) < 0.01


def test_the_held_out_part_is_the_export_as_pulled_on_the_split_day(tmp_path: Path) -> None:
    export = _read(tmp_path, _rows(200, status="mixed", months=12))
    part = truncated(export, 200.0)
    assert len(part) == int((export.created < 200.0).sum())
    assert np.all(part.created < 200.0)
    closed_late = np.isfinite(export.closed) & (export.closed > 200.0) & (export.created < 200.0)
    assert int((part.outcome == 0).sum()) == int(closed_late.sum())
    assert np.all(np.isnan(part.closed[part.outcome == 0]))


def test_a_stage_history_checks_the_fit_stage_by_stage() -> None:
    """With the stage history of the bundled example (a team the baseline's model wrote), the
    fitted scenario's stage conversions land in the history's intervals, counted the same way;
    a history naming a stage the scenario has not got is said, not guessed."""
    from dataclasses import replace as changed

    from simsales.crm import import_crm
    from simsales.crm.fit.stages import stage_check

    crm = ROOT / "examples" / "crm"
    read = import_crm(
        crm / "export.csv", crm / "mapping.toml", stage_history=crm / "stage-history.csv"
    )
    assert read.history is not None
    options = FitOptions(
        parameters=parameters_named(["competition"]), budget=4, replications=2, final_replications=2
    )
    fitted = fit_export(read.export, load_scenario(BASELINE), options)
    check = stage_check(fitted, read.export, read.history)
    assert [r.stage for r in check.rows] == ["commitment", "discovery", "diagnosis", "close"]
    judged = [r for r in check.rows if r.conversion_inside is not None]
    assert len(judged) == 3 and sum(r.conversion_inside for r in judged) >= 2, check.rows
    for row in check.rows:  # days in stage of the same order as the team's
        assert 0.5 < row.simulated_median_days / row.median_days < 2.0, row
    renamed = changed(read.history, stages=("commitment", "discovery", "proposal", "close"))
    with pytest.raises(ValueError, match="'proposal'"):
        stage_check(fitted, read.export, renamed)
