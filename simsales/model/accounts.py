"""The account lifecycle after the close (stages 6-10): SimPy processes beside the sales process.

A won opportunity creates an account (``Lifecycle.on_end``, called as each deal ends). Its health
starts lower after a discount or a close done wrong; the operations team (a SimPy ``Resource``
of ``onboarding.team_size``) on-boards it, making it a partner (right and on time) or a vendor, and
health then relaxes towards the partner's or the vendor's level. The account's own process waits
for its next event — a renewal, a change event, an expansion candidate (a Poisson process thinned
by health^exponent) or churn (a competing risk drawn by inverse transform, ``account_hazard``) —
and is woken when an opportunity in the account ends, since a win changes health and revenue.
Expansion and restart opportunities run ``run_opportunity`` from a later stage, warmer and with a
smaller group, side by side; each ends once, on its own. Off-boarding records the real reason and
what the exit interview heard. Revenue is a piecewise-constant recurring value plus one-off
amounts, logged at each change (``AccountRecords.contract``); nothing is polled day by day.

Randomness: each account has its own generator, seeded from the ``accounts`` stream and the id of
the deal that created it, so the deal-level streams are untouched and an account meets the same
draws in two variants as long as its own history is the same.
"""

from __future__ import annotations

import math
import random
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from simsales.model.account_hazard import (
    DAYS_PER_YEAR,
    churn_rate,
    cumulative_churn,
    health_at,
    time_to_churn,
)
from simsales.model.account_records import (
    BUSINESS_CHANGE,
    CHANGE_EVENT,
    POOR_ONBOARDING,
    PRICE,
    RENEGOTIATION_LOST,
    WEAK_RELATIONSHIP,
    AccountRecords,
)
from simsales.model.account_state import Account, write_row
from simsales.model.context import RunContext
from simsales.model.dealrandom import BLOCK
from simsales.model.market import DealDraw
from simsales.model.opportunity import Deal, run_opportunity
from simsales.model.records import NEW_BUSINESS, ORIGINS, WON
from simsales.scenario.accounts_schema import Accounts, ExpansionKind

#: Deal ids of opportunities inside accounts start here (new business counts from 0).
EXPANSION_ID_BASE = 1_000_000_000
RESTART = ORIGINS.index("restart")
RENEGOTIATION = ORIGINS.index("renegotiation")
INF = math.inf


def _clip(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


class Lifecycle:
    """The accounts of one run: their parameters, the operations team and their processes."""

    def __init__(self, ctx: RunContext, spec: Accounts, rng: np.random.Generator) -> None:
        self.ctx = ctx
        self.env = ctx.env
        self.spec = spec
        self.seed = int(rng.integers(0, 2**63 - 1))
        self.ops = simpy.Resource(ctx.env, capacity=spec.onboarding.team_size)
        self.records = AccountRecords(change_kinds=tuple(k.name for k in spec.change.kinds))
        self.accounts: list[Account] = []
        self.owner: dict[int, Account] = {}  # open opportunity -> its account
        self.renegotiating: set[int] = set()  # restarts at the close (stage 5)
        self.next_deal_id = EXPANSION_ID_BASE
        self.onboarding_days = spec.onboarding.duration_days.sampler()
        sc = ctx.scenario
        self.close_out = sc.crm.close_out_delay_days.sampler()
        self.forecast = sc.forecast.first_forecast_days.sampler()
        self.value_factors = [k.value_factor.sampler() for k in spec.expansion.kinds]
        names = [s.name for s in sc.stages]
        self.stage_index = {name: i for i, name in enumerate(names)}
        qualifying = [i for i, s in enumerate(sc.stages) if s.qualification is not None]
        self.qualifying = qualifying[0] if qualifying else -1
        self.last_bit = 1 << (len(names) - 1)
        c = spec.contract
        self.recurring = c.kind == "recurring"
        self.per_year = DAYS_PER_YEAR / c.term_days  # terms per year
        h = spec.health
        self.half_life = h.drift_half_life_days
        ch = spec.churn
        self.churn = (ch.background_per_year, ch.max_per_year, ch.shape)

    # --- deals ending: accounts are created, expanded, renegotiated --------------------------

    def on_end(self, deal: Deal, outcome: int, ended_at: float) -> None:
        """A deal ended (``RunContext.on_end``): found, grow or end an account accordingly."""
        if deal.origin == NEW_BUSINESS:
            if outcome == WON:
                self._found(deal)
            return
        acc = self.owner.pop(deal.id)
        if deal.id in self.renegotiating:
            self.renegotiating.discard(deal.id)
            if acc.ended_at == acc.ended_at:  # not NaN: it has left already
                return
            if outcome == WON:
                self._advance(acc, self.env.now)
                net = deal.draw.value * (1.0 - deal.discount)
                if self.recurring:
                    acc.arr *= 1.0 - deal.discount
                    self._log(acc, 0.0)
                else:
                    self._book(acc, net)
                self._wake(acc)
            else:
                self._end(acc, RENEGOTIATION_LOST)
            return
        if outcome != WON:
            return
        if acc.ended_at == acc.ended_at:  # won in an account that has left: it comes back
            self._found(deal)
            return
        self._advance(acc, self.env.now)
        acc.expansions_won += 1
        net = deal.draw.value * (1.0 - deal.discount)
        if self.recurring:
            acc.arr += net * self.per_year
            self._log(acc, 0.0)
        else:
            self._book(acc, net)
        acc.health = _clip(acc.health + self.spec.health.expansion_won_boost)
        self._wake(acc)

    def _found(self, deal: Deal) -> None:
        now = self.env.now
        acc = Account(len(self.accounts), deal, now, random.Random(f"{self.seed}:{deal.id}"))
        self.accounts.append(acc)
        if deal.origin == NEW_BUSINESS:
            deal.account = acc.id
        h = self.spec.health
        acc.hand_off_ready = not deal.wrong_stages & self.last_bit
        penalty = 0.0 if acc.hand_off_ready else h.hand_off_penalty
        acc.health = acc.start_health = _clip(h.start - h.discount_weight * deal.discount - penalty)
        net = deal.draw.value * (1.0 - deal.discount)
        if self.recurring:
            acc.arr = net * self.per_year
            self._log(acc, 0.0)
        else:
            self._book(acc, net)
        self.env.process(self._life(acc))

    # --- the account's own process --------------------------------------------------------------

    def _life(self, acc: Account) -> Generator[Any, Any, None]:
        env = self.env
        spec = self.spec
        yield from self._onboard(acc, acc.created_at)
        acc.onboarded_at = env.now
        acc.living = True
        rng = acc.rng
        now = env.now
        if spec.expansion.per_year > 0.0:
            acc.next_expansion = now + rng.expovariate(spec.expansion.per_year / DAYS_PER_YEAR)
        if spec.change.per_year > 0.0:
            acc.next_change = now + rng.expovariate(spec.change.per_year / DAYS_PER_YEAR)
        if self.recurring:
            term = spec.contract.term_days
            acc.next_renewal = acc.created_at + term * math.ceil((now - acc.created_at) / term)
            if acc.next_renewal <= now:
                acc.next_renewal += term
        horizon = self.ctx.horizon
        background, top, k = self.churn
        while True:
            now = env.now
            nxt = min(acc.next_renewal, acc.next_change, acc.next_expansion)
            within = min(nxt, horizon) - acc.t0
            churn_at = acc.t0 + time_to_churn(
                acc.health, acc.level, self.half_life, acc.budget, within, background, top, k
            )
            when = min(nxt, churn_at)
            acc.wake = env.event()
            if when <= horizon:
                yield env.timeout(max(when - now, 0.0)) | acc.wake
            else:
                yield acc.wake  # nothing more before the horizon, unless a deal ends
            if acc.ended_at == acc.ended_at:
                return
            if acc.wake.triggered:  # the waker has accounted for the time already
                continue
            self._advance(acc, when)
            if when == churn_at:
                self._churn(acc)
                return
            if when == acc.next_renewal:
                self._renew(acc)
            elif when == acc.next_change:
                acc.next_change = when + rng.expovariate(spec.change.per_year / DAYS_PER_YEAR)
                self._change(acc)
                if acc.ended_at == acc.ended_at:
                    return
            else:
                acc.next_expansion = when + rng.expovariate(spec.expansion.per_year / DAYS_PER_YEAR)
                # thinning: candidates at the rate of health 1, kept with chance health^exponent
                if rng.random() < acc.health**spec.expansion.health_exponent:
                    self._expand(acc, -1)

    def _onboard(self, acc: Account, since: float) -> Generator[Any, Any, None]:
        """Stage 6: wait for a member of the operations team, on-board, become partner or vendor."""
        ob = self.spec.onboarding
        env = self.env
        with self.ops.request() as request:
            yield request
            if acc.onboarding_started_at != acc.onboarding_started_at:  # first on-boarding
                acc.onboarding_started_at = env.now
            yield env.timeout(self.onboarding_days(acc.rng))
        if acc.ended_at == acc.ended_at:
            return
        right = acc.rng.random() < ob.p_right
        late = env.now - since > ob.late_after_days
        self._advance(acc, env.now)
        acc.onboarding_right = right
        acc.onboarding_late = late
        acc.partner = right and not late
        h = self.spec.health
        if acc.partner:
            delta = ob.partner_boost
        else:
            delta = -(0.0 if right else ob.wrong_penalty) - (ob.late_penalty if late else 0.0)
        acc.health = _clip(acc.health + delta)
        acc.level = h.partner_level if acc.partner else h.vendor_level

    def _reonboard(self, acc: Account) -> Generator[Any, Any, None]:
        """A change restarted the relationship at stage 6: on-boarding again, beside its life."""
        yield from self._onboard(acc, self.env.now)
        self._wake(acc)

    # --- events -------------------------------------------------------------------------------

    def _renew(self, acc: Account) -> None:
        c = self.spec.contract
        acc.next_renewal += c.term_days
        factor = 1.0 + c.partner_uplift if acc.partner else 1.0 - c.vendor_squeeze
        if factor != 1.0 and acc.arr > 0.0:
            acc.arr *= factor
            self._log(acc, 0.0)

    def _change(self, acc: Account) -> None:
        """Stage 9: a healthy account restarts at 5, 6 or 7; an unhealthy one shrinks or ends."""
        ch = self.spec.change
        rng = acc.rng
        kinds = ch.kinds
        index = rng.choices(range(len(kinds)), weights=[k.share for k in kinds])[0]
        kind = kinds[index]
        acc.change_events += 1
        healthy = acc.health >= ch.healthy_threshold
        acc.health = _clip(acc.health - kind.health_hit)
        if healthy:
            acc.restarts += 1
            if kind.restart_at == 5:
                self._renegotiate(acc)
            elif kind.restart_at == 6:
                self.env.process(self._reonboard(acc))
            else:
                self._expand(acc, RESTART)
        elif rng.random() < ch.unhealthy_end_chance:
            acc.change_kind = index
            self._end(acc, CHANGE_EVENT)
        else:
            acc.downscopes += 1
            if acc.arr > 0.0:
                acc.arr *= 1.0 - ch.downscope_share
                self._log(acc, 0.0)

    def _churn(self, acc: Account) -> None:
        """The churn hazard fired: its background part or its health part (competing risks)."""
        background, top, k = self.churn
        total = churn_rate(acc.health, background, top, k) * DAYS_PER_YEAR
        if acc.rng.random() * total < background:
            reason = BUSINESS_CHANGE
        else:
            reason = WEAK_RELATIONSHIP if acc.partner else POOR_ONBOARDING
        self._end(acc, reason)

    def _end(self, acc: Account, reason: int) -> None:
        """Stage 10: the account leaves; the exit interview finds the real reason, or the excuse."""
        now = self.env.now
        self._advance(acc, now)
        acc.arr = 0.0
        self._log(acc, 0.0)
        acc.ended_at = now
        acc.real_reason = reason
        found = acc.rng.random() < self.spec.offboarding.find_real_reason
        acc.stated_reason = reason if found else PRICE
        self._wake(acc)

    # --- opportunities inside the account -----------------------------------------------------

    def _expand(self, acc: Account, origin: int) -> None:
        """Stage 7: an expansion opportunity of a kind drawn by share (``origin`` -1: its kind)."""
        kinds = self.spec.expansion.kinds
        rng = acc.rng
        index = rng.choices(range(len(kinds)), weights=[k.share for k in kinds])[0]
        kind: ExpansionKind = kinds[index]
        value = acc.value * self.value_factors[index](rng)
        group = max(1, round(acc.group * kind.group_factor))
        code = ORIGINS.index(kind.kind) if origin < 0 else origin
        acc.expansions += 1
        self._open(acc, code, self.stage_index[kind.start_stage], value, group, kind.momentum)

    def _renegotiate(self, acc: Account) -> None:
        """Restart at stage 5: a new close over the current contract, warm as the relationship."""
        value = acc.arr / self.per_year if self.recurring else acc.value
        deal = self._open(
            acc, RENEGOTIATION, len(self.stage_index) - 1, value, acc.group, acc.health
        )
        self.renegotiating.add(deal.id)

    def _open(
        self, acc: Account, origin: int, stage: int, value: float, group: int, momentum: float
    ) -> Deal:
        deal_id = self.next_deal_id
        self.next_deal_id += 1
        deal = Deal(deal_id, self.env.now, self._draw(acc, value, group), len(self.ctx.stages))
        deal.origin = origin
        deal.account = acc.id
        deal.seller = acc.seller
        deal.first_stage = stage
        deal.m0 = momentum
        if stage > self.qualifying:  # an account starting past qualification is qualified
            deal.qualified = 1
        self.owner[deal_id] = acc
        self.env.process(run_opportunity(self.ctx, deal))
        return deal

    def _draw(self, acc: Account, value: float, group: int) -> DealDraw:
        """A buyer for an opportunity in the account: the same organisation, a new group."""
        g = random.Random(acc.rng.getrandbits(63))
        n = len(self.ctx.stages)
        budget = g.expovariate(1.0)
        seed = g.getrandbits(63)
        uniforms = [g.random() for _ in range(BLOCK)]
        dice = [g.random() for _ in range(n + 2)]
        nums = DealDraw.pack(
            fit=acc.fit,
            value=value,
            pace=acc.pace,
            budget=budget,
            read_error=g.gauss(0.0, 1.0),
            close_out_delay=self.close_out(g),
            forecast_days=self.forecast(g),
            loss_budget=g.expovariate(1.0),  # drawn last: the draws before it keep their values
            answer=0.0,  # an account's opportunity is reached: it is a customer
            dice=dice,
            uniforms=uniforms,
        )
        return DealDraw(
            segment=acc.segment, group_size=group, behaviour_seed=seed, nums=nums, n_dice=n + 2
        )

    # --- bookkeeping ----------------------------------------------------------------------------

    def _advance(self, acc: Account, t: float) -> None:
        """Account for health, the churn budget spent and revenue accrued up to ``t``."""
        dt = t - acc.t0
        if dt <= 0.0:
            return
        if acc.living:
            background, top, k = self.churn
            spent = cumulative_churn(acc.health, acc.level, self.half_life, dt, background, top, k)
            acc.budget = max(acc.budget - spent, 0.0)
            acc.health = health_at(acc.health, acc.level, self.half_life, dt)
        acc.revenue += acc.arr * dt / DAYS_PER_YEAR
        acc.t0 = t

    def _log(self, acc: Account, amount: float) -> None:
        self.records.contract(acc.id, self.env.now, acc.arr, amount)

    def _book(self, acc: Account, amount: float) -> None:
        acc.revenue += amount
        self._log(acc, amount)

    def _wake(self, acc: Account) -> None:
        if acc.wake is not None and not acc.wake.triggered:
            acc.wake.succeed()

    def finish(self, horizon: float) -> AccountRecords:
        """Write every account's row as it stands at the horizon, in order of creation."""
        for acc in self.accounts:
            if acc.ended_at != acc.ended_at:
                self._advance(acc, horizon)
            write_row(self.records, acc, horizon, self.spec.maturity)
        return self.records
