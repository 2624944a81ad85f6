"""The deal table of one replication: columnar, read-only, with what is needed to read it.

``DealTable`` is the one object the metrics, plots and reports read. It copies the record buffers
once, so that the model's ``array.array`` buffers are not pinned by NumPy views (an exported
``array.array`` cannot grow) and so that nothing downstream can change a result by accident: every
column is a read-only NumPy array. Rows are never materialised except while writing CSV, a chunk at
a time.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import IO

import numpy as np

from simsales.model.records import (
    DEAL_FIELDS,
    END_CAUSES,
    NEW_BUSINESS,
    ORIGINS,
    OUTCOMES,
    STATED_CAUSES,
    TIME_FIELDS,
    UNWORKED,
    RunRecords,
)
from simsales.results.csvtext import csv_text

#: Rows formatted per chunk when writing CSV: bounds the memory of the string rows (a row of
#: cells costs about 2 kB of Python objects while it is formatted: 8 MB a chunk).
CSV_CHUNK_ROWS = 4_096


#: Columns ``deals.csv`` adds to ``DEAL_FIELDS``, worked out from them and the scenario's CRM
#: settings: name -> meaning. ``counted`` marks the rows the metrics count, so that a metric
#: recomputed from ``deals.csv`` gives the printed number.
DERIVED_FIELDS: dict[str, str] = {
    "opened_at": "day the CRM opened an opportunity: the record entered the stage "
    "``crm.opens_at`` (an opportunity inside an account: its first stage); empty: never, the "
    "record stayed a suspect",
    "opportunity": "1 if the record became an opportunity (``opened_at`` set)",
    "counted": "1 if the metrics count the record: a new-business suspect that arrived in the "
    "counted cohort, from ``run.warmup_days`` to ``run.cohort_margin_days`` before the horizon",
}

#: Stage keys that would make a per-stage metric collide with an overall one (``wip_mean``).
_RESERVED_KEYS = frozenset({"mean", "per_seller"})


def stage_keys(stage_names: Sequence[str]) -> tuple[str, ...]:
    """Snake-case keys for stage names, used in metric names and CSV headers.

    Scenario stage names are free text ("Needs analysis"); metric names must be identifiers. A
    name that slugs to nothing, to a key already taken, or to a reserved word gets the 1-based
    stage number appended, so that every stage keeps its own key whatever the names are.
    """
    keys: list[str] = []
    for number, name in enumerate(stage_names, start=1):
        key = re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_") or f"stage_{number}"
        while key in keys or key in _RESERVED_KEYS:
            key = f"{key}_{number}"
        keys.append(key)
    return tuple(keys)


@dataclass(frozen=True, kw_only=True, eq=False)
class DealTable:
    """One replication's deals, one row per suspect, as read-only NumPy columns.

    ``columns`` holds every field of ``DEAL_FIELDS`` (units documented there) plus
    ``stage_entered``, shape (n, n_stages): column i is the day stage i+1 was entered, NaN if never.
    Tables compare by identity (``eq=False``): element-wise array equality has no single truth
    value, and a table is a result, not a value to deduplicate.
    """

    columns: Mapping[str, np.ndarray]
    stage_names: tuple[str, ...]
    segment_names: tuple[str, ...]
    scenario_name: str
    seed: int
    replication: int
    horizon_days: float
    warmup_days: float
    cohort_margin_days: float = 0.0
    #: 0-based index of the stage whose entry opens an opportunity (``crm.opens_at``)
    opens_stage: int = 0
    #: disqualified opportunities are booked as closed lost (``crm.disqualified_as_lost``)
    disqualified_as_lost: bool = True

    @classmethod
    def from_records(cls, records: RunRecords) -> DealTable:
        """Copy a run's record buffers into a read-only table, one row per deal in arrival order.

        The model writes a row when a deal ends; sorting by ``deal_id`` gives readers the order
        they expect (and the copy frees the model's buffers). Days, stored as float32
        (``TIME_FIELDS``), are read as float64: every sum and difference of them is then done in
        double precision, as if they had been stored so.
        """
        views = records.deals.columns()
        n_stages = len(records.stage_names)
        rows, stage_cols = views["stage_entered"].shape
        if stage_cols != n_stages:
            raise ValueError(f"records have {stage_cols} stage columns but {n_stages} stage names")
        if rows != len(views["deal_id"]):
            raise ValueError(
                f"records have stage entry times for {rows} deals but {len(views['deal_id'])} deals"
            )
        order = np.argsort(views["deal_id"], kind="stable")
        cols: dict[str, np.ndarray] = {}
        for name, view in views.items():
            arr = np.ascontiguousarray(view[order], dtype=np.float64 if name in _DAYS else None)
            arr.flags.writeable = False
            cols[name] = arr
        return cls(
            columns=MappingProxyType(cols),
            stage_names=tuple(records.stage_names),
            segment_names=tuple(records.segment_names),
            scenario_name=records.scenario_name,
            seed=records.seed,
            replication=records.replication,
            horizon_days=float(records.horizon_days),
            warmup_days=float(records.warmup_days),
            cohort_margin_days=float(records.cohort_margin_days),
            opens_stage=int(records.opens_stage),
            disqualified_as_lost=bool(records.disqualified_as_lost),
        )

    def __len__(self) -> int:
        return len(self.columns["deal_id"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    @property
    def window_days(self) -> float:
        """Length of the counting window [warmup_days, horizon_days], days."""
        return self.horizon_days - self.warmup_days

    @property
    def cohort_days(self) -> float:
        """Length of the counted cohort's creation window [warmup, horizon - margin], days."""
        return self.horizon_days - self.cohort_margin_days - self.warmup_days

    @cached_property
    def stage_keys(self) -> tuple[str, ...]:
        """Snake-case stage keys (see ``stage_keys``)."""
        return stage_keys(self.stage_names)

    @cached_property
    def counted(self) -> np.ndarray:
        """Deals created in the counted cohort; only these enter the per-deal metrics.

        Deals created during the warm-up met an empty, unrepresentative system; deals created in
        the last ``cohort_margin_days`` have had too little time to end. Only new business counts:
        opportunities inside accounts (``origin``) have their own metrics (``results.accounts``).
        """
        created = self.columns["created_at"]
        counted = (created >= self.warmup_days) & (
            created < self.horizon_days - self.cohort_margin_days
        )
        origin = self.columns.get("origin")
        return counted if origin is None else counted & (origin == NEW_BUSINESS)

    @cached_property
    def opened_at(self) -> np.ndarray:
        """Day the CRM opened an opportunity (``DERIVED_FIELDS``); NaN if it never did.

        The first entry into the opening stage or a later one: a new-business deal enters every
        stage it passes, and an opportunity inside an account starts at a later stage.
        """
        entered = self.columns["stage_entered"][:, self.opens_stage :]
        if entered.shape[0] == 0 or entered.shape[1] == 0:
            return np.full(len(self), np.nan)
        return np.fmin.reduce(entered, axis=1)

    @cached_property
    def opportunity(self) -> np.ndarray:
        """Records that became an opportunity (counted or not)."""
        return np.isfinite(self.opened_at)

    @cached_property
    def opportunities(self) -> np.ndarray:
        """Counted records that became opportunities: the pipeline's cohort, as a CRM counts it.

        The headline rates (win, loss, no decision) and cycle times are over these. A suspect
        becomes one when it enters the stage ``crm.opens_at``.
        """
        return self.counted & self.opportunity

    @cached_property
    def worked(self) -> np.ndarray:
        """Counted suspects a seller took (contacted): every counted record but the unworked and
        those still waiting in the pool at the horizon."""
        return (
            self.counted
            & (self.columns["outcome"] != UNWORKED)
            & np.isfinite(self.columns["assigned_at"])
        )

    @cached_property
    def outcome_names(self) -> np.ndarray:
        """Outcome of each deal as its name (``OUTCOMES``)."""
        return np.asarray(OUTCOMES)[self.columns["outcome"].astype(np.intp)]

    @cached_property
    def origin_names(self) -> np.ndarray:
        """Origin of each deal as its name (``ORIGINS``)."""
        return np.asarray(ORIGINS)[self.columns["origin"].astype(np.intp)]

    @cached_property
    def segment_labels(self) -> np.ndarray:
        """Segment of each deal as its name."""
        return np.asarray(self.segment_names, dtype=str)[self.columns["segment"].astype(np.intp)]

    @cached_property
    def cycle_days(self) -> np.ndarray:
        """Days from the opportunity's opening to its recorded close, as a CRM measures it; NaN
        if still open, or never an opportunity."""
        return self.columns["closed_at"] - self.opened_at

    def to_csv(self, file: str | Path | IO[str]) -> None:
        """Write one row per deal with a header; outcome and segment by name, NaN as empty."""
        write_deals_csv([self], file, replication_column=False)


def _csv_header(table: DealTable, replication_column: bool) -> list[str]:
    head = ["replication"] if replication_column else []
    head += list(DEAL_FIELDS)
    head += list(DERIVED_FIELDS)
    head += [f"entered_{key}" for key in table.stage_keys]
    return [csv_text(name) for name in head]


def _as_cells(values: np.ndarray) -> list[object]:
    """CSV cells of a column: NaN as empty (None), float32 as its own shortest text.

    Python floats and ints are formatted by the C csv writer itself (shortest round-trip repr);
    only float32 needs its text made here, or 0.1 would be written as 0.10000000149011612.
    """
    if values.dtype.kind != "f":
        return values.tolist()
    cells = values.astype(str if values.dtype.itemsize < 8 else object)
    cells[np.isnan(values)] = None if cells.dtype == object else ""
    return cells.tolist()


#: Columns of days, stored as float32 by the model (``TIME_FIELDS``).
_DAYS = frozenset({*TIME_FIELDS, "stage_entered"})


def _day_cells(values: np.ndarray) -> list[object]:
    """CSV cells of a column of days: the float32 text of a time stored as float32.

    A time the model stored is float32 read as float64; written as float64 it would show digits
    that were never kept (``12.345678329467773``). A column that is not float32 (a table made
    by hand) keeps its float64 text.
    """
    narrow = values.astype(np.float32)
    if np.array_equal(narrow.astype(np.float64), values, equal_nan=True):
        return _as_cells(narrow)
    return _as_cells(values)


#: Coded columns written to CSV by name (the segment too, by the table's own names).
_NAMED_CODES: dict[str, tuple[str, ...]] = {
    "outcome": OUTCOMES,
    "origin": ORIGINS,
    "end_cause": END_CAUSES,
    "stated_cause": STATED_CAUSES,
}


def _named(names: Sequence[str], codes: np.ndarray) -> list[object]:
    """The names of a chunk's codes: the same few string objects, not a string per row."""
    return np.asarray(names, dtype=object)[codes.astype(np.intp)].tolist()


def _cell_columns(
    table: DealTable, lo: int, hi: int, replication_column: bool
) -> list[list[object]]:
    cols: list[list[object]] = []
    if replication_column:
        cols.append([table.replication] * (hi - lo))
    for name in DEAL_FIELDS:
        if name == "segment":  # free text: kept from being read as a spreadsheet formula
            segments = [csv_text(segment) for segment in table.segment_names]
            cols.append(_named(segments, table.columns[name][lo:hi]))
        elif name in _NAMED_CODES:
            cols.append(_named(_NAMED_CODES[name], table.columns[name][lo:hi]))
        elif name in _DAYS:
            cols.append(_day_cells(table.columns[name][lo:hi]))
        else:
            cols.append(_as_cells(table.columns[name][lo:hi]))
    cols.append(_day_cells(table.opened_at[lo:hi]))
    cols.append(table.opportunity[lo:hi].astype(np.int8).tolist())
    cols.append(table.counted[lo:hi].astype(np.int8).tolist())
    entered = table.columns["stage_entered"][lo:hi]
    cols += [_day_cells(entered[:, k]) for k in range(entered.shape[1])]
    return cols


def write_deals_csv(
    tables: Sequence[DealTable],
    file: str | Path | IO[str],
    *,
    replication_column: bool = True,
    header: bool = True,
) -> None:
    """Write the deals of several replications as one CSV, a ``replication`` column first.

    All tables must come from one scenario layout (same stages), so that the columns line up.
    Rows are built a chunk at a time from the columns: memory stays bounded by the chunk.
    ``header=False`` appends rows to a file that already has its header (streaming replications).
    """
    if not tables:
        raise ValueError("write_deals_csv needs at least one table")
    _check_same_layout(tables)
    to_text_file(file, lambda fh: _write(tables, fh, replication_column, header))


def to_text_file(file: str | Path | IO[str], write: Callable[[IO[str]], None]) -> None:
    """Call ``write`` on ``file``: a path is opened (UTF-8, CSV newlines) and closed, an open
    text stream is used as it is (a staged output file, standard output)."""
    if isinstance(file, str | Path):
        with open(file, "w", newline="", encoding="utf-8") as fh:
            write(fh)
    else:
        write(file)


def _write(
    tables: Sequence[DealTable], fh: IO[str], replication_column: bool, header: bool
) -> None:
    writer = csv.writer(fh, lineterminator="\n")
    if header:
        writer.writerow(_csv_header(tables[0], replication_column))
    for table in tables:
        for lo in range(0, len(table), CSV_CHUNK_ROWS):
            hi = min(lo + CSV_CHUNK_ROWS, len(table))
            writer.writerows(zip(*_cell_columns(table, lo, hi, replication_column), strict=True))


def _check_same_layout(tables: Iterable[DealTable]) -> None:
    layouts = {t.stage_names for t in tables}
    if len(layouts) > 1:
        raise ValueError(f"tables have different stages and cannot share columns: {layouts}")


def concat_columns(tables: Sequence[DealTable]) -> dict[str, np.ndarray]:
    """All replications' columns stacked, with a ``replication`` column: for pooled analysis.

    The result is a new, writable dict of arrays (a copy): pooled data no longer belongs to one
    replication, so it is not a ``DealTable``.
    """
    if not tables:
        raise ValueError("concat_columns needs at least one table")
    _check_same_layout(tables)
    out = {name: np.concatenate([t.columns[name] for t in tables]) for name in tables[0].columns}
    out["replication"] = np.concatenate(
        [np.full(len(t), t.replication, dtype=np.int64) for t in tables]
    )
    return out
