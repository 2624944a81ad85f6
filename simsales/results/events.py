"""The event log as a table: one row per event, in each deal's time order."""

from __future__ import annotations

import csv
from typing import IO

import numpy as np

from simsales.model.records import EVENTS, EventLog

#: Columns of ``events.csv``, in order.
EVENT_COLUMNS: tuple[str, ...] = (
    "replication",
    "deal_id",
    "time",
    "event",
    "stage",
    "value",
    "seller",
    "momentum",
)


def write_events_csv(log: EventLog, replication: int, fh: IO[str], *, header: bool = True) -> None:
    """Write one replication's event log, sorted by deal then time (ties keep the model's order).

    The model logs some events when it decides them rather than when they happen (a buyer task
    is logged when it starts, with its duration); sorting gives each deal's story in order.
    """
    writer = csv.writer(fh, lineterminator="\n")
    if header:
        writer.writerow(EVENT_COLUMNS)
    c = log.columns()
    order = np.lexsort((c["time"], c["case"]))
    names = np.asarray(EVENTS, dtype=object)[c["code"][order].astype(int)]
    columns = [
        [replication] * len(order),
        c["case"][order].tolist(),
        c["time"][order].tolist(),
        names.tolist(),
        c["stage"][order].tolist(),
        c["value"][order].tolist(),
        c["seller"][order].tolist(),
        [m if m == m else "" for m in c["momentum"][order].tolist()],  # NaN: an empty cell
    ]
    writer.writerows(zip(*columns, strict=True))
