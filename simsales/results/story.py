"""The story of individual deals: a run's event log turned into ordered, typed episodes.

A deal's row in the deal table says how it ended; its events in the log say how it got there.
``deal_stories`` reads both and returns one ``DealStory`` per deal: calls with the activities they
covered and the steps done wrong, the gaps between them split by what the next call waited for
(the buyer's own tasks, the seller's offline work, the buyer's next free slot, the seller's
calendar), touches, buyer tasks, forecast dates and their pushes, and the end with its cause.

Everything a story counts (outcome, dates, calls, touches, pushes, waits) is derived from the
events alone, never copied from the deal table, so that comparing the two checks the log; only
who the deal is (segment, group size, fit, list value) comes from the table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal, cast

import numpy as np

from simsales.model.records import DARK_CAUSES, EV, ORIGINS, OUTCOMES
from simsales.results.table import DealTable

NAN = math.nan

#: What a gap waited for, in the order a gap's parts follow each other.
WAIT_CAUSES: tuple[str, ...] = ("task", "work", "buyer", "seller")
_WAIT_CODES = {EV[f"wait_{cause}"]: cause for cause in WAIT_CAUSES}

EpisodeKind = Literal[
    "created",
    "assigned",
    "reached",
    "stage",
    "gap",
    "call",
    "touch",
    "buyer_task",
    "seller_work",
    "qualified",
    "disqualified",
    "forecast_set",
    "forecast_pushed",
    "went_dark",
    "decided",
    "closed",
    "unworked",
    "other",  # an event this module does not know yet (``event`` names it)
]


@dataclass(frozen=True, slots=True)
class WaitPart:
    """One part of a gap: from ``start`` (day), ``days`` long, waiting for ``cause``."""

    cause: str  # one of WAIT_CAUSES
    start: float
    days: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Episode:
    """One thing that happened to a deal; fields beyond ``kind``, ``at`` and ``stage`` are set
    only for the kinds that have them (else NaN, 0, "" or empty)."""

    kind: EpisodeKind
    at: float  # day
    stage: int  # 1-based; 0 outside the stages
    momentum: float = NAN  # right after the episode, where the model knows it
    activities: int = 0  # call: activities on its agenda
    wrong: int = 0  # call: activities done wrong (to be redone)
    number: int = 0  # call: its number among the calls that started in its stage
    of: int = 0  # call: how many calls started in that stage
    days: float = NAN  # gap, buyer_task: how long
    hours: float = NAN  # seller_work: hours of offline work
    date: float = NAN  # forecast_set, forecast_pushed: the forecast close date (day)
    fit: float = NAN  # qualified, disqualified: the buyer's true fit
    value: float = NAN  # created: the list value
    seller: int = -1  # assigned: the seller
    outcome: str = ""  # decided, closed: one of OUTCOMES
    cause: str = ""  # went_dark: one of DARK_CAUSES
    parts: tuple[WaitPart, ...] = ()  # gap: what it waited for, in order
    event: str = ""  # other: the event's name (``EVENTS``); its value is in ``value``

    @property
    def end(self) -> float:
        """When a gap or a buyer task ends (day); ``at`` for every other episode."""
        return self.at + self.days if self.kind in ("gap", "buyer_task") else self.at


@dataclass(frozen=True, slots=True, kw_only=True)
class DealStory:
    """One deal's episodes in time order, with what they add up to.

    ``segment``, ``group_size``, ``fit`` and ``value`` say who the deal is (from the deal table);
    every other property is computed from the episodes.
    """

    deal_id: int
    replication: int
    seed: int
    scenario_name: str
    stage_names: tuple[str, ...]
    segment: str
    group_size: int
    fit: float
    value: float
    counted: bool  # created in the counted cohort
    origin: str = "new_business"  # ``ORIGINS``: new business, or an opportunity in an account
    account_id: int = -1  # the account it was sold in (-1: none)
    horizon_days: float  # the run's end: a deal still open then is censored there
    episodes: tuple[Episode, ...]
    opens_stage: int = 0  # 0-based stage whose entry opens an opportunity (``crm.opens_at``)

    def _first(self, *kinds: str) -> Episode | None:
        return next((e for e in self.episodes if e.kind in kinds), None)

    def _count(self, kind: str) -> int:
        return sum(1 for e in self.episodes if e.kind == kind)

    @property
    def outcome(self) -> str:
        """How the deal ended (``OUTCOMES``): the CRM's record, or ``open``."""
        closed = self._first("closed", "unworked")
        if closed is None:
            return "open"
        return "unworked" if closed.kind == "unworked" else closed.outcome

    @property
    def created_at(self) -> float:
        first = self._first("created")
        return first.at if first else NAN

    @property
    def assigned_at(self) -> float:
        first = self._first("assigned")
        return first.at if first else NAN

    @property
    def seller(self) -> int:
        first = self._first("assigned")
        return first.seller if first else -1

    @property
    def dark_at(self) -> float:
        """When the buyer went dark (NaN if it never did)."""
        first = self._first("went_dark")
        return first.at if first else NAN

    @property
    def dark_cause(self) -> str:
        """Why the buyer went dark (``DARK_CAUSES``), or "" if it never did."""
        first = self._first("went_dark")
        return first.cause if first else ""

    @property
    def ended_at(self) -> float:
        """The real end: decision, disqualification, going dark or giving up (NaN if open)."""
        if self.outcome == "open":
            return NAN
        end = self._first("decided", "disqualified", "went_dark", "unworked")
        return end.at if end else NAN

    @property
    def closed_at(self) -> float:
        """When the CRM recorded the end (NaN if open)."""
        end = self._first("closed", "unworked")
        return end.at if end else NAN

    @property
    def opened_at(self) -> float:
        """When the CRM opened an opportunity: the stage ``crm.opens_at`` (or a later one, for an
        opportunity inside an account) was entered; NaN if it never was."""
        first = next(
            (e for e in self.episodes if e.kind == "stage" and e.stage > self.opens_stage), None
        )
        return first.at if first else NAN

    @property
    def cycle_days(self) -> float:
        """Days from the opportunity's opening to the CRM close, as the deal table's cycle time."""
        return self.closed_at - self.opened_at

    @property
    def stage_reached(self) -> int:
        return max((e.stage for e in self.episodes if e.kind == "stage"), default=0)

    @property
    def calls(self) -> int:
        return self._count("call")

    @property
    def touches(self) -> int:
        return self._count("touch")

    @property
    def pushes(self) -> int:
        return self._count("forecast_pushed")

    @property
    def wrong_activities(self) -> int:
        return sum(e.wrong for e in self.episodes if e.kind == "call")

    def wait_days(self, *causes: str) -> float:
        """Days the gaps before calls waited for the given causes (``WAIT_CAUSES``)."""
        return sum(
            p.days for e in self.episodes if e.kind == "gap" for p in e.parts if p.cause in causes
        )

    @property
    def buyer_wait_days(self) -> float:
        """Days waited for the buyer: its tasks and its next free slot (``buyer_wait_days``)."""
        return self.wait_days("task", "buyer")

    @property
    def seller_wait_days(self) -> float:
        """Days waited for the seller: offline work and calendar (``seller_wait_days``)."""
        return self.wait_days("work", "seller")

    @property
    def gap_days(self) -> float:
        return sum(e.days for e in self.episodes if e.kind == "gap")

    @property
    def final_momentum(self) -> float:
        """The last momentum the log knows (NaN if none)."""
        known = [e.momentum for e in self.episodes if not math.isnan(e.momentum)]
        return known[-1] if known else NAN

    def stage_name(self, stage: int) -> str:
        return self.stage_names[stage - 1] if 1 <= stage <= len(self.stage_names) else "pool"


def deal_stories(
    table: DealTable, events: Mapping[str, np.ndarray], deal_ids: Iterable[int] | None = None
) -> list[DealStory]:
    """The stories of ``deal_ids`` (default: every deal), in the order asked.

    ``events`` are the run's event-log columns (``EventLog.columns()``: case, time, code, stage,
    value, seller, momentum), in the order the model logged them; ``table`` is the same run's
    deal table. Raises ``KeyError`` for a deal id the table does not hold.
    """
    ids = table["deal_id"]
    wanted = ids.tolist() if deal_ids is None else [int(d) for d in deal_ids]
    row_of = {int(d): i for i, d in enumerate(ids.tolist())}
    missing = [d for d in wanted if d not in row_of]
    if missing:
        raise KeyError(f"no deal {missing[0]} (deal ids run from 0 to {len(ids) - 1})")
    case = np.asarray(events["case"])
    order = np.lexsort((np.asarray(events["time"]), case))  # stable: ties keep the log's order
    sorted_case = case[order]
    cols = {name: np.asarray(events[name])[order] for name in events}
    counted = table.counted
    stories = []
    for deal in wanted:
        lo, hi = np.searchsorted(sorted_case, [deal, deal + 1])
        rows = {name: col[lo:hi].tolist() for name, col in cols.items()}
        i = row_of[deal]
        stories.append(
            DealStory(
                deal_id=deal,
                replication=table.replication,
                seed=table.seed,
                scenario_name=table.scenario_name,
                stage_names=table.stage_names,
                segment=str(table.segment_labels[i]),
                group_size=int(table["group_size"][i]),
                fit=float(table["fit"][i]),
                value=float(table["value"][i]),
                counted=bool(counted[i]),
                origin=ORIGINS[int(table["origin"][i])],
                account_id=int(table["account_id"][i]),
                horizon_days=table.horizon_days,
                episodes=_episodes(rows),
                opens_stage=table.opens_stage,
            )
        )
    return stories


def _episodes(rows: dict[str, list]) -> tuple[Episode, ...]:
    """One deal's events (sorted by time, ties in logged order) as episodes in time order."""
    out: list[Episode] = []
    pending: list[WaitPart] = []  # parts of the gap before the next call
    for t, code, stage, value, seller, momentum in zip(
        rows["time"],
        rows["code"],
        rows["stage"],
        rows["value"],
        rows["seller"],
        rows["momentum"],
        strict=True,
    ):
        if code in _WAIT_CODES:
            pending.append(WaitPart(_WAIT_CODES[code], t, value))
            continue
        if code == EV["call"]:
            if pending:
                days = t - pending[0].start
                out.append(
                    Episode(
                        kind="gap",
                        at=pending[0].start,
                        stage=stage,
                        days=days,
                        parts=tuple(pending),
                    )
                )
                pending = []
            out.append(
                Episode(kind="call", at=t, stage=stage, activities=int(value), momentum=momentum)
            )
        elif code == EV["wrong_step"]:
            call = _last_call(out)
            out[call] = replace(out[call], wrong=out[call].wrong + int(value))
        else:
            out.append(_simple(t, code, stage, value, seller, momentum))
    out.sort(key=lambda e: e.at)  # stable: a gap found at its call goes back to its start
    return _number_calls(out)


def _simple(t: float, code: int, stage: int, value: float, seller: int, momentum: float) -> Episode:
    """An episode read from one event."""
    name = _EVENT_NAMES[code]
    kind = cast(EpisodeKind, name)  # where the event and the episode share a name
    if name == "created":
        return Episode(kind="created", at=t, stage=0, value=value)
    if name == "assigned":
        return Episode(kind="assigned", at=t, stage=0, seller=seller, momentum=momentum)
    if name == "reached":
        return Episode(kind="reached", at=t, stage=stage, value=value)
    if name == "stage_entered":
        return Episode(kind="stage", at=t, stage=stage, momentum=momentum)
    if name in ("touch", "unworked"):
        return Episode(kind=kind, at=t, stage=stage)
    if name == "buyer_task":
        return Episode(kind="buyer_task", at=t, stage=stage, days=value)
    if name == "seller_work":
        return Episode(kind="seller_work", at=t, stage=stage, hours=value)
    if name in ("qualified", "disqualified"):
        return Episode(kind=kind, at=t, stage=stage, fit=value)
    if name in ("forecast_set", "forecast_pushed"):
        return Episode(kind=kind, at=t, stage=stage, date=value)
    if name == "went_dark":
        return Episode(
            kind="went_dark", at=t, stage=stage, momentum=momentum, cause=DARK_CAUSES[int(value)]
        )
    if name in ("decided", "closed"):
        return Episode(
            kind=kind,
            at=t,
            stage=stage,
            momentum=momentum,
            outcome=OUTCOMES[int(value)],
        )
    return Episode(kind="other", at=t, stage=stage, value=value, momentum=momentum, event=name)


_EVENT_NAMES = {code: name for name, code in EV.items()}


def _last_call(episodes: list[Episode]) -> int:
    for i in range(len(episodes) - 1, -1, -1):
        if episodes[i].kind == "call":
            return i
    raise ValueError("a wrong step without a call")


def _number_calls(episodes: list[Episode]) -> tuple[Episode, ...]:
    """Give each call its number among the calls that started in its stage, and their count."""
    per_stage: dict[int, int] = {}
    for e in episodes:
        if e.kind == "call":
            per_stage[e.stage] = per_stage.get(e.stage, 0) + 1
    seen: dict[int, int] = {}
    out = []
    for e in episodes:
        if e.kind == "call":
            seen[e.stage] = seen.get(e.stage, 0) + 1
            e = replace(e, number=seen[e.stage], of=per_stage[e.stage])
        out.append(e)
    return tuple(out)


def sample_deals(
    table: DealTable, outcome: str, k: int, *, seed: int, replication: int
) -> list[int]:
    """``k`` deal ids of the counted cohort that ended as ``outcome``, drawn without replacement
    from the seed (the same seed draws the same deals), in id order; fewer if fewer exist.

    The draw uses its own random generator, so tracing never changes a run's numbers.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
    code = OUTCOMES.index(outcome)
    pool = table["deal_id"][table.counted & (table["outcome"] == code)]
    if pool.size == 0:
        return []
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(replication, 0x7472)))
    chosen = rng.choice(pool, size=min(k, pool.size), replace=False)
    return sorted(int(d) for d in chosen)
