"""The process map of a scenario, as a sales manager reads it: ``simsales explain``.

A scenario file is written for the model; this module turns it back into the picture a team
draws on a whiteboard: the suspect pool, the stages in order with who does what in each (joint
activities in calls, the seller's own work, the buyer's tasks), what a wrong step costs, where a
deal can be disqualified or go dark, how the buying group decides, and the lean levers with their
current values. Every number is computed from the scenario by the model's own rules (no
simulation runs): calls per stage at the current call compression, the chance of doing an activity
right with an average seller, the consensus formula P(n) = p_one · q^(n−1), the chance of going
dark in a silent gap from the model's closed-form hazard. Each item carries its key path, so that a
reader can change it with ``--set``.

``process_map`` builds a small frozen tree (``ProcessMap``) that
``simsales.report.explain_output.render_text`` prints and ``simsales.plots.process_map`` draws.
The levers are read from the ``Policies`` model's fields and descriptions, so a new lever shows up
without a change here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from simsales.model import rules
from simsales.model.momentum import LN2, cumulative_hazard
from simsales.scenario.distributions import (
    Beta,
    Constant,
    Empirical,
    Exponential,
    Gamma,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
)
from simsales.scenario.schema import Leads, Policies, Scenario, Stage, Team

__all__ = [
    "CONSENSUS_GROUP_SIZES",
    "DARK_GAP_DAYS",
    "ConsensusPoint",
    "Lever",
    "ProcessMap",
    "StageStep",
    "Task",
    "calls_if_all_right",
    "dark_risk",
    "describe_distribution",
    "fmt_num",
    "fmt_pct",
    "levers",
    "process_map",
]

#: Group sizes whose consensus the map shows, beside the scenario's mean group size.
CONSENSUS_GROUP_SIZES = (1, 3, 6)
#: Lengths of the silent gaps (days) whose risk of going dark the map shows for each stage.
DARK_GAP_DAYS = (7.0, 14.0, 28.0)
#: Team keys that are levers too (the Policies model holds the rest).
TEAM_LEVERS = ("sellers", "assignment")
#: The exponent of the dark hazard as written: (1 − momentum)².
_SUPERSCRIPT = dict(enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹"))


@dataclass(frozen=True)
class Task:
    """A buyer task: its name and its duration in words (days, before the deal's pace)."""

    name: str
    duration: str
    mean_days: float


@dataclass(frozen=True)
class StageStep:
    """One stage as the map shows it; the phrases carry their key paths in brackets."""

    number: int  # 1-based; 0 is the suspect pool
    name: str
    key: str  # "stages.<name>"
    activities: int
    calls: int  # ceil(activities / activities_per_call): the stage's own calls
    attendee_share: float
    attendees: int  # at the mean group size, with a full agenda
    p_right: float  # per activity, seller of skill 1
    p_right_typical: float  # per activity, mean skill, overload of a full agenda
    p_stage_clean: float  # chance every activity of the stage is right at the first try
    seller_work_hours: float
    buyer_tasks: tuple[Task, ...]
    wrong: tuple[str, ...]  # the consequences of a wrong step, in words with key paths
    wrong_short: tuple[str, ...]  # the same, in a few words each (for the figure)
    qualification: str | None  # how it may disqualify, in words; None if it does not
    strictness: float  # disqualify below this fit read (policies.qualification_strictness)
    sets_forecast: bool
    flows_on: bool  # nothing blocks after it: a call may run on into the next stage
    half_life_days: float  # momentum half-life in this stage's gaps
    consensus_share: float
    gate: float  # with the buying group as people: each member blocks with gate × (1 − alignment)
    dark_risk: tuple[float, ...]  # chance of going dark in each silent gap of DARK_GAP_DAYS


@dataclass(frozen=True)
class ConsensusPoint:
    """Purchase likelihood of a buying group of ``group_size``: p_one · q^(n−1)."""

    group_size: float
    label: str
    probability: float


@dataclass(frozen=True)
class Lever:
    """A way of selling the team chooses: its key path, current value and meaning."""

    key: str
    value: str
    meaning: str
    zero_means: str  # what a value of 0 means, where the description says ("never"), else ""


@dataclass(frozen=True)
class ProcessMap:
    """A scenario's process map: the pool, the stages, going dark, the close and the levers."""

    name: str
    description: str
    currency: str
    activities_per_call: int
    pool: tuple[str, ...]  # the suspect pool (stage 0), in phrases
    stages: tuple[StageStep, ...]
    calls_all_right: int  # calls of a deal whose every step goes right, with run-on calls
    dark: tuple[str, ...]  # how deals go dark, in phrases
    dark_start_momentum: float  # momentum after a first good call: where the gap risks start
    dark_touches: str  # the touches the gap risks include, in words ("without touches")
    dark_gap_days: tuple[float, ...]  # the silent gaps of each stage's dark_risk, days
    consensus: tuple[ConsensusPoint, ...]
    #: the buying group as people ([buyers.group]): ``consensus`` is then the chance a group whose
    #: other members were never met passes every stage's gate
    people: bool
    close: tuple[str, ...]  # consensus and supplier choice, in phrases
    outcomes: tuple[str, ...]  # how every opportunity ends
    levers: tuple[Lever, ...]
    accounts: tuple[str, ...] = ()  # the account lifecycle after the sale, if the scenario has one
    #: the number (1-based) of the stage whose entry opens an opportunity (``crm.opens_at``): a
    #: deal that goes dark before it ends as no response, from it on as no decision
    opens_at: int = 1


def process_map(scenario: Scenario) -> ProcessMap:
    """The process map of a validated scenario (pure: no simulation, no randomness kept)."""
    b = scenario.buyers
    apc = scenario.policies.activities_per_call
    mean_group = b.group_size.mean
    group = max(1, round(mean_group))
    skill = scenario.team.skill.mean
    overload = rules.overload_factor(b.overload_factor, b.comfortable_activities_per_call, apc)
    m_start = b.momentum.initial + (1.0 - b.momentum.initial) * b.momentum.call_restore_right
    stages = tuple(
        _stage_step(scenario, i, stage, group=group, skill=skill, overload=overload, m0=m_start)
        for i, stage in enumerate(scenario.stages)
    )
    sizes = [(float(n), f"{n}") for n in CONSENSUS_GROUP_SIZES]
    sizes.append((mean_group, f"{fmt_num(mean_group)} (mean)"))
    consensus = tuple(ConsensusPoint(n, label, _consensus(scenario, n)) for n, label in sizes)
    return ProcessMap(
        name=scenario.name,
        description=scenario.description,
        currency=scenario.currency,
        activities_per_call=apc,
        pool=_pool(scenario),
        stages=stages,
        calls_all_right=calls_if_all_right(scenario.stages, apc),
        dark=_dark(scenario),
        dark_start_momentum=m_start,
        dark_touches=(
            f"with a touch every {fmt_num(scenario.policies.touch_every_days)} days"
            if scenario.policies.touch_every_days > 0
            else "without touches"
        ),
        dark_gap_days=DARK_GAP_DAYS,
        consensus=consensus,
        people=scenario.buyers.group is not None,
        close=_close(scenario),
        outcomes=_outcomes(scenario),
        levers=levers(scenario),
        accounts=_accounts(scenario),
        opens_at=scenario.opens_at_index + 1,
    )


def calls_if_all_right(stages: list[Stage], apc: int) -> int:
    """Calls of a deal whose every activity goes right the first time.

    As the model plans them (``rules.call_agenda``): a call's agenda holds up to ``apc``
    activities and runs on into the next stage when nothing blocks (no buyer task, no seller
    work, and the next stage has calls).
    """
    calls, i, remaining = 0, 0, stages[0].activities
    while True:
        if remaining == 0:
            if i == len(stages) - 1:
                return calls
            i += 1
            remaining = stages[i].activities
            continue
        calls += 1
        left = rules.call_agenda(stages, i, remaining, apc)
        while left:  # the agenda is covered stage by stage, all of it right
            k = min(left, remaining)
            remaining -= k
            left -= k
            if left:
                i += 1
                remaining = stages[i].activities


def levers(scenario: Scenario) -> tuple[Lever, ...]:
    """Every field of ``policies`` (read from the model, so new levers appear) and the team's."""
    fields: list[tuple[str, str, BaseModel, FieldInfo]] = [
        ("policies", name, scenario.policies, f) for name, f in Policies.model_fields.items()
    ]
    fields += [("team", name, scenario.team, Team.model_fields[name]) for name in TEAM_LEVERS]
    out = []
    for table, name, model, field in fields:
        value = getattr(model, name)
        meaning = (field.description or "").strip()
        zero = re.search(r"\(0\s*=\s*([^)]*)\)", meaning)
        is_zero = isinstance(value, int | float) and not isinstance(value, bool) and value == 0
        note = zero.group(1).strip() if zero and is_zero else ""
        out.append(Lever(f"{table}.{name}", _value(value), meaning, note))
    return tuple(out)


def _value(value: object) -> str:
    """A lever's value as written, in words for a distribution or a table."""
    if isinstance(value, BaseModel):
        if hasattr(value, "dist"):
            return describe_distribution(value)
        return ", ".join(f"{k} {_value(v)}" for k, v in value.model_dump().items())
    if isinstance(value, bool):
        return "true" if value else "false"
    return fmt_num(value) if isinstance(value, int | float) else str(value)


def describe_distribution(dist: object, unit: str = "", *, percent: bool = False) -> str:
    """A distribution in words: "median 5 d, p90 12 d", "0.85 to 1", "5% to 20%".

    ``unit`` follows each value ("d", "EUR"); ``percent`` shows shares as percentages.
    """

    def v(x: float) -> str:
        if percent:
            return f"{fmt_num(round(100 * x, 1))}%"
        return f"{fmt_num(x)} {unit}" if unit else fmt_num(x)

    if isinstance(dist, Constant):
        return v(dist.value)
    if isinstance(dist, LogNormal):
        return f"median {v(dist.median)}, p90 {v(dist.p90)}"
    if isinstance(dist, Exponential):
        return f"exponential, mean {v(dist.mean)}"
    if isinstance(dist, Uniform):
        return f"{v(dist.low)} to {v(dist.high)}, evenly"
    if isinstance(dist, Triangular):
        return f"{v(dist.low)} to {v(dist.high)}, most likely {v(dist.mode)}"
    if isinstance(dist, Normal):
        return f"mean {v(dist.mean)}, sd {v(dist.sd)}"
    if isinstance(dist, Gamma):
        return f"mean {v(dist.mean)}, gamma shape {fmt_num(dist.shape)}"
    if isinstance(dist, Beta):
        return f"mean {v(dist.mean)}, beta concentration {fmt_num(dist.concentration)}"
    if isinstance(dist, Empirical):
        lo, hi = dist.support
        return f"{v(lo)} to {v(hi)}, mean {v(dist.mean)}"
    return repr(dist)  # pragma: no cover - every distribution is handled above


def fmt_num(x: float) -> str:
    """A number as people write it: 3 significant digits, thousands separated, no trailing 0s."""
    if isinstance(x, int) or float(x).is_integer():
        return f"{int(x):,}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def fmt_pct(p: float) -> str:
    """A share (0 to 1) as a whole percentage: "79%"."""
    return f"{100 * p:.0f}%"


def _consensus(scenario: Scenario, n: float) -> float:
    """P(n) = p_one · q^(n−1), as the model uses it (average fit, full momentum); with the
    buying group as people, the chance a group of n passes every stage's gate when only the
    champion was ever met (the others at their initial alignment): the friction before anyone
    is won over."""
    group = scenario.buyers.group
    if group is not None:
        chance = 1.0
        for stage in scenario.stages:
            chance *= 1.0 - rules.member_blocks(stage.gate, group.champion_alignment)
            chance *= (1.0 - rules.member_blocks(stage.gate, group.initial_alignment)) ** (n - 1)
        return chance
    c = scenario.buyers.consensus
    return rules.consensus(c.p_one, c.q_per_extra, n, 0.5, c.fit_weight)


def dark_risk(scenario: Scenario, half_life: float, days: float, m0: float) -> float:
    """Chance a deal goes dark in a silent gap of ``days``, from momentum ``m0``.

    The model's hazard, background + max · (1 − m)^k with m halving every ``half_life`` days;
    touches (``policies.touch_every_days``) each close ``touch_boost`` of the gap to 1.
    """
    nd = scenario.buyers.no_decision
    every = scenario.policies.touch_every_days
    boost = scenario.buyers.momentum.touch_boost
    c = LN2 / half_life
    total, t, m = 0.0, 0.0, m0
    while t < days:
        end = min(days, t + every) if every > 0 else days
        tau = end - t
        total += cumulative_hazard(
            m, tau, c, nd.max_hazard_per_day, nd.shape, nd.background_hazard_per_day
        )
        m *= math.exp(-c * tau)
        t = end
        if every > 0 and t < days:
            m += (1.0 - m) * boost
    return -math.expm1(-total)


def _stage_step(
    scenario: Scenario,
    i: int,
    stage: Stage,
    *,
    group: int,
    skill: float,
    overload: float,
    m0: float,
) -> StageStep:
    key = f"stages.{stage.name}"
    apc = scenario.policies.activities_per_call
    b = scenario.buyers
    agenda = min(apc, stage.activities) if stage.activities else 0
    attendees = rules.attendees(
        group, stage.attendee_share, b.attendees_per_extra_activity, max(agenda, 1)
    )
    p_typical = rules.chance_right(stage.p_right, skill, overload)
    half_life = b.momentum.half_life_days * stage.half_life_factor
    wrong = _wrong(scenario, stage, key)
    tasks = tuple(
        Task(t.name, describe_distribution(t.duration, "d"), t.duration.mean)
        for t in stage.buyer_tasks
    )
    return StageStep(
        number=i + 1,
        name=stage.name,
        key=key,
        activities=stage.activities,
        calls=math.ceil(stage.activities / apc),
        attendee_share=stage.attendee_share,
        attendees=attendees,
        p_right=stage.p_right,
        p_right_typical=p_typical,
        p_stage_clean=p_typical**stage.activities,
        seller_work_hours=stage.seller_work_hours,
        buyer_tasks=tasks,
        wrong=tuple(long for _, long in wrong),
        wrong_short=tuple(short for short, _ in wrong),
        qualification=_qualification(scenario, stage, key),
        strictness=scenario.policies.qualification_strictness,
        sets_forecast=stage.sets_forecast,
        flows_on=stage.flows_on,
        half_life_days=half_life,
        consensus_share=stage.consensus_share,
        gate=stage.gate if scenario.buyers.group is not None else 0.0,
        dark_risk=tuple(dark_risk(scenario, half_life, d, m0) for d in DARK_GAP_DAYS),
    )


def _wrong(scenario: Scenario, stage: Stage, key: str) -> list[tuple[str, str]]:
    """What a wrong step in the stage costs (paid once per stage): short and long phrases."""
    w, k = stage.wrong, f"{key}.wrong"
    mom = scenario.buyers.momentum
    out = [
        (
            "redo it in a later call (rework)",
            f"the activity is redone in a later call (rework), and the call restores "
            f"{fmt_pct(mom.call_restore_wrong)} of lost momentum instead of "
            f"{fmt_pct(mom.call_restore_right)} [buyers.momentum.call_restore_wrong]",
        )
    ]
    if w.momentum_loss > 0:
        out.append(
            (
                f"momentum −{fmt_pct(w.momentum_loss)}",
                f"the buyer loses {fmt_pct(w.momentum_loss)} of its momentum [{k}.momentum_loss]",
            )
        )
    if w.end_chance > 0:
        ends = (
            "no decision"
            if scenario.stages.index(stage) >= scenario.opens_at_index
            else "no response (it never becomes an opportunity)"
        )
        out.append(
            (
                f"{fmt_pct(w.end_chance)}: buyer stops engaging",
                f"{fmt_pct(w.end_chance)} chance the buyer stops engaging at once (raised "
                f"defences): {ends} [{k}.end_chance]",
            )
        )
    if w.lag_factor > 1:
        out.append(
            (
                f"later gaps ×{fmt_num(w.lag_factor)}",
                f"every later gap {fmt_num(w.lag_factor)}× longer (handed to a gatekeeper, "
                f"chasing) [{k}.lag_factor]",
            )
        )
    if w.decision_factor < 1:
        out.append(
            (
                f"purchase likelihood ×{fmt_num(w.decision_factor)}",
                f"the group is less likely to buy in the end: purchase likelihood "
                f"× {fmt_num(w.decision_factor)} [{k}.decision_factor]",
            )
        )
    if not (isinstance(w.discount, Constant) and w.discount.value == 0):
        discount = describe_distribution(w.discount, percent=True)
        out.append(
            (
                f"discount {discount}",
                f"a discount of {discount} of the value (a price fight) [{k}.discount]",
            )
        )
    q = stage.qualification
    if q is not None and q.read_error_sd_wrong != q.read_error_sd_right:
        out.append(
            (
                f"fit misread (sd {fmt_num(q.read_error_sd_wrong)})",
                f"the buyer's fit is misread more (error sd {fmt_num(q.read_error_sd_wrong)} "
                f"instead of {fmt_num(q.read_error_sd_right)}) "
                f"[{key}.qualification.read_error_sd_wrong]",
            )
        )
    return out


def _qualification(scenario: Scenario, stage: Stage, key: str) -> str | None:
    q = stage.qualification
    if q is None:
        return None
    strict = scenario.policies.qualification_strictness
    below = ", ".join(
        f"{seg.name} {fmt_pct(_share_below(seg.fit, strict))}" for seg in scenario.market.segments
    )
    return (
        f"the seller reads the buyer's fit (error sd {fmt_num(q.read_error_sd_right)}, "
        f"{fmt_num(q.read_error_sd_wrong)} after a wrong step) [{key}.qualification] and "
        f"disqualifies it below {fmt_num(strict)} [policies.qualification_strictness]; "
        f"buyers whose true fit is below that: about {below}"
    )


def _share_below(dist: object, level: float) -> float:
    """Share of a fit distribution below ``level``: exact for a constant, else from a fixed
    sample (enough for a whole percentage)."""
    if isinstance(dist, Constant):
        return float(dist.value < level)
    values = dist.sample(np.random.default_rng(0), 20_000)  # type: ignore[attr-defined]
    return float(np.mean(values < level))


def _pool(scenario: Scenario) -> tuple[str, ...]:
    m, t, pol = scenario.market, scenario.team, scenario.policies
    total = sum(s.share for s in m.segments)
    segs = "; ".join(
        f"{s.name} {fmt_pct(s.share / total)} (fit {describe_distribution(s.fit)}; value "
        f"{describe_distribution(s.deal_value, scenario.currency)})"
        for s in m.segments
    )
    wait = (
        f"a suspect no seller takes within {fmt_num(m.patience_days)} days goes elsewhere "
        "(unworked) [market.patience_days]"
        if m.patience_days > 0
        else "a suspect waits for a seller as long as it takes [market.patience_days]"
    )
    cap = f"at most {pol.wip_cap} open deals each" if pol.wip_cap else "no cap on open deals"
    order = (
        (
            "; a freed place goes to the newest waiting suspect [policies.pool_order]"
            if pol.pool_order == "newest_first"
            else "; a freed place goes to the suspect that has waited longest [policies.pool_order]"
        )
        if pol.wip_cap
        else ""
    )
    flat = len(set(m.schedule.by_month)) == 1 and m.schedule.quarter_end_push == 1.0
    day = (
        f"; each works {fmt_num(t.working_hours_per_day)} h a day "
        f"[team.working_hours_per_day], {fmt_pct(t.non_selling_share)} of it on non-selling work "
        f"(admin, internal meetings, travel) [team.non_selling_share]: "
        f"{fmt_num(t.selling_hours_per_day)} h for calls, preparation, proposals and touches"
        if t.non_selling_share > 0
        else f"; each has {fmt_num(t.selling_hours_per_day)} h a day for selling "
        "[team.working_hours_per_day]"
    )
    out: list[str] = [
        f"suspects arrive at {fmt_num(m.suspects_per_day)} a day [market.suspects_per_day]"
        + ("" if flat else ", more or fewer in some months [market.schedule]"),
        f"segments [market.segments]: {segs}",
        f"{t.sellers} sellers [team.sellers] take them by "
        f"{t.assignment.replace('_', ' ')} [team.assignment], {cap} [policies.wip_cap]{order}"
        f"{day}",
        wait,
    ]
    if m.leads is not None:
        out.append(_speed_to_lead(m.leads))
    out.append(_pace(scenario))
    return tuple(out)


#: Days between a suspect's arrival and the seller's first reach-out that the map shows.
REACH_OUT_DAYS = (0.0, 1.0, 3.0, 7.0)


def _speed_to_lead(leads: Leads) -> str:
    """Speed to lead in words: the first reach-out, and the chance to answer as days pass."""
    chances = ", ".join(
        f"{fmt_pct(rules.answer_chance(leads.answer_chance, d, leads.interest_half_life_days))}"
        f" after {fmt_num(d)} d"
        for d in REACH_OUT_DAYS
    )
    return (
        f"speed to lead: the seller reaches out first ({fmt_num(leads.first_touch_hours)} h of "
        "research and a first message on the seller's calendar, so a busy seller reaches out "
        f"later) [market.leads.first_touch_hours]; the suspect answers with "
        f"{fmt_pct(leads.answer_chance)} if reached the moment it arrives "
        f"[market.leads.answer_chance], halving every {fmt_num(leads.interest_half_life_days)} "
        f"days [market.leads.interest_half_life_days]: {chances}; one who never answers ends "
        "as no response"
        + (
            f", closed after {fmt_num(leads.cadence_days)} days of outreach "
            "[market.leads.cadence_days]"
            if leads.cadence_days is not None
            else ", closed out like any dark record"
        )
    )


def _pace(scenario: Scenario) -> str:
    """Each deal's pace in words, and how far it also sets the buyer's attention."""
    b = scenario.buyers
    text = (
        f"each deal has a pace, {describe_distribution(b.pace)} [buyers.pace], multiplying every "
        "lag and task of its buyer"
    )
    if b.pace_on_attention > 0:
        power = f"pace^{fmt_num(b.pace_on_attention)}"
        text += (
            f"; a slow buyer's attention runs slower too: momentum half-lives × {power}, the "
            f"competition hazard ÷ {power} [buyers.pace_on_attention]"
        )
    return text


def _dark(scenario: Scenario) -> tuple[str, ...]:
    b, pol = scenario.buyers, scenario.policies
    mom, nd = b.momentum, b.no_decision
    touch = (
        f"a touch (recap, article, case study) after {fmt_num(pol.touch_every_days)} days without "
        f"contact closes {fmt_pct(mom.touch_boost)} of it [policies.touch_every_days, "
        "buyers.momentum.touch_boost]"
        if pol.touch_every_days > 0
        else "no touches between calls [policies.touch_every_days]"
    )
    booking = (
        "the next meeting is booked at the end of each call, within "
        f"{fmt_num(pol.book_next_within_days)} days [policies.book_next_within_days]"
        if pol.book_next_within_days > 0
        else "the next meeting is arranged later, by email [policies.book_next_within_days]"
    )
    return (
        f"In every gap between contacts momentum halves every {fmt_num(mom.half_life_days)} days "
        f"without contact [buyers.momentum.half_life_days] (× the stage's factor; "
        f"× {fmt_num(mom.busy_half_life_factor)} while the buyer works on its own task "
        "[buyers.momentum.busy_half_life_factor])",
        f"hazard of going dark per day = {fmt_num(nd.background_hazard_per_day)} background "
        f"[buyers.no_decision.background_hazard_per_day] + {fmt_num(nd.max_hazard_per_day)} "
        f"[buyers.no_decision.max_hazard_per_day] × (1 − momentum){_SUPERSCRIPT[nd.shape]} "
        "[buyers.no_decision.shape]",
        f"a good call closes {fmt_pct(mom.call_restore_right)} of the gap to full momentum "
        f"[buyers.momentum.call_restore_right]; {touch}",
        booking,
        (
            "the buying group may also stall when a stage's work is done (a stakeholder not "
            "won over blocks it at the stage's gate), and a wrong step may end contact at once"
            if b.group is not None
            else "the buying group may also stall when a stage's work is done (its share of the "
            "consensus penalty), and a wrong step may end contact at once"
        ),
        f"a dark deal is closed as no decision in the CRM "
        f"{describe_distribution(scenario.crm.close_out_delay_days, 'd')} later, holding its "
        "seller's WIP place until then [crm.close_out_delay_days]",
    )


def _close(scenario: Scenario) -> tuple[str, ...]:
    b = scenario.buyers
    c, ch = b.consensus, b.choice
    per_segment = ", ".join(
        f"{s.name} (fit {fmt_num(s.fit.mean)}) {fmt_pct(_chosen(scenario, s.fit.mean))}"
        for s in scenario.market.segments
    )
    group = b.group
    first = (
        (
            "consensus: every stakeholder may block the deal at the end of each stage, with the "
            "stage's gate [stages.<name>.gate] × (1 − their alignment); the champion starts at "
            f"{fmt_num(group.champion_alignment)} [buyers.group.champion_alignment], the others "
            f"at {fmt_num(group.initial_alignment)} [buyers.group.initial_alignment]; each "
            f"activity a member sees done right closes {fmt_pct(group.align_right)} of the gap "
            "[buyers.group.align_right]; members not met drift back, half the way every "
            f"{fmt_num(group.drift_half_life_days)} d [buyers.group.drift_half_life_days]"
        )
        if group is not None
        else None
    )
    out: tuple[str, ...] = (
        f"consensus: P(n) = {fmt_num(c.p_one)} [buyers.consensus.p_one] × "
        f"{fmt_num(c.q_per_extra)}^(n−1) [buyers.consensus.q_per_extra] for a buying group of n "
        "at average fit and full momentum, "
        f"paid stage by stage (consensus_share); fit moves it by up to ±{fmt_pct(c.fit_weight)} "
        "[buyers.consensus.fit_weight]",
        f"buying group: {describe_distribution(b.group_size)} people [buyers.group_size]",
        f"supplier choice: we are chosen {fmt_pct(ch.win_base)} of the time at average fit "
        f"[buyers.choice.win_base]; by segment's mean fit: {per_segment} "
        "[buyers.choice.fit_weight]",
    )
    if first is not None:
        out = (first, *out[1:])
    comp = b.competition
    if comp.hazard_per_day > 0:
        days = 1.0 / comp.hazard_per_day
        out += (
            f"competition: from the opening on, the buyer may commit elsewhere at any stage, "
            f"{fmt_num(comp.hazard_per_day)} a day (one in {fmt_num(days)} days) at average fit "
            "[buyers.competition.hazard_per_day], more for a poor fit "
            "[buyers.competition.fit_weight] and × "
            f"{fmt_num(comp.wrong_step_factor)} for each stage with a wrong step "
            "[buyers.competition.wrong_step_factor]; the seller learns it at the next contact",
        )
    fc = scenario.forecast
    if fc.stale_half_life_factor != 1 or fc.stale_competition_factor != 1:
        out += (
            "once the buyer's own date (the first forecast close date) passes undecided, "
            f"momentum fades {fmt_num(1 / fc.stale_half_life_factor)}× as fast "
            f"[forecast.stale_half_life_factor] and alternatives weigh "
            f"{fmt_num(fc.stale_competition_factor)}× more [forecast.stale_competition_factor]",
        )
    if ch.momentum_weight > 0:
        out += (
            f"a buyer whose interest has faded chooses us less: × (1 − "
            f"{fmt_num(ch.momentum_weight)} × (1 − momentum)) [buyers.choice.momentum_weight]",
        )
    return out


def _chosen(scenario: Scenario, fit: float) -> float:
    """Chance we are chosen once the group decides to buy: win_base · (1 + w · (2 fit − 1))."""
    ch = scenario.buyers.choice
    return min(1.0, rules.win_chance(ch.win_base, ch.fit_weight, fit))


def _accounts(scenario: Scenario) -> tuple[str, ...]:
    """The account lifecycle's parts, each by its table's own description (read generically, so
    the map follows the lifecycle's schema as it grows)."""
    accounts = getattr(scenario, "accounts", None)
    if not isinstance(accounts, BaseModel):
        return ()
    out = []
    for name in type(accounts).model_fields:
        part = getattr(accounts, name)
        if isinstance(part, BaseModel) and part.__doc__:
            out.append(f"{part.__doc__.strip().splitlines()[0]} [accounts.{name}]")
    return tuple(out)


def _outcomes(scenario: Scenario) -> tuple[str, ...]:
    opens = scenario.stages[scenario.opens_at_index].name
    out = [
        f"the CRM opens an opportunity when the deal enters {opens} [crm.opens_at]",
        "won: the group agrees and chooses us",
        "lost (No Go): the group buys elsewhere or builds in house",
        "no decision: an opportunity goes dark (silence, a stalled group, raised defences) or "
        "the group never decides",
        f"no response: a suspect goes dark before {opens} (never engaged; not an opportunity)",
    ]
    if any(s.qualification is not None for s in scenario.stages):
        out.append("disqualified: a poor fit read at the qualifying stage (a cheap No Go)")
    if scenario.market.patience_days > 0:
        out.append("unworked: a suspect no seller took in time (never contacted)")
    return tuple(out)
