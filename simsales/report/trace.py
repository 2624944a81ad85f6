"""A deal's story in plain sentences, day by day (``simsales trace``).

Each episode of a ``DealStory`` becomes one line: "Day 412.5 (week 3) — Discovery call 2 of 3
covered 1 activity; one step was done wrong and must be redone. Momentum 0.82." A header says who
the deal is and a closing line what it adds up to; both, like every line, are read from the
story, so the text agrees with the deal table wherever the story does (tested there).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from simsales.model.records import OUTCOMES
from simsales.results.story import DealStory, Episode, WaitPart, deal_stories, sample_deals
from simsales.scenario import Scenario

__all__ = [
    "FIGURE_FORMATS",
    "TraceError",
    "check_figure",
    "trace_deals",
    "trace_text",
    "traces_text",
]

#: File endings ``--figure`` can write.
FIGURE_FORMATS = (".png", ".svg", ".pdf")


class TraceError(Exception):
    """The deals asked for cannot be traced (or drawn); the message says why."""


def check_figure(path: Path | None, force: bool, *, deals: int) -> None:
    """Refuse a figure file before anything runs: wrong ending, already there, too many deals."""
    from simsales.plots.timeline import MAX_TIMELINE_DEALS

    if path is None:
        return
    if path.suffix.lower() not in FIGURE_FORMATS:
        raise TraceError(f"{path}: a figure file must end in {', '.join(FIGURE_FORMATS)}")
    if path.exists() and not force:
        raise TraceError(f"{path} exists; choose another file or pass --force to overwrite it")
    if not path.parent.is_dir():
        raise TraceError(f"cannot write {path}: no folder {path.parent}")
    if deals > MAX_TIMELINE_DEALS:
        raise TraceError(f"a timeline shows at most {MAX_TIMELINE_DEALS} deals, not {deals}")


def trace_deals(
    scenario: Scenario,
    *,
    seed: int,
    replication: int,
    deals: Sequence[int] = (),
    outcome: str | None = None,
    sample: int = 1,
    figure: Path | None = None,
) -> tuple[str, Path | None]:
    """Run one replication with its event log and tell the chosen deals' stories.

    Deals are ``deals`` by id, or ``sample`` deals of the counted cohort that ended as
    ``outcome``, drawn from the seed. Returns the text and the figure written (if ``figure``).
    Raises ``TraceError`` for an unknown deal or outcome, or an outcome no deal had.
    """
    from simsales.model.simulation import simulate
    from simsales.output import atomic_open
    from simsales.results.table import DealTable

    if outcome is not None and outcome not in OUTCOMES:
        raise TraceError(f"unknown outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
    records = simulate(scenario, seed=seed, replication=replication, event_log=True)
    assert records.events is not None
    table = DealTable.from_records(records)
    where = f"replication {replication} of {scenario.name} (seed {seed})"
    if outcome is not None:
        deals = sample_deals(table, outcome, sample, seed=seed, replication=replication)
        if not deals:
            raise TraceError(f"no deal of the counted cohort ended as {outcome} in {where}")
    try:
        stories = deal_stories(table, records.events.columns(), deals)
    except KeyError as err:
        raise TraceError(f"{where}: {err.args[0]}") from None
    if figure is not None:
        from simsales.plots._style import printable_figure
        from simsales.plots.timeline import deal_timelines

        fig = printable_figure(deal_timelines(stories))
        with atomic_open(figure, "wb") as fh:
            fig.savefig(fh, format=figure.suffix.lower()[1:], dpi=150)
    return traces_text(stories), figure


_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

_OUTCOME_WORDS = {
    "won": "won",
    "lost": "lost",
    "no_decision": "closed as no decision",
    "disqualified": "disqualified",
    "no_response": "closed as no response",
    "unworked": "unworked",
    "open": "still open",
}


def traces_text(stories: Sequence[DealStory]) -> str:
    """The traces of several deals, one after the other, separated by a blank line."""
    return "\n\n".join(trace_text(story) for story in stories) + "\n"


def trace_text(story: DealStory) -> str:
    """One deal's trace: a header, one line per episode in time order, and a summary line."""
    lines = [_header(story), ""]
    lines += [f"{_when(story, e)} — {_sentence(story, e)}" for e in story.episodes]
    lines += ["", _summary(story)]
    return "\n".join(lines)


def _header(story: DealStory) -> str:
    if story.origin != "new_business":
        cohort = (
            f" {_origin_phrase(story)} opportunity inside account {story.account_id}: counted"
            " in the account metrics, not in the new-business cohort."
        )
    elif story.counted:
        cohort = ""
    else:
        cohort = " Not in the counted cohort (warm-up or last margin)."
    return (
        f"Deal {story.deal_id} of {story.scenario_name} (seed {story.seed}, replication "
        f"{story.replication}): a buyer in the {story.segment} segment, a buying group of "
        f"{story.group_size}, fit {story.fit:.2f}, list value {story.value:,.0f}.{cohort}"
    )


def _origin_phrase(story: DealStory) -> str:
    """'An upsell', 'A cross-sell', ... for an opportunity inside an account."""
    words = story.origin.replace("_", "-")
    return f"{'An' if words[0] in 'aeiou' else 'A'} {words}"


def _when(story: DealStory, e: Episode) -> str:
    start = story.assigned_at
    if math.isnan(start) or e.at < start:
        return f"Day {e.at:.1f} (in the pool)"
    return f"Day {e.at:.1f} (week {int((e.at - start) // 7) + 1})"


def _count(n: int, noun: str, plural: str = "") -> str:
    """'no calls', 'one call', 'two calls', ..., '12 calls'."""
    word = _NUMBERS[n] if n < len(_NUMBERS) else str(n)
    return f"{word} {noun if n == 1 else plural or noun + 's'}"


def _capital(text: str) -> str:
    """A stage name at the start of a sentence."""
    return text[:1].upper() + text[1:]


def _article(number: str) -> str:
    """'An' before numbers spoken with a vowel first (8, 11, 18, 80-89, ...), else 'A'."""
    whole = number.split(".")[0]
    spoken_vowel = whole.startswith("8") or (len(whole) % 3 == 2 and whole[:2] in ("11", "18"))
    return "An" if spoken_vowel else "A"


def _momentum(value: float) -> str:
    return "" if math.isnan(value) else f" Momentum {value:.2f}."


def _sentence(story: DealStory, e: Episode) -> str:
    """One episode as a sentence (or two)."""
    stage = story.stage_name(e.stage)
    kind = e.kind
    if kind == "created":
        if story.origin != "new_business":
            return (
                f"{_origin_phrase(story)} opportunity opened in account {story.account_id}"
                f" (value {e.value:,.0f})."
            )
        return f"The suspect arrived in the pool (list value {e.value:,.0f})."
    if kind == "assigned":
        waited = e.at - story.created_at
        after = f" after {waited:.1f} days in the pool" if waited >= 0.05 else ""
        return f"Seller {e.seller} took it on{after}.{_momentum(e.momentum)}"
    if kind == "reached":
        since = e.at - story.created_at
        return (
            f"The seller reached out, {since:.1f} days after the suspect arrived: by then a "
            f"{100 * e.value:.0f}% chance it would answer."
        )
    if kind == "stage":
        opened = (
            " The CRM opened an opportunity."
            if story.origin == "new_business" and e.stage == story.opens_stage + 1
            else ""
        )
        if math.isnan(e.momentum):  # entered within a call whose agenda ran on
            return f"The call ran on into stage {e.stage}, {stage}.{opened}"
        return (
            f"Stage {e.stage} of {len(story.stage_names)}, {stage}, began."
            f"{opened}{_momentum(e.momentum)}"
        )
    if kind == "gap":
        days = f"{e.days:.1f}"
        return f"{_article(days)} {days}-day gap followed: {_gap_causes(e.parts, story)}."
    if kind == "call":
        covered = _count(e.activities, "activity", "activities")
        text = f"{_capital(stage)} call {e.number} of {e.of} covered {covered}"
        if e.wrong:
            steps = "one step was" if e.wrong == 1 else f"{_count(e.wrong, 'step')} were"
            text += f"; {steps} done wrong and must be redone"
        return f"{text}.{_momentum(e.momentum)}"
    if kind == "touch":
        return "The seller sent a touch (a recap, an article, a case study)."
    if kind == "buyer_task":
        return (
            f"The buyer started a task of its own ({stage}), taking {e.days:.1f} days "
            f"(to day {e.end:.1f})."
        )
    if kind == "seller_work":
        return f"The seller started {e.hours:.1f} hours of offline work for {stage}."
    if kind == "qualified":
        return f"{_capital(stage)} qualified the deal: it stays (the buyer's true fit {e.fit:.2f})."
    if kind == "disqualified":
        return (
            f"{_capital(stage)} disqualified the buyer (true fit {e.fit:.2f}): a cheap No Go "
            "rather than a late no decision."
        )
    if kind == "forecast_set":
        return f"The seller set the forecast close date: day {e.date:.1f}."
    if kind == "forecast_pushed":
        return (
            f"The forecast close date, day {e.at:.1f}, passed undecided: pushed to day "
            f"{e.date:.1f}."
        )
    if kind == "went_dark":
        return _dark(e, stage)
    if kind == "decided":
        if e.outcome == "won":
            return f"The buying group decided to buy, and chose us: won.{_momentum(e.momentum)}"
        if story.closed_at > e.at:  # lost along the way: the seller hears of it later
            during = story.stage_name(story.stage_reached)
            return (
                f"In the gap, during {during}, the buyer committed to another supplier or "
                f"approach: lost. The seller learns it at the next contact, on day "
                f"{story.closed_at:.1f}.{_momentum(e.momentum)}"
            )
        return (
            "The buying group decided to buy, from someone else or in house: lost."
            f"{_momentum(e.momentum)}"
        )
    if kind == "closed":
        if e.outcome in ("no_decision", "no_response"):
            what = "no decision" if e.outcome == "no_decision" else "no response (a suspect "
            what += "" if e.outcome == "no_decision" else "who never engaged)"
            return (
                f"The seller closed it in the CRM as {what}, {e.at - story.dark_at:.1f} "
                "days after the buyer went dark."
            )
        return f"The CRM recorded the end: {_OUTCOME_WORDS[e.outcome]}."
    if kind == "unworked":
        return (
            f"It gave up waiting for a seller after {e.at - story.created_at:.1f} days: unworked."
        )
    # an event the story does not know yet: say what the log says
    return f"The model logged '{e.event}' (value {e.value:g}).{_momentum(e.momentum)}"


def _gap_causes(parts: Sequence[WaitPart], story: DealStory) -> str:
    """What a gap waited for, part by part, with the day each part ended."""
    reached = next((e.at for e in story.episodes if e.kind == "reached"), math.nan)
    said = []
    for i, p in enumerate(parts):
        until = p.start + p.days
        if p.cause == "task":
            said.append(f"the buyer's own tasks ran until day {until:.1f}")
        elif p.cause == "work" and abs(until - reached) < 1e-6:  # speed to lead
            said.append(f"the seller found time to reach out on day {until:.1f}")
        elif p.cause == "work":
            said.append(f"the seller's offline work until day {until:.1f}")
        elif p.cause == "buyer":
            said.append(f"the buyer's group could not meet before day {until:.1f}")
        else:
            lead = "but " if i else ""
            said.append(f"{lead}the seller had no free slot before day {until:.1f}")
    if len(said) > 1 and parts[-1].cause == "seller":
        return ", then ".join(said[:-1]) + ", " + said[-1]
    return ", then ".join(said)


#: Momentum at or above which a buyer who went dark in a gap is not said to have "faded".
_STILL_KEEN = 0.75


def _dark(e: Episode, stage: str) -> str:
    at = f" (momentum {e.momentum:.2f})" if not math.isnan(e.momentum) else ""
    if e.cause == "faded":
        if e.momentum >= _STILL_KEEN:  # the hazard is mostly the part no contact removes
            return (
                f"The buyer went dark in the gap, its momentum still {e.momentum:.2f}: time "
                "alone can kill a deal (a frozen budget, a champion who leaves)."
            )
        return f"The buyer went dark: its momentum had faded to {e.momentum:.2f} in the gap."
    if e.cause == "stalled":
        return f"The buying group could not agree to go on after {stage}: the deal stalled{at}."
    if e.cause == "defences":
        return f"The step done wrong raised the buyer's defences: no more contact{at}."
    if e.cause == "unanswered":
        return "The suspect never answered: its interest had faded before the seller reached out."
    return f'After the last stage the group never decided: "we\'ll get back to you"{at}.'


def _summary(story: DealStory) -> str:
    """The closing line: the numbers the deal table holds for this deal."""
    outcome = story.outcome
    if outcome == "open":
        end = f"still open at the horizon (day {story.horizon_days:g})"
        if not math.isnan(story.dark_at):
            end += f", dark since day {story.dark_at:.1f} but not yet closed out"
        start = story.opened_at
        cycle = (
            ""
            if math.isnan(start)
            else f", {story.horizon_days - start:.1f} days after the opportunity opened"
        )
    else:
        end = f"{_OUTCOME_WORDS[outcome]} on day {story.closed_at:.1f}"
        cycle = (
            ""
            if math.isnan(story.opened_at)
            else f", {story.cycle_days:.1f} days after the opportunity opened"
        )
    if math.isnan(story.assigned_at):
        return f"In short: {end}; no seller ever took it."
    return (
        f"In short: {end}{cycle}; reached stage {story.stage_reached} "
        f"({story.stage_name(story.stage_reached)}); {_count(story.calls, 'call')}, "
        f"{_count(story.touches, 'touch', 'touches')}, "
        f"{_count(story.pushes, 'forecast push', 'forecast pushes')}, "
        f"{_count(story.wrong_activities, 'step')} done wrong; the gaps waited "
        f"{story.buyer_wait_days:.1f} days for the buyer and {story.seller_wait_days:.1f} for "
        "the seller."
    )
