"""A stage history and an activity log beside a CRM export: read, checked, and summarised."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from crm_layouts import HUBSPOT

from simsales.cli import main
from simsales.crm import (
    export_stage_flow,
    load_mapping,
    read_activity_log,
    read_export,
    read_stage_history,
    stage_flow,
    table_stage_flow,
)
from simsales.crm.flow import activity_summary, stage_pairs
from simsales.crm.synthetic import (
    ExportLayout,
    write_activity_log,
    write_crm_export,
    write_stage_history,
)
from simsales.model import simulate
from simsales.model.records import EV, RunRecords
from simsales.results import DealTable
from simsales.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
#: touches every 4 days: the activity log has emails as well as meetings
SHORT_GAPS = ROOT / "scenarios" / "short-gaps.toml"
SHORT = ["run.horizon_days=700", "run.warmup_days=100", "run.cohort_margin_days=100"]


@pytest.fixture(scope="module")
def runs() -> list[RunRecords]:
    scenario = load_scenario(SHORT_GAPS, SHORT)
    return [simulate(scenario, seed=5, replication=r, event_log=True) for r in (0, 1)]


@pytest.fixture(scope="module")
def tables(runs: list[RunRecords]) -> list[DealTable]:
    return [DealTable.from_records(r) for r in runs]


def _write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _generated(
    tmp_path: Path, runs: list[RunRecords], tables: list[DealTable], layout: ExportLayout
) -> tuple[Path, Path, Path, Path]:
    export, history, acts = tmp_path / "e.csv", tmp_path / "h.csv", tmp_path / "a.csv"
    write_crm_export(tables, export, layout)
    write_stage_history(tables, history, layout)
    write_activity_log(tables, [r.events for r in runs], acts, layout)
    return export, history, acts, _write(tmp_path, layout.mapping_toml(), "m.toml")


@pytest.mark.parametrize("layout", [ExportLayout(), HUBSPOT], ids=["salesforce", "hubspot"])
def test_a_generated_history_reads_back_and_tells_the_simulations_story(
    tmp_path: Path, runs: list[RunRecords], tables: list[DealTable], layout: ExportLayout
) -> None:
    export_path, history_path, acts_path, mapping_path = _generated(
        tmp_path, runs[:1], tables[:1], layout
    )
    mapping = load_mapping(mapping_path)
    export = read_export(export_path, mapping)
    history = read_stage_history(history_path, mapping, export)
    acts = read_activity_log(acts_path, mapping, export)
    assert not export.problems and not history.problems and not acts.problems
    table = tables[0]
    n = int(table.opportunity.sum())
    assert history.before_opportunity == n  # every new-business deal was prospected first
    assert history.ignored == int(np.sum(table["outcome"][table.opportunity] != 0))
    # the stage flow of the export is the simulation's, measured on the same days
    offset = (export.epoch - layout.epoch).days
    end_day = max(export.end_day, float(history.entered.max())) + offset
    seen = export_stage_flow(export, history)
    truth = table_stage_flow(table, end_day=end_day)
    assert seen.stages == truth.stages == ("commitment", "discovery", "diagnosis", "close")
    assert stage_pairs(seen, truth) == [(0, 0), (1, 1), (2, 2), (3, 3)]
    for name in ("entered", "moved_on", "ended_in", "still_in"):
        assert getattr(seen, name) == getattr(truth, name), name
    entered = table["stage_entered"][table.opportunity, table.opens_stage :]
    assert seen.entered == tuple(np.isfinite(entered).sum(axis=0))  # the records' own count
    np.testing.assert_allclose(seen.conversion, truth.conversion, equal_nan=True)
    np.testing.assert_allclose(seen.won, truth.won, equal_nan=True)
    # dates keep the day (or the minute): days in stage move by less than one unit of them
    unit = 1.0 if "%H" not in layout.date_format else 1 / 1440
    for ours, theirs in ((seen.median_days, truth.median_days), (seen.p90_days, truth.p90_days)):
        np.testing.assert_allclose(ours, theirs, atol=unit, equal_nan=True)
    # activities: the meetings and touches of the event log, from the opening to the close
    events = runs[0].events
    assert events is not None
    ev = events.columns()
    counts = acts.counts(len(export))
    row_of = {int(d): i for i, d in enumerate(table["deal_id"])}
    expected = np.zeros_like(counts)
    kinds = {EV["call"]: acts.kinds.index("meeting"), EV["touch"]: acts.kinds.index("touch")}
    export_row = {ident: i for i, ident in enumerate(export.ids)}
    for case, time, code in zip(ev["case"], ev["time"], ev["code"], strict=True):
        if int(code) not in kinds:
            continue
        i = row_of[int(case)]
        ident = f"R0-{int(case)}"
        closed = table["closed_at"][i]
        end = min(closed, table.horizon_days) if math.isfinite(closed) else table.horizon_days
        if ident in export_row and table.opened_at[i] <= np.float32(time) <= end:
            expected[export_row[ident], kinds[int(code)]] += 1
    np.testing.assert_array_equal(counts, expected)
    calls = table["calls"][table.opportunity]
    assert np.all(counts[:, acts.kinds.index("meeting")] <= calls)
    assert counts.sum(axis=0).min() > 100  # both kinds are there, in numbers
    summary = activity_summary(export, acts)
    assert summary.total == tuple(int(c) for c in expected.sum(axis=0))


def test_two_replications_read_back_without_a_problem(
    tmp_path: Path, runs: list[RunRecords], tables: list[DealTable]
) -> None:
    export_path, history_path, acts_path, mapping_path = _generated(
        tmp_path, runs, tables, ExportLayout()
    )
    mapping = load_mapping(mapping_path)
    export = read_export(export_path, mapping)
    history = read_stage_history(history_path, mapping, export)
    acts = read_activity_log(acts_path, mapping, export)
    assert not export.problems and not history.problems and not acts.problems
    assert history.rows_read == len(history) + history.before_opportunity + history.ignored
    assert acts.rows_read == len(acts)


_MESSY_EXPORT = """\
Opportunity ID,Created Date,Close Date,Stage,Amount,Opportunity Owner,Meetings
A1,03/01/2025,04/30/2025,Closed Won,1000,Ann,3
A2,03/05/2025,,Open,1000,Ann,1
A3,03/10/2025,03/20/2025,Closed Lost,1000,Bob,1
"""

_MESSY_HISTORY = """\
Opportunity ID,Stage,Entered
A1,Prospecting,02/20/2025
A1,Qualification,03/01/2025
A1,Needs Analysis,03/08/2025
A1,Proposal/Price Quote,03/20/2025
A1,Closed Won,04/30/2025
B9,Qualification,03/01/2025
A2,Negotiation,03/06/2025
A2,Qualification,2025-13-01
A2,Qualification,03/04/2025
A3,Needs Analysis,03/12/2025
A3,Qualification,03/15/2025
A1,Needs Analysis,03/08/2025
A1,needs  analysis,03/10/2025
A3,Proposal/Price Quote,03/25/2025
"""


def test_a_messy_stage_history_reports_each_bad_row_with_its_line(tmp_path: Path) -> None:
    mapping = load_mapping(_write(tmp_path, ExportLayout().mapping_toml(), "m.toml"))
    export = read_export(_write(tmp_path, _MESSY_EXPORT, "e.csv"), mapping)
    history = read_stage_history(_write(tmp_path, _MESSY_HISTORY, "h.csv"), mapping, export)
    errors = {p.line: p.message for p in history.errors}
    assert set(errors) == {7, 8, 9, 13}
    assert "not an opportunity of the export" in errors[7]
    assert "a stage label the mapping does not know" in errors[8]
    assert "not a date" in errors[9]
    assert "the same entry as line 4" in errors[13]
    warnings = {(p.line, p.message.split(" (")[0].split(":")[0]) for p in history.warnings}
    assert warnings == {
        (10, "before the opportunity was created"),
        (12, "entered commitment"),  # after discovery: moved back
        (14, "discovery entered again"),  # the earliest entry counts
        (15, "after the opportunity was closed"),
    }
    assert history.before_opportunity == 1 and history.ignored == 1
    assert history.rows_read == 14 == len(history) + 2 + len(errors)
    first = history.first_entries(len(export))
    assert first[0, 1] == first[0, 0] + 7  # A1 in discovery from 03/08, not 03/10
    assert all(p.line > 1 for p in history.problems)


def test_a_messy_activity_log_reports_each_bad_row(tmp_path: Path) -> None:
    toml = (
        ExportLayout().mapping_toml().replace('date = "Date"', 'date = "Date"\nid = "Activity ID"')
    )
    toml = toml.replace('"Email" = "touch"', '"Email" = "touch"\n"Note" = "ignore"')
    mapping = load_mapping(_write(tmp_path, toml, "m.toml"))
    export = read_export(_write(tmp_path, _MESSY_EXPORT, "e.csv"), mapping)
    log = "\n".join(
        [
            "Activity ID,Opportunity ID,Activity Type,Date",
            "1,A1,Meeting,03/02/2025",
            "2,A1,email,03/03/2025",  # labels matched without case
            "2,A1,Email,03/04/2025",  # 4: the same id as line 3
            "3,A1,Lunch,03/05/2025",  # 5: unknown type
            "4,A3,Meeting,04/01/2025",  # 6: after the close: kept, warned
            "5,A2,Note,03/06/2025",  # ignored
            "6,A2,Meeting,",  # 8: no date
        ]
    )
    acts = read_activity_log(_write(tmp_path, log + "\n", "a.csv"), mapping, export)
    assert {p.line: p.message.split(" (")[0] for p in acts.errors} == {
        4: "the same activity id as line 3",
        5: "an activity type the mapping does not know",
        8: "no date",
    }
    assert [(p.line, p.severity) for p in acts.warnings] == [(6, "warning")]
    assert acts.types == ("Meeting", "email") and acts.kinds == ("meeting", "touch")
    assert acts.ignored == 1
    np.testing.assert_array_equal(acts.counts(len(export)), [[1, 1], [0, 0], [1, 0]])
    summary = activity_summary(export, acts)
    assert summary.per_won == (1.0, 1.0) and summary.per_not_won == (1.0, 0.0)
    assert summary.per_opportunity == pytest.approx((2 / 3, 1 / 3))


def test_conversion_and_days_in_stage_on_a_hand_worked_example() -> None:
    nan = math.nan
    entered = np.array(
        [
            [0.0, 10.0, 20.0],  # won on day 30
            [0.0, 5.0, nan],  # lost on day 8, in B
            [0.0, nan, nan],  # lost on day 4, in A
            [0.0, nan, nan],  # open: still in A, censored at day 50
            [2.0, 12.0, nan],  # open: still in B, censored at day 50
        ]
    )
    closed = np.array([30.0, 8.0, 4.0, nan, nan])
    won = np.array([True, False, False, False, False])
    flow = stage_flow(entered, closed=closed, won=won, end_day=50.0, stages=("A", "B", "C"))
    assert flow.opportunities == 5
    assert flow.entered == (5, 3, 1)
    assert flow.moved_on == (3, 1, 0)
    assert flow.ended_in == (1, 1, 1)
    assert flow.still_in == (1, 1, 0)
    assert flow.conversion[:2] == (3 / 4, 1 / 2) and math.isnan(flow.conversion[2])
    assert flow.won == pytest.approx((1 / 3, 1 / 2, 1.0))
    # A: left after 4, 5, 10, 10 days, one censored at 50: S = 0.8, 0.6, 0.2: median 10, no p90
    # B: left after 3 and 10 days, one censored at 38: S = 2/3, 1/3: median 10, no p90
    assert flow.median_days == (10.0, 10.0, 10.0)
    assert math.isnan(flow.p90_days[0]) and math.isnan(flow.p90_days[1])
    assert flow.p90_days[2] == 10.0
    other = replace(flow, stages=("a", "Negotiation", "b"))
    assert stage_pairs(replace(flow, stages=("B", "a")), other) == [(0, 2), (1, 0)]
    with pytest.raises(ValueError, match="stages the scenario has not got: 'C'"):
        stage_pairs(flow, other)
    as_dict = flow.to_dict()
    assert as_dict["stages"][0]["p90_days"] is None and as_dict["stages"][2]["conversion"] is None


def test_the_cli_reads_history_and_activities_and_refuses_a_missing_section(
    tmp_path: Path, runs: list[RunRecords], tables: list[DealTable]
) -> None:
    export, history, acts, mapping = _generated(tmp_path, runs[:1], tables[:1], ExportLayout())
    args = ["import", str(export), "--mapping", str(mapping)]
    more = ["--stage-history", str(history), "--activities", str(acts)]
    result = CliRunner().invoke(main, [*args, *more])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    out = result.stdout
    assert "stages of the " in out and "conversion" in out and "Kaplan-Meier" in out
    assert "activities per opportunity" in out and "Meeting" in out and "Email" in out
    ours = out.split("\n\n", 1)[1].replace(str(tmp_path), "")  # after the export's summary
    assert max(len(line) for line in ours.splitlines()) <= 100
    doc = json.loads(CliRunner().invoke(main, [*args, *more, "--format", "json"]).stdout)
    assert doc["stage_history"]["left_out"] == 0
    assert doc["stage_history"]["stages"][0]["stage"] == "commitment"
    assert {t["kind"] for t in doc["activities"]["types"]} == {"meeting", "touch"}
    # a section's file, relative to the mapping, is read without the option
    named = mapping.read_text().replace(
        'entered_at = "Entered"', f'entered_at = "Entered"\nfile = "{history.name}"'
    )
    _write(tmp_path, named, "named.toml")
    found = CliRunner().invoke(
        main, ["import", str(export), "--mapping", str(tmp_path / "named.toml")]
    )
    assert found.exit_code == 0 and "stage entries kept" in found.stdout
    # no [stage_history] in the mapping: a clear error, no traceback
    head, _, tail = ExportLayout().mapping_toml().partition("\n[stage_history]")
    bare = _write(tmp_path, head + "\n[status]" + tail.split("\n[status]")[1], "bare.toml")
    refused = CliRunner().invoke(main, ["import", str(export), "--mapping", str(bare), *more[:2]])
    assert refused.exit_code == 2
    assert "the stage history" in refused.stderr
    assert "needs a [stage_history] section" in refused.stderr
    assert "opportunity, stage and entered_at" in refused.stderr
    assert "Traceback" not in refused.output
    # [stage_history] without [stages]: the mapping's error names what is missing
    no_stages = named.split("\n[stages]")[0] + "\n[status]" + named.split("\n[status]")[1]
    refused = CliRunner().invoke(
        main, ["import", str(export), "--mapping", str(_write(tmp_path, no_stages, "ns.toml"))]
    )
    assert refused.exit_code == 2 and "[stage_history] needs [stages]" in refused.stderr
    # a bad row of the history is named with its file and line on stderr
    with history.open("a", encoding="utf-8") as fh:
        fh.write("R0-999999,Qualification,01/01/2024\n")
    flagged = CliRunner().invoke(main, [*args, *more[:2]])
    assert flagged.exit_code == 0
    rows = history.read_text().count("\n")
    assert f"error: {history}: line {rows}, Opportunity ID: not an opportunity" in flagged.stderr


def test_a_layout_that_misses_a_stage_is_refused(tmp_path: Path, tables: list[DealTable]) -> None:
    layout = replace(ExportLayout(), stage_labels={"outreach": "Prospecting"})
    with pytest.raises(ValueError, match="no stage label for 'commitment'"):
        write_stage_history(tables[:1], tmp_path / "h.csv", layout)


def test_a_history_too_large_or_without_a_column_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapping_path = _write(tmp_path, ExportLayout().mapping_toml(), "m.toml")
    export = _write(tmp_path, _MESSY_EXPORT, "e.csv")
    wrong = _write(tmp_path, "Opportunity ID,Stage,When\nA1,Qualification,03/01/2025\n", "h.csv")
    args = ["import", str(export), "--mapping", str(mapping_path), "--stage-history", str(wrong)]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2
    assert "no column for entered_at ('Entered')" in refused.stderr
    monkeypatch.setattr("simsales.crm.history.MAX_LOG_BYTES", 2**20)
    big = _write(tmp_path, _MESSY_HISTORY + "A1,Qualification,03/01/2025\n" * 40_000, "big.csv")
    refused = CliRunner().invoke(main, [*args[:-1], str(big)])
    assert refused.exit_code == 2
    assert "larger than 1 MB: is it a stage history?" in refused.stderr


def test_the_bundled_example_export_is_what_its_script_writes(tmp_path: Path) -> None:
    """examples/crm/ is written by make_export.py from team.toml: rerun, the same files, and
    they read back without a problem (a model change that moves them shows here)."""
    import runpy
    import shutil

    from simsales.crm import import_crm

    bundled = Path(__file__).resolve().parent.parent / "examples" / "crm"
    copy = tmp_path / "examples" / "crm"
    copy.mkdir(parents=True)
    for name in ("make_export.py", "team.toml"):
        shutil.copy(bundled / name, copy / name)
    shutil.copytree(bundled.parent.parent / "scenarios", tmp_path / "scenarios")
    runpy.run_path(str(copy / "make_export.py"), run_name="__main__")
    for name in ("export.csv", "stage-history.csv", "activities.csv", "mapping.toml"):
        assert (copy / name).read_bytes() == (bundled / name).read_bytes(), (
            f"examples/crm/{name} is out of date: run python examples/crm/make_export.py"
        )
    read = import_crm(
        bundled / "export.csv",
        bundled / "mapping.toml",
        stage_history=bundled / "stage-history.csv",
        activities=bundled / "activities.csv",
    )
    assert read.problem_lines() == []
    assert read.history is not None and read.activities is not None
