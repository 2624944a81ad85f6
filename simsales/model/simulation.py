"""Run one replication of a scenario: the arrival process, the opportunities, the records."""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from simsales.model.accounts import Lifecycle
from simsales.model.context import RunContext
from simsales.model.market import DealDraws, arrival_times
from simsales.model.opportunity import Deal, flush_open_deals, run_opportunity
from simsales.model.records import RunRecords
from simsales.model.streams import make_streams
from simsales.model.win_loss import Interviews
from simsales.scenario.schema import Scenario

#: How often the sellers' calendars drop the days gone by (simulated days).
_FORGET_EVERY_DAYS = 30.0


def simulate(
    scenario: Scenario, *, seed: int, replication: int, event_log: bool = False
) -> RunRecords:
    """Simulate one replication; the same (scenario, seed, replication) gives the same records.

    Deals created during the warm-up are simulated like the others (they load the sellers) and
    flagged by their ``created_at``; the results layer leaves them out of the metrics. Deals still
    open at the horizon are written as open.
    """
    streams = make_streams(seed, replication)
    team = scenario.team
    skills = np.clip(team.skill.sample(streams["team"], team.sellers), 0.0, 1.0).tolist()
    env = simpy.Environment()
    ctx = RunContext.build(env, scenario, skills=skills, event_log=event_log)
    ctx.calendars.reserve_history(math.floor(scenario.run.horizon_days))  # never copied
    lifecycle = None
    if scenario.accounts is not None:  # a won deal hands an account on to its lifecycle
        lifecycle = Lifecycle(ctx, scenario.accounts, streams["accounts"])
        ctx.on_end = lifecycle.on_end
    if scenario.win_loss is not None:  # the interviews draw from their own stream
        ctx.interview = Interviews(scenario.win_loss, streams["win_loss"]).stated
    env.process(_arrivals(ctx, DealDraws(scenario, streams), streams["arrivals"]))
    horizon = scenario.run.horizon_days
    env.run(until=horizon)
    flush_open_deals(ctx)
    if ctx.log is not None:
        ctx.log = ctx.log.until(horizon)
    used, capacity = ctx.calendars.counted_hours(horizon)
    by_week, week_capacity = ctx.calendars.take_weekly_hours(horizon)
    return RunRecords(
        scenario_name=scenario.name,
        stage_names=tuple(s.name for s in scenario.stages),
        segment_names=tuple(s.name for s in scenario.market.segments),
        seed=seed,
        replication=replication,
        horizon_days=horizon,
        warmup_days=scenario.run.warmup_days,
        deals=ctx.records,
        seller_hours=np.asarray(used, dtype=float),
        seller_capacity_hours=np.full(team.sellers, capacity, dtype=float),
        events=ctx.log,
        sim_events=_events_scheduled(env),
        cohort_margin_days=scenario.run.cohort_margin_days,
        seller_week_hours=by_week,
        week_capacity_hours=week_capacity,
        accounts=lifecycle.finish(horizon) if lifecycle is not None else None,
        win_loss=scenario.win_loss is not None,
        opens_stage=scenario.opens_at_index,
        disqualified_as_lost=scenario.crm.disqualified_as_lost,
        non_selling_share=scenario.team.non_selling_share,
    )


def _arrivals(
    ctx: RunContext, draws: DealDraws, rng: np.random.Generator
) -> Generator[Any, Any, None]:
    """Stage 0: suspects arrive and each starts its own opportunity process."""
    env = ctx.env
    n_stages = len(ctx.stages)
    forgotten = 0.0
    for deal_id, t in enumerate(arrival_times(ctx.scenario, rng, ctx.horizon)):
        yield env.timeout(t - env.now)
        if t - forgotten > _FORGET_EVERY_DAYS:  # no booking reaches into the past
            forgotten = math.floor(t)
            ctx.calendars.forget_before(int(forgotten))
        deal = Deal(deal_id, t, draws.next(), n_stages)
        env.process(run_opportunity(ctx, deal))


def _events_scheduled(env: simpy.Environment) -> int:
    """How many events the SimPy environment scheduled (its event-id counter)."""
    counter = getattr(env, "_eid", None)
    if counter is None:  # pragma: no cover - a future SimPy without the counter
        return 0
    return next(counter)
