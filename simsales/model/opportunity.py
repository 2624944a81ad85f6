"""One opportunity, buyer and seller together, from the suspect pool to its end (a SimPy process).

The deal waits in the suspect pool for a seller with room (the WIP cap), then moves through the
stages. Each stage's joint activities are covered in calls of up to ``activities_per_call``, and a
call's agenda runs on into the next stage when nothing (a buyer task, seller work) blocks it;
between two calls lies a gap — the buyer's own tasks, the buyer's next free slot (slower for a
larger part of the buying group) and the seller's calendar — during which momentum decays and the
deal may go dark. Each activity in a call is done right or wrong; a wrong one is redone (rework) and
costs the stage's consequence. After its calls a stage may qualify the buyer, set the forecast, and
hand the buyer its tasks and the seller its offline work; once those are done, the buying group pays
the stage's share of the consensus penalty. After the last stage the group decides, then chooses a
supplier. Every deal ends exactly once.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any, cast

from simsales.model.context import RunContext, StagePlan
from simsales.model.dealrandom import DealRandom
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

_DARK_STALLED = DARK_CAUSES.index("stalled")
_DARK_DEFENCES = DARK_CAUSES.index("defences")
_DARK_UNDECIDED = DARK_CAUSES.index("undecided")
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
    """The life of one opportunity; see the module docstring for the flow."""
    env = ctx.env
    log = ctx.log
    team = ctx.team
    draw = deal.draw
    ctx.live[deal.id] = deal
    if log is not None:
        log.add(deal.id, env.now, _EV_CREATED, 0, draw.value, -1, NAN)

    # Stage 0: the suspect pool, until a seller has room.
    seller = team.try_assign() if deal.origin == NEW_BUSINESS else deal.seller
    if seller < 0:
        ev = team.wait()
        if ctx.patience > 0.0:
            yield ev | env.timeout(ctx.patience)
            if not ev.triggered:
                team.give_up(ev)
                if log is not None:
                    log.add(deal.id, env.now, _EV_UNWORKED, 0, 0.0, -1, NAN)
                record_deal(ctx, deal, UNWORKED, env.now, env.now)
                return
        else:
            yield ev
        seller = cast(int, ev.value)  # Team.release succeeds the event with a seller index
    start = env.now
    deal.assigned_at = start
    deal.seller = seller
    if not ctx.qualifies_somewhere:
        deal.qualified = 1  # no stage qualifies: every opportunity counts as qualified
    if log is not None:
        log.add(deal.id, start, _EV_ASSIGNED, 0, 0.0, seller, ctx.m0)

    r = DealRandom(draw.nums, draw.behaviour_seed, draw.rest, draw.row, draw.uniforms_at)
    draw.rest = None  # the deal's random source holds it now
    clock = ctx.buyer_clock(start, draw.budget, deal.m0)
    cal = ctx.calendars
    stages = ctx.stages
    last_stage = len(stages) - 1
    pace = draw.pace
    group = draw.group_size
    skill = ctx.skills[seller]
    overload = ctx.overload
    apc = ctx.apc
    book_within = ctx.book_within
    # per-run constants, loaded once per deal rather than once per call
    meeting_lag = ctx.meeting_lag
    lag_per_attendee = ctx.lag_per_attendee
    attendees_per_extra = ctx.attendees_per_extra
    call_hours = ctx.call_hours
    call_hours_extra = ctx.call_hours_extra
    prep_hours = ctx.prep_hours
    restore_right = ctx.restore_right
    restore_wrong = ctx.restore_wrong
    book_call = cal.book_call
    advance = clock.advance
    touch_times = clock.touch_times  # never rebound: _send_touches clears it in place
    rand = r.random

    fit_factor = 1.0 + ctx.consensus_fit_weight * (2.0 * draw.fit - 1.0)
    consensus = min(1.0, max(0.0, ctx.p_one * ctx.q_extra ** (group - 1) * fit_factor))
    lag_mult = 1.0  # grows with wrong steps that lengthen every later gap
    decision_mult = 1.0  # shrinks with wrong steps that make the final decision less likely

    t = start  # when the latest thing happened: a call, or the start of a stage without calls
    last_call = -1.0
    ready = start  # the buyer's tasks and the seller's offline work are done by then
    work_end = start
    i = deal.first_stage
    sp: StagePlan = stages[i]
    remaining = sp.activities
    _enter(deal, sp, start, log, seller, clock.momentum)

    while True:
        if remaining == 0:
            # Stage i has had all its calls (or has none): qualify, set the forecast, hand out
            # the buyer's tasks and the seller's work; once they are done the group either
            # agrees to go on (consensus) or stalls.
            if t < ready:  # a stage without calls starts when the previous one's work is done
                t = ready
                yield env.timeout(t - env.now)
            if not _qualifies(ctx, deal, sp, t, log):
                _close(ctx, deal, DISQUALIFIED, t, t, clock.momentum)
                return
            busy_until, work_end = _hand_out_work(ctx, deal, sp, t, r, pace, log)
            clock.busy_until = busy_until
            ready = busy_until if busy_until > work_end else work_end
            dark = advance(ready, sp.half_life)
            if touch_times:
                _send_touches(ctx, deal, clock)
            if dark >= 0.0:
                _go_dark(ctx, deal, clock, dark)
                return
            if not _consensus_holds(ctx, draw, sp, consensus, clock.momentum):
                _go_dark(ctx, deal, clock, ready, _DARK_STALLED)  # the group stalls
                return
            if i == last_stage:
                yield from _decide(ctx, deal, clock, ready, decision_mult)
                return
            i += 1
            sp = stages[i]
            remaining = sp.activities
            _enter(deal, sp, ready, log, seller, clock.momentum)
            continue

        # The next call: its agenda runs on into the next stages while nothing blocks it.
        agenda = remaining
        j = i
        while agenda < apc and j < last_stage and stages[j].flows_on and stages[j + 1].activities:
            j += 1
            agenda += stages[j].activities
        if agenda > apc:
            agenda = apc
        share = sp.attendee_share + attendees_per_extra * (agenda - 1)
        if share < 1.0:  # max(1, min(group, round(group * share))), without the calls
            attendees = round(group * share)
            if attendees > group:
                attendees = group
            if attendees < 1:
                attendees = 1
        else:
            attendees = group
        lag = meeting_lag(r) * pace * (1.0 + lag_per_attendee * (attendees - 1))
        lag *= lag_mult
        if book_within > 0.0 and t == last_call:
            earliest = t + (lag if lag < book_within else book_within)
            if not earliest > ready:  # max(ready, earliest), without the call
                earliest = ready
        else:
            earliest = (ready if ready > t else t) + lag
        hours = call_hours + call_hours_extra * (agenda - 1) + prep_hours
        call_at, free_at = book_call(seller, earliest, hours)
        dark = advance(call_at, sp.half_life)
        if touch_times:
            _send_touches(ctx, deal, clock)
        if dark >= 0.0:
            _go_dark(ctx, deal, clock, dark)
            return
        yield env.timeout(call_at - env.now)
        # the gap, split into what we waited for: the buyer, or the seller
        gap = call_at - t
        work_part = work_end - (clock.busy_until if clock.busy_until > t else t)
        work_part = work_part if work_part > 0.0 else 0.0
        deal.gap_days += gap
        if gap > deal.max_gap:
            deal.max_gap = gap
        deal.seller_wait += call_at - free_at + work_part
        deal.buyer_wait += free_at - t - work_part
        if log is not None:
            _log_waits(deal, sp.number, t, clock.busy_until, work_part, free_at, call_at, log)
        t = last_call = call_at
        deal.calls += 1
        deal.call_hours += hours
        if log is not None:
            call_row = len(log)
            log.add(deal.id, t, _EV_CALL, sp.number, agenda, seller, NAN)

        # the call: each activity on the agenda is done right or wrong (and then redone)
        left = agenda
        load = overload[agenda]
        restore = restore_right
        while True:
            k = left if left < remaining else remaining
            p = sp.p_right * skill
            p = (1.0 if p > 1.0 else p) * load
            wrong = 0
            for _ in range(k):
                if rand() >= p:
                    wrong += 1
            remaining -= k - wrong
            left -= k
            if wrong:
                restore = restore_wrong
                deal.wrong_activities += wrong
                if not deal.wrong_stages & sp.bit:  # the stage's consequence, once per stage
                    deal.wrong_stages |= sp.bit
                    lag_mult *= sp.wrong_lag_factor
                    decision_mult *= sp.wrong_decision_factor
                    if sp.wrong_discount is not None:
                        cut = sp.wrong_discount(r)
                        deal.discount = 1.0 - (1.0 - deal.discount) * (1.0 - cut)
                if log is not None:
                    log.add(deal.id, t, _EV_WRONG, sp.number, wrong, seller, NAN)
                if sp.wrong_end_chance > 0.0 and rand() < sp.wrong_end_chance:
                    clock.contact(t, restore)
                    clock.momentum *= sp.wrong_momentum_keep
                    _go_dark(ctx, deal, clock, t, _DARK_DEFENCES)  # raised defences
                    return
                clock.momentum *= sp.wrong_momentum_keep
            if remaining or not left or not sp.flows_on or not stages[i + 1].activities:
                break
            # stage i is done inside this call and nothing blocks: settle it, go on to the next
            if not _qualifies(ctx, deal, sp, t, log):
                _close(ctx, deal, DISQUALIFIED, t, t, clock.momentum)
                return
            _hand_out_work(ctx, deal, sp, t, r, pace, log)
            momentum_now = clock.momentum + (1.0 - clock.momentum) * restore
            if not _consensus_holds(ctx, draw, sp, consensus, momentum_now):
                clock.contact(t, restore)
                _go_dark(ctx, deal, clock, t, _DARK_STALLED)
                return
            i += 1
            sp = stages[i]
            remaining = sp.activities
            _enter(deal, sp, t, log, seller, NAN)
        m = clock.momentum  # clock.contact(t, restore), inlined on this once-a-call path
        clock.momentum = m + (1.0 - m) * restore
        clock.last_contact = t
        if log is not None:
            log.momentum[call_row] = clock.momentum  # the momentum the call left


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


def _send_touches(ctx: RunContext, deal: Deal, clock: BuyerClock) -> None:
    """Book the touches the clock sent: seller time on their days, and the deal's count."""
    times = clock.touch_times
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


def _consensus_holds(
    ctx: RunContext, draw: DealDraw, sp: StagePlan, consensus: float, momentum: float
) -> bool:
    """The buying group pays this stage's share of the consensus penalty.

    An engaged group (momentum 1) passes with P(n) ** share, so the stages together reproduce the
    purchase likelihood P(n) of the cited research; a group whose interest has faded agrees less
    readily: the exponent grows by ``momentum_weight * (1 - momentum)``.
    """
    if sp.consensus_share <= 0.0:
        return True
    exponent = sp.consensus_share * (1.0 + ctx.consensus_momentum_weight * (1.0 - momentum))
    return draw.die(sp.number - 1) < consensus**exponent


def _decide(
    ctx: RunContext, deal: Deal, clock: BuyerClock, at: float, decision_mult: float
) -> Generator[Any, Any, None]:
    """After the last stage: the group decides (or never does), then chooses a supplier."""
    env = ctx.env
    draw = deal.draw
    if at > env.now:
        yield env.timeout(at - env.now)
    n = len(ctx.stages)
    if draw.die(n) >= decision_mult:  # "we'll get back to you": the group never decides
        _go_dark(ctx, deal, clock, at, _DARK_UNDECIDED)
        return
    choice = ctx.win_base * (1.0 + ctx.choice_fit_weight * (2.0 * draw.fit - 1.0))
    outcome = WON if draw.die(n + 1) < choice else LOST
    if ctx.log is not None:
        ctx.log.add(deal.id, at, _EV_DECIDED, n, outcome, deal.seller, clock.momentum)
    _close(ctx, deal, outcome, at, at, clock.momentum)
    if outcome == WON and ctx.on_won is not None:
        ctx.on_won(deal)  # the account lifecycle takes it from here


def _enter(deal: Deal, sp: StagePlan, at: float, log: Any, seller: int, momentum: float) -> None:
    deal.entered[sp.number - 1] = at
    deal.stage_reached = sp.number
    if log is not None:
        log.add(deal.id, at, _EV_STAGE, sp.number, 0.0, seller, momentum)


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


def _go_dark(ctx: RunContext, deal: Deal, clock: BuyerClock, dark: float, cause: int = 0) -> None:
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
    closed_at = dark + deal.draw.close_out_delay
    close_out = env.timeout(closed_at - env.now)
    close_out.callbacks.append(
        lambda _: _close(ctx, deal, outcome, dark, closed_at, momentum, cause)
    )
