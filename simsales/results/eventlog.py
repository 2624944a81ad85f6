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
- ``resource`` is who acted, named apart in each replication, because a tool counts resources by
  name: ``r{replication}-seller {n}``, or ``r{replication}-d{deal_id} buyer`` for the buyer's own
  tasks, its waits, its going dark and its decision (each deal's buying group is its own);
  empty for the market (a suspect's arrival, giving up). ``role`` (XES ``org:role``) is
  ``seller`` or ``buyer``, for views over the team as a whole;
- ``lifecycle`` is ``complete`` for events of a moment. The buyer's tasks and the parts of a gap
  (``wait_*``) last a while: each is a ``start`` row at its beginning and a ``complete`` row at
  its end, where that end lies before the deal was closed and before the horizon.

All replications share one file, and one calendar: replication 1 starts on ``EPOCH`` as
replication 0 does. Counts per resource and per case are right across the whole file; views over
calendar time (cases open per day, a dotted chart) need one replication filtered out first.

``level="stage"`` keeps only what a stage model is made of: each deal's arrival (``created``),
one event per stage entered (the stage's name as the activity) and its outcome at the close
(``won``, ``lost``, ``no_decision``, ...), so that a discovery algorithm draws the stages
straight away rather than a map of every call and wait.

The format follows the file's ending (``EVENT_LOG_FORMATS``): ``.csv``, ``.xes``, or ``.json``
for OCEL 2.0 JSON, where deals and sellers are objects (``simsales.results.ocel``); ``.jsonocel``,
the OCEL 1.0 ending, still works but is deprecated (``legacy_ending_notice``).
``read_event_log`` reads an event-level log back and ``deal_columns`` rebuilds the deal table's
key columns from it (outcome, dates, calls, touches, pushes, stage reached, waits), which is how
the export is tested: read back, it tells the same story as the deal table.
"""

from __future__ import annotations

import csv
import functools
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, NamedTuple
from xml.sax.saxutils import quoteattr

import numpy as np

from simsales.model.records import EV, EVENTS, OUTCOMES, UNWORKED, EventLog, RunRecords
from simsales.results.csvtext import csv_text, read_csv_text
from simsales.results.table import DealTable

__all__ = [
    "EPOCH",
    "EVENT_LOG_FORMATS",
    "EVENT_LOG_LEVELS",
    "EXPORT_COLUMNS",
    "LEGACY_ENDINGS",
    "EventLogExport",
    "LogRow",
    "buyer_resource",
    "deal_columns",
    "event_log_format",
    "legacy_ending_notice",
    "read_event_log",
    "seller_resource",
    "stage_activities",
]

#: Day 0 of every simulation, as a date: timestamps are EPOCH + the model's days.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

#: File endings and the format each one selects. OCEL 2.0 JSON files end in ``.json``, as the
#: standard (ocel-standard.org) has it.
EVENT_LOG_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".xes": "xes",
    ".json": "ocel",
}

#: Endings still accepted, each with the format it selects, though a tool would misread them:
#: ``.jsonocel`` is the ending of OCEL 1.0 JSON (``pm4py.read_ocel`` reads it as OCEL 1.0).
LEGACY_ENDINGS: dict[str, str] = {".jsonocel": "ocel"}

#: What a log's rows are: every event the model logged, or only the stages and the outcome.
EVENT_LOG_LEVELS: tuple[str, ...] = ("event", "stage")

#: Columns of the exported CSV, in order (XES carries the same as attributes).
EXPORT_COLUMNS: tuple[str, ...] = (
    "case_id",
    "activity",
    "timestamp",
    "resource",
    "role",
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
    """The format a file name selects (``EVENT_LOG_FORMATS``, or a ``LEGACY_ENDINGS`` one);
    ``ValueError`` if none."""
    suffix = Path(path).suffix.lower()
    if suffix in LEGACY_ENDINGS:
        return LEGACY_ENDINGS[suffix]
    if suffix not in EVENT_LOG_FORMATS:
        known = ", ".join(EVENT_LOG_FORMATS)
        raise ValueError(f"{path}: an event log file must end in one of {known}")
    return EVENT_LOG_FORMATS[suffix]


def legacy_ending_notice(path: str | Path) -> str | None:
    """Why ``path``'s ending is deprecated and what to name the file instead; ``None`` if the
    ending is a current one."""
    path = Path(path)
    if path.suffix.lower() != ".jsonocel":
        return None
    return (
        f"{path}: .jsonocel is the ending of OCEL 1.0 files, and tools that go by the ending "
        "(pm4py.read_ocel) read it as OCEL 1.0; simsales writes OCEL 2.0 JSON, whose files end "
        f"in .json: name it {path.with_suffix('.json').name}. The .jsonocel ending is deprecated "
        "and will be refused in a later version"
    )


def seller_resource(replication: int, seller: int) -> str:
    """A seller's resource name, apart from the same seller number in other replications."""
    return f"r{replication}-seller {seller}"


def buyer_resource(replication: int, deal_id: int) -> str:
    """The resource name of a deal's buyer (its buying group): each deal's is its own."""
    return f"r{replication}-d{deal_id} buyer"


def stage_activities(stage_names: tuple[str, ...]) -> tuple[str, ...]:
    """The activity of each stage in a stage-level log: its name, or ``stage <name>`` where the
    name is also an outcome's or ``created`` (the log must tell them apart)."""
    taken = {"created", *OUTCOMES}
    return tuple(f"stage {name}" if name in taken else name for name in stage_names)


class LogRow(NamedTuple):
    """One row of an exported log: an activity of one case, and who did it when."""

    activity: str
    day: float  # model time, days
    resource: str
    role: str  # "seller", "buyer" or "" (the market)
    lifecycle: str  # "start" or "complete"
    stage: int
    stage_name: str
    value: float
    momentum: float  # NaN where the model does not know it
    seller: int  # -1: none


def timestamp(day: float, epoch: datetime = EPOCH) -> str:
    """ISO 8601 with milliseconds and the UTC offset, as XES dates are written."""
    return (epoch + timedelta(days=day)).isoformat(timespec="milliseconds")


class EventLogExport:
    """Writes replications' event logs to ``fh`` in ``fmt`` (``csv``, ``xes`` or ``ocel``), one
    replication at a time; ``level`` (``EVENT_LOG_LEVELS``) says which rows.

    Call ``add`` for each replication's deal table and event log, then ``close`` (XES and OCEL
    need their closing parts). The file handle stays the caller's: open it atomically.
    """

    def __init__(self, fh: IO[str], fmt: str, *, scenario_name: str, level: str = "event") -> None:
        if fmt not in EVENT_LOG_FORMATS.values():
            raise ValueError(f"unknown event log format {fmt!r}")
        if level not in EVENT_LOG_LEVELS:
            raise ValueError(f"unknown event log level {level!r}: one of {EVENT_LOG_LEVELS}")
        self._fh = fh
        self._fmt = fmt
        self._level = level
        self._closed = False
        if fmt == "csv":
            self._csv = csv.writer(fh, lineterminator="\n")
            self._csv.writerow(EXPORT_COLUMNS)
        elif fmt == "ocel":
            from simsales.results.ocel import OcelWriter

            declared = EVENTS if level == "event" else ()
            self._ocel = OcelWriter(fh, epoch=timestamp(0.0), event_types=declared)
        else:
            fh.write(_xes_head(scenario_name, level))

    def add(self, table: DealTable, log: EventLog) -> None:
        """Append one replication: its deals as cases, in id order, each case's events in time
        order."""
        cases = _cases(table, log)
        if self._level == "stage":
            activities = stage_activities(table.stage_names)
            cases = (_stage_case(case, activities) for case in cases)
        if self._fmt == "csv":
            for case in cases:
                self._csv.writerows(_csv_row(case, row) for row in case["rows"])
        elif self._fmt == "ocel":
            for case in cases:
                self._ocel.add_case(case, [timestamp(row.day) for row in case["rows"]])
        else:
            for case in cases:
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
    rep = table.replication
    src = source[order]
    cases, times = c["case"][src].tolist(), when[order].tolist()
    stages, values = c["stage"][src].tolist(), c["value"][src].tolist()
    momenta, sellers = c["momentum"][src].tolist(), c["seller"][src].tolist()
    ends_row, lasting = is_end[order].tolist(), duration[src].tolist()
    seller_names = {s: seller_resource(rep, s) for s in set(sellers) if s >= 0}
    rows: list[LogRow] = []
    current = -1
    buyer = ""
    for j, k in enumerate(src.tolist()):
        deal = cases[j]
        if deal != current:
            if current >= 0:
                yield _case(table, current, row_of, segments, outcome, rows)
            current, rows = deal, []
            buyer = buyer_resource(rep, deal)
        name = names[k]
        seller = sellers[j]
        if name in BUYER_EVENTS:
            resource, role = buyer, "buyer"
        elif seller >= 0:
            resource, role = seller_names[seller], "seller"
        else:
            resource, role = "", ""
        lifecycle = "start" if lasting[j] and not ends_row[j] else "complete"
        stage = stages[j]
        rows.append(
            LogRow(name, times[j], resource, role, lifecycle, stage, stage_names[stage],
                   values[j], momenta[j], seller)
        )  # fmt: skip
    if current >= 0:
        yield _case(table, current, row_of, segments, outcome, rows)


def _stage_case(case: dict[str, Any], activities: tuple[str, ...]) -> dict[str, Any]:
    """``case`` at the stage level: its arrival, each stage entered (named by ``activities``,
    one per stage) and its outcome at the close (``unworked`` when it gave up waiting)."""
    rows = []
    for row in case["rows"]:
        if row.activity == "created":
            rows.append(row)
        elif row.activity == "stage_entered":
            rows.append(row._replace(activity=activities[row.stage - 1]))
        elif row.activity == "closed":
            rows.append(row._replace(activity=OUTCOMES[int(row.value)]))
        elif row.activity == "unworked":
            rows.append(row)
    return {**case, "rows": rows}


def _case(
    table: DealTable,
    deal: int,
    row_of: np.ndarray,
    segments: np.ndarray,
    outcome: np.ndarray,
    rows: list[LogRow],
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


def _csv_row(case: Mapping[str, Any], row: LogRow) -> list[Any]:
    return [
        case["case_id"],
        _name_cell(row.activity),  # a stage's name at the stage level
        timestamp(row.day),
        row.resource,
        row.role,
        row.lifecycle,
        case["replication"],
        case["deal_id"],
        repr(row.day),
        row.stage,
        _name_cell(row.stage_name),
        _num(row.value),
        _num(row.momentum),
        row.seller,
        case["outcome"],
        _name_cell(case["segment"]),
    ]


def _xes_head(scenario_name: str, level: str) -> str:
    """The XES log element's opening: extensions, globals, classifiers, the log's name and
    level (``event`` or ``stage``)."""
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
        f'  <string key="simsales:level" value="{level}"/>',
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
    for row in case["rows"]:
        name, day, resource, role, lifecycle, stage, stage_name, value, momentum, seller = row
        out.append("    <event>")
        out.append(f'      <string key="concept:name" value={quoteattr(name)}/>')
        out.append(f'      <date key="time:timestamp" value="{timestamp(day)}"/>')
        if resource:
            out.append(f'      <string key="org:resource" value="{resource}"/>')
            out.append(f'      <string key="org:role" value="{role}"/>')
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
    left out, so what is returned is the log the model wrote. A stage-level log
    (``level="stage"``) holds too little to rebuild it: ``ValueError``.
    """
    fmt = event_log_format(path)
    if fmt == "ocel":
        from simsales.results.ocel import read_ocel

        rows = read_ocel(Path(path), _keep, _code)
    else:
        rows = _read_csv(Path(path)) if fmt == "csv" else _read_xes(Path(path))
    by_rep: dict[int, list[Row]] = {}
    try:
        for row in rows:
            by_rep.setdefault(row[0], []).append(row)
    except _StageLevel as err:
        raise ValueError(
            f"{path}: {err.args[0]!r} is not an event of the model's log: this looks like a "
            "stage-level log (--events-level stage), which cannot be read back; read an "
            "event-level one"
        ) from None
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


class _StageLevel(LookupError):
    """An activity that is no event of the model's log (a stage's name, an outcome)."""


def _code(activity: str) -> int:
    """The event code of ``activity``; ``_StageLevel`` if it has none."""
    try:
        return EV[activity]
    except KeyError:
        raise _StageLevel(activity) from None


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
                    _code(activity),
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
                    _code(e["concept:name"]),
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
