"""The event log in the layout process-mining tools read: CSV, IEEE XES and OCEL 2.0, and back.

Process-mining tools (pm4py, ProM, Disco, Celonis, bupaR) expect one row per event with a case
id, an activity, a timestamp, a resource and a lifecycle transition. ``EventLogExport`` writes a
run's event logs that way, one replication at a time as they arrive, so that simulated logs open
in the tools their users already know, beside logs from their own CRM:

- ``case_id`` is ``r{replication}-d{deal_id}``: one case per deal and replication;
- ``activity`` is the event's name (``EVENTS``), the stage is an attribute of its own (an XES
  classifier combines both);
- ``timestamp`` counts the model's days from ``EPOCH`` (2026-01-01, UTC), so that a day 0.5 call
  is at noon on 1 January 2026; ``time`` keeps the exact model time in days, as
  ``deals.csv`` gives its dates;
- ``resource`` is who acted: ``seller N``, or ``buyer`` for the buyer's own tasks, its waits, its
  going dark and its decision; empty for the market (a suspect's arrival, giving up);
- ``lifecycle`` is ``complete`` for events of a moment. The buyer's tasks and the parts of a gap
  (``wait_*``) last a while: each is a ``start`` row at its beginning and a ``complete`` row at
  its end, where that end lies before the deal was closed and before the horizon.

The format follows the file's ending (``EVENT_LOG_FORMATS``): ``.csv``, ``.xes``, or
``.jsonocel`` / ``.json`` for OCEL 2.0 JSON, where deals and sellers are objects
(``simsales.results.ocel``). ``read_event_log`` reads any of them back and ``deal_columns``
rebuilds the deal table's key columns from it (outcome, dates, calls, touches, pushes, stage
reached, waits), which is how the export is tested: read back, it tells the same story as the
deal table.
"""

from __future__ import annotations

import csv
import functools
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import quoteattr

import numpy as np

from simsales.model.records import EV, EVENTS, UNWORKED, EventLog, RunRecords
from simsales.results.csvtext import csv_text, read_csv_text
from simsales.results.table import DealTable

__all__ = [
    "EPOCH",
    "EVENT_LOG_FORMATS",
    "EXPORT_COLUMNS",
    "EventLogExport",
    "deal_columns",
    "event_log_format",
    "read_event_log",
]

#: Day 0 of every simulation, as a date: timestamps are EPOCH + the model's days.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

#: File endings and the format each one selects.
EVENT_LOG_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".xes": "xes",
    ".jsonocel": "ocel",
    ".json": "ocel",
}

#: Columns of the exported CSV, in order (XES carries the same as attributes).
EXPORT_COLUMNS: tuple[str, ...] = (
    "case_id",
    "activity",
    "timestamp",
    "resource",
    "lifecycle",
    "replication",
    "deal_id",
    "time",
    "stage",
    "stage_name",
    "value",
    "momentum",
    "seller",
    "outcome",
    "segment",
)

#: Events that last ``value`` days: a ``start`` row and a ``complete`` row each.
DURATION_EVENTS = frozenset({"buyer_task", "wait_task", "wait_work", "wait_buyer", "wait_seller"})
#: Events the buyer performs (their resource is ``buyer``).
BUYER_EVENTS = frozenset({"buyer_task", "wait_task", "wait_buyer", "went_dark", "decided"})

_XES_NS = "http://www.xes-standard.org/"
_EXTENSIONS = (
    ("Concept", "concept"),
    ("Time", "time"),
    ("Organizational", "org"),
    ("Lifecycle", "lifecycle"),
)


def event_log_format(path: str | Path) -> str:
    """The format a file name selects (``EVENT_LOG_FORMATS``); ``ValueError`` if none."""
    suffix = Path(path).suffix.lower()
    if suffix not in EVENT_LOG_FORMATS:
        known = ", ".join(EVENT_LOG_FORMATS)
        raise ValueError(f"{path}: an event log file must end in one of {known}")
    return EVENT_LOG_FORMATS[suffix]


def timestamp(day: float, epoch: datetime = EPOCH) -> str:
    """ISO 8601 with milliseconds and the UTC offset, as XES dates are written."""
    return (epoch + timedelta(days=day)).isoformat(timespec="milliseconds")


class EventLogExport:
    """Writes replications' event logs to ``fh`` in ``fmt`` (``csv``, ``xes`` or ``ocel``), one
    replication at a time.

    Call ``add`` for each replication's deal table and event log, then ``close`` (XES and OCEL
    need their closing parts). The file handle stays the caller's: open it atomically.
    """

    def __init__(self, fh: IO[str], fmt: str, *, scenario_name: str) -> None:
        if fmt not in EVENT_LOG_FORMATS.values():
            raise ValueError(f"unknown event log format {fmt!r}")
        self._fh = fh
        self._fmt = fmt
        self._closed = False
        if fmt == "csv":
            self._csv = csv.writer(fh, lineterminator="\n")
            self._csv.writerow(EXPORT_COLUMNS)
        elif fmt == "ocel":
            from simsales.results.ocel import OcelWriter

            self._ocel = OcelWriter(fh, epoch=timestamp(0.0))
        else:
            fh.write(_xes_head(scenario_name))

    def add(self, table: DealTable, log: EventLog) -> None:
        """Append one replication: its deals as cases, in id order, each case's events in time
        order."""
        if self._fmt == "csv":
            for case in _cases(table, log):
                self._csv.writerows(_csv_row(case, row) for row in case["rows"])
        elif self._fmt == "ocel":
            for case in _cases(table, log):
                self._ocel.add_case(case, [timestamp(row[1]) for row in case["rows"]])
        else:
            for case in _cases(table, log):
                self._fh.write(_xes_trace(case))

    def add_records(self, records: RunRecords) -> None:
        """Append one replication from its records (run with ``event_log=True``)."""
        if records.events is None:
            raise ValueError("this run kept no event log: simulate it with event_log=True")
        self.add(DealTable.from_records(records), records.events)

    def close(self) -> None:
        """Finish the file (XES: the closing tag; OCEL: the objects); the handle stays open.
        Idempotent."""
        if self._fmt == "xes" and not self._closed:
            self._fh.write("</log>\n")
        elif self._fmt == "ocel" and not self._closed:
            self._ocel.close()
        self._closed = True


def _cases(table: DealTable, log: EventLog) -> Iterator[dict[str, Any]]:
    """Each deal's case attributes and rows (with the extra ``complete`` rows), in order."""
    c = log.columns()
    n = len(c["case"])
    days = c["value"]
    names = [EVENTS[k] for k in c["code"].tolist()]
    duration = np.array([name in DURATION_EVENTS for name in names], dtype=bool)
    # the deal's limit: a lasting event's end is written only if it came before it
    closed = np.where(np.isnan(table["closed_at"]), np.inf, table["closed_at"])
    row_of = np.empty(int(table["deal_id"].max()) + 1 if len(table) else 0, dtype=np.intp)
    row_of[table["deal_id"]] = np.arange(len(table))
    limit = np.minimum(closed[row_of[c["case"]]], table.horizon_days) if n else np.empty(0)
    ends = c["time"] + days
    extra = np.flatnonzero(duration & (ends <= limit + 1e-9))
    # rows: the log's (lifecycle start/complete) and the ends of lasting events (complete)
    source = np.concatenate([np.arange(n), extra])
    is_end = np.concatenate([np.zeros(n, dtype=bool), np.ones(extra.size, dtype=bool)])
    when = np.concatenate([c["time"], ends[extra]])
    # at one moment an end comes before what it made way for; then the log's own order
    order = np.lexsort((source, ~is_end, when, c["case"][source]))
    stage_names = ("", *table.stage_names)
    segments = table.segment_labels
    outcome = table.outcome_names
    src = source[order]
    cases, times = c["case"][src].tolist(), when[order].tolist()
    stages, values = c["stage"][src].tolist(), c["value"][src].tolist()
    momenta, sellers = c["momentum"][src].tolist(), c["seller"][src].tolist()
    ends_row, lasting = is_end[order].tolist(), duration[src].tolist()
    rows: list[tuple[Any, ...]] = []
    current = -1
    for j, k in enumerate(src.tolist()):
        deal = cases[j]
        if deal != current:
            if current >= 0:
                yield _case(table, current, row_of, segments, outcome, rows)
            current, rows = deal, []
        name = names[k]
        seller = sellers[j]
        resource = f"seller {seller}" if seller >= 0 else ""
        if name in BUYER_EVENTS:
            resource = "buyer"
        lifecycle = "start" if lasting[j] and not ends_row[j] else "complete"
        stage = stages[j]
        rows.append(
            (name, times[j], resource, lifecycle, stage, stage_names[stage], values[j],
             momenta[j], seller)
        )  # fmt: skip
    if current >= 0:
        yield _case(table, current, row_of, segments, outcome, rows)


def _case(
    table: DealTable,
    deal: int,
    row_of: np.ndarray,
    segments: np.ndarray,
    outcome: np.ndarray,
    rows: list[tuple[Any, ...]],
) -> dict[str, Any]:
    i = int(row_of[deal])
    return {
        "case_id": f"r{table.replication}-d{deal}",
        "replication": table.replication,
        "deal_id": deal,
        "outcome": str(outcome[i]),
        "segment": str(segments[i]),
        "group_size": int(table["group_size"][i]),
        "list_value": float(table["value"][i]),
        "rows": rows,
    }


def _num(x: float) -> str:
    """A float as it reads back exactly; NaN as an empty cell."""
    return "" if math.isnan(x) else repr(x)


#: ``csv_text`` of the few names a log repeats on every row (stages, segments), worked out once.
_name_cell = functools.lru_cache(maxsize=1024)(csv_text)


def _csv_row(case: Mapping[str, Any], row: tuple[Any, ...]) -> list[Any]:
    name, day, resource, lifecycle, stage, stage_name, value, momentum, seller = row
    return [
        case["case_id"],
        name,
        timestamp(day),
        resource,
        lifecycle,
        case["replication"],
        case["deal_id"],
        repr(day),
        stage,
        _name_cell(stage_name),
        _num(value),
        _num(momentum),
        seller,
        case["outcome"],
        _name_cell(case["segment"]),
    ]


def _xes_head(scenario_name: str) -> str:
    """The XES log element's opening: extensions, globals, classifiers, the log's name."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<log xes.version="1849-2016" xes.features="nested-attributes" xmlns="{_XES_NS}">',
    ]
    for name, prefix in _EXTENSIONS:
        uri = f"http://www.xes-standard.org/{prefix}.xesext"
        lines.append(f'  <extension name="{name}" prefix="{prefix}" uri="{uri}"/>')
    lines += [
        '  <global scope="trace">',
        '    <string key="concept:name" value="__INVALID__"/>',
        "  </global>",
        '  <global scope="event">',
        '    <string key="concept:name" value="__INVALID__"/>',
        '    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>',
        '    <string key="lifecycle:transition" value="complete"/>',
        "  </global>",
        '  <classifier name="Activity" keys="concept:name"/>',
        '  <classifier name="Activity and stage" keys="concept:name simsales:stage_name"/>',
        '  <classifier name="Activity and transition" keys="concept:name lifecycle:transition"/>',
        f'  <string key="concept:name" value={quoteattr(scenario_name)}/>',
    ]
    return "\n".join(lines) + "\n"


def _xes_trace(case: Mapping[str, Any]) -> str:
    """One case as an XES trace element (written as text: much faster than building a tree)."""
    out = [
        "  <trace>",
        f'    <string key="concept:name" value={quoteattr(case["case_id"])}/>',
        f'    <int key="simsales:replication" value="{case["replication"]}"/>',
        f'    <int key="simsales:deal_id" value="{case["deal_id"]}"/>',
        f'    <string key="simsales:outcome" value="{case["outcome"]}"/>',
        f'    <string key="simsales:segment" value={quoteattr(case["segment"])}/>',
        f'    <int key="simsales:group_size" value="{case["group_size"]}"/>',
        f'    <float key="simsales:list_value" value="{case["list_value"]!r}"/>',
    ]
    for name, day, resource, lifecycle, stage, stage_name, value, momentum, seller in case["rows"]:
        out.append("    <event>")
        out.append(f'      <string key="concept:name" value="{name}"/>')
        out.append(f'      <date key="time:timestamp" value="{timestamp(day)}"/>')
        if resource:
            out.append(f'      <string key="org:resource" value="{resource}"/>')
        out.append(f'      <string key="lifecycle:transition" value="{lifecycle}"/>')
        out.append(f'      <float key="simsales:day" value="{day!r}"/>')
        out.append(f'      <int key="simsales:stage" value="{stage}"/>')
        if stage_name:
            out.append(f'      <string key="simsales:stage_name" value={quoteattr(stage_name)}/>')
        out.append(f'      <float key="simsales:value" value="{value!r}"/>')
        if not math.isnan(momentum):
            out.append(f'      <float key="simsales:momentum" value="{momentum!r}"/>')
        out.append(f'      <int key="simsales:seller" value="{seller}"/>')
        out.append("    </event>")
    out.append("  </trace>")
    return "\n".join(out) + "\n"


# --- reading back -------------------------------------------------------------------------------


#: One row read back: replication, then the columns of ``EventLog``.
Row = tuple[int, int, float, int, int, float, int, float]


def read_event_log(path: str | Path) -> dict[int, dict[str, np.ndarray]]:
    """Read an exported log back: per replication, the model's event-log columns.

    The columns are those of ``EventLog.columns()`` (case, time, code, stage, value, seller,
    momentum), sorted by case and time; the ``complete`` rows that only end a lasting event are
    left out, so what is returned is the log the model wrote.
    """
    fmt = event_log_format(path)
    if fmt == "ocel":
        from simsales.results.ocel import read_ocel

        rows = read_ocel(Path(path), _keep)
    else:
        rows = _read_csv(Path(path)) if fmt == "csv" else _read_xes(Path(path))
    by_rep: dict[int, list[Row]] = {}
    for row in rows:
        by_rep.setdefault(row[0], []).append(row)
    out = {}
    for rep, got in sorted(by_rep.items()):
        _, case, time, code, stage, value, seller, momentum = zip(*got, strict=True)
        out[rep] = {
            "case": np.asarray(case, dtype=np.int32),
            "time": np.asarray(time, dtype=float),
            "code": np.asarray(code, dtype=np.int8),
            "stage": np.asarray(stage, dtype=np.int8),
            "value": np.asarray(value, dtype=float),
            "seller": np.asarray(seller, dtype=np.int32),
            "momentum": np.asarray(momentum, dtype=float),
        }
    return out


def _keep(activity: str, lifecycle: str) -> bool:
    """A row of the model's log (not the ``complete`` row that ends a lasting event)."""
    return not (activity in DURATION_EVENTS and lifecycle == "complete")


def _float(text: str) -> float:
    return float(text) if text else math.nan


def _read_csv(path: Path) -> Iterator[Row]:
    with path.open(newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            activity = read_csv_text(r["activity"])
            if _keep(activity, read_csv_text(r["lifecycle"])):
                yield (
                    int(r["replication"]),
                    int(r["deal_id"]),
                    float(r["time"]),
                    EV[activity],
                    int(r["stage"]),
                    _float(r["value"]),
                    int(r["seller"]),
                    _float(r["momentum"]),
                )


def _read_xes(path: Path) -> Iterator[Row]:
    """Stream the traces (each cleared once read), so a large log needs little memory."""
    trace_tag, event_tag = f"{{{_XES_NS}}}trace", f"{{{_XES_NS}}}event"
    for _, elem in ET.iterparse(path, events=("end",)):
        if elem.tag != trace_tag:
            continue
        attrs = {a.get("key"): a.get("value", "") for a in elem if a.tag != event_tag}
        rep, deal = int(attrs["simsales:replication"]), int(attrs["simsales:deal_id"])
        for event in elem.iterfind(event_tag):
            e = {a.get("key"): a.get("value", "") for a in event}
            if _keep(e["concept:name"], e["lifecycle:transition"]):
                yield (
                    rep,
                    deal,
                    float(e["simsales:day"]),
                    EV[e["concept:name"]],
                    int(e["simsales:stage"]),
                    float(e["simsales:value"]),
                    int(e["simsales:seller"]),
                    _float(e.get("simsales:momentum", "")),
                )
        elem.clear()


def deal_columns(events: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The deal table's key columns, rebuilt from one replication's event log.

    One row per deal (``deal_id`` ascending): ``outcome`` (code), ``seller``, ``created_at``,
    ``assigned_at``, ``ended_at``, ``closed_at``, ``stage_reached``, ``calls``, ``touches``,
    ``pushes``, ``wrong_activities``, ``buyer_wait_days``, ``seller_wait_days`` — each as the
    deal table defines it, and its days rounded to float32 as the table stores them
    (``TIME_FIELDS``; the log keeps the model's float64 times).
    """
    order = np.lexsort((np.asarray(events["time"]), np.asarray(events["case"])))  # stable
    case = np.asarray(events["case"], dtype=np.intp)[order]
    time, code = np.asarray(events["time"])[order], np.asarray(events["code"])[order]
    value, stage = np.asarray(events["value"])[order], np.asarray(events["stage"])[order]
    seller_col = np.asarray(events["seller"])[order]
    deals = np.unique(case)
    n = int(deals.max()) + 1 if deals.size else 0

    def at(*names: str) -> np.ndarray:
        out = np.full(n, np.nan)
        sel = np.isin(code, [EV[x] for x in names])
        out[case[sel][::-1]] = time[sel][::-1]  # the first such event of each deal
        return out.astype(np.float32).astype(np.float64)  # as the table stores days

    def count(name: str, weights: np.ndarray | None = None) -> np.ndarray:
        sel = code == EV[name]
        w = None if weights is None else weights[sel]
        return np.bincount(case[sel], weights=w, minlength=n)

    outcome = np.zeros(n, dtype=np.int8)  # OPEN unless closed or unworked
    sel = code == EV["closed"]
    outcome[case[sel]] = value[sel].astype(np.int8)
    outcome[case[code == EV["unworked"]]] = UNWORKED
    closed = at("closed", "unworked")
    ended = np.where(outcome > 0, at("decided", "disqualified", "went_dark", "unworked"), np.nan)
    seller = np.full(n, -1, dtype=np.int32)
    sel = code == EV["assigned"]
    seller[case[sel]] = seller_col[sel]
    reached = np.zeros(n, dtype=np.int8)
    sel = code == EV["stage_entered"]
    np.maximum.at(reached, case[sel], stage[sel])
    columns = {
        "deal_id": np.arange(n),
        "outcome": outcome,
        "seller": seller,
        "created_at": at("created"),
        "assigned_at": at("assigned"),
        "ended_at": ended,
        "closed_at": closed,
        "stage_reached": reached,
        "calls": count("call").astype(int),
        "touches": count("touch").astype(int),
        "pushes": count("forecast_pushed").astype(int),
        "wrong_activities": count("wrong_step", value).astype(int),
        "buyer_wait_days": count("wait_task", value) + count("wait_buyer", value),
        "seller_wait_days": count("wait_work", value) + count("wait_seller", value),
    }
    return {name: col[deals] for name, col in columns.items()}
