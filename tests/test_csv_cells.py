"""CSV files open safely in a spreadsheet: a text cell a spreadsheet would read as a formula
(``=``, ``+``, ``-``, ``@``, tab, carriage return) is written with a single quote in front, numbers
are left as numbers, and simsales's own readers undo the quote.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from simsales.cli import main
from simsales.model.simulation import simulate
from simsales.results.csvtext import FORMULA_START, csv_text, read_csv_text
from simsales.results.eventlog import EventLogExport, read_event_log
from simsales.results.table import DealTable
from simsales.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
LAND = ROOT / "scenarios" / "land-and-expand.toml"
SHORT = ["--set", "run.horizon_days=500", "--set", "run.warmup_days=150",
         "--set", "run.cohort_margin_days=50"]  # fmt: skip
#: Names a spreadsheet would run: as segments, stages, change events.
HOSTILE = [
    'market.segments[0].name="=HYPERLINK(\\"https://evil.example\\",\\"x\\")"',
    'market.segments[1].name="-2+3"',
    'stages.outreach.name="@SUM(1+1)"',
    'stages.close.name="+close"',
    'accounts.change.kinds[0].name="\\tcmd"',
    "accounts.change.per_year=20",  # so that change events happen in a short run
]


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def cells(folder: Path) -> dict[str, list[list[str]]]:
    """Every CSV file under ``folder``, by name, as rows of cells."""
    out = {}
    for path in sorted(folder.rglob("*.csv")):
        with open(path, newline="", encoding="utf-8") as fh:
            out[path.name] = list(csv.reader(fh))
    return out


def formulas(folder: Path) -> list[tuple[str, str]]:
    """Text cells a spreadsheet would read as a formula."""
    return [
        (name, cell)
        for name, rows in cells(folder).items()
        for row in rows
        for cell in row
        if cell and cell[0] in FORMULA_START and not is_number(cell)
    ]


# --- the rule ---------------------------------------------------------------------------------


def test_formula_starts_get_a_quote_and_other_text_does_not() -> None:
    for text in ("=1+1", "+1", "-x", "@SUM(A1)", "\tx", "\rx", "'=x", "''-x"):
        assert csv_text(text) == "'" + text
    for text in ("plain", "", "a=b", "'quoted'", "'", "1-2", " =x"):
        assert csv_text(text) == text


@given(st.text())
def test_reading_back_undoes_the_rule_exactly(text: str) -> None:
    written = csv_text(text)
    assert read_csv_text(written) == text
    assert not written or written[0] not in FORMULA_START


# --- every CSV file a command writes ----------------------------------------------------------


def test_run_writes_no_formula_in_any_csv(tmp_path: Path) -> None:
    out = tmp_path / "run"
    sets = [arg for text in HOSTILE for arg in ("--set", text)]
    result = invoke(
        "run", LAND, "-r", "2", *SHORT, *sets, "--set", 'name="=1+1"',
        "--out", out, "--events", "--no-figures",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    found = cells(out)
    assert set(found) == {"deals.csv", "events.csv", "accounts.csv", "replications.csv"}
    assert formulas(out) == []
    deals = found["deals.csv"]
    segment = deals[0].index("segment")
    assert {row[segment] for row in deals[1:]} == {
        '\'=HYPERLINK("https://evil.example","x")',
        "'-2+3",
    }
    events = found["events.csv"]
    seller = events[0].index("seller")
    assert "-1" in {row[seller] for row in events[1:]}  # numbers stay numbers, unquoted
    accounts = found["accounts.csv"]
    kind = accounts[0].index("change_kind")
    assert "'\tcmd" in {row[kind] for row in accounts[1:]}
    # the names read back exactly
    names = {read_csv_text(row[segment]) for row in deals[1:]}
    assert names == {'=HYPERLINK("https://evil.example","x")', "-2+3"}


def test_compare_and_experiment_write_no_formula(tmp_path: Path) -> None:
    short = "[run]\nhorizon_days = 500\nwarmup_days = 150\ncohort_margin_days = 50\n"
    base = tmp_path / "base.toml"
    base.write_text(f'extends = "{BASELINE.as_posix()}"\nname = "=base"\n{short}', "utf-8")
    variant = tmp_path / "variant.toml"
    variant.write_text(
        f'extends = "{BASELINE.as_posix()}"\nname = "+variant"\n{short}'
        "[policies]\nactivities_per_call = 3\n",
        "utf-8",
    )
    out = tmp_path / "compare"
    result = invoke("compare", base, variant, "-r", "2", "--out", out, "--no-figures")
    assert result.exit_code == 0, result.output
    assert formulas(out) == []
    rows = cells(out)["replications.csv"]
    assert {row[0] for row in rows[1:]} == {"'=base", "'+variant"}
    experiment = tmp_path / "exp.toml"
    experiment.write_text(
        'name = "e"\nbase = "base.toml"\nmetrics = ["cycle_median_won_days"]\n'
        '[[variants]]\nname = "-fast"\nset = { "policies.activities_per_call" = 3 }\n',
        "utf-8",
    )
    out = tmp_path / "experiment"
    result = invoke("experiment", experiment, "-r", "2", "--out", out, "--no-figures")
    assert result.exit_code == 0, result.output
    assert formulas(out) == []
    found = cells(out)
    assert {"replications.csv", "cycles.csv"} <= set(found)
    assert {row[0] for row in found["cycles.csv"][1:]} == {"'=base", "'-fast"}


def test_the_event_log_reads_back_with_hostile_names(tmp_path: Path) -> None:
    scenario = load_scenario(
        BASELINE,
        [
            "run.horizon_days=300",
            "run.warmup_days=50",
            "run.cohort_margin_days=0",
            'stages.discovery.name="-discovery"',
            'market.segments[0].name="=core"',
        ],
    )
    records = simulate(scenario, seed=3, replication=0, event_log=True)
    assert records.events is not None
    path = tmp_path / "events.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        export = EventLogExport(fh, "csv", scenario_name=scenario.name)
        export.add(DealTable.from_records(records), records.events)
        export.close()
    assert formulas(tmp_path) == []
    rows = cells(tmp_path)["events.csv"]
    assert "'-discovery" in {row[rows[0].index("stage_name")] for row in rows[1:]}
    back = read_event_log(path)[0]
    own = records.events.columns()
    order = np.lexsort((own["time"], own["case"]))
    for name in ("case", "code", "stage", "seller"):
        assert np.array_equal(back[name], own[name][order]), name
