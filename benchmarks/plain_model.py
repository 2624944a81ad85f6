"""A deliberately plain SimPy sales model: the reference that ``bench_model.py`` runs side by side.

Issue 2 compares the simsales model's SimPy events per second with a bare SimPy loop and says "a
plain, straightforward SimPy sales model" runs at about half the bare loop's rate. Events per second
alone rewards a model for scheduling many cheap events; simsales deliberately schedules few (seller
calendars are function calls, going dark is one drawn event time), so each of its events carries
more work. To judge that honestly the benchmark needs the plain model itself, on the same market,
for the same simulated horizon: this module is that model, written the textbook way.

What it models (numbers read from the same scenario file, e.g. ``scenarios/baseline.toml``):

- **Arrivals**: a Poisson process at ``market.suspects_per_day`` times the month's factor (and the
  quarter-end push), one inter-arrival ``timeout`` at a time. Each suspect becomes a deal at once:
  a segment by share, fit, deal value, buying-group size and pace drawn from the scenario's laws.
- **Sellers** are ``simpy.Resource``s with capacity ``team.meeting_slots_per_day``, assigned to
  deals by the scenario's rule (least open deals, or round robin); each seller draws a skill.
- **Each deal is a process** that, for each stage, until its activities are done: waits for the
  buyer's next free slot (``timeout`` of the meeting lag x pace x attendee penalty), requests the
  seller, holds the call (``timeout`` of the call's hours as a share of a selling day), and draws
  each activity on the agenda right or wrong (``p_right`` x skill x overload; wrong ones are redone,
  the stage's consequence paid once: momentum loss, ending contact, longer lags, a lower decision
  chance). A call restores momentum. After the calls: qualification (a noisy read of fit against
  the strictness), the forecast date, the buyer's tasks one after another (``timeout`` each) and
  the seller's offline work (the seller requested again, held for the work hours), then the
  stage's share of the consensus penalty. After the last stage the group decides and chooses a
  supplier. A deal that goes dark is closed as no decision after the close-out delay (``timeout``).
- **Going dark by daily polling**, the straightforward way: a second process per deal wakes every
  simulated day, decays momentum by one day's half-life (slower while the buyer works on a task),
  sends a touch when ``policies.touch_every_days`` have passed without contact, and draws against
  the day's hazard ``background + max_hazard x (1 - m)^shape``; a hit interrupts the deal process.
- **Forecast slippage**: a third process per forecast deal wakes at each close date and pushes it.

What it does not model (so its outcomes are close to, not equal to, simsales'): seller calendars
booked ahead (a Resource adds almost no waiting at these loads: overload never shows in the gaps),
working days and weekends, calls whose agenda runs on into the next stage, booking the next meeting
at the end of a call, WIP caps and the suspects' patience (every suspect is assigned at once),
consensus that depends on momentum only through its exponent (as simsales) but with fresh draws,
the event log, the account lifecycle, common random numbers across variants (one ``random.Random``
for everything), and warm-up / cohort bookkeeping (every deal created in the run is one row).

It imports only SimPy, numpy, the standard library and the scenario schema (to read the numbers
and draw from the scenario's distributions), never the simsales model.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from simsales.scenario.schema import Scenario

#: Outcome codes, as in simsales' deal table.
OPEN, WON, LOST, NO_DECISION, DISQUALIFIED = 0, 1, 2, 3, 4
OUTCOMES = ("open", "won", "lost", "no_decision", "disqualified")


@dataclass
class PlainResult:
    """What one run of the plain model produced: enough to compare scale and speed."""

    horizon_days: float
    wall_s: float
    sim_events: int  # events the SimPy environment scheduled (its event-id counter)
    created_at: np.ndarray
    closed_at: np.ndarray  # NaN while open at the horizon
    outcome: np.ndarray
    calls: np.ndarray
    touches: np.ndarray
    pushes: np.ndarray
    polls: int  # wake-ups of the daily momentum/hazard polling processes

    @property
    def deals(self) -> int:
        return len(self.outcome)

    def outcome_shares(self) -> dict[str, float]:
        counts = np.bincount(self.outcome, minlength=len(OUTCOMES))
        return {
            name: float(c) / max(self.deals, 1) for name, c in zip(OUTCOMES, counts, strict=True)
        }


class WentDark(Exception):
    """The deal goes dark without the polling process: a stall, raised defences, no decision."""


class Deal:
    """One opportunity's state, shared by its deal, polling and forecast processes."""

    def __init__(self, deal_id: int, created_at: float) -> None:
        self.id = deal_id
        self.created_at = created_at
        self.open = True
        self.momentum = 0.5
        self.decay = 1.0  # momentum multiplier per day in the current stage
        self.busy_decay = 1.0  # the same while the buyer works on its own task
        self.busy = False
        self.last_contact = created_at
        self.calls = 0
        self.touches = 0
        self.pushes = 0
        self.process: simpy.Process | None = None


class PlainModel:
    """The market, the sellers and the deals of one run."""

    def __init__(self, sc: Scenario, seed: int) -> None:
        self.sc = sc
        self.env = simpy.Environment()
        self.rng = random.Random(seed)
        team = sc.team
        self.sellers = [
            simpy.Resource(self.env, capacity=team.meeting_slots_per_day)
            for _ in range(team.sellers)
        ]
        skill = team.skill.sampler()
        self.skill = [min(1.0, max(0.0, skill(self.rng))) for _ in range(team.sellers)]
        self.open_deals = [0] * team.sellers
        self.next_seller = 0
        b = sc.buyers
        self.meeting_lag = b.meeting_lag_days.sampler()
        self.pace = b.pace.sampler()
        self.group = b.group_size.sampler()
        self.close_out = sc.crm.close_out_delay_days.sampler()
        self.first_forecast = sc.forecast.first_forecast_days.sampler()
        self.segments = [
            (s.share, s.fit.sampler(), s.deal_value.sampler()) for s in sc.market.segments
        ]
        self.segment_weights = [s.share for s in sc.market.segments]
        self.tasks = [[t.duration.sampler() for t in st.buyer_tasks] for st in sc.stages]
        self.discounts: list[Callable[[Any], float] | None] = [
            st.wrong.discount.sampler() if st.wrong.discount is not None else None
            for st in sc.stages
        ]
        hl = b.momentum.half_life_days
        self.decays = [
            (
                0.5 ** (1.0 / (hl * st.half_life_factor)),
                0.5 ** (1.0 / (hl * st.half_life_factor * b.momentum.busy_half_life_factor)),
            )
            for st in sc.stages
        ]
        self.rows: list[tuple[float, float, int, int, int, int]] = []
        self.live: dict[int, Deal] = {}
        self.polls = 0

    # ------------------------------------------------------------------------------------------
    # arrivals

    def arrival_rate(self, t: float) -> float:
        sched = self.sc.market.schedule
        rate = self.sc.market.suspects_per_day * sched.by_month[int(t / (365.0 / 12.0)) % 12]
        if t % 91.25 >= 91.25 - sched.quarter_end_days:
            rate *= sched.quarter_end_push
        return rate

    def arrivals(self) -> Generator[Any, Any, None]:
        env = self.env
        deal_id = 0
        while True:
            yield env.timeout(self.rng.expovariate(self.arrival_rate(env.now)))
            deal = Deal(deal_id, env.now)
            deal_id += 1
            deal.process = env.process(self.opportunity(deal))

    def assign(self) -> int:
        if self.sc.team.assignment == "round_robin":
            seller = self.next_seller
            self.next_seller = (seller + 1) % len(self.sellers)
        else:
            seller = min(range(len(self.sellers)), key=self.open_deals.__getitem__)
        self.open_deals[seller] += 1
        return seller

    # ------------------------------------------------------------------------------------------
    # one deal

    def opportunity(self, deal: Deal) -> Generator[Any, Any, None]:
        """The deal's life: its stages, or going dark (then the CRM close-out), then its row."""
        seller = self.assign()
        self.live[deal.id] = deal
        deal.momentum = self.sc.buyers.momentum.initial
        self.env.process(self.poll(deal))
        try:
            outcome = yield from self.stages(deal, seller)
        except (simpy.Interrupt, WentDark):  # the polling process's hazard hit, or a stall
            deal.open = False
            yield self.env.timeout(self.close_out(self.rng))  # closed in the CRM weeks later
            outcome = NO_DECISION
        self.finish(deal, seller, outcome)

    def stages(self, deal: Deal, seller: int) -> Generator[Any, Any, int]:
        """Calls, buyer tasks and seller work stage by stage; returns won, lost or disqualified."""
        env, rng, sc = self.env, self.rng, self.sc
        b, team, pol = sc.buyers, sc.team, sc.policies
        _share, fit_of, value_of = rng.choices(self.segments, self.segment_weights)[0]
        fit, _value = fit_of(rng), value_of(rng)
        group = max(1, round(self.group(rng)))
        pace = self.pace(rng)
        skill = self.skill[seller]
        resource = self.sellers[seller]
        cons = b.consensus
        fit_factor = 1.0 + cons.fit_weight * (2.0 * fit - 1.0)
        consensus = min(1.0, max(0.0, cons.p_one * cons.q_per_extra ** (group - 1) * fit_factor))
        lag_mult = decision_mult = 1.0
        apc = pol.activities_per_call
        for k, st in enumerate(sc.stages):
            deal.decay, deal.busy_decay = self.decays[k]
            remaining, paid = st.activities, False
            while remaining > 0:
                agenda = min(apc, remaining)
                share = st.attendee_share + b.attendees_per_extra_activity * (agenda - 1)
                attendees = max(1, min(group, round(group * share)))
                lag = (
                    self.meeting_lag(rng) * pace * (1 + b.lag_per_extra_attendee * (attendees - 1))
                )
                yield env.timeout(lag * lag_mult)  # the buyer's next free slot
                hours = team.call_hours + team.call_hours_per_extra_activity * (agenda - 1)
                with resource.request() as req:  # the seller's meeting slot
                    yield req
                    yield env.timeout((hours + team.prep_hours) / team.selling_hours_per_day)
                deal.calls += 1
                deal.last_contact = env.now
                extra = max(0, agenda - b.comfortable_activities_per_call)
                p = min(1.0, st.p_right * skill) * b.overload_factor**extra
                wrong = sum(1 for _ in range(agenda) if rng.random() >= p)
                remaining -= agenda - wrong
                m = b.momentum
                restore = m.call_restore_wrong if wrong else m.call_restore_right
                deal.momentum += (1.0 - deal.momentum) * restore
                if wrong:
                    deal.momentum *= 1.0 - st.wrong.momentum_loss
                    if not paid:  # the stage's consequence, once per stage
                        paid = True
                        lag_mult *= st.wrong.lag_factor
                        decision_mult *= st.wrong.decision_factor
                        discount = self.discounts[k]
                        if discount is not None:
                            discount(rng)
                    if rng.random() < st.wrong.end_chance:
                        raise WentDark("defences")  # the buyer ends contact
            if st.qualification is not None:
                q = st.qualification
                sd = q.read_error_sd_wrong if paid else q.read_error_sd_right
                if fit + rng.gauss(0.0, sd) < pol.qualification_strictness:
                    return DISQUALIFIED
            if st.sets_forecast:
                env.process(self.forecast(deal, env.now + self.first_forecast(rng)))
            deal.busy = True
            for task in self.tasks[k]:
                yield env.timeout(task(rng) * pace)  # the buyer's own task
            deal.busy = False
            if st.seller_work_hours > 0:
                with resource.request() as req:  # the seller's offline work
                    yield req
                    yield env.timeout(st.seller_work_hours / team.selling_hours_per_day)
            if st.consensus_share > 0:
                exponent = st.consensus_share * (1 + cons.momentum_weight * (1 - deal.momentum))
                if rng.random() >= consensus**exponent:
                    raise WentDark("stalled")  # the buying group does not agree
        if rng.random() >= decision_mult:
            raise WentDark("undecided")  # "we'll get back to you"
        choice = b.choice.win_base * (1.0 + b.choice.fit_weight * (2.0 * fit - 1.0))
        return WON if rng.random() < choice else LOST

    def finish(self, deal: Deal, seller: int, outcome: int) -> None:
        deal.open = False
        self.open_deals[seller] -= 1
        del self.live[deal.id]
        self.rows.append(
            (deal.created_at, self.env.now, outcome, deal.calls, deal.touches, deal.pushes)
        )

    def poll(self, deal: Deal) -> Generator[Any, Any, None]:
        """Every day: decay momentum, maybe send a touch, and draw against the dark hazard."""
        env, rng = self.env, self.rng
        b = self.sc.buyers
        nd = b.no_decision
        touch_every = self.sc.policies.touch_every_days
        while True:
            yield env.timeout(1.0)
            if not deal.open:
                return
            self.polls += 1
            deal.momentum *= deal.busy_decay if deal.busy else deal.decay
            if touch_every > 0 and env.now - deal.last_contact >= touch_every:
                deal.momentum += (1.0 - deal.momentum) * b.momentum.touch_boost
                deal.touches += 1
                deal.last_contact = env.now
            hazard = (
                nd.background_hazard_per_day
                + nd.max_hazard_per_day * (1.0 - deal.momentum) ** nd.shape
            )
            if rng.random() < hazard:
                deal.open = False
                assert deal.process is not None
                deal.process.interrupt("dark")
                return

    def forecast(self, deal: Deal, close_date: float) -> Generator[Any, Any, None]:
        """Wake at each forecast close date; a deal still open then has its date pushed."""
        while True:
            yield self.env.timeout(max(0.0, close_date - self.env.now))
            if not deal.open:
                return
            deal.pushes += 1
            close_date += self.sc.forecast.push_days

    # ------------------------------------------------------------------------------------------

    def run(self) -> PlainResult:
        horizon = self.sc.run.horizon_days
        self.env.process(self.arrivals())
        t0 = time.perf_counter()
        self.env.run(until=horizon)
        wall = time.perf_counter() - t0
        events = next(self.env._eid)  # the event-id counter: events scheduled
        rows = self.rows + [
            (d.created_at, math.nan, OPEN, d.calls, d.touches, d.pushes)
            for d in sorted(self.live.values(), key=lambda d: d.id)
        ]
        cols = list(zip(*rows, strict=True)) if rows else [()] * 6
        return PlainResult(
            horizon_days=horizon,
            wall_s=wall,
            sim_events=events,
            created_at=np.asarray(cols[0], dtype=float),
            closed_at=np.asarray(cols[1], dtype=float),
            outcome=np.asarray(cols[2], dtype=np.int64),
            calls=np.asarray(cols[3], dtype=np.int64),
            touches=np.asarray(cols[4], dtype=np.int64),
            pushes=np.asarray(cols[5], dtype=np.int64),
            polls=self.polls,
        )


def simulate_plain(sc: Scenario, seed: int) -> PlainResult:
    """Run the plain model over the scenario's horizon (``run.horizon_days``)."""
    return PlainModel(sc, seed).run()
