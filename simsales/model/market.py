"""Stage 0, the market: suspects arrive, each with a buyer drawn up front.

Arrivals are a Poisson process whose rate follows the year (monthly factors and a quarter-end
push), sampled exactly by thinning. Everything a deal needs that has a fixed count per deal is drawn
here in batches (vectorised NumPy, then handed out as Python floats), in arrival order.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from simsales.model.dealrandom import BLOCK, PREFIX
from simsales.scenario.schema import Scenario

DAYS_PER_YEAR = 365.0
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
DAYS_PER_QUARTER = DAYS_PER_YEAR / 4
_BATCH = 512


def arrival_rate(scenario: Scenario, t: float) -> float:
    """Suspects per day at time t."""
    market = scenario.market
    sched = market.schedule
    year_day = t % DAYS_PER_YEAR
    rate = market.suspects_per_day * sched.by_month[min(int(year_day / DAYS_PER_MONTH), 11)]
    if sched.quarter_end_push != 1.0 and (
        t % DAYS_PER_QUARTER >= DAYS_PER_QUARTER - sched.quarter_end_days
    ):
        rate *= sched.quarter_end_push
    return rate


def arrival_times(scenario: Scenario, rng: np.random.Generator, horizon: float) -> Iterator[float]:
    """Arrival times in [0, horizon) of the scenario's (possibly seasonal) Poisson process."""
    sched = scenario.market.schedule
    rate_max = (
        scenario.market.suspects_per_day * max(sched.by_month) * max(sched.quarter_end_push, 1.0)
    )
    seasonal = any(f != sched.by_month[0] for f in sched.by_month) or sched.quarter_end_push != 1.0
    t = 0.0
    while True:
        gaps = rng.exponential(1.0 / rate_max, _BATCH).tolist()
        marks = rng.random(_BATCH).tolist()
        for gap, u in zip(gaps, marks, strict=True):
            t += gap
            if t >= horizon:
                return
            if not seasonal or u * rate_max <= arrival_rate(scenario, t):
                yield t


@dataclass(slots=True)
class DealDraw:
    """The fixed-count random draws of one deal."""

    segment: int
    fit: float
    value: float
    group_size: int
    pace: float
    budget: float
    behaviour_seed: int
    uniforms: array  # the deal's own block of uniforms, or its first PREFIX (see dealrandom)
    dice: array | list[float]  # one per stage (consensus), then final decision, then supplier
    read_error: float
    close_out_delay: float
    forecast_days: float
    rest: BatchRest | None = None  # where the rest of a prefix block comes from
    row: int = 0  # the deal's row in that batch


class BatchRest:
    """The uniforms of one batch's deals beyond their first ``PREFIX``, drawn again on demand.

    A batch draws ``n x BLOCK`` uniforms from the behaviour stream in one call, but a deal keeps
    only its first ``PREFIX``: an open deal then holds 16 numbers, not 64, and most deals never
    need more. A deal that does asks for the rest of its row, which a copy of the stream, set to
    where the batch began and moved (``PCG64.advance``, forward or back) to that row, draws
    again: the same numbers, one 64-bit output each.
    """

    __slots__ = ("_bits", "_gen", "_pos")

    def __init__(self, state: Any) -> None:  # PCG64.state: a dict numpy types privately
        self._bits = np.random.PCG64(0)
        self._bits.state = state
        self._gen = np.random.Generator(self._bits)
        self._pos = 0

    def rest(self, row: int) -> array:
        start = row * BLOCK + PREFIX
        self._bits.advance(start - self._pos)  # modulo 2**128: negative steps go back
        self._pos = start + BLOCK - PREFIX
        return array("d", self._gen.random(BLOCK - PREFIX).tobytes())


class DealDraws:
    """Hands out ``DealDraw``s in arrival order, drawing them in vectorised batches."""

    def __init__(self, scenario: Scenario, streams: dict[str, np.random.Generator]) -> None:
        self.scenario = scenario
        self.streams = streams
        self._queue: list[DealDraw] = []
        shares = np.array([s.share for s in scenario.market.segments], float)
        self._segment_p = shares / shares.sum()

    def next(self) -> DealDraw:
        if not self._queue:
            self._queue = self._batch(_BATCH)
            self._queue.reverse()
        return self._queue.pop()

    def _batch(self, n: int) -> list[DealDraw]:
        sc = self.scenario
        buyers = self.streams["buyers"]
        segments = sc.market.segments
        seg = buyers.choice(len(segments), size=n, p=self._segment_p)
        fit = np.empty(n)
        value = np.empty(n)
        for i, s in enumerate(segments):  # every segment draws a full batch: CRN-stable
            f = s.fit.sample(buyers, n)
            v = s.deal_value.sample(buyers, n)
            mask = seg == i
            fit[mask] = f[mask]
            value[mask] = v[mask]
        group = np.maximum(np.rint(sc.buyers.group_size.sample(buyers, n)), 1).astype(int)
        pace = sc.buyers.pace.sample(buyers, n)
        budget = self.streams["hazard"].exponential(1.0, n)
        decisions = self.streams["decisions"]
        dice = decisions.random((n, len(sc.stages) + 2))  # an array a deal: no float objects
        read_error = decisions.standard_normal(n)
        crm = self.streams["crm"]
        close_out = sc.buyers.no_decision.close_out_delay_days.sample(crm, n)
        forecast = sc.forecast.first_forecast_days.sample(crm, n)
        behaviour = self.streams["behaviour"]
        seeds = behaviour.integers(0, 2**63 - 1, n)
        rest = None
        if type(behaviour.bit_generator) is np.random.PCG64:  # one output per uniform
            rest = BatchRest(behaviour.bit_generator.state)
        uniforms = behaviour.random((n, BLOCK))
        keep = PREFIX if rest is not None else BLOCK
        blocks = [array("d", row.tobytes()) for row in uniforms[:, :keep]]
        return [
            DealDraw(
                segment=sg,
                fit=ft,
                value=vl,
                group_size=gs,
                pace=pc,
                budget=bd,
                behaviour_seed=sd,
                uniforms=un,
                dice=dc,
                read_error=re,
                close_out_delay=co,
                forecast_days=fd,
                rest=rest,
                row=row,
            )
            for row, (sg, ft, vl, gs, pc, bd, sd, un, dc, re, co, fd) in enumerate(
                zip(
                    seg.tolist(),
                    fit.tolist(),
                    value.tolist(),
                    group.tolist(),
                    pace.tolist(),
                    budget.tolist(),
                    seeds.tolist(),
                    blocks,
                    [array("d", row.tobytes()) for row in dice],
                    read_error.tolist(),
                    close_out.tolist(),
                    forecast.tolist(),
                    strict=True,
                )
            )
        ]
