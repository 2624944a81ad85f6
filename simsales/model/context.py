"""What every opportunity process of a run shares: the scenario turned into fast plain values.

The scenario is validated, immutable data with nested models; the hot loop should not walk it.
``StagePlan`` and ``RunContext`` hold the same facts as floats, ints and tuples, computed once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import simpy

from simsales.model.calendar import BEYOND_HORIZON_DAYS, SellerCalendars
from simsales.model.momentum import BuyerClock
from simsales.model.records import DealRecords, EventLog
from simsales.model.team import Team
from simsales.scenario.distributions import Constant, Sampler
from simsales.scenario.schema import Group, Scenario, Stage


@dataclass(frozen=True, slots=True)
class StagePlan:
    """One stage, flattened for the hot loop."""

    number: int  # 1-based
    activities: int
    p_right: float
    seller_work_hours: float
    buyer_tasks: tuple[Sampler, ...]  # days, before the deal's pace
    attendee_share: float
    half_life: float  # days
    consensus_share: float
    qualifies: bool
    read_sd_right: float
    read_sd_wrong: float
    sets_forecast: bool
    flows_on: bool  # no buyer task or seller work after it: a call's agenda may run on
    wrong_momentum_keep: float  # 1 - momentum_loss
    wrong_end_chance: float
    wrong_lag_factor: float
    wrong_decision_factor: float
    wrong_discount: Sampler | None  # None when there is no discount
    bit: int
    competition_weight: float  # factor on the competition hazard while in this stage
    gate: float  # with [buyers.group]: each member blocks at the end with gate × (1 - alignment)

    @classmethod
    def from_stage(cls, index: int, stage: Stage, base_half_life: float) -> StagePlan:
        q = stage.qualification
        w = stage.wrong
        no_discount = isinstance(w.discount, Constant) and w.discount.value == 0.0
        return cls(
            number=index + 1,
            activities=stage.activities,
            p_right=stage.p_right,
            seller_work_hours=stage.seller_work_hours,
            buyer_tasks=tuple(t.duration.sampler() for t in stage.buyer_tasks),
            attendee_share=stage.attendee_share,
            half_life=base_half_life * stage.half_life_factor,
            consensus_share=stage.consensus_share,
            qualifies=q is not None,
            read_sd_right=q.read_error_sd_right if q else 0.0,
            read_sd_wrong=q.read_error_sd_wrong if q else 0.0,
            sets_forecast=stage.sets_forecast,
            flows_on=stage.flows_on,
            wrong_momentum_keep=1.0 - w.momentum_loss,
            wrong_end_chance=w.end_chance,
            wrong_lag_factor=w.lag_factor,
            wrong_decision_factor=w.decision_factor,
            wrong_discount=None if no_discount else w.discount.sampler(),
            bit=1 << index,
            competition_weight=stage.competition_weight,
            gate=stage.gate,
        )


@dataclass(frozen=True, slots=True)
class GroupSettings:
    """``[buyers.group]``, flattened: how stakeholders are aligned, drift and are nudged."""

    champion: float
    rest: float
    half_life: float
    align_right: float
    align_wrong: float
    touch_align: float

    @classmethod
    def of(cls, group: Group) -> GroupSettings:
        return cls(
            champion=group.champion_alignment,
            rest=group.initial_alignment,
            half_life=group.drift_half_life_days,
            align_right=group.align_right,
            align_wrong=group.align_wrong,
            touch_align=group.touch_align,
        )


@dataclass(frozen=True, slots=True)
class LeadSettings:
    """``[market.leads]``, flattened: the seller's first reach-out and the suspect's interest."""

    first_touch_hours: float
    interest_half_life: float
    answer_chance: float
    cadence: float | None  # days of outreach to a silent suspect; None: the CRM close-out


@dataclass(slots=True)
class RunContext:
    """Shared state of one replication: environment, team, calendars, sinks, parameters."""

    env: simpy.Environment
    scenario: Scenario
    team: Team
    calendars: SellerCalendars
    records: DealRecords
    log: EventLog | None
    stages: tuple[StagePlan, ...]
    skills: list[float]
    horizon: float
    # flattened parameters
    apc: int
    touch_every: float
    book_within: float
    strictness: float
    call_hours: float
    call_hours_extra: float
    prep_hours: float
    touch_hours: float
    meeting_lag: Sampler
    lag_per_attendee: float
    attendees_per_extra: float
    overload: tuple[float, ...]  # factor on p_right by activities in the call (index = k)
    m0: float
    busy_factor: float
    restore_right: float
    restore_wrong: float
    touch_boost: float
    lam: float
    base_hazard: float
    k: int
    p_one: float
    q_extra: float
    consensus_fit_weight: float
    consensus_momentum_weight: float
    win_base: float
    choice_fit_weight: float
    choice_momentum_weight: float
    competition: float  # per day, at average fit, no wrong step (0: lost only at the decision)
    competition_fit_weight: float
    competition_wrong_factor: float
    stale_half_life: float  # factor on the half-life after the buyer's own date has passed
    stale_competition: float  # factor on the competition hazard after it
    #: [buyers.group]: the buying group as people (None: the consensus formula)
    group: GroupSettings | None
    pace_on_attention: float  # exponent of pace on the half-life and competition
    #: [market.leads]: speed to lead (None: every suspect taken on is reached at once)
    leads: LeadSettings | None
    push_days: float
    patience: float
    qualifies_somewhere: bool
    #: 0-based index of the stage whose entry opens an opportunity in the CRM (``crm.opens_at``)
    opens_stage: int
    live: dict[int, Any] = field(default_factory=dict)
    on_won: Callable[[Any], None] | None = None
    #: Called with (deal, outcome, ended_at) as each deal ends, before its row is written: the
    #: account lifecycle (``accounts``) creates accounts and books expansions there.
    on_end: Callable[[Any, int, float], None] | None = None
    #: With ``[win_loss]``: (outcome, end cause) -> what the interview heard (``STATED_CAUSES``).
    interview: Callable[[int, int], int] | None = None

    def buyer_clock(
        self,
        start: float,
        budget: float,
        momentum: float | None = None,
        loss_budget: float = math.inf,
    ) -> BuyerClock:
        """A new buyer's momentum and hazard clock (going dark, competition), with this run's
        parameters.

        ``momentum`` overrides the scenario's initial momentum (a warm account's opportunity).
        """
        return BuyerClock(
            start,
            self.m0 if momentum is None else momentum,
            budget,
            busy_factor=self.busy_factor,
            touch_every=self.touch_every,
            touch_boost=self.touch_boost,
            lam=self.lam,
            k=self.k,
            base=self.base_hazard,
            loss_budget=loss_budget,
            stale_half_life=self.stale_half_life,
            stale_loss=self.stale_competition,
            until=self.calendars.last_day,
        )

    @classmethod
    def build(
        cls,
        env: simpy.Environment,
        scenario: Scenario,
        *,
        skills: list[float],
        event_log: bool,
    ) -> RunContext:
        b = scenario.buyers
        t = scenario.team
        p = scenario.policies
        mo = b.momentum
        horizon = scenario.run.horizon_days
        max_k = max([p.activities_per_call, *(s.activities for s in scenario.stages)]) + 1
        comfort = b.comfortable_activities_per_call
        overload = tuple(b.overload_factor ** max(0, k - comfort) for k in range(max_k + 1))
        return cls(
            env=env,
            scenario=scenario,
            team=Team(
                env,
                sellers=t.sellers,
                wip_cap=p.wip_cap,
                rule=t.assignment,
                newest_first=p.pool_order == "newest_first",
            ),
            calendars=SellerCalendars(
                sellers=t.sellers,
                slots_per_day=t.meeting_slots_per_day,
                hours_per_day=t.selling_hours_per_day,
                workdays_per_week=t.workdays_per_week,
                days=min(math.ceil(horizon), 120),
                count_window=(scenario.run.warmup_days, horizon),
                last_day=math.ceil(horizon) + BEYOND_HORIZON_DAYS,
            ),
            records=DealRecords(n_stages=len(scenario.stages)),
            log=EventLog() if event_log else None,
            stages=tuple(
                StagePlan.from_stage(i, s, mo.half_life_days) for i, s in enumerate(scenario.stages)
            ),
            skills=skills,
            horizon=horizon,
            apc=p.activities_per_call,
            touch_every=p.touch_every_days,
            book_within=p.book_next_within_days,
            strictness=p.qualification_strictness,
            call_hours=t.call_hours,
            call_hours_extra=t.call_hours_per_extra_activity,
            prep_hours=t.prep_hours,
            touch_hours=t.touch_hours,
            meeting_lag=b.meeting_lag_days.sampler(),
            lag_per_attendee=b.lag_per_extra_attendee,
            attendees_per_extra=b.attendees_per_extra_activity,
            overload=overload,
            m0=mo.initial,
            busy_factor=mo.busy_half_life_factor,
            restore_right=mo.call_restore_right,
            restore_wrong=mo.call_restore_wrong,
            touch_boost=mo.touch_boost,
            lam=b.no_decision.max_hazard_per_day,
            base_hazard=b.no_decision.background_hazard_per_day,
            k=b.no_decision.shape,
            p_one=b.consensus.p_one,
            q_extra=b.consensus.q_per_extra,
            consensus_fit_weight=b.consensus.fit_weight,
            consensus_momentum_weight=b.consensus.momentum_weight,
            win_base=b.choice.win_base,
            choice_fit_weight=b.choice.fit_weight,
            choice_momentum_weight=b.choice.momentum_weight,
            competition=b.competition.hazard_per_day,
            competition_fit_weight=b.competition.fit_weight,
            competition_wrong_factor=b.competition.wrong_step_factor,
            stale_half_life=scenario.forecast.stale_half_life_factor,
            stale_competition=scenario.forecast.stale_competition_factor,
            group=GroupSettings.of(b.group) if b.group is not None else None,
            leads=_lead_settings(scenario),
            pace_on_attention=b.pace_on_attention,
            push_days=scenario.forecast.push_days,
            patience=scenario.market.patience_days,
            qualifies_somewhere=any(s.qualification is not None for s in scenario.stages),
            opens_stage=scenario.opens_at_index,
        )


def _lead_settings(scenario: Scenario) -> LeadSettings | None:
    leads = scenario.market.leads
    if leads is None:
        return None
    return LeadSettings(
        first_touch_hours=leads.first_touch_hours,
        interest_half_life=leads.interest_half_life_days,
        answer_chance=leads.answer_chance,
        cadence=leads.cadence_days,
    )
