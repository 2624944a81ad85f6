"""A team's debrief: what it changed, and one deal whose story its changes rewrote most.

Replication r of the base and of a team draw the same suspects in the same order (common random
numbers), so deal 412 is the same buyer in both runs, arriving on the same day with the same
group and fit: only what the team changed differs. ``story_deal`` picks, among the deals of the
counted cohort that became an opportunity in either run, the one whose end differs most: won in
one run and not in the other first, then any other change of outcome, then the largest change in
the day it closed and the calls it took. Both stories are told by ``simsales.report.trace``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simsales.model import RunRecords
from simsales.model.records import OUTCOMES
from simsales.report.trace import trace_text
from simsales.results.story import deal_stories
from simsales.results.table import DealTable

__all__ = ["DealPair", "deal_pair", "story_deal"]

_WON = OUTCOMES.index("won")


def story_deal(base: DealTable, team: DealTable) -> int | None:
    """The id of the deal whose story differs most between the two runs (None if the runs
    share no deal of the counted cohort)."""
    n = min(len(base), len(team))
    if n == 0:
        return None
    b_ids, t_ids = base["deal_id"][:n], team["deal_id"][:n]
    same = (b_ids == t_ids) & (base["created_at"][:n] == team["created_at"][:n])
    candidates = same & base.counted[:n] & (base.opportunity[:n] | team.opportunity[:n])
    if not candidates.any():
        candidates = same & base.counted[:n]
    if not candidates.any():
        return None
    b_out, t_out = base["outcome"][:n], team["outcome"][:n]
    won_changed = (b_out == _WON) != (t_out == _WON)
    outcome_changed = b_out != t_out
    closed = np.nan_to_num(np.abs(base["closed_at"][:n] - team["closed_at"][:n]), nan=0.0)
    calls = np.abs(base["calls"][:n].astype(float) - team["calls"][:n].astype(float))
    # lexicographic: a changed win first, then a changed outcome, then days and calls
    weight = won_changed * 1e9 + outcome_changed * 1e6 + np.minimum(closed + calls, 9e5)
    weight = np.where(candidates, weight, -1.0)
    return int(b_ids[int(np.argmax(weight))])


@dataclass(frozen=True, kw_only=True)
class DealPair:
    """One deal's two stories: in the base's run and in the team's, as trace text."""

    deal_id: int
    base_outcome: str
    team_outcome: str
    base_story: str
    team_story: str


def deal_pair(base: RunRecords, team: RunRecords) -> DealPair | None:
    """The deal whose story differs most (``story_deal``) with both stories, from two runs
    with their event logs (the same seed and replication)."""
    assert base.events is not None and team.events is not None, "run with event_log=True"
    base_table, team_table = DealTable.from_records(base), DealTable.from_records(team)
    deal = story_deal(base_table, team_table)
    if deal is None:
        return None
    (b,) = deal_stories(base_table, base.events.columns(), [deal])
    (t,) = deal_stories(team_table, team.events.columns(), [deal])
    return DealPair(
        deal_id=deal,
        base_outcome=b.outcome,
        team_outcome=t.outcome,
        base_story=trace_text(b),
        team_story=trace_text(t),
    )
