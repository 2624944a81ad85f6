"""Reading a team's CRM export: every row read or reported, in any of the layouts CRMs use."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from crm_layouts import HUBSPOT

from simsales.cli import main
from simsales.crm import CRM_OUTCOMES, export_summary, load_mapping, read_export
from simsales.crm.reader import ExportError, _amount
from simsales.crm.synthetic import ExportLayout, write_crm_export
from simsales.model import simulate
from simsales.model.records import OUTCOMES
from simsales.results import DealTable
from simsales.scenario import load_scenario
from simsales.scenario.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
SHORT = ["run.horizon_days=700", "run.warmup_days=100", "run.cohort_margin_days=100"]


@pytest.fixture(scope="module")
def tables() -> list[DealTable]:
    scenario = load_scenario(BASELINE, SHORT)
    return [DealTable.from_records(simulate(scenario, seed=3, replication=r)) for r in (0, 1)]


def _write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("layout", [ExportLayout(), HUBSPOT], ids=["salesforce", "hubspot"])
def test_an_export_written_from_the_model_reads_back(
    tmp_path: Path, tables: list[DealTable], layout: ExportLayout
) -> None:
    export_path = tmp_path / "export.csv"
    written = write_crm_export(tables, export_path, layout)
    mapping = load_mapping(_write(tmp_path, layout.mapping_toml(), "mapping.toml"))
    export = read_export(export_path, mapping)
    assert not export.problems
    assert len(export) == written == sum(int(t.opportunity.sum()) for t in tables)
    expected = {name: 0 for name in CRM_OUTCOMES}
    for t in tables:
        for code in t["outcome"][t.opportunity]:
            expected[OUTCOMES[int(code)]] += 1
    assert export_summary(export).outcomes == expected
    # dates keep the day (and the time where the format has one)
    opened = np.concatenate([t.opened_at[t.opportunity] for t in tables])
    offset = (export.epoch - layout.epoch).days
    resolution = 1.0 if "%H" not in layout.date_format else 1 / 1440
    assert np.allclose(export.created + offset, opened, atol=resolution)
    assert len(export.owners) == sum(len(set(t["seller"][t.opportunity])) for t in tables)


def test_a_messy_export_reports_each_bad_row_with_its_line(tmp_path: Path) -> None:
    mapping = load_mapping(_write(tmp_path, ExportLayout().mapping_toml(), "m.toml"))
    rows = [
        "Opportunity ID,Created Date,Close Date,Stage,Amount,Opportunity Owner,Meetings",
        'A1,03/01/2025,04/15/2025,Closed Won,"12,000",Ann,5',  # line 2: fine
        "A2,,04/15/2025,Closed Lost,1000,Ann,3",  # 3: no creation date
        "A3,03/02/2025,,Closed Won,1000,Bob,2",  # 4: ended without a close date
        "A1,03/03/2025,04/15/2025,Closed Won,1000,Bob,2",  # 5: duplicate id
        "A5,05/01/2025,04/01/2025,Closed Lost,1000,Bob,2",  # 6: closed before created
        "A6,03/04/2025,05/01/2025,Negotiation,1000,Bob,2",  # 7: unknown label
        'A7,2025-03-05,2025-06-01,closed  won,"€ 12.000,50",Cy,4',  # 8: ISO dates, odd spacing
        "A8,03/06/2025,,Open,about ten grand,,1",  # 9: amount as text, no owner
        "A9,31/03/2025,05/01/2025,Closed Won,1000,Ann,2",  # 10: day first: not the format
        "A10,03/07/2025,,,500,Ann,1",  # 11: no status, no close: open
    ]
    export = read_export(_write(tmp_path, "\n".join(rows) + "\n", "export.csv"), mapping)
    errors = {p.line: p.message for p in export.errors}
    assert set(errors) == {3, 4, 5, 6, 7, 10}
    assert "no creation date" in errors[3]
    assert "no close date" in errors[4]
    assert "the same id as line 2" in errors[5]
    assert "closed before it was created" in errors[6]
    assert "status label the mapping does not know" in errors[7]
    assert "not a date" in errors[10]
    warnings = {(p.line, p.column) for p in export.warnings}
    assert warnings == {(9, "Amount"), (9, "Opportunity Owner")}
    assert export.ids == ("A1", "A7", "A8", "A10")
    assert export.amount[0] == 12000 and export.amount[1] == 12000.5
    assert math.isnan(export.amount[2])
    assert [CRM_OUTCOMES[c] for c in export.outcome] == ["won", "won", "open", "open"]
    assert export.rows_read == 10  # nothing dropped silently: 4 kept, 6 reported


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12,000", 12000.0),
        ("12.000,50", 12000.5),
        ("$1,234.56", 1234.56),
        ("1 234", 1234.0),
        ("12k", 12000.0),
        ("EUR 2.5M", 2_500_000.0),
        ("12,5", 12.5),
        ("1.234.567", 1234567.0),
        ("-300", -300.0),
    ],
)
def test_amounts_are_read_as_people_write_them(text: str, value: float) -> None:
    assert _amount(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["n/a", "", "about ten", "k"])
def test_text_that_is_not_an_amount_is_not_one(text: str) -> None:
    assert math.isnan(_amount(text))


def test_mapping_errors_name_the_key(tmp_path: Path) -> None:
    bad = ExportLayout().mapping_toml().replace('"Closed Won" = "won"', '"Closed Won" = "winning"')
    with pytest.raises(ScenarioError) as err:
        load_mapping(_write(tmp_path, bad, "m.toml"))
    assert any(
        p.key_path == 'status."Closed Won"' or "Closed Won" in p.key_path
        for p in err.value.problems
    )
    clash = ExportLayout().mapping_toml() + '"closed   WON" = "lost"\n'
    with pytest.raises(ScenarioError, match="the same label"):
        load_mapping(_write(tmp_path, clash, "m2.toml"))


def test_a_misspelt_mapping_key_is_matched_against_the_mappings_keys(tmp_path: Path) -> None:
    misspelt = ExportLayout().mapping_toml().replace("[columns]", "[colums]")
    with pytest.raises(ScenarioError) as err:
        load_mapping(_write(tmp_path, misspelt, "m.toml"))
    said = [p.message for p in err.value.problems if p.key_path == "colums"]
    assert said == ["unknown key; did you mean 'columns'?"], err.value.problems


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    mapping = load_mapping(_write(tmp_path, ExportLayout().mapping_toml(), "m.toml"))
    export = _write(tmp_path, "Opportunity ID,Stage\nA1,Open\n", "e.csv")
    with pytest.raises(ExportError, match=r"no column for created \('Created Date'\)"):
        read_export(export, mapping)


def test_the_cli_says_what_it_read_and_reports_bad_rows(
    tmp_path: Path, tables: list[DealTable]
) -> None:
    export = tmp_path / "export.csv"
    write_crm_export(tables[:1], export, ExportLayout())
    with export.open("a", encoding="utf-8") as fh:
        fh.write("X1,13/45/2025,,Closed Won,1,Ann,1\n")
    mapping = _write(tmp_path, ExportLayout().mapping_toml(), "mapping.toml")
    result = CliRunner().invoke(main, ["import", str(export), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    assert "error: line" in result.stderr and "not a date" in result.stderr
    out = result.stdout
    assert "outcomes: " in out and "still open:" in out and "owners: " in out
    assert "opportunities created per month:" in out and "amounts (EUR): p10" in out
    as_json = CliRunner().invoke(
        main, ["import", str(export), "--mapping", str(mapping), "--format", "json"]
    )
    doc = json.loads(as_json.stdout)
    assert doc["left_out"] == 1 and doc["problems"][0]["line"] == doc["rows_read"] + 1
    broken = _write(tmp_path, "[columns]\nid = 3\n", "broken.toml")
    refused = CliRunner().invoke(main, ["import", str(export), "--mapping", str(broken)])
    assert refused.exit_code == 2 and "columns.id" in refused.stderr
