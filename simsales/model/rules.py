"""The rules of a sale: what a call covers, who comes, how long it waits, what a decision takes.

Small pure functions of plain numbers, with no SimPy, no randomness kept and no state: the
opportunity process (``simsales.model.opportunity``) calls them in the story of a deal, and
``simsales explain`` (``simsales.analysis.process_map``) calls the same ones to draw the process
map, so there is one copy of each rule. A rule that needs chance is given its uniform draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = [
    "AgendaStage",
    "aligned",
    "answer_chance",
    "attendees",
    "call_agenda",
    "call_alignment_gain",
    "call_hours",
    "chance_right",
    "competition_rate",
    "consensus",
    "drifted",
    "earliest_call",
    "meeting_lag",
    "member_blocks",
    "overload_factor",
    "restored",
    "stage_agrees",
    "win_chance",
]


class AgendaStage(Protocol):
    """What a call's agenda needs to know of a stage."""

    @property
    def activities(self) -> int: ...

    @property
    def flows_on(self) -> bool: ...


def call_agenda(stages: Sequence[AgendaStage], stage: int, remaining: int, per_call: int) -> int:
    """Activities the next call covers: up to ``per_call``, the stage's ``remaining`` first.

    The agenda runs on into the next stages while nothing blocks it: the stage has no buyer task
    and no seller work after it (``flows_on``) and the next stage has activities of its own.
    """
    agenda = remaining
    j = stage
    last = len(stages) - 1
    while agenda < per_call and j < last and stages[j].flows_on and stages[j + 1].activities:
        j += 1
        agenda += stages[j].activities
    return agenda if agenda < per_call else per_call


def attendees(group: int, attendee_share: float, per_extra_activity: float, agenda: int) -> int:
    """Members of a buying group of ``group`` a call of ``agenda`` activities needs.

    The stage's ``attendee_share`` of the group, more for a bigger agenda (each activity beyond
    the first adds ``per_extra_activity`` of the group), at least one, at most all.
    """
    share = attendee_share + per_extra_activity * (agenda - 1)
    if share >= 1.0:
        return group
    n = round(group * share)
    return group if n > group else 1 if n < 1 else n


def meeting_lag(
    lag_days: float, pace: float, attendees: int, per_attendee: float, lag_factor: float
) -> float:
    """Days until the buying group can meet: one stakeholder's lag (``lag_days``, drawn), slower
    for a slow deal (``pace``), for every extra attendee (``per_attendee``) and after wrong steps
    that lengthen every later gap (``lag_factor``)."""
    return lag_days * pace * (1.0 + per_attendee * (attendees - 1)) * lag_factor


def earliest_call(
    t: float, last_call: float, ready: float, lag: float, book_within: float
) -> float:
    """The earliest the next call can be held (before the seller's calendar has its say).

    ``t`` is when the latest thing happened (a call, or a stage's start), ``ready`` when the
    buyer's tasks and the seller's offline work are done. A call that books the next meeting
    before it ends (``book_within`` > 0, right after a call) holds it within ``book_within`` days
    however slow the group's calendars; otherwise the next meeting is asked for once the work is
    done, and the group's lag follows.
    """
    if book_within > 0.0 and t == last_call:
        earliest = t + (lag if lag < book_within else book_within)
        return earliest if earliest > ready else ready
    return (ready if ready > t else t) + lag


def call_hours(base: float, per_extra_activity: float, prep: float, agenda: int) -> float:
    """Seller hours of a call of ``agenda`` activities, with its preparation."""
    return base + per_extra_activity * (agenda - 1) + prep


def overload_factor(factor: float, comfortable: int, agenda: int) -> float:
    """Factor on the chance of doing each activity right: ``factor`` per activity beyond the
    buyer's ``comfortable`` number."""
    return factor ** max(0, agenda - comfortable)


def chance_right(p_right: float, skill: float, overload: float) -> float:
    """Chance an activity is done right: the stage's ``p_right`` times the seller's skill (at
    most 1), times the overload of a big agenda."""
    p = p_right * skill
    return (1.0 if p > 1.0 else p) * overload


def restored(momentum: float, restore: float) -> float:
    """Momentum after a contact that closes ``restore`` of the gap to 1."""
    return momentum + (1.0 - momentum) * restore


def consensus(
    p_one: float, q_per_extra: float, group: float, fit: float, fit_weight: float
) -> float:
    """The group's purchase likelihood at full momentum: p_one · q^(n−1), moved by fit."""
    fit_factor = 1.0 + fit_weight * (2.0 * fit - 1.0)
    p = p_one * q_per_extra ** (group - 1) * fit_factor
    return 0.0 if p < 0.0 else 1.0 if p > 1.0 else p


def stage_agrees(
    die: float, consensus: float, share: float, momentum: float, momentum_weight: float
) -> bool:
    """The buying group pays a stage's ``share`` of the consensus penalty, and agrees to go on.

    An engaged group (momentum 1) passes with ``consensus ** share``, so the stages together
    give the group's purchase likelihood; a group whose interest has faded agrees less readily:
    the exponent grows by ``momentum_weight * (1 - momentum)``.
    """
    if share <= 0.0:
        return True
    return die < consensus ** (share * (1.0 + momentum_weight * (1.0 - momentum)))


def win_chance(
    win_base: float,
    fit_weight: float,
    fit: float,
    momentum: float = 1.0,
    momentum_weight: float = 0.0,
) -> float:
    """Once the group decides to buy: the chance it chooses us, moved by the buyer's fit and,
    with ``momentum_weight``, by how much of its interest is left at the decision."""
    chance = win_base * (1.0 + fit_weight * (2.0 * fit - 1.0))
    if momentum_weight > 0.0:
        chance *= 1.0 - momentum_weight * (1.0 - momentum)
    return chance


def competition_rate(
    hazard: float,
    stage_weight: float,
    fit: float,
    fit_weight: float,
    wrong_stages: int,
    wrong_factor: float,
) -> float:
    """The daily hazard that the buyer commits elsewhere while in a stage: the base ``hazard``,
    the stage's weight, higher for a poor fit and after each stage with a wrong step."""
    rate = hazard * stage_weight * (1.0 + fit_weight * (1.0 - 2.0 * fit))
    if wrong_stages:
        rate *= wrong_factor**wrong_stages
    return rate if rate > 0.0 else 0.0


def aligned(alignment: float, gain: float) -> float:
    """A stakeholder's alignment after something that closes ``gain`` of its gap to 1."""
    return alignment + (1.0 - alignment) * gain


def call_alignment_gain(right: int, wrong: int, align_right: float, align_wrong: float) -> float:
    """The share of a present member's gap to full alignment a call closes: each activity the
    member sees done right closes ``align_right`` of what is left, each done wrong
    ``align_wrong``. A bigger agenda aligns everyone present more."""
    return 1.0 - (1.0 - align_right) ** right * (1.0 - align_wrong) ** wrong


def drifted(alignment: float, rest: float, days: float, half_life: float) -> float:
    """A stakeholder's alignment after ``days`` without being met: back towards ``rest``, half
    the distance every ``half_life`` days."""
    return rest + (alignment - rest) * 0.5 ** (days / half_life)


def member_blocks(gate: float, alignment: float) -> float:
    """Chance a stakeholder blocks the deal at a stage's gate: ``gate`` times how far the member
    is from full alignment."""
    return gate * (1.0 - alignment)


def answer_chance(at_once: float, response_days: float, half_life: float) -> float:
    """Chance a suspect answers the seller's first reach-out, ``response_days`` after it arrived:
    ``at_once`` for an answer at the moment it arrived, halving every ``half_life`` days."""
    return at_once * 0.5 ** (response_days / half_life)
