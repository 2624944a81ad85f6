"""The process-mining export: CSV, IEEE XES and OCEL 2.0, read back into the deal table's key
columns; resources named apart per replication; the stage-level log."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simsales.cli import main
from simsales.model.records import EV, OUTCOMES, RunRecords
from simsales.model.simulation import simulate
from simsales.results.eventlog import (
    EXPORT_COLUMNS,
    EventLogExport,
    deal_columns,
    read_event_log,
    timestamp,
)
from simsales.results.table import DealTable
from simsales.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
XES = "{http://www.xes-standard.org/}"
#: A short baseline with touches and tasks: every kind of event shows up.
SHORT = (
    "run.horizon_days=420",
    "run.warmup_days=60",
    "run.cohort_margin_days=60",
    "policies.touch_every_days=4",
)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(BASELINE, SHORT)


@pytest.fixture(scope="module")
def runs(scenario: Scenario) -> list[RunRecords]:
    return [simulate(scenario, seed=7, replication=r, event_log=True) for r in (0, 1)]


def _export(runs: list[RunRecords], path: Path, fmt: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        export = EventLogExport(fh, fmt, scenario_name="short")
        for records in runs:
            export.add_records(records)
        export.close()


def _assert_rebuilds(table: DealTable, rebuilt: dict[str, np.ndarray]) -> None:
    """The key columns read back from the log equal the deal table's."""
    assert np.array_equal(rebuilt["deal_id"], table["deal_id"])
    for name in ("outcome", "seller", "stage_reached", "calls", "touches", "pushes"):
        assert np.array_equal(rebuilt[name], table[name]), name
    assert np.array_equal(rebuilt["wrong_activities"], table["wrong_activities"])
    for name in ("assigned_at", "ended_at", "closed_at"):
        np.testing.assert_array_equal(rebuilt[name], table[name], err_msg=name)
    # the log stamps env.now, which can differ from the arrival time by an ulp
    np.testing.assert_allclose(rebuilt["created_at"], table["created_at"], rtol=1e-12)
    for name in ("buyer_wait_days", "seller_wait_days"):  # the table keeps float32
        np.testing.assert_allclose(rebuilt[name], table[name], rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("fmt", ["csv", "xes", "ocel"])
def test_export_round_trips_to_the_deal_table(
    runs: list[RunRecords], tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / f"log.{'json' if fmt == 'ocel' else fmt}"
    _export(runs, path, fmt)
    back = read_event_log(path)
    assert sorted(back) == [0, 1]
    for records in runs:
        table = DealTable.from_records(records)
        _assert_rebuilds(table, deal_columns(back[records.replication]))
    # what comes back is the model's own log, row for row
    assert runs[0].events is not None
    assert len(back[0]["case"]) == len(runs[0].events)
    codes = set(back[0]["code"].tolist())
    for name in ("touch", "buyer_task", "wait_buyer", "wait_task", "forecast_pushed", "call"):
        assert EV[name] in codes, f"no {name} in the test run: it tests too little"


def test_deal_columns_of_the_models_own_log(runs: list[RunRecords]) -> None:
    """Unsorted, as the model logged it, the log rebuilds the same columns."""
    records = runs[0]
    assert records.events is not None
    _assert_rebuilds(DealTable.from_records(records), deal_columns(records.events.columns()))


def test_xes_has_the_standard_structure(runs: list[RunRecords], tmp_path: Path) -> None:
    path = tmp_path / "log.xes"
    _export(runs[:1], path, "xes")
    root = ET.parse(path).getroot()
    assert root.tag == f"{XES}log"
    assert root.get("xes.version") and "xes.features" in root.attrib
    prefixes = {e.get("prefix"): e.get("uri") for e in root.iterfind(f"{XES}extension")}
    for prefix in ("concept", "time", "org", "lifecycle"):
        assert prefixes[prefix] == f"http://www.xes-standard.org/{prefix}.xesext"
    assert root.find(f"{XES}classifier[@keys='concept:name']") is not None
    traces = root.findall(f"{XES}trace")
    assert len(traces) == len(runs[0].deals)
    resources = set()
    for trace in traces:
        keys = {a.get("key"): a.get("value") for a in trace if a.tag != f"{XES}event"}
        assert keys["concept:name"] == f"r0-d{keys['simsales:deal_id']}"
        events = trace.findall(f"{XES}event")
        assert events, "a trace without events"
        stamps = []
        for event in events:
            attrs = {a.get("key"): (a.tag, a.get("value")) for a in event}
            assert attrs["concept:name"][0] == f"{XES}string"
            assert attrs["time:timestamp"][0] == f"{XES}date"
            assert attrs["lifecycle:transition"][1] in ("start", "complete")
            if "org:resource" in attrs:
                resources.add(attrs["org:resource"][1])
            stamps.append(attrs["time:timestamp"][1])
        assert stamps == sorted(stamps), "a trace's events are not in time order"
    assert "r0-seller 0" in resources
    assert any(r.startswith("r0-d") and r.endswith(" buyer") for r in resources)


def test_ocel_has_the_standard_structure(runs: list[RunRecords], tmp_path: Path) -> None:
    """OCEL 2.0 JSON: declared types, every event related to existing objects of its deal."""
    path = tmp_path / "log.json"
    _export(runs, path, "ocel")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert set(doc) == {"objectTypes", "eventTypes", "objects", "events"}
    object_types = {t["name"]: {a["name"] for a in t["attributes"]} for t in doc["objectTypes"]}
    assert set(object_types) == {"deal", "seller"}
    event_types = {t["name"]: {a["name"] for a in t["attributes"]} for t in doc["eventTypes"]}
    objects = {o["id"]: o for o in doc["objects"]}
    assert len(objects) == len(doc["objects"]), "object ids repeat"
    assert sum(o["type"] == "deal" for o in doc["objects"]) == sum(len(r.deals) for r in runs)
    ids = set()
    for event in doc["events"]:
        ids.add(event["id"])
        assert event["type"] in event_types
        assert {a["name"] for a in event["attributes"]} <= event_types[event["type"]]
        deal = [r for r in event["relationships"] if r["qualifier"] == "deal"]
        assert len(deal) == 1 and objects[deal[0]["objectId"]]["type"] == "deal"
        for rel in event["relationships"]:
            assert rel["objectId"] in objects
        assert event["time"].startswith("202")
    assert len(ids) == len(doc["events"]), "event ids repeat"
    for obj in doc["objects"]:
        assert {a["name"] for a in obj["attributes"]} <= object_types[obj["type"]]


def test_csv_layout_and_lifecycle(runs: list[RunRecords]) -> None:
    buffer = io.StringIO()
    export = EventLogExport(buffer, "csv", scenario_name="short")
    export.add_records(runs[0])
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert rows[0]["timestamp"] == timestamp(float(rows[0]["time"]))
    starts = [r for r in rows if r["activity"] == "buyer_task" and r["lifecycle"] == "start"]
    ends = [r for r in rows if r["activity"] == "buyer_task" and r["lifecycle"] == "complete"]
    assert starts and 0 < len(ends) <= len(starts)
    for end in ends:  # each end lies after a start of the same case by the task's days
        match = [
            s
            for s in starts
            if s["case_id"] == end["case_id"]
            and abs(float(s["time"]) + float(s["value"]) - float(end["time"])) < 1e-9
        ]
        assert match, end
    assert {r["resource"] for r in rows if r["activity"] == "call"} <= {
        f"r0-seller {s}" for s in range(10)
    }


def test_timestamps_count_days_from_the_epoch() -> None:
    assert timestamp(0.0) == "2026-01-01T00:00:00.000+00:00"
    assert timestamp(31.5) == "2026-02-01T12:00:00.000+00:00"


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.csv, \.xes, \.json$"):
        read_event_log(tmp_path / "log.parquet")


# --- the CLI ---------------------------------------------------------------------------------


def _short_args() -> list[str]:
    return [f"--set={s}" for s in SHORT] + ["--no-cache"]


def test_run_events_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "log.xes"
    result = CliRunner().invoke(
        main, ["run", str(BASELINE), "-r", "2", "--events", str(path), *_short_args()]
    )
    assert result.exit_code == 0, result.output
    assert f"event log written to {path}" in result.output
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(BASELINE),
            "-r",
            "2",
            "--out",
            str(out),
            "--events",
            "--no-figures",
            *_short_args(),
        ],
    )
    assert result.exit_code == 0, result.output
    from_xes = read_event_log(path)
    from_csv = read_event_log(out / "events.csv")
    with (out / "deals.csv").open() as fh:
        deals = list(csv.DictReader(fh))
    for rep in (0, 1):
        for name in from_xes[rep]:
            np.testing.assert_array_equal(from_xes[rep][name], from_csv[rep][name], err_msg=name)
        rebuilt = deal_columns(from_csv[rep])
        mine = [d for d in deals if d["replication"] == str(rep)]
        assert [int(d["calls"]) for d in mine] == rebuilt["calls"].tolist()
        assert [d["outcome"] for d in mine] == [OUTCOMES[o] for o in rebuilt["outcome"].tolist()]


def test_run_events_file_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("precious\n")
    result = CliRunner().invoke(
        main, ["run", str(BASELINE), "-r", "1", "--events", str(path), *_short_args()]
    )
    assert result.exit_code == 2
    assert "--force" in result.stderr and path.read_text() == "precious\n"
    forced = CliRunner().invoke(
        main, ["run", str(BASELINE), "-r", "1", "--events", str(path), "--force", *_short_args()]
    )
    assert forced.exit_code == 0, forced.output
    assert path.read_text().startswith("case_id,activity,timestamp,resource,role,lifecycle")


def test_run_events_bad_ending_or_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["run", str(BASELINE), "--events", str(tmp_path / "a.txt")])
    assert result.exit_code == 2 and ".csv, .xes, .json" in result.stderr
    result = CliRunner().invoke(
        main, ["run", str(BASELINE), "--events", str(tmp_path / "no" / "a.csv")]
    )
    assert result.exit_code == 2 and "no folder" in result.stderr
    assert not list(tmp_path.iterdir())
