"""Deal stories and ``simsales trace``: stable, and in agreement with the deal table."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from simsales.cli import main
from simsales.model.records import DARK_CAUSES, RunRecords
from simsales.model.simulation import simulate
from simsales.plots.timeline import MAX_TIMELINE_DEALS, deal_timelines
from simsales.report.trace import trace_deals, trace_text, traces_text
from simsales.results.story import WAIT_CAUSES, DealStory, deal_stories, sample_deals
from simsales.results.table import DealTable
from simsales.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
SHORT = (
    "run.horizon_days=420",
    "run.warmup_days=60",
    "run.cohort_margin_days=60",
    "policies.touch_every_days=4",
)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(BASELINE, SHORT)


@pytest.fixture(scope="module")
def run(scenario: Scenario) -> tuple[DealTable, list[DealStory], RunRecords]:
    records = simulate(scenario, seed=5, replication=1, event_log=True)
    assert records.events is not None
    table = DealTable.from_records(records)
    return table, deal_stories(table, records.events.columns()), records


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _stored(day: float) -> float:
    """A day as the deal table stores it (float32, ``TIME_FIELDS``); the log keeps float64."""
    return float(np.float32(day))


def test_every_story_agrees_with_the_deal_table(
    run: tuple[DealTable, list[DealStory], RunRecords],
) -> None:
    table, stories, _ = run
    assert [s.deal_id for s in stories] == table["deal_id"].tolist()
    outcomes = set()
    for i, s in enumerate(stories):
        outcomes.add(s.outcome)
        assert s.outcome == table.outcome_names[i], s.deal_id
        for name in ("assigned_at", "ended_at", "closed_at"):
            assert _same(_stored(getattr(s, name)), float(table[name][i])), (s.deal_id, name)
        assert _stored(s.created_at) == pytest.approx(float(table["created_at"][i]), rel=1e-12)
        assert s.cycle_days == pytest.approx(float(table.cycle_days[i]), abs=1e-3, nan_ok=True)
        for name in ("calls", "touches", "pushes", "stage_reached", "wrong_activities", "seller"):
            assert getattr(s, name) == int(table[name][i]), (s.deal_id, name)
        # the gaps' causes sum to the table's waits (which it keeps as float32)
        for name in ("buyer_wait_days", "seller_wait_days", "gap_days"):
            assert getattr(s, name) == pytest.approx(float(table[name][i]), rel=1e-5, abs=1e-3)
        if s.outcome in ("won", "lost", "no_decision", "disqualified"):
            assert s.final_momentum == pytest.approx(float(table["final_momentum"][i]), rel=1e-6)
    assert {"won", "lost", "no_decision", "open"} <= outcomes, "the run tests too little"


def test_episodes_are_in_time_order_and_gaps_end_at_calls(
    run: tuple[DealTable, list[DealStory], RunRecords],
) -> None:
    _, stories, _ = run
    gaps = 0
    for s in stories:
        times = [e.at for e in s.episodes]
        assert times == sorted(times), s.deal_id
        calls = {e.at for e in s.episodes if e.kind == "call"}
        per_stage: dict[int, list[int]] = {}
        for e in s.episodes:
            if e.kind == "gap":
                gaps += 1
                assert e.end in calls, "a gap that no call ends"
                assert e.parts and e.parts[0].start == e.at
                for a, b in zip(e.parts, e.parts[1:], strict=False):  # contiguous, in order
                    assert a.start + a.days == pytest.approx(b.start, abs=1e-9)
                    assert WAIT_CAUSES.index(a.cause) < WAIT_CAUSES.index(b.cause)
                assert sum(p.days for p in e.parts) == pytest.approx(e.days, abs=1e-9)
            if e.kind == "call":
                per_stage.setdefault(e.stage, []).append(e.number)
                assert 1 <= e.number <= e.of and 0 <= e.wrong <= e.activities + e.wrong
        for numbers in per_stage.values():
            assert numbers == list(range(1, len(numbers) + 1))
        if s.outcome == "no_decision":
            assert s.dark_cause in DARK_CAUSES
    assert gaps > 100


def test_causes_of_going_dark(run: tuple[DealTable, list[DealStory], RunRecords]) -> None:
    """A deal whose buyer's defences went up had a wrong step in a call at that moment; one that
    faded went dark in a gap, away from any call."""
    _, stories, _ = run
    seen = set()
    for s in stories:
        if not s.dark_cause:
            continue
        seen.add(s.dark_cause)
        at_call = [e for e in s.episodes if e.kind == "call" and e.at == s.dark_at]
        if s.dark_cause == "defences":
            assert at_call and at_call[0].wrong > 0, s.deal_id
        if s.dark_cause == "faded":
            assert not at_call, s.deal_id
    assert {"faded", "stalled"} <= seen


def _lost_along_the_way(s: DealStory) -> bool:
    """Lost in a gap to another supplier: decided before the seller learned it."""
    return s.outcome == "lost" and any(
        e.kind == "decided" and e.at < s.closed_at for e in s.episodes
    )


def test_a_loss_along_the_way_reads_as_one(
    run: tuple[DealTable, list[DealStory], RunRecords],
) -> None:
    """A buyer who commits elsewhere in a gap is told apart from a group that decided at the end:
    the stage it was in, and the day the seller learned it."""
    _, stories, _ = run
    lost = [s for s in stories if s.outcome == "lost"]
    along = [s for s in lost if _lost_along_the_way(s)]
    at_end = [s for s in lost if not _lost_along_the_way(s)]
    assert along and at_end, "the run tests too little"
    for s in along:
        text = trace_text(s)
        stage = s.stage_name(s.stage_reached)
        assert f"In the gap, during {stage}, the buyer committed to another supplier" in text
        assert f"learns it at the next contact, on day {s.closed_at:.1f}" in text
        assert "decided to buy, from someone else" not in text
    for s in at_end:
        text = trace_text(s)
        assert "decided to buy, from someone else or in house: lost" in text
        assert "committed to another supplier" not in text


def test_the_reach_out_and_a_keen_buyer_going_dark_are_named(
    run: tuple[DealTable, list[DealStory], RunRecords],
) -> None:
    _, stories, _ = run
    reached = [s for s in stories if any(e.kind == "reached" for e in s.episodes)]
    assert reached
    for s in reached[:50]:
        first_gap = next((e for e in s.episodes if e.kind == "gap"), None)
        if first_gap is not None and first_gap.parts[0].cause == "work":
            assert "the seller found time to reach out on day" in trace_text(s), s.deal_id
    faded = [s for s in stories if s.dark_cause == "faded"]
    keen = {True: 0, False: 0}
    for s in faded:
        dark = next(e for e in s.episodes if e.kind == "went_dark")
        text = trace_text(s)
        still = dark.momentum >= 0.75  # the hazard is then mostly the background's
        keen[still] += 1
        assert ("time alone can kill a deal" in text) is still, (s.deal_id, dark.momentum)
        assert ("its momentum had faded to" in text) is not still, s.deal_id
    assert keen[True] and keen[False], keen


def test_trace_is_stable_and_says_what_the_table_says(scenario: Scenario) -> None:
    first, _ = trace_deals(scenario, seed=5, replication=1, outcome="won", sample=2)
    again, _ = trace_deals(scenario, seed=5, replication=1, outcome="won", sample=2)
    assert first == again
    assert first.count("In short: won on day") == 2
    other, _ = trace_deals(scenario, seed=6, replication=1, outcome="won", sample=2)
    assert other != first


def test_summary_line_carries_the_tables_numbers(
    run: tuple[DealTable, list[DealStory], RunRecords],
) -> None:
    table, stories, _ = run
    i = int(np.flatnonzero((table["calls"] > 10) & (table.outcome_names == "lost"))[0])
    text = trace_text(stories[i])
    summary = text.splitlines()[-1]
    assert f"{table['calls'][i]} calls" in summary
    assert f"on day {table['closed_at'][i]:.1f}" in summary
    assert f"{table.cycle_days[i]:.1f} days after the opportunity opened" in summary
    lines = [ln for ln in text.splitlines() if re.match(r"Day \d+\.\d \(", ln)]
    assert len(lines) == len(stories[i].episodes)
    assert traces_text(stories[:2]).count("In short:") == 2


def test_sample_is_drawn_from_the_seed(
    run: tuple[DealTable, list[DealStory], RunRecords],
) -> None:
    table, _, _ = run
    a = sample_deals(table, "no_decision", 3, seed=1, replication=0)
    assert a == sample_deals(table, "no_decision", 3, seed=1, replication=0)
    assert len(a) == 3 and a == sorted(a)
    codes = dict(zip(table["deal_id"].tolist(), table.outcome_names.tolist(), strict=True))
    counted = dict(zip(table["deal_id"].tolist(), table.counted.tolist(), strict=True))
    assert all(codes[d] == "no_decision" and counted[d] for d in a)
    many = sample_deals(table, "no_decision", 10_000, seed=1, replication=0)
    assert len(many) == int(np.sum(table.counted & (table.outcome_names == "no_decision")))
    assert sample_deals(table, "unworked", 3, seed=1, replication=0) == []
    with pytest.raises(ValueError, match="unknown outcome"):
        sample_deals(table, "maybe", 1, seed=1, replication=0)


def test_unknown_deal_is_a_key_error(run: tuple[DealTable, list[DealStory], RunRecords]) -> None:
    table, _, records = run
    assert records.events is not None
    with pytest.raises(KeyError, match="no deal 99999"):
        deal_stories(table, records.events.columns(), [99999])


def test_timeline_has_one_row_per_deal(run: tuple[DealTable, list[DealStory], RunRecords]) -> None:
    _, stories, _ = run
    chosen = [s for s in stories if s.outcome != "unworked"][:5]
    fig = deal_timelines(chosen)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == [f"deal {s.deal_id}\n{_word(s.outcome)}" for s in chosen]
    assert "days since a seller took the deal" in fig.axes[0].get_xlabel()
    with pytest.raises(ValueError, match="at most"):
        deal_timelines(stories[: MAX_TIMELINE_DEALS + 1])


@pytest.mark.parametrize("n", [1, 3, 6, MAX_TIMELINE_DEALS])
def test_timeline_legend_fits_the_figure(
    run: tuple[DealTable, list[DealStory], RunRecords], n: int
) -> None:
    """Whatever the deals' ends (one kind, or every kind), the legend lies inside the figure."""
    _, stories, _ = run
    by_outcome: dict[str, list[DealStory]] = {}
    for story in stories:
        by_outcome.setdefault(story.outcome, []).append(story)
    mixed = [group[i] for i in range(n) for group in by_outcome.values() if i < len(group)]
    for chosen in (stories[:n], mixed[:n]):
        fig = deal_timelines(chosen)
        fig.savefig(io.BytesIO(), format="png", dpi=60)  # lays the figure out
        (legend,) = fig.legends
        box, frame = legend.get_window_extent(), fig.bbox
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0, (n, box, frame)
        shown = {t.get_text() for t in legend.get_texts()}
        assert {f"end: {_word(s.outcome)}" for s in chosen} <= shown


def _word(outcome: str) -> str:
    words = {"no_decision": "no decision", "no_response": "no response", "open": "open at horizon"}
    return words.get(outcome, outcome)


# --- the CLI ---------------------------------------------------------------------------------


def _trace(*args: str | Path) -> Result:
    sets = [f"--set={s}" for s in SHORT]
    return CliRunner().invoke(main, ["trace", str(BASELINE), *sets, *map(str, args)])


def test_cli_traces_a_deal_and_draws_it(tmp_path: Path) -> None:
    figure = tmp_path / "deals.png"
    result = _trace("--deal", "40", "--deal", "41", "--seed", "5", "--figure", figure)
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith("Deal 40 of baseline (seed 5, replication 0)")
    assert "Deal 41 of baseline" in text and f"timeline written to {figure}" in text
    assert figure.read_bytes().startswith(b"\x89PNG")
    refused = _trace("--deal", "40", "--figure", figure)
    assert refused.exit_code == 2 and "--force" in refused.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--deal", "99999"), "no deal 99999"),
        (("--outcome", "unworked"), "no deal of the counted cohort ended as unworked"),
        (("--outcome", "maybe"), "unknown outcome 'maybe'"),
        ((), "either --deal"),
        (("--deal", "1", "--outcome", "won"), "either --deal"),
        (("--outcome", "won", "--sample", "13", "--figure", "x.png"), "at most 12"),
        (("--deal", "1", "--figure", "x.gif"), ".png, .svg, .pdf"),
    ],
)
def test_cli_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    result = _trace(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_readme_trace_excerpt_is_current() -> None:
    """The README's trace excerpt is what the command it names prints today."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- trace: (.*?) -->\n```text\n(.*?)```", readme, flags=re.S)
    assert match, "README.md has no trace excerpt"
    args = match.group(1).split()
    assert args[:2] == ["simsales", "trace"]
    args = [str(ROOT / a) if a.endswith(".toml") else a for a in args]
    result = CliRunner().invoke(main, args[1:])
    assert result.exit_code == 0, result.output
    shown = match.group(2).splitlines()
    printed = result.output.splitlines()
    assert shown[0] == printed[0]
    body = [ln for ln in shown[1:] if ln != "..."]
    assert all(ln in printed for ln in body), "README.md's trace excerpt is stale"
    assert shown[-1] == printed[-1]
