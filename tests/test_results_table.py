"""The deal table: read-only columns, masks, stage keys and CSV output."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simsales.model.records import DEAL_FIELDS, LOST, OPEN, UNWORKED, WON, DealRecords, RunRecords
from simsales.results import DealTable, concat_columns, stage_keys, write_deals_csv
from simsales.results.table import DERIVED_FIELDS

NAN = float("nan")
TIMES = {"assigned_at", "ended_at", "closed_at", "first_forecast_at"}


def records(
    rows: list[dict[str, Any]], *, stages: tuple[str, ...] = ("Outreach", "Close"), rep: int = 0
) -> RunRecords:
    """Records of the given deals; each row may carry ``entered`` (one time per stage)."""
    deals = DealRecords(n_stages=len(stages))
    for i, row in enumerate(rows):
        row = dict(row)
        deals.stage_entered.extend(row.pop("entered", (NAN,) * len(stages)))
        row.setdefault("deal_id", i)
        for name in DEAL_FIELDS:
            deals.cols[name].append(row.pop(name, NAN if name in TIMES else 0))
    return RunRecords(
        scenario_name="t",
        stage_names=stages,
        segment_names=("smb", "ent"),
        seed=1,
        replication=rep,
        horizon_days=100.0,
        warmup_days=10.0,
        deals=deals,
        seller_hours=np.array([1.0]),
        seller_capacity_hours=np.array([2.0]),
    )


ROWS: list[dict[str, Any]] = [
    {"created_at": 5, "assigned_at": 5, "closed_at": 20, "outcome": WON, "segment": 1,
     "entered": (5, 12)},
    {"created_at": 10, "assigned_at": 11, "closed_at": 31, "outcome": LOST, "discount": 0.1,
     "entered": (11, NAN)},
    {"created_at": 40, "outcome": UNWORKED},
    {"created_at": 50, "assigned_at": 52, "outcome": OPEN, "entered": (52, 60)},
]  # fmt: skip


def test_masks_and_cycle_days() -> None:
    table = DealTable.from_records(records(ROWS))
    assert table.counted.tolist() == [False, True, True, True]
    assert table.opportunities.tolist() == [False, True, False, True]
    assert table.outcome_names.tolist() == ["won", "lost", "unworked", "open"]
    assert table.segment_labels.tolist() == ["ent", "smb", "smb", "smb"]
    np.testing.assert_array_equal(table.cycle_days, [15, 20, NAN, NAN])
    assert table.window_days == 90
    assert (table.seed, table.replication, table.scenario_name) == (1, 0, "t")


def test_open_suspect_still_in_the_pool_is_not_an_opportunity() -> None:
    table = DealTable.from_records(records([{"created_at": 50, "outcome": OPEN}]))
    assert table.counted.tolist() == [True]
    assert table.opportunities.tolist() == [False]


def test_columns_are_read_only_copies_so_records_can_still_grow() -> None:
    recs = records(ROWS)
    table = DealTable.from_records(recs)
    with pytest.raises(ValueError, match="read-only"):
        table["value"][0] = 1.0
    recs.deals.cols["value"].append(1.0)  # a NumPy view would pin the buffer: BufferError
    assert len(table) == 4


def test_stage_count_must_match_names() -> None:
    recs = records(ROWS)
    recs.stage_names = ("only one",)
    with pytest.raises(ValueError, match="2 stage columns but 1 stage names"):
        DealTable.from_records(recs)
    recs = records(ROWS)
    recs.deals.stage_entered.extend((1.0, 2.0))  # one row of stage times too many
    with pytest.raises(ValueError, match="for 5 deals but 4 deals"):
        DealTable.from_records(recs)


def test_stage_keys_are_unique_identifiers() -> None:
    names = ("Needs analysis", "needs-analysis", "Mean", "???", "Close")
    assert stage_keys(names) == ("needs_analysis", "needs_analysis_2", "mean_3", "stage_4", "close")


def test_csv_has_names_and_empty_missing_values() -> None:
    out = io.StringIO()
    DealTable.from_records(records(ROWS)).to_csv(out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == [*DEAL_FIELDS, *DERIVED_FIELDS, "entered_outreach", "entered_close"]
    assert [r["outcome"] for r in rows] == ["won", "lost", "unworked", "open"]
    assert [r["segment"] for r in rows] == ["ent", "smb", "smb", "smb"]
    assert rows[1]["discount"] == "0.1"  # float32 written short, not 0.10000000149011612
    assert rows[1]["entered_close"] == ""
    assert rows[2]["assigned_at"] == ""
    assert rows[3]["entered_close"] == "60.0"
    assert rows[3]["deal_id"] == "3"


def test_csv_of_several_replications(tmp_path: Path) -> None:
    tables = [DealTable.from_records(records(ROWS, rep=r)) for r in (0, 1)]
    path = tmp_path / "deals.csv"
    write_deals_csv(tables, path)
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8
    assert [r["replication"] for r in rows] == ["0"] * 4 + ["1"] * 4
    assert next(iter(rows[0])) == "replication"


def test_tables_with_different_stages_do_not_mix() -> None:
    a = DealTable.from_records(records(ROWS))
    b = DealTable.from_records(records([], stages=("A", "B")))
    with pytest.raises(ValueError, match="different stages"):
        write_deals_csv([a, b], io.StringIO())
    with pytest.raises(ValueError, match="different stages"):
        concat_columns([a, b])


def test_concat_columns_adds_replication() -> None:
    tables = [DealTable.from_records(records(ROWS, rep=r)) for r in (3, 4)]
    cols = concat_columns(tables)
    assert cols["replication"].tolist() == [3] * 4 + [4] * 4
    assert cols["stage_entered"].shape == (8, 2)
    assert cols["created_at"].tolist() == [5, 10, 40, 50] * 2
