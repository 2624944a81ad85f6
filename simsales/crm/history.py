"""Read a stage history and an activity log of an export's opportunities, reporting every bad row.

Both are optional CSV files of events, one row each: a **stage history** row says an opportunity
entered a stage at a time (``[stage_history]`` names the columns, ``[stages]`` says which stage
of the model each label is); an **activity log** row says an activity of a type (a meeting, an
email) happened on a date (``[activities]``, and optionally ``[activity_types]``).

A row is read against the export it belongs to, so an opportunity is known by the export's id and
its days count from the export's epoch. A row is left out **and reported** with its line (an
error) when it cannot be used: no id, an id the export does not hold, a label the mapping does
not know, a date that is not one, a stage entry listed twice, an activity id seen before. A row
that is kept but doubtful is reported as a warning: an entry before the opportunity was created
or after it was closed, a stage entered again (the first entry counts), a stage entered before
one earlier in the process (moved back, or a stage skipped and filled in later). Rows whose label
means ``before_opportunity`` or ``ignore`` are counted, not kept.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from simsales.crm.mapping import CrmMapping, label_key
from simsales.crm.reader import (
    CrmExport,
    ExportError,
    Problems,
    RowProblem,
    _DateParser,
    _not_a_date,
    _numbered,
    _read_text,
)
from simsales.scenario.text import printable

__all__ = [
    "MAX_LOG_BYTES",
    "ActivityLog",
    "StageHistory",
    "read_activity_log",
    "read_stage_history",
    "section_file",
]

#: The largest history or activity log read: several rows per opportunity, so more than an export.
MAX_LOG_BYTES = 400 * 1024 * 1024


@dataclass(frozen=True, kw_only=True, eq=False)
class _EventFile(Problems):
    """What both files share: where they came from, the rows read, the file line of each entry
    kept and the problems found."""

    path: str
    rows_read: int
    line: np.ndarray
    problems: tuple[RowProblem, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """What was read, for JSON: rows, kept, left out, warned, and every problem."""
        return {
            "path": self.path,
            "rows_read": self.rows_read,
            "kept": len(self.line),
            "left_out": len(self.errors),
            "warnings": len(self.warnings),
            "problems": [vars(p) for p in self.problems],
        } | self._counts()

    def _counts(self) -> dict[str, int]:
        return {}


@dataclass(frozen=True, kw_only=True, eq=False)
class StageHistory(_EventFile):
    """A stage history as columns, one entry per row kept, in file order.

    ``opportunity`` indexes the export's opportunities, ``stage`` indexes ``stages`` (the
    model stages in process order, from the mapping), ``entered`` is days since the export's
    epoch. ``before_opportunity`` and ``ignored``
    count the rows whose label is not a stage.
    """

    stages: tuple[str, ...]
    opportunity: np.ndarray
    stage: np.ndarray
    entered: np.ndarray
    before_opportunity: int = 0
    ignored: int = 0

    def __len__(self) -> int:
        return len(self.opportunity)

    def _counts(self) -> dict[str, int]:
        return {"before_opportunity": self.before_opportunity, "ignored": self.ignored}

    def first_entries(self, n_opportunities: int) -> np.ndarray:
        """(opportunities, stages): the day each opportunity first entered each stage, NaN if
        it never did. A stage entered again counts from its first entry."""
        out = np.full((n_opportunities, len(self.stages)), np.nan)
        np.fmin.at(out, (self.opportunity, self.stage), self.entered)
        return out


@dataclass(frozen=True, kw_only=True, eq=False)
class ActivityLog(_EventFile):
    """An activity log as columns, one entry per activity kept, in file order.

    ``type`` indexes ``types`` (the team's names, as first spelled in the file); ``kinds``
    says what each type is in the model (``ACTIVITY_KINDS``: ``other`` for all of them when
    the mapping has no ``[activity_types]``). ``day`` is days since the export's epoch.
    """

    types: tuple[str, ...]
    kinds: tuple[str, ...]
    opportunity: np.ndarray
    type: np.ndarray
    day: np.ndarray
    ignored: int = 0

    def __len__(self) -> int:
        return len(self.opportunity)

    def _counts(self) -> dict[str, int]:
        return {"ignored": self.ignored}

    def counts(self, n_opportunities: int) -> np.ndarray:
        """(opportunities, types): activities of each type per opportunity."""
        out = np.zeros((n_opportunities, len(self.types)), dtype=np.int64)
        np.add.at(out, (self.opportunity, self.type), 1)
        return out


def section_file(mapping_path: str | os.PathLike[str], given: str | None) -> Path | None:
    """The file a section's ``file`` names, read relative to the mapping file; None if none."""
    if given is None:
        return None
    return Path(mapping_path).parent / given


class _Rows:
    """One event file's rows against the export: ids, dates and the problems of each row."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        columns: dict[str, str],
        mapping: CrmMapping,
        export: CrmExport,
        kind: str,
    ) -> None:
        self.path = os.fspath(path)
        text = _read_text(Path(path), limit=MAX_LOG_BYTES, kind=kind)
        self.reader = csv.DictReader(io.StringIO(text, newline=""))
        header = self.reader.fieldnames or []
        if not header:
            raise ExportError(f"{self.path}: empty file: no header row")
        missing = [f"{key} ({name!r})" for key, name in columns.items() if name not in header]
        if missing:
            shown = ", ".join(repr(printable(h, one_line=True)) for h in header[:12])
            raise ExportError(
                f"{self.path}: no column for {', '.join(missing)}; the header has {shown}"
                + (" ..." if len(header) > 12 else "")
            )
        self.export = export
        self.index = {ident: i for i, ident in enumerate(export.ids)}
        self.parse = _DateParser(mapping.dates.formats)
        self.origin = datetime.combine(export.epoch, datetime.min.time())
        self.problems: list[RowProblem] = []
        self.read = 0

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for line, raw in _numbered(self.reader):
            self.read += 1
            if None in raw:
                self.error(line, "", "", "more cells than the header has columns")
                continue
            yield line, raw

    def error(self, line: int, column: str, value: str, message: str) -> None:
        self.problems.append(RowProblem(line, column, value, message))

    def warn(self, line: int, column: str, value: str, message: str) -> None:
        self.problems.append(RowProblem(line, column, value, message, "warning"))

    def opportunity(self, line: int, column: str, ident: str) -> int | None:
        """The export's index of an id, or None (reported)."""
        if not ident:
            self.error(line, column, "", "no opportunity id")
            return None
        found = self.index.get(ident)
        if found is None:
            self.error(
                line,
                column,
                ident,
                f"not an opportunity of the export ({self.export.path}): an unknown id, a "
                "prospecting row or a row left out there",
            )
        return found

    def day(self, line: int, column: str, text: str) -> float | None:
        """Days since the export's epoch, or None (reported)."""
        if not text:
            self.error(line, column, "", "no date")
            return None
        when = self.parse(text)
        if when is None:
            self.error(line, column, text, _not_a_date(self.parse))
            return None
        return (when - self.origin).total_seconds() / 86400.0

    def check_within(self, line: int, column: str, text: str, opp: int, day: float) -> None:
        """Warn about a day before the opportunity's creation or after its close (by date)."""
        created, closed = self.export.created[opp], self.export.closed[opp]
        if math.floor(day) < math.floor(created):
            self.warn(
                line, column, text, f"before the opportunity was created ({self.date(created)})"
            )
        elif math.isfinite(closed) and math.floor(day) > math.floor(closed):
            self.warn(line, column, text, f"after the opportunity was closed ({self.date(closed)})")

    def date(self, day: float) -> str:
        """A day since the epoch as its ISO date."""
        return (self.export.epoch + timedelta(days=math.floor(day))).isoformat()


def _some(labels: Mapping[str, str], shown: int = 8) -> str:
    """The first labels of a mapping table, quoted, for a message."""
    more = " ..." if len(labels) > shown else ""
    return ", ".join(repr(k) for k in list(labels)[:shown]) + more


def _cell(raw: dict[str, Any]) -> Callable[[str], str]:
    def cell(name: str) -> str:
        value = raw.get(name)
        return value.strip() if isinstance(value, str) else ""

    return cell


def read_stage_history(
    path: str | os.PathLike[str], mapping: CrmMapping, export: CrmExport
) -> StageHistory:
    """Read a stage history of ``export``'s opportunities; see the module docstring."""
    cols = mapping.stage_history
    if cols is None:
        raise ExportError(f"{os.fspath(path)}: the mapping has no [stage_history] section")
    rows = _Rows(path, cols.model_dump(exclude={"file"}), mapping, export, "a stage history")
    stages = mapping.stage_order
    kept: list[tuple[int, int, float, int]] = []  # opportunity, stage, day, line
    seen: dict[tuple[int, int, float], int] = {}
    first: dict[tuple[int, int], tuple[float, int]] = {}
    labels: dict[int, str] = {}  # line -> the label written there
    before = ignored = 0
    for line, raw in rows:
        cell = _cell(raw)
        ident, label, text = cell(cols.opportunity), cell(cols.stage), cell(cols.entered_at)
        if not label:
            rows.error(line, cols.stage, "", "no stage")
            continue
        stage = mapping.stage_of(label)
        if stage is None:
            known = _some(mapping.stages)
            rows.error(
                line, cols.stage, label, f"a stage label the mapping does not know ({known})"
            )
            continue
        if stage == "before_opportunity":
            before += 1
            continue
        if stage == "ignore":
            ignored += 1
            continue
        assert isinstance(stage, int)
        opp = rows.opportunity(line, cols.opportunity, ident)
        day = rows.day(line, cols.entered_at, text) if opp is not None else None
        if opp is None or day is None:
            continue
        if (opp, stage, day) in seen:
            rows.error(line, "", "", f"the same entry as line {seen[opp, stage, day]}")
            continue
        seen[opp, stage, day] = line
        earlier = first.get((opp, stage))
        if earlier is not None:
            rows.warn(
                line,
                cols.stage,
                label,
                f"{stages[stage]} entered again (first on line {earlier[1]}, "
                f"{rows.date(earlier[0])}): the earliest entry counts",
            )
        if earlier is None or day < earlier[0]:
            first[opp, stage] = (day, line)
        rows.check_within(line, cols.entered_at, text, opp, day)
        kept.append((opp, stage, day, line))
        labels[line] = label
    _check_order(rows, first, stages, cols.stage, labels)
    problems = sorted(rows.problems, key=lambda p: p.line)
    return StageHistory(
        path=rows.path,
        rows_read=rows.read,
        problems=tuple(problems),
        stages=stages,
        opportunity=np.array([k[0] for k in kept], dtype=np.int32),
        stage=np.array([k[1] for k in kept], dtype=np.int16),
        entered=np.array([k[2] for k in kept], dtype=float),
        line=np.array([k[3] for k in kept], dtype=np.int32),
        before_opportunity=before,
        ignored=ignored,
    )


def _check_order(
    rows: _Rows,
    first: dict[tuple[int, int], tuple[float, int]],
    stages: tuple[str, ...],
    column: str,
    labels: dict[int, str],
) -> None:
    """Warn where an opportunity first entered a stage after one later in the process (in time
    order, on the row that goes back): it moved back, or the history is out of order."""
    by_opp: dict[int, list[tuple[float, int, int]]] = {}
    for (opp, stage), (day, line) in first.items():
        by_opp.setdefault(opp, []).append((day, line, stage))
    for entries in by_opp.values():
        entries.sort()
        furthest: tuple[float, int, int] | None = None  # the latest stage entered so far
        for day, line, stage in entries:
            if furthest is not None and stage < furthest[2] and day > furthest[0]:
                rows.warn(
                    line,
                    column,
                    labels[line],
                    f"entered {stages[stage]} ({rows.date(day)}) after {stages[furthest[2]]}, "
                    f"later in the process ({rows.date(furthest[0])}, line {furthest[1]}): "
                    "moved back, or out of order",
                )
            if furthest is None or stage > furthest[2]:
                furthest = (day, line, stage)


def read_activity_log(
    path: str | os.PathLike[str], mapping: CrmMapping, export: CrmExport
) -> ActivityLog:
    """Read an activity log of ``export``'s opportunities; see the module docstring."""
    cols = mapping.activities
    if cols is None:
        raise ExportError(f"{os.fspath(path)}: the mapping has no [activities] section")
    wanted = cols.model_dump(exclude={"file"}, exclude_none=True)
    rows = _Rows(path, wanted, mapping, export, "an activity log")
    types: dict[str, int] = {}
    names: list[str] = []
    kinds: list[str] = []
    kept: list[tuple[int, int, float, int]] = []  # opportunity, type, day, line
    ids: dict[str, int] = {}
    ignored = 0
    for line, raw in rows:
        cell = _cell(raw)
        ident, label, text = cell(cols.opportunity), cell(cols.type), cell(cols.date)
        if cols.id is not None and (activity := cell(cols.id)):
            if activity in ids:
                rows.error(line, cols.id, activity, f"the same activity id as line {ids[activity]}")
                continue
            ids[activity] = line
        if not label:
            rows.error(line, cols.type, "", "no activity type")
            continue
        kind = mapping.activity_kind(label)
        if kind is None:
            known = _some(mapping.activity_types)
            rows.error(
                line, cols.type, label, f"an activity type the mapping does not know ({known})"
            )
            continue
        if kind == "ignore":
            ignored += 1
            continue
        opp = rows.opportunity(line, cols.opportunity, ident)
        day = rows.day(line, cols.date, text) if opp is not None else None
        if opp is None or day is None:
            continue
        key = label_key(label)
        if key not in types:
            types[key] = len(names)
            names.append(label)
            kinds.append(kind)
        rows.check_within(line, cols.date, text, opp, day)
        kept.append((opp, types[key], day, line))
    return ActivityLog(
        path=rows.path,
        rows_read=rows.read,
        problems=tuple(rows.problems),
        types=tuple(names),
        kinds=tuple(kinds),
        opportunity=np.array([k[0] for k in kept], dtype=np.int32),
        type=np.array([k[1] for k in kept], dtype=np.int16),
        day=np.array([k[2] for k in kept], dtype=float),
        line=np.array([k[3] for k in kept], dtype=np.int32),
        ignored=ignored,
    )
