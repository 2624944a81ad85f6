"""Deals per state over time: the cumulative flow, work in progress and seller load, day by day.

The deal table holds, for every deal, when it entered each state: created (the suspect pool),
each stage's entry time (``stage_entered``), and the CRM close with its outcome. That is enough to
rebuild how many deals sat in each state at any time, without a daily loop: each state is a set of
intervals [entered, left), and the count at time t is ``#(entered <= t) − #(left <= t)``, two
``searchsorted`` calls on sorted times. The time-average count over a grid interval comes exactly
from the running integral of that step function (prefix sums of the sorted times), so averaging a
series over the counting window gives back the ``wip_*`` metrics of ``simsales.results.flow`` to
rounding, not only approximately.

States, in flow order: the suspect pool, each stage, then the end states by outcome (won, lost,
no decision, disqualified, no response, unworked). A deal moves only forward in that order, so
the boundaries of a cumulative flow diagram (deals in a state or any later one) never fall. As in
the WIP metrics, a deal leaves its last stage at the CRM close, not when it went dark: a dead
deal nobody recorded still sits in the pipeline.

Seller utilisation over time comes from the calendars' hours booked per seller per week
(``RunRecords.seller_week_hours``), so it exists on grids of whole weeks only. A last interval
cut short by the horizon (one day of a week, say) has no utilisation in a series: its busiest
seller would be the maximum over fewer days, and its team share that of a few weekdays, neither
comparable with the whole intervals before it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from simsales.model.records import (
    DAYS_PER_WEEK,
    DISQUALIFIED,
    LOST,
    NO_DECISION,
    NO_RESPONSE,
    OUTCOMES,
    UNWORKED,
    WON,
    RunRecords,
)
from simsales.results.intervals import next_entry
from simsales.results.table import DealTable

__all__ = [
    "END_OUTCOMES",
    "POOL",
    "FlowSeries",
    "average_flow",
    "count_at",
    "flow_series",
    "flow_series_of_records",
    "grid_edges",
    "mean_count",
    "utilisation",
]

#: The end states of the flow, in the order the diagram stacks them (bottom first).
END_OUTCOMES: tuple[int, ...] = (WON, LOST, NO_DECISION, DISQUALIFIED, NO_RESPONSE, UNWORKED)
#: Name of the first state: suspects waiting for a seller (stage 0).
POOL = "suspect pool"


@dataclass(frozen=True, kw_only=True, eq=False)
class FlowSeries:
    """Deals per state on a grid of days, for one replication or the mean of several.

    ``edges`` (T + 1 days, from 0 to the horizon) bound T intervals. ``states`` are the pool,
    the stages (``n_stages`` of them) and the end states (``END_OUTCOMES`` by name).
    ``count_at`` (states × T + 1) is the number of deals in each state at each edge, right after
    what happened then; ``mean_in`` (states × T) the time-average number over each interval.
    ``open_per_seller_mean`` and ``_max`` (T) are the time-average open deals (assigned to CRM
    close) per seller over each interval, averaged over the sellers and for the busiest one.
    ``utilisation`` (T) is the team's hours booked / hours available in each interval (NaN with
    no working day in it, and in a last interval cut short by the horizon) and
    ``utilisation_max`` the busiest seller's; both ``None`` when the
    records hold no weekly hours or the grid's step is not a whole number of weeks.
    ``replications`` says how many replications were averaged.
    """

    edges: np.ndarray = field(repr=False)
    states: tuple[str, ...]
    n_stages: int
    count_at: np.ndarray = field(repr=False)
    mean_in: np.ndarray = field(repr=False)
    open_per_seller_mean: np.ndarray = field(repr=False)
    open_per_seller_max: np.ndarray = field(repr=False)
    utilisation: np.ndarray | None = field(default=None, repr=False)
    utilisation_max: np.ndarray | None = field(default=None, repr=False)
    warmup_days: float
    horizon_days: float
    replications: int = 1

    @property
    def stage_rows(self) -> slice:
        """Rows of ``count_at`` and ``mean_in`` that are stages."""
        return slice(1, 1 + self.n_stages)

    @property
    def end_rows(self) -> slice:
        """Rows that are end states."""
        return slice(1 + self.n_stages, len(self.states))

    @property
    def wip(self) -> np.ndarray:
        """Time-average open opportunities (every stage) over each interval (T)."""
        return np.asarray(self.mean_in[self.stage_rows].sum(axis=0))

    @property
    def arrived(self) -> np.ndarray:
        """Deals created by each edge (T + 1): the top of the cumulative flow diagram."""
        return np.asarray(self.count_at.sum(axis=0))

    def window_mean(self, rows: np.ndarray, lo: float, hi: float) -> float:
        """Time average over [lo, hi] of a per-interval series (T), weighting by length.

        ``lo`` and ``hi`` must be edges of the grid (the warm-up and the horizon are, for a
        whole-day grid and whole-day run settings).
        """
        i, j = (int(np.searchsorted(self.edges, x)) for x in (lo, hi))
        if not (self.edges[i] == lo and self.edges[j] == hi and j > i):
            raise ValueError(f"[{lo}, {hi}] is not a span of the grid's edges")
        width = np.diff(self.edges[i : j + 1])
        return float(np.sum(np.asarray(rows)[i:j] * width) / (hi - lo))


def grid_edges(horizon_days: float, step_days: float = 1.0) -> np.ndarray:
    """Edges 0, step, 2·step, ... and the horizon (a last, shorter interval if it falls between)."""
    if not step_days > 0:
        raise ValueError(f"step_days must be positive, got {step_days}")
    edges = np.arange(0.0, horizon_days, step_days)
    return np.append(edges, float(horizon_days))


def count_at(start: np.ndarray, end: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Intervals [start, end) holding each time of ``times``: ``#(start <= t) − #(end <= t)``.

    NaN starts are never open; NaN ends never close.
    """
    starts = np.sort(start[np.isfinite(start)])
    ends = np.sort(end[np.isfinite(start) & np.isfinite(end)])
    opened = np.searchsorted(starts, times, side="right")
    closed = np.searchsorted(ends, times, side="right")
    return (opened - closed).astype(float)


def _running_integral(times: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Σ over ``times`` <= t of (t − time), for each t of ``grid``: ∫₀ᵗ #(time <= s) ds."""
    ordered = np.sort(times)
    prefix = np.concatenate(([0.0], np.cumsum(ordered)))
    n = np.searchsorted(ordered, grid, side="right")
    return n * grid - prefix[n]


def mean_count(start: np.ndarray, end: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Time-average number of open intervals [start, end) over each interval of ``edges``.

    Exact: the difference of the running integral of the count at consecutive edges, divided
    by the interval's length. NaN starts never open; NaN ends never close.
    """
    live = np.isfinite(start)
    closes = live & np.isfinite(end)
    area = _running_integral(start[live], edges) - _running_integral(end[closes], edges)
    return np.asarray(np.diff(area) / np.diff(edges))


def _state_intervals(
    table: DealTable,
) -> tuple[tuple[str, ...], Iterator[tuple[np.ndarray, np.ndarray]]]:
    """Each state's name, and its intervals (start, end) per deal, state by state.

    NaN start: never in the state. The intervals are made one state at a time as they are asked
    for, so a large table holds one state's pair of arrays, not all of them (a million deals:
    16 MB, not 140).
    """
    names = (POOL, *table.stage_names, *(OUTCOMES[c] for c in END_OUTCOMES))
    return names, _each_state(table)


def _each_state(table: DealTable) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    created = table["created_at"]
    assigned = table["assigned_at"]
    closed = table["closed_at"]
    outcome = table["outcome"]
    # The pool: until a seller takes the suspect, or until it gives up (unworked).
    yield (
        created,
        np.where(np.isfinite(assigned), assigned, np.where(outcome == UNWORKED, closed, np.nan)),
    )
    entered = table["stage_entered"]
    later = next_entry(entered)
    for k in range(entered.shape[1]):
        yield entered[:, k], np.where(np.isfinite(later[:, k]), later[:, k], closed)
    del later
    never = np.full(len(table), np.nan)
    for code in END_OUTCOMES:
        yield np.where(outcome == code, closed, np.nan), never


def flow_series(
    table: DealTable,
    *,
    n_sellers: int,
    step_days: float = 1.0,
    seller_week_hours: np.ndarray | None = None,
    week_capacity_hours: np.ndarray | None = None,
) -> FlowSeries:
    """The ``FlowSeries`` of one replication on a grid of ``step_days`` from day 0 to the horizon.

    Every deal counts, warm-up ones too: the series shows the system filling up. ``n_sellers``
    divides open deals among the team (sellers without a deal count as 0). Utilisation needs
    ``seller_week_hours`` (sellers × weeks) and ``week_capacity_hours`` (weeks) from the records,
    and a step of whole weeks (else it is ``None``); it is NaN in a last interval shorter than
    the step (the horizon's partial week), which is not comparable with the others.
    """
    if n_sellers < 1:
        raise ValueError(f"n_sellers must be at least 1, got {n_sellers}")
    edges = grid_edges(table.horizon_days, step_days)
    names, intervals = _state_intervals(table)
    per_state = [(count_at(s, e, edges), mean_count(s, e, edges)) for s, e in intervals]
    counts = np.stack([c for c, _ in per_state])
    means = np.stack([m for _, m in per_state])
    per_seller_mean, per_seller_max = _open_per_seller(table, n_sellers, edges)
    util = util_max = None
    weekly = step_days % DAYS_PER_WEEK == 0
    if weekly and seller_week_hours is not None and week_capacity_hours is not None:
        util, util_max = utilisation(seller_week_hours, week_capacity_hours, edges)
        if edges.size > 1 and edges[-1] - edges[-2] < step_days:
            util[-1] = util_max[-1] = np.nan
    return FlowSeries(
        edges=edges,
        states=names,
        n_stages=len(table.stage_names),
        count_at=counts,
        mean_in=means,
        open_per_seller_mean=per_seller_mean,
        open_per_seller_max=per_seller_max,
        utilisation=util,
        utilisation_max=util_max,
        warmup_days=table.warmup_days,
        horizon_days=table.horizon_days,
    )


def _open_per_seller(
    table: DealTable, n_sellers: int, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Time-average open deals per interval, averaged over the team and for its busiest seller.

    The deals are grouped by seller once (a stable sort) and each seller's series is added to a
    running sum and maximum: time and memory grow with deals plus sellers × intervals, not with
    their product (a seller × interval matrix is 65 MB for 2,000 sellers over ten years).
    Sellers without a deal count as 0.
    """
    total = np.zeros(len(edges) - 1)
    busiest = np.zeros(len(edges) - 1)
    seller = table["seller"]
    assigned = np.flatnonzero(seller >= 0)
    order = assigned[np.argsort(seller[assigned], kind="stable")]
    groups = np.flatnonzero(np.diff(seller[order], prepend=-1))
    start, end = table["assigned_at"], table["closed_at"]
    for lo, hi in zip(groups, [*groups[1:], len(order)], strict=True):
        mine = order[lo:hi]
        row = mean_count(start[mine], end[mine], edges)
        total += row
        np.maximum(busiest, row, out=busiest)
    return total / n_sellers, busiest


def utilisation(
    hours: np.ndarray, capacity: np.ndarray, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Booked / available hours per grid interval, for the team and for its busiest seller.

    ``hours`` (sellers × weeks) and ``capacity`` (weeks) are kept by week, so every edge but the
    last (the horizon) must be a whole number of weeks; week w counts in the interval that holds
    its first day. Intervals without a working day are NaN.
    """
    hours = np.asarray(hours, dtype=float)
    capacity = np.asarray(capacity, dtype=float)
    weeks = capacity.shape[0]
    first_days = np.asarray(edges[:-1], dtype=float)
    if np.any(first_days % DAYS_PER_WEEK != 0):
        raise ValueError(
            f"utilisation is kept by week: grid edges must be multiples of {DAYS_PER_WEEK} days"
        )
    # the first week of each interval, and a sentinel column for reduceat
    starts = np.minimum(first_days // DAYS_PER_WEEK, weeks).astype(np.intp)
    padded_h = np.concatenate([hours, np.zeros((hours.shape[0], 1))], axis=1)
    padded_c = np.append(capacity, 0.0)
    booked = np.add.reduceat(padded_h, starts, axis=1)
    available = np.add.reduceat(padded_c, starts)
    # reduceat gives the element itself where two starts are equal (an empty interval)
    empty = np.append(starts[1:], weeks) <= starts
    booked[:, empty] = 0.0
    available[empty] = 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        team = np.where(available > 0, booked.sum(axis=0) / (available * hours.shape[0]), np.nan)
        busiest = np.where(available > 0, booked.max(axis=0) / available, np.nan)
    return team, busiest


def flow_series_of_records(
    records: RunRecords, *, step_days: float = 1.0, table: DealTable | None = None
) -> FlowSeries:
    """``flow_series`` of one replication straight from its records (weekly hours included).

    ``table``: the records' ``DealTable``, if the caller has it already (one copy, not two).
    """
    return flow_series(
        DealTable.from_records(records) if table is None else table,
        n_sellers=len(records.seller_hours),
        step_days=step_days,
        seller_week_hours=records.seller_week_hours,
        week_capacity_hours=records.week_capacity_hours,
    )


def average_flow(series: Sequence[FlowSeries]) -> FlowSeries:
    """The mean of several replications' series on one grid, element by element.

    Each series weighs by its ``replications``, so a running mean can be kept by averaging the
    mean so far with the next replication. The mean of counts stays a valid flow (bands still
    add up to the mean arrivals and never fall); ``replications`` says how many were averaged.
    """
    if not series:
        raise ValueError("average_flow needs at least one series")
    first = series[0]
    for s in series[1:]:
        if s.states != first.states or not np.array_equal(s.edges, first.edges):
            raise ValueError("series to average must share their states and grid")
    weights = np.array([s.replications for s in series], dtype=float)

    def mean(values: Sequence[np.ndarray | None]) -> np.ndarray | None:
        if any(v is None for v in values):
            return None
        stacked = np.stack([v for v in values if v is not None])
        return np.asarray(np.tensordot(weights, stacked, axes=1) / weights.sum())

    def required(values: Sequence[np.ndarray]) -> np.ndarray:
        found = mean(values)
        assert found is not None
        return found

    return replace(
        first,
        count_at=required([s.count_at for s in series]),
        mean_in=required([s.mean_in for s in series]),
        open_per_seller_mean=required([s.open_per_seller_mean for s in series]),
        open_per_seller_max=required([s.open_per_seller_max for s in series]),
        utilisation=mean([s.utilisation for s in series]),
        utilisation_max=mean([s.utilisation_max for s in series]),
        replications=int(weights.sum()),
    )
