"""A run, ready to be replayed: when each deal was where, what it waited for, and how it ended.

``simsales animate`` draws deals as dots moving through the stages. Everything the page needs
comes from one replication's deal table and event log, turned here into a few flat arrays (a
deal's arrival, assignment, stage entries and close; each wait with its cause; each call), so
that the state of every deal at any time is a pure function of the time: playing, pausing and
scrubbing back and forth always show the same picture for the same day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simsales.model.records import EV, OUTCOMES, RunRecords
from simsales.results.table import DealTable

__all__ = ["WAIT_CAUSES", "Replay", "replay_of"]

#: What a waiting deal waits for, by the event log's ``wait_*`` codes, in this order.
WAIT_CAUSES: tuple[str, ...] = ("buyer_task", "seller_work", "buyer_calendar", "seller_calendar")
_WAIT_CODE = {
    EV["wait_task"]: 0,
    EV["wait_work"]: 1,
    EV["wait_buyer"]: 2,
    EV["wait_seller"]: 3,
}


@dataclass(frozen=True)
class Replay:
    """One replication as flat arrays; NaN where something never happened.

    Deals are in arrival order. ``entered`` is (deals × stages), the day each stage was
    entered; ``closed`` the day the CRM recorded the end and ``outcome`` how (``OUTCOMES``);
    ``ended`` the real end (going dark comes before the close). ``waits`` are (deal index,
    start, end, cause index into ``WAIT_CAUSES``), ``calls`` (deal index, day).
    """

    scenario_name: str
    stage_names: tuple[str, ...]
    sellers: int
    horizon_days: float
    created: np.ndarray
    assigned: np.ndarray
    entered: np.ndarray
    ended: np.ndarray
    closed: np.ndarray
    outcome: np.ndarray
    seller: np.ndarray
    waits: np.ndarray
    calls: np.ndarray

    def outcome_counts(self, until: float | None = None) -> dict[str, int]:
        """Deals closed by ``until`` (default: the horizon), per outcome (open left out)."""
        until = self.horizon_days if until is None else until
        done = np.isfinite(self.closed) & (self.closed <= until)
        counts = np.bincount(self.outcome[done].astype(np.intp), minlength=len(OUTCOMES))
        return {name: int(counts[i]) for i, name in enumerate(OUTCOMES) if name != "open"}

    def to_json(self) -> dict[str, Any]:
        """Plain lists for the page (NaN as None, days rounded to a minute)."""

        def days(a: np.ndarray) -> list[float | None]:
            return [None if not np.isfinite(x) else round(float(x), 3) for x in a]

        return {
            "name": self.scenario_name,
            "stages": list(self.stage_names),
            "outcomes": [name for name in OUTCOMES if name != "open"],
            "outcomeCodes": {name: i for i, name in enumerate(OUTCOMES)},
            "waitCauses": list(WAIT_CAUSES),
            "sellers": self.sellers,
            "horizon": self.horizon_days,
            "created": days(self.created),
            "assigned": days(self.assigned),
            "entered": [days(row) for row in self.entered],
            "ended": days(self.ended),
            "closed": days(self.closed),
            "outcome": [int(x) for x in self.outcome],
            "seller": [int(x) for x in self.seller],
            "waits": [
                [int(d), round(float(s), 3), round(float(e), 3), int(c)]
                for d, s, e, c in self.waits
            ],
            "calls": [[int(d), round(float(t), 3)] for d, t in self.calls],
        }


def replay_of(records: RunRecords) -> Replay:
    """The replay of one replication run with its event log (``simulate(..., event_log=True)``).

    Only new-business deals are shown (an account's own opportunities have no place in the
    stages' flow from the pool).
    """
    if records.events is None:
        raise ValueError("the replay needs the run's event log: simulate(..., event_log=True)")
    table = DealTable.from_records(records)
    keep = table["origin"] == 0
    ids = table["deal_id"][keep]
    index = {int(d): i for i, d in enumerate(ids)}
    log = records.events.columns()
    case, time, code, value = log["case"], log["time"], log["code"], log["value"]
    waits = []
    calls = []
    for c, t, k, v in zip(case.tolist(), time.tolist(), code.tolist(), value.tolist(), strict=True):
        i = index.get(c)
        if i is None:
            continue
        if k in _WAIT_CODE:
            waits.append((i, t, t + v, _WAIT_CODE[k]))
        elif k == EV["call"]:
            calls.append((i, t))
    return Replay(
        scenario_name=records.scenario_name,
        stage_names=tuple(records.stage_names),
        sellers=len(records.seller_hours),
        horizon_days=float(records.horizon_days),
        created=table["created_at"][keep],
        assigned=table["assigned_at"][keep],
        entered=table["stage_entered"][keep],
        ended=table["ended_at"][keep],
        closed=table["closed_at"][keep],
        outcome=table["outcome"][keep],
        seller=table["seller"][keep],
        waits=np.array(sorted(waits), dtype=float).reshape(-1, 4),
        calls=np.array(sorted(calls), dtype=float).reshape(-1, 2),
    )
