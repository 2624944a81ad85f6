"""The scenario: everything the model needs to know about a market, a team and a sales process.

Pure, frozen, validated data. Every key has a description (it becomes the JSON Schema that
``simsales schema`` prints) and, where a sensible one exists, a default. Units: time in days,
seller effort in hours, money in the scenario's one currency, shares and probabilities in [0, 1].
"""

from __future__ import annotations

import calendar
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from simsales.scenario.accounts_schema import Accounts
from simsales.scenario.distributions import Constant, LogNormal
from simsales.scenario.quantities import Count, Duration, Factor, Money, Share
from simsales.scenario.text import PlainText

#: Bounds on values that can only be mistakes: a real scenario never comes near them, and past
#: them a run would not end, or not fit in memory (see each field's description).
MAX_HORIZON_DAYS = 36_525.0  # 100 years
MAX_SUSPECTS_PER_DAY = 10_000.0  # 3.65 million suspects a year
MAX_RATE_FACTOR = 100.0  # a month's, or the quarter end's, multiplier of the arrival rate
MAX_SEGMENTS = 100
MIN_TOUCH_EVERY_DAYS = 1.0
MIN_PUSH_DAYS = 1.0
MIN_HALF_LIFE_DAYS = 0.01  # a quarter of an hour
MAX_HALF_LIFE_DAYS = 1_000_000.0
MAX_HALF_LIFE_FACTOR = 100.0
MAX_MEETING_SLOTS_PER_DAY = 100
MIN_CALL_HOURS = 0.05  # three minutes
MIN_SELLING_HOURS_PER_DAY = 0.25
MAX_WORK_HOURS = 2_000.0  # a person-year of offline work for one stage or one buyer task
MAX_LAG_FACTOR = 100.0


class _Frozen(BaseModel):
    # strict: TOML values are typed, so `sellers = true` or `p_right = "0.8"` is a mistake to
    # report, not to coerce; no infinities (a run with an infinite horizon never ends).
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


class RunSettings(_Frozen):
    """How long to simulate and how often."""

    horizon_days: float = Field(
        730.0,
        gt=0,
        le=MAX_HORIZON_DAYS,
        description="Simulated time, in days; at most 36,525 (100 years): the deal table keeps "
        "days to a few minutes only up to there, and no sales question needs longer.",
    )
    warmup_days: float = Field(
        180.0,
        ge=0,
        description="Deals created before this day are simulated but not counted in the metrics.",
    )
    cohort_margin_days: float = Field(
        0.0,
        ge=0,
        description="Deals created in the last this-many days before the horizon are simulated "
        "but not counted in the per-deal metrics: they have had little time to end, and counting "
        "them would favour whichever variant ends deals faster.",
    )
    replications: int = Field(10, ge=1, description="Independent runs; metrics get 95% CIs.")
    seed: int = Field(12345, ge=0, description="Root seed: same seed, same results.")

    @model_validator(mode="after")
    def _warmup_inside(self) -> RunSettings:
        if self.warmup_days + self.cohort_margin_days >= self.horizon_days:
            raise ValueError(
                f"warmup_days ({self.warmup_days:g}) plus cohort_margin_days "
                f"({self.cohort_margin_days:g}) must be shorter than horizon_days "
                f"({self.horizon_days:g}): no deal would be counted"
            )
        return self


class Segment(_Frozen):
    """A kind of buyer: its share of arriving suspects, its fit to the ideal customer, its value."""

    name: PlainText = Field(
        min_length=1,
        description="Name of the segment, as written in the segment column of deals.csv.",
    )
    share: float = Field(gt=0, description="Relative share of arriving suspects.")
    fit: Share = Field(description="Fit to the ideal customer profile, 0 (none) to 1 (perfect).")
    deal_value: Money = Field(description="List value of a deal, in currency units.")


class ArrivalSchedule(_Frozen):
    """How the arrival rate of suspects moves over the year."""

    by_month: list[float] = Field(
        default_factory=lambda: [1.0] * 12,
        min_length=12,
        max_length=12,
        description="Twelve multipliers of the base rate, January first (a year is 365 days); "
        "each from 0 to 100 (a month a hundred times busier than the base is a mistake in the "
        "base rate).",
    )
    quarter_end_push: float = Field(
        1.0,
        ge=0,
        le=MAX_RATE_FACTOR,
        description="Multiplier of the rate in the last days of each quarter (at most 100).",
    )
    quarter_end_days: float = Field(
        14.0, ge=0, le=91.25, description="How many days before each quarter end the push lasts."
    )

    @field_validator("by_month")
    @classmethod
    def _months(cls, factors: list[float]) -> list[float]:
        bad = [
            f"{calendar.month_name[i % 12 + 1]}'s multiplier (by_month[{i}]) "
            + ("must not be negative" if f < 0 else f"is above {MAX_RATE_FACTOR:g}")
            + f" (got {f:g})"
            for i, f in enumerate(factors)
            if not 0 <= f <= MAX_RATE_FACTOR
        ]
        if bad:
            raise ValueError("; ".join(bad))
        return factors

    @model_validator(mode="after")
    def _factors(self) -> ArrivalSchedule:
        if max(self.by_month) * max(self.quarter_end_push, 1.0) <= 0:
            raise ValueError("the arrival rate is zero all year")
        return self


class Leads(_Frozen):
    """Speed to lead: a suspect's interest fades from the moment it arrives.

    A seller who takes a suspect on reaches out first (research, a first email or call: hours
    booked on the seller's calendar, so a busy seller reaches out later). The suspect answers
    with a chance that halves with every ``interest_half_life_days`` between its arrival and the
    seller reaching out; one who does not answer ends as no response. The response time is the
    wait for a seller and the seller's own delay together.
    """

    first_touch_hours: float = Field(
        0.5,
        ge=0,
        le=8,
        description="Seller hours to research a new suspect and reach out, booked on the "
        "seller's calendar (0: the seller reaches out at once).",
    )
    interest_half_life_days: float = Field(
        1.0,
        ge=0.01,
        le=365,
        description="A suspect's interest halves with every this many days between its arrival "
        "and the seller reaching out.",
    )
    answer_chance: float = Field(
        0.9,
        ge=0,
        le=1,
        description="Chance a suspect reached at the moment it arrives answers.",
    )
    cadence_days: float | None = Field(
        None,
        ge=0,
        le=365,
        description="Days a seller keeps reaching out to a suspect who has not answered (the "
        "outreach cadence) before closing it as no response, holding its WIP place until then; "
        "unset: the CRM's close-out delay, as for any record that went dark.",
    )


class Market(_Frozen):
    """Stage 0: the pool of suspects that arrive and wait for a seller."""

    suspects_per_day: float = Field(
        gt=0,
        le=MAX_SUSPECTS_PER_DAY,
        description="Base arrival rate of suspects per day; at most 10,000 (3.65 million a "
        "year, more than any B2B team works).",
    )
    schedule: ArrivalSchedule = Field(default_factory=ArrivalSchedule)
    segments: list[Segment] = Field(min_length=1, max_length=MAX_SEGMENTS)
    patience_days: float = Field(
        0.0,
        ge=0,
        description="A suspect not taken by a seller within this many days goes elsewhere "
        "(0 = waits for ever).",
    )
    leads: Leads | None = Field(
        None,
        description="Speed to lead: the seller's first reach-out and the suspect's fading "
        "interest; absent: every suspect a seller takes on is reached at once and engages.",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> Market:
        names = [s.name for s in self.segments]
        if len(set(names)) != len(names):
            raise ValueError(f"segment names must be unique, got {names}")
        return self


class Momentum(_Frozen):
    """The buyer's momentum m in [0, 1]: the priority of this purchase among everything else."""

    initial: float = Field(0.5, ge=0, le=1, description="Momentum of a suspect before any call.")
    half_life_days: float = Field(
        14.0,
        ge=MIN_HALF_LIFE_DAYS,
        le=MAX_HALF_LIFE_DAYS,
        description="Without contact, momentum halves in this many days (0.01 to 1,000,000; "
        "for momentum that never fades, set buyers.no_decision's hazards to 0).",
    )
    busy_half_life_factor: float = Field(
        2.0,
        ge=1,
        le=MAX_HALF_LIFE_FACTOR,
        description="While the buyer works on its own task, the half-life is this many times "
        "longer (a buyer busy with your proposal is not drifting away); at most 100.",
    )
    call_restore_right: float = Field(
        0.8, ge=0, le=1, description="A call done right closes this share of the gap to 1."
    )
    call_restore_wrong: float = Field(
        0.3, ge=0, le=1, description="A call with a wrong step closes this share of the gap to 1."
    )
    touch_boost: float = Field(
        0.15,
        ge=0,
        le=1,
        description="A touch (recap, article, case study) closes this share of the gap to 1.",
    )


class NoDecision(_Frozen):
    """How a deal goes dark: hazard = background + max_hazard * (1 - momentum)^shape, per day."""

    max_hazard_per_day: float = Field(
        0.03, ge=0, description="Daily hazard of going dark at zero momentum (beyond background)."
    )
    background_hazard_per_day: float = Field(
        0.0,
        ge=0,
        description="Daily hazard of going dark whatever the momentum: the buyer's world moves on "
        "(re-organisations, budget freezes, other priorities), so time itself kills deals.",
    )
    shape: int = Field(
        2, ge=1, le=6, description="Exponent k: larger keeps high-momentum deals safer."
    )


class Consensus(_Frozen):
    """Buying-group consensus: P(n) = p_one * q_per_extra ** (n - 1), spread over the stages."""

    p_one: float = Field(0.81, gt=0, le=1, description="Purchase likelihood with one stakeholder.")
    q_per_extra: float = Field(
        0.83, gt=0, le=1, description="Factor per extra stakeholder (0.83: 81% → 31% at six)."
    )
    fit_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="How much the buyer's fit moves consensus: factor 1 + w * (2 * fit - 1).",
    )
    momentum_weight: float = Field(
        1.0,
        ge=0,
        description="A group whose interest has faded agrees less readily: each stage's share of "
        "the penalty is paid with exponent share * (1 + w * (1 - momentum)).",
    )


class Group(_Frozen):
    """The buying group as people: each stakeholder is aligned with the purchase, or not.

    A call aligns the members present (more if it was done right); members not met drift back;
    a touch (content sent to the whole group) nudges everyone. At the end of each stage every
    member may block the deal, the more likely the less aligned (the stage's ``gate``): a larger
    group is harder because more people must be met and kept aligned, not by a factor per
    member. With this table the consensus formula (``buyers.consensus``, ``consensus_share``)
    is not used.
    """

    initial_alignment: float = Field(
        0.3,
        ge=0,
        le=1,
        description="A stakeholder's alignment before we meet them, and where an unmet one "
        "drifts back to.",
    )
    champion_alignment: float = Field(
        0.6,
        ge=0,
        le=1,
        description="The alignment of the member who brought us in (the champion), who comes "
        "to every call.",
    )
    align_right: float = Field(
        0.25,
        ge=0,
        le=1,
        description="Each activity a member sees done right in a call closes this share of the "
        "member's gap to full alignment: a bigger agenda aligns everyone present more.",
    )
    align_wrong: float = Field(
        0.05,
        ge=0,
        le=1,
        description="The same for an activity done wrong.",
    )
    drift_half_life_days: float = Field(
        45.0,
        gt=0,
        le=3650,
        description="A member not met drifts back towards initial_alignment, halving the "
        "distance every this many days.",
    )
    touch_align: float = Field(
        0.05,
        ge=0,
        le=1,
        description="A touch (a recap, a case study for the whole group) closes this share of "
        "every member's gap to full alignment.",
    )


class SupplierChoice(_Frozen):
    """Once the group decides to buy: from us (won) or someone else / in house (lost)."""

    win_base: float = Field(0.5, ge=0, le=1, description="Chance we are chosen at average fit.")
    fit_weight: float = Field(
        0.5, ge=0, le=1, description="How much fit moves it: factor 1 + w * (2 * fit - 1)."
    )
    momentum_weight: float = Field(
        0.0,
        ge=0,
        le=1,
        description="A buyer whose interest has faded by the decision chooses us less often: "
        "factor 1 - w * (1 - momentum at the decision) (0: momentum does not matter).",
    )


class Competition(_Frozen):
    """Buyers weigh alternatives once an opportunity is open: another supplier, building in
    house or another approach can win at any stage, not only at the final decision.

    A competing risk with a hazard per day (as going dark is): higher for a buyer of poor fit,
    after wrong steps, and once the buyer's own decision date has passed (``[forecast]``). A slow
    deal spends more days exposed to it. The seller learns of the loss at the next contact.
    """

    hazard_per_day: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Daily hazard that the buyer commits elsewhere, from the opening of the "
        "opportunity on, at average fit and with no wrong step (0: lost only at the decision).",
    )
    fit_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="A poor fit weighs alternatives more: factor 1 + w * (1 - 2 * fit).",
    )
    wrong_step_factor: float = Field(
        1.0,
        ge=1,
        le=10,
        description="Each stage with a step done wrong multiplies the hazard by this: a buyer "
        "who sees a sloppy sale looks elsewhere.",
    )


class Buyers(_Frozen):
    """The buying organisation: its group, its calendar, its pace and momentum."""

    group_size: Count = Field(
        description="Stakeholders in the buying group (rounded), 1 to 1,000; a normal "
        "distribution is cut off at both ends."
    )
    pace: Factor = Field(
        default_factory=lambda: LogNormal(median=1.0, p90=1.8),
        description="Per-deal factor on all buyer lags and tasks (urgency): drawn once per deal.",
    )
    pace_on_attention: float = Field(
        0.0,
        ge=0,
        le=1,
        description="How much a deal's pace also sets how fast its interest fades and how fast "
        "it weighs alternatives: the momentum half-life is multiplied, and the competition "
        "hazard divided, by pace ** this. At 1 a slow buyer does everything at its own speed, "
        "losing interest no faster in its own time; at 0 (the first model) every buyer fades "
        "at the same rate per day, so slow deals die more often.",
    )
    meeting_lag_days: Duration = Field(
        description="Days until one stakeholder's next free slot, from when a meeting is asked for."
    )
    lag_per_extra_attendee: float = Field(
        0.15,
        ge=0,
        le=10,
        description="Each extra attendee lengthens the lag by this share (at most 10).",
    )
    comfortable_activities_per_call: int = Field(
        3, ge=1, description="Activities per call the buyer takes in without overload."
    )
    overload_factor: float = Field(
        0.9,
        gt=0,
        le=1,
        description="Each activity beyond the comfortable number multiplies the chance of doing "
        "each activity right by this.",
    )
    attendees_per_extra_activity: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Each activity beyond the first adds this share of the group to a call.",
    )
    momentum: Momentum = Field(default_factory=Momentum)
    no_decision: NoDecision = Field(default_factory=NoDecision)
    consensus: Consensus = Field(default_factory=Consensus)
    group: Group | None = Field(
        None,
        description="The buying group as people (alignment of each stakeholder, gates at the "
        "end of each stage); absent: the consensus formula of [buyers.consensus].",
    )
    choice: SupplierChoice = Field(default_factory=SupplierChoice)
    competition: Competition = Field(default_factory=Competition)


class Team(_Frozen):
    """The sellers: their calendars and their skill."""

    sellers: int = Field(8, ge=1, le=10_000, description="Number of sellers in the team.")
    skill: Share = Field(
        default_factory=lambda: Constant(value=1.0),
        description="Per seller, drawn once: multiplies each stage's chance of doing it right.",
    )
    working_hours_per_day: float = Field(
        8.0,
        ge=MIN_SELLING_HOURS_PER_DAY,
        le=24,
        description="Hours of a seller's working day.",
    )
    non_selling_share: float = Field(
        0.25,
        ge=0,
        le=0.95,
        description="Share of the working day taken by work that is not selling: "
        "administration and CRM upkeep, internal meetings, travel, training. The rest is "
        "selling time (calls, preparation, offline work, touches, reaching out to suspects).",
    )
    meeting_slots_per_day: int = Field(
        3,
        ge=1,
        le=MAX_MEETING_SLOTS_PER_DAY,
        description="Customer meetings a day at most (1 to 100).",
    )
    workdays_per_week: int = Field(
        5,
        ge=1,
        le=7,
        description="Working days a week (the first days of every 7 from the start of the run); "
        "calls and offline work happen on working days only.",
    )
    call_hours: float = Field(
        1.0,
        ge=MIN_CALL_HOURS,
        description="Length of a call covering one activity, in hours; at least 0.05 (three "
        "minutes).",
    )
    call_hours_per_extra_activity: float = Field(
        0.25, ge=0, description="Extra call length for each further activity covered."
    )
    prep_hours: float = Field(0.5, ge=0, description="Preparation per call.")
    touch_hours: float = Field(0.1, ge=0, description="Seller time to send one touch.")
    assignment: Literal["least_loaded", "round_robin"] = Field(
        "least_loaded", description="How a new deal finds its seller."
    )

    @property
    def selling_hours_per_day(self) -> float:
        """Hours a seller can spend selling on a working day: the working day less the share
        taken by non-selling work."""
        return self.working_hours_per_day * (1.0 - self.non_selling_share)

    @model_validator(mode="before")
    @classmethod
    def _selling_hours_moved(cls, data: Any) -> Any:
        if isinstance(data, dict) and "selling_hours_per_day" in data:
            raise ValueError(
                "selling_hours_per_day is now working_hours_per_day and non_selling_share "
                "(selling hours = working hours x (1 - non_selling_share)); for 6 selling hours "
                "of an 8-hour day write working_hours_per_day = 8 and non_selling_share = 0.25"
            )
        return data

    @model_validator(mode="after")
    def _a_call_fits_a_day(self) -> Team:
        selling = self.selling_hours_per_day
        if selling < MIN_SELLING_HOURS_PER_DAY:
            raise ValueError(
                f"the selling time left in a day ({selling:g} h: working_hours_per_day x "
                f"(1 - non_selling_share)) must be at least {MIN_SELLING_HOURS_PER_DAY:g} h"
            )
        if self.call_hours + self.prep_hours > selling:
            raise ValueError(
                f"a call with its preparation ({self.call_hours + self.prep_hours:g} h) does not "
                f"fit in the selling time of a day ({selling:g} h: working_hours_per_day x "
                "(1 - non_selling_share))"
            )
        return self


class Policies(_Frozen):
    """The lean levers: the ways of selling a team can choose."""

    activities_per_call: int = Field(
        2, ge=1, le=20, description="Call compression: joint activities planned into each call."
    )
    touch_every_days: float = Field(
        0.0,
        ge=0,
        description="Send a touch when this many days pass without contact (0 = never); "
        "otherwise at least 1: a touch is a recap, an article or a case study, not a stream.",
    )
    book_next_within_days: float = Field(
        0.0,
        ge=0,
        description="Book the next meeting at the end of each call, within this many days "
        "(0 = schedule it later by email).",
    )
    qualification_strictness: float = Field(
        0.3, ge=0, le=1, description="Disqualify a buyer whose fit, as read in discovery, is below."
    )
    wip_cap: int = Field(0, ge=0, description="Open deals per seller at most (0 = no cap).")
    pool_order: Literal["first_come", "newest_first"] = Field(
        "first_come",
        description="Which waiting suspect a seller takes when a WIP place frees up: the one "
        "that has waited longest (first_come), or the one that arrived last (newest_first: "
        "work the freshest lead while it still answers).",
    )
    buyer_enablement: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="Buyer enablement: the seller helps the buyer with its own tasks (templates, "
        "a business case written together, a mutual action plan), which then take this share "
        "less time (0 = no help).",
    )
    enablement_hours_per_task: float = Field(
        2.0,
        ge=0,
        le=MAX_WORK_HOURS,
        description="Seller hours of offline work per buyer task helped with (only when "
        "buyer_enablement > 0); at most 2,000 (a person-year).",
    )

    @field_validator("touch_every_days")
    @classmethod
    def _touches_not_a_stream(cls, days: float) -> float:
        if 0 < days < MIN_TOUCH_EVERY_DAYS:
            raise ValueError(
                f"must be 0 (no touches) or at least {MIN_TOUCH_EVERY_DAYS:g} day: a touch every "
                f"{days:g} days is not a contact policy (and would flood the run with touches)"
            )
        return days


class WrongStep(_Frozen):
    """What a call with a wrong step costs, beyond redoing the activity (rework)."""

    momentum_loss: float = Field(0.0, ge=0, le=1, description="Share of momentum lost.")
    end_chance: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Chance the buyer stops engaging at once (raised defences): no decision.",
    )
    lag_factor: float = Field(
        1.0,
        ge=1,
        le=MAX_LAG_FACTOR,
        description="All later gaps of the deal lengthen by this factor (handed to a gatekeeper, "
        "chasing); at most 100.",
    )
    decision_factor: float = Field(
        1.0, gt=0, le=1, description="Multiplies the final purchase likelihood."
    )
    discount: Share = Field(
        default_factory=lambda: Constant(value=0.0),
        description="Share of the value given away (a price fight at close).",
    )


class BuyerTask(_Frozen):
    """Work the buyer does on its own after the stage's calls; the next call waits for it."""

    name: PlainText = Field(
        min_length=1, description="Name of the task (a label, such as a review)."
    )
    duration: Duration = Field(description="Days, before the deal's pace factor.")


class Qualification(_Frozen):
    """This stage qualifies: the seller reads the buyer's fit, with an error, and may disqualify."""

    read_error_sd_right: float = Field(0.1, ge=0, description="Error of the fit read when right.")
    read_error_sd_wrong: float = Field(0.3, ge=0, description="Error of the fit read when wrong.")


class Stage(_Frozen):
    """One stage of the sale: its calls, the seller's and the buyer's own work, and its risks."""

    name: PlainText = Field(
        min_length=1,
        description="Name of the stage; the stage's column in deals.csv and its metrics are "
        "named after it.",
    )
    activities: int = Field(
        ge=0, le=50, description="Joint activities done in calls (0: a stage without calls)."
    )
    p_right: float = Field(
        0.9, gt=0, le=1, description="Chance one activity is done right by a seller of skill 1."
    )
    seller_work_hours: float = Field(
        0.0,
        ge=0,
        le=MAX_WORK_HOURS,
        description="Offline seller work after the calls (a proposal), in hours; at most 2,000 "
        "(a person-year).",
    )
    buyer_tasks: list[BuyerTask] = Field(default_factory=list)
    attendee_share: float = Field(
        0.5, ge=0, le=1, description="Share of the buying group needed in this stage's calls."
    )
    half_life_factor: float = Field(
        1.0,
        ge=1 / MAX_HALF_LIFE_FACTOR,
        le=MAX_HALF_LIFE_FACTOR,
        description="Momentum half-life multiplier in this stage (later: slower decay); 0.01 to "
        "100.",
    )
    consensus_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of the group-size consensus penalty paid at the end of this stage.",
    )
    gate: float = Field(
        0.0,
        ge=0,
        le=1,
        description="With [buyers.group]: at the end of the stage each member blocks the deal "
        "with this chance times (1 - their alignment); a fully aligned member never blocks.",
    )
    qualification: Qualification | None = Field(
        None, description="Present if this stage may disqualify the buyer."
    )
    sets_forecast: bool = Field(False, description="The forecast close date is set after it.")
    competition_weight: float = Field(
        1.0,
        ge=0,
        le=10,
        description="How much the buyer weighs alternatives while in this stage: a factor on "
        "buyers.competition.hazard_per_day (stages before the opportunity opens never lose to "
        "competition: the suspect has not engaged yet).",
    )
    wrong: WrongStep = Field(default_factory=WrongStep)

    @property
    def flows_on(self) -> bool:
        """No buyer task and no seller work after the stage: a call's agenda may run on into the
        next stage."""
        return not self.buyer_tasks and self.seller_work_hours == 0.0


class Forecast(_Frozen):
    """Forecast close dates, how they slip, and what a slipped date says about the buyer.

    The first forecast close date is the buyer's own stated date for a decision (its compelling
    event: a budget, a project start). Once it passes undecided the buyer's urgency is gone: its
    interest fades faster and alternatives look better. Time kills deals, and a deal that slips
    month after month shows it.
    """

    first_forecast_days: Duration = Field(
        default_factory=lambda: LogNormal(median=45, p90=90),
        description="Days from the forecast-setting stage to the first forecast close date.",
    )
    push_days: float = Field(
        30.0,
        ge=MIN_PUSH_DAYS,
        description="Each missed close date is pushed this far, in days; at least 1 (a date "
        "pushed by less than a day is not a new forecast).",
    )
    stale_half_life_factor: float = Field(
        1.0,
        gt=0,
        le=1,
        description="After the first forecast date passes undecided, the momentum half-life is "
        "multiplied by this: the buyer's interest fades faster (1: no change).",
    )
    stale_competition_factor: float = Field(
        1.0,
        ge=1,
        le=20,
        description="After the first forecast date passes undecided, the competition hazard "
        "(buyers.competition) is multiplied by this (1: no change).",
    )


class Crm(_Frozen):
    """How the team's CRM counts: when a suspect becomes an opportunity, and how ends are booked.

    Every CRM differs, and the headline rates (win, loss, no decision, cycle time) mean what they
    mean in a CRM only if they count the same records from the same moment. A suspect becomes an
    opportunity when it enters the stage ``opens_at``; before that it is prospecting, and a
    suspect who stops answering then is ``no_response``, not a no decision.
    """

    opens_at: str | None = Field(
        None,
        min_length=1,
        description="Name of the stage whose entry opens an opportunity in the CRM. Default: the "
        "second stage (the buyer has committed to explore: the end of a successful outreach), "
        "or the only stage. The first stage's name opens one as soon as a seller takes the "
        "suspect.",
    )
    disqualified_as_lost: bool = Field(
        True,
        description="Disqualified opportunities are booked as closed lost, as most CRMs do: "
        "closed_lost_rate then counts them with the lost ones (loss_rate and disqualified_rate "
        "show each on its own either way).",
    )
    close_out_delay_days: Duration = Field(
        default_factory=lambda: LogNormal(median=21, p90=60),
        description="Days from a buyer going dark to the seller closing the record in the CRM "
        "(as no decision, or no response before an opportunity opened); the record holds a WIP "
        "place until then.",
    )


class WinLoss(_Frozen):
    """Win/loss analysis: interviews of lost and no-decision buyers, and what they hear."""

    interview_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of lost and no-decision deals whose buyer is interviewed (0: none).",
    )
    find_real_reason: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Chance an interview hears the real cause; otherwise the buyer gives the "
        "usual excuse (lost: price; no decision: timing, not a priority).",
    )


class Scenario(_Frozen):
    """A market, a sales team and a sales process: one file, validated."""

    name: PlainText = Field(
        "scenario",
        min_length=1,
        description="Name of the scenario, shown with its results and in summary.json.",
    )
    description: PlainText = Field(
        "", description="Free text on what the scenario models; the model does not read it."
    )
    currency: PlainText = Field("EUR", description="Label of the currency unit; all money uses it.")
    run: RunSettings = Field(default_factory=RunSettings)
    market: Market
    buyers: Buyers
    team: Team = Field(default_factory=Team)
    policies: Policies = Field(default_factory=Policies)
    stages: list[Stage] = Field(min_length=1, max_length=20)
    forecast: Forecast = Field(default_factory=Forecast)
    crm: Crm = Field(default_factory=Crm)
    accounts: Accounts | None = Field(
        None,
        description="The account lifecycle after the close (on-boarding, expansion, change, "
        "churn, off-boarding, revenue); absent: off, and nothing after the sale is simulated.",
    )
    win_loss: WinLoss | None = Field(
        None,
        description="Win/loss interviews of lost and no-decision deals, and the win/loss "
        "metrics; absent: off (no interviews, no win/loss metrics).",
    )

    @field_validator("accounts")
    @classmethod
    def _account_stages_exist(
        cls, accounts: Accounts | None, info: ValidationInfo
    ) -> Accounts | None:
        stages = info.data.get("stages")
        if accounts is not None and stages:
            problems = accounts.stage_problems([s.name for s in stages])
            if problems:
                raise ValueError("; ".join(problems))
        return accounts

    @field_validator("crm")
    @classmethod
    def _crm_stage_exists(cls, crm: Crm, info: ValidationInfo) -> Crm:
        stages = info.data.get("stages")
        if stages and crm.opens_at is not None and crm.opens_at not in [s.name for s in stages]:
            names = ", ".join(repr(s.name) for s in stages)
            raise ValueError(f"opens_at must name a stage ({names}), got {crm.opens_at!r}")
        return crm

    @property
    def opens_at_index(self) -> int:
        """0-based index of the stage whose entry opens an opportunity (``crm.opens_at``)."""
        names = [s.name for s in self.stages]
        if self.crm.opens_at is not None:
            return names.index(self.crm.opens_at)
        return min(1, len(names) - 1)

    @field_validator("stages")
    @classmethod
    def _stages_consistent(cls, stages: list[Stage], info: ValidationInfo) -> list[Stage]:
        # a field validator (not a model one) so it runs, with its key path, beside other errors
        names = [s.name for s in stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must be unique, got {names}")
        buyers = info.data.get("buyers")
        total = sum(s.consensus_share for s in stages)
        if buyers is not None and buyers.group is not None:
            if total > 0:
                raise ValueError(
                    "consensus_share is not used with [buyers.group] (the buying group as "
                    "people): give each stage a gate instead, and no consensus_share"
                )
        elif abs(total - 1.0) > 1e-6:
            shares = ", ".join(f"{s.name}={s.consensus_share:g}" for s in stages)
            raise ValueError(f"stages' consensus_share must add up to 1, got {total:g} ({shares})")
        if sum(s.qualification is not None for s in stages) > 1:
            raise ValueError("at most one stage may have a qualification")
        if sum(s.sets_forecast for s in stages) > 1:
            raise ValueError("at most one stage may set the forecast (sets_forecast = true)")
        return stages
