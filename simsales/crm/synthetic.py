"""A CRM export written from simulated deals: test data with known parameters.

No real CRM data can ship, so the import and the fit are tested on exports the simulator writes
itself, in the layouts CRMs use: one row per opportunity (the records the CRM opened, as
``crm.opens_at`` says), with the team's own column names, date format and status labels. A fit
of such an export should give back the parameters that made it.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from simsales.model.records import OUTCOMES
from simsales.results.table import DealTable

__all__ = ["ExportLayout", "write_crm_export"]


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

    def mapping_toml(self) -> str:
        """The mapping file that reads this layout back."""
        lines = ["[columns]"]
        for name in ("id", "created", "closed", "status", "amount", "owner", "meetings"):
            value = getattr(self, name)
            if value is not None:
                lines.append(f'{name} = "{value}"')
        lines += ["", "[dates]", f'formats = ["{self.date_format}"]', "", "[status]"]
        lines += [f'"{label}" = "{meaning}"' for meaning, label in self.labels.items()]
        return "\n".join(lines) + "\n"


def write_crm_export(
    tables: Sequence[DealTable], path: str | os.PathLike[str], layout: ExportLayout
) -> int:
    """Write the opportunities of ``tables`` (replications one after another, each on its own
    team: owners are named by replication and seller) as a CRM export; returns the rows written.

    Created is the day the CRM opened the opportunity; closed the recorded close (for an open
    one, its forecast date if it has one); the amount is the net value of a won deal, else the
    list value; meetings are the calls held.
    """
    origin = datetime.combine(layout.epoch, datetime.min.time())

    def day(value: float) -> str:
        if not np.isfinite(value):
            return ""
        return (origin + timedelta(days=float(value))).strftime(layout.date_format)

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
                    f"R{table.replication}-{int(table['deal_id'][i])}",
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
