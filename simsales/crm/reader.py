"""Read a CRM export of opportunities into typed columns, reporting every bad row.

One row per opportunity: id, created, closed, status, and optionally amount, owner, account,
product and meetings (the columns the mapping names). A row that cannot be read (no id, an id
seen before, a date that is not a date, a close before the creation, a status label the mapping
does not know, a closed status without a close date) is left out **and reported** with its line
number and the reason; a row with a doubtful value (an amount that is not a number, no owner)
is kept, with a warning. Rows whose status means ``before_opportunity`` are prospecting, not
opportunities: they are counted, not kept.

Days are counted from the earliest creation day (``CrmExport.epoch``), as the model counts them.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from simsales.crm.mapping import CrmMapping
from simsales.scenario.text import printable

__all__ = ["CRM_OUTCOMES", "CrmExport", "ExportError", "Problems", "RowProblem", "read_export"]

#: How an opportunity in the export ended, or that it has not: the ``outcome`` codes.
CRM_OUTCOMES: tuple[str, ...] = ("open", "won", "lost", "no_decision", "disqualified")
_CODE = {name: code for code, name in enumerate(CRM_OUTCOMES)}
#: The largest export read: a CRM export of a few hundred thousand opportunities fits easily.
MAX_EXPORT_BYTES = 200 * 1024 * 1024


class ExportError(Exception):
    """The export cannot be read at all (no file, no header, a mapped column missing)."""


@dataclass(frozen=True)
class RowProblem:
    """A row that was left out (``error``) or kept with a doubt (``warning``)."""

    line: int  # line of the file, from 1 (the header is line 1)
    column: str  # the export's column it is about ("" for the whole row)
    value: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.column}" if self.column else "")
        shown = f" (got {printable(self.value, one_line=True)!r})" if self.value else ""
        return f"{where}: {self.message}{shown}"


class Problems:
    """The rows a file read left out (``errors``) or kept with a doubt (``warnings``), from
    its ``problems``."""

    problems: tuple[RowProblem, ...]

    @property
    def errors(self) -> tuple[RowProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[RowProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")


@dataclass(frozen=True, kw_only=True, eq=False)
class CrmExport(Problems):
    """An export's opportunities as columns, one entry per opportunity kept, in file order.

    ``created`` and ``closed`` are days since ``epoch`` (``closed`` NaN while open; an open
    row's close date is its ``forecast``); ``outcome`` indexes ``CRM_OUTCOMES``; ``amount``
    is NaN where missing; ``owner`` indexes ``owners``. ``problems`` lists every row left out
    or doubted; ``prospects`` counts the rows that were not opportunities yet.
    """

    path: str
    epoch: date
    ids: tuple[str, ...]
    created: np.ndarray
    closed: np.ndarray
    forecast: np.ndarray
    outcome: np.ndarray
    amount: np.ndarray
    owner: np.ndarray
    owners: tuple[str, ...]
    meetings: np.ndarray
    accounts: tuple[str, ...] | None
    products: tuple[str, ...] | None
    rows_read: int
    prospects: int
    problems: tuple[RowProblem, ...] = field(default=())
    currency: str = "EUR"

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def is_open(self) -> np.ndarray:
        return self.outcome == _CODE["open"]

    @property
    def end_day(self) -> float:
        """The last day the export knows of: its latest creation or close (open rows are
        censored there)."""
        days = np.concatenate([self.created, self.closed[np.isfinite(self.closed)]])
        return float(days.max()) if days.size else 0.0

    def cycle_days(self) -> np.ndarray:
        """Days from creation to close, or to ``end_day`` for an open row (censored)."""
        end = np.where(np.isfinite(self.closed), self.closed, self.end_day)
        return end - self.created


def read_export(path: str | os.PathLike[str], mapping: CrmMapping) -> CrmExport:
    """Read ``path`` (CSV, UTF-8, a header row) with ``mapping``; see the module docstring."""
    text = _read_text(Path(path))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    if not header:
        raise ExportError(f"{os.fspath(path)}: empty file: no header row")
    columns = mapping.columns
    wanted = {k: v for k, v in columns.model_dump().items() if v is not None}
    missing = [f"{field} ({name!r})" for field, name in wanted.items() if name not in header]
    if missing:
        shown = ", ".join(repr(printable(h, one_line=True)) for h in header[:12])
        raise ExportError(
            f"{os.fspath(path)}: no column for {', '.join(missing)}; the header has {shown}"
            + (" ..." if len(header) > 12 else "")
        )
    parse = _DateParser(mapping.dates.formats)
    rows: list[_Row] = []
    problems: list[RowProblem] = []
    first_line: dict[str, int] = {}
    prospects = read = 0
    for line, raw in _numbered(reader):
        read += 1
        row, row_problems = _read_row(line, raw, mapping, parse, first_line)
        problems += row_problems
        if row is None:
            continue
        if row.meaning == "before_opportunity":
            prospects += 1
            continue
        rows.append(row)
    return _columns(os.fspath(path), rows, problems, read, prospects, mapping)


@dataclass
class _Row:
    line: int
    id: str
    created: datetime
    closed: datetime | None
    forecast: datetime | None
    meaning: str
    amount: float
    owner: str
    meetings: float
    account: str | None
    product: str | None


def _read_text(path: Path, *, limit: int = MAX_EXPORT_BYTES, kind: str = "an export") -> str:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limit + 1)
    except FileNotFoundError:
        raise ExportError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ExportError(f"{path}: is a folder, not {kind}") from None
    except OSError as err:
        raise ExportError(f"{path}: cannot read it: {err.strerror or err}") from None
    if len(raw) > limit:
        raise ExportError(f"{path}: larger than {limit // 2**20} MB: is it {kind}?")
    for encoding in ("utf-8-sig", "cp1252"):  # Excel's exports are often not UTF-8
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ExportError(f"{path}: neither UTF-8 nor Windows-1252 text")  # pragma: no cover


def _numbered(reader: csv.DictReader[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows with the file line each starts on (quoted cells may span lines)."""
    line = reader.line_num + 1
    for raw in reader:
        yield line, raw
        line = reader.line_num + 1


def _read_row(
    line: int,
    raw: dict[str, Any],
    mapping: CrmMapping,
    parse: _DateParser,
    first_line: dict[str, int],
) -> tuple[_Row | None, list[RowProblem]]:
    cols = mapping.columns
    problems: list[RowProblem] = []

    def cell(name: str | None) -> str:
        value = raw.get(name) if name is not None else None
        return value.strip() if isinstance(value, str) else ""

    def error(column: str, value: str, message: str) -> tuple[None, list[RowProblem]]:
        problems.append(RowProblem(line, column, value, message))
        return None, problems

    if None in raw:  # more cells than the header has columns
        return error("", "", "more cells than the header has columns")
    ident = cell(cols.id)
    if not ident:
        return error(cols.id, "", "no id")
    if ident in first_line:
        return error(cols.id, ident, f"the same id as line {first_line[ident]}")
    first_line[ident] = line
    label = cell(cols.status)
    meaning = mapping.meaning(label) if label else None
    if label and meaning is None:
        known = ", ".join(repr(k) for k in list(mapping.status)[:8])
        return error(cols.status, label, f"a status label the mapping does not know ({known})")
    created_text = cell(cols.created)
    if not created_text:
        return error(cols.created, "", "no creation date")
    created = parse(created_text)
    if created is None:
        return error(cols.created, created_text, _not_a_date(parse))
    closed_text = cell(cols.closed)
    closed = parse(closed_text) if closed_text else None
    if closed_text and closed is None:
        return error(cols.closed, closed_text, _not_a_date(parse))
    if meaning is None:  # no status: open unless it has a close date
        if closed is not None:
            return error(cols.status, "", "a close date but no status to say how it ended")
        meaning = "open"
    forecast = None
    if meaning in ("open", "before_opportunity"):
        forecast, closed = closed, None  # an open row's close date is its forecast
    elif closed is None:
        return error(cols.closed, "", f"status {label!r} has ended, but there is no close date")
    if closed is not None and closed < created:
        return error(cols.closed, closed_text, f"closed before it was created ({created_text})")
    amount = math.nan
    if cols.amount is not None:
        text = cell(cols.amount)
        if text:
            amount = _amount(text)
            if math.isnan(amount):
                problems.append(
                    RowProblem(line, cols.amount, text, "not an amount: kept without", "warning")
                )
    owner = cell(cols.owner) if cols.owner is not None else ""
    if cols.owner is not None and not owner:
        problems.append(RowProblem(line, cols.owner, "", "no owner", "warning"))
    meetings = math.nan
    if cols.meetings is not None and (text := cell(cols.meetings)):
        meetings = _amount(text)
        if math.isnan(meetings) or meetings < 0:
            problems.append(
                RowProblem(line, cols.meetings, text, "not a count of meetings", "warning")
            )
            meetings = math.nan
    row = _Row(
        line=line,
        id=ident,
        created=created,
        closed=closed,
        forecast=forecast,
        meaning=meaning,
        amount=amount,
        owner=owner or "(no owner)",
        meetings=meetings,
        account=cell(cols.account) if cols.account is not None else None,
        product=cell(cols.product) if cols.product is not None else None,
    )
    return row, problems


class _DateParser:
    """Dates in the mapping's formats, tried in order, then ISO 8601; None if none fits."""

    def __init__(self, formats: list[str]) -> None:
        self.formats = formats

    def __call__(self, text: str) -> datetime | None:
        for fmt in self.formats:
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
        try:
            found = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return found.replace(tzinfo=None)


def _not_a_date(parse: _DateParser) -> str:
    tried = ", ".join([*parse.formats, "ISO 8601"])
    return f"not a date in the mapping's formats ({tried})"


_NUMBER = re.compile(r"^[+-]?[\d.,\s'\u00a0\u202f]+$")


def _amount(text: str) -> float:
    """A number written as people write amounts: "12,000", "€ 12.000,50", "1 234", "12k"."""
    cleaned = re.sub(r"[^\d.,\s'\u00a0\u202f+\-kKmM]", "", text).strip()
    scale = 1.0
    if cleaned[-1:] in "kK" and cleaned[:-1]:
        scale, cleaned = 1e3, cleaned[:-1].strip()
    elif cleaned[-1:] in "mM" and cleaned[:-1]:
        scale, cleaned = 1e6, cleaned[:-1].strip()
    if not cleaned or not _NUMBER.match(cleaned) or not re.search(r"\d", cleaned):
        return math.nan
    cleaned = re.sub(r"[\s'\u00a0\u202f]", "", cleaned)
    if "," in cleaned and "." in cleaned:  # the later one is the decimal mark
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    elif "," in cleaned:  # 12,000 (thousands) or 12,5 (decimals)
        head, _, tail = cleaned.rpartition(",")
        cleaned = cleaned.replace(",", "") if len(tail) == 3 else f"{head.replace(',', '')}.{tail}"
    elif cleaned.count(".") > 1:  # 1.234.567
        cleaned = cleaned.replace(".", "")
    try:
        return float(cleaned) * scale
    except ValueError:
        return math.nan


def _columns(
    path: str,
    rows: list[_Row],
    problems: list[RowProblem],
    read: int,
    prospects: int,
    mapping: CrmMapping,
) -> CrmExport:
    epoch = min((r.created.date() for r in rows), default=date(2026, 1, 1))
    origin = datetime.combine(epoch, datetime.min.time())

    def days(when: datetime | None) -> float:
        return math.nan if when is None else (when - origin).total_seconds() / 86400.0

    owners = tuple(dict.fromkeys(r.owner for r in rows))
    index = {name: i for i, name in enumerate(owners)}
    cols = mapping.columns
    return CrmExport(
        path=path,
        epoch=epoch,
        ids=tuple(r.id for r in rows),
        created=np.array([days(r.created) for r in rows], dtype=float),
        closed=np.array([days(r.closed) for r in rows], dtype=float),
        forecast=np.array([days(r.forecast) for r in rows], dtype=float),
        outcome=np.array(
            [_CODE[r.meaning] for r in rows], dtype=np.int8
        ),  # meanings past 'before_opportunity' are the CRM outcomes
        amount=np.array([r.amount for r in rows], dtype=float),
        owner=np.array([index[r.owner] for r in rows], dtype=np.int32),
        owners=owners,
        meetings=np.array([r.meetings for r in rows], dtype=float),
        accounts=tuple(r.account or "" for r in rows) if cols.account is not None else None,
        products=tuple(r.product or "" for r in rows) if cols.product is not None else None,
        rows_read=read,
        prospects=prospects,
        problems=tuple(problems),
        currency=mapping.currency,
    )
