"""One record, buyer and seller together, from the suspect pool to its end (a SimPy process).

``run_opportunity`` tells the story of a deal in named steps: wait for a seller, then stage by
stage plan a call, wait for it, hold it, and finish the stage, then decide. ``Sale`` holds where
the deal stands and carries out each step; the rules each step applies (a call's agenda, who
comes, the lag, the chance of doing an activity right, consensus, the supplier's choice) are the
pure functions of ``simsales.model.rules``, which ``simsales explain`` reads too. What is fixed
for the run comes precomputed (``RunContext``, ``StagePlan``) and each deal draws from its own
random source (``DealRandom``): the speed lives there, beneath the story.

Between two calls lies a gap — the buyer's own tasks, the buyer's next free slot (slower for a
larger part of the buying group) and the seller's calendar — during which momentum decays and the
deal may go dark. Each activity in a call is done right or wrong; a wrong one is redone (rework)
and costs the stage's consequence. A call's agenda runs on into the next stage when nothing (a
buyer task, seller work) blocks it. Every record ends exactly once.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any, cast

from simsales.model import rules
from simsales.model.context import RunContext, StagePlan
from simsales.model.dealrandom import DealRandom
from simsales.model.group import BuyingGroup
from simsales.model.market import DealDraw
from simsales.model.momentum import BuyerClock
from simsales.model.records import (
    DARK_CAUSE_BASE,
    DARK_CAUSES,
    DISQUALIFIED,
    EV,
    LOST,
    NEW_BUSINESS,
    NO_CAUSE,
    NO_DECISION,
    NO_RESPONSE,
    NOT_INTERVIEWED,
    OPEN,
    OTHER_SUPPLIER,
    POOR_FIT,
    UNWORKED,
    WON,
    WON_CAUSE,
)

NAN = math.nan
_EV_CREATED = EV["created"]
_EV_ASSIGNED = EV["assigned"]
_EV_STAGE = EV["stage_entered"]
_EV_CALL = EV["call"]
_EV_WRONG = EV["wrong_step"]
_EV_TOUCH = EV["touch"]
_EV_TASK = EV["buyer_task"]
_EV_WORK = EV["seller_work"]
_EV_FORECAST = EV["forecast_set"]
_EV_QUALIFIED = EV["qualified"]
_EV_DISQUALIFIED = EV["disqualified"]
_EV_DARK = EV["went_dark"]
_EV_DECIDED = EV["decided"]
_EV_CLOSED = EV["closed"]
_EV_UNWORKED = EV["unworked"]
_EV_WAIT_TASK = EV["wait_task"]
_EV_WAIT_WORK = EV["wait_work"]
_EV_WAIT_BUYER = EV["wait_buyer"]
_EV_WAIT_SELLER = EV["wait_seller"]
_EV_PUSHED = EV["forecast_pushed"]
_EV_REACHED = EV["reached"]

_DARK_STALLED = DARK_CAUSES.index("stalled")
_DARK_DEFENCES = DARK_CAUSES.index("defences")
_DARK_UNDECIDED = DARK_CAUSES.index("undecided")
_DARK_UNANSWERED = DARK_CAUSES.index("unanswered")
#: The real end cause (``END_CAUSES``) of each outcome; a no decision's comes from going dark.
_END_CAUSE = {
    OPEN: NO_CAUSE,
    WON: WON_CAUSE,
    LOST: OTHER_SUPPLIER,
    DISQUALIFIED: POOR_FIT,
    UNWORKED: NO_CAUSE,
}


class Deal:
    """The running record of one opportunity (written to the deal table when it ends)."""

    __slots__ = (
        "account",
        "assigned_at",
        "buyer_wait",
        "call_hours",
        "calls",
        "created_at",
        "discount",
        "draw",
        "entered",
        "first_forecast",
        "first_stage",
        "gap_days",
        "id",
        "m0",
        "max_gap",
        "momentum",
        "origin",
        "planned_tasks",
        "qualified",
        "reached_at",
        "seller",
        "seller_wait",
        "stage_reached",
        "touches",
        "touches_ahead",
        "work_hours",
        "wrong_activities",
        "wrong_stages",
    )

    def __init__(self, deal_id: int, created_at: float, draw: DealDraw, n_stages: int) -> None:
        self.id = deal_id
        self.created_at = created_at
        self.draw = draw
        self.assigned_at = NAN
        self.reached_at = NAN
        self.seller = -1
        self.stage_reached = 0
        self.qualified = 0
        self.entered = [NAN] * n_stages
        self.calls = 0
        self.touches = 0
        # shared empty tuples until used: most open deals never need a list of their own
        self.planned_tasks: list[tuple[float, int, float]] | tuple[()] = ()
        self.touches_ahead: list[float] | tuple[()] = ()
        self.wrong_activities = 0
        self.wrong_stages = 0
        self.gap_days = 0.0
        self.max_gap = 0.0
        self.seller_wait = 0.0
        self.buyer_wait = 0.0
        self.call_hours = 0.0
        self.work_hours = 0.0
        self.first_forecast = NAN
        self.discount = 0.0
        self.momentum = NAN
        # an opportunity inside an account (``accounts``) starts later, warmer, already assigned
        self.origin = NEW_BUSINESS  # index into ORIGINS
        self.account = -1
        self.first_stage = 0  # index into the stages
        self.m0: float | None = None  # None: the scenario's initial momentum


def record_deal(
    ctx: RunContext,
    deal: Deal,
    outcome: int,
    ended_at: float,
    closed_at: float,
    dark_cause: int = 0,
) -> None:
    """Append the deal's row to the deal table and forget it.

    ``dark_cause`` (``DARK_CAUSES``) is why a no decision went dark; it gives the real end cause.
    """
    if ctx.on_end is not None and outcome != OPEN:
        ctx.on_end(deal, outcome, ended_at)  # the account lifecycle hears of every end first
    cols = ctx.records.cols
    d = deal.draw
    pushes = 0
    ff = deal.first_forecast
    until = ctx.horizon if outcome == OPEN else closed_at
    if ff == ff and until > ff:  # ff == ff: not NaN
        pushes = math.ceil((until - ff) / ctx.push_days)
        if ctx.log is not None:
            _log_pushes(ctx, deal, pushes)
    cols["deal_id"].append(deal.id)
    cols["segment"].append(d.segment)
    cols["seller"].append(deal.seller)
    cols["group_size"].append(d.group_size)
    cols["fit"].append(d.fit)
    cols["pace"].append(d.pace)
    cols["value"].append(d.value)
    cols["created_at"].append(deal.created_at)
    cols["assigned_at"].append(deal.assigned_at)
    cols["reached_at"].append(deal.reached_at)
    cols["ended_at"].append(ended_at)
    cols["closed_at"].append(closed_at)
    cols["outcome"].append(outcome)
    cols["stage_reached"].append(deal.stage_reached)
    cols["qualified"].append(deal.qualified)
    cols["discount"].append(deal.discount)
    cols["calls"].append(deal.calls)
    cols["touches"].append(deal.touches)
    cols["wrong_activities"].append(deal.wrong_activities)
    cols["wrong_stages"].append(deal.wrong_stages)
    cols["gap_days"].append(deal.gap_days)
    cols["max_gap_days"].append(deal.max_gap)
    cols["seller_wait_days"].append(deal.seller_wait)
    cols["buyer_wait_days"].append(deal.buyer_wait)
    cols["call_hours"].append(deal.call_hours)
    cols["work_hours"].append(deal.work_hours)
    cols["first_forecast_at"].append(ff)
    cols["pushes"].append(pushes)
    cols["final_momentum"].append(deal.momentum)
    cols["account_id"].append(deal.account)
    cols["origin"].append(deal.origin)
    dark = outcome in (NO_DECISION, NO_RESPONSE)
    cause = DARK_CAUSE_BASE + dark_cause if dark else _END_CAUSE[outcome]
    cols["end_cause"].append(cause)
    interview = ctx.interview
    cols["stated_cause"].append(NOT_INTERVIEWED if interview is None else interview(outcome, cause))
    ctx.records.stage_entered.extend(deal.entered)
    del ctx.live[deal.id]


def flush_open_deals(ctx: RunContext) -> None:
    """Deals still open at the horizon are written as open (right-censored), in id order.

    A deal computes a little of its future ahead (the touches up to its next call, the day it
    will enter its next stage); what lies beyond the horizon had not happened yet and is dropped.
    """
    horizon = ctx.horizon
    for deal_id in sorted(ctx.live):
        deal = ctx.live[deal_id]
        deal.touches -= sum(1 for tt in deal.touches_ahead if tt > horizon)
        entered = deal.entered
        for i, at in enumerate(entered):
            if at > horizon:
                entered[i] = NAN
        deal.stage_reached = max((i + 1 for i, at in enumerate(entered) if at == at), default=0)
        _log_started_tasks(ctx, deal, horizon)
        record_deal(ctx, deal, OPEN, NAN, NAN)


def run_opportunity(ctx: RunContext, deal: Deal) -> Generator[Any, Any, None]:
    """The life of one record, from the suspect pool to its end: the story of a deal.

    A seller takes the suspect on (or it gives up waiting). Then, stage by stage, the seller and
    the buyer hold calls until the stage's activities are done, each call booked after a gap in
    which the buyer may go dark; then the stage is finished: the buyer qualified, its tasks and
    the seller's work handed out, and the group agrees to go on, or stalls. After the last stage
    the buying group decides.
    """
    ctx.live[deal.id] = deal
    if ctx.log is not None:
        ctx.log.add(deal.id, ctx.env.now, _EV_CREATED, 0, deal.draw.value, -1, NAN)
    seller = yield from wait_for_seller(ctx, deal)
    if seller < 0:
        return  # unworked: it gave up waiting
    sale = Sale(ctx, deal, seller)
    if not sale.reach_out():
        return  # no response: the suspect never answered
    while True:
        while sale.remaining:
            call = sale.plan_call()
            yield from sale.wait_for(call)
            if sale.ended:
                return
            sale.hold(call)
            if sale.ended:
                return
        yield from sale.finish_stage()
        if sale.ended:
            return
        if sale.at_last_stage:
            yield from sale.decide()
            return
        sale.enter_next_stage(sale.ready, sale.clock.momentum)


def wait_for_seller(ctx: RunContext, deal: Deal) -> Generator[Any, Any, int]:
    """Stage 0, the suspect pool: wait until a seller has room (the WIP cap), or give up after
    the market's patience (unworked: -1). An opportunity inside an account has its seller."""
    team = ctx.team
    env = ctx.env
    seller = team.try_assign() if deal.origin == NEW_BUSINESS else deal.seller
    if seller < 0:
        ev = team.wait()
        if ctx.patience > 0.0:
            yield ev | env.timeout(ctx.patience)
            if not ev.triggered:
                team.give_up(ev)
                if ctx.log is not None:
                    ctx.log.add(deal.id, env.now, _EV_UNWORKED, 0, 0.0, -1, NAN)
                record_deal(ctx, deal, UNWORKED, env.now, env.now)
                return -1
        else:
            yield ev
        seller = cast(int, ev.value)  # Team.release succeeds the event with a seller index
    deal.assigned_at = deal.reached_at = env.now
    deal.seller = seller
    if not ctx.qualifies_somewhere:
        deal.qualified = 1  # no stage qualifies: every opportunity counts as qualified
    if ctx.log is not None:
        ctx.log.add(deal.id, env.now, _EV_ASSIGNED, 0, 0.0, seller, ctx.m0)
    return seller


class Call:
    """The next call as planned: how many activities it covers, who comes, when, at what cost."""

    __slots__ = ("agenda", "at", "attendees", "free_at", "hours")

    def __init__(
        self, agenda: int, attendees: int, at: float, free_at: float, hours: float
    ) -> None:
        self.agenda = agenda  # activities on its agenda
        self.attendees = attendees  # members of the buying group it needs
        self.at = at  # when it is held
        self.free_at = free_at  # when a seller with a free calendar would have held it
        self.hours = hours  # seller hours, with preparation


class Sale:
    """One opportunity under way: where it stands, and each step of its story.

    The steps are ``plan_call`` (the agenda, who must come, when they can meet and when the
    seller can), ``wait_for`` (the gap, in which the buyer may go dark), ``hold`` (each activity
    done right or wrong), ``finish_stage`` (qualify, hand out the work, the group agrees) and
    ``decide``. The rules they apply are ``simsales.model.rules``; what is fixed for the run comes
    precomputed from ``RunContext`` and its ``StagePlan``s. A step that ends the deal sets
    ``ended``.
    """

    __slots__ = (
        "attention",
        "clock",
        "consensus",
        "ctx",
        "deal",
        "decision_mult",
        "ended",
        "group",
        "lag_mult",
        "last_call",
        "r",
        "ready",
        "remaining",
        "seller",
        "skill",
        "sp",
        "stage",
        "t",
        "work_end",
    )

    def __init__(self, ctx: RunContext, deal: Deal, seller: int) -> None:
        draw = deal.draw
        start = ctx.env.now
        self.ctx = ctx
        self.deal = deal
        self.seller = seller
        self.skill = ctx.skills[seller]
        self.r = DealRandom(draw.nums, draw.behaviour_seed, draw.rest, draw.row, draw.uniforms_at)
        draw.rest = None  # the deal's random source holds it now
        self.clock = ctx.buyer_clock(start, draw.budget, deal.m0, draw.loss_budget)
        self.consensus = rules.consensus(
            ctx.p_one, ctx.q_extra, draw.group_size, draw.fit, ctx.consensus_fit_weight
        )
        # a slow buyer's attention runs at its own pace (buyers.pace_on_attention): momentum
        # and competition move more slowly for it; the group's drift does not (yet)
        self.attention = draw.pace**ctx.pace_on_attention if ctx.pace_on_attention else 1.0
        settings = ctx.group
        self.group = (
            None
            if settings is None
            else BuyingGroup(
                draw.group_size,
                champion=settings.champion,
                rest=settings.rest,
                half_life=settings.half_life,
                at=start,
            )
        )
        self.lag_mult = 1.0  # grows with wrong steps that lengthen every later gap
        self.decision_mult = 1.0  # shrinks with wrong steps that make the decision less likely
        self.t = start  # when the latest thing happened: a call, or a stage's start
        self.last_call = -1.0
        self.ready = start  # the buyer's tasks and the seller's offline work are done by then
        self.work_end = start
        self.ended = False
        self.stage = deal.first_stage - 1
        self.enter_next_stage(start, self.clock.momentum)

    def reach_out(self) -> bool:
        """Speed to lead (``[market.leads]``): the seller researches the suspect and reaches out,
        on the seller's calendar; the suspect answers with a chance that fades from its arrival.
        False: it never answered (no response)."""
        ctx = self.ctx
        leads = ctx.leads
        deal = self.deal
        if leads is None or deal.origin != NEW_BUSINESS:
            return True
        reached = self.t
        if leads.first_touch_hours > 0.0:  # fitted into what is left of today, if anything
            today = float(math.floor(reached))
            reached = ctx.calendars.book_work(self.seller, today, leads.first_touch_hours)
            deal.work_hours += leads.first_touch_hours
        deal.reached_at = reached
        chance = rules.answer_chance(
            leads.answer_chance, reached - deal.created_at, leads.interest_half_life
        )
        if ctx.log is not None:
            ctx.log.add(deal.id, reached, _EV_REACHED, 1, chance, self.seller, NAN)
        if deal.draw.answer >= chance:
            self.go_dark(reached, _DARK_UNANSWERED, close_after=leads.cadence)
            return False
        # the first call is asked for once the seller has reached out: the seller's own work
        self.ready = self.work_end = reached
        return True

    @property
    def at_last_stage(self) -> bool:
        return self.stage == len(self.ctx.stages) - 1

    def enter_next_stage(self, at: float, momentum: float) -> None:
        """The deal enters its next stage at ``at`` (``momentum`` NaN: within a call)."""
        self.stage += 1
        sp = self.sp = self.ctx.stages[self.stage]
        self.remaining = sp.activities
        deal = self.deal
        deal.entered[sp.number - 1] = at
        deal.stage_reached = sp.number
        if self.ctx.log is not None:
            self.ctx.log.add(deal.id, at, _EV_STAGE, sp.number, 0.0, self.seller, momentum)
        if self.ctx.competition > 0.0:
            self._weigh_alternatives()

    def _weigh_alternatives(self) -> None:
        """Set the daily hazard that the buyer commits elsewhere, for the stage as it stands now:
        none before the opportunity opens, more for a poor fit and after wrong steps."""
        ctx = self.ctx
        deal = self.deal
        if self.stage < ctx.opens_stage and deal.origin == NEW_BUSINESS:
            self.clock.loss_rate = 0.0
            return
        self.clock.loss_rate = (
            rules.competition_rate(
                ctx.competition,
                self.sp.competition_weight,
                deal.draw.fit,
                ctx.competition_fit_weight,
                deal.wrong_stages.bit_count(),
                ctx.competition_wrong_factor,
            )
            / self.attention
        )

    # --- a call -------------------------------------------------------------------------------

    def plan_call(self) -> Call:
        """The next call: its agenda, the members it needs, the group's lag, the seller's slot."""
        ctx = self.ctx
        sp = self.sp
        draw = self.deal.draw
        agenda = rules.call_agenda(ctx.stages, self.stage, self.remaining, ctx.apc)
        present = rules.attendees(
            draw.group_size, sp.attendee_share, ctx.attendees_per_extra, agenda
        )
        lag = rules.meeting_lag(
            ctx.meeting_lag(self.r), draw.pace, present, ctx.lag_per_attendee, self.lag_mult
        )
        earliest = rules.earliest_call(self.t, self.last_call, self.ready, lag, ctx.book_within)
        hours = rules.call_hours(ctx.call_hours, ctx.call_hours_extra, ctx.prep_hours, agenda)
        at, free_at = ctx.calendars.book_call(self.seller, earliest, hours)
        return Call(agenda, present, at, free_at, hours)

    def wait_for(self, call: Call) -> Generator[Any, Any, None]:
        """The gap up to the call: momentum fades (touches slow it) and the buyer may go dark."""
        clock = self.clock
        end = clock.advance(call.at, self.sp.half_life * self.attention)
        if clock.touch_times:
            _send_touches(self.ctx, self.deal, clock, self.group)
        if end >= 0.0:
            self._ends_in_gap(end, learned_at=call.at)
            return
        yield self.ctx.env.timeout(call.at - self.ctx.env.now)
        self._book_the_wait(call)

    def _book_the_wait(self, call: Call) -> None:
        """Add the gap to the deal's waits, split into the buyer's part and the seller's."""
        deal = self.deal
        t = self.t
        busy_until = self.clock.busy_until
        gap = call.at - t
        work_part = self.work_end - (busy_until if busy_until > t else t)
        work_part = work_part if work_part > 0.0 else 0.0
        deal.gap_days += gap
        if gap > deal.max_gap:
            deal.max_gap = gap
        deal.seller_wait += call.at - call.free_at + work_part
        deal.buyer_wait += call.free_at - t - work_part
        if self.ctx.log is not None:
            _log_waits(
                deal, self.sp.number, t, busy_until, work_part, call.free_at, call.at, self.ctx.log
            )

    def hold(self, call: Call) -> None:
        """The call: each activity on its agenda is done right or wrong (and then redone); a
        stage finished inside the call is settled and the call runs on into the next one."""
        ctx = self.ctx
        deal = self.deal
        clock = self.clock
        log = ctx.log
        t = self.t = self.last_call = call.at
        deal.calls += 1
        deal.call_hours += call.hours
        if log is not None:
            call_row = len(log)
            log.add(deal.id, t, _EV_CALL, self.sp.number, call.agenda, self.seller, NAN)
        left = call.agenda
        overload = ctx.overload[call.agenda]
        restore = ctx.restore_right
        rand = self.r.random
        # the members present, and the activities they saw done right and wrong not yet counted
        present = self.group.attend(call.attendees, t) if self.group is not None else None
        seen_right = seen_wrong = 0
        while True:
            sp = self.sp
            k = left if left < self.remaining else self.remaining
            p = rules.chance_right(sp.p_right, self.skill, overload)
            wrong = 0
            for _ in range(k):
                if rand() >= p:
                    wrong += 1
            self.remaining -= k - wrong
            left -= k
            seen_right += k - wrong
            seen_wrong += wrong
            if wrong:
                restore = ctx.restore_wrong
                if self._wrong_steps(wrong, t, restore):
                    return  # the buyer's defences are up
            if self.remaining or not left or not sp.flows_on:
                break
            if not ctx.stages[self.stage + 1].activities:
                break
            # the stage is done inside this call and nothing blocks: settle it, go on
            if not self._qualifies(t):
                self.close(DISQUALIFIED, t)
                return
            _hand_out_work(ctx, deal, sp, t, self.r, deal.draw.pace, log)
            self._note_the_buyers_date()
            if present is not None:  # what they saw so far counts at this stage's gate
                self._align(present, seen_right, seen_wrong)
                seen_right = seen_wrong = 0
            if not self._agrees(rules.restored(clock.momentum, restore), t):
                clock.contact(t, restore)
                self.go_dark(t, _DARK_STALLED)
                return
            self.enter_next_stage(t, NAN)
        if present is not None:
            self._align(present, seen_right, seen_wrong)
        clock.momentum = rules.restored(clock.momentum, restore)
        clock.last_contact = t
        if log is not None:
            log.momentum[call_row] = clock.momentum  # the momentum the call left

    def _align(self, present: list[int], right: int, wrong: int) -> None:
        """The members present align with the purchase by what they saw done right and wrong
        (with the buying group as people)."""
        settings = self.ctx.group
        assert settings is not None and self.group is not None
        gain = rules.call_alignment_gain(right, wrong, settings.align_right, settings.align_wrong)
        self.group.align(present, gain)

    def _wrong_steps(self, wrong: int, t: float, restore: float) -> bool:
        """Activities done wrong in a call: rework, the stage's consequence (once), and maybe
        raised defences; True if the buyer went dark."""
        ctx = self.ctx
        deal = self.deal
        sp = self.sp
        clock = self.clock
        deal.wrong_activities += wrong
        if not deal.wrong_stages & sp.bit:  # the stage's consequence, once per stage
            deal.wrong_stages |= sp.bit
            self.lag_mult *= sp.wrong_lag_factor
            self.decision_mult *= sp.wrong_decision_factor
            if sp.wrong_discount is not None:
                cut = sp.wrong_discount(self.r)
                deal.discount = 1.0 - (1.0 - deal.discount) * (1.0 - cut)
            if ctx.competition > 0.0:
                self._weigh_alternatives()
        if ctx.log is not None:
            ctx.log.add(deal.id, t, _EV_WRONG, sp.number, wrong, self.seller, NAN)
        if sp.wrong_end_chance > 0.0 and self.r.random() < sp.wrong_end_chance:
            clock.contact(t, restore)
            clock.momentum *= sp.wrong_momentum_keep
            self.go_dark(t, _DARK_DEFENCES)
            return True
        clock.momentum *= sp.wrong_momentum_keep
        return False

    # --- the end of a stage, and the decision -----------------------------------------------------

    def finish_stage(self) -> Generator[Any, Any, None]:
        """After the stage's calls: qualify the buyer, hand out the buyer's tasks and the seller's
        work, wait while they are done (the buyer may go dark), and the group agrees to go on."""
        ctx = self.ctx
        if self.t < self.ready:  # a stage without calls starts when the one before is done
            self.t = self.ready
            yield ctx.env.timeout(self.t - ctx.env.now)
        t = self.t
        if not self._qualifies(t):
            self.close(DISQUALIFIED, t)
            return
        busy_until, self.work_end = _hand_out_work(
            ctx, self.deal, self.sp, t, self.r, self.deal.draw.pace, ctx.log
        )
        self._note_the_buyers_date()
        clock = self.clock
        clock.busy_until = busy_until
        self.ready = busy_until if busy_until > self.work_end else self.work_end
        end = clock.advance(self.ready, self.sp.half_life * self.attention)
        if clock.touch_times:
            _send_touches(ctx, self.deal, clock, self.group)
        if end >= 0.0:
            self._ends_in_gap(end, learned_at=self.ready)
            return
        if not self._agrees(clock.momentum, self.ready):
            self.go_dark(self.ready, _DARK_STALLED)  # the group stalls

    def decide(self) -> Generator[Any, Any, None]:
        """After the last stage: the group decides (or never does), then chooses a supplier."""
        ctx = self.ctx
        env = ctx.env
        deal = self.deal
        draw = deal.draw
        at = self.ready
        if at > env.now:
            yield env.timeout(at - env.now)
        n = len(ctx.stages)
        if draw.die(n) >= self.decision_mult:  # "we'll get back to you": never decides
            self.go_dark(at, _DARK_UNDECIDED)
            return
        chance = rules.win_chance(
            ctx.win_base,
            ctx.choice_fit_weight,
            draw.fit,
            self.clock.momentum,
            ctx.choice_momentum_weight,
        )
        outcome = WON if draw.die(n + 1) < chance else LOST
        if ctx.log is not None:
            ctx.log.add(deal.id, at, _EV_DECIDED, n, outcome, self.seller, self.clock.momentum)
        self.close(outcome, at)
        if outcome == WON and ctx.on_won is not None:
            ctx.on_won(deal)  # the account lifecycle takes it from here

    def _note_the_buyers_date(self) -> None:
        """The forecast close date just set is the buyer's own date for a decision: once it has
        passed undecided, urgency is gone (``forecast.stale_*``)."""
        ctx = self.ctx
        if self.sp.sets_forecast and (ctx.stale_half_life != 1.0 or ctx.stale_competition != 1.0):
            self.clock.stale_at = self.deal.first_forecast

    def _qualifies(self, t: float) -> bool:
        return _qualifies(self.ctx, self.deal, self.sp, t, self.ctx.log)

    def _agrees(self, momentum: float, t: float) -> bool:
        """The buying group agrees to go on after the stage at ``t``: no stakeholder blocks it
        (the buying group as people), or it pays the stage's share of the consensus formula."""
        sp = self.sp
        die = self.deal.draw.die(sp.number - 1)
        if self.group is not None:
            return sp.gate <= 0.0 or die < self.group.passes(t, sp.gate)
        weight = self.ctx.consensus_momentum_weight
        return rules.stage_agrees(die, self.consensus, sp.consensus_share, momentum, weight)

    # --- the end ----------------------------------------------------------------------------------

    def close(self, outcome: int, at: float) -> None:
        """The deal ends at ``at`` with ``outcome`` (decided or disqualified)."""
        self.ended = True
        _close(self.ctx, self.deal, outcome, at, at, self.clock.momentum)

    def go_dark(self, at: float, cause: int = 0, *, close_after: float | None = None) -> None:
        """The buyer goes dark at ``at``; the seller closes it some weeks later (or, for a
        suspect who never answered, when the outreach cadence ends: ``close_after`` days)."""
        self.ended = True
        _go_dark(self.ctx, self.deal, self.clock, at, cause, close_after)

    def _ends_in_gap(self, at: float, *, learned_at: float) -> None:
        """The deal ended in a gap: the buyer went dark, or (``clock.lost``) committed to
        another supplier, which the seller learns at the next contact (``learned_at``)."""
        if not self.clock.lost:
            self.go_dark(at)
            return
        self.ended = True
        ctx = self.ctx
        deal = self.deal
        momentum = self.clock.momentum
        if ctx.log is not None:  # decided for another supplier in the stage it was in
            ctx.log.add(deal.id, at, _EV_DECIDED, self.sp.number, LOST, self.seller, momentum)
        learn = ctx.env.timeout(learned_at - ctx.env.now)
        learn.callbacks.append(lambda _: _close(ctx, deal, LOST, at, learned_at, momentum))


def _log_waits(
    deal: Deal,
    stage: int,
    t: float,
    busy_until: float,
    work_part: float,
    free_at: float,
    call_at: float,
    log: Any,
) -> None:
    """Log the gap from t to the call at ``call_at`` split by cause, each part when it began.

    The buyer's tasks come first, then the seller's offline work beyond them, then the buyer's
    next free slot, then the seller's calendar; the parts sum to the deal's buyer and seller wait.
    """
    task = busy_until - t if busy_until > t else 0.0
    parts = (
        (_EV_WAIT_TASK, t, task),
        (_EV_WAIT_WORK, t + task, work_part),
        (_EV_WAIT_BUYER, t + task + work_part, free_at - t - work_part - task),
        (_EV_WAIT_SELLER, free_at, call_at - free_at),
    )
    for code, at, days in parts:
        if days > 0.0:
            log.add(deal.id, at, code, stage, days, deal.seller, NAN)


def _log_pushes(ctx: RunContext, deal: Deal, pushes: int) -> None:
    """Log each time the forecast close date passed undecided and was pushed (to its new date)."""
    assert ctx.log is not None
    ff = deal.first_forecast
    step = ctx.push_days
    for j in range(pushes):
        at = ff + j * step
        stage = max((n + 1 for n, e in enumerate(deal.entered) if e <= at), default=0)
        ctx.log.add(deal.id, at, _EV_PUSHED, stage, at + step, deal.seller, NAN)


def _send_touches(
    ctx: RunContext, deal: Deal, clock: BuyerClock, group: BuyingGroup | None = None
) -> None:
    """Book the touches the clock sent: seller time on their days, the deal's count, and (with
    the buying group as people) the nudge each gives every stakeholder."""
    times = clock.touch_times
    if group is not None:
        assert ctx.group is not None
        for tt in times:
            group.touch(tt, ctx.group.touch_align)
    deal.touches += len(times)
    # sent ahead of the clock (up to the next call): may lie beyond the horizon
    now = ctx.env.now
    deal.touches_ahead = [tt for tt in deal.touches_ahead if tt > now] + times
    hours = ctx.touch_hours
    deal.work_hours += hours * len(times)
    for tt in times:
        ctx.calendars.add_hours(deal.seller, tt, hours)
        if ctx.log is not None:
            ctx.log.add(deal.id, tt, _EV_TOUCH, 0, 0.0, deal.seller, NAN)
    times.clear()


def _qualifies(ctx: RunContext, deal: Deal, sp: StagePlan, t: float, log: Any) -> bool:
    """A qualifying stage reads the buyer's fit (with an error) and may disqualify it."""
    if not sp.qualifies:
        return True
    draw = deal.draw
    sd = sp.read_sd_wrong if deal.wrong_stages & sp.bit else sp.read_sd_right
    ok = draw.fit + draw.read_error * sd >= ctx.strictness
    if ok:
        deal.qualified = 1
    if log is not None:
        code = _EV_QUALIFIED if ok else _EV_DISQUALIFIED
        log.add(deal.id, t, code, sp.number, draw.fit, deal.seller, NAN)
    return ok


def _hand_out_work(
    ctx: RunContext,
    deal: Deal,
    sp: StagePlan,
    t: float,
    r: DealRandom,
    pace: float,
    log: Any,
) -> tuple[float, float]:
    """After a stage's calls: set the forecast, start the buyer's tasks and the seller's work.

    Returns when the buyer's tasks and when the seller's offline work will be done.
    """
    if sp.sets_forecast:
        deal.first_forecast = t + deal.draw.forecast_days
        if log is not None:
            log.add(deal.id, t, _EV_FORECAST, sp.number, deal.first_forecast, deal.seller, NAN)
    busy_until = t
    policies = ctx.scenario.policies
    helped = policies.buyer_enablement  # the seller helps: each task takes this share less time
    for task in sp.buyer_tasks:
        days = task(r) * pace  # drawn as without help, so variants keep common random numbers
        if helped > 0.0:
            days *= 1.0 - helped
        if log is not None:  # logged when the deal ends, if the task had started by then
            if not deal.planned_tasks:
                deal.planned_tasks = []
            deal.planned_tasks.append((busy_until, sp.number, days))
        busy_until += days
    work_end = t
    hours = sp.seller_work_hours
    if helped > 0.0:  # the help is the seller's offline work, booked with the stage's own
        hours += policies.enablement_hours_per_task * len(sp.buyer_tasks)
    if hours > 0.0:
        work_end = ctx.calendars.book_work(deal.seller, t, hours)
        deal.work_hours += hours
        if log is not None:
            log.add(deal.id, t, _EV_WORK, sp.number, hours, deal.seller, NAN)
    return busy_until, work_end


def _log_started_tasks(ctx: RunContext, deal: Deal, until: float) -> None:
    """Log the buyer tasks that had started by ``until``; a task planned after the end never ran."""
    if ctx.log is not None:
        for start, stage, days in deal.planned_tasks:
            if start <= until:
                ctx.log.add(deal.id, start, _EV_TASK, stage, days, deal.seller, NAN)
        deal.planned_tasks = ()


def _close(
    ctx: RunContext,
    deal: Deal,
    outcome: int,
    ended_at: float,
    closed_at: float,
    momentum: float,
    dark_cause: int = 0,
) -> None:
    deal.momentum = momentum
    _log_started_tasks(ctx, deal, ended_at)
    if ctx.log is not None:
        ctx.log.add(deal.id, closed_at, _EV_CLOSED, deal.stage_reached, outcome, deal.seller, NAN)
    record_deal(ctx, deal, outcome, ended_at, closed_at, dark_cause)
    if deal.origin == NEW_BUSINESS:  # an account's own opportunities hold no WIP place
        ctx.team.release(deal.seller)


def _go_dark(
    ctx: RunContext,
    deal: Deal,
    clock: BuyerClock,
    dark: float,
    cause: int = 0,
    close_after: float | None = None,
) -> None:
    """The deal went dark at ``dark``; the seller closes it some weeks later: as no decision if
    the CRM had opened an opportunity (``crm.opens_at``), else as no response (prospecting).

    ``cause`` indexes ``DARK_CAUSES`` (0: momentum faded in a gap); the event log and the deal
    table's ``end_cause`` keep it. An opportunity inside an account is one from its start.
    The deal's process ends here: the close-out is a timeout with a callback, so a dead deal
    waiting to be closed in the CRM holds its row and its seller's WIP place, not a whole process.
    """
    env = ctx.env
    momentum = clock.momentum
    deal.momentum = momentum
    _log_started_tasks(ctx, deal, dark)
    if ctx.log is not None:
        ctx.log.add(deal.id, dark, _EV_DARK, deal.stage_reached, cause, deal.seller, momentum)
    opened = deal.stage_reached > ctx.opens_stage or deal.origin != NEW_BUSINESS
    outcome = NO_DECISION if opened else NO_RESPONSE
    close_out_delay = deal.draw.close_out_delay
    closed_at = dark + (close_out_delay if close_after is None else close_after)
    close_out = env.timeout(closed_at - env.now)
    close_out.callbacks.append(
        lambda _: _close(ctx, deal, outcome, dark, closed_at, momentum, cause)
    )
