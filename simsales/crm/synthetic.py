"""A CRM export written from simulated deals: test data with known parameters.

No real CRM data can ship, so the import and the fit are tested on exports the simulator writes
itself, in the layouts CRMs use: one row per opportunity (the records the CRM opened, as
``crm.opens_at`` says), with the team's own column names, date format and status labels. A fit
of such an export should give back the parameters that made it.

Beside the export, ``write_stage_history`` writes when each opportunity entered each stage (the
deal table's ``stage_entered``: the prospecting stages before the opening too, under labels the
mapping calls ``before_opportunity``, and a last row with the status label at the close, as CRMs
log the move to "Closed Won"), and ``write_activity_log`` the meetings (the model's calls) and
emails (its touches) with their dates, from the run's event log (``simulate(...,
event_log=True)``). Activities are written from the opening of the opportunity to its close (or
the horizon): those of prospecting belong to the suspect, which a CRM keeps elsewhere (a lead),
so an opportunity's meetings in the log can be fewer than its ``calls`` (the export's meetings).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from simsales.model.records import EV, OPEN, OUTCOMES, EventLog
from simsales.results.table import DealTable

__all__ = ["ExportLayout", "write_activity_log", "write_crm_export", "write_stage_history"]

#: The model's activities written to the activity log: event name -> kind in the mapping.
_ACTIVITY_EVENTS: dict[str, str] = {"call": "meeting", "touch": "touch"}


@dataclass(frozen=True)
class ExportLayout:
    """How a team's CRM writes its export: column names, a date format, status labels."""

    id: str = "Opportunity ID"
    created: str = "Created Date"
    closed: str = "Close Date"
    status: str = "Stage"
    amount: str = "Amount"
    owner: str = "Opportunity Owner"
    meetings: str | None = "Meetings"
    date_format: str = "%m/%d/%Y"
    epoch: date = date(2024, 1, 1)
    labels: dict[str, str] = field(
        default_factory=lambda: {
            "won": "Closed Won",
            "lost": "Closed Lost",
            "no_decision": "Closed Lost - No Decision",
            "disqualified": "Disqualified",
            "open": "Open",
        }
    )
    #: the stage history's columns
    history_opportunity: str = "Opportunity ID"
    history_stage: str = "Stage"
    history_entered: str = "Entered"
    #: each model stage's label in the history, in process order
    stage_labels: dict[str, str] = field(
        default_factory=lambda: {
            "outreach": "Prospecting",
            "commitment": "Qualification",
            "discovery": "Needs Analysis",
            "diagnosis": "Proposal/Price Quote",
            "close": "Negotiation/Review",
        }
    )
    #: the model stages the CRM counts as prospecting (before ``crm.opens_at``)
    prospecting_stages: tuple[str, ...] = ("outreach",)
    #: the activity log's columns and each activity's type label
    activity_opportunity: str = "Opportunity ID"
    activity_type: str = "Activity Type"
    activity_date: str = "Date"
    activity_labels: dict[str, str] = field(
        default_factory=lambda: {"meeting": "Meeting", "touch": "Email"}
    )

    def mapping_toml(self) -> str:
        """The mapping file that reads this layout back (export, stage history, activities)."""
        lines = ["[columns]"]
        for name in ("id", "created", "closed", "status", "amount", "owner", "meetings"):
            value = getattr(self, name)
            if value is not None:
                lines.append(f'{name} = "{value}"')
        lines += ["", "[dates]", f'formats = ["{self.date_format}"]']
        lines += ["", "[stage_history]", f'opportunity = "{self.history_opportunity}"']
        lines += [f'stage = "{self.history_stage}"', f'entered_at = "{self.history_entered}"']
        lines += ["", "[stages]"]
        for stage, label in self.stage_labels.items():
            meaning = "before_opportunity" if stage in self.prospecting_stages else stage
            lines.append(f'"{label}" = "{meaning}"')
        lines += [f'"{self.labels[end]}" = "ignore"' for end in self.labels if end != "open"]
        lines += ["", "[activities]", f'opportunity = "{self.activity_opportunity}"']
        lines += [f'type = "{self.activity_type}"', f'date = "{self.activity_date}"']
        lines += ["", "[activity_types]"]
        lines += [f'"{label}" = "{kind}"' for kind, label in self.activity_labels.items()]
        lines += ["", "[status]"]  # last, so that a test can add a label at the end
        lines += [f'"{label}" = "{meaning}"' for meaning, label in self.labels.items()]
        return "\n".join(lines) + "\n"

    def day(self, value: float) -> str:
        """A model day as the layout writes dates ("" for NaN)."""
        if not np.isfinite(value):
            return ""
        origin = datetime.combine(self.epoch, datetime.min.time())
        return (origin + timedelta(days=float(value))).strftime(self.date_format)


def write_crm_export(
    tables: Sequence[DealTable], path: str | os.PathLike[str], layout: ExportLayout
) -> int:
    """Write the opportunities of ``tables`` (replications one after another, each on its own
    team: owners are named by replication and seller) as a CRM export; returns the rows written.

    Created is the day the CRM opened the opportunity; closed the recorded close (for an open
    one, its forecast date if it has one); the amount is the net value of a won deal, else the
    list value; meetings are the calls held.
    """
    day = layout.day
    header = [layout.id, layout.created, layout.closed, layout.status, layout.amount, layout.owner]
    if layout.meetings is not None:
        header.append(layout.meetings)
    written = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for table in tables:
            opened = table.opportunity
            outcome, value = table["outcome"], table["value"]
            for i in np.flatnonzero(opened):
                name = OUTCOMES[int(outcome[i])]
                open_ = name == "open"
                net = value[i] * (1.0 - table["discount"][i]) if name == "won" else value[i]
                row = [
                    _opportunity_id(table, int(i)),
                    day(table.opened_at[i]),
                    day(table["first_forecast_at"][i] if open_ else table["closed_at"][i]),
                    layout.labels[name],
                    f"{net:.2f}",
                    f"Seller {table.replication}-{int(table['seller'][i])}",
                ]
                if layout.meetings is not None:
                    row.append(str(int(table["calls"][i])))
                writer.writerow(row)
                written += 1
    return written


def _opportunity_id(table: DealTable, row: int) -> str:
    return f"R{table.replication}-{int(table['deal_id'][row])}"


def _check_stages(table: DealTable, layout: ExportLayout) -> None:
    unnamed = [s for s in table.stage_names if s not in layout.stage_labels]
    if unnamed:
        raise ValueError(f"the layout has no stage label for {', '.join(map(repr, unnamed))}")
    before = set(table.stage_names[: table.opens_stage])
    if before != set(layout.prospecting_stages) & set(table.stage_names):
        raise ValueError(
            f"the layout's prospecting stages {layout.prospecting_stages} are not the ones "
            f"before the opening in {table.scenario_name!r} ({sorted(before)})"
        )


def write_stage_history(
    tables: Sequence[DealTable], path: str | os.PathLike[str], layout: ExportLayout
) -> int:
    """Write when each opportunity of ``tables`` entered each stage, as a CRM's stage history;
    returns the rows written (see the module docstring). Ids are those of ``write_crm_export``.
    """
    header = [layout.history_opportunity, layout.history_stage, layout.history_entered]
    written = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for table in tables:
            _check_stages(table, layout)
            labels = [layout.stage_labels[name] for name in table.stage_names]
            entered, outcome = table["stage_entered"], table["outcome"]
            for i in np.flatnonzero(table.opportunity):
                ident = _opportunity_id(table, int(i))
                for k in np.flatnonzero(np.isfinite(entered[i])):
                    writer.writerow([ident, labels[k], layout.day(entered[i, k])])
                    written += 1
                if outcome[i] != OPEN:
                    end = layout.labels[OUTCOMES[int(outcome[i])]]
                    writer.writerow([ident, end, layout.day(table["closed_at"][i])])
                    written += 1
    return written


def write_activity_log(
    tables: Sequence[DealTable],
    logs: Sequence[EventLog | None],
    path: str | os.PathLike[str],
    layout: ExportLayout,
) -> int:
    """Write the meetings and emails of the opportunities of ``tables`` from their runs' event
    logs (``logs[i]`` is the log of ``tables[i]``), as a CRM's activity log; returns the rows
    written (see the module docstring)."""
    if len(logs) != len(tables):
        raise ValueError(f"{len(tables)} tables but {len(logs)} event logs")
    header = [layout.activity_opportunity, layout.activity_type, layout.activity_date]
    written = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for table, log in zip(tables, logs, strict=True):
            if log is None:
                raise ValueError(
                    f"replication {table.replication} has no event log: simulate it with "
                    "event_log=True"
                )
            for row, label, when in _activities(table, log, layout):
                writer.writerow([_opportunity_id(table, row), label, layout.day(when)])
                written += 1
    return written


def _activities(
    table: DealTable, log: EventLog, layout: ExportLayout
) -> list[tuple[int, str, float]]:
    """(table row, type label, day) of each meeting and email of an opportunity, from its
    opening to its close or the horizon, in order of opportunity and time. Times are compared
    as the table stores days (float32), so that a meeting at the opening moment is in."""
    ev = log.columns()
    codes = {EV[name]: layout.activity_labels[kind] for name, kind in _ACTIVITY_EVENTS.items()}
    pick = np.isin(ev["code"], list(codes))
    case, code = ev["case"][pick], ev["code"][pick]
    when = ev["time"][pick].astype(np.float32).astype(np.float64)
    row = np.searchsorted(table["deal_id"], case)
    found = (row < len(table)) & (table["deal_id"][np.minimum(row, len(table) - 1)] == case)
    row = np.where(found, row, 0)
    closed = table["closed_at"][row]
    end = np.where(np.isfinite(closed), np.minimum(closed, table.horizon_days), table.horizon_days)
    keep = found & table.opportunity[row] & (when >= table.opened_at[row]) & (when <= end)
    order = np.lexsort((when[keep], row[keep]))
    return [
        (int(r), codes[int(c)], float(t))
        for r, c, t in zip(row[keep][order], code[keep][order], when[keep][order], strict=True)
    ]
