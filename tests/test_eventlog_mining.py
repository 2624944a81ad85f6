"""What process-mining tools make of the export: resources and cases named apart in each
replication, the stage-level log, the OCEL 2.0 file ending; and pm4py itself, where installed."""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simsales.cli import main
from simsales.model.records import OUTCOMES, RunRecords
from simsales.model.simulation import simulate
from simsales.results.eventlog import (
    EventLogExport,
    event_log_format,
    legacy_ending_notice,
    read_event_log,
    stage_activities,
)
from simsales.results.table import DealTable
from simsales.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
SHORT = ("run.horizon_days=300", "run.warmup_days=60", "run.cohort_margin_days=60")
REPLICATIONS = 3


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(BASELINE, SHORT)


@pytest.fixture(scope="module")
def runs(scenario: Scenario) -> list[RunRecords]:
    return [simulate(scenario, seed=11, replication=r, event_log=True) for r in range(3)]


def _csv_rows(runs: list[RunRecords], level: str = "event") -> list[dict[str, str]]:
    buffer = io.StringIO()
    export = EventLogExport(buffer, "csv", scenario_name="short", level=level)
    for records in runs:
        export.add_records(records)
    export.close()
    return list(csv.DictReader(io.StringIO(buffer.getvalue())))


def test_resources_and_cases_are_apart_in_each_replication(
    runs: list[RunRecords], scenario: Scenario
) -> None:
    """A tool counts resources by name: seller 3 of replication 0 and of replication 1 are two
    people, and each deal's buyer is its own; no name, and no case id, spans replications."""
    rows = _csv_rows(runs)
    reps_of: dict[str, set[str]] = defaultdict(set)
    cases_of: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row["resource"]:
            reps_of[row["resource"]].add(row["replication"])
            cases_of[row["resource"]].add(row["case_id"])
        reps_of[row["case_id"]].add(row["replication"])
    assert all(len(reps) == 1 for reps in reps_of.values()), "a name spans replications"
    sellers = {r["resource"] for r in rows if r["role"] == "seller"}
    assert len(sellers) == REPLICATIONS * scenario.team.sellers
    for row in rows:
        if row["role"] == "seller":
            assert row["resource"] == f"r{row['replication']}-seller {row['seller']}"
        elif row["role"] == "buyer":
            assert row["resource"] == f"{row['case_id']} buyer"
            assert cases_of[row["resource"]] == {row["case_id"]}
        else:
            assert row["resource"] == "" and row["activity"] in ("created", "unworked")


def test_stage_level_log_is_the_stage_model(runs: list[RunRecords]) -> None:
    """Per case: the arrival, the stages entered in order, then the outcome (if closed): what
    the deal table says of the deal, and nothing else."""
    rows = _csv_rows(runs, level="stage")
    by_case: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_case[row["case_id"]].append(row)
    n_deals = 0
    for records in runs:
        table = DealTable.from_records(records)
        names = table.stage_names
        outcomes = table.outcome_names
        for i, deal in enumerate(table["deal_id"].tolist()):
            n_deals += 1
            got = by_case[f"r{records.replication}-d{deal}"]
            reached = int(table["stage_reached"][i])
            expected = ["created", *names[:reached]]
            if outcomes[i] != "open":
                expected.append(str(outcomes[i]))
            assert [r["activity"] for r in got] == expected
            times = [float(r["time"]) for r in got]
            assert times == sorted(times)
            if outcomes[i] != "open":
                assert times[-1] == pytest.approx(float(table["closed_at"][i]), abs=1e-3)
    assert len(by_case) == n_deals
    seen = {r["activity"] for r in rows}
    assert {"won", "no_decision", "no_response"} <= seen, "the test run shows too little"


def test_stage_activities_keep_stages_and_outcomes_apart() -> None:
    assert stage_activities(("outreach", "close")) == ("outreach", "close")
    assert stage_activities(("created", "won", "x")) == ("stage created", "stage won", "x")
    assert set(OUTCOMES) & set(stage_activities(OUTCOMES)) == set()


def test_stage_level_log_cannot_be_read_back(runs: list[RunRecords], tmp_path: Path) -> None:
    for ending, fmt in ((".csv", "csv"), (".xes", "xes"), (".json", "ocel")):
        path = tmp_path / f"stages{ending}"
        with path.open("w", encoding="utf-8", newline="") as fh:
            export = EventLogExport(fh, fmt, scenario_name="short", level="stage")
            export.add_records(runs[0])
            export.close()
        with pytest.raises(ValueError, match="stage-level log"):
            read_event_log(path)


def test_ocel_stage_level_declares_the_stage_types(runs: list[RunRecords]) -> None:
    buffer = io.StringIO()
    export = EventLogExport(buffer, "ocel", scenario_name="short", level="stage")
    export.add_records(runs[0])
    export.close()
    doc = json.loads(buffer.getvalue())
    declared = {t["name"] for t in doc["eventTypes"]}
    assert {e["type"] for e in doc["events"]} == declared
    assert "outreach" in declared and "stage_entered" not in declared


def test_ocel_ending_follows_the_standard(tmp_path: Path) -> None:
    """OCEL 2.0 JSON ends in .json; .jsonocel (OCEL 1.0's) still works, with a notice."""
    assert event_log_format("log.json") == "ocel"
    assert legacy_ending_notice("log.json") is None
    assert event_log_format("log.jsonocel") == "ocel"
    notice = legacy_ending_notice(tmp_path / "log.jsonocel")
    assert notice is not None and "OCEL 1.0" in notice and "log.json" in notice


# --- the CLI ---------------------------------------------------------------------------------


def _run(*args: str) -> object:
    short = [f"--set={s}" for s in SHORT]
    return CliRunner().invoke(main, ["run", str(BASELINE), "-r", "1", *short, "--no-cache", *args])


def test_cli_stage_level_and_legacy_ending(tmp_path: Path) -> None:
    path = tmp_path / "stages.csv"
    result = _run("--events", str(path), "--events-level", "stage")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    with path.open(newline="") as fh:
        activities = {row["activity"] for row in csv.DictReader(fh)}
    assert "outreach" in activities and "call" not in activities
    old = tmp_path / "log.jsonocel"
    result = _run("--events", str(old))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "deprecated" in result.stderr and "log.json" in result.stderr  # type: ignore[attr-defined]
    assert sorted(read_event_log(old)) == [0]


def test_cli_events_level_needs_events() -> None:
    result = _run("--events-level", "stage")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "--events-level stage needs --events" in result.stderr  # type: ignore[attr-defined]


# --- pm4py, where installed (it is no dependency of simsales) --------------------------------


@pytest.fixture(scope="module")
def pm4py():  # type: ignore[no-untyped-def]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its own imports' deprecations are not ours
        return pytest.importorskip("pm4py")


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")
def test_pm4py_counts_each_replications_sellers_apart(
    pm4py, runs: list[RunRecords], scenario: Scenario, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "log.xes"
    with path.open("w", encoding="utf-8", newline="") as fh:
        export = EventLogExport(fh, "xes", scenario_name="short")
        for records in runs:
            export.add_records(records)
        export.close()
    log = pm4py.read_xes(str(path))
    sellers = log[log["org:role"] == "seller"]
    per_rep = sellers.groupby("case:simsales:replication")["org:resource"].nunique()
    assert per_rep.tolist() == [scenario.team.sellers] * REPLICATIONS
    assert sellers["org:resource"].nunique() == REPLICATIONS * scenario.team.sellers
    assert log["case:concept:name"].nunique() == sum(len(r.deals) for r in runs)


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")
def test_pm4py_discovers_the_stages(pm4py, runs: list[RunRecords], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "stages.json"
    with path.open("w", encoding="utf-8", newline="") as fh:
        export = EventLogExport(fh, "ocel", scenario_name="short", level="stage")
        export.add_records(runs[0])
        export.close()
    ocel = pm4py.read_ocel2(str(path))
    deals = pm4py.ocel_flattening(ocel, "deal")
    dfg, start, _ = pm4py.discover_dfg(deals)
    table = DealTable.from_records(runs[0])
    names = table.stage_names
    assert set(start) == {"created"}
    # every move forward from one stage to the next is an edge, and no edge skips a stage
    for a, b in itertools.pairwise(names):
        assert dfg.get((a, b), 0) == int(np.sum(table["stage_reached"] >= names.index(b) + 1))
    for a, b in dfg:
        if a in names and b in names:
            assert names.index(b) == names.index(a) + 1
