"""Stage 0, the market: suspects arrive, each with a buyer drawn up front.

Arrivals are a Poisson process whose rate follows the year (monthly factors and a quarter-end
push), sampled exactly by thinning. Everything a deal needs that has a fixed count per deal is drawn
here in batches (vectorised NumPy, then handed out as Python floats), in arrival order.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
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


#: Where each fixed-count draw sits in ``DealDraw.nums``; the dice and the uniforms follow.
_FIT, _VALUE, _PACE, _BUDGET, _READ_ERROR, _CLOSE_OUT, _FORECAST, _LOSS_BUDGET, _ANSWER = range(9)
_DICE = 9


class DealDraw:
    """The fixed-count random draws of one deal, packed in one array of floats.

    An open deal keeps its draws for its whole life, and tens of thousands are open at once in a
    large run: one ``array`` of doubles (the seven draws, the dice, then the deal's uniforms)
    holds them in a few hundred bytes, where a float object each and two arrays took about twice
    that. The draws read back as the same doubles.
    """

    __slots__ = ("behaviour_seed", "group_size", "nums", "rest", "row", "segment", "uniforms_at")

    def __init__(
        self,
        *,
        segment: int,
        group_size: int,
        behaviour_seed: int,
        nums: array,
        n_dice: int,
        rest: BatchRest | None = None,
        row: int = 0,
    ) -> None:
        self.segment = segment
        self.group_size = group_size
        self.behaviour_seed = behaviour_seed
        self.nums = nums  # see pack()
        self.uniforms_at = _DICE + n_dice  # the deal's uniforms (or their first PREFIX) from here
        self.rest = rest  # where the rest of a prefix block comes from
        self.row = row  # the deal's row in that batch

    @staticmethod
    def pack(
        *,
        fit: float,
        value: float,
        pace: float,
        budget: float,
        read_error: float,
        close_out_delay: float,
        forecast_days: float,
        loss_budget: float,
        answer: float,
        dice: list[float],
        uniforms: list[float],
    ) -> array:
        """The ``nums`` of one deal: its draws, its dice (one per stage for consensus, then the
        final decision, then the supplier), then its uniforms."""
        head = [fit, value, pace, budget, read_error, close_out_delay, forecast_days]
        head += [loss_budget, answer]
        return array("d", head + dice + uniforms)

    @property
    def fit(self) -> float:
        """Fit to the ideal customer, 0..1."""
        return self.nums[_FIT]

    @property
    def value(self) -> float:
        """List value of the deal."""
        return self.nums[_VALUE]

    @property
    def pace(self) -> float:
        """Factor on the buyer's lags and tasks."""
        return self.nums[_PACE]

    @property
    def budget(self) -> float:
        """The buyer's Exp(1) budget of cumulative dark hazard."""
        return self.nums[_BUDGET]

    @property
    def read_error(self) -> float:
        """Standard normal error of the seller's read of the fit."""
        return self.nums[_READ_ERROR]

    @property
    def close_out_delay(self) -> float:
        """Days from going dark to the CRM close."""
        return self.nums[_CLOSE_OUT]

    @property
    def forecast_days(self) -> float:
        """Days from the forecast stage to the first forecast close date."""
        return self.nums[_FORECAST]

    @property
    def loss_budget(self) -> float:
        """The buyer's Exp(1) budget of cumulative competition hazard."""
        return self.nums[_LOSS_BUDGET]

    @property
    def answer(self) -> float:
        """Uniform die: the suspect answers the seller's first reach-out if below its chance."""
        return self.nums[_ANSWER]

    def die(self, k: int) -> float:
        """Uniform die k: stage k+1's consensus (k < stages), the decision, the supplier."""
        return self.nums[_DICE + k]


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
        dice = decisions.random((n, len(sc.stages) + 2))
        read_error = decisions.standard_normal(n)
        crm = self.streams["crm"]
        close_out = sc.crm.close_out_delay_days.sample(crm, n)
        forecast = sc.forecast.first_forecast_days.sample(crm, n)
        loss_budget = self.streams["competition"].exponential(1.0, n)
        answer = self.streams["leads"].random(n)
        behaviour = self.streams["behaviour"]
        seeds = behaviour.integers(0, 2**63 - 1, n)
        rest = None
        if type(behaviour.bit_generator) is np.random.PCG64:  # one output per uniform
            rest = BatchRest(behaviour.bit_generator.state)
        uniforms = behaviour.random((n, BLOCK))
        keep = PREFIX if rest is not None else BLOCK
        head = np.column_stack(
            [fit, value, pace, budget, read_error, close_out, forecast, loss_budget, answer]
        )
        packed = np.concatenate([head, dice, uniforms[:, :keep]], axis=1)  # DealDraw.pack's order
        n_dice = dice.shape[1]
        return [
            DealDraw(
                segment=sg,
                group_size=gs,
                behaviour_seed=sd,
                nums=array("d", nums.tobytes()),
                n_dice=n_dice,
                rest=rest,
                row=row,
            )
            for row, (sg, gs, sd, nums) in enumerate(
                zip(seg.tolist(), group.tolist(), seeds.tolist(), packed, strict=True)
            )
        ]
